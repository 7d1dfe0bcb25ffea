//! Property of changes-only publishing (issue 18, spec 8.1): for a random, seeded sequence of
//! ERP outputs (full snapshots and deltas of categories, products, prices and remains, records
//! appearing, changing and vanishing, rounds with nothing new, numbers and member order
//! respelled), the reference portal ends with what the ERP last meant whether the processor
//! publishes changes only or every snapshot whole, never sees a dangling reference on the way,
//! and the record store agrees with it. Replay a failing run with `CHANGES_SEED=<seed>`.

use crate::harness::{names, Work};
use crate::reference_portal::{Records, ReferencePortal};
use compo_exchange::compo::canonical::value_hash;
use compo_exchange::compo::model::DataType;
use compo_exchange::journal::portal::layers;
use compo_exchange::pipeline::Engine;
use compo_exchange::schedule::{Clock, FakeClock};
use compo_exchange::transport::local::LocalTransport;
use compo_exchange::transport::Transport;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The types the ERP changes, in dependency order.
pub const MOVING: [DataType; 4] = [
    DataType::Categories,
    DataType::Products,
    DataType::Prices,
    DataType::Remains,
];

pub const PRICE_TYPES: [&str; 2] = ["PT-1", "PT-2"];
pub const WAREHOUSES: [&str; 2] = ["WH-1", "WH-2"];

