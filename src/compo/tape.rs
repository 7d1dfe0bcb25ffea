//! A record parsed into one flat array of items that borrow the record's text: what the schema
//! validator walks. Building a `serde_json::Value` allocates a string per key and value and a
//! B-tree per object, which was half of the validator's time; a tape is one allocation, and
//! strings without escapes are slices of the input.
//!
//! Only valid, duplicate-free JSON becomes a tape. Anything else is refused without detail:
//! the caller parses it again with [`super::strict::parse_record`], which says what and where.

use jsonschema::json::{cmp, Array, Json, Node, NodeIdentity, Object};
use jsonschema::JsonType;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::borrow::Cow;
use std::fmt;
use std::hash::BuildHasher;

/// One item of a tape. A container is followed by its content (an object by key, value pairs)
/// and knows where that content ends.
#[derive(Debug, Clone, PartialEq)]
pub enum Item<'a> {
    Null,
    Bool(bool),
    Num(Number),
    Str(Cow<'a, str>),
    Key(Cow<'a, str>),
    Arr { end: u32, len: u32 },
    Obj { end: u32, len: u32 },
}

/// A parsed record.
#[derive(Debug)]
pub struct Tape<'a> {
    items: Vec<Item<'a>>,
}

impl<'a> Tape<'a> {
    /// Parses one JSON value; `None` for anything that is not strict, duplicate-free JSON.
    pub fn parse(text: &'a str) -> Option<Tape<'a>> {
        // About one item per 12 bytes of a typical record: one allocation, rarely regrown.
        let mut items = Vec::with_capacity(text.len() / 12 + 8);
        let mut keys = Vec::new();
        let mut de = serde_json::Deserializer::from_str(text);
        Build {
            items: &mut items,
            keys: &mut keys,
        }
        .deserialize(&mut de)
        .ok()?;
        de.end().ok()?;
        Some(Tape { items })
    }

    pub fn root(&self) -> TapeNode<'_> {
        TapeNode {
            items: &self.items,
            at: 0,
        }
    }
}

/// A node of a tape: the validator's view of one value.
#[derive(Clone, Copy)]
pub struct TapeNode<'a> {
    items: &'a [Item<'a>],
    at: u32,
}

impl<'a> TapeNode<'a> {
    /// The item this node stands on (containers: their opening).
    pub fn item(&self) -> &'a Item<'a> {
        &self.items[self.at as usize]
    }

    /// Index of the item after this value and all it contains.
    fn next(&self) -> u32 {
        match self.item() {
            Item::Arr { end, .. } | Item::Obj { end, .. } => *end,
            _ => self.at + 1,
        }
    }

    fn at(&self, at: u32) -> TapeNode<'a> {
        TapeNode {
            items: self.items,
            at,
        }
    }

    /// Position of this value on the tape: one item per key, scalar and container opening,
    /// in text order (what the normalisation's edits are addressed by).
    pub fn position(&self) -> u32 {
        self.at
    }

    /// An object's members, in text order; nothing for other values.
    pub fn object_members(&self) -> impl Iterator<Item = (&'a str, TapeNode<'a>)> {
        let end = match self.item() {
            Item::Obj { .. } => self.next(),
            _ => self.at,
        };
        Members {
            node: self.at(self.at + 1),
            end,
        }
    }

    /// An array's elements; nothing for other values.
    pub fn array_elements(&self) -> impl Iterator<Item = TapeNode<'a>> {
        let end = match self.item() {
            Item::Arr { .. } => self.next(),
            _ => self.at,
        };
        Elements {
            node: self.at(self.at + 1),
            end,
        }
    }

    /// The member `name` of an object.
    pub fn member(&self, name: &str) -> Option<TapeNode<'a>> {
        self.object_members().find(|(k, _)| *k == name).map(|m| m.1)
    }

    pub fn as_str(&self) -> Option<&'a str> {
        match self.item() {
            Item::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value as a `serde_json::Value` (for error messages and the checks).
    pub fn to_value(&self) -> Value {
        match self.item() {
            Item::Null => Value::Null,
            Item::Bool(b) => Value::Bool(*b),
            Item::Num(n) => Value::Number(n.clone()),
            Item::Str(s) | Item::Key(s) => Value::String(s.to_string()),
            Item::Arr { .. } => {
                Value::Array(TapeArray(*self).elements().map(|e| e.to_value()).collect())
            }
            Item::Obj { .. } => Value::Object(
                TapeObject(*self)
                    .members()
                    .map(|(k, v)| (k.to_string(), v.to_value()))
                    .collect::<Map<String, Value>>(),
            ),
        }
    }

    /// An object with only the listed top-level members, as a `serde_json::Value`.
    pub fn to_value_with(&self, keys: &[&str]) -> Value {
        match self.item() {
            Item::Obj { .. } => Value::Object(
                TapeObject(*self)
                    .members()
                    .filter(|(k, _)| keys.contains(k))
                    .map(|(k, v)| (k.to_string(), v.to_value()))
                    .collect::<Map<String, Value>>(),
            ),
            _ => self.to_value(),
        }
    }
}

