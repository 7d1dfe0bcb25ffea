//! What a server without OpenSSH's extensions shows, on ProFTPD mod_sftp with
//! `SFTPExtensions -posixRename -fsync`: the server killed between the two renames of the
//! fallback replace, and what the log and `status` say about the server.

use crate::exchange_sftp::{batch_into_outbox, once};
use crate::harness::{cli, fixtures, stderr, stdout, tree, Work};
use crate::proftpd_server::{Extensions, Proftpd};
use crate::sshd::Site;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

/// The test-only switch of the transport: a folder through which a test pauses the fallback
/// replace between its two renames (see src/transport/sftp/pause.rs).
const PAUSE_VAR: &str = "COMPO_TEST_PAUSE_BETWEEN_RENAMES";

/// Hidden files left on the server: temporaries of ours (`.NAME.part`, `.NAME.ID.ce-up`,
/// `.NAME.old`).
fn hidden(root: &Path) -> Vec<String> {
    tree(root)
        .into_iter()
        .filter(|n| n.starts_with('.') || n.contains("/."))
        .collect()
}

/// The same content: equal bytes, or the same JSON (the processor writes it normalised).
fn same(a: &[u8], b: &[u8]) -> bool {
    let json = |x: &[u8]| serde_json::from_slice::<serde_json::Value>(x).ok();
    a == b || matches!((json(a), json(b)), (Some(x), Some(y)) if x == y)
}