/// The seed of a run: `CHANGES_SEED` when set, else `default`.
pub fn seed(default: u64) -> u64 {
    std::env::var("CHANGES_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// The ERP's catalog: what it means the portal to hold, and what it last wrote of each type.
pub struct Erp {
    rng: fastrand::Rng,
    next: u32,
    pub now: BTreeMap<DataType, Records>,
    /// Per type, what the ERP's last output meant (the base of its next delta).
    written: BTreeMap<DataType, Records>,
    /// Records whose referrers moved away this round; they vanish next round (an ERP that
    /// deletes a category and moves its products in the same export makes the portal see a
    /// dangling reference in either mode: publish order serves additions, not removals).
    retiring: Vec<(DataType, String)>,
    pub files: u32,
    /// Write full snapshots only (no deltas).
    pub snapshots_only: bool,
    /// Write every type, changed or not.
    pub force_all: bool,
}

fn rec(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

impl Erp {
    pub fn new(seed: u64) -> Erp {
        let mut e = Erp {
            rng: fastrand::Rng::with_seed(seed),
            next: 0,
            now: MOVING.iter().map(|t| (*t, Records::new())).collect(),
            written: BTreeMap::new(),
            retiring: Vec::new(),
            files: 0,
            snapshots_only: false,
            force_all: false,
        };
        for _ in 0..4 {
            e.add_category();
        }
        for _ in 0..12 {
            e.add_product();
        }
        e
    }

    fn id(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}-{}", self.next)
    }

    fn live(&self, t: DataType) -> Vec<String> {
        self.now[&t]
            .keys()
            .filter(|k| !self.retiring.iter().any(|(rt, rk)| *rt == t && rk == *k))
            .cloned()
            .collect()
    }

    fn pick(&mut self, t: DataType) -> Option<String> {
        let live = self.live(t);
        (!live.is_empty()).then(|| live[self.rng.usize(..live.len())].clone())
    }

    fn add_category(&mut self) {
        let id = self.id("C");
        let mut r = json!({"id": id, "name": format!("Раздел {id}"), "sort": self.rng.u32(..100)});
        if self.rng.bool() {
            if let Some(p) = self.pick(DataType::Categories) {
                r["parent_id"] = p.into();
            }
        }
        self.now
            .get_mut(&DataType::Categories)
            .unwrap()
            .insert(id, rec(r));
    }

    fn product_record(&mut self, id: &str) -> Map<String, Value> {
        let cat = self.pick(DataType::Categories).expect("a category");
        let mut r = json!({
            "id": id,
            "name": format!("Товар {id} v{}", self.rng.u32(..1000)),
            "category_id": cat,
            "unit": "шт",
            "weight": self.rng.u32(1..5000) as f64 / 100.0,
            "active": self.rng.bool(),
        });
        if self.rng.u8(..4) == 0 {
            r["barcodes"] = json!(["4607051000124"]);
        }
        // A variant of another product (a reference within the type), one level deep: the
        // parent has none, and a product that is a parent gets none.
        let products = &self.now[&DataType::Products];
        let is_parent = products
            .values()
            .any(|p| p.get("parent_id").and_then(Value::as_str) == Some(id));
        if !is_parent && self.rng.u8(..4) == 0 {
            let parents: Vec<String> = self
                .live(DataType::Products)
                .into_iter()
                .filter(|p| p != id && !products[p].contains_key("parent_id"))
                .collect();
            if !parents.is_empty() {
                r["parent_id"] = parents[self.rng.usize(..parents.len())].clone().into();
            }
        }
        rec(r)
    }

    fn add_product(&mut self) {
        let id = self.id("P");
        let r = self.product_record(&id);
        self.now
            .get_mut(&DataType::Products)
            .unwrap()
            .insert(id.clone(), r);
        for pt in PRICE_TYPES {
            if self.rng.u8(..3) > 0 {
                self.set_price(&id, pt);
            }
        }
        for wh in WAREHOUSES {
            if self.rng.bool() {
                self.set_remain(&id, wh);
            }
        }
    }

    fn set_price(&mut self, product: &str, pt: &str) {
        let mut r = json!({"product_id": product, "prices_type_id": pt,
                           "price": self.rng.u32(100..100_000) as f64 / 100.0});
        if self.rng.u8(..5) == 0 {
            r["valid_to"] = "2026-12-31".into();
        }
        // A quantity break: part of the key, a number (respelled `10.0` now and then).
        if self.rng.u8(..4) == 0 {
            r["min_quantity"] = 10.into();
        }
        let r = rec(r);
        let key = compo_exchange::compo::keys::key_of(DataType::Prices, &r).unwrap();
        self.now.get_mut(&DataType::Prices).unwrap().insert(key, r);
    }

    fn set_remain(&mut self, product: &str, wh: &str) {
        let r = rec(json!({"product_id": product, "warehouse_id": wh,
                           "quantity": self.rng.u32(..500)}));
        let key = compo_exchange::compo::keys::key_of(DataType::Remains, &r).unwrap();
        self.now.get_mut(&DataType::Remains).unwrap().insert(key, r);
    }

    /// Removes the leaves (prices, remains) of a product.
    fn drop_leaves_of(&mut self, product: &str) {
        for t in [DataType::Prices, DataType::Remains] {
            self.now
                .get_mut(&t)
                .unwrap()
                .retain(|_, r| r["product_id"] != product);
        }
    }

    /// One round of changes in the ERP (sometimes none at all).
    pub fn change(&mut self) {
        self.retire();
        if self.rng.u8(..5) > 0 {
            self.mutate();
        }
    }

    /// A round in which every type changes.
    pub fn change_every_type(&mut self) {
        self.retire();
        for _ in 0..50 {
            self.mutate();
            if MOVING
                .iter()
                .all(|t| self.written.get(t) != Some(&self.now[t]))
            {
                return;
            }
        }
        panic!("the ERP did not change every type in 50 tries");
    }

    /// Records whose referrers moved away last round vanish.
    fn retire(&mut self) {
        for (t, k) in std::mem::take(&mut self.retiring) {
            self.now.get_mut(&t).unwrap().remove(&k);
        }
    }

    fn mutate(&mut self) {
        for _ in 0..self.rng.usize(..2) {
            self.add_category();
        }
        if self.rng.u8(..3) == 0 {
            if let Some(c) = self.pick(DataType::Categories) {
                let cats = self.now.get_mut(&DataType::Categories).unwrap();
                cats.get_mut(&c).unwrap()["name"] = format!("Раздел {c} *").into();
            }
        }
        // A category retires: its products and subcategories move elsewhere now, it goes next
        // round.
        if self.live(DataType::Categories).len() > 3 && self.rng.u8(..3) == 0 {
            let c = self.pick(DataType::Categories).unwrap();
            self.retiring.push((DataType::Categories, c.clone()));
            let products: Vec<String> = self.now[&DataType::Products]
                .iter()
                .filter(|(_, r)| r["category_id"] == c.as_str())
                .map(|(k, _)| k.clone())
                .collect();
            for p in products {
                let to = self.pick(DataType::Categories).unwrap();
                self.now
                    .get_mut(&DataType::Products)
                    .unwrap()
                    .get_mut(&p)
                    .unwrap()["category_id"] = to.into();
            }
            for r in self
                .now
                .get_mut(&DataType::Categories)
                .unwrap()
                .values_mut()
            {
                if r.get("parent_id") == Some(&Value::from(c.as_str())) {
                    r.remove("parent_id");
                }
            }
        }
        for _ in 0..self.rng.usize(..4) {
            self.add_product();
        }
        for _ in 0..self.rng.usize(..4) {
            if let Some(p) = self.pick(DataType::Products) {
                let r = self.product_record(&p);
                self.now.get_mut(&DataType::Products).unwrap().insert(p, r);
            }
        }
        // A product retires: its prices and remains vanish now, the product next round.
        if self.live(DataType::Products).len() > 6 && self.rng.bool() {
            let p = self.pick(DataType::Products).unwrap();
            self.drop_leaves_of(&p);
            for r in self.now.get_mut(&DataType::Products).unwrap().values_mut() {
                if r.get("parent_id") == Some(&Value::from(p.as_str())) {
                    r.remove("parent_id");
                }
            }
            self.retiring.push((DataType::Products, p));
        }
        for _ in 0..self.rng.usize(..6) {
            if let Some(p) = self.pick(DataType::Products) {
                let pt = PRICE_TYPES[self.rng.usize(..2)];
                self.set_price(&p, pt);
            }
        }
        for _ in 0..self.rng.usize(..6) {
            if let Some(p) = self.pick(DataType::Products) {
                let wh = WAREHOUSES[self.rng.usize(..2)];
                self.set_remain(&p, wh);
            }
        }
        for t in [DataType::Prices, DataType::Remains] {
            if self.rng.u8(..3) == 0 && self.now[&t].len() > 4 {
                let keys: Vec<String> = self.now[&t].keys().cloned().collect();
                let k = keys[self.rng.usize(..keys.len())].clone();
                self.now.get_mut(&t).unwrap().remove(&k);
            }
        }
    }

    /// Writes the round's files into the outbox: every type that changed since its last output
    /// (as a snapshot or as a delta), and now and then an unchanged snapshot again.
    pub fn write(&mut self, w: &Work) {
        for t in MOVING {
            let now = self.now[&t].clone();
            let before = self.written.get(&t);
            let changed = before != Some(&now);
            let snapshot = before.is_none() || self.rng.u8(..5) < 3 || self.snapshots_only;
            if !changed && self.rng.u8(..3) > 0 && !self.force_all {
                continue;
            }
            let records: Vec<Map<String, Value>> = if snapshot {
                now.values().cloned().collect()
            } else {
                let before = before.unwrap();
                let mut v: Vec<Map<String, Value>> = now
                    .iter()
                    .filter(|(k, r)| before.get(*k) != Some(r))
                    .map(|(_, r)| r.clone())
                    .collect();
                for (k, r) in before {
                    if !now.contains_key(k) {
                        let mut d = Map::new();
                        for f in t.key_fields() {
                            if let Some(x) = r.get(*f) {
                                d.insert(f.to_string(), x.clone());
                            }
                        }
                        d.insert("deleted".into(), true.into());
                        v.push(d);
                    }
                }
                v
            };
            if !snapshot && records.is_empty() {
                continue;
            }
            self.files += 1;
            let name = if snapshot {
                format!("{}.json", t.name())
            } else {
                format!("{}.delta-r{}.json", t.name(), self.files)
            };
            let text = if self.rng.bool() {
                respell(&records, &mut self.rng)
            } else {
                serde_json::to_string_pretty(&records).unwrap()
            };
            w.drop_file(&name, text.as_bytes());
            self.written.insert(t, now);
        }
    }
}

/// The records as another exporter would write them: members in another order, numbers with
/// trailing zeros (`1.5` as `1.50`, `3` as `3.0`), other whitespace. The same content.
pub fn respell(records: &[Map<String, Value>], rng: &mut fastrand::Rng) -> String {
    let mut out = String::from("[");
    for (i, r) in records.iter().enumerate() {
        let mut members: Vec<(&String, &Value)> = r.iter().collect();
        rng.shuffle(&mut members);
        let body: Vec<String> = members
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::Number(n) if n.is_f64() => format!("{n}0"),
                    Value::Number(n) if rng.bool() => format!("{n}.0"),
                    other => other.to_string(),
                };
                format!("{k:?} : {v}")
            })
            .collect();
        out.push_str(if i == 0 { "\n  {" } else { ",\n  {" });
        out.push_str(&body.join(",\t"));
        out.push('}');
    }
    out.push_str("\n]\n");
    out
}

