//! The journal's tables and the upgrade of a journal written by an older release: each concern
//! declares its tables, and the layout number in SQLite's `user_version` says what an old
//! journal lacks.

use rusqlite::Connection;

/// The layout the tables below make, kept in SQLite's `user_version`. Layout 1 added
/// `files.final_path`; layout 2 the retry and health tables, layout 3 the warnings (created as
/// they are missing, no data to move); layout 4 the record store, which takes over the key sets
/// of `portal_keys`, and the record hashes of staged files; layout 5 the packed keys of staged
/// files (those staged before keep theirs as JSON, still read).
pub(super) const LAYOUT: i64 = 5;

/// Creates what is missing and brings a journal written by an older release to the current
/// layout, in one transaction: a supplier upgrades the binary and keeps the journal.
pub(super) fn upgrade(conn: &Connection) -> rusqlite::Result<()> {
    // IMMEDIATE: the write lock is taken (or waited for, up to the busy timeout) before the
    // first read. A deferred transaction that reads and then writes fails at once with "database
    // is locked" when another process opens the same journal at the same moment (a `status`
    // beside a starting daemon).
    let tx = rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)?;
    let existed: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'files')",
        [],
        |r| r.get(0),
    )?;
    let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if existed && version < 1 {
        // Layout 1: where an archived or rejected file ends is chosen before it moves.
        add_column(&tx, "files", "final_path", "TEXT")?;
    }
    if existed && version < 4 {
        add_column(&tx, "staged_keys", "records", "BLOB")?;
    }
    if existed && version < 5 {
        add_column(&tx, "staged_keys", "packed", "BLOB")?;
    }
    for tables in [
        super::files::SCHEMA,
        super::keys::SCHEMA,
        super::portal::SCHEMA,
        super::manifest::SCHEMA,
        super::progress::SCHEMA,
        super::retry::SCHEMA,
        super::warnings::SCHEMA,
    ] {
        tx.execute_batch(tables)?;
    }
    if version < 4 {
        super::portal::upgrade_keys(&tx)?;
    }
    if version < 5 {
        super::portal::upgrade_index(&tx)?;
    }
    if version < LAYOUT {
        tx.pragma_update(None, "user_version", LAYOUT)?;
    }
    tx.commit()
}

/// Whether `table` has `column` (false when there is no such table).
pub(super) fn has_column(conn: &Connection, table: &str, column: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2)",
        [table, column],
        |r| r.get(0),
    )
}

