//! The persistent journal: every file the processor handles, each state it passes through with
//! the time, its outcome; what the portal has (a key set per type, the attached-file manifest).
//!
//! SQLite in WAL mode with `synchronous = FULL`: a transition is on disk before the action it
//! announces, so after a crash the journal says exactly which step to finish or redo. One
//! transaction per transition keeps that simple; files are few compared with records, so the
//! cost of an fsync per transition is small.

mod history;
mod release;

use crate::compo::model::{AttachedFolder, DataType};
use crate::compo::validate::KeyChanges;
use rusqlite::{params, Connection, OptionalExtension};
use rustc_hash::FxHashSet;

/// The keys of one type: millions of short ids, looked up for every reference.
pub type KeySet = FxHashSet<String>;
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
    #[error("journal: unknown state {0:?} in the database (written by a newer version?)")]
    UnknownState(String),
}

pub type Result<T> = std::result::Result<T, JournalError>;

/// Where a file came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The ERP's outbox, bound for the portal's `in/`.
    Outbox,
    /// The portal's `out/`, bound for the ERP's inbox.
    Out,
}

impl Origin {
    fn as_str(self) -> &'static str {
        match self {
            Origin::Outbox => "outbox",
            Origin::Out => "out",
        }
    }
    fn parse(s: &str) -> Origin {
        if s == "out" {
            Origin::Out
        } else {
            Origin::Outbox
        }
    }
}

macro_rules! states {
    ($($v:ident = $s:literal, $final:literal;)*) => {
        /// The life of a file. Each state names the step that is being or has been done; see
        /// the pipeline's recovery for what a restart does in each.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum State { $($v),* }
        impl State {
            pub fn as_str(self) -> &'static str { match self { $(State::$v => $s),* } }
            pub fn parse(s: &str) -> Result<State> {
                match s { $($s => Ok(State::$v),)* other => Err(JournalError::UnknownState(other.into())) }
            }
            /// No further step will be taken.
            pub fn is_final(self) -> bool { match self { $(State::$v => $final),* } }
        }
    };
}

states! {
    // Outbox files.
    Claiming = "claiming", false;
    Claimed = "claimed", false;
    Staged = "staged", false;
    Rejecting = "rejecting", false;
    Rejected = "rejected", true;
    Superseded = "superseded", false;
    Unchanged = "unchanged", false;
    Publishing = "publishing", false;
    Uploaded = "uploaded", false;
    Published = "published", false;
    Archived = "archived", true;
    // Files from out/.
    Downloaded = "downloaded", false;
    Delivering = "delivering", false;
    Delivered = "delivered", false;
    Acknowledged = "acknowledged", true;
}

/// A journal row.
#[derive(Debug, Clone, PartialEq)]
pub struct FileRow {
    pub id: i64,
    pub origin: Origin,
    pub name: String,
    pub data_type: Option<String>,
    pub snapshot: bool,
    pub size: u64,
    pub hash: String,
    pub state: State,
    /// Local copy being worked on (claimed original, downloaded out/ file).
    pub work_path: Option<String>,
    /// Normalised copy waiting to be published.
    pub staged_path: Option<String>,
    /// Name the file gets on the other side.
    pub target_name: Option<String>,
    pub outcome: Option<String>,
    pub errors: u64,
    pub created_at: String,
    pub updated_at: String,
    /// Where the original goes in `archive/` or `rejected/`, chosen once before it is moved so
    /// that a restart finishes the move under the same name.
    pub final_path: Option<String>,
}

/// What the server has of one attached file.
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestEntry {
    pub folder: AttachedFolder,
    pub name: String,
    pub size: u64,
    /// Local modification time (ns since the epoch) when it was last hashed.
    pub mtime_ns: i64,
    pub hash: String,
    pub published_at: String,
}

pub struct Journal {
    conn: Connection,
}

/// The layout `SCHEMA` creates, kept in SQLite's `user_version`.
const LAYOUT: i64 = 1;

