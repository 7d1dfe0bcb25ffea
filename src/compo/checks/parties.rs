//! Contragents' identifiers: INN and OGRN lengths by kind and check digits, the KPP's shape
//! (and that only legal entities have one), bank account control keys against the BIK.

use serde_json::{Map, Value};

use super::{is_digits, non_empty_str, Check, Cx, Reads};
use crate::compo::ident::{self, IdentProblem};
use crate::compo::messages::msg;
use crate::compo::model::DataType;
use crate::compo::report::codes;

pub(crate) struct Parties;

impl Check for Parties {
    fn reads(&self, t: DataType) -> Reads {
        match t {
            DataType::Contragents => {
                Reads::Members(vec!["kind", "inn", "kpp", "ogrn", "bank_accounts"])
            }
            _ => Reads::Nothing,
        }
    }

    fn check(&self, _: DataType, obj: &Map<String, Value>, cx: &mut Cx) {
        contragent(cx, obj);
    }
}

fn contragent(cx: &mut Cx, obj: &Map<String, Value>) {
    let kind = obj.get("kind").and_then(Value::as_str);
    if let Some(inn) = obj.get("inn").and_then(Value::as_str) {
        check_inn(cx, inn, kind);
    }
    if let Some(kpp) = non_empty_str(obj, "kpp") {
        let loc = cx.root().field("kpp");
        match kind {
            Some(k @ ("entrepreneur" | "person")) => cx.push(
                &loc,
                codes::KPP_FORMAT,
                msg!(cx.lang, "kpp-format-not-legal", kpp = kpp, kind = k),
            ),
            _ if !ident::kpp_well_formed(kpp) => cx.push(
                &loc,
                codes::KPP_FORMAT,
                msg!(cx.lang, "kpp-format", kpp = kpp),
            ),
            _ => {}
        }
    }
    if let Some(ogrn) = non_empty_str(obj, "ogrn") {
        check_ogrn(cx, ogrn, kind);
    }
    let accounts = cx.root().field("bank_accounts");
    if let Some(list) = obj.get("bank_accounts").and_then(Value::as_array) {
        for (j, acc) in list.iter().enumerate() {
            let Some(acc) = acc.as_object() else { continue };
            let (Some(bik), Some(number)) = (
                acc.get("bik").and_then(Value::as_str),
                acc.get("account").and_then(Value::as_str),
            ) else {
                continue;
            };
            if bik.len() != 9 || number.len() != 20 || !is_digits(bik) || !is_digits(number) {
                continue;
            }
            if !ident::account_matches_bik(number, bik) {
                let message = match ident::expected_account_key(number, bik) {
                    Some(key) => msg!(
                        cx.lang,
                        "account-checksum-key",
                        account = number,
                        bik = bik,
                        key = key.to_string()
                    ),
                    None => msg!(cx.lang, "account-checksum", account = number, bik = bik),
                };
                cx.push(
                    &accounts.item(j).field("account"),
                    codes::ACCOUNT_CHECKSUM,
                    message,
                );
            }
        }
    }
}

fn check_inn(cx: &mut Cx, inn: &str, kind: Option<&str>) {
    let loc = cx.root().field("inn");
    let wanted = match kind {
        Some("legal") => Some(10),
        Some("entrepreneur" | "person") => Some(12),
        _ => None,
    };
    let known_kind = wanted.and(kind).unwrap_or("other");
    if !is_digits(inn) {
        cx.push(
            &loc,
            codes::INN_FORMAT,
            msg!(cx.lang, "inn-format-digits", inn = inn, kind = known_kind),
        );
        return;
    }
    let len = inn.len();
    let length_ok = match wanted {
        Some(n) => len == n,
        None => len == 10 || len == 12,
    };
    if !length_ok {
        let message = match wanted {
            Some(_) => msg!(
                cx.lang,
                "inn-format-length",
                inn = inn,
                length = len,
                kind = known_kind
            ),
            None => msg!(cx.lang, "inn-format-length-any", inn = inn, length = len),
        };
        cx.push(&loc, codes::INN_FORMAT, message);
        return;
    }
    if ident::check_inn(inn) == Err(IdentProblem::Checksum) {
        let expected = ident::expected_inn_check_digits(inn).unwrap_or_default();
        let positions = wrong_positions(inn, &expected);
        let digits: String = inn[len - expected.len()..]
            .bytes()
            .zip(expected.bytes())
            .filter(|(a, e)| a != e)
            .map(|(_, e)| char::from(e))
            .collect();
        cx.push(
            &loc,
            codes::INN_CHECKSUM,
            msg!(
                cx.lang,
                "inn-checksum",
                inn = inn,
                count = digits.len(),
                digits = digits,
                positions = positions
            ),
        );
    }
}

