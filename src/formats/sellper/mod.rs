//! Sellper (XML REST API) documents to COMPO data files and COMPO orders to Sellper XML.
//!
//! `sellper_to_compo` takes what Sellper's API returns and what its event subscriptions post
//! and writes COMPO data files (`docs/sellper.md` has the table of documents and the rules);
//! `compo_to_sellper` takes the portal's orders and new contragents and writes the request
//! bodies that create them in Sellper. Content problems never fail a call: they go into one
//! report per input (spec section 7); only I/O failures are errors.

mod client_ids;
mod from_compo;
mod item_ids;
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
use crate::compo::report::Issue;
use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::{Path, PathBuf};

/// What an installation configures (`[sellper]`): where variants' item ids and clients' Sellper
/// ids come from, and how orders sent to Sellper treat stock.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SellperOptions {
    /// Sellper stock answers (`stores/N.xml`, `stores_items.xml`) or ICML catalogs whose items
    /// give the `itemId` of a card's modification, for product lists that lack it.
    pub item_ids_from: Vec<PathBuf>,
    /// COMPO contragent id → Sellper client id, both ways.
    pub clients: BTreeMap<String, String>,
    /// Sellper clients answers (`GET /admin/clients.xml`) in which a contragent's client is found
    /// by INN or by the `COMPO <id>` note the bridge writes into a client's comment, and COMPO
    /// contragents files (`*.json`) in which a Sellper client's contragent is found by INN.
    pub clients_from: Vec<PathBuf>,
    /// `goods-source-behaviour` of the orders sent to Sellper; none: Sellper's default.
    pub goods_source_behaviour: Option<GoodsSource>,
}

/// How a new Sellper order takes its goods (`goods-source-behaviour`, seed "Добавление заказа").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoodsSource {
    /// Reserve the goods in stock first (free stock goes down).
    Reserve,
    /// Look for an earlier reserve matching the order before reserving.
    FindImpersonalReserve,
}

impl GoodsSource {
    /// The attribute value Sellper takes.
    pub fn as_str(self) -> &'static str {
        match self {
            GoodsSource::Reserve => "reserve",
            GoodsSource::FindImpersonalReserve => "find-impersonal-reserve",
        }
    }

    /// Parses the configured value.
    pub fn parse(s: &str) -> Option<GoodsSource> {
        match s {
            "reserve" => Some(GoodsSource::Reserve),
            "find-impersonal-reserve" => Some(GoodsSource::FindImpersonalReserve),
            _ => None,
        }
    }
}

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
    sellper_to_compo_with(inputs, out_dir, &SellperOptions::default())
}

/// [`sellper_to_compo`] with an installation's options.
pub fn sellper_to_compo_with(
    inputs: &[PathBuf],
    out_dir: &Path,
    opts: &SellperOptions,
) -> Result<ConvertOutcome, SellperError> {
    ensure_dir(out_dir)?;
    let mut outcome = ConvertOutcome::default();
    let (item_ids, mut sources) = item_ids::ItemIds::read(&opts.item_ids_from)?;
    let (clients, client_reports) = client_ids::ClientIds::read(&opts.clients, &opts.clients_from)?;
    sources.extend(client_reports);
    // A configured look-up file that cannot be used does not stop the conversion (ids are then
    // derived, clients taken as they are): each input's report says so, as warnings, so that
    // the report of an input stays the one about it.
    let source_warnings: Vec<Issue> = sources
        .iter()
        .flat_map(|r| {
            r.errors.iter().map(move |i| {
                Issue::file(
                    &i.code,
                    format!(
                        "[sellper] look-up file {} was not used: {}",
                        r.file, i.message
                    ),
                )
            })
        })
        .collect();
    let ctx = to_compo::Context { item_ids, clients };
    let mut taken = HashMap::new();
    for input in inputs {
        let (written, mut report) = to_compo::convert_file(input, out_dir, &ctx, &mut taken)?;
        report.warnings.extend(source_warnings.iter().cloned());
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
    compo_to_sellper_with(inputs, out_dir, &SellperOptions::default())
}

/// [`compo_to_sellper`] with an installation's options.
pub fn compo_to_sellper_with(
    inputs: &[PathBuf],
    out_dir: &Path,
    opts: &SellperOptions,
) -> Result<ConvertOutcome, SellperError> {
    ensure_dir(out_dir)?;
    let (clients, sources) = client_ids::ClientIds::read(&opts.clients, &opts.clients_from)?;
    let (written, mut reports) =
        from_compo::convert(inputs, out_dir, &clients, opts.goods_source_behaviour)?;
    // The inputs' reports first; a look-up file that could not be used reports last.
    reports.extend(sources);
    Ok(ConvertOutcome { written, reports })
}

/// Reads one look-up answer: a file that feeds a table of the bridge (item ids, clients) rather
/// than being converted. `scan` walks its XML; an encoding or syntax problem becomes the file's
/// report, which is returned only when it holds errors. Only I/O is an error of the call.
fn read_lookup(
    path: &Path,
    mut report: crate::compo::report::Report,
    scan: impl FnOnce(
        &mut xml::XmlCursor,
        &mut crate::compo::report::Report,
    ) -> Result<(), xml::ReadError>,
) -> Result<Option<crate::compo::report::Report>, SellperError> {
    use crate::compo::report::codes;
    let read_err = |source| SellperError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let result = xml::utf8_stream(file).and_then(|text| {
        let mut cur = xml::XmlCursor::new(text);
        scan(&mut cur, &mut report)?;
        cur.finish()
    });
    match result {
        Ok(()) => {}
        Err(xml::ReadError::Io(e)) => return Err(read_err(e)),
        Err(xml::ReadError::Encoding(m)) => {
            report.errors.push(Issue::file(codes::ENCODING_INVALID, m))
        }
        Err(xml::ReadError::Syntax(m)) => report.errors.push(Issue::file(codes::XML_SYNTAX, m)),
    }
    report.settle();
    Ok((!report.errors.is_empty()).then_some(report))
}

/// A look-up file's name as its report shows it.
fn lookup_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}
