//! Strict RFC 8259 parsing of one record: serde_json already refuses comments, trailing commas
//! and NaN; this adds the refusal of duplicate keys, which serde_json silently resolves by
//! keeping the last one, and says where the duplicate is.

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::cell::RefCell;
use std::fmt;

/// Why a record could not be parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum ParseProblem {
    /// Not valid JSON; `line`/`column` are relative to the record's first byte.
    Syntax {
        message: String,
        line: usize,
        column: usize,
    },
    /// A key repeated in one object; `pointer` is relative to the record.
    DuplicateKey { pointer: String, key: String },
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
                Err(ParseProblem::Syntax {
                    message: syntax_message(&e),
                    line: e.line(),
                    column: e.column(),
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
}
