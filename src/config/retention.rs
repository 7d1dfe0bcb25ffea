//! How long the originals in `archive/` and `rejected/` are kept (`archive.keep_days`,
//! `rejected.keep_days`): for ever unless a number of days is set.

use serde::Deserialize;

/// `[archive]` or `[rejected]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKeep {
    /// Whole days; a day's folder older than this is removed. Not set: kept for ever.
    pub keep_days: Option<i64>,
}

/// A hundred years: more is surely a slip (a number of seconds?).
const MAX_DAYS: i64 = 36_500;

/// Days each folder keeps; `None`: kept for ever (the default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retention {
    pub archive: Option<u32>,
    pub rejected: Option<u32>,
}

impl Retention {
    /// Checks both sections; an error names the key and what to write instead.
    pub fn from_raw(archive: &RawKeep, rejected: &RawKeep) -> Result<Retention, (String, String)> {
        let days = |section: &str, v: Option<i64>| match v {
            None => Ok(None),
            Some(d) if (1..=MAX_DAYS).contains(&d) => Ok(Some(d as u32)),
            Some(d) => Err((
                format!("{section}.keep_days"),
                format!(
                    "{d} is not a number of days between 1 and {MAX_DAYS}; remove the key to \
                     keep {section}/ for ever"
                ),
            )),
        };
        Ok(Retention {
            archive: days("archive", archive.keep_days)?,
            rejected: days("rejected", rejected.keep_days)?,
        })
    }

    pub fn enabled(&self) -> bool {
        self.archive.is_some() || self.rejected.is_some()
    }
}
