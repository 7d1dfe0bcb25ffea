//! The publish step, staging → `in/`: attached files first, then the staged files of the due
//! types in dependency order, each uploaded under a hidden name, noted complete in the journal,
//! renamed onto its name and its original archived. A file left half-way by a failure (or a
//! crash) is finished by the next attempt at its type, within the same process.

use super::changes::{self, Plan};
use super::ctx::{Ctx, Side};
use super::settle::Settle;
use super::{server, PipelineError, Result, Summary};
use crate::compo::model::{AttachedFolder, DataType};
use crate::compo::report::codes;
use crate::journal::portal::layers;
use crate::journal::{FileRow, Origin, State, Update};
use crate::schedule::Job;
use std::collections::BTreeSet;

/// The hidden name a file is uploaded under before it is renamed onto `target`.
pub(super) fn hidden_name(target: &str, id: i64) -> String {
    crate::transport::temporary::upload_name(target, id)
}

pub(super) struct Publish {
    /// Threads for attached-file transfers: as many as the server takes sessions at once.
    pub io_pool: rayon::ThreadPool,
    /// Whether an attached-file sync waits for files still being written (`once`, which has
    /// no next pass to leave them to) or leaves them to the next sync (the daemon).
    pub wait_for_attached: bool,
    /// Mirror files seen changing, until they settle.
    pub mirror: Settle<(AttachedFolder, String)>,
}

/// Rows of `t` that a failure or a crash left between "publishing" and "archived".
fn in_flight(cx: &Ctx, t: Option<DataType>) -> Result<Vec<FileRow>> {
    Ok(cx
        .journal
        .unfinished()?
        .into_iter()
        .filter(|r| r.origin == Origin::Outbox)
        .filter(|r| {
            matches!(
                r.state,
                State::Publishing | State::Uploaded | State::Published
            )
        })
        .filter(|r| t.is_none() || r.data_type.as_deref() == t.map(|t| t.name()))
        .collect())
}

impl Publish {
    pub fn new(cx: &Ctx) -> Result<Publish> {
        let io_threads = match cx.s.server {
            crate::config::ServerLocation::Sftp(_) => cx.s.server_raw.pool_size.unwrap_or(4),
            crate::config::ServerLocation::Local(_) => 8,
        };
        let io_pool = rayon::ThreadPoolBuilder::new()
            .num_threads(io_threads.clamp(1, 64))
            .thread_name(|i| format!("compo-io-{i}"))
            .build()
            .map_err(|e| PipelineError::Setup(format!("I/O threads: {e}")))?;
        Ok(Publish {
            io_pool,
            wait_for_attached: false,
            mirror: Settle::new(cx.s.detect.settle),
        })
    }

    /// Publishes what is staged for the due jobs, attached files first, in dependency order.
    /// A due type also publishes the staged files of the types it refers to, so the portal never
    /// sees a reference to a record that is still waiting for its own schedule; when one of
    /// those fails, the type that refers to it waits too, and every other type goes on.
    pub fn run(&mut self, cx: &mut Ctx, jobs: &[Job]) -> Outcome {
        let mut out = Outcome::default();
        if let Err(e) = self.run_inner(cx, jobs, &mut out) {
            out.fail(jobs.to_vec(), e);
        }
        out
    }

