//! `compo-exchange validate` on every fixture: exact codes and pointers, exit codes, formats.

use crate::harness::{fixtures, run, stdout};
use serde_json::Value;
use std::collections::BTreeMap;

type Found = Vec<(String, String)>;

fn expected() -> Value {
    let text = std::fs::read_to_string(fixtures().join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn pairs(v: &Value) -> Found {
    let mut out: Found = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["code"].as_str().unwrap().to_string(),
                e["pointer"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Runs `validate --format json` and returns the errors of each report, by file name. Files
/// under `invalid/<type>/` are named after the check they trip, so their type is given.
fn validate(path: &std::path::Path) -> (i32, BTreeMap<String, Found>) {
    let mut args: Vec<std::ffi::OsString> =
        vec!["validate".into(), "--format".into(), "json".into()];
    let parent = path
        .parent()
        .and_then(|p| p.file_name())
        .unwrap()
        .to_string_lossy();
    if path.is_file() && compo_exchange::compo::model::DataType::from_name(&parent).is_some() {
        args.push("--type".into());
        args.push(parent.to_string().into());
    }
    args.push(path.as_os_str().to_owned());
    let o = run(args);
    let reports: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{}: {e}: {}", path.display(), stdout(&o)));
    let mut m = BTreeMap::new();
    // A folder's files are reported under the folder as given: keyed here by their name in it.
    let folder = format!("{}/", path.display());
    for r in reports.as_array().unwrap() {
        let file = r["file"].as_str().unwrap();
        let name = file.strip_prefix(&folder).unwrap_or(file);
        m.insert(name.to_string(), pairs(&r["errors"]));
    }
    (o.status.code().unwrap(), m)
}

#[test]
fn every_single_file_fixture_gives_exactly_its_codes() {
    let exp = expected();
    let mut failures = Vec::new();
    for (rel, want) in exp["files"].as_object().unwrap() {
        let path = fixtures().join(rel);
        let (code, got) = validate(&path);
        let got = got.into_values().next().unwrap_or_default();
        let want = pairs(want);
        let want_code = if want.is_empty() { 0 } else { 1 };
        if got != want || code != want_code {
            failures.push(format!("{rel}: exit {code}, got {got:?}, want {want:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_batch_fixture_gives_exactly_its_codes() {
    let exp = expected();
    for (rel, files) in exp["batches"].as_object().unwrap() {
        let (code, got) = validate(&fixtures().join(rel));
        let mut want: BTreeMap<String, Found> = BTreeMap::new();
        for (f, issues) in files.as_object().unwrap() {
            want.insert(f.clone(), pairs(issues));
        }
        let got_bad: BTreeMap<String, Found> =
            got.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        assert_eq!(got_bad, want, "{rel}");
        assert_eq!(code, if want.is_empty() { 0 } else { 1 }, "{rel}");
    }
}

#[test]
fn the_complete_batch_is_valid() {
    let (code, got) = validate(&fixtures().join("batch"));
    let bad: Vec<_> = got.iter().filter(|(_, v)| !v.is_empty()).collect();
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(code, 0);
    // All 16 types, the attached files, and the special encodings are in it.
    for t in compo_exchange::compo::model::DataType::ALL {
        assert!(got.contains_key(&format!("{}.json", t.name())), "{t}");
    }
    assert!(got.keys().any(|k| k.starts_with("pictures/")));
    assert!(got.keys().any(|k| k.starts_with("invoices/")));
}

#[test]
fn text_output_names_file_record_pointer_code_and_summary() {
    let p = fixtures().join("invalid/products/barcode-checksum.json");
    let o = run([
        "validate".into(),
        "--type".into(),
        "products".into(),
        p.clone().into_os_string(),
    ]);
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(1));
    let line = text.lines().next().unwrap();
    // The record starts on line 2 of the file: `file:2:` as compilers write it.
    let file = p.display().to_string();
    assert!(
        line.starts_with(&format!(
            "{file}:2: record 0 at /0/barcodes/1: error barcode.checksum: "
        )),
        "{line}"
    );
    assert!(text.lines().last().unwrap().contains("1 invalid"), "{text}");
    // The JSON report carries the line too.
    let o = run([
        "validate".into(),
        "--format".into(),
        "json".into(),
        "--type".into(),
        "products".into(),
        p.into_os_string(),
    ]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["errors"][0]["line"], 2, "{v}");
}

/// A catalogue as 1C writes it by hand: one record per tab-indented line, CRLF.
fn one_c_file(dir: &std::path::Path, name: &str, records: &[&str]) -> std::path::PathBuf {
    let body: Vec<String> = records.iter().map(|r| format!("\t{r}")).collect();
    let p = dir.join(name);
    std::fs::write(&p, format!("[\r\n{}\r\n]\r\n", body.join(",\r\n"))).unwrap();
    p
}

#[test]
fn messages_follow_lang_and_the_locale() {
    let p = fixtures().join("invalid/products/barcode-checksum.json");
    let ru = |o: &std::process::Output| {
        let text = stdout(o);
        assert!(
            text.contains("ошибка barcode.checksum: у штрихкода"),
            "{text}"
        );
        assert!(
            text.contains("1 файл, 4 записи: без ошибок 0, с ошибками 1"),
            "{text}"
        );
    };
    ru(&run([
        "validate".into(),
        "--lang".into(),
        "ru".into(),
        "--type".into(),
        "products".into(),
        p.clone().into_os_string(),
    ]));
    let mut c = crate::harness::cli();
    c.env("LC_ALL", "ru_RU.UTF-8")
        .args(["validate", "--type", "products"])
        .arg(&p);
    ru(&c.output().unwrap());
    // --lang wins over the locale; codes are the same in every language.
    let mut c = crate::harness::cli();
    c.env("LC_ALL", "ru_RU.UTF-8")
        .args(["validate", "--lang", "en", "--type", "products"])
        .arg(&p);
    let text = stdout(&c.output().unwrap());
    assert!(text.contains("error barcode.checksum: barcode"), "{text}");
    assert_eq!(
        run(["validate", "--lang", "de", "x.json"]).status.code(),
        Some(2)
    );
}

#[test]
fn an_empty_required_reference_is_one_error_and_control_characters_are_escaped() {
    let d = crate::harness::tempdir();
    std::fs::copy(
        fixtures().join("valid/price_groups.json"),
        d.path().join("price_groups.json"),
    )
    .unwrap();
    std::fs::copy(
        fixtures().join("valid/categories.json"),
        d.path().join("categories.json"),
    )
    .unwrap();
    one_c_file(
        d.path(),
        "products.json",
        &[
            r#"{"id": "P-1", "name": "Чай", "category_id": "", "unit": "шт", "price_group_id": "PG-CHEM"}"#,
            r#"{"id": "P-\u0001", "name": "Кофе", "category_id": "CAT-1", "unit": "шт"}"#,
        ],
    );
    let o = run([std::ffi::OsString::from("validate"), d.path().into()]);
    let text = stdout(&o);
    let errors: Vec<&str> = text.lines().filter(|l| l.contains(": error ")).collect();
    assert_eq!(errors.len(), 2, "{text}");
    // One error for the empty id (the normaliser names the idiom), no ref.missing besides.
    assert!(
        // An empty required reference is one of the idioms of spec 4.1 (value.required_empty).
        errors[0].ends_with("products.json:2: record 0 at /0/category_id: error value.required_empty: an empty value \"\" in `category_id`: the field is required, fill it in the ERP"),
        "{text}"
    );
    assert!(
        errors[1].contains("products.json:3: record 1 at /1/id: error schema.pattern"),
        "{text}"
    );
    assert!(errors[1].contains("\"P-\\u0001\""), "{text}");
    assert!(!text.contains('\u{1}'), "{text}");
}

#[test]
fn a_quote_inside_a_name_is_reported_with_line_column_and_the_fix() {
    let d = crate::harness::tempdir();
    let p = one_c_file(
        d.path(),
        "warehouses.json",
        &[
            r#"{"id": "WH-1", "name": "Склад"}"#,
            r#"{"id": "WH-2", "name": "Склад "Северный""}"#,
        ],
    );
    let o = run(["validate".into(), p.clone().into_os_string()]);
    let text = stdout(&o);
    let line = text.lines().next().unwrap();
    assert!(
        line.contains(
            ":3: record 1 at /1: error json.syntax: line 3, column 33: a double quote inside a \
             text value ends it too early; write a quote inside text as \\\""
        ),
        "{text}"
    );
}

#[test]
fn usage_and_io_errors_exit_2() {
    assert_eq!(run(["validate"]).status.code(), Some(2));
    assert_eq!(
        run(["validate", "/nonexistent/x.json"]).status.code(),
        Some(2)
    );
    let o = run(["validate", "--schemas", "/nonexistent", "x"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn schemas_folder_overrides_the_embedded_ones() {
    let d = crate::harness::tempdir();
    // A schema that also requires "brand": the valid products fixture lacks it.
    let mut s: Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("../schemas/products.schema.json")).unwrap(),
    )
    .unwrap();
    let req = s["$defs"]["record"]["required"].as_array_mut().unwrap();
    req.push("brand_code_x".into());
    std::fs::write(d.path().join("products.schema.json"), s.to_string()).unwrap();
    let p = fixtures().join("valid/products.json");
    let o = run([
        "validate".into(),
        "--schemas".into(),
        d.path().as_os_str().to_owned(),
        p.into_os_string(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("brand_code_x"));
}

#[test]
fn windows_1251_can_be_forced_and_utf8_enforced() {
    let cp = fixtures().join("batch/warehouses.json");
    let o = run([
        "validate".into(),
        "--encoding".into(),
        "utf-8".into(),
        cp.clone().into_os_string(),
    ]);
    assert!(stdout(&o).contains("encoding.invalid"), "{}", stdout(&o));
    let o = run([
        "validate".into(),
        "--encoding".into(),
        "windows-1251".into(),
        cp.into_os_string(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

/// Every message of every fixture, in both languages, as `fixtures/messages.json` records them:
/// a change of wording shows in review, and no message can go missing in one language.
/// `REGEN_MESSAGES=1 cargo test --test it every_fixture_message` rewrites the file.
#[test]
fn every_fixture_message_in_both_languages() {
    use compo_exchange::compo::messages::Lang;
    use compo_exchange::compo::model::{DataType, Side};
    use compo_exchange::compo::schema::Schemas;
    use compo_exchange::compo::validate::{BatchInput, Options, Quiet, Validator};
    let exp = expected();
    let schemas = Schemas::load(None).unwrap();
    let run_in = |lang: Lang, rel: &str| -> Vec<compo_exchange::compo::report::Report> {
        let v = Validator::new(
            schemas.clone(),
            Options {
                lang,
                ..Options::default()
            },
        );
        let path = fixtures().join(rel);
        let batch = if path.is_dir() {
            BatchInput::from_folder(&path, Side::Outbound).unwrap()
        } else {
            let parent = path.parent().unwrap().file_name().unwrap();
            let t = DataType::from_name(&parent.to_string_lossy());
            BatchInput::from_files(std::slice::from_ref(&path), Side::Outbound, t)
        };
        v.validate(&batch, None, &mut Quiet)
            .unwrap()
            .into_iter()
            .map(|o| o.report)
            .collect()
    };
    let mut all = serde_json::Map::new();
    let names = exp["files"]
        .as_object()
        .unwrap()
        .keys()
        .chain(exp["batches"].as_object().unwrap().keys());
    for rel in names {
        let (en, ru) = (run_in(Lang::En, rel), run_in(Lang::Ru, rel));
        let mut found = Vec::new();
        for (e, r) in en.iter().zip(&ru) {
            let file = std::path::Path::new(&e.file)
                .strip_prefix(fixtures())
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| e.file.clone());
            for (a, b) in e.errors.iter().zip(&r.errors) {
                assert_eq!((&a.code, &a.pointer), (&b.code, &b.pointer), "{rel}");
                assert_ne!(a.message, b.message, "{rel}: {} not translated", a.code);
                found.push(serde_json::json!({"file": file, "code": a.code,
                    "pointer": a.pointer, "en": a.message, "ru": b.message}));
            }
        }
        if !found.is_empty() {
            all.insert(rel.clone(), Value::Array(found));
        }
    }
    let golden = fixtures().join("messages.json");
    let text = serde_json::to_string_pretty(&Value::Object(all)).unwrap() + "\n";
    if std::env::var_os("REGEN_MESSAGES").is_some() {
        std::fs::write(&golden, &text).unwrap();
    }
    let want = std::fs::read_to_string(&golden).unwrap_or_default();
    assert!(
        want == text,
        "messages differ from fixtures/messages.json; review and regenerate with REGEN_MESSAGES=1"
    );
}

#[test]
fn the_exchange_writes_its_reports_in_the_configured_language() {
    let w = crate::harness::Work::with_config("[validation]\nlanguage = \"ru\"");
    w.run("once", &["--samples"]);
    w.drop_file(
        "remains.delta-b.json",
        br#"[{"product_id":"P-404","warehouse_id":"WH-MSK","quantity":3}]"#,
    );
    let o = w.run("once", &[]);
    assert_eq!(o.status.code(), Some(1));
    let text = std::fs::read_to_string(w.rejected("remains.delta-b.json.report.json")).unwrap();
    let r: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(r["errors"][0]["code"], "ref.missing");
    assert_eq!(
        r["errors"][0]["message"],
        "в products нет записи «P-404»: её нет ни в этой выгрузке, ни на портале; выгрузите \
         эту запись в products или исправьте ссылку"
    );
}
