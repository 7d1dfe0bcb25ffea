//! The end of every file: its original archived (published, delivered, unchanged, superseded)
//! or rejected beside its report, under a name chosen once and recorded before anything moves,
//! and never over another file: a reused name gets a label of its own, locally and in the
//! server's `out/archive/` alike.

use super::ctx::Ctx;
use super::{fsutil, server, PipelineError, Result};
use crate::compo::report::{Issue, Report, Status};
use crate::journal::{FileRow, Origin, State, Update};
use std::path::{Path, PathBuf};

impl Ctx {
    /// Today's archive folder (the engine's clock decides what today is).
    pub fn archive_dir(&self) -> PathBuf {
        self.s
            .folders
            .archive
            .join(self.now().format("%Y-%m-%d").to_string())
    }

    /// Today's folder in `rejected/`, dated like the archive's, so that a day's rejections
    /// are found together and retention can remove whole days.
    pub fn rejected_dir(&self) -> PathBuf {
        self.s
            .folders
            .rejected
            .join(self.now().format("%Y-%m-%d").to_string())
    }

    /// Archives a file that will not be published (unchanged, superseded, converted).
    pub fn finish_aside(&mut self, row: &FileRow, state: State, outcome: &str) -> Result<()> {
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
        // Not published, and said so: an operator looking for the file finds why.
        let archived = self.journal.file(row.id)?.and_then(|r| r.final_path);
        tracing::info!(
            file = %row.name,
            archived = archived.as_deref().unwrap_or("-"),
            "archived without publishing: {outcome}"
        );
        Ok(())
    }

    /// Moves the original (and a report waiting beside it) into today's archive folder.
    pub fn archive_original(&mut self, row: &FileRow) -> Result<()> {
        let work = self.work_path(row.id, &row.name);
        let report = self.report_tmp(row.id);
        let dir = self.archive_dir();
        self.archive_to(row, &dir, &work, Some(&report))
    }

    /// Moves `src` (and `report`, when there is one) into `dir`, under a name chosen once and
    /// recorded in the journal before anything moves, so that a restart finishes the move
    /// under the same name. Both directions archive through here.
    pub fn archive_to(
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
                if std::fs::symlink_metadata(src).is_err() {
                    return Ok(());
                }
                std::fs::create_dir_all(dir).map_err(PipelineError::io(dir))?;
                let to = fsutil::free_name(dir, &fsutil::storable(&row.name, row.id));
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
        if std::fs::symlink_metadata(src).is_ok() {
            fsutil::move_file(src, &to).map_err(PipelineError::io(src))?;
            tracing::debug!(file = %row.name, id = row.id, to = %to.display(), "moved into the archive");
        }
        Ok(())
    }

    /// Writes the report and moves the original into today's folder in `rejected/`, under a
    /// name that fits (the original name is inside the report).
    pub fn reject(&mut self, row: &FileRow, report: &Report) -> Result<()> {
        let rp = self.report_tmp(row.id);
        let mut report = report.clone();
        report.status = Status::Rejected;
        report.file = row.name.clone();
        write_report(&rp, &report)?;
        // The name in rejected/ is chosen once, before anything moves.
        let dir = self.rejected_dir();
        std::fs::create_dir_all(&dir).map_err(PipelineError::io(&dir))?;
        let to = fsutil::free_name(&dir, &fsutil::storable(&row.name, row.id));
        self.journal.transition(
            row.id,
            State::Rejecting,
            Update {
                errors: Some(report.errors.len() as u64),
                final_path: Some(&to.to_string_lossy()),
                ..Default::default()
            },
        )?;
        let first = report.errors.first();
        tracing::warn!(
            file = %row.name,
            errors = report.errors.len(),
            code = first.map(|e| e.code.as_str()).unwrap_or(""),
            first = first.map(|e| e.message.as_str()).unwrap_or(""),
            report = %fsutil::report_path(&to).display(),
            "rejected"
        );
        let row = self.journal.file(row.id)?.expect("row exists");
        self.finish_reject(&row)
    }

    /// Rejects a file with a single problem about the whole file.
    pub fn reject_with(&mut self, row: &FileRow, code: &str, message: String) -> Result<()> {
        let mut r = Report::new(&row.name, row.data_type.clone());
        r.errors.push(Issue::file(code, message));
        r.settle();
        self.reject(row, &r)
    }

    pub fn finish_reject(&mut self, row: &FileRow) -> Result<()> {
        let work = PathBuf::from(
            row.work_path
                .clone()
                .unwrap_or_else(|| self.work_path(row.id, &row.name).to_string_lossy().into()),
        );
        let to = match &row.final_path {
            Some(p) => PathBuf::from(p),
            None => {
                let dir = self.rejected_dir();
                std::fs::create_dir_all(&dir).map_err(PipelineError::io(&dir))?;
                fsutil::free_name(&dir, &fsutil::storable(&row.name, row.id))
            }
        };
        let rp = self.report_tmp(row.id);
        if rp.exists() {
            fsutil::move_file(&rp, &fsutil::report_path(&to)).map_err(PipelineError::io(&rp))?;
        }
        if std::fs::symlink_metadata(&work).is_ok() {
            fsutil::move_file(&work, &to).map_err(PipelineError::io(&work))?;
        }
        if row.origin == Origin::Out {
            self.acknowledge(row)?;
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

    /// Moves an `out/` file into `out/archive/` (done only once the file is safe locally),
    /// under a label of its own when the portal reused a name already archived. A file now in
    /// `out/` under that name but of another size is a new one the portal wrote since: it is
    /// left for the next collect.
    pub fn acknowledge(&mut self, row: &FileRow) -> Result<()> {
        let from = crate::transport::join(server::OUT, &row.name);
        match self.transport.stat(&from)? {
            Some(e) if e.size == row.size => {}
            _ => return Ok(()),
        }
        let mut to = crate::transport::join(server::OUT_ARCHIVE, &row.name);
        let mut n = 1;
        while self.transport.stat(&to)?.is_some() {
            n += 1;
            let (stem, ext) = match row.name.rsplit_once('.') {
                Some((s, e)) => (s, format!(".{e}")),
                None => (row.name.as_str(), String::new()),
            };
            to = crate::transport::join(server::OUT_ARCHIVE, &format!("{stem}-{n}{ext}"));
        }
        if n > 1 {
            tracing::warn!(file = %row.name, archived_as = %to, "the portal reused a name already in out/archive/; archived under a new label");
        }
        self.transport.rename(&from, &to)?;
        Ok(())
    }
}

pub(super) fn write_report(path: &Path, report: &Report) -> Result<()> {
    fsutil::write_atomic(path, |w| {
        serde_json::to_writer_pretty(&mut *w, report).map_err(std::io::Error::other)?;
        w.write_all(b"\n")
    })
    .map_err(PipelineError::io(path))
}
