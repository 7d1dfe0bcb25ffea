//! The reports beside rejected files: what the page and the notifications quote of them, and
//! the one way the page hands one out (a path checked to stay inside `rejected/`).

use crate::compo::report::{codes, Issue, Report};
use crate::pipeline::fsutil;
use std::path::{Component, Path, PathBuf};

/// What is quoted of a rejected file's report.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Quoted {
    /// The first errors, in the report's order (at most [`FIRST`]).
    pub first_errors: Vec<Issue>,
    /// Errors in all, as the report counts them.
    pub errors: usize,
    /// Held by the mass-deletion guard rather than rejected for its content.
    pub held: bool,
    /// The report's path below `rejected/` (with `/` separators), when it exists.
    pub report: Option<String>,
}

/// How many errors are quoted.
pub const FIRST: usize = 3;

/// Reads the report of the file at `path` (its place in `rejected/`).
pub fn quote(rejected_dir: &Path, path: &Path) -> Quoted {
    let rp = fsutil::report_path(path);
    let Some(report) = std::fs::read(&rp)
        .ok()
        .and_then(|b| serde_json::from_slice::<Report>(&b).ok())
    else {
        return Quoted::default();
    };
    Quoted {
        held: report
            .errors
            .iter()
            .any(|e| e.code == codes::SNAPSHOT_MASS_DELETE),
        errors: report.errors.len(),
        first_errors: report.errors.into_iter().take(FIRST).collect(),
        report: relative(rejected_dir, &rp),
    }
}

/// `path` below `dir`, with `/` separators; `None` when it is not below it.
pub fn relative(dir: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(dir).ok()?;
    let parts: Vec<String> = rel
        .components()
        .map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect::<Option<_>>()?;
    Some(parts.join("/"))
}

/// The report file that `rel` (a path below `rejected/` as the page links it) names, or `None`
/// for anything that is not a report inside `rejected/`: no `..`, no absolute path, no hidden
/// part, a name ending in `.report.json`, and a real path (links resolved) still inside.
pub fn resolve(rejected_dir: &Path, rel: &str) -> Option<PathBuf> {
    if !rel.ends_with(".report.json") || rel.contains('\\') || rel.contains('\0') {
        return None;
    }
    let mut p = rejected_dir.to_path_buf();
    for part in rel.split('/') {
        if part.is_empty() || part.starts_with('.') {
            return None;
        }
        p.push(part);
    }
    let real = p.canonicalize().ok()?;
    let root = rejected_dir.canonicalize().ok()?;
    (real.starts_with(&root) && real.is_file()).then_some(real)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_reports_inside_rejected_are_resolved() {
        let d = tempfile::tempdir().unwrap();
        let rej = d.path().join("rejected");
        std::fs::create_dir_all(rej.join("pictures")).unwrap();
        std::fs::write(rej.join("prices.json.report.json"), "{}").unwrap();
        std::fs::write(rej.join("pictures/a.jpg.report.json"), "{}").unwrap();
        std::fs::write(rej.join("prices.json"), "[]").unwrap();
        std::fs::write(d.path().join("secret.report.json"), "{}").unwrap();
        std::os::unix::fs::symlink(
            d.path().join("secret.report.json"),
            rej.join("link.report.json"),
        )
        .unwrap();
        assert!(resolve(&rej, "prices.json.report.json").is_some());
        assert!(resolve(&rej, "pictures/a.jpg.report.json").is_some());
        for bad in [
            "prices.json",
            "../secret.report.json",
            "pictures/../../secret.report.json",
            "/etc/passwd.report.json",
            "link.report.json",
            ".hidden.report.json",
            "missing.report.json",
            "pictures//a.jpg.report.json",
        ] {
            assert_eq!(resolve(&rej, bad), None, "{bad}");
        }
    }

    #[test]
    fn a_quote_says_held_and_gives_the_first_errors() {
        let d = tempfile::tempdir().unwrap();
        let rej = d.path().to_path_buf();
        let mut r = Report::new("products.json", Some("products".into()));
        for i in 0..5 {
            r.errors.push(Issue::new(
                Some(i),
                format!("/{i}/id"),
                codes::SNAPSHOT_MASS_DELETE,
                "x",
            ));
        }
        std::fs::write(
            rej.join("products.json.report.json"),
            serde_json::to_vec(&r).unwrap(),
        )
        .unwrap();
        let q = quote(&rej, &rej.join("products.json"));
        assert!(q.held);
        assert_eq!((q.errors, q.first_errors.len()), (5, FIRST));
        assert_eq!(q.report.as_deref(), Some("products.json.report.json"));
        assert_eq!(quote(&rej, &rej.join("none.json")), Quoted::default());
    }
}
