//! Validation of a batch: a set of data files and attached files checked together, so that
//! references between them resolve. Used by `compo-exchange validate` and by the exchange
//! engine, which adds what the portal already has through [`KnownState`].
//!
//! Each data file is streamed: a reader thread cuts it into batches of records, the records of a
//! batch are parsed and checked in parallel, and the results are merged in file order into the
//! key index. Memory grows with the key index, not with the file.

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

/// A data file of a batch.
#[derive(Debug, Clone)]
pub struct DataInput {
    /// Name in reports: relative to the batch folder, or the path as given.
    pub rel: String,
    pub path: PathBuf,
    pub name: DataFileName,
}

/// An attached file of a batch.
#[derive(Debug, Clone)]
pub struct AttachedInput {
    pub rel: String,
    pub path: PathBuf,
    pub folder: AttachedFolder,
    pub name: String,
}

/// Files checked together.
#[derive(Debug, Clone, Default)]
pub struct BatchInput {
    pub data: Vec<DataInput>,
    pub attached: Vec<AttachedInput>,
    /// Files whose name is not a data file of the protocol.
    pub unknown: Vec<String>,
    /// Attached-file folders that are part of the batch: references into them are checked
    /// even when the state of the server is unknown.
    pub folders: BTreeSet<AttachedFolder>,
    /// Top-level files of a folder left out for their temporary or hidden names (`.gitkeep`,
    /// `~lock`), so that `validate` can list them.
    pub ignored: Vec<String>,
    /// Sub-folders of a folder other than `pictures/` and `invoices/`: not part of the batch
    /// (`validate --recursive` makes each a batch of its own). Name and path.
    pub subfolders: Vec<(String, PathBuf)>,
}

/// A FIFO, socket or device would make reading block forever or read a stream that never
/// ends: such an entry is refused, naming it, before anything is read.
fn refuse_special(path: &Path) -> Result<(), ValidateError> {
    let Ok(md) = std::fs::metadata(path) else {
        return Ok(());
    };
    if md.is_file() || md.is_dir() {
        return Ok(());
    }
    #[cfg(unix)]
    let what = {
        use std::os::unix::fs::FileTypeExt;
        let t = md.file_type();
        if t.is_fifo() {
            "a FIFO (named pipe)"
        } else if t.is_socket() {
            "a socket"
        } else {
            "a device"
        }
    };
    #[cfg(not(unix))]
    let what = "not a regular file";
    Err(ValidateError::Io {
        path: path.to_path_buf(),
        source: io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{what}, not a regular file: only files are validated; remove it or validate the files by name"),
        ),
    })
}

impl BatchInput {
    /// A folder laid out like `in/`: data files at the top, `pictures/` and `invoices/` below.
    pub fn from_folder(dir: &Path, side: Side) -> Result<BatchInput, ValidateError> {
        let io_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| ValidateError::Io { path, source }
        };
        let mut b = BatchInput::default();
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .map_err(io_err(dir))?
            .collect::<Result<_, _>>()
            .map_err(io_err(dir))?;
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = e.file_name().to_string_lossy().into_owned();
            let path = e.path();
            if super::model::is_temporary_name(&name) {
                if !path.is_dir() {
                    b.ignored.push(name);
                }
                continue;
            }
            refuse_special(&path)?;
            if path.is_dir() {
                if let Some(folder) = AttachedFolder::from_name(&name) {
                    b.folders.insert(folder);
                    let mut files: Vec<_> = std::fs::read_dir(&path)
                        .map_err(io_err(&path))?
                        .collect::<Result<_, _>>()
                        .map_err(io_err(&path))?;
                    files.sort_by_key(|e| e.file_name());
                    for f in files {
                        let fname = f.file_name().to_string_lossy().into_owned();
                        if super::model::is_temporary_name(&fname) && !fname.starts_with('.') {
                            continue;
                        }
                        refuse_special(&f.path())?;
                        b.attached.push(AttachedInput {
                            rel: format!("{}/{fname}", folder.name()),
                            path: f.path(),
                            folder,
                            name: fname,
                        });
                    }
                } else {
                    b.subfolders.push((name, path));
                }
                continue;
            }
            b.add_file(name.clone(), path, &name, side);
        }
        Ok(b)
    }

    /// Loose files named on the command line, checked together. With `as_type`, every data
    /// file is taken as a snapshot of that type whatever its name.
    pub fn from_files(paths: &[PathBuf], side: Side, as_type: Option<DataType>) -> BatchInput {
        let mut b = BatchInput::default();
        for p in paths {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let parent = p
                .parent()
                .and_then(|d| d.file_name())
                .and_then(|d| AttachedFolder::from_name(&d.to_string_lossy()));
            match parent {
                Some(folder) => b.attached.push(AttachedInput {
                    rel: p.display().to_string(),
                    path: p.clone(),
                    folder,
                    name,
                }),
                None => match as_type {
                    Some(t) => b.data.push(DataInput {
                        rel: p.display().to_string(),
                        path: p.clone(),
                        name: DataFileName {
                            data_type: t,
                            kind: super::model::FileKind::Snapshot,
                        },
                    }),
                    None => b.add_file(p.display().to_string(), p.clone(), &name, side),
                },
            }
        }
        b
    }

    /// Adds one top-level file, classifying it by name.
    pub fn add_file(&mut self, rel: String, path: PathBuf, name: &str, side: Side) {
        match DataFileName::parse(name, side) {
            Some(n) => self.data.push(DataInput { rel, path, name: n }),
            None => self.unknown.push(rel),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty() && self.attached.is_empty() && self.unknown.is_empty()
    }

    /// Total bytes of the batch's files (for progress).
    pub fn total_bytes(&self) -> u64 {
        self.data
            .iter()
            .map(|d| &d.path)
            .chain(self.attached.iter().map(|a| &a.path))
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum()
    }
}

