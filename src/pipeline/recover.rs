//! The recover step, at start: our own temporaries removed, files in `state/` that the
//! journal does not know put back into the outbox (a lost or replaced journal must not strand
//! them), and each file a previous run left in flight finished or redone. What needs the
//! server and cannot reach it now is left to the publish and collect steps, which finish such
//! files before anything new.

use super::ctx::Ctx;
use super::engine::Engine;
use super::{fsutil, server, ErrorKind, PipelineError, Result, Summary};
use crate::journal::{FileRow, Origin, State, Update};
use std::collections::HashSet;
use std::path::Path;

impl Engine {
    /// Finishes or redoes whatever a previous run left in flight, and removes our own
    /// temporaries. Safe to call at any time when nothing else runs.
    pub fn recover(&mut self) -> Result<Summary> {
        let mut sum = Summary::default();
        if let Err(e) = remove_stale_temporaries(&mut self.cx) {
            if e.kind() != ErrorKind::Transient {
                return Err(e);
            }
            // Left for the next start: a stale temporary is hidden from the portal.
            tracing::warn!(error = %e, "the server cannot be reached to remove stale uploads; going on");
        }
        put_back_unknown(&mut self.cx)?;
        let unfinished = self.cx.journal.unfinished()?;
        settle_store(&mut self.cx, &unfinished)?;
        for row in unfinished {
            let r = match row.origin {
                Origin::Outbox => self.recover_outbound(&row, &mut sum),
                Origin::Out => self.collect.finish(&mut self.cx, &row, &mut sum),
            };
            match r {
                Ok(()) => {}
                // The publish or collect step redoes it (and notes the failure) when it runs.
                Err(e) if e.kind() == ErrorKind::Transient => {
                    tracing::warn!(file = %row.name, error = %e, "could not finish now; will retry");
                }
                Err(e) => return Err(e),
            }
        }
        // Prodly bodies a stop kept from being written after a publish come now, not only
        // with the next publish (the marker says which types are behind; none: nothing to do).
        if let Err(e) = self.cx.after_publish(&[]) {
            tracing::warn!(error = %e, "Prodly bodies not written at start; the next publish writes them");
        }
        Ok(sum)
    }

