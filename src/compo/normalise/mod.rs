//! The normalisation of spec 4.1: what ERPs (mostly 1C) write instead of the canonical form —
//! dates as date-times, date-times without offset, 1C's empty date and empty reference, `null`
//! and `""` for "no value" — found in a record, turned into edits of its text, and reported;
//! with the same walk, the idioms in required fields and the guards of 4.1 (blank required
//! text, a VAT fraction, spaces around an id), which are reported but change nothing.
//!
//! It runs only on records that the schema's quick pass refuses: the quick pass carries an
//! extra keyword ([`gate`]) that refuses exactly the values this module acts on, so canonical
//! records never come here. Which fields are dates, references and so on is read from the
//! schemas ([`fields`]).

pub mod fields;
pub mod found;
pub mod gate;
pub mod rewrite;
pub mod zone;

use super::messages::Lang;
use super::model::DataType;
use super::report::{pointer_token, Issue};
use super::tape::TapeNode;
use fields::{Field, Fields, Kind};
pub use found::{Found, Idiom};
use jsonschema::json::Node;
use rewrite::Edit;
use std::collections::HashMap;
use std::fmt::Write;
use zone::Zone;

/// 1C's empty reference (`Справочник.X.ПустаяСсылка()` written as its UUID).
pub const EMPTY_GUID: &str = "00000000-0000-0000-0000-000000000000";

/// How records are normalised.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// The zone of local dates and times (`validation.timezone`).
    pub zone: Zone,
    /// Every normalisation is an error instead of a warning (`validate --strict`).
    pub strict: bool,
}

/// Normalises records of every type.
pub struct Normaliser {
    fields: HashMap<DataType, Fields>,
    /// (type, field number) -> the field's path, for messages.
    paths: HashMap<(DataType, u16), String>,
    settings: Settings,
    lang: Lang,
}

/// What the normalisation of one record found.
#[derive(Debug, Default)]
pub struct Scan {
    /// Edits of the record's text, by tape position.
    pub edits: Vec<Edit>,
    pub notes: Vec<Note>,
}

impl Scan {
    /// Pointers of the values reported as errors here: other problems at or below them would
    /// repeat the same mistake.
    pub fn covers(&self, pointer: &str) -> bool {
        self.notes.iter().any(|n| {
            n.error
                && pointer.starts_with(&n.issue.pointer)
                && matches!(
                    pointer.as_bytes().get(n.issue.pointer.len()),
                    None | Some(b'/')
                )
        })
    }
}

/// One problem found: an error of its record, or a warning counted per file and field.
///
/// A warning's message is written only for the first of its group in a file (see
/// [`Normaliser::message`]): a file exported by 1C has the same few warnings on every record,
/// and formatting a message is most of the cost of finding them.
#[derive(Debug, Clone)]
pub struct Note {
    /// Record, pointer and code; the message is there for errors only.
    pub issue: Issue,
    pub found: Found,
    pub error: bool,
    /// The field's number in its type.
    pub field: u16,
}

impl Note {
    /// What warnings are counted by: the field, and for a date whose time is dropped a group
    /// of its own (it is the one that loses information, so it must not hide in a count).
    pub fn group(&self) -> u32 {
        let apart = matches!(self.found, Found::DateTime { time: Some(_), .. });
        u32::from(self.field) * 2 + u32::from(apart)
    }
}

/// Whether `s` is 1C's empty date, as a date or a date-time.
fn is_empty_date(s: &str) -> bool {
    s == "0001-01-01" || (s.starts_with("0001-01-01T") && zone::read_datetime(s).is_some())
}

