//! Record checks that a JSON Schema cannot express, one file per concern behind [`Check`].
//!
//! The schema says which fields exist and what JSON type they have; the checks say what the
//! values mean: identifier check digits ([`parties`]), barcodes ([`barcodes`]), sums that must
//! add up ([`sums`]), money precision ([`precision`]), real calendar dates and date ranges
//! ([`dates`]), and the protocol's rules about whole records ([`records`]).
//!
//! Every check is deliberately tolerant of a malformed record: a field that is absent or has
//! the wrong JSON type is skipped, because the schema check already reports it and one mistake
//! should produce one message. Checks run per record and in parallel, so they only see the
//! record itself (references between records are the validator's job).
//!
//! A new check is a new file with a type implementing [`Check`], listed in [`CHECKS`]; what it
//! declares in [`Check::reads`] is all the validator hands it of a record.

mod barcodes;
mod dates;
mod parties;
mod precision;
mod records;
mod sums;

use serde_json::{Map, Value};

use crate::compo::messages::Lang;
use crate::compo::model::{first_field, DataType, Step};
use crate::compo::report::{pointer_token, Issue};

pub use precision::fractional_digits;

/// One concern of the record checks.
pub(crate) trait Check: Sync {
    /// The top-level members of a `t` record the check reads, or [`Reads::Nothing`] when it
    /// does not apply to `t`. The validator builds the checks' view of a record from these
    /// alone, so a member read but not declared is a member the check never sees.
    fn reads(&self, t: DataType) -> Reads;

    /// Pushes into `cx` what is wrong with `record`, a record of type `t` (only called when
    /// [`Check::reads`] is not [`Reads::Nothing`] for `t`).
    fn check(&self, t: DataType, record: &Map<String, Value>, cx: &mut Cx);
}

/// What a check reads of a record.
pub(crate) enum Reads {
    Nothing,
    Members(Vec<&'static str>),
    /// Every member (a check that looks at the names of unknown fields).
    Everything,
}

impl Reads {
    /// The first member of each path: what a check reading values at `paths` reads.
    fn first_members<'a>(paths: impl IntoIterator<Item = &'a [Step]>) -> Reads {
        let members: Vec<&'static str> = paths.into_iter().filter_map(first_field).collect();
        if members.is_empty() {
            Reads::Nothing
        } else {
            Reads::Members(members)
        }
    }
}

/// Every check, in the order their problems are listed for a record.
static CHECKS: &[&dyn Check] = &[
    &records::DeletedInSnapshot,
    &parties::Parties,
    &barcodes::Barcodes,
    &records::PasswordFields,
    &sums::OrderSums,
    &sums::ActBalances,
    &precision::Precision,
    &dates::RealDates,
    &dates::DateRanges,
];

/// Checks one record (the `index`-th element of the file's array) and appends what is wrong.
///
/// `is_delta` tells whether the file is a delta: a record with `"deleted": true` there carries
/// only its key, so it gets no other check. In a snapshot such a record is itself an error, and
/// it is checked like any other record so that the user sees everything at once.
pub fn check_record(
    t: DataType,
    index: u64,
    record: &Value,
    is_delta: bool,
    lang: Lang,
    out: &mut Vec<Issue>,
) {
    let Some(obj) = record.as_object() else {
        return;
    };
    if is_delta && obj.get("deleted") == Some(&Value::Bool(true)) {
        return;
    }
    let mut cx = Cx { index, lang, out };
    for c in checks_for(t) {
        c.check(t, obj, &mut cx);
    }
}

/// The checks that concern `t`, worked out once: asking every check for every record would
/// cost an allocation per check and record.
fn checks_for(t: DataType) -> &'static [&'static dyn Check] {
    static BY_TYPE: std::sync::OnceLock<Vec<Vec<&'static dyn Check>>> = std::sync::OnceLock::new();
    let all = BY_TYPE.get_or_init(|| {
        DataType::ALL
            .iter()
            .map(|&t| {
                CHECKS
                    .iter()
                    .copied()
                    .filter(|c| !matches!(c.reads(t), Reads::Nothing))
                    .collect()
            })
            .collect()
    });
    &all[t.rank()]
}

/// The top-level members of a record of type `t` that [`check_record`] reads, or `None` when
/// it reads the whole record: the union of what the checks declare. The validator hands the
/// checks only these (see `validate::Validator`).
pub fn fields_read(t: DataType) -> Option<Vec<&'static str>> {
    // Whether a delta record is a deletion decides whether it is checked at all.
    let mut members = vec!["deleted"];
    for c in CHECKS {
        match c.reads(t) {
            Reads::Nothing => {}
            Reads::Members(m) => members.extend(m),
            Reads::Everything => return None,
        }
    }
    members.sort_unstable();
    members.dedup();
    Some(members)
}

/// What a check reports into: the record's index and the language of the messages.
pub(crate) struct Cx<'o> {
    pub index: u64,
    pub lang: Lang,
    out: &'o mut Vec<Issue>,
}

impl Cx<'_> {
    pub fn push(&mut self, loc: &Loc, code: &str, message: String) {
        self.out.push(Issue::new(
            Some(self.index),
            loc.pointer.clone(),
            code,
            message,
        ));
    }

    /// The record itself.
    pub fn root(&self) -> Loc {
        Loc::root(self.index)
    }
}

/// Where a value is: its RFC 6901 pointer into the file, and a readable path for messages.
#[derive(Debug, Clone)]
pub(crate) struct Loc {
    pub pointer: String,
    pub path: String,
}

