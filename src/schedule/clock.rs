//! The time source and the way to wait for a deadline, injected so that tests never sleep.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Local, TimeDelta};

use super::Shutdown;

/// The longest single wait of the real clock. Waits are measured on a monotonic clock that
/// does not run while the machine is suspended, and wall-clock time may be stepped by NTP;
/// waking up this often bounds how late a deadline can be noticed after either.
const MAX_NAP: Duration = Duration::from_secs(5);

/// A source of local time that can also wait.
pub trait Clock: Send + Sync {
    /// The current local time, with the local offset in effect now.
    fn now(&self) -> DateTime<FixedOffset>;

    /// Waits until `deadline` or until `shutdown` is triggered, whichever comes first; true
    /// on shutdown. Returns at once if the deadline has passed.
    fn sleep_until(&self, deadline: DateTime<FixedOffset>, shutdown: &Shutdown) -> bool;

    /// Like [`Clock::sleep_until`], but `wake` may end the wait early (a file-system event
    /// says there is work); false then too. A clock that jumps to its deadlines (the fake
    /// one) has no use for early wake-ups and keeps the default.
    fn sleep_until_woken(
        &self,
        deadline: DateTime<FixedOffset>,
        shutdown: &Shutdown,
        wake: &dyn Wake,
    ) -> bool {
        let _ = wake;
        self.sleep_until(deadline, shutdown)
    }
}

/// A source of early wake-ups for [`Clock::sleep_until_woken`].
pub trait Wake {
    /// Waits up to `timeout` for a reason to wake; true when one came.
    fn wait(&self, timeout: Duration) -> bool;
}

/// How long from `earlier` to `later`; zero when `later` is not later.
pub fn between(earlier: DateTime<FixedOffset>, later: DateTime<FixedOffset>) -> Duration {
    (later - earlier).to_std().unwrap_or(Duration::ZERO)
}

/// Whether something last done at `last` (an RFC 3339 stamp as the journal keeps it) is due
/// again at `now`, `every` later; never done, or a stamp that does not read, is due.
pub fn due(last: Option<&str>, now: DateTime<FixedOffset>, every: Duration) -> bool {
    last.and_then(|at| DateTime::parse_from_rfc3339(at).ok())
        .map_or(true, |at| between(at, now) >= every)
}

/// `t` moved forward by `d` (saturating at the far future).
pub fn after(t: DateTime<FixedOffset>, d: Duration) -> DateTime<FixedOffset> {
    TimeDelta::from_std(d)
        .ok()
        .and_then(|d| t.checked_add_signed(d))
        .unwrap_or(DateTime::<chrono::Utc>::MAX_UTC.fixed_offset())
}

/// Slices of a real wait, so that a stop request or a wake-up is noticed promptly.
const SLICE: Duration = Duration::from_millis(200);

/// The machine's clock in its local time zone.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<FixedOffset> {
        Local::now().fixed_offset()
    }

    fn sleep_until(&self, deadline: DateTime<FixedOffset>, shutdown: &Shutdown) -> bool {
        loop {
            if shutdown.is_triggered() {
                return true;
            }
            let left = match (deadline - self.now()).to_std() {
                Ok(left) if !left.is_zero() => left,
                // Negative or zero: the deadline has passed.
                _ => return false,
            };
            if shutdown.wait_timeout(left.min(MAX_NAP)) {
                return true;
            }
        }
    }

    fn sleep_until_woken(
        &self,
        deadline: DateTime<FixedOffset>,
        shutdown: &Shutdown,
        wake: &dyn Wake,
    ) -> bool {
        loop {
            if shutdown.is_triggered() {
                return true;
            }
            let left = between(self.now(), deadline);
            if left.is_zero() || wake.wait(left.min(SLICE)) {
                return false;
            }
        }
    }
}

/// A clock that only moves when told to. Clones share the same time, so a test keeps one
/// handle while the code under test holds another.
#[derive(Debug, Clone)]
pub struct FakeClock {
    state: Arc<Mutex<FakeState>>,
}

#[derive(Debug)]
struct FakeState {
    now: DateTime<FixedOffset>,
    sleeps: Vec<DateTime<FixedOffset>>,
}

impl FakeClock {
    pub fn new(now: DateTime<FixedOffset>) -> FakeClock {
        FakeClock {
            state: Arc::new(Mutex::new(FakeState {
                now,
                sleeps: Vec::new(),
            })),
        }
    }

    /// Moves to any time, also backwards or into another offset (to simulate DST).
    pub fn set(&self, now: DateTime<FixedOffset>) {
        self.with(|s| s.now = now);
    }

    pub fn advance(&self, by: Duration) {
        let by = TimeDelta::from_std(by).expect("fake clock advanced by less than 292 years");
        self.with(|s| s.now += by);
    }

