//! `release NAME`: lets a snapshot held by the mass-deletion guard through, once.

use super::exchange::Common;
use super::Exit;
use crate::compo::report::{codes, Report};
use crate::journal::Journal;
use crate::pipeline::fsutil;
use anyhow::Context;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub common: Common,
    /// The held file's name in rejected/ (as `status` and its report show it).
    pub name: String,
}

/// Puts the held file back into the outbox and tells the journal to let exactly this content
/// through the guard; any other file of that name is guarded as usual.
pub fn run(args: Args) -> anyhow::Result<Exit> {
    let s = args.common.settings()?;
    let name = &args.name;
    if name.contains(['/', '\\']) || name.starts_with('.') {
        anyhow::bail!("{name:?}: give the file's name in rejected/, without a folder");
    }
    let held = s.folders.rejected.join(name);
    let report_path = fsutil::report_path(&held);
    let report: Report = match std::fs::read(&report_path) {
        Ok(b) => serde_json::from_slice(&b)
            .with_context(|| format!("{}: not a report", report_path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!(
                "compo-exchange: {name} is not in {} (see `compo-exchange status` for held files)",
                s.folders.rejected.display()
            );
            return Ok(Exit::Error);
        }
        Err(e) => return Err(e).context(report_path.display().to_string()),
    };
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
