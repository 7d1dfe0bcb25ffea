//! The take step, outbox → staging: find settled files, claim them (journaled move into the
//! work folder), validate and transform them together, and stage each or reject it with its
//! report. Whatever is odd about one file (its name, its kind, it vanishing or being
//! unreadable) ends that file with a report; the others go on.

use super::ctx::Ctx;
use super::detect::{Detector, Kind, Ready, Writers};
use super::settle::Look;
use super::{archive::write_report, fsutil, PipelineError, Result, Summary};
use crate::compo::messages::msg;
use crate::compo::model::{DataFileName, DataType, Side};
use crate::compo::report::{codes, Status};
use crate::compo::validate::{BatchInput, DataInput, Observer};
use crate::journal::{FileRow, NewFile, Origin, State, Update};
use chrono::{DateTime, FixedOffset};
use std::collections::HashMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The kind of file a row holds, from where it was found.
pub(super) const SELLPER: &str = "sellper";

/// How long a rejected outbox file is watched for growth (a writer that paused long enough
/// to be taken for done): at least this, or the truncation grace when longer.
const WATCH_REJECTED: Duration = Duration::from_secs(600);

/// A file rejected from the outbox that a writer may still be writing.
struct Watched {
    path: PathBuf,
    name: String,
    sellper: bool,
    look: Look,
    until: DateTime<FixedOffset>,
}

pub(super) struct Take {
    pub detector: Detector,
    watched: Vec<Watched>,
    /// Whether the staging folder's file system clones files (asked once, on first use).
    clones: Option<bool>,
}

/// Writes the normalised copy of each data file into the staging folder, or notes that the
/// original already is in normalised form.
struct Staging<'a> {
    dir: &'a Path,
    ids: HashMap<PathBuf, i64>,
    results: HashMap<i64, fsutil::CopyResult>,
    /// Where the file system clones, an original already in normalised form is only compared
    /// and then cloned (nothing written); elsewhere our own copy has to be written anyway, and
    /// writing it while the validator reads costs less than comparing now and copying after.
    clones: bool,
}

impl Observer for Staging<'_> {
    fn output(&mut self, file: &DataInput) -> io::Result<Option<Box<dyn Write + Send>>> {
        let id = self.ids[&file.path];
        let tmp = self.dir.join(format!("{id}.json.ce-tmp"));
        let (w, result) = if self.clones {
            fsutil::CopyUnlessSame::new(&file.path, &tmp)?
        } else {
            fsutil::CopyUnlessSame::writing(&file.path, &tmp)?
        };
        self.results.insert(id, result);
        Ok(Some(Box::new(w)))
    }
}

impl Take {
    pub fn new(cx: &Ctx) -> Take {
        Take {
            detector: Detector::new(cx.s.detect.settle, cx.s.detect.truncation_grace),
            watched: Vec::new(),
            clones: None,
        }
    }

    /// Takes every settled file of the outbox through validation to staged or rejected.
    pub fn run(&mut self, cx: &mut Ctx, writers: Option<&Writers>) -> Result<Summary> {
        let mut sum = Summary::default();
        self.finish_local(cx, &mut sum)?;
        self.retake_grown(cx)?;
        let now = cx.now();
        let outbox = cx.s.folders.outbox.clone();
        let top = self.detector.scan(
            &outbox,
            now,
            true,
            writers,
            |_| true,
            |n| {
                !matches!(n, "pictures" | "invoices" | SELLPER)
                    && (n.ends_with(".json") || DataFileName::parse(n, Side::Outbound).is_some())
            },
        );
        let xml = self.detector.scan(
            &outbox.join(SELLPER),
            now,
            false,
            writers,
            |_| true,
            |n| n.to_ascii_lowercase().ends_with(".xml"),
        );
        let mut rows = Vec::new();
        for (r, kind) in top
            .into_iter()
            .map(|r| (r, None))
            .chain(xml.into_iter().map(|r| (r, Some(SELLPER))))
        {
            self.detector.taken(&r.path);
            if let Some(w) = writers {
                w.forget(&r.path);
            }
            if let Some(row) = self.claim(cx, &r, kind, &mut sum)? {
                rows.push(row);
            }
        }
        if !rows.is_empty() {
            sum.absorb(self.process_claimed(cx, rows)?);
        }
        Ok(sum)
    }

