//! The engine and its loop: one per work folder, holding the steps (take, publish, collect,
//! recover) and running them in one pass (`once`) or for as long as it is let (`run`): each
//! step on its own schedule, a step that fails for a reason that will pass tried again after
//! its backoff while the others go on, and only a fatal error (bad configuration, a broken
//! journal) ending the loop. All time comes from one clock, so tests run the loop under a
//! fake one.

use super::collect::Collect;
use super::ctx::{Ctx, StateDirs};
use super::detect::Events;
use super::publish::Publish;
use super::retry::Retries;
use super::take::Take;
use super::{open_transport, ErrorKind, PipelineError, Result, Summary};
use crate::compo::model::{AttachedFolder, DataType};
use crate::compo::validate::Validator;
use crate::config::Settings;
use crate::journal::Journal;
use crate::schedule::{after, Clock, Job, Scheduler, Shutdown, SystemClock};
use crate::transport::Transport;
use chrono::{DateTime, FixedOffset};
use std::sync::Arc;
use std::time::Duration;

/// The exchange engine: one per work folder.
pub struct Engine {
    pub(super) cx: Ctx,
    pub(super) take: Take,
    pub(super) publish: Publish,
    pub(super) collect: Collect,
    daemon: Option<Daemon>,
}

/// The loop's own state, made at its first pass.
struct Daemon {
    sched: Scheduler,
    /// Jobs whose slot came and that have not succeeded since, in publishing order: a slot
    /// counts as done only when its publish did.
    pending: Vec<Job>,
    retries: Retries,
    events: Events,
    /// Whether the start-up recovery has succeeded.
    recovered: bool,
}

/// The step key of the outbox in retries and health.
const TAKE: &str = "outbox";
const RECOVER: &str = "recovery";

impl Engine {
    /// Opens the work folder (creating what is missing) and the server, on the system clock.
    pub fn open(s: Settings) -> Result<Engine> {
        let transport = open_transport(&s)?;
        Engine::with_transport(s, transport)
    }

    pub fn with_transport(s: Settings, transport: Arc<dyn Transport>) -> Result<Engine> {
        Engine::with_clock(s, transport, Arc::new(SystemClock))
    }

