//! Product cards (lists and single answers): the card, one variant per modification, pictures,
//! parameters, the brand and the barcodes COMPO takes.

use super::*;

pub(super) const KINDS: &[Kind] = &[
    Kind {
        root: "products",
        array: false,
        how: How::List {
            outputs: &[DataType::Products],
            record: "product",
            each: product_record,
        },
    },
    Kind {
        root: "product",
        array: false,
        how: How::Single(one_product),
    },
];

fn product_record(c: &mut Conv, n: &Node, rec: u64) -> Result<(), Stop> {
    for p in product(c, n, Some(rec)) {
        c.emit(DataType::Products, p)?;
    }
    Ok(())
}

fn one_product(c: &mut Conv, n: &Node) -> Result<(), Stop> {
    product_record(c, n, 0)
}

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

pub(super) fn picture(
    c: &mut Conv,
    url: &str,
    pointer: &str,
    r: Option<u64>,
    into: &mut Vec<String>,
) {
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

pub(super) fn property(c: &mut Conv, p: &Node, r: Option<u64>) -> Option<Value> {
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

/// The barcodes of a card or modification that COMPO takes. A barcode COMPO would refuse (a
/// wrong check digit, the seed has several, or not 8, 12, 13 or 14 digits) is left out of the
/// record with a warning, so that the file written validates.
pub(super) fn barcodes_of(c: &mut Conv, n: &Node, rec: Option<u64>) -> Vec<String> {
    let Some(list) = n.child("barcodes") else {
        return Vec::new();
    };
    let nodes: Vec<&Node> = list.children_named("barcode").collect();
    valid_barcodes(c, &nodes, rec)
}

pub(super) fn valid_barcodes(c: &mut Conv, nodes: &[&Node], rec: Option<u64>) -> Vec<String> {
    let mut out = Vec::new();
    for b in nodes {
        let Some(code) = b.value() else { continue };
        if crate::compo::ident::barcode_valid(code) {
            if !out.iter().any(|o| o == code) {
                out.push(code.to_string());
            }
            continue;
        }
        let shaped =
            matches!(code.len(), 8 | 12 | 13 | 14) && code.bytes().all(|b| b.is_ascii_digit());
        let (code_id, why) = if shaped {
            let expected = crate::compo::ident::gs1_check_digit(&code[..code.len() - 1])
                .map(|d| format!(" (expected {d} at the end)"))
                .unwrap_or_default();
            (
                codes::BARCODE_CHECKSUM,
                format!("has a wrong check digit{expected}"),
            )
        } else {
            (
                codes::BARCODE_CHECKSUM,
                "is not an EAN-8, UPC-A, EAN-13 or GTIN-14 (8, 12, 13 or 14 digits)".to_string(),
            )
        };
        c.warning(
            rec,
            &b.pointer,
            code_id,
            format!("barcode \"{code}\" {why}: it was left out of the record, which the portal would refuse with it (correct it in Sellper)"),
        );
    }
    out
}

/// The parameter that holds a card's brand. `<vendor>` is the supplier the goods are bought
/// from (`<vendor id="22">ИП "Иванов И.И."</vendor>`), not the brand.
pub const BRAND_PARAMETER: &str = "Торговая марка";

/// A Sellper product card: the card itself, then one variant per modification.
pub(super) fn product(c: &mut Conv, n: &Node, rec: Option<u64>) -> Vec<Value> {
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
    let brand = n
        .child("parameters")
        .into_iter()
        .flat_map(|ps| ps.children_named("parameter"))
        .find(|p| p.attr_value("name") == Some(BRAND_PARAMETER))
        .and_then(Node::value);
    let modifications: Vec<&Node> = n
        .child("modifications")
        .map(|m| m.children_named("modification").collect())
        .unwrap_or_default();
    let mut variants = Vec::new();
    let mut derived: Option<(String, String)> = None;
    for m in &modifications {
        c.unknown_children(m, rec, &["parameter", "barcodes"]);
        let params: Vec<Value> = m
            .children_named("parameter")
            .filter_map(|p| property(c, p, rec))
            .collect();
        // The products list answer has no itemId: an answer configured to give item ids is
        // asked, else the id is derived from the card and the parameters (docs/sellper.md).
        let item = match (m.attr_value("itemId"), id) {
            (Some(item), _) => item.to_string(),
            (None, Some(card)) => {
                let key = params_key(params.iter().map(|p| {
                    (
                        p["name"].as_str().unwrap_or(""),
                        p["value"].as_str().unwrap_or(""),
                    )
                }));
                match c.ctx.item_ids.get(card, &key) {
                    Some(item) => item.to_string(),
                    None => {
                        let item = derived_id(card, &key);
                        derived.get_or_insert((format!("{}/@itemId", m.pointer), item.clone()));
                        item
                    }
                }
            }
            (None, None) => String::new(),
        };
        let barcodes = barcodes_of(c, m, rec);
        variants.push((item, params, barcodes));
    }
    if let (Some((pointer, first)), Some(card)) = (&derived, id) {
        c.warning(
            rec,
            pointer,
            codes::CONVERT_REQUIRED,
            format!(
                "modifications of card {card} have no itemId (the products list answer leaves it out); they got ids derived from the card and their parameters ({first}, …). Stock lists and orders name variants by itemId only, so they will not link to these: configure item_ids_from with a stock or ICML answer, or convert GET /admin/products/{card}.xml"
            ),
        );
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
    let card_barcodes = barcodes_of(c, n, rec);
    base(&mut card, card_barcodes);
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
        v.insert("id".into(), item.into());
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
