//! Tracks when each job is next due and hands out the due ones, tick by tick.
//!
//! Three things can happen to the clock between ticks, and each is handled so that a job is
//! neither lost nor run in a burst:
//!
//! - it jumps forward (machine slept, daemon stalled): a job that missed several slots runs
//!   once, and its next time is computed from the current tick, not from the missed slot;
//! - the local offset changes (DST): cadences are read in local wall-clock time, so every due
//!   time is recomputed from the previous tick re-expressed in the new offset. A daily 06:00
//!   job then still runs at 06:00 on the day after the change, and a 5-minute job neither
//!   skips nor repeats the hour that is added or removed;
//! - it goes backwards (clock corrected): no job waits for the lost time to be lived again;
//!   each due time is brought forward to the cadence's next time after the new now if that
//!   is earlier. A job that just ran may then run once more when its slot comes round again.

use chrono::{DateTime, FixedOffset};

use super::{Cadence, Clock, Job, Plan, Shutdown};

/// Due times for one [`Plan`], starting from the moment the scheduler was created.
#[derive(Debug, Clone)]
pub struct Scheduler {
    plan: Plan,
    /// Indexed by [`Job::rank`]; `None` for jobs with no time of their own (immediate, or a
    /// cron expression with no match left).
    next: Vec<Option<DateTime<FixedOffset>>>,
    last_tick: DateTime<FixedOffset>,
}

impl Scheduler {
    /// Nothing is due at `now` itself except immediate jobs: every other job first runs at
    /// its cadence's next time after `now`.
    pub fn new(plan: Plan, now: DateTime<FixedOffset>) -> Scheduler {
        let next = Job::ALL
            .iter()
            .map(|j| plan.cadence(*j).next_after(now))
            .collect();
        Scheduler {
            plan,
            next,
            last_tick: now,
        }
    }

    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The jobs due at `now`, in publishing order, each advanced to its next time after
    /// `now`. Immediate jobs are due at every call.
    pub fn due(&mut self, now: DateTime<FixedOffset>) -> Vec<Job> {
        if now.offset() != self.last_tick.offset() {
            let from = self.last_tick.with_timezone(now.offset());
            for job in Job::ALL {
                self.next[job.rank()] = self.plan.cadence(job).next_after(from);
            }
        }
        if now < self.last_tick {
            for job in Job::ALL {
                let slot = &mut self.next[job.rank()];
                if let Some(again) = self.plan.cadence(job).next_after(now) {
                    *slot = Some(slot.map_or(again, |old| old.min(again)));
                }
            }
        }
        self.last_tick = now;

        // Job::ALL is in publishing order, so walking it yields the jobs already sorted.
        let mut due = Vec::new();
        for job in Job::ALL {
            let cadence = self.plan.cadence(job);
            let slot = &mut self.next[job.rank()];
            let is_due = match cadence {
                Cadence::Immediate => true,
                _ => slot.is_some_and(|t| t <= now),
            };
            if is_due {
                due.push(job);
                *slot = cadence.next_after(now);
            }
        }
        due
    }

    /// The earliest due time and its job (the first in publishing order on a tie); `None`
    /// if no job has a time of its own.
    pub fn next_due(&self) -> Option<(DateTime<FixedOffset>, Job)> {
        Job::ALL
            .iter()
            .filter_map(|j| self.next[j.rank()].map(|t| (t, *j)))
            .min_by_key(|(t, j)| (*t, j.rank()))
    }

    /// When `job` is next due; `None` for immediate jobs (due at every tick) and for a cron
    /// expression with no match left.
    pub fn next_of(&self, job: Job) -> Option<DateTime<FixedOffset>> {
        self.next[job.rank()]
    }

