//! The validator's errors as catalogue messages for the person who fixes the export: a
//! pattern explained by its schema's annotations (never by the regular expression), an enum
//! with its values, a type error with what was expected and what was found.

use super::PatternText;
use crate::compo::messages::{msg, Lang};
use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::ValidationError;
use serde_json::Value;
use std::collections::HashMap;

/// The types a value may have when the error is only about its type: a `type` keyword, or an
/// `anyOf` of alternatives that each failed on their `type` alone (how a value of several types
/// is written for ajv's strict mode, which refuses union `type`s).
fn alternative_types(e: &ValidationError<'_>) -> Option<Vec<String>> {
    match e.kind() {
        ValidationErrorKind::Type { kind } => Some(match kind {
            TypeKind::Single(t) => vec![t.as_str().to_string()],
            TypeKind::Multiple(set) => set.iter().map(|t| t.as_str().to_string()).collect(),
        }),
        ValidationErrorKind::AnyOf { context } => {
            let mut out = Vec::new();
            for branch in context {
                let [only] = branch.as_slice() else {
                    return None;
                };
                match only.kind() {
                    ValidationErrorKind::Type { .. } => out.extend(alternative_types(only)?),
                    _ => return None,
                }
            }
            (!out.is_empty()).then_some(out)
        }
        _ => None,
    }
}

/// The keyword an error is reported under (the `schema.*` code): an `anyOf` of types is a
/// `type` error, as a union `type` was.
pub(super) fn keyword<'a>(e: &'a ValidationError<'_>) -> &'a str {
    match e.kind() {
        ValidationErrorKind::AnyOf { .. } if alternative_types(e).is_some() => "type",
        k => k.keyword(),
    }
}

