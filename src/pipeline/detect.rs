//! Finding outbox files that are ready to take: change events from the outbox (notify) when
//! they can be had, a poll otherwise and in any case, and the settle rule of [`super::settle`];
//! a data file is also waited for until it ends like a JSON array. Where the platform reports
//! it (inotify), a writer that still has a file open is waited for, and its closing the file
//! is the sign that it is complete.

use super::fsutil;
use super::settle::{Look, Settle};
use crate::compo::model::is_temporary_name;
use chrono::{DateTime, FixedOffset};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// Tracks candidate files in the outbox until they settle.
pub struct Detector {
    settle: Settle<PathBuf>,
    grace: Duration,
}

/// What stands where a file is expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    /// A symbolic link, FIFO, socket, device or folder (`link`, `fifo`, `socket`, `device`,
    /// `folder`, `other`: the catalogue's selector): never opened, never followed.
    NotRegular(&'static str),
}

/// A file that has settled (or an entry that is no file at all, to be rejected).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ready {
    pub path: PathBuf,
    pub name: String,
    pub size: u64,
    pub kind: Kind,
}

/// What an entry is, from metadata that does not follow links.
pub fn kind_of(ft: std::fs::FileType) -> Kind {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return Kind::NotRegular("fifo");
        }
        if ft.is_socket() {
            return Kind::NotRegular("socket");
        }
        if ft.is_block_device() || ft.is_char_device() {
            return Kind::NotRegular("device");
        }
    }
    if ft.is_symlink() {
        Kind::NotRegular("link")
    } else if ft.is_dir() {
        Kind::NotRegular("folder")
    } else if ft.is_file() {
        Kind::File
    } else {
        Kind::NotRegular("other")
    }
}

impl Detector {
    pub fn new(settle: Duration, grace: Duration) -> Detector {
        Detector {
            settle: Settle::new(settle),
            grace,
        }
    }

    /// Looks at the entries of `dir` (not below it) whose names pass `wanted`, at time `now`,
    /// and returns the files that have settled, and at once what is no regular file (links are
    /// never followed). Folders are left alone unless `odd_folder` says they stand where a
    /// file is expected. `json_tail` asks for the "ends with ]" check.
    pub fn scan(
        &mut self,
        dir: &Path,
        now: DateTime<FixedOffset>,
        json_tail: bool,
        writers: Option<&Writers>,
        wanted: impl Fn(&str) -> bool,
        odd_folder: impl Fn(&str) -> bool,
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
            let Ok(md) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            match kind_of(md.file_type()) {
                Kind::File => {}
                Kind::NotRegular("folder") if !odd_folder(&name) => continue,
                kind => {
                    ready.push(Ready {
                        path,
                        name,
                        size: 0,
                        kind,
                    });
                    continue;
                }
            }
            let l = Look::of(&md);
            present.insert(path.clone());
            let quiet = self.settle.observe(&path, l, now, false);
            if !self.settle.is_settled(quiet) {
                continue;
            }
            let (open, closed) = writers.map(|w| w.state(&path)).unwrap_or((false, false));
            if open && quiet < self.grace {
                // A writer still has it open: it is not done, whatever the file ends with.
                continue;
            }
            if json_tail
                && !closed
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
                kind: Kind::File,
            });
        }
        self.settle
            .retain(|p| p.parent() != Some(dir) || present.contains(p));
        ready
    }

    /// Forgets a file once it was taken.
    pub fn taken(&mut self, path: &Path) {
        self.settle.forget(path);
    }

    /// Whether some file is still waiting to settle (the caller then looks again soon).
    pub fn waiting(&self) -> bool {
        !self.settle.is_empty()
    }

    /// Names of the files seen but not taken yet.
    pub fn waiting_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .settle
            .keys()
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        v.sort();
        v
    }

    /// How long until the first waiting file has been quiet for the settle time, so that the
    /// daemon looks again exactly then rather than at its next poll.
    pub fn next_settle_in(&self, now: DateTime<FixedOffset>) -> Option<Duration> {
        self.settle.next_settle_in(now)
    }
}

/// Which outbox files a writer has open, from inotify's modify and close-write events: a
/// file written to and not closed since is still being written.
#[derive(Clone)]
pub struct Writers(Arc<Mutex<HashMap<PathBuf, bool>>>, Arc<Vec<PathBuf>>);

impl Writers {
    /// Writers of files in `queues` (not below: the mirrors are not queues, and a library of
    /// 100,000 pictures must not fill this map).
    fn new(queues: Vec<PathBuf>) -> Writers {
        Writers(Arc::default(), Arc::new(queues))
    }

