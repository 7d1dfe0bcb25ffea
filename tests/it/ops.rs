//! Running the exchange as an operator does: a daemon started before its server is reachable,
//! bad settings refused at start with the key to fix, one process per work folder, `status`,
//! and the systemd unit.

use crate::harness::{cli, fixtures, stderr, stdout, Work};
use crate::sshd::Sshd;
use std::path::Path;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

/// A daemon process, killed when dropped so that a failing test leaves none behind.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Daemon {
    fn start(w: &Work, more: &[String]) -> Daemon {
        let log = std::fs::File::create(w.path("daemon.log")).unwrap();
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

    fn terminate(&mut self) -> std::process::ExitStatus {
        std::process::Command::new("kill")
            .arg("-TERM")
            .arg(self.0.id().to_string())
            .status()
            .unwrap();
        self.0.wait().unwrap()
    }
}

fn log(w: &Work) -> String {
    std::fs::read_to_string(w.path("daemon.log")).unwrap_or_default()
}

fn wait_until(w: &Work, what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out waiting for {what}; log:\n{}", log(w));
}

fn sftp_args(s: &Sshd) -> Vec<String> {
    vec![
        "--server".into(),
        s.url(),
        "--identity".into(),
        s.client_key.display().to_string(),
        "--known-hosts".into(),
        s.known_hosts.display().to_string(),
    ]
}

fn server_health(w: &Work) -> Option<compo_exchange::journal::Health> {
    let j = compo_exchange::journal::Journal::open(&w.path("state/journal.db")).ok()?;
    j.health()
        .ok()?
        .into_iter()
        .find(|h| h.component == "server")
}

#[test]
fn run_waits_for_an_sftp_server_that_comes_up_later() {
    let mut s = Sshd::start();
    s.stop();
    // Short timeouts: a session cut by the outage below may hang until its I/O timeout (60 s
    // by default) before the outage can show, longer than the test waits.
    let w = Work::with_config("[server]\nconnect_timeout_secs = 3\nio_timeout_secs = 5\n");
    std::fs::create_dir_all(w.path("outbox")).unwrap();
    std::fs::copy(
        fixtures().join("batch/warehouses.json"),
        w.path("outbox/warehouses.json"),
    )
    .unwrap();
    let mut d = Daemon::start(&w, &sftp_args(&s));
    // Unreachable: it waits, says so once in the log and in the journal's health, and lives.
    wait_until(&w, "the server's health", Duration::from_secs(10), || {
        server_health(&w).is_some_and(|h| !h.ok())
    });
    std::thread::sleep(Duration::from_secs(4));
    assert!(d.0.try_wait().unwrap().is_none(), "exited:\n{}", log(&w));
    let l = log(&w);
    assert_eq!(l.matches("waiting for the server").count(), 1, "{l}");
    let h = server_health(&w).unwrap();
    assert!(
        h.error
            .as_deref()
            .unwrap()
            .contains("waiting for the server"),
        "{h:?}"
    );
    // The server appears: the daemon goes on and publishes, with no restart.
    s.restart();
    wait_until(&w, "the publish", Duration::from_secs(60), || {
        s.root.join("in/warehouses.json").exists()
    });
    let h = server_health(&w).unwrap();
    assert!(h.ok() && h.last_success.is_some(), "{h:?}");
    assert!(log(&w).contains("the server answers"), "{}", log(&w));
    // Later outages show in the health too, from failing back to ok, with no restart.
    s.stop();
    wait_until(
        &w,
        "the outage in the health",
        Duration::from_secs(60),
        || server_health(&w).is_some_and(|h| !h.ok()),
    );
    s.restart();
    wait_until(
        &w,
        "the server back in the health",
        Duration::from_secs(60),
        || server_health(&w).is_some_and(|h| h.ok()),
    );
    assert!(d.0.try_wait().unwrap().is_none(), "exited:\n{}", log(&w));
    assert!(d.terminate().success());
}

