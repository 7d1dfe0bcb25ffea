//! The work on one record, on a worker thread: parse it, check it against its schema and the
//! protocol's rules, normalise it, and note what the batch-wide checks need from it.

use super::*;

/// The members of a `t` record that anything after the schema check looks at.
pub(super) fn members_read(t: DataType) -> Option<Vec<&'static str>> {
    let mut f = checks::fields_read(t)?;
    f.extend(t.key_fields());
    f.extend(["deleted", "email", "parent_id"]);
    f.extend(t.references().iter().filter_map(|r| first_field(r.path)));
    f.extend(t.attachments().iter().filter_map(|a| first_field(a.path)));
    f.sort_unstable();
    f.dedup();
    Some(f)
}

/// What the parallel stage learns from one record.
#[derive(Default)]
pub(super) struct RecordOutcome {
    pub(super) index: u64,
    pub(super) issues: Vec<Issue>,
    pub(super) key: Option<String>,
    pub(super) deleted: bool,
    pub(super) email: Option<String>,
    pub(super) parent: Option<String>,
    /// (which reference of the type, array index on its path, value)
    pub(super) refs: Vec<(u8, Option<u32>, String)>,
    /// (which attachment of the type, array index on its path, file name)
    pub(super) files: Vec<(u8, Option<u32>, String)>,
    /// Warnings to count once per file and field, their messages not written yet.
    pub(super) warnings: Vec<normalise::Note>,
    pub(super) minified: Vec<u8>,
    /// The hash of the record's canonical form (after normalisation).
    pub(super) hash: RecordHash,
}

impl Validator {
    /// Parses and checks one record (runs on a worker thread).
    pub(super) fn record(
        &self,
        t: DataType,
        is_delta: bool,
        batch: &Batch,
        span: &Span,
        want_min: bool,
        wanted: &Wanted,
    ) -> RecordOutcome {
        let index = span.index;
        let bytes = batch.bytes(span);
        let mut o = RecordOutcome {
            index,
            ..Default::default()
        };
        // The fast parse; what it refuses is parsed again by the strict parser, which says
        // what is wrong and where.
        let fast = batch.text(span).and_then(Tape::parse);
        let reparsed;
        let tape = match fast {
            Some(t) => t,
            None => match strict::parse_record(bytes) {
                Ok(v) => {
                    // Not expected (both parsers are serde_json's); go on from its value.
                    reparsed = v.to_string();
                    match Tape::parse(&reparsed) {
                        Some(t) => t,
                        None => return o,
                    }
                }
                Err(p) => {
                    self.parse_problem(p, batch, span, &mut o);
                    return o;
                }
            },
        };
        // Canonical records pass the quick schema pass and are written as they are; the
        // others are normalised (see `normalise::gate`) and checked in their new form.
        let mut scan = normalise::Scan::default();
        let rewritten: String;
        let retaped;
        let root = if self.schemas.quick_valid(t, tape.root()) {
            if want_min {
                strict::minify_into(bytes, &mut o.minified);
            }
            tape.root()
        } else {
            scan = self.normaliser.scan(t, index, tape.root());
            if scan.edits.is_empty() {
                if want_min {
                    strict::minify_into(bytes, &mut o.minified);
                }
                self.schemas
                    .explain(t, index, tape.root(), self.opts.lang, &mut o.issues);
                tape.root()
            } else {
                let mut out = Vec::with_capacity(bytes.len());
                rewrite::write(bytes, &scan.edits, &mut out);
                // Edits cut the record at token boundaries and insert JSON strings, so the
                // text stays UTF-8; simdutf8 confirms it at memory speed (std's check was 6%
                // of the time on a file that needs normalising throughout).
                rewritten = match simdutf8::basic::from_utf8(&out) {
                    // SAFETY: `out` was just validated as UTF-8.
                    Ok(_) => unsafe { String::from_utf8_unchecked(out) },
                    Err(_) => String::new(),
                };
                retaped = Tape::parse(&rewritten);
                match &retaped {
                    Some(t2) => {
                        if want_min {
                            o.minified.extend_from_slice(rewritten.as_bytes());
                        }
                        self.schemas
                            .check(t, index, t2.root(), self.opts.lang, &mut o.issues);
                        t2.root()
                    }
                    // Not expected (the rewrite of strict JSON is strict JSON): the record is
                    // then checked and published as written.
                    None => {
                        scan = normalise::Scan::default();
                        if want_min {
                            strict::minify_into(bytes, &mut o.minified);
                        }
                        self.schemas
                            .explain(t, index, tape.root(), self.opts.lang, &mut o.issues);
                        tape.root()
                    }
                }
            }
        };
        let value = match &self.reads[&t] {
            Some(members) => root.to_value_with(members),
            None => root.to_value(),
        };
        checks::check_record(t, index, &value, is_delta, self.opts.lang, &mut o.issues);
        record_facts(t, is_delta, &value, wanted, &mut o);
        if want_min {
            // Only what is staged for publishing needs its hash (the record store's).
            o.hash = canonical::tape_hash(root);
        }
        if !scan.notes.is_empty() {
            self.take_notes(t, index, scan, &mut o);
        }
        drop_facts_already_wrong(t, &mut o);
        o
    }

