//! Prodly → COMPO: saved answers of the orders GET become one COMPO `orders.json`.
//!
//! The seed shows the GET answers collapsed (`[{ }]`), so the accepted order shape is the
//! order-update request body (`number`, `state`, `vendorStatus`, `deliveryDate`, `pickup`,
//! `rows`, `client`) plus the order's `createdAt`, `currency` and `total` (docs/prodly.md).
//! Nothing COMPO requires is invented: an order lacking it, or whose sums disagree, is reported
//! and left out, so the file written is valid COMPO. Return requests (the returns GET) have no
//! COMPO counterpart and are reported as unsupported.

use super::fields::{f, fraction_digits, number, Src};
use super::inputs::Input;
use super::stream::{for_each_record, ReadEnd};
use super::{ConvertOutcome, ProdlyDefaults, ProdlyError, Reports};
use crate::compo::report::{codes, Issue};
use serde_json::{Map, Number, Value};
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

const E: &str = "a COMPO order";

pub(crate) fn run(
    found: &[Input],
    contracts: &[Input],
    out_dir: &Path,
    defaults: &ProdlyDefaults,
) -> Result<ConvertOutcome, ProdlyError> {
    let mut reports = Reports::new(
        found
            .iter()
            .chain(contracts)
            .map(|i| (i.display.clone(), None)),
    );
    let currencies = contract_currencies(contracts, found.len(), &mut reports)?;
    let fill = Fill {
        currencies: &currencies,
        default: defaults.currency.as_deref(),
    };
    // Answers hold at most 100 orders each, so the converted orders are kept in memory; a later
    // answer about the same order (a newer state) replaces the earlier one.
    let mut orders: Vec<Map<String, Value>> = Vec::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    for (file, input) in found.iter().enumerate() {
        let end = for_each_record(&input.path, |index, record| {
            let Value::Object(obj) = &record else {
                reports.error(
                    file,
                    Issue::new(
                        Some(index),
                        format!("/{index}"),
                        codes::CONVERT_VALUE,
                        "an order must be a JSON object",
                    ),
                );
                return Ok(());
            };
            let mut s = Src::new(obj, index);
            if is_return(obj) {
                reports.warning(
                    file,
                    Issue::new(
                        Some(index),
                        format!("/{index}"),
                        codes::CONVERT_UNSUPPORTED,
                        format!(
                            "return request {} has no COMPO counterpart (it is not a canceled \
                             order); it was not converted",
                            s.label()
                        ),
                    ),
                );
                return Ok(());
            }
            let order = convert(&mut s, &fill);
            for issue in s.issues.drain(..) {
                reports.error(file, issue);
            }
            for issue in s.warnings.drain(..) {
                reports.warning(file, issue);
            }
            if let Some(order) = order {
                let id = order["id"].as_str().unwrap_or_default().to_string();
                match by_id.get(&id) {
                    Some(&at) => {
                        reports.warning(
                            file,
                            Issue::new(
                                Some(index),
                                format!("/{index}/number"),
                                codes::KEY_DUPLICATE,
                                format!(
                                    "order \"{id}\" was already read; this later copy replaces it"
                                ),
                            ),
                        );
                        orders[at] = order;
                    }
                    None => {
                        by_id.insert(id, orders.len());
                        orders.push(order);
                    }
                }
            }
            Ok(())
        })?;
        match end {
            ReadEnd::Done(n) => reports.set_records(file, n),
            ReadEnd::Bad { records, issue } => {
                reports.set_records(file, records);
                reports.error(file, issue);
            }
        }
    }
    let mut written = Vec::new();
    if !orders.is_empty() {
        written.push(write_orders(out_dir, &orders)?);
    }
    Ok(ConvertOutcome {
        written,
        reports: reports.finish(),
    })
}

/// Where the currency of an order without one comes from.
struct Fill<'a> {
    /// Contragent → the currency of its default contract (the one `is_default`, else the only
    /// one).
    currencies: &'a HashMap<String, String>,
    default: Option<&'a str>,
}

