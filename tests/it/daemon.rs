//! The daemon (`compo-exchange run`) as a process: awkward writers, graceful stop, and the crash
//! test that kills it with SIGKILL at seeded random moments and checks that the exchange
//! converges with every guarantee intact.

use crate::harness::{cli, names, tree, Work};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// The daemon process, killed when dropped so that a failing test leaves none behind.
struct Daemon(Child);

impl Daemon {
    fn id(&self) -> u32 {
        self.0.id()
    }
    fn kill(&mut self) -> std::io::Result<()> {
        self.0.kill()
    }
    fn wait(&mut self) -> std::io::Result<std::process::ExitStatus> {
        self.0.wait()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(w: &Work) -> Daemon {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(w.path("daemon.log"))
        .unwrap();
    Daemon(
        cli()
            .arg("run")
            .arg("--config")
            .arg(w.config())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start the daemon"),
    )
}

fn wait_for(w: &Work, what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = std::fs::read_to_string(w.path("daemon.log")).unwrap_or_default();
    panic!(
        "timed out waiting for {what}; files: {:?}\nlog:\n{log}",
        tree(w.dir.path())
    );
}

fn delta(q: u32) -> String {
    format!(r#"[{{"product_id":"P-1","warehouse_id":"WH-MSK","quantity":{q}}}]"#)
}

/// A long delta written in `chunks` pieces with `pause` between them, in place (no rename).
fn slow_write(
    path: &Path,
    body: &str,
    chunks: usize,
    pause: Duration,
    keep_mtime: Option<SystemTime>,
) {
    let mut f = std::fs::File::create(path).unwrap();
    let bytes = body.as_bytes();
    let step = bytes.len().div_ceil(chunks);
    for part in bytes.chunks(step) {
        f.write_all(part).unwrap();
        f.flush().unwrap();
        if let Some(t) = keep_mtime {
            f.set_modified(t).unwrap();
        }
        std::thread::sleep(pause);
    }
}

fn long_delta(n: u32) -> String {
    let recs: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"id":"SEG-{i}","name":"Сегмент {i}","note":"{}"}}"#,
                "x".repeat(40)
            )
        })
        .collect();
    format!("[{}]", recs.join(",\n"))
}

fn seeded_work(extra: &str) -> Work {
    let w = Work::with_config(extra);
    let o = w.run("once", &["--samples"]);
    assert_eq!(o.status.code(), Some(0), "{}", crate::harness::stderr(&o));
    w
}

const SLOW: &str = "[detect]\nsettle_secs = 0.4\npoll_secs = 0.05\ntruncation_grace_secs = 30";

