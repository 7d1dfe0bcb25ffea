//! Running the exchange as an operator does: a daemon started before its server is reachable,
//! bad settings refused at start with the key to fix, one process per work folder, `status`,
//! and the systemd unit.

use crate::harness::{cli, fixtures, stderr, stdout, Work};
use crate::sshd::Sshd;
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
    let w = Work::new();
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
