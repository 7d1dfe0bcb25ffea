//! Sellper orders and their lines, with the status mapping and the portal's own orders coming
//! back (`ns="compo"`).

use super::*;

pub(super) const KINDS: &[Kind] = &[
    Kind {
        root: "orders",
        array: false,
        how: How::List {
            outputs: &[DataType::Orders],
            record: "order",
            each: order_record,
        },
    },
    Kind {
        root: "order",
        array: false,
        how: How::Single(one_order),
    },
];

fn order_record(c: &mut Conv, n: &Node, rec: u64) -> Result<(), Stop> {
    if let Some(o) = order(c, n, Some(rec)) {
        c.emit(DataType::Orders, o)?;
    }
    Ok(())
}

fn one_order(c: &mut Conv, n: &Node) -> Result<(), Stop> {
    if let Some(o) = order(c, n, Some(0)) {
        c.emit(DataType::Orders, o)?;
    }
    Ok(())
}

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
pub(super) fn date_part(s: &str) -> Option<String> {
    let d = s.get(..10)?;
    chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()?;
    Some(d.to_string())
}

/// Whether a Sellper delivery type (a free name) is collection by the buyer.
pub fn is_pickup(delivery_type: &str) -> bool {
    delivery_type.to_lowercase().contains("самовывоз")
}

pub(super) fn order(c: &mut Conv, n: &Node, rec: Option<u64>) -> Option<Value> {
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
    // Orders written by compo_to_sellper carry the portal's id as their number (ns="compo"),
    // also once Sellper has given them an id of its own: they are the portal's orders.
    let from_portal = n.attr("ns") == Some("compo");
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
    let client_node = n.child("client");
    let client = client_node.and_then(|k| {
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
    // A client that stands for a portal contragent is that contragent; the portal user who
    // ordered is then unknown. A client born in Sellper is converted under its own id.
    match c.ctx.clients.compo_of(client, client_node) {
        Some(contragent) => {
            m.insert("contragent_id".into(), contragent.into());
        }
        None => {
            m.insert("customer_id".into(), client.into());
            m.insert("contragent_id".into(), client.into());
        }
    }
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
pub(super) fn order_item(c: &mut Conv, it: &Node, rec: Option<u64>) -> Option<(Value, Dec)> {
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
