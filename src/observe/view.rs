//! What the status page shows, gathered from the journal at each request (also served as JSON
//! at `/status.json` for scripts).

use super::reports::{self, Quoted};
use super::Context;
use crate::compo::model::AttachedFolder;
use crate::journal::{FileFigures, Health, Journal, Origin, Progress, State, Warning};
use crate::schedule::{Cadence, Job};
use chrono::{DateTime, Duration, FixedOffset, Local, Utc};
use serde::Serialize;
use std::path::Path;

/// Rejections shown: those of the last this many days, at most [`MAX_REJECTIONS`].
const REJECTION_DAYS: i64 = 7;
const MAX_REJECTIONS: usize = 50;
/// Warnings shown, of the same days.
const MAX_WARNINGS: usize = 20;

#[derive(Debug, Serialize)]
pub struct Overview {
    /// RFC 3339, local offset, like every time below.
    pub generated_at: String,
    pub workdir: String,
    pub server: String,
    /// Why the journal could not be read (none yet, or an error).
    pub journal_error: Option<String>,
    pub health: Vec<Health>,
    /// What the daemon repaired by itself but an operator should know (last 7 days).
    pub warnings: Vec<Warning>,
    pub types: Vec<TypeRow>,
    pub retrying: Vec<RetryRow>,
    pub waiting: Vec<WaitRow>,
    pub rejections: Vec<Rejection>,
    pub collection: Collection,
    pub attached: Vec<AttachedRow>,
}

#[derive(Debug, Serialize)]
pub struct TypeRow {
    pub job: String,
    pub schedule: String,
    /// `None` for `immediate` (at every check).
    pub next_tick: Option<String>,
    pub last_file: Option<String>,
    pub last_published_at: Option<String>,
    pub waiting: usize,
    pub retrying: usize,
    pub rejected_24h: usize,
}

#[derive(Debug, Serialize)]
pub struct RetryRow {
    pub file: String,
    #[serde(rename = "type")]
    pub data_type: Option<String>,
    pub state: String,
    pub attempts: u64,
    pub last_error: String,
    pub next_attempt: String,
    pub failing_since: String,
}

#[derive(Debug, Serialize)]
pub struct WaitRow {
    pub file: String,
    #[serde(rename = "type")]
    pub data_type: Option<String>,
    pub staged_at: String,
}

#[derive(Debug, Serialize)]
pub struct Rejection {
    pub at: String,
    pub file: String,
    #[serde(rename = "type")]
    pub data_type: Option<String>,
    /// `outbox` or `out`.
    pub from: &'static str,
    #[serde(flatten)]
    pub quoted: Quoted,
}

#[derive(Debug, Default, Serialize)]
pub struct Collection {
    pub schedule: String,
    pub next_tick: Option<String>,
    /// The last collect that worked, as the daemon recorded it.
    pub last_collect: Option<String>,
    pub last_delivered_file: Option<String>,
    pub last_delivered_at: Option<String>,
    pub delivered_24h: usize,
    pub rejected_24h: usize,
}

#[derive(Debug, Serialize)]
pub struct AttachedRow {
    pub folder: String,
    pub schedule: String,
    pub next_tick: Option<String>,
    pub on_server: u64,
    pub bytes: u64,
    pub last_published_at: Option<String>,
    pub progress: Option<Progress>,
    /// Rejected and not published since: (name, report below `rejected/`).
    pub rejected: Vec<(String, Option<String>)>,
}

/// A journal time (UTC or with an offset) in the local zone, to the second.
pub fn local(t: &str) -> String {
    DateTime::parse_from_rfc3339(t)
        .map(|t| {
            t.with_timezone(&Local)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
        })
        .unwrap_or_else(|_| t.to_string())
}

/// A file's type: as the journal has it, else from its name.
pub fn type_of(data_type: &Option<String>, name: &str) -> Option<String> {
    data_type
        .clone()
        .or_else(|| crate::pipeline::type_key_of(name).map(str::to_string))
}

fn next_tick(c: &Cadence, now: DateTime<FixedOffset>) -> Option<String> {
    c.next_after(now)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false))
}

fn after(t: &str, cutoff: &DateTime<Utc>) -> bool {
    DateTime::parse_from_rfc3339(t).is_ok_and(|t| t >= *cutoff)
}

