//! A shared "please stop" flag that also wakes whoever is sleeping on it.
//!
//! The daemon sleeps between ticks on a [`Shutdown`]; SIGINT/SIGTERM trigger it so that the
//! sleep ends at once and the loop exits between jobs, never in the middle of a publication.

use std::os::raw::c_int;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Cloneable handle; all clones share one flag.
#[derive(Debug, Clone, Default)]
pub struct Shutdown {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    triggered: Mutex<bool>,
    wake: Condvar,
}

impl Shutdown {
    pub fn new() -> Shutdown {
        Shutdown::default()
    }

    /// Sets the flag and wakes every waiter. Idempotent.
    ///
    /// Not async-signal-safe (it takes a lock): call it from a thread, e.g. through
    /// [`Shutdown::trigger_on_signals`], never from a raw signal handler.
    pub fn trigger(&self) {
        *self.lock() = true;
        self.inner.wake.notify_all();
    }

    pub fn is_triggered(&self) -> bool {
        *self.lock()
    }

    /// Blocks until triggered or until `timeout` has passed; true if triggered.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        // The deadline is fixed up front so that spurious wake-ups do not extend the wait.
        let deadline = Instant::now().checked_add(timeout);
        let mut triggered = self.lock();
        while !*triggered {
            let left = match deadline {
                Some(d) => d.saturating_duration_since(Instant::now()),
                None => Duration::MAX,
            };
            if left.is_zero() {
                break;
            }
            triggered = self
                .inner
                .wake
                .wait_timeout(triggered, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        *triggered
    }

    /// Blocks until triggered.
    pub fn wait(&self) {
        let mut triggered = self.lock();
        while !*triggered {
            triggered = self
                .inner
                .wake
                .wait(triggered)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Triggers on any of `signals` (e.g. SIGINT, SIGTERM), from a background thread that
    /// signal-hook wakes, so that the handler itself stays async-signal-safe. A signal
    /// registered here no longer kills the process: shutting down is up to the daemon loop.
    pub fn trigger_on_signals(&self, signals: &[c_int]) -> std::io::Result<()> {
        let mut incoming = signal_hook::iterator::Signals::new(signals)?;
        let shutdown = self.clone();
        std::thread::Builder::new()
            .name("shutdown-signals".into())
            .spawn(move || {
                // The thread keeps listening after the first signal so that the signals stay
                // registered (and keep being absorbed) while the daemon finishes its job.
                for _ in incoming.forever() {
                    shutdown.trigger();
                }
            })?;
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, bool> {
        // A bool cannot be left half-written, so a poisoned lock is still meaningful.
        self.inner
            .triggered
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_flag() {
        let a = Shutdown::new();
        let b = a.clone();
        assert!(!b.is_triggered());
        a.trigger();
        assert!(b.is_triggered());
        a.trigger();
        assert!(b.is_triggered());
    }

    #[test]
    fn trigger_wakes_a_waiter_promptly() {
        let shutdown = Shutdown::new();
        let waiter = {
            let s = shutdown.clone();
            std::thread::spawn(move || {
                let start = Instant::now();
                let woke = s.wait_timeout(Duration::from_secs(60));
                (woke, start.elapsed())
            })
        };
        std::thread::sleep(Duration::from_millis(30));
        shutdown.trigger();
        let (woke, elapsed) = waiter.join().unwrap();
        assert!(woke);
        assert!(elapsed < Duration::from_millis(900), "{elapsed:?}");
    }

    #[test]
    fn wait_timeout_returns_false_when_nothing_happens() {
        let start = Instant::now();
        assert!(!Shutdown::new().wait_timeout(Duration::from_millis(20)));
        assert!(start.elapsed() >= Duration::from_millis(20));
        assert!(!Shutdown::new().wait_timeout(Duration::ZERO));
        let s = Shutdown::new();
        s.trigger();
        assert!(s.wait_timeout(Duration::ZERO));
        s.wait();
    }

    #[test]
    fn a_registered_signal_triggers() {
        let shutdown = Shutdown::new();
        shutdown
            .trigger_on_signals(&[signal_hook::consts::SIGUSR2])
            .unwrap();
        signal_hook::low_level::raise(signal_hook::consts::SIGUSR2).unwrap();
        assert!(shutdown.wait_timeout(Duration::from_millis(900)));
    }
}
