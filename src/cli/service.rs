//! Talking to a service manager (systemd with `Type=notify`): readiness once the daemon is
//! up, a status line, watchdog pings from its loop, and a word when it stops. Without a
//! `NOTIFY_SOCKET` (run by hand, in a container, by another supervisor) every call does
//! nothing.

use sd_notify::NotifyState;

/// See the module documentation.
#[derive(Debug, Clone, Copy)]
pub struct Service {
    watchdog: bool,
}

impl Service {
    /// Reads what the service manager asked for from the environment.
    pub fn from_env() -> Service {
        let mut usec = 0;
        // `false`: the variables stay for a restart of the loop; nothing else reads them.
        Service {
            watchdog: sd_notify::watchdog_enabled(false, &mut usec),
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
        if self.watchdog {
            self.send(&[NotifyState::Watchdog]);
        }
    }

    pub fn stopping(&self) {
        self.send(&[NotifyState::Stopping]);
    }
}
