//! Stores and stock: the stores list, one store, and the stock lists of one store
//! (`stores/N.xml`) and of several (`stores_items.xml`).

use super::*;

pub(super) const KINDS: &[Kind] = &[
    Kind {
        root: "store",
        array: true,
        how: How::Stream(stock_of_one_store),
    },
    Kind {
        root: "stores",
        array: false,
        how: How::List {
            outputs: &[DataType::Warehouses],
            record: "store",
            each: store_record,
        },
    },
    Kind {
        root: "items",
        array: false,
        how: How::Stream(stock_over_stores),
    },
    Kind {
        root: "store",
        array: false,
        how: How::Single(one_store),
    },
];

fn store_record(c: &mut Conv, n: &Node, rec: u64) -> Result<(), Stop> {
    if let Some(w) = warehouse(c, n, Some(rec)) {
        c.emit(DataType::Warehouses, w)?;
    }
    Ok(())
}

fn one_store(c: &mut Conv, n: &Node) -> Result<(), Stop> {
    if let Some(w) = warehouse(c, n, Some(0)) {
        c.emit(DataType::Warehouses, w)?;
    }
    Ok(())
}

/// `stores_items.xml`: stock over the stores asked for, in the `sellper-all` warehouse.
fn stock_over_stores(c: &mut Conv, cur: &mut XmlCursor, root: Start) -> Result<(), Stop> {
    c.snapshot = true;
    c.out.ensure(DataType::Remains, true)?;
    cur.descend(&root);
    stream(c, cur, "item", "stock", |c, n, rec| {
        stock_item(c, n, rec, ALL_STORES_ID)
    })?;
    finish_stock(c, true)
}

pub(super) fn warehouse(c: &mut Conv, n: &Node, rec: Option<u64>) -> Option<Value> {
    c.unknown_children(n, rec, &["name", "store"]);
    let id = c.required_id(n, n.attr_value("id"), rec, "store");
    let name = c.required_text(n, "name", rec, "store");
    Some(json!({"id": id?, "name": name?}))
}

/// `GET /admin/stores/N.xml`: stock of one store. The answer does not name its store, so the
/// id comes from the root's `id` attribute if any, else from the digits ending the file name.
pub(super) fn stock_of_one_store(
    c: &mut Conv,
    cur: &mut XmlCursor,
    root: Start,
) -> Result<(), Stop> {
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
        // Nothing of it can be converted; the rest of the document is still read, so that a
        // well-formed answer is not called malformed.
        return Ok(cur.skip(&root)?);
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

pub(super) fn stock_item(c: &mut Conv, n: &Node, rec: u64, warehouse_id: &str) -> Result<(), Stop> {
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
pub(super) fn check_base_currency(c: &mut Conv, n: &Node, r: Option<u64>) {
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
pub(super) fn finish_stock(c: &mut Conv, snapshot: bool) -> Result<(), Stop> {
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
