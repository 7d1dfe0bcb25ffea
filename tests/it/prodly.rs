//! The Prodly bridge against checked-in golden files, the seed's samples and a schema table.
//!
//! `REGEN_GOLDEN=1 cargo test --test it prodly` (or `scripts/regen-prodly-golden`) rewrites the
//! expected files from the current output; review the diff before committing it.

use crate::harness::{fixtures, tempdir};
use compo_exchange::compo::report::{codes, Report};
use compo_exchange::formats::prodly::{
    compo_to_prodly, compo_to_prodly_with, compo_to_prodly_with_budget, prodly_to_compo,
    prodly_to_compo_with, Endpoint, ProdlyDefaults, ProdlyError, ProdlyOptions,
};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn opts() -> ProdlyOptions {
    ProdlyOptions {
        vendor: "VEND".into(),
        branch: "SM".into(),
    }
}

fn dir() -> PathBuf {
    fixtures().join("prodly")
}

fn regen() -> bool {
    std::env::var_os("REGEN_GOLDEN").is_some_and(|v| v == "1")
}

/// The files of a folder by name, with their text.
fn files_of(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            let name = e.file_name().to_string_lossy().into_owned();
            out.insert(name, std::fs::read_to_string(e.path()).unwrap());
        }
    }
    out
}

fn reports_json(reports: &[Report]) -> String {
    serde_json::to_string_pretty(reports).unwrap() + "\n"
}

/// Compares produced files (plus `reports.json`) with `expected`, or rewrites it when regenerating.
fn golden(produced: &Path, reports: &[Report], expected: &Path) {
    let mut got = files_of(produced);
    got.insert("reports.json".into(), reports_json(reports));
    if regen() {
        let _ = std::fs::remove_dir_all(expected);
        std::fs::create_dir_all(expected).unwrap();
        for (name, text) in &got {
            std::fs::write(expected.join(name), text).unwrap();
        }
        return;
    }
    let want = files_of(expected);
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "files produced vs {}",
        expected.display()
    );
    for (name, text) in &got {
        assert!(
            text == &want[name],
            "{name} differs from {}:\n--- got ---\n{text}\n--- want ---\n{}",
            expected.display(),
            want[name]
        );
    }
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The request schemas of the seed, reduced to what a line must satisfy: each endpoint's fields
// with their type and whether the seed marks them `required`. Array/object members whose name the
// seed's rendering drops ("Array of objects (Root Type for X)") carry the names this bridge gives
// them (docs/prodly.md); fields not listed here must not appear.

#[derive(Clone, Copy, Debug)]
enum T {
    Str,
    Num,
    Bool,
    Arr,
    Obj,
    /// A string `YYYY-MM-DD` (`string <date>`).
    Date,
}

type Fields = &'static [(&'static str, T, bool)];

const SCHEMAS: &[(&str, Fields)] = &[
    (
        "products.post",
        &[
            ("code", T::Str, true),
            ("name", T::Str, true),
            ("description", T::Str, false),
            ("brand", T::Str, false),
            ("producer", T::Str, false),
            ("images", T::Arr, false),
            ("country", T::Str, true),
            ("meta", T::Obj, true),
            ("properties", T::Arr, false),
            ("parent", T::Str, false),
            ("active", T::Bool, false),
        ],
    ),
    (
        "branch_products.post",
        &[
            ("branch", T::Str, true),
            ("code", T::Str, true),
            ("active", T::Bool, true),
            ("kvant", T::Num, true),
            ("nds", T::Num, true),
            ("properties", T::Arr, false),
            ("stock", T::Num, true),
            ("type", T::Str, true),
            ("prices", T::Arr, false),
            ("packages", T::Arr, false),
            ("stocks", T::Arr, false),
        ],
    ),
    (
        "stocks.post",
        &[
            ("productCode", T::Str, true),
            ("stock", T::Num, true),
            ("transit", T::Arr, false),
        ],
    ),
    (
        "clients.post",
        &[
            ("_id", T::Str, false),
            ("active", T::Bool, true),
            ("code", T::Str, true),
            ("name", T::Str, true),
            ("inn", T::Str, true),
            ("ogrn", T::Str, false),
            ("kpp", T::Str, false),
            ("zone", T::Str, false),
            ("type", T::Str, false),
            ("branch", T::Str, true),
            ("address", T::Str, false),
            ("logisticAddress", T::Str, true),
            ("properties", T::Arr, true),
            ("tags", T::Arr, true),
            ("location", T::Obj, false),
            ("contacts", T::Arr, false),
            ("managers", T::Arr, false),
        ],
    ),
    (
        "firms.post",
        &[
            ("code", T::Str, true),
            ("fullName", T::Str, false),
            ("inn", T::Str, true),
            ("kpp", T::Str, false),
            ("active", T::Bool, true),
            ("address", T::Str, true),
            ("ogrn", T::Str, false),
            ("title", T::Str, true),
            ("accounts", T::Arr, false),
        ],
    ),
    (
        "debts.post",
        &[("clientCode", T::Str, false), ("documents", T::Arr, false)],
    ),
    (
        "personal_prices.post",
        &[
            ("branch", T::Str, true),
            ("client", T::Str, true),
            ("productCode", T::Str, true),
            ("defaultPrice", T::Num, true),
            ("price", T::Num, true),
            ("isMatrix", T::Bool, true),
            ("allowPromo", T::Bool, true),
            ("validTill", T::Date, false),
            ("isDiscount", T::Bool, true),
        ],
    ),
    (
        "orders.post",
        &[
            ("number", T::Str, true),
            ("state", T::Str, true),
            ("vendor", T::Str, true),
            ("branch", T::Str, true),
            ("deliveryDate", T::Date, true),
            ("pickup", T::Bool, true),
            ("rows", T::Arr, false),
            ("vendorStatus", T::Str, false),
            ("vendorMessage", T::Str, false),
            ("invoices", T::Arr, false),
            ("client", T::Obj, false),
        ],
    ),
    (
        "managers.post",
        &[
            ("code", T::Str, true),
            ("fio", T::Str, true),
            ("phone", T::Str, true),
            ("active", T::Bool, true),
            ("tags", T::Arr, false),
        ],
    ),
];