    /// Finishes what a failed pass left between claimed and staged or rejected (between passes
    /// nothing else is), so that the loop redoes it without a restart.
    fn finish_local(&mut self, cx: &mut Ctx, sum: &mut Summary) -> Result<()> {
        let rows: Vec<FileRow> = cx
            .journal
            .unfinished()?
            .into_iter()
            .filter(|r| r.origin == Origin::Outbox)
            .filter(|r| {
                matches!(
                    r.state,
                    State::Claimed | State::Rejecting | State::Superseded | State::Unchanged
                )
            })
            .collect();
        let mut claimed = Vec::new();
        for row in rows {
            match row.state {
                State::Claimed => claimed.push(row),
                State::Rejecting => cx.finish_reject(&row)?,
                state => cx.finish_aside(&row, state, state.as_str())?,
            }
        }
        if !claimed.is_empty() {
            sum.absorb(self.process_claimed(cx, claimed)?);
        }
        Ok(())
    }

    /// Moves a file out of the outbox into the work folder, journaled before and after. A
    /// file that cannot be taken as it is ends rejected here.
    fn claim(
        &mut self,
        cx: &mut Ctx,
        r: &Ready,
        kind: Option<&str>,
        sum: &mut Summary,
    ) -> Result<Option<FileRow>> {
        let id = cx.journal.begin(
            &NewFile {
                origin: Origin::Outbox,
                name: &r.name,
                data_type: kind,
                snapshot: false,
                size: r.size,
                hash: "",
                work_path: None,
            },
            State::Claiming,
        )?;
        tracing::debug!(file = %r.name, id, size = r.size, "taken");
        let work = cx.work_path(id, &r.name);
        let shown = match kind {
            Some(k) => format!("{k}/{}", r.name),
            None => r.name.clone(),
        };
        if let Err(e) = fsutil::move_file(&r.path, &work) {
            if e.kind() == io::ErrorKind::NotFound {
                let row = cx.journal.file(id)?.expect("row exists");
                cx.reject_with(
                    &row,
                    codes::FILE_VANISHED,
                    msg!(cx.s.validation.lang, "file-vanished", file = &shown),
                )?;
                sum.rejected.push(shown);
                return Ok(None);
            }
            // Not taken (the outbox folder refused the move): this row ends here, and the file,
            // still in the outbox, is taken as a new one by a later pass.
            let detail = format!("not taken: {e}");
            cx.journal.transition(
                id,
                State::Archived,
                Update {
                    outcome: Some("not taken"),
                    detail: Some(&detail),
                    ..Default::default()
                },
            )?;
            return Err(PipelineError::io(&r.path)(e));
        }
        self.finish_claim(cx, id, &work, sum)
    }

    /// Measures the claimed file, or rejects it when it is not a file to take.
    pub(super) fn finish_claim(
        &mut self,
        cx: &mut Ctx,
        id: i64,
        work: &Path,
        sum: &mut Summary,
    ) -> Result<Option<FileRow>> {
        let w = work.to_string_lossy();
        cx.journal.transition(
            id,
            State::Claiming,
            Update {
                work_path: Some(&w),
                ..Default::default()
            },
        )?;
        let row = cx.journal.file(id)?.expect("row exists");
        let shown = match row.data_type.as_deref() {
            Some(SELLPER) => format!("{SELLPER}/{}", row.name),
            _ => row.name.clone(),
        };
        let lang = cx.s.validation.lang;
        let problem =
            match std::fs::symlink_metadata(work).map(|m| super::detect::kind_of(m.file_type())) {
                Ok(Kind::NotRegular(what)) => Some((
                    codes::FILE_NOT_REGULAR,
                    msg!(lang, "file-not_regular", file = &shown, kind = what),
                )),
                _ if row.name.len() > fsutil::MAX_NAME => Some((
                    codes::NAME_TOO_LONG,
                    msg!(
                        lang,
                        "name-too_long",
                        file = &shown,
                        length = row.name.len(),
                        max = fsutil::MAX_NAME
                    ),
                )),
                _ => None,
            };
        if let Some((code, message)) = problem {
            cx.reject_with(&row, code, message)?;
            sum.rejected.push(shown);
            return Ok(None);
        }
        let (size, hash) = match fsutil::open_regular(work).and_then(|_| fsutil::hash_claimed(work))
        {
            Ok(m) => m,
            Err(e) => {
                cx.reject_with(
                    &row,
                    codes::IO_ERROR,
                    msg!(
                        lang,
                        "io-error-permissions",
                        file = &shown,
                        error = e.to_string()
                    ),
                )?;
                sum.rejected.push(shown);
                return Ok(None);
            }
        };
        cx.journal.transition(
            id,
            State::Claimed,
            Update {
                work_path: Some(&w),
                size: Some(size),
                hash: Some(&hash),
                ..Default::default()
            },
        )?;
        Ok(cx.journal.file(id)?)
    }

