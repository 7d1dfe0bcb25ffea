//! What the status page, `/metrics` and the notifier read: a read-only connection beside the
//! daemon's writer, and per-file figures gathered in one query.
//!
//! Counters built from these rows only grow, because the journal never deletes a file row or a
//! transition. A retention feature that deleted rows would have to keep running totals in a
//! table of their own and let the metrics read those instead.

use super::{Journal, JournalError, Origin, Result, State};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

/// One file's figures: what it is, where it stands, when it passed the steps that count.
#[derive(Debug, Clone, PartialEq)]
pub struct FileFigures {
    pub id: i64,
    pub origin: Origin,
    pub name: String,
    pub data_type: Option<String>,
    pub state: State,
    pub outcome: Option<String>,
    pub size: u64,
    pub hash: String,
    pub errors: u64,
    pub final_path: Option<String>,
    /// When it was taken from the outbox (claimed) or downloaded from `out/`.
    pub taken_at: Option<String>,
    pub published_at: Option<String>,
    pub delivered_at: Option<String>,
    /// Seconds from claimed to published, as SQLite computes it from the two transitions.
    pub publish_secs: Option<f64>,
    pub updated_at: String,
}

/// A file being retried, with since when.
#[derive(Debug, Clone, PartialEq)]
pub struct Retrying {
    pub id: i64,
    pub name: String,
    pub data_type: Option<String>,
    pub state: State,
    pub attempts: u64,
    pub last_error: String,
    pub next_attempt: String,
    pub first_failed_at: String,
}

/// What the server holds of one attached folder, by the manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct FolderTotals {
    pub folder: String,
    pub files: u64,
    pub bytes: u64,
    pub last_published_at: Option<String>,
}

