//! Strict RFC 8259 parsing of one record: serde_json already refuses comments, trailing commas
//! and NaN; this adds the refusal of duplicate keys, which serde_json silently resolves by
//! keeping the last one, and says where the duplicate is.

use super::messages::{msg, Lang};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::cell::RefCell;
use std::fmt;

/// Why a record could not be parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum ParseProblem {
    /// Not valid JSON; `line`/`column` (in characters, from 1) are relative to the record's
    /// first character.
    Syntax {
        /// serde_json's description, for causes [`Cause`] does not name.
        message: String,
        line: usize,
        column: usize,
        cause: Cause,
    },
    /// A key repeated in one object; `pointer` is relative to the record.
    DuplicateKey { pointer: String, key: String },
}

/// What most likely made a record invalid JSON, from the error and the bytes around it: what
/// the message tells the person who wrote the exporter.
#[derive(Debug, Clone, PartialEq)]
pub enum Cause {
    /// `"ООО "Ромашка""`: a double quote inside a string ends it early.
    UnescapedQuote,
    /// A line break written as is inside a string.
    LineBreakInString,
    /// Another control character inside a string (`\u0009` for a tab).
    ControlInString(char),
    /// `[1, 2,]` or `{"a": 1,}`.
    TrailingComma,
    /// `//` or `/*`.
    Comment,
    /// `NaN`, `Infinity`, `-Infinity`.
    NotANumber(String),
    /// `'text'`.
    SingleQuote,
    /// `"C:\Temp"` written with single backslashes.
    BadEscape,
    /// `899,90`.
    DecimalComma,
    /// `{name: "x"}`.
    UnquotedKey,
    /// The record stops before its end.
    Truncated,
    /// `{"a": 1 "b": 2}`.
    MissingComma,
    /// `{"a" 1}`.
    MissingColon,
    /// `{"a": }` or `{"a": Да}`.
    MissingValue,
    /// `tru`, `nul`.
    BadLiteral,
    /// `007`, `+5`, `1.`.
    BadNumber,
    /// Something else: serde_json's message says what.
    Other,
}

/// The message of a record that is not JSON: where, and the likely cause with its fix.
pub fn explain_syntax(lang: Lang, line: u64, column: u64, cause: Cause, problem: &str) -> String {
    match cause {
        Cause::UnescapedQuote => msg!(lang, "json-syntax-quote", line = line, column = column),
        Cause::LineBreakInString => {
            msg!(lang, "json-syntax-line-break", line = line, column = column)
        }
        Cause::ControlInString(c) => msg!(
            lang,
            "json-syntax-control",
            line = line,
            column = column,
            escape = format!("\\u{:04x}", c as u32)
        ),
        Cause::TrailingComma => {
            msg!(
                lang,
                "json-syntax-trailing-comma",
                line = line,
                column = column
            )
        }
        Cause::Comment => msg!(lang, "json-syntax-comment", line = line, column = column),
        Cause::NotANumber(word) => msg!(
            lang,
            "json-syntax-nan",
            line = line,
            column = column,
            found = word
        ),
        Cause::SingleQuote => {
            msg!(
                lang,
                "json-syntax-single-quote",
                line = line,
                column = column
            )
        }
        Cause::BadEscape => msg!(lang, "json-syntax-escape", line = line, column = column),
        Cause::DecimalComma => {
            msg!(
                lang,
                "json-syntax-decimal-comma",
                line = line,
                column = column
            )
        }
        Cause::UnquotedKey => msg!(lang, "json-syntax-key", line = line, column = column),
        Cause::Truncated => msg!(lang, "json-syntax-eof", line = line, column = column),
        Cause::MissingComma => msg!(lang, "json-syntax-comma", line = line, column = column),
        Cause::MissingColon => msg!(lang, "json-syntax-colon", line = line, column = column),
        Cause::MissingValue => msg!(lang, "json-syntax-value", line = line, column = column),
        Cause::BadLiteral => msg!(lang, "json-syntax-literal", line = line, column = column),
        Cause::BadNumber => msg!(lang, "json-syntax-number", line = line, column = column),
        Cause::Other => msg!(
            lang,
            "json-syntax",
            line = line,
            column = column,
            problem = problem
        ),
    }
}