    /// Sleeps on `clock` until the next due time; true if `shutdown` ended the wait. With no
    /// due time at all it waits for shutdown alone (for real, even with a fake clock: there
    /// is no deadline to jump to).
    pub fn wait_next(&self, clock: &dyn Clock, shutdown: &Shutdown) -> bool {
        match self.next_due() {
            Some((deadline, _)) => clock.sleep_until(deadline, shutdown),
            None => {
                shutdown.wait();
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use super::*;
    use crate::compo::model::{AttachedFolder, DataType};
    use crate::schedule::FakeClock;

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    fn plan(entries: &[(&str, &str)]) -> Plan {
        let mut plan = Plan::immediate();
        for job in Job::ALL {
            plan.set(job, Cadence::parse("0 0 1 1 *").unwrap());
        }
        for (key, cadence) in entries {
            plan.apply(key, cadence).unwrap();
        }
        plan
    }

    const REMAINS: Job = Job::Data(DataType::Remains);
    const FINANCES: Job = Job::Data(DataType::Finances);

    #[test]
    fn interval_jobs_start_at_the_next_aligned_slot() {
        let mut s = Scheduler::new(Plan::defaults(), at("2024-05-10T10:02:30+03:00"));
        assert_eq!(s.next_of(REMAINS), Some(at("2024-05-10T10:05:00+03:00")));
        assert_eq!(
            s.next_of(Job::Collect),
            Some(at("2024-05-10T10:03:00+03:00"))
        );
        assert!(s.due(at("2024-05-10T10:04:59+03:00")) == [Job::Collect]);
        let due = s.due(at("2024-05-10T10:05:00+03:00"));
        assert_eq!(due, [REMAINS, Job::Data(DataType::Orders), Job::Collect]);
        assert_eq!(s.next_of(REMAINS), Some(at("2024-05-10T10:10:00+03:00")));
        assert!(s.due(at("2024-05-10T10:05:00+03:00")).is_empty());
    }

    #[test]
    fn a_job_that_missed_many_slots_runs_once() {
        let mut s = Scheduler::new(plan(&[("remains", "5m")]), at("2024-05-10T10:02:30Z"));
        // The machine slept for over an hour: thirteen slots went by.
        let due = s.due(at("2024-05-10T11:23:10Z"));
        assert_eq!(due, [REMAINS]);
        assert_eq!(s.next_of(REMAINS), Some(at("2024-05-10T11:25:00Z")));
        assert!(s.due(at("2024-05-10T11:24:00Z")).is_empty());
        assert_eq!(s.due(at("2024-05-10T11:25:00Z")), [REMAINS]);
    }

    #[test]
    fn jobs_due_together_come_in_publishing_order() {
        let mut s = Scheduler::new(Plan::defaults(), at("2024-05-10T10:59:30+03:00"));
        use DataType::*;
        let expected: Vec<Job> = [
            Job::Attached(AttachedFolder::Pictures),
            Job::Attached(AttachedFolder::Invoices),
        ]
        .into_iter()
        .chain(
            [
                PricesTypes,
                PriceGroups,
                Warehouses,
                Segments,
                Managers,
                CategoriesUsers,
                Categories,
                Products,
                Contragents,
                Contracts,
                Customers,
                Prices,
                Remains,
                Orders,
            ]
            .map(Job::Data),
        )
        .chain([Job::Collect])
        .collect();
        assert_eq!(s.due(at("2024-05-10T11:00:00+03:00")), expected);
        // At 11:15 only the quarter-hourly and faster ones.
        assert_eq!(
            s.due(at("2024-05-10T11:15:00+03:00")),
            [
                Job::Attached(AttachedFolder::Invoices),
                Job::Data(Prices),
                Job::Data(Remains),
                Job::Data(Orders),
                Job::Collect
            ]
        );
    }

    #[test]
    fn daily_cron_runs_at_six_across_midnight() {
        let mut s = Scheduler::new(Plan::defaults(), at("2024-03-10T23:00:00+05:00"));
        assert_eq!(s.next_of(FINANCES), Some(at("2024-03-11T06:00:00+05:00")));
        assert!(!s.due(at("2024-03-11T00:00:00+05:00")).contains(&FINANCES));
        assert!(!s.due(at("2024-03-11T05:59:59+05:00")).contains(&FINANCES));
        let due = s.due(at("2024-03-11T06:00:00+05:00"));
        let acts = Job::Data(DataType::Acts);
        assert!(due.ends_with(&[FINANCES, acts, Job::Data(DataType::Orders), Job::Collect]));
        assert_eq!(s.next_of(FINANCES), Some(at("2024-03-12T06:00:00+05:00")));
        assert_eq!(s.next_of(acts), Some(at("2024-03-12T06:00:00+05:00")));
    }

    #[test]
    fn daily_cron_follows_local_time_over_a_dst_change() {
        let mut s = Scheduler::new(
            plan(&[("finances", "0 6 * * *"), ("remains", "5m")]),
            at("2024-03-30T12:00:00+01:00"),
        );
        assert_eq!(s.next_of(FINANCES), Some(at("2024-03-31T06:00:00+01:00")));
        assert_eq!(s.due(at("2024-03-31T01:59:00+01:00")), [REMAINS]);
        // 02:00+01:00 becomes 03:00+02:00. Without the rebase the job would run at 07:00.
        assert_eq!(s.due(at("2024-03-31T03:00:00+02:00")), [REMAINS]);
        assert_eq!(s.next_of(FINANCES), Some(at("2024-03-31T06:00:00+02:00")));
        assert_eq!(s.next_of(REMAINS), Some(at("2024-03-31T03:05:00+02:00")));
        assert_eq!(s.due(at("2024-03-31T06:00:00+02:00")), [REMAINS, FINANCES]);
        assert_eq!(s.next_of(FINANCES), Some(at("2024-04-01T06:00:00+02:00")));
    }

    #[test]
    fn an_interval_job_loses_no_hour_when_the_clock_falls_back() {
        let mut s = Scheduler::new(plan(&[("remains", "5m")]), at("2024-10-27T02:50:00+02:00"));
        assert_eq!(s.due(at("2024-10-27T02:55:00+02:00")), [REMAINS]);
        assert!(s.due(at("2024-10-27T02:57:00+02:00")).is_empty());
        assert!(s.due(at("2024-10-27T02:59:59+02:00")).is_empty());
        // 03:00+02:00 becomes 02:00+01:00: the slot at that instant is still run, and the
        // following ones continue in the new offset, not an hour later.
        assert_eq!(s.due(at("2024-10-27T02:00:00+01:00")), [REMAINS]);
        assert_eq!(s.next_of(REMAINS), Some(at("2024-10-27T02:05:00+01:00")));
        assert_eq!(s.due(at("2024-10-27T02:05:00+01:00")), [REMAINS]);
    }

    #[test]
    fn a_clock_set_back_does_not_make_jobs_wait_it_out() {
        let mut s = Scheduler::new(
            plan(&[("remains", "5m"), ("finances", "0 6 * * *")]),
            at("2024-05-10T10:02:00Z"),
        );
        assert_eq!(s.due(at("2024-05-10T10:05:00Z")), [REMAINS]);
        assert!(s.due(at("2024-05-10T09:00:00Z")).is_empty());
        assert_eq!(s.next_of(REMAINS), Some(at("2024-05-10T09:05:00Z")));
        // The daily job's next time is the same from either side of the jump.
        assert_eq!(s.next_of(FINANCES), Some(at("2024-05-11T06:00:00Z")));
    }

    #[test]
    fn immediate_jobs_ride_along_with_every_tick() {
        let mut p = plan(&[("collect", "1m")]);
        p.set(Job::Data(DataType::Products), Cadence::Immediate);
        let mut s = Scheduler::new(p, at("2024-05-10T10:00:30Z"));
        assert_eq!(s.next_of(Job::Data(DataType::Products)), None);
        assert_eq!(
            s.due(at("2024-05-10T10:00:30Z")),
            [Job::Data(DataType::Products)]
        );
        assert_eq!(
            s.next_due(),
            Some((at("2024-05-10T10:01:00Z"), Job::Collect))
        );
        assert_eq!(
            s.due(at("2024-05-10T10:01:00Z")),
            [Job::Data(DataType::Products), Job::Collect]
        );
        let mut all = Scheduler::new(Plan::immediate(), at("2024-05-10T10:00:30Z"));
        assert_eq!(all.due(at("2024-05-10T10:00:30Z")), Job::ALL);
        assert_eq!(all.next_due(), None);
    }

    #[test]
    fn next_due_is_the_earliest_first_in_publishing_order() {
        let s = Scheduler::new(
            plan(&[("orders", "5m"), ("remains", "5m"), ("products", "1h")]),
            at("2024-05-10T10:02:00Z"),
        );
        assert_eq!(s.next_due(), Some((at("2024-05-10T10:05:00Z"), REMAINS)));
    }

    #[test]
    fn a_fake_clock_drives_an_hour_of_daemon_loop_without_sleeping() {
        let clock = FakeClock::new(at("2024-05-10T10:00:00+03:00"));
        let shutdown = Shutdown::new();
        let mut s = Scheduler::new(Plan::defaults(), clock.now());
        let mut runs: BTreeMap<Job, usize> = BTreeMap::new();
        let started = std::time::Instant::now();
        while clock.now() < at("2024-05-10T11:00:00+03:00") {
            assert!(!s.wait_next(&clock, &shutdown));
            for job in s.due(clock.now()) {
                *runs.entry(job).or_default() += 1;
            }
        }
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(runs[&Job::Collect], 60);
        assert_eq!(runs[&REMAINS], 12);
        assert_eq!(runs[&Job::Data(DataType::Prices)], 4);
        assert_eq!(runs[&Job::Data(DataType::Customers)], 2);
        assert_eq!(runs[&Job::Data(DataType::Products)], 1);
        assert!(!runs.contains_key(&FINANCES));
        // One sleep per minute boundary: every tick of the hour is a Collect slot.
        assert_eq!(clock.sleeps().len(), 60);

        shutdown.trigger();
        let before = clock.now();
        assert!(s.wait_next(&clock, &shutdown));
        assert_eq!(clock.now(), before);
    }

    #[test]
    fn wait_next_without_any_due_time_waits_for_shutdown() {
        let s = Scheduler::new(Plan::immediate(), at("2024-05-10T10:00:00Z"));
        let shutdown = Shutdown::new();
        shutdown.trigger();
        assert!(s.wait_next(&FakeClock::new(at("2024-05-10T10:00:00Z")), &shutdown));
    }
}
