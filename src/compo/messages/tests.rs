//! The catalogues against each other and against the code that uses them.

use super::*;
use crate::compo::report::codes;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Message id -> the variables its text uses, read from a `.ftl` source.
fn messages(source: &str) -> BTreeMap<String, BTreeSet<String>> {
    let id = regex::Regex::new(r"^([a-zA-Z][a-zA-Z0-9_-]*)\s*=").unwrap();
    let var = regex::Regex::new(r"\$([a-zA-Z][a-zA-Z0-9_-]*)").unwrap();
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in source.lines() {
        if let Some(c) = id.captures(line) {
            let name = c[1].to_string();
            assert!(
                out.insert(name.clone(), BTreeSet::new()).is_none(),
                "{name} is defined twice"
            );
            current = Some(name);
        } else if line.starts_with('#') || !line.starts_with([' ', '\t', '}']) {
            if !line.trim().is_empty() {
                current = None;
            }
            continue;
        }
        if let Some(name) = &current {
            let vars = out.get_mut(name).unwrap();
            vars.extend(var.captures_iter(line).map(|c| c[1].to_string()));
        }
    }
    out
}

fn catalogue(lang: Lang) -> BTreeMap<String, BTreeSet<String>> {
    messages(lang.source())
}

#[test]
fn both_catalogues_parse() {
    for lang in Lang::ALL {
        if let Err((_, errors)) = FluentResource::try_new(lang.source().to_string()) {
            panic!("{lang}.ftl: {errors:?}");
        }
        build(lang);
        assert!(!catalogue(lang).is_empty());
    }
}

#[test]
fn every_code_has_a_message_in_both_languages() {
    for lang in Lang::ALL {
        let ids = catalogue(lang);
        for (code, _) in codes::ALL {
            let id = code.replace('.', "-");
            let prefix = format!("{}-", id.trim_end_matches('-'));
            assert!(
                ids.keys().any(|k| *k == id || k.starts_with(&prefix)),
                "{lang}.ftl has no message for {code} (an id {id} or {prefix}...)"
            );
        }
    }
}

#[test]
fn both_catalogues_have_the_same_messages_and_arguments() {
    let en = catalogue(Lang::En);
    let ru = catalogue(Lang::Ru);
    let en_ids: BTreeSet<_> = en.keys().collect();
    let ru_ids: BTreeSet<_> = ru.keys().collect();
    assert_eq!(
        en_ids.difference(&ru_ids).collect::<Vec<_>>(),
        Vec::<&&String>::new(),
        "in en.ftl only"
    );
    assert_eq!(
        ru_ids.difference(&en_ids).collect::<Vec<_>>(),
        Vec::<&&String>::new(),
        "in ru.ftl only"
    );
    for (id, vars) in &en {
        assert_eq!(vars, &ru[id], "arguments of {id}: en vs ru");
    }
}

/// The `msg!(lang, "id", a = .., b = ..)` calls in `src/`, as (file, id, argument names).
fn uses() -> Vec<(String, String, BTreeSet<String>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(&root).into_iter().flatten() {
        // This file quotes the macro in strings; its own calls run in the tests anyway.
        if e.path().extension().is_none_or(|x| x != "rs") || e.path().ends_with("messages/tests.rs")
        {
            continue;
        }
        let text = std::fs::read_to_string(e.path()).unwrap();
        let mut from = 0;
        while let Some(at) = text[from..].find("msg!(") {
            let start = from + at + "msg!(".len();
            let body = call_body(&text[start..]);
            from = start + body.len();
            let parts = top_level_parts(body);
            let Some(id) = parts
                .get(1)
                .map(|p| p.trim())
                .filter(|p| p.starts_with('"'))
            else {
                continue; // the macro's own definition and docs
            };
            let id = id.trim_matches('"').to_string();
            let names = parts[2..]
                .iter()
                .filter_map(|p| p.split_once('=').map(|(n, _)| n.trim().to_string()))
                .filter(|n| !n.is_empty())
                .collect();
            out.push((e.path().display().to_string(), id, names));
        }
    }
    out
}

