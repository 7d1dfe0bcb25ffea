//! `status`: what an operator asks of a work folder — who holds it, how each side of the
//! exchange fares, what is retrying and when it is tried next, what was published when, what
//! waits and what was rejected. A reader: it never takes the work folder's lock.
//!
//! Every time is shown one way, RFC 3339 with the local offset, to the second, whatever way
//! it was stored. Output closed early (`status | head -1`) ends the command quietly.

use super::common::Common;
use super::lock::{self, Holder};
use super::{Exit, OutputFormat};
use crate::compo::model::{AttachedFolder, DataType};
use crate::journal::{Journal, State};
use crate::schedule::Job;
use serde::Serialize;
use std::io::Write;

#[derive(clap::Args, Debug)]
pub struct StatusArgs {
    #[command(flatten)]
    pub common: Common,
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

#[derive(Serialize)]
struct TypeStatus {
    job: String,
    schedule: String,
    next_tick: Option<String>,
    last_file: Option<String>,
    last_published_at: Option<String>,
    waiting: usize,
    rejected_24h: usize,
    /// What the last publish changed on the portal ("as delta: 212 changed, 3 added, 1 deleted
    /// of 200,000").
    last_change: Option<String>,
    /// Why the next snapshot of a changes-only type goes out in full.
    full_next_because: Option<String>,
}

#[derive(Serialize)]
struct AttachedStatus {
    folder: String,
    on_server: usize,
    last_published_at: Option<String>,
}

#[derive(Serialize)]
struct ComponentStatus {
    component: String,
    ok: bool,
    error: Option<String>,
    since: String,
    last_success: Option<String>,
}

#[derive(Serialize)]
struct Retrying {
    file: String,
    state: String,
    attempts: u64,
    last_error: String,
    next_attempt: String,
}

#[derive(Serialize)]
struct Status {
    workdir: String,
    server: String,
    /// The process holding the work folder (`run` or `once`), if any.
    daemon: Option<Holder>,
    /// What the server offered when last connected (SFTP extensions, and whether files are
    /// replaced by the non-atomic fallback).
    server_offer: Option<crate::journal::ServerOffer>,
    health: Vec<ComponentStatus>,
    retrying: Vec<Retrying>,
    /// Warnings of the last 24 hours, newest first (at most 20).
    warnings: Vec<crate::journal::Warning>,
    last_collect: Option<String>,
    last_attached_publish: Option<String>,
    types: Vec<TypeStatus>,
    attached: Vec<AttachedStatus>,
    progress: Vec<crate::journal::Progress>,
}

/// A stored time (RFC 3339 in UTC or with any offset) as `status` shows every time.
fn show(t: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(t) {
        Ok(t) => t
            .with_timezone(&chrono::Local)
            .fixed_offset()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
        Err(_) => t.to_string(),
    }
}

fn latest<'a>(times: impl IntoIterator<Item = &'a str>) -> Option<String> {
    // Compared as instants: stored strings may carry different offsets.
    times
        .into_iter()
        .filter_map(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .max()
        .map(|t| show(&t.to_rfc3339()))
}

fn gather(args: &StatusArgs) -> anyhow::Result<Status> {
    let s = args.common.settings()?;
    let db = s.folders.state.join("journal.db");
    if !db.exists() {
        anyhow::bail!(
            "no journal at {}: nothing has run in this work folder yet",
            db.display()
        );
    }
    let j = Journal::open(&db)?;
    let now = chrono::Local::now().fixed_offset();
    let since = (chrono::Utc::now() - chrono::Duration::hours(24)).to_rfc3339();
    let rejected = j.recent(State::Rejected, &since)?;
    let staged = j.all_staged()?;
    let last = j.last_published_by_type()?;
    let mut attached = Vec::new();
    for f in AttachedFolder::ALL {
        let m = j.manifest(f)?;
        attached.push(AttachedStatus {
            folder: f.name().into(),
            on_server: m.len(),
            last_published_at: latest(m.iter().map(|e| e.published_at.as_str())),
        });
    }
    let changes = j.last_publishes()?;
    let mut types = Vec::new();
    let mut jobs: Vec<Job> = AttachedFolder::ALL
        .into_iter()
        .map(Job::Attached)
        .chain(DataType::ALL.into_iter().map(Job::Data))
        .chain([Job::Collect])
        .collect();
    crate::schedule::publish_order(&mut jobs);
    for job in jobs {
        let cadence = s.plan.cadence(job);
        let key = job.key();
        let last_row = last.iter().find(|r| r.data_type.as_deref() == Some(key));
        let last_at = match (job, last_row) {
            // Pictures and invoices are mirrors, not files of the journal: their last publish
            // is the newest file the manifest says went to the server.
            (Job::Attached(f), _) => attached
                .iter()
                .find(|a| a.folder == f.name())
                .and_then(|a| a.last_published_at.clone()),
            (_, Some(r)) => j.entered(r.id, State::Published)?.as_deref().map(show),
            (_, None) => None,
        };
        types.push(TypeStatus {
            job: key.to_string(),
            schedule: cadence.to_string(),
            next_tick: cadence.next_after(now).map(|t| show(&t.to_rfc3339())),
            last_file: last_row.map(|r| r.target_name.clone().unwrap_or(r.name.clone())),
            last_published_at: last_at,
            waiting: staged
                .iter()
                .filter(|r| r.data_type.as_deref() == Some(key))
                .count(),
            rejected_24h: rejected
                .iter()
                .filter(|r| crate::pipeline::type_key_of(&r.name) == Some(key))
                .count(),
            last_change: changes
                .iter()
                .find(|(t, ..)| t == key)
                .map(|(_, f, _)| crate::pipeline::describe_publish(f)),
            full_next_because: changes
                .iter()
                .find(|(t, ..)| t == key)
                .and_then(|(_, _, d)| d.clone())
                .filter(|_| {
                    DataType::from_name(key).is_some_and(|t| s.publish.changes_only.contains(&t))
                }),
        });
    }
    let health: Vec<ComponentStatus> = j
        .health()?
        .into_iter()
        .map(|h| ComponentStatus {
            ok: h.ok(),
            since: show(&h.since),
            last_success: h.last_success.as_deref().map(show),
            component: h.component,
            error: h.error,
        })
        .collect();
    let success_of = |c: &str| {
        health
            .iter()
            .find(|h| h.component == c)
            .and_then(|h| h.last_success.clone())
    };
    // The daemon records each collect and attached-file sync in the health; a journal that
    // predates it still shows the last file collected.
    let last_collect = success_of("out").or_else(|| {
        j.recent(State::Acknowledged, "")
            .ok()
            .and_then(|r| r.first().map(|r| show(&r.updated_at)))
    });
    let last_attached_publish = latest(
        attached
            .iter()
            .filter_map(|a| a.last_published_at.as_deref())
            .chain(success_of("attached").as_deref()),
    );
    let retrying = j
        .failures()?
        .into_iter()
        .map(|f| Retrying {
            file: f.name,
            state: f.state.as_str().into(),
            attempts: f.attempts,
            last_error: f.last_error,
            next_attempt: show(&f.next_attempt),
        })
        .collect();
    let warnings = j
        .warnings(&since, 20)?
        .into_iter()
        .map(|mut w| {
            w.at = show(&w.at);
            w
        })
        .collect();
    Ok(Status {
        workdir: s.folders.workdir.display().to_string(),
        server: match &s.server {
            crate::config::ServerLocation::Local(p) => p.display().to_string(),
            crate::config::ServerLocation::Sftp(u) => u.clone(),
        },
        daemon: lock::holder(&s.folders.state),
        server_offer: j.server_offer()?.map(|mut o| {
            o.at = show(&o.at);
            o
        }),
        health,
        retrying,
        warnings,
        last_collect,
        last_attached_publish,
        types,
        attached,
        progress: j
            .progress()?
            .into_iter()
            .map(|mut p| {
                p.started_at = show(&p.started_at);
                p.updated_at = show(&p.updated_at);
                p
            })
            .collect(),
    })
}

/// Shows the work folder's state; see the module documentation.
pub fn status(args: StatusArgs) -> anyhow::Result<Exit> {
    let st = gather(&args)?;
    let mut out = std::io::stdout().lock();
    match print(&mut out, &st, args.format) {
        Ok(()) => Ok(Exit::Ok),
        // The reader has gone (`status | head -1`): nothing is wrong, there is just no one to
        // tell the rest to.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(Exit::Ok),
        Err(e) => Err(e.into()),
    }
}

fn print(out: &mut dyn Write, st: &Status, format: OutputFormat) -> std::io::Result<()> {
    if format == OutputFormat::Json {
        serde_json::to_writer_pretty(&mut *out, st)?;
        writeln!(out)?;
        return out.flush();
    }
    writeln!(out, "work folder {}  server {}", st.workdir, st.server)?;
    match &st.daemon {
        Some(h) if h.pid != 0 => writeln!(
            out,
            "held by     {} (pid {}) since {}",
            h.command, h.pid, h.since
        )?,
        Some(_) => writeln!(out, "held by     another process")?,
        None => writeln!(
            out,
            "held by     nobody (no daemon runs on this work folder)"
        )?,
    }
    if let Some(o) = &st.server_offer {
        writeln!(out, "server      offers {} (seen {})", o.offers, o.at)?;
        if let Some(note) = &o.note {
            writeln!(out, "            {note}")?;
        }
    }
    for h in &st.health {
        match &h.error {
            None => writeln!(out, "{:<11} ok since {}", h.component, h.since)?,
            Some(e) => writeln!(
                out,
                "{:<11} FAILING since {}: {e} (last success {})",
                h.component,
                h.since,
                h.last_success.as_deref().unwrap_or("never")
            )?,
        }
    }
    writeln!(
        out,
        "last collect {}  last attached-file publish {}",
        st.last_collect.as_deref().unwrap_or("never"),
        st.last_attached_publish.as_deref().unwrap_or("never")
    )?;
    if !st.retrying.is_empty() {
        writeln!(out, "retrying ({} files):", st.retrying.len())?;
        for r in &st.retrying {
            writeln!(
                out,
                "  {} ({}, {} failed attempts) next at {}: {}",
                r.file, r.state, r.attempts, r.next_attempt, r.last_error
            )?;
        }
    }
    for w in &st.warnings {
        writeln!(out, "warning     {} {}: {}", w.at, w.topic, w.message)?;
    }
    writeln!(
        out,
        "{:<16} {:<12} {:<26} {:>7} {:>12}  last published",
        "type", "schedule", "next tick", "waiting", "rejected 24h"
    )?;
    for t in &st.types {
        let last = match (&t.last_file, &t.last_published_at) {
            (Some(f), Some(at)) => format!("{f} at {at}"),
            (None, Some(at)) => at.clone(),
            _ => "-".into(),
        };
        writeln!(
            out,
            "{:<16} {:<12} {:<26} {:>7} {:>12}  {last}",
            t.job,
            t.schedule,
            t.next_tick.as_deref().unwrap_or("-"),
            t.waiting,
            t.rejected_24h
        )?;
        if let Some(c) = &t.last_change {
            writeln!(out, "{:<16} {c}", "")?;
        }
        if let Some(why) = &t.full_next_because {
            writeln!(out, "{:<16} next snapshot goes out in full: {why}", "")?;
        }
    }
    for a in &st.attached {
        writeln!(
            out,
            "{}: {} files on the server, last published {}",
            a.folder,
            a.on_server,
            a.last_published_at.as_deref().unwrap_or("never")
        )?;
    }
    for p in &st.progress {
        let pct = (100 * p.done_bytes)
            .checked_div(p.total_bytes)
            .unwrap_or(100);
        writeln!(
            out,
            "{}: {}/{} files, {}/{} bytes ({pct}%){} since {}",
            p.job,
            p.done_files,
            p.total_files,
            p.done_bytes,
            p.total_bytes,
            if p.finished {
                ", finished"
            } else {
                ", running"
            },
            p.started_at
        )?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stored_time_is_shown_one_way() {
        let local = |t: &str| {
            chrono::DateTime::parse_from_rfc3339(t)
                .unwrap()
                .with_timezone(&chrono::Local)
                .fixed_offset()
        };
        for t in [
            "2026-11-30T06:00:00.123Z",
            "2026-11-30T09:00:00+03:00",
            "2026-11-30T06:00:00.5+00:00",
        ] {
            let shown = show(t);
            let back = chrono::DateTime::parse_from_rfc3339(&shown).unwrap();
            assert_eq!(back.timestamp(), local(t).timestamp(), "{t} -> {shown}");
            assert!(!shown.contains('.') && !shown.ends_with('Z'), "{shown}");
            assert_eq!(shown.len(), "2026-11-30T09:00:00+03:00".len(), "{shown}");
        }
        assert_eq!(
            latest(["2026-11-30T09:00:00+03:00", "2026-11-30T06:30:00Z"]),
            Some(show("2026-11-30T06:30:00Z"))
        );
    }
}
