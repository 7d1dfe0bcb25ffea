//! Changes-only publishing (spec 8.1, issue 18) through the real binary: a full snapshot of a
//! configured type reaches `in/` as the delta of what changed, or not at all, and in full when
//! the processor cannot vouch for the portal's state.

use crate::harness::{fixtures, names, stderr, stdout, Work};
use serde_json::{json, Value};

const CHANGES_ONLY: &str = "[publish]\nchanges_only = [\"products\", \"remains\"]\n";

fn read_json(p: &std::path::Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

fn products() -> Vec<Value> {
    read_json(&fixtures().join("batch/products.json"))
        .as_array()
        .unwrap()
        .clone()
}

/// The portal imports and removes what is in `in/` (the files' contents, by name).
fn portal_imports(w: &Work) -> Vec<(String, Value)> {
    let dir = w.path("server/in");
    let mut got = Vec::new();
    for n in names(&dir) {
        if n.ends_with(".json") {
            got.push((n.clone(), read_json(&dir.join(&n))));
            std::fs::remove_file(dir.join(&n)).unwrap();
        }
    }
    got
}

/// Numbers by value (`20.0` and `20` alike).
fn canon(v: &Value) -> Value {
    match v {
        Value::Number(n) => json!(n.as_f64().unwrap()),
        Value::Array(a) => Value::Array(a.iter().map(canon).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), canon(v))).collect()),
        other => other.clone(),
    }
}

/// Member order, whitespace and number spelling of every record changed, content not.
fn respelled(records: &[Value]) -> String {
    let mut out = String::from("[\n");
    for (i, r) in records.iter().enumerate() {
        let mut members: Vec<(&String, &Value)> = r.as_object().unwrap().iter().collect();
        members.reverse();
        let body: Vec<String> = members
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::Number(n) if n.is_f64() => format!("{}0", n),
                    Value::Number(n) => format!("{n}.0"),
                    other => other.to_string(),
                };
                format!("  {:?} :  {v}", k)
            })
            .collect();
        out.push_str(&format!("{{\n{}\n}}", body.join(",\n")));
        out.push_str(if i + 1 < records.len() { ",\n" } else { "\n" });
    }
    out.push(']');
    out
}

