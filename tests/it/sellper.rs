//! The Sellper bridge: golden files for every XML example of the seed, both directions, the
//! order round trip, encodings, malformed input and a large streamed stock list.

use crate::harness::{fixtures, run, stdout, tempdir};
use compo_exchange::formats::sellper::{
    compo_to_sellper, compo_to_sellper_with, sellper_to_compo, sellper_to_compo_with, GoodsSource,
    SellperOptions,
};
use compo_exchange::formats::ConvertOutcome;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

fn sellper_dir() -> PathBuf {
    fixtures().join("sellper")
}

/// Everything a conversion left: its files by name, plus `report.json` when it reported.
fn produced(outcome: &ConvertOutcome, out: &Path) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    for p in &outcome.written {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        files.insert(name, fs::read_to_string(p).unwrap());
    }
    assert_eq!(
        fs::read_dir(out).unwrap().count(),
        files.len(),
        "the output folder holds exactly the files reported as written (no leftovers)"
    );
    if !outcome.reports.is_empty() {
        let text = serde_json::to_string_pretty(&outcome.reports).unwrap() + "\n";
        files.insert("report.json".into(), text);
    }
    files
}

/// Compares with (or, under REGEN_GOLDEN=1, rewrites) `fixtures/sellper/expected/<name>/`.
fn golden(name: &str, files: &BTreeMap<String, String>) {
    let dir = sellper_dir().join("expected").join(name);
    if std::env::var_os("REGEN_GOLDEN").is_some() {
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        for (f, text) in files {
            fs::write(dir.join(f), text).unwrap();
        }
        return;
    }
    let mut expected = BTreeMap::new();
    for e in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.unwrap().path();
        let f = p.file_name().unwrap().to_string_lossy().into_owned();
        expected.insert(f, fs::read_to_string(&p).unwrap());
    }
    let names = |m: &BTreeMap<String, String>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(files), names(&expected), "files of {name}");
    for (f, text) in files {
        assert_eq!(
            text, &expected[f],
            "{name}/{f} differs from the golden file"
        );
    }
}

/// Runs `compo-exchange validate` on what a conversion wrote: the files must be valid COMPO,
/// except for problems the conversion itself announced (Sellper data the portal will refuse,
/// such as a wrong barcode check digit, is passed on as it is and reported).
fn assert_validates(out: &Path, outcome: &ConvertOutcome, name: &str) {
    if outcome.written.is_empty() {
        return;
    }
    let o = run([
        "validate".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
        out.as_os_str(),
    ]);
    let reports: Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{name}: {e}: {}", stdout(&o)));
    let announced: Vec<&str> = outcome
        .reports
        .iter()
        .flat_map(|r| r.errors.iter().chain(&r.warnings))
        .map(|i| i.code.as_str())
        .collect();
    let mut checked = 0;
    for r in reports.as_array().unwrap() {
        checked += 1;
        for e in r["errors"].as_array().unwrap() {
            let code = e["code"].as_str().unwrap();
            assert!(
                announced.contains(&code),
                "{name}: the validator finds {code} in {}, which the conversion did not report: {e}",
                r["file"]
            );
        }
    }
    assert_eq!(
        checked,
        outcome.written.len(),
        "{name}: every file validated"
    );
}

fn xml_fixtures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(sellper_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    v.sort();
    v
}

fn convert_one(input: &Path) -> (ConvertOutcome, tempfile::TempDir) {
    let out = tempdir();
    let outcome = sellper_to_compo(&[input.to_path_buf()], out.path()).unwrap();
    (outcome, out)
}

#[test]
fn every_seed_example_matches_its_golden_output() {
    let all = xml_fixtures();
    assert!(all.len() >= 126, "the seed has 126 XML examples");
    for input in &all {
        let (outcome, out) = convert_one(input);
        let files = produced(&outcome, out.path());
        let stem = input.file_stem().unwrap().to_string_lossy().into_owned();
        golden(&stem, &files);
        assert_validates(out.path(), &outcome, &stem);
    }
}

#[test]
fn compo_files_to_sellper_match_their_golden_output() {
    let dir = sellper_dir().join("compo");
    let mut inputs: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    inputs.sort();
    let out = tempdir();
    let outcome = compo_to_sellper(&inputs, out.path()).unwrap();
    let files = produced(&outcome, out.path());
    assert!(files.keys().any(|f| f.starts_with("order-")));
    assert!(files.keys().any(|f| f.starts_with("client-")));
    golden("compo-to-sellper", &files);
    // The orders written for Sellper read back as valid COMPO orders.
    let orders: Vec<PathBuf> = outcome
        .written
        .iter()
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("order-")
        })
        .cloned()
        .collect();
    let back = tempdir();
    let again = sellper_to_compo(&orders, back.path()).unwrap();
    assert!(again.reports.is_empty(), "{:?}", again.reports);
    assert_validates(back.path(), &again, "compo-to-sellper");
}

