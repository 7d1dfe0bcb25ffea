//! Outbox → `in/`: claim, validate and transform, stage or reject, publish, archive.

use super::{fsutil, server, Engine, PipelineError, Result, Summary};
use crate::compo::model::{AttachedFolder, DataFileName, DataType, Side};
use crate::compo::report::{Report, Status};
use crate::compo::validate::{BatchInput, DataInput, Observer};
use crate::journal::{FileRow, NewFile, Origin, State, Update};
use crate::schedule::Job;
use std::collections::{BTreeSet, HashMap};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The hidden name a file is uploaded under before it is renamed onto `target`.
pub(super) fn hidden_name(target: &str, id: i64) -> String {
    format!(".{target}.{id}.ce-up")
}

/// Today's archive folder.
pub(super) fn archive_dir(archive: &Path) -> PathBuf {
    archive.join(chrono::Local::now().format("%Y-%m-%d").to_string())
}

/// The kind of file a row holds, from where it was found.
const SELLPER: &str = "sellper";

/// Writes the normalised copy of each data file into the staging folder, or notes that the
/// original already is in normalised form.
struct Staging<'a> {
    dir: &'a Path,
    ids: HashMap<PathBuf, i64>,
    results: HashMap<i64, fsutil::CopyResult>,
}

impl Observer for Staging<'_> {
    fn output(&mut self, file: &DataInput) -> io::Result<Option<Box<dyn Write + Send>>> {
        let id = self.ids[&file.path];
        let tmp = self.dir.join(format!("{id}.json.ce-tmp"));
        let (w, result) = fsutil::CopyUnlessSame::new(&file.path, &tmp)?;
        self.results.insert(id, result);
        Ok(Some(Box::new(w)))
    }
}

impl Engine {
    fn work_path(&self, id: i64, name: &str) -> PathBuf {
        self.dirs.work.join(format!("{id}-{name}"))
    }

    pub(super) fn prodly_pending(&self) -> PathBuf {
        self.s.folders.state.join("prodly-pending")
    }

    fn staged_path(&self, id: i64) -> PathBuf {
        self.dirs.staging.join(format!("{id}.json"))
    }

    fn report_tmp(&self, id: i64) -> PathBuf {
        self.dirs.reports.join(format!("{id}.report.json"))
    }

    /// Takes every settled file of the outbox through validation to staged or rejected.
    pub fn take_outbox(&mut self, now: Instant) -> Result<Summary> {
        let outbox = self.s.folders.outbox.clone();
        let mut ready = self.detector.scan(&outbox, now, true, |_| true);
        let sellper = outbox.join(SELLPER);
        let xml = self.detector.scan(&sellper, now, false, |_| true);
        let mut rows = Vec::new();
        for r in ready.drain(..) {
            if let Some(row) = self.claim(&r.path, &r.name, r.size, None)? {
                rows.push(row);
            }
            self.detector.taken(&r.path);
        }
        for r in xml {
            if let Some(row) = self.claim(&r.path, &r.name, r.size, Some(SELLPER))? {
                rows.push(row);
            }
            self.detector.taken(&r.path);
        }
        if rows.is_empty() {
            return Ok(Summary::default());
        }
        self.process_claimed(rows)
    }

    /// Moves a file out of the outbox into the work folder, journaled before and after.
    fn claim(
        &mut self,
        path: &Path,
        name: &str,
        size: u64,
        kind: Option<&str>,
    ) -> Result<Option<FileRow>> {
        let id = self.journal.begin(
            &NewFile {
                origin: Origin::Outbox,
                name,
                data_type: kind,
                snapshot: false,
                size,
                hash: "",
                work_path: None,
            },
            State::Claiming,
        )?;
        let work = self.work_path(id, name);
        if let Err(e) = fsutil::move_file(path, &work) {
            if e.kind() == io::ErrorKind::NotFound {
                tracing::warn!(file = name, "vanished from the outbox before it was taken");
                self.journal.transition(
                    id,
                    State::Archived,
                    Update {
                        outcome: Some("vanished"),
                        ..Default::default()
                    },
                )?;
                return Ok(None);
            }
            return Err(PipelineError::io(path)(e));
        }
        self.finish_claim(id, &work)
    }

    fn finish_claim(&mut self, id: i64, work: &Path) -> Result<Option<FileRow>> {
        let (size, hash) = fsutil::hash_claimed(work).map_err(PipelineError::io(work))?;
        let w = work.to_string_lossy();
        self.journal.transition(
            id,
            State::Claimed,
            Update {
                work_path: Some(&w),
                size: Some(size),
                hash: Some(&hash),
                ..Default::default()
            },
        )?;
        Ok(self.journal.file(id)?)
    }