/// Reads COMPO contracts files: each contragent's default contract currency. Their reports
/// follow the orders' (`first` is the index of the first contracts file).
fn contract_currencies(
    contracts: &[Input],
    first: usize,
    reports: &mut Reports,
) -> Result<HashMap<String, String>, ProdlyError> {
    // contragent → (explicit default?, contracts seen, currency)
    let mut by: HashMap<String, (bool, u32, String)> = HashMap::new();
    for (i, input) in contracts.iter().enumerate() {
        let file = first + i;
        let end = for_each_record(&input.path, |_, record| {
            let get = |k: &str| record.get(k).and_then(Value::as_str).map(str::to_string);
            let (Some(ca), Some(cur)) = (get("contragent_id"), get("currency")) else {
                return Ok(());
            };
            let explicit = record.get("is_default") == Some(&Value::Bool(true));
            let e = by.entry(ca).or_insert((false, 0, cur.clone()));
            e.1 += 1;
            if explicit && !e.0 {
                *e = (true, e.1, cur);
            }
            Ok(())
        })?;
        match end {
            ReadEnd::Done(n) => reports.set_records(file, n),
            ReadEnd::Bad { records, issue } => {
                reports.set_records(file, records);
                reports.error(file, issue);
            }
        }
    }
    Ok(by
        .into_iter()
        .filter(|(_, (explicit, n, _))| *explicit || *n == 1)
        .map(|(ca, (_, _, cur))| (ca, cur))
        .collect())
}

/// A return request carries `products` and no order rows.
fn is_return(obj: &Map<String, Value>) -> bool {
    obj.get("products").is_some_and(Value::is_array) && !obj.contains_key("rows")
}

/// Prodly `state` (+ `vendorStatus`) → COMPO status; the inverse of the COMPO → Prodly table.
pub(crate) fn state_to_compo(state: &str, vendor_status: Option<&str>) -> Option<&'static str> {
    if vendor_status == Some("declined") {
        return Some("canceled");
    }
    Some(match state {
        "new" => "new",
        "sent" if vendor_status == Some("accepted") => "accepted",
        "sent" => "new",
        "build" => "processing",
        "delivery" => "shipped",
        "done" => "completed",
        "canceled" => "canceled",
        _ => return None,
    })
}

fn rfc3339(s: &mut Src<'_>, path: &[&str], v: &str) -> bool {
    let ok = chrono::DateTime::parse_from_rfc3339(v).is_ok();
    if !ok {
        s.problem(
            path,
            codes::DATE_INVALID,
            format!("\"{v}\" is not an RFC 3339 date-time with an offset"),
        );
    }
    ok
}

fn precision(s: &mut Src<'_>, path: &[&str], n: &Number, max: usize, what: &str) {
    if fraction_digits(n) > max {
        s.problem(
            path,
            codes::NUMBER_PRECISION,
            format!("{what} {n} has more than {max} fractional digits"),
        );
    }
}

