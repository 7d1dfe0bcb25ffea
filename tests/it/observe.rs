//! What operators see of `compo-exchange run`: the status page loaded in a real headless
//! Chromium (Debian's), `/metrics` read by the Prometheus project's OpenMetrics parser, and
//! notifications delivered to a real local webhook server and a real command.
//!
//! Retry and health rows are written here through the journal's own API, as the daemon writes
//! them when an upload fails: the local server of these tests does not fail on its own.

use crate::harness::{cli, stderr, tree, Work};
use compo_exchange::journal::{Journal, NewFile, Origin, State, Update};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The daemon, killed when dropped so that a failing test leaves none behind.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(w: &Work, more: &[&str]) -> Daemon {
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
            .args(more)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start the daemon"),
    )
}

/// Fails the test with the daemon's log when it is no longer running.
fn assert_running(d: &mut Daemon, w: &Work) {
    if let Some(st) = d.0.try_wait().unwrap() {
        panic!("the daemon exited ({st}):\n{}", log(w));
    }
}

fn log(w: &Work) -> String {
    std::fs::read_to_string(w.path("daemon.log")).unwrap_or_default()
}

fn wait_for<T>(w: &Work, what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if let Some(v) = f() {
            return v;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "timed out waiting for {what}; files: {:?}\nlog:\n{}",
        tree(w.dir.path()),
        log(w)
    );
}

/// Waits until the `n`th daemon started in this work folder has recovered and runs: rows
/// written after that are not taken for leftovers of a crash.
fn wait_running(w: &Work, n: usize) {
    wait_for(w, "the daemon to run", 60, || {
        (log(w).matches("start-up recovery finished").count() >= n).then_some(())
    });
}

/// The page's base URL, from the daemon's log (it was asked for port 0).
fn page_url(w: &Work) -> String {
    wait_for(w, "the status page to listen", 60, || {
        let l = log(w);
        let at = l.find("status page at http://")? + "status page at ".len();
        let end = at + l[at..].find('/').unwrap() + 2;
        let rest = &l[end..];
        Some(format!(
            "{}{}",
            &l[at..end],
            &rest[..rest.find('/').unwrap()]
        ))
    })
}

fn get(url: &str) -> (u16, String, String) {
    match ureq::get(url).call() {
        Ok(mut r) => {
            let ct = r
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default();
            (200, ct, r.body_mut().read_to_string().unwrap())
        }
        Err(ureq::Error::StatusCode(c)) => (c, String::new(), String::new()),
        Err(e) => panic!("GET {url}: {e}"),
    }
}

fn artifacts() -> PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Debian's Chromium, headless, with a fresh profile and nothing reaching out. A start that
/// prints nothing (it happens on a loaded machine) is tried again.
fn chromium(args: &[&str]) -> String {
    let mut errors = String::new();
    for _ in 0..3 {
        let profile = tempfile::tempdir().unwrap();
        let o = Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--window-size=1280,1700",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(args)
            .output()
            .expect("chromium (scripts/install-deps installs Debian's)");
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        let dumping = args.contains(&"--dump-dom");
        if o.status.success() && (!dumping || out.contains("</html>")) {
            return out;
        }
        errors.push_str(&stderr(&o));
    }
    panic!("chromium {args:?} failed three times:\n{errors}");
}

/// A categories file published and a products file rejected for a missing category.
/// Moves the slots of `types` to 03:00 in the work folder's config: the rows a test writes for
/// them as a failing daemon would are then left alone by the running daemon, which otherwise
/// redoes a type's unfinished rows at its next slot.
fn late(w: &Work, types: &[&str]) {
    let mut cfg = std::fs::read_to_string(w.config()).unwrap();
    for t in types {
        let at = format!("{t} = \"immediate\"");
        assert!(cfg.contains(&at), "{t} has no immediate slot in the config");
        cfg = cfg.replace(&at, &format!("{t} = \"0 3 * * *\""));
    }
    std::fs::write(w.config(), cfg).unwrap();
}

