//! `compo-exchange schemas --out DIR` through the binary: the schemas it writes are the ones
//! it validates with.

use crate::harness;

#[test]
fn the_written_schemas_validate_as_the_embedded_ones() {
    let tmp = harness::tempdir();
    let out = tmp.path().join("schemas");
    let o = harness::run(["schemas", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", harness::stderr(&o));
    assert!(
        harness::stdout(&o).contains("16 schemas in"),
        "{}",
        harness::stdout(&o)
    );
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 16);
    let fixtures = harness::fixtures();
    let with = |file: &str| {
        harness::run([
            "validate",
            "--schemas",
            out.to_str().unwrap(),
            fixtures.join(file).to_str().unwrap(),
        ])
    };
    assert_eq!(with("valid/products.json").status.code(), Some(0));
    let bad = tmp.path().join("segments.json");
    std::fs::copy(fixtures.join("invalid/segments/schema-required.json"), &bad).unwrap();
    let o = with(bad.to_str().unwrap());
    assert_eq!(o.status.code(), Some(1), "{}", harness::stdout(&o));
    assert!(harness::stdout(&o).contains("error schema.required"));

    // A local edit is kept, and said so, unless --force.
    std::fs::write(out.join("segments.schema.json"), b"{}").unwrap();
    let o = harness::run(["schemas", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        harness::stderr(&o).contains("segments.schema.json differs from the embedded schema"),
        "{}",
        harness::stderr(&o)
    );
    assert_eq!(
        std::fs::read(out.join("segments.schema.json")).unwrap(),
        b"{}"
    );
    let o = harness::run(["schemas", "--force", "--out", out.to_str().unwrap()]);
    assert!(o.status.success());
    assert!(harness::stdout(&o).contains("(1 written, 15 already up to date)"));
}

#[test]
fn the_schemas_help_has_an_example_and_its_exit_codes() {
    let o = harness::run(["schemas", "--help"]);
    assert!(o.status.success());
    let h = harness::stdout(&o);
    assert!(h.contains("compo-exchange schemas --out"), "{h}");
    assert!(h.contains("Exit codes"), "{h}");
}

/// docs/ci.md's VS Code `json.schemas` mapping: every type, each name of the outbox mapped to
/// its own schema and to no other.
#[test]
fn the_documented_editor_mapping_covers_every_type_with_its_own_schema() {
    use compo_exchange::compo::model::{DataFileName, DataType, Side};
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/ci.md"),
    )
    .unwrap();
    let block = doc
        .split("```json\n")
        .find(|b| b.contains("\"json.schemas\""))
        .and_then(|b| b.split("```").next())
        .expect("a json.schemas block in docs/ci.md");
    let v: serde_json::Value = serde_json::from_str(block).unwrap();
    let entries = v["json.schemas"].as_array().unwrap();
    assert_eq!(entries.len(), DataType::ALL.len());
    // A glob of VS Code's kind (`**/` and `*` only) as a regex.
    let glob = |g: &str| {
        let body = regex::escape(g.trim_start_matches("**/")).replace(r"\*", "[^/]*");
        regex::Regex::new(&format!("(^|/){body}$")).unwrap()
    };
    for t in DataType::ALL {
        for name in [
            format!("{}.json", t.name()),
            format!("{}.delta.json", t.name()),
            format!("{}.delta-20261130.json", t.name()),
        ] {
            assert!(DataFileName::parse(&name, Side::Outbound).is_some());
            let path = format!("erp/outbox/{name}");
            let urls: Vec<&str> = entries
                .iter()
                .filter(|e| {
                    e["fileMatch"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|g| glob(g.as_str().unwrap()).is_match(&path))
                })
                .map(|e| e["url"].as_str().unwrap())
                .collect();
            assert_eq!(
                urls,
                [format!("./.compo-schemas/{}.schema.json", t.name())],
                "{path}"
            );
        }
    }
}