/// Adds `column` to an existing `table` of an older layout that lacks it; a table that does
/// not exist yet is created whole from its schema afterwards.
fn add_column(conn: &Connection, table: &str, column: &str, decl: &str) -> rusqlite::Result<()> {
    let table_exists: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
        [table],
        |r| r.get(0),
    )?;
    if table_exists && !has_column(conn, table, column)? {
        conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {decl}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{Journal, State};
    use super::*;

    #[test]
    fn a_journal_of_the_first_layout_is_upgraded_in_place() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("journal.db");
        {
            // The files table as the first release wrote it: no final_path, user_version 0.
            let c = Connection::open(&path).unwrap();
            c.execute_batch(
                "CREATE TABLE files (id INTEGER PRIMARY KEY, origin TEXT NOT NULL, \
                 name TEXT NOT NULL, data_type TEXT, snapshot INTEGER NOT NULL DEFAULT 0, \
                 size INTEGER NOT NULL, hash TEXT NOT NULL, state TEXT NOT NULL, \
                 work_path TEXT, staged_path TEXT, target_name TEXT, outcome TEXT, \
                 errors INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, \
                 updated_at TEXT NOT NULL);
                 INSERT INTO files (origin, name, size, hash, state, created_at, updated_at) \
                 VALUES ('outbox', 'prices.json', 3, 'h', 'staged', 't', 't');",
            )
            .unwrap();
        }
        let j = Journal::open(&path).unwrap();
        let rows = j.unfinished().unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (rows[0].name.as_str(), rows[0].final_path.clone()),
            ("prices.json", None)
        );
        let v: i64 = j
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, LAYOUT);
        drop(j);
        // Opening again changes nothing.
        assert_eq!(Journal::open(&path).unwrap().unfinished().unwrap().len(), 1);
    }

    #[test]
    fn a_journal_of_layout_1_gains_the_retry_tables() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("journal.db");
        {
            let c = Connection::open(&path).unwrap();
            for t in [super::super::files::SCHEMA, super::super::keys::SCHEMA] {
                c.execute_batch(t).unwrap();
            }
            c.pragma_update(None, "user_version", 1).unwrap();
            c.execute_batch(
                "INSERT INTO files (origin, name, size, hash, state, created_at, updated_at) \
                 VALUES ('outbox', 'prices.json', 3, 'h', 'publishing', 't', 't');",
            )
            .unwrap();
        }
        let mut j = Journal::open(&path).unwrap();
        let id = j.unfinished().unwrap()[0].id;
        assert_eq!(j.unfinished().unwrap()[0].state, State::Publishing);
        j.note_failure(id, "in/: not found", "2026-11-30T10:00:00+00:00")
            .unwrap();
        assert_eq!(j.failures().unwrap()[0].name, "prices.json");
        let v: i64 = j
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, LAYOUT);
    }

    #[test]
    fn the_key_sets_of_layout_3_become_a_store_in_doubt() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("journal.db");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(super::super::files::SCHEMA).unwrap();
            c.execute_batch(
                "CREATE TABLE staged_keys (file_id INTEGER PRIMARY KEY, upserts TEXT NOT NULL, \
                 deletions TEXT NOT NULL);
                 CREATE TABLE portal_keys (data_type TEXT PRIMARY KEY, keys TEXT NOT NULL, \
                 count INTEGER NOT NULL, updated_at TEXT NOT NULL);
                 INSERT INTO portal_keys VALUES ('products', '[\"P-1\",\"P-2\"]', 2, 't');",
            )
            .unwrap();
            c.pragma_update(None, "user_version", 3).unwrap();
        }
        let j = Journal::open(&path).unwrap();
        let h = j
            .holding(crate::compo::model::DataType::Products)
            .unwrap()
            .expect("the keys were carried over");
        assert_eq!(h.entries.len(), 2);
        assert!(
            h.complete,
            "a published snapshot's keys are all the portal has"
        );
        assert!(
            !h.vouched(),
            "without hashes the store cannot vouch for the records"
        );
        assert!(h.entries.contains_key("P-2"));
        let gone: bool = j
            .conn
            .query_row(
                "SELECT NOT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'portal_keys')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(gone);
        // The staged keys gained the hashes (layout 4) and the packed form (layout 5).
        j.conn
            .prepare("SELECT records, packed FROM staged_keys")
            .expect("both columns were added");
    }

    #[test]
    fn a_layout_4_store_keeps_its_index_in_a_table_of_its_own() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("journal.db");
        // One entry as layout 4 wrote it inside portal_state: version 1, a count of 1, key
        // "P-1", its hash, layer 0, line 2.
        let mut blob = vec![1u8];
        blob.extend_from_slice(&1u64.to_le_bytes());
        blob.extend_from_slice(&3u16.to_le_bytes());
        blob.extend_from_slice(b"P-1");
        blob.extend_from_slice(&77u128.to_le_bytes());
        blob.extend_from_slice(&0u32.to_le_bytes());
        blob.extend_from_slice(&2u32.to_le_bytes());
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(super::super::files::SCHEMA).unwrap();
            c.execute_batch(
                "CREATE TABLE staged_keys (file_id INTEGER PRIMARY KEY, upserts TEXT NOT NULL, \
                 deletions TEXT NOT NULL, records BLOB);
                 CREATE TABLE portal_state (data_type TEXT PRIMARY KEY, entries BLOB NOT NULL, \
                 count INTEGER NOT NULL, layers TEXT NOT NULL, next_layer INTEGER NOT NULL, \
                 complete INTEGER NOT NULL, doubt TEXT, full_at TEXT, verified_at TEXT, \
                 last_publish TEXT, updated_at TEXT NOT NULL);",
            )
            .unwrap();
            c.execute(
                "INSERT INTO portal_state VALUES ('products', ?1, 1, '[0]', 1, 1, NULL, 't', \
                 't', NULL, 't')",
                [&blob],
            )
            .unwrap();
            c.pragma_update(None, "user_version", 4).unwrap();
        }
        let j = Journal::open(&path).unwrap();
        let h = j
            .holding(crate::compo::model::DataType::Products)
            .unwrap()
            .expect("the index moved with its type");
        assert!(
            h.vouched(),
            "nothing about the move puts the store in doubt"
        );
        let e = h.entries["P-1"];
        assert_eq!((e.hash(), e.layer, e.line), (77, 0, 2));
        assert_eq!(h.layers, [0]);
        let inline: bool = j
            .conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM pragma_table_info('portal_state') \
                 WHERE name = 'entries')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(!inline, "the old column is dropped");
    }
}
