//! What the portal has, as the validator needs it: the key set of each type (from the journal,
//! cached), the keys of files staged but not yet published (they will be published before or
//! with anything that refers to them), and the attached files on the server or in the mirror.

use crate::compo::model::{AttachedFolder, DataType};
use crate::compo::validate::{KeyChanges, KnownState};
use crate::journal::{Entry, Holding, Journal, KeySet, PublishFigures};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

/// Cached holdings (the record store's index of each type); `None` for a type nothing of
/// which was ever published.
#[derive(Default)]
pub struct PortalState {
    published: HashMap<DataType, Option<Holding>>,
    staged: Option<HashMap<DataType, Staged>>,
}

#[derive(Default)]
struct Staged {
    snapshot: bool,
    keys: KeySet,
}

impl PortalState {
    /// What the portal holds of `t`, loaded on first use.
    pub fn holding(
        &mut self,
        j: &Journal,
        t: DataType,
    ) -> crate::journal::Result<Option<&Holding>> {
        if let std::collections::hash_map::Entry::Vacant(e) = self.published.entry(t) {
            e.insert(j.holding(t)?);
        }
        Ok(self.published[&t].as_ref())
    }

    /// What the portal holds of `t` when that is all of it (a snapshot was published).
    pub fn complete(
        &mut self,
        j: &Journal,
        t: DataType,
    ) -> crate::journal::Result<Option<&Holding>> {
        Ok(self.holding(j, t)?.filter(|h| h.complete))
    }

    /// The holding after publishing a file with these changes as layer `layer` (`None`: its
    /// text could not be kept), and what the publish changed. Takes the changes by value: a
    /// snapshot's keys move into the index without being copied.
    pub fn after(
        &mut self,
        j: &Journal,
        t: DataType,
        changes: KeyChanges,
        layer: Option<u32>,
        at: &str,
    ) -> crate::journal::Result<(Holding, PublishFigures)> {
        // Moved out of the cache, not copied: a type's index can hold millions of records. The
        // caller puts the result back (`set_published`); after a failure it is read again.
        self.holding(j, t)?;
        let before = self.published.remove(&t).flatten().unwrap_or_default();
        Ok(apply(before, changes, layer, at))
    }

    /// Takes the holding a publish left. Kept in memory only for types other types refer to
    /// (their indexes are read for every validation); the others, often the largest (millions
    /// of prices and stock lines), are read again from the journal at their next publish.
    pub fn set_published(&mut self, t: DataType, holding: Holding) {
        let referred = DataType::ALL
            .iter()
            .any(|x| x.references().iter().any(|r| r.target == t));
        if referred {
            self.published.insert(t, Some(holding));
        } else {
            self.published.remove(&t);
        }
        self.staged = None;
    }

    /// Forgets what a publish left of `t`: it is read again from the journal.
    pub fn forget(&mut self, t: DataType) {
        self.published.remove(&t);
        self.staged = None;
    }

    /// Puts a holding into the cache as if read from the journal (tests of its readers).
    #[cfg(test)]
    pub fn cache(&mut self, t: DataType, holding: Holding) {
        self.published.insert(t, Some(holding));
    }

    /// Forgets the cached holding of `t` (the journal's changed under it).
    pub fn reload(&mut self, t: DataType) {
        self.published.remove(&t);
    }

    /// Staged files changed: rebuild the overlay on next use.
    pub fn staged_changed(&mut self) {
        self.staged = None;
    }

    fn load_staged(&mut self, j: &Journal) -> crate::journal::Result<()> {
        if self.staged.is_some() {
            return Ok(());
        }
        let mut m: HashMap<DataType, Staged> = HashMap::new();
        for row in j.all_staged()? {
            let Some(t) = row.data_type.as_deref().and_then(DataType::from_name) else {
                continue;
            };
            if let Some(k) = j.staged_keys(row.id)? {
                let e = m.entry(t).or_default();
                e.snapshot |= k.snapshot;
                e.keys.extend(k.keys().map(String::from));
            }
        }
        self.staged = Some(m);
        Ok(())
    }

