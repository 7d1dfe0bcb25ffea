//! `compo-exchange convert`: the partner bridges on their own.

use super::{Exit, OutputFormat};
use crate::formats::{prodly, sellper, ConvertOutcome};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Compo,
    Sellper,
    Prodly,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Format of the inputs.
    #[arg(long, value_enum)]
    pub from: Format,
    /// Format to write.
    #[arg(long, value_enum)]
    pub to: Format,
    /// Folder for the converted files (created when missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Prodly supplier code (else `prodly.vendor` from --config).
    #[arg(long, value_name = "CODE")]
    pub vendor: Option<String>,
    /// Prodly branch code (else `prodly.branch` from --config).
    #[arg(long, value_name = "CODE")]
    pub branch: Option<String>,
    /// COMPO contracts files giving a client's currency to Prodly orders without one
    /// (prodly → compo).
    #[arg(long, value_name = "FILE")]
    pub contracts: Vec<PathBuf>,
    /// Configuration to take the Prodly codes and defaults and the `[sellper]` settings from.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Reports as JSON (spec section 7) instead of text.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Input files (and, for COMPO input, folders laid out like in/).
    #[arg(required = true, value_name = "FILE")]
    pub inputs: Vec<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<Exit> {
    let outcome: ConvertOutcome = match (args.from, args.to) {
        (Format::Sellper, Format::Compo) => {
            let opts = sellper_options(&args)?;
            sellper::sellper_to_compo_with(&args.inputs, &args.out, &opts)?
        }
        (Format::Compo, Format::Sellper) => {
            let opts = sellper_options(&args)?;
            sellper::compo_to_sellper_with(&args.inputs, &args.out, &opts)?
        }
        (Format::Compo, Format::Prodly) => {
            let opts = prodly_options(&args)?;
            let defaults = prodly_raw(&args)?.defaults()?;
            prodly::compo_to_prodly_with(&args.inputs, &args.out, &opts, &defaults)?
        }
        (Format::Prodly, Format::Compo) => {
            let defaults = prodly_raw(&args)?.defaults()?;
            prodly::prodly_to_compo_with(&args.inputs, &args.contracts, &args.out, &defaults)?
        }
        (from, to) => anyhow::bail!(
            "no bridge from {from:?} to {to:?}; available: sellper→compo, compo→sellper, \
             compo→prodly, prodly→compo"
        ),
    };
    let mut out = std::io::stdout().lock();
    match args.format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &outcome.reports)?;
            writeln!(out)?;
        }
        OutputFormat::Text => {
            for w in &outcome.written {
                writeln!(out, "wrote {}", w.display())?;
            }
            let (errors, warnings) = super::validate::write_issues(&mut out, &outcome.reports)?;
            writeln!(
                out,
                "{} files written, {errors} errors, {warnings} warnings",
                outcome.written.len()
            )?;
        }
    }
    Ok(if outcome.has_errors() {
        Exit::Invalid
    } else {
        Exit::Ok
    })
}

/// The `[sellper]` section of --config, its paths resolved as the exchange resolves them:
/// under `workdir` (default `exchange`), itself relative to the current folder.
fn sellper_options(args: &Args) -> anyhow::Result<sellper::SellperOptions> {
    Ok(match &args.config {
        Some(p) => {
            let raw = crate::config::RawConfig::load(p)?;
            let workdir = raw.workdir.clone().unwrap_or_else(|| "exchange".into());
            raw.sellper
                .options(&std::env::current_dir()?.join(workdir))?
        }
        None => Default::default(),
    })
}

fn prodly_raw(args: &Args) -> anyhow::Result<crate::config::RawProdly> {
    Ok(match &args.config {
        Some(p) => crate::config::RawConfig::load(p)?.prodly,
        None => Default::default(),
    })
}

fn prodly_options(args: &Args) -> anyhow::Result<prodly::ProdlyOptions> {
    let raw = prodly_raw(args)?;
    let vendor = args.vendor.clone().or(raw.vendor).unwrap_or_default();
    let branch = args.branch.clone().or(raw.branch).unwrap_or_default();
    if vendor.is_empty() || branch.is_empty() {
        anyhow::bail!("Prodly needs the supplier and branch codes: give --vendor and --branch (or prodly.vendor and prodly.branch in --config)");
    }
    Ok(prodly::ProdlyOptions { vendor, branch })
}