fn sample_order() -> Value {
    json!({
        "id": "P-1001",
        "date": "2026-11-20",
        "status": "new",
        "customer_id": "148",
        "contragent_id": "148",
        "currency": "RUB",
        "total": 3360.15,
        "delivery": {"kind": "delivery", "address": "ул. Сидорова 55 кв.44", "date": "2026-11-25", "cost": 300.15},
        "comment": "позвонить за час",
        "items": [
            {"product_id": "86e03fab6db4c6d9cf33e616622b6c45", "quantity": 1, "price": 2400, "amount": 2400},
            {"product_id": "010ef0a8841bd2490a7e39a474cfed03", "quantity": 2, "price": 400, "discount": 17.5, "amount": 660}
        ]
    })
}

#[test]
fn an_order_survives_compo_to_sellper_and_back() {
    let dir = tempdir();
    let orders = dir.path().join("orders.20261120T101500.json");
    fs::write(
        &orders,
        serde_json::to_string(&json!([sample_order()])).unwrap(),
    )
    .unwrap();
    let xml_dir = dir.path().join("xml");
    let there = compo_to_sellper(&[orders], &xml_dir).unwrap();
    // Contragent 148 is taken for a client born in Sellper (no table says otherwise): it goes
    // as it is, and the report says so.
    let said: Vec<(&str, &str)> = there
        .reports
        .iter()
        .flat_map(|r| r.errors.iter().chain(&r.warnings))
        .map(|i| (i.pointer.as_str(), i.code.as_str()))
        .collect();
    assert_eq!(said, [("/0/contragent_id", "convert.value")]);
    assert_eq!(there.written, vec![xml_dir.join("order-P-1001.xml")]);
    let xml = fs::read_to_string(&there.written[0]).unwrap();
    assert!(xml.contains("<order ns=\"compo\">"), "{xml}");
    assert!(
        xml.contains("<discount>70</discount>"),
        "17.5 % of 400 is 70 off: {xml}"
    );

    let back_dir = dir.path().join("back");
    let back = sellper_to_compo(&there.written, &back_dir).unwrap();
    assert!(back.reports.is_empty(), "{:?}", back.reports);
    let file = back_dir.join("orders.delta-sellper-order-P-1001.json");
    let records: Value = serde_json::from_str(&fs::read_to_string(file).unwrap()).unwrap();
    assert_eq!(records, json!([sample_order()]));
}

#[test]
fn a_windows_1251_document_converts_like_its_utf8_original() {
    let original = sellper_dir().join("022-product-response.xml");
    let text = fs::read_to_string(&original).unwrap();
    assert!(text.contains("Сорочка"));
    let recoded = text.replace("encoding=\"UTF-8\"", "encoding=\"windows-1251\"");
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1251.encode(&recoded);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&bytes).is_err(), "really not UTF-8");
    let dir = tempdir();
    let cp1251 = dir.path().join("022-product-response.xml");
    fs::write(&cp1251, &bytes).unwrap();

    let (a, out_a) = convert_one(&original);
    let (b, out_b) = convert_one(&cp1251);
    assert!(
        b.reports.iter().all(|r| r.errors.is_empty()),
        "{:?}",
        b.reports
    );
    let (fa, fb) = (produced(&a, out_a.path()), produced(&b, out_b.path()));
    assert_eq!(fa, fb);
    let products = &fb["products.delta-sellper-022-product-response.json"];
    assert!(products.contains("Сорочка мужская B101"), "{products}");
}

#[test]
fn an_undeclared_encoding_is_rejected() {
    let dir = tempdir();
    let f = dir.path().join("stores.xml");
    fs::write(
        &f,
        "<?xml version=\"1.0\" encoding=\"koi8-r\"?>\n<stores type=\"array\"></stores>\n",
    )
    .unwrap();
    let (outcome, out) = convert_one(&f);
    assert!(outcome.written.is_empty());
    assert_eq!(outcome.reports[0].errors[0].code, "encoding.invalid");
    assert_eq!(fs::read_dir(out.path()).unwrap().count(), 0);
}

