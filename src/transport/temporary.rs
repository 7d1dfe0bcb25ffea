//! The names the processor gives its temporary files on a server, in one list, and what
//! start-up recovery does with each one it finds: remove it, or put it back.
//!
//! Every temporary is hidden (`.` first) and sits beside the file it is for. A kind added
//! later goes into [`KINDS`], and recovery knows it from then on. Nothing that is not ours is
//! ever touched: a file of someone else's, hidden or not, stays.

use super::{join, Entry, Result, Transport, TransportError};
use std::collections::HashSet;

/// What a temporary is for, which says what recovery does with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `.NAME.part`: an upload by [`Transport::write_atomic`] not yet renamed onto NAME.
    Part,
    /// `.NAME.ID.ce-up` ([`upload_name`]): a data file uploaded by the pipeline under a hidden
    /// name, renamed onto NAME once the journal says so. The journal
    /// knows the ones it will still rename; the others are left from a cut-off upload.
    Upload,
    /// `.NAME.old`: the file NAME moved aside by the fallback replace of a server without
    /// atomic rename-over (SFTP without posix-rename), removed once the new file is in. If
    /// NAME is missing, the server stopped between the two renames: this is the last
    /// complete NAME and goes back.
    Old,
}

/// Every temporary name of ours: its suffix and what it is.
pub const KINDS: &[(&str, Kind)] = &[
    (".part", Kind::Part),
    (".ce-up", Kind::Upload),
    (".old", Kind::Old),
];

/// Which of our temporaries `name` is (a file name, no folder), if any.
pub fn kind_of(name: &str) -> Option<Kind> {
    let rest = name.strip_prefix('.')?;
    KINDS.iter().find_map(|(suffix, kind)| {
        // Something must stand between the dot and the suffix: `.part` alone is not ours.
        rest.strip_suffix(suffix)
            .filter(|stem| !stem.is_empty())
            .map(|_| *kind)
    })
}

/// Whether `name` (a file name) is one of our temporaries.
pub fn is_ours(name: &str) -> bool {
    kind_of(name).is_some()
}

/// The temporary name an upload of `path` is written under: `.NAME.part` beside it (spec 3.3).
pub fn part_name(path: &str) -> String {
    beside(path, ".part")
}

/// The hidden name the pipeline uploads a data file under before renaming it onto `target`
/// (a file name in `in/`): `.NAME.ID.ce-up`, ID being the file's journal row.
pub fn upload_name(target: &str, id: i64) -> String {
    format!(".{target}.{id}.ce-up")
}

/// Where the fallback replace parks the file at `path` it replaces: `.NAME.old` beside it.
pub fn old_name(path: &str) -> String {
    beside(path, ".old")
}

fn beside(path: &str, suffix: &str) -> String {
    match path.rsplit_once('/') {
        Some((dir, name)) => format!("{dir}/.{name}{suffix}"),
        None => format!(".{path}{suffix}"),
    }
}

/// What to do with the temporaries of one folder.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Cleanup {
    /// `(.NAME.old, NAME)`: files to rename back, NAME being missing.
    pub restore: Vec<(String, String)>,
    /// Temporaries to remove (file names).
    pub remove: Vec<String>,
}

/// Given a folder's listing, says what to put back and what to remove. `keep` names the
/// temporaries still needed (an upload the journal will finish); they and everything that is
/// not ours stay.
pub fn plan(entries: &[Entry], keep: impl Fn(&str) -> bool) -> Cleanup {
    let present: HashSet<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    let mut out = Cleanup::default();
    for e in entries.iter().filter(|e| !e.is_dir && !keep(&e.name)) {
        match kind_of(&e.name) {
            None => {}
            Some(Kind::Old) => {
                let name = &e.name[1..e.name.len() - ".old".len()];
                if present.contains(name) {
                    out.remove.push(e.name.clone());
                } else {
                    out.restore.push((e.name.clone(), name.to_string()));
                }
            }
            Some(Kind::Part | Kind::Upload) => out.remove.push(e.name.clone()),
        }
    }
    out.restore.sort();
    out.remove.sort();
    out
}

/// What [`clean`] did in one folder.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Cleaned {
    pub restored: usize,
    pub removed: usize,
}

