//! The exchange engine on a local server: the flow, the handoff guarantees, the schedule.

use crate::harness::{fixtures, names, stderr, stdout, tree, Work};
use compo_exchange::compo::model::DataType;
use compo_exchange::pipeline::Engine;
use compo_exchange::schedule::{Cadence, FakeClock, Job, Plan, Scheduler};
use serde_json::Value;

fn archived(w: &Work) -> Vec<String> {
    tree(&w.path("archive"))
        .into_iter()
        .map(|p| p.split_once('/').map(|(_, r)| r.to_string()).unwrap_or(p))
        .collect()
}

fn read_json(p: &std::path::Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

#[test]
fn samples_flow_from_outbox_to_in_and_an_order_back_to_the_inbox() {
    let w = Work::new();
    let o = w.run("once", &["--samples"]);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    let inn = names(&w.path("server/in"));
    for t in DataType::ALL {
        assert!(
            inn.iter().any(|n| n.starts_with(&format!("{}.", t.name()))),
            "{t}: {inn:?}"
        );
    }
    assert_eq!(names(&w.path("server/in/pictures")).len(), 6);
    assert_eq!(names(&w.path("server/in/invoices")).len(), 3);
    // Published files are UTF-8 without BOM, one record per line, same records.
    let seg = std::fs::read(w.path("server/in/segments.json")).unwrap();
    assert!(!seg.starts_with(&[0xEF, 0xBB, 0xBF]));
    let wh = std::fs::read_to_string(w.path("server/in/warehouses.json")).unwrap();
    assert!(wh.contains("Склад"), "re-encoded from Windows-1251: {wh}");
    let orig: Value = {
        let bytes = std::fs::read(fixtures().join("batch/products.json")).unwrap();
        serde_json::from_slice(&bytes).unwrap()
    };
    assert_eq!(read_json(&w.path("server/in/products.json")), orig);
    // The order from out/ is in the inbox and acknowledged on the server.
    assert_eq!(names(&w.path("inbox")), ["orders.20261122T093000.json"]);
    assert!(names(&w.path("server/out")).is_empty());
    assert_eq!(
        names(&w.path("server/out/archive")),
        ["orders.20261122T093000.json"]
    );
    // Every outbox data file is archived; nothing is left in the outbox or rejected.
    assert!(names(&w.path("outbox")).is_empty());
    assert_eq!(
        archived(&w)
            .iter()
            .filter(|n| !n.starts_with("out/"))
            .count(),
        17
    );
    assert!(w.rejected_names().is_empty());
}

#[test]
fn every_outbox_file_ends_archived_or_rejected_with_a_report() {
    // No grace for files that do not end like an array: the truncated one is taken at once.
    let w = Work::with_config("[detect]\nsettle_secs = 0.05\ntruncation_grace_secs = 0");
    w.run("once", &["--samples"]);
    w.drop_file(
        "remains.delta-a.json",
        br#"[{"product_id":"P-1","warehouse_id":"WH-MSK","quantity":3}]"#,
    );
    w.drop_file(
        "remains.delta-b.json",
        br#"[{"product_id":"P-404","warehouse_id":"WH-MSK","quantity":3}]"#,
    );
    w.drop_file(
        "remains.delta-c.json",
        br#"[{"product_id":"P-1","warehouse_id":"WH-MSK","quantity":3},"#,
    );
    w.drop_file("stock.json", b"[]");
    let o = w.run("once", &[]);
    assert_eq!(o.status.code(), Some(1), "a rejection makes once exit 1");
    assert!(names(&w.path("outbox")).is_empty());
    assert!(archived(&w).contains(&"remains.delta-a.json".to_string()));
    let rej = w.rejected_names();
    for n in ["remains.delta-b.json", "remains.delta-c.json", "stock.json"] {
        assert!(rej.contains(&n.to_string()), "{n}: {rej:?}");
        let report = read_json(&w.rejected(&format!("{n}.report.json")));
        assert_eq!(report["status"], "rejected");
        assert_eq!(report["file"], n);
    }
    let r = read_json(&w.rejected("remains.delta-b.json.report.json"));
    assert_eq!(r["errors"][0]["code"], "ref.missing");
    assert_eq!(r["errors"][0]["pointer"], "/0/product_id");
    let r = read_json(&w.rejected("stock.json.report.json"));
    assert_eq!(r["errors"][0]["code"], "name.unknown_type");
    assert!(names(&w.path("server/in")).contains(&"remains.delta-a.json".to_string()));
    assert!(!names(&w.path("server/in")).contains(&"remains.delta-b.json".to_string()));
}

#[test]
fn identical_content_is_published_once() {
    let w = Work::new();
    w.run("once", &["--samples"]);
    // The portal imports and removes what it got.
    std::fs::remove_file(w.path("server/in/products.json")).unwrap();
    w.drop_file(
        "products.json",
        &std::fs::read(fixtures().join("batch/products.json")).unwrap(),
    );
    let o = w.run("once", &["--format", "json"]);
    let sum: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(sum["unchanged"][0], "products.json", "{sum}");
    assert!(!w.path("server/in/products.json").exists());
    // A changed file goes through.
    let mut v = read_json(&fixtures().join("batch/products.json"));
    v[0]["name"] = "Новое имя".into();
    w.drop_file("products.json", v.to_string().as_bytes());
    w.run("once", &[]);
    assert_eq!(
        read_json(&w.path("server/in/products.json"))[0]["name"],
        "Новое имя"
    );
}

#[test]
fn a_delta_never_replaces_one_the_portal_has_not_imported() {
    let w = Work::new();
    w.run("once", &["--samples"]);
    let d1 = br#"[{"product_id":"P-1","warehouse_id":"WH-MSK","quantity":1}]"#;
    let d2 = br#"[{"product_id":"P-1","warehouse_id":"WH-MSK","quantity":2}]"#;
    w.drop_file("remains.delta.json", d1);
    w.run("once", &[]);
    w.drop_file("remains.delta.json", d2);
    w.run("once", &[]);
    let inn = names(&w.path("server/in"));
    let deltas: Vec<_> = inn
        .iter()
        .filter(|n| n.starts_with("remains.delta"))
        .collect();
    assert_eq!(deltas.len(), 3, "{inn:?}"); // the samples' labelled one, and both of ours
    assert_eq!(
        read_json(&w.path("server/in/remains.delta.json"))[0]["quantity"],
        1
    );
}

#[test]
fn inbound_invalid_files_are_rejected_then_acknowledged_and_duplicates_not_redelivered() {
    let w = Work::new();
    w.run("once", &["--samples"]);
    let bad = br#"[{"id":"W-2","date":"2026-11-22","status":"new","contragent_id":"CA-404","currency":"RUB","total":10,"items":[{"product_id":"P-1","quantity":1,"price":10,"amount":10}]}]"#;
    w.portal_writes("orders.bad.json", bad);
    let o = w.run("once", &[]);
    assert_eq!(o.status.code(), Some(1));
    let r = read_json(&w.rejected("orders.bad.json.report.json"));
    assert_eq!(r["errors"][0]["code"], "ref.missing");
    assert!(names(&w.path("server/out/archive")).contains(&"orders.bad.json".to_string()));
    assert!(!names(&w.path("inbox")).contains(&"orders.bad.json".to_string()));
    // The portal writes the same order file again: acknowledged, not delivered twice.
    std::fs::remove_file(w.path("inbox/orders.20261122T093000.json")).unwrap();
    w.portal_writes(
        "orders.20261122T093000.json",
        &std::fs::read(fixtures().join("samples/out/orders.20261122T093000.json")).unwrap(),
    );
    let o = w.run("once", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(names(&w.path("inbox")).is_empty());
    assert!(names(&w.path("server/out")).is_empty());
}

#[test]
fn drop_records_policy_publishes_the_good_records_and_lists_the_bad() {
    let w = Work::with_config("[validation]\npolicy = \"drop_records\"");
    w.run("once", &["--samples"]);
    w.drop_file(
        "remains.delta-x.json",
        br#"[{"product_id":"P-1","warehouse_id":"WH-MSK","quantity":5},
             {"product_id":"P-1","warehouse_id":"WH-MSK","quantity":-1},
             {"product_id":"P-404","warehouse_id":"WH-MSK","quantity":1}]"#,
    );
    w.run("once", &[]);
    let published = read_json(&w.path("server/in/remains.delta-x.json"));
    assert_eq!(published.as_array().unwrap().len(), 1);
    assert_eq!(published[0]["quantity"], 5);
    let day = names(&w.path("archive"));
    let _ = day;
    let report = tree(&w.path("archive"))
        .into_iter()
        .find(|p| p.ends_with("remains.delta-x.json.report.json"))
        .expect("the report is archived beside the original");
    let r = read_json(&w.path("archive").join(report));
    assert_eq!(r["status"], "partial");
    let codes: Vec<_> = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"schema.minimum") && codes.contains(&"ref.missing"),
        "{codes:?}"
    );
}

