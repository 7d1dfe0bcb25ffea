//! COMPO orders and contragents from the portal (`out/`) to Sellper request bodies: one
//! `order-<id>.xml` per order (POST /admin/orders.xml) and one `client-<id>.xml` per contragent
//! (POST /admin/clients.xml).

use super::client_ids::ClientIds;
use super::output::Dec;
use super::to_compo::CURRENCY;
use super::{GoodsSource, SellperError};
use crate::compo::model::{DataFileName, DataType, Side};
use crate::compo::report::{codes, pointer_token, Issue, Report};
use quick_xml::escape::escape;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// COMPO order statuses to Sellper's (GET /admin/orders-statuses.xml).
pub fn status_to_sellper(s: &str) -> Option<&'static str> {
    Some(match s {
        "new" => "new",
        "accepted" => "accepted",
        "processing" => "packing",
        "shipped" => "dispatched",
        "completed" => "delivered",
        "canceled" => "declined",
        _ => return None,
    })
}

/// A file-name-safe form of an id: bytes outside `[A-Za-z0-9._-]` become `%XX`, so different
/// ids never share a file.
pub fn file_safe(id: &str) -> String {
    let mut s = String::new();
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || (b == b'.' && !s.is_empty()) {
            s.push(b as char);
        } else {
            let _ = write!(s, "%{b:02X}");
        }
    }
    s
}

struct Input {
    path: PathBuf,
    name: String,
    data_type: Option<DataType>,
}

/// What a customer record adds to a Sellper client: its contact details.
#[derive(Clone, Default)]
struct Contact {
    email: Option<String>,
    phone: Option<String>,
}

/// How orders find their Sellper client and what they ask of stock.
struct OrderContext<'a> {
    clients: &'a ClientIds,
    /// Contragent id → INN, from the contragents files of the same call.
    inns: HashMap<String, String>,
    goods_source: Option<GoodsSource>,
}

pub(crate) fn convert(
    inputs: &[PathBuf],
    out_dir: &Path,
    clients: &ClientIds,
    goods_source: Option<GoodsSource>,
) -> Result<(Vec<PathBuf>, Vec<Report>), SellperError> {
    let inputs: Vec<Input> = inputs
        .iter()
        .map(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let data_type = DataFileName::parse(&name, Side::Inbound)
                .or_else(|| DataFileName::parse(&name, Side::Outbound))
                .map(|d| d.data_type);
            Input {
                path: p.clone(),
                name,
                data_type,
            }
        })
        .collect();
    let mut written = Vec::new();
    let mut reports = Vec::new();
    // A contragent's INN finds its Sellper client; its file's problems are reported below.
    let mut inns = HashMap::new();
    for input in inputs
        .iter()
        .filter(|i| i.data_type == Some(DataType::Contragents))
    {
        let mut scratch = Report::new(input.name.clone(), None);
        for r in read_records(input, &mut scratch)?.unwrap_or_default() {
            if let (Some(id), Some(inn)) = (str_field(&r, "id"), str_field(&r, "inn")) {
                inns.insert(id.to_string(), inn.to_string());
            }
        }
    }
    let octx = OrderContext {
        clients,
        inns,
        goods_source,
    };
    // Customers first: a client's e-mail and phone live on the customers of its contragent.
    let mut contacts: HashMap<String, Contact> = HashMap::new();
    for input in inputs
        .iter()
        .filter(|i| i.data_type == Some(DataType::Customers))
    {
        let mut report = Report::new(input.name.clone(), Some("customers".into()));
        if let Some(records) = read_records(input, &mut report)? {
            report.records = Some(records.len() as u64);
            for r in &records {
                let contact = Contact {
                    email: str_field(r, "email").map(String::from),
                    phone: str_field(r, "phone").map(String::from),
                };
                for ca in r
                    .get("contragent_ids")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    contacts.entry(ca.to_string()).or_insert(contact.clone());
                }
            }
        }
        finish(report, &mut reports);
    }
    for input in &inputs {
        let mut report = Report::new(
            input.name.clone(),
            input.data_type.map(|t| t.name().to_string()),
        );
        match input.data_type {
            Some(DataType::Customers) => continue,
            Some(t @ (DataType::Orders | DataType::Contragents)) => {
                if let Some(records) = read_records(input, &mut report)? {
                    report.records = Some(records.len() as u64);
                    for (i, r) in records.iter().enumerate() {
                        let rec = i as u64;
                        if r.get("deleted") == Some(&Value::Bool(true)) {
                            report.warnings.push(Issue::new(
                                Some(rec),
                                format!("/{i}/deleted"),
                                codes::CONVERT_UNSUPPORTED,
                                "a deletion is not sent to Sellper: delete it there by hand",
                            ));
                            continue;
                        }
                        let made = if t == DataType::Orders {
                            order_xml(r, rec, &octx, &mut report)
                                .map(|(id, x)| (format!("order-{}.xml", file_safe(&id)), x))
                        } else {
                            let contact = str_field(r, "id")
                                .and_then(|id| contacts.get(id))
                                .cloned()
                                .unwrap_or_default();
                            client_xml(r, rec, &contact, &mut report)
                                .map(|(id, x)| (format!("client-{}.xml", file_safe(&id)), x))
                        };
                        if let Some((name, xml)) = made {
                            let target = out_dir.join(&name);
                            write_atomic(&target, xml.as_bytes()).map_err(|e| {
                                SellperError::Write {
                                    path: target.clone(),
                                    source: e,
                                }
                            })?;
                            written.push(target);
                        }
                    }
                }
            }
            _ => report.errors.push(Issue::file(
                codes::CONVERT_UNSUPPORTED,
                "only orders, contragents and customers files go to Sellper",
            )),
        }
        finish(report, &mut reports);
    }
    written.sort();
    Ok((written, reports))
}

