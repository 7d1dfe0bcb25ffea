//! Sellper XML documents (API answers and event posts) to COMPO data files: the state of one
//! conversion and the table that sends each document kind (by its root element) to the file
//! that converts it (`stock`, `icml`, `categories`, `products`, `clients`, `orders`, `events`).
//!
//! Each input is streamed: list documents are read one record element at a time and their
//! records written out at once, so only categories (which need the whole list to build the tree),
//! the set of model-card ids of an ICML catalog and the ids written by one document (to report a
//! repeated one) are held in memory, beside the configured look-ups ([`Context`]).

mod categories;
mod clients;
mod events;
mod icml;
mod orders;
mod out_of_scope;
mod products;
mod stock;

pub use orders::{is_pickup, status_to_compo};
pub use out_of_scope::OUT_OF_SCOPE;
pub use products::picture_file_name;

use clients::emit_client;
use orders::order;
use products::{picture, product, property, valid_barcodes, BRAND_PARAMETER};
use stock::finish_stock;

use super::client_ids::ClientIds;
use super::item_ids::{derived_id, params_key, ItemIds};
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

/// What every input of one call shares: the installation's lookups.
pub(crate) struct Context {
    pub item_ids: ItemIds,
    pub clients: ClientIds,
}

/// The state of converting one input.
struct Conv<'a> {
    ctx: &'a Context,
    report: Report,
    out: Outputs,
    /// Whether this document is a full list (`<type>.json`) or a delta.
    snapshot: bool,
    stem: String,
    prices_written: bool,
    all_stores_used: bool,
    /// The record element being converted: where a problem found on its output is reported.
    current: Option<(u64, String)>,
    /// Ids written per output file, to report a Sellper answer that repeats one.
    ids: HashMap<(DataType, bool), HashMap<String, Option<u64>>>,
}

impl Conv<'_> {
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
        if let Some(id) = record.get("id").and_then(Value::as_str) {
            let rec = self.current.as_ref().map(|(r, _)| *r);
            let seen = self.ids.entry((t, snapshot)).or_default();
            if let Some(first) = seen.get(id) {
                let (r, pointer) = self.current.clone().unwrap_or_default();
                let first = first.map_or(String::new(), |f| format!(" (record {f})"));
                self.error(
                    Some(r),
                    &format!("{pointer}/@id"),
                    codes::KEY_DUPLICATE,
                    format!(
                        "Sellper gives two {t} records the id {id}: the first{first} and this one; \
                         the portal keeps ids unique, so nothing of this document was written \
                         (correct the ids in Sellper)"
                    ),
                );
                return Ok(());
            }
            seen.insert(id.to_string(), rec);
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
    ctx: &Context,
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
        ctx,
        report: Report::new(file_name.clone(), None),
        out: Outputs::new(out_dir, &stem),
        snapshot: false,
        stem,
        prices_written: false,
        all_stores_used: false,
        current: None,
        ids: HashMap::new(),
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

/// How the documents with one root element are converted.
enum How {
    /// A list of records: a full list (snapshot) of `outputs`, whose `record` elements are read
    /// one at a time and handed to `each`.
    List {
        outputs: &'static [DataType],
        record: &'static str,
        each: fn(&mut Conv, &Node, u64) -> Result<(), Stop>,
    },
    /// A document that streams itself from its root (stock lists, ICML, category lists).
    Stream(fn(&mut Conv, &mut XmlCursor, Start) -> Result<(), Stop>),
    /// One object, small enough to read whole.
    Single(fn(&mut Conv, &Node) -> Result<(), Stop>),
}

/// One document kind: its root element and how it converts.
struct Kind {
    root: &'static str,
    /// Only when the root carries `type="array"` (`<store type="array">` is a stock list,
    /// `<store id>` one store). Kinds with it come before the same root without it.
    array: bool,
    how: How,
}

/// Every document kind the bridge converts, one table per file: a new kind is a new file and
/// its line here.
const KINDS: &[&[Kind]] = &[
    stock::KINDS,
    icml::KINDS,
    categories::KINDS,
    products::KINDS,
    clients::KINDS,
    orders::KINDS,
    events::KINDS,
];

fn kind_of(root: &str, is_array: bool) -> Option<&'static Kind> {
    KINDS
        .iter()
        .flat_map(|k| k.iter())
        .find(|k| k.root == root && (is_array || !k.array))
}

fn convert_document(c: &mut Conv, cur: &mut XmlCursor) -> Result<(), Stop> {
    let root = cur.root()?;
    let is_array = root.attrs.iter().any(|(k, v)| k == "type" && v == "array");
    match kind_of(&root.name, is_array).map(|k| &k.how) {
        Some(How::List {
            outputs,
            record,
            each,
        }) => {
            c.snapshot = true;
            for t in *outputs {
                c.out.ensure(*t, true)?;
            }
            let what = root.name.clone();
            cur.descend(&root);
            stream(c, cur, record, &what, *each)
        }
        Some(How::Stream(f)) => f(c, cur, root),
        Some(How::Single(f)) => {
            let ptr = format!("/{}", root.name);
            let node = cur.read_node(root, ptr)?;
            c.report.records = Some(1);
            c.current = Some((0, node.pointer.clone()));
            f(c, &node)
        }
        None => {
            let ptr = format!("/{}", root.name);
            let node = cur.read_node(root, ptr)?;
            not_converted(c, &node);
            Ok(())
        }
    }
}

/// A root the bridge does not convert: out of scope (a warning, with the reason) or unknown.
fn not_converted(c: &mut Conv, n: &Node) {
    c.report.records = None;
    let other = n.name.as_str();
    match OUT_OF_SCOPE.iter().find(|(r, _)| *r == other) {
        Some((_, why)) => c.warning(
            None,
            &n.pointer,
            codes::CONVERT_UNSUPPORTED,
            format!("a Sellper <{other}> document is not converted: {why}"),
        ),
        None => c.error(
            None,
            &n.pointer,
            codes::CONVERT_UNSUPPORTED,
            format!("<{other}> is not a Sellper document this bridge knows"),
        ),
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
            c.current = Some((rec, node.pointer.clone()));
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