    fn note(&self, ev: &notify::Event) {
        use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind};
        let mut m = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        for p in &ev.paths {
            if !p.parent().is_some_and(|d| self.1.iter().any(|q| q == d)) {
                continue;
            }
            match ev.kind {
                EventKind::Modify(ModifyKind::Data(_)) => {
                    m.insert(p.clone(), true);
                }
                EventKind::Access(AccessKind::Close(AccessMode::Write)) => {
                    m.insert(p.clone(), false);
                }
                EventKind::Remove(_) | EventKind::Modify(ModifyKind::Name(_)) => {
                    m.remove(p);
                }
                _ => {}
            }
        }
    }

    /// (a writer has it open, a writer closed it after writing); both false when unknown.
    pub fn state(&self, path: &Path) -> (bool, bool) {
        let m = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match m.get(path) {
            Some(true) => (true, false),
            Some(false) => (false, true),
            None => (false, false),
        }
    }

    /// Forgets a file (taken: what happens to its inode from now on is not ours to watch).
    pub fn forget(&self, path: &Path) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(path);
    }
}

/// Change events from the file system, when watching is possible.
pub struct Events {
    _watcher: Option<notify::RecommendedWatcher>,
    rx: crossbeam_channel::Receiver<()>,
    writers: Option<Writers>,
}

impl Events {
    /// Watches `dirs` recursively. Returns a source that never fires when watching fails (the
    /// poll then does all the work), and says so in the log.
    pub fn watch(dirs: &[&Path]) -> Events {
        use notify::Watcher;
        let (tx, rx) = crossbeam_channel::bounded(1);
        let writers = Writers::new(
            dirs.iter()
                .flat_map(|d| [d.to_path_buf(), d.join("sellper")])
                .collect(),
        );
        let w2 = writers.clone();
        let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            if let Ok(ev) = res {
                w2.note(&ev);
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
            writers: watcher.is_some().then_some(writers),
            _watcher: watcher,
            rx,
        }
    }

    /// A source that never fires (polling only).
    pub fn none() -> Events {
        let (_tx, rx) = crossbeam_channel::bounded(1);
        Events {
            _watcher: None,
            rx,
            writers: None,
        }
    }

    /// What the events say of open writers; `None` when there are no events.
    pub fn writers(&self) -> Option<&Writers> {
        self.writers.as_ref()
    }
}

impl crate::schedule::Wake for Events {
    fn wait(&self, timeout: Duration) -> bool {
        self.rx.recv_timeout(timeout).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn now() -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2026-11-30T10:00:00Z").unwrap()
    }

    fn scan(det: &mut Detector, d: &Path, at: DateTime<FixedOffset>) -> Vec<Ready> {
        det.scan(d, at, true, None, |_| true, |_| false)
    }

    #[test]
    fn a_file_is_ready_only_after_it_settles() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("products.json");
        fs::write(&p, "[{\"id\":\"1\"}").unwrap();
        let settle = Duration::from_millis(100);
        let mut det = Detector::new(settle, Duration::from_secs(60));
        let t0 = now();
        assert!(scan(&mut det, d.path(), t0).is_empty());
        // Growing: the clock of quiet restarts.
        fs::write(&p, "[{\"id\":\"1\"},{\"id\":\"2\"}").unwrap();
        assert!(scan(&mut det, d.path(), t0 + settle * 3).is_empty());
        // Quiet but not a complete array: still waits, within the grace.
        assert!(scan(&mut det, d.path(), t0 + settle * 6).is_empty());
        fs::write(&p, "[{\"id\":\"1\"},{\"id\":\"2\"}]").unwrap();
        let t1 = t0 + settle * 7;
        assert!(scan(&mut det, d.path(), t1).is_empty());
        let r = scan(&mut det, d.path(), t1 + settle);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].name, "products.json");
    }

    #[test]
    fn temporary_names_are_ignored_and_truncated_files_taken_after_grace() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("products.json.part"), "[").unwrap();
        fs::write(d.path().join("prices.json"), "[{").unwrap();
        let mut det = Detector::new(Duration::ZERO, Duration::from_millis(50));
        let t0 = now();
        assert!(scan(&mut det, d.path(), t0).is_empty());
        let r = scan(&mut det, d.path(), t0 + Duration::from_millis(60));
        assert_eq!(
            r.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            ["prices.json"]
        );
    }
}