#[test]
fn malformed_xml_writes_nothing_and_says_where() {
    let dir = tempdir();
    let f = dir.path().join("stores_items.xml");
    // Well-formed up to the second item, whose end tag is misspelt.
    fs::write(
        &f,
        "<items type=\"array\"><item id=\"a\"><quantity>1</quantity></item>\
         <item id=\"b\"><quantity>2</quantity></itme></items>",
    )
    .unwrap();
    let (outcome, out) = convert_one(&f);
    assert!(outcome.written.is_empty());
    assert_eq!(
        fs::read_dir(out.path()).unwrap().count(),
        0,
        "no partial file"
    );
    let r = &outcome.reports[0];
    assert_eq!(r.status, compo_exchange::compo::report::Status::Rejected);
    assert_eq!(r.errors.len(), 1);
    assert_eq!(r.errors[0].code, "xml.syntax");
    assert!(
        r.errors[0].message.contains("itme"),
        "{}",
        r.errors[0].message
    );

    let truncated = dir.path().join("products.xml");
    fs::write(
        &truncated,
        "<products type=\"array\"><product id=\"1\"><name>x",
    )
    .unwrap();
    let (outcome, _out) = convert_one(&truncated);
    assert_eq!(outcome.reports[0].errors[0].code, "xml.syntax");
}

#[test]
fn unknown_elements_warn_and_unknown_roots_fail() {
    let dir = tempdir();
    let f = dir.path().join("stores.xml");
    fs::write(
        &f,
        "<stores type=\"array\"><store id=\"1\"><name>Главный</name><colour>red</colour></store></stores>",
    )
    .unwrap();
    let (outcome, _out) = convert_one(&f);
    assert_eq!(
        outcome.written.len(),
        1,
        "a warning does not stop the conversion"
    );
    let r = &outcome.reports[0];
    assert!(r.errors.is_empty());
    assert_eq!(r.warnings[0].code, "convert.unsupported");
    assert_eq!(r.warnings[0].pointer, "/stores/store[1]/colour");
    assert_eq!(r.warnings[0].record, Some(0));

    let g = dir.path().join("weird.xml");
    fs::write(&g, "<inventory><thing/></inventory>").unwrap();
    let (outcome, _out) = convert_one(&g);
    assert!(outcome.written.is_empty());
    assert_eq!(outcome.reports[0].errors[0].code, "convert.unsupported");
}

#[test]
fn missing_required_values_name_the_element_and_record() {
    let dir = tempdir();
    let f = dir.path().join("stores_items.xml");
    fs::write(
        &f,
        "<items><item id=\"a\"><quantity>1</quantity></item><item id=\"b\"><price>5</price></item></items>",
    )
    .unwrap();
    let (outcome, _out) = convert_one(&f);
    assert!(outcome.written.is_empty());
    let e = &outcome.reports[0].errors[0];
    assert_eq!(e.code, "convert.required");
    assert_eq!(e.pointer, "/items/item[2]/quantity");
    assert_eq!(e.record, Some(1));
}

#[test]
fn two_inputs_may_not_write_the_same_file() {
    let out = tempdir();
    let a = sellper_dir().join("012-items-response.xml");
    let b = sellper_dir().join("013-yml_catalog-response.xml");
    let outcome = sellper_to_compo(&[a, b], out.path()).unwrap();
    let r = outcome
        .reports
        .iter()
        .find(|r| r.file == "013-yml_catalog-response.xml")
        .unwrap();
    assert_eq!(r.errors[0].code, "convert.value");
    assert!(r.errors[0].message.contains("012-items-response.xml"));
    assert!(outcome
        .written
        .iter()
        .all(|p| !p.ends_with("categories.json")));
}

#[test]
fn a_large_stock_list_streams() {
    use std::io::Write;
    const N: usize = 200_000;
    let dir = tempdir();
    let f = dir.path().join("stores_items.xml");
    let mut w = std::io::BufWriter::new(fs::File::create(&f).unwrap());
    writeln!(
        w,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<items type=\"array\">"
    )
    .unwrap();
    for i in 0..N {
        writeln!(
            w,
            "<item id=\"i{i}\"><product id=\"{}\">Товар</product><quantity>{}</quantity><price>10.5</price><discount>0.5</discount><currency>RUB</currency><rate>1</rate></item>",
            i / 3,
            i % 7
        )
        .unwrap();
    }
    writeln!(w, "</items>").unwrap();
    drop(w);
    let started = std::time::Instant::now();
    let (outcome, out) = convert_one(&f);
    let took = started.elapsed();
    assert!(outcome.reports.is_empty(), "{:?}", outcome.reports);
    let remains = fs::read_to_string(out.path().join("remains.json")).unwrap();
    assert_eq!(remains.matches("\"product_id\"").count(), N);
    let prices = fs::read_to_string(out.path().join("prices.json")).unwrap();
    assert_eq!(prices.matches("\"price\": 10").count(), N, "10.5 minus 0.5");
    assert!(remains.ends_with("\n]\n"));
    assert!(took.as_secs() < 30, "took {took:?}");
}