    /// The deadlines `sleep_until` was asked for, in order, so that tests can check what the
    /// code under test waited for.
    pub fn sleeps(&self) -> Vec<DateTime<FixedOffset>> {
        self.with(|s| s.sleeps.clone())
    }

    fn with<R>(&self, f: impl FnOnce(&mut FakeState) -> R) -> R {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut state)
    }
}

impl Clock for FakeClock {
    fn now(&self) -> DateTime<FixedOffset> {
        self.with(|s| s.now)
    }

    /// Jumps straight to the deadline (never backwards), unless shutdown was already
    /// triggered, in which case time stays put.
    fn sleep_until(&self, deadline: DateTime<FixedOffset>, shutdown: &Shutdown) -> bool {
        if shutdown.is_triggered() {
            return true;
        }
        self.with(|s| {
            s.sleeps.push(deadline);
            if deadline > s.now {
                // Keep the clock's own offset: the deadline may carry a stale one.
                s.now = deadline.with_timezone(s.now.offset());
            }
        });
        false
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    #[test]
    fn a_stamp_is_due_once_its_period_has_passed_and_a_missing_one_always_is() {
        let now = DateTime::parse_from_rfc3339("2026-11-30T12:00:00+03:00").unwrap();
        let day = Duration::from_secs(24 * 3600);
        assert!(due(None, now, day));
        assert!(due(Some("not a time"), now, day));
        assert!(!due(Some("2026-11-29T12:00:01+03:00"), now, day));
        assert!(due(Some("2026-11-29T09:00:00Z"), now, day));
        // A stamp from the future (a clock set back) is not due.
        assert!(!due(
            Some("2026-12-01T00:00:00Z"),
            now,
            Duration::from_secs(1)
        ));
    }

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    #[test]
    fn fake_clock_moves_only_when_told_and_clones_share_it() {
        let clock = FakeClock::new(at("2024-05-10T10:00:00+03:00"));
        let other = clock.clone();
        assert_eq!(other.now(), at("2024-05-10T10:00:00+03:00"));
        clock.advance(Duration::from_secs(90));
        assert_eq!(other.now(), at("2024-05-10T10:01:30+03:00"));
        clock.set(at("2024-05-10T09:00:00+02:00"));
        assert_eq!(other.now().to_rfc3339(), "2024-05-10T09:00:00+02:00");
    }

    #[test]
    fn fake_sleep_advances_instantly_and_never_backwards() {
        let clock = FakeClock::new(at("2024-05-10T10:00:00+03:00"));
        let shutdown = Shutdown::new();
        let start = Instant::now();
        assert!(!clock.sleep_until(at("2024-05-11T10:00:00+03:00"), &shutdown));
        assert_eq!(clock.now(), at("2024-05-11T10:00:00+03:00"));
        assert!(!clock.sleep_until(at("2024-05-10T12:00:00+03:00"), &shutdown));
        assert_eq!(clock.now(), at("2024-05-11T10:00:00+03:00"));
        assert!(start.elapsed() < Duration::from_millis(100));
        assert_eq!(
            clock.sleeps(),
            [
                at("2024-05-11T10:00:00+03:00"),
                at("2024-05-10T12:00:00+03:00")
            ]
        );

        shutdown.trigger();
        assert!(clock.sleep_until(at("2024-05-12T10:00:00+03:00"), &shutdown));
        assert_eq!(clock.now(), at("2024-05-11T10:00:00+03:00"));
    }

    #[test]
    fn real_sleeper_is_woken_promptly_by_shutdown() {
        let shutdown = Shutdown::new();
        let sleeper = {
            let s = shutdown.clone();
            std::thread::spawn(move || {
                let start = Instant::now();
                let deadline = SystemClock.now() + TimeDelta::hours(1);
                (SystemClock.sleep_until(deadline, &s), start.elapsed())
            })
        };
        std::thread::sleep(Duration::from_millis(30));
        shutdown.trigger();
        let (woken, elapsed) = sleeper.join().unwrap();
        assert!(woken);
        assert!(elapsed < Duration::from_millis(900), "{elapsed:?}");
    }

    #[test]
    fn real_sleeper_returns_at_the_deadline() {
        let shutdown = Shutdown::new();
        let start = Instant::now();
        let deadline = SystemClock.now() + TimeDelta::milliseconds(40);
        assert!(!SystemClock.sleep_until(deadline, &shutdown));
        assert!(SystemClock.now() >= deadline);
        assert!(start.elapsed() < Duration::from_millis(900));
        // A deadline in the past does not wait at all.
        let start = Instant::now();
        assert!(!SystemClock.sleep_until(deadline - TimeDelta::hours(1), &shutdown));
        assert!(start.elapsed() < Duration::from_millis(100));
    }
}