impl Journal {
    /// Opens the journal for reading only: it never creates, upgrades or writes, so it can sit
    /// beside the daemon's connection (WAL lets a reader see committed data while the writer
    /// works). Fails when there is no journal yet.
    pub fn open_read_only(path: &Path) -> Result<Journal> {
        let open_err = |source| JournalError::Open {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(open_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(open_err)?;
        let store_dir = path
            .parent()
            .unwrap_or_else(|| Path::new("."))
            .join("portal");
        Ok(Journal { conn, store_dir })
    }

    /// Every file with its figures, oldest first.
    pub fn file_figures(&self) -> Result<Vec<FileFigures>> {
        let mut st = self.conn.prepare_cached(
            "SELECT f.id, f.origin, f.name, f.data_type, f.state, f.outcome, f.size, f.hash, \
                f.errors, f.final_path, f.updated_at, \
                (SELECT MIN(at) FROM transitions t WHERE t.file_id = f.id \
                    AND t.state IN ('claimed', 'downloaded')) AS taken, \
                (SELECT MAX(at) FROM transitions t WHERE t.file_id = f.id \
                    AND t.state = 'published') AS published, \
                (SELECT MAX(at) FROM transitions t WHERE t.file_id = f.id \
                    AND t.state = 'delivered') AS delivered \
             FROM files f ORDER BY f.id",
        )?;
        let raw = st
            .query_map([], |r| {
                Ok((
                    FileFigures {
                        id: r.get(0)?,
                        origin: if r.get::<_, String>(1)? == "out" {
                            Origin::Out
                        } else {
                            Origin::Outbox
                        },
                        name: r.get(2)?,
                        data_type: r.get(3)?,
                        state: State::Claiming,
                        outcome: r.get(5)?,
                        size: r.get::<_, i64>(6)? as u64,
                        hash: r.get(7)?,
                        errors: r.get::<_, i64>(8)? as u64,
                        final_path: r.get(9)?,
                        updated_at: r.get(10)?,
                        taken_at: r.get(11)?,
                        published_at: r.get(12)?,
                        delivered_at: r.get(13)?,
                        publish_secs: None,
                    },
                    r.get::<_, String>(4)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        raw.into_iter()
            .map(|(mut f, s)| {
                f.state = State::parse(&s)?;
                f.publish_secs = match (&f.taken_at, &f.published_at) {
                    (Some(a), Some(b)) => seconds_between(a, b),
                    _ => None,
                };
                Ok(f)
            })
            .collect()
    }

    /// Files being retried with the time of their first failure, the longest failing first.
    pub fn retrying(&self) -> Result<Vec<Retrying>> {
        let mut st = self.conn.prepare_cached(
            "SELECT f.id, f.name, f.data_type, f.state, x.attempts, x.last_error, \
                x.next_attempt, x.first_failed_at \
             FROM failures x JOIN files f ON f.id = x.file_id ORDER BY x.first_failed_at, f.id",
        )?;
        let raw = st
            .query_map([], |r| {
                Ok((
                    Retrying {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        data_type: r.get(2)?,
                        state: State::Claiming,
                        attempts: r.get::<_, i64>(4)? as u64,
                        last_error: r.get(5)?,
                        next_attempt: r.get(6)?,
                        first_failed_at: r.get(7)?,
                    },
                    r.get::<_, String>(3)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        raw.into_iter()
            .map(|(mut f, s)| {
                f.state = State::parse(&s)?;
                Ok(f)
            })
            .collect()
    }

    /// Attached files rejected and not published since: (folder, name, when).
    pub fn attached_rejections(&self) -> Result<Vec<(String, String, String)>> {
        let mut st = self.conn.prepare_cached(
            "SELECT folder, name, at FROM attached_rejections ORDER BY at DESC, name",
        )?;
        let rows = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Per attached folder: files on the server, their bytes, the last time one was published.
    pub fn manifest_totals(&self) -> Result<Vec<FolderTotals>> {
        let mut st = self.conn.prepare_cached(
            "SELECT folder, COUNT(*), COALESCE(SUM(size), 0), MAX(published_at) FROM manifest \
             GROUP BY folder ORDER BY folder",
        )?;
        let rows = st
            .query_map([], |r| {
                Ok(FolderTotals {
                    folder: r.get(0)?,
                    files: r.get::<_, i64>(1)? as u64,
                    bytes: r.get::<_, i64>(2)? as u64,
                    last_published_at: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }
}

/// Seconds from `a` to `b`, both RFC 3339.
fn seconds_between(a: &str, b: &str) -> Option<f64> {
    let a = chrono::DateTime::parse_from_rfc3339(a).ok()?;
    let b = chrono::DateTime::parse_from_rfc3339(b).ok()?;
    Some((b - a).num_milliseconds() as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::super::testing::new_file;
    use super::super::Update;
    use super::*;

    #[test]
    fn a_reader_sees_the_writers_rows_and_cannot_write() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("journal.db");
        assert!(Journal::open_read_only(&path).is_err(), "no journal yet");
        let mut w = Journal::open(&path).unwrap();
        let id = w
            .begin(&new_file("products.json"), State::Claiming)
            .unwrap();
        for s in [
            State::Claimed,
            State::Staged,
            State::Publishing,
            State::Uploaded,
        ] {
            w.transition(id, s, Update::default()).unwrap();
        }
        w.transition(id, State::Published, Update::default())
            .unwrap();
        w.note_failure(id, "in/: gone", "2026-11-30T10:00:00Z")
            .unwrap();
        let mut r = Journal::open_read_only(&path).unwrap();
        let f = r.file_figures().unwrap();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].state, State::Published);
        assert!(f[0].taken_at.is_some() && f[0].published_at.is_some());
        assert!(f[0].publish_secs.unwrap() >= 0.0);
        let x = r.retrying().unwrap();
        assert_eq!((x[0].id, x[0].attempts), (id, 1));
        assert_eq!(x[0].data_type.as_deref(), Some("products"));
        assert!(r.note_failure(id, "x", "y").is_err(), "read-only");
        // A row written after the reader opened is seen by its next query.
        let id2 = w.begin(&new_file("prices.json"), State::Claiming).unwrap();
        assert_eq!(r.file_figures().unwrap().last().unwrap().id, id2);
    }

    #[test]
    fn a_transaction_that_reads_then_writes_waits_for_another_writer_instead_of_failing() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("journal.db");
        let mut a = Journal::open(&path).unwrap();
        let id = a.begin(&new_file("prices.json"), State::Claiming).unwrap();
        let tx = a.conn.transaction().unwrap();
        let n: i64 = tx
            .query_row("SELECT COUNT(*) FROM files", [], |r| r.get(0))
            .unwrap();
        // Another connection (the notifier, say) writes meanwhile.
        let other = std::thread::spawn(move || {
            let mut b = Journal::open(&path).unwrap();
            b.note_failure(id, "x", "2026-11-30T10:00:00Z").unwrap();
        });
        std::thread::sleep(std::time::Duration::from_millis(200));
        // A deferred transaction would now fail with SQLITE_BUSY_SNAPSHOT.
        tx.execute(
            "UPDATE files SET errors = ?1 WHERE id = ?2",
            rusqlite::params![n, id],
        )
        .unwrap();
        tx.commit().unwrap();
        other.join().unwrap();
        assert_eq!(a.retrying().unwrap().len(), 1);
    }
}