#[test]
fn a_snapshot_goes_out_as_the_delta_of_what_changed() {
    // One of four products removed is 25%: over the guard's default share.
    let w = Work::with_config(&format!("{CHANGES_ONLY}[snapshot]\nmass_delete = 0.5\n"));
    w.run("once", &["--samples"]);
    let first = portal_imports(&w);
    assert!(
        first.iter().any(|(n, _)| n == "products.json"),
        "the first publish of a type is a full snapshot: {:?}",
        first.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    // The ERP exports the whole catalog again: P-2 renamed, P-3 gone, P-9 new, the rest as it
    // was but spelled differently.
    let mut v = products();
    v[1]["name"] = "Кастрюля эмалированная 4 л".into();
    let gone = v.remove(2);
    let mut added = v[0].clone();
    added["id"] = "P-9".into();
    v.push(added.clone());
    w.drop_file("products.json", respelled(&v).as_bytes());
    let o = w.run("once", &["--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let got = portal_imports(&w);
    assert_eq!(got.len(), 1, "{:?}", got);
    let (name, body) = &got[0];
    assert!(
        name.starts_with("products.delta-") && name.ends_with(".json"),
        "{name}"
    );
    let mut expected = vec![v[1].clone(), added];
    expected.push(json!({"id": gone["id"], "deleted": true}));
    // The records as the ERP spelled them this time (`20.0` for 20): compared by value.
    assert_eq!(canon(body), canon(&Value::from(expected)), "{body}");
    let log = stderr(&o);
    assert!(
        log.contains("as delta: 1 changed, 1 added, 1 deleted of 4"),
        "{log}"
    );
    let st = w.run("status", &[]);
    assert!(
        stdout(&st).contains("as delta: 1 changed, 1 added, 1 deleted of 4"),
        "{}",
        stdout(&st)
    );
    // The original is archived as it came, the delta is what the portal got.
    let archived = crate::harness::tree(&w.path("archive"));
    assert!(
        archived.iter().any(|p| p.ends_with("products.json")),
        "{archived:?}"
    );
}

#[test]
fn nothing_is_published_when_nothing_changed() {
    let w = Work::with_config(CHANGES_ONLY);
    w.run("once", &["--samples"]);
    portal_imports(&w);
    w.drop_file("products.json", respelled(&products()).as_bytes());
    let o = w.run("once", &["--format", "json"]);
    let sum: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(sum["unchanged"], json!(["products.json"]), "{sum}");
    assert!(portal_imports(&w).is_empty());
    assert!(
        stderr(&o).contains("nothing changed on the portal"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn without_changes_only_the_snapshot_goes_out_whole() {
    let w = Work::new();
    w.run("once", &["--samples"]);
    portal_imports(&w);
    let mut v = products();
    v[1]["name"] = "Кастрюля эмалированная 4 л".into();
    w.drop_file("products.json", serde_json::to_vec(&v).unwrap().as_slice());
    w.run("once", &[]);
    let got = portal_imports(&w);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, "products.json");
    assert_eq!(got[0].1.as_array().unwrap().len(), 4);
}

#[test]
fn a_full_snapshot_still_goes_out_every_full_every() {
    let w = Work::with_config(&format!("{CHANGES_ONLY}full_every = \"2s\"\n"));
    w.run("once", &["--samples"]);
    portal_imports(&w);
    let mut v = products();
    v[0]["name"] = "Порошок".into();
    w.drop_file("products.json", serde_json::to_vec(&v).unwrap().as_slice());
    w.run("once", &[]);
    let got = portal_imports(&w);
    assert!(got[0].0.starts_with("products.delta-"), "{:?}", got[0].0);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    v[0]["name"] = "Порошок 2".into();
    w.drop_file("products.json", serde_json::to_vec(&v).unwrap().as_slice());
    let o = w.run("once", &[]);
    let got = portal_imports(&w);
    assert_eq!(got[0].0, "products.json", "{}", stderr(&o));
    assert_eq!(got[0].1.as_array().unwrap().len(), 4);
    assert!(
        stderr(&o).contains("published in full: publish.full_every has passed"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_lost_journal_means_the_next_snapshot_goes_out_in_full() {
    let w = Work::with_config(CHANGES_ONLY);
    w.run("once", &["--samples"]);
    portal_imports(&w);
    for f in ["journal.db", "journal.db-wal", "journal.db-shm"] {
        let _ = std::fs::remove_file(w.path("state").join(f));
    }
    let mut v = products();
    v[0]["name"] = "Порошок".into();
    w.drop_file("products.json", serde_json::to_vec(&v).unwrap().as_slice());
    w.run("once", &[]);
    let got = portal_imports(&w);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, "products.json");
    // Layers the lost journal named are gone; the new one is there.
    let layers = names(&w.path("state/portal/products"));
    assert_eq!(layers.len(), 1, "{layers:?}");
}

#[test]
fn the_mass_deletion_guard_holds_a_snapshot_whose_delta_would_delete_too_much() {
    let w = Work::with_config(CHANGES_ONLY);
    w.run("once", &["--samples"]);
    portal_imports(&w);
    let v: Vec<Value> = products().into_iter().take(1).collect();
    w.drop_file("products.json", serde_json::to_vec(&v).unwrap().as_slice());
    let o = w.run("once", &["--format", "json"]);
    let sum: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(sum["rejected"], json!(["products.json"]), "{sum}");
    assert!(portal_imports(&w).is_empty());
    let report = crate::harness::tree(&w.path("rejected"))
        .into_iter()
        .find(|p| p.ends_with(".report.json"))
        .expect("a report");
    let text = std::fs::read_to_string(w.path("rejected").join(report)).unwrap();
    assert!(text.contains("snapshot.mass_delete"), "{text}");
}

#[test]
fn a_changes_only_type_must_be_a_data_type() {
    let w = Work::with_config("[publish]\nchanges_only = [\"Products\"]\n");
    let o = w.run("once", &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("publish.changes_only"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_store_that_no_longer_matches_its_texts_sends_the_next_snapshot_in_full() {
    let w = Work::with_config(&format!("{CHANGES_ONLY}verify_every = \"0s\"\n"));
    w.run("once", &["--samples"]);
    portal_imports(&w);
    // A disk or a hand changes a text the store keeps.
    let dir = w.path("state/portal/products");
    let layer = dir.join(&names(&dir)[0]);
    let text = std::fs::read_to_string(&layer).unwrap();
    std::fs::write(&layer, text.replacen("Кастрюля", "Сковорода", 1)).unwrap();
    let mut v = products();
    v[0]["name"] = "Порошок".into();
    w.drop_file("products.json", serde_json::to_vec(&v).unwrap().as_slice());
    let o = w.run("once", &[]);
    let got = portal_imports(&w);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, "products.json", "{}", stderr(&o));
    assert!(
        stderr(&o).contains("does not hash as the index says"),
        "{}",
        stderr(&o)
    );
    // The full snapshot rebuilt the store: the next change goes out as a delta again.
    v[0]["name"] = "Порошок 2".into();
    w.drop_file("products.json", serde_json::to_vec(&v).unwrap().as_slice());
    w.run("once", &[]);
    let got = portal_imports(&w);
    assert!(got[0].0.starts_with("products.delta-"), "{:?}", got[0].0);
}

#[test]
fn deltas_piled_on_a_snapshot_are_compacted_into_one_layer_that_still_diffs_right() {
    let w = Work::with_config(CHANGES_ONLY);
    w.run("once", &["--samples"]);
    portal_imports(&w);
    let mut v = products();
    for round in 0..6 {
        for p in v.iter_mut() {
            p["description"] = format!("round {round}").into();
        }
        w.drop_file(
            &format!("products.delta-r{round}.json"),
            serde_json::to_vec(&v).unwrap().as_slice(),
        );
        w.run("once", &[]);
    }
    portal_imports(&w);
    let layers = names(&w.path("state/portal/products"));
    // A snapshot and six deltas make seven layers; past four, they were rewritten into one.
    assert!(
        layers.len() <= 4 && !layers.contains(&"0.json".to_string()),
        "not compacted: {layers:?}"
    );
    // The compacted store still knows every record: one change gives a one-record delta.
    v[3]["name"] = "Изменён".into();
    w.drop_file("products.json", serde_json::to_vec(&v).unwrap().as_slice());
    w.run("once", &[]);
    let got = portal_imports(&w);
    assert_eq!(got.len(), 1);
    assert!(
        got[0].0.starts_with("products.delta-changes-"),
        "{}",
        got[0].0
    );
    assert_eq!(got[0].1.as_array().unwrap().len(), 1, "{}", got[0].1);
    assert_eq!(got[0].1[0]["name"], "Изменён");
}