    /// Finishes or redoes an outbound file's step after a restart.
    fn recover_outbound(&mut self, row: &FileRow, sum: &mut Summary) -> Result<()> {
        let cx = &mut self.cx;
        match row.state {
            State::Claiming => {
                let work = cx.work_path(row.id, &row.name);
                let src = match row.data_type.as_deref() {
                    Some(super::take::SELLPER) => {
                        cx.s.folders
                            .outbox
                            .join(super::take::SELLPER)
                            .join(&row.name)
                    }
                    _ => cx.s.folders.outbox.join(&row.name),
                };
                let exists = |p: &Path| std::fs::symlink_metadata(p).is_ok();
                if !exists(&work) && exists(&src) {
                    fsutil::move_file(&src, &work).map_err(PipelineError::io(&src))?;
                }
                if exists(&work) {
                    if let Some(r) = self.take.finish_claim(cx, row.id, &work, sum)? {
                        sum.absorb(self.take.process_claimed(cx, vec![r])?);
                    }
                } else {
                    cx.journal.transition(
                        row.id,
                        State::Archived,
                        Update {
                            outcome: Some("vanished"),
                            ..Default::default()
                        },
                    )?;
                }
            }
            State::Claimed => sum.absorb(self.take.process_claimed(cx, vec![row.clone()])?),
            // What recovery finishes is counted like what the pass does itself, so `once`
            // never says "0 published" after finishing a file a crash had left uploaded.
            State::Rejecting => {
                cx.finish_reject(row)?;
                sum.rejected.push(row.name.clone());
            }
            State::Superseded => {
                cx.finish_aside(row, State::Superseded, "superseded")?;
                sum.superseded.push(row.name.clone());
            }
            State::Unchanged => {
                cx.finish_aside(row, State::Unchanged, "unchanged")?;
                sum.unchanged.push(row.name.clone());
            }
            State::Publishing | State::Uploaded | State::Published => {
                let Some(t) = row
                    .data_type
                    .as_deref()
                    .and_then(crate::compo::model::DataType::from_name)
                else {
                    // Only data files are ever published; a row without a type is damage.
                    return cx.reject_with(
                        row,
                        crate::compo::report::codes::IO_ERROR,
                        crate::compo::messages::msg!(
                            cx.s.validation.lang,
                            "io-error-lost-type",
                            file = &row.name
                        ),
                    );
                };
                cx.ensure_server(super::ctx::Side::In)?;
                if self.publish.redo(cx, row, t)? {
                    sum.published.push(row.name.clone());
                } else {
                    sum.rejected.push(row.name.clone());
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// Start-up care of the record store: layer files no index names (a crash between writing a
/// layer and the transaction that names it) go, and a changes-only type that a crash caught
/// mid-publish gets its next snapshot published in full, as the processor cannot vouch for
/// what the portal made of the interrupted file.
fn settle_store(cx: &mut Ctx, unfinished: &[FileRow]) -> Result<()> {
    use crate::compo::model::DataType;
    use crate::journal::portal::layers;
    let store = cx.journal.store_dir().to_path_buf();
    for t in DataType::ALL {
        let keep = cx.journal.holding(t)?.map(|h| h.layers).unwrap_or_default();
        layers::remove_unnamed(&store, t, &keep).map_err(PipelineError::io(&store))?;
    }
    for row in unfinished {
        let in_flight = matches!(
            row.state,
            State::Publishing | State::Uploaded | State::Published
        );
        let t = row.data_type.as_deref().and_then(DataType::from_name);
        if let (true, Some(t)) = (in_flight && row.origin == Origin::Outbox, t) {
            if cx.s.publish.changes_only.contains(&t) {
                let why = format!(
                    "the processor stopped while publishing {} (state {})",
                    row.name, row.state
                );
                cx.journal.doubt(t, &why)?;
                cx.portal.reload(t);
                tracing::info!(file = %row.name, "{why}: the next snapshot of {} goes out in full", t.name());
            }
        }
    }
    Ok(())
}

fn remove_stale_temporaries(cx: &mut Ctx) -> Result<()> {
    let keep: HashSet<String> = cx
        .journal
        .unfinished()?
        .into_iter()
        .filter(|r| r.state == State::Uploaded)
        .filter_map(|r| r.target_name.map(|t| super::publish::hidden_name(&t, r.id)))
        .collect();
    // Local temporaries first: they need no server.
    for dir in [&cx.dirs.staging, &cx.s.folders.inbox, &cx.dirs.incoming] {
        if let Ok(rd) = std::fs::read_dir(dir) {
            for e in rd.flatten() {
                let n = e.file_name().to_string_lossy().into_owned();
                if n.ends_with(".ce-tmp") && !keep.contains(&n) {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
    }
    // A mirror folder on the server may hold 100,000 files: it is listed only when the
    // journal says an upload into it was cut off (its progress row never finished).
    let cut_off: HashSet<String> = cx
        .journal
        .progress()?
        .into_iter()
        .filter(|p| !p.finished)
        .map(|p| p.job)
        .collect();
    let mut dirs = vec![server::IN.to_string()];
    let mut jobs = Vec::new();
    for f in crate::compo::model::AttachedFolder::ALL {
        let job = super::attached::job_name(f);
        if cut_off.contains(&job) {
            dirs.push(format!("{}/{}", server::IN, f.name()));
            jobs.push(job);
        }
    }
    for dir in &dirs {
        crate::transport::temporary::clean(&*cx.transport, dir, |n| keep.contains(n))?;
    }
    cx.journal.note_server_offer(&*cx.transport)?;
    for job in jobs {
        cx.journal.finish_progress(&job)?;
    }
    Ok(())
}

/// Files in `state/work/` and `state/staging/` that no unfinished journal row accounts for
/// (the journal was lost or replaced while they were in flight): originals go back into the
/// outbox to be taken again, staged copies (made from an original) are dropped.
fn put_back_unknown(cx: &mut Ctx) -> Result<()> {
    let rows = cx.journal.unfinished()?;
    let known_work: HashSet<std::path::PathBuf> = rows
        .iter()
        .flat_map(|r| {
            [
                Some(cx.work_path(r.id, &r.name)),
                r.work_path.as_ref().map(std::path::PathBuf::from),
            ]
        })
        .flatten()
        .collect();
    let known_ids: HashSet<i64> = rows.iter().map(|r| r.id).collect();
    let work = cx.dirs.work.clone();
    if let Ok(rd) = std::fs::read_dir(&work) {
        for e in rd.flatten() {
            let path = e.path();
            let n = e.file_name().to_string_lossy().into_owned();
            if known_work.contains(&path) || n.starts_with('.') {
                continue;
            }
            let Some((id, name)) = n.split_once('-') else {
                continue;
            };
            let Ok(id) = id.parse::<i64>() else { continue };
            if known_ids.contains(&id) {
                continue;
            }
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                // A conversion's scratch folder: made again from its source.
                let _ = std::fs::remove_dir_all(&path);
                continue;
            }
            let dir = if name.to_ascii_lowercase().ends_with(".xml") {
                cx.s.folders.outbox.join(super::take::SELLPER)
            } else {
                cx.s.folders.outbox.clone()
            };
            let back = dir.join(name);
            if std::fs::symlink_metadata(&back).is_ok() {
                // A newer file of that name waits in the outbox; this one stays for a later
                // start rather than replace it.
                tracing::warn!(file = name, kept = %path.display(), "a file the journal does not know is in state/work/, and the outbox has a newer one of that name");
                continue;
            }
            fsutil::move_file(&path, &back).map_err(PipelineError::io(&path))?;
            let message = format!(
                "{name} was in state/work/ but not in the journal (lost or replaced?): put back \
                 into the outbox to be taken again"
            );
            tracing::warn!(file = name, "{message}");
            let at = cx.stamp();
            cx.journal.warn("state", &message, &at)?;
        }
    }
    let staging = cx.dirs.staging.clone();
    if let Ok(rd) = std::fs::read_dir(&staging) {
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            let Some(id) = n.strip_suffix(".json").and_then(|i| i.parse::<i64>().ok()) else {
                continue;
            };
            if !known_ids.contains(&id) {
                let _ = std::fs::remove_file(e.path());
                tracing::warn!(file = %n, "a staged copy the journal does not know was dropped (its original is taken again)");
            }
        }
    }
    Ok(())
}
