//! ICML catalogs (`icml.xml`, `<yml_catalog>`): categories, cards and variants, prices and stock
//! over all stores.

use super::*;

pub(super) const KINDS: &[Kind] = &[Kind {
    root: "yml_catalog",
    array: false,
    how: How::Stream(icml),
}];

pub(super) fn icml(c: &mut Conv, cur: &mut XmlCursor, root: Start) -> Result<(), Stop> {
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

pub(super) fn icml_category(c: &mut Conv, n: &Node, rec: u64) -> Option<Value> {
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

pub(super) fn offer(
    c: &mut Conv,
    n: &Node,
    rec: u64,
    models: &mut HashSet<String>,
) -> Result<(), Stop> {
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
    let barcode_nodes: Vec<&Node> = n.children_named("barcode").collect();
    let barcodes = valid_barcodes(c, &barcode_nodes, r);
    // ICML follows Yandex.Market, where <vendor> is the brand; a trademark parameter wins.
    let brand = n
        .children_named("param")
        .find(|p| p.attr_value("name") == Some(BRAND_PARAMETER))
        .and_then(Node::value)
        .or_else(|| n.text_of("vendor"));
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
