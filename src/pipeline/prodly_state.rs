//! The Prodly bodies' view of the record store: what the portal holds after a publish, handed
//! to the body builders as their `PublishState`, and the marker of what was last converted.
//!
//! Each type is one part: complete when a snapshot of it was published and the store can vouch
//! for it, else (a type only ever published as deltas, or a store in doubt) the records the
//! deltas brought, marked incomplete so that the builders treat them as changes. Snapshots,
//! deltas and deletions are already applied: one record per key.
//!
//! The marker (`state/prodly-converted.json`) names, per type, the last publish whose state the
//! bodies were built from. It is written after the bodies are in place, so a stop in between
//! leaves the types looking unconverted and the next publish writes their bodies: at least
//! once, never lost.

use super::PortalState;
use crate::compo::model::DataType;
use crate::formats::prodly::{Endpoint, Fed, ProdlyError, PublishState};
use crate::journal::portal::layers;
use crate::journal::{Entry, Journal};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::{Path, PathBuf};

/// The records of the record store, one part per type, in the order of [`DataType::ALL`].
pub(super) struct StoreState<'a> {
    journal: &'a Journal,
    portal: &'a mut PortalState,
    store: PathBuf,
    /// The types the bodies asked for are read from; others read as empty.
    fed: Vec<DataType>,
    /// Per fed type, whether the store holds all of it.
    complete: HashMap<DataType, bool>,
}

impl<'a> StoreState<'a> {
    /// The store's records of the types the bodies `only` are built from.
    pub(super) fn new(
        journal: &'a Journal,
        portal: &'a mut PortalState,
        only: &[Endpoint],
    ) -> crate::journal::Result<StoreState<'a>> {
        let mut fed: Vec<DataType> = only.iter().flat_map(|e| e.inputs()).copied().collect();
        fed.sort_by_key(|t| t.rank());
        fed.dedup();
        let mut complete = HashMap::new();
        for &t in &fed {
            let all = portal.holding(journal, t)?.is_some_and(|h| {
                // Keys without a text (a journal from an older release) are records the store
                // cannot hand over.
                h.vouched() && h.entries.values().all(|e| e.layer != Entry::NO_LAYER)
            });
            complete.insert(t, all);
        }
        Ok(StoreState {
            store: journal.store_dir().to_path_buf(),
            journal,
            portal,
            fed,
            complete,
        })
    }

    /// The names the problems of each part are reported under (`portal-state/<type>`).
    pub(super) fn parts() -> Vec<(String, Option<String>)> {
        DataType::ALL
            .iter()
            .map(|t| (format!("portal-state/{}", t.name()), Some(t.name().into())))
            .collect()
    }

    fn store_error(&self, t: DataType, e: impl std::fmt::Display) -> ProdlyError {
        ProdlyError::Read {
            path: layers::type_dir(&self.store, t),
            source: io::Error::other(e.to_string()),
        }
    }
}