    /// Validates claimed files together and stages or rejects each.
    pub(super) fn process_claimed(&mut self, cx: &mut Ctx, rows: Vec<FileRow>) -> Result<Summary> {
        let mut sum = Summary::default();
        let mut data_rows = Vec::new();
        for row in rows {
            if row.data_type.as_deref() == Some(SELLPER) {
                for derived in cx.convert_sellper(&row, &mut sum)? {
                    data_rows.push(derived);
                }
                if let Some(w) = self.watch_if_rejected(cx, &row)? {
                    self.watched.push(w);
                }
                continue;
            }
            if is_unchanged(cx, &row)? {
                cx.finish_aside(&row, State::Unchanged, "unchanged")?;
                sum.unchanged.push(row.name.clone());
                continue;
            }
            data_rows.push(row);
        }
        if data_rows.is_empty() {
            return Ok(sum);
        }
        let mut batch = BatchInput::default();
        let mut order = Vec::new();
        let mut ids = HashMap::new();
        let mut unknown = Vec::new();
        for row in data_rows {
            let work = PathBuf::from(row.work_path.clone().unwrap_or_default());
            // One unreadable file must not fail the batch it is in.
            if let Err(e) = fsutil::open_regular(&work) {
                cx.reject_with(
                    &row,
                    codes::IO_ERROR,
                    msg!(
                        cx.s.validation.lang,
                        "io-error",
                        file = &row.name,
                        error = e.to_string()
                    ),
                )?;
                sum.rejected.push(row.name.clone());
                continue;
            }
            match DataFileName::parse(&row.name, Side::Outbound) {
                Some(n) => {
                    ids.insert(work.clone(), row.id);
                    batch.data.push(DataInput {
                        rel: row.name.clone(),
                        path: work,
                        name: n,
                    });
                    order.push(row);
                }
                None => {
                    batch.unknown.push(row.name.clone());
                    unknown.push(row);
                }
            }
        }
        order.extend(unknown);
        let mirror = super::state::mirror_names(&cx.s.folders.outbox);
        let (outcomes, copies) = {
            let view = cx.portal.view(&cx.journal, &mirror, &cx.s, &batch)?;
            let clones = *self
                .clones
                .get_or_insert_with(|| fsutil::clones_files(&cx.dirs.staging));
            let mut staging = Staging {
                dir: &cx.dirs.staging,
                ids,
                results: HashMap::new(),
                clones,
            };
            let outcomes = cx.validator.validate(&batch, Some(&view), &mut staging)?;
            (outcomes, staging.results)
        };
        let mut ready = Vec::new();
        for (row, o) in order.iter().zip(outcomes) {
            let tmp = cx.dirs.staging.join(format!("{}.json.ce-tmp", row.id));
            let work = PathBuf::from(row.work_path.clone().unwrap_or_default());
            let copy = copies
                .get(&row.id)
                .map(|r| *r.lock().unwrap_or_else(|p| p.into_inner()))
                .unwrap_or(fsutil::CopyOutcome::Unfinished);
            // Where the normalised records are: the copy, or the original itself.
            let normalised = if copy == fsutil::CopyOutcome::Same {
                &work
            } else {
                &tmp
            };
            let usable = o.report.is_ok()
                || (cx.s.validation.policy == crate::compo::validate::Policy::DropRecords
                    && o.report.errors.iter().all(|e| e.record.is_some())
                    && (o.bad_records.len() as u64) < o.report.records.unwrap_or(0));
            tracing::debug!(
                file = %row.name,
                id = row.id,
                records = o.report.records.unwrap_or(0),
                errors = o.report.errors.len(),
                warnings = o.report.warnings.len(),
                // Records left out happen only when the file goes on without them; a file
                // rejected whole drops nothing.
                dropped = if usable { o.bad_records.len() } else { 0 },
                "validated"
            );
            let hold = match (row_type(&row.name), &o.keys) {
                (Some(t), Some(keys)) if usable => cx.mass_delete_hold(row, t, keys)?,
                _ => None,
            };
            if !usable || hold.is_some() {
                let _ = std::fs::remove_file(&tmp);
                let mut report = o.report.clone();
                report.errors.extend(hold);
                cx.reject(row, &report)?;
                if let Some(w) = self.watch_if_rejected(cx, row)? {
                    self.watched.push(w);
                }
                sum.rejected.push(row.name.clone());
                continue;
            }
            let staged = cx.staged_path(row.id);
            if o.report.is_ok() {
                if copy == fsutil::CopyOutcome::Same {
                    // Already in normalised form: staged as our own copy (a clone where the
                    // file system has them), never as a second name of the writer's file, so
                    // that nothing the writer does later reaches the portal.
                    let (size, hash) =
                        fsutil::own_copy(&work, &staged).map_err(PipelineError::io(&staged))?;
                    if size != row.size || hash != row.hash {
                        let _ = std::fs::remove_file(&staged);
                        cx.reject_with(
                            row,
                            codes::IO_ERROR,
                            msg!(
                                cx.s.validation.lang,
                                "io-error-changed",
                                file = &row.name,
                                then = row.size,
                                now = size
                            ),
                        )?;
                        if let Some(w) = self.watch_if_rejected(cx, row)? {
                            self.watched.push(w);
                        }
                        sum.rejected.push(row.name.clone());
                        continue;
                    }
                } else {
                    // On disk before the journal says it is staged.
                    std::fs::File::open(&tmp)
                        .and_then(|f| f.sync_all())
                        .map_err(PipelineError::io(&tmp))?;
                    std::fs::rename(&tmp, &staged).map_err(PipelineError::io(&tmp))?;
                }
                if !o.report.warnings.is_empty() {
                    // What was normalised stays with the original in the archive, so the ERP
                    // team can fix the export at leisure.
                    write_report(&cx.report_tmp(row.id), &o.report)?;
                    // And the operator sees it in `status` and on the page.
                    let count: u64 = o.report.warnings.iter().map(|w| w.count.unwrap_or(1)).sum();
                    let mut codes: Vec<&str> =
                        o.report.warnings.iter().map(|w| w.code.as_str()).collect();
                    codes.sort_unstable();
                    codes.dedup();
                    let text = msg!(
                        cx.s.validation.lang,
                        "normalised-published",
                        file = &row.name,
                        count = count,
                        codes = codes.join(", ")
                    );
                    let at = cx.stamp();
                    cx.journal.warn("normalised", &text, &at)?;
                }
            } else {
                drop_records(normalised, &staged, &o.bad_records)
                    .map_err(PipelineError::io(&staged))?;
                let _ = std::fs::remove_file(&tmp);
                let mut report = o.report.clone();
                report.status = Status::Partial;
                let rp = cx.report_tmp(row.id);
                write_report(&rp, &report)?;
                tracing::warn!(file = %row.name, dropped = o.bad_records.len(), "bad records left out");
            }
            ready.push((row, o, staged));
        }
        // The staged names on disk (one folder flush for the batch) before the journal says so.
        if !ready.is_empty() {
            fsutil::sync_dir(&cx.dirs.staging).map_err(PipelineError::io(&cx.dirs.staging))?;
        }
        for (row, mut o, staged) in ready {
            // Left-out records are not in the staged file: their keys go, and the places of the
            // records after them close up. Taken, not copied: a snapshot's are millions.
            let keys = o.keys.take().unwrap_or_default();
            let keys = if o.report.is_ok() {
                keys
            } else {
                keys.without(&o.bad_records)
            };
            let t = row_type(&row.name);
            let sp = staged.to_string_lossy();
            cx.journal.stage(
                row.id,
                &keys,
                Update {
                    staged_path: Some(&sp),
                    data_type: t.map(|t| t.name()),
                    outcome: Some(if o.report.is_ok() { "valid" } else { "partial" }),
                    errors: Some(o.report.errors.len() as u64),
                    ..Default::default()
                },
            )?;
            if let (Some(t), true) = (t, keys.snapshot) {
                supersede_older(cx, t, row.id, &mut sum)?;
            }
            cx.portal.staged_changed();
            tracing::info!(file = %row.name, records = o.report.records.unwrap_or(0), "validated, staged");
            sum.staged.push(row.name.clone());
        }
        Ok(sum)
    }

