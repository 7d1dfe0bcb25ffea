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

mod explain;

use crate::compo::messages::{self, Lang};
use crate::compo::model::DataType;
use crate::compo::normalise::gate;
use crate::compo::pattern::FastPattern;
use crate::compo::report::{codes, pointer_token, Issue};
use crate::compo::tape::{TapeJson, TapeNode};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

macro_rules! embedded {
    ($($t:literal),*) => {
        /// The schemas shipped in `schemas/`, by type name.
        pub const EMBEDDED: &[(&str, &str)] = &[
            $(($t, include_str!(concat!("../../../schemas/", $t, ".schema.json")))),*
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

/// A pattern explained, from the annotations beside it in the schema and the catalogue.
#[derive(Debug, Clone, Default)]
struct PatternText {
    /// `description`.
    en: Option<String>,
    /// The catalogue's `pattern-about-NAME` in Russian, NAME being the field or `$defs` entry
    /// that holds the pattern. Not an annotation in the schema: ajv's strict mode, which the
    /// schemas pass for integrators (scripts/check-schemas), refuses unknown keywords.
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
            let keyword = explain::keyword(&e);
            let pointer = format!("/{index}{}", e.instance_path().as_str());
            let message = explain::explain(&e, &entry.patterns, lang);
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
                        ru: messages::lookup(Lang::Ru, &pattern_message_id(at)),
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

/// The catalogue id that explains the pattern of the schema object at `at`: `pattern-about-`
/// and the name of the field or `$defs` entry (`/$defs/date` -> `pattern-about-date`,
/// `/$defs/record/properties/barcodes/items` -> `pattern-about-barcodes`).
fn pattern_message_id(at: &str) -> String {
    let name = at
        .split('/')
        .rev()
        .find(|s| {
            !s.is_empty()
                && !s.bytes().all(|b| b.is_ascii_digit())
                && !matches!(*s, "items" | "properties" | "$defs" | "record" | "deletion")
        })
        .unwrap_or_default();
    format!("pattern-about-{name}")
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

#[cfg(test)]
mod tests;
