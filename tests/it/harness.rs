//! Small helpers shared by the integration tests: temporary folders, running the CLI.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository's `fixtures/` folder.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// A command for the binary under test, with logs kept quiet unless asked for.
pub fn cli() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_compo-exchange"));
    c.env_remove("RUST_LOG");
    // Messages follow the locale: the tests read them in English unless they say otherwise.
    c.env("LC_ALL", "C.UTF-8");
    c
}

/// Runs the binary with `args` and returns its output.
pub fn run<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    cli().args(args).output().expect("run compo-exchange")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fresh temporary folder, removed when dropped.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("compo-it-")
        .tempdir()
        .expect("tempdir")
}

/// A work folder with a config that publishes at every pass and settles fast.
pub struct Work {
    pub dir: tempfile::TempDir,
}

impl Work {
    pub fn new() -> Work {
        Work::with_config("")
    }

    /// `extra` is appended to the generated config (TOML).
    pub fn with_config(extra: &str) -> Work {
        let dir = tempdir();
        let mut cfg = format!(
            "workdir = {:?}\n{extra}\n",
            dir.path().display().to_string()
        );
        if !extra.contains("[detect]") {
            cfg.push_str("[detect]\nsettle_secs = 0.05\npoll_secs = 0.05\n");
        }
        if !extra.contains("[schedule]") {
            cfg.push_str("[schedule]\n");
            for j in compo_exchange::schedule::Job::ALL {
                cfg.push_str(&format!("{} = \"immediate\"\n", j.key()));
            }
        }
        std::fs::write(dir.path().join("config.toml"), cfg).unwrap();
        Work { dir }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Where `name` (a file or a report) is in `rejected/`: in the day's folder that holds it
    /// (rejected files are kept by day, `rejected/YYYY-MM-DD/NAME`), else where today's would be.
    pub fn rejected(&self, name: &str) -> PathBuf {
        let root = self.path("rejected");
        let mut days: Vec<PathBuf> = std::fs::read_dir(&root)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.path())
                    .filter(|p| {
                        p.is_dir()
                            && p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                                chrono::NaiveDate::parse_from_str(n, "%Y-%m-%d").is_ok()
                            })
                    })
                    .collect()
            })
            .unwrap_or_default();
        days.sort();
        days.iter()
            .rev()
            .map(|d| d.join(name))
            .find(|p| p.exists())
            .unwrap_or_else(|| {
                root.join(chrono::Local::now().format("%Y-%m-%d").to_string())
                    .join(name)
            })
    }

    /// The newest day's folder in `rejected/` (today's when there is none yet).
    pub fn rejected_dir(&self) -> PathBuf {
        self.rejected("")
    }

    /// The names of the data files and reports kept in `rejected/`, every day's folder
    /// together (attached files' reports, in `rejected/pictures` and `rejected/invoices`, not).
    pub fn rejected_names(&self) -> Vec<String> {
        let root = self.path("rejected");
        let mut v: Vec<String> = std::fs::read_dir(&root)
            .map(|rd| {
                rd.flatten()
                    .filter(|e| {
                        let n = e.file_name();
                        let n = n.to_string_lossy();
                        chrono::NaiveDate::parse_from_str(&n, "%Y-%m-%d").is_ok()
                    })
                    .flat_map(|e| names(&e.path()))
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    pub fn config(&self) -> PathBuf {
        self.path("config.toml")
    }

    /// Runs a subcommand with this work folder's config.
    pub fn run(&self, cmd: &str, more: &[&str]) -> Output {
        let mut c = cli();
        c.arg(cmd).arg("--config").arg(self.config()).args(more);
        c.output().expect("run compo-exchange")
    }

    /// Drops a file into the outbox the way a careful writer does: temporary name, rename.
    /// A valid file (published) and a file that refers to a missing category (rejected).
    pub fn one_published_one_rejected() -> Work {
        let w = Work::new();
        w.drop_file("categories.json", br#"[{"id":"c1","name":"All"}]"#);
        w.drop_file(
            "products.json",
            br#"[{"id":"p1","name":"P","category_id":"c-missing","unit":"pcs"}]"#,
        );
        w
    }

    pub fn drop_file(&self, rel: &str, bytes: &[u8]) {
        let to = self.path("outbox").join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        let tmp = to.with_file_name(format!(
            ".{}.tmp",
            to.file_name().unwrap().to_string_lossy()
        ));
        std::fs::write(&tmp, bytes).unwrap();
        std::fs::rename(&tmp, &to).unwrap();
    }

    /// Puts a file into the local server's out/, as the portal does.
    pub fn portal_writes(&self, name: &str, bytes: &[u8]) {
        let dir = self.path("server/out");
        std::fs::create_dir_all(&dir).unwrap();
        let tmp = dir.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, bytes).unwrap();
        std::fs::rename(&tmp, dir.join(name)).unwrap();
    }

    /// The settings the CLI would use, for tests that drive the engine as a library.
    pub fn settings(&self) -> compo_exchange::config::Settings {
        compo_exchange::config::Settings::load(Some(&self.config()), &Default::default()).unwrap()
    }
}

/// Names of the regular files directly in `dir` (not hidden), sorted.
pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.path().is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Every file below `dir`, as paths relative to it, sorted.
pub fn tree(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            e.path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    v.sort();
    v
}
