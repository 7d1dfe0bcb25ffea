//! The repository's `.pre-commit-hooks.yaml` run by real pre-commit against a throwaway git
//! repository: a commit of a valid data file passes, one with an invalid file is refused with
//! our message, and a file that is not a data file does not run the hook.

use crate::harness;
use std::path::Path;
use std::process::{Command, Output};

fn available(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `git` in `dir`, with an identity of its own and the binary under test first on PATH (the
/// hook is `language: system`: it runs the compo-exchange it finds there).
fn git(dir: &Path, home: &Path, args: &[&str]) -> Output {
    let bin = Path::new(env!("CARGO_BIN_EXE_compo-exchange"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = std::env::join_paths(
        std::iter::once(bin).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    Command::new("git")
        .args([
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.invalid",
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .env("PATH", path)
        .env("HOME", home)
        .env("PRE_COMMIT_HOME", home.join("pre-commit-cache"))
        .env("LC_ALL", "C.UTF-8")
        .env_remove("RUST_LOG")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .output()
        .expect("run git")
}

fn ok(o: &Output, what: &str) {
    assert!(
        o.status.success(),
        "{what}: {}\n{}",
        harness::stdout(o),
        harness::stderr(o)
    );
}

fn commits(dir: &Path, home: &Path) -> usize {
    let o = git(dir, home, &["rev-list", "--count", "HEAD"]);
    harness::stdout(&o).trim().parse().unwrap_or(0)
}

#[test]
fn the_pre_commit_hook_passes_valid_data_files_and_refuses_invalid_ones() {
    if !available("git") || !available("pre-commit") {
        eprintln!(
            "skipped: pre-commit or git is not installed (scripts/install-deps installs \
             pre-commit with pip)"
        );
        return;
    }
    let tmp = harness::tempdir();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();

    // The hooks repository as pre-commit clones it: our .pre-commit-hooks.yaml, committed.
    let hooks = tmp.path().join("hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"),
        hooks.join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    ok(&git(&hooks, &home, &["init", "-q"]), "git init hooks");
    ok(&git(&hooks, &home, &["add", "."]), "git add hooks");
    ok(
        &git(&hooks, &home, &["commit", "-q", "-m", "hooks"]),
        "commit hooks",
    );
    let rev = harness::stdout(&git(&hooks, &home, &["rev-parse", "HEAD"]))
        .trim()
        .to_string();

    // The integrator's repository, with the hook installed as docs/ci.md says.
    let data = tmp.path().join("data");
    std::fs::create_dir_all(data.join("outbox")).unwrap();
    ok(&git(&data, &home, &["init", "-q"]), "git init data");
    std::fs::write(
        data.join(".pre-commit-config.yaml"),
        format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: compo-exchange-validate\n",
            hooks.display()
        ),
    )
    .unwrap();
    ok(
        &git(&data, &home, &["add", ".pre-commit-config.yaml"]),
        "add config",
    );
    ok(
        &git(&data, &home, &["commit", "-q", "-m", "config"]),
        "commit config",
    );
    let install = Command::new("pre-commit")
        .arg("install")
        .current_dir(&data)
        .env("HOME", &home)
        .env("PRE_COMMIT_HOME", home.join("pre-commit-cache"))
        .output()
        .unwrap();
    ok(&install, "pre-commit install");

    // A valid data file: the hook runs on it and passes.
    let fixtures = harness::fixtures();
    std::fs::copy(
        fixtures.join("valid/segments.json"),
        data.join("outbox/segments.json"),
    )
    .unwrap();
    ok(&git(&data, &home, &["add", "outbox"]), "add valid");
    let valid = git(&data, &home, &["commit", "-m", "valid segments"]);
    let out = format!("{}{}", harness::stdout(&valid), harness::stderr(&valid));
    assert!(valid.status.success(), "{out}");
    assert!(
        out.contains("compo-exchange validate") && out.contains("Passed"),
        "{out}"
    );
    assert_eq!(commits(&data, &home), 2);

    // An invalid one: the commit is refused, with our message naming file, record and field.
    std::fs::copy(
        fixtures.join("invalid/segments/schema-required.json"),
        data.join("outbox/segments.delta.json"),
    )
    .unwrap();
    ok(&git(&data, &home, &["add", "outbox"]), "add invalid");
    let invalid = git(&data, &home, &["commit", "-m", "invalid segments"]);
    let out = format!("{}{}", harness::stdout(&invalid), harness::stderr(&invalid));
    assert!(!invalid.status.success(), "{out}");
    assert!(out.contains("Failed"), "{out}");
    assert!(
        out.contains(
            "outbox/segments.delta.json:8: record 1 at /1: error schema.required: required \
             field \"name\" is missing"
        ),
        "{out}"
    );
    assert_eq!(commits(&data, &home), 2, "the invalid commit was made");

    // A file that is not a data file does not run the hook.
    ok(&git(&data, &home, &["reset", "-q"]), "unstage");
    std::fs::remove_file(data.join("outbox/segments.delta.json")).unwrap();
    std::fs::write(data.join("outbox/notes.json"), b"not a data file").unwrap();
    ok(&git(&data, &home, &["add", "outbox"]), "add notes");
    let other = git(&data, &home, &["commit", "-m", "notes"]);
    let out = format!("{}{}", harness::stdout(&other), harness::stderr(&other));
    assert!(other.status.success(), "{out}");
    assert!(out.contains("no files to check"), "{out}");
}

/// The hook's `files:` pattern, read from .pre-commit-hooks.yaml.
fn files_pattern() -> regex::Regex {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    let line = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("files: "))
        .expect("a files: line");
    regex::Regex::new(line).unwrap()
}

#[test]
fn the_hook_runs_on_exactly_the_outbox_data_file_names() {
    use compo_exchange::compo::model::{DataFileName, DataType, Side};
    let re = files_pattern();
    let mut names = vec![
        "Products.json".to_string(),
        "prices_type.json".into(),
        "products.report.json".into(),
        "orders.20261130.json".into(),
        "products.delta-.json".into(),
        "products.json.tmp".into(),
        "notes.json".into(),
        format!("products.delta-{}.json", "x".repeat(65)),
    ];
    for t in DataType::ALL {
        let n = t.name();
        names.extend([
            format!("{n}.json"),
            format!("{n}.delta.json"),
            format!("{n}.delta-2026-11-30_01.json"),
        ]);
    }
    for name in &names {
        let data = DataFileName::parse(name, Side::Outbound).is_some();
        // pre-commit matches the path from the repository's root.
        for path in [name.clone(), format!("ci/outbox/{name}")] {
            assert_eq!(re.is_match(&path), data, "{path}");
        }
    }
    assert!(!re.is_match("ci/outbox-products.json"));
}
