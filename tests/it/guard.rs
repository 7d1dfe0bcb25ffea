//! The mass-deletion guard (spec 4.2) on the exchange: a full snapshot that would delete too
//! much of what the portal has is held in rejected/ until `release`, and deltas pass.

use crate::harness::{stderr, stdout, Work};
use serde_json::Value;

fn products(ids: std::ops::Range<u32>) -> Vec<u8> {
    let recs: Vec<String> = ids
        .map(|i| format!(r#"{{"id":"p{i}","name":"Product {i}","category_id":"c1","unit":"pcs"}}"#))
        .collect();
    format!("[\n{}\n]\n", recs.join(",\n")).into_bytes()
}

fn published_ids(w: &Work) -> usize {
    let v: Value =
        serde_json::from_slice(&std::fs::read(w.path("server/in/products.json")).unwrap()).unwrap();
    v.as_array().unwrap().len()
}

fn report(w: &Work, name: &str) -> Value {
    serde_json::from_slice(
        &std::fs::read(w.rejected(&format!("{name}.report.json"))).expect("report"),
    )
    .unwrap()
}

/// A work folder whose portal already has ten products.
fn with_ten_published(extra: &str) -> Work {
    let w = Work::with_config(extra);
    w.drop_file("categories.json", br#"[{"id":"c1","name":"All"}]"#);
    w.drop_file("products.json", &products(0..10));
    let o = w.run("once", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(published_ids(&w), 10);
    w
}

#[test]
fn a_snapshot_removing_over_the_share_is_held_until_released() {
    let w = with_ten_published("");
    // Six of ten would go: 60% > 20%.
    w.drop_file("products.json", &products(0..4));
    let o = w.run("once", &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert_eq!(published_ids(&w), 10, "the portal keeps its products");
    let r = report(&w, "products.json");
    let e = &r["errors"][0];
    assert_eq!(e["code"], "snapshot.mass_delete");
    let msg = e["message"].as_str().unwrap();
    assert!(msg.contains("delete 6 of the 10"), "{msg}");
    assert!(
        msg.contains("compo-exchange release products.json"),
        "{msg}"
    );

    let o = w.run("release", &["products.json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("released products.json"),
        "{}",
        stdout(&o)
    );
    assert!(!w.rejected("products.json").exists());
    assert!(w.path("outbox/products.json").exists());
    let o = w.run("once", &[]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(published_ids(&w), 4, "the released snapshot is published");

    // The release was for that content only: the next big removal is held again.
    w.drop_file("products.json", &products(100..101));
    let o = w.run("once", &[]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(published_ids(&w), 4);
}

#[test]
fn an_empty_snapshot_is_always_held_and_a_small_removal_passes() {
    let w = with_ten_published("[snapshot]\nmass_delete = 1.0\n");
    w.drop_file("products.json", b"[]");
    let o = w.run("once", &[]);
    assert_eq!(o.status.code(), Some(1));
    let r = report(&w, "products.json");
    let msg = r["errors"][0]["message"].as_str().unwrap();
    assert!(msg.contains("empty full snapshot"), "{msg}");
    assert_eq!(published_ids(&w), 10);

    // Removing 9 of 10 is fine under a limit of 100%.
    w.drop_file("products.json", &products(0..1));
    let o = w.run("once", &[]);
    assert!(o.status.success(), "{}", stdout(&o));
    assert_eq!(published_ids(&w), 1);
}

#[test]
fn the_per_type_limit_and_deltas_let_deletions_through() {
    let w = with_ten_published("[snapshot.mass_delete_by_type]\nproducts = 0.5\n");
    // 40% removed: over the default 20%, under the products' 50%.
    w.drop_file("products.json", &products(0..6));
    let o = w.run("once", &[]);
    assert!(o.status.success(), "{}", stdout(&o));
    assert_eq!(published_ids(&w), 6);
    // A delta deleting most records is the ERP's explicit word, not an accident of a filter.
    let dels: Vec<String> = (0..5)
        .map(|i| format!(r#"{{"id":"p{i}","deleted":true}}"#))
        .collect();
    w.drop_file(
        "products.delta.json",
        format!("[{}]", dels.join(",")).as_bytes(),
    );
    let o = w.run("once", &[]);
    assert!(o.status.success(), "{}", stdout(&o));
    assert!(w.path("server/in/products.delta.json").exists());
}

#[test]
fn release_refuses_a_file_rejected_for_its_content() {
    let w = Work::new();
    w.drop_file("products.json", br#"[{"id":"p1"}]"#);
    let o = w.run("once", &[]);
    assert_eq!(o.status.code(), Some(1));
    let o = w.run("release", &["products.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("not held by the mass-deletion guard"),
        "{}",
        stderr(&o)
    );
    assert!(w.rejected("products.json").exists(), "left where it was");
}
