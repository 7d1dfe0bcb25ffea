//! What the log says at each verbosity, and the rotated log file of `--log-file`.

use crate::harness::{stderr, Work};

/// The log lines about `file` (its `file=` field), in order.
fn lines_of<'a>(log: &'a str, file: &str) -> Vec<&'a str> {
    let field = format!("file={file} ");
    log.lines().filter(|l| l.contains(&field)).collect()
}

/// Whether some line about the file is a DEBUG line for `step` carrying its journal row id.
fn has_step(lines: &[&str], step: &str) -> bool {
    lines
        .iter()
        .any(|l| l.contains(&format!("DEBUG {step} ")) && l.contains(" id="))
}

#[test]
fn verbose_shows_each_step_of_each_file_and_the_default_does_not() {
    let w = Work::one_published_one_rejected();
    let o = w.run("once", &["-v"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let log = stderr(&o);
    let published = lines_of(&log, "categories.json");
    for step in [
        "taken",
        "claimed",
        "validated",
        "staged",
        "publishing",
        "uploaded",
        "renamed",
        "published",
        "archived",
    ] {
        assert!(has_step(&published, step), "no {step} step:\n{log}");
    }
    let validated = published
        .iter()
        .find(|l| l.contains("DEBUG validated"))
        .unwrap();
    assert!(
        validated.contains("records=1") && validated.contains("errors=0"),
        "{validated}"
    );
    let rejected = lines_of(&log, "products.json");
    for step in ["taken", "claimed", "validated", "rejecting", "rejected"] {
        assert!(has_step(&rejected, step), "no {step} step:\n{log}");
    }
    let validated = rejected
        .iter()
        .find(|l| l.contains("DEBUG validated"))
        .unwrap();
    // Rejected whole: nothing was left out of a published copy.
    assert!(
        validated.contains("errors=1") && validated.contains("dropped=0"),
        "{validated}"
    );
    // Never published: no upload step for it.
    assert!(!has_step(&rejected, "uploaded"), "{log}");
    // -v is about files, not the server's operations.
    assert!(!log.contains("TRACE"), "{log}");

    // An attached file has no journal row; its publish is a step of its own.
    let w = Work::new();
    w.drop_file(
        "pictures/p1.png",
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0",
    );
    let log = stderr(&w.run("once", &["-v"]));
    assert!(
        log.contains("DEBUG attached file published file=pictures/p1.png size=29"),
        "{log}"
    );

    let w = Work::one_published_one_rejected();
    let log = stderr(&w.run("once", &[]));
    assert!(
        !log.contains("DEBUG") && !log.contains("TRACE") && !log.contains(" id="),
        "{log}"
    );
    // The default still says what ended where.
    assert!(log.contains("rejected file=products.json"), "{log}");
}

#[test]
fn very_verbose_shows_each_operation_on_the_server() {
    let w = Work::one_published_one_rejected();
    let o = w.run("once", &["-vv"]);
    let log = stderr(&o);
    let ops: Vec<&str> = log.lines().filter(|l| l.contains("TRACE server")).collect();
    let op = |name: &str, path: &str| {
        ops.iter()
            .find(|l| l.contains(&format!("op=\"{name}\"")) && l.contains(path))
            .unwrap_or_else(|| panic!("no {name} of {path}:\n{log}"))
            .to_string()
    };
    // The hidden upload, its size and how long it took; then its rename onto the real name.
    let put = op("put", "path=\"in/.categories.json.");
    assert!(put.contains(" size=") && put.contains(" ms="), "{put}");
    let rename = op("rename", "to=\"in/categories.json\"");
    assert!(rename.contains(" ms="), "{rename}");
    op("list", "path=\"out\"");
    op("stat", "path=\"in/.categories.json.");
    // Nothing of the rejected file reaches the server.
    assert!(!ops.iter().any(|l| l.contains("products")), "{log}");
    // And the steps of -v are still there.
    assert!(
        log.contains("DEBUG published file=categories.json"),
        "{log}"
    );
}

#[test]
fn log_file_is_written_by_day_without_colour_and_old_files_are_pruned() {
    let w = Work::one_published_one_rejected();
    let logs = w.path("log");
    std::fs::create_dir_all(&logs).unwrap();
    // Three older days, oldest first (pruning goes by age), and a file of another name that
    // must be left alone.
    for day in ["2026-01-01", "2026-01-02", "2026-01-03"] {
        std::fs::write(logs.join(format!("compo.{day}.log")), "old\n").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::fs::write(logs.join("other.log"), "not ours\n").unwrap();
    let file = logs.join("compo.log");
    let o = crate::harness::cli()
        .arg("once")
        .arg("--config")
        .arg(w.config())
        .arg("--log-file")
        .arg(&file)
        .args(["--log-keep", "2"])
        // A terminal-like environment would colour stderr; the file never is.
        .env("CLICOLOR_FORCE", "1")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // The log went to the file, not to stderr.
    assert!(!stderr(&o).contains("rejected file="), "{}", stderr(&o));
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let mut names = crate::harness::names(&logs);
    names.sort();
    assert_eq!(
        names,
        vec![
            "compo.2026-01-03.log".to_string(),
            format!("compo.{today}.log"),
            "other.log".to_string()
        ],
        "--log-keep 2 keeps today's file and the newest older one"
    );
    let text = std::fs::read_to_string(logs.join(format!("compo.{today}.log"))).unwrap();
    assert!(text.contains("WARN rejected file=products.json"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "no colour codes in a file: {text}"
    );

    // A fatal error is in the file and on stderr.
    let o = crate::harness::cli()
        .args(["once", "--config"])
        .arg(w.path("missing.toml"))
        .arg("--log-file")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("missing.toml"), "{}", stderr(&o));
    let text = std::fs::read_to_string(logs.join(format!("compo.{today}.log"))).unwrap();
    assert!(
        text.contains("fatal") && text.contains("missing.toml"),
        "{text}"
    );
}