fn check_ogrn(cx: &mut Cx, ogrn: &str, kind: Option<&str>) {
    let loc = cx.root().field("ogrn");
    let wanted = match kind {
        Some("person") => {
            cx.push(
                &loc,
                codes::OGRN_FORMAT,
                msg!(cx.lang, "ogrn-format-person", ogrn = ogrn),
            );
            return;
        }
        Some("legal") => Some(13),
        Some("entrepreneur") => Some(15),
        _ => None,
    };
    let len = ogrn.chars().count();
    let shape_ok = is_digits(ogrn)
        && match wanted {
            Some(n) => len == n,
            None => len == 13 || len == 15,
        };
    if !shape_ok {
        cx.push(
            &loc,
            codes::OGRN_FORMAT,
            msg!(
                cx.lang,
                "ogrn-format",
                ogrn = ogrn,
                digits = if is_digits(ogrn) { "yes" } else { "no" },
                length = len,
                kind = wanted.and(kind).unwrap_or("other")
            ),
        );
        return;
    }
    if ident::check_ogrn(ogrn) == Err(IdentProblem::Checksum) {
        let expected = ident::expected_ogrn_check_digit(ogrn).unwrap_or_default();
        cx.push(
            &loc,
            codes::OGRN_CHECKSUM,
            msg!(
                cx.lang,
                "ogrn-checksum",
                ogrn = ogrn,
                expected = expected.to_string(),
                length = len
            ),
        );
    }
}

/// Positions (1-based) where `actual` and `expected`, aligned at their ends, differ; used to
/// name the wrong check digits.
fn wrong_positions(actual: &str, expected: &str) -> String {
    let start = actual.len() - expected.len();
    let positions: Vec<String> = actual.as_bytes()[start..]
        .iter()
        .zip(expected.as_bytes())
        .enumerate()
        .filter(|(_, (a, e))| a != e)
        .map(|(i, _)| (start + i + 1).to_string())
        .collect();
    positions.join(", ")
}

#[cfg(test)]
mod tests {
    use super::super::testing::{found, run};
    use super::*;
    use serde_json::json;

    fn legal(extra: Value) -> Value {
        let mut base = json!({
            "id": "C1", "name": "Romashka", "kind": "legal", "inn": "7707083893",
            "kpp": "773601001", "ogrn": "1027700132195",
        });
        for (k, v) in extra.as_object().unwrap() {
            base[k] = v.clone();
        }
        base
    }

    #[test]
    fn valid_contragents_pass() {
        assert!(run(DataType::Contragents, legal(json!({})), false).is_empty());
        let ip = json!({"id": "C2", "name": "IP Ivanov", "kind": "entrepreneur",
            "inn": "500100732259", "ogrn": "304500116000157", "kpp": "", "bank_accounts": [
                {"bik": "044525225", "account": "40702810938000000001"}]});
        // 304500116000157: body 30450011600015 mod 13 mod 10 = 7.
        assert_eq!(ident::check_ogrn("304500116000157"), Ok(()));
        assert!(run(DataType::Contragents, ip, false).is_empty());
        let person = json!({"id": "C3", "name": "Petrov", "kind": "person",
            "inn": "500100732259", "kpp": null, "ogrn": null});
        assert!(run(DataType::Contragents, person, false).is_empty());
    }

    #[test]
    fn inn_checksum_message_names_the_digit() {
        let issues = run(
            DataType::Contragents,
            legal(json!({"inn": "7707083894"})),
            false,
        );
        assert_eq!(found(&issues), [("/7/inn", codes::INN_CHECKSUM)]);
        assert_eq!(
            issues[0].message,
            "INN \"7707083894\" has a wrong check digit (expected 3 in position 10); check the \
             number in the ERP"
        );
        let issues = run(
            DataType::Contragents,
            json!({"kind": "person", "inn": "500100732250"}),
            false,
        );
        assert_eq!(found(&issues), [("/7/inn", codes::INN_CHECKSUM)]);
        assert!(
            issues[0].message.contains("expected 9 in position 12"),
            "{}",
            issues[0].message
        );
        let issues = run(
            DataType::Contragents,
            json!({"kind": "person", "inn": "500100732200"}),
            false,
        );
        assert!(
            issues[0]
                .message
                .contains("expected 59 in positions 11, 12"),
            "{}",
            issues[0].message
        );
    }