/// Enumerations the seed gives for string fields.
const ENUMS: &[(&str, &str, &[&str])] = &[
    (
        "orders.post",
        "state",
        &["new", "sent", "build", "delivery", "done", "canceled"],
    ),
    ("orders.post", "vendorStatus", &["accepted", "declined"]),
];

fn type_ok(v: &Value, t: T) -> bool {
    match t {
        T::Str => v.is_string(),
        T::Num => v.is_number(),
        T::Bool => v.is_boolean(),
        T::Arr => v.is_array(),
        T::Obj => v.is_object(),
        T::Date => v.as_str().is_some_and(|s| {
            s.len() == 10 && chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
        }),
    }
}

/// Problems of one NDJSON line against the seed's schema of `func`.
fn schema_problems(func: &str, line: &Value) -> Vec<String> {
    let (_, fields) = SCHEMAS
        .iter()
        .find(|(f, _)| *f == func)
        .unwrap_or_else(|| panic!("no schema for {func}"));
    let Some(obj) = line.as_object() else {
        return vec!["not an object".into()];
    };
    let mut out = Vec::new();
    for (name, t, required) in *fields {
        match obj.get(*name) {
            None if *required => out.push(format!("{name} is required")),
            None => {}
            Some(v) if !type_ok(v, *t) => out.push(format!("{name} is not {t:?}: {v}")),
            Some(_) => {}
        }
    }
    for k in obj.keys() {
        if !fields.iter().any(|(n, _, _)| n == k) {
            out.push(format!("{k} is not a field of {func}"));
        }
    }
    for (f, field, allowed) in ENUMS {
        if *f == func {
            if let Some(v) = obj.get(*field).and_then(Value::as_str) {
                if !allowed.contains(&v) {
                    out.push(format!("{field} \"{v}\" is not one of {allowed:?}"));
                }
            }
        }
    }
    out
}

fn assert_conforms(path: &Path) {
    let name = path.file_name().unwrap().to_string_lossy();
    let func = name.strip_suffix(".ndjson").expect("an .ndjson file");
    for (i, line) in lines(path).iter().enumerate() {
        let p = schema_problems(func, line);
        assert!(p.is_empty(), "{name} line {}: {p:?}\n{line}", i + 1);
    }
}

#[test]
fn schema_check_catches_missing_and_mistyped_fields() {
    let good = serde_json::json!({"code": "M", "fio": "F", "phone": "1", "active": true});
    assert!(schema_problems("managers.post", &good).is_empty());
    let bad = serde_json::json!({"code": "M", "fio": "F", "active": "yes", "x": 1});
    assert_eq!(
        schema_problems("managers.post", &bad),
        vec![
            "phone is required",
            "active is not Bool: \"yes\"",
            "x is not a field of managers.post"
        ]
    );
    let order = serde_json::json!({"number": "1", "state": "shipped", "vendor": "V", "branch": "B",
                                   "deliveryDate": "2026-13-01", "pickup": true});
    assert_eq!(schema_problems("orders.post", &order).len(), 2);
}

// ---------------------------------------------------------------------------------------------

fn convert_fixture_batch(budget: Option<u64>) -> (tempfile::TempDir, Vec<PathBuf>, Vec<Report>) {
    let out = tempdir();
    let inputs = [dir().join("compo")];
    let outcome = match budget {
        None => compo_to_prodly(&inputs, out.path(), &opts()),
        Some(b) => compo_to_prodly_with_budget(&inputs, out.path(), &opts(), b),
    }
    .unwrap();
    (out, outcome.written, outcome.reports)
}

#[test]
fn compo_batch_converts_to_the_golden_ndjson_files() {
    let (out, written, reports) = convert_fixture_batch(None);
    // One file per endpoint with at least one line; nothing else (no spill leftovers).
    let names: Vec<String> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let all: Vec<String> = Endpoint::ALL.iter().map(|e| e.file_name()).collect();
    assert_eq!(names, all, "every endpoint has data in the fixture batch");
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), names.len());
    golden(out.path(), &reports, &dir().join("expected"));
}

#[test]
fn every_produced_line_conforms_to_the_seed_schema() {
    let (_out, written, _) = convert_fixture_batch(None);
    assert!(!written.is_empty());
    for p in &written {
        assert_conforms(p);
    }
}

