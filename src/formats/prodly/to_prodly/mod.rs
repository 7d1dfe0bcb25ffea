//! COMPO → Prodly: the body builders, one file per group of endpoints behind one table
//! ([`BUILDERS`]), reading their records through the publish state ([`state`]).
//!
//! Records that map one to one (products, managers, orders, vendor firms) are written as they
//! are read. Endpoints that need several COMPO types at once go through two on-disk groupings
//! ([`super::spill`]): by product (branch updates, stocks, personal prices: products + prices +
//! remains) and by contragent (clients, debts: contragents + customers + finances). Small
//! reference types (contracts, customer categories) are held in memory.

use super::fields::{f, number, Src};
use super::inputs::CompoInput;
use super::spill::{partitions_for, Grouper, SpillDir};
use super::stream::NdjsonOut;
use super::{ConvertOutcome, Endpoint, ProdlyDefaults, ProdlyError, ProdlyOptions, Reports};
use crate::compo::model::DataType;
use crate::compo::report::{codes, Issue};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Number, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

mod clients;
mod contracts;
mod managers;
mod orders;
mod products;
pub(crate) mod state;

#[cfg(test)]
pub(crate) use orders::status_to_prodly;

use contracts::Contracts;
use state::{Fed, FilesState, PublishState};

/// What the builders share: reference data read before them, and where joins spill.
struct Shared<'s> {
    contracts: Contracts,
    categories_users: HashMap<String, String>,
    spill: &'s Path,
    budget: u64,
}

/// A body builder: the Prodly endpoints it writes, built from the state.
struct Builder {
    writes: &'static [Endpoint],
    build: fn(&mut Run<'_>, &Shared<'_>) -> Result<(), ProdlyError>,
}

/// Every builder, one file each, in the order they run; a new endpoint is a new file and its
/// line here. (`firms.post` comes from the contracts, read before them.)
const BUILDERS: &[Builder] = &[
    products::BUILDER,
    clients::BUILDER,
    managers::BUILDER,
    orders::BUILDER,
];

/// The part of the state a record comes from: its report, and whether it is complete.
#[derive(Clone, Copy)]
struct Part {
    file: usize,
    complete: bool,
}

struct Run<'a> {
    /// Where the records come from; taken out while a type is being read.
    state: Option<&'a mut dyn PublishState>,
    reports: Reports,
    outs: BTreeMap<Endpoint, NdjsonOut>,
    opts: &'a ProdlyOptions,
    defaults: &'a ProdlyDefaults,
}

/// Converts the files of one batch (`convert --from compo --to prodly`): every endpoint.
pub(crate) fn run(
    found: Vec<CompoInput>,
    out_dir: &Path,
    opts: &ProdlyOptions,
    defaults: &ProdlyDefaults,
    budget: u64,
) -> Result<ConvertOutcome, ProdlyError> {
    let mut reports = Reports::new(found.iter().map(|c| {
        (
            c.input.display.clone(),
            c.data_type().map(|t| t.name().to_string()),
        )
    }));
    for (i, c) in found.iter().enumerate() {
        match c.data_type() {
            None => reports.error(
                i,
                Issue::file(
                    codes::NAME_UNKNOWN_TYPE,
                    format!(
                        "{} is not a COMPO data file name (names are case-sensitive)",
                        c.input.display
                    ),
                ),
            ),
            Some(t @ (DataType::PriceGroups | DataType::Acts)) => reports.warning(
                i,
                Issue::file(
                    codes::CONVERT_UNSUPPORTED,
                    format!("Prodly has no counterpart for {t}; the file was not converted"),
                ),
            ),
            _ => {}
        }
    }
    let mut state = FilesState { found: &found };
    build(
        &mut state,
        reports,
        out_dir,
        opts,
        defaults,
        budget,
        &Endpoint::ALL,
    )
}

