//! Runs the COMPO → Prodly conversion from the command line until `compo-exchange convert
//! --from compo --to prodly` exists; `scripts/bench-prodly` uses it.
//!
//! Usage: `prodly_convert --vendor V --branch B --out DIR INPUT...`
//! Prints the files written and a summary of the reports; exits 1 when a report has errors.

use compo_exchange::formats::prodly::{compo_to_prodly, ProdlyOptions};
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (mut vendor, mut branch, mut out) = (None, None, None);
    let mut inputs = Vec::new();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--vendor" => vendor = args.next(),
            "--branch" => branch = args.next(),
            "--out" => out = args.next().map(PathBuf::from),
            _ => inputs.push(PathBuf::from(a)),
        }
    }
    let (Some(vendor), Some(branch), Some(out)) = (vendor, branch, out) else {
        eprintln!("usage: prodly_convert --vendor V --branch B --out DIR INPUT...");
        return ExitCode::from(2);
    };
    if inputs.is_empty() {
        eprintln!("no inputs");
        return ExitCode::from(2);
    }
    let outcome = match compo_to_prodly(&inputs, &out, &ProdlyOptions { vendor, branch }) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    for p in &outcome.written {
        println!("wrote {}", p.display());
    }
    for r in &outcome.reports {
        println!(
            "{}: {:?}, {} error(s), {} warning(s)",
            r.file,
            r.status,
            r.errors.len(),
            r.warnings.len()
        );
    }
    if outcome.has_errors() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
