//! The daemon loop in-process under the fake clock: failures that pass are retried within the
//! same process, file by file, without holding back what does not depend on them, and a long
//! run through a faulty server (h4's seeded `FaultyTransport`) converges with exactly-once
//! delivery and nothing stuck once the faults stop.

use crate::harness::{names, stderr, tree, Work};
use compo_exchange::journal::State;
use compo_exchange::pipeline::Engine;
use compo_exchange::schedule::{Clock, FakeClock};
use compo_exchange::transport::faulty::{Faults, FaultyTransport};
use compo_exchange::transport::local::LocalTransport;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

fn at(s: &str) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(s).unwrap()
}

/// Runs the loop until the fake clock reaches `until`, jumping to each time it asks for.
fn run_until(e: &mut Engine, clock: &FakeClock, until: chrono::DateTime<chrono::FixedOffset>) {
    while clock.now() < until {
        let next = e
            .tick()
            .expect("the loop never stops for an error that passes");
        clock.set(next.min(until).max(clock.now()));
    }
}

fn order(id: &str) -> String {
    format!(
        r#"[{{"id":"{id}","date":"2026-11-22","status":"new","customer_id":"CUS-2","contragent_id":"CA-2","currency":"RUB","items":[{{"product_id":"P-1","quantity":1,"price":719.25,"amount":719.25}}],"total":719.25}}]"#
    )
}

