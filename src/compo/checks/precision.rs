//! Money and prices written with more fractional digits than the protocol allows (2 for
//! money, 4 for prices).

use serde_json::{Map, Number, Value};

use super::{visit, Check, Cx, Loc, Reads};
use crate::compo::messages::msg;
use crate::compo::model::{DataType, Step};
use crate::compo::report::codes;

pub(crate) struct Precision;

impl Check for Precision {
    fn reads(&self, t: DataType) -> Reads {
        Reads::first_members(PRECISION_FIELDS.iter().filter(|p| p.0 == t).map(|p| p.1))
    }

    fn check(&self, t: DataType, obj: &Map<String, Value>, cx: &mut Cx) {
        precision(cx, t, obj);
    }
}

fn precision(cx: &mut Cx, t: DataType, record: &Map<String, Value>) {
    let mut at = Vec::new();
    for (ty, path, max, what) in PRECISION_FIELDS {
        if *ty != t {
            continue;
        }
        visit(record, path, &mut at, &mut |segs, v| {
            let Value::Number(n) = v else { return };
            let digits = fractional_digits(n);
            if digits > *max {
                let loc = Loc::at(cx.index, segs);
                let message = msg!(
                    cx.lang,
                    "number-precision",
                    field = &loc.path,
                    value = n.to_string(),
                    digits = digits,
                    kind = *what,
                    max = *max
                );
                cx.push(&loc, codes::NUMBER_PRECISION, message);
            }
        });
    }
}

/// Fields whose numbers have a limited number of fractional digits, and how many.
static PRECISION_FIELDS: &[(DataType, &[Step], u32, &str)] = {
    use DataType::*;
    use Step::{Each, Field};
    // The kind of amount, as the catalogue's `number-precision` selects on it.
    const MONEY: &str = "money";
    const PRICE: &str = "price";
    &[
        (Orders, &[Field("total")], 2, MONEY),
        (Orders, &[Field("items"), Each, Field("amount")], 2, MONEY),
        (Orders, &[Field("items"), Each, Field("price")], 4, PRICE),
        (Orders, &[Field("delivery"), Field("cost")], 2, MONEY),
        (Finances, &[Field("balance")], 2, MONEY),
        (Finances, &[Field("credit_limit")], 2, MONEY),
        (Finances, &[Field("overdue_debt")], 2, MONEY),
        (
            Finances,
            &[Field("documents"), Each, Field("amount")],
            2,
            MONEY,
        ),
        (
            Finances,
            &[Field("documents"), Each, Field("debt")],
            2,
            MONEY,
        ),
        (Acts, &[Field("opening_balance")], 2, MONEY),
        (Acts, &[Field("closing_balance")], 2, MONEY),
        (Acts, &[Field("lines"), Each, Field("debit")], 2, MONEY),
        (Acts, &[Field("lines"), Each, Field("credit")], 2, MONEY),
        (Contracts, &[Field("credit_limit")], 2, MONEY),
        (Prices, &[Field("price")], 4, PRICE),
    ]
};

/// Digits after the decimal point in the shortest decimal that reads back as the same f64
/// (what the exporter most plausibly wrote). Integers have none.
pub fn fractional_digits(n: &Number) -> u32 {
    if n.is_i64() || n.is_u64() {
        return 0;
    }
    let Some(f) = n.as_f64() else { return 0 };
    // `{:e}` is the shortest round-trip form in scientific notation: "1.2345e2", "1e-7".
    let s = format!("{f:e}");
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let mantissa_digits = mantissa.split_once('.').map_or(0, |(_, frac)| frac.len()) as i64;
    (mantissa_digits - exp).max(0) as u32
}

#[cfg(test)]
mod tests {
    use super::super::testing::{found, run};
    use super::*;
    use serde_json::json;

    fn num(s: &str) -> Number {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn counting_fractional_digits() {
        for (s, d) in [
            ("0", 0),
            ("12", 0),
            ("-5", 0),
            ("12.0", 0),
            ("12.5", 1),
            ("12.50", 1),
            ("12.34", 2),
            ("0.001", 3),
            ("1e-7", 7),
            ("1.5e-7", 8),
            ("1.25e2", 0),
            ("1.2345e2", 2),
            ("1e21", 0),
            ("123.4567", 4),
            ("-0.12345", 5),
        ] {
            assert_eq!(fractional_digits(&num(s)), d, "{s}");
        }
    }

    #[test]
    fn precision_limits() {
        let r = json!({"id": "O1", "total": 10.123, "delivery": {"cost": 1.5},
            "items": [{"quantity": 1, "price": 10.1234, "amount": 10.12},
                      {"quantity": 1, "price": 0.12345, "amount": 0.001}]});
        let i: Vec<_> = run(DataType::Orders, r, false)
            .into_iter()
            .filter(|i| i.code == codes::NUMBER_PRECISION)
            .collect();
        assert_eq!(
            found(&i),
            [
                ("/7/total", codes::NUMBER_PRECISION),
                ("/7/items/1/amount", codes::NUMBER_PRECISION),
                ("/7/items/1/price", codes::NUMBER_PRECISION)
            ]
        );
        assert!(i[0].message.contains("10.123"));
        assert!(i[0].message.contains("at most 2"));
        assert!(i[2].message.contains("at most 4"));

        let p = |price: Value| run(DataType::Prices, json!({"price": price}), false);
        assert!(p(json!(12.3456)).is_empty());
        assert_eq!(
            found(&p(json!(12.34567))),
            [("/7/price", codes::NUMBER_PRECISION)]
        );
        assert_eq!(
            found(&p(json!(1e-7))),
            [("/7/price", codes::NUMBER_PRECISION)]
        );

        let f = json!({"balance": 1.001, "credit_limit": 2.5, "overdue_debt": 0.333,
            "documents": [{"amount": 1.1, "debt": 2.222}, {"amount": 3.333, "debt": 0}]});
        assert_eq!(
            found(&run(DataType::Finances, f, false)),
            [
                ("/7/balance", codes::NUMBER_PRECISION),
                ("/7/overdue_debt", codes::NUMBER_PRECISION),
                ("/7/documents/1/amount", codes::NUMBER_PRECISION),
                ("/7/documents/0/debt", codes::NUMBER_PRECISION)
            ]
        );
        let a = json!({"opening_balance": 0.001, "closing_balance": 0.001,
            "lines": [{"debit": 0.005}, {"credit": 0.005}]});
        assert_eq!(
            found(&run(DataType::Acts, a, false)),
            [
                ("/7/opening_balance", codes::NUMBER_PRECISION),
                ("/7/closing_balance", codes::NUMBER_PRECISION),
                ("/7/lines/0/debit", codes::NUMBER_PRECISION),
                ("/7/lines/1/credit", codes::NUMBER_PRECISION)
            ]
        );
        assert_eq!(
            found(&run(
                DataType::Contracts,
                json!({"credit_limit": 1000.555}),
                false
            )),
            [("/7/credit_limit", codes::NUMBER_PRECISION)]
        );
        // Fields not listed are free (quantities, weights).
        assert!(run(DataType::Products, json!({"weight": 0.12345}), false).is_empty());
    }
}