#[test]
fn missing_required_values_are_reported_and_left_out_never_filled() {
    let (out, _, reports) = convert_fixture_batch(None);
    let report = |file: &str| reports.iter().find(|r| r.file == file).unwrap();
    let has = |file: &str, pointer: &str, code: &str| {
        report(file)
            .errors
            .iter()
            .any(|i| i.pointer == pointer && i.code == code)
    };
    let codes_in = |file: &str, key: &str| -> Vec<String> {
        lines(&out.path().join(file))
            .iter()
            .map(|l| l[key].as_str().unwrap().to_string())
            .collect()
    };
    // P-101 has no country: it takes its card's (P-100), so nothing is reported for it.
    let products = lines(&out.path().join("products.post.ndjson"));
    let p101 = products.iter().find(|l| l["code"] == "P-101").unwrap();
    assert_eq!(p101["country"], "RU");
    assert!(!report("products.json")
        .errors
        .iter()
        .any(|i| i.record == Some(1)));
    // P-300 has no vat: no nds, so no branch update.
    assert!(has("products.json", "/3/vat", codes::CONVERT_REQUIRED));
    assert!(!codes_in("branch_products.post.ndjson", "code").contains(&"P-300".to_string()));
    // CA-2 has no delivery address: its legal address goes, with a warning. M2 has no phone.
    let warned = |file: &str, pointer: &str| {
        report(file)
            .warnings
            .iter()
            .any(|i| i.pointer == pointer && i.code == codes::CONVERT_REQUIRED)
    };
    assert!(warned("contragents.json", "/1/delivery_addresses"));
    assert!(codes_in("clients.post.ndjson", "code").contains(&"CA-2".to_string()));
    assert!(has("managers.json", "/1/phone", codes::CONVERT_REQUIRED));
    // P-1003 is canceled without a reason and P-1004 has no delivery: both still go, warned.
    assert!(warned("orders.json", "/2/status_comment"));
    assert!(warned("orders.json", "/3/delivery"));
    assert_eq!(
        codes_in("orders.post.ndjson", "number"),
        ["P-1001", "P-1002", "P-1003", "P-1004", "P-1005"]
    );
    // The firm named only by a string is reported once, though two contracts name it.
    let firm_errors = report("contracts.json")
        .errors
        .iter()
        .filter(|i| i.pointer.starts_with("/2/prodly_firm"))
        .count();
    assert_eq!(firm_errors, 3);
    assert!(!report("contracts.json")
        .errors
        .iter()
        .any(|i| i.record == Some(3)));
}