// ---------------------------------------------------------------------------------------------
// Sellper catalogs as Sellper returns them (issue 15).

/// Runs `compo-exchange validate` on `out` and requires every file valid: no error at all, not
/// even one the conversion announced.
fn assert_strictly_valid(out: &Path) {
    let o = run([
        "validate".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
        out.as_os_str(),
    ]);
    let reports: Value = serde_json::from_slice(&o.stdout).unwrap();
    for r in reports.as_array().unwrap() {
        assert!(
            r["errors"].as_array().unwrap().is_empty(),
            "the validator rejects {}: {r}",
            r["file"]
        );
    }
    assert!(o.status.success(), "{}", stdout(&o));
}

fn records_of(path: &Path) -> Vec<Value> {
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

fn convert_with(input: &Path, opts: &SellperOptions) -> (ConvertOutcome, tempfile::TempDir) {
    let out = tempdir();
    let outcome = sellper_to_compo_with(&[input.to_path_buf()], out.path(), opts).unwrap();
    (outcome, out)
}

#[test]
fn products_without_item_ids_convert_with_stable_derived_ids() {
    let input = sellper_dir().join("x-products-without-itemid.xml");
    let (outcome, out) = convert_one(&input);
    let products = records_of(&out.path().join("products.json"));
    let ids: Vec<&str> = products.iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 8, "two cards and their six variants: {ids:?}");
    assert_eq!(ids[0], "234234");
    assert_eq!(ids[4], "234235");
    for v in [&products[1], &products[2], &products[3]] {
        assert_eq!(v["parent_id"], "234234");
        let id = v["id"].as_str().unwrap();
        assert!(id.starts_with("234234-m-") && id.len() <= 64, "{id}");
    }
    // Stable: converting again gives the same ids; different parameters, different ids.
    let (_, again) = convert_one(&input);
    assert_eq!(products, records_of(&again.path().join("products.json")));
    let distinct: std::collections::HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(distinct.len(), ids.len());
    // One warning per card: stock and orders name variants by itemId only.
    let warned: Vec<&str> = outcome.reports[0]
        .warnings
        .iter()
        .filter(|i| i.code == "convert.required")
        .map(|i| i.pointer.as_str())
        .collect();
    assert_eq!(
        warned,
        [
            "/products/product[1]/modifications/modification[1]/@itemId",
            "/products/product[2]/modifications/modification[1]/@itemId"
        ]
    );
    assert!(
        outcome.reports[0].errors.is_empty(),
        "{:?}",
        outcome.reports
    );
}

#[test]
fn item_ids_are_taken_from_a_stock_answer_when_configured() {
    let opts = SellperOptions {
        item_ids_from: vec![sellper_dir().join("011-stores-1.xml")],
        ..Default::default()
    };
    let (outcome, out) = convert_with(&sellper_dir().join("x-products-for-stock.xml"), &opts);
    golden(
        "x-products-for-stock-item-ids",
        &produced(&outcome, out.path()),
    );
    let products = records_of(&out.path().join("products.json"));
    let ids: Vec<&str> = products.iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(ids[1], "86e03fab6db4c6d9cf33e616622b6c45");
    assert_eq!(ids[2], "010ef0a8841bd2490a7e39a474cfed03");
    assert!(
        ids[3].starts_with("123-m-"),
        "size 59 is not in the answer: {ids:?}"
    );
    assert_strictly_valid(out.path());
    let warned: Vec<&str> = outcome.reports[0]
        .warnings
        .iter()
        .map(|i| i.pointer.as_str())
        .collect();
    assert_eq!(
        warned,
        ["/products/product[1]/modifications/modification[3]/@itemId"]
    );
    // An ICML answer serves as well: its offers name their card and modifier parameters.
    let icml = SellperOptions {
        item_ids_from: vec![sellper_dir().join("013-yml_catalog-response.xml")],
        ..Default::default()
    };
    let doc = tempdir();
    let card = doc.path().join("card.xml");
    fs::write(
        &card,
        r#"<product id="5970"><category id="12">Кроссовки</category><name>V534</name>
           <modifications><modification><parameter name="Размер">40</parameter></modification>
           </modifications></product>"#,
    )
    .unwrap();
    let (_, out) = convert_with(&card, &icml);
    let products = records_of(&out.path().join("products.delta-sellper-card.json"));
    assert_eq!(products[1]["id"], "c5febc1bc1e95d99622e53069b51f3f6");
}

