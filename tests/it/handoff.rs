//! Handoff rules 3.5-3.7 of the protocol through the real binary: one odd file never stops
//! the exchange, links are never followed, what is published never shares storage with a
//! writer, files the journal forgot are taken again, and `out/archive/` never overwrites.
//! Each test is one case of issue 14's "what happens today".

use crate::harness::{names, stderr, tree, Work};
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0";

fn seeded() -> Work {
    let w = Work::new();
    let o = w.run("once", &["--samples"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    w
}

fn remains(q: u32) -> String {
    format!("[\n{{\"product_id\":\"P-1\",\"warehouse_id\":\"WH-MSK\",\"quantity\":{q}}}\n]\n")
}

fn order(id: &str) -> String {
    format!(
        r#"[{{"id":"{id}","date":"2026-11-22","status":"new","customer_id":"CUS-2","contragent_id":"CA-2","currency":"RUB","items":[{{"product_id":"P-1","quantity":1,"price":719.25,"amount":719.25}}],"total":719.25}}]"#
    )
}

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .unwrap()
}

/// The reports in `dir` whose `file` is `name`.
fn reports_for(dir: &Path, name: &str) -> Vec<Value> {
    names(dir)
        .into_iter()
        .filter(|n| n.ends_with(".report.json"))
        .map(|n| read_json(&dir.join(n)))
        .filter(|r| r["file"].as_str().is_some_and(|f| f.ends_with(name)))
        .collect()
}

fn codes(r: &Value) -> Vec<String> {
    r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap().to_string())
        .collect()
}

/// Rows the journal has not finished (a wedge shows up here).
fn unfinished(w: &Work) -> Vec<String> {
    let j = compo_exchange::journal::Journal::open(&w.path("state/journal.db")).unwrap();
    j.unfinished()
        .unwrap()
        .into_iter()
        .filter(|r| r.state != compo_exchange::journal::State::Staged)
        .map(|r| format!("{} {:?}", r.name, r.state))
        .collect()
}

