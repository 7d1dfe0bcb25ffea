//! Sellper XML documents (API answers and event posts) to COMPO data files.
//!
//! Each input is streamed: list documents are read one record element at a time and their
//! records written out at once, so only categories (which need the whole list to build the tree)
//! and the set of model-card ids of an ICML catalog are held in memory.

use super::output::{Dec, Outputs};
use super::xml::{utf8_stream, Node, ReadError, Start, XmlCursor};
use super::SellperError;
use crate::compo::checks::check_record;
use crate::compo::messages::Lang;
use crate::compo::model::DataType;
use crate::compo::report::{codes, Issue, Report};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};

/// The one price type prices from Sellper are published under.
pub const PRICES_TYPE_ID: &str = "sellper-retail";
/// The warehouse that stands for "all Sellper stores together": ICML offers and the
/// several-stores stock list give one quantity per item over all the stores asked for.
pub const ALL_STORES_ID: &str = "sellper-all";
/// Sellper keeps money in the installation's base currency; every example of the seed shows it
/// as RUB (`<currency>RUB</currency><rate>1</rate>`, "оплачено 1000р").
pub const CURRENCY: &str = "RUB";
/// Sellper counts goods in pieces: every position is an item with an integer quantity.
pub const UNIT: &str = "шт";

/// Document roots the seed describes that have no COMPO counterpart, with the reason.
pub const OUT_OF_SCOPE: &[(&str, &str)] = &[
    ("shops", "shops are Sellper's sales channels; COMPO has no such type"),
    ("shop", "shops are Sellper's sales channels; COMPO has no such type"),
    ("users", "Sellper users are staff logins with passwords; nothing links them to customers"),
    ("user", "Sellper users are staff logins with passwords; nothing links them to customers"),
    ("item", "store traffic counts (visitors.xml) have no COMPO counterpart"),
    ("sales", "retail sales (receipts) are neither orders nor finances in COMPO"),
    ("sale", "retail sales (receipts) are neither orders nor finances in COMPO"),
    ("refunds", "refunds of retail sales have no COMPO counterpart"),
    ("refund", "refunds of retail sales have no COMPO counterpart"),
    ("purchases", "purchases from suppliers are the supplier's own business, not the portal's"),
    ("purchase", "purchases from suppliers are the supplier's own business, not the portal's"),
    ("migrations", "moves between stores show up in the stock lists, which are converted"),
    ("migration", "moves between stores show up in the stock lists, which are converted"),
    ("restores", "write-offs show up in the stock lists, which are converted"),
    ("restore", "write-offs show up in the stock lists, which are converted"),
    ("reserves", "reserves are kept per reserve document, not per item and store as COMPO's remains.reserved needs"),
    ("reserve", "reserves are kept per reserve document, not per item and store as COMPO's remains.reserved needs"),
    ("expenditures", "expenses and income are internal bookkeeping"),
    ("expenditure", "expenses and income are internal bookkeeping"),
    ("budgets", "expense and income items are internal bookkeeping"),
    ("budget", "expense and income items are internal bookkeeping"),
    ("orders-statuses", "a fixed list, built into the status mapping"),
    ("pay-types", "COMPO orders have no payment type"),
    ("delivery-types", "COMPO orders name the delivery kind (pickup or delivery), not a list of types"),
    ("delivery-type", "COMPO orders name the delivery kind (pickup or delivery), not a list of types"),
    ("subs", "event subscriptions are API configuration"),
    ("sub", "event subscriptions are API configuration"),
    ("error", "an API error answer carries no data"),
    ("errors", "an API error answer carries no data"),
    ("filter", "a request filter carries no data"),
];

/// Why converting an input stopped early.
pub(crate) enum Stop {
    Read(ReadError),
    Write(io::Error),
}

impl From<ReadError> for Stop {
    fn from(e: ReadError) -> Self {
        Stop::Read(e)
    }
}

impl From<io::Error> for Stop {
    fn from(e: io::Error) -> Self {
        Stop::Write(e)
    }
}

/// The state of converting one input.
struct Conv {
    report: Report,
    out: Outputs,
    /// Whether this document is a full list (`<type>.json`) or a delta.
    snapshot: bool,
    stem: String,
    prices_written: bool,
    all_stores_used: bool,
}

impl Conv {
    fn error(&mut self, record: Option<u64>, pointer: &str, code: &str, msg: impl Into<String>) {
        self.report
            .errors
            .push(Issue::new(record, pointer, code, msg));
    }

    fn warning(&mut self, record: Option<u64>, pointer: &str, code: &str, msg: impl Into<String>) {
        self.report
            .warnings
            .push(Issue::new(record, pointer, code, msg));
    }

    fn required(&mut self, record: Option<u64>, pointer: &str, msg: impl Into<String>) {
        self.error(record, pointer, codes::CONVERT_REQUIRED, msg);
    }