#[test]
fn a_stock_list_without_its_store_has_no_syntax_error() {
    let dir = tempdir();
    let input = dir.path().join("stock.xml");
    fs::copy(sellper_dir().join("011-stores-1.xml"), &input).unwrap();
    let (outcome, _out) = convert_one(&input);
    let codes: Vec<&str> = outcome.reports[0]
        .errors
        .iter()
        .map(|i| i.code.as_str())
        .collect();
    assert_eq!(codes, ["convert.required"], "{:?}", outcome.reports);
}

#[test]
fn a_portal_order_coming_back_keeps_the_portal_id_and_contragent() {
    let input = sellper_dir().join("x-order-from-portal.xml");
    // Through the configured table: Sellper client 238 is the portal's C-501.
    let opts = SellperOptions {
        clients: [("C-501".to_string(), "238".to_string())].into(),
        ..Default::default()
    };
    let (outcome, out) = convert_with(&input, &opts);
    assert!(outcome.reports.is_empty(), "{:?}", outcome.reports);
    let orders = records_of(
        &out.path()
            .join("orders.delta-sellper-x-order-from-portal.json"),
    );
    assert_eq!(
        orders[0]["id"], "P-1001",
        "an update of P-1001, not a new order 26"
    );
    assert_eq!(orders[0]["contragent_id"], "C-501");
    assert!(orders[0].get("customer_id").is_none());
    assert_strictly_valid(out.path());
    // Without a table, the `COMPO <id>` note the bridge wrote into the client maps it too.
    let (_, out) = convert_with(&input, &SellperOptions::default());
    let orders = records_of(
        &out.path()
            .join("orders.delta-sellper-x-order-from-portal.json"),
    );
    assert_eq!(orders[0]["id"], "P-1001");
    assert_eq!(orders[0]["contragent_id"], "C-501");
}

#[test]
fn orders_to_sellper_name_the_sellper_client_and_the_goods_source() {
    let compo = sellper_dir().join("compo");
    let inputs = [
        compo.join("orders.20261122T093000.json"),
        compo.join("contragents.20261122T093000.json"),
    ];
    let xml_of = |opts: &SellperOptions| {
        let out = tempdir();
        let outcome = compo_to_sellper_with(&inputs, out.path(), opts).unwrap();
        let xml = fs::read_to_string(out.path().join("order-P-1001.xml")).unwrap();
        (outcome, xml)
    };
    // The table.
    let (_, xml) = xml_of(&SellperOptions {
        clients: [("C-501".to_string(), "238".to_string())].into(),
        goods_source_behaviour: Some(GoodsSource::Reserve),
        ..Default::default()
    });
    assert!(xml.contains("<client>238</client>"), "{xml}");
    assert!(
        xml.contains("<order ns=\"compo\" goods-source-behaviour=\"reserve\">"),
        "{xml}"
    );
    let out = tempdir();
    let outcome = compo_to_sellper_with(
        &inputs,
        out.path(),
        &SellperOptions {
            clients: [("C-501".to_string(), "238".to_string())].into(),
            goods_source_behaviour: Some(GoodsSource::Reserve),
            ..Default::default()
        },
    )
    .unwrap();
    golden(
        "compo-to-sellper-configured",
        &produced(&outcome, out.path()),
    );
    // By INN: C-501's INN is found in a Sellper clients answer.
    let clients = tempdir();
    let answer = clients.path().join("clients.xml");
    fs::write(
        &answer,
        r#"<clients type="array">
             <client id="300"><name>Другой</name><inn>5001007329</inn></client>
             <client id="301"><name>ООО Ромашка</name><comment>ИНН 7707083893</comment></client>
           </clients>"#,
    )
    .unwrap();
    let unmapped = |outcome: &ConvertOutcome| {
        outcome
            .reports
            .iter()
            .flat_map(|r| &r.warnings)
            .filter(|i| i.pointer == "/0/contragent_id")
            .count()
    };
    let (outcome, xml) = xml_of(&SellperOptions {
        clients_from: vec![answer],
        ..Default::default()
    });
    assert!(xml.contains("<client>301</client>"), "{xml}");
    assert!(!xml.contains("goods-source-behaviour"));
    assert_eq!(unmapped(&outcome), 0);
    // Neither: the contragent id goes as it is, which Sellper resolves only for its own
    // clients, and the report says so.
    let (outcome, xml) = xml_of(&SellperOptions::default());
    assert!(xml.contains("<client>C-501</client>"), "{xml}");
    assert_eq!(unmapped(&outcome), 1, "{:?}", outcome.reports);
}

