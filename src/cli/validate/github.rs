//! `--format github`: GitHub Actions workflow commands (`::error file=...,line=...::`), which
//! the runner turns into annotations on the file and line of the pull request.

use super::{located, Findings, Level};
use std::io::Write;

/// One command per problem and notice, then the summary as a plain log line. Errors come
/// first, then warnings, then notes: GitHub turns only the first 10 of each kind of a step into
/// annotations (50 per job); the rest stay in the log.
pub fn write(out: &mut dyn Write, f: &Findings) -> std::io::Result<()> {
    let all: Vec<_> = f.each().collect();
    for kind in ["error", "warning"] {
        for (r, errors, warnings) in &all {
            let issues = if kind == "error" { errors } else { warnings };
            for (i, at) in issues {
                let mut props = format!("file={}", property(&r.file));
                if let Some((line, col)) = at {
                    props.push_str(&format!(",line={line},col={col}"));
                }
                writeln!(
                    out,
                    "::{kind} {props},title={}::{}",
                    property(&i.code),
                    data(&located(i, f.lang))
                )?;
            }
        }
    }
    let mut notices: Vec<_> = f.notices.iter().collect();
    notices.sort_by_key(|n| n.level as u8);
    for n in notices {
        let kind = match n.level {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Note => "notice",
        };
        let file = n
            .path
            .as_deref()
            .map(|p| format!("file={},", property(p)))
            .unwrap_or_default();
        writeln!(
            out,
            "::{kind} {file}title={}::{}",
            property(n.code),
            data(&n.message)
        )?;
    }
    super::text::write_summary(out, &f.reports, f.lang)
}

/// A message as the runner reads it: `%`, CR and LF encoded (GitHub's toolkit does the same
/// in `escapeData`), so that a value with a line break stays one annotation.
fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value: as [`data`], plus `:` and `,`, which separate properties.
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    #[test]
    fn separators_and_line_breaks_are_encoded() {
        assert_eq!(super::data("50% a\r\nb"), "50%25 a%0D%0Ab");
        assert_eq!(super::property("a:b,c"), "a%3Ab%2Cc");
    }
}