impl Overview {
    /// Reads the journal now.
    pub fn gather(cx: &Context) -> Overview {
        let now = Local::now().fixed_offset();
        let mut o = Overview {
            generated_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
            workdir: cx.workdir.display().to_string(),
            server: cx.server.clone(),
            journal_error: None,
            health: Vec::new(),
            warnings: Vec::new(),
            types: Vec::new(),
            retrying: Vec::new(),
            waiting: Vec::new(),
            rejections: Vec::new(),
            collection: Collection::default(),
            attached: Vec::new(),
        };
        if !cx.journal.exists() {
            o.journal_error = Some(format!("no journal at {}", cx.journal.display()));
            o.fill_schedule_only(cx, now);
            return o;
        }
        if let Err(e) = Journal::open_read_only(&cx.journal).and_then(|j| o.fill(cx, &j, now)) {
            o.journal_error = Some(e.to_string());
            o.fill_schedule_only(cx, now);
        }
        o
    }

    fn fill_schedule_only(&mut self, cx: &Context, now: DateTime<FixedOffset>) {
        if !self.types.is_empty() {
            return;
        }
        for (job, cadence) in cx.plan.iter() {
            if let Job::Data(t) = job {
                self.types.push(TypeRow {
                    job: t.name().into(),
                    schedule: cadence.to_string(),
                    next_tick: next_tick(cadence, now),
                    last_file: None,
                    last_published_at: None,
                    waiting: 0,
                    retrying: 0,
                    rejected_24h: 0,
                });
            }
        }
    }

