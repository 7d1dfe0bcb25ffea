//! `[publish]`: which types publish only what changed (spec 8.1), and how often a full snapshot
//! goes out regardless.

use crate::compo::model::DataType;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::time::Duration;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPublish {
    /// Types whose full snapshots are published as the delta of what changed.
    #[serde(default)]
    pub changes_only: Vec<String>,
    /// How often such a type still gets a full snapshot ("24h" by default).
    pub full_every: Option<String>,
    /// How often the record store is checked against the texts it keeps ("24h" by default).
    pub verify_every: Option<String>,
}

#[derive(Debug, Clone)]
pub struct PublishSettings {
    pub changes_only: BTreeSet<DataType>,
    pub full_every: Duration,
    pub verify_every: Duration,
}

impl Default for PublishSettings {
    fn default() -> Self {
        PublishSettings {
            changes_only: BTreeSet::new(),
            full_every: Duration::from_secs(24 * 3600),
            verify_every: Duration::from_secs(24 * 3600),
        }
    }
}

/// Types that the portal only ever receives (they come from `out/` or travel as events) make
/// no sense as changes-only: the portal does not hold a snapshot of them.
const NOT_DIFFABLE: &[DataType] = &[DataType::Orders, DataType::Acts];

impl PublishSettings {
    /// Checks `[publish]`; an error names the key (without `publish.`) and what to write.
    pub fn from_raw(raw: RawPublish) -> Result<PublishSettings, (String, String)> {
        let mut changes_only = BTreeSet::new();
        for name in &raw.changes_only {
            let t = DataType::from_name(name).ok_or_else(|| {
                (
                    "changes_only".to_string(),
                    format!(
                        "{name:?} is not a data type (names are case-sensitive); write e.g. \
                         [\"products\", \"prices\", \"remains\"]"
                    ),
                )
            })?;
            if NOT_DIFFABLE.contains(&t) {
                return Err((
                    "changes_only".to_string(),
                    format!(
                        "{name:?}: {name} are sent as deltas already (the portal keeps no \
                         snapshot of them); leave it out"
                    ),
                ));
            }
            changes_only.insert(t);
        }
        let duration = |key: &str, v: Option<&str>| match v {
            None => Ok(Duration::from_secs(24 * 3600)),
            Some(t) => humantime::parse_duration(t).map_err(|e| {
                (
                    key.to_string(),
                    format!("{t:?} is not a duration ({e}); write e.g. \"24h\", \"7d\", \"12h\""),
                )
            }),
        };
        Ok(PublishSettings {
            changes_only,
            full_every: duration("full_every", raw.full_every.as_deref())?,
            verify_every: duration("verify_every", raw.verify_every.as_deref())?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_only_takes_data_types_and_a_duration() {
        let s = PublishSettings::from_raw(RawPublish {
            changes_only: vec!["products".into(), "remains".into()],
            full_every: Some("12h".into()),
            verify_every: None,
        })
        .unwrap();
        assert!(s.changes_only.contains(&DataType::Products));
        assert_eq!(s.full_every, Duration::from_secs(12 * 3600));
        let e = PublishSettings::from_raw(RawPublish {
            changes_only: vec!["Products".into()],
            full_every: None,
            verify_every: None,
        })
        .unwrap_err();
        assert_eq!(e.0, "changes_only");
        assert!(e.1.contains("\"Products\""), "{}", e.1);
        let e = PublishSettings::from_raw(RawPublish {
            changes_only: vec![],
            full_every: Some("daily".into()),
            verify_every: None,
        })
        .unwrap_err();
        assert!(e.1.contains("24h"), "{}", e.1);
        assert!(PublishSettings::from_raw(RawPublish {
            changes_only: vec!["orders".into()],
            full_every: None,
            verify_every: None,
        })
        .is_err());
    }
}
