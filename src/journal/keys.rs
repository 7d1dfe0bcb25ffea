//! What the portal holds of each data type (its key set), and the key changes a staged file
//! will make when it is published.

use super::files::Update;
use super::{now, Journal, JournalError, Result, State};
use crate::compo::model::DataType;
use crate::compo::validate::KeyChanges;
use rusqlite::{params, OptionalExtension};
use rustc_hash::FxHashSet;

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS staged_keys (
    file_id INTEGER PRIMARY KEY REFERENCES files(id),
    upserts TEXT NOT NULL,
    deletions TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS portal_keys (
    data_type TEXT PRIMARY KEY,
    keys TEXT NOT NULL,
    count INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);
";

/// The keys of one type: millions of short ids, looked up for every reference.
pub type KeySet = FxHashSet<String>;

impl Journal {
    /// Marks a file staged and records the keys it will add or remove, atomically.
    pub fn stage(&mut self, id: i64, keys: &KeyChanges, update: Update<'_>) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT OR REPLACE INTO staged_keys (file_id, upserts, deletions) VALUES (?1, ?2, ?3)",
            params![
                id,
                serde_json::to_string(&keys.upserts).expect("strings serialise"),
                serde_json::to_string(&keys.deletions).expect("strings serialise"),
            ],
        )?;
        tx.execute(
            "UPDATE files SET snapshot = ?2 WHERE id = ?1",
            params![id, keys.snapshot as i64],
        )?;
        Self::transition_in(&tx, id, State::Staged, update)?;
        tx.commit()?;
        Ok(())
    }

    /// The key changes recorded when a file was staged.
    pub fn staged_keys(&self, id: i64) -> Result<Option<KeyChanges>> {
        let row: Option<(String, String, i64)> = self
            .conn
            .query_row(
                "SELECT k.upserts, k.deletions, f.snapshot FROM staged_keys k \
                 JOIN files f ON f.id = k.file_id WHERE k.file_id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((u, d, snap)) = row else {
            return Ok(None);
        };
        let parse = |s: &str| {
            serde_json::from_str::<Vec<String>>(s).map_err(|source| JournalError::Keys {
                data_type: format!("file {id}"),
                source,
            })
        };
        Ok(Some(KeyChanges {
            snapshot: snap != 0,
            upserts: parse(&u)?,
            deletions: parse(&d)?,
        }))
    }

    /// The keys the portal has of a type; `None` when no snapshot of it was ever published.
    pub fn portal_keys(&self, t: DataType) -> Result<Option<KeySet>> {
        let s: Option<String> = self
            .conn
            .query_row(
                "SELECT keys FROM portal_keys WHERE data_type = ?1",
                [t.name()],
                |r| r.get(0),
            )
            .optional()?;
        s.map(|s| {
            serde_json::from_str::<KeySet>(&s).map_err(|source| JournalError::Keys {
                data_type: t.name().into(),
                source,
            })
        })
        .transpose()
    }

    /// Records that a staged file reached the portal: its state moves to `published` and the
    /// portal's key set of its type takes its changes, in one transaction.
    pub fn publish(
        &mut self,
        id: i64,
        t: DataType,
        keys: Option<&KeySet>,
        update: Update<'_>,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        if let Some(keys) = keys {
            tx.execute(
                "INSERT OR REPLACE INTO portal_keys (data_type, keys, count, updated_at) \
                 VALUES (?1, ?2, ?3, ?4)",
                params![
                    t.name(),
                    serde_json::to_string(keys).expect("strings serialise"),
                    keys.len() as i64,
                    now()
                ],
            )?;
        }
        tx.execute("DELETE FROM staged_keys WHERE file_id = ?1", [id])?;
        Self::transition_in(&tx, id, State::Published, update)?;
        tx.commit()?;
        Ok(())
    }

    /// Drops the key changes of a file that will not be published.
    pub fn forget_keys(&mut self, id: i64) -> Result<()> {
        self.conn
            .execute("DELETE FROM staged_keys WHERE file_id = ?1", [id])?;
        Ok(())
    }
}

/// Applies a file's key changes to a key set.
pub fn apply_keys(set: &mut KeySet, changes: &KeyChanges) {
    if changes.snapshot {
        set.clear();
    }
    for d in &changes.deletions {
        set.remove(d);
    }
    set.extend(changes.upserts.iter().cloned());
}

#[cfg(test)]
mod tests {
    use super::super::testing::{journal, new_file};
    use super::super::Origin;
    use super::*;

    #[test]
    fn publishing_moves_keys_into_the_portal_set() {
        let (_d, mut j) = journal();
        let id = j.begin(&new_file("products.json"), State::Claimed).unwrap();
        let changes = KeyChanges {
            snapshot: true,
            upserts: vec!["a".into(), "b".into()],
            deletions: vec![],
        };
        j.stage(id, &changes, Update::default()).unwrap();
        assert_eq!(j.staged("products").unwrap().len(), 1);
        assert_eq!(j.staged_keys(id).unwrap().unwrap(), changes);
        assert_eq!(j.portal_keys(DataType::Products).unwrap(), None);
        // Published only after its upload: straight from staged is refused.
        let mut set = KeySet::default();
        apply_keys(&mut set, &changes);
        assert!(j
            .publish(id, DataType::Products, Some(&set), Update::default())
            .is_err());
        assert_eq!(j.portal_keys(DataType::Products).unwrap(), None);
        for s in [State::Publishing, State::Uploaded] {
            j.transition(id, s, Update::default()).unwrap();
        }
        j.publish(id, DataType::Products, Some(&set), Update::default())
            .unwrap();
        assert_eq!(j.portal_keys(DataType::Products).unwrap(), Some(set));
        assert_eq!(j.staged_keys(id).unwrap(), None);
        assert_eq!(
            j.last_done(Origin::Outbox, "products.json")
                .unwrap()
                .unwrap()
                .id,
            id
        );
    }

    #[test]
    fn key_changes_apply_as_snapshot_or_delta() {
        let mut set: KeySet = ["a", "b"].iter().map(|s| s.to_string()).collect();
        apply_keys(
            &mut set,
            &KeyChanges {
                snapshot: false,
                upserts: vec!["c".into()],
                deletions: vec!["a".into()],
            },
        );
        let mut v: Vec<_> = set.iter().cloned().collect();
        v.sort();
        assert_eq!(v, ["b", "c"]);
        apply_keys(
            &mut set,
            &KeyChanges {
                snapshot: true,
                upserts: vec!["z".into()],
                deletions: vec![],
            },
        );
        assert_eq!(set.len(), 1);
    }
}