#[test]
fn joins_carry_prices_stock_and_personal_prices() {
    let (out, _, _) = convert_fixture_batch(None);
    let branch = lines(&out.path().join("branch_products.post.ndjson"));
    let p100 = branch.iter().find(|l| l["code"] == "P-100").unwrap();
    // 50 − 5 reserved in W1 + 10 in W2.
    assert_eq!(p100["stock"], 55);
    assert_eq!(p100["kvant"], 6);
    assert_eq!(p100["stocks"][0]["prices"].as_array().unwrap().len(), 3);
    let p200 = branch.iter().find(|l| l["code"] == "P-200").unwrap();
    assert_eq!(p200["nds"], 0, "vat: null is без НДС");
    assert_eq!(p200["stock"], 0, "reserved above quantity is no stock");
    assert_eq!(p200["type"], "Тяжёлый");
    let personal = lines(&out.path().join("personal_prices.post.ndjson"));
    assert_eq!(personal.len(), 1);
    assert_eq!(personal[0]["client"], "CA-1");
    assert_eq!(personal[0]["defaultPrice"], 100.5);
    let stocks = lines(&out.path().join("stocks.post.ndjson"));
    let s200 = stocks.iter().find(|l| l["productCode"] == "P-200").unwrap();
    assert_eq!(
        s200["transit"][0],
        serde_json::json!({"date": "2026-12-01", "quantity": 12})
    );
    let clients = lines(&out.path().join("clients.post.ndjson"));
    let ca1 = clients.iter().find(|l| l["code"] == "CA-1").unwrap();
    let props: BTreeMap<String, Value> = ca1["properties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["key"].as_str().unwrap().to_string(), p["value"].clone()))
        .collect();
    assert_eq!(
        props["price"], "PT-BASE",
        "the default contract's price type"
    );
    assert_eq!(props["balance"], 1600.5);
    assert_eq!(props["debt"], 200);
    assert_eq!(props["managers"], serde_json::json!(["M1", "M2"]));
}

#[test]
fn partitioned_join_gives_the_same_lines_and_reports() {
    let (one, written, reports) = convert_fixture_batch(None);
    // A one-byte budget forces as many partitions as allowed.
    let (many, written_many, reports_many) = convert_fixture_batch(Some(1));
    assert_eq!(written.len(), written_many.len());
    assert_eq!(reports, reports_many);
    for p in &written {
        let name = p.file_name().unwrap();
        let sorted = |d: &Path| {
            let mut l: Vec<String> = std::fs::read_to_string(d.join(name))
                .unwrap()
                .lines()
                .map(String::from)
                .collect();
            l.sort();
            l
        };
        assert_eq!(sorted(one.path()), sorted(many.path()), "{name:?}");
    }
}

#[test]
fn empty_vendor_or_branch_is_refused() {
    let out = tempdir();
    let bad = ProdlyOptions {
        vendor: " ".into(),
        branch: "SM".into(),
    };
    let err = compo_to_prodly(&[dir().join("compo")], out.path(), &bad).unwrap_err();
    assert!(matches!(err, ProdlyError::Option { name: "vendor", .. }));
}

// ---------------------------------------------------------------------------------------------
// The seed's own samples (fixtures/prodly/seed, see its README).

#[test]
fn seed_request_status_names_the_products_file() {
    let status: Value = serde_json::from_str(
        &std::fs::read_to_string(dir().join("seed/request-status.response.json")).unwrap(),
    )
    .unwrap();
    let func = status["func"].as_str().unwrap();
    assert_eq!(func, Endpoint::Products.func());
    let (out, _, _) = convert_fixture_batch(None);
    assert!(out.path().join(format!("{func}.ndjson")).is_file());
}

#[test]
fn seed_debts_sample_conforms_and_our_debts_use_its_fields() {
    let seed = dir().join("seed/debts.request.repaired.ndjson");
    // The checker takes the endpoint from the file name.
    let tmp = tempdir();
    let named = tmp.path().join("debts.post.ndjson");
    std::fs::copy(&seed, &named).unwrap();
    assert_conforms(&named);
    let sample = &lines(&seed)[0]["documents"][0];
    let (out, _, _) = convert_fixture_batch(None);
    let ours = lines(&out.path().join("debts.post.ndjson"));
    assert!(!ours.is_empty());
    for line in &ours {
        for doc in line["documents"].as_array().unwrap() {
            for (k, v) in doc.as_object().unwrap() {
                let s = sample
                    .get(k)
                    .unwrap_or_else(|| panic!("{k} is not in the seed's debts sample"));
                assert_eq!(s.is_number(), v.is_number(), "{k}");
            }
        }
    }
}

#[test]
fn seed_orders_sample_is_reported_not_invented() {
    let out = tempdir();
    let outcome =
        prodly_to_compo(&[dir().join("seed/orders.get.response.json")], out.path()).unwrap();
    assert!(outcome.written.is_empty(), "no order can be made of {{}}");
    let pointers: Vec<&str> = outcome.reports[0]
        .errors
        .iter()
        .map(|i| i.pointer.as_str())
        .collect();
    for p in [
        "/0/number",
        "/0/createdAt",
        "/0/state",
        "/0/client/code",
        "/0/currency",
        "/0/total",
        "/0/rows",
    ] {
        assert!(pointers.contains(&p), "{p} in {pointers:?}");
    }
    let returns =
        prodly_to_compo(&[dir().join("seed/returns.get.response.json")], out.path()).unwrap();
    assert!(returns.written.is_empty() && returns.reports.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Prodly → COMPO.

/// Runs `compo-exchange validate` (with `extra` arguments) on `path` and fails with its output
/// unless it finds the input valid.
fn assert_validates(extra: &[&str], path: &Path) {
    let mut args: Vec<&std::ffi::OsStr> = vec!["validate".as_ref()];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    args.push(path.as_os_str());
    let o = crate::harness::run(args);
    assert!(
        o.status.success(),
        "validate {}:\n{}{}",
        path.display(),
        crate::harness::stdout(&o),
        crate::harness::stderr(&o)
    );
}

#[test]
fn the_compo_fixture_batch_is_valid_compo() {
    // Its records lack only what Prodly requires, never what COMPO requires.
    assert_validates(&[], &dir().join("compo"));
}

/// Checks that a produced `orders.json` is valid COMPO (spec section 5, orders): with the
/// project's validator, as a file from the portal's `out/`, and by the totals directly.
fn assert_valid_compo_orders(path: &Path) {
    assert_validates(&["--inbound"], path);
    let orders: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    const STATUSES: [&str; 6] = [
        "new",
        "accepted",
        "processing",
        "shipped",
        "completed",
        "canceled",
    ];
    let mut ids = std::collections::HashSet::new();
    for o in &orders {
        for k in ["id", "date", "status", "contragent_id", "currency"] {
            assert!(o[k].is_string(), "{k} in {o}");
        }
        assert!(ids.insert(o["id"].as_str().unwrap()), "duplicate id {o}");
        assert!(STATUSES.contains(&o["status"].as_str().unwrap()));
        let items = o["items"].as_array().unwrap();
        assert!(!items.is_empty());
        let mut sum = 0.0;
        for it in items {
            assert!(it["product_id"].is_string());
            let (q, p, a) = (
                it["quantity"].as_f64().unwrap(),
                it["price"].as_f64().unwrap(),
                it["amount"].as_f64().unwrap(),
            );
            assert!(q > 0.0);
            let d = it["discount"].as_f64().unwrap_or(0.0);
            assert!((q * p * (1.0 - d / 100.0) - a).abs() <= 0.01, "{it}");
            sum += a;
        }
        let cost = o["delivery"]["cost"].as_f64().unwrap_or(0.0);
        assert!(
            (o["total"].as_f64().unwrap() - sum - cost).abs() <= 0.01,
            "{o}"
        );
        if let Some(d) = o.get("delivery") {
            assert!(["pickup", "delivery"].contains(&d["kind"].as_str().unwrap()));
        }
    }
}

#[test]
fn prodly_exports_convert_to_golden_compo_orders() {
    let out = tempdir();
    let exports = dir().join("exports");
    let outcome = prodly_to_compo(
        &[
            exports.join("orders.new.json"),
            exports.join("orders.build.json"),
            exports.join("returns.json"),
        ],
        out.path(),
    )
    .unwrap();
    assert_eq!(outcome.written, vec![out.path().join("orders.json")]);
    assert_valid_compo_orders(&out.path().join("orders.json"));
    golden(out.path(), &outcome.reports, &dir().join("expected-compo"));

    let orders: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("orders.json")).unwrap())
            .unwrap();
    let ids: Vec<&str> = orders.iter().map(|o| o["id"].as_str().unwrap()).collect();
    // PR-5003 (no currency, no contract or default to take it from) and PR-5006 (3-digit
    // summa) are left out; PR-5002 (total ≠ rows) keeps the rows' sum; the later PR-5001
    // (build) replaced the first.
    assert_eq!(ids, ["PR-5001", "PR-5002", "5004"]);
    assert_eq!(orders[1]["total"], 120);
    assert_eq!(orders[0]["status"], "processing");
    let all: Vec<(&str, &str)> = outcome
        .reports
        .iter()
        .flat_map(|r| r.errors.iter().chain(&r.warnings))
        .map(|i| (i.pointer.as_str(), i.code.as_str()))
        .collect();
    for want in [
        ("/1/total", codes::SUM_MISMATCH),
        ("/2/currency", codes::CONVERT_REQUIRED),
        ("/1/rows/0/summa", codes::NUMBER_PRECISION),
        ("/0", codes::CONVERT_UNSUPPORTED),
        ("/0/number", codes::KEY_DUPLICATE),
    ] {
        assert!(all.contains(&want), "{want:?} in {all:?}");
    }
}

#[test]
fn deltas_without_remains_and_mistyped_values_are_reported() {
    let input = tempdir();
    let write = |name: &str, text: &str| std::fs::write(input.path().join(name), text).unwrap();
    write(
        "products.delta.json",
        r#"[{"id": "X1", "name": "A", "category_id": "C", "unit": "шт", "country": "RU",
             "vat": 20, "multiplicity": 1, "active": "yes"},
            {"id": "X2", "name": "B", "category_id": "C", "unit": "шт", "country": "RU",
             "vat": 10, "multiplicity": 1},
            {"id": "X3", "deleted": true}]"#,
    );
    write(
        "contracts.json",
        r#"[{"id": "K", "contragent_id": "CA", "number": "1", "date": "2026-01-01",
             "currency": "RUB"}]"#,
    );
    write(
        "prices.delta.json",
        r#"[{"product_id": "X2", "prices_type_id": "T", "price": 5},
            {"product_id": "X2", "prices_type_id": "T", "price": 4, "contract_id": "K"}]"#,
    );
    let out = tempdir();
    let outcome = compo_to_prodly(&[input.path().to_path_buf()], out.path(), &opts()).unwrap();
    let names: Vec<String> = outcome
        .written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    // No remains at all: stock is unknown, so no branch update; a personal price from a delta
    // would wipe the others, so none is sent.
    assert_eq!(names, ["products.post.ndjson"]);
    let products = outcome
        .reports
        .iter()
        .find(|r| r.file == "products.delta.json")
        .unwrap();
    let got: Vec<(&str, &str)> = products
        .errors
        .iter()
        .map(|i| (i.pointer.as_str(), i.code.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("/0/active", codes::CONVERT_VALUE),
            ("/1/id", codes::CONVERT_REQUIRED)
        ]
    );
    assert_eq!(products.warnings[0].pointer, "/2/deleted");
    let lines = lines(&out.path().join("products.post.ndjson"));
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["code"], "X2");
    let prices = outcome
        .reports
        .iter()
        .find(|r| r.file == "prices.delta.json")
        .unwrap();
    assert!(prices.errors.is_empty());
    assert_eq!(prices.warnings[0].code, codes::CONVERT_UNSUPPORTED);
}

