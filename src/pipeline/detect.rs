//! Finding files that are ready to take: change events from the outbox (notify) when they can be
//! had, a poll otherwise and in any case, and the settle rule of spec 3.2 for writers that
//! cannot rename (a file is taken once its size, modification time and identity have stayed the
//! same for the settle time, and a data file once it also ends like a JSON array).

use super::fsutil;
use crate::compo::model::is_temporary_name;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// What was seen of a file the last time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Look {
    size: u64,
    mtime: Option<SystemTime>,
    ino: u64,
}

#[derive(Debug, Clone, Copy)]
struct Watch {
    look: Look,
    /// When we last saw it change (or first saw it).
    changed_at: Instant,
}

/// Tracks candidate files in the outbox until they settle.
pub struct Detector {
    settle: Duration,
    grace: Duration,
    seen: HashMap<PathBuf, Watch>,
}

/// A file that has settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ready {
    pub path: PathBuf,
    pub name: String,
    pub size: u64,
}

fn look(path: &Path) -> Option<Look> {
    let md = std::fs::metadata(path).ok()?;
    if !md.is_file() {
        return None;
    }
    #[cfg(unix)]
    let ino = std::os::unix::fs::MetadataExt::ino(&md);
    #[cfg(not(unix))]
    let ino = 0;
    Some(Look {
        size: md.len(),
        mtime: md.modified().ok(),
        ino,
    })
}

impl Detector {
    pub fn new(settle: Duration, grace: Duration) -> Detector {
        Detector {
            settle,
            grace,
            seen: HashMap::new(),
        }
    }

    /// Looks at the files of `dir` (not below it) whose names pass `wanted`, at time `now`, and
    /// returns those that have settled. `json_tail` asks for the "ends with ]" check.
    pub fn scan(
        &mut self,
        dir: &Path,
        now: Instant,
        json_tail: bool,
        wanted: impl Fn(&str) -> bool,
    ) -> Vec<Ready> {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut present = std::collections::HashSet::new();
        let mut ready = Vec::new();
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if is_temporary_name(&name) || !wanted(&name) {
                continue;
            }
            let path = e.path();
            let Some(l) = look(&path) else { continue };
            present.insert(path.clone());
            let w = self.seen.entry(path.clone()).or_insert(Watch {
                look: l,
                changed_at: now,
            });
            if w.look != l {
                *w = Watch {
                    look: l,
                    changed_at: now,
                };
            }
            // Quiet is measured from our own observations, not from the file's mtime: some
            // writers keep the original mtime while they write.
            let quiet = now.saturating_duration_since(w.changed_at);
            if quiet < self.settle {
                continue;
            }
            if json_tail
                && l.size > 0
                && quiet < self.grace
                && !fsutil::ends_like_array(&path).unwrap_or(false)
            {
                continue;
            }
            ready.push(Ready {
                path,
                name,
                size: l.size,
            });
        }
        self.seen
            .retain(|p, _| p.parent() != Some(dir) || present.contains(p));
        ready
    }

    /// Forgets a file once it was taken.
    pub fn taken(&mut self, path: &Path) {
        self.seen.remove(path);
    }

    /// Whether some file is still waiting to settle (the caller then looks again soon).
    pub fn waiting(&self) -> bool {
        !self.seen.is_empty()
    }

    /// Names of the files seen but not taken yet.
    pub fn waiting_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .seen
            .keys()
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        v.sort();
        v
    }

    /// How long until the first waiting file has been quiet for the settle time, so that the
    /// daemon looks again exactly then rather than at its next poll.
    pub fn next_settle_in(&self, now: Instant) -> Option<Duration> {
        self.seen
            .values()
            .map(|w| (w.changed_at + self.settle).saturating_duration_since(now))
            // Settled files that still wait (not yet ending like an array) are looked at
            // again at the poll interval, not in a tight loop.
            .filter(|d| !d.is_zero())
            .min()
    }
}

/// Change events from the file system, when watching is possible.
pub struct Events {
    _watcher: Option<notify::RecommendedWatcher>,
    rx: crossbeam_channel::Receiver<()>,
}

impl Events {
    /// Watches `dirs` recursively. Returns a source that never fires when watching fails (the
    /// poll then does all the work), and says so in the log.
    pub fn watch(dirs: &[&Path]) -> Events {
        use notify::Watcher;
        let (tx, rx) = crossbeam_channel::bounded(1);
        let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            if res.is_ok() {
                let _ = tx.try_send(());
            }
        });
        let watcher = match watcher {
            Ok(mut w) => {
                let mut ok = true;
                for d in dirs {
                    if let Err(e) = w.watch(d, notify::RecursiveMode::Recursive) {
                        tracing::warn!(folder = %d.display(), error = %e, "cannot watch; polling instead");
                        ok = false;
                    }
                }
                ok.then_some(w)
            }
            Err(e) => {
                tracing::warn!(error = %e, "file system events unavailable; polling instead");
                None
            }
        };
        Events {
            _watcher: watcher,
            rx,
        }
    }

    /// A source that never fires (polling only).
    pub fn none() -> Events {
        let (_tx, rx) = crossbeam_channel::bounded(1);
        Events { _watcher: None, rx }
    }

    /// Waits up to `timeout` for a change; true when one came.
    pub fn wait(&self, timeout: Duration) -> bool {
        self.rx.recv_timeout(timeout).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn a_file_is_ready_only_after_it_settles() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("products.json");
        fs::write(&p, "[{\"id\":\"1\"}").unwrap();
        let settle = Duration::from_millis(100);
        let mut det = Detector::new(settle, Duration::from_secs(60));
        let t0 = Instant::now();
        assert!(det.scan(d.path(), t0, true, |_| true).is_empty());
        // Growing: the clock of quiet restarts.
        fs::write(&p, "[{\"id\":\"1\"},{\"id\":\"2\"}").unwrap();
        assert!(det
            .scan(d.path(), t0 + settle * 3, true, |_| true)
            .is_empty());
        // Quiet but not a complete array: still waits, within the grace.
        assert!(det
            .scan(d.path(), t0 + settle * 6, true, |_| true)
            .is_empty());
        fs::write(&p, "[{\"id\":\"1\"},{\"id\":\"2\"}]").unwrap();
        let t1 = t0 + settle * 7;
        assert!(det.scan(d.path(), t1, true, |_| true).is_empty());
        let r = det.scan(d.path(), t1 + settle, true, |_| true);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].name, "products.json");
    }

    #[test]
    fn temporary_names_are_ignored_and_truncated_files_taken_after_grace() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("products.json.part"), "[").unwrap();
        fs::write(d.path().join("prices.json"), "[{").unwrap();
        let mut det = Detector::new(Duration::ZERO, Duration::from_millis(50));
        let t0 = Instant::now();
        assert!(det.scan(d.path(), t0, true, |_| true).is_empty());
        let r = det.scan(d.path(), t0 + Duration::from_millis(60), true, |_| true);
        assert_eq!(
            r.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            ["prices.json"]
        );
    }
}
