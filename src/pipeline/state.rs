//! What the portal has, as the validator needs it: the key set of each type (from the journal,
//! cached), the keys of files staged but not yet published (they will be published before or
//! with anything that refers to them), and the attached files on the server or in the mirror.

use crate::compo::model::{AttachedFolder, DataType};
use crate::compo::validate::KnownState;
use crate::journal::{apply_keys, Journal, KeySet};
use std::collections::{HashMap, HashSet};

/// Cached key sets; `None` for a type no snapshot of which was ever published.
#[derive(Default)]
pub struct PortalState {
    published: HashMap<DataType, Option<KeySet>>,
    staged: Option<HashMap<DataType, Staged>>,
}

#[derive(Default)]
struct Staged {
    snapshot: bool,
    keys: KeySet,
}

impl PortalState {
    /// The published key set of `t`, loaded on first use.
    pub fn published(
        &mut self,
        j: &Journal,
        t: DataType,
    ) -> crate::journal::Result<Option<&KeySet>> {
        if let std::collections::hash_map::Entry::Vacant(e) = self.published.entry(t) {
            e.insert(j.portal_keys(t)?);
        }
        Ok(self.published[&t].as_ref())
    }

    /// The set after publishing a file with these changes; `None` while the full set is unknown.
    /// Takes the changes by value: a snapshot's keys become the set without being copied.
    pub fn after(
        &mut self,
        j: &Journal,
        t: DataType,
        changes: crate::compo::validate::KeyChanges,
    ) -> crate::journal::Result<Option<KeySet>> {
        if changes.snapshot {
            return Ok(Some(changes.upserts.into_iter().collect()));
        }
        let Some(published) = self.published(j, t)? else {
            return Ok(None);
        };
        let mut set = published.clone();
        apply_keys(&mut set, &changes);
        Ok(Some(set))
    }

    pub fn set_published(&mut self, t: DataType, set: Option<KeySet>) {
        if set.is_some() {
            self.published.insert(t, set);
        }
        self.staged = None;
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
                e.keys.extend(k.upserts);
            }
        }
        self.staged = Some(m);
        Ok(())
    }

    /// A view for one validation, with the outbox mirror's attached-file names.
    pub fn view<'a>(
        &'a mut self,
        j: &'a Journal,
        mirror: &'a HashMap<AttachedFolder, HashSet<String>>,
    ) -> crate::journal::Result<View<'a>> {
        self.load_staged(j)?;
        for t in DataType::ALL {
            self.published(j, t)?;
        }
        Ok(View {
            state: self,
            journal: j,
            mirror,
        })
    }
}

pub struct View<'a> {
    state: &'a PortalState,
    journal: &'a Journal,
    mirror: &'a HashMap<AttachedFolder, HashSet<String>>,
}

impl KnownState for View<'_> {
    fn has_type(&self, t: DataType) -> bool {
        self.state.published.get(&t).is_some_and(|s| s.is_some())
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
            .and_then(|s| s.as_ref())
            .is_some_and(|s| s.contains(key))
            || self
                .state
                .staged
                .as_ref()
                .and_then(|m| m.get(&t))
                .is_some_and(|s| s.keys.contains(key))
    }

    fn has_attached(&self, folder: AttachedFolder, name: &str) -> Option<bool> {
        // Attached files are synced before any data file at a tick, so the mirror counts.
        let in_mirror = self.mirror.get(&folder).is_some_and(|m| m.contains(name));
        Some(in_mirror || self.journal.manifest_has(folder, name).unwrap_or(false))
    }
}

/// Names of the files in the outbox mirrors whose names are acceptable.
pub fn mirror_names(outbox: &std::path::Path) -> HashMap<AttachedFolder, HashSet<String>> {
    AttachedFolder::ALL
        .into_iter()
        .map(|f| {
            let names = std::fs::read_dir(outbox.join(f.name()))
                .map(|rd| {
                    rd.flatten()
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
