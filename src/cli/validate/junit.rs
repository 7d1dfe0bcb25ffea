//! `--format junit`: JUnit XML, which GitLab (`artifacts:reports:junit`), Jenkins and most CI
//! test viewers show: a test case per file, a `<failure>` per error.
//!
//! Written with quick-xml (already a dependency, for its escaping) rather than quick-junit:
//! quick-junit's model holds one result per test case, and here a file with three errors
//! carries three failures, as junitparser and the Jenkins schema read them.

use super::{located, Findings, Level};
use crate::compo::messages::escape_controls;
use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;
use std::io::Write;

const SUITE: &str = "compo-exchange validate";

/// `file:line:col`, as compilers write a place.
fn place(file: &str, at: Option<(u64, u64)>) -> String {
    match at {
        Some((l, c)) => format!("{file}:{l}:{c}"),
        None => file.to_string(),
    }
}

/// Element text with `<`, `>` and `&` escaped only: quotes stay readable in a viewer.
fn text_node(s: &str) -> BytesText<'static> {
    BytesText::from_escaped(quick_xml::escape::partial_escape(s).into_owned())
}

pub fn write(out: &mut dyn Write, f: &Findings) -> std::io::Result<()> {
    let failed = f.invalid();
    let skipped = f.notices.iter().filter(|n| n.path.is_some()).count();
    let errors = f.notices.iter().filter(|n| n.path.is_none()).count();
    let tests = f.reports.len() + skipped + errors;
    let counts = [
        ("name", SUITE.to_string()),
        ("tests", tests.to_string()),
        ("failures", failed.to_string()),
        ("errors", errors.to_string()),
        ("skipped", skipped.to_string()),
    ];
    let mut w = Writer::new_with_indent(out, b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.create_element("testsuites")
        .with_attributes(counts.iter().map(|(k, v)| (*k, v.as_str())))
        .write_inner_content(|w| {
            w.create_element("testsuite")
                .with_attributes(counts.iter().map(|(k, v)| (*k, v.as_str())))
                .write_inner_content(|w| {
                    for (r, errors, warnings) in f.each() {
                        let file = escape_controls(&r.file);
                        let classname = r.data_type.as_deref().unwrap_or("file");
                        w.create_element("testcase")
                            .with_attribute(("name", file.as_ref()))
                            .with_attribute(("classname", classname))
                            .with_attribute(("file", file.as_ref()))
                            .write_inner_content(|w| {
                                for (i, at) in &errors {
                                    let at = place(&file, *at);
                                    let text = located(i, f.lang);
                                    w.create_element("failure")
                                        .with_attribute(("message", text.as_str()))
                                        .with_attribute(("type", i.code.as_str()))
                                        .write_text_content(text_node(&format!("{at}: {text}")))?;
                                }
                                // Warnings do not fail a file: listed in its output, one
                                // line each.
                                let lines: Vec<String> = warnings
                                    .iter()
                                    .map(|(i, at)| {
                                        format!(
                                            "{}: warning {}: {}\n",
                                            place(&file, *at),
                                            i.code,
                                            located(i, f.lang)
                                        )
                                    })
                                    .collect();
                                if !lines.is_empty() {
                                    w.create_element("system-out")
                                        .write_text_content(text_node(&lines.concat()))?;
                                }
                                Ok(())
                            })?;
                    }
                    // Files skipped and sub-folders left out were not tested: skipped cases,
                    // so that a viewer lists them. Nothing found at all is an error case.
                    for n in &f.notices {
                        let name = n.path.as_deref().map(escape_controls);
                        let element = match (n.level, &name) {
                            (Level::Error, None) => "error",
                            _ => "skipped",
                        };
                        w.create_element("testcase")
                            .with_attribute(("name", name.as_deref().unwrap_or("input")))
                            .with_attribute(("classname", "file"))
                            .write_inner_content(|w| {
                                w.create_element(element)
                                    .with_attribute(("message", n.message.as_str()))
                                    .with_attribute(("type", n.code))
                                    .write_empty()?;
                                Ok(())
                            })?;
                    }
                    Ok(())
                })?;
            Ok(())
        })?;
    writeln!(w.into_inner())
}
