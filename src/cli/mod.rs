//! Command-line interface: arguments, logging set-up, and exit codes, decided here and nowhere
//! else.

mod common;
mod convert;
mod exchange;
mod history;
mod lock;
mod logging;
mod release;
mod schemas;
mod service;
mod status;
mod validate;

use clap::{Parser, Subcommand, ValueEnum};
use std::process::ExitCode;

/// `--version`: the release, the exact commit it was built from, and the protocol it speaks.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("COMPO_GIT_COMMIT"),
    ", protocol compo-json/1)"
);

/// Exit codes of every command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything valid / done.
    Ok = 0,
    /// Something was invalid or rejected.
    Invalid = 1,
    /// Usage, configuration or I/O error: nothing was judged.
    Error = 2,
    /// `validate` found no file to validate: an empty or misconfigured folder never passes.
    NothingFound = 3,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

#[derive(Parser, Debug)]
#[command(
    name = "compo-exchange",
    version = VERSION,
    about = "Exchanges data between a supplier's ERP and the COMPO B2B portal (compo-json/1)",
    long_about = None,
    after_help = "Exit codes: 0 done, everything valid; 1 something was invalid or rejected; \
                  2 usage, configuration or I/O error.\n\
                  Start with: compo-exchange once --samples"
)]
pub struct Cli {
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// More log output (-v: each step of each file, -vv: also each operation on the server).
    /// RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Write the log to this file instead of stderr, a new file each day (UTC):
    /// `compo.log` is written as `compo.YYYY-MM-DD.log`.
    #[arg(long, global = true, value_name = "PATH")]
    pub log_file: Option<std::path::PathBuf>,
    /// Log files kept with --log-file, today's included; older ones are removed.
    #[arg(long, global = true, value_name = "N", default_value_t = logging::KEEP_DEFAULT)]
    pub log_keep: usize,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check data files and attached files against the COMPO schemas and rules.
    #[command(after_help = "Examples:\n  compo-exchange validate outbox/\n  \
        compo-exchange validate --format json products.json prices.json\n  \
        compo-exchange validate --recursive --format github ci/data/\n\n\
        Exit codes: 0 all valid; 1 something invalid; 2 usage or I/O error; 3 no data file \
        found.")]
    Validate(validate::Args),
    /// Write a commented configuration and the folder tree into DIR.
    #[command(
        after_help = "Example:\n  compo-exchange init /srv/compo --samples\n\n\
        Exit codes: 0 done; 2 the folder or the config could not be written."
    )]
    Init(exchange::InitArgs),
    /// Run the exchange as a daemon: watch the outbox, publish on schedule, collect out/.
    #[command(
        after_help = "Example:\n  compo-exchange run --config /srv/compo/compo-exchange.toml\n\n\
        Stops cleanly on SIGINT/SIGTERM (the step in flight finishes).\n\
        Exit codes: 0 stopped on request; 2 configuration error at start."
    )]
    Run(exchange::RunArgs),
    /// One pass: take the outbox, publish everything staged, collect out/, then exit
    /// (exit 1 when anything was rejected).
    #[command(
        after_help = "Example:\n  compo-exchange once --config /srv/compo/compo-exchange.toml\n\n\
        Exit codes: 0 done; 1 something was rejected; 2 configuration or I/O error."
    )]
    Once(exchange::OnceArgs),
    /// What was published when, what waits, what was rejected, what is next.
    #[command(
        after_help = "Example:\n  compo-exchange status --config /srv/compo/compo-exchange.toml\n\n\
        Exit codes: 0 shown; 2 configuration error or unreadable journal."
    )]
    Status(exchange::StatusArgs),
    /// What happened to each file lately (published, rejected, held, unchanged, delivered...)
    /// and where it ended.
    #[command(
        after_help = "Examples:\n  compo-exchange history --since 1d --rejected\n  \
        compo-exchange history --type products --format json\n\n\
        Exit codes: 0 shown; 2 configuration error or no journal."
    )]
    History(history::Args),
    /// Let a full snapshot held by the mass-deletion guard through, once (it goes back into
    /// the outbox and is published at its next tick).
    #[command(
        after_help = "Example:\n  compo-exchange release products.json --config /srv/compo/compo-exchange.toml\n\n\
        Exit codes: 0 released; 2 not held by the guard, not found, or a newer file waits."
    )]
    Release(release::Args),
    /// Convert between COMPO and partner formats (Sellper XML, Prodly NDJSON).
    #[command(
        after_help = "Example:\n  compo-exchange convert --from sellper --to compo --out converted/ products.xml\n\n\
        Exit codes: 0 converted; 1 some input could not be converted; 2 usage or I/O error."
    )]
    Convert(convert::Args),
    /// Write the JSON Schemas embedded in this binary into DIR (for editors, CI and other
    /// validators).
    #[command(after_help = "Example:\n  compo-exchange schemas --out schemas/\n\n\
        Exit codes: 0 written or already up to date; 2 a file in DIR differs (kept: give \
        --force) or I/O error.")]
    Schemas(schemas::Args),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to standard output.
    #[command(
        after_help = "Example:\n  compo-exchange completions bash > /etc/bash_completion.d/compo-exchange"
    )]
    Completions { shell: clap_complete::Shell },
    /// Print the manual page (roff) to standard output.
    #[command(
        after_help = "Example:\n  compo-exchange man > /usr/local/share/man/man1/compo-exchange.1"
    )]
    Man,
}

