//! The settle rule of spec 3.2, the one place that decides when an arriving file is complete,
//! for the outbox, its mirrors and the server's `out/` alike: a file is taken once what we see
//! of it (size, modification time, identity) has stayed the same for the settle time, measured
//! on the engine's clock from our own observations. Some writers keep the original mtime while
//! they write, so the file's own times are not trusted, except where a caller says that the
//! writers of a folder always set them (the attached-file mirrors): there a file whose mtime is
//! already older than the settle time counts as quiet since then.

use chrono::{DateTime, FixedOffset};
use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, SystemTime};

/// What is seen of a file at one look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Look {
    pub size: u64,
    pub mtime: Option<SystemTime>,
    /// The inode where there is one (a file replaced under the same name is a new file).
    pub id: u64,
}

impl Look {
    /// The look of a local file from metadata taken without following links.
    pub fn of(md: &std::fs::Metadata) -> Look {
        #[cfg(unix)]
        let id = std::os::unix::fs::MetadataExt::ino(md);
        #[cfg(not(unix))]
        let id = 0;
        Look {
            size: md.len(),
            mtime: md.modified().ok(),
            id,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Watch {
    look: Look,
    /// When this look was first seen (or, for trusted mtimes, when the file last changed).
    since: DateTime<FixedOffset>,
}

/// Candidate files keyed by `K` (a path, a server name) until they settle.
#[derive(Debug)]
pub struct Settle<K> {
    settle: Duration,
    seen: HashMap<K, Watch>,
}

impl<K: Hash + Eq + Clone> Settle<K> {
    pub fn new(settle: Duration) -> Settle<K> {
        Settle {
            settle,
            seen: HashMap::new(),
        }
    }

    pub fn settle(&self) -> Duration {
        self.settle
    }

    /// Notes what `key` looks like at `now` and returns how long it has looked so. With
    /// `trust_mtime`, a first sight counts from the file's own modification time when that is
    /// earlier.
    pub fn observe(
        &mut self,
        key: &K,
        look: Look,
        now: DateTime<FixedOffset>,
        trust_mtime: bool,
    ) -> Duration {
        let since = match (trust_mtime, look.mtime) {
            (true, Some(m)) => {
                let m: DateTime<FixedOffset> = DateTime::<chrono::Utc>::from(m).fixed_offset();
                m.min(now)
            }
            _ => now,
        };
        let w = self
            .seen
            .entry(key.clone())
            .or_insert(Watch { look, since });
        if w.look != look {
            *w = Watch { look, since: now };
        }
        crate::schedule::between(w.since, now)
    }

    /// Whether a file quiet for `quiet` has settled.
    pub fn is_settled(&self, quiet: Duration) -> bool {
        quiet >= self.settle
    }

    /// Forgets a file (taken, or gone).
    pub fn forget<Q>(&mut self, key: &Q)
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.seen.remove(key);
    }

    /// Keeps only the files `keep` names.
    pub fn retain(&mut self, mut keep: impl FnMut(&K) -> bool) {
        self.seen.retain(|k, _| keep(k));
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.seen.keys()
    }

    /// How long until the first waiting file will have been quiet for the settle time, so that
    /// the daemon looks again exactly then; `None` when none is still short of it.
    pub fn next_settle_in(&self, now: DateTime<FixedOffset>) -> Option<Duration> {
        self.seen
            .values()
            .map(|w| {
                self.settle
                    .saturating_sub(crate::schedule::between(w.since, now))
            })
            .filter(|d| !d.is_zero())
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    fn look(size: u64, mtime: Option<SystemTime>) -> Look {
        Look { size, mtime, id: 1 }
    }

    #[test]
    fn quiet_is_counted_from_our_own_looks_and_restarts_on_a_change() {
        let mut s = Settle::new(Duration::from_secs(2));
        let t0 = at("2026-11-30T10:00:00Z");
        let old = Some(SystemTime::UNIX_EPOCH);
        assert_eq!(s.observe(&"a", look(1, old), t0, false), Duration::ZERO);
        let q = s.observe(&"a", look(1, old), at("2026-11-30T10:00:01Z"), false);
        assert!(!s.is_settled(q));
        assert_eq!(
            s.next_settle_in(at("2026-11-30T10:00:01Z")),
            Some(Duration::from_secs(1))
        );
        // Grew: the quiet starts again.
        let q = s.observe(&"a", look(2, old), at("2026-11-30T10:00:02Z"), false);
        assert_eq!(q, Duration::ZERO);
        let q = s.observe(&"a", look(2, old), at("2026-11-30T10:00:04Z"), false);
        assert!(s.is_settled(q));
        assert_eq!(s.next_settle_in(at("2026-11-30T10:00:04Z")), None);
    }

    #[test]
    fn a_trusted_old_mtime_settles_at_first_sight_a_young_one_does_not() {
        let mut s = Settle::new(Duration::from_secs(2));
        let now = at("2026-11-30T10:00:00Z");
        let old = SystemTime::from(now - chrono::TimeDelta::seconds(60));
        let young = SystemTime::from(now - chrono::TimeDelta::milliseconds(500));
        let q = s.observe(&"old", look(1, Some(old)), now, true);
        assert!(s.is_settled(q));
        let q = s.observe(&"young", look(1, Some(young)), now, true);
        assert!(!s.is_settled(q));
        // Untrusted, the same old mtime counts for nothing.
        let q = s.observe(&"other", look(1, Some(old)), now, false);
        assert!(!s.is_settled(q));
    }
}
