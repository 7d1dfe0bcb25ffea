//! What each field of a record is (a date, a reference, a formatted value, required text...),
//! read from the type's JSON Schema, so that the normalisation and the schema cannot drift apart.

use serde_json::{Map, Value};

/// The role of a field, from the `$defs` entry its schema refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `#/$defs/id`: the record's key, or a reference when the field is optional.
    Id,
    /// `#/$defs/date`: `YYYY-MM-DD`.
    Date,
    /// `#/$defs/datetime`: RFC 3339 with an offset.
    DateTime,
    /// A value with a fixed form that cannot be empty: currency, country, e-mail, file name,
    /// and phone (free text in the schema, but the protocol counts it among these: 1C writes
    /// `""` for "no phone").
    Formatted,
    /// `#/$defs/vat`: a percent, or `null` for "без НДС".
    Vat,
    /// Plain text (`"type": "string"` with no pattern, enum or format).
    Text,
    /// Anything else (numbers, booleans, enums, containers): not normalised.
    Other,
}

/// One field of an object in a record.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    /// Where it is, for messages: `date`, `delivery.date`, `items[].vat`.
    pub path: String,
    pub required: bool,
    pub kind: Kind,
    /// Number of the field within its type: what warnings are counted by.
    pub id: u16,
    /// The fields of the object it holds, or of each object of the array it holds.
    pub inner: Option<Fields>,
}

/// The fields of an object, in schema order.
#[derive(Debug, Clone, Default)]
pub struct Fields {
    pub list: Vec<Field>,
}

impl Fields {
    pub fn get(&self, name: &str) -> Option<&Field> {
        self.list.iter().find(|f| f.name == name)
    }

    /// The fields of a record of a file schema (`$defs.record`), or none when the schema does
    /// not have the protocol's layout (a project's own schema): its records are then passed
    /// through unchanged.
    pub fn of_file_schema(schema: &Value) -> Fields {
        let Some(defs) = schema.get("$defs").and_then(Value::as_object) else {
            return Fields::default();
        };
        let Some(record) = defs.get("record").and_then(Value::as_object) else {
            return Fields::default();
        };
        let mut next = 0;
        object_fields(record, defs, "", &mut next, 0)
    }

    /// Every field, depth first.
    pub fn all(&self) -> Vec<&Field> {
        let mut out = Vec::new();
        fn walk<'a>(f: &'a Fields, out: &mut Vec<&'a Field>) {
            for x in &f.list {
                out.push(x);
                if let Some(i) = &x.inner {
                    walk(i, out);
                }
            }
        }
        walk(self, &mut out);
        out
    }
}

/// `#/$defs/<name>` -> `<name>`.
fn def_name(schema: &Map<String, Value>) -> Option<&str> {
    schema.get("$ref")?.as_str()?.strip_prefix("#/$defs/")
}

/// The schema a property's schema stands for, following local `$ref`s.
fn resolve<'a>(
    schema: &'a Map<String, Value>,
    defs: &'a Map<String, Value>,
    depth: u8,
) -> &'a Map<String, Value> {
    match def_name(schema)
        .and_then(|n| defs.get(n))
        .and_then(Value::as_object)
    {
        Some(target) if depth < 8 => resolve(target, defs, depth + 1),
        _ => schema,
    }
}

fn object_fields(
    object: &Map<String, Value>,
    defs: &Map<String, Value>,
    prefix: &str,
    next: &mut u16,
    depth: u8,
) -> Fields {
    let required: Vec<&str> = object
        .get("required")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut list = Vec::new();
    let Some(props) = object.get("properties").and_then(Value::as_object) else {
        return Fields { list };
    };
    for (name, prop) in props {
        let Some(prop) = prop.as_object() else {
            continue;
        };
        let path = format!("{prefix}{name}");
        let kind = kind_of(name, prop);
        let target = resolve(prop, defs, 0);
        let id = *next;
        *next += 1;
        let inner = if depth >= 6 {
            None
        } else if target.contains_key("properties") {
            Some(object_fields(
                target,
                defs,
                &format!("{path}."),
                next,
                depth + 1,
            ))
        } else {
            target
                .get("items")
                .and_then(Value::as_object)
                .map(|items| resolve(items, defs, 0))
                .filter(|items| items.contains_key("properties"))
                .map(|items| object_fields(items, defs, &format!("{path}[]."), next, depth + 1))
        };
        list.push(Field {
            name: name.clone(),
            path,
            required: required.contains(&name.as_str()),
            kind,
            id,
            inner,
        });
    }
    Fields { list }
}

