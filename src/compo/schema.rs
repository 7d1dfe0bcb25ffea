//! The JSON Schemas of the sixteen types: embedded in the binary (so it works from any folder),
//! overridable from a folder, and applied record by record.
//!
//! A schema describes a whole file (an array). Validators of whole arrays need the whole
//! document in memory, so each record is checked against the schema's `items` instead and the
//! record's index is put in front of every pointer.
//!
//! The validator's errors are turned into catalogue messages for the person who fixes the
//! export: a pattern is explained by its schema's `description`, `examples` and
//! `x-description-ru` (never shown as a regular expression), an enum lists its values, and a
//! value that breaks several keywords (an empty id: `minLength` and `pattern`) gets one error.

use super::messages::{msg, Lang};
use super::model::DataType;
use super::normalise::gate;
use super::pattern::FastPattern;
use super::report::{codes, pointer_token, Issue};
use super::tape::{TapeJson, TapeNode};
use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::ValidationError;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

macro_rules! embedded {
    ($($t:literal),*) => {
        /// The schemas shipped in `schemas/`, by type name.
        pub const EMBEDDED: &[(&str, &str)] = &[
            $(($t, include_str!(concat!("../../schemas/", $t, ".schema.json")))),*
        ];
    };
}
embedded!(
    "categories",
    "products",
    "customers",
    "CategoriesUsers",
    "segments",
    "managers",
    "contragents",
    "contracts",
    "prices_types",
    "prices",
    "price_groups",
    "warehouses",
    "remains",
    "finances",
    "orders",
    "acts"
);

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{origin}: not valid JSON: {source}")]
    Json {
        origin: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{origin}: not a usable JSON Schema: {message}")]
    Invalid { origin: String, message: String },
}

/// Record validators, two per type (see [`Schemas::check`]), compiled when first needed: a run
/// usually sees one or two of the sixteen types, and compiling all of them would cost more
/// than checking a small file.
pub struct Schemas {
    entries: HashMap<DataType, Entry>,
}

struct Entry {
    origin: String,
    /// The file schema turned into a record schema.
    record: Value,
    /// Answers only "valid or not", with the faster keywords of [`super::pattern`].
    quick: OnceLock<jsonschema::Validator<TapeJson>>,
    /// The standard validator, which explains.
    full: OnceLock<jsonschema::Validator<TapeJson>>,
    /// What each pattern of the schema means, for messages.
    patterns: HashMap<String, PatternText>,
}

/// A pattern explained, from the annotations beside it in the schema.
#[derive(Debug, Clone, Default)]
struct PatternText {
    /// `description`.
    en: Option<String>,
    /// `x-description-ru`.
    ru: Option<String>,
    /// `examples`.
    examples: Vec<String>,
}

impl Entry {
    fn compile_now(&self) -> Result<(), SchemaError> {
        for (quick, cell) in [(true, &self.quick), (false, &self.full)] {
            if cell.get().is_none() {
                let _ = cell.set(self.compile(quick)?);
            }
        }
        Ok(())
    }

    fn compile(&self, quick: bool) -> Result<jsonschema::Validator<TapeJson>, SchemaError> {
        // The plain `regex` engine: the schemas' patterns need no look-around, and its
        // matching is cheaper than fancy-regex's on every id of every record.
        let mut options = jsonschema::options_for::<TapeJson>()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(false)
            .with_pattern_options(jsonschema::PatternOptions::regex());
        let gated;
        let schema = if quick {
            options = options
                .with_keyword("pattern", FastPattern::keyword)
                .with_keyword(gate::KEYWORD, gate::Canonical::keyword);
            gated = gate::gated(&self.record);
            &gated
        } else {
            &self.record
        };
        options.build(schema).map_err(|e| SchemaError::Invalid {
            origin: self.origin.clone(),
            message: e.to_string(),
        })
    }

    fn validator(&self, quick: bool) -> &jsonschema::Validator<TapeJson> {
        let cell = if quick { &self.quick } else { &self.full };
        // Schemas from a folder were compiled when loaded; the embedded ones are compiled by
        // a unit test of every build, so this cannot fail in a released binary.
        cell.get_or_init(|| self.compile(quick).expect("the schema compiled before"))
    }
}

impl Schemas {
    /// The schemas a run uses: those of `dir` when the configuration names one, else the
    /// embedded ones. Shared, since every worker thread checks records against them.
    pub fn load(dir: Option<&Path>) -> Result<std::sync::Arc<Schemas>, SchemaError> {
        let s = match dir {
            Some(d) => Schemas::from_dir(d)?,
            None => Schemas::embedded()?,
        };
        Ok(std::sync::Arc::new(s))
    }