// ---------------------------------------------------------------------------------------------
// Documented defaults and inheritance instead of leaving valid COMPO records out (issue 15).

fn by_code<'a>(lines: &'a [Value], key: &str, code: &str) -> Option<&'a Value> {
    lines.iter().find(|l| l[key] == code)
}

fn read_lines(out: &Path, e: Endpoint) -> Vec<Value> {
    let p = out.join(e.file_name());
    if p.exists() {
        lines(&p)
    } else {
        Vec::new()
    }
}

#[test]
fn defaults_and_inheritance_replace_leaving_records_out() {
    let out = tempdir();
    let outcome = compo_to_prodly(&[dir().join("defaults")], out.path(), &opts()).unwrap();
    golden(
        out.path(),
        &outcome.reports,
        &dir().join("expected-defaults"),
    );
    let products = read_lines(out.path(), Endpoint::Products);
    let branch = read_lines(out.path(), Endpoint::BranchProducts);
    let stocks = read_lines(out.path(), Endpoint::Stocks);
    // A variant without country takes its card's.
    assert_eq!(by_code(&products, "code", "VAR").unwrap()["country"], "RU");
    // No multiplicity nor min_quantity: COMPO's order step is 1, so kvant is 1.
    assert_eq!(by_code(&branch, "code", "STEP1").unwrap()["kvant"], 1);
    // No active: the product is active.
    assert_eq!(by_code(&branch, "code", "STEP1").unwrap()["active"], true);
    // NOWHERE has no country and no card to inherit it from, and no default is configured: it
    // is not in products.post, so nothing else is sent for it.
    assert!(by_code(&products, "code", "NOWHERE").is_none());
    assert!(by_code(&branch, "code", "NOWHERE").is_none());
    assert!(by_code(&stocks, "productCode", "NOWHERE").is_none());
    assert!(read_lines(out.path(), Endpoint::PersonalPrices).is_empty());
    let report = |file: &str| outcome.reports.iter().find(|r| r.file == file).unwrap();
    assert!(report("products.json")
        .errors
        .iter()
        .any(|i| i.pointer == "/3/country" && i.code == codes::CONVERT_REQUIRED));
    assert!(
        report("remains.json")
            .warnings
            .iter()
            .any(|i| i.pointer == "/3/product_id" && i.code == codes::CONVERT_REQUIRED),
        "the stock left out is reported: {:?}",
        report("remains.json")
    );
    // Only png, jpg and jpeg go to Prodly; the others are left out with a warning.
    assert_eq!(
        by_code(&products, "code", "PICS").unwrap()["images"],
        serde_json::json!(["tea.jpg", "tea-4.PNG", "tea-5.jpeg"])
    );
    let pics: Vec<&str> = report("products.json")
        .warnings
        .iter()
        .filter(|i| i.code == codes::CONVERT_UNSUPPORTED)
        .map(|i| i.pointer.as_str())
        .collect();
    assert_eq!(pics, ["/4/pictures/1", "/4/pictures/2"]);
    // logisticAddress from legal_address, with a warning; active defaults to true.
    let clients = read_lines(out.path(), Endpoint::Clients);
    let legal = by_code(&clients, "code", "LEGAL").unwrap();
    assert_eq!(legal["logisticAddress"], "Ростов, ул. Южная, 1");
    assert!(report("contragents.json")
        .warnings
        .iter()
        .any(|i| i.pointer == "/0/delivery_addresses" && i.code == codes::CONVERT_REQUIRED));
    assert_eq!(
        by_code(&clients, "code", "NOACTIVE").unwrap()["active"],
        true
    );
    for p in &outcome.written {
        assert_conforms(p);
    }
}

