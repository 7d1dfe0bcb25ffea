//! Changes-only publishing through crashes (issue 18 item 2): the processor stops at every
//! server operation of a publish (before it, or just after it took effect), a new engine starts
//! on the same work folder, and the portal still ends with what the ERP meant, the record store
//! agreeing with it, and the next snapshot of a type caught mid-publish going out in full. Also
//! a journal lost between runs, and a `drop_records` publish.
//!
//! The crash is simulated in-process: a transport that panics at its Nth operation (a real
//! process kill cannot be aimed at one operation), after which the engine is dropped as a dead
//! process would leave its files; everything else is real (local server folder, SQLite).

use crate::changes_property::{
    assert_same, assert_store_agrees, config, engine, seed, start, work, write_fixed, Erp, MOVING,
};
use crate::harness::{names, Work};
use crate::reference_portal::ReferencePortal;
use compo_exchange::compo::model::DataType;
use compo_exchange::schedule::{Clock, FakeClock};
use compo_exchange::transport::local::LocalTransport;
use compo_exchange::transport::{self as tr, Transport};
use std::io::{Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// A local server folder whose Nth operation (once armed) is a crash: a panic before the
/// operation, or (`after`) once it took effect.
struct CrashAt {
    inner: LocalTransport,
    count: AtomicU64,
    at: AtomicU64,
    after: AtomicBool,
    /// The path of the operation that crashed.
    crashed_on: std::sync::Mutex<Option<String>>,
}

impl CrashAt {
    fn new(root: &Path) -> CrashAt {
        CrashAt {
            inner: LocalTransport::new(root),
            count: 0.into(),
            at: 0.into(),
            after: false.into(),
            crashed_on: None.into(),
        }
    }

    fn arm(&self, n: u64, after: bool) {
        self.count.store(0, Ordering::SeqCst);
        self.after.store(after, Ordering::SeqCst);
        self.at.store(n, Ordering::SeqCst);
    }

    fn step<T>(&self, what: &str, path: &str, op: impl FnOnce() -> tr::Result<T>) -> tr::Result<T> {
        let n = self.count.fetch_add(1, Ordering::SeqCst) + 1;
        let crash = self.at.load(Ordering::SeqCst) == n;
        if crash {
            *self.crashed_on.lock().unwrap() = Some(path.to_string());
        }
        if crash && !self.after.load(Ordering::SeqCst) {
            panic!("simulated crash before operation {n}: {what} {path}");
        }
        let r = op();
        if crash {
            panic!("simulated crash after operation {n}: {what} {path}");
        }
        r
    }
}

impl Transport for CrashAt {
    fn describe(&self) -> String {
        self.inner.describe()
    }
    fn features(&self) -> tr::Features {
        self.inner.features()
    }
    fn list(&self, dir: &str) -> tr::Result<Vec<tr::Entry>> {
        self.step("list", dir, || self.inner.list(dir))
    }
    fn stat(&self, path: &str) -> tr::Result<Option<tr::Entry>> {
        self.step("stat", path, || self.inner.stat(path))
    }
    fn read_to(&self, path: &str, sink: &mut dyn Write) -> tr::Result<u64> {
        self.step("read", path, || self.inner.read_to(path, sink))
    }
    fn write_atomic(&self, path: &str, src: &mut dyn Read) -> tr::Result<tr::Written> {
        self.step("write", path, || self.inner.write_atomic(path, src))
    }
    fn write_atomic_unflushed(&self, path: &str, src: &mut dyn Read) -> tr::Result<tr::Written> {
        self.step("write", path, || {
            self.inner.write_atomic_unflushed(path, src)
        })
    }
    fn put_file(
        &self,
        local: &Path,
        path: &str,
        known: Option<&tr::Written>,
    ) -> tr::Result<tr::Written> {
        self.step("put", path, || self.inner.put_file(local, path, known))
    }
    fn rename(&self, from: &str, to: &str) -> tr::Result<()> {
        self.step("rename", to, || self.inner.rename(from, to))
    }
    fn remove(&self, path: &str) -> tr::Result<()> {
        self.step("remove", path, || self.inner.remove(path))
    }
    fn mkdir_all(&self, path: &str) -> tr::Result<()> {
        self.step("mkdir", path, || self.inner.mkdir_all(path))
    }
}

/// The rounds before the one the crash hits: the first publish (full) of every type.
const BEFORE: u32 = 1;

/// The data type whose publish an operation on `path` belongs to: an upload under its hidden
/// name, or the rename onto its name in `in/`.
fn publishing(path: &str) -> Option<DataType> {
    let name = path.strip_prefix("in/")?.trim_start_matches('.');
    DataType::from_name(name.split('.').next()?)
}

fn pass(
    e: &mut compo_exchange::pipeline::Engine,
    w: &Work,
    portal: &mut ReferencePortal,
    label: &str,
) -> Vec<String> {
    let sum = e.once().unwrap_or_else(|err| panic!("{label}: {err}"));
    assert!(
        sum.rejected.is_empty(),
        "{label}: rejected {:?}: {:?}",
        sum.rejected,
        names(&w.path("rejected"))
    );
    portal.import(&w.path("server/in"))
}

fn check(label: &str, e: &compo_exchange::pipeline::Engine, portal: &ReferencePortal, erp: &Erp) {
    for t in MOVING {
        assert_same(label, &portal.records(t), &erp.now[&t], t);
        assert_store_agrees(label, e, portal, t);
    }
}

/// Runs to the crash round and crashes at operation `n`; `None` when the round has fewer
/// operations. Otherwise restarts, finishes, and checks; returns whether a type was in doubt.
fn crash_run(seed: u64, n: u64, after: bool) -> Option<bool> {
    let label = format!(
        "seed {seed}, crash {} operation {n}",
        if after { "after" } else { "before" }
    );
    let w = work(&config(true, ""));
    let clock = FakeClock::new(start());
    let crash = Arc::new(CrashAt::new(&w.path("server")));
    let mut e = engine(&w, crash.clone(), &clock);
    let mut erp = Erp::new(seed);
    let mut portal = ReferencePortal::new();
    write_fixed(&w);
    for round in 0..BEFORE {
        if round > 0 {
            erp.change();
        }
        erp.write(&w);
        pass(&mut e, &w, &mut portal, &format!("{label}, round {round}"));
        clock.set(clock.now() + chrono::TimeDelta::minutes(20));
    }
    erp.change_every_type();
    erp.snapshots_only = true;
    erp.write(&w);
    crash.arm(n, after);
    let crashed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| e.once())).is_err();
    crash.arm(0, false);
    if !crashed {
        return None;
    }
    let in_flight = crash
        .crashed_on
        .lock()
        .unwrap()
        .as_deref()
        .and_then(publishing);
    drop(e);
    // The portal goes on importing while the processor is down.
    portal.import(&w.path("server/in"));
    let mut e = engine(&w, Arc::new(LocalTransport::new(w.path("server"))), &clock);
    pass(
        &mut e,
        &w,
        &mut portal,
        &format!("{label}, after the restart"),
    );
    check(&format!("{label}, after the restart"), &e, &portal, &erp);
    // The next export of every type: the one caught mid-publish goes out whole, the others
    // as deltas.
    clock.set(clock.now() + chrono::TimeDelta::minutes(20));
    erp.change_every_type();
    erp.force_all = true;
    erp.write(&w);
    let got = pass(&mut e, &w, &mut portal, &format!("{label}, next round"));
    for t in MOVING {
        let full = got.contains(&format!("{}.json", t.name()));
        assert_eq!(
            full,
            in_flight == Some(t),
            "{label}: {} {} caught mid-publish; published next: {got:?}",
            t.name(),
            if in_flight == Some(t) {
                "was"
            } else {
                "was not"
            }
        );
    }
    check(&format!("{label}, next round"), &e, &portal, &erp);
    Some(in_flight.is_some())
}