/// Puts back the files a fallback replace left aside and removes our other temporaries in the
/// server folder `dir`, except those `keep` names; a missing folder has none. Run only while
/// nothing else writes to the folder (start-up recovery).
pub fn clean(t: &dyn Transport, dir: &str, keep: impl Fn(&str) -> bool) -> Result<Cleaned> {
    let entries = match t.list(dir) {
        Ok(e) => e,
        Err(TransportError::NotFound { .. }) => return Ok(Cleaned::default()),
        Err(e) => return Err(e),
    };
    let todo = plan(&entries, keep);
    for (old, name) in &todo.restore {
        let (from, to) = (join(dir, old), join(dir, name));
        t.rename(&from, &to)?;
        tracing::warn!(
            path = %to,
            "put back the previous file: the server stopped while it was being replaced"
        );
    }
    for name in &todo.remove {
        let path = join(dir, name);
        t.remove(&path)?;
        tracing::info!(path = %path, "removed a stale temporary");
    }
    Ok(Cleaned {
        restored: todo.restore.len(),
        removed: todo.remove.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str) -> Entry {
        Entry {
            name: name.into(),
            size: 1,
            mtime: None,
            is_dir: false,
        }
    }

    #[test]
    fn temporaries_sit_beside_their_file() {
        assert_eq!(part_name("in/products.json"), "in/.products.json.part");
        assert_eq!(part_name("a.json"), ".a.json.part");
        assert_eq!(old_name("in/a.json"), "in/.a.json.old");
        assert_eq!(old_name("a.json"), ".a.json.old");
        assert_eq!(upload_name("products.json", 17), ".products.json.17.ce-up");
        assert_eq!(kind_of(&upload_name("a.json", 1)), Some(Kind::Upload));
        for p in ["in/pictures/p 1.jpg", "a.json"] {
            for t in [part_name(p), old_name(p)] {
                assert!(is_ours(t.rsplit('/').next().unwrap()), "{t}");
            }
        }
    }

    #[test]
    fn only_our_own_names_are_ours() {
        for ours in [
            ".a.json.part",
            ".products.json.17.ce-up",
            ".p1-main.jpg.old",
            ". .old",
        ] {
            assert!(is_ours(ours), "{ours}");
        }
        for theirs in [
            "a.json",
            "a.json.part",
            "a.json.old",
            ".part",
            ".old",
            ".ce-up",
            ".hidden",
            ".a.json.tmp",
            ".a.json.partial",
            "products.json.ce-up",
        ] {
            assert!(!is_ours(theirs), "{theirs}");
        }
        assert_eq!(kind_of(".x.part"), Some(Kind::Part));
        assert_eq!(kind_of(".x.1.ce-up"), Some(Kind::Upload));
        assert_eq!(kind_of(".x.old"), Some(Kind::Old));
    }

    #[test]
    fn an_old_file_whose_name_is_free_goes_back_and_the_rest_of_ours_goes() {
        let listing: Vec<Entry> = [
            // Stopped between the renames: the new file is not in, the old one goes back.
            ".products.json.old",
            ".products.json.12.ce-up",
            // Stopped after the second rename: the new file is in, the old one goes.
            "prices.json",
            ".prices.json.old",
            // A cut-off upload.
            ".remains.json.part",
            // Not ours, or still needed.
            "orders.json",
            ".orders.json.tmp",
            ".segments.json.40.ce-up",
        ]
        .into_iter()
        .map(file)
        .collect();
        let todo = plan(&listing, |n| n == ".segments.json.40.ce-up");
        assert_eq!(
            todo.restore,
            [(
                ".products.json.old".to_string(),
                "products.json".to_string()
            )]
        );
        assert_eq!(
            todo.remove,
            [
                ".prices.json.old",
                ".products.json.12.ce-up",
                ".remains.json.part"
            ]
        );
    }

    #[test]
    fn folders_are_never_touched() {
        let mut d = file(".x.old");
        d.is_dir = true;
        assert_eq!(plan(&[d], |_| false), Cleanup::default());
    }

    #[test]
    fn clean_puts_back_and_removes_on_a_real_folder() {
        use crate::transport::local::LocalTransport;
        let d = tempfile::tempdir().unwrap();
        let t = LocalTransport::new(d.path());
        t.mkdir_all("in/pictures").unwrap();
        let put = |p: &str, b: &[u8]| std::fs::write(d.path().join(p), b).unwrap();
        put("in/pictures/.p1.jpg.old", b"old picture");
        put("in/pictures/.p1.jpg.part", b"new pict");
        put("in/pictures/.p2.jpg.old", b"old p2");
        put("in/pictures/p2.jpg", b"new p2");
        put("in/pictures/.keep.me", b"not ours");
        let done = clean(&t, "in/pictures", |_| false).unwrap();
        assert_eq!(
            done,
            Cleaned {
                restored: 1,
                removed: 2
            }
        );
        let mut left: Vec<_> = std::fs::read_dir(d.path().join("in/pictures"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, [".keep.me", "p1.jpg", "p2.jpg"]);
        assert_eq!(
            std::fs::read(d.path().join("in/pictures/p1.jpg")).unwrap(),
            b"old picture"
        );
        assert_eq!(
            std::fs::read(d.path().join("in/pictures/p2.jpg")).unwrap(),
            b"new p2"
        );
        assert_eq!(clean(&t, "missing", |_| false).unwrap(), Cleaned::default());
    }
}
