//! File rows: where each file came from, the state it is in, the paths and names it uses, and
//! the history of its transitions. Every transition is checked against [`super::states`].

use super::states::{check, State};
use super::{now, Journal, JournalError, Result};
use rusqlite::{params, OptionalExtension};

pub(super) const SCHEMA: &str = "
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
";

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

impl Journal {
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

    /// [`Journal::transition`] inside a transaction the caller commits (staging and
    /// publishing change other tables in the same one). Refuses a step the state machine
    /// does not allow from the row's current state.
    pub(super) fn transition_in(
        tx: &rusqlite::Transaction<'_>,
        id: i64,
        state: State,
        u: Update<'_>,
    ) -> Result<()> {
        let (from, name): (String, String) = tx
            .query_row("SELECT state, name FROM files WHERE id = ?1", [id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?
            .ok_or(JournalError::NoFile(id))?;
        check(id, &name, State::parse(&from)?, state)?;
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
        tracing::debug!(file = %name, id, from = %from, detail = u.detail, "{state}");
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

    /// Files that reached a final state (rejected, archived, acknowledged) at or after `since`
    /// (RFC 3339), newest first: `compo-exchange history`.
    pub fn ended_since(&self, since: &str) -> Result<Vec<FileRow>> {
        self.rows(
            &format!(
                "SELECT {FILE_COLS} FROM files WHERE state IN ('rejected','archived',\
                 'acknowledged') AND updated_at >= ?1 ORDER BY updated_at DESC, id DESC"
            ),
            params![since],
        )
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
}

#[cfg(test)]
mod tests {
    use super::super::testing::{journal, new_file};
    use super::*;

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
    fn a_step_not_allowed_is_refused_and_changes_nothing() {
        let (_d, mut j) = journal();
        let id = j.begin(&new_file("prices.json"), State::Claiming).unwrap();
        let e = j
            .transition(id, State::Published, Update::default())
            .unwrap_err();
        assert!(
            matches!(
                e,
                JournalError::Transition {
                    from: State::Claiming,
                    to: State::Published,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("prices.json"), "{e}");
        let f = j.file(id).unwrap().unwrap();
        assert_eq!(f.state, State::Claiming);
        assert_eq!(j.history(id).unwrap().len(), 1, "no transition recorded");
        // Staging checks too: a claiming file was never validated.
        let e = j
            .stage(id, &Default::default(), Update::default())
            .unwrap_err();
        assert!(matches!(e, JournalError::Transition { .. }), "{e}");
        assert_eq!(j.staged_keys(id).unwrap(), None, "the keys rolled back too");
        // Staying is allowed (it records a detail); an unknown file is an error.
        j.transition(
            id,
            State::Claiming,
            Update {
                final_path: Some("/a"),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            j.file(id).unwrap().unwrap().final_path.as_deref(),
            Some("/a")
        );
        assert!(matches!(
            j.transition(id + 100, State::Claimed, Update::default()),
            Err(JournalError::NoFile(_))
        ));
    }
}
