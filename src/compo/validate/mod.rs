//! Validation of a batch: a set of data files and attached files checked together, so that
//! references between them resolve. Used by `compo-exchange validate` and by the exchange
//! engine, which adds what the portal already has through [`KnownState`].
//!
//! Each data file is streamed: a reader thread cuts it into batches of records, the records of a
//! batch are parsed and checked in parallel, and the results are merged in file order into the
//! key index. Memory grows with the key index, not with the file.
//!
//! [`input`] is what a batch holds, [`run`] streams and merges its files, [`record`] checks one
//! record on a worker thread, [`refs`] checks what records say about one another.

mod input;
mod record;
mod refs;
mod run;

pub use input::{AttachedInput, BatchInput, DataInput};
use record::{members_read, RecordOutcome};
use run::{Acc, Run, Wanted};

use super::attached;
use super::canonical::{self, RecordHash};
use super::checks;
use super::keys::key_of;
use super::messages::{msg, Lang};
use super::model::{first_field, AttachedFolder, DataFileName, DataType, Side, Step};
use super::normalise::{self, rewrite, Normaliser};
use super::reader::{Batch, Detected, EncodingMode, ReadError, RecordReader, Span};
use super::report::{codes, pointer_token, Issue, Report, Status};
use super::schema::Schemas;
use super::strict::{self, ParseProblem};
use super::tape::Tape;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What to do with a file that has some bad records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// One bad record rejects the whole file: the portal never sees half a file.
    #[default]
    RejectFile,
    /// Bad records are left out and listed; the rest is published.
    DropRecords,
}

#[derive(Debug, Clone)]
pub struct Options {
    pub encoding: EncodingMode,
    pub policy: Policy,
    /// Errors kept per report; the rest are counted in a warning.
    pub max_errors_per_file: usize,
    pub max_picture_size: u64,
    pub max_invoice_size: u64,
    /// The time zone of 1C's local dates, and whether normalising is an error.
    pub normalise: normalise::Settings,
    /// Language of the messages in reports.
    pub lang: Lang,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            encoding: EncodingMode::Auto,
            policy: Policy::RejectFile,
            max_errors_per_file: 1000,
            max_picture_size: AttachedFolder::Pictures.default_max_size(),
            max_invoice_size: AttachedFolder::Invoices.default_max_size(),
            normalise: normalise::Settings::default(),
            lang: Lang::default(),
        }
    }
}

impl Options {
    pub fn max_size(&self, folder: AttachedFolder) -> u64 {
        match folder {
            AttachedFolder::Pictures => self.max_picture_size,
            AttachedFolder::Invoices => self.max_invoice_size,
        }
    }
}

/// What the portal already has, for references that leave the batch.
pub trait KnownState {
    /// Whether the portal's set of `t` records is known (a snapshot of it was published).
    fn has_type(&self, t: DataType) -> bool;
    fn contains(&self, t: DataType, key: &str) -> bool;
    /// Whether the server has this attached file; `None` when that is not known.
    fn has_attached(&self, folder: AttachedFolder, name: &str) -> Option<bool>;
}

#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

pub use super::key_changes::KeyChanges;

/// The result for one file of a batch.
#[derive(Debug, Clone)]
pub struct FileOutcome {
    pub rel: String,
    pub report: Report,
    /// For data files.
    pub keys: Option<KeyChanges>,
    pub detected: Option<Detected>,
    /// Indices of records with errors (for the `drop_records` policy).
    pub bad_records: Vec<u64>,
}

/// Hooks for the caller: progress, and where to write the normalised copy of each data file.
pub trait Observer {
    /// `n` more bytes were read.
    fn advanced(&mut self, _n: u64) {}
    /// A writer for the normalised (UTF-8, one minified record per line) copy of `file`.
    fn output(&mut self, _file: &DataInput) -> io::Result<Option<Box<dyn Write + Send>>> {
        Ok(None)
    }
}

/// An observer that does nothing.
pub struct Quiet;
impl Observer for Quiet {}

/// Checks batches against the schemas and the protocol's rules.
pub struct Validator {
    schemas: Arc<Schemas>,
    normaliser: Normaliser,
    opts: Options,
    /// Per type, the top-level members the record-level work after the schema reads (keys,
    /// references, attached files, the checks); `None`: all of them.
    reads: HashMap<DataType, Option<Vec<&'static str>>>,
}

