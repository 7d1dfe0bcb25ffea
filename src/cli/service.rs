//! Talking to a service manager (systemd with `Type=notify`): readiness once the daemon is
//! up, a status line, watchdog pings from its loop, and a word when it stops. Without a
//! `NOTIFY_SOCKET` (run by hand, in a container, by another supervisor) every call does
//! nothing.

use sd_notify::NotifyState;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// See the module documentation.
#[derive(Debug, Clone)]
pub struct Service {
    /// How often to ping: a quarter of the manager's watchdog period, as systemd advises
    /// pinging well within it. `None` when no watchdog runs.
    every: Option<Duration>,
    /// When the last ping went out: the loop may pass many times a second, and a datagram per
    /// pass could fill the manager's socket queue and block the daemon.
    last: Arc<Mutex<Option<Instant>>>,
}

impl Service {
    /// Reads what the service manager asked for from the environment.
    pub fn from_env() -> Service {
        let mut usec = 0;
        // `false`: the variables stay for a restart of the loop; nothing else reads them.
        let on = sd_notify::watchdog_enabled(false, &mut usec);
        Service {
            every: on.then(|| Duration::from_micros(usec / 4)),
            last: Arc::default(),
        }
    }

    fn send(&self, states: &[NotifyState<'_>]) {
        if let Err(e) = sd_notify::notify(false, states) {
            tracing::debug!(error = %e, "cannot notify the service manager");
        }
    }

    /// Start-up is over: the work folder is held and the configuration is valid.
    pub fn ready(&self, status: &str) {
        self.send(&[NotifyState::Ready, NotifyState::Status(status)]);
    }

    /// The line `systemctl status` shows.
    pub fn status(&self, status: &str) {
        self.send(&[NotifyState::Status(status)]);
    }

    /// The loop is alive (sent only when the manager runs a watchdog).
    pub fn alive(&self) {
        let Some(every) = self.every else {
            return;
        };
        let now = Instant::now();
        {
            let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
            if last.is_some_and(|t| now.duration_since(t) < every) {
                return;
            }
            *last = Some(now);
        }
        self.send(&[NotifyState::Watchdog]);
    }

    pub fn stopping(&self) {
        self.send(&[NotifyState::Stopping]);
    }
}
