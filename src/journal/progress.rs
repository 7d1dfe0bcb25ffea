//! Progress of long jobs (an attached-file sync of many files), for `status` and for the
//! start-up that finds a job cut off.

use super::{Journal, Result};
use rusqlite::params;

pub(super) const SCHEMA: &str = "
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

impl Journal {
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