fn one_published_one_rejected(extra: &str) -> Work {
    let w = Work::with_config(extra);
    w.drop_file("categories.json", br#"[{"id":"c1","name":"All"}]"#);
    w.drop_file(
        "products.json",
        br#"[{"id":"p1","name":"P","category_id":"c-missing","unit":"pcs"}]"#,
    );
    let o = w.run("once", &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    w
}

/// Runs a journal write of the test, again when the machine is so loaded that the journal's
/// busy timeout ran out (the daemon and its notifier write to the same journal).
fn busy_retry<T>(mut f: impl FnMut() -> compo_exchange::journal::Result<T>) -> T {
    let mut tries = 0;
    loop {
        match f() {
            Ok(v) => return v,
            Err(e) if tries < 3 && e.to_string().contains("locked") => tries += 1,
            Err(e) => panic!("{e}"),
        }
    }
}

/// A file whose upload keeps failing, as the daemon records it (twice, to be retried in five
/// minutes), with the server's health failing too; returns the journal and the file's id.
fn failing_upload(w: &Work, name: &str, data_type: &str, error: &str) -> (Journal, i64) {
    let mut j = busy_retry(|| Journal::open(&w.path("state/journal.db")));
    // Typed only once it is publishing: a running daemon publishes staged rows of a type, and
    // this one has no staged copy to publish.
    let new = NewFile {
        origin: Origin::Outbox,
        name,
        data_type: None,
        snapshot: false,
        size: 42,
        hash: "0123",
        work_path: None,
    };
    // Begun as staged, in one transaction: a row that is `claimed` even for a moment is taken
    // by the running daemon's next pass (it redoes claims a failed take left), and this one
    // has no file to take.
    let id = busy_retry(|| j.begin(&new, State::Staged));
    let typed = Update {
        data_type: Some(data_type),
        ..Default::default()
    };
    busy_retry(|| j.transition(id, State::Publishing, typed));
    let next = (chrono::Utc::now() + chrono::Duration::minutes(5)).to_rfc3339();
    busy_retry(|| j.note_failure(id, error, &next));
    busy_retry(|| j.note_failure(id, error, &next));
    let now = chrono::Utc::now().to_rfc3339();
    busy_retry(|| j.set_health("server", Some(error), &now));
    (j, id)
}

#[test]
fn the_status_page_shows_a_rejection_with_its_first_error_and_report_in_a_browser() {
    // Segments and pictures wait for 03:00; everything else goes at once.
    let mut schedule = String::from("[schedule]\n");
    for j in compo_exchange::schedule::Job::ALL {
        let when = match j.key() {
            // prices: the retrying row below is the test's own; the daemon must not reach it
            // (it redoes a type's unfinished rows at the type's slot).
            "segments" | "pictures" | "prices" => "0 3 * * *",
            _ => "immediate",
        };
        schedule.push_str(&format!("{} = \"{when}\"\n", j.key()));
    }
    let w = one_published_one_rejected(&format!(
        "[notify]\nwebhook_url = \"http://127.0.0.1:9/hook?token=SECRET-TOKEN-123\"\n{schedule}"
    ));
    let mut d = start(&w, &["--http", "127.0.0.1:0"]);
    let base = page_url(&w);
    wait_running(&w, 1);
    let (mut j, _) = failing_upload(
        &w,
        "prices.json",
        "prices",
        "in/prices.json: connection reset by peer",
    );
    let now = chrono::Utc::now().to_rfc3339();
    let sync = compo_exchange::journal::Progress {
        job: "publish pictures".into(),
        done_files: 3,
        total_files: 10,
        done_bytes: 300 << 10,
        total_bytes: 1000 << 10,
        started_at: now.clone(),
        updated_at: now,
        finished: false,
    };
    busy_retry(|| j.set_progress(&sync));
    let at = chrono::Utc::now().to_rfc3339();
    busy_retry(|| {
        j.warn(
            "recover",
            "removed a stale upload in/.prices.json.7.tmp",
            &at,
        )
    });
    // A file staged for a tick that has not come.
    w.drop_file("segments.json", br#"[{"id":"S1","name":"Retail"}]"#);
    wait_for(&w, "segments.json to wait for its tick", 60, || {
        let v: Value = serde_json::from_str(&get(&format!("{base}/status.json")).2).ok()?;
        (v["waiting"][0]["file"] == "segments.json").then_some(())
    });
    let next_tick = compo_exchange::schedule::Cadence::parse("0 3 * * *")
        .unwrap()
        .next_after(chrono::Local::now().fixed_offset())
        .unwrap()
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();

    std::thread::sleep(Duration::from_millis(300));
    assert_running(&mut d, &w);
    // Rejected files are kept by day: the link names the day's folder.
    let report_rel = w
        .rejected("products.json.report.json")
        .strip_prefix(w.path("rejected"))
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(report_rel.contains('/'), "{report_rel}");
    let link = format!("href=\"/rejected/{report_rel}\"");
    let dom = chromium(&["--dump-dom", &format!("{base}/?lang=en")]);
    for want in [
        "<html lang=\"en\"",
        "products.json",
        "ref.missing",
        "/0/category_id",
        "c-missing",
        &link,
        // Retrying, with its last error and attempts; the server's health.
        "prices.json",
        "in/prices.json: connection reset by peer",
        "failing",
        // The plan: a cron type's next tick as a time, an immediate one says so.
        &next_tick,
        "at every check",
        // Waiting for its tick; an attached-file sync under way.
        "segments.json",
        "30%",
        "3/10 files",
        // What the daemon repaired by itself.
        "removed a stale upload in/.prices.json.7.tmp",
    ] {
        assert!(dom.contains(want), "page lacks {want:?}:\n{dom}");
    }
    assert!(
        !dom.contains("SECRET-TOKEN"),
        "the webhook's token is shown"
    );
    let shot = artifacts().join("status-page-en.png");
    let _ = std::fs::remove_file(&shot);
    chromium(&[
        &format!("--screenshot={}", shot.display()),
        &format!("{base}/?lang=en"),
    ]);
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "{}",
        png.len()
    );

    // The report behind the link; nothing else of the work folder.
    let (code, ct, body) = get(&format!("{base}/rejected/{report_rel}"));
    assert_eq!(
        (code, ct.as_str()),
        (200, "application/json; charset=utf-8")
    );
    let report: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(report["errors"][0]["code"], "ref.missing");
    for bad in [
        "/rejected/products.json",
        "/rejected/..%2Fstate%2Fjournal.db",
        "/rejected/%2E%2E/config.toml",
        "/rejected/../config.toml",
    ] {
        assert_eq!(get(&format!("{base}{bad}")).0, 404, "{bad}");
    }

    // Russian: by ?lang= and by the browser's Accept-Language.
    let dom = chromium(&["--dump-dom", &format!("{base}/?lang=ru")]);
    for want in [
        "<html lang=\"ru\"",
        "Отклонённые файлы",
        "Первая ошибка",
        "отклонён",
        "ref.missing",
        &link,
    ] {
        assert!(dom.contains(want), "Russian page lacks {want:?}:\n{dom}");
    }
    let shot = artifacts().join("status-page-ru.png");
    chromium(&[
        &format!("--screenshot={}", shot.display()),
        &format!("{base}/?lang=ru"),
    ]);
    assert!(shot.exists());
    let mut r = ureq::get(&format!("{base}/"))
        .header("Accept-Language", "ru-RU,ru;q=0.9,en;q=0.5")
        .call()
        .unwrap();
    // No script may run, whatever a file name holds; nothing is cached.
    let csp = r.headers().get("content-security-policy").unwrap();
    assert!(
        csp.to_str().unwrap().starts_with("default-src 'none'"),
        "{csp:?}"
    );
    assert_eq!(r.headers().get("cache-control").unwrap(), "no-store");
    assert!(r
        .body_mut()
        .read_to_string()
        .unwrap()
        .contains("<html lang=\"ru\""));

    // The same, for scripts.
    let (code, _, body) = get(&format!("{base}/status.json"));
    assert_eq!(code, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["rejections"][0]["file"], "products.json");
    assert_eq!(v["rejections"][0]["first_errors"][0]["code"], "ref.missing");
    assert_eq!(v["retrying"][0]["attempts"], 2);
    assert!(!body.contains("SECRET-TOKEN"));
}

/// The exposition read by the Prometheus project's OpenMetrics parser (strict: it refuses what
/// the format does not allow); printed back as `name{labels} value` lines.
fn parse_openmetrics(text: &str) -> Vec<(String, Value, f64)> {
    let script = "import sys, json\n\
        from prometheus_client.openmetrics.parser import text_string_to_metric_families\n\
        out = []\n\
        for f in text_string_to_metric_families(sys.stdin.read()):\n\
        \x20   for s in f.samples:\n\
        \x20       out.append([s.name, s.labels, s.value])\n\
        print(json.dumps(out))\n";
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(
        o.status.success(),
        "the OpenMetrics parser refused /metrics ({}):\n{text}",
        stderr(&o)
    );
    let v: Vec<(String, Value, f64)> = serde_json::from_slice(&o.stdout).unwrap();
    v
}

fn sample(all: &[(String, Value, f64)], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    all.iter()
        .find(|(n, l, _)| n == name && labels.iter().all(|(k, v)| l[*k] == *v))
        .map(|s| s.2)
}

#[test]
fn metrics_are_valid_openmetrics_and_count_what_the_journal_says() {
    let w = one_published_one_rejected("[http]\nlisten = \"127.0.0.1:0\"\n");
    late(&w, &["prices"]);
    let mut d = start(&w, &[]);
    let base = page_url(&w);
    wait_running(&w, 1);
    let (code, ct, text) = get(&format!("{base}/metrics"));
    assert_eq!(code, 200);
    assert!(ct.starts_with("application/openmetrics-text"), "{ct}");
    let m = parse_openmetrics(&text);
    let cat = [("type", "categories")];
    let prod = [("type", "products")];
    assert_eq!(
        sample(&m, "compo_exchange_files_taken_total", &cat),
        Some(1.0)
    );
    assert_eq!(
        sample(&m, "compo_exchange_files_taken_total", &prod),
        Some(1.0)
    );
    assert_eq!(
        sample(&m, "compo_exchange_files_published_total", &cat),
        Some(1.0)
    );
    assert_eq!(
        sample(&m, "compo_exchange_files_published_total", &prod),
        None
    );
    assert_eq!(
        sample(&m, "compo_exchange_files_rejected_total", &prod),
        Some(1.0)
    );
    let size = br#"[{"id":"c1","name":"All"}]"#.len() as f64;
    assert_eq!(
        sample(&m, "compo_exchange_published_bytes_total", &cat),
        Some(size)
    );
    assert_eq!(
        sample(&m, "compo_exchange_publish_latency_seconds_count", &cat),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &m,
            "compo_exchange_publish_latency_seconds_bucket",
            &[("type", "categories"), ("le", "+Inf")]
        ),
        Some(1.0)
    );
    let last = sample(&m, "compo_exchange_last_publish_timestamp_seconds", &cat).unwrap();
    let now = chrono::Utc::now().timestamp() as f64;
    assert!((now - 600.0..=now + 1.0).contains(&last), "{last} vs {now}");
    assert_eq!(sample(&m, "compo_exchange_files_retrying", &[]), Some(0.0));
    assert_eq!(sample(&m, "compo_exchange_server_reachable", &[]), None);

    failing_upload(&w, "prices.json", "prices", "connection refused");
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        d.0.try_wait().unwrap().is_none(),
        "daemon exited:\n{}",
        log(&w)
    );
    let m = parse_openmetrics(&get(&format!("{base}/metrics")).2);
    assert_eq!(sample(&m, "compo_exchange_files_retrying", &[]), Some(1.0));
    assert_eq!(
        sample(&m, "compo_exchange_server_reachable", &[]),
        Some(0.0)
    );
    assert_eq!(
        sample(
            &m,
            "compo_exchange_component_up",
            &[("component", "server")]
        ),
        Some(0.0)
    );
    // Counters never go down between scrapes.
    assert_eq!(
        sample(&m, "compo_exchange_files_published_total", &cat),
        Some(1.0)
    );
}

