//! Amounts that must add up: order lines (quantity × price less the discount), order totals
//! (lines plus delivery), reconciliation acts' closing balances.

use serde_json::{Map, Value};

use super::{Check, Cx, Reads};
use crate::compo::messages::msg;
use crate::compo::model::DataType;
use crate::compo::report::codes;

/// Amounts may differ from what their parts add up to by a cent; the epsilon absorbs binary
/// floating-point noise so that a difference of exactly 0.01 passes.
const SUM_TOLERANCE: f64 = 0.01 + 1e-9;

pub(crate) struct OrderSums;

impl Check for OrderSums {
    fn reads(&self, t: DataType) -> Reads {
        match t {
            DataType::Orders => Reads::Members(vec!["items", "total", "delivery"]),
            _ => Reads::Nothing,
        }
    }

    fn check(&self, _: DataType, obj: &Map<String, Value>, cx: &mut Cx) {
        order_sums(cx, obj);
    }
}

pub(crate) struct ActBalances;

impl Check for ActBalances {
    fn reads(&self, t: DataType) -> Reads {
        match t {
            DataType::Acts => Reads::Members(vec!["opening_balance", "closing_balance", "lines"]),
            _ => Reads::Nothing,
        }
    }

    fn check(&self, _: DataType, obj: &Map<String, Value>, cx: &mut Cx) {
        act_sums(cx, obj);
    }
}

/// Rounds to cents for display; `+ 0.0` turns a negative zero into a plain one.
fn money(x: f64) -> String {
    format!("{}", (x * 100.0).round() / 100.0 + 0.0)
}

fn order_sums(cx: &mut Cx, obj: &Map<String, Value>) {
    let items = obj.get("items").and_then(Value::as_array);
    let base = cx.root().field("items");
    if let Some(items) = items {
        for (j, item) in items.iter().enumerate() {
            let Some(item) = item.as_object() else {
                continue;
            };
            let num = |k: &str| item.get(k).and_then(Value::as_f64);
            let (Some(q), Some(p), Some(amount)) = (num("quantity"), num("price"), num("amount"))
            else {
                continue;
            };
            let discount = match item.get("discount") {
                None | Some(Value::Null) => 0.0,
                Some(Value::Number(n)) => n.as_f64().unwrap_or(0.0),
                // A discount of the wrong type makes the expectation unknowable.
                Some(_) => continue,
            };
            let expected = q * p * (1.0 - discount / 100.0);
            if (amount - expected).abs() > SUM_TOLERANCE {
                let loc = base.item(j).field("amount");
                let message = if discount == 0.0 {
                    msg!(
                        cx.lang,
                        "sum-mismatch-amount",
                        field = &loc.path,
                        amount = amount.to_string(),
                        quantity = q.to_string(),
                        price = p.to_string(),
                        expected = money(expected)
                    )
                } else {
                    msg!(
                        cx.lang,
                        "sum-mismatch-amount-discount",
                        field = &loc.path,
                        amount = amount.to_string(),
                        quantity = q.to_string(),
                        price = p.to_string(),
                        discount = discount.to_string(),
                        expected = money(expected)
                    )
                };
                cx.push(&loc, codes::SUM_MISMATCH, message);
            }
        }
    }
    let Some(total) = obj.get("total").and_then(Value::as_f64) else {
        return;
    };
    let Some(items) = items else { return };
    let amounts: Option<Vec<f64>> = items
        .iter()
        .map(|i| i.get("amount").and_then(Value::as_f64))
        .collect();
    let Some(amounts) = amounts else { return };
    let cost = match obj.get("delivery") {
        None | Some(Value::Null) => 0.0,
        Some(Value::Object(d)) => match d.get("cost") {
            None | Some(Value::Null) => 0.0,
            Some(Value::Number(n)) => n.as_f64().unwrap_or(0.0),
            Some(_) => return,
        },
        Some(_) => return,
    };
    let sum: f64 = amounts.iter().sum();
    let expected = sum + cost;
    if (total - expected).abs() > SUM_TOLERANCE {
        let message = if cost == 0.0 {
            msg!(
                cx.lang,
                "sum-mismatch-total",
                total = total.to_string(),
                count = amounts.len(),
                sum = money(sum)
            )
        } else {
            msg!(
                cx.lang,
                "sum-mismatch-total-delivery",
                total = total.to_string(),
                count = amounts.len(),
                sum = money(sum),
                cost = cost.to_string(),
                expected = money(expected)
            )
        };
        cx.push(&cx.root().field("total"), codes::SUM_MISMATCH, message);
    }
}

