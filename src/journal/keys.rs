//! The key changes a staged file will make when it is published: its upserted keys with their
//! records' places and hashes, and the keys it deletes.

use super::files::Update;
use super::{Journal, JournalError, Result, State};
use crate::compo::validate::KeyChanges;
use rusqlite::{params, OptionalExtension};
use rustc_hash::FxHashSet;

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS staged_keys (
    file_id INTEGER PRIMARY KEY REFERENCES files(id),
    upserts TEXT NOT NULL,
    deletions TEXT NOT NULL,
    records BLOB
);
";

/// The keys of one type: millions of short ids, looked up for every reference.
pub type KeySet = FxHashSet<String>;

/// Per upsert: the record's index (u64) and hash (u128), little-endian.
fn encode_records(records: &[(u64, u128)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(records.len() * 24);
    for (i, h) in records {
        out.extend_from_slice(&i.to_le_bytes());
        out.extend_from_slice(&h.to_le_bytes());
    }
    out
}

fn decode_records(b: &[u8]) -> Option<Vec<(u64, u128)>> {
    if b.len() % 24 != 0 {
        return None;
    }
    Some(
        b.chunks_exact(24)
            .map(|c| {
                (
                    u64::from_le_bytes(c[..8].try_into().expect("8 bytes")),
                    u128::from_le_bytes(c[8..].try_into().expect("16 bytes")),
                )
            })
            .collect(),
    )
}

impl Journal {
    /// Marks a file staged and records the keys it will add or remove, atomically.
    pub fn stage(&mut self, id: i64, keys: &KeyChanges, update: Update<'_>) -> Result<()> {
        self.restage(id, keys, State::Staged, update)
    }

    /// Records a file's key changes with a transition, atomically: at staging, and again as a
    /// snapshot's publish begins as the delta of what changed.
    pub fn restage(
        &mut self,
        id: i64,
        keys: &KeyChanges,
        state: State,
        update: Update<'_>,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        Self::put_keys(&tx, id, keys)?;
        Self::transition_in(&tx, id, state, update)?;
        tx.commit()?;
        Ok(())
    }

    fn put_keys(tx: &rusqlite::Transaction<'_>, id: i64, keys: &KeyChanges) -> Result<()> {
        tx.execute(
            "INSERT OR REPLACE INTO staged_keys (file_id, upserts, deletions, records) \
             VALUES (?1, ?2, ?3, ?4)",
            params![
                id,
                serde_json::to_string(&keys.upserts).expect("strings serialise"),
                serde_json::to_string(&keys.deletions).expect("strings serialise"),
                encode_records(&keys.records),
            ],
        )?;
        tx.execute(
            "UPDATE files SET snapshot = ?2 WHERE id = ?1",
            params![id, keys.snapshot as i64],
        )?;
        Ok(())
    }

    /// The key changes recorded when a file was staged. A file staged by an older release has
    /// no record hashes: its records then count as unknown (index 0, hash 0).
    pub fn staged_keys(&self, id: i64) -> Result<Option<KeyChanges>> {
        let row: Option<(String, String, Option<Vec<u8>>, i64)> = self
            .conn
            .query_row(
                "SELECT k.upserts, k.deletions, k.records, f.snapshot FROM staged_keys k \
                 JOIN files f ON f.id = k.file_id WHERE k.file_id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((u, d, records, snap)) = row else {
            return Ok(None);
        };
        let parse = |s: &str| {
            serde_json::from_str::<Vec<String>>(s).map_err(|source| JournalError::Keys {
                data_type: format!("file {id}"),
                source,
            })
        };
        let upserts = parse(&u)?;
        let records = records
            .as_deref()
            .and_then(decode_records)
            .filter(|r| r.len() == upserts.len())
            .unwrap_or_else(|| vec![(0, 0); upserts.len()]);
        Ok(Some(KeyChanges {
            snapshot: snap != 0,
            upserts,
            records,
            deletions: parse(&d)?,
        }))
    }

    /// Drops the key changes of a file that will not be published.
    pub fn forget_keys(&mut self, id: i64) -> Result<()> {
        self.conn
            .execute("DELETE FROM staged_keys WHERE file_id = ?1", [id])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{journal, new_file};
    use super::*;

    #[test]
    fn staged_keys_keep_their_records_places_and_hashes() {
        let (_d, mut j) = journal();
        let id = j.begin(&new_file("products.json"), State::Claimed).unwrap();
        let changes = KeyChanges {
            snapshot: true,
            upserts: vec!["a".into(), "b".into()],
            records: vec![(0, u128::MAX), (1, 5)],
            deletions: vec![],
        };
        j.stage(id, &changes, Update::default()).unwrap();
        assert_eq!(j.staged("products").unwrap().len(), 1);
        assert_eq!(j.staged_keys(id).unwrap().unwrap(), changes);
        j.forget_keys(id).unwrap();
        assert_eq!(j.staged_keys(id).unwrap(), None);
    }
}
