//! `compo-exchange validate` as a CI step: exit codes that never pass on nothing, paths that
//! point at the file as given, sub-folders, exclusions, skipped files; the report formats are
//! in `formats`.

mod formats;

use crate::harness::{fixtures, stderr, stdout, tempdir};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

/// A repository-like tree: `ci/data/` with a valid and an invalid data file, a README, a
/// `.gitkeep`, and `ci/data/sub/` with an invalid segments file.
pub(super) fn ci_tree(root: &Path) {
    let data = root.join("ci/data");
    std::fs::create_dir_all(data.join("sub")).unwrap();
    std::fs::copy(
        fixtures().join("valid/warehouses.json"),
        data.join("warehouses.json"),
    )
    .unwrap();
    std::fs::copy(
        fixtures().join("invalid/products/barcode-checksum.json"),
        data.join("products.json"),
    )
    .unwrap();
    std::fs::write(data.join("README.md"), "# test data\n").unwrap();
    std::fs::write(data.join(".gitkeep"), "").unwrap();
    std::fs::copy(
        fixtures().join("invalid/segments/schema-pattern-id.json"),
        data.join("sub/segments.json"),
    )
    .unwrap();
}

/// Runs the binary in `dir` (paths on the command line relative to it, as in a CI job).
pub(super) fn run_in(dir: &Path, args: &[&str]) -> Output {
    crate::harness::cli()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run compo-exchange")
}