/// Builds the tape as serde_json parses: strict syntax is serde_json's, duplicates are ours.
struct Build<'t, 'a> {
    items: &'t mut Vec<Item<'a>>,
    /// Hashes of the keys of the objects being built, innermost last. Comparing hashes,
    /// and the text only when they are equal, keeps the duplicate check off `memcmp`.
    keys: &'t mut Vec<(u64, u32)>,
}

impl<'de> DeserializeSeed<'de> for Build<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Build<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.items.push(Item::Bool(v));
        Ok(())
    }
    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.items.push(Item::Num(v.into()));
        Ok(())
    }
    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.items.push(Item::Num(v.into()));
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        let n = Number::from_f64(v).ok_or_else(|| E::custom("number out of range"))?;
        self.items.push(Item::Num(n));
        Ok(())
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<(), E> {
        self.items.push(Item::Str(Cow::Borrowed(v)));
        Ok(())
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.items.push(Item::Str(Cow::Owned(v.to_owned())));
        Ok(())
    }
    fn visit_string<E>(self, v: String) -> Result<(), E> {
        self.items.push(Item::Str(Cow::Owned(v)));
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        self.items.push(Item::Null);
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let at = self.items.len();
        self.items.push(Item::Arr { end: 0, len: 0 });
        let mut len = 0;
        while seq
            .next_element_seed(Build {
                items: &mut *self.items,
                keys: &mut *self.keys,
            })?
            .is_some()
        {
            len += 1;
        }
        self.items[at] = Item::Arr {
            end: self.items.len() as u32,
            len,
        };
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let at = self.items.len();
        self.items.push(Item::Obj { end: 0, len: 0 });
        let mut len = 0;
        let first_key = self.keys.len();
        while map
            .next_key_seed(KeySeed {
                items: &mut *self.items,
            })?
            .is_some()
        {
            let key_at = self.items.len() - 1;
            let hash = match &self.items[key_at] {
                Item::Key(k) => rustc_hash::FxBuildHasher.hash_one(k.as_bytes()),
                _ => 0,
            };
            if self.repeats_key(first_key, hash, key_at) {
                return Err(de::Error::custom("duplicate key"));
            }
            self.keys.push((hash, key_at as u32));
            map.next_value_seed(Build {
                items: &mut *self.items,
                keys: &mut *self.keys,
            })?;
            len += 1;
        }
        self.keys.truncate(first_key);
        self.items[at] = Item::Obj {
            end: self.items.len() as u32,
            len,
        };
        Ok(())
    }
}

impl Build<'_, '_> {
    /// Whether the key at `key_at`, hashed to `hash`, repeats one of this object's keys
    /// (`keys[first..]`).
    fn repeats_key(&self, first: usize, hash: u64, key_at: usize) -> bool {
        let Item::Key(key) = &self.items[key_at] else {
            return false;
        };
        self.keys[first..]
            .iter()
            .any(|&(h, k)| h == hash && matches!(&self.items[k as usize], Item::Key(o) if o == key))
    }
}

struct KeySeed<'t, 'a> {
    items: &'t mut Vec<Item<'a>>,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<(), E> {
        self.items.push(Item::Key(Cow::Borrowed(v)));
        Ok(())
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.items.push(Item::Key(Cow::Owned(v.to_owned())));
        Ok(())
    }
    fn visit_string<E>(self, v: String) -> Result<(), E> {
        self.items.push(Item::Key(Cow::Owned(v)));
        Ok(())
    }
}

/// The tape as a representation the `jsonschema` crate validates.
pub struct TapeJson;

impl Json for TapeJson {
    type Node<'a> = TapeNode<'a>;
    type PreparedKey = String;
    type StringBuffer = Vec<Item<'static>>;