/// Parses one JSON value, refusing duplicate object keys.
pub fn parse_record(bytes: &[u8]) -> Result<Value, ParseProblem> {
    // Parsing from `&str` spares serde_json its per-string UTF-8 check, which is slow on
    // Cyrillic; one SIMD pass over the whole record does it instead.
    let text = match simdutf8::basic::from_utf8(bytes) {
        Ok(t) => t,
        Err(_) => {
            return Err(ParseProblem::Syntax {
                message: "invalid UTF-8".into(),
                line: 1,
                column: 1,
                cause: Cause::Other,
            })
        }
    };
    let dup = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_str(text);
    let result = StrictSeed { dup: &dup }
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|_| v));
    match result {
        Ok(v) => Ok(v),
        Err(e) => {
            if let Some(Dup { pointer, key }) = dup.into_inner() {
                Err(ParseProblem::DuplicateKey { pointer, key })
            } else {
                let message = syntax_message(&e);
                let at = byte_offset(text, e.line(), e.column());
                let line_start = text[..at].rfind('\n').map_or(0, |n| n + 1);
                Err(ParseProblem::Syntax {
                    cause: cause(text, at, &message, &e),
                    line: 1 + memchr::memchr_iter(b'\n', &text.as_bytes()[..at]).count(),
                    column: text[line_start..at].chars().count() + 1,
                    message,
                })
            }
        }
    }
}

/// serde_json's message without its " at line X column Y" suffix, which we restate in file terms.
fn syntax_message(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// The byte where serde_json's 1-based line and byte column point (its column is that of the
/// last byte it read, the offending one).
fn byte_offset(text: &str, line: usize, column: usize) -> usize {
    let line_start = if line <= 1 {
        0
    } else {
        memchr::memchr_iter(b'\n', text.as_bytes())
            .nth(line - 2)
            .map_or(text.len(), |n| n + 1)
    };
    // Column 0: the line break that ends the line before.
    if column == 0 {
        return line_start.saturating_sub(1);
    }
    let mut at = (line_start + column - 1).min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Guesses the cause of a syntax error at byte `at`.
fn cause(text: &str, at: usize, message: &str, e: &serde_json::Error) -> Cause {
    let b = text.as_bytes();
    let here = text[at..].chars().next();
    let before = text[..at].trim_end_matches([' ', '\t', '\r', '\n']);
    if e.is_eof() {
        return Cause::Truncated;
    }
    if message.starts_with("control character") {
        return match here {
            Some('\n' | '\r') => Cause::LineBreakInString,
            Some(c) => Cause::ControlInString(c),
            None => Cause::Other,
        };
    }
    if message.starts_with("trailing comma") {
        return Cause::TrailingComma;
    }
    if message.starts_with("invalid escape") {
        return Cause::BadEscape;
    }
    match here {
        Some('/') if matches!(b.get(at + 1), Some(b'/' | b'*')) => return Cause::Comment,
        Some('\'') => return Cause::SingleQuote,
        _ => {}
    }
    for word in ["NaN", "Infinity", "-Infinity"] {
        // serde_json stops inside the word: look at the token around `at`.
        let start = text[..at]
            .rfind(|c: char| !(c.is_ascii_alphabetic() || c == '-'))
            .map_or(0, |n| n + 1);
        if text[start..].starts_with(word) {
            return Cause::NotANumber(word.to_string());
        }
    }
    if message.starts_with("key must be a string") {
        if before.ends_with(',') && here.is_some_and(|c| c.is_ascii_digit()) {
            return Cause::DecimalComma;
        }
        return Cause::UnquotedKey;
    }
    if message.starts_with("expected `,` or `}`") || message.starts_with("expected `,` or `]`") {
        // A string ended, and text goes on right after it: the quote was part of the text.
        if before.ends_with('"') && here.is_some_and(|c| c != '"' && !c.is_whitespace()) {
            return Cause::UnescapedQuote;
        }
        return Cause::MissingComma;
    }
    if message.starts_with("expected `:`") {
        return Cause::MissingColon;
    }
    if message.starts_with("expected value") {
        return Cause::MissingValue;
    }
    if message.starts_with("expected ident") {
        return Cause::BadLiteral;
    }
    if message.starts_with("invalid number") {
        return Cause::BadNumber;
    }
    Cause::Other
}

/// A duplicate key found; its pointer is built while the error unwinds, each enclosing object
/// or array putting its own step in front, so that the common case pays nothing for it.
struct Dup {
    pointer: String,
    key: String,
}

#[derive(Clone, Copy)]
struct StrictSeed<'a> {
    dup: &'a RefCell<Option<Dup>>,
}

impl StrictSeed<'_> {
    fn prefix(&self, step: &str) {
        if let Some(d) = self.dup.borrow_mut().as_mut() {
            d.pointer.insert_str(0, step);
        }
    }
}

