//! Event posts of Sellper's subscriptions: the object they carry, a deletion, or what to fetch.

use super::*;

pub(super) const KINDS: &[Kind] = &[Kind {
    root: "event",
    array: false,
    how: How::Single(event),
}];

pub(super) fn event(c: &mut Conv, n: &Node) -> Result<(), Stop> {
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

pub(super) fn fetch_hint(c: &mut Conv, n: &Node, event: &str, list: &str, object_id: Option<&str>) {
    let id = object_id.unwrap_or("<objectId>");
    c.warning(
        Some(0),
        &n.pointer,
        codes::CONVERT_REQUIRED,
        format!("{event} carries only the object's id: fetch GET /admin/{list}/{id}.xml and convert that"),
    );
}