#[test]
fn under_drop_records_a_file_may_refer_to_the_good_records_of_a_partly_published_one() {
    let w = Work::with_config("[validation]\npolicy = \"drop_records\"\nlanguage = \"en\"");
    w.run("once", &["--samples"]);
    // One batch: a products delta with one bad record and one new good one, and stock of the
    // new one. The products file is published without its bad record, so the stock's
    // reference holds.
    w.drop_file(
        "products.delta-x.json",
        r#"[{"id":"P-NEW","name":"Новый","category_id":"CAT-1-1","unit":"шт"},
             {"id":"P-BAD","name":"Плохой","category_id":"CAT-1-1"}]"#
            .as_bytes(),
    );
    w.drop_file(
        "remains.delta-y.json",
        br#"[{"product_id":"P-NEW","warehouse_id":"WH-MSK","quantity":5}]"#,
    );
    let o = w.run("once", &["--format", "json"]);
    let sum: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(sum["rejected"], serde_json::json!([]), "{sum}");
    let products = read_json(&w.path("server/in/products.delta-x.json"));
    assert_eq!(products.as_array().unwrap().len(), 1);
    assert_eq!(
        read_json(&w.path("server/in/remains.delta-y.json"))[0]["product_id"],
        "P-NEW"
    );
    // A reference to the bad record is still refused.
    w.drop_file(
        "products.delta-z.json",
        r#"[{"id":"P-BAD2","name":"Плохой","category_id":"CAT-1-1"}, {"id":"P-OK2","name":"Хороший","category_id":"CAT-1-1","unit":"шт"}]"#.as_bytes(),
    );
    w.drop_file(
        "remains.delta-w.json",
        br#"[{"product_id":"P-BAD2","warehouse_id":"WH-MSK","quantity":5},
             {"product_id":"P-OK2","warehouse_id":"WH-MSK","quantity":1}]"#,
    );
    let o = w.run("once", &["--format", "json"]);
    let remains = read_json(&w.path("server/in/remains.delta-w.json"));
    assert_eq!(remains.as_array().unwrap().len(), 1, "{remains}");
    assert_eq!(remains[0]["product_id"], "P-OK2");
    // The report blames the record left out, not its file, which was published.
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("its record in products.delta-z.json has errors, so it is not published"),
        "{out}"
    );
    assert!(!out.contains("was rejected"), "{out}");
    // A bad update of a record the portal already has leaves the portal's version in place:
    // a reference to it still holds.
    w.drop_file(
        "products.delta-u.json",
        r#"[{"id":"P-OK2","name":"Без единицы","category_id":"CAT-1-1"}, {"id":"P-OK3","name":"Хороший","category_id":"CAT-1-1","unit":"шт"}]"#.as_bytes(),
    );
    w.drop_file(
        "remains.delta-u.json",
        br#"[{"product_id":"P-OK2","warehouse_id":"WH-MSK","quantity":7}]"#,
    );
    w.run("once", &[]);
    let remains = read_json(&w.path("server/in/remains.delta-u.json"));
    assert_eq!(remains[0]["quantity"], 7, "{remains}");
}