    /// The schemas built into the binary.
    pub fn embedded() -> Result<Schemas, SchemaError> {
        Schemas::build(false, |t| {
            let text = EMBEDDED
                .iter()
                .find(|(n, _)| *n == t.name())
                .map(|(_, s)| *s)
                .expect("every type has an embedded schema");
            Ok((
                format!("embedded {}.schema.json", t.name()),
                text.to_string(),
            ))
        })
    }

    /// Schemas from `dir/<type>.schema.json`; a type whose file is absent keeps the embedded one.
    /// They are compiled here, so that a bad schema is reported before any data is read.
    pub fn from_dir(dir: &Path) -> Result<Schemas, SchemaError> {
        if let Err(source) = std::fs::read_dir(dir) {
            return Err(SchemaError::Read {
                path: dir.to_path_buf(),
                source,
            });
        }
        Schemas::build(true, |t| {
            let path = dir.join(format!("{}.schema.json", t.name()));
            match std::fs::read_to_string(&path) {
                Ok(text) => Ok((path.display().to_string(), text)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let (_, text) = EMBEDDED.iter().find(|(n, _)| *n == t.name()).unwrap();
                    Ok((
                        format!("embedded {}.schema.json", t.name()),
                        text.to_string(),
                    ))
                }
                Err(source) => Err(SchemaError::Read { path, source }),
            }
        })
    }

    fn build(
        eager: bool,
        mut load: impl FnMut(DataType) -> Result<(String, String), SchemaError>,
    ) -> Result<Schemas, SchemaError> {
        let mut entries = HashMap::new();
        for t in DataType::ALL {
            let (origin, text) = load(t)?;
            let file_schema: Value =
                serde_json::from_str(&text).map_err(|source| SchemaError::Json {
                    origin: origin.clone(),
                    source,
                })?;
            let record = record_schema(&file_schema).ok_or_else(|| SchemaError::Invalid {
                origin: origin.clone(),
                message: "the root must be an object with an \"items\" schema".into(),
            })?;
            let mut patterns = HashMap::new();
            collect_patterns(&record, "", &mut patterns);
            let entry = Entry {
                origin,
                record,
                quick: OnceLock::new(),
                full: OnceLock::new(),
                patterns,
            };
            if eager {
                entry.compile_now()?;
            }
            entries.insert(t, entry);
        }
        Ok(Schemas { entries })
    }

    /// Compiles every validator now; the first schema that does not compile is the error.
    pub fn compile_all(&self) -> Result<(), SchemaError> {
        DataType::ALL
            .iter()
            .try_for_each(|t| self.entries[t].compile_now())
    }

    /// Where the schema of `t` came from (for `--schemas` diagnostics).
    pub fn origin(&self, t: DataType) -> &str {
        &self.entries[&t].origin
    }

    /// Checks one record; problems are pushed with pointers into the file.
    ///
    /// The quick validator settles the valid records; the others are validated again by the
    /// standard one, whose errors are the report (and which has the last word: a record the
    /// quick pass could not vouch for but that is valid gets no issue).
    ///
    /// A value that fails several keywords is reported once, by the keyword that says most
    /// plainly what is wrong (its type, then its allowed values, its length, its format).
    pub fn check(
        &self,
        t: DataType,
        index: u64,
        record: TapeNode<'_>,
        lang: Lang,
        out: &mut Vec<Issue>,
    ) {
        if self.quick_valid(t, record) {
            return;
        }
        self.explain(t, index, record, lang, out);
    }

    /// The quick pass alone: `true` when the record is valid and in the canonical form (see
    /// [`gate`]); `false` says only that the standard validator and the normaliser must look.
    pub fn quick_valid(&self, t: DataType, record: TapeNode<'_>) -> bool {
        self.entries[&t].validator(true).is_valid(record)
    }

    /// The file schema of `t` turned into a record schema (what the normaliser reads its
    /// fields from: `$defs` are kept as written).
    pub fn record_schema(&self, t: DataType) -> &Value {
        &self.entries[&t].record
    }

