//! `compo-exchange validate`: the validator on its own, for people and for CI (a file per
//! output format beside this one).

mod github;
mod gitlab;
mod inputs;
mod junit;
mod position;
mod sarif;
mod text;

pub use text::write_issues;

use super::Exit;
use crate::compo::messages::{msg, Lang};
use crate::compo::model::{DataType, Side};
use crate::compo::normalise::{self, zone::Zone};
use crate::compo::reader::{record_lines, EncodingMode};
use crate::compo::report::{codes, Issue, Report};
use crate::compo::validate::{Observer, Options, Quiet, Validator};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Output: one line per problem for people (text), the reports as a JSON array (json),
    /// GitHub workflow annotations (github), a GitLab Code Quality report (gitlab), JUnit XML
    /// (junit) or SARIF 2.1.0 (sarif).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Validate the sub-folders of each folder too, each as a batch of its own (without it, a
    /// sub-folder holding data files is a warning).
    #[arg(long, short = 'r')]
    pub recursive: bool,
    /// Leave out the files and folders matching GLOB (repeatable), matched against the path
    /// as reported (ci/data/old/products.json) and the path inside the folder given
    /// (old/products.json); `*` crosses `/`.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
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
    /// Files that are not data (README.md, .gitkeep) are listed as skipped.
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

/// The report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Github,
    Gitlab,
    Junit,
    Sarif,
}

/// How much a notice weighs, heaviest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
    Note,
}

/// Something said about the input rather than a file's content: a file skipped, a sub-folder
/// left out, nothing found.
#[derive(Debug, Clone)]
pub struct Notice {
    /// The file or folder, as reported; `None` for the run as a whole.
    pub path: Option<String>,
    pub level: Level,
    pub code: &'static str,
    pub message: String,
}

/// What a run found, for the writers of every format.
pub struct Findings {
    /// One per file validated, `file` being the path as reported.
    pub reports: Vec<Report>,
    /// Beside each report, where its problems' values are.
    pub positions: Vec<position::Positions>,
    pub notices: Vec<Notice>,
    pub lang: Lang,
}

impl Findings {
    /// Files with errors.
    pub fn invalid(&self) -> usize {
        self.reports.iter().filter(|r| !r.is_ok()).count()
    }

    /// Each report with its errors and its warnings, each problem with the line and column
    /// of its value when known.
    pub fn each(&self) -> impl Iterator<Item = (&Report, Placed<'_>, Placed<'_>)> {
        self.reports.iter().zip(&self.positions).map(|(r, p)| {
            (
                r,
                placed(&r.errors, &p.errors),
                placed(&r.warnings, &p.warnings),
            )
        })
    }
}

/// Problems with the line and column of their values.
pub type Placed<'a> = Vec<(&'a Issue, Option<(u64, u64)>)>;

fn placed<'a>(issues: &'a [Issue], at: &[Option<(u64, u64)>]) -> Placed<'a> {
    issues
        .iter()
        .enumerate()
        .map(|(n, i)| (i, at.get(n).copied().flatten()))
        .collect()
}

/// The issue's message with the record and pointer it concerns in front, as the text output
/// writes them.
pub fn located(i: &Issue, lang: Lang) -> String {
    match i.record {
        Some(n) => format!(
            "{}: {}",
            msg!(lang, "output-record", record = n, pointer = &i.pointer),
            i.message
        ),
        None if !i.pointer.is_empty() => format!("{}: {}", i.pointer, i.message),
        None => i.message.clone(),
    }
}

fn exclusions(globs: &[String]) -> anyhow::Result<globset::GlobSet> {
    let mut set = globset::GlobSetBuilder::new();
    for g in globs {
        // Paths are matched as reported, without `./` and a folder's trailing `/`.
        let pattern = g.strip_prefix("./").unwrap_or(g).trim_end_matches('/');
        let glob =
            globset::Glob::new(pattern).map_err(|e| anyhow::anyhow!("--exclude {g:?}: {e}"))?;
        set.add(glob);
    }
    Ok(set.build()?)
}

