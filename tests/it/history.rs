//! `compo-exchange history`: what happened to each file, from the journal, without SQLite.

use crate::harness::{stderr, stdout, Work};
use serde_json::Value;

#[test]
fn history_lists_outcomes_first_errors_and_where_files_ended() {
    let w = Work::new();
    w.drop_file("categories.json", br#"[{"id":"c1","name":"All"}]"#);
    w.drop_file(
        "products.json",
        br#"[{"id":"p1","name":"P","category_id":"c-missing","unit":"pcs"}]"#,
    );
    let o = w.run("once", &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));

    let o = w.run("history", &["--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let all = v.as_array().unwrap();
    assert_eq!(all.len(), 2, "{v:#}");
    let by = |name: &str| all.iter().find(|e| e["file"] == name).unwrap().clone();
    let p = by("products.json");
    assert_eq!(p["outcome"], "rejected");
    assert_eq!(p["first_error"]["code"], "ref.missing");
    assert_eq!(p["first_error"]["pointer"], "/0/category_id");
    // Kept by day, like the archive.
    let day = chrono::Local::now().format("%Y-%m-%d");
    assert_eq!(
        p["report"],
        format!("rejected/{day}/products.json.report.json")
    );
    assert_eq!(p["path"], format!("rejected/{day}/products.json"));
    let c = by("categories.json");
    assert_eq!(c["outcome"], "published");
    assert!(c["path"].as_str().unwrap().starts_with("archive/"), "{c}");
    // One time format: RFC 3339 with an offset.
    assert!(
        chrono::DateTime::parse_from_rfc3339(c["at"].as_str().unwrap()).is_ok(),
        "{c}"
    );

    let o = w.run("history", &["--rejected"]);
    let text = stdout(&o);
    assert!(
        text.contains("products.json") && text.contains("ref.missing"),
        "{text}"
    );
    assert!(!text.contains("categories.json"), "{text}");

    let o = w.run("history", &["--type", "categories", "--format", "json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);

    std::thread::sleep(std::time::Duration::from_millis(50));
    let o = w.run("history", &["--since", "10ms"]);
    assert!(stdout(&o).contains("nothing ended"), "{}", stdout(&o));
    assert_eq!(
        w.run("history", &["--since", "soon"]).status.code(),
        Some(2)
    );
}
