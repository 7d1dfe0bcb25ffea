//! The mass-deletion guard (spec 4.2): a full snapshot that would remove too large a share of
//! what the portal holds of its type is held in `rejected/` instead of being published, until
//! an operator releases it.

use super::{ctx::Ctx, Result};
use crate::compo::messages::msg;
use crate::compo::model::DataType;
use crate::compo::report::{codes, Issue};
use crate::compo::validate::KeyChanges;
use crate::journal::{Entries, FileRow};

/// What a snapshot would remove of the published records of its type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Removal {
    pub removed: usize,
    pub published: usize,
}

impl Removal {
    /// Removals of published records when `snapshot` replaces `published`.
    pub fn of<'a>(published: &Entries, snapshot: impl Iterator<Item = &'a str>) -> Removal {
        // Keys are unique within a valid snapshot, so the kept ones are counted, not collected.
        let kept = snapshot.filter(|k| published.contains_key(*k)).count();
        Removal {
            removed: published.len() - kept,
            published: published.len(),
        }
    }

    /// Whether the guard holds the file: an empty snapshot of a type with records always is,
    /// whatever the limit; otherwise when the removed share is over `limit`.
    pub fn is_held(&self, snapshot_len: usize, limit: f64) -> bool {
        if self.published == 0 || self.removed == 0 {
            return false;
        }
        snapshot_len == 0 || self.removed as f64 > limit * self.published as f64
    }
}

impl Ctx {
    /// The error that holds this snapshot back, or `None` when it may be published. A file the
    /// operator released (same name and content) passes once.
    pub(super) fn mass_delete_hold(
        &mut self,
        row: &FileRow,
        t: DataType,
        keys: &KeyChanges,
    ) -> Result<Option<Issue>> {
        if !keys.snapshot {
            return Ok(None);
        }
        let Some(published) = self.portal.complete(&self.journal, t)? else {
            return Ok(None);
        };
        let r = Removal::of(&published.entries, keys.keys());
        let limit = self.s.snapshot.mass_delete_limit(t);
        if !r.is_held(keys.len(), limit) {
            return Ok(None);
        }
        if self.journal.take_release(&row.name, &row.hash)? {
            tracing::warn!(
                file = %row.name,
                removes = r.removed,
                of = r.published,
                "released by the operator: published despite the mass-deletion guard"
            );
            return Ok(None);
        }
        let share = 100.0 * r.removed as f64 / r.published as f64;
        let lang = self.s.validation.lang;
        let message = if keys.is_empty() {
            msg!(
                lang,
                "snapshot-mass_delete-empty",
                published = r.published,
                type = t.name(),
                file = &row.name
            )
        } else {
            msg!(
                lang,
                "snapshot-mass_delete",
                removed = r.removed,
                published = r.published,
                type = t.name(),
                share = format!("{share:.1}"),
                limit = format!("{:.0}", limit * 100.0),
                file = &row.name
            )
        };
        Ok(Some(Issue::file(codes::SNAPSHOT_MASS_DELETE, message)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(keys: &[&str]) -> Entries {
        keys.iter()
            .map(|k| ((*k).into(), crate::journal::Entry::UNKNOWN))
            .collect()
    }

    #[test]
    fn counts_only_published_records_that_vanish() {
        let p = set(&["a", "b", "c", "d", "e"]);
        let r = Removal::of(&p, ["a", "b", "c", "x", "y"].into_iter());
        assert_eq!(r.removed, 2);
        assert_eq!(r.published, 5);
    }

    #[test]
    fn holds_over_the_share_and_every_empty_snapshot() {
        let p = set(&["a", "b", "c", "d", "e"]);
        // One of five removed: 20%, not over a 20% limit.
        let one = Removal::of(&p, ["a", "b", "c", "d"].into_iter());
        assert!(!one.is_held(4, 0.2));
        let two = Removal::of(&p, ["a", "b", "c"].into_iter());
        assert!(two.is_held(3, 0.2));
        assert!(!two.is_held(3, 0.5));
        let all = Removal::of(&p, std::iter::empty());
        assert!(
            all.is_held(0, 1.0),
            "an empty snapshot is held whatever the limit"
        );
        // Nothing published yet: nothing to protect.
        assert!(!Removal::of(&Entries::default(), std::iter::empty()).is_held(0, 0.2));
    }
}