    fn run_inner(&mut self, cx: &mut Ctx, jobs: &[Job], out: &mut Outcome) -> Result<()> {
        let waiting: BTreeSet<DataType> = cx
            .journal
            .all_staged()?
            .iter()
            .chain(in_flight(cx, None)?.iter())
            .filter_map(|r| r.data_type.as_deref().and_then(DataType::from_name))
            .collect();
        // Each due type with the waiting types it refers to, directly or not.
        let closure = |t: DataType| {
            let mut set = BTreeSet::new();
            let mut stack = vec![t];
            while let Some(t) = stack.pop() {
                if waiting.contains(&t) && set.insert(t) {
                    stack.extend(t.references().iter().map(|r| r.target));
                }
            }
            set
        };
        let due: Vec<(Job, BTreeSet<DataType>)> = jobs
            .iter()
            .filter_map(|j| match j {
                Job::Data(t) => Some((*j, closure(*t))),
                _ => None,
            })
            .collect();
        let types: BTreeSet<DataType> = due.iter().flat_map(|(_, c)| c.iter().copied()).collect();
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
        if folders.is_empty() && types.is_empty() {
            return Ok(());
        }
        cx.ensure_server(Side::In)?;
        let data_jobs: Vec<Job> = due.iter().map(|(j, _)| *j).collect();
        for f in folders {
            match self.sync_attached(cx, f) {
                Ok(sum) => out.sum.absorb(sum),
                Err(e) => {
                    // Data may name any attached file: none goes before its files.
                    let mut held: Vec<Job> = vec![Job::Attached(f)];
                    held.extend(&data_jobs);
                    out.fail(held, e);
                    return Ok(());
                }
            }
        }
        let mut failed: BTreeSet<DataType> = BTreeSet::new();
        let mut published = Vec::new();
        for t in types {
            if t.references().iter().any(|r| failed.contains(&r.target)) {
                failed.insert(t);
                continue;
            }
            if let Err(e) = self.publish_type(cx, t, &mut out.sum, &mut published) {
                failed.insert(t);
                let held: Vec<Job> = due
                    .iter()
                    .filter(|(_, c)| c.contains(&t))
                    .map(|(j, _)| *j)
                    .collect();
                out.fail(held, e);
            }
        }
        if !published.is_empty() {
            cx.after_publish(&published)?;
        }
        Ok(())
    }

    /// What a failure left half-way first (deltas go out in arrival order), then the staged.
    fn publish_type(
        &mut self,
        cx: &mut Ctx,
        t: DataType,
        sum: &mut Summary,
        published: &mut Vec<FileRow>,
    ) -> Result<()> {
        for row in in_flight(cx, Some(t))? {
            if self.redo(cx, &row, t)? {
                sum.published.push(row.name.clone());
                published.push(row);
            }
        }
        for row in cx.journal.staged(t.name())? {
            let mut sent = Sent::Rejected;
            with_row(row.id, self.publish_one(cx, &row, t).map(|s| sent = s))?;
            match sent {
                Sent::Published => {
                    sum.published.push(row.name.clone());
                    published.push(row);
                }
                Sent::Unchanged => sum.unchanged.push(row.name.clone()),
                Sent::Rejected => sum.rejected.push(row.name.clone()),
            }
        }
        Ok(())
    }

    /// Finishes a row left between publishing and archived; false when it ended rejected.
    pub(super) fn redo(&mut self, cx: &mut Ctx, row: &FileRow, t: DataType) -> Result<bool> {
        let r = match row.state {
            State::Publishing => {
                let target = row.target_name.clone().unwrap_or_else(|| row.name.clone());
                match self.upload(cx, row, &target) {
                    Ok(()) => self.finish_upload(cx, row.id, t, true),
                    Err(e) => Err(e),
                }
            }
            State::Uploaded => self.finish_upload(cx, row.id, t, true),
            State::Published => finish_published(cx, row),
            _ => Ok(()),
        };
        match r {
            Err(PipelineError::File { message, .. }) => {
                cx.reject_with(row, codes::IO_ERROR, message)?;
                cx.journal.clear_failure(row.id)?;
                Ok(false)
            }
            other => with_row(row.id, other).map(|()| true),
        }
    }

    fn target_name(&self, cx: &Ctx, row: &FileRow, t: DataType) -> Result<String> {
        if row.snapshot {
            return Ok(row.name.clone());
        }
        // An unlabelled or reused delta name must not replace a delta the portal has not
        // imported yet: give it a label of its own.
        let in_path = crate::transport::join(server::IN, &row.name);
        if cx.transport.stat(&in_path)?.is_none() {
            return Ok(row.name.clone());
        }
        let stem = row.name.trim_end_matches(".json");
        let label = match stem.split_once(".delta-") {
            Some((_, l)) => {
                let mut end = l.len().min(48);
                while !l.is_char_boundary(end) {
                    end -= 1;
                }
                format!("{}-ce{}", &l[..end], row.id)
            }
            None => format!("ce{}", row.id),
        };
        Ok(format!("{}.delta-{label}.json", t.name()))
    }

