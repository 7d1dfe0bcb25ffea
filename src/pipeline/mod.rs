//! The exchange pipeline: files from the outbox are detected, claimed, validated, transformed
//! (re-encoded, normalised), staged, then published on their type's schedule and archived, or
//! rejected with a report; files from the server's `out/` are collected, validated, delivered
//! to the inbox and acknowledged.
//!
//! Every step is announced in the journal before it is taken and confirmed after, and each step
//! can be redone: after a crash, [`Engine::recover`] finishes or redoes what was in flight.
//! Publishing is two-phase so that a file is visible to the portal exactly once: it is uploaded
//! under a hidden name (ignored by the portal), the journal notes that it is complete, then it
//! is renamed onto its final name. A restart that finds the hidden file renames it; one that
//! does not knows the rename happened.

mod attached;
pub mod detect;
pub mod fsutil;
mod guard;
mod hooks;
mod inbound;
mod outbound;
mod state;

use crate::compo::model::DataType;
use crate::compo::validate::{ValidateError, Validator};
use crate::config::{ServerLocation, Settings};
use crate::journal::{Journal, JournalError};
use crate::schedule::{Clock, Job, Scheduler, Shutdown};
use crate::transport::{local::LocalTransport, Transport, TransportError};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use state::PortalState;

/// Folders on the exchange server.
pub mod server {
    pub const IN: &str = "in";
    pub const OUT: &str = "out";
    pub const OUT_ARCHIVE: &str = "out/archive";
}

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("exchange server: {0}")]
    Transport(#[from] TransportError),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Validate(#[from] ValidateError),
    #[error("{0}")]
    Setup(String),
}

impl PipelineError {
    pub fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PipelineError + '_ {
        move |source| PipelineError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

pub type Result<T> = std::result::Result<T, PipelineError>;

/// What a pass did, for logs, `once`'s exit code and `--format json`, and tests.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub staged: Vec<String>,
    pub rejected: Vec<String>,
    pub unchanged: Vec<String>,
    pub superseded: Vec<String>,
    pub published: Vec<String>,
    pub delivered: Vec<String>,
    pub attached_published: u64,
    pub attached_rejected: Vec<String>,
    pub attached_removed: u64,
    /// Attached files whose content had to be read (new or touched); an unchanged mirror
    /// costs a listing and no reads.
    pub attached_hashed: u64,
    /// Attached files the manifest listed but the server turned out not to hold (found by the
    /// periodic verification); they are sent again.
    pub attached_lost: u64,
    /// Outbox files left for a later pass: still being written, or not yet a complete array.
    pub waiting: Vec<String>,
}

impl Summary {
    pub fn absorb(&mut self, o: Summary) {
        self.staged.extend(o.staged);
        self.rejected.extend(o.rejected);
        self.unchanged.extend(o.unchanged);
        self.superseded.extend(o.superseded);
        self.published.extend(o.published);
        self.delivered.extend(o.delivered);
        self.attached_published += o.attached_published;
        self.attached_rejected.extend(o.attached_rejected);
        self.attached_removed += o.attached_removed;
        self.attached_hashed += o.attached_hashed;
        self.attached_lost += o.attached_lost;
        self.waiting = o.waiting;
    }

    pub fn anything_rejected(&self) -> bool {
        !self.rejected.is_empty() || !self.attached_rejected.is_empty()
    }
}

/// Local folders the engine owns below `state/`.
struct StateDirs {
    work: PathBuf,
    staging: PathBuf,
    incoming: PathBuf,
    reports: PathBuf,
}

/// The exchange engine: one per work folder.
pub struct Engine {
    s: Settings,
    transport: Arc<dyn Transport>,
    journal: Journal,
    validator: Validator,
    dirs: StateDirs,
    portal: PortalState,
    detector: detect::Detector,
    /// Sizes and times of `out/` files seen at the previous poll.
    out_seen: HashMap<String, (u64, Option<std::time::SystemTime>)>,
    /// Threads for attached-file transfers: as many as the server takes sessions at once.
    io_pool: rayon::ThreadPool,
    /// Whether an attached-file sync waits for files still being written (`once`, which has
    /// no next pass to leave them to) or leaves them to the next sync (the daemon).
    wait_for_attached: bool,
}

