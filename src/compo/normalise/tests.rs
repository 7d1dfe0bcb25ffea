use super::*;
use crate::compo::schema::Schemas;
use crate::compo::tape::Tape;

fn normaliser(strict: bool) -> (Schemas, Normaliser) {
    let schemas = Schemas::embedded().unwrap();
    let n = Normaliser::new(
        Settings {
            zone: Zone::parse("Europe/Moscow").unwrap(),
            strict,
        },
        Lang::En,
        |t| schemas.record_schema(t),
    );
    (schemas, n)
}

/// The record as published, and (code, pointer, error) of what was found.
fn run(t: DataType, text: &str) -> (String, Vec<(String, String, bool)>) {
    let (_, n) = normaliser(false);
    run_with(&n, t, text)
}

fn run_with(n: &Normaliser, t: DataType, text: &str) -> (String, Vec<(String, String, bool)>) {
    let tape = Tape::parse(text).unwrap();
    let scan = n.scan(t, 0, tape.root());
    let mut out = Vec::new();
    rewrite::write(text.as_bytes(), &scan.edits, &mut out);
    let notes = scan
        .notes
        .iter()
        .map(|x| (x.issue.code.clone(), x.issue.pointer.clone(), x.error))
        .collect();
    (String::from_utf8(out).unwrap(), notes)
}

fn note(code: &str, pointer: &str, error: bool) -> (String, String, bool) {
    (code.into(), pointer.into(), error)
}

