//! Where files end: `rejected/` kept by day like `archive/`, and `once` saying where each file
//! of its pass went (the report of a rejected one, the archived original of a published one).

use crate::harness::{stderr, stdout, Work};
use serde_json::Value;
use std::path::Path;

/// `path`'s day folder below `root` (`root/YYYY-MM-DD/NAME`), or `None`.
fn day_below(root: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?;
    let mut parts = rel.iter();
    let day = parts.next()?.to_string_lossy().into_owned();
    parts.next()?;
    (parts.next().is_none() && chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d").is_ok())
        .then_some(day)
}

#[test]
fn once_json_gives_each_rejected_files_report_and_each_published_files_archive() {
    let w = Work::one_published_one_rejected();
    let o = w.run("once", &["--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    // The summary's lists are still there.
    assert_eq!(v["rejected"][0], "products.json", "{v:#}");
    assert_eq!(v["published"][0], "categories.json", "{v:#}");
    let files = v["files"].as_array().unwrap();
    let by = |n: &str| files.iter().find(|f| f["file"] == n).unwrap().clone();

    let p = by("products.json");
    assert_eq!(p["outcome"], "rejected");
    assert_eq!(p["first_error"]["code"], "ref.missing");
    let report = Path::new(p["report"].as_str().unwrap());
    assert!(report.is_absolute() && report.is_file(), "{p}");
    let day = day_below(&w.path("rejected"), report).expect("a day's folder in rejected/");
    let report_json: Value = serde_json::from_slice(&std::fs::read(report).unwrap()).unwrap();
    assert_eq!(report_json["file"], "products.json");
    let kept = Path::new(p["path"].as_str().unwrap());
    assert_eq!(kept, w.path("rejected").join(&day).join("products.json"));
    assert!(kept.is_file());

    let c = by("categories.json");
    assert_eq!(c["outcome"], "published");
    assert_eq!(c["report"], Value::Null);
    let archived = Path::new(c["path"].as_str().unwrap());
    assert!(archived.is_file(), "{c}");
    assert!(day_below(&w.path("archive"), archived).is_some(), "{c}");

    // The text summary names the report itself.
    w.drop_file(
        "products.json",
        br#"[{"id":"p2","name":"P","category_id":"c-missing","unit":"pcs"}]"#,
    );
    let o = w.run("once", &[]);
    let text = stdout(&o);
    let line = text
        .lines()
        .find(|l| l.starts_with("rejected   products.json"))
        .unwrap_or_else(|| panic!("{text}"));
    let shown = line
        .split_once("(report ")
        .and_then(|(_, r)| r.strip_suffix(')'))
        .unwrap_or_else(|| panic!("{line}"));
    // The second products.json of the day is kept under a name of its own, with its report.
    assert!(shown.ends_with(".report.json"), "{line}");
    assert!(Path::new(shown).is_file(), "{line}");
    assert_ne!(Path::new(shown), report, "{line}");
    assert_eq!(
        day_below(&w.path("rejected"), Path::new(shown)).as_deref(),
        Some(day.as_str())
    );
}

#[test]
fn release_finds_a_held_file_in_its_days_folder() {
    let w = Work::new();
    // Held: an empty full snapshot would delete what the portal has.
    w.drop_file("categories.json", br#"[{"id":"c1","name":"All"}]"#);
    assert!(w.run("once", &[]).status.success());
    w.drop_file("categories.json", b"[]");
    assert_eq!(w.run("once", &[]).status.code(), Some(1));
    let held = w.rejected("categories.json");
    let day = day_below(&w.path("rejected"), &held).expect("kept by day");

    // A day that is not a date, a folder that is not a day: refused with what to write.
    let o = w.run("release", &["yesterday/categories.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("2026-11-30/products.json"),
        "{}",
        stderr(&o)
    );
    let o = w.run("release", &["1999-01-01/categories.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is not in"), "{}", stderr(&o));

    let o = w.run("release", &[&format!("{day}/categories.json")]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!held.exists());
    assert!(w.path("outbox/categories.json").is_file());
}

fn at(s: &str) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(s).unwrap()
}

/// Runs the daemon's loop until the fake clock reaches `until`, jumping to each time it asks
/// for.
fn run_until(
    e: &mut compo_exchange::pipeline::Engine,
    clock: &compo_exchange::schedule::FakeClock,
    until: chrono::DateTime<chrono::FixedOffset>,
) {
    use compo_exchange::schedule::Clock;
    while clock.now() < until {
        let next = e.tick().expect("no fatal error");
        clock.set(next.min(until).max(clock.now()));
    }
}

fn page(w: &Work) -> String {
    use compo_exchange::observe::{page, view::Overview, Context};
    let o = Overview::gather(&Context::new(&w.settings()));
    page::render(&o, compo_exchange::compo::messages::Lang::En)
}

#[test]
fn the_daemon_removes_days_past_keep_days_and_the_page_says_the_report_is_gone() {
    use compo_exchange::schedule::FakeClock;
    let w = Work::with_config(
        "[detect]\nsettle_secs = 0.05\npoll_secs = 5\nwatch = false\n\
         [archive]\nkeep_days = 5\n[rejected]\nkeep_days = 1",
    );
    let clock = FakeClock::new(at("2026-12-01T10:00:00+03:00"));
    let mut e = compo_exchange::pipeline::Engine::with_clock(
        w.settings(),
        std::sync::Arc::new(compo_exchange::transport::local::LocalTransport::new(
            w.path("server"),
        )),
        std::sync::Arc::new(clock.clone()),
    )
    .unwrap();
    w.drop_file("categories.json", br#"[{"id":"c1","name":"All"}]"#);
    w.drop_file(
        "products.json",
        br#"[{"id":"p1","name":"P","category_id":"c-missing","unit":"pcs"}]"#,
    );
    run_until(&mut e, &clock, at("2026-12-01T10:02:00+03:00"));
    // The engine's clock names the day's folders.
    let rejected_day = w.path("rejected/2026-12-01");
    assert!(rejected_day.join("products.json").is_file());
    assert!(rejected_day.join("products.json.report.json").is_file());
    assert!(w.path("archive/2026-12-01/categories.json").is_file());
    let html = page(&w);
    assert!(
        html.contains("href=\"/rejected/2026-12-01/products.json.report.json\""),
        "{html}"
    );

    // Next day: one day kept, so 12-01 is still there.
    clock.set(at("2026-12-02T00:05:00+03:00"));
    run_until(&mut e, &clock, at("2026-12-02T00:07:00+03:00"));
    assert!(rejected_day.is_dir());
    // The day after, rejected/2026-12-01 is past rejected.keep_days = 1; the archive keeps 5.
    clock.set(at("2026-12-03T00:05:00+03:00"));
    run_until(&mut e, &clock, at("2026-12-03T00:07:00+03:00"));
    assert!(!rejected_day.exists());
    assert!(w.path("archive/2026-12-01/categories.json").is_file());

    // The journal still knows the rejection: the page lists it, without a link, and says why.
    let html = page(&w);
    assert!(html.contains("products.json"), "{html}");
    assert!(!html.contains("href=\"/rejected/"), "{html}");
    assert!(
        html.contains("report no longer kept") && html.contains("rejected.keep_days"),
        "{html}"
    );
    // history no longer points at files that are gone.
    let o = w.run("history", &["--rejected", "--format", "json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["file"], "products.json", "{v:#}");
    assert_eq!(v[0]["report"], Value::Null, "{v:#}");
    assert_eq!(v[0]["path"], Value::Null, "{v:#}");
}

#[test]
fn once_applies_retention_too_and_only_where_keep_days_is_set() {
    let w = Work::with_config("[rejected]\nkeep_days = 30");
    for f in ["rejected/2000-01-01/x.json", "archive/2000-01-01/y.json"] {
        let p = w.path(f);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, "[]").unwrap();
    }
    let o = w.run("once", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!w.path("rejected/2000-01-01").exists());
    // archive.keep_days is not set: the archive is kept for ever.
    assert!(w.path("archive/2000-01-01/y.json").is_file());
    let log = stderr(&o);
    assert!(
        log.contains("rejected.keep_days") && log.contains("2000-01-01"),
        "{log}"
    );
}

#[test]
fn once_names_an_attached_files_report_which_stays_in_its_folders_place() {
    let w = Work::new();
    w.drop_file("pictures/fake.png", b"%PDF-1.4 not a picture");
    let o = w.run("once", &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let report = w.path("rejected/pictures/fake.png.report.json");
    assert!(report.is_file());
    assert!(
        stdout(&o).contains(&format!(
            "rejected   pictures/fake.png (report {})",
            report.display()
        )),
        "{}",
        stdout(&o)
    );
}