/// The config of a run: every data type published at each pass, the mass-deletion guard out of
/// the way (the ERP here removes a large share of a small type now and then), and, when asked,
/// changes only for the moving types with a full snapshot every three hours.
pub fn config(changes_only: bool, extra: &str) -> String {
    let mut c = String::from("[snapshot]\nmass_delete = 1.0\n");
    if changes_only {
        c.push_str(
            "[publish]\nchanges_only = [\"categories\", \"products\", \"prices\", \"remains\"]\n\
             full_every = \"3h\"\n",
        );
    }
    c.push_str(extra);
    c
}

/// The types that never move: published once at the start.
pub fn write_fixed(w: &Work) {
    let pts: Vec<Value> = PRICE_TYPES
        .iter()
        .map(|id| json!({"id": id, "name": format!("Цена {id}"), "currency": "RUB"}))
        .collect();
    let whs: Vec<Value> = WAREHOUSES
        .iter()
        .map(|id| json!({"id": id, "name": format!("Склад {id}")}))
        .collect();
    w.drop_file("prices_types.json", &serde_json::to_vec(&pts).unwrap());
    w.drop_file("warehouses.json", &serde_json::to_vec(&whs).unwrap());
}

pub fn start() -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339("2026-12-01T08:00:00+03:00").unwrap()
}