    /// The `id` attribute of a document element, reported when missing: Sellper's answers
    /// always carry it, so its absence means a request body was sent by mistake.
    fn required_id<'n>(
        &mut self,
        n: &'n Node,
        id: Option<&'n str>,
        rec: Option<u64>,
        what: &str,
    ) -> Option<&'n str> {
        if id.is_none() {
            self.required(
                rec,
                &format!("{}/@id", n.pointer),
                format!("the {what} has no id (a request body, not an answer of Sellper?)"),
            );
        }
        id
    }

    /// A required child element's text, reported when missing.
    fn required_text<'n>(
        &mut self,
        n: &'n Node,
        child: &str,
        rec: Option<u64>,
        what: &str,
    ) -> Option<&'n str> {
        let v = n.text_of(child);
        if v.is_none() {
            self.required(
                rec,
                &n.pointer_of(child),
                format!("the {what} has no {child}"),
            );
        }
        v
    }

    /// Warns about child elements the converter does not know.
    fn unknown_children(&mut self, n: &Node, record: Option<u64>, known: &[&str]) {
        for c in &n.children {
            if !known.contains(&c.name.as_str()) {
                self.warning(
                    record,
                    &c.pointer,
                    codes::CONVERT_UNSUPPORTED,
                    format!("element <{}> is not converted", c.name),
                );
            }
        }
    }

    /// Writes a record, unless the input already failed: its files will be thrown away.
    fn emit(&mut self, t: DataType, record: Value) -> Result<(), Stop> {
        self.emit_as(t, self.snapshot, record)
    }

    /// A stock record; quantities summed over all stores go to the `sellper-all` warehouse.
    fn emit_remain(&mut self, id: &str, warehouse_id: &str, quantity: &Dec) -> Result<(), Stop> {
        if warehouse_id == ALL_STORES_ID {
            self.all_stores_used = true;
        }
        self.emit(
            DataType::Remains,
            json!({"product_id": id, "warehouse_id": warehouse_id, "quantity": quantity.to_json()}),
        )
    }

    /// A price of the one Sellper price type (written out with it at the end).
    fn emit_price(&mut self, id: &str, price: &Dec) -> Result<(), Stop> {
        self.prices_written = true;
        self.emit(
            DataType::Prices,
            json!({"product_id": id, "prices_type_id": PRICES_TYPE_ID, "price": price.to_json()}),
        )
    }

    /// Writes a record into the snapshot or the delta of its type, then runs COMPO's record
    /// checks on it: what the portal would refuse (a wrong barcode check digit in Sellper, say)
    /// is announced now as a warning naming the output file, while the data stays Sellper's.
    fn emit_as(&mut self, t: DataType, snapshot: bool, record: Value) -> Result<(), Stop> {
        if !self.report.errors.is_empty() {
            return Ok(());
        }
        let index = self.out.push(t, snapshot, &record)?;
        let mut found = Vec::new();
        check_record(t, index, &record, !snapshot, Lang::from_env(), &mut found);
        if found.is_empty() {
            return Ok(());
        }
        let file = self.out.file_name(t, snapshot);
        for i in found {
            // Order totals are checked on the Sellper side, with the XML path.
            if t == DataType::Orders && i.code == codes::SUM_MISMATCH {
                continue;
            }
            self.report.warnings.push(Issue::new(
                i.record,
                i.pointer,
                &i.code,
                format!(
                    "{file}: {} (the value is Sellper's: correct it there)",
                    i.message
                ),
            ));
        }
        Ok(())
    }

    /// Parses a decimal child value; reports it when missing (if `required`) or malformed.
    fn dec(&mut self, n: &Node, name: &str, record: Option<u64>, required: bool) -> Option<Dec> {
        let Some(text) = n.text_of(name) else {
            if required {
                self.required(
                    record,
                    &n.pointer_of(name),
                    format!("<{name}> is missing or empty"),
                );
            }
            return None;
        };
        let v = Dec::parse(text);
        if v.is_none() {
            self.bad_number(text, &n.pointer_of(name), record);
        }
        v
    }

    fn dec_text(&mut self, text: &str, pointer: &str, record: Option<u64>) -> Option<Dec> {
        let v = Dec::parse(text);
        if v.is_none() {
            self.bad_number(text, pointer, record);
        }
        v
    }

    fn bad_number(&mut self, text: &str, pointer: &str, record: Option<u64>) {
        {
            self.error(
                record,
                pointer,
                codes::CONVERT_VALUE,
                format!("\"{text}\" is not a decimal number with at most 4 decimals"),
            );
        }
    }
}

fn put(m: &mut Map<String, Value>, key: &str, v: Option<impl Into<Value>>) {
    if let Some(v) = v {
        m.insert(key.to_string(), v.into());
    }
}

/// Converts one Sellper file. `taken` holds the output names earlier inputs of the same call
/// produced: two inputs must not write the same file.
pub(crate) fn convert_file(
    path: &Path,
    out_dir: &Path,
    taken: &mut HashMap<String, String>,
) -> Result<(Vec<PathBuf>, Report), SellperError> {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let stem = path
        .file_stem()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut conv = Conv {
        report: Report::new(file_name.clone(), None),
        out: Outputs::new(out_dir, &stem),
        snapshot: false,
        stem,
        prices_written: false,
        all_stores_used: false,
    };
    let read_err = |source| SellperError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let result = match utf8_stream(file) {
        Ok(text) => {
            let mut cursor = XmlCursor::new(text);
            convert_document(&mut conv, &mut cursor).and_then(|()| Ok(cursor.finish()?))
        }
        Err(e) => Err(Stop::Read(e)),
    };
    match result {
        Ok(()) => {}
        Err(Stop::Read(ReadError::Io(e))) => {
            conv.out.discard();
            return Err(read_err(e));
        }
        Err(Stop::Write(e)) => {
            conv.out.discard();
            return Err(SellperError::Write {
                path: out_dir.to_path_buf(),
                source: e,
            });
        }
        Err(Stop::Read(ReadError::Encoding(m))) => {
            conv.report
                .errors
                .push(Issue::file(codes::ENCODING_INVALID, m));
        }
        Err(Stop::Read(ReadError::Syntax(m))) => {
            conv.report.errors.push(Issue::file(codes::XML_SYNTAX, m));
        }
    }
    if conv.report.errors.is_empty() {
        for name in conv.out.names() {
            if let Some(first) = taken.get(&name) {
                conv.report.errors.push(Issue::file(
                    codes::CONVERT_VALUE,
                    format!(
                        "{name} was already written from {first} in this conversion; convert the two inputs separately"
                    ),
                ));
            }
        }
    }
    let written = if conv.report.errors.is_empty() {
        for name in conv.out.names() {
            taken.insert(name, file_name.clone());
        }
        conv.out.commit().map_err(|e| SellperError::Write {
            path: out_dir.to_path_buf(),
            source: e,
        })?
    } else {
        conv.out.discard();
        Vec::new()
    };
    conv.report.settle();
    Ok((written, conv.report))
}