    /// Publishes one staged file: as it is, or (changes-only types) as the delta of what
    /// changed, or not at all when nothing did.
    fn publish_one(&mut self, cx: &mut Ctx, row: &FileRow, t: DataType) -> Result<Sent> {
        let target = match changes::plan(cx, row, t)? {
            Some(Plan::Nothing) => {
                let held = cx
                    .portal
                    .complete(&cx.journal, t)?
                    .map_or(0, |h| h.entries.len());
                tracing::info!(
                    file = %row.name,
                    records = held,
                    "nothing changed on the portal: not published (publish.changes_only)"
                );
                cx.journal.forget_keys(row.id)?;
                cx.finish_aside(row, State::Unchanged, "unchanged")?;
                return Ok(Sent::Unchanged);
            }
            Some(Plan::Delta { path, target, keys }) => {
                let p = path.to_string_lossy();
                cx.journal.restage(
                    row.id,
                    &keys,
                    State::Publishing,
                    Update {
                        target_name: Some(&target),
                        staged_path: Some(&p),
                        ..Default::default()
                    },
                )?;
                target
            }
            plan => {
                if let Some(Plan::Full(why)) = plan {
                    tracing::info!(file = %row.name, "published in full: {why}");
                }
                let target = self.target_name(cx, row, t)?;
                cx.journal.transition(
                    row.id,
                    State::Publishing,
                    Update {
                        target_name: Some(&target),
                        ..Default::default()
                    },
                )?;
                target
            }
        };
        let row = cx.journal.file(row.id)?.expect("row exists");
        match self.upload(cx, &row, &target) {
            Ok(()) => {}
            Err(PipelineError::File { message, .. }) => {
                // The staged copy is gone: the original is kept with the report.
                cx.reject_with(&row, codes::IO_ERROR, message)?;
                return Ok(Sent::Rejected);
            }
            Err(e) => return Err(e),
        }
        self.finish_upload(cx, row.id, t, false)?;
        Ok(Sent::Published)
    }

