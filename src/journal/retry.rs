//! What is failing and when it is tried again: per-file retries of the daemon and the health
//! of each side of the exchange, both read by `status`.
//!
//! A failure row lives only while its file is being retried; clearing it is part of the step
//! that finally succeeds. Health has one row per component and keeps since when the component
//! has been in its present condition, so that `status` can say "failing since 06:00".

use super::{Journal, Result, State};
use crate::transport::{Offer, Transport};
use rusqlite::{params, OptionalExtension};

/// The tables of this concern; created by the journal's open/upgrade path (layout 2).
pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS failures (
    file_id INTEGER PRIMARY KEY REFERENCES files(id),
    attempts INTEGER NOT NULL,
    last_error TEXT NOT NULL,
    next_attempt TEXT NOT NULL,
    first_failed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS health (
    component TEXT PRIMARY KEY,
    error TEXT,
    since TEXT NOT NULL,
    last_success TEXT
);
CREATE TABLE IF NOT EXISTS server_offer (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    server TEXT NOT NULL,
    offers TEXT NOT NULL,
    note TEXT,
    at TEXT NOT NULL
);
";

/// A file being retried.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Failure {
    pub id: i64,
    pub name: String,
    #[serde(serialize_with = "state_str")]
    pub state: State,
    /// Failed attempts so far (1 after the first failure).
    pub attempts: u64,
    pub last_error: String,
    /// RFC 3339, as the caller gave it.
    pub next_attempt: String,
}

fn state_str<S: serde::Serializer>(s: &State, ser: S) -> std::result::Result<S::Ok, S::Error> {
    ser.serialize_str(s.as_str())
}

/// The condition of one component of the exchange (`server`, `in`, `out`, `attached`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Health {
    pub component: String,
    /// `None` when the last attempt succeeded.
    pub error: Option<String>,
    /// When the component entered its present condition (ok, or failing).
    pub since: String,
    /// The last time it worked, if ever.
    pub last_success: Option<String>,
}

/// What the exchange server offered when the processor last connected to it (transport
/// [`Offer`]), with when that was.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ServerOffer {
    pub server: String,
    pub offers: String,
    /// Set when files are replaced by the fallback: what a reader of the server may see.
    pub note: Option<String>,
    /// RFC 3339, UTC.
    pub at: String,
}

impl Health {
    pub fn ok(&self) -> bool {
        self.error.is_none()
    }
}