    /// Validates claimed files together and stages or rejects each.
    pub(super) fn process_claimed(&mut self, rows: Vec<FileRow>) -> Result<Summary> {
        let mut sum = Summary::default();
        let mut data_rows = Vec::new();
        for row in rows {
            if row.data_type.as_deref() == Some(SELLPER) {
                for derived in self.convert_sellper(&row, &mut sum)? {
                    data_rows.push(derived);
                }
                continue;
            }
            if self.is_unchanged(&row)? {
                self.finish_aside(&row, State::Unchanged, "unchanged")?;
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
        for row in &data_rows {
            let work = PathBuf::from(row.work_path.clone().unwrap_or_default());
            match DataFileName::parse(&row.name, Side::Outbound) {
                Some(n) => {
                    ids.insert(work.clone(), row.id);
                    batch.data.push(DataInput {
                        rel: row.name.clone(),
                        path: work,
                        name: n,
                    });
                    order.push(row.clone());
                }
                None => batch.unknown.push(row.name.clone()),
            }
        }
        for row in &data_rows {
            if DataFileName::parse(&row.name, Side::Outbound).is_none() {
                order.push(row.clone());
            }
        }
        let mirror = super::state::mirror_names(&self.s.folders.outbox);
        let (outcomes, copies) = {
            let view = self.portal.view(&self.journal, &mirror)?;
            let mut staging = Staging {
                dir: &self.dirs.staging,
                ids,
                results: HashMap::new(),
            };
            let outcomes = self.validator.validate(&batch, Some(&view), &mut staging)?;
            (outcomes, staging.results)
        };
        let mut ready = Vec::new();
        for (row, o) in order.iter().zip(outcomes) {
            let tmp = self.dirs.staging.join(format!("{}.json.ce-tmp", row.id));
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
                || (self.s.validation.policy == crate::compo::validate::Policy::DropRecords
                    && o.report.errors.iter().all(|e| e.record.is_some())
                    && (o.bad_records.len() as u64) < o.report.records.unwrap_or(0));
            let hold = match (row_type(&row.name), &o.keys) {
                (Some(t), Some(keys)) if usable => self.mass_delete_hold(row, t, keys)?,
                _ => None,
            };
            if !usable || hold.is_some() {
                let _ = std::fs::remove_file(&tmp);
                let mut report = o.report.clone();
                report.errors.extend(hold);
                self.reject(row, &report)?;
                sum.rejected.push(row.name.clone());
                continue;
            }
            let staged = self.staged_path(row.id);
            if o.report.is_ok() {
                // On disk before the journal says it is staged: the original leaves the work
                // folder once this copy is published. An original already in normalised form
                // is staged as a second name of the same file, not copied.
                std::fs::File::open(normalised)
                    .and_then(|f| f.sync_all())
                    .map_err(PipelineError::io(normalised))?;
                if copy == fsutil::CopyOutcome::Same {
                    let _ = std::fs::remove_file(&staged);
                    if std::fs::hard_link(&work, &staged).is_err() {
                        fsutil::copy_atomic(&work, &staged).map_err(PipelineError::io(&staged))?;
                    }
                } else {
                    std::fs::rename(&tmp, &staged).map_err(PipelineError::io(&tmp))?;
                }
                if !o.report.warnings.is_empty() {
                    // What was normalised stays with the original in the archive, so the ERP
                    // team can fix the export at leisure.
                    write_report(&self.report_tmp(row.id), &o.report)?;
                }
            } else {
                drop_records(normalised, &staged, &o.bad_records)
                    .map_err(PipelineError::io(&staged))?;
                let _ = std::fs::remove_file(&tmp);
                let mut report = o.report.clone();
                report.status = Status::Partial;
                let rp = self.report_tmp(row.id);
                write_report(&rp, &report)?;
                tracing::warn!(file = %row.name, dropped = o.bad_records.len(), "bad records left out");
            }
            ready.push((row, o, staged));
        }
        // The staged names on disk (one folder flush for the batch) before the journal says so.
        if !ready.is_empty() {
            fsutil::sync_dir(&self.dirs.staging).map_err(PipelineError::io(&self.dirs.staging))?;
        }
        for (row, o, staged) in ready {
            let keys = o.keys.clone().unwrap_or_default();
            let t = row_type(&row.name);
            let sp = staged.to_string_lossy();
            self.journal.stage(
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
                self.supersede_older(t, row.id, &mut sum)?;
            }
            self.portal.staged_changed();
            tracing::info!(file = %row.name, records = o.report.records.unwrap_or(0), "validated, staged");
            sum.staged.push(row.name.clone());
        }
        Ok(sum)
    }

    /// Same name and content as what was last published, or as a file already waiting.
    fn is_unchanged(&self, row: &FileRow) -> Result<bool> {
        if let Some(prev) = self.journal.last_done(Origin::Outbox, &row.name)? {
            if prev.hash == row.hash && prev.size == row.size {
                return Ok(true);
            }
        }
        Ok(self
            .journal
            .all_staged()?
            .iter()
            .any(|s| s.name == row.name && s.hash == row.hash))
    }

    /// A newer snapshot makes older staged files of its type pointless: it already holds what
    /// they would change.
    fn supersede_older(&mut self, t: DataType, newer: i64, sum: &mut Summary) -> Result<()> {
        for old in self.journal.staged(t.name())? {
            if old.id >= newer {
                continue;
            }
            self.journal.forget_keys(old.id)?;
            let detail = format!("superseded by file {newer}");
            self.journal.transition(
                old.id,
                State::Superseded,
                Update {
                    detail: Some(&detail),
                    ..Default::default()
                },
            )?;
            self.finish_aside(&old, State::Superseded, "superseded")?;
            sum.superseded.push(old.name.clone());
        }
        Ok(())
    }

    /// Archives a file that will not be published (unchanged, superseded).
    pub(super) fn finish_aside(
        &mut self,
        row: &FileRow,
        state: State,
        outcome: &str,
    ) -> Result<()> {
        if row.state != state {
            self.journal.transition(row.id, state, Update::default())?;
        }
        self.archive_original(row)?;
        if let Some(sp) = &row.staged_path {
            let _ = std::fs::remove_file(sp);
        }
        self.journal.transition(
            row.id,
            State::Archived,
            Update {
                outcome: Some(outcome),
                ..Default::default()
            },
        )?;
        Ok(())
    }

    /// Moves the original (and a report waiting beside it) into today's archive folder.
    fn archive_original(&mut self, row: &FileRow) -> Result<()> {
        let work = self.work_path(row.id, &row.name);
        let report = self.report_tmp(row.id);
        let dir = archive_dir(&self.s.folders.archive);
        self.archive_to(row, &dir, &work, Some(&report))
    }

    /// Moves `src` (and `report`, when there is one) into `dir`, under a name chosen once and
    /// recorded in the journal before anything moves, so that a restart finishes the move
    /// under the same name. Both directions archive through here.
    pub(super) fn archive_to(
        &mut self,
        row: &FileRow,
        dir: &Path,
        src: &Path,
        report: Option<&Path>,
    ) -> Result<()> {
        let current = self.journal.file(row.id)?;
        let to = match current.as_ref().and_then(|r| r.final_path.clone()) {
            Some(p) => PathBuf::from(p),
            None => {
                if !src.exists() {
                    return Ok(());
                }
                std::fs::create_dir_all(dir).map_err(PipelineError::io(dir))?;
                let to = fsutil::free_name(dir, &row.name);
                let state = current.map(|r| r.state).unwrap_or(row.state);
                self.journal.transition(
                    row.id,
                    state,
                    Update {
                        final_path: Some(&to.to_string_lossy()),
                        detail: Some("archiving"),
                        ..Default::default()
                    },
                )?;
                to
            }
        };
        if let Some(rp) = report.filter(|rp| rp.exists()) {
            fsutil::move_file(rp, &fsutil::report_path(&to)).map_err(PipelineError::io(rp))?;
        }
        if src.exists() {
            fsutil::move_file(src, &to).map_err(PipelineError::io(src))?;
        }
        Ok(())
    }

    /// Writes the report and moves the original into `rejected/`.
    pub(super) fn reject(&mut self, row: &FileRow, report: &Report) -> Result<()> {
        let rp = self.report_tmp(row.id);
        let mut report = report.clone();
        report.status = Status::Rejected;
        report.file = row.name.clone();
        write_report(&rp, &report)?;
        // The name in rejected/ is chosen once, before anything moves.
        let to = fsutil::free_name(&self.s.folders.rejected, &row.name);
        self.journal.transition(
            row.id,
            State::Rejecting,
            Update {
                errors: Some(report.errors.len() as u64),
                final_path: Some(&to.to_string_lossy()),
                ..Default::default()
            },
        )?;
        tracing::warn!(file = %row.name, errors = report.errors.len(), "rejected");
        let row = self.journal.file(row.id)?.expect("row exists");
        self.finish_reject(&row)
    }

    pub(super) fn finish_reject(&mut self, row: &FileRow) -> Result<()> {
        let work = PathBuf::from(
            row.work_path
                .clone()
                .unwrap_or_else(|| self.work_path(row.id, &row.name).to_string_lossy().into()),
        );
        let to = match &row.final_path {
            Some(p) => PathBuf::from(p),
            None => fsutil::free_name(&self.s.folders.rejected, &row.name),
        };
        let rp = self.report_tmp(row.id);
        if rp.exists() {
            fsutil::move_file(&rp, &fsutil::report_path(&to)).map_err(PipelineError::io(&rp))?;
        }
        if work.exists() {
            fsutil::move_file(&work, &to).map_err(PipelineError::io(&work))?;
        }
        if row.origin == Origin::Out {
            self.acknowledge(&row.name)?;
        }
        self.journal.transition(
            row.id,
            State::Rejected,
            Update {
                outcome: Some("rejected"),
                target_name: Some(&to.to_string_lossy()),
                ..Default::default()
            },
        )?;
        Ok(())
    }

    /// Publishes what is staged for the due jobs, attached files first, in dependency order.
    /// A due type also publishes the staged files of the types it refers to, so the portal never
    /// sees a reference to a record that is still waiting for its own schedule.
    pub fn publish(&mut self, jobs: &[Job]) -> Result<Summary> {
        let mut sum = Summary::default();
        let mut types: BTreeSet<DataType> = BTreeSet::new();
        let mut stack: Vec<DataType> = jobs
            .iter()
            .filter_map(|j| match j {
                Job::Data(t) => Some(*t),
                _ => None,
            })
            .collect();
        let staged: BTreeSet<DataType> = self
            .journal
            .all_staged()?
            .iter()
            .filter_map(|r| r.data_type.as_deref().and_then(DataType::from_name))
            .collect();
        stack.retain(|t| staged.contains(t));
        while let Some(t) = stack.pop() {
            if types.insert(t) {
                for r in t.references() {
                    if staged.contains(&r.target) {
                        stack.push(r.target);
                    }
                }
            }
        }
        let folders: Vec<AttachedFolder> = if types.is_empty() {
            jobs.iter()
                .filter_map(|j| match j {
                    Job::Attached(f) => Some(*f),
                    _ => None,
                })
                .collect()
        } else {
            AttachedFolder::ALL.to_vec()
        };
        for f in folders {
            sum.absorb(self.sync_attached(f)?);
        }
        let mut published = Vec::new();
        for t in types {
            for row in self.journal.staged(t.name())? {
                self.publish_one(&row, t)?;
                sum.published.push(row.name.clone());
                published.push(row);
            }
        }
        if !published.is_empty() {
            self.after_publish(&published)?;
        }
        Ok(sum)
    }

    fn target_name(&self, row: &FileRow, t: DataType) -> Result<String> {
        if row.snapshot {
            return Ok(row.name.clone());
        }
        // An unlabelled or reused delta name must not replace a delta the portal has not
        // imported yet: give it a label of its own.
        let in_path = crate::transport::join(server::IN, &row.name);
        if self.transport.stat(&in_path)?.is_none() {
            return Ok(row.name.clone());
        }
        let stem = row.name.trim_end_matches(".json");
        let label = match stem.split_once(".delta-") {
            Some((_, l)) => format!("{}-ce{}", &l[..l.len().min(48)], row.id),
            None => format!("ce{}", row.id),
        };
        Ok(format!("{}.delta-{label}.json", t.name()))
    }

    fn publish_one(&mut self, row: &FileRow, t: DataType) -> Result<()> {
        let target = self.target_name(row, t)?;
        self.journal.transition(
            row.id,
            State::Publishing,
            Update {
                target_name: Some(&target),
                ..Default::default()
            },
        )?;
        self.upload(row, &target)?;
        self.finish_upload(row.id, t)
    }

    /// Uploads the staged copy under its hidden name and notes it complete.
    pub(super) fn upload(&mut self, row: &FileRow, target: &str) -> Result<()> {
        let id = row.id;
        let staged = self.staged_path(id);
        let hidden = crate::transport::join(server::IN, &hidden_name(target, id));
        let local_size = std::fs::metadata(&staged)
            .map_err(PipelineError::io(&staged))?
            .len();
        // A staged file that is the original itself (see `CopyUnlessSame`) has the hash taken
        // at claim.
        let known = row
            .work_path
            .as_deref()
            .filter(|w| fsutil::same_file(Path::new(w), &staged))
            .map(|_| crate::transport::Written {
                size: row.size,
                hash: row.hash.clone(),
            });
        let w = self.transport.put_file(&staged, &hidden, known.as_ref())?;
        let remote = self.transport.stat(&hidden)?.map(|e| e.size);
        if w.size != local_size || remote != Some(local_size) {
            return Err(PipelineError::Setup(format!(
                "{hidden}: wrote {} of {local_size} bytes, server has {remote:?}; will retry",
                w.size
            )));
        }
        self.journal.transition(
            id,
            State::Uploaded,
            Update {
                detail: Some(&w.hash),
                ..Default::default()
            },
        )?;
        Ok(())
    }

    /// Renames the hidden upload onto its name (unless a previous run did) and records it.
    pub(super) fn finish_upload(&mut self, id: i64, t: DataType) -> Result<()> {
        let row = self.journal.file(id)?.expect("row exists");
        let target = row.target_name.clone().unwrap_or_else(|| row.name.clone());
        let hidden = crate::transport::join(server::IN, &hidden_name(&target, id));
        if self.transport.stat(&hidden)?.is_some() {
            self.transport
                .rename(&hidden, &crate::transport::join(server::IN, &target))?;
        }
        let keys = self.journal.staged_keys(id)?.unwrap_or_default();
        let set = self.portal.after(&self.journal, t, keys)?;
        self.journal
            .publish(id, t, set.as_ref(), Update::default())?;
        self.portal.set_published(t, set);
        tracing::info!(file = %row.name, to = %target, "published");
        self.finish_published(&row)
    }

    pub(super) fn finish_published(&mut self, row: &FileRow) -> Result<()> {
        self.archive_original(row)?;
        let staged = self.staged_path(row.id);
        if self.s.prodly.is_some() && staged.exists() {
            // Kept (normalised, UTF-8) for the Prodly bodies written after this publish.
            let keep = self
                .prodly_pending()
                .join(row.id.to_string())
                .join(&row.name);
            fsutil::move_file(&staged, &keep).map_err(PipelineError::io(&staged))?;
        }
        let _ = std::fs::remove_file(staged);
        self.journal
            .transition(row.id, State::Archived, Update::default())?;
        Ok(())
    }

    /// Finishes or redoes an outbound file's step after a restart.
    pub(super) fn recover_outbound(&mut self, row: &FileRow, sum: &mut Summary) -> Result<()> {
        match row.state {
            State::Claiming => {
                let work = self.work_path(row.id, &row.name);
                let src = match row.data_type.as_deref() {
                    Some(SELLPER) => self.s.folders.outbox.join(SELLPER).join(&row.name),
                    _ => self.s.folders.outbox.join(&row.name),
                };
                if !work.exists() && src.exists() {
                    fsutil::move_file(&src, &work).map_err(PipelineError::io(&src))?;
                }
                if work.exists() {
                    if let Some(r) = self.finish_claim(row.id, &work)? {
                        sum.absorb(self.process_claimed(vec![r])?);
                    }
                } else {
                    self.journal.transition(
                        row.id,
                        State::Archived,
                        Update {
                            outcome: Some("vanished"),
                            ..Default::default()
                        },
                    )?;
                }
            }
            State::Claimed => sum.absorb(self.process_claimed(vec![row.clone()])?),
            State::Rejecting => self.finish_reject(row)?,
            State::Superseded => self.finish_aside(row, State::Superseded, "superseded")?,
            State::Unchanged => self.finish_aside(row, State::Unchanged, "unchanged")?,
            State::Publishing | State::Uploaded => {
                let t = row
                    .data_type
                    .as_deref()
                    .and_then(DataType::from_name)
                    .ok_or_else(|| PipelineError::Setup(format!("file {}: no type", row.id)))?;
                if row.state == State::Publishing {
                    let target = row.target_name.clone().unwrap_or_else(|| row.name.clone());
                    self.upload(row, &target)?;
                }
                self.finish_upload(row.id, t)?;
            }
            State::Published => self.finish_published(row)?,
            _ => {}
        }
        Ok(())
    }
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

pub(super) fn write_report(path: &Path, report: &Report) -> Result<()> {
    fsutil::write_atomic(path, |w| {
        serde_json::to_writer_pretty(&mut *w, report).map_err(io::Error::other)?;
        w.write_all(b"\n")
    })
    .map_err(PipelineError::io(path))
}
