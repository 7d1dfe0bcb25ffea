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

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::compo::report::{codes, Issue, Report};
    use crate::journal::testing::{journal, new_file};
    use crate::journal::Update;

    /// A rejected file with its report in `dir`, as the pipeline leaves it (also used by the
    /// notifier's tests).
    pub(in crate::observe) fn reject(j: &mut Journal, dir: &Path, name: &str, code: &str) -> i64 {
        let id = j.begin(&new_file(name), State::Claiming).unwrap();
        j.transition(id, State::Claimed, Update::default()).unwrap();
        let at = dir.join(name);
        let mut r = Report::new(name, Some("products".into()));
        r.errors.push(Issue::file(code, "why"));
        std::fs::write(
            crate::pipeline::fsutil::report_path(&at),
            serde_json::to_vec(&r).unwrap(),
        )
        .unwrap();
        let at = at.to_string_lossy();
        let u = Update {
            final_path: Some(&at),
            ..Default::default()
        };
        j.transition(id, State::Rejecting, u).unwrap();
        j.transition(id, State::Rejected, Update::default())
            .unwrap();
        id
    }

    fn kinds(v: &[Event]) -> Vec<(&'static str, String)> {
        v.iter().map(|e| (e.event, e.file.clone())).collect()
    }

    #[test]
    fn rejections_and_holds_count_from_the_start_and_are_told_once() {
        let (d, mut j) = journal();
        let old = reject(&mut j, d.path(), "old.json", codes::JSON_SYNTAX);
        std::thread::sleep(std::time::Duration::from_millis(5));
        let since = crate::journal::testing::stamp();
        let a = reject(&mut j, d.path(), "products.json", codes::REF_MISSING);
        let b = reject(&mut j, d.path(), "prices.json", codes::SNAPSHOT_MASS_DELETE);
        let hour = Duration::from_secs(3600);
        let mut sent = HashSet::new();
        let ev = find(&j, d.path(), &since, hour, &sent).unwrap();
        assert_eq!(
            kinds(&ev),
            [
                ("rejected", "products.json".to_string()),
                ("held", "prices.json".to_string())
            ]
        );
        assert!(ev.iter().all(|e| e.file_id != old), "before the start");
        assert_eq!(ev[0].first_errors[0].code, codes::REF_MISSING);
        assert!(ev[0]
            .report
            .as_deref()
            .unwrap()
            .ends_with("products.json.report.json"));
        sent.insert((a, "rejected".to_string()));
        sent.insert((b, "held".to_string()));
        assert!(find(&j, d.path(), &since, hour, &sent).unwrap().is_empty());
        // The release removes the report: still not a new rejection.
        std::fs::remove_file(d.path().join("prices.json.report.json")).unwrap();
        assert!(find(&j, d.path(), &since, hour, &sent).unwrap().is_empty());
    }

    #[test]
    fn a_file_is_stuck_only_after_the_configured_time_and_recovers_once_moving() {
        let (d, mut j) = journal();
        let id = j.begin(&new_file("remains.json"), State::Claiming).unwrap();
        j.note_failure(id, "refused", "2026-11-30T10:00:00Z")
            .unwrap();
        let since = crate::journal::testing::stamp();
        let mut sent = HashSet::new();
        let hour = Duration::from_secs(3600);
        assert!(find(&j, d.path(), &since, hour, &sent).unwrap().is_empty());
        let ev = find(&j, d.path(), &since, Duration::ZERO, &sent).unwrap();
        assert_eq!(kinds(&ev), [("stuck", "remains.json".to_string())]);
        assert_eq!(ev[0].last_error.as_deref(), Some("refused"));
        sent.insert((id, "stuck".to_string()));
        assert!(find(&j, d.path(), &since, Duration::ZERO, &sent)
            .unwrap()
            .is_empty());
        j.clear_failure(id).unwrap();
        j.transition(id, State::Claimed, Update::default()).unwrap();
        let ev = find(&j, d.path(), &since, Duration::ZERO, &sent).unwrap();
        assert_eq!(
            kinds(&ev),
            [("stuck.recovered", "remains.json".to_string())]
        );
        assert_eq!(ev[0].state.as_deref(), Some("claimed"));
    }
}
