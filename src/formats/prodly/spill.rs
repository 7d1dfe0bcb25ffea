//! Grouping rows by key in bounded memory: a partitioned (grace) hash join on disk.
//!
//! Prodly wants one line per product carrying its prices and stock, while COMPO keeps products,
//! prices and remains in separate files in no particular order. Rows from all of them are
//! written to `partitions` spill files chosen by a hash of the key; each partition is then read
//! back alone and grouped in memory. Memory is therefore bounded by the largest partition, and
//! the partition count is chosen from the input size so that a partition stays near a budget.
//! With one partition the groups come out in first-seen order, i.e. in input order.

use super::ProdlyError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

/// Most spill files open at once per grouper; beyond it partitions would exceed their budget.
const MAX_PARTITIONS: usize = 512;

/// How many partitions keep each one near `budget` bytes when the inputs total `input_bytes`.
/// Spilled rows are much smaller than the COMPO records they come from, so the input size is an
/// upper estimate.
pub(crate) fn partitions_for(input_bytes: u64, budget: u64) -> usize {
    let budget = budget.max(1);
    (input_bytes.div_ceil(budget) as usize).clamp(1, MAX_PARTITIONS)
}

/// FNV-1a: stable across runs and platforms, so partitioned output order is reproducible.
fn hash(key: &str) -> u64 {
    key.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

pub(crate) struct Grouper<R> {
    paths: Vec<PathBuf>,
    writers: Vec<BufWriter<File>>,
    rows: u64,
    _row: PhantomData<R>,
}

impl<R: Serialize + DeserializeOwned> Grouper<R> {
    pub(crate) fn new(dir: &Path, name: &str, partitions: usize) -> Result<Self, ProdlyError> {
        let mut paths = Vec::new();
        let mut writers = Vec::new();
        for i in 0..partitions.max(1) {
            let p = dir.join(format!("{name}.{i}.jsonl"));
            let f = File::create(&p).map_err(|source| ProdlyError::Spill {
                path: p.clone(),
                source,
            })?;
            writers.push(BufWriter::with_capacity(1 << 15, f));
            paths.push(p);
        }
        Ok(Grouper {
            paths,
            writers,
            rows: 0,
            _row: PhantomData,
        })
    }

    pub(crate) fn partitions(&self) -> usize {
        self.paths.len()
    }

    pub(crate) fn add(&mut self, key: &str, row: &R) -> Result<(), ProdlyError> {
        let i = (hash(key) % self.writers.len() as u64) as usize;
        let w = &mut self.writers[i];
        let res = serde_json::to_writer(&mut *w, &(key, row))
            .map_err(io::Error::from)
            .and_then(|()| w.write_all(b"\n"));
        res.map_err(|source| ProdlyError::Spill {
            path: self.paths[i].clone(),
            source,
        })?;
        self.rows += 1;
        Ok(())
    }

    /// Calls `f(key, rows)` once per key, partition by partition, keys in first-seen order
    /// within a partition and rows in the order they were added. Removes the spill files.
    pub(crate) fn for_each_group<F>(self, mut f: F) -> Result<(), ProdlyError>
    where
        F: FnMut(String, Vec<R>) -> Result<(), ProdlyError>,
    {
        for (w, path) in self.writers.into_iter().zip(&self.paths) {
            let spill_err = |source: io::Error| ProdlyError::Spill {
                path: path.clone(),
                source,
            };
            w.into_inner()
                .map_err(|e| spill_err(e.into_error()))?
                .flush()
                .map_err(spill_err)?;
            let mut index: HashMap<String, usize> = HashMap::new();
            let mut groups: Vec<(String, Vec<R>)> = Vec::new();
            let reader = BufReader::with_capacity(1 << 16, File::open(path).map_err(spill_err)?);
            for line in reader.lines() {
                let line = line.map_err(spill_err)?;
                let (key, row): (String, R) = serde_json::from_str(&line)
                    .map_err(|e| spill_err(io::Error::new(io::ErrorKind::InvalidData, e)))?;
                match index.get(&key) {
                    Some(&i) => groups[i].1.push(row),
                    None => {
                        index.insert(key.clone(), groups.len());
                        groups.push((key, vec![row]));
                    }
                }
            }
            drop(index);
            for (key, rows) in groups {
                f(key, rows)?;
            }
            std::fs::remove_file(path).map_err(spill_err)?;
        }
        Ok(())
    }
}

/// A private folder for spill files, removed with everything in it when dropped.
pub(crate) struct SpillDir {
    path: PathBuf,
}

impl SpillDir {
    /// Creates `.prodly-spill-<pid>` inside `parent`: a dot name, so that folder watchers treat it
    /// as temporary (spec 3.1).
    pub(crate) fn create(parent: &Path) -> Result<SpillDir, ProdlyError> {
        let path = parent.join(format!(".prodly-spill-{}", std::process::id()));
        std::fs::create_dir_all(&path).map_err(|source| ProdlyError::Spill {
            path: path.clone(),
            source,
        })?;
        Ok(SpillDir { path })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SpillDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(partitions: usize, rows: &[(&str, u32)]) -> Vec<(String, Vec<u32>)> {
        let dir = tempfile::tempdir().unwrap();
        let mut g = Grouper::<u32>::new(dir.path(), "t", partitions).unwrap();
        for (k, v) in rows {
            g.add(k, v).unwrap();
        }
        let mut out = Vec::new();
        g.for_each_group(|k, v| {
            out.push((k, v));
            Ok(())
        })
        .unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        out
    }

    #[test]
    fn one_partition_keeps_first_seen_order() {
        let got = groups(1, &[("b", 1), ("a", 2), ("b", 3), ("c", 4), ("a", 5)]);
        assert_eq!(
            got,
            vec![
                ("b".to_string(), vec![1, 3]),
                ("a".to_string(), vec![2, 5]),
                ("c".to_string(), vec![4])
            ]
        );
    }

    #[test]
    fn many_partitions_give_the_same_groups() {
        let rows: Vec<(String, u32)> = (0..500).map(|i| (format!("k{}", i % 37), i)).collect();
        let refs: Vec<(&str, u32)> = rows.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        let mut one = groups(1, &refs);
        let mut many = groups(7, &refs);
        assert_eq!(many.len(), 37);
        one.sort();
        many.sort();
        assert_eq!(one, many);
    }

    #[test]
    fn partition_count_follows_the_budget() {
        assert_eq!(partitions_for(0, 100), 1);
        assert_eq!(partitions_for(100, 100), 1);
        assert_eq!(partitions_for(101, 100), 2);
        assert_eq!(partitions_for(u64::MAX, 1), MAX_PARTITIONS);
    }
}
