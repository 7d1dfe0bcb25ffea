//! COMPO → Prodly: one pass per COMPO file, writing one NDJSON file per Prodly endpoint.
//!
//! Records that map one to one (products, managers, orders, vendor firms) are written as they
//! are read. Endpoints that need several COMPO types at once go through two on-disk groupings
//! ([`super::spill`]): by product (branch updates, stocks, personal prices: products + prices +
//! remains) and by contragent (clients, debts: contragents + customers + finances). Small
//! reference types (contracts, customer categories) are held in memory.

use super::fields::{f, number, Src};
use super::inputs::CompoInput;
use super::spill::{partitions_for, Grouper, SpillDir};
use super::stream::{for_each_record, NdjsonOut, ReadEnd};
use super::{ConvertOutcome, Endpoint, ProdlyDefaults, ProdlyError, ProdlyOptions, Reports};
use crate::compo::model::DataType;
use crate::compo::report::{codes, Issue};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Number, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

/// A row of the by-product grouping. Short names: there may be millions on disk.
#[derive(Serialize, Deserialize)]
enum ProductRow {
    /// A branch update built from a product, still without stock and prices.
    P {
        f: usize,
        r: u64,
        line: Map<String, Value>,
    },
    /// A general (non-personal) price.
    G {
        pt: String,
        price: Number,
        min: Option<Number>,
    },
    /// A personal price, its client already resolved through the contract.
    Pp {
        f: usize,
        r: u64,
        client: String,
        pt: String,
        price: Number,
        till: Option<String>,
    },
    /// The product's card was left out of `products.post`: nothing else is sent for it.
    Out { f: usize, r: u64 },
    /// Stock in one warehouse.
    R {
        f: usize,
        r: u64,
        qty: f64,
        expected: Vec<(String, f64)>,
    },
}

/// A row of the by-contragent grouping.
#[derive(Serialize, Deserialize)]
enum ClientRow {
    C {
        line: Map<String, Value>,
        manager: Option<String>,
        tags: Vec<String>,
        stop: Option<bool>,
        price: Option<String>,
        currency: Option<String>,
    },
    /// What a portal user adds to each of its contragents.
    U {
        tags: Vec<String>,
        manager: Option<String>,
    },
    F {
        f: usize,
        r: u64,
        currency: Option<String>,
        balance: Option<f64>,
        overdue: Option<f64>,
        docs: Option<Vec<Map<String, Value>>>,
    },
}

#[derive(Default)]
struct Contracts {
    by_id: HashMap<String, Contract>,
    /// Contragent → its default contract: the one marked `is_default`, else its only one.
    default: HashMap<String, DefaultContract>,
}

struct Contract {
    contragent: String,
    organization: Option<String>,
}

struct DefaultContract {
    explicit: bool,
    count: u32,
    prices_type: Option<String>,
    currency: Option<String>,
}

impl Contracts {
    fn default_for(&self, contragent: &str) -> Option<&DefaultContract> {
        self.default
            .get(contragent)
            .filter(|d| d.explicit || d.count == 1)
    }
}

struct Run<'a> {
    found: &'a [CompoInput],
    reports: Reports,
    outs: BTreeMap<Endpoint, NdjsonOut>,
    opts: &'a ProdlyOptions,
    defaults: &'a ProdlyDefaults,
}