impl Normaliser {
    /// The fields of each type are read from `schema_of(type)`, a file schema.
    pub fn new<'a>(
        settings: Settings,
        lang: Lang,
        schema_of: impl Fn(DataType) -> &'a serde_json::Value,
    ) -> Normaliser {
        let fields: HashMap<DataType, Fields> = DataType::ALL
            .into_iter()
            .map(|t| (t, Fields::of_file_schema(schema_of(t))))
            .collect();
        let paths = fields
            .iter()
            .flat_map(|(t, f)| f.all().into_iter().map(|x| ((*t, x.id), x.path.clone())))
            .collect();
        Normaliser {
            fields,
            paths,
            settings,
            lang,
        }
    }

    /// The message of what was found at `note` in a `t` record.
    pub fn message(&self, t: DataType, note: &Note) -> String {
        let path = self.paths.get(&(t, note.field)).map_or("", String::as_str);
        note.found.message(path, &self.settings.zone, self.lang)
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Finds what to normalise and what to refuse in record `index` of a `t` file.
    pub fn scan(&self, t: DataType, index: u64, record: TapeNode<'_>) -> Scan {
        let mut out = Scan::default();
        let mut pointer = format!("/{index}");
        if let Some(fields) = self.fields.get(&t) {
            self.object(fields, record, &mut pointer, index, &mut out);
        }
        out.edits.sort_by_key(|e| match e {
            Edit::Drop { key } => *key,
            Edit::Replace { value, .. } => *value,
        });
        out
    }

    fn object(
        &self,
        fields: &Fields,
        node: TapeNode<'_>,
        pointer: &mut String,
        index: u64,
        out: &mut Scan,
    ) {
        for (key, value) in node.object_members() {
            let Some(f) = fields.get(key) else {
                continue;
            };
            let len = pointer.len();
            pointer.push('/');
            pointer.push_str(&pointer_token(key));
            self.value(f, value, pointer, index, out);
            pointer.truncate(len);
        }
    }

    fn value(&self, f: &Field, v: TapeNode<'_>, pointer: &mut String, index: u64, out: &mut Scan) {
        let key = v.position() - 1;
        let drop = |out: &mut Scan| out.edits.push(Edit::Drop { key });
        let found = if v.is_null() {
            match (f.kind, f.required) {
                (Kind::Vat, _) => None,
                (_, true) => Some(Found::RequiredEmpty { idiom: Idiom::Null }),
                (_, false) => {
                    drop(out);
                    Some(Found::Null)
                }
            }
        } else if let Some(s) = v.as_str() {
            self.string(f, s, v.position(), out)
        } else if let Some(n) = v.as_number() {
            let x = n.as_f64().unwrap_or(0.0);
            (f.kind == Kind::Vat && x > 0.0 && x < 1.0).then_some(Found::VatFraction { value: x })
        } else {
            if let Some(inner) = &f.inner {
                if v.as_array().is_some() {
                    for (j, e) in v.array_elements().enumerate() {
                        let len = pointer.len();
                        let _ = write!(pointer, "/{j}");
                        self.object(inner, e, pointer, index, out);
                        pointer.truncate(len);
                    }
                } else {
                    self.object(inner, v, pointer, index, out);
                }
            }
            None
        };
        if let Some(found) = found {
            let error = found.is_error() || (self.settings.strict && found.is_normalisation());
            let message = if error {
                found.message(&f.path, &self.settings.zone, self.lang)
            } else {
                String::new()
            };
            out.notes.push(Note {
                issue: Issue::new(Some(index), pointer.clone(), found.code(), message),
                found,
                error,
                field: f.id,
            });
        }
    }

    fn string(&self, f: &Field, s: &str, at: u32, out: &mut Scan) -> Option<Found> {
        let key = at - 1;
        let written = || s.to_string();
        let empty_idiom = if s.is_empty() {
            Some(Idiom::EmptyString)
        } else if s == EMPTY_GUID {
            Some(Idiom::EmptyGuid)
        } else {
            None
        };
        match f.kind {
            Kind::Date | Kind::DateTime if is_empty_date(s) => {
                if f.required {
                    return Some(Found::RequiredEmpty {
                        idiom: Idiom::EmptyDate,
                    });
                }
                out.edits.push(Edit::Drop { key });
                Some(Found::EmptyDate { written: written() })
            }
            Kind::Date => {
                let w = zone::read_datetime(s)?;
                let local = match w.offset {
                    Some(o) => self
                        .settings
                        .zone
                        .local(&w.local.and_local_timezone(o).single()?),
                    None => w.local,
                };
                let date = local.date().format("%Y-%m-%d").to_string();
                let time = (local.time() != chrono::NaiveTime::MIN)
                    .then(|| local.time().format("%H:%M:%S").to_string());
                // Digits and dashes: a JSON string as it is.
                out.edits.push(Edit::Replace {
                    value: at,
                    json: format!("\"{date}\""),
                });
                Some(Found::DateTime {
                    written: written(),
                    date,
                    converted: w.offset.is_some(),
                    time,
                })
            }
            Kind::DateTime => {
                let w = zone::read_datetime(s)?;
                if w.offset.is_some() {
                    return None;
                }
                let offset = self.settings.zone.offset_at_local(&w.local);
                let published = format!("{}{}", w.without_offset, zone::offset_text(offset));
                // What `read_datetime` accepted (digits, `-`, `T`, `:`, `.`) and an offset:
                // a JSON string as it is.
                out.edits.push(Edit::Replace {
                    value: at,
                    json: format!("\"{published}\""),
                });
                Some(Found::NoOffset {
                    written: written(),
                    published,
                })
            }
            Kind::Id | Kind::Formatted if empty_idiom.is_some() => {
                if f.required {
                    return Some(Found::RequiredEmpty {
                        idiom: empty_idiom?,
                    });
                }
                out.edits.push(Edit::Drop { key });
                Some(if f.kind == Kind::Id {
                    Found::EmptyRef { written: written() }
                } else {
                    Found::EmptyValue { written: written() }
                })
            }
            Kind::Id if s.trim() != s => Some(Found::IdWhitespace { written: written() }),
            Kind::Text if f.required && s.trim().is_empty() => {
                Some(Found::Blank { written: written() })
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
