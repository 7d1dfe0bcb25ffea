//! A record's key as one string (what indexes and the journal hold), and the record that deletes
//! a key, rebuilt from that string.
//!
//! Single-field keys are the `id` itself. Composite keys (prices, remains, finances) join their
//! fields' values with U+001F, which an identifier cannot contain (no control characters); an
//! absent field is the empty string, a number its canonical spelling.

use super::model::DataType;
use serde_json::{Map, Number, Value};

const SEPARATOR: char = '\u{1f}';

/// The key of a record of `t`; `None` when a key field is neither text nor number.
pub fn key_of(t: DataType, obj: &Map<String, Value>) -> Option<String> {
    let fields = t.key_fields();
    if fields.len() == 1 {
        return obj.get(fields[0])?.as_str().map(str::to_string);
    }
    let mut key = String::new();
    for (n, f) in fields.iter().enumerate() {
        if n > 0 {
            key.push(SEPARATOR);
        }
        match obj.get(*f) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => key.push_str(s),
            Some(Value::Number(x)) => key.push_str(&canonical_number(x)),
            Some(_) => return None,
        }
    }
    Some(key)
}

/// `1`, `1.0` and `1e0` are the same quantity break.
pub fn canonical_number(n: &Number) -> String {
    match n.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
        Some(f) => format!("{f}"),
        None => n.to_string(),
    }
}

/// The delta record that removes `key` of `t`: its key fields and `"deleted": true`.
pub fn deletion(t: DataType, key: &str) -> Map<String, Value> {
    let mut m = Map::new();
    let fields = t.key_fields();
    if fields.len() == 1 {
        m.insert(fields[0].to_string(), Value::String(key.to_string()));
    } else {
        for (f, v) in fields.iter().zip(key.split(SEPARATOR)) {
            if v.is_empty() {
                continue;
            }
            let value = if NUMERIC.contains(f) {
                match serde_json::from_str::<Number>(v) {
                    Ok(n) => Value::Number(n),
                    Err(_) => Value::String(v.to_string()),
                }
            } else {
                Value::String(v.to_string())
            };
            m.insert(f.to_string(), value);
        }
    }
    m.insert("deleted".into(), Value::Bool(true));
    m
}

/// Key fields whose values are numbers (the others are identifiers, always text).
const NUMERIC: &[&str] = &["min_quantity"];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_deletion_carries_the_key_it_was_made_from() {
        for (t, rec) in [
            (DataType::Products, json!({"id": "P-1", "name": "x"})),
            (
                DataType::Prices,
                json!({"product_id": "P-1", "prices_type_id": "T", "min_quantity": 10, "price": 1}),
            ),
            (
                DataType::Prices,
                json!({"product_id": "P-1", "prices_type_id": "T", "contract_id": "C", "min_quantity": 2.5}),
            ),
            (
                DataType::Finances,
                json!({"contragent_id": "A", "currency": "RUB", "balance": 1}),
            ),
        ] {
            let key = key_of(t, rec.as_object().unwrap()).unwrap();
            let del = deletion(t, &key);
            assert_eq!(del["deleted"], json!(true));
            for f in t.key_fields() {
                assert_eq!(del.get(*f), rec.get(*f), "{f} of {rec}");
            }
            assert_eq!(key_of(t, &del).as_deref(), Some(key.as_str()));
        }
    }
}
