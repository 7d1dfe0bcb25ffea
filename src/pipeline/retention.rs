//! Retention: the days' folders of `archive/` and `rejected/` older than their `keep_days` are
//! removed, at most once per day of the engine's clock, and never one that holds a file the
//! journal has not finished with.

use super::ctx::Ctx;
use chrono::NaiveDate;
use std::path::{Path, PathBuf};

impl Ctx {
    /// Applies `archive.keep_days` and `rejected.keep_days` once per day (the first call of a
    /// day does the work; the others return at once). Returns the folders removed. A folder
    /// that cannot be removed is logged and tried again the next day; a journal that cannot
    /// be read now (another connection writing) puts it off to the next pass.
    pub fn apply_retention(&mut self) -> Vec<PathBuf> {
        let r = self.s.retention;
        let today = self.now().date_naive();
        if !r.enabled() || self.retained_on == Some(today) {
            return Vec::new();
        }
        // A file still on its way (its end chosen, not yet moved, or being archived) keeps
        // its folder whatever its age.
        let unfinished = match self.journal.unfinished() {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "retention put off: the journal cannot be read now");
                return Vec::new();
            }
        };
        let busy: Vec<PathBuf> = unfinished
            .into_iter()
            .filter_map(|row| row.final_path)
            .filter_map(|p| Path::new(&p).parent().map(Path::to_path_buf))
            .collect();
        let mut removed = Vec::new();
        for (root, keep, key) in [
            (&self.s.folders.archive, r.archive, "archive.keep_days"),
            (&self.s.folders.rejected, r.rejected, "rejected.keep_days"),
        ] {
            let Some(keep) = keep else { continue };
            let Some(cutoff) = today.checked_sub_days(chrono::Days::new(keep.into())) else {
                continue;
            };
            for (day, dir) in days_below(root) {
                if day >= cutoff {
                    continue;
                }
                if busy.iter().any(|b| b == &dir) {
                    tracing::info!(folder = %dir.display(), "kept past {key}: a file in it is still being finished");
                    continue;
                }
                match std::fs::remove_dir_all(&dir) {
                    Ok(()) => {
                        tracing::info!(folder = %dir.display(), "removed: older than {key} = {keep}");
                        removed.push(dir);
                    }
                    Err(e) => {
                        tracing::warn!(folder = %dir.display(), error = %e, "could not remove a folder older than {key}; trying again tomorrow");
                    }
                }
            }
        }
        self.retained_on = Some(today);
        removed
    }
}

/// The folders below `root` named by a day (`2026-11-30`), with that day; anything else there
/// (files of older releases, `rejected/pictures`) is not ours to age.
fn days_below(root: &Path) -> Vec<(NaiveDate, PathBuf)> {
    let Ok(rd) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut v: Vec<(NaiveDate, PathBuf)> = rd
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let day = NaiveDate::parse_from_str(&name, "%Y-%m-%d").ok()?;
            // Only the canonical spelling: `2026-1-5` is not a folder we made.
            (day.format("%Y-%m-%d").to_string() == name).then(|| (day, e.path()))
        })
        .collect();
    v.sort();
    v
}

#[cfg(test)]
mod tests {
    use crate::config::Settings;
    use crate::journal::{NewFile, Origin, State, Update};
    use crate::pipeline::Engine;
    use crate::schedule::FakeClock;
    use crate::transport::local::LocalTransport;
    use std::path::Path;
    use std::sync::Arc;