/// Writes the bodies of the endpoints `only` from `state`; the problems of part `i` go into
/// report `i` of `reports`.
pub(crate) fn build(
    state: &mut dyn PublishState,
    reports: Reports,
    out_dir: &Path,
    opts: &ProdlyOptions,
    defaults: &ProdlyDefaults,
    budget: u64,
    only: &[Endpoint],
) -> Result<ConvertOutcome, ProdlyError> {
    let spill = SpillDir::create(out_dir)?;
    let mut run = Run {
        state: Some(state),
        reports,
        // Endpoints not asked for have no output: what their builders write is dropped.
        outs: only
            .iter()
            .map(|e| (*e, NdjsonOut::new(out_dir, &e.file_name())))
            .collect(),
        opts,
        defaults,
    };

    // Reference data first (contracts also give firms.post), then every builder that writes an
    // endpoint asked for.
    let shared = Shared {
        categories_users: run.read_categories_users()?,
        contracts: run.read_contracts()?,
        spill: spill.path(),
        budget,
    };
    for b in BUILDERS {
        if !b.writes.iter().any(|e| only.contains(e)) {
            continue;
        }
        tracing::debug!(endpoints = ?b.writes, "building Prodly bodies");
        (b.build)(&mut run, &shared)?;
    }

    let mut written = Vec::new();
    for (_, out) in std::mem::take(&mut run.outs) {
        written.extend(out.finish()?);
    }
    Ok(ConvertOutcome {
        written,
        reports: run.reports.finish(),
    })
}

fn push_opt(line: &mut Map<String, Value>, key: &str, v: Option<impl Into<Value>>) {
    if let Some(v) = v {
        line.insert(key.to_string(), v.into());
    }
}

fn dedup(items: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut seen = HashSet::new();
    items
        .into_iter()
        .filter(|s| seen.insert(s.clone()))
        .collect()
}

impl Run<'_> {
    fn complete(&self, t: DataType) -> bool {
        self.state.as_ref().is_some_and(|s| s.complete(t))
    }

    fn size(&self, types: &[DataType]) -> u64 {
        self.state.as_ref().map_or(0, |s| s.size(types))
    }

    fn write(&mut self, e: Endpoint, line: Value) -> Result<(), ProdlyError> {
        match self.outs.get_mut(&e) {
            Some(out) => out.write(&line),
            None => Ok(()),
        }
    }

    /// Hands every record of `t` in the state to `f`, with the part it belongs to; what the
    /// state reports goes into the part's report.
    fn read_type<F>(&mut self, t: DataType, mut f: F) -> Result<(), ProdlyError>
    where
        F: FnMut(&mut Run<'_>, Part, Src<'_>) -> Result<(), ProdlyError>,
    {
        let state = self.state.take().expect("one type is read at a time");
        let mut part = Part {
            file: 0,
            complete: true,
        };
        let result = state.for_each(t, &mut |fed| {
            match fed {
                Fed::Part { file, complete } => part = Part { file, complete },
                Fed::Record { index, record } => f(self, part, Src::new(record, index))?,
                Fed::Problem { issue, warning } => {
                    if warning {
                        self.reports.warning(part.file, issue)
                    } else {
                        self.reports.error(part.file, issue)
                    }
                }
                Fed::Counted { records } => self.reports.set_records(part.file, records),
            }
            Ok(())
        });
        self.state = Some(state);
        result
    }

    /// Every record of `t` as it is, without reports (for look-ups ahead of the real pass).
    fn scan<F>(&mut self, t: DataType, mut f: F) -> Result<(), ProdlyError>
    where
        F: FnMut(&Map<String, Value>),
    {
        let state = self.state.take().expect("one type is read at a time");
        let result = state.for_each(t, &mut |fed| {
            if let Fed::Record { record, .. } = fed {
                f(record);
            }
            Ok(())
        });
        self.state = Some(state);
        result
    }

    /// Moves the problems of a record into its file's report; whether there were none.
    fn settle(&mut self, file: usize, src: &mut Src<'_>) -> bool {
        let ok = src.ok();
        for issue in src.issues.drain(..) {
            self.reports.error(file, issue);
        }
        for issue in src.warnings.drain(..) {
            self.reports.warning(file, issue);
        }
        ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_endpoint_has_exactly_one_builder() {
        let mut written: Vec<Endpoint> = BUILDERS
            .iter()
            .flat_map(|b| b.writes.iter().copied())
            .collect();
        written.push(Endpoint::Firms);
        written.sort();
        assert_eq!(written, Endpoint::ALL.to_vec());
    }
}
