//! The protocol's rules about whole records: `"deleted": true` belongs in deltas only, and
//! customer records never carry passwords.

use serde_json::{Map, Value};

use super::{Check, Cx, Reads};
use crate::compo::messages::msg;
use crate::compo::model::DataType;
use crate::compo::report::codes;

/// A deletion in a snapshot (in a delta, [`super::check_record`] skips deleted records).
pub(crate) struct DeletedInSnapshot;

impl Check for DeletedInSnapshot {
    fn reads(&self, _: DataType) -> Reads {
        Reads::Members(vec!["deleted"])
    }

    fn check(&self, _: DataType, obj: &Map<String, Value>, cx: &mut Cx) {
        if obj.get("deleted") == Some(&Value::Bool(true)) {
            let loc = cx.root().field("deleted");
            let message = msg!(cx.lang, "snapshot-deleted");
            cx.push(&loc, codes::SNAPSHOT_DELETED, message);
        }
    }
}

/// Fields of a customer named like a password.
pub(crate) struct PasswordFields;

impl Check for PasswordFields {
    fn reads(&self, t: DataType) -> Reads {
        match t {
            // Any member's name may be one.
            DataType::Customers => Reads::Everything,
            _ => Reads::Nothing,
        }
    }

    fn check(&self, _: DataType, obj: &Map<String, Value>, cx: &mut Cx) {
        password_fields(cx, obj);
    }
}

fn password_fields(cx: &mut Cx, obj: &Map<String, Value>) {
    for key in obj.keys() {
        let lower = key.to_lowercase();
        let suspicious = ["password", "passwd", "пароль"]
            .iter()
            .any(|p| lower.contains(p))
            || lower == "pass"
            || lower == "pwd";
        if suspicious {
            cx.push(
                &cx.root().field(key),
                codes::SECURITY_PASSWORD_FIELD,
                msg!(cx.lang, "security-password_field", field = key),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{found, run};
    use super::*;
    use serde_json::json;

    #[test]
    fn deleted_records() {
        let r = json!({"id": "C1", "kind": "legal", "inn": "123", "deleted": true});
        assert!(run(DataType::Contragents, r.clone(), true).is_empty());
        let i = run(DataType::Contragents, r, false);
        assert_eq!(
            found(&i),
            [
                ("/7/deleted", codes::SNAPSHOT_DELETED),
                ("/7/inn", codes::INN_FORMAT)
            ]
        );
        assert!(run(
            DataType::Products,
            json!({"id": "P", "deleted": false}),
            false
        )
        .is_empty());
    }

    #[test]
    fn password_fields() {
        let r = json!({"id": "U1", "email": "a@b.ru", "Password": "x", "user_passwd": 1,
            "Пароль": "y", "PWD": "z", "pass": "w", "passport": "1234", "compass": "n",
            "a/password~": "q"});
        let i = run(DataType::Customers, r.clone(), false);
        let mut got = found(&i);
        got.sort();
        let mut want = vec![
            ("/7/Password", codes::SECURITY_PASSWORD_FIELD),
            ("/7/user_passwd", codes::SECURITY_PASSWORD_FIELD),
            ("/7/Пароль", codes::SECURITY_PASSWORD_FIELD),
            ("/7/PWD", codes::SECURITY_PASSWORD_FIELD),
            ("/7/pass", codes::SECURITY_PASSWORD_FIELD),
            ("/7/a~1password~0", codes::SECURITY_PASSWORD_FIELD),
        ];
        want.sort();
        assert_eq!(got, want);
        assert!(i[0].message.contains("never transferred"));
        assert!(i[0].message.contains("remove the field"));
        // Only customers are concerned.
        assert!(run(DataType::Managers, r, false).is_empty());
    }
}
