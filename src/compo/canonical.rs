//! The content hash of a record's canonical form: what decides whether a record changed.
//!
//! Two spellings of the same record hash alike: member order, whitespace, number spelling
//! (`1.50`, `1.5`, `15e-1`; `2`, `2.0`) and a member that is `null` rather than absent (spec 4: a
//! record replaces the whole record of its key, so an absent member and a `null` one both mean
//! "no value"). Anything else that differs (a string's text, an array's order) is a change.
//!
//! An object's hash is order-free without sorting its members: each member hashes on its own
//! and the member hashes are added, which costs no allocation per record. The same function
//! runs on the validator's tape and on a `serde_json::Value`, and a test keeps the two equal.

use super::tape::{Item, TapeNode};
use serde_json::{Number, Value};
use xxhash_rust::xxh3::{xxh3_128, xxh3_128_with_seed};

/// A record's content hash.
pub type RecordHash = u128;

// Tags keep values of different kinds from hashing alike (`"1"` and `1`, `[]` and `{}`).
const NULL: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
const INT: u8 = 3;
const FLOAT: u8 = 4;
const STRING: u64 = 5;
const ARRAY: u8 = 6;
const OBJECT: u8 = 7;
const KEY: u64 = 8;

fn tagged(tag: u8, bytes: &[u8]) -> u128 {
    let mut buf = [0u8; 40];
    buf[0] = tag;
    buf[1..1 + bytes.len()].copy_from_slice(bytes);
    xxh3_128(&buf[..1 + bytes.len()])
}

fn pair(a: u128, b: u128) -> u128 {
    let mut buf = [0u8; 32];
    buf[..16].copy_from_slice(&a.to_le_bytes());
    buf[16..].copy_from_slice(&b.to_le_bytes());
    xxh3_128(&buf)
}

/// A number by its value: integers (however written) exactly, other numbers by their double.
fn number(n: &Number) -> u128 {
    if let Some(i) = n.as_i64() {
        return tagged(INT, &(i as i128).to_le_bytes());
    }
    if let Some(u) = n.as_u64() {
        return tagged(INT, &(u as i128).to_le_bytes());
    }
    let f = n.as_f64().unwrap_or(0.0);
    if f.fract() == 0.0 && f.abs() < 9.0e18 {
        return tagged(INT, &(f as i128).to_le_bytes());
    }
    tagged(FLOAT, &f.to_bits().to_le_bytes())
}

fn string(s: &str) -> u128 {
    xxh3_128_with_seed(s.as_bytes(), STRING)
}

fn array(elements: impl Iterator<Item = u128>) -> u128 {
    let mut h = tagged(ARRAY, &[]);
    let mut n = 0u64;
    for e in elements {
        h = pair(h, e);
        n += 1;
    }
    pair(h, tagged(ARRAY, &n.to_le_bytes()))
}

/// Members as (name, value hash); `None` values (nulls) are left out.
fn object<'k>(members: impl Iterator<Item = (&'k str, Option<u128>)>) -> u128 {
    let mut sum = 0u128;
    let mut n = 0u64;
    for (k, v) in members {
        if let Some(v) = v {
            sum = sum.wrapping_add(pair(xxh3_128_with_seed(k.as_bytes(), KEY), v));
            n += 1;
        }
    }
    let mut buf = [0u8; 24];
    buf[..16].copy_from_slice(&sum.to_le_bytes());
    buf[16..].copy_from_slice(&n.to_le_bytes());
    tagged(OBJECT, &buf)
}

/// The hash of a value on the validator's tape.
pub fn tape_hash(node: TapeNode<'_>) -> RecordHash {
    tape_value(node).unwrap_or_else(|| tagged(NULL, &[]))
}

fn tape_value(node: TapeNode<'_>) -> Option<u128> {
    Some(match node.item() {
        Item::Null => return None,
        Item::Bool(false) => tagged(FALSE, &[]),
        Item::Bool(true) => tagged(TRUE, &[]),
        Item::Num(n) => number(n),
        Item::Str(s) | Item::Key(s) => string(s),
        Item::Arr { .. } => array(
            node.array_elements()
                .map(|e| tape_value(e).unwrap_or_else(|| tagged(NULL, &[]))),
        ),
        Item::Obj { .. } => object(node.object_members().map(|(k, v)| (k, tape_value(v)))),
    })
}

/// The hash of a parsed value (the same as [`tape_hash`] of the same text).
pub fn value_hash(v: &Value) -> RecordHash {
    value(v).unwrap_or_else(|| tagged(NULL, &[]))
}

fn value(v: &Value) -> Option<u128> {
    Some(match v {
        Value::Null => return None,
        Value::Bool(false) => tagged(FALSE, &[]),
        Value::Bool(true) => tagged(TRUE, &[]),
        Value::Number(n) => number(n),
        Value::String(s) => string(s),
        Value::Array(a) => array(
            a.iter()
                .map(|e| value(e).unwrap_or_else(|| tagged(NULL, &[]))),
        ),
        Value::Object(m) => object(m.iter().map(|(k, v)| (k.as_str(), value(v)))),
    })
}

/// The hash of a record's JSON text; `None` when it is not strict JSON.
pub fn text_hash(text: &str) -> Option<RecordHash> {
    super::tape::Tape::parse(text).map(|t| tape_hash(t.root()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> u128 {
        let tape = text_hash(s).expect("valid JSON");
        let v: Value = serde_json::from_str(s).unwrap();
        assert_eq!(tape, value_hash(&v), "tape and value disagree on {s}");
        tape
    }

    #[test]
    fn spelling_does_not_count() {
        let a = h(r#"{"id":"P-1","price":1.5,"qty":2,"tags":["a","b"],"vat":null}"#);
        for same in [
            r#"{"qty":2.0,"id":"P-1","tags":["a","b"],"price":1.50}"#,
            "{ \"id\" : \"P-1\",\n \"price\": 15e-1, \"qty\": 2, \"tags\": [ \"a\", \"b\" ] }",
            r#"{"id":"P-1","price":1.5000,"qty":2,"tags":["a","b"]}"#,
            r#"{"id":"P\u002d1","price":1.5,"qty":2,"tags":["a","b"]}"#,
        ] {
            assert_eq!(h(same), a, "{same}");
        }
    }

    #[test]
    fn content_counts() {
        let a = h(r#"{"id":"P-1","price":1.5,"tags":["a","b"]}"#);
        for other in [
            r#"{"id":"P-1","price":1.51,"tags":["a","b"]}"#,
            r#"{"id":"P-1","price":"1.5","tags":["a","b"]}"#,
            r#"{"id":"P-1","price":1.5,"tags":["b","a"]}"#,
            r#"{"id":"P-1","price":1.5,"tags":["a","b",null]}"#,
            r#"{"id":"P-1","price":1.5,"tags":["a","b"],"x":false}"#,
            r#"{"id":"P-2","price":1.5,"tags":["a","b"]}"#,
            r#"{"id":"P-1","tags":["a","b"],"price":{"v":1.5}}"#,
            r#"{"id":"P-1","prices":1.5,"tags":["a","b"]}"#,
        ] {
            assert_ne!(h(other), a, "{other}");
        }
        // Swapping values between members is a change, though the multiset of values is not.
        assert_ne!(h(r#"{"a":"x","b":"y"}"#), h(r#"{"a":"y","b":"x"}"#));
        assert_ne!(h("[]"), h("{}"));
        assert_ne!(h(r#"{"a":[]}"#), h(r#"{"a":{}}"#));
        assert_ne!(h("9007199254740993"), h("9007199254740992"));
    }
}