/// Creates what is missing and brings a journal written by an older release to the current
/// layout, in one transaction: a supplier upgrades the binary and keeps the journal.
fn upgrade(conn: &Connection) -> rusqlite::Result<()> {
    let tx = conn.unchecked_transaction()?;
    let existed: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'files')",
        [],
        |r| r.get(0),
    )?;
    let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if existed && version < 1 {
        // Layout 1: where an archived or rejected file ends is chosen before it moves.
        let has: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM pragma_table_info('files') WHERE name = 'final_path')",
            [],
            |r| r.get(0),
        )?;
        if !has {
            tx.execute_batch("ALTER TABLE files ADD COLUMN final_path TEXT")?;
        }
    }
    tx.execute_batch(SCHEMA)?;
    if version < LAYOUT {
        tx.pragma_update(None, "user_version", LAYOUT)?;
    }
    tx.commit()
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    origin TEXT NOT NULL,
    name TEXT NOT NULL,
    data_type TEXT,
    snapshot INTEGER NOT NULL DEFAULT 0,
    size INTEGER NOT NULL,
    hash TEXT NOT NULL,
    state TEXT NOT NULL,
    work_path TEXT,
    staged_path TEXT,
    target_name TEXT,
    final_path TEXT,
    outcome TEXT,
    errors INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS files_state ON files(state);
