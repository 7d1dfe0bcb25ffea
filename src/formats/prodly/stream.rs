//! Reading JSON arrays one record at a time and writing NDJSON files atomically.
//!
//! COMPO files may be several GiB, so a file is never parsed as a whole: serde_json walks the
//! array through a `SeqAccess` visitor and hands each element to a callback, which keeps memory
//! at one record. Output files appear under their final name only once they are complete.

use super::ProdlyError;
use crate::compo::report::{codes, Issue};
use serde::de::{self, DeserializeSeed, SeqAccess, Visitor};
use serde_json::Value;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

/// How reading a file ended when it did not fail at the I/O level.
#[derive(Debug)]
pub(crate) enum ReadEnd {
    /// The whole array was read; the number of records.
    Done(u64),
    /// The file is not a readable JSON array; records before the problem were delivered.
    Bad { records: u64, issue: Issue },
}

/// Calls `f(index, record)` for every element of the JSON array in `path`.
pub(crate) fn for_each_record<F>(path: &Path, mut f: F) -> Result<ReadEnd, ProdlyError>
where
    F: FnMut(u64, Value) -> Result<(), ProdlyError>,
{
    let read_err = |source: io::Error| ProdlyError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(read_err)?;
    if file.metadata().map_err(read_err)?.len() == 0 {
        return Ok(ReadEnd::Bad {
            records: 0,
            issue: Issue::file(codes::FILE_EMPTY, "the file is empty"),
        });
    }
    let mut reader = BufReader::with_capacity(1 << 16, file);
    // The protocol accepts a UTF-8 byte-order mark; serde_json does not.
    if reader
        .fill_buf()
        .map_err(read_err)?
        .starts_with(b"\xEF\xBB\xBF")
    {
        reader.consume(3);
    }
    let mut de = serde_json::Deserializer::from_reader(reader);
    let mut count = 0u64;
    let mut failure: Option<ProdlyError> = None;
    let seed = Records {
        f: &mut f,
        count: &mut count,
        failure: &mut failure,
    };
    let result = seed.deserialize(&mut de).and_then(|()| de.end());
    if let Some(e) = failure {
        return Err(e);
    }
    match result {
        Ok(()) => Ok(ReadEnd::Done(count)),
        Err(e) if e.is_io() => Err(read_err(io::Error::other(e.to_string()))),
        Err(e) if e.is_data() => Ok(ReadEnd::Bad {
            records: count,
            issue: Issue::file(
                codes::JSON_NOT_ARRAY,
                "a data file must be a JSON array of records",
            ),
        }),
        Err(e) => Ok(ReadEnd::Bad {
            records: count,
            issue: Issue::file(
                codes::JSON_SYNTAX,
                format!(
                    "{e}; the {count} record(s) before it were converted, the rest of the file was not"
                ),
            ),
        }),
    }
}

struct Records<'a, F> {
    f: &'a mut F,
    count: &'a mut u64,
    failure: &'a mut Option<ProdlyError>,
}

impl<'de, F> DeserializeSeed<'de> for Records<'_, F>
where
    F: FnMut(u64, Value) -> Result<(), ProdlyError>,
{
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, F> Visitor<'de> for Records<'_, F>
where
    F: FnMut(u64, Value) -> Result<(), ProdlyError>,
{
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON array of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(record) = seq.next_element::<Value>()? {
            if let Err(e) = (self.f)(*self.count, record) {
                *self.failure = Some(e);
                return Err(de::Error::custom("conversion stopped"));
            }
            *self.count += 1;
        }
        Ok(())
    }
}

/// An NDJSON file written under a temporary name and renamed when finished. No file is left
/// behind when nothing was written: an empty body would mean "delete everything" to endpoints
/// that replace their whole data set (personal prices).
pub(crate) struct NdjsonOut {
    final_path: PathBuf,
    part_path: PathBuf,
    writer: Option<BufWriter<File>>,
    lines: u64,
}