fn convert_document(c: &mut Conv, cur: &mut XmlCursor) -> Result<(), Stop> {
    let root = cur.root()?;
    let is_array = root.attrs.iter().any(|(k, v)| k == "type" && v == "array");
    match root.name.as_str() {
        "stores" => {
            c.snapshot = true;
            c.out.ensure(DataType::Warehouses, true)?;
            cur.descend(&root);
            stream(c, cur, "store", "stores", |c, n, rec| {
                if let Some(w) = warehouse(c, n, Some(rec)) {
                    c.emit(DataType::Warehouses, w)?;
                }
                Ok(())
            })
        }
        "store" if is_array => stock_of_one_store(c, cur, root),
        "items" => {
            c.snapshot = true;
            c.out.ensure(DataType::Remains, true)?;
            cur.descend(&root);
            stream(c, cur, "item", "stock", |c, n, rec| {
                stock_item(c, n, rec, ALL_STORES_ID)
            })?;
            finish_stock(c, true)
        }
        "yml_catalog" => icml(c, cur, root),
        "categories" => {
            c.snapshot = true;
            c.out.ensure(DataType::Categories, true)?;
            cur.descend(&root);
            let mut cats = Vec::new();
            stream(c, cur, "category", "categories", |c, n, rec| {
                if let Some(cat) = category(c, n, Some(rec)) {
                    cats.push(cat);
                }
                Ok(())
            })?;
            emit_categories(c, cats)
        }
        "products" => {
            c.snapshot = true;
            c.out.ensure(DataType::Products, true)?;
            cur.descend(&root);
            stream(c, cur, "product", "products", |c, n, rec| {
                for p in product(c, n, Some(rec)) {
                    c.emit(DataType::Products, p)?;
                }
                Ok(())
            })
        }
        "clients" => {
            c.snapshot = true;
            c.out.ensure(DataType::Contragents, true)?;
            c.out.ensure(DataType::Customers, true)?;
            cur.descend(&root);
            stream(c, cur, "client", "clients", |c, n, rec| {
                emit_client(c, n, Some(rec))
            })
        }
        "orders" => {
            c.snapshot = true;
            c.out.ensure(DataType::Orders, true)?;
            cur.descend(&root);
            stream(c, cur, "order", "orders", |c, n, rec| {
                if let Some(o) = order(c, n, Some(rec)) {
                    c.emit(DataType::Orders, o)?;
                }
                Ok(())
            })
        }
        _ => {
            // Single-object documents are small: read them whole.
            let name = root.name.clone();
            let ptr = format!("/{name}");
            let node = cur.read_node(root, ptr)?;
            c.report.records = Some(1);
            single(c, &node)
        }
    }
}

fn single(c: &mut Conv, n: &Node) -> Result<(), Stop> {
    match n.name.as_str() {
        "store" => {
            if let Some(w) = warehouse(c, n, Some(0)) {
                c.emit(DataType::Warehouses, w)?;
            }
            Ok(())
        }
        "category" => {
            let cats = category(c, n, Some(0)).into_iter().collect();
            emit_categories(c, cats)
        }
        "product" => {
            for p in product(c, n, Some(0)) {
                c.emit(DataType::Products, p)?;
            }
            Ok(())
        }
        "client" => emit_client(c, n, Some(0)),
        "order" => {
            if let Some(o) = order(c, n, Some(0)) {
                c.emit(DataType::Orders, o)?;
            }
            Ok(())
        }
        "event" => event(c, n),
        other => {
            if let Some((_, why)) = OUT_OF_SCOPE.iter().find(|(r, _)| *r == other) {
                c.report.records = None;
                c.warning(
                    None,
                    &n.pointer,
                    codes::CONVERT_UNSUPPORTED,
                    format!("a Sellper <{other}> document is not converted: {why}"),
                );
            } else {
                c.report.records = None;
                c.error(
                    None,
                    &n.pointer,
                    codes::CONVERT_UNSUPPORTED,
                    format!("<{other}> is not a Sellper document this bridge knows"),
                );
            }
            Ok(())
        }
    }
}

/// Reads the children of the current element: `record` elements are read one at a time and
/// handed to `each`; anything else is reported and skipped.
fn stream(
    c: &mut Conv,
    cur: &mut XmlCursor,
    record: &str,
    what: &str,
    mut each: impl FnMut(&mut Conv, &Node, u64) -> Result<(), Stop>,
) -> Result<(), Stop> {
    while let Some(s) = cur.next_child()? {
        if s.name == record {
            let rec = (s.position - 1) as u64;
            let ptr = s.indexed_pointer();
            let node = cur.read_node(s, ptr)?;
            c.report.records = Some(c.report.records.unwrap_or(0) + 1);
            each(c, &node, rec)?;
        } else {
            let ptr = s.plain_pointer();
            let node = cur.read_node(s, ptr)?;
            c.warning(
                None,
                &node.pointer,
                codes::CONVERT_UNSUPPORTED,
                format!(
                    "element <{}> is not part of a Sellper {what} list and was ignored",
                    node.name
                ),
            );
        }
    }
    Ok(())
}