    /// A view for validating `batch`, with the outbox mirror's attached-file names.
    /// Only the types those refer to are loaded: a stock delta needs the products' index, not
    /// the millions of stock lines the portal holds.
    pub fn view<'a>(
        &'a mut self,
        j: &'a Journal,
        mirror: &'a HashMap<AttachedFolder, HashSet<String>>,
        s: &'a crate::config::Settings,
        batch: &crate::compo::validate::BatchInput,
    ) -> crate::journal::Result<View<'a>> {
        self.load_staged(j)?;
        let types: Vec<(DataType, bool)> = batch
            .data
            .iter()
            .map(|d| (d.name.data_type, d.name.is_snapshot()))
            .collect();
        // A reference to a type the batch holds a full snapshot of resolves in the batch alone
        // (spec 4): the portal's index of it is not read (a products snapshot's parents).
        let in_full = |t: DataType| types.iter().any(|&(x, snapshot)| x == t && snapshot);
        for &(t, _) in &types {
            for r in t.references() {
                if !in_full(r.target) {
                    self.holding(j, r.target)?;
                }
            }
        }
        Ok(View {
            state: self,
            journal: j,
            mirror,
            s,
            checked: Mutex::new(HashMap::new()),
            on_server: Mutex::new(HashMap::new()),
        })
    }
}

pub struct View<'a> {
    state: &'a PortalState,
    journal: &'a Journal,
    mirror: &'a HashMap<AttachedFolder, HashSet<String>>,
    s: &'a crate::config::Settings,
    /// Mirror files not yet on the server, checked once per validation: only a file that will
    /// be published counts, so that no data file is published pointing at one that will not.
    checked: Mutex<HashMap<(AttachedFolder, String), bool>>,
    /// The names the manifest says are on the server, read once per folder and validation: a
    /// catalog names millions of pictures, and a query each was a third of a big publish.
    on_server: Mutex<HashMap<AttachedFolder, HashSet<String>>>,
}

impl View<'_> {
    /// Whether a mirror file not yet on the server will be published: a regular file (links
    /// are never followed) whose name, content and size pass.
    fn will_publish(&self, folder: AttachedFolder, name: &str) -> bool {
        let key = (folder, name.to_string());
        if let Some(ok) = self
            .checked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
        {
            return *ok;
        }
        let path = self.s.folders.outbox.join(folder.name()).join(name);
        let ok = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file())
            && crate::compo::attached::check_file(
                &path,
                name,
                folder,
                self.s.validation.max_size(folder),
                self.s.validation.lang,
            )
            .is_empty();
        self.checked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key, ok);
        ok
    }
}

impl KnownState for View<'_> {
    fn has_type(&self, t: DataType) -> bool {
        self.state
            .published
            .get(&t)
            .is_some_and(|h| h.as_ref().is_some_and(|h| h.complete))
            || self
                .state
                .staged
                .as_ref()
                .and_then(|m| m.get(&t))
                .is_some_and(|s| s.snapshot)
    }

    fn contains(&self, t: DataType, key: &str) -> bool {
        self.state
            .published
            .get(&t)
            .and_then(|h| h.as_ref())
            .is_some_and(|h| h.complete && h.entries.contains_key(key))
            || self
                .state
                .staged
                .as_ref()
                .and_then(|m| m.get(&t))
                .is_some_and(|s| s.keys.contains(key))
    }

    fn has_attached(&self, folder: AttachedFolder, name: &str) -> Option<bool> {
        // Attached files are synced before any data file at a tick, so a mirror file that will
        // be published counts.
        let on_server = {
            let mut m = self
                .on_server
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let names = m.entry(folder).or_insert_with(|| {
                self.journal
                    .manifest(folder)
                    .map(|v| v.into_iter().map(|e| e.name).collect())
                    .unwrap_or_default()
            });
            names.contains(name)
        };
        if on_server {
            return Some(true);
        }
        let in_mirror = self.mirror.get(&folder).is_some_and(|m| m.contains(name));
        Some(in_mirror && self.will_publish(folder, name))
    }
}