    // A lookup is a walk over the members: one pass over them is never worse.
    const KEYS_PER_LOOKUP: usize = 1 << 16;

    fn prepare_key(key: &str) -> String {
        key.to_owned()
    }

    fn with_string_node<T>(
        buffer: &mut Vec<Item<'static>>,
        string: &str,
        f: impl FnOnce(TapeNode<'_>) -> T,
    ) -> T {
        buffer.clear();
        buffer.push(Item::Str(Cow::Owned(string.to_owned())));
        f(TapeNode {
            items: buffer,
            at: 0,
        })
    }
}

impl<'a> Node<'a, TapeJson> for TapeNode<'a> {
    type Object = TapeObject<'a>;
    type Array = TapeArray<'a>;
    type Number = &'a Number;

    fn as_object(&self) -> Option<TapeObject<'a>> {
        matches!(self.item(), Item::Obj { .. }).then_some(TapeObject(*self))
    }
    fn as_array(&self) -> Option<TapeArray<'a>> {
        matches!(self.item(), Item::Arr { .. }).then_some(TapeArray(*self))
    }
    fn as_string(&self) -> Option<Cow<'a, str>> {
        self.as_str().map(Cow::Borrowed)
    }
    fn as_number(&self) -> Option<&'a Number> {
        match self.item() {
            Item::Num(n) => Some(n),
            _ => None,
        }
    }
    fn as_boolean(&self) -> Option<bool> {
        match self.item() {
            Item::Bool(b) => Some(*b),
            _ => None,
        }
    }
    fn is_null(&self) -> bool {
        matches!(self.item(), Item::Null)
    }
    fn json_type(&self) -> JsonType {
        match self.item() {
            Item::Null => JsonType::Null,
            Item::Bool(_) => JsonType::Boolean,
            Item::Num(_) => JsonType::Number,
            Item::Str(_) | Item::Key(_) => JsonType::String,
            Item::Arr { .. } => JsonType::Array,
            Item::Obj { .. } => JsonType::Object,
        }
    }
    fn equals_value(&self, expected: &Value) -> bool {
        match (self.item(), expected) {
            (Item::Str(s), Value::String(e)) => s == e,
            (Item::Str(_), _) => false,
            (Item::Bool(b), Value::Bool(e)) => b == e,
            (Item::Null, Value::Null) => true,
            _ => cmp::equal(&self.to_value(), expected),
        }
    }
    fn to_value(&self) -> Cow<'a, Value> {
        Cow::Owned(TapeNode::to_value(self))
    }
    fn identity(&self) -> Option<NodeIdentity> {
        Some(NodeIdentity::tagged(self.items.as_ptr() as usize, self.at))
    }
}

/// An object node.
#[derive(Clone, Copy)]
pub struct TapeObject<'a>(TapeNode<'a>);

pub struct Members<'a> {
    node: TapeNode<'a>,
    end: u32,
}

impl<'a> Iterator for Members<'a> {
    type Item = (&'a str, TapeNode<'a>);
    fn next(&mut self) -> Option<Self::Item> {
        if self.node.at >= self.end {
            return None;
        }
        let Item::Key(k) = self.node.item() else {
            return None;
        };
        let value = self.node.at(self.node.at + 1);
        self.node = self.node.at(value.next());
        Some((k, value))
    }
}

impl<'a> Object<'a, TapeJson> for TapeObject<'a> {
    type Node = TapeNode<'a>;
    type MemberName = &'a str;
    type MembersIter = Members<'a>;

    fn len(&self) -> usize {
        match self.0.item() {
            Item::Obj { len, .. } => *len as usize,
            _ => 0,
        }
    }
    fn get(&self, key: &String) -> Option<TapeNode<'a>> {
        self.members().find(|(k, _)| k == key).map(|m| m.1)
    }
    fn members(&self) -> Members<'a> {
        Members {
            node: self.0.at(self.0.at + 1),
            end: self.0.next(),
        }
    }
}

/// An array node.
#[derive(Clone, Copy)]
pub struct TapeArray<'a>(TapeNode<'a>);

pub struct Elements<'a> {
    node: TapeNode<'a>,
    end: u32,
}

