//! Sellper (XML REST API) documents to COMPO data files and COMPO orders to Sellper XML.
//!
//! `sellper_to_compo` takes what Sellper's API returns and what its event subscriptions post
//! and writes COMPO data files (`docs/sellper.md` has the table of documents and the rules);
//! `compo_to_sellper` takes the portal's orders and new contragents and writes the request
//! bodies that create them in Sellper. Content problems never fail a call: they go into one
//! report per input (spec section 7); only I/O failures are errors.

mod from_compo;
mod output;
mod to_compo;
mod xml;

pub use from_compo::{file_safe, status_to_sellper};
pub use output::{delta_label, Dec};
pub use to_compo::{
    is_pickup, picture_file_name, status_to_compo, ALL_STORES_ID, CURRENCY, OUT_OF_SCOPE,
    PRICES_TYPE_ID, UNIT,
};

use super::ConvertOutcome;
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

/// An I/O failure: an input could not be read or an output not written.
#[derive(Debug, thiserror::Error)]
pub enum SellperError {
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot write to {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
}

fn ensure_dir(out_dir: &Path) -> Result<(), SellperError> {
    std::fs::create_dir_all(out_dir).map_err(|e| SellperError::Write {
        path: out_dir.to_path_buf(),
        source: e,
    })
}

/// Converts Sellper XML files into COMPO data files in `out_dir`. An input with errors writes
/// nothing; its report says why.
pub fn sellper_to_compo(
    inputs: &[PathBuf],
    out_dir: &Path,
) -> Result<ConvertOutcome, SellperError> {
    ensure_dir(out_dir)?;
    let mut outcome = ConvertOutcome::default();
    let mut taken = HashMap::new();
    for input in inputs {
        let (written, report) = to_compo::convert_file(input, out_dir, &mut taken)?;
        outcome.written.extend(written);
        if !report.errors.is_empty() || !report.warnings.is_empty() {
            outcome.reports.push(report);
        }
    }
    Ok(outcome)
}

/// Converts COMPO orders and contragents (with the customers that carry their contact details)
/// into Sellper request bodies in `out_dir`: `order-<id>.xml` and `client-<id>.xml`.
pub fn compo_to_sellper(
    inputs: &[PathBuf],
    out_dir: &Path,
) -> Result<ConvertOutcome, SellperError> {
    ensure_dir(out_dir)?;
    let (written, reports) = from_compo::convert(inputs, out_dir)?;
    Ok(ConvertOutcome { written, reports })
}
