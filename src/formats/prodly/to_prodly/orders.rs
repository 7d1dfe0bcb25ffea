//! `orders.post`: the portal's order states for Prodly, and the status table.

use super::*;

pub(super) const BUILDER: Builder = Builder {
    writes: &[Endpoint::Orders],
    build: |run, _| run.read_orders(),
};

impl Run<'_> {
    pub(super) fn read_orders(&mut self) -> Result<(), ProdlyError> {
        self.read_type(DataType::Orders, |run, part, s| run.order(part.file, s))
    }

    pub(super) fn order(&mut self, file: usize, mut s: Src<'_>) -> Result<(), ProdlyError> {
        const E: &str = "orders.post";
        let number = s.req_str(&["id"], E, "number");
        let (state, vendor_status) = match s.req_str(&["status"], E, "state") {
            None => (None, None),
            Some(st) => match status_to_prodly(st) {
                Some(m) => (Some(m.0), m.1),
                None => {
                    s.value_problem(
                        &["status"],
                        format!("status \"{st}\" is not a COMPO order status"),
                    );
                    (None, None)
                }
            },
        };
        // Prodly requires deliveryDate and pickup; COMPO's delivery block and its date are
        // optional. An acknowledgement must not wait on them: the order's own date (the
        // earliest it can go) and delivery to the client stand in, each reported.
        let order_date = s.str(&["date"]);
        let has_delivery = s.get(&["delivery"]).is_some();
        let date = match s.str(&["delivery", "date"]) {
            Some(d) => Some(d),
            None if s.get(&["delivery", "date"]).is_some() => None,
            None => {
                let d = s.req_str(
                    &["date"],
                    E,
                    "deliveryDate (delivery.date or the order's date)",
                );
                if let (Some(d), true) = (d, has_delivery) {
                    s.warn(
                        &["delivery", "date"],
                        codes::CONVERT_REQUIRED,
                        format!(
                            "orders.post requires deliveryDate; order {} has no delivery.date, \
                             so its date {d} was sent",
                            s.label()
                        ),
                    );
                }
                d
            }
        };
        if let Some(d) = date {
            if chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_err() || d.len() != 10 {
                s.value_problem(
                    &["delivery", "date"],
                    format!("deliveryDate must be a date (YYYY-MM-DD), not \"{d}\""),
                );
            }
        }
        let pickup = match s.str(&["delivery", "kind"]) {
            Some("pickup") => Some(true),
            Some("delivery") => Some(false),
            Some(k) => {
                s.value_problem(
                    &["delivery", "kind"],
                    format!("delivery kind \"{k}\" is neither pickup nor delivery"),
                );
                None
            }
            None if s.get(&["delivery", "kind"]).is_some() => None,
            None => {
                let (path, what): (&[&str], _) = if has_delivery {
                    (&["delivery", "kind"], "delivery.kind")
                } else {
                    (&["delivery"], "delivery block")
                };
                let day = order_date.unwrap_or("its date");
                s.warn(
                    path,
                    codes::CONVERT_REQUIRED,
                    format!(
                        "orders.post requires pickup and deliveryDate; order {} has no {what}, \
                         so it was sent as a delivery (pickup false) on {day}",
                        s.label()
                    ),
                );
                Some(false)
            }
        };
        let message = match s.str(&["status_comment"]) {
            Some(m) if !m.trim().is_empty() => Some(m.to_string()),
            _ if state == Some("canceled") => {
                // The seed: a cancellation by the supplier says why in vendorMessage. COMPO's
                // status_comment is optional, so a fixed reason stands in.
                s.warn(
                    &["status_comment"],
                    codes::CONVERT_REQUIRED,
                    format!(
                        "a canceled order needs vendorMessage (the reason); order {} has no \
                         status_comment, so \"{CANCELED_BY_SUPPLIER}\" was sent",
                        s.label()
                    ),
                );
                Some(CANCELED_BY_SUPPLIER.to_string())
            }
            _ => None,
        };
        let mut rows = Vec::new();
        if let Some(items) = s.array(&["items"]) {
            for (i, item) in items.iter().enumerate() {
                let Some(item) = item.as_object() else {
                    s.wrong_type(&["items", &i.to_string()], "an object");
                    continue;
                };
                let mut row = Map::new();
                for (from, to) in [
                    ("product_id", "productCode"),
                    ("quantity", "quantity"),
                    ("price", "price"),
                    ("discount", "discount"),
                    ("amount", "summa"),
                ] {
                    if let Some(v) = item.get(from).filter(|v| !v.is_null()) {
                        row.insert(to.into(), v.clone());
                    }
                }
                rows.push(Value::Object(row));
            }
        }
        if s.ok() {
            let mut line = Map::new();
            line.insert("number".into(), number.into());
            line.insert("state".into(), state.into());
            line.insert("vendor".into(), self.opts.vendor.clone().into());
            line.insert("branch".into(), self.opts.branch.clone().into());
            line.insert("deliveryDate".into(), date.into());
            line.insert("pickup".into(), pickup.into());
            line.insert("rows".into(), rows.into());
            push_opt(&mut line, "vendorStatus", vendor_status);
            push_opt(&mut line, "vendorMessage", message);
            self.write(Endpoint::Orders, Value::Object(line))?;
        }
        self.settle(file, &mut s);
        Ok(())
    }
}

/// The `vendorMessage` of a cancellation whose COMPO order gives no reason.
const CANCELED_BY_SUPPLIER: &str = "Отменён поставщиком";

/// COMPO order status → Prodly `state` and `vendorStatus` (table in docs/prodly.md).
pub(crate) fn status_to_prodly(status: &str) -> Option<(&'static str, Option<&'static str>)> {
    Some(match status {
        // The ERP has the order but has not decided: "sent to the supplier".
        "new" => ("sent", None),
        "accepted" => ("sent", Some("accepted")),
        "processing" => ("build", Some("accepted")),
        "shipped" => ("delivery", Some("accepted")),
        "completed" => ("done", Some("accepted")),
        "canceled" => ("canceled", Some("declined")),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_compo_status_maps_to_a_prodly_state() {
        const STATES: [&str; 6] = ["new", "sent", "build", "delivery", "done", "canceled"];
        for st in [
            "new",
            "accepted",
            "processing",
            "shipped",
            "completed",
            "canceled",
        ] {
            let (state, vs) = status_to_prodly(st).unwrap();
            assert!(STATES.contains(&state), "{st}");
            assert!(vs.map_or(true, |v| v == "accepted" || v == "declined"));
        }
        assert_eq!(status_to_prodly("canceled").unwrap().1, Some("declined"));
        assert_eq!(status_to_prodly("shipped").unwrap().0, "delivery");
        assert!(status_to_prodly("lost").is_none());
    }
}
