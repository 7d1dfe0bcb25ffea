//! The report formats of `validate` for CI (GitHub, GitLab, JUnit, SARIF), each read back by
//! a real consumer where one runs here, and the README's samples of them.

use super::{ci_tree, run_in};
use crate::harness::{fixtures, stderr, stdout, tempdir};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};

/// One line per problem: `::error file=...,line=...,col=...,title=CODE::message` (GitHub's
/// workflow-command syntax), warnings and notes likewise, then the summary as a plain line.
#[test]
fn github_annotations_line_by_line() {
    let d = tempdir();
    ci_tree(d.path());
    let o = run_in(d.path(), &["validate", "--format", "github", "ci/data"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let text = stdout(&o);
    let command = regex::Regex::new(
        r"^::(error|warning|notice) file=([^,:]+)(,line=(\d+),col=(\d+))?,title=([a-z_.]+)::(.+)$",
    )
    .unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let (summary, commands) = lines.split_last().unwrap();
    assert!(summary.contains("1 invalid"), "{text}");
    let mut seen = Vec::new();
    for l in commands {
        let c = command
            .captures(l)
            .unwrap_or_else(|| panic!("not a workflow command: {l}"));
        // Data may hold no raw line break or `%` (GitHub decodes %25, %0D, %0A).
        assert!(!c[7].contains('\r'), "{l}");
        seen.push((
            c[1].to_string(),
            c[2].to_string(),
            c.get(4).map(|m| m.as_str().to_string()),
            c[6].to_string(),
        ));
    }
    assert!(
        seen.contains(&(
            "error".into(),
            "ci/data/products.json".into(),
            Some("13".into()),
            "barcode.checksum".into()
        )),
        "{text}"
    );
    assert!(
        seen.contains(&(
            "warning".into(),
            "ci/data/sub".into(),
            None,
            "folder.not_walked".into()
        )),
        "{text}"
    );
    assert!(
        seen.contains(&(
            "notice".into(),
            "ci/data/README.md".into(),
            None,
            "file.skipped".into()
        )),
        "{text}"
    );
    // The value's own line and column (the record starts on line 2; the barcode is on line 13,
    // after six spaces), while the text format names the record's line.
    assert!(
        text.contains(",line=13,col=7,title=barcode.checksum::record 0 at /0/barcodes/1: "),
        "{text}"
    );
}

/// GitLab's Code Quality report: a JSON array of issues, each with the fields GitLab requires
/// (description, check_name, fingerprint, severity, location.path, location.lines.begin).
#[test]
fn gitlab_code_quality_report_has_the_required_fields_and_stable_fingerprints() {
    let d = tempdir();
    ci_tree(d.path());
    let report = |args: &[&str]| -> Vec<Value> {
        let o = run_in(d.path(), args);
        assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        v.as_array().unwrap().clone()
    };
    let issues = report(&["validate", "--format", "gitlab", "--recursive", "ci/data"]);
    assert_eq!(issues.len(), 2, "{issues:?}");
    let severities = ["info", "minor", "major", "critical", "blocker"];
    let mut fingerprints = std::collections::HashSet::new();
    for i in &issues {
        assert!(
            i["description"].as_str().is_some_and(|s| !s.is_empty()),
            "{i}"
        );
        assert!(i["check_name"].as_str().is_some(), "{i}");
        assert!(severities.contains(&i["severity"].as_str().unwrap()), "{i}");
        assert!(i["location"]["path"].as_str().is_some(), "{i}");
        assert!(
            i["location"]["lines"]["begin"].as_u64().unwrap() >= 1,
            "{i}"
        );
        assert!(fingerprints.insert(i["fingerprint"].as_str().unwrap().to_string()));
    }
    let p = issues
        .iter()
        .find(|i| i["check_name"] == "barcode.checksum")
        .unwrap();
    assert_eq!(p["location"]["path"], "ci/data/products.json");
    assert_eq!(p["location"]["lines"]["begin"], 13);
    assert_eq!(p["severity"], "major");
    let s = issues
        .iter()
        .find(|i| i["check_name"] == "schema.pattern")
        .unwrap();
    assert_eq!(s["location"]["path"], "ci/data/sub/segments.json");
    // The same problem keeps its fingerprint from run to run, whatever else changed.
    std::fs::remove_file(d.path().join("ci/data/sub/segments.json")).unwrap();
    let again = report(&["validate", "--format", "gitlab", "--recursive", "ci/data"]);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0]["fingerprint"], p["fingerprint"]);
}