pub fn run(args: Args) -> anyhow::Result<Exit> {
    let side = if args.inbound {
        Side::Inbound
    } else {
        Side::Outbound
    };
    let lang = args.lang.unwrap_or_else(Lang::from_env);
    let mut inputs = inputs::Collector {
        side,
        recursive: args.recursive,
        exclude: exclusions(&args.exclude)?,
        lang,
        batches: Vec::new(),
        notices: Vec::new(),
    };
    let mut loose = Vec::new();
    for p in &args.paths {
        let md = std::fs::metadata(p).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
        if md.is_dir() {
            inputs.folder(p, "")?;
        } else {
            loose.push(p.clone());
        }
    }
    inputs.files(&loose, args.as_type);
    let batches = std::mem::take(&mut inputs.batches);
    let mut notices = std::mem::take(&mut inputs.notices);
    let schemas = crate::compo::schema::Schemas::load(args.schemas.as_deref())?;
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
    let total: u64 = batches.iter().map(|b| b.input.total_bytes()).sum();
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
    let mut positions = Vec::new();
    let points = !matches!(args.format, Format::Text | Format::Json);
    for b in &batches {
        let obs: &mut dyn Observer = match bar.as_mut() {
            Some(b) => b,
            None => &mut Quiet,
        };
        for mut o in validator.validate(&b.input, None, obs)? {
            let data = b.input.data.iter().find(|d| d.rel == o.rel);
            if let Some(d) = data {
                add_lines(&mut o.report, &d.path, encoding);
            }
            // Text and JSON name the record's line; the annotations, the value's place.
            positions.push(match data {
                Some(d) if points => position::Positions::of_values(&o.report, &d.path),
                _ => position::Positions::of_records(&o.report),
            });
            o.report.file = b.shown(&o.rel);
            reports.push(o.report);
        }
    }
    if let Some(b) = bar {
        b.0.finish_and_clear();
    }
    // Nothing validated must never pass in CI: an empty or misconfigured folder, a wrong
    // glob, data one level further down than expected.
    let nothing = batches.iter().all(|b| b.files() == 0);
    let mut findings = Findings {
        reports,
        positions,
        notices: Vec::new(),
        lang,
    };
    let exit = if findings.invalid() > 0 {
        Exit::Invalid
    } else if nothing {
        let paths: Vec<String> = args.paths.iter().map(|p| inputs::shown(p)).collect();
        let message = msg!(
            lang,
            "input-no_data",
            paths = paths.join(", "),
            recursive = if args.recursive { "yes" } else { "no" }
        );
        eprintln!("compo-exchange: {message}");
        notices.push(Notice {
            path: None,
            level: Level::Error,
            code: codes::INPUT_NO_DATA,
            message,
        });
        Exit::NothingFound
    } else {
        Exit::Ok
    };
    findings.notices = notices;
    // Written whole at the end: a reader that stops early (`| head`) is not an error, and the
    // verdict stands.
    let mut out = Vec::new();
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &findings.reports)?;
            writeln!(out)?;
            // The array holds the protocol's reports only: what is said about the input goes
            // to the log (nothing found is there already).
            let located: Vec<Notice> = findings
                .notices
                .iter()
                .filter(|n| n.path.is_some())
                .cloned()
                .collect();
            text::write_notices_in(&mut std::io::stderr().lock(), &located, lang)?;
        }
        Format::Text => text::write(&mut out, &findings)?,
        Format::Github => github::write(&mut out, &findings)?,
        Format::Gitlab => gitlab::write(&mut out, &findings)?,
        Format::Junit => junit::write(&mut out, &findings)?,
        Format::Sarif => sarif::write(&mut out, &findings, exit)?,
    }
    match std::io::stdout().lock().write_all(&out) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(exit),
    }
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

fn parse_lang(s: &str) -> Result<Lang, String> {
    Lang::parse(s).ok_or_else(|| "not a language of the messages; one of: en, ru".to_string())
}

fn parse_type(s: &str) -> Result<DataType, String> {
    DataType::from_name(s).ok_or_else(|| {
        let names: Vec<_> = DataType::ALL.iter().map(|t| t.name()).collect();
        format!("not a data type; one of: {}", names.join(", "))
    })
}