    /// An engine whose every notion of time (settling, schedules, backoff, archive dates,
    /// journal stamps of its own) comes from `clock`. Opening touches only local folders: the
    /// server's are made on first contact.
    pub fn with_clock(
        s: Settings,
        transport: Arc<dyn Transport>,
        clock: Arc<dyn Clock>,
    ) -> Result<Engine> {
        let f = &s.folders;
        let dirs = StateDirs {
            work: f.state.join("work"),
            staging: f.state.join("staging"),
            incoming: f.state.join("incoming"),
            reports: f.state.join("reports"),
        };
        let schemas = crate::compo::schema::Schemas::load(s.schemas.as_deref())
            .map_err(|e| PipelineError::Setup(format!("schemas: {e:#}")))?;
        let validator = Validator::new(schemas, s.validation.clone());
        std::fs::create_dir_all(&f.state).map_err(PipelineError::io(&f.state))?;
        let journal = Journal::open(&f.state.join("journal.db"))?;
        let mut cx = Ctx::new(s, clock, transport, journal, validator, dirs);
        cx.make_local_folders()?;
        if matches!(cx.s.server, crate::config::ServerLocation::Local(_)) {
            // A local server's folders are there at once for the user to see (`init`); an
            // error here is met again, and retried, by the step that needs the folder.
            for side in [super::ctx::Side::In, super::ctx::Side::Out] {
                if let Err(e) = cx.ensure_server(side) {
                    tracing::debug!(error = %e, "server folders not made yet");
                }
            }
        }
        Ok(Engine {
            take: Take::new(&cx),
            publish: Publish::new(&cx)?,
            collect: Collect::new(&cx),
            cx,
            daemon: None,
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.cx.s
    }

    pub fn journal(&self) -> &Journal {
        &self.cx.journal
    }

    pub fn transport(&self) -> &Arc<dyn Transport> {
        &self.cx.transport
    }

    /// Publishes what is staged for `jobs` now (tests and tools that drive the schedule
    /// themselves); the first failure is returned after every job that could go went.
    pub fn publish(&mut self, jobs: &[Job]) -> Result<Summary> {
        self.publish.run(&mut self.cx, jobs).into_result()
    }

    /// Takes the settled outbox files without publishing (tests and tools that drive the
    /// schedule themselves).
    pub fn once_take_only(&mut self) -> Result<Summary> {
        self.take_settled()
    }

    /// One full pass regardless of schedule: take the outbox (waiting for files to settle),
    /// publish everything staged, sync attached files, collect `out/`. A failure on one side
    /// does not keep the other from running; the first is returned after both.
    pub fn once(&mut self) -> Result<Summary> {
        let mut sum = self.recover()?;
        self.cx.apply_retention();
        sum.absorb(self.take_settled()?);
        let mut jobs: Vec<Job> = AttachedFolder::ALL
            .into_iter()
            .map(Job::Attached)
            .chain(DataType::ALL.into_iter().map(Job::Data))
            .collect();
        crate::schedule::publish_order(&mut jobs);
        self.publish.wait_for_attached = true;
        let published = self.publish.run(&mut self.cx, &jobs);
        self.publish.wait_for_attached = false;
        let mut first = None;
        for (held, e) in published.failed {
            let held: Vec<String> = held.iter().map(|j| j.to_string()).collect();
            tracing::error!(jobs = ?held, error = %e, "publish failed");
            first.get_or_insert(e);
        }
        sum.absorb(published.sum);
        match self.collect.run_settled(&mut self.cx) {
            Ok(s) => sum.absorb(s),
            Err(e) => {
                tracing::error!(error = %e, "collect failed");
                first.get_or_insert(e);
            }
        }
        sum.waiting = self.take.detector.waiting_names();
        match first {
            Some(e) => Err(e),
            None => Ok(sum),
        }
    }

    /// Takes the outbox, waiting up to three settle times for files still being written.
    fn take_settled(&mut self) -> Result<Summary> {
        let mut sum = Summary::default();
        let settle = self.cx.s.detect.settle;
        let deadline = after(self.cx.now(), settle * 3 + Duration::from_millis(50));
        let never = Shutdown::new();
        loop {
            sum.absorb(self.take.run(&mut self.cx, None)?);
            if !self.take.detector.waiting() || self.cx.now() >= deadline {
                return Ok(sum);
            }
            let nap = settle.max(Duration::from_millis(20)) / 2;
            self.cx.clock.sleep_until(after(self.cx.now(), nap), &never);
        }
    }

    /// The daemon: runs until `shutdown` is triggered. The step in flight when it is finishes.
    /// Returns only for a fatal error (or the stop).
    pub fn run(&mut self, shutdown: &Shutdown) -> Result<()> {
        self.run_with_heartbeat(shutdown, &mut || {})
    }

    /// [`Engine::run`], calling `beat` at every pass of the loop (a service manager's
    /// watchdog: a loop that stops passing stops the pings).
    pub fn run_with_heartbeat(
        &mut self,
        shutdown: &Shutdown,
        beat: &mut dyn FnMut(),
    ) -> Result<()> {
        tracing::info!(
            outbox = %self.cx.s.folders.outbox.display(),
            server = %self.cx.transport.describe(),
            "running"
        );
        while !shutdown.is_triggered() {
            beat();
            let next = self.tick()?;
            let clock = self.cx.clock.clone();
            let d = self.daemon.as_ref().expect("started by tick");
            if clock.sleep_until_woken(next, shutdown, &d.events) {
                break;
            }
        }
        tracing::info!("stopped");
        Ok(())
    }

    /// One pass of the daemon loop at the clock's present time: take the outbox, run the jobs
    /// whose slot has come (and those still owed from a failed attempt whose backoff is
    /// over). Returns when the loop should look again. Errs only for a fatal error.
    pub fn tick(&mut self) -> Result<DateTime<FixedOffset>> {
        if self.daemon.is_none() {
            let events = if self.cx.s.detect.watch {
                Events::watch(&[&self.cx.s.folders.outbox])
            } else {
                Events::none()
            };
            self.daemon = Some(Daemon {
                sched: Scheduler::new(self.cx.s.plan.clone(), self.cx.now()),
                pending: Vec::new(),
                retries: Retries::default(),
                events,
                recovered: false,
            });
        }
        let mut d = self.daemon.take().expect("made above");
        let r = self.pass(&mut d);
        self.daemon = Some(d);
        r
    }

    fn pass(&mut self, d: &mut Daemon) -> Result<DateTime<FixedOffset>> {
        let now = self.cx.now();
        if !d.recovered && d.retries.ready(RECOVER, now) {
            match self.recover() {
                Ok(_) => {
                    d.recovered = true;
                    self.succeeded(d, RECOVER, now)?;
                    // Anything in flight before this start is settled from here on.
                    tracing::info!("start-up recovery finished");
                }
                Err(e) => self.failed(d, &[RECOVER.to_string()], e, now)?,
            }
        }
        if d.recovered {
            // Old days' folders go once a day (the first pass of each day).
            self.cx.apply_retention();
        }
        if d.retries.ready(TAKE, now) {
            match self.take.run(&mut self.cx, d.events.writers()) {
                Ok(_) => self.succeeded(d, TAKE, now)?,
                Err(e) => self.failed(d, &[TAKE.to_string()], e, now)?,
            }
        }
        for job in d.sched.due(now) {
            if !d.pending.contains(&job) {
                d.pending.push(job);
            }
        }
        crate::schedule::publish_order(&mut d.pending);
        if d.recovered {
            let ready: Vec<Job> = d
                .pending
                .iter()
                .copied()
                .filter(|j| d.retries.ready(j.key(), now))
                .collect();
            let publish: Vec<Job> = ready
                .iter()
                .copied()
                .filter(|j| *j != Job::Collect)
                .collect();
            if !publish.is_empty() {
                let out = self.publish.run(&mut self.cx, &publish);
                let mut failed: Vec<Job> = Vec::new();
                for (held, e) in out.failed {
                    failed.extend(&held);
                    let keys: Vec<String> = held.iter().map(|j| j.key().to_string()).collect();
                    self.failed(d, &keys, e, now)?;
                }
                for j in &publish {
                    if !failed.contains(j) {
                        d.pending.retain(|p| p != j);
                        self.succeeded(d, j.key(), now)?;
                    }
                }
            }
            // A failure on the in/ side does not keep out/ from being collected.
            if ready.contains(&Job::Collect) {
                match self.collect.run(&mut self.cx) {
                    Ok(_) => {
                        d.pending.retain(|p| *p != Job::Collect);
                        d.retries.succeeded(Job::Collect.key());
                        // When it last succeeded, for `status`.
                        let r =
                            self.cx
                                .journal
                                .set_health(Job::Collect.key(), None, &now.to_rfc3339());
                        note_quietly(r.map_err(PipelineError::from))?;
                    }
                    Err(e) => self.failed(d, &[Job::Collect.key().to_string()], e, now)?,
                }
            }
        }
        Ok(self.next_look(d))
    }

    /// When the loop should look again: the next poll, a file due to settle, a slot, or the
    /// end of a backoff, whichever comes first.
    fn next_look(&self, d: &Daemon) -> DateTime<FixedOffset> {
        let now = self.cx.now();
        let mut wait = self.cx.s.detect.poll;
        if let Some(s) = self.take.detector.next_settle_in(now) {
            // A file still settling may hold a JSON array that is not finished yet: look
            // again when it has settled, and at most at the poll interval after that.
            wait = wait.min(s.max(Duration::from_millis(5)));
        }
        let mut next = after(now, wait);
        if let Some((at, _)) = d.sched.next_due() {
            next = next.min(at);
        }
        // A backoff already over belongs to a step that ran in this pass (or no longer waits):
        // it must not make the loop spin.
        if let Some(at) = d.retries.next_due().filter(|at| *at > now) {
            next = next.min(at);
        }
        next
    }

    fn succeeded(&mut self, d: &mut Daemon, key: &str, now: DateTime<FixedOffset>) -> Result<()> {
        if d.retries.succeeded(key) {
            tracing::info!(step = key, "succeeded again");
            let r = self.cx.journal.set_health(key, None, &now.to_rfc3339());
            note_quietly(r.map_err(PipelineError::from))?;
        }
        Ok(())
    }

    /// Notes a failure of the steps `keys`: a fatal one ends the loop; any other is tried
    /// again after its backoff, noted for `status` on the file it concerns and on the steps.
    fn failed(
        &mut self,
        d: &mut Daemon,
        keys: &[String],
        e: PipelineError,
        now: DateTime<FixedOffset>,
    ) -> Result<()> {
        if e.kind() == ErrorKind::Fatal {
            return Err(e);
        }
        let msg = e.to_string();
        let mut next = now;
        for key in keys {
            next = next.max(d.retries.failed(key, now));
            let r = self
                .cx
                .journal
                .set_health(key, Some(&msg), &now.to_rfc3339());
            note_quietly(r.map_err(PipelineError::from))?;
        }
        if let Some(id) = e.row() {
            let r = self.cx.journal.note_failure(id, &msg, &next.to_rfc3339());
            note_quietly(r.map_err(PipelineError::from))?;
        }
        tracing::warn!(steps = ?keys, error = %msg, next_attempt = %next.to_rfc3339(), "failed; will retry");
        Ok(())
    }
}

/// Bookkeeping for `status` that could not be written now (the journal busy with another
/// connection) is written at the next failure or success; only a fatal error ends the loop.
fn note_quietly(r: Result<()>) -> Result<()> {
    match r {
        Err(e) if e.kind() != ErrorKind::Fatal => {
            tracing::warn!(error = %e, "could not note the step's condition for status now");
            Ok(())
        }
        other => other,
    }
}