#[test]
fn names_too_long_end_rejected_under_a_name_we_choose_and_later_runs_go_on() {
    let w = seeded();
    // 240 characters: the derived names (upload temporary, report) pass the file system's
    // 255-byte limit.
    let data = format!("remains.delta-{}.json", "a".repeat(240 - 19));
    assert_eq!(data.len(), 240);
    w.drop_file(&data, remains(5).as_bytes());
    let picture = format!("{}.png", "p".repeat(236));
    w.drop_file(&format!("pictures/{picture}"), PNG);
    let out = format!("orders.{}.json", "o".repeat(250 - 12));
    w.portal_writes(&out, order("W-LONG").as_bytes());
    let o = w.run("once", &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // The picture's name is also beyond the protocol's 128 characters (file.name).
    for (dir, name, code) in [
        (w.rejected_dir(), &data, "name.too_long"),
        (w.path("rejected/pictures"), &picture, "file.name"),
        (w.rejected_dir(), &out, "name.too_long"),
    ] {
        let r = reports_for(&dir, name);
        assert_eq!(r.len(), 1, "{name}: {:?}", tree(&w.path("rejected")));
        assert!(codes(&r[0]).contains(&code.to_string()), "{r:?}");
    }
    // Nothing lost: the originals are kept (under shorter names) beside their reports.
    let kept: Vec<Vec<u8>> = names(&w.rejected_dir())
        .into_iter()
        .filter(|n| !n.ends_with(".report.json"))
        .map(|n| std::fs::read(w.rejected_dir().join(n)).unwrap())
        .collect();
    assert!(kept.contains(&remains(5).into_bytes()));
    assert!(kept.contains(&order("W-LONG").into_bytes()));
    assert!(names(&w.path("server/out")).is_empty());
    assert!(unfinished(&w).is_empty(), "{:?}", unfinished(&w));
    // Every later run goes on.
    w.drop_file("remains.delta-next.json", remains(6).as_bytes());
    let o = w.run("once", &[]);
    assert!(o.status.code().is_some_and(|c| c <= 1), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(w.path("server/in/remains.delta-next.json")).unwrap(),
        remains(6)
    );
    assert!(unfinished(&w).is_empty(), "{:?}", unfinished(&w));
}

#[test]
fn a_hard_link_or_an_open_writer_never_changes_what_was_published() {
    use std::io::Write;
    use std::os::unix::fs::MetadataExt;
    let w = seeded();
    // The ERP's own file, already in normalised form, and a hard link to it in the outbox.
    let erp = w.path("erp-remains.json");
    std::fs::write(&erp, remains(7)).unwrap();
    std::fs::hard_link(&erp, w.path("outbox/remains.delta-link.json")).unwrap();
    // A writer that still holds its file open after writing all of it.
    let open = w.path("outbox/remains.delta-open.json");
    let mut writer = std::fs::File::create(&open).unwrap();
    writer.write_all(remains(8).as_bytes()).unwrap();
    writer.flush().unwrap();
    let o = w.run("once", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let linked = w.path("server/in/remains.delta-link.json");
    let opened = w.path("server/in/remains.delta-open.json");
    assert_eq!(std::fs::read_to_string(&linked).unwrap(), remains(7));
    assert_eq!(std::fs::read_to_string(&opened).unwrap(), remains(8));
    assert_ne!(
        std::fs::metadata(&linked).unwrap().ino(),
        std::fs::metadata(&erp).unwrap().ino()
    );
    // The ERP rewrites its file in place; the writer appends after the handoff.
    std::fs::write(&erp, "[{\"garbage\":true}]").unwrap();
    writer.write_all(b"tail written later").unwrap();
    writer.flush().unwrap();
    assert_eq!(std::fs::read_to_string(&linked).unwrap(), remains(7));
    assert_eq!(std::fs::read_to_string(&opened).unwrap(), remains(8));
}

#[test]
fn a_symbolic_link_in_the_outbox_is_rejected_not_published() {
    let w = seeded();
    let erp = w.path("erp-remains.json");
    std::fs::write(&erp, remains(9)).unwrap();
    std::os::unix::fs::symlink(&erp, w.path("outbox/remains.delta-sym.json")).unwrap();
    // A FIFO (never opened: reading it would block) and a folder named like data files.
    let fifo = w.path("outbox/remains.delta-fifo.json");
    let fifo = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a plain libc call with a valid C string.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    std::fs::create_dir(w.path("outbox/remains.delta-dir.json")).unwrap();
    let o = w.run("once", &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    for name in [
        "remains.delta-sym.json",
        "remains.delta-fifo.json",
        "remains.delta-dir.json",
    ] {
        assert!(std::fs::symlink_metadata(w.path("server/in").join(name)).is_err());
        let r = reports_for(&w.rejected_dir(), name);
        assert_eq!(r.len(), 1, "{name}: {:?}", tree(&w.path("rejected")));
        assert!(
            codes(&r[0]).contains(&"file.not_regular".to_string()),
            "{r:?}"
        );
    }
    assert!(std::fs::read_dir(w.path("outbox"))
        .unwrap()
        .flatten()
        .all(|e| e.path().is_dir() && !e.file_name().to_string_lossy().ends_with(".json")));
    // The link's target, the ERP's file, is untouched.
    assert_eq!(std::fs::read_to_string(&erp).unwrap(), remains(9));
    assert!(unfinished(&w).is_empty(), "{:?}", unfinished(&w));
}

#[test]
fn data_referring_to_an_attached_file_that_was_not_published_is_not_published() {
    let w = seeded();
    let real = w.path("real.png");
    std::fs::write(&real, PNG).unwrap();
    std::os::unix::fs::symlink(&real, w.path("outbox/pictures/cat-link.png")).unwrap();
    std::fs::create_dir(w.path("outbox/pictures/cat-dir.png")).unwrap();
    let cats = |pic: &str| {
        format!(r#"[{{"id":"CAT-9","name":"Новая","sort":9,"active":true,"picture":"{pic}"}}]"#)
    };
    w.drop_file(
        "categories.delta-link.json",
        cats("cat-link.png").as_bytes(),
    );
    w.drop_file("categories.delta-dir.json", cats("cat-dir.png").as_bytes());
    let o = w.run("once", &["--log-format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    for (data, pic) in [
        ("categories.delta-link.json", "cat-link.png"),
        ("categories.delta-dir.json", "cat-dir.png"),
    ] {
        assert!(!w.path("server/in").join(data).exists(), "{data} published");
        assert!(!w.path("server/in/pictures").join(pic).exists());
        let r = reports_for(&w.rejected_dir(), data);
        assert_eq!(r.len(), 1, "{data}: {:?}", tree(&w.path("rejected")));
        assert!(codes(&r[0]).contains(&"file.missing".to_string()), "{r:?}");
        let pr = reports_for(&w.path("rejected/pictures"), pic);
        assert_eq!(pr.len(), 1, "{pic}: {:?}", tree(&w.path("rejected")));
        assert!(codes(&pr[0]).contains(&"file.not_regular".to_string()));
        assert!(stderr(&o).contains(pic), "the log names {pic}");
    }
}

#[test]
fn an_unwritable_in_folder_does_not_stop_collecting_out() {
    let w = seeded();
    // The portal's in/ cannot be written (a file where the folder should be: permissions do
    // not stop root, which the tests may run as).
    std::fs::remove_dir_all(w.path("server/in")).unwrap();
    std::fs::write(w.path("server/in"), "not a folder").unwrap();
    w.drop_file("remains.delta-ro.json", remains(3).as_bytes());
    w.portal_writes("orders.ro.json", order("W-RO").as_bytes());
    let o = w.run("once", &[]);
    assert_ne!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(names(&w.path("inbox")).contains(&"orders.ro.json".to_string()));
    assert!(names(&w.path("server/out/archive")).contains(&"orders.ro.json".to_string()));
    // Once in/ is back, the waiting file goes out without anything else done.
    std::fs::remove_file(w.path("server/in")).unwrap();
    std::fs::create_dir_all(w.path("server/in")).unwrap();
    let o = w.run("once", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(w.path("server/in/remains.delta-ro.json")).unwrap(),
        remains(3)
    );
}

#[test]
fn files_left_in_state_that_the_journal_does_not_know_are_taken_again() {
    let w = seeded();
    w.drop_file("remains.delta-lost.json", remains(11).as_bytes());
    {
        let mut e = compo_exchange::pipeline::Engine::open(w.settings()).unwrap();
        let s = e.once_take_only().unwrap();
        assert_eq!(s.staged, ["remains.delta-lost.json"]);
    }
    for f in ["journal.db", "journal.db-wal", "journal.db-shm"] {
        let _ = std::fs::remove_file(w.path("state").join(f));
    }
    let o = w.run("once", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(w.path("server/in/remains.delta-lost.json")).unwrap(),
        remains(11)
    );
    assert!(
        stderr(&o).contains("remains.delta-lost.json"),
        "warned: {}",
        stderr(&o)
    );
    // ...and in status, through the journal's warnings.
    let j = compo_exchange::journal::Journal::open(&w.path("state/journal.db")).unwrap();
    let warned = j.warnings("2000-01-01T00:00:00Z", 10).unwrap();
    assert!(
        warned
            .iter()
            .any(|x| x.message.contains("remains.delta-lost.json")),
        "{warned:?}"
    );
    let left: Vec<String> = ["state/work", "state/staging"]
        .iter()
        .flat_map(|d| tree(&w.path(d)))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_name_the_portal_reuses_is_archived_under_a_new_label() {
    let w = seeded();
    w.portal_writes("orders.r.json", order("W-R1").as_bytes());
    let o = w.run("once", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    w.portal_writes("orders.r.json", order("W-R2").as_bytes());
    let o = w.run("once", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let archived: Vec<String> = names(&w.path("server/out/archive"))
        .into_iter()
        .filter(|n| n.starts_with("orders.r"))
        .collect();
    assert_eq!(archived.len(), 2, "{archived:?}");
    let mut bodies: Vec<String> = archived
        .iter()
        .map(|n| std::fs::read_to_string(w.path("server/out/archive").join(n)).unwrap())
        .collect();
    bodies.sort();
    assert_eq!(bodies, [order("W-R1"), order("W-R2")]);
    // Each archived name still reads as an order file of the protocol.
    for n in &archived {
        assert!(
            compo_exchange::pipeline::type_key_of(n) == Some("orders"),
            "{n}"
        );
    }
}

#[test]
fn validate_does_not_hang_on_a_fifo_named_like_a_data_file() {
    let d = crate::harness::tempdir();
    std::fs::write(
        d.path().join("segments.json"),
        r#"[{"id":"S-1","name":"a"}]"#,
    )
    .unwrap();
    let fifo = d.path().join("products.json");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a plain libc call with a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let mut child = crate::harness::cli()
        .arg("validate")
        .arg(d.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let end = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > end {
            let _ = child.kill();
            panic!("validate hangs on a FIFO");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let o = child.wait_with_output().unwrap();
    assert!(!status.success());
    let all = format!("{}{}", crate::harness::stdout(&o), stderr(&o));
    assert!(all.contains("products.json"), "{all}");
    assert!(all.contains("FIFO"), "{all}");
}