    /// The standard validator's problems with a record (see [`Schemas::check`]).
    pub fn explain(
        &self,
        t: DataType,
        index: u64,
        record: TapeNode<'_>,
        lang: Lang,
        out: &mut Vec<Issue>,
    ) {
        let entry = &self.entries[&t];
        // (rank, issue) of the value keywords, one per pointer; other keywords as they come.
        let mut by_value: Vec<(u8, Issue)> = Vec::new();
        for e in entry.validator(false).iter_errors(record) {
            let keyword = e.kind().keyword();
            let pointer = format!("/{index}{}", e.instance_path().as_str());
            let message = explain(&e, &entry.patterns, lang);
            let issue = Issue::new(
                Some(index),
                pointer,
                &format!("{}{keyword}", codes::SCHEMA_PREFIX),
                message,
            );
            match value_rank(keyword) {
                Some(rank) => match by_value
                    .iter_mut()
                    .find(|(_, i)| i.pointer == issue.pointer)
                {
                    Some(kept) if kept.0 <= rank => {}
                    Some(kept) => *kept = (rank, issue),
                    None => by_value.push((rank, issue)),
                },
                None => out.push(issue),
            }
        }
        out.extend(by_value.into_iter().map(|(_, i)| i));
    }
}

/// For keywords that judge a single value, which one speaks when several fail on it (lower
/// first); `None` for the others.
fn value_rank(keyword: &str) -> Option<u8> {
    Some(match keyword {
        "type" => 0,
        "const" | "enum" => 1,
        "minLength" | "maxLength" => 2,
        "pattern" | "format" => 3,
        "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" | "multipleOf" => 4,
        _ => return None,
    })
}

/// Every `pattern` of a schema with the annotations beside it, by the JSON pointer of the
/// `pattern` keyword (`/$defs/date/pattern`): the same pattern may mean different fields.
fn collect_patterns(v: &Value, at: &str, out: &mut HashMap<String, PatternText>) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(_)) = o.get("pattern") {
                let text = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_string);
                let examples = o
                    .get("examples")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|e| e.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                out.insert(
                    format!("{at}/pattern"),
                    PatternText {
                        en: text("description"),
                        ru: text("x-description-ru"),
                        examples,
                    },
                );
            }
            for (k, x) in o {
                collect_patterns(x, &format!("{at}/{}", pointer_token(k)), out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                collect_patterns(x, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// The file schema turned into a record schema: the array keywords dropped and the root pointed
/// at `items`, so that `$defs` and every internal `$ref` keep resolving as written.
fn record_schema(file_schema: &Value) -> Option<Value> {
    let mut root = file_schema.as_object()?.clone();
    root.get("items")?;
    for k in [
        "type",
        "prefixItems",
        "contains",
        "minItems",
        "maxItems",
        "uniqueItems",
        "unevaluatedItems",
        "minContains",
        "maxContains",
    ] {
        root.remove(k);
    }
    root.insert("$ref".into(), Value::String("#/items".into()));
    Some(Value::Object(root))
}

/// The catalogue message for one validator error.
fn explain(e: &ValidationError<'_>, patterns: &HashMap<String, PatternText>, lang: Lang) -> String {
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
        ValidationErrorKind::Type { kind } => {
            let names: Vec<String> = match kind {
                TypeKind::Single(t) => vec![type_name(t.as_str(), lang)],
                TypeKind::Multiple(set) => {
                    set.iter().map(|t| type_name(t.as_str(), lang)).collect()
                }
            };
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

#[cfg(test)]
mod tests {
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
            let mut patterns = Vec::new();
            find_patterns(&schema, &mut patterns);
            assert_eq!(found.len(), patterns.len(), "{name}");
            for (p, t) in patterns {
                let what = format!("{name}: pattern {p}");
                assert!(
                    t.en.as_deref().is_some_and(|d| !d.is_empty()),
                    "{what}: description"
                );
                assert!(
                    t.ru.as_deref().is_some_and(|d| !d.is_empty()),
                    "{what}: x-description-ru"
                );
                assert!(!t.examples.is_empty(), "{what}: examples");
                let re = regex::Regex::new(&p).unwrap();
                for ex in &t.examples {
                    assert!(re.is_match(ex), "{what}: example {ex} does not match");
                }
            }
        }
    }

    fn find_patterns(v: &Value, out: &mut Vec<(String, PatternText)>) {
        match v {
            Value::Object(o) => {
                if let Some(Value::String(p)) = o.get("pattern") {
                    let text = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_string);
                    let examples = o
                        .get("examples")
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(|e| e.as_str().map(String::from))
                                .collect()
                        })
                        .unwrap_or_default();
                    out.push((
                        p.clone(),
                        PatternText {
                            en: text("description"),
                            ru: text("x-description-ru"),
                            examples,
                        },
                    ));
                }
                o.values().for_each(|x| find_patterns(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| find_patterns(x, out)),
            _ => {}
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
}