impl Journal {
    /// Records a failed attempt on a file: one more attempt, its error, when it is tried next.
    pub fn note_failure(&mut self, id: i64, error: &str, next_attempt: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO failures (file_id, attempts, last_error, next_attempt, first_failed_at) \
             VALUES (?1, 1, ?2, ?3, ?4) \
             ON CONFLICT(file_id) DO UPDATE SET attempts = attempts + 1, \
             last_error = excluded.last_error, next_attempt = excluded.next_attempt",
            params![id, error, next_attempt, super::now()],
        )?;
        Ok(())
    }

    /// Forgets a file's failures (it succeeded, or ended otherwise).
    pub fn clear_failure(&mut self, id: i64) -> Result<()> {
        self.conn
            .execute("DELETE FROM failures WHERE file_id = ?1", [id])?;
        Ok(())
    }

    /// Files being retried, the one due first first.
    pub fn failures(&self) -> Result<Vec<Failure>> {
        let mut st = self.conn.prepare_cached(
            "SELECT f.id, f.name, f.state, x.attempts, x.last_error, x.next_attempt \
             FROM failures x JOIN files f ON f.id = x.file_id ORDER BY x.next_attempt, f.id",
        )?;
        let raw = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        raw.into_iter()
            .map(|(id, name, state, attempts, last_error, next_attempt)| {
                Ok(Failure {
                    id,
                    name,
                    state: State::parse(&state)?,
                    attempts: attempts as u64,
                    last_error,
                    next_attempt,
                })
            })
            .collect()
    }

    /// Records how a component fared at `at`: `None` for success, else the error.
    pub fn set_health(&mut self, component: &str, error: Option<&str>, at: &str) -> Result<()> {
        let tx = self.conn.transaction()?;
        let prev: Option<Option<String>> = tx
            .query_row(
                "SELECT error FROM health WHERE component = ?1",
                [component],
                |r| r.get(0),
            )
            .optional()?;
        // `since` moves only when the condition flips: a component failing with a new message
        // has still been failing since the first failure.
        let flipped = match &prev {
            None => true,
            Some(e) => e.is_some() != error.is_some(),
        };
        tx.execute(
            "INSERT INTO health (component, error, since, last_success) \
             VALUES (?1, ?2, ?3, CASE WHEN ?2 IS NULL THEN ?3 END) \
             ON CONFLICT(component) DO UPDATE SET error = excluded.error, \
             since = CASE WHEN ?4 THEN excluded.since ELSE since END, \
             last_success = CASE WHEN ?2 IS NULL THEN ?3 ELSE last_success END",
            params![component, error, at, flipped],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Records what the connected server `t` offers, for `status`; a transport with nothing to
    /// say (a local folder) clears what an earlier server offered.
    pub fn note_server_offer(&mut self, t: &dyn Transport) -> Result<()> {
        match t.offer() {
            Some(Offer { offers, note }) => self.conn.execute(
                "INSERT INTO server_offer (id, server, offers, note, at) VALUES (1, ?1, ?2, ?3, ?4) \
                 ON CONFLICT(id) DO UPDATE SET server = excluded.server, \
                 offers = excluded.offers, note = excluded.note, at = excluded.at",
                params![t.describe(), offers, note, super::now()],
            )?,
            None => self.conn.execute("DELETE FROM server_offer", [])?,
        };
        Ok(())
    }

    /// What the server offered when last connected, if it has anything to say.
    pub fn server_offer(&self) -> Result<Option<ServerOffer>> {
        Ok(self
            .conn
            .query_row(
                "SELECT server, offers, note, at FROM server_offer WHERE id = 1",
                [],
                |r| {
                    Ok(ServerOffer {
                        server: r.get(0)?,
                        offers: r.get(1)?,
                        note: r.get(2)?,
                        at: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }

    /// Every component's condition, by name.
    pub fn health(&self) -> Result<Vec<Health>> {
        let mut st = self.conn.prepare_cached(
            "SELECT component, error, since, last_success FROM health ORDER BY component",
        )?;
        let rows = st
            .query_map([], |r| {
                Ok(Health {
                    component: r.get(0)?,
                    error: r.get(1)?,
                    since: r.get(2)?,
                    last_success: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{NewFile, Origin, Update};
    use super::*;

    fn journal() -> (tempfile::TempDir, Journal) {
        let d = tempfile::tempdir().unwrap();
        let j = Journal::open(&d.path().join("journal.db")).unwrap();
        (d, j)
    }

    fn file(j: &mut Journal, name: &str) -> i64 {
        j.begin(
            &NewFile {
                origin: Origin::Outbox,
                name,
                data_type: Some("prices"),
                snapshot: false,
                size: 1,
                hash: "h",
                work_path: None,
            },
            State::Claiming,
        )
        .unwrap()
    }

    #[test]
    fn failures_count_attempts_keep_the_last_error_and_clear() {
        let (_d, mut j) = journal();
        let a = file(&mut j, "prices.json");
        let b = file(&mut j, "stock.json");
        j.note_failure(a, "in/: not found", "2026-11-30T10:00:05+03:00")
            .unwrap();
        j.note_failure(a, "connection reset", "2026-11-30T10:00:15+03:00")
            .unwrap();
        j.note_failure(b, "short upload", "2026-11-30T10:00:07+03:00")
            .unwrap();
        j.transition(a, State::Claimed, Update::default()).unwrap();
        let f = j.failures().unwrap();
        assert_eq!(f.len(), 2);
        // Due first comes first.
        assert_eq!(
            (f[0].name.as_str(), f[0].attempts, f[0].last_error.as_str()),
            ("stock.json", 1, "short upload")
        );
        assert_eq!(
            f[1],
            Failure {
                id: a,
                name: "prices.json".into(),
                state: State::Claimed,
                attempts: 2,
                last_error: "connection reset".into(),
                next_attempt: "2026-11-30T10:00:15+03:00".into(),
            }
        );
        j.clear_failure(a).unwrap();
        let f = j.failures().unwrap();
        assert_eq!(f.iter().map(|f| f.id).collect::<Vec<_>>(), [b]);
        // A new failure after a clear starts counting again.
        j.note_failure(a, "x", "2026-11-30T11:00:00+03:00").unwrap();
        let again = j.failures().unwrap();
        assert_eq!(again.iter().find(|f| f.id == a).unwrap().attempts, 1);
    }

    #[test]
    fn health_keeps_since_when_the_condition_holds() {
        let (_d, mut j) = journal();
        assert!(j.health().unwrap().is_empty());
        j.set_health("server", None, "2026-11-30T06:00:00+03:00")
            .unwrap();
        j.set_health("server", Some("refused"), "2026-11-30T06:05:00+03:00")
            .unwrap();
        j.set_health("server", Some("timed out"), "2026-11-30T06:10:00+03:00")
            .unwrap();
        j.set_health("in", Some("read-only"), "2026-11-30T06:11:00+03:00")
            .unwrap();
        let h = j.health().unwrap();
        let server = h.iter().find(|h| h.component == "server").unwrap();
        assert_eq!(
            server,
            &Health {
                component: "server".into(),
                error: Some("timed out".into()),
                since: "2026-11-30T06:05:00+03:00".into(),
                last_success: Some("2026-11-30T06:00:00+03:00".into()),
            }
        );
        assert!(!server.ok());
        let inn = h.iter().find(|h| h.component == "in").unwrap();
        assert_eq!(inn.last_success, None);
        j.set_health("server", None, "2026-11-30T06:20:00+03:00")
            .unwrap();
        j.set_health("server", None, "2026-11-30T06:25:00+03:00")
            .unwrap();
        let h = j.health().unwrap();
        let server = h.iter().find(|h| h.component == "server").unwrap();
        assert!(server.ok());
        assert_eq!(server.since, "2026-11-30T06:20:00+03:00");
        assert_eq!(
            server.last_success.as_deref(),
            Some("2026-11-30T06:25:00+03:00")
        );
    }

    #[test]
    fn a_local_folder_clears_what_an_earlier_server_offered() {
        let (d, mut j) = journal();
        assert_eq!(j.server_offer().unwrap(), None);
        // What an SFTP server without posix-rename left (tests/it/proftpd.rs records it for real).
        j.conn
            .execute(
                "INSERT INTO server_offer (id, server, offers, note, at) \
                 VALUES (1, 'sftp://h', 'posix-rename@openssh.com: no', 'fallback', 't')",
                [],
            )
            .unwrap();
        assert_eq!(
            j.server_offer().unwrap().map(|o| o.note),
            Some(Some("fallback".into()))
        );
        let local = crate::transport::local::LocalTransport::new(d.path());
        j.note_server_offer(&local).unwrap();
        assert_eq!(j.server_offer().unwrap(), None);
    }
}