#[test]
fn a_newer_snapshot_supersedes_an_older_one_waiting_for_the_same_tick() {
    let w = Work::new();
    w.run("once", &["--samples"]);
    let mut e = Engine::open(w.settings()).unwrap();
    let v1 = r#"[{"id":"WH-MSK","name":"Склад 1"},{"id":"WH-SPB","name":"СПб"}]"#;
    let v2 = r#"[{"id":"WH-MSK","name":"Склад 2"},{"id":"WH-SPB","name":"СПб"}]"#;
    w.drop_file("warehouses.json", v1.as_bytes());
    e.once_take_only().unwrap();
    w.drop_file("warehouses.json", v2.as_bytes());
    let sum = e.once_take_only().unwrap();
    assert_eq!(sum.superseded, ["warehouses.json"]);
    let p = e.publish(&[Job::Data(DataType::Warehouses)]).unwrap();
    assert_eq!(p.published, ["warehouses.json"]);
    assert_eq!(
        read_json(&w.path("server/in/warehouses.json"))[0]["name"],
        "Склад 2"
    );
    assert_eq!(
        archived(&w)
            .iter()
            .filter(|n| n.starts_with("warehouses"))
            .count(),
        3
    );
}

#[test]
fn the_schedule_publishes_due_types_and_pulls_forward_what_they_refer_to() {
    let w = Work::new();
    w.run("once", &["--samples"]);
    let mut e = Engine::open(w.settings()).unwrap();
    // A new product (hourly) and a price for it (every 15 minutes).
    let mut products = read_json(&fixtures().join("batch/products.json"));
    let mut p = products[0].clone();
    p["id"] = "P-NEW".into();
    p["barcodes"] = Value::Array(vec![]);
    products.as_array_mut().unwrap().push(p);
    w.drop_file("products.json", products.to_string().as_bytes());
    w.drop_file(
        "prices.delta-new.json",
        br#"[{"product_id":"P-NEW","prices_type_id":"PT-RETAIL","price":10}]"#,
    );
    let sum = e.once_take_only().unwrap();
    assert_eq!(sum.rejected, Vec::<String>::new(), "{sum:?}");
    std::fs::remove_file(w.path("server/in/products.json")).unwrap();

    let clock =
        FakeClock::new(chrono::DateTime::parse_from_rfc3339("2026-11-22T10:01:00+03:00").unwrap());
    let mut sched = Scheduler::new(
        Plan::defaults(),
        compo_exchange::schedule::Clock::now(&clock),
    );
    clock.advance(std::time::Duration::from_secs(9 * 60));
    let due = sched.due(compo_exchange::schedule::Clock::now(&clock));
    assert!(
        !due.contains(&Job::Data(DataType::Prices)),
        "10:10: prices not due yet"
    );
    assert!(e.publish(&due).unwrap().published.is_empty());
    clock.advance(std::time::Duration::from_secs(5 * 60));
    let due = sched.due(compo_exchange::schedule::Clock::now(&clock));
    assert!(
        due.contains(&Job::Data(DataType::Prices)) && !due.contains(&Job::Data(DataType::Products))
    );
    let sum = e.publish(&due).unwrap();
    // Products go first although their own tick is at 11:00.
    assert_eq!(sum.published, ["products.json", "prices.delta-new.json"]);
    let _ = Cadence::parse("5m").unwrap();
}

