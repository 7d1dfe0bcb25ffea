//! The partner bridges from the command line and inside the exchange.

use crate::harness::{fixtures, names, run, stderr, stdout, tempdir, tree, Work};
use serde_json::Value;

#[test]
fn convert_sellper_to_compo_and_the_result_validates() {
    let d = tempdir();
    let o = run([
        "convert".into(),
        "--from".into(),
        "sellper".into(),
        "--to".into(),
        "compo".into(),
        "--out".into(),
        d.path().as_os_str().to_owned(),
        fixtures()
            .join("sellper/013-yml_catalog-response.xml")
            .into_os_string(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let written = names(d.path());
    assert!(
        written.contains(&"products.json".to_string()),
        "{written:?}"
    );
    let v = run(["validate".into(), d.path().as_os_str().to_owned()]);
    assert_eq!(v.status.code(), Some(0), "{}", stdout(&v));
}

#[test]
fn convert_compo_to_prodly_needs_the_codes_and_writes_ndjson() {
    let d = tempdir();
    let input = fixtures().join("prodly/compo");
    let o = run(["convert", "--from", "compo", "--to", "prodly", "--out"]
        .map(Into::into)
        .into_iter()
        .chain([
            d.path().as_os_str().to_owned(),
            input.clone().into_os_string(),
        ]));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--vendor"), "{}", stderr(&o));
    let o = run([
        "convert", "--from", "compo", "--to", "prodly", "--vendor", "acme", "--branch", "MSK",
        "--out",
    ]
    .map(Into::into)
    .into_iter()
    .chain([d.path().as_os_str().to_owned(), input.into_os_string()]));
    assert!(o.status.code().is_some_and(|c| c <= 1), "{}", stderr(&o));
    let body = std::fs::read_to_string(d.path().join("products.post.ndjson")).unwrap();
    for line in body.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        assert!(v["code"].is_string(), "{line}");
    }
    assert!(body.lines().count() > 0);
}

#[test]
fn unsupported_directions_are_refused() {
    let d = tempdir();
    let o = run(["convert", "--from", "sellper", "--to", "prodly", "--out"]
        .map(Into::into)
        .into_iter()
        .chain([
            d.path().as_os_str().to_owned(),
            fixtures()
                .join("sellper/001-stores-response.xml")
                .into_os_string(),
        ]));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no bridge"));
}

#[test]
fn sellper_xml_in_the_outbox_is_converted_validated_and_published() {
    // Sellper's stores replace every sample warehouse: a deliberate full replacement.
    let w = Work::with_config("[snapshot]\nmass_delete = 1.0\n");
    w.run("once", &["--samples"]);
    let xml = std::fs::read(fixtures().join("sellper/001-stores-response.xml")).unwrap();
    w.drop_file("sellper/stores.xml", &xml);
    let o = w.run("once", &["--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let sum: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        sum["published"],
        serde_json::json!(["warehouses.json"]),
        "{sum}"
    );
    let expected: Value = serde_json::from_slice(
        &std::fs::read(fixtures().join("sellper/expected/001-stores-response/warehouses.json"))
            .unwrap(),
    )
    .unwrap();
    let got: Value =
        serde_json::from_slice(&std::fs::read(w.path("server/in/warehouses.json")).unwrap())
            .unwrap();
    assert_eq!(got, expected);
    assert!(names(&w.path("outbox/sellper")).is_empty());
    assert!(tree(&w.path("archive"))
        .iter()
        .any(|p| p.ends_with("stores.xml")));
}

#[test]
fn a_bad_sellper_document_is_rejected_with_its_report() {
    let w = Work::new();
    w.drop_file("sellper/broken.xml", b"<stores><store><id>1</id></stores>");
    let o = w.run("once", &[]);
    assert_eq!(o.status.code(), Some(1));
    let r: Value =
        serde_json::from_slice(&std::fs::read(w.path("rejected/broken.xml.report.json")).unwrap())
            .unwrap();
    assert_eq!(r["errors"][0]["code"], "xml.syntax", "{r}");
}

#[test]
fn orders_can_also_be_delivered_as_sellper_xml() {
    let w = Work::with_config("[inbound]\nsellper_xml = true");
    let o = w.run("once", &["--samples"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let xml = names(&w.path("inbox/sellper"));
    assert_eq!(xml.len(), 1, "{xml:?}");
    let text = std::fs::read_to_string(w.path("inbox/sellper").join(&xml[0])).unwrap();
    assert!(
        text.contains("<order") && text.contains("WEB-20261122-0007"),
        "{text}"
    );
}

#[test]
fn publishing_also_writes_prodly_bodies_when_enabled() {
    let w = Work::with_config("[prodly]\nenabled = true\nvendor = \"acme\"\nbranch = \"MSK\"");
    let o = w.run("once", &["--samples"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let sets: Vec<_> = std::fs::read_dir(w.path("prodly"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(sets.len(), 1, "one folder per publish: {sets:?}");
    let files = names(&sets[0]);
    assert!(
        files.contains(&"products.post.ndjson".to_string()),
        "{files:?}"
    );
    assert!(!w.path("state/prodly-pending").exists());
}
