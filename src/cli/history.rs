//! `history`: what happened to each file lately, and where it ended, without reading SQLite.

use super::common::Common;
use super::{Exit, OutputFormat};
use crate::compo::report::{codes, Report};
use crate::journal::{FileRow, Journal, Origin, State};
use crate::pipeline::fsutil;
use serde::Serialize;
use std::io::Write;
use std::path::Path;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub common: Common,
    /// How far back: `30m`, `12h`, `1d`, `2weeks`.
    #[arg(long, default_value = "1d", value_parser = humantime::parse_duration)]
    pub since: std::time::Duration,
    /// Only files that were rejected or held.
    #[arg(long)]
    pub rejected: bool,
    /// Only files of this data type (`products`, `orders`, ...).
    #[arg(long = "type", value_name = "TYPE")]
    pub data_type: Option<String>,
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

/// One ended file.
#[derive(Debug, Serialize)]
pub struct Entry {
    /// When it ended, RFC 3339 with the local offset.
    pub at: String,
    pub file: String,
    #[serde(rename = "type")]
    pub data_type: Option<String>,
    /// `outbox` (bound for the portal) or `out` (from the portal).
    pub from: &'static str,
    /// published, partial, held, rejected, unchanged, superseded, vanished, delivered,
    /// duplicate, abandoned.
    pub outcome: String,
    pub errors: u64,
    pub first_error: Option<FirstError>,
    /// Where the original is now (archive or rejected), when it was kept.
    pub path: Option<String>,
    pub report: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct FirstError {
    pub code: String,
    pub pointer: String,
    pub message: String,
}

pub fn run(args: Args) -> anyhow::Result<Exit> {
    let s = args.common.settings()?;
    let db = s.folders.state.join("journal.db");
    if !db.exists() {
        eprintln!(
            "compo-exchange: no journal at {}: nothing has run in this work folder yet",
            db.display()
        );
        return Ok(Exit::Error);
    }
    let journal = Journal::open(&db)?;
    let since = chrono::Utc::now()
        - chrono::Duration::from_std(args.since).unwrap_or(chrono::Duration::days(36_500));
    let since = since.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let entries: Vec<Entry> = journal
        .ended_since(&since)?
        .into_iter()
        .filter(|r| {
            args.data_type.is_none()
                || r.data_type.as_deref() == args.data_type.as_deref()
                || crate::pipeline::type_key_of(&r.name) == args.data_type.as_deref()
        })
        .map(|r| entry(&r, &s.folders.workdir))
        .filter(|e| !args.rejected || matches!(e.outcome.as_str(), "rejected" | "held"))
        .collect();
    let mut out = std::io::stdout().lock();
    let written = match args.format {
        OutputFormat::Json => serde_json::to_writer_pretty(&mut out, &entries)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out)),
        OutputFormat::Text => write_text(&mut out, &entries),
    };
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(Exit::Ok),
    }
}

fn write_text(out: &mut dyn Write, entries: &[Entry]) -> std::io::Result<()> {
    if entries.is_empty() {
        return writeln!(out, "nothing ended in that period");
    }
    for e in entries {
        writeln!(
            out,
            "{}  {:<10} {:<16} {}",
            e.at,
            e.outcome,
            e.data_type.as_deref().unwrap_or("-"),
            e.file
        )?;
        if let Some(f) = &e.first_error {
            let more = if e.errors > 1 {
                format!(" (and {} more)", e.errors - 1)
            } else {
                String::new()
            };
            writeln!(out, "    {} {}: {}{more}", f.code, f.pointer, f.message)?;
        }
        if let Some(p) = &e.path {
            writeln!(out, "    now at {p}")?;
        }
        if let Some(r) = &e.report {
            writeln!(out, "    report {r}")?;
        }
    }
    Ok(())
}

/// What `history` shows of a file that ended; paths relative to `workdir` when below it.
pub(super) fn entry(r: &FileRow, workdir: &Path) -> Entry {
    let shown = |p: &Path| {
        p.strip_prefix(workdir)
            .unwrap_or(p)
            .to_string_lossy()
            .into_owned()
    };
    let path = r.final_path.as_deref().map(Path::new);
    let report_path = path.map(fsutil::report_path).filter(|p| p.exists());
    let report: Option<Report> = report_path
        .as_ref()
        .and_then(|p| std::fs::read(p).ok())
        .and_then(|b| serde_json::from_slice(&b).ok());
    let held = report.as_ref().is_some_and(|rep| {
        rep.errors
            .iter()
            .any(|e| e.code == codes::SNAPSHOT_MASS_DELETE)
    });
    let outcome = match (r.origin, r.state, r.outcome.as_deref()) {
        (_, State::Rejected, _) if held => "held",
        (_, State::Rejected, _) | (_, _, Some("rejected")) => "rejected",
        (_, _, Some(o @ ("unchanged" | "superseded" | "vanished" | "duplicate" | "abandoned"))) => {
            o
        }
        (Origin::Outbox, _, Some("partial")) => "partial",
        (Origin::Outbox, _, _) => "published",
        (Origin::Out, _, _) => "delivered",
    };
    Entry {
        at: local_time(&r.updated_at),
        file: r.name.clone(),
        data_type: r
            .data_type
            .clone()
            .or_else(|| crate::pipeline::type_key_of(&r.name).map(str::to_string)),
        from: match r.origin {
            Origin::Outbox => "outbox",
            Origin::Out => "out",
        },
        outcome: outcome.to_string(),
        errors: r.errors,
        first_error: report
            .and_then(|rep| rep.errors.into_iter().next())
            .map(|e| FirstError {
                code: e.code,
                pointer: e.pointer,
                message: e.message,
            }),
        path: path.filter(|p| p.exists()).map(shown),
        report: report_path.as_deref().map(shown),
    }
}

/// The journal's UTC time in the local zone, RFC 3339 with offset.
fn local_time(utc: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(utc)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
        })
        .unwrap_or_else(|_| utc.to_string())
}
