//! What the command line itself promises: version, completions, manual, help, fatal errors and
//! log colour.

use crate::harness::{run, stderr, stdout, tempdir, Work};

#[test]
fn version_names_the_commit_and_the_protocol() {
    let o = run(["--version"]);
    assert!(o.status.success());
    let v = stdout(&o);
    assert!(v.contains("protocol compo-json/1"), "{v}");
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    match head {
        Some(h) => assert!(v.contains(&format!("commit {h}")), "{v} (HEAD {h})"),
        None => assert!(v.contains("commit unknown"), "{v}"),
    }
}

#[test]
fn completions_are_valid_shell_and_know_every_command() {
    let o = run(["completions", "bash"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let script = stdout(&o);
    for cmd in [
        "validate", "once", "run", "status", "release", "convert", "man",
    ] {
        assert!(script.contains(cmd), "bash completion lacks {cmd}");
    }
    let dir = tempdir();
    let f = dir.path().join("c.bash");
    std::fs::write(&f, &script).unwrap();
    let check = std::process::Command::new("bash")
        .arg("-n")
        .arg(&f)
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", stderr(&check));
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let o = run(["completions", shell]);
        assert!(o.status.success() && !o.stdout.is_empty(), "{shell}");
    }
    assert_eq!(run(["completions", "tcsh"]).status.code(), Some(2));
}

#[test]
fn the_manual_page_is_roff_with_every_command() {
    let o = run(["man"]);
    assert!(o.status.success());
    let page = stdout(&o);
    assert!(
        page.contains(".TH compo-exchange 1"),
        "{}",
        &page[..200.min(page.len())]
    );
    for cmd in ["validate", "once", "release"] {
        assert!(page.contains(cmd), "man page lacks {cmd}");
    }
}

#[test]
fn each_command_help_has_an_example_and_its_exit_codes() {
    for cmd in [
        "validate", "init", "run", "once", "status", "release", "convert",
    ] {
        let o = run([cmd, "--help"]);
        assert!(o.status.success(), "{cmd}");
        let h = stdout(&o);
        assert!(h.contains("Example"), "{cmd} --help has no example");
        assert!(h.contains("Exit codes"), "{cmd} --help has no exit codes");
    }
}

#[test]
fn a_fatal_error_is_said_once_and_as_json_under_json_logs() {
    let dir = tempdir();
    let cfg = dir.path().join("bad.toml");
    // The workdir is a file: the error from the file system is the cause of the pipeline's.
    let file = dir.path().join("plain-file");
    std::fs::write(&file, "x").unwrap();
    std::fs::write(
        &cfg,
        format!("workdir = {:?}\n", file.display().to_string()),
    )
    .unwrap();
    let o = run(["once", "--config", cfg.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert_eq!(e.lines().count(), 1, "{e}");
    assert_eq!(e.matches("Not a directory").count(), 1, "said once: {e}");

    let missing = dir.path().join("missing.toml");
    let o = run([
        "--log-format",
        "json",
        "once",
        "--config",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    let lines: Vec<&str> = e.lines().collect();
    assert_eq!(lines.len(), 1, "{e}");
    let v: serde_json::Value = serde_json::from_str(lines[0]).expect("a JSON line");
    assert_eq!(v["level"], "ERROR");
    assert!(v["fields"]["error"]
        .as_str()
        .unwrap()
        .contains("missing.toml"));
}

#[test]
fn logs_into_a_pipe_carry_no_colour_codes() {
    let w = Work::new();
    let o = w.run("once", &["--samples"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("INFO"), "some log lines expected: {e}");
    assert!(!e.contains('\u{1b}'), "ANSI escape in a pipe: {e:?}");
}

#[test]
fn init_works_the_same_for_a_relative_and_an_absolute_folder() {
    let base = tempdir();
    let abs = base.path().join("abs-site");
    for (dir, cwd) in [
        ("rel-site".to_string(), base.path().to_path_buf()),
        (abs.display().to_string(), std::env::temp_dir()),
    ] {
        let o = crate::harness::cli()
            .args(["init", &dir, "--samples"])
            .current_dir(&cwd)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        let text = stdout(&o);
        // The closing lines give the exact commands to type from here.
        let once = text
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with("compo-exchange once"))
            .unwrap_or_else(|| panic!("no once command in {text}"))
            .to_string();
        assert_eq!(
            once,
            format!("compo-exchange once --config {dir}/compo-exchange.toml")
        );
        assert!(text.contains(&format!(
            "compo-exchange run --config {dir}/compo-exchange.toml"
        )));
        let site = cwd.join(&dir);
        assert!(
            site.join("outbox/products.json").exists(),
            "samples in {}",
            site.display()
        );
        assert!(
            std::path::Path::new(&dir).is_absolute() || !site.join(&dir).exists(),
            "no nested {dir}/{dir}"
        );
        let args: Vec<&str> = once.split_whitespace().skip(1).collect();
        let o = crate::harness::cli()
            .args(&args)
            .current_dir(&cwd)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(
            site.join("server/in/products.json").exists(),
            "the printed command publishes the samples: {}",
            stdout(&o)
        );
    }
}
