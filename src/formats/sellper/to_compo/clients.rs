//! Sellper clients: a COMPO contragent and the customer who orders for it.

use super::*;

pub(super) const KINDS: &[Kind] = &[
    Kind {
        root: "clients",
        array: false,
        how: How::List {
            outputs: &[DataType::Contragents, DataType::Customers],
            record: "client",
            each: client_record,
        },
    },
    Kind {
        root: "client",
        array: false,
        how: How::Single(one_client),
    },
];

fn client_record(c: &mut Conv, n: &Node, rec: u64) -> Result<(), Stop> {
    emit_client(c, n, Some(rec))
}

fn one_client(c: &mut Conv, n: &Node) -> Result<(), Stop> {
    emit_client(c, n, Some(0))
}

pub(super) fn emit_client(c: &mut Conv, n: &Node, rec: Option<u64>) -> Result<(), Stop> {
    if let Some((contragent, customer)) = client(c, n, rec) {
        c.emit(DataType::Contragents, contragent)?;
        if let Some(customer) = customer {
            c.emit(DataType::Customers, customer)?;
        }
    }
    Ok(())
}

/// A Sellper client is both the buyer (a COMPO contragent) and the person who orders (a COMPO
/// customer); both records get the client's id. A client that stands for a portal contragent
/// (configured table, or the `COMPO <id>` note) updates that contragent; its portal users are
/// the portal's, so no customer is written for it.
pub(super) fn client(c: &mut Conv, n: &Node, rec: Option<u64>) -> Option<(Value, Option<Value>)> {
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
    let portal = c.ctx.clients.compo_of(id, Some(n));
    let mut ca = Map::new();
    ca.insert("id".into(), portal.as_deref().unwrap_or(id).into());
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
    Some((
        Value::Object(ca),
        portal.is_none().then_some(Value::Object(cu)),
    ))
}