impl NdjsonOut {
    pub(crate) fn new(dir: &Path, name: &str) -> NdjsonOut {
        NdjsonOut {
            final_path: dir.join(name),
            part_path: dir.join(format!(".{name}.part")),
            writer: None,
            lines: 0,
        }
    }

    fn write_err(&self, source: io::Error) -> ProdlyError {
        ProdlyError::Write {
            path: self.part_path.clone(),
            source,
        }
    }

    pub(crate) fn write(&mut self, line: &Value) -> Result<(), ProdlyError> {
        if self.writer.is_none() {
            let f = File::create(&self.part_path).map_err(|e| self.write_err(e))?;
            self.writer = Some(BufWriter::with_capacity(1 << 16, f));
        }
        let w = self.writer.as_mut().expect("writer was just created");
        let res = serde_json::to_writer(&mut *w, line)
            .map_err(io::Error::from)
            .and_then(|()| w.write_all(b"\n"));
        res.map_err(|e| self.write_err(e))?;
        self.lines += 1;
        Ok(())
    }

    /// Flushes and renames onto the final name; `None` when no line was written.
    pub(crate) fn finish(mut self) -> Result<Option<PathBuf>, ProdlyError> {
        let Some(w) = self.writer.take() else {
            return Ok(None);
        };
        let file = w.into_inner().map_err(|e| self.write_err(e.into_error()))?;
        file.sync_all().map_err(|e| self.write_err(e))?;
        drop(file);
        std::fs::rename(&self.part_path, &self.final_path).map_err(|e| ProdlyError::Write {
            path: self.final_path.clone(),
            source: e,
        })?;
        Ok(Some(self.final_path.clone()))
    }
}

impl Drop for NdjsonOut {
    fn drop(&mut self) {
        if self.writer.take().is_some() {
            let _ = std::fs::remove_file(&self.part_path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(text: &[u8]) -> (Vec<Value>, ReadEnd) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.json");
        std::fs::write(&p, text).unwrap();
        let mut got = Vec::new();
        let end = for_each_record(&p, |i, v| {
            assert_eq!(i as usize, got.len());
            got.push(v);
            Ok(())
        })
        .unwrap();
        (got, end)
    }

    #[test]
    fn reads_records_in_order_and_skips_bom() {
        let (got, end) = read_all(b"\xEF\xBB\xBF[{\"id\":\"a\"},{\"id\":\"b\"}]\n");
        assert!(matches!(end, ReadEnd::Done(2)));
        assert_eq!(got[1]["id"], "b");
    }

    #[test]
    fn reports_not_array_syntax_and_empty() {
        let (_, end) = read_all(b"{\"id\":1}");
        assert!(matches!(end, ReadEnd::Bad { issue, .. } if issue.code == codes::JSON_NOT_ARRAY));
        let (got, end) = read_all(b"[{\"id\":1},{\"id\":2,}]");
        assert_eq!(got.len(), 1);
        assert!(
            matches!(end, ReadEnd::Bad { records: 1, issue } if issue.code == codes::JSON_SYNTAX)
        );
        let (_, end) = read_all(b"[1] x");
        assert!(matches!(end, ReadEnd::Bad { issue, .. } if issue.code == codes::JSON_SYNTAX));
        let (_, end) = read_all(b"");
        assert!(matches!(end, ReadEnd::Bad { issue, .. } if issue.code == codes::FILE_EMPTY));
    }

    #[test]
    fn ndjson_appears_only_when_finished_and_not_when_empty() {
        let dir = tempfile::tempdir().unwrap();
        let mut out = NdjsonOut::new(dir.path(), "a.ndjson");
        out.write(&serde_json::json!({"x": 1})).unwrap();
        assert!(!dir.path().join("a.ndjson").exists());
        let p = out.finish().unwrap().unwrap();
        assert_eq!(std::fs::read_to_string(p).unwrap(), "{\"x\":1}\n");
        let empty = NdjsonOut::new(dir.path(), "b.ndjson");
        assert!(empty.finish().unwrap().is_none());
        assert!(!dir.path().join("b.ndjson").exists());
    }
}
