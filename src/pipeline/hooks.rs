//! Partner formats in the exchange: Sellper XML dropped into `outbox/sellper/` is converted to
//! COMPO and then validated and published like any other file; delivered orders and
//! contragents can also be written as Sellper XML into `inbox/sellper/`; and each publish can
//! also write the Prodly request bodies of what was published.

use super::ctx::Ctx;
use super::{fsutil, PipelineError, Result, Summary};
use crate::compo::report::{Report, Status};
use crate::formats::{prodly, sellper};
use crate::journal::{FileRow, NewFile, Origin, State, Update};
use std::path::Path;

impl Ctx {
    /// Converts a claimed Sellper XML file. Its COMPO files enter the pipeline as claimed files
    /// of their own; the XML itself is archived, or rejected with the bridge's report.
    pub(super) fn convert_sellper(
        &mut self,
        row: &FileRow,
        sum: &mut Summary,
    ) -> Result<Vec<FileRow>> {
        let work = std::path::PathBuf::from(row.work_path.clone().unwrap_or_default());
        let out = self.dirs.work.join(format!("{}-sellper", row.id));
        let _ = std::fs::remove_dir_all(&out);
        let outcome =
            sellper::sellper_to_compo_with(std::slice::from_ref(&work), &out, &self.s.sellper)
                .map_err(|e| PipelineError::Transient(format!("sellper: {e}")))?;
        let mut report = outcome
            .reports
            .into_iter()
            .next()
            .unwrap_or_else(|| Report::new(&row.name, Some("sellper".into())));
        report.file = format!("sellper/{}", row.name);
        if !report.errors.is_empty() {
            let _ = std::fs::remove_dir_all(&out);
            self.reject(row, &report)?;
            sum.rejected.push(format!("sellper/{}", row.name));
            return Ok(Vec::new());
        }
        let mut derived = Vec::new();
        for path in outcome.written {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let (size, hash) = fsutil::hash_file(&path).map_err(PipelineError::io(&path))?;
            let id = self.journal.begin(
                &NewFile {
                    origin: Origin::Outbox,
                    name: &name,
                    data_type: None,
                    snapshot: false,
                    size,
                    hash: &hash,
                    work_path: None,
                },
                State::Claiming,
            )?;
            let work_path = self.work_path(id, &name);
            fsutil::move_file(&path, &work_path).map_err(PipelineError::io(&path))?;
            let w = work_path.to_string_lossy();
            let detail = format!("converted from sellper/{} (file {})", row.name, row.id);
            self.journal.transition(
                id,
                State::Claimed,
                Update {
                    work_path: Some(&w),
                    detail: Some(&detail),
                    ..Default::default()
                },
            )?;
            derived.extend(self.journal.file(id)?);
        }
        let _ = std::fs::remove_dir_all(&out);
        if !report.warnings.is_empty() {
            report.status = Status::Valid;
            let rp = self.dirs.reports.join(format!("{}.report.json", row.id));
            super::archive::write_report(&rp, &report)?;
        }
        let names: Vec<&str> = derived.iter().map(|r| r.name.as_str()).collect();
        tracing::info!(file = %row.name, into = ?names, "Sellper XML converted");
        self.finish_aside(row, State::Archived, "converted")?;
        Ok(derived)
    }

    /// After an `out/` file reached the inbox: its Sellper XML too, when configured.
    pub(super) fn after_delivery(&mut self, row: &FileRow, delivered: &Path) -> Result<()> {
        let wanted = matches!(row.data_type.as_deref(), Some("orders" | "contragents"));
        if !self.s.sellper_xml || !wanted {
            return Ok(());
        }
        let dir = self.s.folders.inbox.join("sellper");
        // Written beside, then renamed in: the ERP never sees a half-written XML.
        let tmp = self.dirs.incoming.join(format!("{}-sellper", row.id));
        let _ = std::fs::remove_dir_all(&tmp);
        let outcome =
            sellper::compo_to_sellper_with(&[delivered.to_path_buf()], &tmp, &self.s.sellper)
                .map_err(|e| PipelineError::Transient(format!("sellper: {e}")))?;
        std::fs::create_dir_all(&dir).map_err(PipelineError::io(&dir))?;
        for p in &outcome.written {
            let name = p.file_name().unwrap_or_default();
            fsutil::move_file(p, &dir.join(name)).map_err(PipelineError::io(p))?;
        }
        for r in outcome.reports.iter().filter(|r| !r.errors.is_empty()) {
            tracing::warn!(file = %r.file, errors = r.errors.len(), "some records have no Sellper form");
        }
        let _ = std::fs::remove_dir_all(&tmp);
        Ok(())
    }

    /// After a publish: the Prodly request bodies of what was published, when configured.
    /// Files published but not yet converted (a crash in between) are converted at the next
    /// publish: Prodly bodies are written at least once.
    pub(super) fn after_publish(&mut self, _rows: &[FileRow]) -> Result<()> {
        let Some(p) = self.s.prodly.clone() else {
            return Ok(());
        };
        let pending = self.prodly_pending();
        let mut inputs: Vec<std::path::PathBuf> = walkdir::WalkDir::new(&pending)
            .sort_by_file_name()
            .into_iter()
            .flatten()
            .filter(|e| e.file_type().is_file())
            .map(|e| e.into_path())
            .collect();
        inputs.sort_by_key(|p| {
            let id: i64 = p
                .parent()
                .and_then(|d| d.file_name())
                .and_then(|n| n.to_str())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            id
        });
        if inputs.is_empty() {
            return Ok(());
        }
        std::fs::create_dir_all(&p.out).map_err(PipelineError::io(&p.out))?;
        let stamp = self.now().format("%Y%m%dT%H%M%S%3f").to_string();
        let tmp = p.out.join(format!(".{stamp}.ce-tmp"));
        let outcome = prodly::compo_to_prodly_with(
            &inputs,
            &tmp,
            &prodly::ProdlyOptions {
                vendor: p.vendor.clone(),
                branch: p.branch.clone(),
            },
            &p.defaults,
        )
        .map_err(|e| PipelineError::Transient(format!("prodly: {e}")))?;
        // One folder per publish, renamed in whole, so an uploader never sees half a set.
        let dest = p.out.join(&stamp);
        std::fs::rename(&tmp, &dest).map_err(PipelineError::io(&dest))?;
        for r in outcome.reports.iter().filter(|r| !r.errors.is_empty()) {
            tracing::warn!(file = %r.file, errors = r.errors.len(), "records left out of the Prodly bodies");
            super::archive::write_report(
                &dest.join(format!("{}.report.json", r.file.replace('/', "_"))),
                r,
            )?;
        }
        tracing::info!(folder = %dest.display(), files = outcome.written.len(), "Prodly request bodies written");
        let _ = std::fs::remove_dir_all(&pending);
        Ok(())
    }
}
