//! The whole schedule: one cadence per job, starting from the defaults of spec section 8.

use crate::compo::model::{AttachedFolder, DataType};

use super::{Cadence, CronSchedule, Job, ScheduleError};

/// A cadence for every [`Job`].
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Indexed by [`Job::rank`], so every job always has exactly one cadence.
    cadences: Vec<Cadence>,
}

impl Plan {
    /// The defaults of spec section 8.
    pub fn defaults() -> Plan {
        Plan {
            cadences: Job::ALL.iter().map(|j| default_cadence(*j)).collect(),
        }
    }

    /// Every job at every tick: for `once` and for tests.
    pub fn immediate() -> Plan {
        Plan {
            cadences: vec![Cadence::Immediate; Job::ALL.len()],
        }
    }

    pub fn set(&mut self, job: Job, cadence: Cadence) {
        self.cadences[job.rank()] = cadence;
    }

    pub fn cadence(&self, job: Job) -> &Cadence {
        &self.cadences[job.rank()]
    }

    /// Applies one `key = "cadence"` entry of the configuration's `[schedule]` table; errors
    /// name the key.
    pub fn apply(&mut self, key: &str, text: &str) -> Result<(), ScheduleError> {
        let job = Job::from_key(key).ok_or_else(|| ScheduleError::UnknownJob {
            key: key.to_string(),
            known: Job::ALL.map(Job::key).join(", "),
        })?;
        let cadence = Cadence::parse(text).map_err(|e| ScheduleError::ForJob {
            key: key.to_string(),
            source: Box::new(e),
        })?;
        self.set(job, cadence);
        Ok(())
    }

    /// Every job with its cadence, in publishing order (for `status`).
    pub fn iter(&self) -> impl Iterator<Item = (Job, &Cadence)> {
        Job::ALL.into_iter().zip(self.cadences.iter())
    }
}

impl Default for Plan {
    fn default() -> Plan {
        Plan::defaults()
    }
}

fn default_cadence(job: Job) -> Cadence {
    use DataType::*;
    let minutes = |m: u64| Cadence::every_secs(m * 60).expect("built-in interval is valid");
    match job {
        Job::Collect => minutes(1),
        Job::Attached(AttachedFolder::Invoices) => minutes(15),
        Job::Attached(AttachedFolder::Pictures) => minutes(60),
        Job::Data(t) => match t {
            Remains | Orders => minutes(5),
            Prices => minutes(15),
            Customers | CategoriesUsers | Segments | Managers | Contragents | Contracts => {
                minutes(30)
            }
            Categories | Products | PricesTypes | PriceGroups | Warehouses => minutes(60),
            Finances | Acts => Cadence::Cron(
                CronSchedule::parse("0 6 * * *").expect("built-in cron expression is valid"),
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_spec_table_for_every_job() {
        // Spec section 8, row by row.
        let table: [(&[&str], &str); 6] = [
            (&["remains", "orders"], "5m"),
            (&["prices", "invoices"], "15m"),
            (
                &[
                    "customers",
                    "CategoriesUsers",
                    "segments",
                    "managers",
                    "contragents",
                    "contracts",
                ],
                "30m",
            ),
            (
                &[
                    "categories",
                    "products",
                    "prices_types",
                    "price_groups",
                    "warehouses",
                    "pictures",
                ],
                "1h",
            ),
            (&["finances", "acts"], "0 6 * * *"),
            (&["collect"], "1m"),
        ];
        let plan = Plan::defaults();
        let mut seen = Vec::new();
        for (keys, cadence) in table {
            for key in keys {
                let job = Job::from_key(key).unwrap();
                assert_eq!(plan.cadence(job).to_string(), cadence, "{key}");
                seen.push(job);
            }
        }
        seen.sort();
        let mut all = Job::ALL.to_vec();
        all.sort();
        assert_eq!(seen, all, "the table covers every job exactly once");
        assert!(matches!(
            plan.cadence(Job::Data(DataType::Finances)),
            Cadence::Cron(_)
        ));
    }

    #[test]
    fn set_and_apply_override_one_job_only() {
        let mut plan = Plan::defaults();
        plan.apply("products", "15m").unwrap();
        plan.set(Job::Collect, Cadence::Immediate);
        assert_eq!(
            plan.cadence(Job::Data(DataType::Products)).to_string(),
            "15m"
        );
        assert_eq!(plan.cadence(Job::Collect), &Cadence::Immediate);
        assert_eq!(
            plan.cadence(Job::Data(DataType::Categories)).to_string(),
            "1h"
        );
        let listed: Vec<String> = plan.iter().map(|(j, c)| format!("{j}={c}")).collect();
        assert_eq!(listed.len(), 19);
        assert_eq!(listed[0], "pictures=1h");
        assert_eq!(listed[9], "products=15m");
        assert_eq!(listed[18], "collect=immediate");
    }

    #[test]
    fn apply_errors_name_the_key() {
        let mut plan = Plan::defaults();
        let err = plan.apply("product", "15m").unwrap_err().to_string();
        assert!(err.contains("unknown schedule key `product`"), "{err}");
        assert!(err.contains("products"), "lists the known keys: {err}");
        let err = plan.apply("products", "15 moons").unwrap_err();
        assert!(matches!(&err, ScheduleError::ForJob { key, .. } if key == "products"));
        let msg = err.to_string();
        assert!(msg.starts_with("[schedule] products: `15 moons`"), "{msg}");
        assert_eq!(plan, Plan::defaults(), "a failed apply changes nothing");
    }

    #[test]
    fn immediate_plan_has_every_job_immediate() {
        assert!(Plan::immediate()
            .iter()
            .all(|(_, c)| *c == Cadence::Immediate));
    }
}
