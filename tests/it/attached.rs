//! Pictures and invoices: the outbox mirrors kept in step with the server.

use crate::harness::{names, stderr, Work};
use serde_json::Value;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0";

fn once_json(w: &Work) -> Value {
    let o = w.run("once", &["--format", "json"]);
    assert!(o.status.code().is_some_and(|c| c <= 1), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn pictures(w: &Work, n: usize) {
    for i in 0..n {
        let mut body = PNG.to_vec();
        body.extend_from_slice(format!("picture {i}").as_bytes());
        w.drop_file(&format!("pictures/p{i}.png"), &body);
    }
}

#[test]
fn only_new_or_changed_files_are_read_and_published() {
    let w = Work::new();
    pictures(&w, 20);
    let s = once_json(&w);
    assert_eq!(s["attached_published"], 20);
    assert_eq!(names(&w.path("server/in/pictures")).len(), 20);
    // Unchanged: a listing and no reads.
    let s = once_json(&w);
    assert_eq!(
        (
            s["attached_published"].as_u64(),
            s["attached_hashed"].as_u64()
        ),
        (Some(0), Some(0))
    );
    // Touched but identical: read, not sent. Changed: sent.
    let p3 = w.path("outbox/pictures/p3.png");
    let same = std::fs::read(&p3).unwrap();
    std::fs::write(&p3, &same).unwrap();
    let f = std::fs::File::options().write(true).open(&p3).unwrap();
    f.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(60))
        .unwrap();
    let mut changed = PNG.to_vec();
    changed.extend_from_slice(b"new content");
    w.drop_file("pictures/p4.png", &changed);
    let s = once_json(&w);
    assert_eq!(s["attached_hashed"], 2, "{s}");
    assert_eq!(s["attached_published"], 1, "{s}");
    assert_eq!(
        std::fs::read(w.path("server/in/pictures/p4.png")).unwrap(),
        changed
    );
}

#[test]
fn a_bad_file_is_rejected_with_its_report_and_the_others_go() {
    let w = Work::new();
    pictures(&w, 3);
    w.drop_file("pictures/fake.png", b"%PDF-1.4 not a picture");
    w.drop_file("invoices/bad name.pdf", b"%PDF-1.4");
    let s = once_json(&w);
    assert_eq!(s["attached_published"], 3);
    let r: Value = serde_json::from_slice(
        &std::fs::read(w.path("rejected/pictures/fake.png.report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(r["errors"][0]["code"], "file.magic");
    let r: Value = serde_json::from_slice(
        &std::fs::read(w.path("rejected/invoices/bad name.pdf.report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(r["errors"][0]["code"], "file.name");
    // Reported once, not at every pass, while it stays unchanged; the mirror keeps it.
    let s = once_json(&w);
    assert_eq!(s["attached_rejected"].as_array().unwrap().len(), 0);
    assert!(w.path("outbox/pictures/fake.png").exists());
    assert!(!w.path("server/in/pictures/fake.png").exists());
}

#[test]
fn data_files_refer_to_the_mirror_and_the_server() {
    let w = Work::new();
    w.run("once", &["--samples"]);
    let cat = |pic: &str| format!(r#"[{{"id":"C-NEW","name":"Новая","picture":"{pic}"}}]"#);
    // p1-main.jpg is on the server (published with the samples): fine.
    w.drop_file("categories.delta-a.json", cat("p1-main.jpg").as_bytes());
    // Nowhere: file.missing.
    w.drop_file("categories.delta-b.json", cat("nowhere.jpg").as_bytes());
    let o = w.run("once", &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(w.path("server/in/categories.delta-a.json").exists());
    let r: Value = serde_json::from_slice(
        &std::fs::read(w.rejected("categories.delta-b.json.report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(r["errors"][0]["code"], "file.missing");
    assert_eq!(r["errors"][0]["pointer"], "/0/picture");
}

#[test]
fn removal_follows_the_mirror_only_with_prune_and_within_the_share() {
    let w = Work::new();
    pictures(&w, 20);
    once_json(&w);
    std::fs::remove_file(w.path("outbox/pictures/p0.png")).unwrap();
    once_json(&w);
    assert!(
        w.path("server/in/pictures/p0.png").exists(),
        "no prune by default"
    );

    let w = Work::with_config("[attached]\nprune = true\nmax_prune_share = 0.10");
    pictures(&w, 20);
    once_json(&w);
    std::fs::remove_file(w.path("outbox/pictures/p0.png")).unwrap();
    std::fs::remove_file(w.path("outbox/pictures/p1.png")).unwrap();
    let s = once_json(&w);
    assert_eq!(s["attached_removed"], 2);
    assert_eq!(names(&w.path("server/in/pictures")).len(), 18);
    // A mass removal (half of the files) is refused and said so.
    for i in 2..11 {
        std::fs::remove_file(w.path(&format!("outbox/pictures/p{i}.png"))).unwrap();
    }
    let o = w.run("once", &[]);
    assert!(stderr(&o).contains("allow_mass_prune"), "{}", stderr(&o));
    assert_eq!(names(&w.path("server/in/pictures")).len(), 18);
}

#[test]
fn recovery_looks_into_a_mirror_folder_only_after_a_cut_off_upload() {
    let w = Work::new();
    pictures(&w, 3);
    once_json(&w);
    // After a finished sync the server's mirror folder (100,000 files in real life) is not
    // listed at start: a part file there is not ours to look for.
    let stray = w.path("server/in/pictures/.p9.png.part");
    std::fs::write(&stray, b"half a picture").unwrap();
    once_json(&w);
    assert!(stray.exists());
    // What a process killed mid-upload leaves in the journal: the job's progress unfinished.
    {
        let mut j = compo_exchange::journal::Journal::open(&w.path("state/journal.db")).unwrap();
        let mut p = j
            .progress()
            .unwrap()
            .into_iter()
            .find(|p| p.job == "publish pictures")
            .unwrap();
        p.finished = false;
        j.set_progress(&p).unwrap();
    }
    once_json(&w);
    assert!(!stray.exists());
    assert_eq!(names(&w.path("server/in/pictures")).len(), 3);
}

#[test]
fn files_the_server_lost_are_sent_again_when_the_mirror_is_verified() {
    // Pictures are not flushed one by one on the server: a crash there (or a person) may lose
    // some. Verification compares the server's folder with the manifest.
    let w = Work::with_config("[attached]\nverify_every_hours = 0\n");
    pictures(&w, 5);
    assert_eq!(once_json(&w)["attached_published"], 5);
    std::fs::remove_file(w.path("server/in/pictures/p1.png")).unwrap();
    std::fs::write(w.path("server/in/pictures/p2.png"), b"").unwrap();
    let s = once_json(&w);
    assert_eq!(
        (
            s["attached_lost"].as_u64(),
            s["attached_published"].as_u64()
        ),
        (Some(2), Some(2)),
        "{s}"
    );
    for i in 1..=2 {
        assert_eq!(
            std::fs::read(w.path(&format!("server/in/pictures/p{i}.png"))).unwrap(),
            std::fs::read(w.path(&format!("outbox/pictures/p{i}.png"))).unwrap()
        );
    }
    // In step again: nothing lost, nothing sent.
    let s = once_json(&w);
    assert_eq!(
        (
            s["attached_lost"].as_u64(),
            s["attached_published"].as_u64()
        ),
        (Some(0), Some(0))
    );
}

#[test]
fn between_verifications_an_unchanged_mirror_does_not_look_at_the_server() {
    // The default verifies once a day: the runs in between cost a local listing only.
    let w = Work::new();
    pictures(&w, 3);
    assert_eq!(once_json(&w)["attached_published"], 3);
    std::fs::remove_file(w.path("server/in/pictures/p0.png")).unwrap();
    let s = once_json(&w);
    assert_eq!(
        (
            s["attached_lost"].as_u64(),
            s["attached_published"].as_u64()
        ),
        (Some(0), Some(0))
    );
    assert!(!w.path("server/in/pictures/p0.png").exists());
}

#[test]
fn once_waits_for_a_picture_written_just_before_it() {
    // `once` has no next pass: a file younger than the settle time is waited for, not left.
    let w = Work::with_config("[detect]\nsettle_secs = 0.4\npoll_secs = 0.05\n");
    pictures(&w, 2);
    let started = std::time::Instant::now();
    let s = once_json(&w);
    assert_eq!(s["attached_published"], 2);
    assert_eq!(names(&w.path("server/in/pictures")), ["p0.png", "p1.png"]);
    // It did wait for the files to settle, not publish them while they were young.
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
}
