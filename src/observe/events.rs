//! What to notify: rejections, mass-deletion holds and files stuck in retry, and the recovery
//! of each, found by comparing the journal with what a channel was already told.
//!
//! Events:
//! - `rejected`: a file was rejected (its report is in `rejected/`);
//!   `rejected.recovered`: a later file of the same name got through.
//! - `held`: a full snapshot was held by the mass-deletion guard (`snapshot.mass_delete`);
//!   `held.released`: `compo-exchange release` let that very content through and it was taken.
//! - `stuck`: a file has been failing for longer than `notify.stuck_after`;
//!   `stuck.recovered`: its step finally worked.

use super::reports::{self, Quoted};
use super::view::{local, type_of};
use crate::journal::{FileFigures, Journal, Origin, State};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

/// One thing to tell.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// `rejected`, `rejected.recovered`, `held`, `held.released`, `stuck`, `stuck.recovered`.
    pub event: &'static str,
    /// The journal's id of the file the event is about (the rejected, held or stuck one).
    pub file_id: i64,
    pub file: String,
    #[serde(rename = "type")]
    pub data_type: Option<String>,
    /// `outbox` (bound for the portal) or `out` (from the portal).
    pub from: &'static str,
    /// When it happened, RFC 3339 with the local offset.
    pub at: String,
    /// One line for people.
    pub summary: String,
    /// Rejections and holds: errors in all, the first ones, the report's absolute path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<usize>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub first_errors: Vec<crate::compo::report::Issue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<String>,
    /// Stuck files: attempts so far, the last error, since when it fails.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<String>,
    /// Recoveries: the state the file (or its successor) is in now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

fn base(event: &'static str, f: &FileFigures, at: &str, summary: String) -> Event {
    Event {
        event,
        file_id: f.id,
        file: f.name.clone(),
        data_type: type_of(&f.data_type, &f.name),
        from: match f.origin {
            Origin::Outbox => "outbox",
            Origin::Out => "out",
        },
        at: local(at),
        summary,
        errors: None,
        first_errors: Vec::new(),
        report: None,
        attempts: None,
        last_error: None,
        failing_since: None,
        state: None,
    }
}

fn newer_than(t: &str, since: &str) -> bool {
    match (
        chrono::DateTime::parse_from_rfc3339(t),
        chrono::DateTime::parse_from_rfc3339(since),
    ) {
        (Ok(t), Ok(s)) => t >= s,
        _ => false,
    }
}