fn finish(mut report: Report, reports: &mut Vec<Report>) {
    report.settle();
    if !report.errors.is_empty() || !report.warnings.is_empty() {
        reports.push(report);
    }
}

fn write_atomic(target: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = target.with_file_name(format!(".{name}.part"));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, target)
}

/// Reads a COMPO data file: UTF-8 (a byte-order mark is dropped), a JSON array.
fn read_records(input: &Input, report: &mut Report) -> Result<Option<Vec<Value>>, SellperError> {
    let bytes = std::fs::read(&input.path).map_err(|e| SellperError::Read {
        path: input.path.clone(),
        source: e,
    })?;
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(&bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        report
            .errors
            .push(Issue::file(codes::FILE_EMPTY, "the file is empty"));
        return Ok(None);
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            report.errors.push(Issue::file(
                codes::ENCODING_INVALID,
                format!("not UTF-8: {e}"),
            ));
            return Ok(None);
        }
    };
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(a)) => Ok(Some(a)),
        Ok(_) => {
            report.errors.push(Issue::file(
                codes::JSON_NOT_ARRAY,
                "a COMPO data file is a JSON array of records",
            ));
            Ok(None)
        }
        Err(e) => {
            report
                .errors
                .push(Issue::file(codes::JSON_SYNTAX, e.to_string()));
            Ok(None)
        }
    }
}

fn str_field<'a>(r: &'a Value, key: &str) -> Option<&'a str> {
    r.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn required<'a>(
    r: &'a Value,
    key: &str,
    rec: u64,
    base: &str,
    report: &mut Report,
) -> Option<&'a str> {
    let v = str_field(r, key);
    if v.is_none() {
        report.errors.push(Issue::new(
            Some(rec),
            format!("{base}/{}", pointer_token(key)),
            codes::CONVERT_REQUIRED,
            format!("{key} is missing: Sellper needs it"),
        ));
    }
    v
}