#[test]
fn status_reports_last_published_waiting_and_rejections() {
    let w = Work::new();
    w.run("once", &["--samples"]);
    w.drop_file("stock.json", b"[]");
    w.run("once", &[]);
    let o = w.run("status", &["--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let s: Value = serde_json::from_slice(&o.stdout).unwrap();
    let products = s["types"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["job"] == "products")
        .unwrap();
    assert_eq!(products["last_file"], "products.json");
    assert!(products["last_published_at"].is_string());
    assert_eq!(products["waiting"], 0);
    assert_eq!(s["attached"][0]["on_server"], 6);
    let text = stdout(&w.run("status", &[]));
    assert!(
        text.contains("products") && text.contains("last published"),
        "{text}"
    );
}

#[test]
fn init_writes_a_config_that_loads_and_the_tree() {
    let d = crate::harness::tempdir();
    let o = crate::harness::run(["init".into(), d.path().as_os_str().to_owned()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for f in [
        "outbox",
        "inbox",
        "archive",
        "rejected",
        "state",
        "server/in",
        "server/out",
    ] {
        assert!(d.path().join(f).is_dir(), "{f}");
    }
    let cfg = d.path().join("compo-exchange.toml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    assert!(text.contains("[schedule]"));
    // The written config is accepted as is, and a typo in it is not.
    let o = crate::harness::cli()
        .arg("status")
        .arg("--config")
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    std::fs::write(&cfg, text.replace("[detect]", "[detect]\nsettle = 1")).unwrap();
    let o = crate::harness::cli()
        .arg("status")
        .arg("--config")
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("settle"), "{}", stderr(&o));
}

#[test]
fn logs_are_json_lines_on_request() {
    let w = Work::new();
    let o = w.run("once", &["--samples", "--log-format", "json"]);
    assert_eq!(o.status.code(), Some(0));
    let lines: Vec<Value> = stderr(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(lines
        .iter()
        .any(|l| l["fields"]["message"] == "published" && l["fields"]["file"] == "products.json"));
    assert!(lines
        .iter()
        .all(|l| l["level"].is_string() && l["timestamp"].is_string()));
}

#[test]
fn a_rejection_interrupted_between_its_two_moves_finishes_under_the_same_name() {
    use compo_exchange::journal::{Journal, NewFile, Origin, State, Update};
    let w = Work::new();
    let s = w.settings();
    let id = {
        // A run chose rejected/prices.json, moved the report there and was killed before the
        // file itself followed.
        let _ = Engine::open(w.settings()).unwrap();
        let mut j = Journal::open(&s.folders.state.join("journal.db")).unwrap();
        let id = j
            .begin(
                &NewFile {
                    origin: Origin::Outbox,
                    name: "prices.json",
                    data_type: None,
                    snapshot: false,
                    size: 3,
                    hash: "h",
                    work_path: None,
                },
                State::Claimed,
            )
            .unwrap();
        let work = s.folders.state.join(format!("work/{id}-prices.json"));
        std::fs::write(&work, "[{").unwrap();
        let to = s.folders.rejected.join("prices.json");
        j.transition(
            id,
            State::Rejecting,
            Update {
                work_path: Some(&work.to_string_lossy()),
                final_path: Some(&to.to_string_lossy()),
                ..Default::default()
            },
        )
        .unwrap();
        std::fs::write(s.folders.rejected.join("prices.json.report.json"), "{}").unwrap();
        id
    };
    let mut e = Engine::open(w.settings()).unwrap();
    e.recover().unwrap();
    assert_eq!(
        names(&w.path("rejected")),
        ["prices.json", "prices.json.report.json"]
    );
    assert_eq!(
        e.journal().file(id).unwrap().unwrap().state,
        State::Rejected
    );
}

#[test]
fn a_file_already_in_normalised_form_is_published_as_our_own_copy() {
    use std::os::unix::fs::MetadataExt;
    // The new segments replace every sample segment: a deliberate full replacement.
    let w = Work::with_config("[snapshot]\nmass_delete = 1.0\n");
    w.run("once", &["--samples"]);
    // Compact UTF-8, one record per line (and a blank line at the end): what many ERPs
    // write, and exactly what we would publish.
    let compact =
        "[\n{\"id\":\"SEG-N1\",\"name\":\"Опт\"},\n{\"id\":\"SEG-N2\",\"name\":\"Розница\"}\n]\n\n";
    w.drop_file("segments.json", compact.as_bytes());
    let o = w.run("once", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let published = w.path("server/in/segments.json");
    // Byte for byte, up to blank lines after the closing bracket: a clone keeps them, a copy
    // written while validating (file systems without clones) ends at "]\n".
    let text = std::fs::read_to_string(&published).unwrap();
    assert!(
        text == compact || text == format!("{}\n", compact.trim_end()),
        "{text:?}"
    );
    let original = tree(&w.path("archive"))
        .into_iter()
        .map(|p| w.path("archive").join(p))
        .find(|p| std::fs::read(p).unwrap() == compact.as_bytes())
        .expect("the original is archived");
    // Not normalised again, yet never a second name of the writer's file (spec 3.6): a
    // clone or a copy of it.
    assert_ne!(
        std::fs::metadata(&published).unwrap().ino(),
        std::fs::metadata(&original).unwrap().ino()
    );
    // Pretty-printed: rewritten one minified record per line.
    w.drop_file(
        "segments.json",
        "[\n  {\n    \"id\": \"SEG-N1\",\n    \"name\": \"Опт\"\n  }\n]\n".as_bytes(),
    );
    let o = w.run("once", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&published).unwrap(),
        "[\n{\"id\":\"SEG-N1\",\"name\":\"Опт\"}\n]\n"
    );
}

#[test]
fn once_counts_what_recovery_finished() {
    use compo_exchange::journal::{State, Update};
    let w = Work::new();
    w.drop_file("categories.json", br#"[{"id":"c1","name":"All"}]"#);
    // A crash after the journal said "publishing": the next run's recovery publishes it.
    {
        let mut e = Engine::open(w.settings()).unwrap();
        let s = e.once_take_only().unwrap();
        assert_eq!(s.staged, ["categories.json"]);
        let id = e.journal().staged("categories").unwrap()[0].id;
        let mut j = compo_exchange::journal::Journal::open(&w.path("state/journal.db")).unwrap();
        j.transition(
            id,
            State::Publishing,
            Update {
                target_name: Some("categories.json"),
                ..Default::default()
            },
        )
        .unwrap();
    }
    let o = w.run("once", &["--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let sum: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        sum["published"],
        serde_json::json!(["categories.json"]),
        "{sum}"
    );
    let o = w.run("once", &[]);
    assert!(
        !stdout(&o).contains("categories.json"),
        "counted once: {}",
        stdout(&o)
    );
    // The text summary says it too.
    w.drop_file("segments.json", br#"[{"id":"S1","name":"Retail"}]"#);
    {
        let mut e = Engine::open(w.settings()).unwrap();
        e.once_take_only().unwrap();
        let id = e.journal().staged("segments").unwrap()[0].id;
        let mut j = compo_exchange::journal::Journal::open(&w.path("state/journal.db")).unwrap();
        j.transition(
            id,
            State::Publishing,
            Update {
                target_name: Some("segments.json"),
                ..Default::default()
            },
        )
        .unwrap();
    }
    let o = w.run("once", &[]);
    assert!(
        stdout(&o).contains("published  segments.json"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_published_files_normalisations_are_kept_beside_its_original_and_shown_in_status() {
    let w = Work::new();
    w.drop_file(
        "categories.json",
        "[\r\n\t{\"id\": \"c1\", \"name\": \"All\", \"parent_id\": null},\r\n\t{\"id\": \"c2\", \"name\": \"Sub\", \"parent_id\": \"c1\", \"picture\": \"\"}\r\n]\r\n"
            .as_bytes(),
    );
    let o = w.run("once", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(w.path("server/in/categories.json")).unwrap(),
        "[\n{\"id\":\"c1\",\"name\":\"All\"},\n{\"id\":\"c2\",\"name\":\"Sub\",\"parent_id\":\"c1\"}\n]\n"
    );
    let report = tree(&w.path("archive"))
        .into_iter()
        .find(|p| p.ends_with("categories.json.report.json"))
        .expect("a report beside the archived original");
    let r: Value =
        serde_json::from_slice(&std::fs::read(w.path("archive").join(report)).unwrap()).unwrap();
    let codes: Vec<&str> = r["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["value.null", "value.empty"], "{r:#}");
    assert!(r["errors"].as_array().unwrap().is_empty());

    let o = w.run("status", &["--format", "json"]);
    let st: Value = serde_json::from_slice(&o.stdout).unwrap();
    let shown = st["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["topic"] == "normalised")
        .unwrap_or_else(|| panic!("{st:#}"));
    let m = shown["message"].as_str().unwrap();
    assert!(
        m.contains("categories.json") && m.contains("2 values"),
        "{m}"
    );
    assert!(stdout(&w.run("status", &[])).contains("categories.json was accepted"));
}

#[test]
fn status_shows_when_pictures_and_invoices_were_last_published() {
    let w = Work::new();
    let o = w.run("once", &["--samples"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = w.run("status", &["--format", "json"]);
    let st: Value = serde_json::from_slice(&o.stdout).unwrap();
    for folder in ["pictures", "invoices"] {
        let t = st["types"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["job"] == folder)
            .unwrap();
        let at = t["last_published_at"]
            .as_str()
            .unwrap_or_else(|| panic!("{t}"));
        assert!(chrono::DateTime::parse_from_rfc3339(at).is_ok(), "{at}");
    }
    // The work folder is shown clean, without a trailing `/.`.
    assert!(
        !st["workdir"].as_str().unwrap().ends_with("/."),
        "{}",
        st["workdir"]
    );
}

#[test]
fn the_log_says_why_a_file_was_rejected_or_not_published_and_where_it_is() {
    let w = Work::new();
    w.drop_file("segments.json", br#"[{"id":"S1","name":"Retail"}]"#);
    assert!(w.run("once", &[]).status.success());
    w.drop_file("segments.json", br#"[{"id":"S1","name":"Retail"}]"#);
    w.drop_file("warehouses.json", br#"[{"id":"W1"}]"#);
    let o = w.run("once", &["--log-format", "json"]);
    let lines: Vec<Value> = stderr(&o)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let rejected = lines
        .iter()
        .find(|l| l["fields"]["message"] == "rejected")
        .unwrap_or_else(|| panic!("{}", stderr(&o)));
    assert_eq!(rejected["fields"]["code"], "schema.required");
    let report = rejected["fields"]["report"].as_str().unwrap();
    assert!(std::path::Path::new(report).is_file(), "{report}");
    let unchanged = lines
        .iter()
        .find(|l| {
            l["fields"]["message"] == "archived without publishing: unchanged"
                && l["fields"]["file"] == "segments.json"
        })
        .unwrap_or_else(|| panic!("{}", stderr(&o)));
    let archived = unchanged["fields"]["archived"].as_str().unwrap();
    assert!(std::path::Path::new(archived).is_file(), "{archived}");
}