    fn put(p: &Path) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "[]").unwrap();
    }

    #[test]
    fn old_days_go_once_a_day_and_a_folder_with_a_file_in_flight_stays() {
        let d = tempfile::tempdir().unwrap();
        let cfg = d.path().join("c.toml");
        std::fs::write(
            &cfg,
            format!(
                "workdir = {:?}\n[archive]\nkeep_days = 3\n[rejected]\nkeep_days = 1\n",
                d.path()
            ),
        )
        .unwrap();
        let s = Settings::load(Some(&cfg), &Default::default()).unwrap();
        let (archive, rejected) = (s.folders.archive.clone(), s.folders.rejected.clone());
        let clock = FakeClock::new(
            chrono::DateTime::parse_from_rfc3339("2026-12-01T10:00:00+03:00").unwrap(),
        );
        let server = LocalTransport::new(d.path().join("server"));
        let mut e = Engine::with_clock(s, Arc::new(server), Arc::new(clock.clone())).unwrap();
        for f in [
            "2026-11-20/a.json",
            "2026-11-28/b.json",
            "2026-11-10/c.json",
            "not-a-day/d.json",
            "2026-1-5/e.json",
        ] {
            put(&archive.join(f));
        }
        put(&archive.join("flat.json"));
        for f in [
            "2026-11-29/x.json",
            "2026-11-29/x.json.report.json",
            "2026-11-30/y.json",
            "pictures/p.png.report.json",
        ] {
            put(&rejected.join(f));
        }
        // A file whose end in archive/2026-11-10/ is chosen but not reached yet.
        let id =
            e.cx.journal
                .begin(
                    &NewFile {
                        origin: Origin::Outbox,
                        name: "c.json",
                        data_type: None,
                        snapshot: false,
                        size: 2,
                        hash: "h",
                        work_path: None,
                    },
                    State::Claimed,
                )
                .unwrap();
        let end = archive.join("2026-11-10/c-2.json");
        e.cx.journal
            .transition(
                id,
                State::Claimed,
                Update {
                    final_path: Some(&end.to_string_lossy()),
                    ..Default::default()
                },
            )
            .unwrap();

        let mut removed = e.cx.apply_retention();
        removed.sort();
        // Today 2026-12-01: archive keeps 3 days back (from 11-28), rejected 1 (from 11-30).
        assert_eq!(
            removed,
            vec![archive.join("2026-11-20"), rejected.join("2026-11-29")]
        );
        for kept in [
            archive.join("2026-11-28/b.json"),
            archive.join("2026-11-10/c.json"),
            archive.join("not-a-day/d.json"),
            archive.join("2026-1-5/e.json"),
            archive.join("flat.json"),
            rejected.join("2026-11-30/y.json"),
            rejected.join("pictures/p.png.report.json"),
        ] {
            assert!(kept.exists(), "{} was removed", kept.display());
        }

        // Once a day: an old folder appearing later the same day waits for tomorrow.
        put(&archive.join("2026-11-21/f.json"));
        assert!(e.cx.apply_retention().is_empty());
        assert!(archive.join("2026-11-21").exists());
        clock.advance(std::time::Duration::from_secs(24 * 3600));
        // 2026-12-02: 11-28 is now beyond archive's three days too, and 11-30 beyond one.
        let mut removed = e.cx.apply_retention();
        removed.sort();
        assert_eq!(
            removed,
            vec![
                archive.join("2026-11-21"),
                archive.join("2026-11-28"),
                rejected.join("2026-11-30")
            ]
        );
        // Finished, the file no longer holds its folder.
        e.cx.journal
            .transition(id, State::Rejecting, Update::default())
            .unwrap();
        e.cx.journal
            .transition(id, State::Rejected, Update::default())
            .unwrap();
        clock.advance(std::time::Duration::from_secs(24 * 3600));
        assert_eq!(e.cx.apply_retention(), vec![archive.join("2026-11-10")]);
    }

    #[test]
    fn keep_days_must_be_a_number_of_days_and_the_error_names_the_key() {
        let d = tempfile::tempdir().unwrap();
        let cfg = d.path().join("c.toml");
        for (text, key) in [
            ("[archive]\nkeep_days = 0\n", "archive.keep_days"),
            ("[rejected]\nkeep_days = -3\n", "rejected.keep_days"),
            ("[rejected]\nkeep_days = 100000\n", "rejected.keep_days"),
        ] {
            std::fs::write(&cfg, text).unwrap();
            let e = Settings::load(Some(&cfg), &Default::default())
                .err()
                .expect("refused")
                .to_string();
            assert!(e.starts_with(key) && e.contains("number of days"), "{e}");
        }
        // A duration string or an unknown key is refused by the parser, naming it.
        std::fs::write(&cfg, "[archive]\nkeep_days = \"30d\"\n").unwrap();
        let e = Settings::load(Some(&cfg), &Default::default())
            .err()
            .unwrap();
        assert!(e.to_string().contains("keep_days"), "{e}");
        std::fs::write(&cfg, "[archive]\nkeep_day = 30\n").unwrap();
        let e = Settings::load(Some(&cfg), &Default::default())
            .err()
            .unwrap();
        assert!(e.to_string().contains("keep_day"), "{e}");
        // Off by default.
        std::fs::write(&cfg, "").unwrap();
        let s = Settings::load(Some(&cfg), &Default::default()).unwrap();
        assert!(!s.retention.enabled());
    }
}