fn convert(s: &mut Src<'_>, fill: &Fill<'_>) -> Option<Map<String, Value>> {
    let id = s.req_code(&["number"], E, "id");
    let created = s.req_str(&["createdAt"], E, "date");
    let date = created
        .filter(|c| rfc3339(s, &["createdAt"], c))
        // The order's calendar date where it was placed (the offset's local date).
        .map(|c| c[..10].to_string());
    let vendor_status = s.str(&["vendorStatus"]);
    if let Some(v) = vendor_status.filter(|v| !["accepted", "declined"].contains(v)) {
        s.value_problem(
            &["vendorStatus"],
            format!("vendorStatus \"{v}\" is neither accepted nor declined"),
        );
    }
    let status = s.req_str(&["state"], E, "status").and_then(|st| {
        let mapped = state_to_compo(st, vendor_status);
        if mapped.is_none() {
            s.value_problem(&["state"], format!("\"{st}\" is not a Prodly order state"));
        }
        mapped
    });
    let contragent = s.req_code(&["client", "code"], E, "contragent_id");
    let currency = match s.get(&["currency"]) {
        Some(_) => s.str(&["currency"]).map(str::to_string),
        // An order without currency takes its client's contract currency, else the configured
        // default: the order is real, and COMPO requires a currency.
        None => {
            let from_contract = contragent.as_ref().and_then(|c| fill.currencies.get(c));
            let (cur, source) = match (from_contract, fill.default) {
                (Some(c), _) => (Some(c.clone()), "its client's default contract"),
                (None, Some(d)) => (Some(d.to_string()), "prodly.default_currency"),
                (None, None) => (None, ""),
            };
            match cur {
                Some(c) => {
                    s.warn(
                        &["currency"],
                        codes::CONVERT_REQUIRED,
                        format!(
                            "order {} has no currency; {c} was taken from {source}",
                            s.label()
                        ),
                    );
                    Some(c)
                }
                None => {
                    s.missing(&["currency"], E, "currency");
                    None
                }
            }
        }
    };
    let currency = currency.as_deref();
    if let Some(c) = currency {
        if c.len() != 3 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
            s.value_problem(
                &["currency"],
                format!("currency \"{c}\" is not an ISO 4217 code"),
            );
        }
    }
    let total = s.req_num(&["total"], E, "total");
    if let Some(t) = &total {
        precision(s, &["total"], t, 2, "total");
    }

    let mut items = Vec::new();
    let mut sum = 0.0;
    match s.array(&["rows"]) {
        None if s.get(&["rows"]).is_none() => s.missing(&["rows"], E, "items"),
        None => {}
        Some(rows) if rows.is_empty() => {
            s.value_problem(&["rows"], "an order must have at least one row".into())
        }
        Some(rows) => {
            for (j, row) in rows.iter().enumerate() {
                let j = j.to_string();
                if !row.is_object() {
                    s.wrong_type(&["rows", &j], "an object");
                    continue;
                }
                if let Some(item) = convert_row(s, &j) {
                    sum += item.get("amount").and_then(Value::as_f64).unwrap_or(0.0);
                    items.push(Value::Object(item));
                }
            }
        }
    }
    // The rows are what was ordered: a total that disagrees with them is reported and the
    // order keeps the rows' sum (COMPO refuses a total that its items do not add up to).
    let mut total = total;
    if let Some(t) = &total {
        if s.ok() && (f(t) - sum).abs() > 0.01 {
            let rows_total = number(sum);
            s.warn(
                &["total"],
                codes::SUM_MISMATCH,
                format!(
                    "total {t} differs from the sum of the rows' summa {sum:.2}; the order was \
                     converted with total {rows_total} (check it in Prodly)"
                ),
            );
            total = rows_total.as_number().cloned();
        }
    }

    let pickup = s.bool(&["pickup"]);
    let delivery_date = s.str(&["deliveryDate"]);
    if let Some(d) = delivery_date {
        if d.len() != 10 || chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_err() {
            s.problem(
                &["deliveryDate"],
                codes::DATE_INVALID,
                format!("deliveryDate \"{d}\" is not a YYYY-MM-DD date"),
            );
        }
    }
    let address = s.str(&["client", "logisticAddress"]);
    let message = s.str(&["vendorMessage"]);
    let comment = s.str(&["comment"]);
    let updated = s
        .str(&["updatedAt"])
        .filter(|u| rfc3339(s, &["updatedAt"], u));
    if !s.ok() {
        return None;
    }

    let mut o = Map::new();
    let id = id?;
    o.insert("id".into(), id.clone().into());
    o.insert("number".into(), id.into());
    o.insert("date".into(), date?.into());
    o.insert("status".into(), status?.into());
    if let Some(m) = message {
        o.insert("status_comment".into(), m.into());
    }
    o.insert("contragent_id".into(), contragent?.into());
    o.insert("currency".into(), currency?.into());
    o.insert("total".into(), Value::Number(total?));
    // Without `pickup` the delivery kind is unknown, and COMPO requires it in a delivery block.
    if let Some(p) = pickup {
        let mut d = Map::new();
        d.insert("kind".into(), if p { "pickup" } else { "delivery" }.into());
        if let Some(a) = address.filter(|_| !p) {
            d.insert("address".into(), a.into());
        }
        if let Some(dd) = delivery_date {
            d.insert("date".into(), dd.into());
        }
        o.insert("delivery".into(), Value::Object(d));
    }
    if let Some(c) = comment {
        o.insert("comment".into(), c.into());
    }
    o.insert("items".into(), items.into());
    if let Some(u) = updated {
        o.insert("updated_at".into(), u.into());
    }
    Some(o)
}