    fn fill(
        &mut self,
        cx: &Context,
        j: &Journal,
        now: DateTime<FixedOffset>,
    ) -> crate::journal::Result<()> {
        let files = j.file_figures()?;
        let retrying = j.retrying()?;
        self.health = j
            .health()?
            .into_iter()
            .map(|mut h| {
                h.since = local(&h.since);
                h.last_success = h.last_success.as_deref().map(local);
                h
            })
            .collect();
        let day_ago = Utc::now() - Duration::hours(24);
        let week_ago = Utc::now() - Duration::days(REJECTION_DAYS);
        // A journal older than its warnings table has none to show.
        self.warnings = j
            .warnings(&week_ago.to_rfc3339(), MAX_WARNINGS)
            .unwrap_or_default()
            .into_iter()
            .map(|mut w| {
                w.at = local(&w.at);
                w
            })
            .collect();
        let typed: Vec<(Option<String>, &FileFigures)> = files
            .iter()
            .map(|f| (type_of(&f.data_type, &f.name), f))
            .collect();
        for (job, cadence) in cx.plan.iter() {
            let Job::Data(t) = job else { continue };
            let key = t.name();
            let of_type = || {
                typed
                    .iter()
                    .filter(move |(ty, _)| ty.as_deref() == Some(key))
                    .map(|(_, f)| *f)
            };
            let last = of_type()
                .filter(|f| f.origin == Origin::Outbox && f.published_at.is_some())
                .max_by(|a, b| a.published_at.cmp(&b.published_at));
            self.types.push(TypeRow {
                job: key.into(),
                schedule: cadence.to_string(),
                next_tick: next_tick(cadence, now),
                last_file: last.map(|f| f.name.clone()),
                last_published_at: last.and_then(|f| f.published_at.as_deref().map(local)),
                waiting: of_type().filter(|f| f.state == State::Staged).count(),
                retrying: retrying
                    .iter()
                    .filter(|r| type_of(&r.data_type, &r.name).as_deref() == Some(key))
                    .count(),
                rejected_24h: of_type()
                    .filter(|f| f.state == State::Rejected && after(&f.updated_at, &day_ago))
                    .count(),
            });
        }
        self.retrying = retrying
            .iter()
            .map(|r| RetryRow {
                file: r.name.clone(),
                data_type: type_of(&r.data_type, &r.name),
                state: r.state.as_str().into(),
                attempts: r.attempts,
                last_error: r.last_error.clone(),
                next_attempt: local(&r.next_attempt),
                failing_since: local(&r.first_failed_at),
            })
            .collect();
        self.waiting = typed
            .iter()
            .filter(|(_, f)| f.state == State::Staged)
            .map(|(ty, f)| WaitRow {
                file: f.name.clone(),
                data_type: ty.clone(),
                staged_at: local(&f.updated_at),
            })
            .collect();
        let mut rejected: Vec<&(Option<String>, &FileFigures)> = typed
            .iter()
            .filter(|(_, f)| f.state == State::Rejected && after(&f.updated_at, &week_ago))
            .collect();
        rejected.sort_by(|a, b| b.1.updated_at.cmp(&a.1.updated_at));
        self.rejections = rejected
            .into_iter()
            .take(MAX_REJECTIONS)
            .map(|(ty, f)| Rejection {
                at: local(&f.updated_at),
                file: f.name.clone(),
                data_type: ty.clone(),
                from: match f.origin {
                    Origin::Outbox => "outbox",
                    Origin::Out => "out",
                },
                quoted: f
                    .final_path
                    .as_deref()
                    .map(|p| reports::quote(&cx.rejected, Path::new(p)))
                    .unwrap_or_default(),
            })
            .collect();
        let collect = cx.plan.cadence(Job::Collect);
        let inbound = || files.iter().filter(|f| f.origin == Origin::Out);
        let last_delivered = inbound()
            .filter(|f| f.delivered_at.is_some())
            .max_by(|a, b| a.delivered_at.cmp(&b.delivered_at));
        self.collection = Collection {
            schedule: collect.to_string(),
            next_tick: next_tick(collect, now),
            last_collect: self
                .health
                .iter()
                .find(|h| h.component == "collect")
                .and_then(|h| h.last_success.clone()),
            last_delivered_file: last_delivered.map(|f| f.name.clone()),
            last_delivered_at: last_delivered.and_then(|f| f.delivered_at.as_deref().map(local)),
            delivered_24h: inbound()
                .filter(|f| {
                    f.delivered_at
                        .as_deref()
                        .is_some_and(|t| after(t, &day_ago))
                })
                .count(),
            rejected_24h: inbound()
                .filter(|f| f.state == State::Rejected && after(&f.updated_at, &day_ago))
                .count(),
        };
        let totals = j.manifest_totals()?;
        let progress = j.progress()?;
        let attached_rejected = j.attached_rejections()?;
        for folder in AttachedFolder::ALL {
            let name = folder.name();
            let cadence = cx.plan.cadence(Job::Attached(folder));
            let t = totals.iter().find(|t| t.folder == name);
            self.attached.push(AttachedRow {
                folder: name.into(),
                schedule: cadence.to_string(),
                next_tick: next_tick(cadence, now),
                on_server: t.map_or(0, |t| t.files),
                bytes: t.map_or(0, |t| t.bytes),
                last_published_at: t.and_then(|t| t.last_published_at.as_deref().map(local)),
                progress: progress
                    .iter()
                    .find(|p| p.job.ends_with(name))
                    .cloned()
                    .map(|mut p| {
                        p.started_at = local(&p.started_at);
                        p.updated_at = local(&p.updated_at);
                        p
                    }),
                rejected: attached_rejected
                    .iter()
                    .filter(|(f, _, _)| f == name)
                    .map(|(_, n, _)| {
                        let rp = cx.rejected.join(name).join(format!("{n}.report.json"));
                        let link = rp
                            .exists()
                            .then(|| reports::relative(&cx.rejected, &rp))
                            .flatten();
                        (n.clone(), link)
                    })
                    .collect(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_journal_the_page_still_shows_the_schedule_and_says_why() {
        let d = tempfile::tempdir().unwrap();
        let mut plan = crate::schedule::Plan::defaults();
        plan.apply("prices", "0 6 * * *").unwrap();
        let cx = Context {
            journal: d.path().join("state/journal.db"),
            workdir: d.path().to_path_buf(),
            rejected: d.path().join("rejected"),
            plan,
            server: "sftp://host/srv".into(),
        };
        let o = Overview::gather(&cx);
        assert!(o
            .journal_error
            .as_deref()
            .unwrap()
            .starts_with("no journal"));
        let prices = o.types.iter().find(|t| t.job == "prices").unwrap();
        assert_eq!(prices.schedule, "0 6 * * *");
        assert!(prices.next_tick.as_deref().unwrap().contains("T06:00:00"));
        let html = super::super::page::render(&o, super::super::text::Lang::Ru);
        assert!(html.contains("Журнала ещё нет"), "{html}");
    }
}
