//! `compo-exchange validate`: the validator on its own, for people and for CI.

use super::{Exit, OutputFormat};
use crate::compo::messages::{escape_controls, msg, Lang};
use crate::compo::model::{DataType, Side};
use crate::compo::normalise::{self, zone::Zone};
use crate::compo::reader::{record_lines, EncodingMode};
use crate::compo::report::Report;
use crate::compo::validate::{BatchInput, Observer, Options, Quiet, Validator};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Output: one line per problem for people, or the reports as a JSON array.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Folder with <type>.schema.json files overriding the embedded schemas.
    #[arg(long, value_name = "DIR")]
    pub schemas: Option<PathBuf>,
    /// Encoding of the data files.
    #[arg(long, value_enum, default_value_t = EncodingArg::Auto)]
    pub encoding: EncodingArg,
    /// Language of the messages (en, ru); by default the locale's (LC_ALL, LC_MESSAGES, LANG).
    #[arg(long, value_name = "LANG", value_parser = parse_lang)]
    pub lang: Option<Lang>,
    /// Treat every normalisation (a date written as a date-time, 1C's empty date or reference,
    /// null or "" for "no value", a date-time without offset) as an error, not a warning.
    #[arg(long)]
    pub strict: bool,
    /// Time zone (IANA name, e.g. Europe/Moscow) of date-times written without offset; by
    /// default the host's (TZ, then the system's setting).
    #[arg(long, value_name = "ZONE", value_parser = Zone::parse)]
    pub timezone: Option<Zone>,
    /// Validate as files from the portal's out/ (orders.<label>.json names).
    #[arg(long)]
    pub inbound: bool,
    /// Take the files named directly as snapshots of this type, whatever their names
    /// (e.g. --type products for an export called catalog.json).
    #[arg(long = "type", value_name = "TYPE", value_parser = parse_type)]
    pub as_type: Option<DataType>,
    /// Files and folders. Each folder is a batch laid out like in/ (data files at the top,
    /// pictures/ and invoices/ below); the files named directly form one more batch together.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum EncodingArg {
    Auto,
    #[value(name = "utf-8")]
    Utf8,
    #[value(name = "windows-1251")]
    Windows1251,
}

impl From<EncodingArg> for EncodingMode {
    fn from(e: EncodingArg) -> Self {
        match e {
            EncodingArg::Auto => EncodingMode::Auto,
            EncodingArg::Utf8 => EncodingMode::Utf8,
            EncodingArg::Windows1251 => EncodingMode::Windows1251,
        }
    }
}

/// Progress on a terminal for inputs large enough to wait for.
struct Bar(indicatif::ProgressBar);

impl Observer for Bar {
    fn advanced(&mut self, n: u64) {
        self.0.inc(n);
    }
}

pub fn run(args: Args) -> anyhow::Result<Exit> {
    let side = if args.inbound {
        Side::Inbound
    } else {
        Side::Outbound
    };
    let mut batches = Vec::new();
    let mut loose = Vec::new();
    for p in &args.paths {
        let md = std::fs::metadata(p).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
        if md.is_dir() {
            batches.push(BatchInput::from_folder(p, side)?);
        } else {
            loose.push(p.clone());
        }
    }
    if !loose.is_empty() {
        batches.push(BatchInput::from_files(&loose, side, args.as_type));
    }
    let schemas = crate::compo::schema::Schemas::load(args.schemas.as_deref())?;
    let lang = args.lang.unwrap_or_else(Lang::from_env);
    let encoding: EncodingMode = args.encoding.into();
    let validator = Validator::new(
        schemas,
        Options {
            encoding,
            lang,
            normalise: normalise::Settings {
                zone: args.timezone.unwrap_or_default(),
                strict: args.strict,
            },
            ..Options::default()
        },
    );
    let total: u64 = batches.iter().map(|b| b.total_bytes()).sum();
    let mut bar = (std::io::stderr().is_terminal() && total > 64 << 20).then(|| {
        let pb = indicatif::ProgressBar::new(total);
        pb.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .expect("static template"),
        );
        Bar(pb)
    });
    let mut reports: Vec<Report> = Vec::new();
    for b in &batches {
        let obs: &mut dyn Observer = match bar.as_mut() {
            Some(b) => b,
            None => &mut Quiet,
        };
        for mut o in validator.validate(b, None, obs)? {
            if let Some(d) = b.data.iter().find(|d| d.rel == o.rel) {
                add_lines(&mut o.report, &d.path, encoding);
            }
            reports.push(o.report);
        }
    }
    if let Some(b) = bar {
        b.0.finish_and_clear();
    }
    let invalid = reports.iter().filter(|r| !r.is_ok()).count();
    let mut out = std::io::stdout().lock();
    match args.format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &reports)?;
            writeln!(out)?;
        }
        OutputFormat::Text => write_text(&mut out, &reports, lang)?,
    }
    Ok(if invalid > 0 { Exit::Invalid } else { Exit::Ok })
}

/// Puts the line of its record on every issue: the file is read again, only when some record
/// of it has a problem. A file that cannot be read again keeps its issues as they are.
fn add_lines(report: &mut Report, path: &std::path::Path, encoding: EncodingMode) {
    let wanted = report.records_without_line();
    if wanted.is_empty() {
        return;
    }
    if let Ok(f) = std::fs::File::open(path) {
        report.set_lines(&record_lines(f, encoding, &wanted));
    }
}

/// One line per problem, then a summary.
pub fn write_text(out: &mut dyn Write, reports: &[Report], lang: Lang) -> std::io::Result<()> {
    let (errors, _) = write_issues_in(out, reports, lang)?;
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

fn parse_lang(s: &str) -> Result<Lang, String> {
    Lang::parse(s).ok_or_else(|| "not a language of the messages; one of: en, ru".to_string())
}

fn parse_type(s: &str) -> Result<DataType, String> {
    DataType::from_name(s).ok_or_else(|| {
        let names: Vec<_> = DataType::ALL.iter().map(|t| t.name()).collect();
        format!("not a data type; one of: {}", names.join(", "))
    })
}