pub(super) fn kind_of(name: &str, prop: &Map<String, Value>) -> Kind {
    match def_name(prop) {
        Some("id") => Kind::Id,
        Some("date") => Kind::Date,
        Some("datetime") => Kind::DateTime,
        Some("currency" | "country" | "email" | "fileName") => Kind::Formatted,
        Some("vat") => Kind::Vat,
        Some(_) => Kind::Other,
        None => {
            let plain = prop.get("type") == Some(&Value::String("string".into()))
                && !["pattern", "enum", "const", "format", "minLength"]
                    .iter()
                    .any(|k| prop.contains_key(*k));
            match (plain, name) {
                (true, "phone") => Kind::Formatted,
                (true, _) => Kind::Text,
                _ => Kind::Other,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compo::model::{DataType, Step};
    use crate::compo::schema::EMBEDDED;

    fn fields(t: DataType) -> Fields {
        let text = EMBEDDED.iter().find(|(n, _)| *n == t.name()).unwrap().1;
        Fields::of_file_schema(&serde_json::from_str(text).unwrap())
    }

    fn path_of(steps: &[Step]) -> String {
        let mut s = String::new();
        for st in steps {
            match st {
                Step::Field(n) => {
                    if !s.is_empty() && !s.ends_with("[].") {
                        s.push('.');
                    }
                    s.push_str(n);
                }
                Step::Each => s.push_str("[]."),
            }
        }
        s.trim_end_matches("[].").to_string()
    }

    /// The model's references and the schema's optional id fields are the same fields: a
    /// reference the schema forgot (or the other way round) would be normalised differently
    /// from how it is resolved.
    #[test]
    fn optional_ids_are_the_models_references() {
        for t in DataType::ALL {
            let f = fields(t);
            let from_schema: std::collections::BTreeSet<String> = f
                .all()
                .into_iter()
                .filter(|x| x.kind == Kind::Id && x.name != "id")
                .map(|x| x.path.clone())
                .collect();
            let from_model: std::collections::BTreeSet<String> = t
                .references()
                .iter()
                .filter(|r| matches!(r.path.last(), Some(Step::Field(_))))
                .map(|r| path_of(r.path))
                .collect();
            assert_eq!(from_schema, from_model, "{t}");
        }
    }

    #[test]
    fn roles_come_from_the_schemas() {
        let c = fields(DataType::Contracts);
        let date = c.get("date").unwrap();
        assert_eq!((date.kind, date.required), (Kind::Date, true));
        assert_eq!(c.get("valid_to").unwrap().kind, Kind::Date);
        assert!(!c.get("valid_to").unwrap().required);
        assert_eq!(c.get("currency").unwrap().kind, Kind::Formatted);
        assert_eq!(c.get("number").unwrap().kind, Kind::Text);
        let o = fields(DataType::Orders);
        let items = o.get("items").unwrap().inner.as_ref().unwrap();
        assert_eq!(items.get("vat").unwrap().kind, Kind::Vat);
        assert_eq!(items.get("vat").unwrap().path, "items[].vat");
        let delivery = o.get("delivery").unwrap().inner.as_ref().unwrap();
        assert_eq!(delivery.get("date").unwrap().path, "delivery.date");
        assert_eq!(o.get("updated_at").unwrap().kind, Kind::DateTime);
        let m = fields(DataType::Managers);
        assert_eq!(m.get("phone").unwrap().kind, Kind::Formatted);
        assert_eq!(m.get("picture").unwrap().kind, Kind::Formatted);
        assert_eq!(m.get("email").unwrap().kind, Kind::Formatted);
        // Ids of every field of a type are distinct: warnings are counted by them.
        for t in DataType::ALL {
            let all = fields(t).all().iter().map(|x| x.id).collect::<Vec<_>>();
            let mut d = all.clone();
            d.sort();
            d.dedup();
            assert_eq!(all.len(), d.len(), "{t}");
            assert!(!all.is_empty(), "{t}");
        }
    }

    /// The date and date-time fields of spec section 5, found in the schemas.
    #[test]
    fn every_date_field_is_found() {
        let mut found = Vec::new();
        for t in DataType::ALL {
            for f in fields(t).all() {
                match f.kind {
                    Kind::Date => found.push(format!("{t}.{}", f.path)),
                    Kind::DateTime => found.push(format!("{t}.{} (date-time)", f.path)),
                    _ => {}
                }
            }
        }
        found.sort();
        assert_eq!(
            found,
            [
                "acts.lines[].date",
                "acts.period_from",
                "acts.period_to",
                "contracts.date",
                "contracts.valid_from",
                "contracts.valid_to",
                "finances.documents[].date",
                "finances.documents[].due_date",
                "finances.updated_at (date-time)",
                "orders.date",
                "orders.delivery.date",
                "orders.documents[].date",
                "orders.updated_at (date-time)",
                "prices.valid_to",
                "remains.expected[].date",
            ]
        );
    }
}
