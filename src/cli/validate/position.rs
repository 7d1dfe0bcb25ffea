//! Where in its file each problem's value is (line and column), for the CI formats whose
//! annotations point at a place: the data file is parsed again, with positions, only when it
//! has problems with a pointer.
//!
//! The validator itself streams records without positions (that is what makes it fast on
//! large files); a second parse with jsonc-parser, which keeps the byte range of every node,
//! costs only files with problems, and only those up to [`MAX_BYTES`]. Beyond that, and for a
//! file that does not parse, a problem keeps the line where its record starts and column 1.

use crate::compo::report::{Issue, Report};
use jsonc_parser::ast::Value;
use jsonc_parser::common::Ranged;
use std::path::Path;

/// Larger files are not parsed again: the tree of a whole file costs several times its size.
pub const MAX_BYTES: u64 = 16 << 20;

/// (line, column) from 1 of each error and each warning of a report, in their order.
#[derive(Debug, Clone, Default)]
pub struct Positions {
    pub errors: Vec<Option<(u64, u64)>>,
    pub warnings: Vec<Option<(u64, u64)>>,
}

impl Positions {
    /// The record's line and column 1, as far as the report knows.
    pub fn of_records(r: &Report) -> Positions {
        let rough = |v: &[Issue]| v.iter().map(|i| i.line.map(|l| (l, 1))).collect();
        Positions {
            errors: rough(&r.errors),
            warnings: rough(&r.warnings),
        }
    }

    /// The value's own line and column where the file (`path`) can be read again.
    pub fn of_values(r: &Report, path: &Path) -> Positions {
        let mut p = Positions::of_records(r);
        let has_pointer = r
            .errors
            .iter()
            .chain(&r.warnings)
            .any(|i| !i.pointer.is_empty());
        if !has_pointer || std::fs::metadata(path).map_or(true, |m| m.len() > MAX_BYTES) {
            return p;
        }
        let Some(text) = std::fs::read(path).ok().and_then(decode) else {
            return p;
        };
        let options = jsonc_parser::ParseOptions {
            allow_comments: false,
            allow_loose_object_property_names: false,
            allow_trailing_commas: false,
            allow_missing_commas: false,
            allow_single_quoted_strings: false,
            allow_hexadecimal_numbers: false,
            allow_unary_plus_numbers: false,
            allow_bare_decimal_point_numbers: false,
            allow_extended_string_escapes: false,
            allow_non_finite_numbers: false,
        };
        let Ok(parsed) = jsonc_parser::parse_to_ast(&text, &Default::default(), &options) else {
            return p;
        };
        let Some(root) = parsed.value else {
            return p;
        };
        let lines = LineStarts::new(&text);
        for (at, issues) in [(&mut p.errors, &r.errors), (&mut p.warnings, &r.warnings)] {
            for (slot, i) in at.iter_mut().zip(issues) {
                if i.pointer.is_empty() {
                    continue;
                }
                if let Some(offset) = find(&root, &i.pointer) {
                    *slot = Some(lines.at(&text, offset));
                }
            }
        }
        p
    }
}

/// The text of a data file as the validator reads it: UTF-8 without BOM, or Windows-1251.
fn decode(bytes: Vec<u8>) -> Option<String> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    match std::str::from_utf8(body) {
        Ok(s) => Some(s.to_string()),
        Err(_) => {
            let (s, _, bad) = encoding_rs::WINDOWS_1251.decode(body);
            (!bad).then(|| s.into_owned())
        }
    }
}

/// Byte offset of the value at RFC 6901 `pointer`; for a member the pointer names but the
/// record lacks (a required field), the deepest value it reaches.
fn find(root: &Value, pointer: &str) -> Option<usize> {
    let mut node = root;
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        let next = match node {
            Value::Object(o) => o
                .properties
                .iter()
                .find(|p| p.name.as_str() == token)
                .map(|p| &p.value),
            Value::Array(a) => token.parse::<usize>().ok().and_then(|n| a.elements.get(n)),
            _ => None,
        };
        match next {
            Some(n) => node = n,
            None => break,
        }
    }
    Some(node.start())
}

/// Where each line starts, to turn a byte offset into a line and a column.
struct LineStarts(Vec<usize>);

impl LineStarts {
    fn new(text: &str) -> LineStarts {
        let mut v = vec![0];
        v.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        LineStarts(v)
    }

    /// Line and column (in characters, as editors count them) from 1.
    fn at(&self, text: &str, offset: usize) -> (u64, u64) {
        let line = self.0.partition_point(|&s| s <= offset);
        let start = self.0[line - 1];
        let col = text[start..offset].chars().count() + 1;
        (line as u64, col as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, pointer: &str) -> (u64, u64) {
        let parsed =
            jsonc_parser::parse_to_ast(text, &Default::default(), &Default::default()).unwrap();
        let off = find(parsed.value.as_ref().unwrap(), pointer).unwrap();
        LineStarts::new(text).at(text, off)
    }

    #[test]
    fn values_are_found_by_pointer_with_line_and_column_in_characters() {
        let text = "[\r\n\t{\"id\": \"Ё-1\", \"a/b\": [1, {\"x~\": 2}]},\r\n\t{\"id\": \"P\"}\r\n]";
        assert_eq!(at(text, "/0"), (2, 2));
        assert_eq!(at(text, "/0/id"), (2, 9));
        // Columns count characters: "Ё" is two bytes, one column.
        assert_eq!(at(text, "/0/a~1b/1/x~0"), (2, 34));
        assert_eq!(at(text, "/1/id"), (3, 9));
        // A member the record lacks: the record itself.
        assert_eq!(at(text, "/1/unit"), (3, 2));
    }
}
