//! Item ids of modifications, taken from Sellper answers that carry them (stock lists, ICML), for
//! product lists that do not; and the stable id a modification gets when no answer has it.
//!
//! Sellper names a position (a card's modification) by `itemId`, which the products list answer
//! leaves out. A stock answer names it beside its card and modification parameters
//! (`<item id><product id/><modification><parameter …>`), an ICML offer beside `productId` and its
//! `is-modificator="1"` parameters: both give the map (card, parameters) → item id.

use super::xml::{Node, ReadError, Start, XmlCursor};
use super::SellperError;
use crate::compo::report::{codes, Issue, Report};
use std::collections::HashMap;
use std::path::PathBuf;

/// (card id, parameters key) → item id.
#[derive(Debug, Default)]
pub(crate) struct ItemIds(HashMap<(String, String), String>);

/// The parameters of a modification as one comparable string: `name=value` pairs sorted, so the
/// order Sellper lists them in does not matter.
pub(crate) fn params_key<'a>(params: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let mut pairs: Vec<String> = params
        .map(|(n, v)| format!("{}={}", n.trim(), v.trim()))
        .collect();
    pairs.sort();
    pairs.join("\n")
}

/// The id a modification without `itemId` gets: `<card>-m-<16 hex digits of BLAKE3 of the card
/// and its parameters>`, so converting again gives the same id and different parameters give
/// different ids. A card id too long for that (COMPO ids are at most 64 characters) gives
/// `sellper-m-<24 hex digits>`.
pub(crate) fn derived_id(card: &str, key: &str) -> String {
    let h = blake3::hash(format!("{card}\n{key}").as_bytes()).to_hex();
    let id = format!("{card}-m-{}", &h[..16]);
    if id.chars().count() <= 64 {
        id
    } else {
        format!("sellper-m-{}", &h[..24])
    }
}

impl ItemIds {
    pub(crate) fn get(&self, card: &str, key: &str) -> Option<&str> {
        self.0
            .get(&(card.to_string(), key.to_string()))
            .map(String::as_str)
    }

    /// Reads the answers; one report for each that could not be read as a source of item ids.
    pub(crate) fn read(paths: &[PathBuf]) -> Result<(ItemIds, Vec<Report>), SellperError> {
        let mut ids = ItemIds::default();
        let mut reports = Vec::new();
        for path in paths {
            let report = Report::new(super::lookup_name(path), None);
            reports.extend(super::read_lookup(path, report, |cur, report| {
                ids.scan(cur, report)
            })?);
        }
        Ok((ids, reports))
    }

    fn scan(&mut self, cur: &mut XmlCursor, report: &mut Report) -> Result<(), ReadError> {
        let root = cur.root()?;
        match root.name.as_str() {
            // stores/N.xml: <store type="array"><items><item>…; stores_items.xml: <items><item>…
            "store" | "items" | "yml_catalog" => self.walk(cur, root),
            other => {
                report.errors.push(Issue::file(
                    codes::CONVERT_UNSUPPORTED,
                    format!(
                        "<{other}> gives no item ids: use a stock answer (stores/N.xml, \
                         stores_items.xml) or an ICML catalog (icml.xml)"
                    ),
                ));
                cur.skip(&root)
            }
        }
    }

    /// Descends through containers to the records that carry item ids.
    fn walk(&mut self, cur: &mut XmlCursor, start: Start) -> Result<(), ReadError> {
        cur.descend(&start);
        while let Some(s) = cur.next_child()? {
            match s.name.as_str() {
                "items" | "shop" | "offers" => self.walk(cur, s)?,
                "item" | "offer" => {
                    let ptr = s.plain_pointer();
                    let n = cur.read_node(s, ptr)?;
                    self.take(&n);
                }
                _ => cur.skip(&s)?,
            }
        }
        Ok(())
    }

    fn take(&mut self, n: &Node) {
        let Some(id) = n.attr_value("id") else { return };
        let (card, key) = if n.name == "offer" {
            let Some(card) = n.attr_value("productId") else {
                return;
            };
            let params = n
                .children_named("param")
                .filter(|p| p.attr("is-modificator") == Some("1"))
                .filter_map(|p| Some((p.attr_value("name")?, p.value()?)));
            (card, params_key(params))
        } else {
            let Some(card) = n.child("product").and_then(|p| p.attr_value("id")) else {
                return;
            };
            let params: Vec<(&str, &str)> = n
                .child("modification")
                .map(|m| {
                    m.children_named("parameter")
                        .filter_map(|p| Some((p.attr_value("name")?, p.value()?)))
                        .collect()
                })
                .unwrap_or_default();
            (card, params_key(params.into_iter()))
        };
        self.0.insert((card.to_string(), key), id.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_order_and_ids_are_stable_and_bounded() {
        let a = params_key([("Размер", "44"), ("Рост", "2")].into_iter());
        let b = params_key([("Рост", "2"), ("Размер", "44")].into_iter());
        assert_eq!(a, b);
        assert_eq!(derived_id("234234", &a), derived_id("234234", &b));
        assert_ne!(
            derived_id("234234", &a),
            derived_id("234234", &params_key([("Размер", "46")].into_iter()))
        );
        assert!(derived_id("234234", &a).starts_with("234234-m-"));
        let long = "x".repeat(60);
        let id = derived_id(&long, &a);
        assert!(id.starts_with("sellper-m-") && id.len() == 34, "{id}");
    }
}
