//! The collect step, `out/` → inbox: poll, download, validate, deliver, acknowledge.
//!
//! There are no change events over SFTP, so `out/` is polled, and a file is taken by the settle
//! rule of [`super::settle`] (the same look over the settle time; polls are a minute apart in
//! the daemon, and the server's mtime may have 1-second precision). A file that cannot be
//! handled ends rejected with its report; the others flow on.

use super::ctx::{Ctx, Side};
use super::settle::{Look, Settle};
use super::{fsutil, server, PipelineError, Result, Summary};
use crate::compo::messages::msg;
use crate::compo::model::{DataFileName, Side as NameSide};
use crate::compo::report::codes;
use crate::compo::validate::{BatchInput, DataInput, Quiet};
use crate::journal::{FileRow, NewFile, Origin, State, Update};
use std::path::PathBuf;

pub(super) struct Collect {
    /// Looks of `out/` files, until they settle.
    pub out: Settle<String>,
}

impl Collect {
    pub fn new(cx: &Ctx) -> Collect {
        Collect {
            out: Settle::new(cx.s.detect.settle),
        }
    }

    /// Finishes what a failure left half-way, polls `out/` and takes the settled files.
    pub fn run(&mut self, cx: &mut Ctx) -> Result<Summary> {
        cx.ensure_server(Side::Out)?;
        let mut sum = Summary::default();
        for row in cx.journal.unfinished()? {
            if row.origin == Origin::Out {
                super::publish::with_row(row.id, self.finish(cx, &row, &mut sum))?;
            }
        }
        let entries = cx.transport.list(server::OUT)?;
        let now = cx.now();
        let mut stable = Vec::new();
        let mut present = std::collections::HashSet::new();
        for e in entries {
            if crate::compo::model::is_temporary_name(&e.name) || e.name == "archive" {
                continue;
            }
            present.insert(e.name.clone());
            let look = Look {
                size: e.size,
                mtime: e.mtime,
                id: u64::from(e.is_dir),
            };
            let quiet = self.out.observe(&e.name, look, now, false);
            if self.out.is_settled(quiet) {
                stable.push(e);
            }
        }
        self.out.retain(|n| present.contains(n));
        let mut rows = Vec::new();
        let mut first_err = None;
        for e in stable {
            self.out.forget(&e.name);
            match self.download(cx, &e, &mut sum) {
                Ok(Some(row)) => rows.push(row),
                Ok(None) => {}
                // One file that cannot be read now does not keep the others.
                Err(err) if err.kind() == super::ErrorKind::Transient => {
                    tracing::warn!(file = %e.name, error = %err, "could not download; will retry");
                    first_err.get_or_insert(err);
                }
                Err(err) => return Err(err),
            }
        }
        if !rows.is_empty() {
            sum.absorb(self.process(cx, rows)?);
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(sum),
        }
    }

    /// Polls twice a settle time apart, for `once`.
    pub fn run_settled(&mut self, cx: &mut Ctx) -> Result<Summary> {
        let mut sum = self.run(cx)?;
        if !self.out.is_empty() {
            let wait = self.out.settle().max(std::time::Duration::from_millis(10));
            cx.clock.sleep_until(
                crate::schedule::after(cx.now(), wait),
                &crate::schedule::Shutdown::new(),
            );
            sum.absorb(self.run(cx)?);
        }
        Ok(sum)
    }