fn number(
    r: &Value,
    key: &str,
    rec: u64,
    base: &str,
    need: bool,
    report: &mut Report,
) -> Option<Dec> {
    match r.get(key) {
        None | Some(Value::Null) => {
            if need {
                report.errors.push(Issue::new(
                    Some(rec),
                    format!("{base}/{key}"),
                    codes::CONVERT_REQUIRED,
                    format!("{key} is missing"),
                ));
            }
            None
        }
        Some(v) => {
            let d = Dec::from_json(v);
            if d.is_none() {
                report.errors.push(Issue::new(
                    Some(rec),
                    format!("{base}/{key}"),
                    codes::CONVERT_VALUE,
                    format!("{key} is not a number"),
                ));
            }
            d
        }
    }
}

fn element(out: &mut String, indent: &str, name: &str, value: &str) {
    let _ = writeln!(out, "{indent}<{name}>{}</{name}>", escape(value));
}

/// The body of POST /admin/orders.xml for a portal order. Sellper gives orders its own ids, so
/// the portal's id travels as the order number, marked by `ns="compo"`; `created` and `summa`
/// are the fields Sellper shows for an order and make the file a complete record of it.
fn order_xml(
    r: &Value,
    rec: u64,
    octx: &OrderContext<'_>,
    report: &mut Report,
) -> Option<(String, String)> {
    let base = format!("/{rec}");
    let errors_before = report.errors.len();
    let id = required(r, "id", rec, &base, report);
    let contragent = required(r, "contragent_id", rec, &base, report);
    let date = required(r, "date", rec, &base, report);
    let status = str_field(r, "status").unwrap_or("new");
    let sellper_status = status_to_sellper(status);
    if sellper_status.is_none() {
        report.errors.push(Issue::new(
            Some(rec),
            format!("{base}/status"),
            codes::CONVERT_VALUE,
            format!("status \"{status}\" is not a COMPO order status"),
        ));
    }
    if let Some(cur) = str_field(r, "currency").filter(|c| *c != CURRENCY) {
        report.errors.push(Issue::new(
            Some(rec),
            format!("{base}/currency"),
            codes::CONVERT_VALUE,
            format!("the order is in {cur}; Sellper orders are in {CURRENCY}"),
        ));
    }
    let total = number(r, "total", rec, &base, false, report);
    if let (Some(id), Some(number)) = (id, str_field(r, "number")) {
        if number != id {
            report.warnings.push(Issue::new(
                Some(rec),
                format!("{base}/number"),
                codes::CONVERT_VALUE,
                format!("Sellper has one order number, which carries the portal's id {id}; the number {number} is not sent"),
            ));
        }
    }
    if let (Some(cu), Some(ca)) = (str_field(r, "customer_id"), contragent) {
        if cu != ca {
            report.warnings.push(Issue::new(
                Some(rec),
                format!("{base}/customer_id"),
                codes::CONVERT_VALUE,
                format!("Sellper orders name one client; the contragent {ca} is sent, the customer {cu} is not"),
            ));
        }
    }
    let mut lines = String::new();
    match r.get("items").and_then(Value::as_array) {
        Some(items) if !items.is_empty() => {
            for (j, it) in items.iter().enumerate() {
                let ib = format!("{base}/items/{j}");
                let pid = required(it, "product_id", rec, &ib, report);
                let q = number(it, "quantity", rec, &ib, true, report);
                let p = number(it, "price", rec, &ib, true, report);
                let d = number(it, "discount", rec, &ib, false, report);
                let (Some(pid), Some(q), Some(p)) = (pid, q, p) else {
                    continue;
                };
                // Sellper's discount is an amount off the unit price.
                let off = d.map(|d| p.percent(d));
                let _ = writeln!(lines, "    <item id=\"{}\">", escape(pid));
                element(&mut lines, "      ", "price", &p.to_string());
                element(
                    &mut lines,
                    "      ",
                    "discount",
                    &off.unwrap_or_default().to_string(),
                );
                element(&mut lines, "      ", "quantity", &q.to_string());
                lines.push_str("    </item>\n");
            }
        }
        _ => report.errors.push(Issue::new(
            Some(rec),
            format!("{base}/items"),
            codes::CONVERT_REQUIRED,
            "the order has no items",
        )),
    }
    let delivery = r.get("delivery").filter(|d| d.is_object());
    let delivery_cost =
        delivery.and_then(|d| number(d, "cost", rec, &format!("{base}/delivery"), false, report));
    if report.errors.len() > errors_before {
        return None;
    }
    let (id, contragent, date, sellper_status) = (id?, contragent?, date?, sellper_status?);
    // Sellper resolves its own client ids only: the table, the note or the INN says which
    // client a contragent is; else the id goes as it is (right for a client born in Sellper).
    let inn = octx.inns.get(contragent).map(String::as_str);
    let client = match octx.clients.sellper_of(contragent, inn) {
        Some(c) => c,
        None => {
            report.warnings.push(Issue::new(
                Some(rec),
                format!("{base}/contragent_id"),
                codes::CONVERT_VALUE,
                format!("no Sellper client is known for contragent {contragent} ([sellper.clients], or a clients answer in sellper.clients_from with its INN or a \"COMPO {contragent}\" note): it was sent as <client>{contragent}</client>, which Sellper resolves only if it is its own client id"),
            ));
            contragent
        }
    };
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    match octx.goods_source {
        Some(g) => {
            let _ = writeln!(
                x,
                "<order ns=\"compo\" goods-source-behaviour=\"{}\">",
                g.as_str()
            );
        }
        None => x.push_str("<order ns=\"compo\">\n"),
    }
    element(&mut x, "  ", "number", id);
    element(&mut x, "  ", "client", client);
    element(&mut x, "  ", "created", &format!("{date} 00:00:00"));
    element(&mut x, "  ", "status", sellper_status);
    if let Some(t) = total {
        element(&mut x, "  ", "summa", &t.to_string());
    }
    if let Some(d) = delivery {
        let kind = str_field(d, "kind").unwrap_or("delivery");
        element(
            &mut x,
            "  ",
            "delivery-type",
            if kind == "pickup" {
                "Самовывоз"
            } else {
                "Доставка"
            },
        );
        if let Some(cost) = delivery_cost {
            element(&mut x, "  ", "delivery-cost", &cost.to_string());
        }
        if let Some(a) = str_field(d, "address") {
            element(&mut x, "  ", "delivery-address", a);
        }
        if let Some(date) = str_field(d, "date") {
            element(
                &mut x,
                "  ",
                "delivery-end-time",
                &format!("{date} 00:00:00"),
            );
        }
    }
    if let Some(c) = str_field(r, "comment") {
        element(&mut x, "  ", "comment", c);
    }
    x.push_str("  <items type=\"array\">\n");
    x.push_str(&lines);
    x.push_str("  </items>\n</order>\n");
    Some((id.to_string(), x))
}

