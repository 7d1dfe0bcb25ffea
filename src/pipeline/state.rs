//! What the portal has, as the validator needs it: the key set of each type (from the journal,
//! cached), the keys of files staged but not yet published (they will be published before or
//! with anything that refers to them), and the attached files on the server or in the mirror.

use crate::compo::model::{AttachedFolder, DataType};
use crate::compo::validate::KnownState;
use crate::journal::{apply_keys, Journal, KeySet};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

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
        s: &'a crate::config::Settings,
    ) -> crate::journal::Result<View<'a>> {
        self.load_staged(j)?;
        for t in DataType::ALL {
            self.published(j, t)?;
        }
        Ok(View {
            state: self,
            journal: j,
            mirror,
            s,
            checked: Mutex::new(HashMap::new()),
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
        // Attached files are synced before any data file at a tick, so a mirror file that will
        // be published counts.
        if self.journal.manifest_has(folder, name).unwrap_or(false) {
            return Some(true);
        }
        let in_mirror = self.mirror.get(&folder).is_some_and(|m| m.contains(name));
        Some(in_mirror && self.will_publish(folder, name))
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