/// The text up to the parenthesis that closes the call (strings and chars skipped).
fn call_body(s: &str) -> &str {
    let b = s.as_bytes();
    let (mut depth, mut i) = (1, 0);
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'\'' if i + 2 < b.len() && (b[i + 2] == b'\'' || b[i + 1] == b'\\') => {
                i += if b[i + 1] == b'\\' { 3 } else { 2 };
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return &s[..i];
                }
            }
            _ => {}
        }
        i += 1;
    }
    s
}

/// `s` cut at its commas outside brackets and strings.
fn top_level_parts(s: &str) -> Vec<&str> {
    let b = s.as_bytes();
    let (mut depth, mut i, mut last) = (0, 0, 0);
    let mut out = Vec::new();
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b',' if depth == 0 => {
                out.push(&s[last..i]);
                last = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if !s[last..].trim().is_empty() {
        out.push(&s[last..]);
    }
    out
}

#[test]
fn every_message_the_code_formats_exists_with_the_arguments_it_is_given() {
    let uses = uses();
    assert!(uses.len() > 20, "only {} uses of msg! found", uses.len());
    for lang in Lang::ALL {
        let ids = catalogue(lang);
        for (file, id, names) in &uses {
            let Some(vars) = ids.get(id) else {
                panic!("{file}: message {id} is not in {lang}.ftl");
            };
            assert_eq!(names, vars, "{file}: arguments of {id} ({lang}.ftl)");
        }
    }
}

#[test]
fn a_missing_message_fails_loudly_in_tests() {
    let r = std::panic::catch_unwind(|| format(Lang::En, "no-such-message", None));
    assert!(r.is_err());
    assert_eq!(
        fallback("x-y", Some(&FluentArgs::from_iter([("a", "b")]))),
        "x-y a=String(\"b\")"
    );
}

#[test]
fn languages_from_names_and_the_locale() {
    assert_eq!(Lang::parse("ru"), Some(Lang::Ru));
    assert_eq!(Lang::parse("RU"), Some(Lang::Ru));
    assert_eq!(Lang::parse("ru_RU.UTF-8"), Some(Lang::Ru));
    assert_eq!(Lang::parse("en-GB"), Some(Lang::En));
    assert_eq!(Lang::parse("de_DE"), None);
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    };
    assert_eq!(Lang::from_locale_vars(env(&[])), Lang::En);
    assert_eq!(
        Lang::from_locale_vars(env(&[("LANG", "ru_RU.UTF-8")])),
        Lang::Ru
    );
    // LC_ALL wins over LANG; an empty one does not count.
    assert_eq!(
        Lang::from_locale_vars(env(&[("LC_ALL", "C.UTF-8"), ("LANG", "ru_RU.UTF-8")])),
        Lang::En
    );
    assert_eq!(
        Lang::from_locale_vars(env(&[
            ("LC_ALL", ""),
            ("LC_MESSAGES", "ru_RU"),
            ("LANG", "en_US")
        ])),
        Lang::Ru
    );
}

#[test]
fn russian_plurals_follow_the_number() {
    let text = |n: u64| msg!(Lang::Ru, "report-truncated", count = n);
    assert!(text(1).contains("1 ошибка"), "{}", text(1));
    assert!(text(3).contains("3 ошибки"), "{}", text(3));
    assert!(text(5).contains("5 ошибок"), "{}", text(5));
    assert!(text(21).contains("21 ошибка"), "{}", text(21));
    let en = msg!(Lang::En, "report-truncated", count = 1u64);
    assert!(en.contains("1 more error "), "{en}");
}

#[test]
fn control_characters_in_values_are_escaped() {
    assert_eq!(escape_controls("a\u{1}b\nc"), "a\\u0001b\\u000ac");
    assert!(matches!(escape_controls("Чай"), Cow::Borrowed(_)));
    let m = msg!(Lang::En, "file-empty-attached", file = "a\u{7}.json");
    assert!(m.contains("a\\u0007.json") && !m.contains('\u{7}'), "{m}");
}
