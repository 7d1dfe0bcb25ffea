//! What the normalisation can find in a value, and the message it gives for each: what the
//! person who fixes the export reads, in the language of the run.

use super::zone::Zone;
use super::EMPTY_GUID;
use crate::compo::messages::{msg, Lang};
use crate::compo::report::codes;

/// What was found in a value, with what a message needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    /// A date field written as a date-time; `time` is the local time when it was not midnight.
    DateTime {
        written: String,
        date: String,
        converted: bool,
        time: Option<String>,
    },
    /// A date-time without offset.
    NoOffset {
        written: String,
        published: String,
    },
    EmptyDate {
        written: String,
    },
    Null,
    /// `""` or 1C's empty reference in an optional reference.
    EmptyRef {
        written: String,
    },
    /// The same in an optional formatted field.
    EmptyValue {
        written: String,
    },
    /// One of the above in a required field.
    RequiredEmpty {
        idiom: Idiom,
    },
    Blank {
        written: String,
    },
    VatFraction {
        value: f64,
    },
    IdWhitespace {
        written: String,
    },
}

/// How "no value" was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idiom {
    EmptyDate,
    EmptyGuid,
    EmptyString,
    Null,
}

impl Found {
    pub fn code(&self) -> &'static str {
        match self {
            Found::DateTime { .. } => codes::DATE_DATETIME,
            Found::NoOffset { .. } => codes::DATETIME_NO_OFFSET,
            Found::EmptyDate { .. } => codes::DATE_EMPTY,
            Found::Null => codes::VALUE_NULL,
            Found::EmptyRef { .. } => codes::REF_EMPTY,
            Found::EmptyValue { .. } => codes::VALUE_EMPTY,
            Found::RequiredEmpty { .. } => codes::VALUE_REQUIRED_EMPTY,
            Found::Blank { .. } => codes::VALUE_BLANK,
            Found::VatFraction { .. } => codes::VAT_FRACTION,
            Found::IdWhitespace { .. } => codes::ID_WHITESPACE,
        }
    }

    /// A value rewritten or removed (what `--strict` refuses), as opposed to a guard.
    pub fn is_normalisation(&self) -> bool {
        !matches!(
            self,
            Found::RequiredEmpty { .. }
                | Found::Blank { .. }
                | Found::VatFraction { .. }
                | Found::IdWhitespace { .. }
        )
    }

    /// Refused whatever the settings: the value cannot be published.
    pub fn is_error(&self) -> bool {
        matches!(self, Found::RequiredEmpty { .. } | Found::Blank { .. })
    }

    /// The message for the person who fixes the export; `field` is the field's path.
    pub fn message(&self, field: &str, zone: &Zone, lang: Lang) -> String {
        let field = format!("`{field}`");
        let zone = zone.name();
        match self {
            Found::DateTime {
                written,
                date,
                converted,
                time,
            } => match (converted, time) {
                (false, None) => msg!(
                    lang,
                    "date-datetime",
                    field = &field,
                    written = written,
                    date = date
                ),
                (true, None) => msg!(
                    lang,
                    "date-datetime-converted",
                    field = &field,
                    written = written,
                    date = date,
                    zone = zone
                ),
                (false, Some(time)) => msg!(
                    lang,
                    "date-datetime-time",
                    field = &field,
                    written = written,
                    date = date,
                    time = time
                ),
                (true, Some(time)) => msg!(
                    lang,
                    "date-datetime-converted-time",
                    field = &field,
                    written = written,
                    date = date,
                    zone = zone,
                    time = time
                ),
            },
            Found::NoOffset { written, published } => msg!(
                lang,
                "datetime-no_offset",
                field = &field,
                written = written,
                published = published,
                zone = zone
            ),
            Found::EmptyDate { written } => {
                msg!(lang, "date-empty", field = &field, written = written)
            }
            Found::Null => msg!(lang, "value-null", field = &field),
            Found::EmptyRef { written } if written == EMPTY_GUID => {
                msg!(lang, "ref-empty-guid", field = &field)
            }
            Found::EmptyRef { .. } => msg!(lang, "ref-empty", field = &field),
            Found::EmptyValue { written } if written == EMPTY_GUID => {
                msg!(lang, "value-empty-guid", field = &field)
            }
            Found::EmptyValue { .. } => msg!(lang, "value-empty", field = &field),
            Found::RequiredEmpty { idiom } => match idiom {
                Idiom::EmptyDate => msg!(lang, "value-required_empty-date", field = &field),
                Idiom::EmptyGuid => msg!(lang, "value-required_empty-guid", field = &field),
                Idiom::EmptyString => msg!(lang, "value-required_empty-string", field = &field),
                Idiom::Null => msg!(lang, "value-required_empty-null", field = &field),
            },
            Found::Blank { written } => {
                msg!(lang, "value-blank", field = &field, written = written)
            }
            Found::VatFraction { value } => {
                // 0.2 * 100 is 20.000000000000004 in binary floating point.
                let percent = (value * 100.0 * 1e6).round() / 1e6;
                msg!(
                    lang,
                    "vat-fraction",
                    field = &field,
                    value = value.to_string(),
                    percent = percent.to_string()
                )
            }
            Found::IdWhitespace { written } => {
                msg!(lang, "id-whitespace", field = &field, written = written)
            }
        }
    }
}