impl PublishState for StoreState<'_> {
    fn for_each(
        &mut self,
        t: DataType,
        each: &mut dyn FnMut(Fed<'_>) -> Result<(), ProdlyError>,
    ) -> Result<(), ProdlyError> {
        if !self.fed.contains(&t) {
            return Ok(());
        }
        let file = DataType::ALL
            .iter()
            .position(|x| *x == t)
            .expect("every type is in ALL");
        let complete = self.complete.get(&t).copied().unwrap_or(false);
        let store = self.store.clone();
        let holding = match self.portal.holding(self.journal, t) {
            Ok(Some(h)) => h,
            Ok(None) => return Ok(()),
            Err(e) => return Err(self.store_error(t, e)),
        };
        each(Fed::Part { file, complete })?;
        let mut index = 0u64;
        // The builders' error, kept apart from the store's I/O errors that carry it out.
        let mut stopped: Option<ProdlyError> = None;
        let read = layers::for_each_record(&store, t, holding, &mut |text| {
            let fed = match serde_json::from_str::<Map<String, Value>>(text) {
                Ok(record) => each(Fed::Record {
                    index,
                    record: &record,
                }),
                // The store keeps what was validated and published: this is damage, said as
                // such rather than skipped.
                Err(e) => each(Fed::Problem {
                    issue: crate::compo::report::Issue::new(
                        Some(index),
                        format!("/{index}"),
                        crate::compo::report::codes::CONVERT_VALUE,
                        format!("the record store's text of this record is not a JSON object: {e}"),
                    ),
                    warning: false,
                }),
            };
            index += 1;
            fed.map_err(|e| {
                stopped = Some(e);
                io::Error::other("stopped by the body builders")
            })
        });
        if let Some(e) = stopped {
            return Err(e);
        }
        read.map_err(|source| ProdlyError::Read {
            path: layers::type_dir(&store, t),
            source,
        })?;
        each(Fed::Counted { records: index })
    }

    fn complete(&self, t: DataType) -> bool {
        self.complete.get(&t).copied().unwrap_or(false)
    }

    fn size(&self, types: &[DataType]) -> u64 {
        // The layers' bytes: at least the records held (a delta's superseded lines count too,
        // which only makes the joins' partitions smaller).
        let Ok(dirs) = types
            .iter()
            .filter(|t| self.fed.contains(t))
            .map(|t| std::fs::read_dir(layers::type_dir(&self.store, *t)))
            .collect::<io::Result<Vec<_>>>()
        else {
            return 0;
        };
        dirs.into_iter()
            .flat_map(|d| d.flatten())
            .filter_map(|e| e.metadata().ok())
            .map(|m| m.len())
            .sum()
    }
}

/// Per type, the publish whose state the bodies were last built from: the last published file's
/// id and the time of the type's last publish (either moves with every publish).
#[derive(Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) struct Converted(BTreeMap<String, String>);

impl Converted {
    /// Where the marker is kept.
    pub(super) fn path(state_dir: &Path) -> PathBuf {
        state_dir.join("prodly-converted.json")
    }

