//! When each type is published: per-type cadences (interval or cron) over an injected clock.
//!
//! Spec section 8 gives every data type, both attached-file folders and the collection of `out/`
//! a cadence. [`Plan`] holds those cadences (the spec's defaults, overridable from the
//! `[schedule]` table of the configuration), [`Scheduler`] turns a plan into "which jobs are due
//! now, in publishing order", and [`Clock`] with [`Shutdown`] lets the daemon sleep between
//! ticks while tests drive time by hand with [`FakeClock`].
//!
//! The daemon loop is meant to be:
//!
//! ```no_run
//! # use compo_exchange::schedule::*;
//! # fn run(_: Job) {}
//! let clock = SystemClock;
//! let shutdown = Shutdown::new();
//! let mut scheduler = Scheduler::new(Plan::defaults(), clock.now());
//! loop {
//!     for job in scheduler.due(clock.now()) {
//!         run(job);
//!     }
//!     if scheduler.wait_next(&clock, &shutdown) {
//!         break;
//!     }
//! }
//! ```

mod cadence;
mod clock;
mod job;
mod plan;
mod scheduler;
mod shutdown;

pub use cadence::{Cadence, CronSchedule, Interval};
pub use clock::{after, between, due, Clock, FakeClock, SystemClock, Wake};
pub use job::{publish_order, Job};
pub use plan::Plan;
pub use scheduler::Scheduler;
pub use shutdown::Shutdown;

/// What a cadence may be written as; appended to every parse error so the user sees the fix.
const ACCEPTED: &str = "accepted: an interval such as `30s`, `5m`, `15 min`, `1h`, `1h30m`, \
`1d` or `every 5 minutes` (m is minutes); a 5-field cron expression in local time such as \
`0 6 * * *` (minute hour day-of-month month day-of-week) or `@daily`; or `immediate`";

/// Problems with a schedule as written in the configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("empty schedule; {ACCEPTED}")]
    Empty,
    #[error("`{text}` is not a valid interval: {reason}; {ACCEPTED}")]
    BadInterval { text: String, reason: String },
    #[error("`{text}` is not a valid cron expression: {reason}; {ACCEPTED}")]
    BadCron { text: String, reason: String },
    #[error("unknown schedule key `{key}`; known keys: {known}")]
    UnknownJob { key: String, known: String },
    #[error("[schedule] {key}: {source}")]
    ForJob {
        key: String,
        #[source]
        source: Box<ScheduleError>,
    },
}
