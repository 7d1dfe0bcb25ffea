//! The schemas as shipped, and what their errors say.

use super::*;

#[test]
fn every_embedded_schema_compiles() {
    let s = Schemas::embedded().unwrap();
    s.compile_all().unwrap();
    for t in DataType::ALL {
        assert!(s.origin(t).contains(t.name()));
    }
}

#[test]
fn pointers_carry_the_record_index() {
    let s = Schemas::embedded().unwrap();
    let mut out = Vec::new();
    s.check(
        DataType::Products,
        7,
        crate::compo::tape::Tape::parse(r#"{"id": "P1", "category_id": "C1", "unit": "шт"}"#)
            .unwrap()
            .root(),
        Lang::En,
        &mut out,
    );
    assert!(
        out.iter()
            .any(|i| i.code == "schema.required" && i.pointer == "/7" && i.record == Some(7)),
        "{out:?}"
    );
    out.clear();
    s.check(
        DataType::Products,
        0,
        crate::compo::tape::Tape::parse(
            r#"{"id": "P1", "name": 5, "category_id": "C1", "unit": "шт"}"#,
        )
        .unwrap()
        .root(),
        Lang::En,
        &mut out,
    );
    assert!(
        out.iter()
            .any(|i| i.code == "schema.type" && i.pointer == "/0/name"),
        "{out:?}"
    );
}

fn problems(t: DataType, record: &str, lang: Lang) -> Vec<Issue> {
    let s = Schemas::embedded().unwrap();
    let tape = crate::compo::tape::Tape::parse(record).unwrap();
    let mut out = Vec::new();
    s.check(t, 0, tape.root(), lang, &mut out);
    out
}

const CONTRACT: &str = r#""id": "K1", "contragent_id": "C1", "number": "1", "currency": "RUB""#;

#[test]
fn every_pattern_is_explained_in_both_languages_with_examples_that_match_it() {
    for (name, text) in EMBEDDED {
        let schema: Value = serde_json::from_str(text).unwrap();
        let mut found = HashMap::new();
        collect_patterns(&schema, "", &mut found);
        // Counted apart from the walk under test: no pattern of the schema is missed.
        assert_eq!(found.len(), text.matches("\"pattern\":").count(), "{name}");
        for (at, t) in found {
            let p = schema
                .pointer(&at)
                .and_then(Value::as_str)
                .unwrap()
                .to_string();
            let what = format!("{name}: pattern {p}");
            assert!(
                t.en.as_deref().is_some_and(|d| !d.is_empty()),
                "{what}: description"
            );
            let id = pattern_message_id(at.trim_end_matches("/pattern"));
            assert!(
                t.ru.as_deref().is_some_and(|d| !d.is_empty()),
                "{what}: no {id} in ru.ftl"
            );
            // The catalogue's English is the schema's description, which editors show.
            assert_eq!(
                messages::lookup(Lang::En, &id),
                t.en,
                "{what}: {id} in en.ftl"
            );
            assert!(!t.examples.is_empty(), "{what}: examples");
            let re = regex::Regex::new(&p).unwrap();
            for ex in &t.examples {
                assert!(re.is_match(ex), "{what}: example {ex} does not match");
            }
        }
    }
}

#[test]
fn a_pattern_is_explained_by_its_description_and_example_never_by_the_regex() {
    let record = format!(r#"{{{CONTRACT}, "date": "2026-01-15T00:00:00"}}"#);
    let en = problems(DataType::Contracts, &record, Lang::En);
    assert_eq!(en.len(), 1, "{en:?}");
    assert_eq!(en[0].code, "schema.pattern");
    assert_eq!(
        en[0].message,
        "date is \"2026-01-15T00:00:00\", which does not fit its format: a date written \
         YYYY-MM-DD; for example 2026-11-20"
    );
    let ru = problems(DataType::Contracts, &record, Lang::Ru);
    assert_eq!(
        ru[0].message,
        "date = «2026-01-15T00:00:00» — не подходит по формату: дата в виде ГГГГ-ММ-ДД; \
         например, 2026-11-20"
    );
    // The same pattern, a different field: its own description.
    let c = r#"{"id": "C1", "name": "X", "kind": "legal", "inn": "7707083893",
        "bank_accounts": [{"bik": "044525225", "account": "1", "corr_account": "2"}]}"#;
    let i = problems(DataType::Contragents, c, Lang::En);
    let corr = i
        .iter()
        .find(|i| i.pointer.ends_with("corr_account"))
        .unwrap();
    assert!(
        corr.message.contains("correspondent account"),
        "{}",
        corr.message
    );
    for i in en.iter().chain(&ru).chain(&i) {
        assert!(
            !i.message.contains("^[") && !i.message.contains("{4}"),
            "{}",
            i.message
        );
    }
}

#[test]
fn an_enum_lists_every_allowed_value() {
    let order = r#"{"id": "O1", "date": "2026-11-20", "status": "done", "contragent_id": "C1",
        "currency": "RUB", "total": 1, "items": [{"product_id": "P", "quantity": 1, "price": 1,
        "amount": 1}]}"#;
    let i = problems(DataType::Orders, order, Lang::En);
    assert_eq!(i.len(), 1, "{i:?}");
    assert_eq!(
        i[0].message,
        "status is \"done\", which is not an allowed value; use one of: \"new\", \
         \"accepted\", \"processing\", \"shipped\", \"completed\", \"canceled\""
    );
}