impl<'de> DeserializeSeed<'de> for StrictSeed<'_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("number out of range"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        loop {
            match seq.next_element_seed(self) {
                Ok(Some(v)) => out.push(v),
                Ok(None) => break,
                Err(e) => {
                    self.prefix(&format!("/{}", out.len()));
                    return Err(e);
                }
            }
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = match map.next_value_seed(self) {
                Ok(v) => v,
                Err(e) => {
                    self.prefix(&format!("/{}", super::report::pointer_token(&key)));
                    return Err(e);
                }
            };
            match out.entry(key) {
                serde_json::map::Entry::Vacant(v) => {
                    v.insert(value);
                }
                serde_json::map::Entry::Occupied(o) => {
                    let key = o.key().clone();
                    *self.dup.borrow_mut() = Some(Dup {
                        pointer: format!("/{}", super::report::pointer_token(&key)),
                        key: key.clone(),
                    });
                    return Err(de::Error::custom(format!("duplicate key \"{key}\"")));
                }
            }
        }
        Ok(Value::Object(out))
    }
}

/// Removes insignificant white space outside strings: the record as it is published.
pub fn minify_into(record: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < record.len() {
        let b = record[i];
        if b == b'"' {
            let end = super::reader::string_end(record, i).unwrap_or(record.len());
            out.extend_from_slice(&record[i..end]);
            i = end;
        } else {
            if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                out.push(b);
            }
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_found_with_their_pointer() {
        let e = parse_record(br#"{"a":1,"b":[{"x":1,"y":2,"x":3}]}"#).unwrap_err();
        assert_eq!(
            e,
            ParseProblem::DuplicateKey {
                pointer: "/b/0/x".into(),
                key: "x".into()
            }
        );
        let top = parse_record(br#"{"id":"1","id":"2"}"#).unwrap_err();
        assert!(matches!(top, ParseProblem::DuplicateKey { pointer, .. } if pointer == "/id"));
    }

    #[test]
    fn strict_syntax() {
        for bad in [
            &br#"{"a":1,}"#[..],
            br#"{"a":NaN}"#,
            br#"{"a":1 // c
            }"#,
            br#"{"a":Infinity}"#,
            br#"{"a":"#,
        ] {
            assert!(
                matches!(parse_record(bad), Err(ParseProblem::Syntax { .. })),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let v = parse_record(br#"{"a":[1,2.5,"x",null,true],"b":{}}"#).unwrap();
        assert_eq!(v["a"][1], 2.5);
    }

    #[test]
    fn pointers_of_deep_duplicates_cross_arrays_and_escaped_keys() {
        let e = parse_record(br#"{"a/b":[{},{"c":{"d":1,"d":2}}]}"#).unwrap_err();
        assert_eq!(
            e,
            ParseProblem::DuplicateKey {
                pointer: "/a~1b/1/c/d".into(),
                key: "d".into()
            }
        );
    }

    #[test]
    fn minify_keeps_strings() {
        let mut out = Vec::new();
        minify_into(b"{ \"a b\" : [ 1 ,\n 2 ], \"c\":\"x \\\" y\" }", &mut out);
        assert_eq!(out, b"{\"a b\":[1,2],\"c\":\"x \\\" y\"}");
    }

    fn cause_of(record: &str) -> (Cause, usize, usize) {
        match parse_record(record.as_bytes()) {
            Err(ParseProblem::Syntax {
                cause,
                line,
                column,
                ..
            }) => (cause, line, column),
            other => panic!("{record}: {other:?}"),
        }
    }

    #[test]
    fn syntax_errors_are_explained_by_their_likely_cause() {
        // Hand-built JSON from 1C: a quote in a name, column counted in characters.
        assert_eq!(
            cause_of(r#"{"name": "ООО "Ромашка"", "id": "1"}"#),
            (Cause::UnescapedQuote, 1, 16)
        );
        assert_eq!(
            cause_of("{\"id\": \"1\",\n\"name\": \"Чай\nзелёный\"}"),
            (Cause::LineBreakInString, 2, 13)
        );
        assert_eq!(
            cause_of("{\"name\": \"a\tb\"}").0,
            Cause::ControlInString('\t')
        );
        assert_eq!(cause_of(r#"{"a": [1, 2,]}"#).0, Cause::TrailingComma);
        assert_eq!(cause_of(r#"{"a": 1,}"#).0, Cause::TrailingComma);
        assert_eq!(cause_of("{\"a\": 1 // the price\n}").0, Cause::Comment);
        assert_eq!(cause_of(r#"{"a": NaN}"#).0, Cause::NotANumber("NaN".into()));
        assert_eq!(
            cause_of(r#"{"a": -Infinity}"#).0,
            Cause::NotANumber("-Infinity".into())
        );
        assert_eq!(cause_of(r#"{'a': 1}"#).0, Cause::SingleQuote);
        assert_eq!(cause_of(r#"{"path": "C:\Temp"}"#).0, Cause::BadEscape);
        assert_eq!(cause_of(r#"{"price": 899,90}"#).0, Cause::DecimalComma);
        assert_eq!(cause_of(r#"{name: "x"}"#).0, Cause::UnquotedKey);
        assert_eq!(cause_of(r#"{"a": [1, 2"#).0, Cause::Truncated);
        assert_eq!(cause_of(r#"{"a": 1 "b": 2}"#).0, Cause::MissingComma);
        assert_eq!(cause_of(r#"{"a" 1}"#).0, Cause::MissingColon);
        assert_eq!(cause_of(r#"{"a": }"#).0, Cause::MissingValue);
        assert_eq!(cause_of(r#"{"a": Да}"#).0, Cause::MissingValue);
        assert_eq!(cause_of(r#"{"a": tru}"#).0, Cause::BadLiteral);
        assert_eq!(cause_of(r#"{"a": 007}"#).0, Cause::BadNumber);
        assert_eq!(cause_of(r#"{"a": "\uD800"}"#).0, Cause::Other);
    }

    #[test]
    fn each_cause_has_its_own_hint_in_both_languages() {
        let en = explain_syntax(Lang::En, 3, 16, Cause::UnescapedQuote, "");
        assert_eq!(
            en,
            "line 3, column 16: a double quote inside a text value ends it too early; write a \
             quote inside text as \\\" (for example \"ООО \\\"Ромашка\\\"\")"
        );
        let ru = explain_syntax(Lang::Ru, 2, 13, Cause::LineBreakInString, "");
        assert!(
            ru.starts_with("строка 2, позиция 13: перевод строки внутри текста"),
            "{ru}"
        );
        let tab = explain_syntax(Lang::En, 1, 5, Cause::ControlInString('\t'), "");
        assert!(tab.contains("write it as \\u0009"), "{tab}");
        let hints: std::collections::HashSet<String> = [
            Cause::TrailingComma,
            Cause::Comment,
            Cause::NotANumber("NaN".into()),
            Cause::SingleQuote,
            Cause::BadEscape,
            Cause::DecimalComma,
            Cause::UnquotedKey,
            Cause::Truncated,
            Cause::MissingComma,
            Cause::MissingColon,
            Cause::MissingValue,
            Cause::BadLiteral,
            Cause::BadNumber,
        ]
        .into_iter()
        .map(|c| explain_syntax(Lang::En, 1, 1, c, ""))
        .collect();
        assert_eq!(hints.len(), 13, "the same hint for different causes");
    }
}
