//! The keyword that sends records needing normalisation off the fast path.
//!
//! The schema's quick pass (see `schema::Schemas::check`) settles almost every record. Most of
//! what 1C writes instead of the canonical form already fails the schema (a date-time in a
//! date field, `null`, `""` in an id), but some of it is valid JSON Schema-wise: 1C's empty
//! date matches the date pattern, its empty reference matches the id pattern, `""` is a valid
//! phone, and the guards (blank required text, a VAT fraction, spaces around an id) are not
//! schema rules at all. The quick pass's copy of each schema gets the keyword
//! `x-compo-canonical` on those fields, which refuses exactly these values, so that a record
//! either passes quickly and needs nothing, or is looked at by the normaliser. The standard
//! validator, which writes the messages, never sees the keyword.

use super::{is_empty_date, EMPTY_GUID};
use crate::compo::tape::{TapeJson, TapeNode};
use jsonschema::json::Node;
use jsonschema::{Keyword, ValidationError};
use serde_json::{Map, Value};

pub const KEYWORD: &str = "x-compo-canonical";

/// What a field must not hold to pass the quick pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// Not 1C's empty date.
    Date,
    /// Not 1C's empty reference, no spaces around.
    Id,
    /// Not empty, not 1C's empty reference.
    Formatted,
    /// Not between 0 and 1 exclusive.
    Vat,
    /// Not blank.
    Text,
}

impl Rule {
    fn from_name(name: &str) -> Option<Rule> {
        Some(match name {
            "date" => Rule::Date,
            "id" => Rule::Id,
            "formatted" => Rule::Formatted,
            "vat" => Rule::Vat,
            "text" => Rule::Text,
            _ => return None,
        })
    }

    fn is_canonical(self, v: TapeNode<'_>) -> bool {
        if let Some(s) = v.as_str() {
            return match self {
                Rule::Date => !is_empty_date(s),
                Rule::Id => s != EMPTY_GUID && s.trim() == s,
                Rule::Formatted => !s.is_empty() && s != EMPTY_GUID,
                Rule::Text => !s.trim().is_empty(),
                Rule::Vat => true,
            };
        }
        match (self, v.as_number().and_then(|n| n.as_f64())) {
            (Rule::Vat, Some(x)) => !(x > 0.0 && x < 1.0),
            _ => true,
        }
    }
}

/// The keyword's validator.
pub struct Canonical(Option<Rule>);

impl Canonical {
    pub fn keyword<'a>(
        _: &'a Map<String, Value>,
        value: &'a Value,
        _: jsonschema::paths::Location,
    ) -> Result<Box<dyn for<'i> Keyword<'i, TapeJson>>, ValidationError<'a>> {
        Ok(Box::new(Canonical(
            value.as_str().and_then(Rule::from_name),
        )))
    }
}

impl<'i> Keyword<'i, TapeJson> for Canonical {
    fn validate(&self, instance: TapeNode<'i>) -> Result<(), ValidationError<'i>> {
        if self.is_valid(instance) {
            Ok(())
        } else {
            // Never shown: the record goes to the normaliser and the standard validator.
            Err(ValidationError::custom("not in the canonical form"))
        }
    }

    fn is_valid(&self, instance: TapeNode<'i>) -> bool {
        self.0.map_or(true, |r| r.is_canonical(instance))
    }
}

/// The quick pass's copy of a record schema (as `schema::record_schema` makes it: the file
/// schema with its root pointed at `items`), with the keyword on the fields that need it.
pub fn gated(record_schema: &Value) -> Value {
    let mut s = record_schema.clone();
    let Some(defs) = s.get_mut("$defs").and_then(Value::as_object_mut) else {
        return s;
    };
    for (def, rule) in [
        ("id", "id"),
        ("date", "date"),
        ("datetime", "date"),
        ("vat", "vat"),
        ("currency", "formatted"),
        ("country", "formatted"),
        ("email", "formatted"),
        ("fileName", "formatted"),
    ] {
        if let Some(d) = defs.get_mut(def).and_then(Value::as_object_mut) {
            d.insert(KEYWORD.into(), rule.into());
        }
    }
    if let Some(record) = defs.get_mut("record").and_then(Value::as_object_mut) {
        mark_inline(record, 0);
    }
    s
}

/// Puts the keyword on plain-text properties written inline (not through `$defs`): required
/// text, and phones.
fn mark_inline(object: &mut Map<String, Value>, depth: u8) {
    let required: Vec<String> = object
        .get("required")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let Some(props) = object.get_mut("properties").and_then(Value::as_object_mut) else {
        return;
    };
    for (name, prop) in props.iter_mut() {
        let Some(prop) = prop.as_object_mut() else {
            continue;
        };
        let kind = super::fields::kind_of(name, prop);
        match kind {
            super::fields::Kind::Formatted if !prop.contains_key("$ref") => {
                prop.insert(KEYWORD.into(), "formatted".into());
            }
            super::fields::Kind::Text if required.contains(name) => {
                prop.insert(KEYWORD.into(), "text".into());
            }
            _ => {}
        }
        if depth < 6 {
            if prop.contains_key("properties") {
                mark_inline(prop, depth + 1);
            }
            if let Some(items) = prop.get_mut("items").and_then(Value::as_object_mut) {
                if items.contains_key("properties") {
                    mark_inline(items, depth + 1);
                }
            }
        }
    }
}