    /// Downloads an `out/` file to a local temporary, checks its size, records it. What is not
    /// a file to take is recorded and rejected at once.
    fn download(
        &mut self,
        cx: &mut Ctx,
        e: &crate::transport::Entry,
        sum: &mut Summary,
    ) -> Result<Option<FileRow>> {
        let name = e.name.as_str();
        let begin = |cx: &mut Ctx, hash: &str| {
            cx.journal.begin(
                &NewFile {
                    origin: Origin::Out,
                    name,
                    data_type: super::take::row_type(name).map(|t| t.name()),
                    snapshot: false,
                    size: e.size,
                    hash,
                    work_path: None,
                },
                State::Downloaded,
            )
        };
        let problem = if e.is_dir {
            Some((
                codes::FILE_NOT_REGULAR,
                msg!(cx.s.validation.lang, "file-not_regular-out", file = name),
            ))
        } else if name.len() > fsutil::MAX_NAME {
            Some((
                codes::NAME_TOO_LONG,
                msg!(
                    cx.s.validation.lang,
                    "name-too_long",
                    file = name,
                    length = name.len(),
                    max = fsutil::MAX_NAME
                ),
            ))
        } else {
            None
        };
        let tmp = cx.dirs.incoming.join(format!(
            ".{}.ce-tmp",
            fsutil::storable(name, fsutil::name_tag(name))
        ));
        let remote = crate::transport::join(server::OUT, name);
        if e.is_dir {
            let id = begin(cx, "")?;
            let row = cx.journal.file(id)?.expect("row exists");
            let (code, message) = problem.expect("a folder is a problem");
            cx.reject_with(&row, code, message)?;
            sum.rejected.push(name.to_string());
            return Ok(None);
        }
        let got = {
            let mut f = std::fs::File::create(&tmp).map_err(PipelineError::io(&tmp))?;
            let n = match cx.transport.read_to(&remote, &mut f) {
                Ok(n) => n,
                Err(crate::transport::TransportError::NotFound { .. }) => {
                    // The portal took it back: nothing to do.
                    let _ = std::fs::remove_file(&tmp);
                    return Ok(None);
                }
                Err(err) => {
                    let _ = std::fs::remove_file(&tmp);
                    return Err(err.into());
                }
            };
            f.sync_all().map_err(PipelineError::io(&tmp))?;
            n
        };
        if got != e.size {
            // Changed while we read it: look again at the next poll.
            let _ = std::fs::remove_file(&tmp);
            tracing::debug!(file = name, "changed while downloading; will retry");
            return Ok(None);
        }
        let (_, hash) = fsutil::hash_file(&tmp).map_err(PipelineError::io(&tmp))?;
        let id = begin(cx, &hash)?;
        let work = cx.incoming_path(id, name);
        std::fs::rename(&tmp, &work).map_err(PipelineError::io(&tmp))?;
        let w = work.to_string_lossy();
        cx.journal.transition(
            id,
            State::Downloaded,
            Update {
                work_path: Some(&w),
                ..Default::default()
            },
        )?;
        let row = cx.journal.file(id)?.expect("row exists");
        if let Some((code, message)) = problem {
            cx.reject_with(&row, code, message)?;
            sum.rejected.push(name.to_string());
            return Ok(None);
        }
        Ok(Some(row))
    }

    fn process(&mut self, cx: &mut Ctx, rows: Vec<FileRow>) -> Result<Summary> {
        let mut sum = Summary::default();
        let mut fresh = Vec::new();
        for row in rows {
            let dup = cx
                .journal
                .last_done(Origin::Out, &row.name)?
                .is_some_and(|p| p.hash == row.hash && p.size == row.size && p.id != row.id);
            if dup {
                tracing::info!(file = %row.name, "already delivered; acknowledging only");
                cx.acknowledge(&row)?;
                archive_inbound(cx, &row)?;
                cx.journal.transition(
                    row.id,
                    State::Acknowledged,
                    Update {
                        outcome: Some("duplicate"),
                        ..Default::default()
                    },
                )?;
                continue;
            }
            fresh.push(row);
        }
        if fresh.is_empty() {
            return Ok(sum);
        }
        let mut batch = BatchInput::default();
        let mut order = Vec::new();
        let mut unknown = Vec::new();
        for row in fresh {
            let path = cx.incoming_path(row.id, &row.name);
            match DataFileName::parse(&row.name, NameSide::Inbound) {
                Some(n) if n.data_type.is_inbound() => {
                    batch.data.push(DataInput {
                        rel: row.name.clone(),
                        path,
                        name: n,
                    });
                    order.push(row);
                }
                _ => {
                    batch.unknown.push(row.name.clone());
                    unknown.push(row);
                }
            }
        }
        order.extend(unknown);
        let mirror = super::state::mirror_names(&cx.s.folders.outbox);
        let outcomes = {
            let view = cx.portal.view(&cx.journal, &mirror, &cx.s, &batch)?;
            cx.validator.validate(&batch, Some(&view), &mut Quiet)?
        };
        for (row, o) in order.iter().zip(outcomes) {
            if o.report.is_ok() {
                super::publish::with_row(row.id, deliver(cx, row))?;
                sum.delivered.push(row.name.clone());
            } else {
                let row = cx.journal.file(row.id)?.expect("row exists");
                cx.reject(&row, &o.report)?;
                sum.rejected.push(row.name.clone());
            }
        }
        Ok(sum)
    }