    /// The marker as written; empty when there is none (nothing converted yet: every type
    /// the portal holds is then converted). An unreadable marker counts as none: converting
    /// again is the safe side.
    pub(super) fn read(path: &Path) -> Converted {
        std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// What the journal says was published last, per type.
    pub(super) fn now(journal: &Journal) -> crate::journal::Result<Converted> {
        let mut m: BTreeMap<String, String> = BTreeMap::new();
        for row in journal.last_published_by_type()? {
            if let Some(t) = row.data_type {
                m.insert(t, format!("file {}", row.id));
            }
        }
        for (t, figures, _) in journal.last_publishes()? {
            let v = m.entry(t).or_default();
            v.push_str(&format!(" at {}", figures.at));
        }
        Ok(Converted(m))
    }

    /// The types published since `before` was written.
    pub(super) fn changed_since(&self, before: &Converted) -> Vec<DataType> {
        self.0
            .iter()
            .filter(|(t, v)| before.0.get(*t) != Some(*v))
            .filter_map(|(t, _)| DataType::from_name(t))
            .collect()
    }

    pub(super) fn write(&self, path: &Path) -> io::Result<()> {
        super::fsutil::write_atomic(path, |w| {
            serde_json::to_writer_pretty(&mut *w, &self.0).map_err(io::Error::other)?;
            w.write_all(b"\n")
        })
    }
}

/// The bodies to write when `changed` types were published: those built from any of them.
pub(super) fn bodies_for(changed: &[DataType]) -> Vec<Endpoint> {
    Endpoint::ALL
        .into_iter()
        .filter(|e| e.inputs().iter().any(|t| changed.contains(t)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::Holding;

    /// A store of remains over two layers: a snapshot, then a delta that changes W1 and
    /// deletes W2 (the index names only what the portal still holds).
    fn remains_store(j: &Journal, doubt: Option<&str>) -> PortalState {
        let store = j.store_dir().to_path_buf();
        let d = tempfile::tempdir().unwrap();
        let base = d.path().join("remains.json");
        std::fs::write(
            &base,
            "[\n{\"product_id\":\"p1\",\"warehouse_id\":\"W1\",\"quantity\":120},\n\
             {\"product_id\":\"p1\",\"warehouse_id\":\"W2\",\"quantity\":80}\n]\n",
        )
        .unwrap();
        let delta = d.path().join("remains.delta.json");
        std::fs::write(
            &delta,
            "[\n{\"product_id\":\"p1\",\"warehouse_id\":\"W1\",\"quantity\":150},\n\
             {\"product_id\":\"p1\",\"warehouse_id\":\"W2\",\"deleted\":true}\n]\n",
        )
        .unwrap();
        layers::add(&store, DataType::Remains, 0, &base).unwrap();
        layers::add(&store, DataType::Remains, 1, &delta).unwrap();
        let mut h = Holding {
            layers: vec![0, 1],
            next_layer: 2,
            complete: true,
            doubt: doubt.map(str::to_string),
            ..Default::default()
        };
        h.entries.insert("p1\u{1f}W1".into(), Entry::new(1, 1, 0));
        let mut portal = PortalState::default();
        portal.cache(DataType::Remains, h);
        portal
    }

    fn stocks(j: &Journal, portal: &mut PortalState) -> (bool, String) {
        let only = [Endpoint::Stocks];
        let mut state = StoreState::new(j, portal, &only).unwrap();
        let complete = state.complete(DataType::Remains);
        let out = tempfile::tempdir().unwrap();
        crate::formats::prodly::state_to_prodly(
            &mut state,
            StoreState::parts(),
            out.path(),
            &crate::formats::prodly::ProdlyOptions {
                vendor: "V".into(),
                branch: "SM".into(),
            },
            &Default::default(),
            &only,
        )
        .unwrap();
        let body = std::fs::read_to_string(out.path().join("stocks.post.ndjson")).unwrap();
        (complete, body)
    }

    #[test]
    fn the_store_hands_over_one_record_per_key_as_the_portal_holds_them() {
        let (_d, j) = crate::journal::testing::journal();
        let mut portal = remains_store(&j, None);
        let (complete, body) = stocks(&j, &mut portal);
        assert!(complete);
        assert_eq!(body, "{\"productCode\":\"p1\",\"stock\":150}\n");
        // A store in doubt still gives its records, but not as all there is.
        let mut portal = remains_store(&j, Some("an interrupted publish"));
        let (complete, body) = stocks(&j, &mut portal);
        assert!(!complete);
        assert_eq!(body, "{\"productCode\":\"p1\",\"stock\":150}\n");
    }

    #[test]
    fn a_publish_of_a_type_rebuilds_exactly_the_bodies_built_from_it() {
        assert_eq!(
            bodies_for(&[DataType::Remains]),
            [Endpoint::BranchProducts, Endpoint::Stocks]
        );
        assert_eq!(
            bodies_for(&[DataType::Finances]),
            [Endpoint::Clients, Endpoint::Debts]
        );
        assert_eq!(
            bodies_for(&[DataType::Contracts]),
            [
                Endpoint::Clients,
                Endpoint::Firms,
                Endpoint::Debts,
                Endpoint::PersonalPrices
            ]
        );
        assert!(bodies_for(&[DataType::Warehouses, DataType::Categories]).is_empty());
    }

    #[test]
    fn the_marker_says_which_types_were_published_since() {
        let mut before = Converted::default();
        before.0.insert("remains".into(), "file 3 at A".into());
        before.0.insert("products".into(), "file 2 at A".into());
        let mut now = Converted::default();
        now.0.insert("remains".into(), "file 5 at B".into());
        now.0.insert("products".into(), "file 2 at A".into());
        now.0.insert("finances".into(), "file 4 at B".into());
        assert_eq!(
            now.changed_since(&before),
            [DataType::Finances, DataType::Remains]
        );
        let d = tempfile::tempdir().unwrap();
        let p = Converted::path(d.path());
        assert_eq!(Converted::read(&p), Converted::default());
        now.write(&p).unwrap();
        assert_eq!(Converted::read(&p), now);
        assert!(now.changed_since(&Converted::read(&p)).is_empty());
    }
}
