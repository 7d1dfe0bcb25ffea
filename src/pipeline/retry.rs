//! When a step that failed for a reason that will pass is tried again: capped exponential
//! backoff with jitter, per step (the outbox, each type, each attached folder, collecting),
//! so that one failing step neither spins nor holds back the others.
//!
//! The jitter is drawn from the step and the attempt number, not from a random source: many
//! daemons restarted by one outage still spread out (their steps differ in timing), and a test
//! run is replayable.

use chrono::{DateTime, FixedOffset};
use std::collections::HashMap;
use std::time::Duration;

/// The first retry comes after about this long, each next one after twice as long...
pub const FIRST: Duration = Duration::from_secs(2);
/// ...up to this: a server that is down for a day is still tried every few minutes.
pub const CAP: Duration = Duration::from_secs(300);

#[derive(Debug, Default)]
pub struct Retries {
    failing: HashMap<String, (u32, DateTime<FixedOffset>)>,
}

/// The wait before attempt `attempt + 1` of `key`: FIRST·2^(attempt-1), capped, times a
/// factor between 0.5 and 1.
pub fn delay(key: &str, attempt: u32) -> Duration {
    let full = FIRST
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
        .min(CAP);
    let h = blake3::hash(format!("{key}/{attempt}").as_bytes());
    let r = u16::from_le_bytes([h.as_bytes()[0], h.as_bytes()[1]]);
    full.mul_f64(0.5 + f64::from(r) / f64::from(u16::MAX) / 2.0)
}

impl Retries {
    /// Whether `key` may run at `now` (it is not waiting out a backoff).
    pub fn ready(&self, key: &str, now: DateTime<FixedOffset>) -> bool {
        !matches!(self.failing.get(key), Some((_, at)) if *at > now)
    }

    /// Notes a failure of `key` at `now`; returns when it is tried again.
    pub fn failed(&mut self, key: &str, now: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
        let attempts = self.failing.get(key).map_or(0, |(n, _)| *n) + 1;
        let at = crate::schedule::after(now, delay(key, attempts));
        self.failing.insert(key.to_string(), (attempts, at));
        at
    }

    /// Notes a success: the backoff of `key` starts over.
    pub fn succeeded(&mut self, key: &str) -> bool {
        self.failing.remove(key).is_some()
    }

    /// The earliest time a failing step is due again.
    pub fn next_due(&self) -> Option<DateTime<FixedOffset>> {
        self.failing.values().map(|(_, at)| *at).min()
    }

    pub fn attempts(&self, key: &str) -> u32 {
        self.failing.get(key).map_or(0, |(n, _)| *n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_is_capped_and_jittered_within_half() {
        for attempt in 1..=20 {
            let full = FIRST.saturating_mul(1 << (attempt - 1).min(16)).min(CAP);
            let d = delay("products", attempt);
            assert!(d <= full && d >= full / 2, "{attempt}: {d:?} of {full:?}");
        }
        assert!(delay("products", 30) <= CAP);
        // Two steps failing together do not retry in lockstep.
        let same = (1..=10)
            .filter(|&a| delay("products", a) == delay("prices", a))
            .count();
        assert!(same < 3);
    }

    #[test]
    fn a_failing_step_waits_its_backoff_and_a_success_starts_over() {
        let now = DateTime::parse_from_rfc3339("2026-11-30T06:00:00+03:00").unwrap();
        let mut r = Retries::default();
        assert!(r.ready("finances", now));
        let at = r.failed("finances", now);
        assert!(!r.ready("finances", now));
        assert!(r.ready("prices", now));
        assert!(r.ready("finances", at));
        let again = r.failed("finances", at);
        assert!(again - at >= chrono::TimeDelta::seconds(2));
        assert_eq!(r.attempts("finances"), 2);
        assert_eq!(r.next_due(), Some(again));
        assert!(r.succeeded("finances"));
        assert!(r.ready("finances", at));
        assert_eq!(r.next_due(), None);
    }
}