    #[test]
    fn inn_length_depends_on_kind() {
        let i = run(
            DataType::Contragents,
            legal(json!({"inn": "500100732259"})),
            false,
        );
        assert_eq!(found(&i), [("/7/inn", codes::INN_FORMAT)]);
        assert!(i[0].message.contains("has 12 digits"));
        assert!(i[0].message.contains("legal entity has 10"));
        let i = run(
            DataType::Contragents,
            json!({"kind": "entrepreneur", "inn": "7707083893"}),
            false,
        );
        assert_eq!(found(&i), [("/7/inn", codes::INN_FORMAT)]);
        let i = run(
            DataType::Contragents,
            legal(json!({"inn": "77070 83893"})),
            false,
        );
        assert_eq!(found(&i), [("/7/inn", codes::INN_FORMAT)]);
        assert!(i[0].message.contains("digits only"));
        // Unknown kind: either length is acceptable, the check digits still count.
        assert!(run(
            DataType::Contragents,
            json!({"kind": "alien", "inn": "500100732259"}),
            false
        )
        .is_empty());
        assert_eq!(
            found(&run(
                DataType::Contragents,
                json!({"inn": "77070838931"}),
                false
            )),
            [("/7/inn", codes::INN_FORMAT)]
        );
        assert_eq!(
            found(&run(
                DataType::Contragents,
                json!({"inn": "7707083894"}),
                false
            )),
            [("/7/inn", codes::INN_CHECKSUM)]
        );
    }

    #[test]
    fn kpp_rules() {
        assert!(run(
            DataType::Contragents,
            legal(json!({"kpp": "7736AB001"})),
            false
        )
        .is_empty());
        let i = run(
            DataType::Contragents,
            legal(json!({"kpp": "77360100"})),
            false,
        );
        assert_eq!(found(&i), [("/7/kpp", codes::KPP_FORMAT)]);
        assert!(i[0].message.contains("\"77360100\""));
        let i = run(
            DataType::Contragents,
            json!({"kind": "entrepreneur", "inn": "500100732259", "kpp": "773601001"}),
            false,
        );
        assert_eq!(found(&i), [("/7/kpp", codes::KPP_FORMAT)]);
        assert!(i[0].message.contains("only legal entities have a KPP"));
        assert!(i[0].message.contains("remove it"));
    }

    #[test]
    fn ogrn_rules() {
        let i = run(
            DataType::Contragents,
            legal(json!({"ogrn": "1027700132196"})),
            false,
        );
        assert_eq!(found(&i), [("/7/ogrn", codes::OGRN_CHECKSUM)]);
        assert!(
            i[0].message.contains("expected 5 in position 13"),
            "{}",
            i[0].message
        );
        let i = run(
            DataType::Contragents,
            legal(json!({"ogrn": "304500116000157"})),
            false,
        );
        assert_eq!(found(&i), [("/7/ogrn", codes::OGRN_FORMAT)]);
        let i = run(
            DataType::Contragents,
            json!({"kind": "entrepreneur", "inn": "500100732259", "ogrn": "1027700132195"}),
            false,
        );
        assert_eq!(found(&i), [("/7/ogrn", codes::OGRN_FORMAT)]);
        let i = run(
            DataType::Contragents,
            json!({"kind": "entrepreneur", "inn": "500100732259", "ogrn": "304500116000158"}),
            false,
        );
        assert_eq!(found(&i), [("/7/ogrn", codes::OGRN_CHECKSUM)]);
        assert!(i[0].message.starts_with("OGRNIP"));
        let i = run(
            DataType::Contragents,
            json!({"kind": "person", "inn": "500100732259", "ogrn": "304500116000157"}),
            false,
        );
        assert_eq!(found(&i), [("/7/ogrn", codes::OGRN_FORMAT)]);
        assert!(i[0].message.contains("a person"));
        let i = run(
            DataType::Contragents,
            legal(json!({"ogrn": "10277OO132195"})),
            false,
        );
        assert_eq!(found(&i), [("/7/ogrn", codes::OGRN_FORMAT)]);
    }

    #[test]
    fn bank_account_keys() {
        let r = legal(json!({"bank_accounts": [
            {"bik": "044525225", "account": "40702810938000000001"},
            {"bik": "044525225", "account": "40702810438000000001"},
            {"bik": "044525000", "account": "40101810800000010041"},
            {"bik": "044525000", "account": "40101810700000010041"},
            {"bik": "044525225", "account": "4070281043800000000"},
        ]}));
        let i = run(DataType::Contragents, r, false);
        assert_eq!(
            found(&i),
            [
                ("/7/bank_accounts/1/account", codes::ACCOUNT_CHECKSUM),
                ("/7/bank_accounts/3/account", codes::ACCOUNT_CHECKSUM)
            ]
        );
        assert!(i[0].message.contains("\"40702810438000000001\""));
        assert!(i[0].message.contains("\"044525225\""));
        assert!(i[0].message.contains("would be 9"), "{}", i[0].message);
    }
}
