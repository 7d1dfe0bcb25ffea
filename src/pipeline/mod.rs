//! The exchange pipeline: files from the outbox are detected, claimed, validated, transformed
//! (re-encoded, normalised), staged, then published on their type's schedule and archived, or
//! rejected with a report; files from the server's `out/` are collected, validated, delivered
//! to the inbox and acknowledged.
//!
//! The engine is split by step: `take` (outbox → staging), `publish` (staging → `in/`, with
//! the attached-file mirrors), `collect` (`out/` → inbox), `archive` (where every file ends),
//! `recover` (at start) and the `engine` loop that runs them on one clock. Every step is
//! announced in the journal before it is taken and confirmed after, and each step can be
//! redone: after a crash, [`Engine::recover`] finishes or redoes what was in flight, and a step
//! that failed for a reason that passes is redone by the loop itself.
//! Publishing is two-phase so that a file is visible to the portal exactly once: it is uploaded
//! under a hidden name (ignored by the portal), the journal notes that it is complete, then it
//! is renamed onto its final name. A restart that finds the hidden file renames it; one that
//! does not knows the rename happened.

mod archive;
mod attached;
mod changes;
pub use changes::describe as describe_publish;
mod collect;
mod ctx;
pub mod detect;
mod engine;
pub mod fsutil;
mod guard;
mod hooks;
mod prodly_state;
mod publish;
mod recover;
mod retention;
pub mod retry;
pub mod settle;
mod state;
mod take;

use crate::compo::validate::ValidateError;
use crate::config::{ServerLocation, Settings};
use crate::journal::JournalError;
use crate::transport::{local::LocalTransport, Transport, TransportError};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use engine::Engine;
pub use state::PortalState;

/// Folders on the exchange server.
pub mod server {
    pub const IN: &str = "in";
    pub const OUT: &str = "out";
    pub const OUT_ARCHIVE: &str = "out/archive";
}

/// What an error means for the exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Will pass (the server is away, a disk is full, an upload came short): the step is
    /// tried again after a capped, jittered backoff; the daemon goes on.
    Transient,
    /// About one file: that file ends rejected with a report; every other file goes on.
    File,
    /// Bad configuration or a broken journal: nothing can go on until a person acts.
    Fatal,
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
    /// A problem of one file that ends it rejected.
    #[error("{name}: {message}")]
    File { name: String, message: String },
    /// A failure that will pass and is tried again (a short upload, a bridge's I/O error).
    #[error("{0}")]
    Transient(String),
    /// The failure of one file's step (kept with the file so that `status` can show it).
    #[error("{source}")]
    Failed {
        id: i64,
        #[source]
        source: Box<PipelineError>,
    },
    /// Bad configuration: exit 2 at start, with the key to fix.
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

    /// What this error means for the exchange (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            // Another connection (`status`, the health reporter) held the database past the
            // busy timeout: the step is tried again.
            PipelineError::Journal(JournalError::Sql(rusqlite::Error::SqliteFailure(e, _)))
                if matches!(
                    e.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) =>
            {
                ErrorKind::Transient
            }
            // A journal that cannot be written cannot vouch for anything.
            PipelineError::Journal(_) | PipelineError::Setup(_) => ErrorKind::Fatal,
            // Refused credentials or host key: retrying will not help until the user acts.
            PipelineError::Transport(TransportError::Refused(_)) => ErrorKind::Fatal,
            PipelineError::Transport(_)
            | PipelineError::Io { .. }
            | PipelineError::Validate(_)
            | PipelineError::Transient(_) => ErrorKind::Transient,
            PipelineError::File { .. } => ErrorKind::File,
            PipelineError::Failed { source, .. } => source.kind(),
        }
    }

    /// The journal row of the file this error happened to, when it is about one.
    pub fn row(&self) -> Option<i64> {
        match self {
            PipelineError::Failed { id, .. } => Some(*id),
            _ => None,
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
            // Each attempt is logged (-vv), below the retries.
            let local =
                crate::transport::logged::LoggedTransport::new(LocalTransport::new(root.clone()));
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
    take::row_type(name).map(|t| t.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_says_what_it_is() {
        let transient = [
            PipelineError::Transient("wrote 5 of 10 bytes".into()),
            PipelineError::Transport(TransportError::Connection("reset".into())),
            PipelineError::Transport(TransportError::NotFound { path: "in".into() }),
            PipelineError::Io {
                path: "x".into(),
                source: std::io::Error::other("disk full"),
            },
        ];
        for e in transient {
            assert_eq!(e.kind(), ErrorKind::Transient, "{e}");
        }
        let file = PipelineError::File {
            name: "a.json".into(),
            message: "gone".into(),
        };
        assert_eq!(file.kind(), ErrorKind::File);
        let busy = PipelineError::Journal(JournalError::Sql(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            Some("database is locked".into()),
        )));
        assert_eq!(busy.kind(), ErrorKind::Transient);
        for e in [
            PipelineError::Journal(JournalError::UnknownState("x".into())),
            PipelineError::Setup("schemas: bad".into()),
            PipelineError::Transport(TransportError::Refused("host key".into())),
        ] {
            assert_eq!(e.kind(), ErrorKind::Fatal, "{e}");
        }
        // Tied to a file, an error keeps its kind and names the row for status.
        let tied = PipelineError::Failed {
            id: 7,
            source: Box::new(PipelineError::Transient("short".into())),
        };
        assert_eq!((tied.kind(), tied.row()), (ErrorKind::Transient, Some(7)));
        assert_eq!(tied.to_string(), "short");
    }
}