impl Loc {
    fn root(index: u64) -> Loc {
        Loc {
            pointer: format!("/{index}"),
            path: String::new(),
        }
    }

    pub fn field(&self, name: &str) -> Loc {
        Loc {
            pointer: format!("{}/{}", self.pointer, pointer_token(name)),
            path: if self.path.is_empty() {
                name.to_string()
            } else {
                format!("{}.{name}", self.path)
            },
        }
    }

    pub fn item(&self, j: usize) -> Loc {
        Loc {
            pointer: format!("{}/{j}", self.pointer),
            path: format!("{}[{j}]", self.path),
        }
    }

    /// The location of what [`visit`] reached by `segs` in record `index`.
    pub fn at(index: u64, segs: &[Seg]) -> Loc {
        segs.iter().fold(Loc::root(index), |loc, seg| match seg {
            Seg::Field(name) => loc.field(name),
            Seg::Item(j) => loc.item(*j),
        })
    }
}

/// One step from a record to a value that [`visit`] reached: kept as plain data so that the
/// pointer and path strings are only built for values that have a problem, not for every
/// number and date of every record.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Seg {
    Field(&'static str),
    Item(usize),
}

/// Calls `f` for every value found at `path` in `record`, with the steps that led there
/// (`at`, an empty buffer reused across calls). Missing fields and values of the wrong
/// container type end the walk silently.
pub(crate) fn visit<'a>(
    record: &'a Map<String, Value>,
    path: &[Step],
    at: &mut Vec<Seg>,
    f: &mut dyn FnMut(&[Seg], &'a Value),
) {
    if let Some((Step::Field(name), rest)) = path.split_first() {
        if let Some(child) = record.get(*name) {
            at.push(Seg::Field(name));
            visit_value(child, rest, at, f);
            at.pop();
        }
    }
}

fn visit_value<'a>(
    v: &'a Value,
    path: &[Step],
    at: &mut Vec<Seg>,
    f: &mut dyn FnMut(&[Seg], &'a Value),
) {
    match path.split_first() {
        None => f(at, v),
        Some((Step::Field(name), rest)) => {
            if let Some(child) = v.as_object().and_then(|o| o.get(*name)) {
                at.push(Seg::Field(name));
                visit_value(child, rest, at, f);
                at.pop();
            }
        }
        Some((Step::Each, rest)) => {
            if let Some(items) = v.as_array() {
                for (j, child) in items.iter().enumerate() {
                    at.push(Seg::Item(j));
                    visit_value(child, rest, at, f);
                    at.pop();
                }
            }
        }
    }
}

/// A string field that is present, a string, and not empty (1C often exports "" for "none").
pub(crate) fn non_empty_str<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    obj.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

pub(crate) fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
pub(crate) mod testing {
    //! What the tests of every concern share.
    use super::*;

    /// The problems of `record` as the 8th record (index 7) of a file of type `t`.
    pub fn run(t: DataType, record: Value, is_delta: bool) -> Vec<Issue> {
        let mut out = Vec::new();
        check_record(t, 7, &record, is_delta, Lang::En, &mut out);
        for i in &out {
            assert_eq!(i.record, Some(7));
            assert!(i.pointer.starts_with("/7"), "{}", i.pointer);
        }
        out
    }

    pub fn found(issues: &[Issue]) -> Vec<(&str, &str)> {
        issues
            .iter()
            .map(|i| (i.pointer.as_str(), i.code.as_str()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use serde_json::json;

    #[test]
    fn pointers_escape_keys() {
        let l = Loc::root(3).field("a/b").item(2).field("c~d");
        assert_eq!(l.pointer, "/3/a~1b/2/c~0d");
        assert_eq!(l.path, "a/b[2].c~d");
    }

    #[test]
    fn what_the_checks_read_is_what_they_declare() {
        // Contragents: the parties check names its members, so the rest need not be built.
        let c = fields_read(DataType::Contragents).unwrap();
        for m in ["deleted", "kind", "inn", "kpp", "ogrn", "bank_accounts"] {
            assert!(c.contains(&m), "{m}: {c:?}");
        }
        assert!(!c.contains(&"name"), "{c:?}");
        // Customers: the password check looks at every member's name.
        assert_eq!(fields_read(DataType::Customers), None);
        // A type no check concerns: only the deletion flag.
        assert_eq!(fields_read(DataType::Segments), Some(vec!["deleted"]));
        let p = fields_read(DataType::Prices).unwrap();
        assert!(p.contains(&"price") && p.contains(&"valid_to"), "{p:?}");
    }

    #[test]
    fn wrongly_typed_fields_are_left_to_the_schema() {
        let r = json!({"kind": "legal", "inn": 7707083894u64, "kpp": 12, "ogrn": [1],
            "bank_accounts": "none", "deleted": "yes"});
        assert!(run(DataType::Contragents, r, false).is_empty());
        let r = json!({"kind": "legal", "bank_accounts": [1, {"bik": 44525225, "account": "x"},
            {"bik": "04452522", "account": "40702810438000000001"}]});
        assert!(run(DataType::Contragents, r, false).is_empty());
        assert!(run(DataType::Orders, json!("not an object"), false).is_empty());
        assert!(run(
            DataType::Orders,
            json!({"items": {"a": 1}, "total": "10"}),
            false
        )
        .is_empty());
    }
}
