//! The schedulable jobs, their configuration keys and the order they are published in.

use std::fmt;

use crate::compo::model::{AttachedFolder, DataType};

/// One schedulable job: publishing an attached-file folder or a data type, or collecting
/// what the portal wrote into `out/`.
///
/// The derived `Ord` only serves maps and sets; publishing order is [`Job::rank`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Job {
    Attached(AttachedFolder),
    Data(DataType),
    Collect,
}

impl Job {
    /// Every job, in publishing order (spec section 8): attached files first, so that data
    /// naming a picture or an invoice never reaches the portal before the file; then the data
    /// types in dependency order; collecting `out/` last, after this tick's publications.
    pub const ALL: [Job; 19] = [
        Job::Attached(AttachedFolder::Pictures),
        Job::Attached(AttachedFolder::Invoices),
        Job::Data(DataType::PricesTypes),
        Job::Data(DataType::PriceGroups),
        Job::Data(DataType::Warehouses),
        Job::Data(DataType::Segments),
        Job::Data(DataType::Managers),
        Job::Data(DataType::CategoriesUsers),
        Job::Data(DataType::Categories),
        Job::Data(DataType::Products),
        Job::Data(DataType::Contragents),
        Job::Data(DataType::Contracts),
        Job::Data(DataType::Customers),
        Job::Data(DataType::Prices),
        Job::Data(DataType::Remains),
        Job::Data(DataType::Finances),
        Job::Data(DataType::Acts),
        Job::Data(DataType::Orders),
        Job::Collect,
    ];

    /// Position in publishing order (0 first).
    pub fn rank(self) -> usize {
        match self {
            Job::Attached(folder) => folder as usize,
            Job::Data(t) => AttachedFolder::ALL.len() + t.rank(),
            Job::Collect => AttachedFolder::ALL.len() + DataType::ALL.len(),
        }
    }

    /// The key of this job in the `[schedule]` table of the configuration.
    pub fn key(self) -> &'static str {
        match self {
            Job::Attached(folder) => folder.name(),
            Job::Data(t) => t.name(),
            Job::Collect => "collect",
        }
    }

    /// Exact, case-sensitive like [`DataType::from_name`]: the keys are the protocol's names.
    pub fn from_key(key: &str) -> Option<Job> {
        Job::ALL.into_iter().find(|j| j.key() == key)
    }
}

impl fmt::Display for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// Sorts jobs into publishing order, so that the portal never sees a dangling reference.
pub fn publish_order(jobs: &mut [Job]) {
    jobs.sort_by_key(|j| j.rank());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_follow_the_all_table_and_the_data_type_order() {
        for (i, job) in Job::ALL.iter().enumerate() {
            assert_eq!(job.rank(), i, "{job}");
        }
        let data: Vec<DataType> = Job::ALL
            .iter()
            .filter_map(|j| match j {
                Job::Data(t) => Some(*t),
                _ => None,
            })
            .collect();
        assert_eq!(data, DataType::ALL);
    }

    #[test]
    fn keys_round_trip_and_are_exact() {
        for job in Job::ALL {
            assert_eq!(Job::from_key(job.key()), Some(job));
        }
        assert_eq!(Job::from_key("collect"), Some(Job::Collect));
        assert_eq!(
            Job::from_key("pictures"),
            Some(Job::Attached(AttachedFolder::Pictures))
        );
        assert_eq!(
            Job::from_key("CategoriesUsers"),
            Some(Job::Data(DataType::CategoriesUsers))
        );
        assert_eq!(Job::from_key("categoriesusers"), None);
        assert_eq!(Job::from_key("Products"), None);
        assert_eq!(Job::from_key("out"), None);
    }

    #[test]
    fn publish_order_sorts_by_dependency() {
        let mut jobs = vec![
            Job::Collect,
            Job::Data(DataType::Orders),
            Job::Data(DataType::Products),
            Job::Attached(AttachedFolder::Invoices),
            Job::Data(DataType::Categories),
            Job::Data(DataType::PricesTypes),
            Job::Attached(AttachedFolder::Pictures),
        ];
        publish_order(&mut jobs);
        assert_eq!(
            jobs,
            [
                Job::Attached(AttachedFolder::Pictures),
                Job::Attached(AttachedFolder::Invoices),
                Job::Data(DataType::PricesTypes),
                Job::Data(DataType::Categories),
                Job::Data(DataType::Products),
                Job::Data(DataType::Orders),
                Job::Collect,
            ]
        );
    }
}
