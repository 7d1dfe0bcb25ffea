//! The attached-file manifest: what the server holds of each mirror folder, when it was last
//! verified, and the attached files rejected (so that an unchanged bad file is reported once).

use super::{now, Journal, Result};
use crate::compo::model::AttachedFolder;
use rusqlite::{params, OptionalExtension};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS manifest (
    folder TEXT NOT NULL,
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    hash TEXT NOT NULL,
    published_at TEXT NOT NULL,
    PRIMARY KEY (folder, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS attached_rejections (
    folder TEXT NOT NULL,
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (folder, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS mirror_verified (
    folder TEXT PRIMARY KEY,
    at TEXT NOT NULL
);
";

/// What the server has of one attached file.
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestEntry {
    pub folder: AttachedFolder,
    pub name: String,
    pub size: u64,
    /// Local modification time (ns since the epoch) when it was last hashed.
    pub mtime_ns: i64,
    pub hash: String,
    pub published_at: String,
}

impl Journal {
    pub fn manifest(&self, folder: AttachedFolder) -> Result<Vec<ManifestEntry>> {
        let mut st = self.conn.prepare_cached(
            "SELECT name, size, mtime_ns, hash, published_at FROM manifest WHERE folder = ?1",
        )?;
        let rows = st
            .query_map([folder.name()], |r| {
                Ok(ManifestEntry {
                    folder,
                    name: r.get(0)?,
                    size: r.get::<_, i64>(1)? as u64,
                    mtime_ns: r.get(2)?,
                    hash: r.get(3)?,
                    published_at: r.get(4)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Records entries in one transaction (a sync of many files commits in groups).
    pub fn manifest_put(&mut self, entries: &[ManifestEntry]) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut st = tx.prepare_cached(
                "INSERT OR REPLACE INTO manifest (folder, name, size, mtime_ns, hash, \
                 published_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for e in entries {
                st.execute(params![
                    e.folder.name(),
                    e.name,
                    e.size as i64,
                    e.mtime_ns,
                    e.hash,
                    e.published_at
                ])?;
            }
            let mut clear = tx.prepare_cached(
                "DELETE FROM attached_rejections WHERE folder = ?1 AND name = ?2",
            )?;
            for e in entries {
                clear.execute(params![e.folder.name(), e.name])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    pub fn manifest_remove(&mut self, folder: AttachedFolder, names: &[String]) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut st =
                tx.prepare_cached("DELETE FROM manifest WHERE folder = ?1 AND name = ?2")?;
            for n in names {
                st.execute(params![folder.name(), n])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// When the server's copy of a mirror folder was last compared with the manifest.
    pub fn mirror_verified(&self, folder: AttachedFolder) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT at FROM mirror_verified WHERE folder = ?1",
                [folder.name()],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub fn set_mirror_verified(&mut self, folder: AttachedFolder, at: &str) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO mirror_verified (folder, at) VALUES (?1, ?2)",
            params![folder.name(), at],
        )?;
        Ok(())
    }

    /// The (size, mtime) at which an attached file was last rejected, so that an unchanged bad
    /// file is reported once, not at every tick.
    pub fn attached_rejection(
        &self,
        folder: AttachedFolder,
        name: &str,
    ) -> Result<Option<(u64, i64)>> {
        Ok(self
            .conn
            .query_row(
                "SELECT size, mtime_ns FROM attached_rejections WHERE folder = ?1 AND name = ?2",
                params![folder.name(), name],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)),
            )
            .optional()?)
    }

    pub fn attached_reject(
        &mut self,
        folder: AttachedFolder,
        name: &str,
        size: u64,
        mtime_ns: i64,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO attached_rejections (folder, name, size, mtime_ns, at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![folder.name(), name, size as i64, mtime_ns, now()],
        )?;
        Ok(())
    }

    /// Attached files rejected since `since`.
    pub fn attached_rejections_since(&self, since: &str) -> Result<u64> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM attached_rejections WHERE at >= ?1",
            [since],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::journal;
    use super::*;

    #[test]
    fn manifest_round_trip_and_rejections() {
        let (_d, mut j) = journal();
        let e = ManifestEntry {
            folder: AttachedFolder::Pictures,
            name: "a.png".into(),
            size: 5,
            mtime_ns: 7,
            hash: "h".into(),
            published_at: now(),
        };
        j.attached_reject(AttachedFolder::Pictures, "a.png", 5, 6)
            .unwrap();
        assert_eq!(
            j.attached_rejection(AttachedFolder::Pictures, "a.png")
                .unwrap(),
            Some((5, 6))
        );
        j.manifest_put(std::slice::from_ref(&e)).unwrap();
        assert_eq!(j.manifest(AttachedFolder::Pictures).unwrap(), vec![e]);
        assert_eq!(
            j.attached_rejection(AttachedFolder::Pictures, "a.png")
                .unwrap(),
            None
        );
        j.manifest_remove(AttachedFolder::Pictures, &["a.png".into()])
            .unwrap();
        assert!(j.manifest(AttachedFolder::Pictures).unwrap().is_empty());
    }
}
