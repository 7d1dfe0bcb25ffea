//! The key changes a staged file will make when it is published: its upserted keys with their
//! records' places and hashes, and the keys it deletes.
//!
//! The upserts are kept packed (`packed`, streamed in and out by [`super::blobs`]); a file
//! staged by a release before layout 5 has them as JSON (`upserts`) and its hashes apart.

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
    records BLOB,
    packed BLOB
);
";

/// The keys of one type: millions of short ids, looked up for every reference.
pub type KeySet = FxHashSet<String>;

/// The record places and hashes a release of layout 4 kept beside the JSON upserts: per upsert,
/// its index (u64) and hash (u128), little-endian.
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
        // `upserts` is left empty: a release before layout 5, which reads only that column,
        // then fails on the row instead of taking the file for one without keys.
        tx.execute(
            "INSERT OR REPLACE INTO staged_keys (file_id, upserts, deletions, records, packed) \
             VALUES (?1, '', ?2, NULL, ?3)",
            params![
                id,
                serde_json::to_string(&keys.deletions).expect("strings serialise"),
                super::blobs::zeroed(keys.packed_len(), "staged_keys", "packed")?,
            ],
        )?;
        super::blobs::fill(tx, "staged_keys", "packed", id, |w| keys.write_packed(w))?;
        tx.execute(
            "UPDATE files SET snapshot = ?2 WHERE id = ?1",
            params![id, keys.snapshot as i64],
        )?;
        Ok(())
    }

    /// The key changes recorded when a file was staged. A file staged by an older release has
    /// no record hashes: its records then count as unknown (index 0, hash 0).
    pub fn staged_keys(&self, id: i64) -> Result<Option<KeyChanges>> {
        // upserts (JSON before layout 5), deletions, layout 4's hashes, packed?, snapshot
        type Row = (String, String, Option<Vec<u8>>, bool, i64);
        let row: Option<Row> = self
            .conn
            .query_row(
                "SELECT k.upserts, k.deletions, \
                 CASE WHEN k.packed IS NULL THEN k.records END, k.packed IS NOT NULL, \
                 f.snapshot FROM staged_keys k \
                 JOIN files f ON f.id = k.file_id WHERE k.file_id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()?;
        let Some((u, d, records, packed, snap)) = row else {
            return Ok(None);
        };
        let parse = |s: &str| {
            serde_json::from_str::<Vec<String>>(s).map_err(|source| JournalError::Keys {
                data_type: format!("file {id}"),
                source,
            })
        };
        let deletions = parse(&d)?;
        if packed {
            let damaged = |what: String| JournalError::Blob {
                table: "staged_keys".into(),
                column: format!("packed of file {id}"),
                what,
            };
            let mut r = super::blobs::open(&self.conn, "staged_keys", "packed", id)?;
            let size = r.get_ref().len();
            return KeyChanges::read_packed(snap != 0, &mut r, size, deletions)
                .map_err(|e| damaged(e.to_string()))?
                .ok_or_else(|| damaged("not well formed".into()))
                .map(Some);
        }
        let upserts = parse(&u)?;
        let records = records
            .as_deref()
            .and_then(decode_records)
            .filter(|r| r.len() == upserts.len());
        let mut keys = KeyChanges::new(snap != 0);
        keys.reserve(upserts.len(), upserts.iter().map(String::len).sum());
        for (i, k) in upserts.iter().enumerate() {
            let (index, hash) = records.as_ref().map_or((0, 0), |r| r[i]);
            keys.push(k, index, hash);
        }
        keys.deletions = deletions;
        Ok(Some(keys))
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
        let mut changes = KeyChanges::new(true);
        changes.push("a", 0, u128::MAX);
        changes.push("b", 1, 5);
        changes.deletions.push("c".into());
        j.stage(id, &changes, Update::default()).unwrap();
        assert_eq!(j.staged("products").unwrap().len(), 1);
        assert_eq!(j.staged_keys(id).unwrap().unwrap(), changes);
        j.forget_keys(id).unwrap();
        assert_eq!(j.staged_keys(id).unwrap(), None);
    }

    #[test]
    fn keys_staged_by_layout_4_are_still_read() {
        let (_d, mut j) = journal();
        let id = j.begin(&new_file("products.json"), State::Claimed).unwrap();
        j.stage(id, &KeyChanges::new(true), Update::default())
            .unwrap();
        let mut records = Vec::new();
        for (i, h) in [(0u64, 7u128), (3, u128::MAX)] {
            records.extend_from_slice(&i.to_le_bytes());
            records.extend_from_slice(&h.to_le_bytes());
        }
        j.conn
            .execute(
                "UPDATE staged_keys SET upserts = '[\"a\",\"b\"]', deletions = '[\"z\"]', \
                 records = ?2, packed = NULL WHERE file_id = ?1",
                params![id, records],
            )
            .unwrap();
        let k = j.staged_keys(id).unwrap().unwrap();
        let got: Vec<_> = k.upserts().map(|u| (u.key, u.index, u.hash)).collect();
        assert_eq!(got, [("a", 0, 7), ("b", 3, u128::MAX)]);
        assert_eq!(k.deletions, ["z"]);
        // Without the hashes (layout 3), the records count as unknown.
        j.conn
            .execute(
                "UPDATE staged_keys SET records = NULL WHERE file_id = ?1",
                [id],
            )
            .unwrap();
        let k = j.staged_keys(id).unwrap().unwrap();
        assert!(k.upserts().all(|u| u.hash == 0 && u.index == 0));
    }
}
