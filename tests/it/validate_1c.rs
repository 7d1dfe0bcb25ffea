//! Files as 1C writes them (`fixtures/1c/`, made by its `make.py`): accepted by `validate` with
//! each normalisation counted once per file and field, published by `once` in the golden
//! canonical form, refused with a message in both languages when the idiom is in a required
//! field.

use crate::harness::{fixtures, run, stderr, stdout, Work};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    fixtures().join("1c")
}

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// `validate --format json` with the fixtures' time zone; (exit code, reports).
fn validate(args: &[&str], path: &Path) -> (i32, Vec<Value>) {
    let mut all: Vec<std::ffi::OsString> =
        vec!["validate".into(), "--format".into(), "json".into()];
    if !args.contains(&"--timezone") {
        all.extend(["--timezone", "Europe/Moscow"].map(Into::into));
    }
    all.extend(args.iter().map(Into::into));
    all.push(path.as_os_str().to_owned());
    let o = run(all);
    let mut reports: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&o), stderr(&o)));
    // The folder's files are reported under the folder as given: compared by their name in it.
    let folder = format!("{}/", path.display());
    for r in reports.as_array_mut().unwrap() {
        let name = r["file"].as_str().unwrap();
        r["file"] = name.strip_prefix(&folder).unwrap_or(name).into();
    }
    (
        o.status.code().unwrap(),
        reports.as_array().unwrap().clone(),
    )
}