pub fn engine(w: &Work, t: Arc<dyn Transport>, clock: &FakeClock) -> Engine {
    Engine::with_clock(w.settings(), t, Arc::new(clock.clone())).unwrap()
}

/// A work folder like [`Work::with_config`]'s, in memory where the machine has a tmpfs: the
/// journal flushes every transition, and hundreds of passes would spend the test's time on
/// the disk rather than on what it checks.
pub fn work(extra: &str) -> Work {
    let shm = std::path::Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::Builder::new()
            .prefix("compo-changes-")
            .tempdir_in(shm)
            .expect("tempdir")
    } else {
        crate::harness::tempdir()
    };
    let mut cfg = format!(
        "workdir = {:?}\n{extra}\n[detect]\nsettle_secs = 0.05\npoll_secs = 0.05\n[schedule]\n",
        dir.path().display().to_string()
    );
    for j in compo_exchange::schedule::Job::ALL {
        cfg.push_str(&format!("{} = \"immediate\"\n", j.key()));
    }
    std::fs::write(dir.path().join("config.toml"), cfg).unwrap();
    Work { dir }
}

/// Compares two holdings by content (number spelling and member order do not count).
pub fn assert_same(label: &str, got: &Records, want: &Records, t: DataType) {
    let g: BTreeMap<&String, u128> = got.iter().map(|(k, r)| (k, hash(r))).collect();
    let w: BTreeMap<&String, u128> = want.iter().map(|(k, r)| (k, hash(r))).collect();
    if g != w {
        let missing: Vec<&&String> = w.keys().filter(|k| !g.contains_key(*k)).collect();
        let extra: Vec<&&String> = g.keys().filter(|k| !w.contains_key(*k)).collect();
        let differ: Vec<&&String> = w
            .iter()
            .filter(|(k, h)| g.get(*k).is_some_and(|x| x != *h))
            .map(|(k, _)| k)
            .collect();
        panic!(
            "{label}: {}: the portal lacks {missing:?}, has {extra:?} too, differs on {differ:?}",
            t.name()
        );
    }
}

fn hash(r: &Map<String, Value>) -> u128 {
    value_hash(&Value::Object(r.clone()))
}