    /// Uploads the staged copy under its hidden name and notes it complete.
    pub(super) fn upload(&mut self, cx: &mut Ctx, row: &FileRow, target: &str) -> Result<()> {
        let id = row.id;
        let staged = published_copy(cx, row);
        let hidden = crate::transport::join(server::IN, &hidden_name(target, id));
        let local_size = match std::fs::metadata(&staged) {
            Ok(m) => m.len(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(PipelineError::File {
                    name: row.name.clone(),
                    message: format!(
                        "the validated copy of \"{}\" was lost before it could be published \
                         (state/staging/ was changed by hand?); nothing was published. Drop \
                         the file into the outbox again",
                        row.name
                    ),
                });
            }
            Err(e) => return Err(PipelineError::io(&staged)(e)),
        };
        let w = cx.transport.put_file(&staged, &hidden, None)?;
        tracing::debug!(file = %row.name, id, to = %hidden, size = w.size, "upload sent");
        let remote = cx.transport.stat(&hidden)?.map(|e| e.size);
        if w.size != local_size || remote != Some(local_size) {
            return Err(PipelineError::Transient(format!(
                "{hidden}: wrote {} of {local_size} bytes, server has {remote:?}",
                w.size
            )));
        }
        cx.journal.transition(
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
    /// After a failed attempt (`cleanup`), the temporary a cut-off upload may have left beside
    /// the hidden name goes first.
    pub(super) fn finish_upload(
        &mut self,
        cx: &mut Ctx,
        id: i64,
        t: DataType,
        cleanup: bool,
    ) -> Result<()> {
        let row = cx.journal.file(id)?.expect("row exists");
        let target = row.target_name.clone().unwrap_or_else(|| row.name.clone());
        let hidden = crate::transport::join(server::IN, &hidden_name(&target, id));
        if cleanup {
            cx.transport.remove(&crate::transport::part_name(&hidden))?;
        }
        if cx.transport.stat(&hidden)?.is_some() {
            cx.transport
                .rename(&hidden, &crate::transport::join(server::IN, &target))?;
            tracing::debug!(file = %row.name, id, from = %hidden, to = %target, "renamed");
        }
        let keys = cx.journal.staged_keys(id)?.unwrap_or_default();
        // A delta made from a snapshot (changes-only) is published from its own file.
        let from_snapshot = published_copy(cx, &row) != cx.staged_path(id);
        // The published text becomes a layer of the record store before the journal names it.
        let before = cx.portal.holding(&cx.journal, t)?;
        let layer = before.map_or(0, |h| h.next_layer);
        let store = cx.journal.store_dir().to_path_buf();
        let kept = match layers::add(&store, t, layer, &published_copy(cx, &row)) {
            Ok(()) => Some(layer),
            Err(e) => {
                tracing::warn!(file = %row.name, "the record store could not keep the published text: {e}");
                None
            }
        };
        let at = cx.stamp();
        let (holding, mut figures) = cx.portal.after(&cx.journal, t, keys, kept, &at)?;
        figures.from_snapshot = from_snapshot;
        cx.journal
            .publish(id, t, &holding, &figures, Update::default())?;
        let _ = layers::remove_unnamed(&store, t, &holding.layers);
        tracing::info!(
            file = %row.name,
            to = %target,
            changes = %changes::describe(&figures),
            "published"
        );
        match compact_if_worth(cx, t, holding) {
            Some(holding) => cx.portal.set_published(t, holding),
            None => cx.portal.forget(t),
        }
        finish_published(cx, &row)
    }
}

/// How one staged file ended.
enum Sent {
    Published,
    /// A changes-only snapshot that changed nothing on the portal.
    Unchanged,
    Rejected,
}

/// The file that is uploaded for `row`: its staged copy, or the delta made from it.
fn published_copy(cx: &Ctx, row: &FileRow) -> std::path::PathBuf {
    match &row.staged_path {
        Some(p) if p.ends_with(".changes.json") => p.into(),
        _ => cx.staged_path(row.id),
    }
}

/// The holding a publish left, its layers rewritten into one when deltas have piled up on
/// them; `None` when it must be read again from the journal. A failure costs nothing but the
/// saving: the old layers stay named.
fn compact_if_worth(
    cx: &mut Ctx,
    t: DataType,
    mut h: crate::journal::Holding,
) -> Option<crate::journal::Holding> {
    let store = cx.journal.store_dir().to_path_buf();
    if !layers::worth_compacting(&store, t, &h) {
        return Some(h);
    }
    let old = h.layers.clone();
    if let Err(e) = layers::compact(&store, t, &mut h) {
        let _ = layers::remove_unnamed(&store, t, &old);
        tracing::warn!(data_type = t.name(), "record store: compaction failed: {e}");
        return Some(h);
    }
    match cx.journal.relayer(t, &h) {
        Ok(()) => {
            let _ = layers::remove_unnamed(&store, t, &h.layers);
            tracing::debug!(data_type = t.name(), "record store: layers compacted");
            Some(h)
        }
        Err(e) => {
            // The journal still names the old layers: they stay, the new one goes, and the
            // renumbered index in memory is dropped.
            let _ = layers::remove_unnamed(&store, t, &old);
            tracing::warn!(data_type = t.name(), "record store: compaction failed: {e}");
            None
        }
    }
}

/// Archives the original of a published file and drops its staged copy.
pub(super) fn finish_published(cx: &mut Ctx, row: &FileRow) -> Result<()> {
    cx.archive_original(row)?;
    let delta = changes::delta_path(cx, row.id);
    let _ = std::fs::remove_file(delta);
    // The Prodly bodies read the record store, which keeps the published text as a layer.
    let _ = std::fs::remove_file(cx.staged_path(row.id));
    cx.journal
        .transition(row.id, State::Archived, Update::default())?;
    cx.journal.clear_failure(row.id)?;
    Ok(())
}

/// What a publish did, and which of the jobs it was given failed and why (the others went on).
#[derive(Default)]
pub struct Outcome {
    pub sum: Summary,
    /// The jobs each error held back; an error appears once, with every job it concerns.
    pub failed: Vec<(Vec<Job>, PipelineError)>,
}

impl Outcome {
    fn fail(&mut self, jobs: Vec<Job>, e: PipelineError) {
        self.failed.push((jobs, e));
    }

    /// The summary, or the first error.
    pub fn into_result(self) -> Result<Summary> {
        match self.failed.into_iter().next() {
            Some((_, e)) => Err(e),
            None => Ok(self.sum),
        }
    }
}

/// Ties an error to the file it happened to, so that the daemon can note it for `status`.
pub(super) fn with_row(id: i64, r: Result<()>) -> Result<()> {
    r.map_err(|e| match e {
        e @ PipelineError::Failed { .. } => e,
        e => PipelineError::Failed {
            id,
            source: Box::new(e),
        },
    })
}
