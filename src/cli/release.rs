//! `release NAME`: lets a snapshot held by the mass-deletion guard through, once.

use super::common::Common;
use super::Exit;
use crate::compo::report::{codes, Report};
use crate::journal::Journal;
use crate::pipeline::fsutil;
use anyhow::Context;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub common: Common,
    /// The held file's name in rejected/ (as `status` and its report show it); the newest
    /// one of that name is taken, or give its day's folder too (`2026-11-30/products.json`).
    pub name: String,
}

/// Puts the held file back into the outbox and tells the journal to let exactly this content
/// through the guard; any other file of that name is guarded as usual.
pub fn run(args: Args) -> anyhow::Result<Exit> {
    let s = args.common.settings()?;
    let name = &args.name;
    let Some(held) = find_held(&s.folders.rejected, name)? else {
        eprintln!(
            "compo-exchange: {name} is not in {} (see `compo-exchange status` for held files)",
            s.folders.rejected.display()
        );
        return Ok(Exit::Error);
    };
    let report_path = fsutil::report_path(&held);
    let report: Report = std::fs::read(&report_path)
        .map_err(anyhow::Error::from)
        .and_then(|b| Ok(serde_json::from_slice(&b)?))
        .with_context(|| format!("{}: not a report", report_path.display()))?;
    if !report
        .errors
        .iter()
        .any(|e| e.code == codes::SNAPSHOT_MASS_DELETE)
    {
        eprintln!(
            "compo-exchange: {name} was rejected for its content, not held by the \
             mass-deletion guard: fix the export and drop the corrected file into the outbox"
        );
        return Ok(Exit::Error);
    }
    if report
        .errors
        .iter()
        .any(|e| e.code != codes::SNAPSHOT_MASS_DELETE)
    {
        eprintln!(
            "compo-exchange: {name} also has other errors (see {}); fix them first",
            report_path.display()
        );
        return Ok(Exit::Error);
    }
    // The report names the file as the ERP wrote it; rejected/ may hold it under another name.
    let original = report.file.clone();
    let back = s.folders.outbox.join(&original);
    if back.exists() {
        eprintln!(
            "compo-exchange: a newer {original} is waiting in the outbox; it would be replaced. \
             Let it be taken first, or remove it"
        );
        return Ok(Exit::Error);
    }
    let (_, hash) = fsutil::hash_claimed(&held).with_context(|| held.display().to_string())?;
    let mut journal = Journal::open(&s.folders.state.join("journal.db"))?;
    journal.add_release(&original, &hash)?;
    // Back under a temporary name first: the outbox never shows a half-moved file.
    let tmp = s.folders.outbox.join(format!(".{original}.release.tmp"));
    fsutil::move_file(&held, &tmp).with_context(|| held.display().to_string())?;
    std::fs::rename(&tmp, &back).with_context(|| back.display().to_string())?;
    std::fs::remove_file(&report_path).ok();
    let what = report
        .errors
        .first()
        .map(|e| e.message.as_str())
        .unwrap_or("");
    println!(
        "released {name}: it is back in the outbox as {original} and will be published at its \
         type's next tick ({what})"
    );
    Ok(Exit::Ok)
}

/// The file `name` names in `rejected/`: `DAY/NAME`, or `NAME` in the newest day's folder that
/// holds it with its report (or directly in `rejected/`, where older releases put it).
fn find_held(rejected: &Path, name: &str) -> anyhow::Result<Option<PathBuf>> {
    let (day, file) = match name.split_once('/') {
        Some((d, f)) => (Some(d), f),
        None => (None, name),
    };
    let is_day = |d: &str| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok();
    if file.is_empty()
        || file.contains(['/', '\\'])
        || file.starts_with('.')
        || !day.map_or(true, is_day)
    {
        anyhow::bail!(
            "{name:?}: give the file's name in rejected/ (products.json), or with its day's \
             folder (2026-11-30/products.json)"
        );
    }
    let dirs: Vec<PathBuf> = match day {
        Some(d) => vec![rejected.join(d)],
        None => {
            let mut days: Vec<String> = std::fs::read_dir(rejected)
                .into_iter()
                .flatten()
                .flatten()
                .filter(|e| e.path().is_dir())
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|d| is_day(d))
                .collect();
            days.sort_unstable_by(|a, b| b.cmp(a));
            let mut v: Vec<PathBuf> = days.iter().map(|d| rejected.join(d)).collect();
            v.push(rejected.to_path_buf());
            v
        }
    };
    let found = dirs
        .into_iter()
        .map(|d| d.join(file))
        .find(|p| p.is_file() && fsutil::report_path(p).is_file());
    Ok(found)
}