    /// A rejected outbox file to watch for growth: a writer may have paused long enough to be
    /// taken for done (spec 3.2 cannot tell), and the rest of its write then lands here.
    fn watch_if_rejected(&self, cx: &Ctx, row: &FileRow) -> Result<Option<Watched>> {
        let Some(now_row) = cx.journal.file(row.id)? else {
            return Ok(None);
        };
        if now_row.state != State::Rejected {
            return Ok(None);
        }
        let Some(path) = now_row.final_path.map(PathBuf::from) else {
            return Ok(None);
        };
        let Ok(md) = std::fs::symlink_metadata(&path) else {
            return Ok(None);
        };
        if !md.is_file() {
            return Ok(None);
        }
        let keep = WATCH_REJECTED.max(cx.s.detect.truncation_grace);
        Ok(Some(Watched {
            path,
            name: row.name.clone(),
            sellper: row.data_type.as_deref() == Some(SELLPER),
            look: Look::of(&md),
            until: crate::schedule::after(cx.now(), keep),
        }))
    }

    /// Puts rejected files that grew since back into the outbox, to be taken again as new
    /// files (their stale reports go: the new take writes its own outcome).
    fn retake_grown(&mut self, cx: &mut Ctx) -> Result<()> {
        if self.watched.is_empty() {
            return Ok(());
        }
        let now = cx.now();
        let mut keep = Vec::new();
        for w in std::mem::take(&mut self.watched) {
            let Ok(md) = std::fs::symlink_metadata(&w.path) else {
                continue;
            };
            let look = Look::of(&md);
            if look.size <= w.look.size || look.id != w.look.id {
                if now < w.until {
                    keep.push(w);
                }
                continue;
            }
            let dir = if w.sellper {
                cx.s.folders.outbox.join(SELLPER)
            } else {
                cx.s.folders.outbox.clone()
            };
            let back = dir.join(&w.name);
            if back.exists() {
                // A newer file of that name is waiting: it wins; this one stays rejected.
                continue;
            }
            fsutil::move_file(&w.path, &back).map_err(PipelineError::io(&w.path))?;
            let _ = std::fs::remove_file(fsutil::report_path(&w.path));
            let message = format!(
                "{} grew after it was rejected: its writer had not finished; taken again as a \
                 new file",
                w.name
            );
            tracing::warn!(file = %w.name, "{message}");
            let at = cx.stamp();
            cx.journal.warn("outbox", &message, &at)?;
        }
        self.watched = keep;
        Ok(())
    }
}

