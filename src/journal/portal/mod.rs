//! What the portal holds of each data type, record by record: the record store.
//!
//! For every record the portal has, the store keeps its key, the hash of its canonical form and
//! the layer file that holds its text. Layers are the files as they were published (a snapshot
//! starts a new base; each delta adds a layer on top), kept under `state/portal/<type>/`, so the
//! record texts cost no second write: the staged copy is linked in. The index (key → hash,
//! layer) is one blob per type in SQLite, written in the same transaction that marks a file
//! published, so the store never disagrees with what the journal says reached the portal.
//!
//! Two readers use it: changes-only publishing compares a new snapshot's hashes with the index
//! (`pipeline::changes`), and the Prodly bodies read the records of each type as the portal has
//! them after a publish ([`Journal::portal_records`]).
//!
//! [`index`] encodes the index; [`layers`] keeps the layer files.

mod index;
pub mod layers;

pub use index::{Entries, Entry, Holding};

use super::{Journal, JournalError, Result};
use crate::compo::model::DataType;
use rusqlite::{params, OptionalExtension};

/// The index is a table of its own with the blob as its last column: SQLite makes a row with a
/// zero-filled blob there without building the zeros in memory, and then takes the bytes a
/// buffer at a time ([`super::blobs`]). Anywhere else in a row it would build them whole.
pub(in crate::journal) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS portal_index (
    data_type TEXT PRIMARY KEY,
    entries BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS portal_state (
    data_type TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    layers TEXT NOT NULL,
    next_layer INTEGER NOT NULL,
    complete INTEGER NOT NULL,
    doubt TEXT,
    full_at TEXT,
    verified_at TEXT,
    last_publish TEXT,
    updated_at TEXT NOT NULL
);
";

/// What one publish changed on the portal, as `status` and the log show it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PublishFigures {
    /// "snapshot" or "delta" (a file from the ERP or a delta made from a snapshot).
    pub form: String,
    /// Made from a snapshot by changes-only publishing.
    #[serde(default)]
    pub from_snapshot: bool,
    pub changed: u64,
    pub added: u64,
    pub deleted: u64,
    /// Records the portal holds afterwards.
    pub total: u64,
    pub at: String,
}

impl Journal {
    /// What the portal holds of `t`; `None` when nothing of it was ever published.
    pub fn holding(&self, t: DataType) -> Result<Option<Holding>> {
        type Row = (
            i64,
            String,
            i64,
            i64,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let row: Option<Row> = self
            .conn
            .query_row(
                "SELECT i.rowid, s.layers, s.next_layer, s.complete, s.doubt, s.full_at, \
                 s.verified_at FROM portal_state s JOIN portal_index i USING (data_type) \
                 WHERE s.data_type = ?1",
                [t.name()],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                    ))
                },
            )
            .optional()?;
        let Some((rowid, layers, next_layer, complete, doubt, full_at, verified_at)) = row else {
            return Ok(None);
        };
        let corrupt = |what: String| JournalError::Store {
            data_type: t.name().into(),
            what,
        };
        let mut blob = super::blobs::open(&self.conn, "portal_index", "entries", rowid)?;
        let size = blob.get_ref().len();
        let entries = index::read(&mut blob, size).map_err(corrupt)?;
        let layers: Vec<u32> =
            serde_json::from_str(&layers).map_err(|e| corrupt(format!("layers: {e}")))?;
        Ok(Some(Holding {
            entries,
            layers,
            next_layer: next_layer as u32,
            complete: complete != 0,
            doubt,
            full_at,
            verified_at,
        }))
    }

    /// Records that a file reached the portal: its state moves to `published`, the store of its
    /// type becomes `holding` and `figures` are kept for `status`, in one transaction.
    pub fn publish(
        &mut self,
        id: i64,
        t: DataType,
        holding: &Holding,
        figures: &PublishFigures,
        update: super::Update<'_>,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT OR REPLACE INTO portal_state (data_type, count, layers, next_layer, \
             complete, doubt, full_at, verified_at, last_publish, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                t.name(),
                holding.entries.len() as i64,
                serde_json::to_string(&holding.layers).expect("numbers serialise"),
                holding.next_layer as i64,
                holding.complete as i64,
                holding.doubt,
                holding.full_at,
                holding.verified_at,
                serde_json::to_string(figures).expect("figures serialise"),
                figures.at,
            ],
        )?;
        put_index(&tx, t.name(), &holding.entries)?;
        tx.execute("DELETE FROM staged_keys WHERE file_id = ?1", [id])?;
        Self::transition_in(&tx, id, super::State::Published, update)?;
        tx.commit()?;
        Ok(())
    }

    /// Replaces the layers of `t` (a compaction wrote them into one): the index moves with them.
    pub fn relayer(&mut self, t: DataType, holding: &Holding) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE portal_state SET layers = ?2, next_layer = ?3 WHERE data_type = ?1",
            params![
                t.name(),
                serde_json::to_string(&holding.layers).expect("numbers serialise"),
                holding.next_layer as i64
            ],
        )?;
        put_index(&tx, t.name(), &holding.entries)?;
        tx.commit()?;
        Ok(())
    }

    /// Notes that the store of `t` may not match the portal (why: shown by `status`), so that
    /// the next publish of a changes-only type sends a full snapshot.
    pub fn doubt(&mut self, t: DataType, why: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE portal_state SET doubt = ?2 WHERE data_type = ?1 AND doubt IS NULL",
            params![t.name(), why],
        )?;
        Ok(())
    }

    /// Notes that the store of `t` was checked against its layers at `at`.
    pub fn set_verified(&mut self, t: DataType, at: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE portal_state SET verified_at = ?2 WHERE data_type = ?1",
            params![t.name(), at],
        )?;
        Ok(())
    }

    /// What the last publish of each type changed, for `status`.
    pub fn last_publishes(&self) -> Result<Vec<(String, PublishFigures, Option<String>)>> {
        let mut st = self.conn.prepare_cached(
            "SELECT data_type, last_publish, doubt FROM portal_state \
             WHERE last_publish IS NOT NULL ORDER BY data_type",
        )?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows
            .into_iter()
            .filter_map(|(t, f, d)| serde_json::from_str(&f).ok().map(|f| (t, f, d)))
            .collect())
    }

    /// Where the layer files of the store live.
    pub fn store_dir(&self) -> &std::path::Path {
        &self.store_dir
    }
}