impl<'a> Iterator for Elements<'a> {
    type Item = TapeNode<'a>;
    fn next(&mut self) -> Option<TapeNode<'a>> {
        if self.node.at >= self.end {
            return None;
        }
        let here = self.node;
        self.node = self.node.at(here.next());
        Some(here)
    }
}

impl<'a> Array<'a, TapeJson> for TapeArray<'a> {
    type Node = TapeNode<'a>;
    type ElementsIter = Elements<'a>;

    fn len(&self) -> usize {
        match self.0.item() {
            Item::Arr { len, .. } => *len as usize,
            _ => 0,
        }
    }
    fn elements(&self) -> Elements<'a> {
        Elements {
            node: self.0.at(self.0.at + 1),
            end: self.0.next(),
        }
    }
    fn is_unique(&self) -> bool {
        // Arrays of strings (barcodes, pictures) without building values.
        let strings: Option<Vec<&str>> = self.elements().map(|e| e.as_str()).collect();
        match strings {
            Some(s) => (1..s.len()).all(|i| !s[..i].contains(&s[i])),
            None => {
                let values: Vec<Value> = self.elements().map(|e| e.to_value()).collect();
                jsonschema::json::unique::is_unique(&values)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tape_reads_back_as_the_same_value() {
        let text = r#"{"id":"P\"1","n":[1,-2,2.5,null,true,{"x":{}}],"e":[],"s":"Чай"}"#;
        let t = Tape::parse(text).unwrap();
        let v: Value = serde_json::from_str(text).unwrap();
        assert_eq!(t.root().to_value(), v);
        let o = Node::as_object(&t.root()).unwrap();
        assert_eq!(
            o.get(&"s".to_string()).and_then(|n| n.as_str()),
            Some("Чай")
        );
        assert_eq!(
            t.root().to_value_with(&["id", "e"]),
            serde_json::json!({"id": "P\"1", "e": []})
        );
        assert_eq!(Object::len(&o), 4);
        let n = o.get(&"n".to_string()).unwrap();
        assert_eq!(Array::len(&Node::as_array(&n).unwrap()), 6);
    }

    #[test]
    fn only_strict_duplicate_free_json_becomes_a_tape() {
        for bad in [
            r#"{"a":1,"a":2}"#,
            r#"{"a":{"b":1,"c":[1],"b":2}}"#,
            r#"{"a":1,}"#,
            r#"{"a":NaN}"#,
            r#"{"a":1} x"#,
            r#"{"a":"#,
        ] {
            assert!(Tape::parse(bad).is_none(), "{bad}");
        }
        // The same key in sibling objects is no duplicate.
        assert!(Tape::parse(r#"[{"a":1},{"a":2,"b":{"a":3}}]"#).is_some());
    }

    #[test]
    fn the_schema_validator_gives_the_same_verdicts_on_a_tape() {
        let schema = serde_json::json!({
            "type": "object",
            "required": ["id"],
            "properties": {
                "id": {"type": "string", "pattern": "^[A-Z]+$"},
                "tags": {"type": "array", "uniqueItems": true, "items": {"enum": ["a", "b", 1]}},
                "q": {"type": "number", "minimum": 0},
                "active": {"const": true}
            },
            "additionalProperties": false
        });
        let on_tape = jsonschema::options_for::<TapeJson>()
            .with_draft(jsonschema::Draft::Draft202012)
            .build(&schema)
            .unwrap();
        let on_value = jsonschema::draft202012::new(&schema).unwrap();
        for doc in [
            r#"{"id":"AB","tags":["a","b"],"q":1.5,"active":true}"#,
            r#"{"id":"ab"}"#,
            r#"{"tags":[]}"#,
            r#"{"id":"A","tags":["a","a"]}"#,
            r#"{"id":"A","tags":[1,1]}"#,
            r#"{"id":"A","tags":["c"]}"#,
            r#"{"id":"A","q":-1}"#,
            r#"{"id":"A","active":false}"#,
            r#"{"id":"A","x":1}"#,
        ] {
            let t = Tape::parse(doc).unwrap();
            let v: Value = serde_json::from_str(doc).unwrap();
            assert_eq!(on_tape.is_valid(t.root()), on_value.is_valid(&v), "{doc}");
            let a: Vec<String> = on_tape
                .iter_errors(t.root())
                .map(|e| e.to_string())
                .collect();
            let b: Vec<String> = on_value.iter_errors(&v).map(|e| e.to_string()).collect();
            assert_eq!(a, b, "{doc}");
        }
    }
}
