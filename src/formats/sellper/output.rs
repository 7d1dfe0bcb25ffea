//! Writing COMPO data files record by record, and exact decimal arithmetic for Sellper amounts.
//!
//! Files are written under a temporary name and renamed only when the whole input converted
//! without errors, so a reader of the output folder never sees half a conversion.

use crate::compo::model::DataType;
use serde_json::Value;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// One JSON array being written, pretty-printed with two-space indentation, the same bytes
/// `serde_json::to_string_pretty` would give for the whole array.
struct ArrayFile {
    name: String,
    tmp: PathBuf,
    out: BufWriter<File>,
    count: u64,
    snapshot: bool,
}

impl ArrayFile {
    fn push(&mut self, record: &Value, scratch: &mut Vec<u8>) -> io::Result<()> {
        scratch.clear();
        serde_json::to_writer_pretty(&mut *scratch, record).map_err(io::Error::other)?;
        self.out
            .write_all(if self.count == 0 { b"[\n  " } else { b",\n  " })?;
        let mut rest = &scratch[..];
        while let Some(i) = memchr::memchr(b'\n', rest) {
            self.out.write_all(&rest[..=i])?;
            self.out.write_all(b"  ")?;
            rest = &rest[i + 1..];
        }
        self.out.write_all(rest)?;
        self.count += 1;
        Ok(())
    }

    fn close(mut self) -> io::Result<(String, PathBuf, u64, bool)> {
        if self.count == 0 {
            self.out.write_all(b"[]\n")?;
        } else {
            self.out.write_all(b"\n]\n")?;
        }
        self.out.flush()?;
        self.out.get_ref().sync_all()?;
        Ok((self.name, self.tmp, self.count, self.snapshot))
    }
}

/// The data files produced from one input.
pub struct Outputs {
    dir: PathBuf,
    label: String,
    files: Vec<ArrayFile>,
    /// Reused for each record's text.
    scratch: Vec<u8>,
}

/// The label of delta files made from an input: `sellper-<stem>` cut to the protocol's
/// `[A-Za-z0-9_-]{1,64}`.
pub fn delta_label(stem: &str) -> String {
    let mut label = String::from("sellper-");
    for c in stem.chars() {
        if label.len() >= 64 {
            break;
        }
        label.push(if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
            c
        } else {
            '_'
        });
    }
    label
}

