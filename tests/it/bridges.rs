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
        serde_json::from_slice(&std::fs::read(w.rejected("broken.xml.report.json")).unwrap())
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

/// Runs `compo-exchange convert` with `args` and then the input paths.
fn convert(args: &[&str], inputs: &[std::path::PathBuf]) -> std::process::Output {
    run(args
        .iter()
        .map(std::ffi::OsString::from)
        .chain(inputs.iter().map(|p| p.clone().into_os_string())))
}

#[test]
fn convert_takes_the_sellper_and_prodly_settings_from_the_configuration() {
    let d = tempdir();
    let config = d.path().join("exchange.toml");
    std::fs::write(
        &config,
        format!(
            r#"workdir = {:?}
[sellper]
item_ids_from = ["stock-1.xml"]
goods_source_behaviour = "find-impersonal-reserve"
[sellper.clients]
"C-501" = "238"
[prodly]
vendor = "V"
branch = "SM"
default_currency = "RUB"
"#,
            d.path().display().to_string()
        ),
    )
    .unwrap();
    // Paths of [sellper] are relative to the working folder, as in the exchange.
    std::fs::copy(
        fixtures().join("sellper/011-stores-1.xml"),
        d.path().join("stock-1.xml"),
    )
    .unwrap();
    let cfg = config.to_str().unwrap();
    let out = d.path().join("xml");
    let o = convert(
        &[
            "convert",
            "--from",
            "compo",
            "--to",
            "sellper",
            "--config",
            cfg,
            "--out",
            out.to_str().unwrap(),
        ],
        &[fixtures().join("sellper/compo/orders.20261122T093000.json")],
    );
    assert!(o.status.code().is_some_and(|c| c <= 1), "{}", stderr(&o));
    let xml = std::fs::read_to_string(out.join("order-P-1001.xml")).unwrap();
    assert!(
        xml.contains("goods-source-behaviour=\"find-impersonal-reserve\""),
        "{xml}"
    );
    assert!(xml.contains("<client>238</client>"), "{xml}");

    let products = d.path().join("products");
    let o = convert(
        &[
            "convert",
            "--from",
            "sellper",
            "--to",
            "compo",
            "--config",
            cfg,
            "--out",
            products.to_str().unwrap(),
        ],
        &[fixtures().join("sellper/x-products-for-stock.xml")],
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let text = std::fs::read_to_string(products.join("products.json")).unwrap();
    assert!(text.contains("86e03fab6db4c6d9cf33e616622b6c45"), "{text}");

    // prodly.default_currency fills an order without currency.
    let orders = d.path().join("orders");
    let o = convert(
        &[
            "convert",
            "--from",
            "prodly",
            "--to",
            "compo",
            "--config",
            cfg,
            "--out",
            orders.to_str().unwrap(),
        ],
        &[fixtures().join("prodly/exports/orders.new.json")],
    );
    assert!(o.status.code().is_some_and(|c| c <= 1), "{}", stderr(&o));
    let text = std::fs::read_to_string(orders.join("orders.json")).unwrap();
    assert!(text.contains("PR-5003"), "{text}");

    // A value the bridge cannot use is refused with the key named.
    std::fs::write(&config, "[sellper]\ngoods_source_behaviour = \"hold\"\n").unwrap();
    let o = convert(
        &[
            "convert",
            "--from",
            "compo",
            "--to",
            "sellper",
            "--config",
            cfg,
            "--out",
            out.to_str().unwrap(),
        ],
        &[fixtures().join("sellper/compo/orders.20261122T093000.json")],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("sellper.goods_source_behaviour"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn the_exchange_uses_the_configured_prodly_defaults() {
    let w = Work::with_config(
        "[prodly]\nenabled = true\nvendor = \"acme\"\nbranch = \"MSK\"\ndefault_country = \"KZ\"",
    );
    w.drop_file("categories.json", br#"[{"id":"c1","name":"All"}]"#);
    w.drop_file(
        "products.json",
        br#"[{"id":"p1","name":"P","category_id":"c1","unit":"pcs"}]"#,
    );
    let o = w.run("once", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let set = std::fs::read_dir(w.path("prodly"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .next()
        .expect("a Prodly set");
    let body = std::fs::read_to_string(set.join("products.post.ndjson")).unwrap();
    let card: Value = serde_json::from_str(body.lines().next().unwrap()).unwrap();
    assert_eq!(card["country"], "KZ", "{body}");
}