fn act_sums(cx: &mut Cx, obj: &Map<String, Value>) {
    let num = |k: &str| obj.get(k).and_then(Value::as_f64);
    let (Some(opening), Some(closing)) = (num("opening_balance"), num("closing_balance")) else {
        return;
    };
    let (mut debit, mut credit) = (0.0, 0.0);
    match obj.get("lines") {
        None | Some(Value::Null) => {}
        Some(Value::Array(lines)) => {
            for line in lines {
                let Some(line) = line.as_object() else { return };
                for (key, acc) in [("debit", &mut debit), ("credit", &mut credit)] {
                    match line.get(key) {
                        None | Some(Value::Null) => {}
                        Some(Value::Number(n)) => *acc += n.as_f64().unwrap_or(0.0),
                        Some(_) => return,
                    }
                }
            }
        }
        Some(_) => return,
    }
    let expected = opening + debit - credit;
    if (closing - expected).abs() > SUM_TOLERANCE {
        cx.push(
            &cx.root().field("closing_balance"),
            codes::SUM_MISMATCH,
            msg!(
                cx.lang,
                "sum-mismatch-balance",
                closing = closing.to_string(),
                opening = opening.to_string(),
                debit = money(debit),
                credit = money(credit),
                expected = money(expected)
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{found, run};
    use super::*;
    use serde_json::json;

    fn order(items: Value, total: Value, delivery: Value) -> Value {
        json!({"id": "O1", "date": "2026-11-22", "items": items, "total": total,
            "delivery": delivery})
    }

    #[test]
    fn order_item_amounts() {
        let items = json!([
            {"quantity": 3, "price": 35.5, "amount": 106.5},
            {"quantity": 3, "price": 35.5, "discount": 10, "amount": 95.85},
            {"quantity": 3, "price": 35.5, "discount": 10, "amount": 106.5},
            {"quantity": 2, "price": 0.3, "amount": 0.61},
            {"quantity": 2, "price": 0.3, "amount": 0.62},
            {"quantity": "2", "price": 1, "amount": 100},
            {"quantity": 2, "price": 1, "discount": "5", "amount": 100},
            {"quantity": 1, "price": 10, "discount": null, "amount": 10}
        ]);
        let i = run(
            DataType::Orders,
            order(items, Value::Null, Value::Null),
            false,
        );
        assert_eq!(
            found(&i),
            [
                ("/7/items/2/amount", codes::SUM_MISMATCH),
                ("/7/items/4/amount", codes::SUM_MISMATCH)
            ]
        );
        assert!(i[0].message.contains("106.5"), "{}", i[0].message);
        assert!(i[0].message.contains("95.85"), "{}", i[0].message);
        assert!(i[0].message.starts_with("items[2].amount"));
    }

    #[test]
    fn order_totals() {
        let items = json!([{"quantity": 1, "price": 100, "amount": 100},
            {"quantity": 1, "price": 0.1, "amount": 0.1}, {"quantity": 1, "price": 0.2, "amount": 0.2}]);
        let ok = order(
            items.clone(),
            json!(150.3),
            json!({"kind": "delivery", "cost": 50}),
        );
        assert!(run(DataType::Orders, ok, false).is_empty());
        let ok = order(items.clone(), json!(100.3), json!({"kind": "pickup"}));
        assert!(run(DataType::Orders, ok, false).is_empty());
        let ok = order(items.clone(), json!(100.31), Value::Null);
        assert!(run(DataType::Orders, ok, false).is_empty());
        let bad = order(
            items.clone(),
            json!(100.3),
            json!({"kind": "delivery", "cost": 50}),
        );
        let i = run(DataType::Orders, bad, false);
        assert_eq!(found(&i), [("/7/total", codes::SUM_MISMATCH)]);
        assert!(i[0].message.contains("total is 100.3"), "{}", i[0].message);
        assert!(i[0].message.contains("= 150.3"), "{}", i[0].message);
        let bad = order(items.clone(), json!(100.32), Value::Null);
        assert_eq!(
            found(&run(DataType::Orders, bad, false)),
            [("/7/total", codes::SUM_MISMATCH)]
        );
        // An amount of the wrong type: the total cannot be judged.
        let items2 = json!([{"quantity": 1, "price": 100, "amount": "100"}]);
        assert!(run(
            DataType::Orders,
            order(items2, json!(5), Value::Null),
            false
        )
        .is_empty());
        let odd = order(items, json!(5), json!({"cost": "50"}));
        assert!(run(DataType::Orders, odd, false).is_empty());
    }

    #[test]
    fn act_balances() {
        let act = |closing: Value, lines: Value| {
            json!({"id": "A1", "period_from": "2026-01-01", "period_to": "2026-03-31",
                "opening_balance": 100, "closing_balance": closing, "lines": lines})
        };
        let lines = json!([{"date": "2026-01-10", "document": "x", "debit": 600},
            {"date": "2026-01-11", "document": "y", "credit": 150.25}, {"date": "2026-01-12", "document": "z"}]);
        assert!(run(DataType::Acts, act(json!(549.75), lines.clone()), false).is_empty());
        let i = run(DataType::Acts, act(json!(550), lines.clone()), false);
        assert_eq!(found(&i), [("/7/closing_balance", codes::SUM_MISMATCH)]);
        assert!(i[0].message.contains("549.75"), "{}", i[0].message);
        assert!(run(DataType::Acts, act(json!(100), Value::Null), false).is_empty());
        assert_eq!(
            found(&run(DataType::Acts, act(json!(101), json!([])), false)),
            [("/7/closing_balance", codes::SUM_MISMATCH)]
        );
        let odd = json!([{"date": "2026-01-10", "document": "x", "debit": "600"}]);
        assert!(run(DataType::Acts, act(json!(1), odd), false).is_empty());
    }
}