#[test]
fn a_folder_holding_only_sub_folders_exits_3_naming_it_and_recursive() {
    let d = tempdir();
    ci_tree(d.path());
    std::fs::remove_file(d.path().join("ci/data/products.json")).unwrap();
    std::fs::remove_file(d.path().join("ci/data/warehouses.json")).unwrap();
    let o = run_in(d.path(), &["validate", "ci"]);
    assert_eq!(o.status.code(), Some(3), "{}{}", stdout(&o), stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("no data file"), "{err}");
    assert!(err.contains("ci"), "{err}");
    assert!(err.contains("--recursive"), "{err}");
    // The sub-folder holding data files is named.
    assert!(
        stdout(&o).contains("ci/data: warning folder.not_walked:"),
        "{}",
        stdout(&o)
    );
    // With --recursive the invalid file deep below is found.
    let o = run_in(d.path(), &["validate", "--recursive", "ci"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("ci/data/sub/segments.json:2: record 0 at /0/id: error schema.pattern"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn an_empty_folder_exits_3_in_every_format() {
    let d = tempdir();
    std::fs::create_dir(d.path().join("empty")).unwrap();
    for format in ["text", "json", "github", "gitlab", "junit", "sarif"] {
        let o = run_in(d.path(), &["validate", "--format", format, "empty"]);
        assert_eq!(o.status.code(), Some(3), "{format}: {}", stdout(&o));
        // Said once, naming the folder, with the hint.
        let err = stderr(&o);
        assert_eq!(
            err.matches("no data file found in empty").count(),
            1,
            "{format}: {err}"
        );
        assert!(err.contains("--recursive"), "{format}: {err}");
    }
    // Machine formats stay documents their readers accept, and say it where they can.
    let out = |format: &str| {
        stdout(&run_in(
            d.path(),
            &["validate", "--format", format, "empty"],
        ))
    };
    assert_eq!(
        serde_json::from_str::<Value>(&out("gitlab")).unwrap(),
        serde_json::json!([])
    );
    assert!(out("github").starts_with("::error title=input.no_data::no data file found in empty"));
    let sarif: Value = serde_json::from_str(&out("sarif")).unwrap();
    assert_eq!(
        sarif["runs"][0]["invocations"][0]["executionSuccessful"],
        false
    );
    let cases = formats::junitparser(out("junit").as_bytes());
    assert_eq!(cases[0]["results"][0][0], "Error", "{cases}");
    assert_eq!(cases[0]["results"][0][2], "input.no_data", "{cases}");
    // With --recursive, the hint is not to add it again.
    std::fs::create_dir_all(d.path().join("tree/sub")).unwrap();
    std::fs::write(d.path().join("tree/sub/products.json"), "[]").unwrap();
    let o = run_in(
        d.path(),
        &["validate", "--recursive", "--exclude", "**/sub/**", "tree"],
    );
    assert_eq!(o.status.code(), Some(3), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(
        err.contains("--recursive looked in every sub-folder too") && err.contains("--exclude"),
        "{err}"
    );
    assert!(!err.contains("add --recursive"), "{err}");
}

#[test]
fn a_sub_folder_with_data_files_is_a_warning_without_recursive() {
    let d = tempdir();
    ci_tree(d.path());
    std::fs::remove_file(d.path().join("ci/data/products.json")).unwrap();
    let o = run_in(d.path(), &["validate", "ci/data"]);
    let text = stdout(&o);
    // The valid file passes; the skipped sub-folder is named, not silently ignored.
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(
        text.contains("ci/data/sub: warning folder.not_walked:") && text.contains("--recursive"),
        "{text}"
    );
    let o = run_in(d.path(), &["validate", "--recursive", "ci/data"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
}

#[test]
fn sub_folders_are_batches_of_their_own() {
    let d = tempdir();
    let data = d.path().join("data");
    std::fs::create_dir_all(data.join("a")).unwrap();
    std::fs::create_dir_all(data.join("b")).unwrap();
    // Categories in a/, products referring to them in b/: a batch of its own does not see a/.
    std::fs::copy(
        fixtures().join("valid/categories.json"),
        data.join("a/categories.json"),
    )
    .unwrap();
    std::fs::copy(
        fixtures().join("valid/categories.json"),
        data.join("b/categories.json"),
    )
    .unwrap();
    std::fs::write(
        data.join("b/products.json"),
        r#"[{"id": "P-1", "name": "Чай", "category_id": "CAT-NOPE", "unit": "шт"}]"#,
    )
    .unwrap();
    let o = run_in(
        d.path(),
        &["validate", "--recursive", "--format", "json", "data"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let files: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["file"].as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        [
            "data/a/categories.json",
            "data/b/categories.json",
            "data/b/products.json"
        ],
        "{v}"
    );
    assert_eq!(v[2]["errors"][0]["code"], "ref.missing", "{v}");
}

#[test]
fn a_folder_argument_keeps_its_path_in_text_and_json() {
    let d = tempdir();
    ci_tree(d.path());
    let o = run_in(d.path(), &["validate", "ci/data/"]);
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(
        text.starts_with(
            "ci/data/products.json:2: record 0 at /0/barcodes/1: error barcode.checksum: "
        ),
        "{text}"
    );
    let o = run_in(d.path(), &["validate", "--format", "json", "./ci/data"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["file"], "ci/data/products.json", "{v}");
    assert_eq!(v[1]["file"], "ci/data/warehouses.json", "{v}");
}

#[test]
fn a_readme_and_a_gitkeep_are_skipped_not_errors() {
    let d = tempdir();
    ci_tree(d.path());
    std::fs::remove_file(d.path().join("ci/data/products.json")).unwrap();
    let o = run_in(d.path(), &["validate", "ci/data"]);
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(!text.contains("name.unknown_type"), "{text}");
    assert!(text.contains("ci/data/README.md: skipped:"), "{text}");
    assert!(text.contains("ci/data/.gitkeep: skipped:"), "{text}");
    // A .json file whose name is no data type stays an error: a typo must not pass.
    std::fs::write(d.path().join("ci/data/product.json"), "[]").unwrap();
    let o = run_in(d.path(), &["validate", "ci/data"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("ci/data/product.json: error name.unknown_type"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn exclude_leaves_out_files_and_folders() {
    let d = tempdir();
    ci_tree(d.path());
    let o = run_in(
        d.path(),
        &[
            "validate",
            "--recursive",
            "--exclude",
            "**/products.json",
            "--exclude",
            "./ci/data/sub/",
            "ci/data",
        ],
    );
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(!text.contains("products.json"), "{text}");
    assert!(!text.contains("segments.json"), "{text}");
    // An excluded sub-folder is not warned about either; files named directly are excluded
    // alike.
    let o = run_in(
        d.path(),
        &[
            "validate",
            "--exclude",
            "sub",
            "--exclude",
            "products.json",
            "ci/data",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(!stdout(&o).contains("folder.not_walked"), "{}", stdout(&o));
    let o = run_in(
        d.path(),
        &[
            "validate",
            "--exclude",
            "**/products.json",
            "ci/data/products.json",
            "ci/data/warehouses.json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    // Excluding everything is "nothing found", not a pass.
    let o = run_in(d.path(), &["validate", "--exclude", "*.json", "ci/data"]);
    assert_eq!(o.status.code(), Some(3), "{}", stdout(&o));
    // A bad glob is a usage error.
    let o = run_in(d.path(), &["validate", "--exclude", "a[", "ci/data"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn files_named_directly_work_as_before() {
    let d = tempdir();
    ci_tree(d.path());
    let o = run_in(
        d.path(),
        &[
            "validate",
            "ci/data/warehouses.json",
            "ci/data/products.json",
            "ci/data/README.md",
        ],
    );
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(
        text.starts_with(
            "ci/data/products.json:2: record 0 at /0/barcodes/1: error barcode.checksum"
        ),
        "{text}"
    );
    assert!(text.contains("ci/data/README.md: skipped:"), "{text}");
    let o = run_in(d.path(), &["validate", "ci/data/warehouses.json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

/// A reader that stops early (`| head -1`) neither turns the verdict into an I/O error nor
/// prints one.
#[test]
fn a_reader_that_stops_early_keeps_the_verdict() {
    let d = tempdir();
    std::fs::create_dir_all(d.path().join("ci/data")).unwrap();
    // A thousand errors: far more output than a pipe holds, so that writing meets the closed
    // pipe.
    let records: Vec<String> = (0..1000)
        .map(|i| format!(r#"{{"id": "S-{i}", "name": "a", "sort": "x"}}"#))
        .collect();
    std::fs::write(
        d.path().join("ci/data/segments.json"),
        format!("[\n{}\n]\n", records.join(",\n")),
    )
    .unwrap();
    let o = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "{} validate --format github --recursive ci/data | head -c 1 >/dev/null; \
             echo \"${{PIPESTATUS[0]}}\"",
            env!("CARGO_BIN_EXE_compo-exchange")
        ))
        .current_dir(d.path())
        .env("LC_ALL", "C.UTF-8")
        .output()
        .unwrap();
    assert_eq!(stdout(&o).trim(), "1", "{}", stderr(&o));
    assert!(!stderr(&o).contains("Broken pipe"), "{}", stderr(&o));
}