CREATE INDEX IF NOT EXISTS files_name ON files(origin, name, state);
CREATE TABLE IF NOT EXISTS transitions (
    file_id INTEGER NOT NULL REFERENCES files(id),
    state TEXT NOT NULL,
    at TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX IF NOT EXISTS transitions_file ON transitions(file_id);
CREATE TABLE IF NOT EXISTS staged_keys (
    file_id INTEGER PRIMARY KEY REFERENCES files(id),
    upserts TEXT NOT NULL,
    deletions TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS portal_keys (
    data_type TEXT PRIMARY KEY,
    keys TEXT NOT NULL,
    count INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS manifest (
    folder TEXT NOT NULL,
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    hash TEXT NOT NULL,
    published_at TEXT NOT NULL,
    PRIMARY KEY (folder, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS attached_rejections (
    folder TEXT NOT NULL,
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (folder, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS mirror_verified (
    folder TEXT PRIMARY KEY,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS progress (
    job TEXT PRIMARY KEY,
    done_files INTEGER NOT NULL,
    total_files INTEGER NOT NULL,
    done_bytes INTEGER NOT NULL,
    total_bytes INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    finished INTEGER NOT NULL
);
";

const FILE_COLS: &str = "id, origin, name, data_type, snapshot, size, hash, state, work_path, \
                         staged_path, target_name, outcome, errors, created_at, updated_at, \
                         final_path";

fn row_to_file(r: &rusqlite::Row<'_>) -> rusqlite::Result<(FileRow, String)> {
    let state: String = r.get(7)?;
    Ok((
        FileRow {
            id: r.get(0)?,
            origin: Origin::parse(&r.get::<_, String>(1)?),
            name: r.get(2)?,
            data_type: r.get(3)?,
            snapshot: r.get::<_, i64>(4)? != 0,
            size: r.get::<_, i64>(5)? as u64,
            hash: r.get(6)?,
            state: State::Claiming,
            work_path: r.get(8)?,
            staged_path: r.get(9)?,
            target_name: r.get(10)?,
            outcome: r.get(11)?,
            errors: r.get::<_, i64>(12)? as u64,
            created_at: r.get(13)?,
            updated_at: r.get(14)?,
            final_path: r.get(15)?,
        },
        state,
    ))
}

/// Progress of a long job, for `status`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Progress {
    pub job: String,
    pub done_files: u64,
    pub total_files: u64,
    pub done_bytes: u64,
    pub total_bytes: u64,
    pub started_at: String,
    pub updated_at: String,
    pub finished: bool,
}

/// A new journal row's identity.
pub struct NewFile<'a> {
    pub origin: Origin,
    pub name: &'a str,
    pub data_type: Option<&'a str>,
    pub snapshot: bool,
    pub size: u64,
    pub hash: &'a str,
    pub work_path: Option<&'a str>,
}

impl Journal {
    pub fn open(path: &Path) -> Result<Journal> {
        let open_err = |source| JournalError::Open {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(open_err)?;
        upgrade(&conn).map_err(open_err)?;
        Ok(Journal { conn })
    }

    fn rows(&self, sql: &str, p: impl rusqlite::Params) -> Result<Vec<FileRow>> {
        let mut st = self.conn.prepare_cached(sql)?;
        let raw = st
            .query_map(p, row_to_file)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        raw.into_iter()
            .map(|(mut f, s)| {
                f.state = State::parse(&s)?;
                Ok(f)
            })
            .collect()
    }

    /// Records a new file in its first state.
    pub fn begin(&mut self, f: &NewFile<'_>, state: State) -> Result<i64> {
        let tx = self.conn.transaction()?;
        let at = now();
        tx.execute(
            "INSERT INTO files (origin, name, data_type, snapshot, size, hash, state, work_path, \
             created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
            params![
                f.origin.as_str(),
                f.name,
                f.data_type,
                f.snapshot as i64,
                f.size as i64,
                f.hash,
                state.as_str(),
                f.work_path,
                at
            ],
        )?;
        let id = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO transitions (file_id, state, at) VALUES (?1, ?2, ?3)",
            params![id, state.as_str(), at],
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// Moves a file to `state`, updating the given fields in the same transaction.
    pub fn transition(&mut self, id: i64, state: State, update: Update<'_>) -> Result<()> {
        let tx = self.conn.transaction()?;
        Self::transition_in(&tx, id, state, update)?;
        tx.commit()?;
        Ok(())
    }

    fn transition_in(
        tx: &rusqlite::Transaction<'_>,
        id: i64,
        state: State,
        u: Update<'_>,
    ) -> Result<()> {
        let at = now();
        tx.execute(
            "UPDATE files SET state = ?2, updated_at = ?3,
                work_path = COALESCE(?4, work_path),
                staged_path = COALESCE(?5, staged_path),
                target_name = COALESCE(?6, target_name),
                outcome = COALESCE(?7, outcome),
                errors = COALESCE(?8, errors),
                size = COALESCE(?9, size),
                hash = COALESCE(?10, hash),
                data_type = COALESCE(?11, data_type),
                final_path = COALESCE(?12, final_path)
             WHERE id = ?1",
            params![
                id,
                state.as_str(),
                at,
                u.work_path,
                u.staged_path,
                u.target_name,
                u.outcome,
                u.errors.map(|e| e as i64),
                u.size.map(|s| s as i64),
                u.hash,
                u.data_type,
                u.final_path,
            ],
        )?;
        tx.execute(
            "INSERT INTO transitions (file_id, state, at, detail) VALUES (?1, ?2, ?3, ?4)",
            params![id, state.as_str(), at, u.detail],
        )?;
        Ok(())
    }

    /// Marks a file staged and records the keys it will add or remove, atomically.
    pub fn stage(&mut self, id: i64, keys: &KeyChanges, update: Update<'_>) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT OR REPLACE INTO staged_keys (file_id, upserts, deletions) VALUES (?1, ?2, ?3)",
            params![
                id,
                serde_json::to_string(&keys.upserts).expect("strings serialise"),
                serde_json::to_string(&keys.deletions).expect("strings serialise"),
            ],
        )?;
        tx.execute(
            "UPDATE files SET snapshot = ?2 WHERE id = ?1",
            params![id, keys.snapshot as i64],
        )?;
        Self::transition_in(&tx, id, State::Staged, update)?;
        tx.commit()?;
        Ok(())
    }

    pub fn file(&self, id: i64) -> Result<Option<FileRow>> {
        Ok(self
            .rows(
                &format!("SELECT {FILE_COLS} FROM files WHERE id = ?1"),
                [id],
            )?
            .pop())
    }

    /// Files not in a final state, oldest first.
    pub fn unfinished(&self) -> Result<Vec<FileRow>> {
        self.rows(
            &format!(
                "SELECT {FILE_COLS} FROM files WHERE state NOT IN ('rejected','archived',\
                 'acknowledged') ORDER BY id"
            ),
            [],
        )
    }

    /// Staged files of a type in arrival order.
    pub fn staged(&self, data_type: &str) -> Result<Vec<FileRow>> {
        self.rows(
            &format!(
                "SELECT {FILE_COLS} FROM files WHERE state = 'staged' AND data_type = ?1 \
                 ORDER BY id"
            ),
            [data_type],
        )
    }

    /// All staged files, in arrival order.
    pub fn all_staged(&self) -> Result<Vec<FileRow>> {
        self.rows(
            &format!("SELECT {FILE_COLS} FROM files WHERE state = 'staged' ORDER BY id"),
            [],
        )
    }

    /// The last file of this origin and name that reached the other side.
    pub fn last_done(&self, origin: Origin, name: &str) -> Result<Option<FileRow>> {
        Ok(self
            .rows(
                &format!(
                    "SELECT {FILE_COLS} FROM files WHERE origin = ?1 AND name = ?2 AND state IN \
                     ('published','archived','delivered','acknowledged') AND COALESCE(outcome, '') \
                     NOT IN ('unchanged','duplicate','abandoned','vanished','superseded') \
                     ORDER BY id DESC LIMIT 1"
                ),
                params![origin.as_str(), name],
            )?
            .pop())
    }

    /// Files that reached a given state since `since` (RFC 3339), newest first.
    pub fn recent(&self, state: State, since: &str) -> Result<Vec<FileRow>> {
        self.rows(
            &format!(
                "SELECT {FILE_COLS} FROM files WHERE state = ?1 AND updated_at >= ?2 \
                 ORDER BY id DESC"
            ),
            params![state.as_str(), since],
        )
    }

    /// The last published file of each data type.
    pub fn last_published_by_type(&self) -> Result<Vec<FileRow>> {
        self.rows(
            &format!(
                "SELECT {FILE_COLS} FROM files WHERE id IN (SELECT MAX(f.id) FROM files f \
                 JOIN transitions t ON t.file_id = f.id AND t.state = 'published' \
                 WHERE f.origin = 'outbox' GROUP BY f.data_type)"
            ),
            [],
        )
    }

    /// When a file entered a state (the last time).
    pub fn entered(&self, id: i64, state: State) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT at FROM transitions WHERE file_id = ?1 AND state = ?2 \
                 ORDER BY rowid DESC LIMIT 1",
                params![id, state.as_str()],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// State transitions of a file, oldest first: (state, at, detail).
    pub fn history(&self, id: i64) -> Result<Vec<(String, String, Option<String>)>> {
        let mut st = self.conn.prepare_cached(
            "SELECT state, at, detail FROM transitions WHERE file_id = ?1 ORDER BY rowid",
        )?;
        let rows = st
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// The key changes recorded when a file was staged.
    pub fn staged_keys(&self, id: i64) -> Result<Option<KeyChanges>> {
        let row: Option<(String, String, i64)> = self
            .conn
            .query_row(
                "SELECT k.upserts, k.deletions, f.snapshot FROM staged_keys k \
                 JOIN files f ON f.id = k.file_id WHERE k.file_id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((u, d, snap)) = row else {
            return Ok(None);
        };
        let parse = |s: &str| {
            serde_json::from_str::<Vec<String>>(s).map_err(|source| JournalError::Keys {
                data_type: format!("file {id}"),
                source,
            })
        };
        Ok(Some(KeyChanges {
            snapshot: snap != 0,
            upserts: parse(&u)?,
            deletions: parse(&d)?,
        }))
    }

    /// The keys the portal has of a type; `None` when no snapshot of it was ever published.
    pub fn portal_keys(&self, t: DataType) -> Result<Option<KeySet>> {
        let s: Option<String> = self
            .conn
            .query_row(
                "SELECT keys FROM portal_keys WHERE data_type = ?1",
                [t.name()],
                |r| r.get(0),
            )
            .optional()?;
        s.map(|s| {
            serde_json::from_str::<KeySet>(&s).map_err(|source| JournalError::Keys {
                data_type: t.name().into(),
                source,
            })
        })
        .transpose()
    }

    /// Records that a staged file reached the portal: its state moves to `published` and the
    /// portal's key set of its type takes its changes, in one transaction.
    pub fn publish(
        &mut self,
        id: i64,
        t: DataType,
        keys: Option<&KeySet>,
        update: Update<'_>,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        if let Some(keys) = keys {
            tx.execute(
                "INSERT OR REPLACE INTO portal_keys (data_type, keys, count, updated_at) \
                 VALUES (?1, ?2, ?3, ?4)",
                params![
                    t.name(),
                    serde_json::to_string(keys).expect("strings serialise"),
                    keys.len() as i64,
                    now()
                ],
            )?;
        }
        tx.execute("DELETE FROM staged_keys WHERE file_id = ?1", [id])?;
        Self::transition_in(&tx, id, State::Published, update)?;
        tx.commit()?;
        Ok(())
    }

    /// Drops the key changes of a file that will not be published.
    pub fn forget_keys(&mut self, id: i64) -> Result<()> {
        self.conn
            .execute("DELETE FROM staged_keys WHERE file_id = ?1", [id])?;
        Ok(())
    }

    pub fn manifest(&self, folder: AttachedFolder) -> Result<Vec<ManifestEntry>> {
        let mut st = self.conn.prepare_cached(
            "SELECT name, size, mtime_ns, hash, published_at FROM manifest WHERE folder = ?1",
        )?;
        let rows = st
            .query_map([folder.name()], |r| {
                Ok(ManifestEntry {
                    folder,
                    name: r.get(0)?,
                    size: r.get::<_, i64>(1)? as u64,
                    mtime_ns: r.get(2)?,
                    hash: r.get(3)?,
                    published_at: r.get(4)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    pub fn manifest_has(&self, folder: AttachedFolder, name: &str) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM manifest WHERE folder = ?1 AND name = ?2")?
            .exists(params![folder.name(), name])?)
    }

    /// Records entries in one transaction (a sync of many files commits in groups).
    pub fn manifest_put(&mut self, entries: &[ManifestEntry]) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut st = tx.prepare_cached(
                "INSERT OR REPLACE INTO manifest (folder, name, size, mtime_ns, hash, \
                 published_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for e in entries {
                st.execute(params![
                    e.folder.name(),
                    e.name,
                    e.size as i64,
                    e.mtime_ns,
                    e.hash,
                    e.published_at
                ])?;
            }
            let mut clear = tx.prepare_cached(
                "DELETE FROM attached_rejections WHERE folder = ?1 AND name = ?2",
            )?;
            for e in entries {
                clear.execute(params![e.folder.name(), e.name])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    pub fn manifest_remove(&mut self, folder: AttachedFolder, names: &[String]) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut st =
                tx.prepare_cached("DELETE FROM manifest WHERE folder = ?1 AND name = ?2")?;
            for n in names {
                st.execute(params![folder.name(), n])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// When the server's copy of a mirror folder was last compared with the manifest.
    pub fn mirror_verified(&self, folder: AttachedFolder) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT at FROM mirror_verified WHERE folder = ?1",
                [folder.name()],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub fn set_mirror_verified(&mut self, folder: AttachedFolder, at: &str) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO mirror_verified (folder, at) VALUES (?1, ?2)",
            params![folder.name(), at],
        )?;
        Ok(())
    }

    /// The (size, mtime) at which an attached file was last rejected, so that an unchanged bad
    /// file is reported once, not at every tick.
    pub fn attached_rejection(
        &self,
        folder: AttachedFolder,
        name: &str,
    ) -> Result<Option<(u64, i64)>> {
        Ok(self
            .conn
            .query_row(
                "SELECT size, mtime_ns FROM attached_rejections WHERE folder = ?1 AND name = ?2",
                params![folder.name(), name],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)),
            )
            .optional()?)
    }

    pub fn attached_reject(
        &mut self,
        folder: AttachedFolder,
        name: &str,
        size: u64,
        mtime_ns: i64,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO attached_rejections (folder, name, size, mtime_ns, at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![folder.name(), name, size as i64, mtime_ns, now()],
        )?;
        Ok(())
    }

    /// Attached files rejected since `since`.
    pub fn attached_rejections_since(&self, since: &str) -> Result<u64> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM attached_rejections WHERE at >= ?1",
            [since],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }

    pub fn set_progress(&mut self, p: &Progress) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO progress (job, done_files, total_files, done_bytes, \
             total_bytes, started_at, updated_at, finished) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
            params![
                p.job,
                p.done_files as i64,
                p.total_files as i64,
                p.done_bytes as i64,
                p.total_bytes as i64,
                p.started_at,
                p.updated_at,
                p.finished as i64
            ],
        )?;
        Ok(())
    }

    /// Marks a job's progress finished (its leftovers were dealt with).
    pub fn finish_progress(&mut self, job: &str) -> Result<()> {
        self.conn
            .execute("UPDATE progress SET finished = 1 WHERE job = ?1", [job])?;
        Ok(())
    }

    pub fn progress(&self) -> Result<Vec<Progress>> {
        let mut st = self.conn.prepare_cached(
            "SELECT job, done_files, total_files, done_bytes, total_bytes, started_at, \
             updated_at, finished FROM progress ORDER BY job",
        )?;
        let rows = st
            .query_map([], |r| {
                Ok(Progress {
                    job: r.get(0)?,
                    done_files: r.get::<_, i64>(1)? as u64,
                    total_files: r.get::<_, i64>(2)? as u64,
                    done_bytes: r.get::<_, i64>(3)? as u64,
                    total_bytes: r.get::<_, i64>(4)? as u64,
                    started_at: r.get(5)?,
                    updated_at: r.get(6)?,
                    finished: r.get::<_, i64>(7)? != 0,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }
}

/// Fields to change with a transition; `None` leaves a field as it is.
#[derive(Debug, Default, Clone, Copy)]
pub struct Update<'a> {
    pub work_path: Option<&'a str>,
    pub staged_path: Option<&'a str>,
    pub target_name: Option<&'a str>,
    pub outcome: Option<&'a str>,
    pub errors: Option<u64>,
    pub size: Option<u64>,
    pub hash: Option<&'a str>,
    pub data_type: Option<&'a str>,
    pub final_path: Option<&'a str>,
    pub detail: Option<&'a str>,
}

/// Applies a file's key changes to a key set.
pub fn apply_keys(set: &mut KeySet, changes: &KeyChanges) {
    if changes.snapshot {
        set.clear();
    }
    for d in &changes.deletions {
        set.remove(d);
    }
    set.extend(changes.upserts.iter().cloned());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal() -> (tempfile::TempDir, Journal) {
        let d = tempfile::tempdir().unwrap();
        let j = Journal::open(&d.path().join("journal.db")).unwrap();
        (d, j)
    }

    #[test]
    fn a_journal_of_the_first_layout_is_upgraded_in_place() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("journal.db");
        {
            // The files table as the first release wrote it: no final_path, user_version 0.
            let c = Connection::open(&path).unwrap();
            c.execute_batch(
                "CREATE TABLE files (id INTEGER PRIMARY KEY, origin TEXT NOT NULL, \
                 name TEXT NOT NULL, data_type TEXT, snapshot INTEGER NOT NULL DEFAULT 0, \
                 size INTEGER NOT NULL, hash TEXT NOT NULL, state TEXT NOT NULL, \
                 work_path TEXT, staged_path TEXT, target_name TEXT, outcome TEXT, \
                 errors INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, \
                 updated_at TEXT NOT NULL);
                 INSERT INTO files (origin, name, size, hash, state, created_at, updated_at) \
                 VALUES ('outbox', 'prices.json', 3, 'h', 'staged', 't', 't');",
            )
            .unwrap();
        }
        let j = Journal::open(&path).unwrap();
        let rows = j.unfinished().unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (rows[0].name.as_str(), rows[0].final_path.clone()),
            ("prices.json", None)
        );
        let v: i64 = j
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, LAYOUT);
        drop(j);
        // Opening again changes nothing.
        assert_eq!(Journal::open(&path).unwrap().unfinished().unwrap().len(), 1);
    }

    fn new_file<'a>(name: &'a str) -> NewFile<'a> {
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

    #[test]
    fn transitions_are_recorded_and_survive_reopening() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("j.db");
        let id = {
            let mut j = Journal::open(&path).unwrap();
            let id = j
                .begin(&new_file("products.json"), State::Claiming)
                .unwrap();
            j.transition(
                id,
                State::Claimed,
                Update {
                    work_path: Some("/w/1"),
                    ..Default::default()
                },
            )
            .unwrap();
            id
        };
        let j = Journal::open(&path).unwrap();
        let f = j.file(id).unwrap().unwrap();
        assert_eq!(f.state, State::Claimed);
        assert_eq!(f.work_path.as_deref(), Some("/w/1"));
        let h: Vec<String> = j.history(id).unwrap().into_iter().map(|h| h.0).collect();
        assert_eq!(h, ["claiming", "claimed"]);
        assert_eq!(j.unfinished().unwrap().len(), 1);
    }

    #[test]
    fn publishing_moves_keys_into_the_portal_set() {
        let (_d, mut j) = journal();
        let id = j.begin(&new_file("products.json"), State::Claimed).unwrap();
        let changes = KeyChanges {
            snapshot: true,
            upserts: vec!["a".into(), "b".into()],
            deletions: vec![],
        };
        j.stage(id, &changes, Update::default()).unwrap();
        assert_eq!(j.staged("products").unwrap().len(), 1);
        assert_eq!(j.staged_keys(id).unwrap().unwrap(), changes);
        assert_eq!(j.portal_keys(DataType::Products).unwrap(), None);
        let mut set = KeySet::default();
        apply_keys(&mut set, &changes);
        j.publish(id, DataType::Products, Some(&set), Update::default())
            .unwrap();
        assert_eq!(j.portal_keys(DataType::Products).unwrap(), Some(set));
        assert_eq!(j.staged_keys(id).unwrap(), None);
        assert_eq!(
            j.last_done(Origin::Outbox, "products.json")
                .unwrap()
                .unwrap()
                .id,
            id
        );
    }

    #[test]
    fn key_changes_apply_as_snapshot_or_delta() {
        let mut set: KeySet = ["a", "b"].iter().map(|s| s.to_string()).collect();
        apply_keys(
            &mut set,
            &KeyChanges {
                snapshot: false,
                upserts: vec!["c".into()],
                deletions: vec!["a".into()],
            },
        );
        let mut v: Vec<_> = set.iter().cloned().collect();
        v.sort();
        assert_eq!(v, ["b", "c"]);
        apply_keys(
            &mut set,
            &KeyChanges {
                snapshot: true,
                upserts: vec!["z".into()],
                deletions: vec![],
            },
        );
        assert_eq!(set.len(), 1);
    }

    #[test]
    fn manifest_round_trip_and_rejections() {
        let (_d, mut j) = journal();
        let e = ManifestEntry {
            folder: AttachedFolder::Pictures,
            name: "a.png".into(),
            size: 5,
            mtime_ns: 7,
            hash: "h".into(),
            published_at: now(),
        };
        j.attached_reject(AttachedFolder::Pictures, "a.png", 5, 6)
            .unwrap();
        assert_eq!(
            j.attached_rejection(AttachedFolder::Pictures, "a.png")
                .unwrap(),
            Some((5, 6))
        );
        j.manifest_put(std::slice::from_ref(&e)).unwrap();
        assert_eq!(j.manifest(AttachedFolder::Pictures).unwrap(), vec![e]);
        assert!(j.manifest_has(AttachedFolder::Pictures, "a.png").unwrap());
        assert_eq!(
            j.attached_rejection(AttachedFolder::Pictures, "a.png")
                .unwrap(),
            None
        );
        j.manifest_remove(AttachedFolder::Pictures, &["a.png".into()])
            .unwrap();
        assert!(!j.manifest_has(AttachedFolder::Pictures, "a.png").unwrap());
    }
}
