//! The store's layer files: the files as they were published, one record per line, kept under
//! `state/portal/<type>/<layer>.json`, and the reading of the records the portal holds from
//! them.
//!
//! A layer is added before the transaction that names it and removed after the one that stops
//! naming it, so a crash leaves at worst a file no index names: [`remove_unnamed`] clears those
//! at start-up.

use super::index::{Entry, Holding};
use crate::compo::model::DataType;
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};

/// The folder of one type's layers.
pub fn type_dir(store: &Path, t: DataType) -> PathBuf {
    store.join(t.name())
}

pub fn layer_path(store: &Path, t: DataType, layer: u32) -> PathBuf {
    type_dir(store, t).join(format!("{layer}.json"))
}

/// Makes `published` (a staged file: ours, never changed again) layer `layer` of `t`: a second
/// name for it where the file system allows, else a copy; on disk before this returns.
pub fn add(store: &Path, t: DataType, layer: u32, published: &Path) -> io::Result<()> {
    let dir = type_dir(store, t);
    std::fs::create_dir_all(&dir)?;
    let to = layer_path(store, t, layer);
    let _ = std::fs::remove_file(&to);
    if std::fs::hard_link(published, &to).is_err() {
        let tmp = dir.join(format!("{layer}.json.ce-tmp"));
        std::fs::copy(published, &tmp)?;
        std::fs::File::open(&tmp)?.sync_all()?;
        std::fs::rename(&tmp, &to)?;
    }
    std::fs::File::open(&dir)?.sync_all()
}

/// Removes the layer files of `t` that `keep` does not name (and leftovers of compactions).
pub fn remove_unnamed(store: &Path, t: DataType, keep: &[u32]) -> io::Result<()> {
    let rd = match std::fs::read_dir(type_dir(store, t)) {
        Ok(rd) => rd,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for e in rd.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        let named = name
            .strip_suffix(".json")
            .and_then(|n| n.parse::<u32>().ok())
            .is_some_and(|n| keep.contains(&n));
        if !named {
            std::fs::remove_file(e.path())?;
        }
    }
    Ok(())
}

/// The record on a layer's line (`record,` or `record`; `[` and `]` are not records).
fn record_of(line: &str) -> Option<&str> {
    let rec = line.trim_end().trim_end_matches(',');
    (!(rec.is_empty() || rec == "[" || rec == "]")).then_some(rec)
}

/// Calls `each` with the text of every record the portal holds of `t`, layer by layer, each
/// layer in its order. Fails when a layer the index names is missing or shorter than the index
/// says: the store then cannot vouch for the records.
pub fn for_each_record(
    store: &Path,
    t: DataType,
    holding: &Holding,
    each: &mut dyn FnMut(&str) -> io::Result<()>,
) -> io::Result<()> {
    for (layer, wanted) in wanted_lines(holding) {
        let path = layer_path(store, t, layer);
        let f = std::fs::File::open(&path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        let mut next = wanted.iter().copied().peekable();
        let mut index = 0u32;
        for line in io::BufReader::with_capacity(1 << 20, f).lines() {
            let line = line?;
            let Some(rec) = record_of(&line) else {
                continue;
            };
            if next.peek() == Some(&index) {
                next.next();
                each(rec)?;
            }
            index += 1;
            if next.peek().is_none() {
                break;
            }
        }
        if let Some(missing) = next.next() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "{}: record {missing} is named by the index but the layer ends before it",
                    path.display()
                ),
            ));
        }
    }
    Ok(())
}

/// Per layer (in order), the sorted lines the index points at.
fn wanted_lines(holding: &Holding) -> Vec<(u32, Vec<u32>)> {
    let mut per: rustc_hash::FxHashMap<u32, Vec<u32>> = Default::default();
    for e in holding.entries.values() {
        if e.layer != Entry::NO_LAYER {
            per.entry(e.layer).or_default().push(e.line);
        }
    }
    holding
        .layers
        .iter()
        .filter_map(|l| {
            per.remove(l).map(|mut v| {
                v.sort_unstable();
                (*l, v)
            })
        })
        .collect()
}

/// Checks the index of `t` against the texts of its layers: every record it names is there and
/// hashes as the index says. Returns the first difference found, in words; `Ok(None)` when
/// they agree. A disk that lost or damaged a layer, or a hand that edited one, shows here.
pub fn verify(store: &Path, t: DataType, holding: &Holding) -> io::Result<Option<String>> {
    let without_text = holding
        .entries
        .values()
        .filter(|e| e.layer == Entry::NO_LAYER)
        .count();
    if without_text > 0 {
        return Ok(Some(format!(
            "{without_text} records of {} have no text in the store",
            t.name()
        )));
    }
    let mut first: Option<String> = None;
    let r = for_each_record(store, t, holding, &mut |rec| {
        if first.is_some() {
            return Ok(());
        }
        let parsed: Option<serde_json::Map<String, serde_json::Value>> =
            serde_json::from_str(rec).ok();
        let Some(obj) = parsed else {
            first = Some(format!("a record of {} in the store is not JSON", t.name()));
            return Ok(());
        };
        let key = crate::compo::keys::key_of(t, &obj).unwrap_or_default();
        let hash = crate::compo::canonical::value_hash(&serde_json::Value::Object(obj));
        match holding.entries.get(key.as_str()) {
            Some(e) if e.hash() == hash => {}
            Some(_) => {
                first = Some(format!(
                    "the stored text of {} \"{key}\" does not hash as the index says",
                    t.name()
                ))
            }
            None => {
                first = Some(format!(
                    "the store holds a text of {} \"{key}\" that the index does not name",
                    t.name()
                ))
            }
        }
        Ok(())
    });
    match r {
        Ok(()) => Ok(first),
        Err(e)
            if e.kind() == io::ErrorKind::NotFound || e.kind() == io::ErrorKind::UnexpectedEof =>
        {
            Ok(Some(e.to_string()))
        }
        Err(e) => Err(e),
    }
}

