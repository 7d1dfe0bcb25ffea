//! Warnings for the operator that are not failures: something the processor repaired by
//! itself but someone should know about (a staged file the journal did not know, put back into
//! the outbox). Kept for `status`, which shows the recent ones.

use super::{Journal, Result};
use rusqlite::params;

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS warnings (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    topic TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS warnings_at ON warnings(at);
";

/// One warning.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Warning {
    /// RFC 3339, as the caller gave it.
    pub at: String,
    /// What it is about (`recover`, `outbox`...).
    pub topic: String,
    pub message: String,
}

impl Journal {
    /// Records a warning at `at` (RFC 3339 with offset).
    pub fn warn(&mut self, topic: &str, message: &str, at: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO warnings (at, topic, message) VALUES (?1, ?2, ?3)",
            params![at, topic, message],
        )?;
        Ok(())
    }

    /// Warnings recorded at or after `since` (RFC 3339), newest first, at most `limit`.
    pub fn warnings(&self, since: &str, limit: usize) -> Result<Vec<Warning>> {
        // Compared as instants: callers may write times with different offsets.
        let mut st = self.conn.prepare_cached(
            "SELECT at, topic, message FROM warnings WHERE julianday(at) >= julianday(?1) \
             ORDER BY julianday(at) DESC, id DESC LIMIT ?2",
        )?;
        let rows = st
            .query_map(params![since, limit as i64], |r| {
                Ok(Warning {
                    at: r.get(0)?,
                    topic: r.get(1)?,
                    message: r.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::journal;

    #[test]
    fn recent_warnings_come_newest_first_whatever_their_offset() {
        let (_d, mut j) = journal();
        j.warn("recover", "old", "2026-11-28T10:00:00Z").unwrap();
        j.warn(
            "recover",
            "state/staging/1-prices.json: unknown to the journal, put back into the outbox",
            "2026-11-30T12:00:00+03:00",
        )
        .unwrap();
        j.warn("outbox", "later", "2026-11-30T09:30:00Z").unwrap();
        let w = j.warnings("2026-11-30T00:00:00Z", 10).unwrap();
        let msgs: Vec<&str> = w.iter().map(|w| w.message.as_str()).collect();
        assert_eq!(msgs.len(), 2, "{msgs:?}");
        // 09:30Z is after 12:00+03:00 (09:00Z).
        assert_eq!(msgs[0], "later");
        assert!(msgs[1].contains("put back into the outbox"));
        assert_eq!(j.warnings("2026-11-01T00:00:00Z", 1).unwrap().len(), 1);
    }
}