pub use super::key_changes::{KeyChanges, Upsert};

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

/// The members of a `t` record that anything after the schema check looks at.
fn members_read(t: DataType) -> Option<Vec<&'static str>> {
    let mut f = checks::fields_read(t)?;
    f.extend(t.key_fields());
    f.extend(["deleted", "email", "parent_id"]);
    f.extend(t.references().iter().filter_map(|r| first_field(r.path)));
    f.extend(t.attachments().iter().filter_map(|a| first_field(a.path)));
    f.sort_unstable();
    f.dedup();
    Some(f)
}

/// Where a key was first seen.
#[derive(Debug, Clone, Copy)]
struct Loc {
    file: u32,
    index: u32,
    /// The record's hash as two words: a `u128` would align the entry to 16 bytes, and a
    /// million products' index would grow by a third.
    hash: [u64; 2],
}

impl Loc {
    fn hash(&self) -> RecordHash {
        self.hash[0] as u128 | (self.hash[1] as u128) << 64
    }
}

#[derive(Default)]
struct TypeIndex {
    snapshot: bool,
    keys: FxHashMap<String, Loc>,
    deleted: FxHashMap<String, Loc>,
    /// Keys of records left out for their errors (`drop_records`): a reference to one is told
    /// why it does not resolve.
    dropped: FxHashMap<String, u32>,
}

struct PendingRef {
    file: usize,
    record: u64,
    at: (&'static [Step], Option<u32>),
    target: DataType,
    value: String,
}

/// What the parallel stage learns from one record.
#[derive(Default)]
struct RecordOutcome {
    index: u64,
    issues: Vec<Issue>,
    key: Option<String>,
    deleted: bool,
    email: Option<String>,
    parent: Option<String>,
    /// (which reference of the type, array index on its path, value)
    refs: Vec<(u8, Option<u32>, String)>,
    /// (which attachment of the type, array index on its path, file name)
    files: Vec<(u8, Option<u32>, String)>,
    /// Warnings to count once per file and field, their messages not written yet.
    warnings: Vec<normalise::Note>,
    minified: Vec<u8>,
    /// The hash of the record's canonical form (after normalisation).
    hash: RecordHash,
}

/// One file's report being built, with the error cap applied.
struct Acc {
    report: Report,
    errors_total: usize,
    bad: BTreeSet<u64>,
    cap: usize,
    /// (code, field) -> its warning in the report.
    counted: HashMap<(String, u32), usize>,
    lang: Lang,
}

impl Acc {
    fn new(rel: &str, data_type: Option<String>, opts: &Options) -> Acc {
        Acc {
            report: Report::new(rel, data_type),
            errors_total: 0,
            bad: BTreeSet::new(),
            cap: opts.max_errors_per_file,
            lang: opts.lang,
            counted: HashMap::new(),
        }
    }

    fn error(&mut self, issue: Issue) {
        if let Some(r) = issue.record {
            self.bad.insert(r);
        }
        self.errors_total += 1;
        if self.report.errors.len() < self.cap {
            self.report.errors.push(issue);
        }
    }

