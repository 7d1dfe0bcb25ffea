//! The persistent journal: every file the processor handles, each state it passes through with
//! the time, its outcome; what the portal has (its records per type, the attached-file manifest);
//! what is being retried and how each side of the exchange fares.
//!
//! SQLite in WAL mode with `synchronous = FULL`: a transition is on disk before the action it
//! announces, so after a crash the journal says exactly which step to finish or redo. One
//! transaction per transition keeps that simple; files are few compared with records, so the
//! cost of an fsync per transition is small.
//!
//! One file per concern: [`files`] (rows and their transitions), [`states`] (the state machine),
//! [`keys`] (the keys a staged file will change), [`portal`] (the record store: what the portal holds of each type), [`manifest`] (attached files), [`progress`]
//! (long jobs), [`retry`] (per-file retries and component health), [`warnings`] (what the
//! operator should know), [`schema`] (tables and the upgrade of older journals), [`observed`]
//! (what the status page, metrics and notifier read), [`notices`] (what the notifier has sent),
//! [`blobs`] (large blobs streamed through SQLite's incremental I/O).

mod blobs;
mod files;
mod keys;
mod manifest;
mod notices;
mod observed;
pub mod portal;
mod progress;
mod release;
mod retry;
mod schema;
mod states;
mod warnings;

pub use files::{FileRow, NewFile, Origin, Update};
pub use keys::KeySet;
pub use manifest::ManifestEntry;
pub use observed::{FileFigures, FolderTotals, Retrying};
pub use portal::{Entries, Entry, Holding, PublishFigures};
pub use progress::Progress;
pub use retry::{Failure, Health, ServerOffer};
pub use states::State;
pub use warnings::Warning;

use rusqlite::Connection;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("journal: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("journal: stored key set of {data_type} is corrupt: {source}")]
    Keys {
        data_type: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("journal: {table}.{column}: {what}")]
    Blob {
        table: String,
        column: String,
        what: String,
    },
    #[error("journal: the record store of {data_type} is damaged: {what}")]
    Store { data_type: String, what: String },
    #[error("journal: unknown state {0:?} in the database (written by a newer version?)")]
    UnknownState(String),
    /// A step the state machine does not allow: a bug in the caller, or a journal changed by
    /// hand. Refused so that a row never claims a step that did not follow from its last one.
    #[error(
        "journal: file {id} ({name}) cannot go from {} to {}; allowed from {}: {}",
        from.as_str(), to.as_str(), from.as_str(), states::allowed_list(*from)
    )]
    Transition {
        id: i64,
        name: String,
        from: State,
        to: State,
    },
    #[error("journal: no file {0}")]
    NoFile(i64),
}

pub type Result<T> = std::result::Result<T, JournalError>;

pub struct Journal {
    conn: Connection,
    /// The record store's layer files (`portal/` beside the journal).
    store_dir: PathBuf,
}

/// Now, as every journal time is written: RFC 3339, UTC, milliseconds.
fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Journal {
    pub fn open(path: &Path) -> Result<Journal> {
        let open_err = |source| JournalError::Open {
            path: path.to_path_buf(),
            source,
        };
        let mut conn = Connection::open(path).map_err(open_err)?;
        // Other connections write too (the notifier, the health of `run`): a transaction that
        // read first and then wrote would fail at once with SQLITE_BUSY_SNAPSHOT, past the busy
        // timeout, whenever one of them committed in between. Taking the write lock at BEGIN
        // makes it wait its turn instead.
        conn.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(open_err)?;
        schema::upgrade(&conn).map_err(open_err)?;
        let store_dir = path
            .parent()
            .unwrap_or_else(|| Path::new("."))
            .join("portal");
        Ok(Journal { conn, store_dir })
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    pub fn journal() -> (tempfile::TempDir, Journal) {
        let d = tempfile::tempdir().unwrap();
        let j = Journal::open(&d.path().join("journal.db")).unwrap();
        (d, j)
    }

    /// Now, as the journal writes times.
    pub fn stamp() -> String {
        now()
    }

    pub fn new_file(name: &str) -> NewFile<'_> {
        NewFile {
            origin: Origin::Outbox,
            name,
            data_type: Some("products"),
            snapshot: true,
            size: 10,
            hash: "h",
            work_path: None,
        }
    }
}
