//! Which Sellper client is which COMPO contragent: a configured table, the `COMPO <id>` note the
//! bridge writes into the comment of each client it creates, and INNs (of Sellper clients
//! answers, and of COMPO contragents files).
//!
//! Sellper gives a client created from a portal contragent its own id, so the id cannot travel
//! as it is in either direction. A client born in Sellper keeps its Sellper id as its COMPO id
//! (that is what converting a Sellper clients list gives), so an unmapped id is passed through.

use super::xml::Node;
use super::SellperError;
use crate::compo::report::{codes, Issue, Report};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

#[derive(Debug, Default)]
pub(crate) struct ClientIds {
    /// COMPO contragent id → Sellper client id.
    to_sellper: HashMap<String, String>,
    /// Sellper client id → COMPO contragent id.
    to_compo: HashMap<String, String>,
    /// INN → Sellper client id, from the clients answers given.
    by_inn: HashMap<String, String>,
    /// INN → COMPO contragent id, from the COMPO contragents files given.
    compo_by_inn: HashMap<String, String>,
    /// Sellper client id → its INN, from the clients answers given.
    inn_of: HashMap<String, String>,
    /// COMPO contragent id → its INN, from the COMPO contragents files given.
    contragent_inn: HashMap<String, String>,
}

/// The COMPO id in a client's comment: the bridge writes `…; COMPO <id>` last.
pub(crate) fn noted_compo_id(comment: &str) -> Option<&str> {
    comment
        .split(';')
        .filter_map(|part| part.trim().strip_prefix("COMPO "))
        .map(str::trim)
        .find(|id| !id.is_empty())
}

/// A client's INN: its `<inn>` element (some installations have it), else `ИНН <digits>` in the
/// comment (as the bridge writes it).
pub(crate) fn client_inn(n: &Node) -> Option<String> {
    if let Some(inn) = n.text_of("inn") {
        return Some(inn.to_string());
    }
    let comment = n.text_of("comment")?;
    comment.split(';').find_map(|part| {
        let digits = part.trim().strip_prefix("ИНН")?.trim();
        (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
            .then(|| digits.to_string())
    })
}

impl ClientIds {
    /// The table of the configuration plus what the clients answers `from` say.
    pub(crate) fn read(
        table: &BTreeMap<String, String>,
        from: &[PathBuf],
    ) -> Result<(ClientIds, Vec<Report>), SellperError> {
        let mut ids = ClientIds::default();
        let mut reports = Vec::new();
        for path in from {
            let mut report = Report::new(super::lookup_name(path), None);
            if path.extension().is_some_and(|e| e == "json") {
                ids.learn_contragents(path, &mut report)?;
                report.settle();
                if !report.errors.is_empty() {
                    reports.push(report);
                }
                continue;
            }
            reports.extend(super::read_lookup(path, report, |cur, report| {
                let root = cur.root()?;
                match root.name.as_str() {
                    "clients" => {
                        cur.descend(&root);
                        while let Some(s) = cur.next_child()? {
                            if s.name == "client" {
                                let ptr = s.plain_pointer();
                                let n = cur.read_node(s, ptr)?;
                                ids.learn(&n);
                            } else {
                                cur.skip(&s)?;
                            }
                        }
                    }
                    "client" => {
                        let n = cur.read_node(root, "/client".into())?;
                        ids.learn(&n);
                    }
                    other => {
                        report.errors.push(Issue::file(
                            codes::CONVERT_UNSUPPORTED,
                            format!(
                                "<{other}> names no clients: use GET /admin/clients.xml answers"
                            ),
                        ));
                        cur.skip(&root)?;
                    }
                }
                Ok(())
            })?);
        }
        // The configured table wins over what the answers say.
        for (compo, sellper) in table {
            ids.to_sellper.insert(compo.clone(), sellper.clone());
            ids.to_compo.insert(sellper.clone(), compo.clone());
        }
        Ok((ids, reports))
    }

    /// COMPO contragents (a file of the portal's `out/`, or the ERP's `contragents.json`):
    /// INN → contragent id.
    fn learn_contragents(
        &mut self,
        path: &std::path::Path,
        report: &mut Report,
    ) -> Result<(), SellperError> {
        let bytes = std::fs::read(path).map_err(|source| SellperError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(&bytes);
        match serde_json::from_slice::<serde_json::Value>(bytes) {
            Ok(serde_json::Value::Array(records)) => {
                for r in &records {
                    let get = |k: &str| r.get(k).and_then(serde_json::Value::as_str);
                    if let (Some(id), Some(inn)) = (get("id"), get("inn")) {
                        self.compo_by_inn.insert(inn.to_string(), id.to_string());
                        self.contragent_inn.insert(id.to_string(), inn.to_string());
                    }
                }
            }
            Ok(_) => report.errors.push(Issue::file(
                codes::JSON_NOT_ARRAY,
                "COMPO contragents are a JSON array of records",
            )),
            Err(e) => report
                .errors
                .push(Issue::file(codes::JSON_SYNTAX, e.to_string())),
        }
        Ok(())
    }

    fn learn(&mut self, n: &Node) {
        let Some(id) = n.attr_value("id") else { return };
        if let Some(compo) = n.text_of("comment").and_then(noted_compo_id) {
            self.to_compo.insert(id.to_string(), compo.to_string());
            self.to_sellper.insert(compo.to_string(), id.to_string());
        }
        if let Some(inn) = client_inn(n) {
            self.by_inn.insert(inn.clone(), id.to_string());
            self.inn_of.insert(id.to_string(), inn);
        }
    }

    /// The COMPO contragent of a Sellper client, when one is known (`client` is the order's
    /// `<client>` element, whose comment may carry the note).
    pub(crate) fn compo_of(&self, sellper_id: &str, client: Option<&Node>) -> Option<String> {
        if let Some(c) = self.to_compo.get(sellper_id) {
            return Some(c.clone());
        }
        if let Some(c) = client
            .and_then(|c| c.text_of("comment"))
            .and_then(noted_compo_id)
        {
            return Some(c.to_string());
        }
        // By INN: the client's own, else what a clients answer says of it.
        let inn = client
            .and_then(client_inn)
            .or_else(|| self.inn_of.get(sellper_id).cloned())?;
        self.compo_by_inn.get(&inn).cloned()
    }

    /// The Sellper client of a COMPO contragent: by the table or note, else by its INN (`inn`,
    /// else the one a contragents file of `clients_from` gives).
    pub(crate) fn sellper_of(&self, contragent: &str, inn: Option<&str>) -> Option<&str> {
        let inn = inn.or_else(|| self.contragent_inn.get(contragent).map(String::as_str));
        self.to_sellper
            .get(contragent)
            .or_else(|| inn.and_then(|i| self.by_inn.get(i)))
            .map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_and_inns_are_read_from_the_comment_the_bridge_writes() {
        let comment = "Общество \"Ромашка\"; ИНН 7707083893; КПП 773601001; COMPO C-501";
        assert_eq!(noted_compo_id(comment), Some("C-501"));
        assert_eq!(noted_compo_id("позвонить"), None);
        let n = Node {
            name: "client".into(),
            children: vec![Node {
                name: "comment".into(),
                text: comment.into(),
                ..Node::default()
            }],
            ..Node::default()
        };
        assert_eq!(client_inn(&n).as_deref(), Some("7707083893"));
    }
}