/// Entry point used by `main.rs`.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Error
            } else {
                Exit::Ok
            }
            .into();
        }
    };
    let log_format = cli.log_format;
    let log_file = cli.log_file.is_some();
    if let Err(e) = logging::init(
        log_format,
        cli.verbose,
        cli.log_file.as_deref(),
        cli.log_keep,
    ) {
        eprintln!("compo-exchange: error: {}", error_chain(&e));
        return Exit::Error.into();
    }
    let result = match cli.command {
        Command::Validate(args) => validate::run(args),
        Command::Init(args) => exchange::init(args),
        Command::Run(args) => exchange::run(args),
        Command::Once(args) => exchange::once(args),
        Command::Status(args) => exchange::status(args),
        Command::History(args) => history::run(args),
        Command::Release(args) => release::run(args),
        Command::Convert(args) => convert::run(args),
        Command::Schemas(args) => schemas::run(args),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut text = Vec::new();
            clap_complete::generate(shell, &mut cmd, "compo-exchange", &mut text);
            print_quietly(&text)
        }
        Command::Man => {
            let mut text = Vec::new();
            match clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(&mut text)
            {
                Ok(()) => print_quietly(&text),
                Err(e) => Err(e.into()),
            }
        }
    };
    match result {
        Ok(exit) => exit.into(),
        Err(e) => {
            let message = error_chain(&e);
            match log_format {
                // A log collector gets the fatal error as one more JSON line.
                LogFormat::Json => tracing::error!(error = %message, "fatal"),
                LogFormat::Text => eprintln!("compo-exchange: error: {message}"),
            }
            // The log file keeps it too; whoever started the command sees it on stderr.
            if log_file {
                match log_format {
                    LogFormat::Json => eprintln!("compo-exchange: error: {message}"),
                    LogFormat::Text => tracing::error!(error = %message, "fatal"),
                }
            }
            Exit::Error.into()
        }
    }
}

/// Writes generated text to standard output; a reader that stopped early (`| head`) is not an
/// error.
fn print_quietly(text: &[u8]) -> anyhow::Result<Exit> {
    use std::io::Write;
    match std::io::stdout().lock().write_all(text) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(Exit::Ok),
    }
}

/// The error and its causes, each said once: many errors already include their source in their
/// own text, which `{:#}` would then repeat (`X: X`).
fn error_chain(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
    }
    out
}