/// Opens the transport a configuration names.
pub fn open_transport(s: &Settings) -> Result<Arc<dyn Transport>> {
    open_transport_waiting(s, None)
}

/// Opens the transport a configuration names; with `waiting`, an SFTP server that cannot be
/// reached is waited for at first use (the daemon) instead of being an error now.
pub fn open_transport_waiting(
    s: &Settings,
    waiting: Option<crate::transport::lazy::Waiting>,
) -> Result<Arc<dyn Transport>> {
    use crate::transport::retry::{Backoff, RetryingTransport};
    match &s.server {
        ServerLocation::Local(root) => {
            std::fs::create_dir_all(root).map_err(PipelineError::io(root))?;
            let local = LocalTransport::new(root.clone());
            Ok(Arc::new(RetryingTransport::new(local, Backoff::default())))
        }
        ServerLocation::Sftp(url) => {
            use crate::transport::{lazy::LazyTransport, sftp::SftpConfig};
            let r = &s.server_raw;
            let mut c = SftpConfig::new(url.clone());
            c.identity = r.identity.clone();
            c.passphrase_env = r.passphrase_env.clone();
            c.password_env = r.password_env.clone();
            c.password_file = r.password_file.clone();
            c.known_hosts = r.known_hosts.clone();
            c.accept_new_host_keys = r.accept_new_host_keys.unwrap_or(c.accept_new_host_keys);
            c.connect_timeout_secs = r.connect_timeout_secs.unwrap_or(c.connect_timeout_secs);
            c.io_timeout_secs = r.io_timeout_secs.unwrap_or(c.io_timeout_secs);
            if let Some(k) = r.keepalive_secs {
                c.keepalive_secs = u32::try_from(k).unwrap_or(u32::MAX);
            }
            c.pool_size = r.pool_size.unwrap_or(c.pool_size);
            // Uploads a crash interrupted are removed by `Engine::recover`, for every transport
            // alike, in one listing of each folder.
            let eager = waiting.is_none();
            let t = LazyTransport::sftp(c, waiting)?;
            if eager {
                t.connect_now()?;
            }
            Ok(Arc::new(t))
        }
    }
}

impl Engine {
    /// Opens the work folder (creating what is missing) and the server.
    pub fn open(s: Settings) -> Result<Engine> {
        let transport = open_transport(&s)?;
        Engine::with_transport(s, transport)
    }