#[test]
fn a_publish_that_fails_at_its_slot_is_retried_in_process_and_the_slot_waits_for_it() {
    let w = Work::with_config(
        "[detect]\nsettle_secs = 1\npoll_secs = 5\nwatch = false\n\
         [schedule]\nfinances = \"0 6 * * *\"\ncollect = \"1m\"",
    );
    let o = w.run("once", &["--samples"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let clock = FakeClock::new(at("2026-12-01T05:58:00+03:00"));
    let mut e = Engine::with_clock(
        w.settings(),
        Arc::new(LocalTransport::new(w.path("server"))),
        Arc::new(clock.clone()),
    )
    .unwrap();
    let mut finances = std::fs::read(compo_exchange_fixture("finances.json")).unwrap();
    finances.extend_from_slice(b"\n\n");
    w.drop_file("finances.json", &finances);
    run_until(&mut e, &clock, at("2026-12-01T05:59:30+03:00"));
    assert_eq!(e.journal().all_staged().unwrap().len(), 1);
    // The server's in/ disappears just before the slot, and comes back a few minutes later.
    std::fs::rename(w.path("server/in"), w.path("server/in.away")).unwrap();
    w.portal_writes("orders.during.json", order("W-DURING").as_bytes());
    run_until(&mut e, &clock, at("2026-12-01T06:03:00+03:00"));
    assert!(!w.path("server/in/finances.json").exists());
    // Status shows the file retrying with its error and next attempt, and out/ was still
    // collected although in/ failed.
    let failing = e.journal().failures().unwrap();
    assert_eq!(failing.len(), 1, "{failing:?}");
    assert_eq!(failing[0].name, "finances.json");
    assert!(failing[0].attempts >= 2, "{failing:?}");
    assert!(at(&failing[0].next_attempt) > at("2026-12-01T06:00:00+03:00"));
    assert!(names(&w.path("inbox")).contains(&"orders.during.json".to_string()));
    std::fs::rename(w.path("server/in.away"), w.path("server/in")).unwrap();
    // Published within minutes, not at tomorrow's slot, without a restart.
    run_until(&mut e, &clock, at("2026-12-01T06:10:00+03:00"));
    let published: Value =
        serde_json::from_slice(&std::fs::read(w.path("server/in/finances.json")).unwrap()).unwrap();
    let original: Value = serde_json::from_slice(&finances).unwrap();
    assert_eq!(published, original);
    assert!(e.journal().failures().unwrap().is_empty());
    assert!(e
        .journal()
        .unfinished()
        .unwrap()
        .iter()
        .all(|r| r.state == State::Staged));
    let health = e.journal().health().unwrap();
    let fin = health.iter().find(|h| h.component == "finances").unwrap();
    assert!(fin.error.is_none(), "{fin:?}");
}

fn compo_exchange_fixture(name: &str) -> std::path::PathBuf {
    crate::harness::fixtures().join("batch").join(name)
}

/// A work folder like [`Work::with_config`]'s, in memory where the machine has a tmpfs: the
/// soak is about what the loop does with faults, and tens of thousands of fsyncs (the journal
/// flushes every transition) would spend its time budget on the disk, not on the loop.
fn work_in_memory(extra: &str) -> Work {
    let shm = std::path::Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::Builder::new()
            .prefix("compo-soak-")
            .tempdir_in(shm)
            .expect("tempdir")
    } else {
        crate::harness::tempdir()
    };
    let cfg = format!(
        "workdir = {:?}\n{extra}\n",
        dir.path().display().to_string()
    );
    std::fs::write(dir.path().join("config.toml"), cfg).unwrap();
    Work { dir }
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0";

fn remains(i: u32) -> String {
    format!("[\n{{\"product_id\":\"P-1\",\"warehouse_id\":\"WH-MSK\",\"quantity\":{i}}}\n]\n")
}

/// 48 simulated hours of the daemon (one engine, never restarted) through a server that
/// fails, stalls and drops the connection at seeded points for the first 40 hours. Replay a
/// failing run with `SOAK_SEED=<seed>`.
#[test]
fn soak_48_hours_through_a_faulty_server_converges_exactly_once() {
    let seed: u64 = std::env::var("SOAK_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x50A4_5EED);
    const FILES: u32 = 1_000;
    const ORDERS: u32 = 100;
    const PICTURES: u32 = 2_000;
    let w = work_in_memory(
        "[detect]\nsettle_secs = 2\npoll_secs = 10\nwatch = false\n[schedule]\ncollect = \"1m\"",
    );
    let o = w.run("once", &["--samples"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let start = at("2026-12-01T00:00:00+03:00");
    let clock = FakeClock::new(start);
    let faulty = Arc::new(FaultyTransport::new(
        LocalTransport::new(w.path("server")),
        Faults::rough(seed),
    ));
    let mut e = Engine::with_clock(w.settings(), faulty.clone(), Arc::new(clock.clone())).unwrap();
    let hour = chrono::TimeDelta::hours(1);
    let faults_end = start + hour * 40;
    let end = start + hour * 48;
    let (mut files, mut orders, mut pictures) = (0u32, 0u32, 0u32);
    let invalid = |i: u32| i % 13 == 7;
    let mut slot = start;
    while clock.now() < end {
        // Every ten simulated minutes of the first 34 hours, the ERP and the portal write.
        if clock.now() >= slot && slot < start + hour * 34 {
            for _ in 0..5 {
                if files < FILES {
                    let body = if invalid(files) {
                        format!("[{{\"product_id\":\"P-1\",\"quantity\":-{files}}}]")
                    } else {
                        remains(files)
                    };
                    w.drop_file(&format!("remains.delta-s{files}.json"), body.as_bytes());
                    files += 1;
                }
            }
            for _ in 0..10 {
                if pictures < PICTURES {
                    let mut body = PNG.to_vec();
                    body.extend_from_slice(format!("picture {pictures}").as_bytes());
                    w.drop_file(&format!("pictures/s{pictures}.png"), &body);
                    pictures += 1;
                }
            }
            if orders < ORDERS && (slot - start).num_minutes() % 20 == 0 {
                w.portal_writes(
                    &format!("orders.s{orders}.json"),
                    order(&format!("W-S{orders}")).as_bytes(),
                );
                orders += 1;
            }
            slot += chrono::TimeDelta::minutes(10);
        }
        if clock.now() >= faults_end {
            faulty.set_enabled(false);
        }
        let next = e.tick().unwrap_or_else(|err| {
            panic!("seed {seed}: the daemon stopped at {}: {err}", clock.now())
        });
        let now = clock.now();
        let mut to = next.min(end);
        if slot > now && slot < start + hour * 34 {
            to = to.min(slot);
        }
        if to <= now {
            // Asked to look again at once (a backoff already over): let time move a little.
            to = now + chrono::TimeDelta::milliseconds(500);
        }
        clock.set(to);
    }
    assert_eq!((files, orders, pictures), (FILES, ORDERS, PICTURES));
    assert!(
        faulty.log().len() > 100,
        "seed {seed}: too few faults to mean anything: {}",
        faulty.log().len()
    );

    // Exactly once, nothing partial: each valid file is in in/ once, with its own content.
    let in_names = names(&w.path("server/in"));
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for n in &in_names {
        if let Some(rest) = n.strip_prefix("remains.delta-s") {
            let i = rest.split(['.', '-']).next().unwrap().to_string();
            *count.entry(i).or_default() += 1;
        }
    }
    let rejected = w.rejected_names();
    for i in 0..FILES {
        let name = format!("remains.delta-s{i}.json");
        if invalid(i) {
            assert!(
                rejected.contains(&format!("{name}.report.json")),
                "seed {seed}: {name} has no report"
            );
            assert!(!count.contains_key(&i.to_string()), "seed {seed}: {name}");
        } else {
            assert_eq!(
                count.get(&i.to_string()),
                Some(&1),
                "seed {seed}: {name} in in/"
            );
            let got = std::fs::read_to_string(w.path("server/in").join(&name))
                .unwrap_or_else(|err| panic!("seed {seed}: {name}: {err}"));
            assert_eq!(got, remains(i), "seed {seed}: {name}");
        }
    }
    let leftovers: Vec<String> = tree(&w.path("server/in"))
        .into_iter()
        .filter(|n| n.contains(".ce-up") || n.ends_with(".part"))
        .collect();
    assert!(leftovers.is_empty(), "seed {seed}: {leftovers:?}");
    for i in 0..PICTURES {
        let p = w.path(&format!("server/in/pictures/s{i}.png"));
        let mut body = PNG.to_vec();
        body.extend_from_slice(format!("picture {i}").as_bytes());
        assert_eq!(std::fs::read(&p).ok(), Some(body), "seed {seed}: s{i}.png");
    }
    // Orders: each delivered once, acknowledged, nothing left in out/.
    let inbox = names(&w.path("inbox"));
    for i in 0..ORDERS {
        let n = format!("orders.s{i}.json");
        assert_eq!(
            inbox.iter().filter(|m| **m == n).count(),
            1,
            "seed {seed}: {n} delivered"
        );
    }
    assert!(
        inbox
            .iter()
            .all(|n| !n.contains("orders.s") || !n.contains('-')),
        "seed {seed}: a second delivery under another name: {inbox:?}"
    );
    assert!(names(&w.path("server/out")).is_empty(), "seed {seed}");
    assert_eq!(
        names(&w.path("server/out/archive"))
            .iter()
            .filter(|n| n.starts_with("orders.s"))
            .count(),
        ORDERS as usize
    );
    // Nothing stuck once the faults stopped.
    assert!(names(&w.path("outbox")).is_empty(), "seed {seed}");
    let stuck: Vec<String> = e
        .journal()
        .unfinished()
        .unwrap()
        .into_iter()
        .map(|r| format!("{} {}", r.name, r.state))
        .collect();
    assert!(stuck.is_empty(), "seed {seed}: {stuck:?}");
    assert!(
        e.journal().failures().unwrap().is_empty(),
        "seed {seed}: {:?}",
        e.journal().failures().unwrap()
    );
}

/// A server that acknowledges fewer bytes than it was sent for its first uploads: what a
/// flaky network share does. Simulated, because no real server can be made to do it on cue;
/// everything else is passed to a real local folder.
struct ShortUploads {
    inner: LocalTransport,
    short: std::sync::atomic::AtomicU32,
    /// Uploads whose path contains this fail as a broken connection does.
    refuse: std::sync::Mutex<Option<&'static str>>,
}

impl compo_exchange::transport::Transport for ShortUploads {
    fn describe(&self) -> String {
        self.inner.describe()
    }
    fn features(&self) -> compo_exchange::transport::Features {
        self.inner.features()
    }
    fn list(
        &self,
        dir: &str,
    ) -> compo_exchange::transport::Result<Vec<compo_exchange::transport::Entry>> {
        self.inner.list(dir)
    }
    fn stat(
        &self,
        path: &str,
    ) -> compo_exchange::transport::Result<Option<compo_exchange::transport::Entry>> {
        self.inner.stat(path)
    }
    fn read_to(
        &self,
        path: &str,
        sink: &mut dyn std::io::Write,
    ) -> compo_exchange::transport::Result<u64> {
        self.inner.read_to(path, sink)
    }
    fn write_atomic(
        &self,
        path: &str,
        src: &mut dyn std::io::Read,
    ) -> compo_exchange::transport::Result<compo_exchange::transport::Written> {
        if let Some(p) = *self.refuse.lock().unwrap() {
            if path.contains(p) {
                return Err(compo_exchange::transport::TransportError::Connection(
                    format!("{path}: connection reset by peer"),
                ));
            }
        }
        let mut w = self.inner.write_atomic(path, src)?;
        let left = self.short.load(std::sync::atomic::Ordering::SeqCst);
        if left > 0 && path.contains(".ce-up") {
            self.short
                .store(left - 1, std::sync::atomic::Ordering::SeqCst);
            w.size /= 2;
        }
        Ok(w)
    }
    fn put_file(
        &self,
        local: &std::path::Path,
        path: &str,
        _known: Option<&compo_exchange::transport::Written>,
    ) -> compo_exchange::transport::Result<compo_exchange::transport::Written> {
        let mut f = std::fs::File::open(local).unwrap();
        self.write_atomic(path, &mut f)
    }
    fn rename(&self, from: &str, to: &str) -> compo_exchange::transport::Result<()> {
        self.inner.rename(from, to)
    }
    fn remove(&self, path: &str) -> compo_exchange::transport::Result<()> {
        self.inner.remove(path)
    }
    fn mkdir_all(&self, path: &str) -> compo_exchange::transport::Result<()> {
        self.inner.mkdir_all(path)
    }
}

#[test]
fn a_short_upload_is_retried_not_fatal() {
    let w = Work::with_config("[detect]\nsettle_secs = 1\npoll_secs = 5\nwatch = false");
    let o = w.run("once", &["--samples"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let clock = FakeClock::new(at("2026-12-01T10:00:00+03:00"));
    let short = Arc::new(ShortUploads {
        inner: LocalTransport::new(w.path("server")),
        short: 3.into(),
        refuse: None.into(),
    });
    let mut e = Engine::with_clock(w.settings(), short.clone(), Arc::new(clock.clone())).unwrap();
    w.drop_file("remains.delta-short.json", remains(42).as_bytes());
    run_until(&mut e, &clock, at("2026-12-01T10:00:03+03:00"));
    // Tried and failed (short uploads), yet the loop went on and said why.
    assert!(!w.path("server/in/remains.delta-short.json").exists());
    let failing = e.journal().failures().unwrap();
    assert_eq!(failing.len(), 1, "{failing:?}");
    assert!(failing[0].last_error.contains("bytes"), "{failing:?}");
    run_until(&mut e, &clock, at("2026-12-01T10:01:00+03:00"));
    assert_eq!(short.short.load(std::sync::atomic::Ordering::SeqCst), 0);
    assert_eq!(
        std::fs::read_to_string(w.path("server/in/remains.delta-short.json")).unwrap(),
        remains(42)
    );
    assert!(e.journal().failures().unwrap().is_empty());
}

#[test]
fn one_failing_type_does_not_hold_back_another() {
    let w = Work::with_config("[detect]\nsettle_secs = 1\npoll_secs = 5\nwatch = false");
    let o = w.run("once", &["--samples"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let clock = FakeClock::new(at("2026-12-01T10:00:00+03:00"));
    let t = Arc::new(ShortUploads {
        inner: LocalTransport::new(w.path("server")),
        short: 0.into(),
        refuse: Some("segments").into(),
    });
    let mut e = Engine::with_clock(w.settings(), t.clone(), Arc::new(clock.clone())).unwrap();
    w.drop_file(
        "segments.delta-f.json",
        r#"[{"id":"SEG-F","name":"Failing"}]"#.as_bytes(),
    );
    w.drop_file("remains.delta-ok.json", remains(7).as_bytes());
    run_until(&mut e, &clock, at("2026-12-01T10:02:00+03:00"));
    assert_eq!(
        std::fs::read_to_string(w.path("server/in/remains.delta-ok.json")).unwrap(),
        remains(7)
    );
    assert!(!w.path("server/in/segments.delta-f.json").exists());
    let failing = e.journal().failures().unwrap();
    assert_eq!(
        failing.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
        ["segments.delta-f.json"]
    );
    *t.refuse.lock().unwrap() = None;
    run_until(&mut e, &clock, at("2026-12-01T10:10:00+03:00"));
    assert!(w.path("server/in/segments.delta-f.json").exists());
    assert!(e.journal().failures().unwrap().is_empty());
}

#[test]
fn a_local_failure_while_staging_is_redone_by_the_loop_without_a_restart() {
    let w = Work::with_config("[detect]\nsettle_secs = 1\npoll_secs = 5\nwatch = false");
    let o = w.run("once", &["--samples"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let clock = FakeClock::new(at("2026-12-01T10:00:00+03:00"));
    let mut e = Engine::with_clock(
        w.settings(),
        Arc::new(LocalTransport::new(w.path("server"))),
        Arc::new(clock.clone()),
    )
    .unwrap();
    // The staging folder cannot be written (a file in its place: permissions do not stop
    // root).
    std::fs::remove_dir_all(w.path("state/staging")).unwrap();
    std::fs::write(w.path("state/staging"), "in the way").unwrap();
    w.drop_file("remains.delta-st.json", remains(3).as_bytes());
    run_until(&mut e, &clock, at("2026-12-01T10:00:10+03:00"));
    assert!(!w.path("server/in/remains.delta-st.json").exists());
    let waiting: Vec<State> = e
        .journal()
        .unfinished()
        .unwrap()
        .iter()
        .map(|r| r.state)
        .collect();
    assert_eq!(waiting, [State::Claimed]);
    let outbox = e.journal().health().unwrap();
    assert!(
        outbox
            .iter()
            .any(|h| h.component == "outbox" && h.error.is_some()),
        "{outbox:?}"
    );
    std::fs::remove_file(w.path("state/staging")).unwrap();
    std::fs::create_dir(w.path("state/staging")).unwrap();
    run_until(&mut e, &clock, at("2026-12-01T10:05:00+03:00"));
    assert_eq!(
        std::fs::read_to_string(w.path("server/in/remains.delta-st.json")).unwrap(),
        remains(3)
    );
    assert!(e.journal().unfinished().unwrap().is_empty());
}
