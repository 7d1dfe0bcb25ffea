//! Validation reports (spec section 7) and the stable problem codes.
//!
//! A report is what a user gets back for one file: it names the file, the record, the JSON
//! pointer, a stable code and a message that says what to fix. Codes are part of the public
//! contract: integrators match on them, so they are never renamed, only added.

use serde::{Deserialize, Serialize};

/// Stable problem codes, with the one-line meaning documented in docs/validation.md.
pub mod codes {
    macro_rules! codes {
        ($($name:ident = $code:literal : $doc:literal;)*) => {
            $(#[doc = $doc] pub const $name: &str = $code;)*
            /// Every code with its meaning, in documentation order.
            pub const ALL: &[(&str, &str)] = &[$(($code, $doc)),*];
        };
    }
    codes! {
        ENCODING_INVALID = "encoding.invalid": "The bytes are neither UTF-8 (with or without BOM) nor Windows-1251.";
        JSON_SYNTAX = "json.syntax": "Not strict RFC 8259 JSON: comments, trailing commas, NaN/Infinity, bad escapes or a truncated file.";
        JSON_DUPLICATE_KEY = "json.duplicate_key": "The same key appears twice in one JSON object.";
        JSON_NOT_ARRAY = "json.not_array": "A data file must be a JSON array of records.";
        SCHEMA_PREFIX = "schema.": "Prefix: a JSON Schema keyword failed (schema.required, schema.type, schema.enum, schema.pattern, schema.minimum, ...); the suffix is the keyword.";
        KEY_DUPLICATE = "key.duplicate": "Two records have the same key (id, composite key, or customer e-mail ignoring case).";
        REF_MISSING = "ref.missing": "A reference names a record that is neither in the batch nor in what the portal already has.";
        TREE_CYCLE = "tree.cycle": "Categories' parent_id links form a cycle.";
        INN_FORMAT = "inn.format": "An INN must have 10 digits for a legal entity, 12 for an entrepreneur or a person.";
        INN_CHECKSUM = "inn.checksum": "The INN's check digits are wrong.";
        OGRN_FORMAT = "ogrn.format": "An OGRN has 13 digits (legal entity), an OGRNIP 15 (entrepreneur).";
        OGRN_CHECKSUM = "ogrn.checksum": "The OGRN/OGRNIP's check digit is wrong.";
        KPP_FORMAT = "kpp.format": "A KPP has 9 characters (4 digits, 2 digits or capital letters, 3 digits) and only legal entities have one.";
        ACCOUNT_CHECKSUM = "account.checksum": "The bank account's control key does not match its BIK.";
        BARCODE_CHECKSUM = "barcode.checksum": "A barcode's length is not EAN-8/UPC-A/EAN-13/GTIN-14 or its check digit is wrong.";
        SUM_MISMATCH = "sum.mismatch": "An amount, total or closing balance differs from what its parts add up to by more than 0.01.";
        NUMBER_PRECISION = "number.precision": "Money has at most 2 fractional digits, prices at most 4.";
        DATE_INVALID = "date.invalid": "A date or date-time that matches the pattern but is not a real calendar date or time.";
        DATE_RANGE = "date.range": "An end date lies before its start date.";
        SECURITY_PASSWORD_FIELD = "security.password_field": "Customer records must never carry passwords.";
        SNAPSHOT_MASS_DELETE = "snapshot.mass_delete": "A full snapshot would delete more of the portal's records of its type than the configured share (or all of them): held until released.";
        SNAPSHOT_DELETED = "snapshot.deleted": "A record marked \"deleted\": true is only meaningful in a delta file.";
        FILE_NAME = "file.name": "An attached file's name or extension is not allowed.";
        FILE_MAGIC = "file.magic": "An attached file's content does not match its extension.";
        FILE_TOO_LARGE = "file.too_large": "An attached file is over the size limit of its folder.";
        FILE_MISSING = "file.missing": "A data file refers to an attached file that is neither in the batch nor on the server.";
        FILE_EMPTY = "file.empty": "The file is empty.";
        FILE_NOT_REGULAR = "file.not_regular": "A symbolic link, FIFO, socket, device or folder stands where a file is expected; links are never followed.";
        FILE_VANISHED = "file.vanished": "The file disappeared from the outbox between being seen and being taken; nothing was published.";
        NAME_TOO_LONG = "name.too_long": "The file name is longer than the 200 bytes the processor takes (names it derives must fit the file system's limit).";
        NAME_UNKNOWN_TYPE = "name.unknown_type": "The file name is not a data type of the protocol (names are case-sensitive).";
        IO_ERROR = "io.error": "The file could not be read.";
        CONVERT_UNSUPPORTED = "convert.unsupported": "A partner document or element that the bridge does not convert.";
        CONVERT_REQUIRED = "convert.required": "A value the target format requires is missing from the source.";
        CONVERT_VALUE = "convert.value": "A source value cannot be represented in the target format.";
        XML_SYNTAX = "xml.syntax": "Malformed XML.";
        REPORT_TRUNCATED = "report.truncated": "Warning: the report lists the first errors only; the rest are counted.";
        DATE_DATETIME = "date.datetime": "Warning: a date field written as a date-time; published as its date (taken in `validation.timezone` when it had an offset).";
        DATETIME_NO_OFFSET = "datetime.no_offset": "Warning: a date-time without offset; published with the offset of `validation.timezone` at that date.";
        DATE_EMPTY = "date.empty": "Warning: 1C's empty date (0001-01-01) in an optional field; the field is left out.";
        VALUE_NULL = "value.null": "Warning: null in an optional field; the field is left out (vat keeps null: без НДС).";
        REF_EMPTY = "ref.empty": "Warning: \"\" or 1C's empty reference (00000000-0000-0000-0000-000000000000) in an optional reference; the field is left out.";
        VALUE_EMPTY = "value.empty": "Warning: \"\" or 1C's empty reference in an optional currency, country, e-mail, phone or picture; the field is left out.";
        VALUE_REQUIRED_EMPTY = "value.required_empty": "1C's empty date, 1C's empty reference, \"\" or null in a required field.";
        VALUE_BLANK = "value.blank": "A required text field is empty or only spaces.";
        VAT_FRACTION = "vat.fraction": "Warning: a vat between 0 and 1, a fraction where a percent is expected.";
        ID_WHITESPACE = "id.whitespace": "Warning: an id or reference with spaces at the start or end.";
        FOLDER_NOT_WALKED = "folder.not_walked": "Warning (`validate`): a sub-folder holds data files that were not validated; `--recursive` validates each sub-folder as a batch of its own.";
        FILE_SKIPPED = "file.skipped": "Note (`validate`): a file that is neither a data file (a `.json` name) nor an attached file, such as README.md or .gitkeep, was not validated.";
        INPUT_NO_DATA = "input.no_data": "`validate` found no data file or attached file in the paths given: nothing was validated (exit code 3).";
    }
}

/// One problem found in a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Issue {
    /// Index of the record in the file's array, when the problem is inside one.
    pub record: Option<u64>,
    /// RFC 6901 pointer into the file (`/17/category_id`); empty for the whole file.
    pub pointer: String,
    pub code: String,
    pub message: String,
    /// How many times a warning counted once per file and field occurred (its pointer is the
    /// first); absent for single problems.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub count: Option<u64>,
    /// Line of the file (from 1) where the record starts, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
}