/// Writes the index of type `t`, streamed into a blob of the size it takes.
fn put_index(conn: &rusqlite::Connection, t: &str, entries: &Entries) -> Result<()> {
    let len = index::encoded_len(entries);
    conn.execute(
        "INSERT OR REPLACE INTO portal_index (data_type, entries) VALUES (?1, ?2)",
        params![t, super::blobs::zeroed(len, "portal_index", "entries")?],
    )?;
    super::blobs::fill(
        conn,
        "portal_index",
        "entries",
        conn.last_insert_rowid(),
        |w| index::write(entries, w),
    )
}

/// Brings the key sets of a journal of layout 3 or older into the store: the keys without
/// hashes or record texts, in doubt, so that the first publish of a changes-only type is full.
pub(in crate::journal) fn upgrade_keys(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    let had: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'portal_keys')",
        [],
        |r| r.get(0),
    )?;
    if !had {
        return Ok(());
    }
    let rows: Vec<(String, String, String)> = tx
        .prepare("SELECT data_type, keys, updated_at FROM portal_keys")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (t, keys, at) in rows {
        let Ok(keys) = serde_json::from_str::<Vec<String>>(&keys) else {
            continue;
        };
        let entries = keys
            .into_iter()
            .map(|k| (k.into_boxed_str(), Entry::UNKNOWN))
            .collect::<index::Entries>();
        tx.execute(
            "INSERT OR REPLACE INTO portal_state (data_type, count, layers, next_layer, \
             complete, doubt, full_at, last_publish, updated_at) \
             VALUES (?1, ?2, '[]', 0, 1, ?3, NULL, NULL, ?4)",
            params![
                t,
                entries.len() as i64,
                "the journal was written by an older release, which kept keys only",
                at
            ],
        )?;
        put_index(tx, &t, &entries).map_err(to_sql)?;
    }
    tx.execute_batch("DROP TABLE portal_keys")
}

/// Moves the indexes of a layout-4 journal out of `portal_state` into `portal_index`.
pub(in crate::journal) fn upgrade_index(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    if super::schema::has_column(tx, "portal_state", "entries")? {
        tx.execute_batch(
            "INSERT OR REPLACE INTO portal_index (data_type, entries) \
             SELECT data_type, entries FROM portal_state;
             ALTER TABLE portal_state DROP COLUMN entries;",
        )?;
    }
    Ok(())
}

/// The upgrade runs in SQLite's error type; a store error travels inside it.
fn to_sql(e: JournalError) -> rusqlite::Error {
    match e {
        JournalError::Sql(e) => e,
        other => rusqlite::Error::ToSqlConversionFailure(Box::new(other)),
    }
}