/// (file, code, pointer, count) of a list of issues.
fn listed(file: &str, issues: &Value) -> BTreeSet<(String, String, String, u64)> {
    issues
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                file.to_string(),
                i["code"].as_str().unwrap().to_string(),
                i["pointer"].as_str().unwrap().to_string(),
                i["count"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

fn expected_warnings() -> BTreeSet<(String, String, String, u64)> {
    let w = read_json(&dir().join("warnings.json"));
    let mut out = BTreeSet::new();
    for (file, issues) in w.as_object().unwrap() {
        out.extend(listed(file, issues));
    }
    out
}

const GUARDS: [&str; 2] = ["id.whitespace", "vat.fraction"];

#[test]
fn the_1c_batch_is_accepted_with_each_normalisation_counted_once_per_field() {
    let (code, reports) = validate(&["--lang", "en"], &dir().join("input"));
    assert_eq!(code, 0, "{reports:?}");
    let mut got = BTreeSet::new();
    for r in &reports {
        assert_eq!(r["errors"], Value::Array(vec![]), "{r}");
        got.extend(listed(r["file"].as_str().unwrap(), &r["warnings"]));
    }
    assert_eq!(got, expected_warnings());
    // The first occurrence's message, in the language asked for.
    let finances = reports
        .iter()
        .find(|r| r["file"] == "finances.json")
        .unwrap();
    let updated = finances["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["code"] == "datetime.no_offset")
        .unwrap();
    assert!(
        updated["message"]
            .as_str()
            .unwrap()
            .contains("\"2026-11-20T09:30:00+03:00\", taken in Europe/Moscow"),
        "{updated}"
    );
}

#[test]
fn the_time_zone_decides_the_offset_and_the_date() {
    let (_, reports) = validate(
        &["--timezone", "Asia/Yekaterinburg", "--lang", "en"],
        &dir().join("input").join("finances.json"),
    );
    let text = reports[0]["warnings"].to_string();
    assert!(text.contains("2026-11-20T09:30:00+05:00"), "{text}");
    // 21:00Z on the 19th is 02:00 on the 20th in Yekaterinburg: not midnight there.
    assert!(
        text.contains("which is 02:00:00 in Asia/Yekaterinburg"),
        "{text}"
    );
}

#[test]
fn the_exchange_publishes_the_golden_canonical_form() {
    let w = Work::with_config("[validation]\ntimezone = \"Europe/Moscow\"\n");
    let names: Vec<String> = crate::harness::names(&dir().join("input"));
    assert!(names.len() >= 6, "{names:?}");
    for n in &names {
        w.drop_file(n, &std::fs::read(dir().join("input").join(n)).unwrap());
    }
    let o = w.run("once", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for n in &names {
        let published = std::fs::read(w.path("server/in").join(n)).unwrap();
        let golden = std::fs::read(dir().join("golden").join(n)).unwrap();
        assert!(
            published == golden,
            "{n}: published\n{}\ngolden\n{}",
            String::from_utf8_lossy(&published),
            String::from_utf8_lossy(&golden)
        );
    }
}

/// The published form is canonical: validating it finds nothing, and publishing it again
/// gives the same bytes (it is even the same file: nothing to rewrite).
#[test]
fn normalising_the_published_form_again_changes_nothing() {
    let golden = dir().join("golden");
    let (code, reports) = validate(&[], &golden);
    assert_eq!(code, 0);
    for r in &reports {
        let guards_only = r["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| GUARDS.contains(&w["code"].as_str().unwrap()));
        assert!(
            guards_only && r["errors"].as_array().unwrap().is_empty(),
            "{r}"
        );
    }
    let w = Work::with_config("[validation]\ntimezone = \"Europe/Moscow\"\n");
    let names = crate::harness::names(&golden);
    for n in &names {
        w.drop_file(n, &std::fs::read(golden.join(n)).unwrap());
    }
    let o = w.run("once", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for n in &names {
        assert_eq!(
            std::fs::read(w.path("server/in").join(n)).unwrap(),
            std::fs::read(golden.join(n)).unwrap(),
            "{n}"
        );
    }
}

#[test]
fn each_idiom_in_a_required_field_is_refused_in_both_languages() {
    let expected = read_json(&dir().join("errors/expected.json"));
    let cases = expected.as_object().unwrap();
    assert!(cases.len() >= 5);
    for (case, want) in cases {
        for lang in ["en", "ru"] {
            let (code, reports) = validate(&["--lang", lang], &dir().join("errors").join(case));
            assert_eq!(code, 1, "{case}: {reports:?}");
            assert_eq!(reports.len(), 1, "{case}");
            let r = &reports[0];
            assert_eq!(r["file"], want["file"], "{case}");
            // One mistake, one error: no schema or reference error beside it.
            let errors = r["errors"].as_array().unwrap();
            assert_eq!(errors.len(), 1, "{case} ({lang}): {errors:?}");
            assert_eq!(errors[0]["code"], want["code"], "{case}");
            assert_eq!(errors[0]["pointer"], want["pointer"], "{case}");
            assert_eq!(errors[0]["message"], want[lang], "{case} ({lang})");
        }
    }
}

#[test]
fn strict_makes_each_normalisation_an_error_and_keeps_the_guards_warnings() {
    let (code, reports) = validate(&["--strict", "--lang", "en"], &dir().join("input"));
    assert_eq!(code, 1);
    let mut error_codes = BTreeSet::new();
    let mut warning_codes = BTreeSet::new();
    for r in &reports {
        for e in r["errors"].as_array().unwrap() {
            error_codes.insert(e["code"].as_str().unwrap().to_string());
            assert!(e["record"].is_u64(), "{e}");
        }
        for w in r["warnings"].as_array().unwrap() {
            warning_codes.insert(w["code"].as_str().unwrap().to_string());
        }
    }
    let normalisations: BTreeSet<String> = expected_warnings()
        .into_iter()
        .map(|w| w.1)
        .filter(|c| !GUARDS.contains(&c.as_str()))
        .collect();
    assert_eq!(error_codes, normalisations);
    assert_eq!(
        warning_codes,
        GUARDS.iter().map(|s| s.to_string()).collect()
    );
}

#[test]
fn a_time_zone_that_is_not_an_iana_name_is_a_config_error_naming_the_key() {
    let w = Work::with_config("[validation]\ntimezone = \"MSK\"\n");
    let o = w.run("once", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("validation.timezone") && e.contains("Europe/Moscow"),
        "{e}"
    );
    let o = run(["validate", "--timezone", "Moscow", "x.json"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn strict_in_the_config_rejects_in_the_exchange_what_would_be_normalised() {
    let w = Work::with_config("[validation]\ntimezone = \"Europe/Moscow\"\nstrict = true\n");
    w.drop_file(
        "contracts.json",
        &std::fs::read(dir().join("input/contracts.json")).unwrap(),
    );
    let o = w.run("once", &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(!w.path("server/in/contracts.json").exists());
    let report = read_json(&w.rejected("contracts.json.report.json"));
    let codes: BTreeSet<&str> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ["date.datetime", "date.empty", "ref.empty"]
            .into_iter()
            .collect()
    );
}