#[test]
fn brand_is_the_trademark_and_bad_barcodes_are_dropped_so_the_file_validates() {
    let input = sellper_dir().join("x-products-without-itemid.xml");
    let (outcome, out) = convert_one(&input);
    assert_strictly_valid(out.path());
    let products = records_of(&out.path().join("products.json"));
    // <vendor> is the supplier in Sellper ("Chili Technologies S.L."), not the brand.
    assert!(
        products.iter().all(|p| p["brand"] == "Velaner"),
        "{products:?}"
    );
    let barcodes: Vec<Value> = products.iter().map(|p| p["barcodes"].clone()).collect();
    assert_eq!(
        barcodes[1],
        json!(["2046497976600"]),
        "4602347974121 is dropped"
    );
    let dropped: Vec<&str> = outcome.reports[0]
        .warnings
        .iter()
        .filter(|i| i.code == "barcode.checksum")
        .map(|i| i.pointer.as_str())
        .collect();
    assert!(
        dropped.contains(&"/products/product[1]/modifications/modification[1]/barcodes/barcode[2]"),
        "{dropped:?}"
    );
}

#[test]
fn repeated_ids_in_one_answer_are_reported() {
    let (outcome, _out) = convert_one(&sellper_dir().join("021-products-response.xml"));
    assert!(outcome.written.is_empty());
    let dup = &outcome.reports[0].errors[0];
    assert_eq!(dup.code, "key.duplicate");
    assert_eq!(dup.pointer, "/products/product[2]/@id");
    assert!(dup.message.contains("234234"));
}

#[test]
fn a_sellper_client_is_found_by_inn_among_the_portal_contragents() {
    let dir = tempdir();
    let input = dir.path().join("order-27.xml");
    fs::write(
        &input,
        r#"<order id="27">
  <number>10151</number>
  <client id="900"><name>ООО Ромашка</name><inn>7707083893</inn></client>
  <created>2026-11-23 10:00:00+03</created>
  <status>new</status>
  <summa>2400</summa>
  <items type="array">
    <item id="86e03fab6db4c6d9cf33e616622b6c45"><price>2400</price><quantity>1</quantity></item>
  </items>
</order>"#,
    )
    .unwrap();
    // The portal's contragents (as delivered into inbox/) give INN → COMPO id.
    let opts = SellperOptions {
        clients_from: vec![sellper_dir().join("compo/contragents.20261122T093000.json")],
        ..Default::default()
    };
    let (outcome, out) = convert_with(&input, &opts);
    assert!(outcome.reports.is_empty(), "{:?}", outcome.reports);
    let orders = records_of(&out.path().join("orders.delta-sellper-order-27.json"));
    assert_eq!(orders[0]["id"], "27");
    assert_eq!(orders[0]["contragent_id"], "C-501");
    // Without it, the Sellper client stands for itself.
    let (_, out) = convert_one(&input);
    let orders = records_of(&out.path().join("orders.delta-sellper-order-27.json"));
    assert_eq!(orders[0]["contragent_id"], "900");
}

#[test]
fn an_unusable_look_up_file_is_said_in_each_report_and_does_not_stop_the_conversion() {
    let opts = SellperOptions {
        // A products answer gives no item ids.
        item_ids_from: vec![sellper_dir().join("022-product-response.xml")],
        ..Default::default()
    };
    let (outcome, out) = convert_with(&sellper_dir().join("x-products-for-stock.xml"), &opts);
    assert_eq!(outcome.reports.len(), 1, "{:?}", outcome.reports);
    let r = &outcome.reports[0];
    assert_eq!(r.file, "x-products-for-stock.xml");
    assert!(r.errors.is_empty(), "{r:?}");
    assert!(
        r.warnings
            .iter()
            .any(|i| i.code == "convert.unsupported"
                && i.message.contains("022-product-response.xml"))
    );
    let products = records_of(&out.path().join("products.json"));
    assert!(products[1]["id"].as_str().unwrap().starts_with("123-m-"));
}
