//! One `validate` call over a batch: each data file streamed through the record checks, the
//! outcomes merged in file order into the key index, and the key changes each file makes.

use super::record::key_shown;
use super::*;

/// Where a key was first seen.
#[derive(Debug, Clone, Copy)]
pub(super) struct Loc {
    pub(super) file: u32,
    pub(super) index: u32,
    /// The record's hash as two words: a `u128` would align the entry to 16 bytes, and a
    /// million products' index would grow by a third.
    pub(super) hash: [u64; 2],
}

impl Loc {
    pub(super) fn hash(&self) -> RecordHash {
        self.hash[0] as u128 | (self.hash[1] as u128) << 64
    }
}

#[derive(Default)]
pub(super) struct TypeIndex {
    pub(super) snapshot: bool,
    pub(super) keys: FxHashMap<String, Loc>,
    pub(super) deleted: FxHashMap<String, Loc>,
    /// Keys of records left out for their errors (`drop_records`): a reference to one is told
    /// why it does not resolve.
    pub(super) dropped: FxHashMap<String, u32>,
}

pub(super) struct PendingRef {
    pub(super) file: usize,
    pub(super) record: u64,
    pub(super) at: (&'static [Step], Option<u32>),
    pub(super) target: DataType,
    pub(super) value: String,
}

/// One file's report being built, with the error cap applied.
pub(super) struct Acc {
    pub(super) report: Report,
    pub(super) errors_total: usize,
    pub(super) bad: BTreeSet<u64>,
    pub(super) cap: usize,
    /// (code, field) -> its warning in the report.
    pub(super) counted: HashMap<(String, u32), usize>,
    pub(super) lang: Lang,
}

impl Acc {
    pub(super) fn new(rel: &str, data_type: Option<String>, opts: &Options) -> Acc {
        Acc {
            report: Report::new(rel, data_type),
            errors_total: 0,
            bad: BTreeSet::new(),
            cap: opts.max_errors_per_file,
            lang: opts.lang,
            counted: HashMap::new(),
        }
    }

    pub(super) fn error(&mut self, issue: Issue) {
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
    pub(super) fn counted_warning(
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

    pub(super) fn finish(mut self) -> (Report, Vec<u64>) {
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

/// The references of a batch worth collecting from its records: those that can be checked.
/// Validating a products file alone, its category ids lead nowhere: collecting them would cost
/// a string per reference and record, to be thrown away.
pub(super) struct Wanted {
    /// Types present in the batch or known on the portal.
    pub(super) targets: Vec<DataType>,
    /// Attached-file folders present in the batch, or all of them when the server is known.
    pub(super) folders: Vec<AttachedFolder>,
}

/// The state of one `validate` call.
pub(super) struct Run<'a> {
    pub(super) v: &'a Validator,
    pub(super) wanted: &'a Wanted,
    pub(super) state: Option<&'a dyn KnownState>,
    pub(super) index: HashMap<DataType, TypeIndex>,
    pub(super) pending: Vec<PendingRef>,
    /// Categories' (key, parent, file, record) for the cycle check.
    pub(super) parents: Vec<(String, String, usize, u64)>,
    pub(super) files_in_batch: HashMap<(AttachedFolder, &'a str), bool>,
    pub(super) folders: &'a BTreeSet<AttachedFolder>,
    pub(super) accs: Vec<Acc>,
    pub(super) detected: Vec<Option<Detected>>,
    /// Keys a file upserts that an earlier file of the batch already had.
    pub(super) extras: Vec<Vec<(String, u64, RecordHash)>>,
}

impl Run<'_> {
    pub(super) fn data_file(
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

    pub(super) fn merge(
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

    pub(super) fn key_changes(&mut self, batch: &BatchInput) -> Vec<KeyChanges> {
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
