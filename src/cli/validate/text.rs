//! `--format text`: one line per problem as compilers write them, the notices, a summary.

use super::{Findings, Level, Notice};
use crate::compo::messages::{escape_controls, msg, Lang};
use crate::compo::report::Report;
use std::io::Write;

/// The problems, then what was skipped or left out, then the summary.
pub fn write(out: &mut dyn Write, f: &Findings) -> std::io::Result<()> {
    write_issues_in(out, &f.reports, f.lang)?;
    // The run-wide notice (nothing found) is on standard error already.
    let located: Vec<Notice> = f
        .notices
        .iter()
        .filter(|n| n.path.is_some())
        .cloned()
        .collect();
    write_notices_in(out, &located, f.lang)?;
    write_summary(out, &f.reports, f.lang)
}

/// The closing line: files, records, valid, invalid, errors.
pub fn write_summary(out: &mut dyn Write, reports: &[Report], lang: Lang) -> std::io::Result<()> {
    let errors: usize = reports.iter().map(|r| r.errors.len()).sum();
    let records: u64 = reports.iter().map(|r| r.records.unwrap_or(0)).sum();
    let invalid = reports.iter().filter(|r| !r.is_ok()).count();
    let summary = msg!(
        lang,
        "output-summary",
        files = reports.len(),
        records = records,
        valid = reports.len() - invalid,
        invalid = invalid,
        errors = errors
    );
    writeln!(out, "{summary}")
}

/// The notices as text lines (`path: warning CODE: message`, `path: skipped: ...`); also the
/// log beside the JSON reports.
pub fn write_notices_in(
    out: &mut dyn Write,
    notices: &[Notice],
    lang: Lang,
) -> std::io::Result<()> {
    for n in notices {
        let path = n
            .path
            .as_deref()
            .map(|p| format!("{}: ", escape_controls(p)))
            .unwrap_or_default();
        match n.level {
            // A skipped file's message says "skipped" itself; no code in front of it.
            Level::Note => writeln!(out, "{path}{}", n.message)?,
            Level::Warning => writeln!(
                out,
                "{path}{} {}: {}",
                msg!(lang, "output-warning"),
                n.code,
                n.message
            )?,
            Level::Error => writeln!(
                out,
                "{path}{} {}: {}",
                msg!(lang, "output-error"),
                n.code,
                n.message
            )?,
        }
    }
    Ok(())
}

/// [`write_issues_in`] in the locale's language.
pub fn write_issues(out: &mut dyn Write, reports: &[Report]) -> std::io::Result<(usize, usize)> {
    write_issues_in(out, reports, Lang::from_env())
}

/// One line per problem, `file:line: where: kind code: message` as compilers write them (so
/// that editors jump to the line); returns (errors, warnings).
pub fn write_issues_in(
    out: &mut dyn Write,
    reports: &[Report],
    lang: Lang,
) -> std::io::Result<(usize, usize)> {
    let error = msg!(lang, "output-error");
    let warning = msg!(lang, "output-warning");
    for r in reports {
        for (kind, issues) in [(&error, &r.errors), (&warning, &r.warnings)] {
            for i in issues {
                let line = i.line.map(|l| format!(":{l}")).unwrap_or_default();
                let at = match i.record {
                    Some(n) => format!(
                        " {}:",
                        msg!(lang, "output-record", record = n, pointer = &i.pointer)
                    ),
                    None if !i.pointer.is_empty() => format!(" {}:", i.pointer),
                    None => String::new(),
                };
                // Names and pointers come from the files: no raw control character reaches
                // the terminal.
                writeln!(
                    out,
                    "{}{line}:{} {kind} {}: {}",
                    escape_controls(&r.file),
                    escape_controls(&at),
                    i.code,
                    i.message
                )?;
            }
        }
    }
    Ok((
        reports.iter().map(|r| r.errors.len()).sum(),
        reports.iter().map(|r| r.warnings.len()).sum(),
    ))
}
