//! The files whose handling has ended, for `compo-exchange history`: what happened to each and
//! where it ended.

use super::{FileRow, Journal, Result, FILE_COLS};
use rusqlite::params;

impl Journal {
    /// Files that reached a final state (rejected, archived, acknowledged) at or after `since`
    /// (RFC 3339), newest first.
    pub fn ended_since(&self, since: &str) -> Result<Vec<FileRow>> {
        self.rows(
            &format!(
                "SELECT {FILE_COLS} FROM files WHERE state IN ('rejected','archived',\
                 'acknowledged') AND updated_at >= ?1 ORDER BY updated_at DESC, id DESC"
            ),
            params![since],
        )
    }
}