/// The events `sent` (this channel's (file, event) pairs) does not have yet. Rejections and
/// holds count from `since` (when the channel started); a stuck file counts whenever it is.
pub fn find(
    j: &Journal,
    rejected_dir: &Path,
    since: &str,
    stuck_after: Duration,
    sent: &HashSet<(i64, String)>,
) -> crate::journal::Result<Vec<Event>> {
    let was_sent = |id: i64, e: &str| sent.contains(&(id, e.to_string()));
    let files = j.file_figures()?;
    let by_id: HashMap<i64, &FileFigures> = files.iter().map(|f| (f.id, f)).collect();
    let mut out = Vec::new();
    let mut quotes: HashMap<i64, Quoted> = HashMap::new();
    let mut quote = |f: &FileFigures| {
        quotes
            .entry(f.id)
            .or_insert_with(|| {
                f.final_path
                    .as_deref()
                    .map(|p| reports::quote(rejected_dir, Path::new(p)))
                    .unwrap_or_default()
            })
            .clone()
    };
    for f in files.iter().filter(|f| f.state == State::Rejected) {
        if !newer_than(&f.updated_at, since) {
            continue;
        }
        // Told already as one or the other: a release removes the report that said "held".
        if was_sent(f.id, "held") || was_sent(f.id, "rejected") {
            continue;
        }
        let q = quote(f);
        let kind = if q.held { "held" } else { "rejected" };
        let first = q
            .first_errors
            .first()
            .map(|e| format!(": {} {} {}", e.code, e.pointer, e.message))
            .unwrap_or_default();
        let summary = if q.held {
            format!(
                "{} held by the mass-deletion guard{first}; `compo-exchange release {}` lets it through",
                f.name,
                f.final_path
                    .as_deref()
                    .and_then(|p| Path::new(p).file_name())
                    .map_or(f.name.clone(), |n| n.to_string_lossy().into_owned())
            )
        } else {
            format!("{} rejected with {} error(s){first}", f.name, q.errors)
        };
        let mut e = base(kind, f, &f.updated_at, summary);
        e.errors = Some(q.errors);
        e.first_errors = q.first_errors;
        e.report = q
            .report
            .as_deref()
            .map(|r| rejected_dir.join(r).display().to_string());
        out.push(e);
    }
    let retrying = j.retrying()?;
    let now = chrono::Utc::now();
    let stuck_after = chrono::Duration::from_std(stuck_after).unwrap_or(chrono::Duration::MAX);
    for r in &retrying {
        let Ok(first) = chrono::DateTime::parse_from_rfc3339(&r.first_failed_at) else {
            continue;
        };
        if now.signed_duration_since(first) < stuck_after || was_sent(r.id, "stuck") {
            continue;
        }
        let Some(f) = by_id.get(&r.id) else { continue };
        let summary = format!(
            "{} has been failing since {} ({} attempts): {}",
            r.name,
            local(&r.first_failed_at),
            r.attempts,
            r.last_error
        );
        let mut e = base("stuck", f, &now.to_rfc3339(), summary);
        e.attempts = Some(r.attempts);
        e.last_error = Some(r.last_error.clone());
        e.failing_since = Some(local(&r.first_failed_at));
        e.state = Some(r.state.as_str().into());
        out.push(e);
    }
    let still_retrying: HashSet<i64> = retrying.iter().map(|r| r.id).collect();
    for (id, event) in sent {
        let Some(f) = by_id.get(id).copied() else {
            continue;
        };
        let recovery = match event.as_str() {
            "stuck" => "stuck.recovered",
            "held" => "held.released",
            "rejected" => "rejected.recovered",
            _ => continue,
        };
        if was_sent(*id, recovery) {
            continue;
        }
        let e = match recovery {
            "stuck.recovered" => {
                if still_retrying.contains(id)
                    || matches!(f.state, State::Rejecting | State::Rejected)
                {
                    continue;
                }
                let mut e = base(
                    recovery,
                    f,
                    &f.updated_at,
                    format!("{} is moving again (now {})", f.name, f.state),
                );
                e.state = Some(f.state.as_str().into());
                e
            }
            "held.released" => {
                let Some(g) = files.iter().find(|g| {
                    g.id > f.id
                        && g.origin == f.origin
                        && g.name == f.name
                        && g.hash == f.hash
                        && g.taken_at.is_some()
                }) else {
                    continue;
                };
                let mut e = base(
                    recovery,
                    f,
                    g.taken_at.as_deref().unwrap_or(&g.updated_at),
                    format!("{} was released and taken again (now {})", f.name, g.state),
                );
                e.state = Some(g.state.as_str().into());
                e
            }
            _ => {
                let Some(g) = files.iter().find(|g| {
                    g.id > f.id
                        && g.origin == f.origin
                        && g.name == f.name
                        && (g.published_at.is_some() || g.delivered_at.is_some())
                }) else {
                    continue;
                };
                let at = g.published_at.as_deref().or(g.delivered_at.as_deref());
                let mut e = base(
                    recovery,
                    f,
                    at.unwrap_or(&g.updated_at),
                    format!("a newer {} got through (now {})", f.name, g.state),
                );
                e.state = Some(g.state.as_str().into());
                e
            }
        };
        out.push(e);
    }
    out.sort_by(|a, b| (a.file_id, a.event).cmp(&(b.file_id, b.event)));
    Ok(out)
}
