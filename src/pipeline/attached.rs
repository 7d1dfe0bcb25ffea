//! Attached files: `outbox/pictures/` and `outbox/invoices/` are mirrors of the supplier's
//! libraries, kept in step with the server. The journal's manifest says what the server has;
//! an unchanged file costs one `stat` (size and mtime match the manifest), a touched one a hash,
//! and only new or changed content is uploaded.

use super::ctx::Ctx;
use super::detect::{kind_of, Kind};
use super::publish::Publish;
use super::settle::Look;
use super::{fsutil, PipelineError, Result, Summary};
use crate::compo::attached;
use crate::compo::messages::msg;
use crate::compo::model::AttachedFolder;
use crate::compo::report::{codes, Issue, Report};
use crate::journal::{ManifestEntry, Progress};
use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, UNIX_EPOCH};

fn mtime_ns(m: &std::fs::Metadata) -> i64 {
    m.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

/// A mirror file that needs work.
struct Todo {
    name: String,
    path: PathBuf,
    size: u64,
    mtime_ns: i64,
}

enum Done {
    Published(ManifestEntry),
    /// Touched but identical to what the server has.
    Same(ManifestEntry),
    Rejected(String, Report, u64, i64),
}

/// The journal's progress row of a folder's uploads.
pub(super) fn job_name(folder: AttachedFolder) -> String {
    format!("publish {}", folder.name())
}

impl Publish {
    /// Brings the server's folder in step with the outbox mirror.
    pub(super) fn sync_attached(
        &mut self,
        cx: &mut Ctx,
        folder: AttachedFolder,
    ) -> Result<Summary> {
        let mut sum = Summary::default();
        let dir = cx.s.folders.outbox.join(folder.name());
        let mut manifest: FxHashMap<String, ManifestEntry> = cx
            .journal
            .manifest(folder)?
            .into_iter()
            .map(|e| (e.name.clone(), e))
            .collect();
        sum.attached_lost = verify_mirror(cx, folder, &mut manifest)?;
        let mut present = FxHashSet::default();
        let mut todo = Vec::new();
        let mut young = Vec::new();
        let now = cx.now();
        let rd = std::fs::read_dir(&dir).map_err(PipelineError::io(&dir))?;
        for e in rd {
            let e = e.map_err(PipelineError::io(&dir))?;
            let name = e.file_name().to_string_lossy().into_owned();
            if crate::compo::model::is_temporary_name(&name) {
                continue;
            }
            // Not followed: a link's own metadata.
            let Ok(md) = std::fs::symlink_metadata(e.path()) else {
                continue;
            };
            let (size, mt) = (md.len(), mtime_ns(&md));
            if let Kind::NotRegular(what) = kind_of(md.file_type()) {
                if cx.journal.attached_rejection(folder, &name)? != Some((size, mt)) {
                    let rel = format!("{}/{name}", folder.name());
                    let mut r = Report::new(&rel, Some(folder.name().into()));
                    r.errors.push(Issue::file(
                        codes::FILE_NOT_REGULAR,
                        msg!(
                            cx.s.validation.lang,
                            "file-not_regular",
                            file = &rel,
                            kind = what
                        ),
                    ));
                    r.settle();
                    self.rejected(cx, folder, &name, &r, size, mt)?;
                    sum.attached_rejected.push(rel);
                }
                continue;
            }
            present.insert(name.clone());
            if let Some(m) = manifest.get(&name) {
                if m.size == size && m.mtime_ns == mt {
                    continue;
                }
            }
            // Still being written: leave it for the next sync (or wait for it, below). The
            // mirrors' writers set modification times, so an old one counts as quiet.
            let quiet = self
                .mirror
                .observe(&(folder, name.clone()), Look::of(&md), now, true);
            if !self.mirror.is_settled(quiet) {
                young.push(e.path());
                continue;
            }
            self.mirror.forget(&(folder, name.clone()));
            if cx.journal.attached_rejection(folder, &name)? == Some((size, mt)) {
                continue;
            }
            todo.push(Todo {
                name,
                path: e.path(),
                size,
                mtime_ns: mt,
            });
        }
        if self.wait_for_attached && !young.is_empty() {
            self.wait_for_young(cx, folder, young, &mut todo)?;
        }
        if !todo.is_empty() {
            sum.attached_hashed = todo.len() as u64;
            sum.absorb(self.upload_attached(cx, folder, todo, &manifest)?);
        }
        if cx.s.attached.prune {
            sum.attached_removed = prune(cx, folder, &manifest, &present)?;
        }
        cx.journal
            .set_health(&job_name(folder), None, &cx.stamp())?;
        Ok(sum)
    }

    /// Stores an attached file's report (under a name that fits) and remembers the rejection
    /// until the file changes.
    fn rejected(
        &mut self,
        cx: &mut Ctx,
        folder: AttachedFolder,
        name: &str,
        report: &Report,
        size: u64,
        mt: i64,
    ) -> Result<()> {
        let dir = cx.s.folders.rejected.join(folder.name());
        std::fs::create_dir_all(&dir).map_err(PipelineError::io(&dir))?;
        // The same long name always gets the same report.
        let stored = fsutil::storable(name, fsutil::name_tag(name));
        super::archive::write_report(&dir.join(format!("{stored}.report.json")), report)?;
        cx.journal.attached_reject(folder, name, size, mt)?;
        tracing::warn!(file = %report.file, code = %report.errors[0].code, first = %report.errors[0].message, "attached file rejected");
        Ok(())
    }

    fn upload_attached(
        &mut self,
        cx: &mut Ctx,
        folder: AttachedFolder,
        todo: Vec<Todo>,
        manifest: &FxHashMap<String, ManifestEntry>,
    ) -> Result<Summary> {
        let mut sum = Summary::default();
        let total_files = todo.len() as u64;
        let total_bytes: u64 = todo.iter().map(|t| t.size).sum();
        let job = job_name(folder);
        let started = cx.stamp();
        let done_files = AtomicU64::new(0);
        let done_bytes = AtomicU64::new(0);
        let max = cx.s.validation.max_size(folder);
        let lang = cx.s.validation.lang;
        let transport = cx.transport.clone();
        let clock = cx.clock.clone();
        let flush = cx.s.attached.flush_each_file;
        let t0 = cx.now();
        let bar = super::progress_bar(total_bytes, &job);
        let progress = |done_files: u64, done_bytes: u64, finished: bool| Progress {
            job: job.clone(),
            done_files,
            total_files,
            done_bytes,
            total_bytes,
            started_at: started.clone(),
            updated_at: clock.now().to_rfc3339(),
            finished,
        };
        // Journal before acting: an unfinished row tells recovery that parts may be left in
        // the server's folder.
        cx.journal.set_progress(&progress(0, 0, false))?;
        // Groups keep the manifest close to the server (a crash loses at most one group's
        // bookkeeping, which the next sync redoes by hash) and the progress current.
        for group in todo.chunks(512) {
            // Uploads wait on the network or the disk, not the CPU: more in flight than cores.
            let results: Vec<std::result::Result<Done, crate::transport::TransportError>> =
                self.io_pool.install(|| {
                    group
                        .par_iter()
                        .map(|t| {
                            let issues = attached::check_file(&t.path, &t.name, folder, max, lang);
                            let rel = format!("{}/{}", folder.name(), t.name);
                            if !issues.is_empty() {
                                let mut r = Report::new(&rel, Some(folder.name().into()));
                                r.errors = issues;
                                r.settle();
                                return Ok(Done::Rejected(t.name.clone(), r, t.size, t.mtime_ns));
                            }
                            let entry = |hash: String, size: u64| ManifestEntry {
                                folder,
                                name: t.name.clone(),
                                size,
                                mtime_ns: t.mtime_ns,
                                hash,
                                published_at: clock.now().to_rfc3339(),
                            };
                            // A file the server has was touched: same content is not sent again. A new
                            // one is hashed while it is uploaded, not read twice.
                            if let Some(m) = manifest.get(&t.name) {
                                let (size, hash) =
                                    super::fsutil::hash_file(&t.path).map_err(|e| {
                                        crate::transport::TransportError::io(
                                            t.path.display().to_string(),
                                            e,
                                        )
                                    })?;
                                if m.hash == hash && m.size == size {
                                    return Ok(Done::Same(entry(hash, size)));
                                }
                            }
                            // Never through a link that replaced the file since it was listed.
                            let mut f = fsutil::open_regular(&t.path).map_err(|e| {
                                crate::transport::TransportError::io(
                                    t.path.display().to_string(),
                                    e,
                                )
                            })?;
                            let target = format!("in/{}/{}", folder.name(), t.name);
                            let w = if flush {
                                transport.write_atomic(&target, &mut f)?
                            } else {
                                transport.write_atomic_unflushed(&target, &mut f)?
                            };
                            done_files.fetch_add(1, Ordering::Relaxed);
                            done_bytes.fetch_add(w.size, Ordering::Relaxed);
                            if let Some(b) = &bar {
                                b.inc(w.size);
                            }
                            // The hash was taken while uploading: what the server got is what we hashed.
                            Ok(Done::Published(entry(w.hash, w.size)))
                        })
                        .collect()
                });
            let mut entries = Vec::new();
            let mut first_err = None;
            for r in results {
                match r {
                    Ok(Done::Published(e)) => {
                        tracing::debug!(file = %format!("{}/{}", folder.name(), e.name), size = e.size, "attached file published");
                        sum.attached_published += 1;
                        entries.push(e);
                    }
                    Ok(Done::Same(e)) => entries.push(e),
                    Ok(Done::Rejected(name, report, size, mt)) => {
                        self.rejected(cx, folder, &name, &report, size, mt)?;
                        sum.attached_rejected.push(report.file);
                    }
                    Err(e) => {
                        first_err.get_or_insert(e);
                    }
                }
            }
            cx.journal.manifest_put(&entries)?;
            cx.journal.set_progress(&progress(
                done_files.load(Ordering::Relaxed),
                done_bytes.load(Ordering::Relaxed),
                false,
            ))?;
            if let Some(e) = first_err {
                return Err(e.into());
            }
        }
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        cx.journal.set_progress(&progress(
            done_files.load(Ordering::Relaxed),
            done_bytes.load(Ordering::Relaxed),
            true,
        ))?;
        if sum.attached_published > 0 {
            tracing::info!(
                folder = folder.name(),
                files = sum.attached_published,
                seconds = crate::schedule::between(t0, cx.now()).as_secs_f64(),
                "attached files published"
            );
        }
        Ok(sum)
    }
}

/// When due, compares the server's folder with the manifest and forgets what the server
/// no longer has as published (missing, or another size), so that this sync sends it
/// again: attached files are not flushed one by one, and a crash of the server, or a
/// person, may lose some. Returns how many were forgotten.
fn verify_mirror(
    cx: &mut Ctx,
    folder: AttachedFolder,
    manifest: &mut FxHashMap<String, ManifestEntry>,
) -> Result<u64> {
    let now = cx.now();
    let last = cx.journal.mirror_verified(folder)?;
    let due = match last.as_deref() {
        Some(at) => crate::schedule::due(Some(at), now, cx.s.attached.verify_every),
        // Never verified: nothing to compare when nothing was published yet.
        None => !manifest.is_empty(),
    };
    if !due {
        if last.is_none() {
            cx.journal.set_mirror_verified(folder, &now.to_rfc3339())?;
        }
        return Ok(0);
    }
    let dir = format!("{}/{}", super::server::IN, folder.name());
    let on_server: FxHashMap<String, u64> = match cx.transport.list(&dir) {
        Ok(entries) => entries
            .into_iter()
            .filter(|e| !e.is_dir)
            .map(|e| (e.name, e.size))
            .collect(),
        Err(crate::transport::TransportError::NotFound { .. }) => FxHashMap::default(),
        Err(e) => return Err(e.into()),
    };
    let lost: Vec<String> = manifest
        .values()
        .filter(|m| on_server.get(&m.name) != Some(&m.size))
        .map(|m| m.name.clone())
        .collect();
    if !lost.is_empty() {
        cx.journal.manifest_remove(folder, &lost)?;
        for n in &lost {
            manifest.remove(n);
        }
        tracing::warn!(
            folder = folder.name(),
            files = lost.len(),
            "the server lacks files it was sent (or holds another size); sending them again"
        );
    }
    cx.journal.set_mirror_verified(folder, &now.to_rfc3339())?;
    Ok(lost.len() as u64)
}

/// Removes from the server what left the mirror, within the configured share.
fn prune(
    cx: &mut Ctx,
    folder: AttachedFolder,
    manifest: &FxHashMap<String, ManifestEntry>,
    present: &FxHashSet<String>,
) -> Result<u64> {
    let gone: Vec<String> = manifest
        .keys()
        .filter(|n| !present.contains(*n))
        .cloned()
        .collect();
    if gone.is_empty() {
        return Ok(0);
    }
    let limit = (manifest.len() as f64 * cx.s.attached.max_prune_share).floor() as usize;
    if gone.len() > limit && !cx.s.attached.allow_mass_prune {
        tracing::error!(
            folder = folder.name(),
            missing = gone.len(),
            on_server = manifest.len(),
            limit,
            "refusing to remove more than attached.max_prune_share of the server's files; \
                 if this is intended, set attached.allow_mass_prune = true for one run"
        );
        return Ok(0);
    }
    for n in &gone {
        cx.transport
            .remove(&format!("in/{}/{}", folder.name(), n))?;
    }
    cx.journal.manifest_remove(folder, &gone)?;
    tracing::info!(folder = folder.name(), removed = gone.len(), "pruned");
    Ok(gone.len() as u64)
}

impl Publish {
    /// Waits, up to three settle times, for files that were still being written when the folder
    /// was listed, and adds those that settled to `todo` (only they are looked at again).
    fn wait_for_young(
        &mut self,
        cx: &Ctx,
        folder: AttachedFolder,
        mut young: Vec<PathBuf>,
        todo: &mut Vec<Todo>,
    ) -> Result<()> {
        let settle = cx.s.detect.settle;
        let deadline = crate::schedule::after(cx.now(), settle * 3 + Duration::from_millis(50));
        let never = crate::schedule::Shutdown::new();
        while !young.is_empty() && cx.now() < deadline {
            let nap = settle.max(Duration::from_millis(20)) / 2;
            cx.clock
                .sleep_until(crate::schedule::after(cx.now(), nap), &never);
            let now = cx.now();
            let mut still = Vec::new();
            for path in young {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                // Gone or replaced by something else meanwhile: the next sync sees what is there.
                let Ok(md) = std::fs::symlink_metadata(&path) else {
                    continue;
                };
                if !md.is_file() {
                    continue;
                }
                let key = (folder, name.clone());
                let quiet = self.mirror.observe(&key, Look::of(&md), now, true);
                if !self.mirror.is_settled(quiet) {
                    still.push(path);
                    continue;
                }
                self.mirror.forget(&key);
                let (size, mtime_ns) = (md.len(), mtime_ns(&md));
                if cx.journal.attached_rejection(folder, &name)? == Some((size, mtime_ns)) {
                    continue;
                }
                todo.push(Todo {
                    name,
                    path,
                    size,
                    mtime_ns,
                });
            }
            young = still;
        }
        Ok(())
    }
}