/// Runs `once` with the fallback armed to pause before renaming the new file onto a path that
/// contains `target`; when it pauses, kills the server and lets it go on. Returns the output
/// of that (failed) run.
fn once_killed_between_renames(
    w: &Work,
    site: &Site,
    server: &mut Proftpd,
    target: &str,
) -> Output {
    let gate = w.path("gate");
    std::fs::create_dir_all(&gate).unwrap();
    std::fs::write(gate.join("armed"), target).unwrap();
    let child = cli()
        .arg("once")
        .arg("--config")
        .arg(w.config())
        .args(site.args())
        .env(PAUSE_VAR, &gate)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while !gate.join("reached").exists() {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "the fallback never paused before renaming {target} in:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let paused_at = std::fs::read_to_string(gate.join("reached")).unwrap();
    assert!(paused_at.ends_with(target), "{paused_at}");
    server.stop();
    std::fs::write(gate.join("go"), "").unwrap();
    child.wait_with_output().unwrap()
}

/// The state the issue describes, then the next run: the final file there with the new
/// content, no `.NAME.old` (nor any other temporary) left.
fn killed_between_renames_then_recovered(
    w: &Work,
    server: &mut Proftpd,
    rel: &str,
    new_content: &[u8],
) {
    let site = server.own_site();
    let o = once_killed_between_renames(w, &site, server, rel);
    assert_ne!(o.status.code(), Some(0), "{}", stderr(&o));
    let (dir, name) = rel.rsplit_once('/').unwrap();
    let old = site.root.join(format!("{dir}/.{name}.old"));
    // What the kill left: the old file aside, nothing under the final name.
    assert!(
        !site.root.join(rel).exists() && old.exists(),
        "the kill did not land between the renames: {:?}\n{}",
        tree(&site.root),
        stderr(&o)
    );

    server.restart();
    let o = once(w, &site, &[]);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    let now = std::fs::read(site.root.join(rel)).unwrap();
    assert!(
        same(&now, new_content),
        "{rel} after the next run holds the old content"
    );
    assert_eq!(hidden(&site.root), Vec::<String>::new(), "{}", stderr(&o));
}

#[test]
fn a_server_killed_between_the_renames_of_the_fallback_leaves_no_gap_in_in() {
    let mut server = Proftpd::start(Extensions::NoPosixRenameNoFsync);
    let site = server.own_site();
    let w = Work::new();
    let v1 = br#"[{"id":"SEG-1","name":"Retail","description":"Shops","sort":1}]"#;
    w.drop_file("segments.json", v1);
    let o = once(&w, &site, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(same(
        &std::fs::read(site.root.join("in/segments.json")).unwrap(),
        v1
    ));

    let v2 = br#"[{"id":"SEG-1","name":"Retail","description":"Shops","sort":1},{"id":"SEG-2","name":"HoReCa","description":"Hotels","sort":2}]"#;
    w.drop_file("segments.json", v2);
    killed_between_renames_then_recovered(&w, &mut server, "in/segments.json", v2);
}

#[test]
fn a_server_killed_between_the_renames_of_the_fallback_leaves_no_gap_in_pictures() {
    let mut server = Proftpd::start(Extensions::NoPosixRenameNoFsync);
    let site = server.own_site();
    let w = Work::new();
    batch_into_outbox(&w);
    let o = once(&w, &site, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(site.root.join("in/pictures/p2-red.png").exists());

    // Another picture under the same name.
    let new = std::fs::read(fixtures().join("batch/pictures/cat-chem.png")).unwrap();
    w.drop_file("pictures/p2-red.png", &new);
    killed_between_renames_then_recovered(&w, &mut server, "in/pictures/p2-red.png", &new);
}

/// How often `needle` occurs in `hay`.
fn count(hay: &str, needle: &str) -> usize {
    hay.matches(needle).count()
}

#[test]
fn the_log_and_status_say_what_the_server_offers_and_that_the_fallback_is_in_use() {
    let site = Proftpd::shared(Extensions::NoPosixRenameNoFsync).site();
    let w = Work::new();
    batch_into_outbox(&w);
    let o = once(&w, &site, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let log = stderr(&o);
    // Once per session, however many sessions the pool opened and files it replaced.
    assert_eq!(
        count(&log, "posix-rename@openssh.com: no, fsync@openssh.com: no"),
        1,
        "{log}"
    );
    assert_eq!(count(&log, "a reader may briefly see no file"), 1, "{log}");

    let mut args = vec!["--config".to_string(), w.config().display().to_string()];
    args.extend(site.args());
    let status = |format: &str| {
        let o = cli()
            .arg("status")
            .args(&args)
            .args(["--format", format])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        stdout(&o)
    };
    let text = status("text");
    assert!(
        text.contains("posix-rename@openssh.com: no, fsync@openssh.com: no"),
        "{text}"
    );
    assert!(text.contains("a reader may briefly see no file"), "{text}");
    let json: serde_json::Value = serde_json::from_str(&status("json")).unwrap();
    let offer = &json["server_offer"];
    assert_eq!(
        offer["offers"], "posix-rename@openssh.com: no, fsync@openssh.com: no",
        "{json}"
    );
    assert!(
        offer["note"]
            .as_str()
            .unwrap()
            .contains("a reader may briefly see no file"),
        "{json}"
    );
}

#[test]
fn with_its_default_extensions_the_server_replaces_atomically_and_nothing_warns() {
    let site = Proftpd::shared(Extensions::Default).site();
    let w = Work::new();
    w.drop_file(
        "segments.json",
        br#"[{"id":"SEG-1","name":"Retail","description":"Shops","sort":1}]"#,
    );
    let o = once(&w, &site, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let log = stderr(&o);
    assert_eq!(
        count(
            &log,
            "posix-rename@openssh.com: yes, fsync@openssh.com: yes"
        ),
        1,
        "{log}"
    );
    assert_eq!(count(&log, "briefly"), 0, "{log}");
    let o = cli()
        .arg("status")
        .arg("--config")
        .arg(w.config())
        .args(site.args())
        .output()
        .unwrap();
    let text = stdout(&o);
    assert!(
        text.contains("posix-rename@openssh.com: yes, fsync@openssh.com: yes"),
        "{text}"
    );
    assert!(!text.contains("briefly"), "{text}");
}