#[test]
fn a_stop_while_waiting_for_the_server_exits_cleanly() {
    let mut s = Sshd::start();
    s.stop();
    let w = Work::new();
    let mut d = Daemon::start(&w, &sftp_args(&s));
    wait_until(&w, "the wait", Duration::from_secs(10), || {
        log(&w).contains("waiting for the server")
    });
    let t0 = Instant::now();
    let status = d.terminate();
    assert!(status.success(), "{status:?}\n{}", log(&w));
    assert!(t0.elapsed() < Duration::from_secs(3));
}

fn run_fails_fast(w: &Work, args: &[String]) -> Output {
    let t0 = Instant::now();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = w.run("run", &refs);
    assert!(
        t0.elapsed() < Duration::from_secs(15),
        "took {:?}",
        t0.elapsed()
    );
    assert_eq!(o.status.code(), Some(2), "{}\n{}", stdout(&o), stderr(&o));
    o
}

#[test]
fn bad_settings_stop_run_at_once_naming_the_key() {
    let s = Sshd::start();
    let w = Work::new();
    // A missing key file: refused before any connection is tried, even if none could be.
    let mut args = sftp_args(&s);
    args[3] = w.path("no-such-key").display().to_string();
    let o = run_fails_fast(&w, &args);
    assert!(
        stderr(&o).contains("identity") && stderr(&o).contains("no-such-key"),
        "{}",
        stderr(&o)
    );
    // A host key nobody accepted.
    let empty = w.path("known_hosts");
    std::fs::write(&empty, "").unwrap();
    let mut args = sftp_args(&s);
    args[5] = empty.display().to_string();
    let o = run_fails_fast(&w, &args);
    assert!(
        stderr(&o).contains("accept_new_host_keys"),
        "{}",
        stderr(&o)
    );
    // A malformed address.
    let o = run_fails_fast(&w, &["--server".into(), "sftp://127.0.0.1".into()]);
    assert!(stderr(&o).contains("url"), "{}", stderr(&o));
    // An unknown key in the configuration file.
    let bad = Work::with_config("[server]\nurll = \"x\"\n");
    let o = run_fails_fast(&bad, &[]);
    assert!(stderr(&o).contains("urll"), "{}", stderr(&o));
}

