//! Partner formats in the exchange: Sellper XML dropped into `outbox/sellper/` is converted to
//! COMPO and then validated and published like any other file; delivered orders and
//! contragents can also be written as Sellper XML into `inbox/sellper/`; and each publish can
//! also write the Prodly request bodies of what was published.

use super::ctx::Ctx;
use super::prodly_state::{self, Converted, StoreState};
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

    /// After a publish: the Prodly request bodies built from what the portal now holds, when
    /// configured: every body built from a type published since the bodies were last written
    /// (the marker of `prodly_state`). A stop between a publish and its bodies leaves the marker
    /// behind, so the next publish writes them: Prodly bodies are written at least once.
    pub(super) fn after_publish(&mut self, _rows: &[FileRow]) -> Result<()> {
        let Some(p) = self.s.prodly.clone() else {
            return Ok(());
        };
        let marker = Converted::path(&self.s.folders.state);
        let now = Converted::now(&self.journal)?;
        let changed = now.changed_since(&Converted::read(&marker));
        let only = prodly_state::bodies_for(&changed);
        if changed.is_empty() {
            return Ok(());
        }
        if !only.is_empty() {
            self.write_prodly_bodies(&p, &only)?;
        }
        now.write(&marker).map_err(PipelineError::io(&marker))?;
        // Staged copies an older release kept for its bodies: the store has their records now.
        let _ = std::fs::remove_dir_all(self.prodly_pending());
        Ok(())
    }

    /// Writes the bodies `only` from the record store into a new folder of `p.out`.
    fn write_prodly_bodies(
        &mut self,
        p: &crate::config::ProdlySettings,
        only: &[prodly::Endpoint],
    ) -> Result<()> {
        let started = std::time::Instant::now();
        std::fs::create_dir_all(&p.out).map_err(PipelineError::io(&p.out))?;
        let stamp = self.now().format("%Y%m%dT%H%M%S%3f").to_string();
        let tmp = p.out.join(format!(".{stamp}.ce-tmp"));
        let mut state = StoreState::new(&self.journal, &mut self.portal, only)?;
        let outcome = prodly::state_to_prodly(
            &mut state,
            StoreState::parts(),
            &tmp,
            &prodly::ProdlyOptions {
                vendor: p.vendor.clone(),
                branch: p.branch.clone(),
            },
            &p.defaults,
            only,
        )
        .map_err(|e| PipelineError::Transient(format!("prodly: {e}")))?;
        // One folder per publish, renamed in whole, so an uploader never sees half a set.
        let dest = p.out.join(&stamp);
        std::fs::rename(&tmp, &dest).map_err(PipelineError::io(&dest))?;
        // Warnings too (a default sent, personal prices held back): nothing is dropped unsaid.
        for r in &outcome.reports {
            if !r.errors.is_empty() {
                tracing::warn!(file = %r.file, errors = r.errors.len(), "records left out of the Prodly bodies");
            }
            super::archive::write_report(
                &dest.join(format!("{}.report.json", r.file.replace('/', "_"))),
                r,
            )?;
        }
        let bodies: Vec<&str> = only.iter().map(|e| e.func()).collect();
        tracing::info!(
            folder = %dest.display(),
            files = outcome.written.len(),
            ?bodies,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "Prodly request bodies written from the record store"
        );
        Ok(())
    }
}
