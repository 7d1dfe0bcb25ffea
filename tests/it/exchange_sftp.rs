//! The whole exchange over SFTP against real servers on 127.0.0.1 (OpenSSH, and ProFTPD
//! mod_sftp with and without OpenSSH's extensions): publish to in/, attached files, collect
//! from out/, and an outage in the middle of a publish.

use crate::harness::{fixtures, names, stderr, stdout, tree, Work};
use crate::proftpd_server::{Extensions, Proftpd};
use crate::sshd::{Server, Site, Sshd};
use serde_json::Value;
use std::process::Output;
use std::time::Duration;

pub fn once(w: &Work, s: &Site, more: &[&str]) -> Output {
    let mut args: Vec<String> = s.args();
    args.extend(more.iter().map(|m| m.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    w.run("once", &refs)
}

#[test]
fn the_exchange_runs_over_sftp() {
    the_exchange_runs_on(&Sshd::start().site());
}

#[test]
fn the_exchange_runs_over_proftpd() {
    the_exchange_runs_on(&Proftpd::shared(Extensions::Default).site());
}

#[test]
fn the_exchange_runs_over_proftpd_without_posix_rename_and_fsync() {
    let site = Proftpd::shared(Extensions::NoPosixRenameNoFsync).site();
    the_exchange_runs_on(&site);
}

/// Puts the outbox samples of `fixtures/batch` into the work folder's outbox.
pub fn batch_into_outbox(w: &Work) {
    for e in walkdir::WalkDir::new(fixtures().join("batch"))
        .into_iter()
        .flatten()
    {
        if e.file_type().is_file() {
            let rel = e.path().strip_prefix(fixtures().join("batch")).unwrap();
            let to = w.path("outbox").join(rel);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(e.path(), to).unwrap();
        }
    }
}

fn the_exchange_runs_on(s: &Site) {
    let w = Work::new();
    // The portal's order arrives in out/ on the server.
    std::fs::create_dir_all(s.root.join("out")).unwrap();
    std::fs::copy(
        fixtures().join("samples/out/orders.20261122T093000.json"),
        s.root.join("out/orders.20261122T093000.json"),
    )
    .unwrap();
    // Outbox samples only (the server is remote).
    batch_into_outbox(&w);
    let o = once(&w, s, &[]);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    let inn = names(&s.root.join("in"));
    assert_eq!(inn.len(), 17, "{inn:?}");
    assert_eq!(names(&s.root.join("in/pictures")).len(), 6);
    assert_eq!(names(&w.path("inbox")), ["orders.20261122T093000.json"]);
    assert_eq!(
        names(&s.root.join("out/archive")),
        ["orders.20261122T093000.json"]
    );
    let leftovers: Vec<_> = tree(&s.root)
        .into_iter()
        .filter(|n| n.contains("/."))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // Nothing changed: a second pass uploads nothing.
    let o = once(&w, s, &["--format", "json"]);
    let sum: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(sum["attached_published"], 0, "{}: {sum}", s.name);
    assert_eq!(sum["published"].as_array().unwrap().len(), 0);
}

#[test]
fn an_unknown_host_key_is_refused_with_the_way_to_accept_it() {
    unknown_host_key_on(&Sshd::start().site());
    for ext in Extensions::ALL {
        unknown_host_key_on(&Proftpd::shared(ext).site());
    }
}

fn unknown_host_key_on(s: &Site) {
    let w = Work::new();
    let empty = w.path("known_hosts");
    std::fs::write(&empty, "").unwrap();
    let o = w.run(
        "once",
        &[
            "--server",
            &s.url,
            "--identity",
            &s.client_key.display().to_string(),
            "--known-hosts",
            &empty.display().to_string(),
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", s.name);
    let err = stderr(&o);
    assert!(err.contains("ssh-keyscan"), "{}: {err}", s.name);
}

#[test]
fn an_outage_during_publish_leaves_nothing_partial_and_the_next_pass_finishes() {
    outage_during_publish(&mut Sshd::start());
}

#[test]
fn an_outage_during_publish_on_proftpd_leaves_nothing_partial() {
    outage_during_publish(&mut Proftpd::start(Extensions::Default));
}

#[test]
fn an_outage_during_publish_on_proftpd_without_posix_rename_leaves_nothing_partial() {
    outage_during_publish(&mut Proftpd::start(Extensions::NoPosixRenameNoFsync));
}

fn outage_during_publish(server: &mut dyn Server) {
    let s = server.root_site();
    let w = Work::new();
    // A large snapshot so that the upload takes a while.
    let recs: Vec<String> = (0..150_000)
        .map(|i| {
            format!(
                r#"{{"id":"SEG-{i}","name":"Сегмент номер {i}","description":"{}"}}"#,
                "д".repeat(60)
            )
        })
        .collect();
    let body = format!("[{}]", recs.join(",\n"));
    w.drop_file("segments.json", body.as_bytes());
    let mut args = s.args();
    args.insert(0, "once".into());
    args.insert(1, "--config".into());
    args.insert(2, w.config().display().to_string());
    let child = crate::harness::cli()
        .args(&args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the upload has begun, then cut the server off.
    let hidden_started = || {
        tree(&s.root.join("in"))
            .iter()
            .any(|n| n.contains("segments.json"))
    };
    let t0 = std::time::Instant::now();
    while !hidden_started() && t0.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(5));
    }
    server.stop();
    let out = child.wait_with_output().unwrap();
    // The final name is never partial: absent, or complete.
    if let Ok(bytes) = std::fs::read(s.root.join("in/segments.json")) {
        let v: Value = serde_json::from_slice(&bytes).expect("complete if present");
        assert_eq!(v.as_array().unwrap().len(), 150_000);
    }
    server.restart();
    let o = once(&w, &s, &[]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}: first: {}\nsecond: {}",
        s.name,
        String::from_utf8_lossy(&out.stderr),
        stderr(&o)
    );
    let v: Value =
        serde_json::from_slice(&std::fs::read(s.root.join("in/segments.json")).unwrap()).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 150_000);
    let leftovers: Vec<_> = tree(&s.root)
        .into_iter()
        .filter(|n| n.contains("/.") || n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