/// Reads a report with python's junitparser (the JUnit/xUnit reader many CI tools use) and
/// prints, per test case, its name, its results' kinds, messages and types as JSON.
pub(super) fn junitparser(xml: &[u8]) -> Value {
    let script = "import sys, json\n\
        from junitparser import JUnitXml\n\
        xml = JUnitXml.fromfile(sys.argv[1])\n\
        out = []\n\
        for suite in xml:\n\
        \x20   for case in suite:\n\
        \x20       out.append({'suite': suite.name, 'tests': suite.tests, 'failures': suite.failures,\n\
        \x20           'skipped': suite.skipped, 'name': case.name, 'classname': case.classname,\n\
        \x20           'results': [[type(r).__name__, r.message, r.type, r.text] for r in case.result],\n\
        \x20           'system_out': case.system_out})\n\
        print(json.dumps(out))\n";
    let d = tempdir();
    let file = d.path().join("report.xml");
    std::fs::write(&file, xml).unwrap();
    let o = Command::new("python3")
        .args(["-c", script])
        .arg(&file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("python3");
    assert!(
        o.status.success(),
        "junitparser refused the report ({}; scripts/install-deps installs it):\n{}",
        stderr(&o),
        String::from_utf8_lossy(xml)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn junit_report_read_by_junitparser() {
    let d = tempdir();
    ci_tree(d.path());
    let o = run_in(
        d.path(),
        &["validate", "--format", "junit", "--recursive", "ci/data"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let cases = junitparser(&o.stdout);
    let by_name = |n: &str| {
        cases
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == n)
            .unwrap_or_else(|| panic!("no test case {n}: {cases}"))
            .clone()
    };
    // A test case per file; a failure per error.
    let p = by_name("ci/data/products.json");
    assert_eq!(p["results"].as_array().unwrap().len(), 1, "{p}");
    assert_eq!(p["results"][0][0], "Failure");
    assert_eq!(p["results"][0][2], "barcode.checksum");
    assert!(
        p["results"][0][3]
            .as_str()
            .unwrap()
            .starts_with("ci/data/products.json:13:7: record 0 at /0/barcodes/1: "),
        "{p}"
    );
    let w = by_name("ci/data/warehouses.json");
    assert_eq!(w["results"], serde_json::json!([]), "{w}");
    let s = by_name("ci/data/sub/segments.json");
    assert_eq!(s["results"][0][2], "schema.pattern", "{s}");
    let r = by_name("ci/data/README.md");
    assert_eq!(r["results"][0][0], "Skipped", "{r}");
    assert_eq!(p["failures"], 2, "{p}");
    assert_eq!(p["skipped"], 2, "{p}");
    assert_eq!(p["tests"], 5, "{p}");
}

/// The official SARIF 2.1.0 JSON Schema, as the serde-sarif crate (a dependency) ships it:
/// located with `cargo metadata`, so that the test reads the very file the build used.
fn sarif_schema() -> std::path::PathBuf {
    let o = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata");
    let v: Value = serde_json::from_slice(&o.stdout).expect("cargo metadata JSON");
    let pkg = v["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "serde-sarif")
        .expect("serde-sarif in the dependency graph");
    let manifest = Path::new(pkg["manifest_path"].as_str().unwrap());
    let schema = manifest.parent().unwrap().join("src/schema.json");
    let s: Value = serde_json::from_slice(&std::fs::read(&schema).unwrap()).unwrap();
    assert!(
        s["title"]
            .as_str()
            .unwrap()
            .contains("SARIF) Version 2.1.0 JSON Schema"),
        "{}",
        s["title"]
    );
    schema
}

#[test]
fn sarif_log_is_valid_against_the_sarif_2_1_0_schema() {
    let d = tempdir();
    ci_tree(d.path());
    let o = run_in(d.path(), &["validate", "--format", "sarif", "ci/data"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let log = d.path().join("report.sarif");
    std::fs::write(&log, &o.stdout).unwrap();
    // The schema's own patterns are ECMA-262 regular expressions without the `u` flag (one of
    // them has a lone `]`), which is how check-jsonschema is told to read them.
    let c = Command::new("check-jsonschema")
        .args(["--regex-variant", "nonunicode", "--schemafile"])
        .arg(sarif_schema())
        .arg(&log)
        .output()
        .expect("check-jsonschema (scripts/install-deps installs it)");
    assert!(
        c.status.success(),
        "{}{}\n{}",
        stdout(&c),
        stderr(&c),
        stdout(&o)
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let rule = rules
        .iter()
        .find(|r| r["id"] == "barcode.checksum")
        .unwrap();
    assert!(
        rule["shortDescription"]["text"]
            .as_str()
            .unwrap()
            .contains("check digit"),
        "{rule}"
    );
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{results:?}");
    let r = &results[0];
    assert_eq!(r["ruleId"], "barcode.checksum");
    assert_eq!(r["level"], "error");
    let loc = &r["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "ci/data/products.json");
    assert_eq!(loc["region"]["startLine"], 13);
    assert_eq!(loc["region"]["startColumn"], 7);
    // Skipped files and the sub-folder left out are notifications of the run, not results.
    let notes = run["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    assert!(
        notes.iter().any(|n| n["descriptor"]["id"] == "file.skipped"
            && n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                == "ci/data/README.md"),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n["descriptor"]["id"] == "folder.not_walked" && n["level"] == "warning"),
        "{notes:?}"
    );
    // A schema keyword's code (a family in the catalogue) gets its own rule, and the log
    // stays valid.
    let o = run_in(
        d.path(),
        &["validate", "--format", "sarif", "--recursive", "ci/data"],
    );
    std::fs::write(&log, &o.stdout).unwrap();
    let c = Command::new("check-jsonschema")
        .args(["--regex-variant", "nonunicode", "--schemafile"])
        .arg(sarif_schema())
        .arg(&log)
        .output()
        .unwrap();
    assert!(c.status.success(), "{}{}", stdout(&c), stderr(&c));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    for r in run["results"].as_array().unwrap() {
        let rule = &rules[r["ruleIndex"].as_u64().unwrap() as usize];
        assert_eq!(rule["id"], r["ruleId"], "{r}");
    }
    assert!(
        run["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["ruleId"] == "schema.pattern"),
        "{run}"
    );
}

#[test]
fn messages_follow_the_language_in_machine_formats() {
    let d = tempdir();
    ci_tree(d.path());
    let o = run_in(
        d.path(),
        &[
            "validate",
            "--lang",
            "ru",
            "--format",
            "gitlab",
            "ci/data/products.json",
        ],
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        v[0]["description"].as_str().unwrap().contains("штрихкод"),
        "{v}"
    );
}

/// The README's CI section shows each format as the binary prints it: the samples are
/// produced again here and must appear there verbatim (SARIF: its one result).
#[test]
fn the_readme_samples_are_the_binarys_output() {
    let d = tempdir();
    std::fs::create_dir_all(d.path().join("ci/data")).unwrap();
    std::fs::copy(
        fixtures().join("invalid/products/barcode-checksum.json"),
        d.path().join("ci/data/products.json"),
    )
    .unwrap();
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = &readme[readme
        .find("## In CI")
        .expect("README has an In CI section")..];
    for (format, fence) in [
        ("text", "text"),
        ("github", "text"),
        ("gitlab", "json"),
        ("junit", "xml"),
        ("sarif", "json"),
    ] {
        let o = run_in(d.path(), &["validate", "--format", format, "ci/data"]);
        assert_eq!(o.status.code(), Some(1), "{format}");
        let mut sample = stdout(&o);
        if format == "sarif" {
            let v: Value = serde_json::from_str(&sample).unwrap();
            sample = serde_json::to_string_pretty(&v["runs"][0]["results"][0]).unwrap() + "\n";
        }
        let block = format!("`--format {format}`");
        let at = section
            .find(&block)
            .unwrap_or_else(|| panic!("README's In CI section lacks {block}"));
        assert!(
            section[at..].contains(&format!("```{fence}\n{sample}```")),
            "README's {format} sample differs from the output:\n{sample}"
        );
    }
}

/// A 1C export writes one record per line: the annotation's column is the value's place in
/// that line, counted in characters (Cyrillic letters are two bytes each), and a Windows-1251
/// file is counted as it reads.
#[test]
fn annotations_point_at_the_value_in_a_one_record_per_line_export() {
    let d = tempdir();
    std::fs::create_dir(d.path().join("data")).unwrap();
    let text = "[\r\n\t{\"id\": \"S-1\", \"name\": \"Опт\"},\r\n\t{\"id\": \"S-2\", \"name\": \"Розница\", \"sort\": \"x\"}\r\n]\r\n";
    std::fs::write(d.path().join("data/segments.json"), text).unwrap();
    let o = run_in(d.path(), &["validate", "--format", "github", "data"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    // Line 3: tab, then {"id": "S-2", "name": "Розница", "sort": "x"}; "x" is at column 43
    // (50 if bytes were counted).
    assert!(
        stdout(&o).starts_with(
            "::error file=data/segments.json,line=3,col=43,title=schema.type::record 1 at /1/sort: "
        ),
        "{}",
        stdout(&o)
    );
    let (cp1251, _, _) = encoding_rs::WINDOWS_1251.encode(text);
    std::fs::write(d.path().join("data/segments.json"), &*cp1251).unwrap();
    let o = run_in(d.path(), &["validate", "--format", "github", "data"]);
    assert!(
        stdout(&o).contains("line=3,col=43,title=schema.type"),
        "{}",
        stdout(&o)
    );
}

/// Warnings do not fail a test case: they are its output, each at its value's place.
#[test]
fn junit_warnings_are_the_case_output() {
    let o = crate::harness::run([
        "validate".into(),
        "--format".into(),
        "junit".into(),
        "--timezone".into(),
        "Europe/Moscow".into(),
        fixtures().join("1c/input").into_os_string(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let cases = junitparser(&o.stdout);
    let c = cases
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["name"]
                .as_str()
                .unwrap()
                .ends_with("1c/input/categories.json")
        })
        .unwrap();
    assert_eq!(c["results"], serde_json::json!([]), "{c}");
    let out = c["system_out"].as_str().unwrap();
    assert!(
        out.contains("categories.json:5:16: warning ref.empty: record 0 at /0/parent_id: "),
        "{out}"
    );
}

/// The same annotation written by GitHub's own toolkit (`@actions/core`, which actions use to
/// write workflow commands): a path with `,` `:` `%` and a message with `%` must come out
/// encoded alike, property for property.
#[test]
fn github_annotations_are_encoded_as_githubs_toolkit_does() {
    let d = tempdir();
    let dir = d.path().join("ci/a,b:c%");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("segments.json"),
        "[\n  {\"id\": \"S-1\", \"name\": \"a\", \"sort\": \"50%\"}\n]\n",
    )
    .unwrap();
    let o = run_in(d.path(), &["validate", "--format", "github", "-r", "ci"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let ours = stdout(&o).lines().next().unwrap().to_string();
    let message = format!("record 0 at /0/sort: {}", {
        let v: Value = serde_json::from_slice(
            &run_in(d.path(), &["validate", "--format", "json", "-r", "ci"]).stdout,
        )
        .unwrap();
        v[0]["errors"][0]["message"].as_str().unwrap().to_string()
    });
    assert!(message.contains('%'), "{message}");
    let root = Command::new("npm").args(["root", "-g"]).output().unwrap();
    let script = "const core = require('@actions/core');\n\
        const [message, title, file, line, col] = process.argv.slice(1);\n\
        core.error(message, {title, file, startLine: +line, startColumn: +col});\n";
    let t = Command::new("node")
        .env("NODE_PATH", stdout(&root).trim())
        .args([
            "-e",
            script,
            &message,
            "schema.type",
            "ci/a,b:c%/segments.json",
            "2",
            "38",
        ])
        .output()
        .expect("node");
    assert!(
        t.status.success(),
        "@actions/core (scripts/install-deps installs it): {}",
        stderr(&t)
    );
    let toolkit = stdout(&t).trim_end().to_string();
    // The same command, properties in any order.
    let parts = |l: &str| {
        let rest = l.strip_prefix("::").unwrap();
        let (head, msg) = rest.split_once("::").unwrap();
        let (kind, props) = head.split_once(' ').unwrap();
        let mut props: Vec<String> = props.split(',').map(str::to_string).collect();
        props.sort();
        (kind.to_string(), props, msg.to_string())
    };
    assert_eq!(
        parts(&ours),
        parts(&toolkit),
        "\nours:    {ours}\ntoolkit: {toolkit}"
    );
}

/// Two errors in one file: one test case, two failures, each with its code and place.
#[test]
fn junit_has_a_failure_per_error() {
    let d = tempdir();
    std::fs::create_dir_all(d.path().join("data")).unwrap();
    std::fs::write(
        d.path().join("data/warehouses.json"),
        "[\n{\"id\": \"W-1\", \"name\": \"a\", \"pickup\": \"x\"},\n\
         {\"id\": \"W-2\", \"name\": \"b\", \"pickup\": \"y\"}\n]\n",
    )
    .unwrap();
    let o = run_in(d.path(), &["validate", "--format", "junit", "data"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let cases = junitparser(&o.stdout);
    assert_eq!(cases.as_array().unwrap().len(), 1, "{cases}");
    let results = cases[0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{cases}");
    for (n, r) in results.iter().enumerate() {
        assert_eq!(r[0], "Failure", "{r}");
        assert_eq!(r[2], "schema.type", "{r}");
        let line = n + 2;
        assert!(
            r[3].as_str()
                .unwrap()
                .starts_with(&format!("data/warehouses.json:{line}:")),
            "{r}"
        );
    }
    assert_eq!(cases[0]["failures"], 1, "{cases}");
}
