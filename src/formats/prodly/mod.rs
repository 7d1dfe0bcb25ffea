//! COMPO data to Prodly NDJSON request bodies, and Prodly order exports to COMPO orders.
//!
//! Prodly (seed `003_20809c9ce637524a.txt`) takes batches as NDJSON bodies of asynchronous
//! `PUT /request/<func>` calls. [`compo_to_prodly`] turns a COMPO batch into one NDJSON file per
//! endpoint (see [`Endpoint`]); [`prodly_to_compo`] turns saved answers of the orders GET into a
//! COMPO `orders.json`. Content problems never abort a conversion: the record is left out and
//! reported (spec section 7); only I/O failures are errors. `docs/prodly.md` has the mapping.

mod fields;
mod from_prodly;
mod inputs;
mod spill;
mod stream;
mod to_prodly;

use crate::compo::model::DataType;
use crate::compo::report::{Issue, Report, Status};
pub use crate::formats::ConvertOutcome;
use std::path::{Path, PathBuf};

/// Settings the Prodly API needs on every record: who sends and for which branch (филиал).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProdlyOptions {
    /// The supplier code (`X-Vendor`, `vendor` in order updates).
    pub vendor: String,
    /// The branch code (`BranchEnum`, case-sensitive).
    pub branch: String,
}

/// Values the configuration supplies where COMPO leaves a field Prodly or COMPO needs empty
/// (`[prodly] default_country`, `default_currency`); each use is reported as a warning.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProdlyDefaults {
    /// `country` of a product whose card (if any) has none either.
    pub country: Option<String>,
    /// The currency of a Prodly order without one, when its client has no contract currency.
    pub currency: Option<String>,
}

/// Failures that stop a conversion: I/O and unusable options. Content problems are reports.
#[derive(Debug, thiserror::Error)]
pub enum ProdlyError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("temporary spill file {path}: {source}")]
    Spill {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("option {name}: {reason}")]
    Option { name: &'static str, reason: String },
}

/// Default spill budget: the COMPO input bytes per partition of the product and contragent
/// joins. Peak memory is a small multiple of it (see docs/prodly.md, "Memory").
pub const DEFAULT_JOIN_BUDGET: u64 = 48 << 20;

/// The Prodly endpoints this bridge writes, one NDJSON file each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoint {
    /// Загрузка номенклатуры.
    Products,
    /// Обновление товаров: prices and stock per branch.
    BranchProducts,
    /// `/request/stocks.post`.
    Stocks,
    /// Обновление клиентов.
    Clients,
    /// Обновление юридических лиц (фирм) поставщика.
    Firms,
    /// Обновление ДЗ клиентов.
    Debts,
    /// Персонализированные цены.
    PersonalPrices,
    /// Обновление заказов.
    Orders,
    /// Обновление справочника менеджеров (торговых агентов).
    Managers,
}

impl Endpoint {
    pub const ALL: [Endpoint; 9] = [
        Endpoint::Products,
        Endpoint::BranchProducts,
        Endpoint::Stocks,
        Endpoint::Clients,
        Endpoint::Firms,
        Endpoint::Debts,
        Endpoint::PersonalPrices,
        Endpoint::Orders,
        Endpoint::Managers,
    ];

    /// The request function name (`func` in the request status answer).
    pub fn func(self) -> &'static str {
        match self {
            Endpoint::Products => "products.post",
            Endpoint::BranchProducts => "branch_products.post",
            Endpoint::Stocks => "stocks.post",
            Endpoint::Clients => "clients.post",
            Endpoint::Firms => "firms.post",
            Endpoint::Debts => "debts.post",
            Endpoint::PersonalPrices => "personal_prices.post",
            Endpoint::Orders => "orders.post",
            Endpoint::Managers => "managers.post",
        }
    }

    /// The output file: `<func>.ndjson`.
    pub fn file_name(self) -> String {
        format!("{}.ndjson", self.func())
    }

    /// The COMPO types a body is built from: it changes when one of them was published.
    pub fn inputs(self) -> &'static [DataType] {
        use DataType as D;
        match self {
            Endpoint::Products => &[D::Products],
            Endpoint::BranchProducts => &[D::Products, D::Prices, D::Remains],
            // A product left out of products.post takes its stock with it.
            Endpoint::Stocks => &[D::Products, D::Remains],
            Endpoint::Clients => &[
                D::Contragents,
                D::Customers,
                D::Contracts,
                D::CategoriesUsers,
                D::Finances,
            ],
            Endpoint::Firms => &[D::Contracts],
            // firmCode comes from the contract, agentCode from the contragent's manager.
            Endpoint::Debts => &[D::Finances, D::Contracts, D::Contragents],
            Endpoint::PersonalPrices => &[D::Products, D::Prices, D::Contracts],
            Endpoint::Orders => &[D::Orders],
            Endpoint::Managers => &[D::Managers],
        }
    }

    /// The HTTP path the file is the body of (`PUT`, `Content-Type: application/x-ndjson`).
    pub fn path(self) -> String {
        format!("/request/{}", self.func())
    }
}

pub use to_prodly::state::{Fed, PublishState};

