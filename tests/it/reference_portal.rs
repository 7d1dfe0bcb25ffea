//! A reference portal for the tests: it imports the data files of the server's `in/` as the
//! COMPO portal does (spec 4 and 8) and keeps what it then holds, per type and key, so that a
//! test can compare the portal's state with what the ERP meant, and catch a dangling reference
//! (spec 5) at the moment a file makes one.
//!
//! Import order (spec 8): types in dependency order (`DataType::ALL`); within a type, files in
//! the order the processor renamed them into `in/` (their modification time: the rename keeps
//! the upload's, and uploads of one type go one after another), the name breaking ties. A full
//! snapshot (`<type>.json`) replaces the type; a delta (`<type>.delta*.json`) replaces the
//! records it lists and removes those with `"deleted": true`. Each file is removed from `in/`
//! once imported, as the portal does. Attached-file folders (`in/pictures/`, ...) are not its
//! concern.

use compo_exchange::compo::keys::key_of;
use compo_exchange::compo::model::{DataType, Step};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// The records of one type, by key.
pub type Records = BTreeMap<String, Map<String, Value>>;

/// What the portal holds.
#[derive(Default, Debug, Clone, PartialEq)]
pub struct ReferencePortal {
    pub types: BTreeMap<DataType, Records>,
    /// Every file imported, in order (type, name), for messages.
    pub imported: Vec<String>,
}

impl ReferencePortal {
    pub fn new() -> Self {
        Self::default()
    }

    /// The records of `t` (empty when none ever arrived).
    pub fn records(&self, t: DataType) -> Records {
        self.types.get(&t).cloned().unwrap_or_default()
    }

    /// Imports every data file in `in_dir` in the portal's order and removes it; returns the
    /// names imported. Panics, naming the file and the record, when a file leaves a record
    /// that refers to a missing one, or when a file is not a valid data file.
    pub fn import(&mut self, in_dir: &Path) -> Vec<String> {
        let mut files: Vec<(usize, std::time::SystemTime, String, DataType, bool)> = Vec::new();
        for e in std::fs::read_dir(in_dir).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !e.file_type().unwrap().is_file() || name.starts_with('.') {
                continue;
            }
            let (t, snapshot) = classify(&name)
                .unwrap_or_else(|| panic!("reference portal: {name} in in/ is no data file name"));
            let mtime = e.metadata().unwrap().modified().unwrap();
            files.push((t.rank(), mtime, name, t, snapshot));
        }
        files.sort();
        let mut done = Vec::new();
        for (_, _, name, t, snapshot) in files {
            let path = in_dir.join(&name);
            let v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap())
                .unwrap_or_else(|e| panic!("reference portal: {name} is not JSON: {e}"));
            std::fs::remove_file(&path).unwrap();
            self.apply(t, snapshot, &name, &v);
            done.push(name);
        }
        done
    }

    /// Applies one file's records, then checks every reference.
    pub fn apply(&mut self, t: DataType, snapshot: bool, name: &str, v: &Value) {
        let records = v
            .as_array()
            .unwrap_or_else(|| panic!("reference portal: {name} is not an array"));
        let held = self.types.entry(t).or_default();
        if snapshot {
            held.clear();
        }
        for r in records {
            let obj = r
                .as_object()
                .unwrap_or_else(|| panic!("reference portal: {name}: a record is not an object"));
            let key =
                key_of(t, obj).unwrap_or_else(|| panic!("reference portal: {name}: no key in {r}"));
            if !snapshot && obj.get("deleted") == Some(&Value::Bool(true)) {
                held.remove(&key);
            } else {
                held.insert(key, obj.clone());
            }
        }
        self.imported.push(name.to_string());
        if let Some(problem) = self.dangling() {
            panic!(
                "reference portal: after importing {name} (files so far: {:?}) {problem}",
                self.imported
            );
        }
    }

    /// The first reference to a missing record, described; `None` when every reference resolves.
    pub fn dangling(&self) -> Option<String> {
        for (t, records) in &self.types {
            for (key, r) in records {
                for reference in t.references() {
                    let whole = Value::Object(r.clone());
                    let mut values = Vec::new();
                    follow(&whole, reference.path, &mut values);
                    for v in values {
                        let target = match v {
                            Value::String(s) if !s.is_empty() => s.clone(),
                            _ => continue,
                        };
                        let there = self
                            .types
                            .get(&reference.target)
                            .is_some_and(|m| m.contains_key(&target));
                        if !there {
                            return Some(format!(
                                "{} record {key:?} refers to {} {target:?}, which the portal \
                                 does not have (a dangling reference)",
                                t.name(),
                                reference.target.name()
                            ));
                        }
                    }
                }
            }
        }
        None
    }
}

/// The type of a file name in `in/` and whether it is a full snapshot.
pub fn classify(name: &str) -> Option<(DataType, bool)> {
    let stem = name.strip_suffix(".json")?;
    match stem.split_once('.') {
        None => Some((DataType::from_name(stem)?, true)),
        Some((t, rest)) if rest == "delta" || rest.starts_with("delta-") => {
            Some((DataType::from_name(t)?, false))
        }
        Some(_) => None,
    }
}

fn follow<'a>(v: &'a Value, path: &[Step], out: &mut Vec<&'a Value>) {
    match path.split_first() {
        None => out.push(v),
        Some((Step::Field(f), rest)) => {
            if let Some(x) = v.get(*f) {
                follow(x, rest, out);
            }
        }
        Some((Step::Each, rest)) => {
            if let Some(a) = v.as_array() {
                for x in a {
                    follow(x, rest, out);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_reference_portal_imports_in_order_and_catches_a_dangling_reference() {
        let d = crate::harness::tempdir();
        let put = |n: &str, v: Value| {
            std::fs::write(d.path().join(n), serde_json::to_vec(&v).unwrap()).unwrap();
            // Distinct modification times: arrival order.
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        // Products first on disk, categories later: the portal still imports categories first.
        put(
            "products.json",
            json!([{"id": "P-1", "name": "a", "category_id": "C-1", "unit": "шт"}]),
        );
        put("categories.json", json!([{"id": "C-1", "name": "c"}]));
        put(
            "products.delta-1.json",
            json!([{"id": "P-2", "name": "b", "category_id": "C-1", "unit": "шт"}]),
        );
        put(
            "products.delta-2.json",
            json!([{"id": "P-1", "deleted": true}]),
        );
        let mut p = ReferencePortal::new();
        let got = p.import(d.path());
        assert_eq!(
            got,
            [
                "categories.json",
                "products.json",
                "products.delta-1.json",
                "products.delta-2.json"
            ]
        );
        assert!(crate::harness::names(d.path()).is_empty());
        let products = p.records(DataType::Products);
        assert_eq!(products.keys().collect::<Vec<_>>(), ["P-2"]);
        // A snapshot of categories without C-1 leaves P-2 dangling.
        put("categories.json", json!([{"id": "C-2", "name": "c"}]));
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            p.import(d.path());
        }))
        .unwrap_err();
        let msg = caught.downcast_ref::<String>().unwrap();
        assert!(
            msg.contains("products record \"P-2\" refers to categories \"C-1\""),
            "{msg}"
        );
    }
}