#[test]
fn a_crash_at_any_operation_of_a_changes_only_publish_ends_as_the_erp_meant() {
    let seed = seed(0x0C4A_5C8A);
    for after in [false, true] {
        let mut n = 1;
        let mut in_flight = 0;
        while let Some(d) = crash_run(seed, n, after) {
            in_flight += d as u32;
            n += 1;
        }
        // Four deltas of four operations each (upload, two checks, rename), and more.
        assert!(
            in_flight >= 16,
            "seed {seed}: only {in_flight} of {n} crashes caught a publish in flight"
        );
    }
}

#[test]
fn a_lost_journal_sends_every_snapshot_in_full_and_the_store_is_rebuilt() {
    let seed = seed(0x0C4A_105E);
    let w = work(&config(true, ""));
    let clock = FakeClock::new(start());
    let local = || Arc::new(LocalTransport::new(w.path("server")));
    let mut e = engine(&w, local(), &clock);
    let mut erp = Erp::new(seed);
    let mut portal = ReferencePortal::new();
    write_fixed(&w);
    for round in 0..3 {
        if round > 0 {
            erp.change();
        }
        erp.write(&w);
        pass(
            &mut e,
            &w,
            &mut portal,
            &format!("seed {seed}, round {round}"),
        );
        clock.set(clock.now() + chrono::TimeDelta::minutes(20));
    }
    drop(e);
    for f in ["journal.db", "journal.db-wal", "journal.db-shm"] {
        let _ = std::fs::remove_file(w.path("state").join(f));
    }
    let mut e = engine(&w, local(), &clock);
    erp.change();
    erp.force_all = true;
    erp.snapshots_only = true;
    erp.write(&w);
    let got = pass(
        &mut e,
        &w,
        &mut portal,
        &format!("seed {seed}, journal lost"),
    );
    for t in MOVING {
        assert!(
            got.contains(&format!("{}.json", t.name())),
            "seed {seed}: {} after a lost journal: {got:?}",
            t.name()
        );
    }
    check(&format!("seed {seed}, journal lost"), &e, &portal, &erp);
    // And changes only again from there on.
    clock.set(clock.now() + chrono::TimeDelta::minutes(20));
    erp.change_every_type();
    erp.write(&w);
    let got = pass(&mut e, &w, &mut portal, &format!("seed {seed}, after"));
    assert!(
        got.iter().any(|n| n.contains(".delta-changes-")),
        "seed {seed}: {got:?}"
    );
    check(&format!("seed {seed}, after"), &e, &portal, &erp);
}