    /// Finishes an inbound row's step after a failure or a restart.
    pub(super) fn finish(&mut self, cx: &mut Ctx, row: &FileRow, sum: &mut Summary) -> Result<()> {
        match row.state {
            State::Downloaded => {
                if cx.incoming_path(row.id, &row.name).exists() {
                    sum.absorb(self.process(cx, vec![row.clone()])?);
                } else {
                    // The download never completed; the file is still in out/ and is taken
                    // again at the next poll.
                    cx.journal.transition(
                        row.id,
                        State::Acknowledged,
                        Update {
                            outcome: Some("abandoned"),
                            ..Default::default()
                        },
                    )?;
                }
            }
            // Counted like a delivery of this pass (`once` reports what recovery finished).
            State::Delivering => {
                let target = row.target_name.clone().unwrap_or_else(|| row.name.clone());
                copy_to_inbox(cx, row.id, &row.name, &target)?;
                finish_delivery(cx, row.id)?;
                sum.delivered.push(row.name.clone());
            }
            State::Uploaded => {
                finish_delivery(cx, row.id)?;
                sum.delivered.push(row.name.clone());
            }
            State::Delivered => finish_acknowledge(cx, row)?,
            State::Rejecting => {
                cx.finish_reject(row)?;
                sum.rejected.push(row.name.clone());
            }
            _ => {}
        }
        cx.journal.clear_failure(row.id)?;
        Ok(())
    }
}

fn deliver(cx: &mut Ctx, row: &FileRow) -> Result<()> {
    let inbox = cx.s.folders.inbox.clone();
    let target = fsutil::free_name(&inbox, &fsutil::storable(&row.name, row.id));
    let target_name = target.file_name().unwrap().to_string_lossy().into_owned();
    cx.journal.transition(
        row.id,
        State::Delivering,
        Update {
            target_name: Some(&target_name),
            ..Default::default()
        },
    )?;
    copy_to_inbox(cx, row.id, &row.name, &target_name)?;
    finish_delivery(cx, row.id)
}

fn hidden_inbox(cx: &Ctx, id: i64, target: &str) -> PathBuf {
    cx.s.folders
        .inbox
        .join(super::publish::hidden_name(target, id))
}

fn copy_to_inbox(cx: &mut Ctx, id: i64, name: &str, target: &str) -> Result<()> {
    let src = cx.incoming_path(id, name);
    let hidden = hidden_inbox(cx, id, target);
    fsutil::copy_atomic(&src, &hidden).map_err(PipelineError::io(&hidden))?;
    cx.journal
        .transition(id, State::Uploaded, Update::default())?;
    Ok(())
}

fn finish_delivery(cx: &mut Ctx, id: i64) -> Result<()> {
    let row = cx.journal.file(id)?.expect("row exists");
    let target = row.target_name.clone().unwrap_or_else(|| row.name.clone());
    let hidden = hidden_inbox(cx, id, &target);
    let to = cx.s.folders.inbox.join(&target);
    if hidden.exists() {
        std::fs::rename(&hidden, &to).map_err(PipelineError::io(&hidden))?;
        fsutil::sync_dir(&cx.s.folders.inbox).map_err(PipelineError::io(&to))?;
    }
    cx.journal
        .transition(id, State::Delivered, Update::default())?;
    tracing::info!(file = %row.name, to = %to.display(), "delivered");
    cx.after_delivery(&row, &to)?;
    finish_acknowledge(cx, &row)
}

fn finish_acknowledge(cx: &mut Ctx, row: &FileRow) -> Result<()> {
    cx.acknowledge(row)?;
    archive_inbound(cx, row)?;
    cx.journal
        .transition(row.id, State::Acknowledged, Update::default())?;
    Ok(())
}

fn archive_inbound(cx: &mut Ctx, row: &FileRow) -> Result<()> {
    let src = cx.incoming_path(row.id, &row.name);
    let dir = cx.archive_dir().join("out");
    cx.archive_to(row, &dir, &src, None)
}
