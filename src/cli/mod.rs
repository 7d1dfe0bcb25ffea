//! Command-line interface: arguments, logging set-up, and exit codes, decided here and nowhere
//! else.

mod convert;
mod exchange;
mod validate;

use clap::{Parser, Subcommand, ValueEnum};
use std::process::ExitCode;

/// Exit codes of every command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything valid / done.
    Ok = 0,
    /// Something was invalid or rejected.
    Invalid = 1,
    /// Usage, configuration or I/O error: nothing was judged.
    Error = 2,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

#[derive(Parser, Debug)]
#[command(
    name = "compo-exchange",
    version,
    about = "Exchanges data between a supplier's ERP and the COMPO B2B portal (compo-json/1)",
    long_about = None
)]
pub struct Cli {
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// More log output (-v: debug, -vv: trace). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
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
    Validate(validate::Args),
    /// Write a commented configuration and the folder tree into DIR.
    Init(exchange::InitArgs),
    /// Run the exchange as a daemon: watch the outbox, publish on schedule, collect out/.
    Run(exchange::RunArgs),
    /// One pass: take the outbox, publish everything staged, collect out/, then exit
    /// (exit 1 when anything was rejected).
    Once(exchange::OnceArgs),
    /// What was published when, what waits, what was rejected, what is next.
    Status(exchange::StatusArgs),
    /// Convert between COMPO and partner formats (Sellper XML, Prodly NDJSON).
    Convert(convert::Args),
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
    init_logging(cli.log_format, cli.verbose);
    let result = match cli.command {
        Command::Validate(args) => validate::run(args),
        Command::Init(args) => exchange::init(args),
        Command::Run(args) => exchange::run(args),
        Command::Once(args) => exchange::once(args),
        Command::Status(args) => exchange::status(args),
        Command::Convert(args) => convert::run(args),
    };
    match result {
        Ok(exit) => exit.into(),
        Err(e) => {
            eprintln!("compo-exchange: error: {e:#}");
            Exit::Error.into()
        }
    }
}

fn init_logging(format: LogFormat, verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.with_target(false).try_init(),
        LogFormat::Json => builder.json().with_current_span(false).try_init(),
    };
}