/// Writes the bodies of the endpoints `only` into `out_dir` from `state` (the exchange's record
/// store): the problems of the state's part `i` are reported under `parts[i]` (a name and its
/// data type).
pub fn state_to_prodly(
    state: &mut dyn PublishState,
    parts: Vec<(String, Option<String>)>,
    out_dir: &Path,
    opts: &ProdlyOptions,
    defaults: &ProdlyDefaults,
    only: &[Endpoint],
) -> Result<ConvertOutcome, ProdlyError> {
    check_options(opts)?;
    create_dir(out_dir)?;
    to_prodly::build(
        state,
        Reports::new(parts),
        out_dir,
        opts,
        defaults,
        DEFAULT_JOIN_BUDGET,
        only,
    )
}

/// Converts COMPO files (or folders laid out like `in/`) into Prodly NDJSON files in `out_dir`.
pub fn compo_to_prodly(
    inputs: &[PathBuf],
    out_dir: &Path,
    opts: &ProdlyOptions,
) -> Result<ConvertOutcome, ProdlyError> {
    compo_to_prodly_with(inputs, out_dir, opts, &ProdlyDefaults::default())
}

/// [`compo_to_prodly`] with configured defaults.
pub fn compo_to_prodly_with(
    inputs: &[PathBuf],
    out_dir: &Path,
    opts: &ProdlyOptions,
    defaults: &ProdlyDefaults,
) -> Result<ConvertOutcome, ProdlyError> {
    convert_to_prodly(inputs, out_dir, opts, defaults, DEFAULT_JOIN_BUDGET)
}

/// [`compo_to_prodly`] with an explicit join budget in bytes (tests force partitioning with it).
pub fn compo_to_prodly_with_budget(
    inputs: &[PathBuf],
    out_dir: &Path,
    opts: &ProdlyOptions,
    join_budget: u64,
) -> Result<ConvertOutcome, ProdlyError> {
    convert_to_prodly(
        inputs,
        out_dir,
        opts,
        &ProdlyDefaults::default(),
        join_budget,
    )
}

fn convert_to_prodly(
    inputs: &[PathBuf],
    out_dir: &Path,
    opts: &ProdlyOptions,
    defaults: &ProdlyDefaults,
    join_budget: u64,
) -> Result<ConvertOutcome, ProdlyError> {
    check_options(opts)?;
    create_dir(out_dir)?;
    let found = inputs::collect_compo(inputs)?;
    to_prodly::run(found, out_dir, opts, defaults, join_budget)
}

/// Converts saved Prodly order exports (answers of the orders GET, JSON arrays) into one COMPO
/// `orders.json` in `out_dir`.
pub fn prodly_to_compo(inputs: &[PathBuf], out_dir: &Path) -> Result<ConvertOutcome, ProdlyError> {
    prodly_to_compo_with(inputs, &[], out_dir, &ProdlyDefaults::default())
}

/// [`prodly_to_compo`] with the COMPO `contracts` files that give a client's currency (its
/// default contract's) and the configured defaults.
pub fn prodly_to_compo_with(
    inputs: &[PathBuf],
    contracts: &[PathBuf],
    out_dir: &Path,
    defaults: &ProdlyDefaults,
) -> Result<ConvertOutcome, ProdlyError> {
    create_dir(out_dir)?;
    let found = inputs::collect_json(inputs)?;
    let contracts = inputs::collect_json(contracts)?;
    from_prodly::run(&found, &contracts, out_dir, defaults)
}

fn check_options(opts: &ProdlyOptions) -> Result<(), ProdlyError> {
    for (name, value) in [("vendor", &opts.vendor), ("branch", &opts.branch)] {
        if value.trim().is_empty() {
            return Err(ProdlyError::Option {
                name,
                reason: "must not be empty: Prodly requires it on every record".into(),
            });
        }
    }
    Ok(())
}

fn create_dir(dir: &Path) -> Result<(), ProdlyError> {
    std::fs::create_dir_all(dir).map_err(|source| ProdlyError::Write {
        path: dir.to_path_buf(),
        source,
    })
}

/// One report per input file, filled in any order and returned for the files with problems.
pub(crate) struct Reports {
    reports: Vec<Report>,
}

impl Reports {
    pub(crate) fn new(files: impl IntoIterator<Item = (String, Option<String>)>) -> Reports {
        Reports {
            reports: files
                .into_iter()
                .map(|(file, ty)| Report::new(file, ty))
                .collect(),
        }
    }

    pub(crate) fn error(&mut self, file: usize, issue: Issue) {
        self.reports[file].errors.push(issue);
    }

    pub(crate) fn warning(&mut self, file: usize, issue: Issue) {
        self.reports[file].warnings.push(issue);
    }

    /// The name a file is reported under.
    pub(crate) fn name(&self, file: usize) -> &str {
        &self.reports[file].file
    }

    pub(crate) fn set_records(&mut self, file: usize, n: u64) {
        self.reports[file].records = Some(n);
    }

    /// The reports with problems, issues sorted by record so partitioned runs read the same.
    pub(crate) fn finish(self) -> Vec<Report> {
        self.reports
            .into_iter()
            .filter(|r| !r.errors.is_empty() || !r.warnings.is_empty())
            .map(|mut r| {
                r.errors.sort_by_key(|i| i.record.map_or(0, |n| n + 1));
                r.warnings.sort_by_key(|i| i.record.map_or(0, |n| n + 1));
                // Record-level problems leave the other records converted: a partial result.
                // A file-level problem (syntax, not an array) means the file was not usable.
                r.status = if r.errors.is_empty() {
                    Status::Valid
                } else if r.errors.iter().all(|i| i.record.is_some()) {
                    Status::Partial
                } else {
                    Status::Rejected
                };
                r
            })
            .collect()
    }
}
