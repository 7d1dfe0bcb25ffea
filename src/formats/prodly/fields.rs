//! Typed access to the fields of one source record, collecting the problems as report issues.
//!
//! Every getter names the field by a JSON pointer into the source file (`/17/delivery/date`), so
//! that a report tells the user exactly what to fix. A value of the wrong type is
//! `convert.value`; a value the target requires but the source lacks is `convert.required`.

use crate::compo::report::{codes, pointer_token, Issue};
use serde_json::{Map, Number, Value};

/// A record of a source file and the problems found while reading it for one target.
pub(crate) struct Src<'a> {
    pub obj: &'a Map<String, Value>,
    pub index: u64,
    pub issues: Vec<Issue>,
    /// Defaults and omissions that let the record go: reported, never blocking.
    pub warnings: Vec<Issue>,
}

/// A field path inside a record: `&["delivery", "date"]`.
pub(crate) type Path<'p> = &'p [&'p str];

impl<'a> Src<'a> {
    pub(crate) fn new(obj: &'a Map<String, Value>, index: u64) -> Src<'a> {
        Src {
            obj,
            index,
            issues: Vec::new(),
            warnings: Vec::new(),
        }
    }

    pub(crate) fn pointer(&self, path: Path) -> String {
        let mut p = format!("/{}", self.index);
        for t in path {
            p.push('/');
            p.push_str(&pointer_token(t));
        }
        p
    }

    /// The record's own key, for messages.
    pub(crate) fn label(&self) -> String {
        match self.obj.get("id").or_else(|| self.obj.get("number")) {
            Some(Value::String(s)) => format!("\"{s}\""),
            Some(Value::Number(n)) => n.to_string(),
            _ => format!("#{}", self.index),
        }
    }

    pub(crate) fn ok(&self) -> bool {
        self.issues.is_empty()
    }

    /// The value at `path`, without treating null specially. Numeric tokens index arrays.
    fn raw(&self, path: Path) -> Option<&'a Value> {
        let (first, rest) = path.split_first()?;
        let mut v = self.obj.get(*first)?;
        for t in rest {
            v = match v {
                Value::Object(o) => o.get(*t)?,
                Value::Array(a) => a.get(t.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(v)
    }

    /// The value at `path`; `None` when absent or null.
    pub(crate) fn get(&self, path: Path) -> Option<&'a Value> {
        self.raw(path).filter(|v| !v.is_null())
    }

    /// Whether `path` holds an explicit `null` (COMPO's `vat: null` means "без НДС").
    pub(crate) fn is_null(&self, path: Path) -> bool {
        self.raw(path).is_some_and(Value::is_null)
    }

    pub(crate) fn wrong_type(&mut self, path: Path, expected: &str) {
        let ptr = self.pointer(path);
        let msg = format!(
            "{} of record {} must be {expected} to be converted",
            path.join("."),
            self.label()
        );
        self.issues
            .push(Issue::new(Some(self.index), ptr, codes::CONVERT_VALUE, msg));
    }

    /// Records that `target` (a Prodly field or COMPO field) cannot be filled from `path`.
    pub(crate) fn missing(&mut self, path: Path, endpoint: &str, target: &str) {
        let ptr = self.pointer(path);
        let field = path.join(".");
        let source = if field == target {
            String::new()
        } else {
            format!(", taken from {field}")
        };
        let msg = format!(
            "{endpoint} requires {target}{source}; record {} has none, so it was left out",
            self.label()
        );
        self.issues.push(Issue::new(
            Some(self.index),
            ptr,
            codes::CONVERT_REQUIRED,
            msg,
        ));
    }

    /// A warning at `path`: the record goes, with a default or without a value.
    pub(crate) fn warn(&mut self, path: Path, code: &str, message: String) {
        let ptr = self.pointer(path);
        self.warnings
            .push(Issue::new(Some(self.index), ptr, code, message));
    }

    pub(crate) fn value_problem(&mut self, path: Path, message: String) {
        self.problem(path, codes::CONVERT_VALUE, message);
    }

    pub(crate) fn problem(&mut self, path: Path, code: &str, message: String) {
        let ptr = self.pointer(path);
        self.issues
            .push(Issue::new(Some(self.index), ptr, code, message));
    }

    pub(crate) fn str(&mut self, path: Path) -> Option<&'a str> {
        match self.get(path)? {
            Value::String(s) => Some(s.as_str()),
            _ => {
                self.wrong_type(path, "a string");
                None
            }
        }
    }

    /// A string the target requires; empty strings count as missing.
    pub(crate) fn req_str(&mut self, path: Path, endpoint: &str, target: &str) -> Option<&'a str> {
        let present = self.get(path).is_some();
        match self.str(path) {
            Some(s) if !s.trim().is_empty() => Some(s),
            Some(_) => {
                self.missing(path, endpoint, target);
                None
            }
            None => {
                if !present {
                    self.missing(path, endpoint, target);
                }
                None
            }
        }
    }

    /// A string or an integer (identifiers and order numbers come both ways), as a string.
    pub(crate) fn req_code(&mut self, path: Path, endpoint: &str, target: &str) -> Option<String> {
        match self.get(path) {
            Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Some(n.to_string()),
            _ => self.req_str(path, endpoint, target).map(str::to_string),
        }
    }

    pub(crate) fn num(&mut self, path: Path) -> Option<Number> {
        match self.get(path)? {
            Value::Number(n) => Some(n.clone()),
            _ => {
                self.wrong_type(path, "a number");
                None
            }
        }
    }

    pub(crate) fn req_num(&mut self, path: Path, endpoint: &str, target: &str) -> Option<Number> {
        let present = self.get(path).is_some();
        let n = self.num(path);
        if !present {
            self.missing(path, endpoint, target);
        }
        n
    }

    pub(crate) fn bool(&mut self, path: Path) -> Option<bool> {
        match self.get(path)? {
            Value::Bool(b) => Some(*b),
            _ => {
                self.wrong_type(path, "true or false");
                None
            }
        }
    }

    pub(crate) fn req_bool(&mut self, path: Path, endpoint: &str, target: &str) -> Option<bool> {
        let present = self.get(path).is_some();
        let b = self.bool(path);
        if !present {
            self.missing(path, endpoint, target);
        }
        b
    }

    pub(crate) fn array(&mut self, path: Path) -> Option<&'a Vec<Value>> {
        match self.get(path)? {
            Value::Array(a) => Some(a),
            _ => {
                self.wrong_type(path, "an array");
                None
            }
        }
    }

    /// Strings of an array field; other elements are reported.
    pub(crate) fn str_list(&mut self, path: Path) -> Vec<String> {
        let Some(items) = self.array(path) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, v) in items.iter().enumerate() {
            match v {
                Value::String(s) => out.push(s.clone()),
                _ => {
                    let idx = i.to_string();
                    let mut p: Vec<&str> = path.to_vec();
                    p.push(&idx);
                    self.wrong_type(&p, "a string");
                }
            }
        }
        out
    }
}