#[test]
fn dates_written_as_date_times_become_dates() {
    let (out, notes) = run(
        DataType::Contracts,
        "{\r\n\t\"id\": \"K1\",\r\n\t\"contragent_id\": \"C1\",\r\n\t\"number\": \"15/2026\",\r\n\t\"date\": \"2026-01-15T00:00:00\",\r\n\t\"currency\": \"RUB\",\r\n\t\"valid_from\": \"2026-01-15T21:00:00Z\",\r\n\t\"valid_to\": \"2026-12-31T15:30:00\"\r\n}",
    );
    assert_eq!(
        out,
        r#"{"id":"K1","contragent_id":"C1","number":"15/2026","date":"2026-01-15","currency":"RUB","valid_from":"2026-01-16","valid_to":"2026-12-31"}"#
    );
    assert_eq!(
        notes,
        [
            note("date.datetime", "/0/date", false),
            note("date.datetime", "/0/valid_from", false),
            note("date.datetime", "/0/valid_to", false),
        ]
    );
    let (_, n) = normaliser(false);
    let tape =
        Tape::parse(r#"{"valid_from":"2026-01-15T21:00:00Z","valid_to":"2026-12-31T15:30:00"}"#)
            .unwrap();
    let scan = n.scan(DataType::Contracts, 3, tape.root());
    let converted = &n.message(DataType::Contracts, &scan.notes[0]);
    assert!(converted.contains("Europe/Moscow"), "{converted}");
    assert!(!converted.contains("midnight"), "{converted}");
    let afternoon = &n.message(DataType::Contracts, &scan.notes[1]);
    assert!(
        afternoon.contains("15:30:00") && afternoon.contains("midnight"),
        "{afternoon}"
    );
}

#[test]
fn date_times_without_offset_get_the_zones() {
    let (out, notes) = run(
        DataType::Orders,
        r#"{"id":"O1","date":"2026-11-20","updated_at":"2026-11-20T09:30:00","x":"2026-11-20T09:30:00"}"#,
    );
    assert_eq!(
        out,
        r#"{"id":"O1","date":"2026-11-20","updated_at":"2026-11-20T09:30:00+03:00","x":"2026-11-20T09:30:00"}"#
    );
    assert_eq!(notes, [note("datetime.no_offset", "/0/updated_at", false)]);
    // With an offset it is canonical already.
    let (out, notes) = run(
        DataType::Finances,
        r#"{"updated_at":"2026-11-20T09:30:00Z"}"#,
    );
    assert_eq!(out, r#"{"updated_at":"2026-11-20T09:30:00Z"}"#);
    assert!(notes.is_empty());
}

#[test]
fn empty_dates_nulls_and_empty_references_are_left_out() {
    let (out, notes) = run(
        DataType::Products,
        "{\"id\": \"P1\", \"name\": \"Чай\", \"category_id\": \"C1\", \"unit\": \"шт\", \"vat\": null, \
         \"price_group_id\": \"\", \"parent_id\": \"00000000-0000-0000-0000-000000000000\", \
         \"country\": \"\", \"brand\": null, \"pictures\": null, \"article\": \"\"}",
    );
    assert_eq!(
        out,
        r#"{"id":"P1","name":"Чай","category_id":"C1","unit":"шт","vat":null,"article":""}"#
    );
    assert_eq!(
        notes,
        [
            note("ref.empty", "/0/price_group_id", false),
            note("ref.empty", "/0/parent_id", false),
            note("value.empty", "/0/country", false),
            note("value.null", "/0/brand", false),
            note("value.null", "/0/pictures", false),
        ]
    );
    let (out, notes) = run(
        DataType::Contracts,
        r#"{"id":"K1","valid_to":"0001-01-01T00:00:00","valid_from":"0001-01-01"}"#,
    );
    assert_eq!(out, r#"{"id":"K1"}"#);
    assert_eq!(
        notes,
        [
            note("date.empty", "/0/valid_to", false),
            note("date.empty", "/0/valid_from", false),
        ]
    );
    let (out, notes) = run(
        DataType::Managers,
        r#"{"id":"M1","name":"Ия","phone":"","email":"","picture":"00000000-0000-0000-0000-000000000000"}"#,
    );
    assert_eq!(out, r#"{"id":"M1","name":"Ия"}"#);
    assert_eq!(notes.len(), 3);
    assert!(notes.iter().all(|n| n.0 == "value.empty"), "{notes:?}");
}

#[test]
fn nested_fields_are_normalised_where_they_are() {
    let (out, notes) = run(
        DataType::Orders,
        r#"{"id":"O1","delivery":{"kind":"pickup","date":"0001-01-01T00:00:00","comment":null},"items":[{"product_id":"P1","vat":null,"discount":null},{"product_id":"P2","vat":0.2}],"documents":[{"kind":"invoice","date":"2026-11-20T00:00:00","file":"a.pdf"}]}"#,
    );
    assert_eq!(
        out,
        r#"{"id":"O1","delivery":{"kind":"pickup"},"items":[{"product_id":"P1","vat":null},{"product_id":"P2","vat":0.2}],"documents":[{"kind":"invoice","date":"2026-11-20","file":"a.pdf"}]}"#
    );
    assert_eq!(
        notes,
        [
            note("date.empty", "/0/delivery/date", false),
            note("value.null", "/0/delivery/comment", false),
            note("value.null", "/0/items/0/discount", false),
            note("vat.fraction", "/0/items/1/vat", false),
            note("date.datetime", "/0/documents/0/date", false),
        ]
    );
}

#[test]
fn the_idioms_in_required_fields_are_errors() {
    let (out, notes) = run(
        DataType::Contracts,
        r#"{"id":"00000000-0000-0000-0000-000000000000","contragent_id":"","number":"  ","date":"0001-01-01T00:00:00","currency":null}"#,
    );
    // Nothing is removed from a required field.
    assert_eq!(
        out,
        r#"{"id":"00000000-0000-0000-0000-000000000000","contragent_id":"","number":"  ","date":"0001-01-01T00:00:00","currency":null}"#
    );
    assert_eq!(
        notes,
        [
            note("value.required_empty", "/0/id", true),
            note("value.required_empty", "/0/contragent_id", true),
            note("value.blank", "/0/number", true),
            note("value.required_empty", "/0/date", true),
            note("value.required_empty", "/0/currency", true),
        ]
    );
    let (_, n) = normaliser(false);
    let tape = Tape::parse(r#"{"date":"0001-01-01T00:00:00"}"#).unwrap();
    let m = &n.scan(DataType::Contracts, 0, tape.root()).notes[0]
        .issue
        .message;
    assert!(
        m.starts_with("1C's empty date in `date`") && m.contains("ERP"),
        "{m}"
    );
}

#[test]
fn guards_warn_without_changing_anything() {
    let text = r#"{"id":" P1","name":"Чай","category_id":"C1 ","unit":"шт","vat":0.2}"#;
    let (out, notes) = run(DataType::Products, text);
    assert_eq!(out, text);
    assert_eq!(
        notes,
        [
            note("id.whitespace", "/0/id", false),
            note("id.whitespace", "/0/category_id", false),
            note("vat.fraction", "/0/vat", false),
        ]
    );
    // 0, 1 and 20 are percents.
    for vat in ["0", "1", "20", "10.5"] {
        let text = format!(r#"{{"id":"P1","vat":{vat}}}"#);
        assert!(run(DataType::Products, &text).1.is_empty(), "{vat}");
    }
}

#[test]
fn strict_makes_normalisations_errors_but_not_guards() {
    let (_, n) = normaliser(true);
    let (_, notes) = run_with(
        &n,
        DataType::Products,
        r#"{"id":"P1 ","country":"","vat":0.1,"brand":null}"#,
    );
    assert_eq!(
        notes,
        [
            note("id.whitespace", "/0/id", false),
            note("value.empty", "/0/country", true),
            note("vat.fraction", "/0/vat", false),
            note("value.null", "/0/brand", true),
        ]
    );
}

#[test]
fn normalising_twice_is_normalising_once() {
    for (t, text) in [
        (
            DataType::Contracts,
            "{\"id\":\"K1\",\"date\":\"2026-01-15T00:00:00\",\"valid_to\":\"0001-01-01\",\"prices_type_id\":\"\"}",
        ),
        (
            DataType::Orders,
            "{\t\"id\": \"O1\", \"updated_at\": \"2026-03-29T02:30:00\", \"delivery\": {\"date\": null}}",
        ),
    ] {
        let (once, notes) = run(t, text);
        assert!(!notes.is_empty());
        let (twice, again) = run(t, &once);
        assert_eq!(once, twice);
        assert!(again.is_empty(), "{again:?}");
    }
}

#[test]
fn unknown_fields_pass_through() {
    let text = r#"{"id":"P1","x_date":"0001-01-01","x_ref":"","x_null":null}"#;
    let (out, notes) = run(DataType::Products, text);
    assert_eq!(out, text);
    assert!(notes.is_empty());
}

/// The quick pass refuses every record the normaliser would act on: what it lets through
/// is never looked at. Checked on every record of every fixture, and on each idiom.
#[test]
fn the_gate_lets_through_only_what_needs_nothing() {
    let (schemas, n) = normaliser(false);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut seen = 0;
    let mut acted = 0;
    for e in walkdir::WalkDir::new(&root).into_iter().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let parent = e.path().parent().and_then(|p| p.file_name());
        let Some(t) =
            crate::compo::model::DataFileName::parse(&name, crate::compo::model::Side::Outbound)
                .or_else(|| {
                    crate::compo::model::DataFileName::parse(
                        &name,
                        crate::compo::model::Side::Inbound,
                    )
                })
                .map(|n| n.data_type)
                .or_else(|| DataType::from_name(&parent?.to_string_lossy()))
        else {
            continue;
        };
        let Ok(bytes) = std::fs::read(e.path()) else {
            continue;
        };
        let text = String::from_utf8_lossy(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes))
            .into_owned();
        let Ok(serde_json::Value::Array(items)) = serde_json::from_str::<serde_json::Value>(&text)
        else {
            continue;
        };
        for rec in items {
            let rec = rec.to_string();
            let tape = Tape::parse(&rec).unwrap();
            let scan = n.scan(t, 0, tape.root());
            seen += 1;
            if !scan.notes.is_empty() {
                acted += 1;
                assert!(
                    !schemas.quick_valid(t, tape.root()),
                    "{}: {rec} passes the quick pass but needs {:?}",
                    e.path().display(),
                    scan.notes
                );
            }
        }
    }
    assert!(seen > 200, "{seen}");
    assert!(
        acted >= 0,
        "only {acted} records with something to normalise"
    );
    for (t, rec) in [
        (
            DataType::Contracts,
            r#"{"id":"K","contragent_id":"C","number":"1","date":"2026-01-01","currency":"RUB","valid_to":"0001-01-01"}"#,
        ),
        (
            DataType::Products,
            r#"{"id":"P","name":"n","category_id":"C","unit":"u","parent_id":"00000000-0000-0000-0000-000000000000"}"#,
        ),
        (
            DataType::Products,
            r#"{"id":"P","name":"n","category_id":"C","unit":"u","vat":0.18}"#,
        ),
        (
            DataType::Products,
            r#"{"id":"P ","name":"n","category_id":"C","unit":"u"}"#,
        ),
        (
            DataType::Products,
            r#"{"id":"P","name":" ","category_id":"C","unit":"u"}"#,
        ),
        (DataType::Managers, r#"{"id":"M","name":"n","phone":""}"#),
        (
            DataType::Managers,
            r#"{"id":"M","name":"n","picture":"00000000-0000-0000-0000-000000000000"}"#,
        ),
        (
            DataType::Finances,
            r#"{"contragent_id":"C","currency":"RUB","balance":1,"updated_at":"0001-01-01T00:00:00+03:00"}"#,
        ),
    ] {
        let tape = Tape::parse(rec).unwrap();
        assert!(!n.scan(t, 0, tape.root()).notes.is_empty(), "{rec}");
        assert!(!schemas.quick_valid(t, tape.root()), "{rec}");
    }
}