/// The body of POST /admin/clients.xml for a contragent registered on the portal. Sellper
/// clients have no INN or KPP fields: they go into the comment so that nothing is lost.
fn client_xml(
    r: &Value,
    rec: u64,
    contact: &Contact,
    report: &mut Report,
) -> Option<(String, String)> {
    let base = format!("/{rec}");
    let id = required(r, "id", rec, &base, report);
    let name = required(r, "name", rec, &base, report);
    let (id, name) = (id?, name?);
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<client>\n");
    element(&mut x, "  ", "name", name);
    if let Some(p) = &contact.phone {
        element(&mut x, "  ", "phone", p);
    }
    let address = str_field(r, "legal_address").or_else(|| {
        r.get("delivery_addresses")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .and_then(Value::as_str)
    });
    if let Some(a) = address {
        element(&mut x, "  ", "address", a);
    }
    if let Some(e) = &contact.email {
        element(&mut x, "  ", "email", e);
    }
    let mut notes = Vec::new();
    if let Some(full) = str_field(r, "full_name") {
        notes.push(full.to_string());
    }
    for (key, label) in [("inn", "ИНН"), ("kpp", "КПП"), ("ogrn", "ОГРН")] {
        if let Some(v) = str_field(r, key) {
            notes.push(format!("{label} {v}"));
        }
    }
    notes.push(format!("COMPO {id}"));
    element(&mut x, "  ", "comment", &notes.join("; "));
    x.push_str("</client>\n");
    Some((id.to_string(), x))
}
