//! What the notifier has told, per channel, so that each event of each file is sent once even
//! across restarts; and from when on events count (the first time notifications ran), so that
//! turning them on does not announce every old rejection.

use super::{now, Journal, Result};
use rusqlite::{params, OptionalExtension};
use std::collections::HashSet;

impl Journal {
    fn ensure_notices(&self) -> Result<()> {
        // Created on first use: journals of every layout get them without an upgrade step.
        self.conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS notices (
                file_id INTEGER NOT NULL,
                event TEXT NOT NULL,
                channel TEXT NOT NULL,
                at TEXT NOT NULL,
                PRIMARY KEY (file_id, event, channel)
            );
            CREATE TABLE IF NOT EXISTS notices_start (
                channel TEXT PRIMARY KEY,
                since TEXT NOT NULL
            );",
        )?;
        Ok(())
    }

    /// When `channel` started notifying (set now on its first use): older events are not sent.
    pub fn notices_since(&mut self, channel: &str) -> Result<String> {
        self.ensure_notices()?;
        let read = |j: &Journal| {
            j.conn
                .query_row(
                    "SELECT since FROM notices_start WHERE channel = ?1",
                    [channel],
                    |r| r.get::<_, String>(0),
                )
                .optional()
        };
        // Read first: the notifier asks at every pass, and a write each time would compete
        // with the daemon's for nothing.
        if let Some(since) = read(self)? {
            return Ok(since);
        }
        self.conn.execute(
            "INSERT OR IGNORE INTO notices_start (channel, since) VALUES (?1, ?2)",
            params![channel, now()],
        )?;
        Ok(read(self)?.unwrap_or_else(now))
    }

    /// The (file, event) pairs already sent on `channel`.
    pub fn notices_sent(&mut self, channel: &str) -> Result<HashSet<(i64, String)>> {
        self.ensure_notices()?;
        let mut st = self
            .conn
            .prepare_cached("SELECT file_id, event FROM notices WHERE channel = ?1")?;
        let rows = st
            .query_map([channel], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<HashSet<_>>>()?;
        Ok(rows)
    }

    /// Records that these (file, event) pairs were sent on `channel`, in one transaction.
    pub fn note_notices(&mut self, channel: &str, sent: &[(i64, &str)]) -> Result<()> {
        self.ensure_notices()?;
        let at = now();
        let tx = self.conn.transaction()?;
        {
            let mut st = tx.prepare_cached(
                "INSERT OR IGNORE INTO notices (file_id, event, channel, at) VALUES (?1,?2,?3,?4)",
            )?;
            for (id, event) in sent {
                st.execute(params![id, event, channel, at])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::journal;

    #[test]
    fn sent_notices_are_kept_per_channel_and_the_start_does_not_move() {
        let (_d, mut j) = journal();
        let since = j.notices_since("webhook").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert_eq!(j.notices_since("webhook").unwrap(), since);
        assert!(j.notices_sent("webhook").unwrap().is_empty());
        j.note_notices("webhook", &[(1, "rejected"), (2, "stuck")])
            .unwrap();
        j.note_notices("webhook", &[(1, "rejected")]).unwrap();
        let sent = j.notices_sent("webhook").unwrap();
        assert_eq!(sent.len(), 2);
        assert!(sent.contains(&(1, "rejected".to_string())));
        assert!(j.notices_sent("command").unwrap().is_empty());
    }
}