fn skip_unknown(c: &mut Conv, cur: &mut XmlCursor, s: Start) -> Result<(), Stop> {
    let ptr = s.plain_pointer();
    let node = cur.read_node(s, ptr)?;
    c.warning(
        None,
        &node.pointer,
        codes::CONVERT_UNSUPPORTED,
        format!("element <{}> is not converted", node.name),
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Stores and stock

fn warehouse(c: &mut Conv, n: &Node, rec: Option<u64>) -> Option<Value> {
    c.unknown_children(n, rec, &["name", "store"]);
    let id = c.required_id(n, n.attr_value("id"), rec, "store");
    let name = c.required_text(n, "name", rec, "store");
    Some(json!({"id": id?, "name": name?}))
}

/// `GET /admin/stores/N.xml`: stock of one store. The answer does not name its store, so the
/// id comes from the root's `id` attribute if any, else from the digits ending the file name.
fn stock_of_one_store(c: &mut Conv, cur: &mut XmlCursor, root: Start) -> Result<(), Stop> {
    c.snapshot = false;
    let store_id = root
        .attrs
        .iter()
        .find(|(k, _)| k == "id")
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .or_else(|| {
            let digits: String = c
                .stem
                .chars()
                .rev()
                .take_while(char::is_ascii_digit)
                .collect();
            (!digits.is_empty()).then(|| digits.chars().rev().collect())
        });
    let Some(store_id) = store_id else {
        c.required(
            None,
            "/store/@id",
            "the stock list does not say which store it is for: save GET /admin/stores/N.xml under a name ending in N (stores-N.xml)",
        );
        return Ok(());
    };
    cur.descend(&root);
    while let Some(s) = cur.next_child()? {
        if s.name == "items" {
            cur.descend(&s);
            let id = store_id.clone();
            stream(c, cur, "item", "stock", |c, n, rec| {
                stock_item(c, n, rec, &id)
            })?;
        } else {
            skip_unknown(c, cur, s)?;
        }
    }
    finish_stock(c, false)
}

fn stock_item(c: &mut Conv, n: &Node, rec: u64, warehouse_id: &str) -> Result<(), Stop> {
    let r = Some(rec);
    c.unknown_children(
        n,
        r,
        &[
            "product",
            "modification",
            "quantity",
            "price",
            "cost",
            "currency",
            "rate",
            "discount",
            "barcodes",
        ],
    );
    let id = n.attr_value("id");
    if id.is_none() {
        c.required(r, &format!("{}/@id", n.pointer), "the stock item has no id");
    }
    let quantity = c.dec(n, "quantity", r, true);
    if let Some(q) = quantity.filter(|q| q.is_negative()) {
        c.error(
            r,
            &n.pointer_of("quantity"),
            codes::CONVERT_VALUE,
            format!("negative stock {q}: COMPO remains are 0 or more"),
        );
    }
    check_base_currency(c, n, r);
    let price = c.dec(n, "price", r, false);
    let discount = c.dec(n, "discount", r, false).unwrap_or_default();
    let net = price.map(|p| p - discount);
    if let Some(p) = net.filter(|p| p.is_negative()) {
        c.error(
            r,
            &n.pointer_of("discount"),
            codes::CONVERT_VALUE,
            format!("the discount is larger than the price (price minus discount is {p})"),
        );
    }
    let (Some(id), Some(quantity)) = (id, quantity) else {
        return Ok(());
    };
    c.emit_remain(id, warehouse_id, &quantity)?;
    if let Some(net) = net {
        c.emit_price(id, &net)?;
    }
    Ok(())
}

/// `<currency>` with `<rate>1</rate>` names the installation's base currency, which is what
/// prices are in; the bridge publishes prices in RUB and refuses to relabel another currency.
fn check_base_currency(c: &mut Conv, n: &Node, r: Option<u64>) {
    let Some(cur) = n.text_of("currency") else {
        return;
    };
    let base = n
        .text_of("rate")
        .and_then(Dec::parse)
        .is_some_and(|rate| rate == Dec::from_int(1));
    if base && cur != CURRENCY {
        c.error(
            r,
            &n.pointer_of("currency"),
            codes::CONVERT_VALUE,
            format!("the base currency is {cur}; the bridge publishes Sellper prices in {CURRENCY} only"),
        );
    }
}

/// The records every stock-bearing document adds at its end: the price type and, when
/// quantities were over all stores, that pseudo-warehouse.
fn finish_stock(c: &mut Conv, snapshot: bool) -> Result<(), Stop> {
    if c.prices_written {
        c.emit_as(
            DataType::PricesTypes,
            snapshot,
            json!({"id": PRICES_TYPE_ID, "name": "Sellper: цена продажи", "currency": CURRENCY}),
        )?;
    }
    if c.all_stores_used {
        // Always a delta: it adds one warehouse beside the real ones of stores.xml.
        c.emit_as(
            DataType::Warehouses,
            false,
            json!({"id": ALL_STORES_ID, "name": "Sellper: все склады"}),
        )?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// ICML (yml_catalog)

fn icml(c: &mut Conv, cur: &mut XmlCursor, root: Start) -> Result<(), Stop> {
    c.snapshot = true;
    for t in [
        DataType::Categories,
        DataType::Products,
        DataType::Prices,
        DataType::Remains,
    ] {
        c.out.ensure(t, true)?;
    }
    cur.descend(&root);
    let mut models: HashSet<String> = HashSet::new();
    let mut records = 0u64;
    while let Some(s) = cur.next_child()? {
        if s.name != "shop" {
            skip_unknown(c, cur, s)?;
            continue;
        }
        cur.descend(&s);
        while let Some(s) = cur.next_child()? {
            match s.name.as_str() {
                "categories" => {
                    cur.descend(&s);
                    stream(c, cur, "category", "categories", |c, n, rec| {
                        if let Some(cat) = icml_category(c, n, rec) {
                            c.emit(DataType::Categories, cat)?;
                        }
                        Ok(())
                    })?;
                }
                "offers" => {
                    cur.descend(&s);
                    stream(c, cur, "offer", "offers", |c, n, rec| {
                        offer(c, n, rec, &mut models)
                    })?;
                }
                "name" | "company" | "url" | "platform" | "version" | "currencies" => {
                    let ptr = s.plain_pointer();
                    cur.read_node(s, ptr)?;
                }
                _ => skip_unknown(c, cur, s)?,
            }
        }
        records = c.report.records.unwrap_or(0);
    }
    c.report.records = Some(records);
    finish_stock(c, true)
}

fn icml_category(c: &mut Conv, n: &Node, rec: u64) -> Option<Value> {
    let r = Some(rec);
    c.unknown_children(n, r, &[]);
    let id = n.attr_value("id");
    if id.is_none() {
        c.required(r, &format!("{}/@id", n.pointer), "the category has no id");
    }
    let name = n.value();
    if name.is_none() {
        c.required(r, &n.pointer, "the category has no name");
    }
    let mut m = Map::new();
    put(&mut m, "id", Some(id?));
    put(&mut m, "name", Some(name?));
    put(&mut m, "parent_id", n.attr_value("parentId"));
    Some(Value::Object(m))
}

fn offer(c: &mut Conv, n: &Node, rec: u64, models: &mut HashSet<String>) -> Result<(), Stop> {
    let r = Some(rec);
    c.unknown_children(
        n,
        r,
        &[
            "price",
            "xmlId",
            "purchasePrice",
            "categoryId",
            "name",
            "productName",
            "picture",
            "param",
            "barcode",
            "vendor",
        ],
    );
    let id = n.attr_value("id");
    if id.is_none() {
        c.required(r, &format!("{}/@id", n.pointer), "the offer has no id");
    }
    let name = n.text_of("name");
    if name.is_none() {
        c.required(r, &n.pointer_of("name"), "the offer has no name");
    }
    let category = n.text_of("categoryId");
    if category.is_none() {
        c.required(r, &n.pointer_of("categoryId"), "the offer has no category");
    }
    let price = c.dec(n, "price", r, false);
    let quantity = match n.attr_value("quantity") {
        Some(q) => c.dec_text(q, &format!("{}/@quantity", n.pointer), r),
        None => None,
    };
    if let Some(q) = quantity.filter(|q| q.is_negative()) {
        c.error(
            r,
            &format!("{}/@quantity", n.pointer),
            codes::CONVERT_VALUE,
            format!("negative stock {q}: COMPO remains are 0 or more"),
        );
    }
    let mut pictures = Vec::new();
    for p in n.children_named("picture") {
        if let Some(v) = p.value() {
            picture(c, v, &p.pointer, r, &mut pictures);
        }
    }
    let mut article = None;
    let mut model_props = Vec::new();
    let mut variant_props = Vec::new();
    for p in n.children_named("param") {
        if p.attr("code") == Some("article") {
            article = p.value();
            continue;
        }
        let Some(prop) = property(c, p, r) else {
            continue;
        };
        if p.attr("is-modificator") == Some("1") {
            variant_props.push(prop);
        } else {
            model_props.push(prop);
        }
    }
    let barcodes: Vec<&str> = n
        .children_named("barcode")
        .filter_map(Node::value)
        .collect();
    let brand = n.text_of("vendor");
    let (Some(id), Some(name), Some(category)) = (id, name, category) else {
        return Ok(());
    };
    let parent = n.attr_value("productId");
    if let Some(parent) = parent {
        if models.insert(parent.to_string()) {
            match n.text_of("productName") {
                Some(model_name) => {
                    let mut m = Map::new();
                    m.insert("id".into(), parent.into());
                    m.insert("name".into(), model_name.into());
                    m.insert("category_id".into(), category.into());
                    put(&mut m, "article", article);
                    m.insert("unit".into(), UNIT.into());
                    put(&mut m, "brand", brand);
                    if !pictures.is_empty() {
                        m.insert("pictures".into(), json!(pictures));
                    }
                    if !model_props.is_empty() {
                        m.insert("properties".into(), Value::Array(model_props.clone()));
                    }
                    c.emit(DataType::Products, Value::Object(m))?;
                }
                None => c.required(
                    r,
                    &n.pointer_of("productName"),
                    format!("the first offer of product {parent} does not name the product"),
                ),
            }
        }
    }
    let mut m = Map::new();
    m.insert("id".into(), id.into());
    m.insert("name".into(), name.into());
    put(&mut m, "parent_id", parent);
    m.insert("category_id".into(), category.into());
    put(&mut m, "article", article);
    m.insert("unit".into(), UNIT.into());
    if !barcodes.is_empty() {
        m.insert("barcodes".into(), json!(barcodes));
    }
    put(&mut m, "brand", brand);
    if !pictures.is_empty() {
        m.insert("pictures".into(), json!(pictures));
    }
    // A card without a model keeps all its parameters; a variant only what tells it apart.
    let props = if parent.is_some() {
        variant_props
    } else {
        model_props.into_iter().chain(variant_props).collect()
    };
    if !props.is_empty() {
        m.insert("properties".into(), Value::Array(props));
    }
    c.emit(DataType::Products, Value::Object(m))?;
    if let Some(p) = price {
        c.emit_price(id, &p)?;
    }
    if let Some(q) = quantity {
        c.emit_remain(id, ALL_STORES_ID, &q)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Categories

struct Cat {
    id: String,
    path: Vec<String>,
}

fn category(c: &mut Conv, n: &Node, rec: Option<u64>) -> Option<Cat> {
    c.unknown_children(n, rec, &["name", "created"]);
    let id = c.required_id(n, n.attr_value("id"), rec, "category");
    let path: Vec<String> = n
        .text_of("name")
        .unwrap_or("")
        .split('/')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    if path.is_empty() {
        c.required(rec, &n.pointer_of("name"), "the category has no name");
    }
    Some(Cat {
        id: id?.to_string(),
        path: (!path.is_empty()).then_some(path)?,
    })
}

/// The id given to a level of a category path that Sellper has no category record for.
fn path_id(path: &[String]) -> String {
    let h = blake3::hash(path.join("/").as_bytes());
    format!("sellper-path-{}", &h.to_hex()[..16])
}

/// Sellper names a category by its whole path (`Одежда/Мужская/Сорочки`). Each level becomes a
/// category; a level with a category of its own in the same document gets that id, the others
/// an id derived from the path, so converting again gives the same ids.
fn emit_categories(c: &mut Conv, cats: Vec<Cat>) -> Result<(), Stop> {
    let real: HashMap<Vec<String>, String> = cats
        .iter()
        .map(|k| (k.path.clone(), k.id.clone()))
        .collect();
    let id_of = |p: &[String]| real.get(p).cloned().unwrap_or_else(|| path_id(p));
    let mut synthetic: BTreeMap<(usize, Vec<String>), ()> = BTreeMap::new();
    for k in &cats {
        for depth in 1..k.path.len() {
            let prefix = &k.path[..depth];
            if !real.contains_key(prefix) {
                synthetic.insert((depth, prefix.to_vec()), ());
            }
        }
    }
    for (_, p) in synthetic.keys() {
        let mut m = Map::new();
        m.insert("id".into(), path_id(p).into());
        m.insert("name".into(), p[p.len() - 1].clone().into());
        if p.len() > 1 {
            m.insert("parent_id".into(), id_of(&p[..p.len() - 1]).into());
        }
        c.emit(DataType::Categories, Value::Object(m))?;
    }
    for k in &cats {
        let mut m = Map::new();
        m.insert("id".into(), k.id.clone().into());
        m.insert("name".into(), k.path[k.path.len() - 1].clone().into());
        if k.path.len() > 1 {
            m.insert(
                "parent_id".into(),
                id_of(&k.path[..k.path.len() - 1]).into(),
            );
        }
        c.emit(DataType::Categories, Value::Object(m))?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Products

/// A picture reference for COMPO: the last segment of the URL's path, which must be a file name
/// COMPO allows. The file itself is not fetched.
pub fn picture_file_name(url: &str) -> Option<String> {
    let no_frag = url.split('#').next().unwrap_or("");
    let no_query = no_frag.split('?').next().unwrap_or("");
    let path = match no_query.split_once("://") {
        Some((_, rest)) => rest.split_once('/').map_or("", |(_, p)| p),
        None => no_query,
    };
    let name = path.rsplit('/').next().unwrap_or("");
    let ok_chars = (1..=128).contains(&name.len())
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-');
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    let ok_ext = ext.is_some_and(|e| {
        crate::compo::model::AttachedFolder::Pictures
            .extensions()
            .contains(&e.as_str())
    });
    (ok_chars && ok_ext).then(|| name.to_string())
}

fn picture(c: &mut Conv, url: &str, pointer: &str, r: Option<u64>, into: &mut Vec<String>) {
    match picture_file_name(url) {
        Some(name) => {
            if !into.contains(&name) {
                into.push(name);
            }
        }
        None => c.warning(
            r,
            pointer,
            codes::CONVERT_VALUE,
            format!("no COMPO picture file name ([A-Za-z0-9._-] with an image extension) can be taken from \"{url}\"; the picture is left out"),
        ),
    }
}

fn property(c: &mut Conv, p: &Node, r: Option<u64>) -> Option<Value> {
    let name = p.attr_value("name");
    let value = p.value();
    match (name, value) {
        (Some(n), Some(v)) => Some(json!({"name": n, "value": v})),
        _ => {
            c.warning(
                r,
                &p.pointer,
                codes::CONVERT_REQUIRED,
                "a parameter without a name or a value is left out (COMPO properties need both)",
            );
            None
        }
    }
}

fn barcodes_of(n: &Node) -> Vec<String> {
    n.child("barcodes")
        .map(|b| {
            b.children_named("barcode")
                .filter_map(Node::value)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

/// A Sellper product card: the card itself, then one variant per modification.
fn product(c: &mut Conv, n: &Node, rec: Option<u64>) -> Vec<Value> {
    c.unknown_children(
        n,
        rec,
        &[
            "category",
            "categoryId",
            "name",
            "article",
            "description",
            "short-description",
            "created",
            "parameters",
            "default-prices",
            "vendor",
            "modifications",
            "images",
            "barcodes",
            "extId",
        ],
    );
    let errors_before = c.report.errors.len();
    let id = c.required_id(n, n.attr_value("id"), rec, "product");
    let name = c.required_text(n, "name", rec, "product");
    let category = n
        .child("category")
        .and_then(|k| k.attr_value("id"))
        .or_else(|| n.text_of("categoryId"));
    if category.is_none() {
        c.required(
            rec,
            &n.pointer_of("category"),
            "the product has no category id (<category id=\"…\"> or <categoryId>)",
        );
    }
    let mut properties = Vec::new();
    if let Some(ps) = n.child("parameters") {
        c.unknown_children(ps, rec, &["parameter"]);
        for p in ps.children_named("parameter") {
            properties.extend(property(c, p, rec));
        }
    }
    let mut pictures = Vec::new();
    if let Some(images) = n.child("images") {
        c.unknown_children(images, rec, &["image"]);
        for img in images.children_named("image") {
            c.unknown_children(img, rec, &["original-url", "url", "description"]);
            match img.text_of("url").or_else(|| img.text_of("original-url")) {
                Some(url) => picture(c, url, &img.pointer, rec, &mut pictures),
                None => c.warning(
                    rec,
                    &img.pointer,
                    codes::CONVERT_REQUIRED,
                    "an image without a URL is left out",
                ),
            }
        }
    }
    let active = match (n.attr("hidden"), n.attr("deleted")) {
        (_, Some("1")) => Some(false),
        (Some("true" | "1"), _) => Some(false),
        (Some("false" | "0"), _) => Some(true),
        _ => None,
    };
    let article = n.text_of("article");
    let brand = n.text_of("vendor");
    let modifications: Vec<&Node> = n
        .child("modifications")
        .map(|m| m.children_named("modification").collect())
        .unwrap_or_default();
    let mut variants = Vec::new();
    for m in &modifications {
        c.unknown_children(m, rec, &["parameter", "barcodes"]);
        let item = m.attr_value("itemId");
        if item.is_none() {
            c.required(
                rec,
                &format!("{}/@itemId", m.pointer),
                "the modification has no itemId: stock and orders name variants by it (GET /admin/products/<id>.xml gives it)",
            );
        }
        let params: Vec<Value> = m
            .children_named("parameter")
            .filter_map(|p| property(c, p, rec))
            .collect();
        variants.push((item, params, barcodes_of(m)));
    }
    if c.report.errors.len() > errors_before {
        return Vec::new();
    }
    let (Some(id), Some(name), Some(category)) = (id, name, category) else {
        return Vec::new();
    };
    let base = |m: &mut Map<String, Value>, barcodes: Vec<String>| {
        m.insert("category_id".into(), category.into());
        put(m, "article", article);
        m.insert("unit".into(), UNIT.into());
        if !barcodes.is_empty() {
            m.insert("barcodes".into(), json!(barcodes));
        }
        put(m, "brand", brand);
    };
    let mut out = Vec::new();
    let mut card = Map::new();
    card.insert("id".into(), id.into());
    card.insert("name".into(), name.into());
    base(&mut card, barcodes_of(n));
    put(&mut card, "description", n.text_of("description"));
    if !pictures.is_empty() {
        card.insert("pictures".into(), json!(pictures));
    }
    if !properties.is_empty() {
        card.insert("properties".into(), json!(properties));
    }
    put(&mut card, "active", active);
    out.push(Value::Object(card));
    for (item, params, barcodes) in variants {
        let mut v = Map::new();
        v.insert("id".into(), item.unwrap_or_default().into());
        let label: Vec<String> = params
            .iter()
            .map(|p| {
                format!(
                    "{}: {}",
                    p["name"].as_str().unwrap_or(""),
                    p["value"].as_str().unwrap_or("")
                )
            })
            .collect();
        let vname = if label.is_empty() {
            name.to_string()
        } else {
            format!("{name} ({})", label.join(", "))
        };
        v.insert("name".into(), vname.into());
        v.insert("parent_id".into(), id.into());
        base(&mut v, barcodes);
        if !pictures.is_empty() {
            v.insert("pictures".into(), json!(pictures));
        }
        if !params.is_empty() {
            v.insert("properties".into(), json!(params));
        }
        put(&mut v, "active", active);
        out.push(Value::Object(v));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Clients

fn emit_client(c: &mut Conv, n: &Node, rec: Option<u64>) -> Result<(), Stop> {
    if let Some((contragent, customer)) = client(c, n, rec) {
        c.emit(DataType::Contragents, contragent)?;
        c.emit(DataType::Customers, customer)?;
    }
    Ok(())
}

/// A Sellper client is both the buyer (a COMPO contragent) and the person who orders (a COMPO
/// customer); both records get the client's id.
fn client(c: &mut Conv, n: &Node, rec: Option<u64>) -> Option<(Value, Value)> {
    c.unknown_children(
        n,
        rec,
        &[
            "type",
            "name",
            "created",
            "phone",
            "card",
            "discount",
            "start-sales-sum",
            "address",
            "email",
            "comment",
            "sex",
            "birthday",
            "inn",
            "kpp",
        ],
    );
    let errors_before = c.report.errors.len();
    let id = c.required_id(n, n.attr_value("id"), rec, "client");
    let name = c.required_text(n, "name", rec, "client");
    let kind = match n.text_of("type") {
        Some(t @ ("person" | "legal" | "entrepreneur")) => Some(t),
        Some(other) => {
            c.error(
                rec,
                &n.pointer_of("type"),
                codes::CONVERT_VALUE,
                format!("client type \"{other}\" has no COMPO contragent kind"),
            );
            None
        }
        None => {
            c.required(
                rec,
                &n.pointer_of("type"),
                "the client's <type> is missing: COMPO contragents need a kind (legal, entrepreneur, person)",
            );
            None
        }
    };
    let inn = n.text_of("inn");
    if inn.is_none() {
        c.required(
            rec,
            &n.pointer_of("inn"),
            "COMPO contragents need an INN; Sellper clients have no INN field",
        );
    }
    let email = n.text_of("email");
    if email.is_none() {
        c.required(
            rec,
            &n.pointer_of("email"),
            "COMPO customers need an e-mail address",
        );
    }
    if c.report.errors.len() > errors_before {
        return None;
    }
    let (id, name, kind, inn, email) = (id?, name?, kind?, inn?, email?);
    let mut ca = Map::new();
    ca.insert("id".into(), id.into());
    ca.insert("name".into(), name.into());
    ca.insert("kind".into(), kind.into());
    ca.insert("inn".into(), inn.into());
    put(&mut ca, "kpp", n.text_of("kpp"));
    if let Some(a) = n.text_of("address") {
        ca.insert("delivery_addresses".into(), json!([a]));
    }
    let mut cu = Map::new();
    cu.insert("id".into(), id.into());
    cu.insert("name".into(), name.into());
    cu.insert("email".into(), email.into());
    put(&mut cu, "phone", n.text_of("phone"));
    cu.insert("contragent_ids".into(), json!([id]));
    Some((Value::Object(ca), Value::Object(cu)))
}

// ---------------------------------------------------------------------------------------------
// Orders

/// Sellper order statuses (GET /admin/orders-statuses.xml) to COMPO's six.
pub fn status_to_compo(s: &str) -> Option<&'static str> {
    Some(match s {
        "new" => "new",
        "accepted" | "approved" => "accepted",
        "packing" | "packed" => "processing",
        "dispatched" | "delivering" => "shipped",
        "delivered" => "completed",
        "declined" => "canceled",
        _ => return None,
    })
}

/// The date part of a Sellper time (`2014-06-26 21:44:27+04`).
fn date_part(s: &str) -> Option<String> {
    let d = s.get(..10)?;
    chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()?;
    Some(d.to_string())
}

/// Whether a Sellper delivery type (a free name) is collection by the buyer.
pub fn is_pickup(delivery_type: &str) -> bool {
    delivery_type.to_lowercase().contains("самовывоз")
}

fn order(c: &mut Conv, n: &Node, rec: Option<u64>) -> Option<Value> {
    c.unknown_children(
        n,
        rec,
        &[
            "shop",
            "number",
            "client",
            "created",
            "status",
            "dispatch-required-time",
            "summa",
            "products-summa",
            "products-summa-with-discount",
            "delivery-type",
            "delivery-cost",
            "delivery-address",
            "delivery-begin-time",
            "delivery-end-time",
            "pay-time",
            "pay-type",
            "comment",
            "items",
            "reserved-percent",
            "reserved-all",
            "reserve",
            "expenditures",
        ],
    );
    let errors_before = c.report.errors.len();
    // Orders written by compo_to_sellper carry the portal's id as their number (ns="compo").
    let from_portal = n.attr("ns") == Some("compo") && n.attr_value("id").is_none();
    let id = if from_portal {
        n.text_of("number")
    } else {
        n.attr_value("id")
    };
    let id = c.required_id(n, id, rec, "order");
    let date = n.text_of("created").and_then(date_part);
    if date.is_none() {
        c.required(
            rec,
            &n.pointer_of("created"),
            "the order has no creation date (<created>YYYY-MM-DD …)",
        );
    }
    let status = match n.text_of("status") {
        Some(s) => {
            let m = status_to_compo(s);
            if m.is_none() {
                c.error(
                    rec,
                    &n.pointer_of("status"),
                    codes::CONVERT_VALUE,
                    format!("unknown Sellper order status \"{s}\""),
                );
            }
            m
        }
        None => {
            c.required(rec, &n.pointer_of("status"), "the order has no status");
            None
        }
    };
    let client = n.child("client").and_then(|k| {
        k.attr_value("id")
            .or_else(|| k.value().filter(|_| k.children.is_empty()))
    });
    if client.is_none() {
        c.required(
            rec,
            &n.pointer_of("client"),
            "the order has no client: COMPO orders need a contragent",
        );
    }
    let total = c.dec(n, "summa", rec, true);
    let mut items = Vec::new();
    let mut lines_sum = Dec::default();
    match n.child("items") {
        Some(list) => {
            c.unknown_children(list, rec, &["item"]);
            for it in list.children_named("item") {
                if let Some((v, amount)) = order_item(c, it, rec) {
                    lines_sum = lines_sum + amount;
                    items.push(v);
                }
            }
        }
        None => c.required(rec, &n.pointer_of("items"), "the order has no items"),
    }
    let delivery_cost = c.dec(n, "delivery-cost", rec, false);
    let delivery_type = n.text_of("delivery-type");
    let delivery_address = n.text_of("delivery-address");
    let delivery_date = n.text_of("delivery-end-time").and_then(date_part);
    let delivery =
        if delivery_type.is_some() || delivery_cost.is_some() || delivery_address.is_some() {
            match delivery_type {
                Some(t) => {
                    let mut d = Map::new();
                    d.insert(
                        "kind".into(),
                        (if is_pickup(t) { "pickup" } else { "delivery" }).into(),
                    );
                    put(&mut d, "address", delivery_address);
                    put(&mut d, "date", delivery_date);
                    put(&mut d, "cost", delivery_cost.map(Dec::to_json));
                    Some(Value::Object(d))
                }
                None => {
                    c.required(
                        rec,
                        &n.pointer_of("delivery-type"),
                        "delivery is given without a <delivery-type>: COMPO needs its kind",
                    );
                    None
                }
            }
        } else {
            None
        };
    if c.report.errors.len() > errors_before {
        return None;
    }
    let (id, date, status, client, total) = (id?, date?, status?, client?, total?);
    let expected = lines_sum + delivery_cost.unwrap_or_default();
    if (expected - total).0.abs() > 100 {
        c.warning(
            rec,
            &n.pointer_of("summa"),
            codes::SUM_MISMATCH,
            format!(
                "Sellper's summa {total} is not the items' amounts ({lines_sum}) plus the delivery cost ({}) = {expected}; the declared summa is kept",
                delivery_cost.unwrap_or_default()
            ),
        );
    }
    let mut m = Map::new();
    m.insert("id".into(), id.into());
    if !from_portal {
        put(&mut m, "number", n.text_of("number"));
    }
    m.insert("date".into(), date.into());
    m.insert("status".into(), status.into());
    m.insert("customer_id".into(), client.into());
    m.insert("contragent_id".into(), client.into());
    m.insert("currency".into(), CURRENCY.into());
    m.insert("total".into(), total.to_json());
    put(&mut m, "delivery", delivery);
    put(&mut m, "comment", n.text_of("comment"));
    m.insert("items".into(), Value::Array(items));
    Some(Value::Object(m))
}

/// A Sellper order line. Sellper's `<discount>` is an amount off the unit price (stock lists
/// say "price minus discount"; the order example's summa only adds up that way); COMPO's is a
/// percentage, so it is converted, and the amount is quantity × (price − discount).
fn order_item(c: &mut Conv, it: &Node, rec: Option<u64>) -> Option<(Value, Dec)> {
    c.unknown_children(
        it,
        rec,
        &[
            "product",
            "modification",
            "price",
            "discount",
            "quantity",
            "barcodes",
        ],
    );
    let id = it.attr_value("id");
    if id.is_none() {
        c.required(
            rec,
            &format!("{}/@id", it.pointer),
            "the order line has no item id: COMPO lines name the variant",
        );
    }
    let quantity = c.dec(it, "quantity", rec, true);
    if let Some(q) = quantity.filter(|q| q.is_negative() || q.is_zero()) {
        c.error(
            rec,
            &it.pointer_of("quantity"),
            codes::CONVERT_VALUE,
            format!("quantity {q}: COMPO order lines need more than 0"),
        );
    }
    let price = c.dec(it, "price", rec, true);
    let discount = c.dec(it, "discount", rec, false).unwrap_or_default();
    let (id, quantity, price) = (id?, quantity?, price?);
    let percent = if discount.is_zero() {
        None
    } else {
        match discount.percent_of(price) {
            Some(p) if !p.is_negative() && p <= Dec::from_int(100) => Some(p),
            _ => {
                c.error(
                    rec,
                    &it.pointer_of("discount"),
                    codes::CONVERT_VALUE,
                    format!("a discount of {discount} on a price of {price} is not a percentage from 0 to 100"),
                );
                return None;
            }
        }
    };
    let amount = (quantity * (price - discount)).round(2);
    let mut m = Map::new();
    m.insert("product_id".into(), id.into());
    m.insert("quantity".into(), quantity.to_json());
    m.insert("price".into(), price.to_json());
    put(&mut m, "discount", percent.map(Dec::to_json));
    m.insert("amount".into(), amount.to_json());
    Some((Value::Object(m), amount))
}

// ---------------------------------------------------------------------------------------------
// Event posts

fn event(c: &mut Conv, n: &Node) -> Result<(), Stop> {
    c.unknown_children(n, None, &["time", "name", "objectId", "info"]);
    let Some(name) = n.text_of("name") else {
        c.required(None, &n.pointer_of("name"), "the event has no name");
        return Ok(());
    };
    let object_id = n.text_of("objectId");
    let info = n.child("info");
    let object = |tag: &str| info.and_then(|i| i.child(tag));
    let rec = Some(0);
    match name {
        "product.create" | "product.update" => match object("product") {
            Some(p) => {
                for v in product(c, p, rec) {
                    c.emit(DataType::Products, v)?;
                }
            }
            None => fetch_hint(c, n, name, "products", object_id),
        },
        "client.create" | "client.update" => match object("client") {
            Some(p) => emit_client(c, p, rec)?,
            None => fetch_hint(c, n, name, "clients", object_id),
        },
        "order.create" | "order.update" => match object("order") {
            Some(o) => {
                if let Some(v) = order(c, o, rec) {
                    c.emit(DataType::Orders, v)?;
                }
            }
            None => fetch_hint(c, n, name, "orders", object_id),
        },
        "product.delete" | "client.delete" | "order.delete" => {
            let tag = &name[..name.len() - ".delete".len()];
            let id = object(tag).and_then(|o| o.attr_value("id")).or(object_id);
            let Some(id) = id else {
                c.required(
                    rec,
                    &n.pointer_of("objectId"),
                    format!("the {name} event names no {tag}"),
                );
                return Ok(());
            };
            let gone = json!({"id": id, "deleted": true});
            match tag {
                "product" => c.emit(DataType::Products, gone)?,
                "client" => {
                    c.emit(DataType::Contragents, gone.clone())?;
                    c.emit(DataType::Customers, gone)?;
                }
                _ => c.emit(DataType::Orders, gone)?,
            }
        }
        "store.update" => {
            let store = object("store");
            let id = store.and_then(|s| s.attr_value("id")).unwrap_or("N");
            let since = store
                .and_then(|s| s.attr_value("modified-time"))
                .unwrap_or("…");
            c.warning(
                rec,
                &n.pointer,
                codes::CONVERT_REQUIRED,
                format!("store.update carries no stock: fetch GET /admin/stores/{id}.xml?changed-from={since} and convert that"),
            );
        }
        other => c.warning(
            rec,
            &n.pointer_of("name"),
            codes::CONVERT_UNSUPPORTED,
            format!("event {other} has no COMPO counterpart and is not converted"),
        ),
    }
    Ok(())
}

fn fetch_hint(c: &mut Conv, n: &Node, event: &str, list: &str, object_id: Option<&str>) {
    let id = object_id.unwrap_or("<objectId>");
    c.warning(
        Some(0),
        &n.pointer,
        codes::CONVERT_REQUIRED,
        format!("{event} carries only the object's id: fetch GET /admin/{list}/{id}.xml and convert that"),
    );
}