    /// A warning listed once per file and field: the first with its pointer and message
    /// (written here, once), the rest counted.
    fn counted_warning(
        &mut self,
        note: normalise::Note,
        message: impl FnOnce(&normalise::Note) -> String,
    ) {
        use std::collections::hash_map::Entry;
        match self.counted.entry((note.issue.code.clone(), note.group())) {
            Entry::Occupied(e) => {
                let w = &mut self.report.warnings[*e.get()];
                w.count = Some(w.count.unwrap_or(1) + 1);
            }
            Entry::Vacant(e) => {
                e.insert(self.report.warnings.len());
                let message = message(&note);
                self.report.warnings.push(Issue {
                    count: Some(1),
                    message,
                    ..note.issue
                });
            }
        }
    }

    fn finish(mut self) -> (Report, Vec<u64>) {
        self.report
            .errors
            .sort_by_key(|i| i.record.map_or(0, |r| r + 1));
        if self.errors_total > self.report.errors.len() {
            let more = self.errors_total - self.report.errors.len();
            self.report.warnings.push(Issue::file(
                codes::REPORT_TRUNCATED,
                msg!(self.lang, "report-truncated", count = more),
            ));
        }
        self.report.settle();
        (self.report, self.bad.into_iter().collect())
    }
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

/// The references of a batch worth collecting from its records: those that can be checked.
/// Validating a products file alone, its category ids lead nowhere: collecting them would cost
/// a string per reference and record, to be thrown away.
struct Wanted {
    /// Types present in the batch or known on the portal.
    targets: Vec<DataType>,
    /// Attached-file folders present in the batch, or all of them when the server is known.
    folders: Vec<AttachedFolder>,
}

/// The state of one `validate` call.
struct Run<'a> {
    v: &'a Validator,
    wanted: &'a Wanted,
    state: Option<&'a dyn KnownState>,
    index: HashMap<DataType, TypeIndex>,
    pending: Vec<PendingRef>,
    /// Categories' (key, parent, file, record) for the cycle check.
    parents: Vec<(String, String, usize, u64)>,
    files_in_batch: HashMap<(AttachedFolder, &'a str), bool>,
    folders: &'a BTreeSet<AttachedFolder>,
    accs: Vec<Acc>,
    detected: Vec<Option<Detected>>,
    /// Keys a file upserts that an earlier file of the batch already had.
    extras: Vec<Vec<(String, u64, RecordHash)>>,
}

impl Run<'_> {
    fn data_file(
        &mut self,
        file: usize,
        input: &DataInput,
        obs: &mut dyn Observer,
    ) -> Result<(), ValidateError> {
        let t = input.name.data_type;
        let is_delta = !input.name.is_snapshot();
        if !is_delta {
            self.index.entry(t).or_default().snapshot = true;
        }
        let io_err = |source| ValidateError::Io {
            path: input.path.clone(),
            source,
        };
        let f = File::open(&input.path).map_err(io_err)?;
        let file_len = f.metadata().map_err(io_err)?.len();
        let mut sized = false;
        let mut sink = obs.output(input).map_err(io_err)?;
        if let Some(w) = sink.as_mut() {
            w.write_all(b"[\n").map_err(io_err)?;
        }
        let mut first_record = true;
        let want_min = sink.is_some();
        let encoding = self.v.opts.encoding;
        // Three stages so that every core has work: a reader cuts batches, a worker stage
        // parses and checks each batch's records in parallel, and this thread merges the
        // results in order while the next batch is being checked.
        let (tx, rx) = crossbeam_channel::bounded::<Result<Batch, ReadError>>(2);
        let (done_tx, done_rx) =
            crossbeam_channel::bounded::<Result<(u64, Vec<RecordOutcome>), ReadError>>(2);
        let mut emails: FxHashMap<String, u64> = FxHashMap::default();
        let v = self.v;
        let wanted = self.wanted;
        let reader_result =
            std::thread::scope(|s| -> Result<(Option<Detected>, u64), ValidateError> {
                let (recycle_tx, recycle_rx) = crossbeam_channel::bounded::<Vec<u8>>(4);
                let reader = s.spawn(move || {
                    let mut r =
                        RecordReader::new(io::BufReader::with_capacity(1 << 16, f), encoding)
                            .messages_in(v.opts.lang)
                            .recycle_from(recycle_rx);
                    loop {
                        match r.next_batch() {
                            Ok(Some(b)) => {
                                if tx.send(Ok(b)).is_err() {
                                    break;
                                }
                            }
                            Ok(None) => break,
                            Err(e) => {
                                let _ = tx.send(Err(e));
                                break;
                            }
                        }
                    }
                    (r.detected(), r.records())
                });
                s.spawn(move || {
                    for msg in rx {
                        let out = msg.map(|batch| {
                            let outcomes: Vec<RecordOutcome> = batch
                                .records
                                .par_iter()
                                .map(|sp| v.record(t, is_delta, &batch, sp, want_min, wanted))
                                .collect();
                            let n = batch.len as u64;
                            let _ = recycle_tx.try_send(batch.into_buffer());
                            (n, outcomes)
                        });
                        if done_tx.send(out).is_err() {
                            break;
                        }
                    }
                });
                for msg in done_rx {
                    match msg {
                        Ok((bytes, outcomes)) => {
                            obs.advanced(bytes);
                            if !sized {
                                // Growing a key index of millions by doubling moves it many
                                // times over; the first batch tells how many records to expect.
                                sized = true;
                                let expected =
                                    file_len as f64 * outcomes.len() as f64 / bytes.max(1) as f64;
                                let ti = self.index.entry(t).or_default();
                                ti.keys.reserve((expected as usize).min(1 << 26));
                            }
                            for o in outcomes {
                                if let Some(w) = sink.as_mut() {
                                    if !first_record {
                                        w.write_all(b",\n").map_err(io_err)?;
                                    }
                                    first_record = false;
                                    // One line per record, so that line n is record n; a record
                                    // that did not parse keeps its line as `null` (the file is
                                    // then invalid: the line is dropped or the file rejected).
                                    let bytes: &[u8] = if o.minified.is_empty() {
                                        b"null"
                                    } else {
                                        &o.minified
                                    };
                                    w.write_all(bytes).map_err(io_err)?;
                                }
                                self.merge(file, t, o, &mut emails);
                            }
                        }
                        Err(ReadError::Content(issue)) => self.accs[file].error(issue),
                        Err(ReadError::Io(e)) => return Err(io_err(e)),
                    }
                }
                let (det, n) = reader.join().expect("reader thread");
                Ok((Some(det), n))
            })?;
        if let Some(mut w) = sink {
            w.write_all(b"\n]\n").map_err(io_err)?;
            w.flush().map_err(io_err)?;
        }
        self.detected[file] = reader_result.0;
        self.accs[file].report.records = Some(reader_result.1);
        Ok(())
    }