fn convert_row(s: &mut Src<'_>, j: &str) -> Option<Map<String, Value>> {
    let before = s.issues.len();
    let product = s.req_code(&["rows", j, "productCode"], E, "items[].product_id");
    let quantity = s.req_num(&["rows", j, "quantity"], E, "items[].quantity");
    let price = s.req_num(&["rows", j, "price"], E, "items[].price");
    let discount = s.num(&["rows", j, "discount"]);
    let amount = s.req_num(&["rows", j, "summa"], E, "items[].amount");
    if let Some(q) = &quantity {
        if f(q) <= 0.0 {
            s.value_problem(
                &["rows", j, "quantity"],
                format!("quantity {q} must be above 0"),
            );
        }
    }
    if let Some(p) = &price {
        precision(s, &["rows", j, "price"], p, 4, "price");
    }
    if let Some(a) = &amount {
        precision(s, &["rows", j, "summa"], a, 2, "summa");
    }
    if let Some(d) = &discount {
        if !(0.0..=100.0).contains(&f(d)) {
            s.value_problem(
                &["rows", j, "discount"],
                format!("discount {d} is not a percentage from 0 to 100"),
            );
        }
    }
    if s.issues.len() != before {
        return None;
    }
    let (q, p, a) = (quantity?, price?, amount?);
    let expect = f(&q) * f(&p) * (1.0 - discount.as_ref().map_or(0.0, f) / 100.0);
    if (expect - f(&a)).abs() > 0.01 {
        s.problem(
            &["rows", j, "summa"],
            codes::SUM_MISMATCH,
            format!("summa {a} differs from quantity × price × (1 − discount) = {expect:.2}"),
        );
        return None;
    }
    let mut item = Map::new();
    item.insert("product_id".into(), product?.into());
    item.insert("quantity".into(), Value::Number(q));
    item.insert("price".into(), Value::Number(p));
    if let Some(d) = discount {
        item.insert("discount".into(), Value::Number(d));
    }
    item.insert("amount".into(), Value::Number(a));
    Some(item)
}

/// Writes `orders.json` atomically, one order per line so that diffs stay readable.
fn write_orders(
    out_dir: &Path,
    orders: &[Map<String, Value>],
) -> Result<std::path::PathBuf, ProdlyError> {
    let path = out_dir.join("orders.json");
    let part = out_dir.join(".orders.json.part");
    let werr = |source: std::io::Error| ProdlyError::Write {
        path: part.clone(),
        source,
    };
    let mut w = BufWriter::new(File::create(&part).map_err(werr)?);
    w.write_all(b"[\n").map_err(werr)?;
    for (i, o) in orders.iter().enumerate() {
        if i > 0 {
            w.write_all(b",\n").map_err(werr)?;
        }
        serde_json::to_writer(&mut w, o).map_err(|e| werr(e.into()))?;
    }
    w.write_all(b"\n]\n").map_err(werr)?;
    w.into_inner()
        .map_err(|e| werr(e.into_error()))?
        .sync_all()
        .map_err(werr)?;
    std::fs::rename(&part, &path).map_err(|source| ProdlyError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::prodly::to_prodly::status_to_prodly;

    #[test]
    fn states_round_trip_through_both_tables() {
        for st in [
            "new",
            "accepted",
            "processing",
            "shipped",
            "completed",
            "canceled",
        ] {
            let (state, vs) = status_to_prodly(st).unwrap();
            assert_eq!(state_to_compo(state, vs), Some(st));
        }
        assert_eq!(state_to_compo("build", Some("declined")), Some("canceled"));
        assert_eq!(state_to_compo("lost", None), None);
    }

    #[test]
    fn a_row_with_a_wrong_summa_is_a_sum_mismatch() {
        let v = serde_json::json!({"rows": [{"productCode": "P1", "quantity": 2, "price": 10.5,
                                             "summa": 20}]});
        let mut s = Src::new(v.as_object().unwrap(), 0);
        assert!(convert_row(&mut s, "0").is_none());
        assert_eq!(s.issues[0].code, codes::SUM_MISMATCH);
        assert_eq!(s.issues[0].pointer, "/0/rows/0/summa");
    }
}
