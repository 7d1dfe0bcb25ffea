//! `--format gitlab`: a GitLab Code Quality report (the Code Climate issue subset GitLab
//! reads), shown in merge requests when a job stores it as `artifacts:reports:codequality`.

use super::{located, Findings};
use serde::Serialize;
use std::collections::HashMap;
use std::io::Write;

#[derive(Serialize)]
struct CodeQualityIssue<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    description: String,
    check_name: &'a str,
    /// Stable for the same problem from run to run: GitLab compares the fingerprints of the
    /// source and target branch to tell new problems from fixed ones.
    fingerprint: String,
    severity: &'static str,
    location: Location<'a>,
}

#[derive(Serialize)]
struct Location<'a> {
    path: &'a str,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: u64,
}

/// Every error and warning of every file, as a JSON array. Notices are left out: a skipped
/// README is not a code-quality finding, and the run-wide ones are in the job's log.
pub fn write(out: &mut dyn Write, f: &Findings) -> std::io::Result<()> {
    let mut issues = Vec::new();
    // Two problems with the same file, pointer and code (rare) get distinct fingerprints by
    // their order.
    let mut seen: HashMap<(String, String, String), u32> = HashMap::new();
    for (r, errors, warnings) in f.each() {
        for (severity, list) in [("major", errors), ("minor", warnings)] {
            for (i, at) in list {
                let n = seen
                    .entry((r.file.clone(), i.pointer.clone(), i.code.clone()))
                    .and_modify(|n| *n += 1)
                    .or_insert(0);
                issues.push(CodeQualityIssue {
                    kind: "issue",
                    description: located(i, f.lang),
                    check_name: &i.code,
                    fingerprint: fingerprint(&r.file, &i.pointer, &i.code, *n),
                    severity,
                    location: Location {
                        path: &r.file,
                        // Required by GitLab; a problem of the whole file is put on line 1.
                        lines: Lines {
                            begin: at.map_or(1, |(line, _)| line),
                        },
                    },
                });
            }
        }
    }
    serde_json::to_writer_pretty(&mut *out, &issues)?;
    writeln!(out)
}

/// A hash of file, pointer, code (and the repeat number): neither the line nor the message,
/// which move and change with unrelated edits and the language.
pub(super) fn fingerprint(file: &str, pointer: &str, code: &str, repeat: u32) -> String {
    let mut h = blake3::Hasher::new();
    for part in [file, pointer, code] {
        h.update(part.as_bytes());
        h.update(&[0]);
    }
    h.update(&repeat.to_le_bytes());
    h.finalize().to_hex()[..32].to_string()
}

#[cfg(test)]
mod tests {
    use super::fingerprint;

    #[test]
    fn fingerprints_differ_by_file_pointer_code_and_repeat_only() {
        let a = fingerprint("a.json", "/0/id", "schema.pattern", 0);
        assert_eq!(a, fingerprint("a.json", "/0/id", "schema.pattern", 0));
        assert_ne!(a, fingerprint("b.json", "/0/id", "schema.pattern", 0));
        assert_ne!(a, fingerprint("a.json", "/1/id", "schema.pattern", 0));
        assert_ne!(a, fingerprint("a.json", "/0/id", "schema.type", 0));
        assert_ne!(a, fingerprint("a.json", "/0/id", "schema.pattern", 1));
        // The separators keep "a" + "b/c" apart from "ab" + "/c".
        assert_ne!(
            fingerprint("a", "b/c", "x", 0),
            fingerprint("ab", "/c", "x", 0)
        );
    }
}