#[test]
fn a_configured_default_country_fills_cards_without_one() {
    let out = tempdir();
    let defaults = ProdlyDefaults {
        country: Some("RU".into()),
        ..Default::default()
    };
    let outcome =
        compo_to_prodly_with(&[dir().join("defaults")], out.path(), &opts(), &defaults).unwrap();
    let products = read_lines(out.path(), Endpoint::Products);
    assert_eq!(
        by_code(&products, "code", "NOWHERE").unwrap()["country"],
        "RU"
    );
    assert_eq!(
        by_code(&products, "code", "STEP1").unwrap()["country"],
        "BY"
    );
    let branch = read_lines(out.path(), Endpoint::BranchProducts);
    assert!(by_code(&branch, "code", "NOWHERE").is_some());
    let warned = outcome
        .reports
        .iter()
        .flat_map(|r| &r.warnings)
        .any(|i| i.pointer == "/3/country");
    assert!(warned, "the default is announced: {:?}", outcome.reports);
}

// ---------------------------------------------------------------------------------------------
// Orders both ways never stall on a field COMPO does not require (issue 15).

#[test]
fn acknowledgements_go_without_delivery_date_or_reason() {
    let out = tempdir();
    let outcome = compo_to_prodly(&[dir().join("acks")], out.path(), &opts()).unwrap();
    golden(out.path(), &outcome.reports, &dir().join("expected-acks"));
    let orders = read_lines(out.path(), Endpoint::Orders);
    let numbers: Vec<&str> = orders
        .iter()
        .map(|o| o["number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, ["A-1", "A-2", "A-3"], "{:?}", outcome.reports);
    // No delivery block: delivered (not collected) and dated the order's day.
    assert_eq!(orders[0]["deliveryDate"], "2026-11-20");
    assert_eq!(orders[0]["pickup"], false);
    assert_eq!(orders[0]["vendorStatus"], "accepted");
    assert_eq!(orders[1]["deliveryDate"], "2026-11-21");
    assert_eq!(orders[1]["pickup"], true);
    assert_eq!(orders[2]["state"], "canceled");
    assert!(orders[2]["vendorMessage"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
    let report = &outcome.reports[0];
    assert!(report.errors.is_empty(), "{report:?}");
    let warned: Vec<&str> = report.warnings.iter().map(|i| i.pointer.as_str()).collect();
    assert_eq!(
        warned,
        ["/0/delivery", "/1/delivery/date", "/2/status_comment"]
    );
    for p in &outcome.written {
        assert_conforms(p);
    }
}

#[test]
fn prodly_orders_without_currency_or_with_a_wrong_total_are_kept() {
    let out = tempdir();
    let defaults = ProdlyDefaults {
        currency: Some("RUB".into()),
        ..Default::default()
    };
    let fill = dir().join("exports-fill");
    let outcome = prodly_to_compo_with(
        &[fill.join("orders.json")],
        &[fill.join("contracts/contracts.json")],
        out.path(),
        &defaults,
    )
    .unwrap();
    golden(
        out.path(),
        &outcome.reports,
        &dir().join("expected-compo-fill"),
    );
    let path = out.path().join("orders.json");
    assert_valid_compo_orders(&path);
    let orders: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let got: Vec<(&str, &str, f64)> = orders
        .iter()
        .map(|o| {
            (
                o["id"].as_str().unwrap(),
                o["currency"].as_str().unwrap(),
                o["total"].as_f64().unwrap(),
            )
        })
        .collect();
    // N-1: the client's contract currency; N-2: no contract, the configured default; N-3: the
    // total is the rows' (Prodly's 125 is reported).
    assert_eq!(
        got,
        [
            ("N-1", "USD", 120.0),
            ("N-2", "RUB", 120.0),
            ("N-3", "RUB", 120.0)
        ]
    );
    let r = &outcome.reports[0];
    assert!(r.errors.is_empty(), "{r:?}");
    let warned: Vec<(&str, &str)> = r
        .warnings
        .iter()
        .map(|i| (i.pointer.as_str(), i.code.as_str()))
        .collect();
    assert_eq!(
        warned,
        [
            ("/0/currency", codes::CONVERT_REQUIRED),
            ("/1/currency", codes::CONVERT_REQUIRED),
            ("/2/total", codes::SUM_MISMATCH)
        ]
    );
    assert!(r.warnings[2].message.contains("125"));
    // Without contracts or a default, an order without currency is still left out.
    let out2 = tempdir();
    let bare = prodly_to_compo(&[fill.join("orders.json")], out2.path()).unwrap();
    let kept: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(out2.path().join("orders.json")).unwrap())
            .unwrap();
    assert_eq!(kept.len(), 1);
    assert!(bare.reports[0]
        .errors
        .iter()
        .any(|i| i.pointer == "/0/currency" && i.code == codes::CONVERT_REQUIRED));
}

// ---------------------------------------------------------------------------------------------
// Through the exchange: the bodies written after each publish come from what the portal holds
// (the record store), whatever mix of snapshots, deltas and deletions brought it there.

/// A work folder whose publishes also write Prodly bodies (deletions let through the guard).
fn prodly_exchange() -> crate::harness::Work {
    crate::harness::Work::with_config(
        "[snapshot]\nmass_delete = 1.0\n[prodly]\nenabled = true\nvendor = \"acme\"\nbranch = \"MSK\"",
    )
}

/// Drops `files` into the outbox, runs one pass and returns the Prodly set it wrote.
fn publish(w: &crate::harness::Work, files: &[(&str, &str)]) -> PathBuf {
    let before = prodly_sets(w);
    for (name, text) in files {
        w.drop_file(name, text.as_bytes());
    }
    let o = w.run("once", &[]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        crate::harness::stdout(&o),
        crate::harness::stderr(&o)
    );
    let after = prodly_sets(w);
    assert_eq!(
        after.len(),
        before.len() + 1,
        "one Prodly set per publish: {after:?}"
    );
    after.last().unwrap().clone()
}

/// The Prodly sets written so far, oldest first (their names are time stamps).
fn prodly_sets(w: &crate::harness::Work) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(w.path("prodly"))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    v.retain(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'));
    v.sort();
    v
}

fn body(set: &Path, e: Endpoint) -> Vec<Value> {
    let p = set.join(e.file_name());
    if p.exists() {
        lines(&p)
    } else {
        Vec::new()
    }
}

const CATALOG: &[(&str, &str)] = &[
    ("categories.json", r#"[{"id":"c1","name":"All"}]"#),
    (
        "warehouses.json",
        r#"[{"id":"W1","name":"Main"},{"id":"W2","name":"North"}]"#,
    ),
    (
        "prices_types.json",
        r#"[{"id":"PT","name":"Base","currency":"RUB"}]"#,
    ),
    (
        "products.json",
        r#"[{"id":"p1","name":"One","category_id":"c1","unit":"pcs","vat":20,"country":"RU"},
{"id":"p2","name":"Two","category_id":"c1","unit":"pcs","vat":20,"country":"RU"}]"#,
    ),
    (
        "remains.json",
        r#"[{"product_id":"p1","warehouse_id":"W1","quantity":120},
{"product_id":"p1","warehouse_id":"W2","quantity":80},
{"product_id":"p2","warehouse_id":"W1","quantity":7}]"#,
    ),
];

fn stock_of(set: &Path, code: &str) -> Option<Value> {
    body(set, Endpoint::Stocks)
        .into_iter()
        .find(|l| l["productCode"] == code)
        .map(|l| l["stock"].clone())
}

#[test]
fn a_remains_delta_alone_gives_the_total_the_portal_holds() {
    let w = prodly_exchange();
    let first = publish(&w, CATALOG);
    assert_eq!(stock_of(&first, "p1"), Some(200.into()));
    // W1 goes from 120 to 150: the portal holds 150 + 80, not the delta's 150.
    let set = publish(
        &w,
        &[(
            "remains.delta.json",
            r#"[{"product_id":"p1","warehouse_id":"W1","quantity":150}]"#,
        )],
    );
    assert_eq!(stock_of(&set, "p1"), Some(230.into()));
    // p2's stock did not change, but stocks.post is a body of all stock: it is there too.
    assert_eq!(stock_of(&set, "p2"), Some(7.into()));
    let branch = body(&set, Endpoint::BranchProducts);
    let p1 = by_code(&branch, "code", "p1").expect("p1's branch update");
    assert_eq!(p1["stock"], 230, "{p1}");
    // Only the bodies built from remains are written again.
    assert_eq!(
        crate::harness::names(&set),
        ["branch_products.post.ndjson", "stocks.post.ndjson"]
    );
}

#[test]
fn a_snapshot_and_a_delta_of_one_stock_in_one_publish_do_not_add_up() {
    let w = prodly_exchange();
    let mut files = CATALOG.to_vec();
    files.push((
        "remains.delta.json",
        r#"[{"product_id":"p1","warehouse_id":"W1","quantity":150}]"#,
    ));
    let set = publish(&w, &files);
    // The delta replaces W1's 120: 150 + 80, not 120 + 80 + 150.
    assert_eq!(stock_of(&set, "p1"), Some(230.into()));
    assert_eq!(stock_of(&set, "p2"), Some(7.into()));
}

#[test]
fn a_deleted_stock_lowers_the_total() {
    let w = prodly_exchange();
    publish(&w, CATALOG);
    let set = publish(
        &w,
        &[(
            "remains.delta.json",
            r#"[{"product_id":"p1","warehouse_id":"W2","deleted":true}]"#,
        )],
    );
    assert_eq!(stock_of(&set, "p1"), Some(120.into()));
}

#[test]
fn prices_published_without_their_products_still_give_the_branch_update() {
    let w = prodly_exchange();
    publish(&w, CATALOG);
    let set = publish(
        &w,
        &[(
            "prices.json",
            r#"[{"product_id":"p1","prices_type_id":"PT","price":111}]"#,
        )],
    );
    let branch = body(&set, Endpoint::BranchProducts);
    let p1 = by_code(&branch, "code", "p1").expect("p1's branch update from the store");
    assert_eq!(p1["stock"], 200, "{p1}");
    assert_eq!(
        p1["stocks"][0]["prices"],
        serde_json::json!([{"price": "PT", "value": 111}]),
        "{p1}"
    );
}

const CLIENTS: &[(&str, &str)] = &[
    (
        "managers.json",
        r#"[{"id":"M1","name":"Anna","phone":"+74951234567","active":true}]"#,
    ),
    (
        "contragents.json",
        r#"[{"id":"CA1","name":"Romashka","kind":"legal","inn":"7708123450","delivery_addresses":["Moscow"],"manager_id":"M1"}]"#,
    ),
    (
        "contracts.json",
        r#"[{"id":"K1","contragent_id":"CA1","number":"1","date":"2026-01-15","currency":"RUB","prices_type_id":"PT","is_default":true,"organization":"F1","prodly_firm":{"inn":"5024002119","address":"Krasnogorsk","active":true}}]"#,
    ),
];

/// A Prodly exchange that has published the catalog and the clients.
fn with_catalog_and_clients() -> crate::harness::Work {
    let w = prodly_exchange();
    let mut files = CATALOG.to_vec();
    files.extend_from_slice(CLIENTS);
    publish(&w, &files);
    w
}

#[test]
fn personal_prices_take_their_contracts_from_the_store() {
    let w = with_catalog_and_clients();
    let set = publish(
        &w,
        &[(
            "prices.json",
            r#"[{"product_id":"p1","prices_type_id":"PT","price":100},
{"product_id":"p1","prices_type_id":"PT","contract_id":"K1","price":90}]"#,
        )],
    );
    let pp = body(&set, Endpoint::PersonalPrices);
    assert_eq!(pp.len(), 1, "{pp:?}");
    assert_eq!(pp[0]["client"], "CA1");
    assert_eq!(pp[0]["defaultPrice"], 100);
    assert_eq!(pp[0]["price"], 90);
}

#[test]
fn a_finances_only_publish_updates_debts_and_the_clients_balance() {
    let w = with_catalog_and_clients();
    let set = publish(
        &w,
        &[(
            "finances.json",
            r#"[{"contragent_id":"CA1","contract_id":"K1","currency":"RUB","balance":1500,"overdue_debt":200,
"documents":[{"id":"D1","kind":"invoice","number":"1","date":"2026-10-01","amount":1000,"debt":200}]}]"#,
        )],
    );
    let debts = body(&set, Endpoint::Debts);
    assert_eq!(debts.len(), 1, "{debts:?}");
    let doc = &debts[0]["documents"][0];
    assert_eq!(doc["firmCode"], "F1", "{doc}");
    assert_eq!(doc["agentCode"], "M1", "{doc}");
    let clients = body(&set, Endpoint::Clients);
    let ca1 = by_code(&clients, "code", "CA1").expect("CA1's clients.post line");
    let prop = |k: &str| {
        ca1["properties"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["key"] == k)
            .map(|p| p["value"].clone())
    };
    assert_eq!(prop("balance"), Some(1500.into()), "{ca1}");
    assert_eq!(prop("debt"), Some(200.into()), "{ca1}");
    assert_eq!(
        crate::harness::names(&set),
        ["clients.post.ndjson", "debts.post.ndjson"]
    );
}