/// The holding after a publish of `changes` (kept as `layer`), and the figures of that publish.
pub fn apply(
    mut h: Holding,
    changes: KeyChanges,
    layer: Option<u32>,
    at: &str,
) -> (Holding, PublishFigures) {
    let mut f = PublishFigures {
        form: if changes.snapshot {
            "snapshot"
        } else {
            "delta"
        }
        .into(),
        at: at.to_string(),
        ..Default::default()
    };
    let layer_no = match layer {
        Some(l) => {
            h.next_layer = h.next_layer.max(l + 1);
            l
        }
        None => Entry::NO_LAYER,
    };
    if changes.snapshot {
        // In place, so that a type of millions of records is never held twice: every record the
        // snapshot lists is (re)written with a mark (its new layer, or the number one past all
        // layers when its text could not be kept), and the entries without it are the deletions.
        let mark = match layer {
            Some(l) => l,
            None => {
                h.next_layer += 1;
                h.next_layer - 1
            }
        };
        let n = changes.len();
        h.entries.reserve(n.saturating_sub(h.entries.len()));
        for u in changes.upserts() {
            let (k, hash) = (u.key, u.hash);
            let new = Entry::new(hash, mark, u.index as u32);
            match h.entries.get_mut(k) {
                Some(e) => {
                    if e.hash() != hash || hash == 0 {
                        f.changed += 1;
                    }
                    *e = new;
                }
                None => {
                    f.added += 1;
                    h.entries.insert(k.into(), new);
                }
            }
        }
        let before = h.entries.len();
        h.entries.retain(|_, e| e.layer == mark);
        f.deleted = (before - h.entries.len()) as u64;
        if layer.is_none() {
            for e in h.entries.values_mut() {
                *e = Entry::new(e.hash(), Entry::NO_LAYER, 0);
            }
        }
        h.layers.clear();
        h.complete = true;
        h.doubt = None;
        h.full_at = Some(at.to_string());
        // The index was just built from the very text the layer keeps.
        h.verified_at = Some(at.to_string());
    } else {
        for k in &changes.deletions {
            if h.entries.remove(k.as_str()).is_some() {
                f.deleted += 1;
            }
        }
        for u in changes.upserts() {
            let (k, hash) = (u.key, u.hash);
            let new = Entry::new(hash, layer_no, u.index as u32);
            match h.entries.insert(k.into(), new) {
                None => f.added += 1,
                Some(old) if old.hash() != hash || hash == 0 => f.changed += 1,
                Some(_) => {}
            }
        }
    }
    if let Some(l) = layer {
        h.layers.push(l);
    }
    if layer.is_none() && h.doubt.is_none() {
        h.doubt = Some("the text of a published file could not be kept in the store".into());
    }
    f.total = h.entries.len() as u64;
    (h, f)
}

/// Names of the files in the outbox mirrors whose names are acceptable.
pub fn mirror_names(outbox: &std::path::Path) -> HashMap<AttachedFolder, HashSet<String>> {
    AttachedFolder::ALL
        .into_iter()
        .map(|f| {
            let names = std::fs::read_dir(outbox.join(f.name()))
                .map(|rd| {
                    rd.flatten()
                        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .filter(|n| {
                            crate::compo::attached::check_name(n, f, Default::default()).is_ok()
                        })
                        .collect()
                })
                .unwrap_or_default();
            (f, names)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changes(snapshot: bool, upserts: &[(&str, u128)], deletions: &[&str]) -> KeyChanges {
        let mut c = KeyChanges::new(snapshot);
        for (i, (k, h)) in upserts.iter().enumerate() {
            c.push(k, i as u64, *h);
        }
        c.deletions = deletions.iter().map(|k| k.to_string()).collect();
        c
    }

    #[test]
    fn a_publish_updates_the_index_and_counts_what_it_changed() {
        let (h, f) = apply(
            Holding::default(),
            changes(true, &[("a", 1), ("b", 2), ("c", 3)], &[]),
            Some(0),
            "t0",
        );
        assert_eq!((f.added, f.changed, f.deleted, f.total), (3, 0, 0, 3));
        assert!(h.vouched());
        // A snapshot over it: a kept, b changed, c gone, d new; in place, one map.
        let (h, f) = apply(
            h,
            changes(true, &[("a", 1), ("b", 20), ("d", 4)], &[]),
            Some(1),
            "t1",
        );
        assert_eq!((f.added, f.changed, f.deleted, f.total), (1, 1, 1, 3));
        assert_eq!(h.layers, [1]);
        assert!(h.entries.values().all(|e| e.layer == 1));
        assert_eq!(h.entries["b"].hash(), 20);
        assert!(!h.entries.contains_key("c"));
        // A delta: d deleted, a changed, e added; the layers stack.
        let (h, f) = apply(
            h,
            changes(false, &[("a", 10), ("e", 5)], &["d", "zz"]),
            Some(2),
            "t2",
        );
        assert_eq!((f.added, f.changed, f.deleted, f.total), (1, 1, 1, 3));
        assert_eq!(h.layers, [1, 2]);
        assert_eq!(h.entries["b"].layer, 1);
        assert_eq!(h.entries["a"].layer, 2);
        // A snapshot whose text could not be kept: in doubt, its records without a layer.
        let (h, f) = apply(h, changes(true, &[("a", 10)], &[]), None, "t3");
        assert_eq!((f.added, f.changed, f.deleted, f.total), (0, 0, 2, 1));
        assert!(h.doubt.is_some());
        assert_eq!(h.entries["a"].layer, Entry::NO_LAYER);
        assert!(h.layers.is_empty());
    }
}
