//! `--format sarif`: a SARIF 2.1.0 log (GitHub code scanning, Azure DevOps, IDE viewers): our
//! codes as the rules with their meaning, a result per error and warning, and what was skipped
//! or left out as notifications of the run.

use super::{located, Findings, Level};
use crate::cli::Exit;
use crate::compo::report::codes;
use serde_sarif::sarif::{
    ArtifactLocation, Invocation, Location, Message, MultiformatMessageString, Notification,
    PhysicalLocation, Region, ReportingDescriptor, ReportingDescriptorReference, Result,
    ResultLevel, Run, Sarif, Tool, ToolComponent,
};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;

/// What a URI reference cannot hold as it is (RFC 3986); letters beyond ASCII (Cyrillic file
/// names) are encoded as UTF-8 too.
const URI: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b']')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// A relative path stays relative (to the checkout, as code scanning resolves it); an
/// absolute one becomes a `file://` URI.
fn uri(path: &str) -> String {
    let encoded = percent_encoding::utf8_percent_encode(&path.replace('\\', "/"), URI).to_string();
    if encoded.starts_with('/') {
        format!("file://{encoded}")
    } else {
        encoded
    }
}

fn text(s: &str) -> Message {
    Message::builder().text(s).build()
}

fn place(path: &str, at: Option<(u64, u64)>) -> Location {
    let artifact = ArtifactLocation::builder().uri(uri(path)).build();
    let physical = match at {
        Some((line, col)) => PhysicalLocation::builder()
            .artifact_location(artifact)
            .region(
                Region::builder()
                    .start_line(line as i64)
                    .start_column(col as i64)
                    .build(),
            )
            .build(),
        None => PhysicalLocation::builder()
            .artifact_location(artifact)
            .build(),
    };
    Location::builder().physical_location(physical).build()
}

/// The rules: every code of the catalogue with its meaning; `schema.*` codes, a family in the
/// catalogue, each as used, with the family's meaning (and any other code used, so that every
/// result has its rule).
fn rules(f: &Findings) -> Vec<ReportingDescriptor> {
    let family = codes::ALL
        .iter()
        .find(|(c, _)| *c == codes::SCHEMA_PREFIX)
        .map(|(_, d)| *d)
        .unwrap_or_default();
    let mut used: Vec<&str> = f
        .reports
        .iter()
        .flat_map(|r| r.errors.iter().chain(&r.warnings))
        .map(|i| i.code.as_str())
        .filter(|c| !codes::ALL.iter().any(|(k, _)| k == c))
        .collect();
    used.sort_unstable();
    used.dedup();
    codes::ALL
        .iter()
        .filter(|(c, _)| *c != codes::SCHEMA_PREFIX)
        .copied()
        .chain(used.into_iter().map(|c| {
            let doc = if c.starts_with(codes::SCHEMA_PREFIX) {
                family
            } else {
                c
            };
            (c, doc)
        }))
        .map(|(id, doc)| {
            ReportingDescriptor::builder()
                .id(id)
                .short_description(MultiformatMessageString::builder().text(doc).build())
                .build()
        })
        .collect()
}

pub fn write(out: &mut dyn Write, f: &Findings, exit: Exit) -> std::io::Result<()> {
    let rules = rules(f);
    let index: HashMap<&str, usize> = rules
        .iter()
        .enumerate()
        .map(|(n, r)| (r.id.as_str(), n))
        .collect();
    let mut results = Vec::new();
    let mut seen: HashMap<(&str, &str, &str), u32> = HashMap::new();
    for (r, errors, warnings) in f.each() {
        for (level, list) in [
            (ResultLevel::Error, errors),
            (ResultLevel::Warning, warnings),
        ] {
            for (i, at) in list {
                let n = seen
                    .entry((&r.file, &i.pointer, &i.code))
                    .and_modify(|n| *n += 1)
                    .or_insert(0);
                let fingerprint = super::gitlab::fingerprint(&r.file, &i.pointer, &i.code, *n);
                let result = Result::builder()
                    .rule_id(i.code.as_str())
                    .rule_index(index[i.code.as_str()] as i64)
                    .level(level)
                    .message(text(&located(i, f.lang)))
                    .locations(vec![place(&r.file, at)])
                    .partial_fingerprints(BTreeMap::from([(
                        "compoExchange/v1".to_string(),
                        fingerprint,
                    )]));
                results.push(match i.count {
                    Some(c) => result.occurrence_count(c as i64).build(),
                    None => result.build(),
                });
            }
        }
    }
    let notifications: Vec<Notification> = f
        .notices
        .iter()
        .map(|n| {
            let level = match n.level {
                Level::Error => "error",
                Level::Warning => "warning",
                Level::Note => "note",
            };
            let b = Notification::builder()
                .descriptor(ReportingDescriptorReference::builder().id(n.code).build())
                .level(serde_json::json!(level))
                .message(text(&n.message));
            match &n.path {
                Some(p) => b.locations(vec![place(p, None)]).build(),
                None => b.build(),
            }
        })
        .collect();
    let invocation = Invocation::builder()
        // The validator judged what it was given; "nothing found" is a failed run.
        .execution_successful(exit != Exit::NothingFound)
        .exit_code(exit as i64)
        .tool_execution_notifications(notifications)
        .build();
    let driver = ToolComponent::builder()
        .name("compo-exchange")
        .version(env!("CARGO_PKG_VERSION"))
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .rules(rules)
        .build();
    let log = Sarif::builder()
        .schema(serde_sarif::sarif::SCHEMA_URL)
        .version(serde_json::json!("2.1.0"))
        .runs(vec![Run::builder()
            .tool(Tool::builder().driver(driver).build())
            .results(results)
            .invocations(vec![invocation])
            .build()])
        .build();
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn paths_become_uri_references() {
        assert_eq!(super::uri("ci/data/a b.json"), "ci/data/a%20b.json");
        assert_eq!(
            super::uri("данные/products.json"),
            "%D0%B4%D0%B0%D0%BD%D0%BD%D1%8B%D0%B5/products.json"
        );
        assert_eq!(super::uri("/srv/in/a.json"), "file:///srv/in/a.json");
    }
}
