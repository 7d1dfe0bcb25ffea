//! Large blobs written and read through SQLite's incremental blob I/O, a buffer at a time.
//!
//! The record store's index and a staged snapshot's keys run to tens of megabytes. Bound as a
//! parameter, a blob is first built whole in memory and then copied by SQLite; here the row is
//! made with a zero-filled blob of the right length and the bytes are streamed into it, so the
//! peak memory of a publish does not grow with the size of the catalog.

use rusqlite::blob::{Blob, ZeroBlob};
use rusqlite::{Connection, MAIN_DB};
use std::io::{self, BufReader, BufWriter, Write};

const BUFFER: usize = 1 << 16;

/// Fills the blob of `column` in row `rowid` of `table` (made with `ZEROBLOB(len)`) through
/// `fill`; an error when `fill` writes more or fewer bytes than the blob holds.
pub(super) fn fill(
    conn: &Connection,
    table: &str,
    column: &str,
    rowid: i64,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> super::Result<()> {
    let blob = conn.blob_open(MAIN_DB, table, column, rowid, false)?;
    let len = blob.len();
    let mut w = Counted {
        inner: BufWriter::with_capacity(BUFFER, blob),
        n: 0,
    };
    let failed = |what: String| super::JournalError::Blob {
        table: table.into(),
        column: column.into(),
        what,
    };
    fill(&mut w).map_err(|e| failed(e.to_string()))?;
    w.inner.flush().map_err(|e| failed(e.to_string()))?;
    if w.n != len {
        return Err(failed(format!(
            "{} bytes written into a blob of {len}",
            w.n
        )));
    }
    Ok(())
}

/// A buffered reader of the blob of `column` in row `rowid` of `table`.
pub(super) fn open<'c>(
    conn: &'c Connection,
    table: &str,
    column: &str,
    rowid: i64,
) -> super::Result<BufReader<Blob<'c>>> {
    let blob = conn.blob_open(MAIN_DB, table, column, rowid, true)?;
    Ok(BufReader::with_capacity(BUFFER, blob))
}

/// A zero-filled blob of `len` bytes to insert, for [`fill`]; an error past what SQLite's
/// `ZEROBLOB` takes (an `i32`) rather than a wrap.
pub(super) fn zeroed(len: usize, table: &str, column: &str) -> super::Result<ZeroBlob> {
    i32::try_from(len)
        .map(ZeroBlob)
        .map_err(|_| super::JournalError::Blob {
            table: table.into(),
            column: column.into(),
            what: format!("{len} bytes is more than one SQLite blob holds"),
        })
}

struct Counted<W> {
    inner: W,
    n: usize,
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.n += n;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