    fn merge(
        &mut self,
        file: usize,
        t: DataType,
        o: RecordOutcome,
        emails: &mut FxHashMap<String, u64>,
    ) {
        let had_errors = !o.issues.is_empty();
        for i in o.issues {
            self.accs[file].error(i);
        }
        for note in o.warnings {
            let normaliser = &self.v.normaliser;
            self.accs[file].counted_warning(note, |n| normaliser.message(t, n));
        }
        if had_errors && self.v.opts.policy == Policy::DropRecords {
            if let (Some(key), false) = (o.key, o.deleted) {
                let ti = self.index.entry(t).or_default();
                ti.dropped.insert(key, file as u32);
            }
            return;
        }
        let idx = o.index;
        let loc = Loc {
            file: file as u32,
            index: idx as u32,
            hash: [o.hash as u64, (o.hash >> 64) as u64],
        };
        if let Some(parent) = o.parent {
            if let Some(key) = o.key.clone() {
                self.parents.push((key, parent, file, idx));
            }
        }
        if let Some(key) = o.key {
            let ti = self.index.entry(t).or_default();
            if o.deleted {
                ti.deleted.insert(key, loc);
            } else {
                use std::collections::hash_map::Entry;
                match ti.keys.entry(key) {
                    Entry::Vacant(v) => {
                        v.insert(loc);
                    }
                    Entry::Occupied(e) if e.get().file == loc.file => {
                        let pointer = if t.has_id_key() {
                            format!("/{idx}/id")
                        } else {
                            format!("/{idx}")
                        };
                        let first = e.get().index;
                        let shown = key_shown(t, e.key());
                        self.accs[file].error(Issue::new(
                            Some(idx),
                            pointer,
                            codes::KEY_DUPLICATE,
                            msg!(
                                self.v.opts.lang,
                                "key-duplicate",
                                key = shown,
                                first = first
                            ),
                        ));
                    }
                    Entry::Occupied(e) => {
                        self.extras[file].push((e.key().clone(), idx, loc.hash()))
                    }
                }
            }
        }
        if let Some(email) = o.email {
            let lower = email.to_lowercase();
            if let Some(first) = emails.get(&lower) {
                self.accs[file].error(Issue::new(
                    Some(idx),
                    format!("/{idx}/email"),
                    codes::KEY_DUPLICATE,
                    msg!(
                        self.v.opts.lang,
                        "key-duplicate-email",
                        email = &email,
                        first = *first
                    ),
                ));
            } else {
                emails.insert(lower, idx);
            }
        }
        for (which, at, value) in o.refs {
            let r = &t.references()[which as usize];
            let target = r.target;
            if target.rank() < t.rank() {
                if let Some(issue) = self.check_ref(file, idx, (r.path, at), target, &value) {
                    self.accs[file].error(issue);
                }
            } else {
                self.pending.push(PendingRef {
                    file,
                    record: idx,
                    at: (r.path, at),
                    target,
                    value,
                });
            }
        }
        for (which, at, name) in o.files {
            let a = &t.attachments()[which as usize];
            if let Some(issue) = self.check_file_ref(idx, (a.path, at), a.folder, &name) {
                self.accs[file].error(issue);
            }
        }
    }