/// A number as f64 for arithmetic (sums, checks).
pub(crate) fn f(n: &Number) -> f64 {
    n.as_f64().unwrap_or(f64::NAN)
}

/// A computed quantity or amount as a JSON number: integral values stay integers and the f64
/// noise of sums (0.1 + 0.2) is rounded away at 6 decimals, far below any COMPO precision.
pub(crate) fn number(x: f64) -> Value {
    let r = (x * 1e6).round() / 1e6;
    if r.fract() == 0.0 && r.abs() < 9e15 {
        Value::from(r as i64)
    } else {
        Number::from_f64(r).map_or(Value::Null, Value::Number)
    }
}

/// Digits after the decimal point as the number is written (`12.50` parses to 12.5: 1 digit).
pub(crate) fn fraction_digits(n: &Number) -> usize {
    if n.is_i64() || n.is_u64() {
        return 0;
    }
    let s = n.to_string();
    let (mantissa, exp) = match s.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i64>().unwrap_or(0)),
        None => (s.as_str(), 0),
    };
    let frac = mantissa.split_once('.').map_or(0, |(_, f)| f.len()) as i64;
    (frac - exp).max(0) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn getters_report_missing_and_wrong_types_with_pointers() {
        let v = json!({"id": "P1", "name": "", "qty": "3", "delivery": {"date": null}});
        let mut s = Src::new(v.as_object().unwrap(), 4);
        assert_eq!(s.req_str(&["name"], "x.post", "name"), None);
        assert_eq!(s.num(&["qty"]), None);
        assert_eq!(
            s.req_str(&["delivery", "date"], "x.post", "deliveryDate"),
            None
        );
        assert!(s.is_null(&["delivery", "date"]));
        let codes: Vec<(&str, &str)> = s
            .issues
            .iter()
            .map(|i| (i.pointer.as_str(), i.code.as_str()))
            .collect();
        assert_eq!(
            codes,
            vec![
                ("/4/name", codes::CONVERT_REQUIRED),
                ("/4/qty", codes::CONVERT_VALUE),
                ("/4/delivery/date", codes::CONVERT_REQUIRED)
            ]
        );
        assert!(s.issues[0].message.contains("\"P1\""));
    }

    #[test]
    fn numbers_and_digits() {
        assert_eq!(number(0.1 + 0.2), json!(0.3));
        assert_eq!(number(4.0), json!(4));
        let n: Number = serde_json::from_str("12.345").unwrap();
        assert_eq!(fraction_digits(&n), 3);
        let n: Number = serde_json::from_str("12.50").unwrap();
        assert_eq!(fraction_digits(&n), 1);
        let n: Number = serde_json::from_str("7").unwrap();
        assert_eq!(fraction_digits(&n), 0);
    }
}
