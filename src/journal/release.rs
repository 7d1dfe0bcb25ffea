//! Snapshots an operator let through the mass-deletion guard (`compo-exchange release NAME`),
//! remembered by file name and content hash until that very file is taken again.

use super::{Journal, Result};
use rusqlite::params;

impl Journal {
    fn ensure_releases(&self) -> Result<()> {
        // Created on first use: journals of every earlier layout get it without an upgrade step.
        self.conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS releases (
                name TEXT NOT NULL,
                hash TEXT NOT NULL,
                released_at TEXT NOT NULL,
                PRIMARY KEY (name, hash)
            )",
        )?;
        Ok(())
    }

    /// Lets the file `name` with content `hash` through the mass-deletion guard once.
    pub fn add_release(&mut self, name: &str, hash: &str) -> Result<()> {
        self.ensure_releases()?;
        self.conn.execute(
            "INSERT OR REPLACE INTO releases (name, hash, released_at) VALUES (?1, ?2, ?3)",
            params![name, hash, super::now()],
        )?;
        Ok(())
    }

    /// Whether the file was released; the release is used up. A release is for one content:
    /// an edited file is guarded again.
    pub fn take_release(&mut self, name: &str, hash: &str) -> Result<bool> {
        self.ensure_releases()?;
        let n = self.conn.execute(
            "DELETE FROM releases WHERE name = ?1 AND hash = ?2",
            params![name, hash],
        )?;
        Ok(n > 0)
    }
}