/// Every record the portal holds of `t` is in the record store with the same content hash,
/// and the store holds nothing more.
pub fn assert_store_agrees(label: &str, e: &Engine, portal: &ReferencePortal, t: DataType) {
    let held = e
        .journal()
        .holding(t)
        .unwrap()
        .unwrap_or_else(|| panic!("{label}: no store of {}", t.name()));
    let records = portal.records(t);
    for (k, r) in &records {
        let entry = held.entries.get(k.as_str()).unwrap_or_else(|| {
            panic!(
                "{label}: {} {k:?} is on the portal, not in the store",
                t.name()
            )
        });
        assert_eq!(
            entry.hash(),
            hash(r),
            "{label}: {} {k:?}: the store's hash is not the portal's record's",
            t.name()
        );
    }
    let extra: Vec<&str> = held
        .entries
        .keys()
        .map(|k| &**k)
        .filter(|k| !records.contains_key(*k))
        .collect();
    assert!(
        extra.is_empty(),
        "{label}: the store holds {} keys the portal does not: {extra:?}",
        t.name()
    );
    // The record texts the store keeps in its layers (what the Prodly bodies are written
    // from) are the portal's records too, each once.
    let mut texts = 0;
    let store = e.journal().store_dir().to_path_buf();
    layers::for_each_record(&store, t, &held, &mut |text| {
        let v: Value = serde_json::from_str(text).unwrap();
        let k = compo_exchange::compo::keys::key_of(t, v.as_object().unwrap()).unwrap();
        let on_portal = records.get(&k).unwrap_or_else(|| {
            panic!(
                "{label}: the store's layers hold {} {k:?}, the portal does not",
                t.name()
            )
        });
        assert_eq!(
            value_hash(&v),
            hash(on_portal),
            "{label}: {} {k:?}: the layer's text is not the portal's record",
            t.name()
        );
        texts += 1;
        Ok(())
    })
    .unwrap_or_else(|err| panic!("{label}: the layers of {}: {err}", t.name()));
    assert_eq!(
        texts,
        records.len(),
        "{label}: {} texts in the layers",
        t.name()
    );
}

/// One run: `rounds` rounds of ERP output, each followed by a pass of the engine, the
/// portal's import and the checks (the portal as the ERP means it, the store agreeing).
/// Returns the portal, the ERP and the number of files that reached `in/`.
fn run(seed: u64, rounds: u32, changes_only: bool) -> (ReferencePortal, Erp, usize) {
    let label = format!(
        "seed {seed}, {}",
        if changes_only {
            "changes only"
        } else {
            "whole snapshots"
        }
    );
    let w = work(&config(changes_only, ""));
    let clock = FakeClock::new(start());
    let mut e = engine(&w, Arc::new(LocalTransport::new(w.path("server"))), &clock);
    let mut erp = Erp::new(seed);
    let mut portal = ReferencePortal::new();
    write_fixed(&w);
    let mut sent = 0;
    for round in 0..rounds {
        if round > 0 {
            erp.change();
        }
        erp.write(&w);
        let sum = e
            .once()
            .unwrap_or_else(|err| panic!("{label}: round {round}: {err}"));
        assert!(
            sum.rejected.is_empty(),
            "{label}: round {round}: rejected {:?}: {:?}",
            sum.rejected,
            names(&w.path("rejected"))
        );
        assert!(
            names(&w.path("outbox")).is_empty(),
            "{label}: round {round}: left in the outbox"
        );
        sent += portal.import(&w.path("server/in")).len();
        for t in MOVING {
            let at = format!("{label}, round {round}");
            assert_same(&at, &portal.records(t), &erp.now[&t], t);
            assert_store_agrees(&at, &e, &portal, t);
        }
        clock.set(clock.now() + chrono::TimeDelta::minutes(20));
    }
    (portal, erp, sent)
}

#[test]
fn changes_only_or_not_the_portal_ends_as_the_erp_meant_without_a_dangling_reference() {
    let seed = seed(0x0C4A_96E5);
    const ROUNDS: u32 = 40;
    let (whole, erp, sent_whole) = run(seed, ROUNDS, false);
    let (changes, erp2, sent_changes) = run(seed, ROUNDS, true);
    assert_eq!(
        erp.files, erp2.files,
        "seed {seed}: the ERP is not replayable"
    );
    for t in MOVING {
        assert_same(
            &format!("seed {seed}: changes only against whole"),
            &changes.records(t),
            &whole.records(t),
            t,
        );
        assert!(
            !erp.now[&t].is_empty(),
            "seed {seed}: {} ended empty: the run proves little",
            t.name()
        );
    }
    assert!(
        changes
            .imported
            .iter()
            .any(|n| n.contains(".delta-changes-")),
        "seed {seed}: no snapshot went out as a delta: {:?}",
        changes.imported
    );
    // Changes only publishes no more files than whole snapshots do (an unchanged snapshot is
    // not published at all).
    assert!(
        sent_changes <= sent_whole,
        "seed {seed}: {sent_changes} files with changes only, {sent_whole} without"
    );
}