/// The catalogue message for one validator error.
pub(super) fn explain(
    e: &ValidationError<'_>,
    patterns: &HashMap<String, PatternText>,
    lang: Lang,
) -> String {
    let field = field_name(e.instance_path(), lang);
    let instance: &Value = e.instance();
    let value = shown(instance);
    match e.kind() {
        ValidationErrorKind::Required { property } => {
            let name = property
                .as_str()
                .map_or_else(|| property.to_string(), str::to_string);
            let path = e.instance_path().as_str();
            let field = if path.is_empty() {
                name
            } else {
                format!("{}.{name}", readable_path(path))
            };
            msg!(lang, "schema-required", field = field)
        }
        ValidationErrorKind::Type { .. } | ValidationErrorKind::AnyOf { .. }
            if alternative_types(e).is_some() =>
        {
            let names: Vec<String> = alternative_types(e)
                .unwrap_or_default()
                .iter()
                .map(|t| type_name(t, lang))
                .collect();
            let expected = names
                .into_iter()
                .reduce(|a, b| msg!(lang, "schema-type-or", first = a, second = b))
                .unwrap_or_default();
            msg!(
                lang,
                "schema-type",
                field = field,
                expected = expected,
                found = msg!(lang, "schema-type-found", type = json_type(instance)),
                value = value
            )
        }
        ValidationErrorKind::Enum { options } => {
            let allowed: Vec<String> = options
                .as_array()
                .map(|a| a.iter().map(shown).collect())
                .unwrap_or_default();
            msg!(
                lang,
                "schema-enum",
                field = field,
                value = value,
                allowed = allowed.join(", ")
            )
        }
        ValidationErrorKind::Constant { expected_value } => msg!(
            lang,
            "schema-const",
            field = field,
            value = value,
            expected = shown(expected_value)
        ),
        ValidationErrorKind::Pattern { .. } => {
            // Where the keyword is in the schema, `$ref`s resolved: `/$defs/date/pattern`.
            let text = patterns.get(e.schema_path().as_str());
            let description = text.and_then(|t| match lang {
                Lang::En => t.en.as_deref(),
                Lang::Ru => t.ru.as_deref().or(t.en.as_deref()),
            });
            let value = instance.as_str().map_or(value.clone(), str::to_string);
            match (description, text) {
                (Some(d), Some(t)) if !t.examples.is_empty() => msg!(
                    lang,
                    "schema-pattern",
                    field = field,
                    value = value,
                    description = as_clause(d),
                    examples = t.examples.join(", ")
                ),
                _ => msg!(
                    lang,
                    "schema-pattern-undescribed",
                    field = field,
                    value = value
                ),
            }
        }
        ValidationErrorKind::MinLength { limit } => match instance.as_str() {
            Some("") => msg!(lang, "schema-minLength-empty", field = field),
            s => msg!(
                lang,
                "schema-minLength",
                field = field,
                value = s.unwrap_or_default(),
                limit = *limit
            ),
        },
        ValidationErrorKind::MaxLength { limit } => msg!(
            lang,
            "schema-maxLength",
            field = field,
            value = shorten(instance.as_str().unwrap_or_default()),
            limit = *limit
        ),
        ValidationErrorKind::Minimum { limit } => msg!(
            lang,
            "schema-minimum",
            field = field,
            value = value,
            limit = limit.to_string()
        ),
        ValidationErrorKind::Maximum { limit } => msg!(
            lang,
            "schema-maximum",
            field = field,
            value = value,
            limit = limit.to_string()
        ),
        ValidationErrorKind::ExclusiveMinimum { limit } => msg!(
            lang,
            "schema-exclusiveMinimum",
            field = field,
            value = value,
            limit = limit.to_string()
        ),
        ValidationErrorKind::ExclusiveMaximum { limit } => msg!(
            lang,
            "schema-exclusiveMaximum",
            field = field,
            value = value,
            limit = limit.to_string()
        ),
        ValidationErrorKind::MinItems { limit } => msg!(
            lang,
            "schema-minItems",
            field = field,
            count = instance.as_array().map_or(0, Vec::len),
            limit = *limit
        ),
        ValidationErrorKind::MaxItems { limit } => msg!(
            lang,
            "schema-maxItems",
            field = field,
            count = instance.as_array().map_or(0, Vec::len),
            limit = *limit
        ),
        ValidationErrorKind::UniqueItems => msg!(lang, "schema-uniqueItems", field = field),
        ValidationErrorKind::AdditionalProperties { unexpected }
        | ValidationErrorKind::UnevaluatedProperties { unexpected } => msg!(
            lang,
            "schema-additionalProperties",
            field = field,
            names = unexpected.join(", ")
        ),
        ValidationErrorKind::OneOfNotValid { context } => {
            // Alternatives that each require a field: name the fields.
            let names: Vec<String> = context
                .iter()
                .flatten()
                .filter_map(|e| match e.kind() {
                    ValidationErrorKind::Required { property } => {
                        property.as_str().map(str::to_string)
                    }
                    _ => None,
                })
                .collect();
            if names.is_empty() {
                msg!(lang, "schema-oneOf-none", field = field)
            } else {
                msg!(
                    lang,
                    "schema-oneOf",
                    field = field,
                    names = names.join(", ")
                )
            }
        }
        ValidationErrorKind::OneOfMultipleValid { .. } => {
            msg!(lang, "schema-oneOf-many", field = field)
        }
        _ => msg!(
            lang,
            "schema-other",
            field = field,
            detail = e.to_string(),
            keyword = e.kind().keyword()
        ),
    }
}

/// The value as JSON, cut when long: what a message shows of what was found.
fn shown(v: &Value) -> String {
    shorten(&v.to_string())
}

fn shorten(s: &str) -> String {
    const MAX: usize = 80;
    match s.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_string(),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_name(t: &str, lang: Lang) -> String {
    msg!(lang, "schema-type-name", type = t)
}

/// A description ("A date written YYYY-MM-DD.") as the middle of a sentence: no final period,
/// and a capital only where the word keeps it ("ISO 4217", "БИК").
fn as_clause(d: &str) -> String {
    let d = d.trim().trim_end_matches('.');
    let first_word = d.split(' ').next().unwrap_or_default();
    if first_word
        .chars()
        .filter(|c| c.is_alphabetic())
        .skip(1)
        .all(char::is_lowercase)
    {
        let mut chars = d.chars();
        chars
            .next()
            .map(|c| c.to_lowercase().chain(chars).collect())
            .unwrap_or_default()
    } else {
        d.to_string()
    }
}

/// `/items/0/price` as `items[0].price`.
fn readable_path(pointer: &str) -> String {
    let mut out = String::new();
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        if !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{token}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&token);
        }
    }
    out
}

/// How a message names the value at `path` (the record itself when the path is empty).
fn field_name(path: &jsonschema::paths::Location, lang: Lang) -> String {
    match path.as_str() {
        "" => msg!(lang, "schema-record"),
        p => readable_path(p),
    }
}