#[test]
fn writers_that_cannot_rename_are_waited_for() {
    let w = seeded_work(SLOW);
    let mut d = start(&w);
    let body = long_delta(200);
    let epoch = SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_000);
    // Slow chunks; then one that keeps an old mtime while writing.
    slow_write(
        &w.path("outbox/segments.delta-slow.json"),
        &body,
        8,
        Duration::from_millis(150),
        None,
    );
    slow_write(
        &w.path("outbox/segments.delta-oldmtime.json"),
        &body,
        8,
        Duration::from_millis(150),
        Some(epoch),
    );
    // One that writes half, deletes, and writes again in place.
    let p = w.path("outbox/segments.delta-rewrite.json");
    std::fs::write(&p, &body[..body.len() / 2]).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    std::fs::remove_file(&p).unwrap();
    slow_write(&p, &long_delta(150), 5, Duration::from_millis(150), None);
    wait_for(
        &w,
        "three deltas published",
        Duration::from_secs(20),
        || {
            ["slow", "oldmtime", "rewrite"].iter().all(|n| {
                w.path(&format!("server/in/segments.delta-{n}.json"))
                    .exists()
            })
        },
    );
    d.kill().unwrap();
    d.wait().unwrap();
    for (n, count) in [("slow", 200), ("oldmtime", 200), ("rewrite", 150)] {
        let v: Value = serde_json::from_slice(
            &std::fs::read(w.path(&format!("server/in/segments.delta-{n}.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(v.as_array().unwrap().len(), count, "{n}");
    }
    assert!(w.rejected_names().is_empty(), "{:?}", w.rejected_names());
}

#[test]
fn sigterm_stops_the_daemon_cleanly() {
    let w = seeded_work("");
    let mut d = start(&w);
    w.drop_file("remains.delta-t.json", delta(4).as_bytes());
    wait_for(&w, "publish", Duration::from_secs(10), || {
        w.path("server/in/remains.delta-t.json").exists()
    });
    let t0 = Instant::now();
    std::process::Command::new("kill")
        .arg("-TERM")
        .arg(d.id().to_string())
        .status()
        .unwrap();
    let status = d.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(t0.elapsed() < Duration::from_secs(3));
    let log = std::fs::read_to_string(w.path("daemon.log")).unwrap();
    assert!(log.contains("stopped"), "{log}");
}

/// A small deterministic generator, so a failing run can be replayed with its seed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// What a consumer saw: each file name with its parsed content, or why it did not parse.
type Seen = Arc<Mutex<Vec<(String, Result<Value, String>)>>>;

/// Stands in for the portal (imports and removes what appears in in/) or for the ERP (takes
/// what appears in the inbox), recording every file it saw and whether it parsed completely.
fn consumer(dir: PathBuf, stop: Arc<AtomicBool>, seen: Seen) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || loop {
        let done = stop.load(Ordering::SeqCst);
        for n in names(&dir) {
            if n.starts_with('.') || !n.ends_with(".json") {
                continue;
            }
            let p = dir.join(&n);
            let Ok(bytes) = std::fs::read(&p) else {
                continue;
            };
            let parsed = serde_json::from_slice::<Value>(&bytes).map_err(|e| e.to_string());
            seen.lock().unwrap().push((n, parsed));
            let _ = std::fs::remove_file(&p);
        }
        if done {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    })
}

#[test]
fn kill_9_at_random_points_converges_with_every_guarantee() {
    let seed: u64 = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_C0DE);
    let mut rng = Rng(seed);
    let w =
        seeded_work("[detect]\nsettle_secs = 0.02\npoll_secs = 0.02\ntruncation_grace_secs = 0.1");
    for n in names(&w.path("server/in")) {
        std::fs::remove_file(w.path("server/in").join(n)).unwrap();
    }
    let stop = Arc::new(AtomicBool::new(false));
    let portal = Arc::new(Mutex::new(Vec::new()));
    let erp = Arc::new(Mutex::new(Vec::new()));
    let c1 = consumer(w.path("server/in"), stop.clone(), portal.clone());
    let c2 = consumer(w.path("inbox"), stop.clone(), erp.clone());

    // 300 outbox files (every 7th invalid, every 11th truncated) and 40 orders from the portal.
    let mut outbox: Vec<(String, String, bool)> = (0..300)
        .map(|i| {
            let name = format!("remains.delta-k{i}.json");
            if i % 11 == 5 {
                (name, delta(i)[..30].to_string(), false)
            } else if i % 7 == 3 {
                (
                    name,
                    format!(r#"[{{"product_id":"P-1","warehouse_id":"WH-MSK","quantity":-{i}}}]"#),
                    false,
                )
            } else if i % 2 == 0 {
                // Already in the normalised form: staged as a link to the original, not copied.
                let compact = format!(
                    "[\n{{\"product_id\":\"P-1\",\"warehouse_id\":\"WH-MSK\",\"quantity\":{i}}}\n]\n"
                );
                (name, compact, true)
            } else {
                (name, delta(i), true)
            }
        })
        .collect();
    let orders: Vec<(String, String)> = (0..40)
        .map(|i| {
            let body = format!(
                r#"[{{"id":"W-{i}","date":"2026-11-22","status":"new","customer_id":"CUS-2","contragent_id":"CA-2","currency":"RUB","items":[{{"product_id":"P-1","quantity":1,"price":719.25,"amount":719.25}}],"total":719.25}}]"#
            );
            (format!("orders.c{i}.json"), body)
        })
        .collect();
    let mut pending_out = orders.clone();
    let mut kills = 0;
    while !outbox.is_empty() || !pending_out.is_empty() || kills < 25 {
        let k = rng.below(25) as usize;
        for _ in 0..k.min(outbox.len()) {
            let (n, body, _) = outbox.remove(rng.below(outbox.len() as u64) as usize);
            w.drop_file(&n, body.as_bytes());
        }
        for _ in 0..rng.below(4).min(pending_out.len() as u64) {
            let (n, body) = pending_out.remove(0);
            w.portal_writes(&n, body.as_bytes());
        }
        let mut d = start(&w);
        std::thread::sleep(Duration::from_millis(60 + rng.below(400)));
        d.kill().unwrap();
        d.wait().unwrap();
        kills += 1;
        if kills > 200 {
            break;
        }
    }
    // Converge: a pass finishes whatever was in flight, a second takes what settled meanwhile.
    for _ in 0..2 {
        w.run("once", &[]);
    }
    std::thread::sleep(Duration::from_millis(100));
    stop.store(true, Ordering::SeqCst);
    c1.join().unwrap();
    c2.join().unwrap();

    let all: Vec<(String, String, bool)> = (0..300)
        .map(|i| {
            let name = format!("remains.delta-k{i}.json");
            let valid = !(i % 11 == 5 || i % 7 == 3);
            (name, delta(i), valid)
        })
        .collect();
    let archived: Vec<String> = tree(&w.path("archive"))
        .into_iter()
        .filter_map(|p| p.split_once('/').map(|(_, r)| r.to_string()))
        .collect();
    let rejected = w.rejected_names();
    let portal = portal.lock().unwrap();
    let mut portal_count: BTreeMap<&str, usize> = BTreeMap::new();
    for (n, parsed) in portal.iter() {
        let v = parsed
            .as_ref()
            .unwrap_or_else(|e| panic!("seed {seed}: partial file {n} visible in in/: {e}"));
        assert!(v.is_array());
        *portal_count.entry(n.as_str()).or_default() += 1;
    }
    for (n, body, valid) in &all {
        let in_archive = archived.iter().filter(|a| *a == n).count();
        let in_rejected = rejected.iter().filter(|r| *r == n).count();
        assert_eq!(
            in_archive + in_rejected,
            1,
            "seed {seed}: {n} archived {in_archive}, rejected {in_rejected}"
        );
        if *valid {
            assert_eq!(in_archive, 1, "seed {seed}: {n}");
            assert_eq!(
                portal_count.get(n.as_str()),
                Some(&1),
                "seed {seed}: {n} reached the portal"
            );
            let got = portal
                .iter()
                .find(|(m, _)| m == n)
                .unwrap()
                .1
                .as_ref()
                .unwrap();
            assert_eq!(
                got,
                &serde_json::from_str::<Value>(body).unwrap(),
                "seed {seed}: {n}"
            );
        } else {
            assert!(
                rejected.contains(&format!("{n}.report.json")),
                "seed {seed}: {n} has a report"
            );
            assert!(
                !portal_count.contains_key(n.as_str()),
                "seed {seed}: invalid {n} reached the portal"
            );
        }
    }
    assert!(names(&w.path("outbox")).is_empty());
    let erp = erp.lock().unwrap();
    for (n, _) in &orders {
        let c = erp.iter().filter(|(m, _)| m == n).count();
        assert_eq!(c, 1, "seed {seed}: {n} delivered {c} times");
    }
    for (n, parsed) in erp.iter() {
        assert!(parsed.is_ok(), "seed {seed}: partial file {n} in the inbox");
    }
    assert!(names(&w.path("server/out")).is_empty());
    assert_eq!(
        names(&w.path("server/out/archive"))
            .iter()
            .filter(|n| n.starts_with("orders.c"))
            .count(),
        40
    );
    let leftovers: Vec<_> = tree(&w.path("server/in"))
        .into_iter()
        .filter(|n| n.contains(".ce-up") || n.ends_with(".part"))
        .collect();
    assert!(leftovers.is_empty(), "seed {seed}: {leftovers:?}");
    assert!(kills >= 25);
}

/// The products fixture cut right after the first `]` inside it (the end of a record's
/// barcodes): a prefix that ends like a complete JSON array, yet is not one.
fn products_in_two_parts() -> (String, String) {
    let full =
        std::fs::read_to_string(crate::harness::fixtures().join("batch/products.json")).unwrap();
    let cut = full.find(']').unwrap() + 1;
    // Another trailing blank line: the same records, but not the bytes already published
    // (which would be set aside as unchanged).
    (full[..cut].to_string(), format!("{}\n", &full[cut..]))
}

/// A writer that pauses longer than the settle time right after that `]`, holding the file
/// open, then writes the rest and closes it.
fn pausing_writer(path: &Path, pause: Duration) {
    let (head, tail) = products_in_two_parts();
    let mut f = std::fs::File::create(path).unwrap();
    f.write_all(head.as_bytes()).unwrap();
    f.flush().unwrap();
    std::thread::sleep(pause);
    f.write_all(tail.as_bytes()).unwrap();
    f.flush().unwrap();
}

fn published_products(w: &Work) -> Option<Value> {
    let bytes = std::fs::read(w.path("server/in/products.json")).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[test]
fn a_writer_that_pauses_after_a_bracket_is_waited_for_until_it_closes_the_file() {
    let w =
        seeded_work("[detect]\nsettle_secs = 0.3\npoll_secs = 0.05\ntruncation_grace_secs = 30");
    let before = published_products(&w).expect("samples published");
    std::fs::remove_file(w.path("server/in/products.json")).unwrap();
    let _d = start(&w);
    std::thread::sleep(Duration::from_millis(300));
    pausing_writer(&w.path("outbox/products.json"), Duration::from_millis(1500));
    wait_for(&w, "products published", Duration::from_secs(20), || {
        published_products(&w).is_some()
    });
    assert_eq!(published_products(&w).unwrap(), before);
    // Never taken half-written: inotify said the writer still had it open.
    assert!(w.rejected_names().is_empty(), "{:?}", w.rejected_names());
}

#[test]
fn without_events_a_file_rejected_as_truncated_that_grows_is_taken_again() {
    let w = seeded_work(
        "[detect]\nsettle_secs = 0.3\npoll_secs = 0.05\ntruncation_grace_secs = 30\nwatch = false",
    );
    let before = published_products(&w).expect("samples published");
    std::fs::remove_file(w.path("server/in/products.json")).unwrap();
    let _d = start(&w);
    std::thread::sleep(Duration::from_millis(300));
    pausing_writer(&w.path("outbox/products.json"), Duration::from_millis(1500));
    wait_for(&w, "products published", Duration::from_secs(20), || {
        published_products(&w).is_some()
    });
    // The whole file reached the portal; the half taken too early left rejected/ again.
    assert_eq!(published_products(&w).unwrap(), before);
    wait_for(&w, "rejected/ emptied", Duration::from_secs(5), || {
        w.rejected_names().is_empty()
    });
    let log = std::fs::read_to_string(w.path("daemon.log")).unwrap();
    assert!(log.contains("taken again"), "{log}");
}