#[test]
fn bodies_a_stop_kept_from_being_written_come_at_the_next_start() {
    // Published without the hook, as when the process stops between a publish and its bodies.
    let w = crate::harness::Work::with_config("[snapshot]\nmass_delete = 1.0");
    for (name, text) in CATALOG {
        w.drop_file(name, text.as_bytes());
    }
    let o = w.run("once", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", crate::harness::stderr(&o));
    assert!(prodly_sets(&w).is_empty());
    let mut cfg = std::fs::read_to_string(w.config()).unwrap();
    cfg.push_str("[prodly]\nenabled = true\nvendor = \"acme\"\nbranch = \"MSK\"\n");
    std::fs::write(w.config(), cfg).unwrap();
    // The next start writes them, with nothing new to publish, from what the portal holds.
    let set = publish(&w, &[]);
    let products = body(&set, Endpoint::Products);
    assert_eq!(products.len(), 2, "{products:?}");
    assert_eq!(stock_of(&set, "p1"), Some(200.into()));
    assert_eq!(stock_of(&set, "p2"), Some(7.into()));
    // Converted once: a publish of something else does not write them again.
    let next = publish(
        &w,
        &[(
            "managers.json",
            r#"[{"id":"M1","name":"Anna","phone":"+74951234567","active":true}]"#,
        )],
    );
    assert_eq!(crate::harness::names(&next), ["managers.post.ndjson"]);
}

#[test]
fn prices_only_ever_published_as_deltas_are_an_incomplete_part() {
    let w = with_catalog_and_clients();
    let set = publish(
        &w,
        &[(
            "prices.delta.json",
            r#"[{"product_id":"p1","prices_type_id":"PT","price":100},
{"product_id":"p1","prices_type_id":"PT","contract_id":"K1","price":90}]"#,
        )],
    );
    // The general price reaches the branch update; personal prices, which Prodly replaces as a
    // whole, wait for a prices snapshot, and the set's report says so.
    let branch = body(&set, Endpoint::BranchProducts);
    let p1 = by_code(&branch, "code", "p1").expect("p1's branch update");
    assert_eq!(p1["stocks"][0]["prices"][0]["value"], 100, "{p1}");
    assert!(body(&set, Endpoint::PersonalPrices).is_empty());
    let report: Report = serde_json::from_slice(
        &std::fs::read(set.join("portal-state_prices.report.json")).expect("the prices report"),
    )
    .unwrap();
    assert!(
        report
            .warnings
            .iter()
            .any(|i| i.code == codes::CONVERT_UNSUPPORTED
                && i.message.contains("personal_prices.post")),
        "{report:?}"
    );
}
