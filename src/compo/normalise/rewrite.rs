//! Writes a record minified with some members removed and some values replaced, keeping every
//! other byte as the exporter wrote it (numbers, escapes, key order).
//!
//! Edits name values by their position on the record's tape (see [`super::super::tape`]): the
//! tape has one item per key, scalar and container opening, in the order of the text, so a
//! walk over the tokens counts the same positions.

/// A change to one value of a record.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    /// Leave out the object member whose key is at this tape position (its value is a scalar).
    Drop { key: u32 },
    /// Write this JSON text instead of the scalar at this tape position.
    Replace { value: u32, json: String },
}

impl Edit {
    fn at(&self) -> u32 {
        match self {
            Edit::Drop { key } => *key,
            Edit::Replace { value, .. } => *value,
        }
    }
}

/// The end of the scalar token (number, `true`, `false`, `null`, string) starting at `i`.
fn scalar_end(b: &[u8], i: usize) -> usize {
    if b[i] == b'"' {
        return crate::compo::reader::string_end(b, i).unwrap_or(b.len());
    }
    let mut j = i;
    while j < b.len() && !matches!(b[j], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
        j += 1;
    }
    j
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// Appends `record` (strict JSON, as its tape was parsed from) to `out`, minified, with
/// `edits` applied. `edits` must be sorted by position.
pub fn write(record: &[u8], edits: &[Edit], out: &mut Vec<u8>) {
    // Per open container: is it an object, has anything been written into it yet.
    let mut stack: Vec<(bool, bool)> = Vec::new();
    let mut expect_key = false;
    let mut item: u32 = 0;
    let mut next = edits.iter().peekable();
    let mut i = 0;
    // Before a value: a separator, unless it follows its key.
    let sep = |stack: &mut Vec<(bool, bool)>, out: &mut Vec<u8>| {
        if let Some(top) = stack.last_mut() {
            if top.1 {
                out.push(b',');
            }
            top.1 = true;
        }
    };
    let mut after_key = false;
    while i < record.len() {
        let b = record[i];
        match b {
            b' ' | b'\t' | b'\n' | b'\r' | b':' => i += 1,
            b',' => {
                i += 1;
                expect_key = stack.last().is_some_and(|t| t.0);
            }
            b'{' | b'[' => {
                if !after_key {
                    sep(&mut stack, out);
                }
                after_key = false;
                out.push(b);
                stack.push((b == b'{', false));
                expect_key = b == b'{';
                item += 1;
                i += 1;
            }
            b'}' | b']' => {
                out.push(b);
                stack.pop();
                expect_key = false;
                i += 1;
            }
            _ if expect_key => {
                let end = scalar_end(record, i);
                expect_key = false;
                if next.peek().is_some_and(|e| e.at() == item) {
                    if let Some(Edit::Drop { .. }) = next.next() {
                        // Skip the key, the colon and the scalar value.
                        let mut j = skip_ws(record, end);
                        if record.get(j) == Some(&b':') {
                            j = skip_ws(record, j + 1);
                        }
                        i = scalar_end(record, j);
                        item += 2;
                        continue;
                    }
                }
                sep(&mut stack, out);
                out.extend_from_slice(&record[i..end]);
                out.push(b':');
                after_key = true;
                item += 1;
                i = end;
            }
            _ => {
                let end = scalar_end(record, i);
                if !after_key {
                    sep(&mut stack, out);
                }
                after_key = false;
                match next.peek() {
                    Some(Edit::Replace { value, json }) if *value == item => {
                        out.extend_from_slice(json.as_bytes());
                        next.next();
                    }
                    _ => out.extend_from_slice(&record[i..end]),
                }
                item += 1;
                i = end;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compo::tape::Tape;

    fn run(text: &str, edits: &[Edit]) -> String {
        let mut out = Vec::new();
        write(text.as_bytes(), edits, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn without_edits_it_is_the_minified_record() {
        for text in [
            "{\r\n\t\"id\": \"P 1\",\r\n\t\"n\": [ 1 , 2.50, -3e2 ],\r\n\t\"o\": {\"a\": null, \"b\": {}}, \"e\": [], \"s\": \"a \\\" b\"\r\n}",
            "[1,[2,[3]],{}]",
            "\"x\"",
            "{}",
        ] {
            let mut want = Vec::new();
            crate::compo::strict::minify_into(text.as_bytes(), &mut want);
            assert_eq!(run(text, &[]), String::from_utf8(want).unwrap(), "{text}");
        }
    }

    #[test]
    fn positions_are_the_tapes() {
        // Positions: 0 {, 1 "a", 2 1, 3 "b", 4 [, 5 null, 6 "c", 7 "d", 8 {, 9 "x", 10 "e",
        // 11 "z", 12 "".
        let text = "{ \"a\" : 1 ,\n \"b\": [null, \"c\"], \"d\": {\"x\": \"e\"}, \"z\": \"\"}";
        let tape = Tape::parse(text).unwrap();
        let root = tape.root();
        let z = root.member("z").unwrap();
        assert_eq!(z.position(), 12);
        assert_eq!(
            run(text, &[Edit::Drop { key: 1 }]),
            r#"{"b":[null,"c"],"d":{"x":"e"},"z":""}"#
        );
        assert_eq!(
            run(text, &[Edit::Drop { key: 11 }]),
            r#"{"a":1,"b":[null,"c"],"d":{"x":"e"}}"#
        );
        assert_eq!(
            run(text, &[Edit::Drop { key: 9 }, Edit::Drop { key: 11 }]),
            r#"{"a":1,"b":[null,"c"],"d":{}}"#
        );
        assert_eq!(
            run(
                text,
                &[
                    Edit::Replace {
                        value: 6,
                        json: "\"C\"".into()
                    },
                    Edit::Replace {
                        value: 10,
                        json: "\"2026-01-01\"".into()
                    }
                ]
            ),
            r#"{"a":1,"b":[null,"C"],"d":{"x":"2026-01-01"},"z":""}"#
        );
        // Every member dropped.
        assert_eq!(
            run(
                r#"{"a":null,"b":""}"#,
                &[Edit::Drop { key: 1 }, Edit::Drop { key: 3 }]
            ),
            "{}"
        );
    }
}