#[test]
fn one_wrong_value_gives_one_error() {
    // An empty required id breaks minLength and pattern: one error, the plainer one.
    let record = r#"{"id": "", "name": "Чай", "category_id": "C1", "unit": "шт"}"#;
    let i = problems(DataType::Products, record, Lang::En);
    assert_eq!(i.len(), 1, "{i:?}");
    assert_eq!(
        (i[0].code.as_str(), i[0].pointer.as_str()),
        ("schema.minLength", "/0/id")
    );
    assert_eq!(i[0].message, "id is empty; fill it in");
    assert_eq!(
        problems(DataType::Products, record, Lang::Ru)[0].message,
        "id пусто; заполните поле"
    );
    // Two missing fields are two errors.
    let i = problems(
        DataType::Products,
        r#"{"id": "P1", "unit": "шт"}"#,
        Lang::En,
    );
    assert_eq!(i.len(), 2, "{i:?}");
    assert!(i
        .iter()
        .any(|i| i.message == "required field \"name\" is missing; add it"));
}

#[test]
fn types_are_named_and_control_characters_escaped() {
    let record = format!(r#"{{{CONTRACT}, "date": "2026-11-20", "credit_limit": "899.90"}}"#);
    let i = problems(DataType::Contracts, &record, Lang::En);
    assert_eq!(
        i[0].message,
        "credit_limit must be a number, but it is a string: \"899.90\"; write it as a number"
    );
    let ru = problems(DataType::Contracts, &record, Lang::Ru);
    assert_eq!(
        ru[0].message,
        "credit_limit должно быть числом, а это строка: \"899.90\"; запишите значение \
         числом"
    );
    let record = r#"{"id": "K\u0001", "contragent_id": "C1", "number": "1",
        "currency": "RUB", "date": "2026-11-20"}"#;
    let i = problems(DataType::Contracts, record, Lang::En);
    assert_eq!(i.len(), 1, "{i:?}");
    assert!(i[0].message.contains("\"K\\u0001\""), "{}", i[0].message);
    assert!(!i[0].message.contains('\u{1}'));
}

#[test]
fn a_value_of_several_allowed_types_gets_one_type_error_naming_them_all() {
    // products' properties[].value is text, number or yes/no (an `anyOf` of single types, as
    // ajv's strict mode wants, rather than a union `type`): the message stays a type error.
    let p = r#"{"id": "P1", "name": "X", "category_id": "C1", "unit": "шт",
        "properties": [{"name": "Цвет", "value": {"x": 1}}]}"#;
    let en = problems(DataType::Products, p, Lang::En);
    assert_eq!(en.len(), 1, "{en:?}");
    assert_eq!(en[0].code, "schema.type");
    assert_eq!(en[0].pointer, "/0/properties/0/value");
    assert!(
        en[0].message.starts_with("properties[0].value must be"),
        "{}",
        en[0].message
    );
    for t in ["string", "number", "boolean"] {
        let name = crate::compo::messages::msg!(Lang::En, "schema-type-name", type = t);
        assert!(en[0].message.contains(&name), "{t}: {}", en[0].message);
    }
    let ru = problems(DataType::Products, p, Lang::Ru);
    assert_eq!(ru.len(), 1, "{ru:?}");
    assert_eq!(ru[0].code, "schema.type");
}
