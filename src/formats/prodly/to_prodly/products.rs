//! The product endpoints: `products.post`, `branch_products.post`, `stocks.post` and
//! `personal_prices.post`, from products, prices and remains grouped by product on disk.

use super::*;

pub(super) const BUILDER: Builder = Builder {
    writes: &[
        Endpoint::Products,
        Endpoint::BranchProducts,
        Endpoint::Stocks,
        Endpoint::PersonalPrices,
    ],
    build,
};

fn build(run: &mut Run<'_>, sh: &Shared<'_>) -> Result<(), ProdlyError> {
    run.product_join(sh.spill, sh.budget, &sh.contracts)
}

/// A row of the by-product grouping. Short names: there may be millions on disk.
#[derive(Serialize, Deserialize)]
pub(super) enum ProductRow {
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

impl Run<'_> {
    pub(super) fn product_join(
        &mut self,
        dir: &Path,
        budget: u64,
        contracts: &Contracts,
    ) -> Result<(), ProdlyError> {
        let types = [DataType::Products, DataType::Prices, DataType::Remains];
        let parts = partitions_for(self.size(&types), budget);
        let mut g = Grouper::<ProductRow>::new(dir, "products", parts)?;
        tracing::debug!(partitions = g.partitions(), "product join");
        let countries = self.card_countries()?;
        self.read_type(DataType::Products, |run, part, s| {
            run.product(part.file, s, &countries, &mut g)
        })?;
        let mut warned: HashSet<usize> = HashSet::new();
        self.read_type(DataType::Prices, |run, part, s| {
            if !part.complete && warned.insert(part.file) {
                run.reports.warning(
                    part.file,
                    Issue::file(
                        codes::CONVERT_UNSUPPORTED,
                        "personal_prices.post replaces all personal prices, so a delta cannot \
                         be sent: its personal prices were left out (send a prices.json snapshot)",
                    ),
                );
            }
            run.price(part.file, s, !part.complete, contracts, &mut g)
        })?;
        let remains_snapshot = self.complete(DataType::Remains);
        self.read_type(DataType::Remains, |run, part, s| {
            run.remain(part.file, s, &mut g)
        })?;
        g.for_each_group(|key, rows| self.product_group(key, rows, remains_snapshot))
    }

    /// The `country` of every model card (a product without `parent_id`) that has one: a
    /// variant without its own takes its card's. A pass of its own, as a card may come after
    /// its variants; it holds O(cards), not O(products).
    pub(super) fn card_countries(&mut self) -> Result<HashMap<String, String>, ProdlyError> {
        let mut map = HashMap::new();
        self.scan(DataType::Products, |record| {
            let get = |k: &str| record.get(k).and_then(Value::as_str);
            if let (None, Some(id), Some(country)) = (get("parent_id"), get("id"), get("country")) {
                if !country.trim().is_empty() {
                    map.insert(id.to_string(), country.to_string());
                }
            }
        })?;
        Ok(map)
    }

    pub(super) fn product(
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

    pub(super) fn price(
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

    pub(super) fn remain(
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

    pub(super) fn product_group(
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
    pub(super) fn left_out(
        &mut self,
        code: &str,
        card_file: usize,
        card_r: u64,
        rows: &[ProductRow],
    ) -> Result<(), ProdlyError> {
        let card = self.reports.name(card_file).to_string();
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
    pub(super) fn country(
        &self,
        s: &mut Src<'_>,
        cards: &HashMap<String, String>,
    ) -> Option<String> {
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
}

/// Whether Prodly's resource upload takes the picture: the seed allows png, jpg and jpeg.
pub(super) fn prodly_image(name: &str) -> bool {
    name.rsplit_once('.').is_some_and(|(_, ext)| {
        ["png", "jpg", "jpeg"]
            .iter()
            .any(|e| ext.eq_ignore_ascii_case(e))
    })
}