fn remains_delta(q: u32) -> String {
    format!(r#"[{{"product_id":"P-1","warehouse_id":"WH-MSK","quantity":{q}}}]"#)
}

#[test]
fn two_onces_on_one_work_folder_one_runs_the_other_refuses_naming_its_pid() {
    let w = Work::new();
    let o = w.run("once", &["--samples"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for i in 0..200 {
        w.drop_file(
            &format!("remains.delta-{i:03}.json"),
            remains_delta(i).as_bytes(),
        );
    }
    let spawn = || {
        cli()
            .arg("once")
            .arg("--config")
            .arg(w.config())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (pa, pb) = (a.id(), b.id());
    let (oa, ob) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let (winner, loser, winner_pid) = match (oa.status.code(), ob.status.code()) {
        (Some(0), Some(2)) => (&oa, &ob, pa),
        (Some(2), Some(0)) => (&ob, &oa, pb),
        other => panic!(
            "expected one run and one refusal, got {other:?}\n{}\n{}",
            stderr(&oa),
            stderr(&ob)
        ),
    };
    let refusal = stderr(loser);
    assert!(
        refusal.contains(&format!("in use by process {winner_pid} (once")),
        "{refusal}"
    );
    assert!(
        stdout(winner).contains("200 published"),
        "{}",
        stdout(winner)
    );
    // Nothing half-done: every file published, no row left in flight.
    let j = compo_exchange::journal::Journal::open(&w.path("state/journal.db")).unwrap();
    let stuck: Vec<_> = j
        .unfinished()
        .unwrap()
        .into_iter()
        .map(|r| (r.name, r.state.as_str()))
        .collect();
    assert!(stuck.is_empty(), "{stuck:?}");
    let published = std::fs::read_dir(w.path("server/in"))
        .unwrap()
        .flatten()
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with("remains.delta-") && n.len() == "remains.delta-000.json".len()
        })
        .count();
    assert_eq!(published, 200);
    // Once the folder is free, the next once runs.
    let o = w.run("once", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn status_needs_no_lock_while_a_daemon_holds_the_folder() {
    let w = Work::new();
    let mut d = Daemon::start(&w, &[]);
    wait_until(&w, "the lock", Duration::from_secs(10), || {
        std::fs::read_to_string(w.path("state/lock"))
            .is_ok_and(|t| t.starts_with(&format!("{}\n", d.0.id())))
    });
    let o = w.run("status", &["--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["daemon"]["pid"], d.0.id(), "{v}");
    let o = w.run("once", &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(&format!("in use by process {} (run", d.0.id())),
        "{}",
        stderr(&o)
    );
    assert!(d.terminate().success());
    let o = w.run("status", &["--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["daemon"].is_null(), "{v}");
}

#[test]
fn status_shows_retrying_files_health_and_every_time_one_way() {
    let w = Work::new();
    let o = w.run("once", &["--samples"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    {
        // What the daemon records while a file is retried and the server is down.
        let mut j = compo_exchange::journal::Journal::open(&w.path("state/journal.db")).unwrap();
        let id = j
            .unfinished()
            .unwrap()
            .first()
            .map(|r| r.id)
            .unwrap_or_else(|| {
                j.begin(
                    &compo_exchange::journal::NewFile {
                        origin: compo_exchange::journal::Origin::Outbox,
                        name: "prices.json",
                        data_type: Some("prices"),
                        snapshot: true,
                        size: 2,
                        hash: "h",
                        work_path: None,
                    },
                    compo_exchange::journal::State::Claiming,
                )
                .unwrap()
            });
        j.note_failure(id, "in/: not found", "2026-11-30T10:00:05.250Z")
            .unwrap();
        j.note_failure(id, "connection reset", "2026-11-30T10:00:15.500Z")
            .unwrap();
        j.set_health("server", None, "2026-11-30T09:00:00+03:00")
            .unwrap();
        j.set_health(
            "server",
            Some("waiting for the server: connection refused"),
            "2026-11-30T06:05:00.125Z",
        )
        .unwrap();
        j.set_health("out", None, "2026-11-30T06:04:00Z").unwrap();
        let recent = (chrono::Utc::now() - chrono::Duration::minutes(5))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        j.warn(
            "recover",
            "state/staging/9-prices.json: unknown to the journal, put back into the outbox",
            &recent,
        )
        .unwrap();
        j.warn("recover", "two days ago", "2026-01-01T00:00:00Z")
            .unwrap();
    }
    let o = w.run("status", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("prices.json"), "{text}");
    assert!(
        text.contains("2 failed attempts") && text.contains("connection reset"),
        "{text}"
    );
    assert!(
        text.contains("FAILING since") && text.contains("connection refused"),
        "{text}"
    );
    assert!(text.contains("held by     nobody"), "{text}");
    assert!(
        text.contains("recover: state/staging/9-prices.json: unknown to the journal"),
        "{text}"
    );
    assert!(!text.contains("two days ago"), "{text}");
    // Every time on screen: RFC 3339, to the second, with an offset (never Z, never a
    // fraction), whichever way it was stored.
    let any_time = regex::Regex::new(r"\d{4}-\d\d-\d\dT[0-9:.]+(Z|[+-]\d\d:\d\d)?").unwrap();
    let one_way = regex::Regex::new(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$").unwrap();
    let times: Vec<&str> = any_time.find_iter(&text).map(|m| m.as_str()).collect();
    assert!(times.len() >= 5, "{text}");
    for t in &times {
        assert!(one_way.is_match(t), "{t} in\n{text}");
    }
    let o = w.run("status", &["--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let r = &v["retrying"][0];
    assert_eq!(r["attempts"], 2, "{v}");
    assert_eq!(r["last_error"], "connection reset");
    assert!(one_way.is_match(r["next_attempt"].as_str().unwrap()), "{r}");
    let server = v["health"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["component"] == "server")
        .unwrap();
    assert_eq!(server["ok"], false);
    assert!(one_way.is_match(server["since"].as_str().unwrap()));
    assert!(one_way.is_match(v["last_collect"].as_str().unwrap()), "{v}");
    assert_eq!(v["warnings"].as_array().unwrap().len(), 1, "{v}");
    assert!(one_way.is_match(v["warnings"][0]["at"].as_str().unwrap()));
    assert!(
        one_way.is_match(v["last_attached_publish"].as_str().unwrap()),
        "{v}"
    );
}

#[test]
fn status_whose_reader_has_gone_exits_quietly() {
    let w = Work::new();
    assert_eq!(w.run("once", &["--samples"]).status.code(), Some(0));
    for format in ["text", "json"] {
        let mut c = cli()
            .arg("status")
            .arg("--config")
            .arg(w.config())
            .args(["--format", format])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before the first line is written (as `head -1` does after it).
        drop(c.stdout.take());
        let o = c.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(stderr(&o), "", "{format}");
    }
}

fn unit_text() -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/compo-exchange.service");
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn verify(unit: &Path) -> Output {
    std::process::Command::new("systemd-analyze")
        .arg("verify")
        .arg(unit)
        .output()
        .expect("run systemd-analyze (install systemd; scripts/install-deps does it)")
}

#[test]
fn the_systemd_unit_passes_systemd_analyze_verify() {
    let text = unit_text();
    for line in [
        "Type=notify",
        "Restart=on-failure",
        "After=network-online.target",
        "Wants=network-online.target",
        "WatchdogSec=",
        "ExecStart=/usr/local/bin/compo-exchange run ",
    ] {
        assert!(text.lines().any(|l| l.starts_with(line)), "{line} missing");
    }
    // Checked as installed, with the binary where ExecStart says (here: the one just built).
    let d = crate::harness::tempdir();
    let unit = d.path().join("compo-exchange.service");
    let bin = env!("CARGO_BIN_EXE_compo-exchange");
    std::fs::write(&unit, text.replace("/usr/local/bin/compo-exchange", bin)).unwrap();
    let o = verify(&unit);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stderr(&o), "", "systemd-analyze has remarks");
    // The check is live: a misspelt key is reported.
    let bad = d.path().join("bad.service");
    std::fs::write(
        &bad,
        std::fs::read_to_string(&unit)
            .unwrap()
            .replace("Restart=on-failure", "Restartt=on-failure"),
    )
    .unwrap();
    assert!(stderr(&verify(&bad)).contains("Restartt"));
}

#[test]
fn run_tells_systemd_it_is_ready_and_pings_the_watchdog() {
    use std::os::unix::net::UnixDatagram;
    let w = Work::new();
    let sock_path = w.path("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let log_file = std::fs::File::create(w.path("daemon.log")).unwrap();
    // As systemd starts it: WATCHDOG_PID names the daemon itself, which `exec` keeps.
    let mut d = Daemon(
        std::process::Command::new("sh")
            .arg("-c")
            .arg("WATCHDOG_PID=$$ exec \"$0\" run --config \"$1\"")
            .arg(env!("CARGO_BIN_EXE_compo-exchange"))
            .arg(w.config())
            .env("NOTIFY_SOCKET", &sock_path)
            .env("WATCHDOG_USEC", "2000000")
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .unwrap(),
    );
    let mut got: Vec<String> = Vec::new();
    let mut buf = [0u8; 4096];
    let end = Instant::now() + Duration::from_secs(15);
    let count = |got: &[String], what: &str| got.iter().filter(|m| m.contains(what)).count();
    while Instant::now() < end && !(count(&got, "READY=1") > 0 && count(&got, "WATCHDOG=1") >= 3) {
        if let Ok(n) = sock.recv(&mut buf) {
            got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    }
    assert_eq!(count(&got, "READY=1"), 1, "{got:?}\n{}", log(&w));
    assert!(count(&got, "WATCHDOG=1") >= 3, "{got:?}");
    let ready = got.iter().position(|m| m.contains("READY=1")).unwrap();
    let first_ping = got.iter().position(|m| m.contains("WATCHDOG=1")).unwrap();
    assert!(ready < first_ping, "{got:?}");
    assert!(got.iter().any(|m| m.contains("STATUS=running")), "{got:?}");
    assert!(d.terminate().success());
    let mut tail = Vec::new();
    while let Ok(n) = sock.recv(&mut buf) {
        tail.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    assert!(tail.iter().any(|m| m.contains("STOPPING=1")), "{tail:?}");
}