pub(crate) fn run(
    found: Vec<CompoInput>,
    out_dir: &Path,
    opts: &ProdlyOptions,
    defaults: &ProdlyDefaults,
    budget: u64,
) -> Result<ConvertOutcome, ProdlyError> {
    let spill = SpillDir::create(out_dir)?;
    let mut run = Run {
        found: &found,
        reports: Reports::new(found.iter().map(|c| {
            (
                c.input.display.clone(),
                c.data_type().map(|t| t.name().to_string()),
            )
        })),
        outs: Endpoint::ALL
            .into_iter()
            .map(|e| (e, NdjsonOut::new(out_dir, &e.file_name())))
            .collect(),
        opts,
        defaults,
    };
    for (i, c) in found.iter().enumerate() {
        match c.data_type() {
            None => run.reports.error(
                i,
                Issue::file(
                    codes::NAME_UNKNOWN_TYPE,
                    format!(
                        "{} is not a COMPO data file name (names are case-sensitive)",
                        c.input.display
                    ),
                ),
            ),
            Some(t @ (DataType::PriceGroups | DataType::Acts)) => run.reports.warning(
                i,
                Issue::file(
                    codes::CONVERT_UNSUPPORTED,
                    format!("Prodly has no counterpart for {t}; the file was not converted"),
                ),
            ),
            _ => {}
        }
    }

    let categories_users = run.read_categories_users()?;
    let contracts = run.read_contracts()?;
    run.product_join(spill.path(), budget, &contracts)?;
    run.client_join(spill.path(), budget, &contracts, &categories_users)?;
    run.read_managers()?;
    run.read_orders()?;

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
    fn files(&self, t: DataType) -> Vec<usize> {
        (0..self.found.len())
            .filter(|&i| self.found[i].data_type() == Some(t))
            .collect()
    }

    fn bytes(&self, types: &[DataType]) -> u64 {
        self.found
            .iter()
            .filter(|c| c.data_type().is_some_and(|t| types.contains(&t)))
            .map(|c| c.input.size)
            .sum()
    }

    fn is_delta(&self, file: usize) -> bool {
        self.found[file]
            .name
            .as_ref()
            .is_some_and(|n| !n.is_snapshot())
    }

    fn write(&mut self, e: Endpoint, line: Value) -> Result<(), ProdlyError> {
        self.outs
            .get_mut(&e)
            .expect("every endpoint has an output")
            .write(&line)
    }

    /// Reads every object record of `file`, reporting non-objects and deletions (Prodly has no
    /// deletion by key; a COMPO product removal is sent as `active: false` by the ERP instead).
    fn read<F>(&mut self, file: usize, mut f: F) -> Result<(), ProdlyError>
    where
        F: FnMut(&mut Run<'_>, Src<'_>) -> Result<(), ProdlyError>,
    {
        let path = self.found[file].input.path.clone();
        let end = for_each_record(&path, |index, record| {
            let Value::Object(obj) = &record else {
                self.reports.error(
                    file,
                    Issue::new(
                        Some(index),
                        format!("/{index}"),
                        codes::CONVERT_VALUE,
                        "a record must be a JSON object",
                    ),
                );
                return Ok(());
            };
            if obj.get("deleted") == Some(&Value::Bool(true)) {
                self.reports.warning(
                    file,
                    Issue::new(
                        Some(index),
                        format!("/{index}/deleted"),
                        codes::CONVERT_UNSUPPORTED,
                        "Prodly has no deletion by key; the record was skipped (send it with \
                         active: false to withdraw it)",
                    ),
                );
                return Ok(());
            }
            f(self, Src::new(obj, index))
        })?;
        match end {
            ReadEnd::Done(n) => self.reports.set_records(file, n),
            ReadEnd::Bad { records, issue } => {
                self.reports.set_records(file, records);
                self.reports.error(file, issue);
            }
        }
        Ok(())
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

    fn read_categories_users(&mut self) -> Result<HashMap<String, String>, ProdlyError> {
        let mut map = HashMap::new();
        for file in self.files(DataType::CategoriesUsers) {
            self.read(file, |_, mut s| {
                if let (Some(id), Some(pt)) = (s.str(&["id"]), s.str(&["prices_type_id"])) {
                    map.insert(id.to_string(), pt.to_string());
                }
                Ok(())
            })?;
        }
        Ok(map)
    }

    /// Indexes contracts (for personal prices, client price rows and debts) and writes the
    /// supplier's firms named by `organization`.
    fn read_contracts(&mut self) -> Result<Contracts, ProdlyError> {
        let mut contracts = Contracts::default();
        let mut firms_seen: HashSet<String> = HashSet::new();
        for file in self.files(DataType::Contracts) {
            self.read(file, |run, mut s| {
                let id = s.str(&["id"]);
                let ca = s.str(&["contragent_id"]);
                let organization = run.firm(&mut s, &mut firms_seen)?;
                let pt = s.str(&["prices_type_id"]).map(str::to_string);
                let currency = s.str(&["currency"]).map(str::to_string);
                let is_default = s.bool(&["is_default"]) == Some(true);
                run.settle(file, &mut s);
                let (Some(id), Some(ca)) = (id, ca) else {
                    return Ok(());
                };
                contracts.by_id.insert(
                    id.to_string(),
                    Contract {
                        contragent: ca.to_string(),
                        organization,
                    },
                );
                let d = contracts
                    .default
                    .entry(ca.to_string())
                    .or_insert(DefaultContract {
                        explicit: false,
                        count: 0,
                        prices_type: None,
                        currency: None,
                    });
                d.count += 1;
                if !d.explicit && (is_default || d.count == 1) {
                    d.explicit = is_default;
                    d.prices_type = pt;
                    d.currency = currency;
                }
                Ok(())
            })?;
        }
        Ok(contracts)
    }

    /// The firm named by a contract's `organization`; writes the firm the first time it is seen.
    /// COMPO's `organization` is only the firm's name, so the INN, address and `active` that
    /// Prodly requires come from the project field `prodly_firm` (unknown fields are allowed,
    /// spec section 4); without it the firm is reported once and not sent.
    fn firm(
        &mut self,
        s: &mut Src<'_>,
        seen: &mut HashSet<String>,
    ) -> Result<Option<String>, ProdlyError> {
        const E: &str = "firms.post";
        let Some(code) = s.str(&["organization"]).map(str::to_string) else {
            return Ok(None);
        };
        if !seen.insert(code.clone()) {
            return Ok(Some(code));
        }
        let before = s.issues.len();
        let d = |f: &'static str| -> [&'static str; 2] { ["prodly_firm", f] };
        let title = s.str(&d("title")).unwrap_or(&code).to_string();
        let full_name = s.str(&d("full_name"));
        let inn = s.req_str(&d("inn"), E, "inn");
        let kpp = s.str(&d("kpp"));
        let active = s.req_bool(&d("active"), E, "active");
        let address = s.req_str(&d("address"), E, "address");
        let ogrn = s.str(&d("ogrn"));
        if s.issues.len() == before {
            let mut line = Map::new();
            line.insert("code".into(), code.clone().into());
            push_opt(&mut line, "fullName", full_name);
            push_opt(&mut line, "inn", inn);
            push_opt(&mut line, "kpp", kpp);
            push_opt(&mut line, "active", active);
            push_opt(&mut line, "address", address);
            push_opt(&mut line, "ogrn", ogrn);
            line.insert("title".into(), title.into());
            self.write(Endpoint::Firms, Value::Object(line))?;
        }
        Ok(Some(code))
    }

    fn product_join(
        &mut self,
        dir: &Path,
        budget: u64,
        contracts: &Contracts,
    ) -> Result<(), ProdlyError> {
        let types = [DataType::Products, DataType::Prices, DataType::Remains];
        let parts = partitions_for(self.bytes(&types), budget);
        let mut g = Grouper::<ProductRow>::new(dir, "products", parts)?;
        tracing::debug!(partitions = g.partitions(), "product join");
        let countries = self.card_countries()?;
        for file in self.files(DataType::Products) {
            self.read(file, |run, s| run.product(file, s, &countries, &mut g))?;
        }
        for file in self.files(DataType::Prices) {
            if self.is_delta(file) {
                self.reports.warning(
                    file,
                    Issue::file(
                        codes::CONVERT_UNSUPPORTED,
                        "personal_prices.post replaces all personal prices, so a delta cannot \
                         be sent: its personal prices were left out (send a prices.json snapshot)",
                    ),
                );
            }
            let delta = self.is_delta(file);
            self.read(file, |run, s| run.price(file, s, delta, contracts, &mut g))?;
        }
        let mut remains_snapshot = false;
        for file in self.files(DataType::Remains) {
            remains_snapshot |= !self.is_delta(file);
            self.read(file, |run, s| run.remain(file, s, &mut g))?;
        }
        g.for_each_group(|key, rows| self.product_group(key, rows, remains_snapshot))
    }

    /// The `country` of every model card (a product without `parent_id`) that has one: a
    /// variant without its own takes its card's. A pass of its own, as a card may come after
    /// its variants; it holds O(cards), not O(products).
    fn card_countries(&mut self) -> Result<HashMap<String, String>, ProdlyError> {
        let mut map = HashMap::new();
        for file in self.files(DataType::Products) {
            let path = self.found[file].input.path.clone();
            for_each_record(&path, |_, record| {
                let get = |k: &str| record.get(k).and_then(Value::as_str);
                if let (None, Some(id), Some(country)) =
                    (get("parent_id"), get("id"), get("country"))
                {
                    if !country.trim().is_empty() {
                        map.insert(id.to_string(), country.to_string());
                    }
                }
                Ok(())
            })?;
        }
        Ok(map)
    }

    fn product(
        &mut self,
        file: usize,
        mut s: Src<'_>,
        countries: &HashMap<String, String>,
        g: &mut Grouper<ProductRow>,
    ) -> Result<(), ProdlyError> {
        const E: &str = "products.post";
        let mut line = Map::new();
        let code = s.req_str(&["id"], E, "code");
        push_opt(&mut line, "code", code);
        push_opt(&mut line, "name", s.req_str(&["name"], E, "name"));
        push_opt(&mut line, "description", s.str(&["description"]));
        push_opt(&mut line, "brand", s.str(&["brand"]));
        push_opt(&mut line, "producer", s.str(&["manufacturer"]));
        if s.get(&["pictures"]).is_some() {
            let mut images = Vec::new();
            for (i, name) in s.str_list(&["pictures"]).into_iter().enumerate() {
                if prodly_image(&name) {
                    images.push(name);
                } else {
                    s.warn(
                        &["pictures", &i.to_string()],
                        codes::CONVERT_UNSUPPORTED,
                        format!(
                            "Prodly takes png, jpg and jpeg images only; picture \"{name}\" was \
                             left out of images"
                        ),
                    );
                }
            }
            line.insert("images".into(), images.into());
        }
        let country = self.country(&mut s, countries);
        push_opt(&mut line, "country", country);
        let mut meta = Map::new();
        push_opt(&mut meta, "category", s.str(&["category_id"]));
        push_opt(&mut meta, "unit", s.str(&["unit"]));
        push_opt(&mut meta, "article", s.str(&["article"]));
        if s.get(&["barcodes"]).is_some() {
            meta.insert("barcodes".into(), s.str_list(&["barcodes"]).into());
        }
        push_opt(&mut meta, "weight", s.num(&["weight"]));
        push_opt(&mut meta, "volume", s.num(&["volume"]));
        line.insert("meta".into(), Value::Object(meta));
        if let Some(props) = s.array(&["properties"]) {
            let mut out = Vec::new();
            for (i, p) in props.iter().enumerate() {
                let idx = i.to_string();
                match (p.get("name"), p.get("value")) {
                    (Some(Value::String(name)), Some(value)) if !value.is_null() => {
                        let mut prop = Map::new();
                        prop.insert("key".into(), name.clone().into());
                        prop.insert("value".into(), value.clone());
                        if let Some(Value::String(unit)) = p.get("unit") {
                            prop.insert("unit".into(), unit.clone().into());
                        }
                        out.push(Value::Object(prop));
                    }
                    _ => s.missing(&["properties", &idx, "name"], E, "properties[].key/value"),
                }
            }
            line.insert("properties".into(), out.into());
        }
        push_opt(&mut line, "parent", s.str(&["parent_id"]));
        let active = s.bool(&["active"]);
        push_opt(&mut line, "active", active);
        if !self.settle(file, &mut s) {
            // Prodly cannot take a branch update, stock or prices of a product it does not
            // know: the group drops them, reporting each.
            if let Some(code) = code {
                g.add(
                    code,
                    &ProductRow::Out {
                        f: file,
                        r: s.index,
                    },
                )?;
            }
            return Ok(());
        }
        self.write(Endpoint::Products, Value::Object(line))?;

        // The branch update: what it needs beyond the card is checked now, stock and prices are
        // added when the product's group is complete.
        const B: &str = "branch_products.post";
        let Some(code) = code else {
            return Ok(());
        };
        let mut branch = Map::new();
        branch.insert("branch".into(), self.opts.branch.clone().into());
        branch.insert("code".into(), code.into());
        // The seed documents `active` as defaulting to true for the product; the branch flag is
        // the same switch per branch, so the same default applies.
        branch.insert("active".into(), active.unwrap_or(true).into());
        // Without multiplicity or min_quantity COMPO's order step is 1 (spec: products).
        let kvant = match (s.num(&["multiplicity"]), s.num(&["min_quantity"])) {
            (Some(m), _) | (None, Some(m)) => m,
            (None, None) => Number::from(1),
        };
        branch.insert("kvant".into(), Value::Number(kvant));
        // COMPO writes "без НДС" as vat: null; for Prodly that is a rate of 0 %.
        let nds = if s.is_null(&["vat"]) {
            Some(Number::from(0))
        } else {
            s.req_num(&["vat"], B, "nds")
        };
        push_opt(&mut branch, "nds", nds);
        let ty = match s.str(&["prodly_type"]) {
            Some(t) => Some(t),
            None => s.req_str(&["category_id"], B, "type (prodly_type or category_id)"),
        };
        push_opt(&mut branch, "type", ty);
        if self.settle(file, &mut s) {
            g.add(
                code,
                &ProductRow::P {
                    f: file,
                    r: s.index,
                    line: branch,
                },
            )?;
        }
        Ok(())
    }

    fn price(
        &mut self,
        file: usize,
        mut s: Src<'_>,
        delta: bool,
        contracts: &Contracts,
        g: &mut Grouper<ProductRow>,
    ) -> Result<(), ProdlyError> {
        let contract = s.str(&["contract_id"]);
        let e = if contract.is_some() {
            "personal_prices.post"
        } else {
            "branch_products.post"
        };
        if contract.is_some() && delta {
            return Ok(());
        }
        let product = s.req_str(&["product_id"], e, "productCode / code");
        let pt = s.req_str(&["prices_type_id"], e, "the price row");
        let price = s.req_num(&["price"], e, "price");
        let min = s.num(&["min_quantity"]);
        let till = s.str(&["valid_to"]);
        let row = match contract {
            None => ProductRow::G {
                pt: pt.unwrap_or_default().to_string(),
                price: price.clone().unwrap_or(Number::from(0)),
                min,
            },
            Some(c) => {
                if min.as_ref().is_some_and(|m| f(m) != 1.0) {
                    s.value_problem(
                        &["min_quantity"],
                        "personal_prices.post has no quantity breaks: a personal price must \
                         apply from 1 unit"
                            .into(),
                    );
                }
                let client = match contracts.by_id.get(c) {
                    Some(k) => Some(k.contragent.clone()),
                    None => {
                        s.value_problem(
                            &["contract_id"],
                            format!(
                                "contract \"{c}\" is not in the batch, so the client it belongs \
                                 to (personal_prices.post client) is unknown"
                            ),
                        );
                        None
                    }
                };
                ProductRow::Pp {
                    f: file,
                    r: s.index,
                    client: client.unwrap_or_default(),
                    pt: pt.unwrap_or_default().to_string(),
                    price: price.clone().unwrap_or(Number::from(0)),
                    till: till.map(str::to_string),
                }
            }
        };
        if self.settle(file, &mut s) {
            g.add(product.expect("checked by settle"), &row)?;
        }
        Ok(())
    }

    fn remain(
        &mut self,
        file: usize,
        mut s: Src<'_>,
        g: &mut Grouper<ProductRow>,
    ) -> Result<(), ProdlyError> {
        const E: &str = "stocks.post";
        let product = s.req_str(&["product_id"], E, "productCode");
        let qty = s.req_num(&["quantity"], E, "stock");
        let reserved = s.num(&["reserved"]);
        let mut expected = Vec::new();
        if let Some(items) = s.array(&["expected"]) {
            for (i, item) in items.iter().enumerate() {
                match (item.get("date"), item.get("quantity")) {
                    (Some(Value::String(d)), Some(Value::Number(q))) => {
                        expected.push((d.clone(), f(q)))
                    }
                    _ => s.wrong_type(
                        &["expected", &i.to_string()],
                        "an object with date and quantity",
                    ),
                }
            }
        }
        if self.settle(file, &mut s) {
            // Available stock: what is on hand and not reserved for someone else.
            let avail = qty.as_ref().map_or(0.0, f) - reserved.as_ref().map_or(0.0, f);
            g.add(
                product.expect("checked by settle"),
                &ProductRow::R {
                    f: file,
                    r: s.index,
                    qty: avail.max(0.0),
                    expected,
                },
            )?;
        }
        Ok(())
    }

    fn product_group(
        &mut self,
        code: String,
        rows: Vec<ProductRow>,
        remains_snapshot: bool,
    ) -> Result<(), ProdlyError> {
        let mut stock = 0.0;
        let mut has_remains = false;
        let mut transit: BTreeMap<String, f64> = BTreeMap::new();
        let mut general: Vec<(&str, &Number, Option<&Number>)> = Vec::new();
        if let Some((card_file, card_r)) = rows.iter().find_map(|r| match r {
            ProductRow::Out { f, r } => Some((*f, *r)),
            _ => None,
        }) {
            return self.left_out(&code, card_file, card_r, &rows);
        }
        for row in &rows {
            match row {
                ProductRow::R { qty, expected, .. } => {
                    has_remains = true;
                    stock += qty;
                    for (d, q) in expected {
                        *transit.entry(d.clone()).or_default() += q;
                    }
                }
                ProductRow::G { pt, price, min } => general.push((pt, price, min.as_ref())),
                _ => {}
            }
        }
        if has_remains {
            let mut line = Map::new();
            line.insert("productCode".into(), code.clone().into());
            line.insert("stock".into(), number(stock));
            if !transit.is_empty() {
                let t: Vec<Value> = transit
                    .iter()
                    .map(|(d, q)| json!({"date": d, "quantity": number(*q)}))
                    .collect();
                line.insert("transit".into(), t.into());
            }
            self.write(Endpoint::Stocks, Value::Object(line))?;
        }
        let price_rows: Vec<Value> = general
            .iter()
            .map(|(pt, price, min)| {
                let mut p = Map::new();
                p.insert("price".into(), (*pt).into());
                p.insert("value".into(), Value::Number((*price).clone()));
                if let Some(m) = min.filter(|m| f(m) != 1.0) {
                    p.insert("quantity".into(), Value::Number(m.clone()));
                }
                Value::Object(p)
            })
            .collect();
        for row in &rows {
            match row {
                ProductRow::P { f: file, r, line } => {
                    if !has_remains && !remains_snapshot {
                        self.reports.error(
                            *file,
                            Issue::new(
                                Some(*r),
                                format!("/{r}/id"),
                                codes::CONVERT_REQUIRED,
                                format!(
                                    "branch_products.post requires stock; product \"{code}\" has \
                                     no remains in the batch (send remains.json with it)"
                                ),
                            ),
                        );
                        continue;
                    }
                    let mut line = line.clone();
                    line.insert("stock".into(), number(stock));
                    line.insert(
                        "stocks".into(),
                        json!([{"stock": number(stock), "prices": price_rows}]),
                    );
                    self.write(Endpoint::BranchProducts, Value::Object(line))?;
                }
                ProductRow::Pp {
                    f: file,
                    r,
                    client,
                    pt,
                    price,
                    till,
                } => {
                    let default = general
                        .iter()
                        .find(|(gpt, _, min)| *gpt == pt && min.map_or(true, |m| f(m) == 1.0));
                    let Some((_, default, _)) = default else {
                        self.reports.error(
                            *file,
                            Issue::new(
                                Some(*r),
                                format!("/{r}/prices_type_id"),
                                codes::CONVERT_REQUIRED,
                                format!(
                                    "personal_prices.post requires defaultPrice: product \
                                     \"{code}\" has no general price of type \"{pt}\" from 1 unit \
                                     in the batch"
                                ),
                            ),
                        );
                        continue;
                    };
                    let mut line = Map::new();
                    line.insert("branch".into(), self.opts.branch.clone().into());
                    line.insert("client".into(), client.clone().into());
                    line.insert("productCode".into(), code.clone().into());
                    line.insert("defaultPrice".into(), Value::Number((*default).clone()));
                    line.insert("price".into(), Value::Number(price.clone()));
                    // The three flags take the defaults the seed documents.
                    line.insert("isMatrix".into(), false.into());
                    line.insert("allowPromo".into(), true.into());
                    push_opt(&mut line, "validTill", till.clone());
                    line.insert("isDiscount".into(), false.into());
                    self.write(Endpoint::PersonalPrices, Value::Object(line))?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Reports the stock and personal prices of a product whose card was left out of
    /// `products.post`: Prodly would refuse them, and the card's own report says why.
    fn left_out(
        &mut self,
        code: &str,
        card_file: usize,
        card_r: u64,
        rows: &[ProductRow],
    ) -> Result<(), ProdlyError> {
        let card = &self.found[card_file].input.display;
        let why = format!(
            "product \"{code}\" was left out of products.post ({card} record {card_r}), so its \
             stock and prices were not sent either"
        );
        let mut issues = Vec::new();
        for row in rows {
            let (file, r, field) = match row {
                ProductRow::R { f, r, .. } => (*f, *r, "product_id"),
                ProductRow::Pp { f, r, .. } => (*f, *r, "product_id"),
                _ => continue,
            };
            issues.push((
                file,
                Issue::new(
                    Some(r),
                    format!("/{r}/{field}"),
                    codes::CONVERT_REQUIRED,
                    why.clone(),
                ),
            ));
        }
        for (file, issue) in issues {
            self.reports.warning(file, issue);
        }
        Ok(())
    }

    /// `country` of a product: its own, else its card's, else the configured default (warned).
    fn country(&self, s: &mut Src<'_>, cards: &HashMap<String, String>) -> Option<String> {
        if let Some(c) = s.str(&["country"]).filter(|c| !c.trim().is_empty()) {
            return Some(c.to_string());
        }
        if s.get(&["country"]).is_some_and(|v| !v.is_string()) {
            return None;
        }
        if let Some(c) = s.str(&["parent_id"]).and_then(|p| cards.get(p)) {
            return Some(c.clone());
        }
        match &self.defaults.country {
            Some(c) => {
                s.warn(
                    &["country"],
                    codes::CONVERT_REQUIRED,
                    format!(
                        "products.post requires country; record {} and its card have none, so \
                         the configured prodly.default_country {c} was sent",
                        s.label()
                    ),
                );
                Some(c.clone())
            }
            None => {
                s.missing(&["country"], "products.post", "country");
                None
            }
        }
    }

    fn client_join(
        &mut self,
        dir: &Path,
        budget: u64,
        contracts: &Contracts,
        categories_users: &HashMap<String, String>,
    ) -> Result<(), ProdlyError> {
        let types = [
            DataType::Contragents,
            DataType::Customers,
            DataType::Finances,
        ];
        let parts = partitions_for(self.bytes(&types), budget);
        let mut g = Grouper::<ClientRow>::new(dir, "clients", parts)?;
        for file in self.files(DataType::Contragents) {
            self.read(file, |run, s| {
                run.contragent(file, s, contracts, categories_users, &mut g)
            })?;
        }
        for file in self.files(DataType::Customers) {
            self.read(file, |run, mut s| {
                let ids = s.str_list(&["contragent_ids"]);
                let mut tags = s.str_list(&["segment_ids"]);
                tags.extend(s.str(&["category_id"]).map(str::to_string));
                let manager = s.str(&["manager_id"]).map(str::to_string);
                if run.settle(file, &mut s) {
                    for id in ids {
                        let row = ClientRow::U {
                            tags: tags.clone(),
                            manager: manager.clone(),
                        };
                        g.add(&id, &row)?;
                    }
                }
                Ok(())
            })?;
        }
        for file in self.files(DataType::Finances) {
            self.read(file, |run, s| run.finance(file, s, contracts, &mut g))?;
        }
        g.for_each_group(|code, rows| self.client_group(code, rows))
    }

    fn contragent(
        &mut self,
        file: usize,
        mut s: Src<'_>,
        contracts: &Contracts,
        categories_users: &HashMap<String, String>,
        g: &mut Grouper<ClientRow>,
    ) -> Result<(), ProdlyError> {
        const E: &str = "clients.post";
        let mut line = Map::new();
        let code = s.req_str(&["id"], E, "code");
        push_opt(&mut line, "code", code);
        push_opt(&mut line, "name", s.req_str(&["name"], E, "name"));
        push_opt(&mut line, "inn", s.req_str(&["inn"], E, "inn"));
        push_opt(&mut line, "kpp", s.str(&["kpp"]));
        push_opt(&mut line, "ogrn", s.str(&["ogrn"]));
        line.insert("branch".into(), self.opts.branch.clone().into());
        push_opt(&mut line, "address", s.str(&["legal_address"]));
        // Addresses may be plain strings or objects with an `address` member.
        let logistic = match s.array(&["delivery_addresses"]).and_then(|a| a.first()) {
            Some(Value::String(a)) if !a.trim().is_empty() => Some(a.clone()),
            Some(Value::Object(o)) => o.get("address").and_then(Value::as_str).map(String::from),
            _ => None,
        };
        // Without a delivery address goods go to the legal address: sent, and said.
        let logistic = match (logistic, s.str(&["legal_address"])) {
            (Some(a), _) => Some(a),
            (None, Some(legal)) if !legal.trim().is_empty() => {
                s.warn(
                    &["delivery_addresses"],
                    codes::CONVERT_REQUIRED,
                    format!(
                        "clients.post requires logisticAddress; record {} has no delivery \
                         address, so its legal_address was sent",
                        s.label()
                    ),
                );
                Some(legal.to_string())
            }
            (None, _) => {
                s.missing(&["delivery_addresses", "0"], E, "logisticAddress");
                None
            }
        };
        push_opt(&mut line, "logisticAddress", logistic);
        // COMPO's `active` defaults to true; a mistyped one was reported by `bool`.
        let active_mistyped = s.get(&["active"]).is_some_and(|v| !v.is_boolean());
        let active = s.bool(&["active"]).unwrap_or(true);
        if !active_mistyped {
            line.insert("active".into(), active.into());
        }
        let manager = s.str(&["manager_id"]).map(str::to_string);
        let segment = s.str(&["segment_id"]).map(str::to_string);
        let category = s.str(&["category_id"]).map(str::to_string);
        let stop = s.bool(&["stop"]);
        let default = code.and_then(|c| contracts.default_for(c));
        let price = default.and_then(|d| d.prices_type.clone()).or_else(|| {
            category
                .as_ref()
                .and_then(|c| categories_users.get(c).cloned())
        });
        let currency = default.and_then(|d| d.currency.clone());
        if self.settle(file, &mut s) {
            let row = ClientRow::C {
                line,
                manager,
                tags: segment.into_iter().chain(category).collect(),
                stop,
                price,
                currency,
            };
            g.add(code.expect("checked by settle"), &row)?;
        }
        Ok(())
    }

    fn finance(
        &mut self,
        file: usize,
        mut s: Src<'_>,
        contracts: &Contracts,
        g: &mut Grouper<ClientRow>,
    ) -> Result<(), ProdlyError> {
        const E: &str = "debts.post";
        let ca = s.req_str(&["contragent_id"], E, "clientCode");
        let firm = s
            .str(&["contract_id"])
            .and_then(|c| contracts.by_id.get(c))
            .and_then(|c| c.organization.clone());
        let currency = s.str(&["currency"]).map(str::to_string);
        let balance = s.num(&["balance"]).map(|n| f(&n));
        let overdue = s.num(&["overdue_debt"]).map(|n| f(&n));
        let docs = match s.array(&["documents"]) {
            None => None,
            Some(items) => {
                let mut docs = Vec::new();
                for (i, d) in items.iter().enumerate() {
                    let Some(d) = d.as_object() else {
                        s.wrong_type(&["documents", &i.to_string()], "an object");
                        continue;
                    };
                    let mut doc = Map::new();
                    push_opt(&mut doc, "firmCode", firm.clone());
                    for (from, to) in [
                        ("id", "docId"),
                        ("kind", "docType"),
                        ("number", "docNumber"),
                        ("date", "docDate"),
                        ("amount", "summa"),
                        ("debt", "debet"),
                        ("due_date", "payUntill"),
                    ] {
                        if let Some(v) = d.get(from).filter(|v| !v.is_null()) {
                            let numeric = matches!(to, "summa" | "debet");
                            if numeric != v.is_number() || (!numeric && !v.is_string()) {
                                let idx = i.to_string();
                                let what = if numeric { "a number" } else { "a string" };
                                s.wrong_type(&["documents", &idx, from], what);
                                continue;
                            }
                            doc.insert(to.into(), v.clone());
                        }
                    }
                    docs.push(doc);
                }
                Some(docs)
            }
        };
        if self.settle(file, &mut s) {
            let row = ClientRow::F {
                f: file,
                r: s.index,
                currency,
                balance,
                overdue,
                docs,
            };
            g.add(ca.expect("checked by settle"), &row)?;
        }
        Ok(())
    }

    fn client_group(&mut self, code: String, rows: Vec<ClientRow>) -> Result<(), ProdlyError> {
        let mut tags = Vec::new();
        let mut managers = Vec::new();
        let mut currency: Option<String> = None;
        let mut mixed = false;
        let (mut balance, mut overdue) = (None::<f64>, None::<f64>);
        let mut documents: Option<Vec<Map<String, Value>>> = None;
        let mut client = None;
        for row in &rows {
            match row {
                ClientRow::C {
                    tags: t, manager, ..
                } => {
                    client = Some(row);
                    managers.extend(manager.clone());
                    tags.extend(t.iter().cloned());
                }
                ClientRow::U { tags: t, manager } => {
                    managers.extend(manager.clone());
                    tags.extend(t.iter().cloned());
                }
                ClientRow::F {
                    f: file,
                    r,
                    currency: c,
                    balance: b,
                    overdue: o,
                    docs,
                } => {
                    match (&currency, c) {
                        (Some(have), Some(c)) if have != c => {
                            mixed = true;
                            self.reports.warning(
                                *file,
                                Issue::new(
                                    Some(*r),
                                    format!("/{r}/currency"),
                                    codes::CONVERT_VALUE,
                                    format!(
                                        "contragent \"{code}\" has finances in {have} and {c}; \
                                         Prodly keeps one balance per client, so balance and debt \
                                         were not sent"
                                    ),
                                ),
                            );
                        }
                        (None, Some(c)) => currency = Some(c.clone()),
                        _ => {}
                    }
                    if let Some(b) = b {
                        *balance.get_or_insert(0.0) += b;
                    }
                    if let Some(o) = o {
                        *overdue.get_or_insert(0.0) += o;
                    }
                    if let Some(d) = docs {
                        documents.get_or_insert_with(Vec::new).extend(d.clone());
                    }
                }
            }
        }
        let managers = dedup(managers);
        let agent = match client {
            Some(ClientRow::C { manager, .. }) => manager.clone(),
            _ => None,
        };
        if let Some(ClientRow::C {
            line,
            stop,
            price,
            currency: contract_currency,
            ..
        }) = client
        {
            let mut props = Vec::new();
            let mut prop = |k: &str, v: Value| props.push(json!({"key": k, "value": v}));
            if let Some(p) = price {
                prop("price", p.clone().into());
            }
            let currency = if mixed {
                None
            } else {
                currency.clone().or_else(|| contract_currency.clone())
            };
            if let Some(c) = currency {
                prop("currency", c.into());
            }
            if !managers.is_empty() {
                prop("managers", managers.clone().into());
            }
            if let Some(s) = stop {
                prop("stop", (*s).into());
            }
            if !mixed {
                if let Some(o) = overdue {
                    prop("debt", number(o));
                }
                if let Some(b) = balance {
                    prop("balance", number(b));
                }
            }
            let mut line = line.clone();
            line.insert("properties".into(), props.into());
            line.insert("tags".into(), dedup(tags).into());
            self.write(Endpoint::Clients, Value::Object(line))?;
        }
        if let Some(docs) = documents {
            let docs: Vec<Value> = docs
                .into_iter()
                .map(|d| {
                    // agentCode sits after firmCode, as in the seed's sample.
                    let mut out = Map::new();
                    let mut rest = d.into_iter().peekable();
                    if let Some((k, v)) = rest.next_if(|(k, _)| k == "firmCode") {
                        out.insert(k, v);
                    }
                    push_opt(&mut out, "agentCode", agent.clone());
                    out.extend(rest);
                    Value::Object(out)
                })
                .collect();
            self.write(
                Endpoint::Debts,
                json!({"clientCode": code, "documents": docs}),
            )?;
        }
        Ok(())
    }

    fn read_managers(&mut self) -> Result<(), ProdlyError> {
        const E: &str = "managers.post";
        for file in self.files(DataType::Managers) {
            self.read(file, |run, mut s| {
                let code = s.req_str(&["id"], E, "code");
                let fio = s.req_str(&["name"], E, "fio");
                let phone = s.req_str(&["phone"], E, "phone");
                // COMPO's `active` defaults to true, as for clients.
                let active = s.bool(&["active"]).unwrap_or(true);
                if run.settle(file, &mut s) {
                    // The seed recommends a personal tag holding the agent's code.
                    run.write(
                        Endpoint::Managers,
                        json!({"code": code, "fio": fio, "phone": phone, "active": active,
                               "tags": [code]}),
                    )?;
                }
                Ok(())
            })?;
        }
        Ok(())
    }

    fn read_orders(&mut self) -> Result<(), ProdlyError> {
        for file in self.files(DataType::Orders) {
            self.read(file, |run, s| run.order(file, s))?;
        }
        Ok(())
    }

    fn order(&mut self, file: usize, mut s: Src<'_>) -> Result<(), ProdlyError> {
        const E: &str = "orders.post";
        let number = s.req_str(&["id"], E, "number");
        let (state, vendor_status) = match s.req_str(&["status"], E, "state") {
            None => (None, None),
            Some(st) => match status_to_prodly(st) {
                Some(m) => (Some(m.0), m.1),
                None => {
                    s.value_problem(
                        &["status"],
                        format!("status \"{st}\" is not a COMPO order status"),
                    );
                    (None, None)
                }
            },
        };
        // Prodly requires deliveryDate and pickup; COMPO's delivery block and its date are
        // optional. An acknowledgement must not wait on them: the order's own date (the
        // earliest it can go) and delivery to the client stand in, each reported.
        let order_date = s.str(&["date"]);
        let has_delivery = s.get(&["delivery"]).is_some();
        let date = match s.str(&["delivery", "date"]) {
            Some(d) => Some(d),
            None if s.get(&["delivery", "date"]).is_some() => None,
            None => {
                let d = s.req_str(
                    &["date"],
                    E,
                    "deliveryDate (delivery.date or the order's date)",
                );
                if let (Some(d), true) = (d, has_delivery) {
                    s.warn(
                        &["delivery", "date"],
                        codes::CONVERT_REQUIRED,
                        format!(
                            "orders.post requires deliveryDate; order {} has no delivery.date, \
                             so its date {d} was sent",
                            s.label()
                        ),
                    );
                }
                d
            }
        };
        if let Some(d) = date {
            if chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_err() || d.len() != 10 {
                s.value_problem(
                    &["delivery", "date"],
                    format!("deliveryDate must be a date (YYYY-MM-DD), not \"{d}\""),
                );
            }
        }
        let pickup = match s.str(&["delivery", "kind"]) {
            Some("pickup") => Some(true),
            Some("delivery") => Some(false),
            Some(k) => {
                s.value_problem(
                    &["delivery", "kind"],
                    format!("delivery kind \"{k}\" is neither pickup nor delivery"),
                );
                None
            }
            None if s.get(&["delivery", "kind"]).is_some() => None,
            None => {
                let (path, what): (&[&str], _) = if has_delivery {
                    (&["delivery", "kind"], "delivery.kind")
                } else {
                    (&["delivery"], "delivery block")
                };
                let day = order_date.unwrap_or("its date");
                s.warn(
                    path,
                    codes::CONVERT_REQUIRED,
                    format!(
                        "orders.post requires pickup and deliveryDate; order {} has no {what}, \
                         so it was sent as a delivery (pickup false) on {day}",
                        s.label()
                    ),
                );
                Some(false)
            }
        };
        let message = match s.str(&["status_comment"]) {
            Some(m) if !m.trim().is_empty() => Some(m.to_string()),
            _ if state == Some("canceled") => {
                // The seed: a cancellation by the supplier says why in vendorMessage. COMPO's
                // status_comment is optional, so a fixed reason stands in.
                s.warn(
                    &["status_comment"],
                    codes::CONVERT_REQUIRED,
                    format!(
                        "a canceled order needs vendorMessage (the reason); order {} has no \
                         status_comment, so \"{CANCELED_BY_SUPPLIER}\" was sent",
                        s.label()
                    ),
                );
                Some(CANCELED_BY_SUPPLIER.to_string())
            }
            _ => None,
        };
        let mut rows = Vec::new();
        if let Some(items) = s.array(&["items"]) {
            for (i, item) in items.iter().enumerate() {
                let Some(item) = item.as_object() else {
                    s.wrong_type(&["items", &i.to_string()], "an object");
                    continue;
                };
                let mut row = Map::new();
                for (from, to) in [
                    ("product_id", "productCode"),
                    ("quantity", "quantity"),
                    ("price", "price"),
                    ("discount", "discount"),
                    ("amount", "summa"),
                ] {
                    if let Some(v) = item.get(from).filter(|v| !v.is_null()) {
                        row.insert(to.into(), v.clone());
                    }
                }
                rows.push(Value::Object(row));
            }
        }
        if s.ok() {
            let mut line = Map::new();
            line.insert("number".into(), number.into());
            line.insert("state".into(), state.into());
            line.insert("vendor".into(), self.opts.vendor.clone().into());
            line.insert("branch".into(), self.opts.branch.clone().into());
            line.insert("deliveryDate".into(), date.into());
            line.insert("pickup".into(), pickup.into());
            line.insert("rows".into(), rows.into());
            push_opt(&mut line, "vendorStatus", vendor_status);
            push_opt(&mut line, "vendorMessage", message);
            self.write(Endpoint::Orders, Value::Object(line))?;
        }
        self.settle(file, &mut s);
        Ok(())
    }
}

/// Whether Prodly's resource upload takes the picture: the seed allows png, jpg and jpeg.
fn prodly_image(name: &str) -> bool {
    name.rsplit_once('.').is_some_and(|(_, ext)| {
        ["png", "jpg", "jpeg"]
            .iter()
            .any(|e| ext.eq_ignore_ascii_case(e))
    })
}

/// The `vendorMessage` of a cancellation whose COMPO order gives no reason.
const CANCELED_BY_SUPPLIER: &str = "Отменён поставщиком";

/// COMPO order status → Prodly `state` and `vendorStatus` (table in docs/prodly.md).
pub(crate) fn status_to_prodly(status: &str) -> Option<(&'static str, Option<&'static str>)> {
    Some(match status {
        // The ERP has the order but has not decided: "sent to the supplier".
        "new" => ("sent", None),
        "accepted" => ("sent", Some("accepted")),
        "processing" => ("build", Some("accepted")),
        "shipped" => ("delivery", Some("accepted")),
        "completed" => ("done", Some("accepted")),
        "canceled" => ("canceled", Some("declined")),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_compo_status_maps_to_a_prodly_state() {
        const STATES: [&str; 6] = ["new", "sent", "build", "delivery", "done", "canceled"];
        for st in [
            "new",
            "accepted",
            "processing",
            "shipped",
            "completed",
            "canceled",
        ] {
            let (state, vs) = status_to_prodly(st).unwrap();
            assert!(STATES.contains(&state), "{st}");
            assert!(vs.map_or(true, |v| v == "accepted" || v == "declined"));
        }
        assert_eq!(status_to_prodly("canceled").unwrap().1, Some("declined"));
        assert_eq!(status_to_prodly("shipped").unwrap().0, "delivery");
        assert!(status_to_prodly("lost").is_none());
    }
}