    pub fn with_transport(s: Settings, transport: Arc<dyn Transport>) -> Result<Engine> {
        let f = &s.folders;
        let dirs = StateDirs {
            work: f.state.join("work"),
            staging: f.state.join("staging"),
            incoming: f.state.join("incoming"),
            reports: f.state.join("reports"),
        };
        for d in [
            &f.outbox,
            &f.outbox.join("pictures"),
            &f.outbox.join("invoices"),
            &f.outbox.join("sellper"),
            &f.inbox,
            &f.archive,
            &f.rejected,
            &f.state,
            &dirs.work,
            &dirs.staging,
            &dirs.incoming,
            &dirs.reports,
        ] {
            std::fs::create_dir_all(d).map_err(PipelineError::io(d))?;
        }
        for d in ["in", "in/pictures", "in/invoices", "out", "out/archive"] {
            transport.mkdir_all(d)?;
        }
        let journal = Journal::open(&f.state.join("journal.db"))?;
        let schemas = crate::compo::schema::Schemas::load(s.schemas.as_deref())
            .map_err(|e| PipelineError::Setup(format!("schemas: {e:#}")))?;
        let validator = Validator::new(schemas, s.validation.clone());
        let detector = detect::Detector::new(s.detect.settle, s.detect.truncation_grace);
        let io_threads = match s.server {
            ServerLocation::Sftp(_) => s.server_raw.pool_size.unwrap_or(4),
            ServerLocation::Local(_) => 8,
        };
        let io_pool = rayon::ThreadPoolBuilder::new()
            .num_threads(io_threads.clamp(1, 64))
            .thread_name(|i| format!("compo-io-{i}"))
            .build()
            .map_err(|e| PipelineError::Setup(format!("I/O threads: {e}")))?;
        Ok(Engine {
            io_pool,
            wait_for_attached: false,
            portal: PortalState::default(),
            s,
            transport,
            journal,
            validator,
            dirs,
            detector,
            out_seen: HashMap::new(),
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.s
    }

    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    pub fn transport(&self) -> &Arc<dyn Transport> {
        &self.transport
    }

    /// Finishes or redoes whatever a previous run left in flight, and removes our own
    /// temporaries. Safe to call at any time when nothing else runs.
    pub fn recover(&mut self) -> Result<Summary> {
        let mut sum = Summary::default();
        self.remove_stale_temporaries()?;
        for row in self.journal.unfinished()? {
            match row.origin {
                crate::journal::Origin::Outbox => self.recover_outbound(&row, &mut sum)?,
                crate::journal::Origin::Out => self.recover_inbound(&row, &mut sum)?,
            }
        }
        Ok(sum)
    }

    fn remove_stale_temporaries(&mut self) -> Result<()> {
        let keep: HashSet<String> = self
            .journal
            .unfinished()?
            .into_iter()
            .filter(|r| r.state == crate::journal::State::Uploaded)
            .filter_map(|r| r.target_name.map(|t| outbound::hidden_name(&t, r.id)))
            .collect();
        // A mirror folder on the server may hold 100,000 files: it is listed only when the
        // journal says an upload into it was cut off (its progress row never finished).
        let cut_off: HashSet<String> = self
            .journal
            .progress()?
            .into_iter()
            .filter(|p| !p.finished)
            .map(|p| p.job)
            .collect();
        let mut dirs = vec![server::IN.to_string()];
        let mut jobs = Vec::new();
        for f in crate::compo::model::AttachedFolder::ALL {
            let job = attached::job_name(f);
            if cut_off.contains(&job) {
                dirs.push(format!("{}/{}", server::IN, f.name()));
                jobs.push(job);
            }
        }
        for dir in &dirs {
            crate::transport::temporary::clean(&*self.transport, dir, |n| keep.contains(n))?;
        }
        self.journal.note_server_offer(&*self.transport)?;
        for job in jobs {
            self.journal.finish_progress(&job)?;
        }
        for dir in [
            &self.dirs.staging,
            &self.s.folders.inbox,
            &self.dirs.incoming,
        ] {
            if let Ok(rd) = std::fs::read_dir(dir) {
                for e in rd.flatten() {
                    let n = e.file_name().to_string_lossy().into_owned();
                    if n.ends_with(".ce-tmp") && !keep.contains(&n) {
                        let _ = std::fs::remove_file(e.path());
                    }
                }
            }
        }
        Ok(())
    }

    /// One full pass regardless of schedule: take the outbox (waiting for files to settle),
    /// publish everything staged, sync attached files, collect `out/`.
    pub fn once(&mut self) -> Result<Summary> {
        let mut sum = self.recover()?;
        sum.absorb(self.take_settled()?);
        let mut jobs: Vec<Job> = crate::compo::model::AttachedFolder::ALL
            .into_iter()
            .map(Job::Attached)
            .chain(DataType::ALL.into_iter().map(Job::Data))
            .collect();
        crate::schedule::publish_order(&mut jobs);
        self.wait_for_attached = true;
        let published = self.publish(&jobs);
        self.wait_for_attached = false;
        sum.absorb(published?);
        sum.absorb(self.collect_settled()?);
        sum.waiting = self.detector.waiting_names();
        Ok(sum)
    }

    /// The daemon: runs until `shutdown` is triggered. The step in flight when it is finishes.
    pub fn run(&mut self, clock: &dyn Clock, shutdown: &Shutdown) -> Result<()> {
        self.run_with_heartbeat(clock, shutdown, &mut || {})
    }

    /// [`Engine::run`], calling `beat` at every pass of the loop (a service manager's
    /// watchdog: a loop that stops passing stops the pings).
    pub fn run_with_heartbeat(
        &mut self,
        clock: &dyn Clock,
        shutdown: &Shutdown,
        beat: &mut dyn FnMut(),
    ) -> Result<()> {
        self.recover()?;
        let events = if self.s.detect.watch {
            detect::Events::watch(&[&self.s.folders.outbox])
        } else {
            detect::Events::none()
        };
        let mut sched = Scheduler::new(self.s.plan.clone(), clock.now());
        tracing::info!(
            outbox = %self.s.folders.outbox.display(),
            server = %self.transport.describe(),
            "running"
        );
        while !shutdown.is_triggered() {
            beat();
            let pass = (|| -> Result<()> {
                self.take_outbox(Instant::now())?;
                let due = sched.due(clock.now());
                if !due.is_empty() {
                    self.publish(&due)?;
                    if due.contains(&Job::Collect) {
                        self.collect(Instant::now())?;
                    }
                }
                Ok(())
            })();
            if let Err(e) = pass {
                // The journal keeps the state; the next pass retries. Only a broken journal or
                // setup is fatal.
                match e {
                    PipelineError::Journal(_) | PipelineError::Setup(_) => return Err(e),
                    other => tracing::error!(error = %other, "pass failed; retrying"),
                }
            }
            let mut wait = self.s.detect.poll;
            if let Some(d) = self.detector.next_settle_in(Instant::now()) {
                // A file still settling may hold a JSON array that is not finished yet: look
                // again when it has settled, and at most at the poll interval after that.
                wait = wait.min(d.max(Duration::from_millis(5)));
            }
            if let Some((at, _)) = sched.next_due() {
                let until = (at - clock.now()).to_std().unwrap_or(Duration::ZERO);
                wait = wait.min(until);
            }
            // Short slices so that a stop request is honoured promptly.
            let until = Instant::now() + wait;
            while !shutdown.is_triggered() {
                let left = until.saturating_duration_since(Instant::now());
                if left.is_zero() || events.wait(left.min(Duration::from_millis(200))) {
                    break;
                }
            }
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// A progress bar on a terminal for long transfers; `None` when nobody would see it.
pub(crate) fn progress_bar(total_bytes: u64, job: &str) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() || total_bytes < 8 << 20 {
        return None;
    }
    let pb = indicatif::ProgressBar::new(total_bytes);
    pb.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .expect("static template"),
    );
    pb.set_message(job.to_string());
    Some(pb)
}

/// The schedule key (`products`, `orders`...) of a data file name, either side's naming.
pub fn type_key_of(name: &str) -> Option<&'static str> {
    outbound::row_type(name).map(|t| t.name())
}

impl Engine {
    /// Takes the settled outbox files without publishing (tests and tools that drive the
    /// schedule themselves).
    pub fn once_take_only(&mut self) -> Result<Summary> {
        self.take_settled()
    }

    /// Takes the outbox, waiting up to three settle times for files still being written.
    fn take_settled(&mut self) -> Result<Summary> {
        let mut sum = Summary::default();
        let deadline = Instant::now() + self.s.detect.settle * 3 + Duration::from_millis(50);
        loop {
            sum.absorb(self.take_outbox(Instant::now())?);
            if !self.detector.waiting() || Instant::now() >= deadline {
                return Ok(sum);
            }
            std::thread::sleep(self.s.detect.settle.max(Duration::from_millis(20)) / 2);
        }
    }
}