impl Outputs {
    pub fn new(dir: &Path, stem: &str) -> Outputs {
        Outputs {
            dir: dir.to_path_buf(),
            label: delta_label(stem),
            files: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// The file name a type gets from this input.
    pub fn file_name(&self, data_type: DataType, snapshot: bool) -> String {
        if snapshot {
            format!("{}.json", data_type.name())
        } else {
            format!("{}.delta-{}.json", data_type.name(), self.label)
        }
    }

    fn file(&mut self, data_type: DataType, snapshot: bool) -> io::Result<&mut ArrayFile> {
        let name = self.file_name(data_type, snapshot);
        if let Some(i) = self.files.iter().position(|f| f.name == name) {
            return Ok(&mut self.files[i]);
        }
        let tmp = self.dir.join(format!(".{name}.part"));
        let out = BufWriter::with_capacity(256 * 1024, File::create(&tmp)?);
        self.files.push(ArrayFile {
            name,
            tmp,
            out,
            count: 0,
            snapshot,
        });
        Ok(self.files.last_mut().expect("just pushed"))
    }

    /// Makes sure the file exists even if no record comes: an empty list is a snapshot too.
    pub fn ensure(&mut self, data_type: DataType, snapshot: bool) -> io::Result<()> {
        self.file(data_type, snapshot).map(|_| ())
    }

    /// Appends a record and returns its index in the file.
    pub fn push(&mut self, data_type: DataType, snapshot: bool, record: &Value) -> io::Result<u64> {
        let mut scratch = std::mem::take(&mut self.scratch);
        let file = self.file(data_type, snapshot)?;
        let index = file.count;
        let result = file.push(record, &mut scratch);
        self.scratch = scratch;
        result.map(|()| index)
    }

    /// Names of the files this input will produce.
    pub fn names(&self) -> Vec<String> {
        self.files.iter().map(|f| f.name.clone()).collect()
    }

    /// Gives the files their final names. Empty deltas are dropped: they would say nothing.
    pub fn commit(self) -> io::Result<Vec<PathBuf>> {
        let mut written = Vec::new();
        for f in self.files {
            let (name, tmp, count, snapshot) = f.close()?;
            if count == 0 && !snapshot {
                std::fs::remove_file(&tmp)?;
                continue;
            }
            let target = self.dir.join(&name);
            std::fs::rename(&tmp, &target)?;
            written.push(target);
        }
        written.sort();
        Ok(written)
    }

    /// Throws the temporary files away.
    pub fn discard(self) {
        for f in self.files {
            let tmp = f.tmp.clone();
            drop(f);
            // Best effort: a leftover `.part` file is ignored by every reader of the folder.
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// A decimal amount held exactly in ten-thousandths (the finest precision COMPO allows, for
/// prices), so that sums and differences of Sellper's decimal strings have no float error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Dec(pub i128);

pub const SCALE: i128 = 10_000;

impl Dec {
    /// Parses `123`, `-4.5`, `4700.00`. More than four significant decimals, exponents, commas
    /// and anything else are refused: COMPO could not carry the value exactly.
    pub fn parse(s: &str) -> Option<Dec> {
        let s = s.trim();
        let (neg, digits) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        let (int, frac) = match digits.split_once('.') {
            Some((i, f)) => (i, f),
            None => (digits, ""),
        };
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let frac = frac.trim_end_matches('0');
        if frac.len() > 4 || int.len() > 24 {
            return None;
        }
        let int: i128 = if int.is_empty() { 0 } else { int.parse().ok()? };
        let mut f: i128 = if frac.is_empty() {
            0
        } else {
            frac.parse().ok()?
        };
        for _ in frac.len()..4 {
            f *= 10;
        }
        let v = int * SCALE + f;
        Some(Dec(if neg { -v } else { v }))
    }

    pub fn from_int(i: i64) -> Dec {
        Dec(i128::from(i) * SCALE)
    }

    /// Whether the value fits in `places` decimals.
    pub fn has_at_most(self, places: u32) -> bool {
        self.0 % 10i128.pow(4 - places) == 0
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// `self / other * 100`, rounded to four decimals: a share as a percentage.
    pub fn percent_of(self, whole: Dec) -> Option<Dec> {
        if whole.0 == 0 {
            return None;
        }
        Some(Dec(div_round(self.0 * 100 * SCALE, whole.0)))
    }

    /// `pct` percent of `self`, rounded to four decimals.
    pub fn percent(self, pct: Dec) -> Dec {
        Dec(div_round(self.0 * pct.0, SCALE * 100))
    }

    /// Rounds to `places` decimals, half away from zero.
    pub fn round(self, places: u32) -> Dec {
        let unit = 10i128.pow(4 - places);
        Dec(div_round(self.0, unit) * unit)
    }

    /// A JSON number: an integer when there is no fraction, so `4700.00` becomes `4700`.
    pub fn to_json(self) -> Value {
        if self.0 % SCALE == 0 {
            if let Ok(i) = i64::try_from(self.0 / SCALE) {
                return Value::from(i);
            }
        }
        // The shortest float that reads back as this decimal: serde_json prints it as such.
        let v: f64 = self.to_string().parse().unwrap_or(f64::NAN);
        serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
    }

    /// Reads a JSON number the way COMPO files carry money and quantities.
    pub fn from_json(v: &Value) -> Option<Dec> {
        match v {
            Value::Number(n) => Dec::parse(&n.to_string()).or_else(|| {
                // Floats with more than four decimals (binary noise): round rather than refuse.
                let f = n.as_f64()?;
                Some(Dec((f * SCALE as f64).round() as i128))
            }),
            _ => None,
        }
    }
}

fn div_round(n: i128, d: i128) -> i128 {
    let q = n / d;
    let r = n % d;
    if r.abs() * 2 >= d.abs() {
        q + if (n < 0) != (d < 0) { -1 } else { 1 }
    } else {
        q
    }
}

impl std::ops::Add for Dec {
    type Output = Dec;
    fn add(self, o: Dec) -> Dec {
        Dec(self.0 + o.0)
    }
}

impl std::ops::Mul for Dec {
    type Output = Dec;
    /// Rounded half away from zero to four decimals.
    fn mul(self, o: Dec) -> Dec {
        Dec(div_round(self.0 * o.0, SCALE))
    }
}

impl std::ops::Sub for Dec {
    type Output = Dec;
    fn sub(self, o: Dec) -> Dec {
        Dec(self.0 - o.0)
    }
}

impl std::fmt::Display for Dec {
    /// Plain decimal notation without trailing zeros (`2360.15`, `70`, `-0.5`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.abs();
        let int = a / SCALE;
        let frac = a % SCALE;
        if frac == 0 {
            write!(f, "{sign}{int}")
        } else {
            let frac = format!("{frac:04}");
            write!(f, "{sign}{int}.{}", frac.trim_end_matches('0'))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_parse_exactly() {
        assert_eq!(Dec::parse("4700.00"), Some(Dec(47_000_000)));
        assert_eq!(Dec::parse("300.15").unwrap().to_string(), "300.15");
        assert_eq!(Dec::parse("-0.5").unwrap().to_string(), "-0.5");
        assert_eq!(Dec::parse("1.23456"), None);
        assert_eq!(Dec::parse("1e5"), None);
        assert_eq!(Dec::parse("2360,15"), None);
        assert_eq!(Dec::parse(""), None);
        assert_eq!(
            (Dec::parse("3360.15").unwrap() - Dec::parse("300.15").unwrap()).to_json(),
            serde_json::json!(3060)
        );
        assert_eq!(Dec::parse("0.1").unwrap().to_json(), serde_json::json!(0.1));
    }

    #[test]
    fn percentages_and_rounding() {
        let p = Dec::parse("70")
            .unwrap()
            .percent_of(Dec::from_int(400))
            .unwrap();
        assert_eq!(p.to_string(), "17.5");
        assert_eq!(Dec::parse("0.005").unwrap().round(2).to_string(), "0.01");
        assert_eq!(Dec::parse("-0.005").unwrap().round(2).to_string(), "-0.01");
        assert!(Dec::parse("1.25").unwrap().has_at_most(2));
        assert!(!Dec::parse("1.255").unwrap().has_at_most(2));
    }

    #[test]
    fn labels_are_protocol_safe() {
        assert_eq!(delta_label("096-event event"), "sellper-096-event_event");
        assert!(delta_label(&"x".repeat(100)).len() <= 64);
    }
}