#[test]
fn a_record_dropped_from_a_snapshot_is_not_in_the_store_and_the_next_delta_brings_it() {
    let seed = seed(0x0C4A_D809);
    let w = work(&config(true, "[validation]\npolicy = \"drop_records\"\n"));
    let clock = FakeClock::new(start());
    let mut e = engine(&w, Arc::new(LocalTransport::new(w.path("server"))), &clock);
    let mut erp = Erp::new(seed);
    let mut portal = ReferencePortal::new();
    write_fixed(&w);
    erp.write(&w);
    pass(&mut e, &w, &mut portal, "round 0");
    check("round 0", &e, &portal, &erp);
    // A new product without its unit (required), and a changed one.
    let products = erp.now.get_mut(&DataType::Products).unwrap();
    let (first, rec) = products
        .iter()
        .next()
        .map(|(k, r)| (k.clone(), r.clone()))
        .unwrap();
    let mut bad = rec.clone();
    bad.insert("id".into(), "P-BAD".into());
    bad.remove("unit");
    products.insert("P-BAD".into(), bad.clone());
    products.get_mut(&first).unwrap()["name"] = "Переименован".into();
    erp.snapshots_only = true;
    // Every type's snapshot in the same batch: the files that refer to products refer to
    // the good ones, which the partly published products file carries.
    clock.set(clock.now() + chrono::TimeDelta::minutes(20));
    erp.write(&w);
    let sum = e.once().unwrap();
    let reports: Vec<String> = crate::harness::tree(&w.path("rejected"))
        .iter()
        .map(|n| std::fs::read_to_string(w.path("rejected").join(n)).unwrap())
        .collect();
    assert!(sum.rejected.is_empty(), "{sum:?} {reports:?}");
    let got = portal.import(&w.path("server/in"));
    assert!(
        got.iter().any(|n| n.starts_with("products.delta-changes-")),
        "{got:?}"
    );
    let on_portal = portal.records(DataType::Products);
    assert!(!on_portal.contains_key("P-BAD"));
    assert_eq!(on_portal[&first]["name"], "Переименован");
    let held = e.journal().holding(DataType::Products).unwrap().unwrap();
    assert!(
        !held.entries.contains_key("P-BAD"),
        "the store holds a record the portal never got"
    );
    let mut meant = erp.now[&DataType::Products].clone();
    meant.remove("P-BAD");
    assert_same(
        "after the dropped record",
        &on_portal,
        &meant,
        DataType::Products,
    );
    assert_store_agrees("after the dropped record", &e, &portal, DataType::Products);
    // The ERP fixes the record: the next snapshot's delta carries it, and only it.
    let fixed = erp
        .now
        .get_mut(&DataType::Products)
        .unwrap()
        .get_mut("P-BAD")
        .unwrap();
    fixed.insert("unit".into(), "шт".into());
    clock.set(clock.now() + chrono::TimeDelta::minutes(20));
    erp.force_all = true;
    erp.write(&w);
    let inbox = w.path("server/in");
    e.once().unwrap();
    let delta = names(&inbox)
        .into_iter()
        .find(|n| n.starts_with("products.delta-changes-"))
        .expect("a delta of products");
    let body: serde_json::Value =
        serde_json::from_slice(&std::fs::read(inbox.join(&delta)).unwrap()).unwrap();
    let ids: Vec<&str> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["P-BAD"], "{body}");
    portal.import(&inbox);
    check("after the fix", &e, &portal, &erp);
}