impl Validator {
    pub fn new(schemas: Arc<Schemas>, opts: Options) -> Validator {
        let reads = DataType::ALL
            .into_iter()
            .map(|t| (t, members_read(t)))
            .collect();
        let normaliser = Normaliser::new(opts.normalise.clone(), opts.lang, |t| {
            schemas.record_schema(t)
        });
        Validator {
            normaliser,
            schemas,
            opts,
            reads,
        }
    }

    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// Validates a batch. Outcomes come in the order data files, attached files, unknown names,
    /// each in the batch's order.
    pub fn validate(
        &self,
        batch: &BatchInput,
        state: Option<&dyn KnownState>,
        obs: &mut dyn Observer,
    ) -> Result<Vec<FileOutcome>, ValidateError> {
        // Attached files first: data files refer to them.
        let attached_outcomes: Vec<FileOutcome> = batch
            .attached
            .par_iter()
            .map(|a| {
                let mut acc = Acc::new(&a.rel, Some(a.folder.name().to_string()), &self.opts);
                let max = self.opts.max_size(a.folder);
                for i in attached::check_file(&a.path, &a.name, a.folder, max, self.opts.lang) {
                    acc.error(i);
                }
                let (report, _) = acc.finish();
                FileOutcome {
                    rel: a.rel.clone(),
                    report,
                    keys: None,
                    detected: None,
                    bad_records: Vec::new(),
                }
            })
            .collect();
        let mut files_in_batch: HashMap<(AttachedFolder, &str), bool> = HashMap::new();
        for (a, o) in batch.attached.iter().zip(&attached_outcomes) {
            obs.advanced(std::fs::metadata(&a.path).map(|m| m.len()).unwrap_or(0));
            files_in_batch.insert((a.folder, a.name.as_str()), o.report.is_ok());
        }

        let wanted = Wanted {
            targets: DataType::ALL
                .into_iter()
                .filter(|&t| {
                    batch.data.iter().any(|d| d.name.data_type == t)
                        || state.is_some_and(|s| s.has_type(t))
                })
                .collect(),
            folders: AttachedFolder::ALL
                .into_iter()
                .filter(|f| state.is_some() || batch.folders.contains(f))
                .collect(),
        };
        let mut run = Run {
            v: self,
            wanted: &wanted,
            state,
            index: HashMap::new(),
            pending: Vec::new(),
            parents: Vec::new(),
            files_in_batch,
            folders: &batch.folders,
            accs: Vec::new(),
            detected: vec![None; batch.data.len()],
            extras: vec![Vec::new(); batch.data.len()],
        };
        for d in &batch.data {
            run.accs.push(Acc::new(
                &d.rel,
                Some(d.name.data_type.name().to_string()),
                &self.opts,
            ));
        }
        let mut order: Vec<usize> = (0..batch.data.len()).collect();
        order.sort_by_key(|&i| {
            let n = &batch.data[i].name;
            (
                n.data_type.rank(),
                !n.is_snapshot(),
                batch.data[i].rel.clone(),
            )
        });
        for i in order {
            run.data_file(i, &batch.data[i], obs)?;
        }
        // Cycles first: they can reject a file that pending references lean on.
        run.find_cycles();
        run.resolve_pending();
        let mut keys = run.key_changes(batch);

        let mut out = Vec::new();
        for (i, acc) in run.accs.into_iter().enumerate() {
            let (report, bad) = acc.finish();
            out.push(FileOutcome {
                rel: batch.data[i].rel.clone(),
                report,
                keys: Some(std::mem::take(&mut keys[i])),
                detected: run.detected[i],
                bad_records: bad,
            });
        }
        out.extend(attached_outcomes);
        for u in &batch.unknown {
            let mut r = Report::new(u, None);
            r.errors.push(Issue::file(
                codes::NAME_UNKNOWN_TYPE,
                unknown_name_message(u, self.opts.lang),
            ));
            r.settle();
            out.push(FileOutcome {
                rel: u.clone(),
                report: r,
                keys: None,
                detected: None,
                bad_records: Vec::new(),
            });
        }
        Ok(out)
    }
}

fn unknown_name_message(rel: &str, lang: Lang) -> String {
    let name = rel.rsplit(['/', '\\']).next().unwrap_or(rel);
    let stem = name.split('.').next().unwrap_or(name);
    let hint = DataType::ALL
        .iter()
        .find(|t| {
            t.name().eq_ignore_ascii_case(stem)
                || t.name().trim_end_matches('s').eq_ignore_ascii_case(stem)
        })
        .map(|t| format!("{}.json", t.name()));
    match hint {
        Some(suggestion) => msg!(
            lang,
            "name-unknown_type-hint",
            name = name,
            suggestion = suggestion
        ),
        None => msg!(lang, "name-unknown_type", name = name),
    }
}

impl Report {
    /// Marks a validated file as published or delivered.
    pub fn mark(&mut self, status: Status) {
        if self.errors.is_empty() || status == Status::Partial {
            self.status = status;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checks see only [`members_read`] of a record: on every record of every fixture
    /// they must find exactly what they find on the whole record.
    #[test]
    fn the_checks_find_the_same_on_the_members_they_are_given() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut records = 0;
        for e in walkdir::WalkDir::new(&root).into_iter().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            // fixtures/invalid/<type>/<check>.json, or a file named by its type.
            let parent = e.path().parent().and_then(|p| p.file_name());
            let Some(t) = DataFileName::parse(&name, Side::Outbound)
                .or_else(|| DataFileName::parse(&name, Side::Inbound))
                .map(|n| n.data_type)
                .or_else(|| DataType::from_name(&parent?.to_string_lossy()))
            else {
                continue;
            };
            let Ok(Value::Array(items)) = std::fs::read(e.path())
                .map_err(|_| ())
                .and_then(|b| serde_json::from_slice::<Value>(&b).map_err(|_| ()))
            else {
                continue;
            };
            let Some(members) = members_read(t) else {
                continue;
            };
            for (i, rec) in items.iter().enumerate() {
                let Some(obj) = rec.as_object() else { continue };
                let partial = Value::Object(
                    obj.iter()
                        .filter(|(k, _)| members.contains(&k.as_str()))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                );
                for delta in [false, true] {
                    let (mut full, mut part) = (Vec::new(), Vec::new());
                    checks::check_record(t, i as u64, rec, delta, Lang::En, &mut full);
                    checks::check_record(t, i as u64, &partial, delta, Lang::En, &mut part);
                    let codes = |v: &[Issue]| -> Vec<(String, String)> {
                        v.iter()
                            .map(|x| (x.code.to_string(), x.pointer.clone()))
                            .collect()
                    };
                    assert_eq!(
                        codes(&full),
                        codes(&part),
                        "{} record {i}",
                        e.path().display()
                    );
                }
                records += 1;
            }
        }
        assert!(records > 150, "only {records} records seen");
    }
}