#[test]
fn a_port_taken_already_is_an_error_at_start() {
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port().to_string();
    let w = Work::new();
    let o = w.run("run", &["--http", &port]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{e}"
    );
    let o = w.run("run", &["--http", "localhost"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("127.0.0.1:8080"), "{}", stderr(&o));
}

fn products(ids: std::ops::Range<u32>) -> Vec<u8> {
    let recs: Vec<String> = ids
        .map(|i| format!(r#"{{"id":"p{i}","name":"Product {i}","category_id":"c1","unit":"pcs"}}"#))
        .collect();
    format!("[\n{}\n]\n", recs.join(",\n")).into_bytes()
}

/// A real HTTP server on loopback that keeps the JSON bodies POSTed to it.
struct Webhook {
    server: std::sync::Arc<tiny_http::Server>,
    got: std::sync::Arc<std::sync::Mutex<Vec<Value>>>,
}

impl Webhook {
    fn start() -> Webhook {
        let server = std::sync::Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (s, g) = (server.clone(), got.clone());
        std::thread::spawn(move || {
            for mut req in s.incoming_requests() {
                let mut body = String::new();
                std::io::Read::read_to_string(req.as_reader(), &mut body).unwrap();
                let ok = *req.method() == tiny_http::Method::Post
                    && req.url() == "/hook"
                    && req
                        .headers()
                        .iter()
                        .any(|h| h.field.equiv("Content-Type") && h.value == "application/json");
                if ok {
                    g.lock().unwrap().push(serde_json::from_str(&body).unwrap());
                }
                let _ = req.respond(tiny_http::Response::empty(if ok { 200 } else { 400 }));
            }
        });
        Webhook { server, got }
    }

    fn url(&self) -> String {
        format!("http://{}/hook", self.server.server_addr().to_ip().unwrap())
    }

    fn posts(&self) -> Vec<Value> {
        self.got.lock().unwrap().clone()
    }
}

impl Drop for Webhook {
    fn drop(&mut self) {
        self.server.unblock();
    }
}

/// Every (event, file) of every message, in order.
fn events_of(messages: &[Value]) -> Vec<(String, String)> {
    messages
        .iter()
        .flat_map(|m| m["events"].as_array().unwrap().clone())
        .map(|e| {
            (
                e["event"].as_str().unwrap().to_string(),
                e["file"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn command_messages(w: &Work) -> Vec<Value> {
    std::fs::read_to_string(w.path("notified.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn notifications_reach_a_webhook_and_a_command_once_per_event_and_file() {
    let hook = Webhook::start();
    let w = Work::with_config("");
    late(&w, &["remains"]);
    let script = w.path("notify.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n# one message per line\ntr -d '\\n' >> '{}'\necho >> '{}'\n",
            w.path("notified.jsonl").display(),
            w.path("notified.jsonl").display()
        ),
    )
    .unwrap();
    let cfg = std::fs::read_to_string(w.config()).unwrap();
    std::fs::write(
        w.config(),
        format!(
            "{cfg}\n[notify]\ncommand = \"sh {}\"\nwebhook_url = \"{}\"\nstuck_after = \"1s\"\n",
            script.display(),
            hook.url()
        ),
    )
    .unwrap();
    // The portal has ten products.
    w.drop_file("categories.json", br#"[{"id":"c1","name":"All"}]"#);
    w.drop_file("products.json", &products(0..10));
    assert!(w.run("once", &[]).status.success());

    // Notifications start counting when the notifier first runs.
    {
        let mut d = start(&w, &[]);
        let db = w.path("state/journal.db");
        wait_for(&w, "the notifier's first pass", 60, || {
            let c = rusqlite::Connection::open(&db).ok()?;
            let n: i64 = c
                .query_row("SELECT COUNT(*) FROM notices_start", [], |r| r.get(0))
                .ok()?;
            (n == 2).then_some(())
        });
        wait_running(&w, 1);
        d.0.kill().unwrap();
    }
    // While it is down: a snapshot that would delete six products (held) and a broken file.
    w.drop_file("products.json", &products(0..4));
    w.drop_file("segments.json", br#"[{"id":"S1","name":"Retail",}]"#);
    assert_eq!(w.run("once", &[]).status.code(), Some(1));

    let _d = start(&w, &["-v"]);
    let first = wait_for(&w, "the first webhook message", 60, || {
        hook.posts().first().cloned()
    });
    // Both, in one message, with what an operator needs to act.
    let ev = first["events"].as_array().unwrap();
    assert_eq!(ev.len(), 2, "{first:#}");
    assert_eq!(first["source"], "compo-exchange");
    let find = |kind: &str| {
        ev.iter()
            .find(|e| e["event"] == kind)
            .unwrap_or_else(|| panic!("no {kind} in {first:#}"))
            .clone()
    };
    let held = find("held");
    assert_eq!(held["file"], "products.json");
    assert_eq!(held["type"], "products");
    assert_eq!(held["first_errors"][0]["code"], "snapshot.mass_delete");
    assert!(held["summary"]
        .as_str()
        .unwrap()
        .contains("compo-exchange release products.json"));
    let rejected = find("rejected");
    assert_eq!(rejected["file"], "segments.json");
    assert_eq!(rejected["first_errors"][0]["code"], "json.syntax");
    assert_eq!(rejected["errors"], 1);
    let report = rejected["report"].as_str().unwrap();
    assert!(Path::new(report).is_file(), "{report}");
    assert!(
        Path::new(report).parent().and_then(|d| d.parent()) == Some(&w.path("rejected"))
            && report.ends_with("/segments.json.report.json"),
        "{report}"
    );
    // The command got the very same message on its standard input.
    let cmd = wait_for(&w, "the command's first message", 60, || {
        command_messages(&w).first().cloned()
    });
    assert_eq!(cmd["events"], first["events"]);

    // A file failing for longer than stuck_after.
    wait_running(&w, 2);
    let (mut j, stuck) = failing_upload(&w, "remains.json", "remains", "in/: connection refused");
    wait_for(&w, "the stuck notice", 60, || {
        events_of(&hook.posts())
            .contains(&("stuck".into(), "remains.json".into()))
            .then_some(())
    });
    // Each recovers: the upload works, the held snapshot is released, a fixed file is sent.
    for s in [State::Uploaded, State::Published] {
        busy_retry(|| j.transition(stuck, s, Update::default()));
    }
    busy_retry(|| j.clear_failure(stuck));
    let now = chrono::Utc::now().to_rfc3339();
    busy_retry(|| j.set_health("server", None, &now));
    let o = w.run("release", &["products.json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    w.drop_file("segments.json", br#"[{"id":"S1","name":"Retail"}]"#);
    wait_for(&w, "the three recoveries", 60, || {
        let seen = events_of(&hook.posts());
        [
            ("stuck.recovered", "remains.json"),
            ("held.released", "products.json"),
            ("rejected.recovered", "segments.json"),
        ]
        .iter()
        .all(|(e, f)| seen.contains(&(e.to_string(), f.to_string())))
        .then_some(())
    });
    // Two more passes: nothing is said twice, and the command heard exactly what the webhook did.
    std::thread::sleep(compo_exchange::observe::notify::POLL * 2 + Duration::from_millis(500));
    let mut seen = events_of(&hook.posts());
    assert_eq!(
        seen.len(),
        6,
        "{seen:?}\n{}\n{}",
        crate::harness::stdout(&w.run("history", &["--format", "json"])),
        log(&w)
    );
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 6, "a duplicate: {:?}", events_of(&hook.posts()));
    let mut by_command = events_of(&command_messages(&w));
    by_command.sort();
    assert_eq!(by_command, seen);
    let recovered = hook
        .posts()
        .iter()
        .flat_map(|m| m["events"].as_array().unwrap().clone())
        .find(|e| e["event"] == "stuck.recovered")
        .unwrap();
    assert_eq!(recovered["state"], "published");
}