impl Issue {
    pub fn new(
        record: Option<u64>,
        pointer: impl Into<String>,
        code: &str,
        message: impl Into<String>,
    ) -> Issue {
        Issue {
            record,
            pointer: pointer.into(),
            code: code.to_string(),
            message: message.into(),
            count: None,
            line: None,
        }
    }

    /// A problem with the file as a whole.
    pub fn file(code: &str, message: impl Into<String>) -> Issue {
        Issue::new(None, "", code, message)
    }
}

/// Outcome of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Valid,
    Rejected,
    /// Published after dropping the invalid records (the `drop_records` policy).
    Partial,
    Published,
    Delivered,
}

/// The report of spec section 7.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Path relative to the folder it was taken from (`products.json`, `pictures/a.jpg`);
    /// `validate` joins it with the path given on its command line.
    pub file: String,
    /// Data type, `pictures`/`invoices` for attached files, absent when unknown.
    #[serde(rename = "type")]
    pub data_type: Option<String>,
    pub status: Status,
    /// Number of records read (data files).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub records: Option<u64>,
    pub errors: Vec<Issue>,
    pub warnings: Vec<Issue>,
}

impl Report {
    pub fn new(file: impl Into<String>, data_type: Option<String>) -> Report {
        Report {
            file: file.into(),
            data_type,
            status: Status::Valid,
            records: None,
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// Sets the line of every issue of record `record` that has none.
    pub fn set_lines(&mut self, lines: &std::collections::HashMap<u64, u64>) {
        for i in self.errors.iter_mut().chain(self.warnings.iter_mut()) {
            if let (None, Some(r)) = (i.line, i.record) {
                i.line = lines.get(&r).copied();
            }
        }
    }

    /// The records that issues name without a line.
    pub fn records_without_line(&self) -> std::collections::BTreeSet<u64> {
        self.errors
            .iter()
            .chain(&self.warnings)
            .filter(|i| i.line.is_none())
            .filter_map(|i| i.record)
            .collect()
    }

    /// Sets the status from the errors: valid when there are none.
    pub fn settle(&mut self) {
        if self.status == Status::Valid && !self.errors.is_empty() {
            self.status = Status::Rejected;
        }
    }
}

/// Escapes one reference token of a JSON pointer (RFC 6901).
pub fn pointer_token(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains(['~', '/']) {
        s.replace('~', "~0").replace('/', "~1").into()
    } else {
        s.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_dotted() {
        let mut seen = std::collections::HashSet::new();
        for (c, _) in codes::ALL {
            assert!(seen.insert(*c), "duplicate code {c}");
            assert!(c.contains('.'), "{c}");
        }
    }

    #[test]
    fn report_json_shape() {
        let mut r = Report::new("products.json", Some("products".into()));
        r.records = Some(2);
        r.errors.push(Issue::new(
            Some(1),
            "/1/category_id",
            codes::REF_MISSING,
            "x",
        ));
        r.settle();
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["status"], "rejected");
        assert_eq!(v["type"], "products");
        assert_eq!(v["errors"][0]["pointer"], "/1/category_id");
    }

    #[test]
    fn pointer_escaping() {
        assert_eq!(pointer_token("a/b~c"), "a~1b~0c");
    }
}

#[cfg(test)]
mod docs {
    #[test]
    fn every_code_is_documented_in_docs_validation_md() {
        let doc = include_str!("../../docs/validation.md");
        for (code, _) in super::codes::ALL {
            assert!(
                doc.contains(&format!("| `{code}` |")),
                "docs/validation.md lacks a row for {code} in its codes table"
            );
        }
    }
}