/// Same name and content as what was last published, or as a file already waiting.
fn is_unchanged(cx: &Ctx, row: &FileRow) -> Result<bool> {
    if let Some(prev) = cx.journal.last_done(Origin::Outbox, &row.name)? {
        if prev.hash == row.hash && prev.size == row.size {
            return Ok(true);
        }
    }
    Ok(cx
        .journal
        .all_staged()?
        .iter()
        .any(|s| s.name == row.name && s.hash == row.hash))
}

/// A newer snapshot makes older staged files of its type pointless: it already holds what
/// they would change.
fn supersede_older(cx: &mut Ctx, t: DataType, newer: i64, sum: &mut Summary) -> Result<()> {
    for old in cx.journal.staged(t.name())? {
        if old.id >= newer {
            continue;
        }
        cx.journal.forget_keys(old.id)?;
        let detail = format!("superseded by file {newer}");
        cx.journal.transition(
            old.id,
            State::Superseded,
            Update {
                detail: Some(&detail),
                ..Default::default()
            },
        )?;
        cx.finish_aside(&old, State::Superseded, "superseded")?;
        sum.superseded.push(old.name.clone());
    }
    Ok(())
}

/// The type a data file name holds.
pub(super) fn row_type(name: &str) -> Option<DataType> {
    DataFileName::parse(name, Side::Outbound)
        .or_else(|| DataFileName::parse(name, Side::Inbound))
        .map(|n| n.data_type)
}

/// Copies a staged file (one record per line) without the records at `bad` indices.
fn drop_records(from: &Path, to: &Path, bad: &[u64]) -> io::Result<()> {
    use std::io::BufRead;
    let bad: std::collections::HashSet<u64> = bad.iter().copied().collect();
    let input = io::BufReader::new(std::fs::File::open(from)?);
    fsutil::write_atomic(to, |w| {
        w.write_all(b"[\n")?;
        let mut first = true;
        let mut index = 0u64;
        for line in input.lines() {
            let line = line?;
            let rec = line.trim_end_matches(',');
            if rec == "[" || rec == "]" || rec.is_empty() {
                continue;
            }
            if !bad.contains(&index) {
                if !first {
                    w.write_all(b",\n")?;
                }
                first = false;
                w.write_all(rec.as_bytes())?;
            }
            index += 1;
        }
        w.write_all(b"\n]\n")
    })
}