    /// Whether a reference from `from` resolves; `None` when it cannot be checked.
    fn check_ref(
        &self,
        from: usize,
        record: u64,
        (path, at): (&'static [Step], Option<u32>),
        target: DataType,
        value: &str,
    ) -> Option<Issue> {
        let ti = self.index.get(&target);
        let mut rejected_in = None;
        if let Some(loc) = ti.and_then(|ti| ti.keys.get(value)) {
            let f = loc.file as usize;
            // Against the portal's state (the engine), a record whose file is rejected will
            // never arrive there, so it cannot carry a reference. Validating alone, the record
            // exists and its file's own report says what is wrong with it.
            if f == from || self.state.is_none() || self.will_publish(f, loc.index as u64) {
                return None;
            }
            // Under drop_records the record itself has errors: it is left out (or its file
            // rejected whole), and the message says so rather than blaming the whole file.
            let dropped = self.v.opts.policy == Policy::DropRecords
                && self.accs[f].bad.contains(&(loc.index as u64));
            rejected_in = Some((self.accs[f].report.file.clone(), dropped));
        }
        // Left out for its errors; the portal may still hold an older version of it.
        let dropped_in = ti.and_then(|ti| ti.dropped.get(value));
        let deleted = ti.is_some_and(|ti| ti.deleted.contains_key(value));
        let snapshot = ti.is_some_and(|ti| ti.snapshot);
        let found = if deleted || snapshot || rejected_in.is_some() {
            false
        } else {
            match self.state {
                Some(s) if s.has_type(target) => s.contains(target, value),
                _ => return None,
            }
        };
        if found {
            return None;
        }
        let lang = self.v.opts.lang;
        let target = target.name();
        let dropped_in = dropped_in.map(|&f| (self.accs[f as usize].report.file.clone(), true));
        let message = if let Some((file, true)) = rejected_in.as_ref().or(dropped_in.as_ref()) {
            msg!(
                lang,
                "ref-missing-dropped",
                target = target,
                value = value,
                file = file.as_str()
            )
        } else if let Some((file, false)) = &rejected_in {
            msg!(
                lang,
                "ref-missing-rejected",
                target = target,
                value = value,
                file = file.as_str()
            )
        } else if deleted {
            msg!(lang, "ref-missing-deleted", target = target, value = value)
        } else {
            msg!(lang, "ref-missing", target = target, value = value)
        };
        Some(Issue::new(
            Some(record),
            pointer_of(record, path, at),
            codes::REF_MISSING,
            message,
        ))
    }

    /// Whether record `index` of file `f` reaches the portal: its file is valid, or the
    /// `drop_records` policy publishes the file without its bad records and this one is good.
    fn will_publish(&self, f: usize, index: u64) -> bool {
        let acc = &self.accs[f];
        if acc.report.is_ok() {
            return true;
        }
        self.v.opts.policy == Policy::DropRecords
            && !acc.bad.contains(&index)
            && acc.report.errors.iter().all(|e| e.record.is_some())
    }

    fn check_file_ref(
        &self,
        record: u64,
        (path, at): (&'static [Step], Option<u32>),
        folder: AttachedFolder,
        name: &str,
    ) -> Option<Issue> {
        let lang = self.v.opts.lang;
        let file = format!("{folder}/{name}");
        let message = match self.files_in_batch.get(&(folder, name)) {
            Some(true) => return None,
            // Validating alone, the file exists and its own report says what is wrong; for
            // the engine it will not reach the server, so the reference would dangle.
            Some(false) if self.state.is_none() => return None,
            Some(false) => msg!(lang, "file-missing-rejected", file = file),
            None => {
                match self.state.and_then(|s| s.has_attached(folder, name)) {
                    Some(true) => return None,
                    Some(false) => {}
                    None if !self.folders.contains(&folder) => return None,
                    None => {}
                }
                msg!(lang, "file-missing", file = file, folder = folder.name())
            }
        };
        Some(Issue::new(
            Some(record),
            pointer_of(record, path, at),
            codes::FILE_MISSING,
            message,
        ))
    }

    fn resolve_pending(&mut self) {
        for p in std::mem::take(&mut self.pending) {
            if let Some(issue) = self.check_ref(p.file, p.record, p.at, p.target, &p.value) {
                self.accs[p.file].error(issue);
            }
        }
    }

    /// Reports each cycle of the category tree once, on its member that comes first.
    fn find_cycles(&mut self) {
        if self.parents.is_empty() {
            return;
        }
        let parents = std::mem::take(&mut self.parents);
        let parent_of: HashMap<&str, (&str, usize, u64)> = parents
            .iter()
            .map(|(k, p, f, i)| (k.as_str(), (p.as_str(), *f, *i)))
            .collect();
        let mut done: HashSet<&str> = HashSet::new();
        let mut cycles = Vec::new();
        for (start, ..) in &parents {
            let mut path: Vec<&str> = Vec::new();
            let mut on_path: HashMap<&str, usize> = HashMap::new();
            let mut cur = start.as_str();
            loop {
                if done.contains(cur) {
                    break;
                }
                if let Some(&pos) = on_path.get(cur) {
                    cycles.push(path[pos..].to_vec());
                    break;
                }
                on_path.insert(cur, path.len());
                path.push(cur);
                match parent_of.get(cur) {
                    Some((p, ..)) => cur = p,
                    None => break,
                }
            }
            done.extend(path);
        }
        for cycle in cycles {
            let first = cycle
                .iter()
                .map(|k| parent_of[k])
                .min_by_key(|&(_, f, i)| (f, i))
                .expect("a cycle has members");
            let (_, file, idx) = first;
            let names: Vec<String> = cycle.iter().map(|k| format!("\"{k}\"")).collect();
            self.accs[file].error(Issue::new(
                Some(idx),
                format!("/{idx}/parent_id"),
                codes::TREE_CYCLE,
                msg!(self.v.opts.lang, "tree-cycle", cycle = names.join(" → ")),
            ));
        }
    }

    fn key_changes(&mut self, batch: &BatchInput) -> Vec<KeyChanges> {
        let mut out: Vec<KeyChanges> = batch
            .data
            .iter()
            .map(|d| KeyChanges::new(d.name.is_snapshot()))
            .collect();
        for (_, ti) in self.index.drain() {
            // Sized first: the arrays of a million keys are not grown by doubling.
            let mut sizes = vec![(0usize, 0usize); out.len()];
            for (k, l) in &ti.keys {
                let s = &mut sizes[l.file as usize];
                s.0 += 1;
                s.1 += k.len();
            }
            for (o, (n, text)) in out.iter_mut().zip(sizes) {
                o.reserve(n, text);
            }
            for (k, l) in ti.keys {
                out[l.file as usize].push(&k, l.index as u64, l.hash());
            }
            for (k, l) in ti.deleted {
                out[l.file as usize].deletions.push(k);
            }
        }
        for (i, extra) in self.extras.iter_mut().enumerate() {
            for (k, index, hash) in extra.drain(..) {
                out[i].push(&k, index, hash);
            }
        }
        out
    }
}

impl Validator {
    /// Parses and checks one record (runs on a worker thread).
    fn record(
        &self,
        t: DataType,
        is_delta: bool,
        batch: &Batch,
        span: &Span,
        want_min: bool,
        wanted: &Wanted,
    ) -> RecordOutcome {
        let index = span.index;
        let bytes = batch.bytes(span);
        let mut o = RecordOutcome {
            index,
            ..Default::default()
        };
        // The fast parse; what it refuses is parsed again by the strict parser, which says
        // what is wrong and where.
        let fast = batch.text(span).and_then(Tape::parse);
        let reparsed;
        let tape = match fast {
            Some(t) => t,
            None => match strict::parse_record(bytes) {
                Ok(v) => {
                    // Not expected (both parsers are serde_json's); go on from its value.
                    reparsed = v.to_string();
                    match Tape::parse(&reparsed) {
                        Some(t) => t,
                        None => return o,
                    }
                }
                Err(p) => {
                    self.parse_problem(p, batch, span, &mut o);
                    return o;
                }
            },
        };
        // Canonical records pass the quick schema pass and are written as they are; the
        // others are normalised (see `normalise::gate`) and checked in their new form.
        let mut scan = normalise::Scan::default();
        let rewritten: String;
        let retaped;
        let root = if self.schemas.quick_valid(t, tape.root()) {
            if want_min {
                strict::minify_into(bytes, &mut o.minified);
            }
            tape.root()
        } else {
            scan = self.normaliser.scan(t, index, tape.root());
            if scan.edits.is_empty() {
                if want_min {
                    strict::minify_into(bytes, &mut o.minified);
                }
                self.schemas
                    .explain(t, index, tape.root(), self.opts.lang, &mut o.issues);
                tape.root()
            } else {
                let mut out = Vec::with_capacity(bytes.len());
                rewrite::write(bytes, &scan.edits, &mut out);
                // Edits cut the record at token boundaries and insert JSON strings, so the
                // text stays UTF-8; simdutf8 confirms it at memory speed (std's check was 6%
                // of the time on a file that needs normalising throughout).
                rewritten = match simdutf8::basic::from_utf8(&out) {
                    // SAFETY: `out` was just validated as UTF-8.
                    Ok(_) => unsafe { String::from_utf8_unchecked(out) },
                    Err(_) => String::new(),
                };
                retaped = Tape::parse(&rewritten);
                match &retaped {
                    Some(t2) => {
                        if want_min {
                            o.minified.extend_from_slice(rewritten.as_bytes());
                        }
                        self.schemas
                            .check(t, index, t2.root(), self.opts.lang, &mut o.issues);
                        t2.root()
                    }
                    // Not expected (the rewrite of strict JSON is strict JSON): the record is
                    // then checked and published as written.
                    None => {
                        scan = normalise::Scan::default();
                        if want_min {
                            strict::minify_into(bytes, &mut o.minified);
                        }
                        self.schemas
                            .explain(t, index, tape.root(), self.opts.lang, &mut o.issues);
                        tape.root()
                    }
                }
            }
        };
        let value = match &self.reads[&t] {
            Some(members) => root.to_value_with(members),
            None => root.to_value(),
        };
        checks::check_record(t, index, &value, is_delta, self.opts.lang, &mut o.issues);
        record_facts(t, is_delta, &value, wanted, &mut o);
        if want_min {
            // Only what is staged for publishing needs its hash (the record store's).
            o.hash = canonical::tape_hash(root);
        }
        if !scan.notes.is_empty() {
            self.take_notes(t, index, scan, &mut o);
        }
        drop_facts_already_wrong(t, &mut o);
        o
    }

    /// Adds what the normaliser found; a value it refuses gets no other error (one mistake,
    /// one message), and is not looked up as a reference or a key.
    fn take_notes(&self, t: DataType, index: u64, scan: normalise::Scan, o: &mut RecordOutcome) {
        if scan.notes.iter().any(|n| n.error) {
            o.issues.retain(|i| !scan.covers(&i.pointer));
            let refs = t.references();
            o.refs
                .retain(|(w, at, _)| !scan.covers(&pointer_of(index, refs[*w as usize].path, *at)));
            let atts = t.attachments();
            o.files
                .retain(|(w, at, _)| !scan.covers(&pointer_of(index, atts[*w as usize].path, *at)));
            if t.has_id_key() && scan.covers(&format!("/{index}/id")) {
                o.key = None;
            }
        }
        let mut errors = Vec::new();
        for n in scan.notes {
            if n.error {
                errors.push(n.issue);
            } else {
                o.warnings.push(n);
            }
        }
        errors.append(&mut o.issues);
        o.issues = errors;
    }

    /// A record that is not strict JSON, reported with its line or pointer.
    fn parse_problem(&self, p: ParseProblem, batch: &Batch, span: &Span, o: &mut RecordOutcome) {
        let index = span.index;
        match p {
            ParseProblem::Syntax {
                message,
                line,
                column,
                cause,
            } => {
                let at = batch.line_of(span) + line as u64 - 1;
                // On the record's first line, the record may start mid-line.
                let column = if line == 1 {
                    batch.column_of(span) + column as u64
                } else {
                    column as u64
                };
                o.issues.push(Issue::new(
                    Some(index),
                    format!("/{index}"),
                    codes::JSON_SYNTAX,
                    strict::explain_syntax(self.opts.lang, at, column, cause, &message),
                ));
            }
            ParseProblem::DuplicateKey { pointer, key } => {
                o.issues.push(Issue::new(
                    Some(index),
                    format!("/{index}{pointer}"),
                    codes::JSON_DUPLICATE_KEY,
                    msg!(self.opts.lang, "json-duplicate_key", key = key),
                ));
            }
        }
    }
}

/// What the batch needs to know of a record: key, deletion, references, attached files.
fn record_facts(
    t: DataType,
    is_delta: bool,
    value: &Value,
    wanted: &Wanted,
    o: &mut RecordOutcome,
) {
    {
        let Some(obj) = value.as_object() else {
            return;
        };
        o.deleted = is_delta && obj.get("deleted") == Some(&Value::Bool(true));
        o.key = key_of(t, obj);
        if o.deleted {
            return;
        }
        if t == DataType::Customers {
            o.email = obj.get("email").and_then(Value::as_str).map(str::to_string);
        }
        if t == DataType::Categories {
            o.parent = obj
                .get("parent_id")
                .and_then(Value::as_str)
                .map(str::to_string);
        }
        for (n, r) in t.references().iter().enumerate() {
            if !wanted.targets.contains(&r.target) {
                continue;
            }
            walk(value, r.path, None, &mut |i, v| {
                o.refs.push((n as u8, i, v.to_string()));
            });
        }
        for (n, a) in t.attachments().iter().enumerate() {
            if !wanted.folders.contains(&a.folder) {
                continue;
            }
            walk(value, a.path, None, &mut |i, v| {
                o.files.push((n as u8, i, v.to_string()));
            });
        }
    }
}

/// One wrong value, one error: a reference or file name that already has an error of its own
/// (an empty id, a name of the wrong type) is not looked up as well.
fn drop_facts_already_wrong(t: DataType, o: &mut RecordOutcome) {
    if o.issues.is_empty() {
        return;
    }
    let issues = &o.issues;
    let wrong = |path: &[Step], at: Option<u32>| {
        let p = pointer_of(o.index, path, at);
        issues.iter().any(|i| i.pointer == p)
    };
    o.refs
        .retain(|(n, at, _)| !wrong(t.references()[*n as usize].path, *at));
    o.files
        .retain(|(n, at, _)| !wrong(t.attachments()[*n as usize].path, *at));
}

/// A record's key: `id`, or the composite key fields joined by U+001F (which ids cannot hold).
/// A key as messages show it: `id "P-1"`, or the composite key's fields that have a value
/// (`product_id "P-1", prices_type_id "PT-1"`).
fn key_shown(t: DataType, key: &str) -> String {
    t.key_fields()
        .iter()
        .zip(key.split('\u{1f}'))
        .filter(|(_, v)| !v.is_empty())
        .map(|(f, v)| format!("{f} \"{v}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Calls `f` with the array index (paths have at most one `Each`) and value of every string
/// at `path`. Pointers are only built for the few values that turn out to be wrong.
fn walk(v: &Value, path: &[Step], index: Option<u32>, f: &mut dyn FnMut(Option<u32>, &str)) {
    match path.split_first() {
        None => {
            if let Some(s) = v.as_str() {
                f(index, s);
            }
        }
        Some((Step::Field(name), rest)) => {
            if let Some(child) = v.get(*name) {
                walk(child, rest, index, f);
            }
        }
        Some((Step::Each, rest)) => {
            if let Some(items) = v.as_array() {
                for (i, child) in items.iter().enumerate() {
                    walk(child, rest, Some(i as u32), f);
                }
            }
        }
    }
}

/// The JSON pointer of a value found by [`walk`] in record `record`.
fn pointer_of(record: u64, path: &[Step], index: Option<u32>) -> String {
    let mut p = format!("/{record}");
    for s in path {
        match s {
            Step::Field(name) => {
                p.push('/');
                p.push_str(&pointer_token(name));
            }
            Step::Each => {
                p.push('/');
                p.push_str(&index.unwrap_or(0).to_string());
            }
        }
    }
    p
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