/// Whether the layers of `t` are worth rewriting into one: more than four of them, holding at
/// least twice the bytes of the records the portal has (deltas pile up between snapshots).
pub fn worth_compacting(store: &Path, t: DataType, holding: &Holding) -> bool {
    if holding.layers.len() <= 4 {
        return false;
    }
    let bytes: u64 = holding
        .layers
        .iter()
        .filter_map(|l| std::fs::metadata(layer_path(store, t, *l)).ok())
        .map(|m| m.len())
        .sum();
    let records = holding.entries.len() as u64;
    // About the bytes of one record: the first layer's average.
    let first = holding
        .layers
        .first()
        .and_then(|l| std::fs::metadata(layer_path(store, t, *l)).ok())
        .map_or(0, |m| m.len());
    bytes > 2 * first.max(records * 64)
}

/// Writes the records the portal holds of `t` into one new layer and renumbers the entries of
/// `holding` to it, in place: a copy of an index of millions of records would double what a
/// publish holds. On an error `holding` is unchanged. The caller commits it, then removes the
/// old layers.
pub fn compact(store: &Path, t: DataType, holding: &mut Holding) -> io::Result<()> {
    let layer = holding.next_layer;
    let dir = type_dir(store, t);
    let tmp = dir.join(format!("{layer}.json.ce-tmp"));
    {
        let mut w = io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp)?);
        w.write_all(b"[\n")?;
        let mut first = true;
        for_each_record(store, t, holding, &mut |rec| {
            if !first {
                w.write_all(b",\n")?;
            }
            first = false;
            w.write_all(rec.as_bytes())
        })?;
        w.write_all(b"\n]\n")?;
        w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    }
    std::fs::rename(&tmp, layer_path(store, t, layer))?;
    std::fs::File::open(&dir)?.sync_all()?;
    // The records went out layer by layer, each layer's by line: an entry's new line is the
    // rank of its old (layer, line) among all of them.
    let rank: rustc_hash::FxHashMap<u32, u64> = holding
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| (*l, i as u64))
        .collect();
    let place = |e: &Entry| rank.get(&e.layer).map(|r| r << 32 | e.line as u64);
    let mut order: Vec<u64> = holding.entries.values().filter_map(place).collect();
    order.sort_unstable();
    for e in holding.entries.values_mut() {
        if let Some(p) = place(e) {
            let line = order.binary_search(&p).expect("every place was listed");
            *e = Entry::new(e.hash(), layer, line as u32);
        }
    }
    holding.layers = vec![layer];
    holding.next_layer = layer + 1;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(layer: u32, line: u32) -> Entry {
        Entry::new(1, layer, line)
    }

    #[test]
    fn the_records_held_are_read_across_layers_and_compacted_into_one() {
        let d = tempfile::tempdir().unwrap();
        let store = d.path();
        let t = DataType::Products;
        let base = d.path().join("base.json");
        std::fs::write(
            &base,
            "[\n{\"id\":\"a\"},\n{\"id\":\"b\"},\n{\"id\":\"c\"}\n]\n",
        )
        .unwrap();
        let delta = d.path().join("delta.json");
        std::fs::write(
            &delta,
            "[\n{\"id\":\"b\",\"v\":2},\n{\"id\":\"c\",\"deleted\":true}\n]\n",
        )
        .unwrap();
        add(store, t, 0, &base).unwrap();
        add(store, t, 1, &delta).unwrap();
        let mut h = Holding {
            layers: vec![0, 1],
            next_layer: 2,
            complete: true,
            ..Default::default()
        };
        h.entries.insert("a".into(), entry(0, 0));
        h.entries.insert("b".into(), entry(1, 0));
        let read = |h: &Holding| {
            let mut v = Vec::new();
            for_each_record(store, t, h, &mut |r| {
                v.push(r.to_string());
                Ok(())
            })
            .unwrap();
            v
        };
        assert_eq!(read(&h), [r#"{"id":"a"}"#, r#"{"id":"b","v":2}"#]);
        let mut c = h.clone();
        compact(store, t, &mut c).unwrap();
        assert_eq!(c.layers, [2]);
        assert_eq!(read(&c), read(&h));
        assert_eq!((c.entries["a"].line, c.entries["b"].line), (0, 1));
        remove_unnamed(store, t, &c.layers).unwrap();
        assert!(!layer_path(store, t, 0).exists());
        assert!(layer_path(store, t, 2).exists());
        // A layer shorter than the index says is an error, not a silent gap.
        let mut broken = c.clone();
        broken.entries.insert("z".into(), entry(2, 9));
        assert!(for_each_record(store, t, &broken, &mut |_| Ok(())).is_err());
    }
}