    /// Adds what the normaliser found; a value it refuses gets no other error (one mistake,
    /// one message), and is not looked up as a reference or a key.
    pub(super) fn take_notes(
        &self,
        t: DataType,
        index: u64,
        scan: normalise::Scan,
        o: &mut RecordOutcome,
    ) {
        if scan.notes.iter().any(|n| n.error) {
            o.issues.retain(|i| !scan.covers(&i.pointer));
            let refs = t.references();
            o.refs
                .retain(|(w, at, _)| !scan.covers(&pointer_of(index, refs[*w as usize].path, *at)));
            let atts = t.attachments();
            o.files
                .retain(|(w, at, _)| !scan.covers(&pointer_of(index, atts[*w as usize].path, *at)));
            if t.has_id_key() && scan.covers(&format!("/{index}/id")) {
                o.key = None;
            }
        }
        let mut errors = Vec::new();
        for n in scan.notes {
            if n.error {
                errors.push(n.issue);
            } else {
                o.warnings.push(n);
            }
        }
        errors.append(&mut o.issues);
        o.issues = errors;
    }

    /// A record that is not strict JSON, reported with its line or pointer.
    pub(super) fn parse_problem(
        &self,
        p: ParseProblem,
        batch: &Batch,
        span: &Span,
        o: &mut RecordOutcome,
    ) {
        let index = span.index;
        match p {
            ParseProblem::Syntax {
                message,
                line,
                column,
                cause,
            } => {
                let at = batch.line_of(span) + line as u64 - 1;
                // On the record's first line, the record may start mid-line.
                let column = if line == 1 {
                    batch.column_of(span) + column as u64
                } else {
                    column as u64
                };
                o.issues.push(Issue::new(
                    Some(index),
                    format!("/{index}"),
                    codes::JSON_SYNTAX,
                    strict::explain_syntax(self.opts.lang, at, column, cause, &message),
                ));
            }
            ParseProblem::DuplicateKey { pointer, key } => {
                o.issues.push(Issue::new(
                    Some(index),
                    format!("/{index}{pointer}"),
                    codes::JSON_DUPLICATE_KEY,
                    msg!(self.opts.lang, "json-duplicate_key", key = key),
                ));
            }
        }
    }
}

/// What the batch needs to know of a record: key, deletion, references, attached files.
pub(super) fn record_facts(
    t: DataType,
    is_delta: bool,
    value: &Value,
    wanted: &Wanted,
    o: &mut RecordOutcome,
) {
    {
        let Some(obj) = value.as_object() else {
            return;
        };
        o.deleted = is_delta && obj.get("deleted") == Some(&Value::Bool(true));
        o.key = key_of(t, obj);
        if o.deleted {
            return;
        }
        if t == DataType::Customers {
            o.email = obj.get("email").and_then(Value::as_str).map(str::to_string);
        }
        if t == DataType::Categories {
            o.parent = obj
                .get("parent_id")
                .and_then(Value::as_str)
                .map(str::to_string);
        }
        for (n, r) in t.references().iter().enumerate() {
            if !wanted.targets.contains(&r.target) {
                continue;
            }
            walk(value, r.path, None, &mut |i, v| {
                o.refs.push((n as u8, i, v.to_string()));
            });
        }
        for (n, a) in t.attachments().iter().enumerate() {
            if !wanted.folders.contains(&a.folder) {
                continue;
            }
            walk(value, a.path, None, &mut |i, v| {
                o.files.push((n as u8, i, v.to_string()));
            });
        }
    }
}

/// One wrong value, one error: a reference or file name that already has an error of its own
/// (an empty id, a name of the wrong type) is not looked up as well.
pub(super) fn drop_facts_already_wrong(t: DataType, o: &mut RecordOutcome) {
    if o.issues.is_empty() {
        return;
    }
    let issues = &o.issues;
    let wrong = |path: &[Step], at: Option<u32>| {
        let p = pointer_of(o.index, path, at);
        issues.iter().any(|i| i.pointer == p)
    };
    o.refs
        .retain(|(n, at, _)| !wrong(t.references()[*n as usize].path, *at));
    o.files
        .retain(|(n, at, _)| !wrong(t.attachments()[*n as usize].path, *at));
}

/// A record's key: `id`, or the composite key fields joined by U+001F (which ids cannot hold).
/// A key as messages show it: `id "P-1"`, or the composite key's fields that have a value
/// (`product_id "P-1", prices_type_id "PT-1"`).
pub(super) fn key_shown(t: DataType, key: &str) -> String {
    t.key_fields()
        .iter()
        .zip(key.split('\u{1f}'))
        .filter(|(_, v)| !v.is_empty())
        .map(|(f, v)| format!("{f} \"{v}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Calls `f` with the array index (paths have at most one `Each`) and value of every string
/// at `path`. Pointers are only built for the few values that turn out to be wrong.
pub(super) fn walk(
    v: &Value,
    path: &[Step],
    index: Option<u32>,
    f: &mut dyn FnMut(Option<u32>, &str),
) {
    match path.split_first() {
        None => {
            if let Some(s) = v.as_str() {
                f(index, s);
            }
        }
        Some((Step::Field(name), rest)) => {
            if let Some(child) = v.get(*name) {
                walk(child, rest, index, f);
            }
        }
        Some((Step::Each, rest)) => {
            if let Some(items) = v.as_array() {
                for (i, child) in items.iter().enumerate() {
                    walk(child, rest, Some(i as u32), f);
                }
            }
        }
    }
}

/// The JSON pointer of a value found by [`walk`] in record `record`.
pub(super) fn pointer_of(record: u64, path: &[Step], index: Option<u32>) -> String {
    let mut p = format!("/{record}");
    for s in path {
        match s {
            Step::Field(name) => {
                p.push('/');
                p.push_str(&pointer_token(name));
            }
            Step::Each => {
                p.push('/');
                p.push_str(&index.unwrap_or(0).to_string());
            }
        }
    }
    p
}
