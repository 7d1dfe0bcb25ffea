//! Streams the records of a data file without loading it: decodes the bytes (UTF-8, BOM,
//! Windows-1251), checks the top-level array's structure and cuts the input into batches of
//! whole records that can be parsed and checked in parallel.
//!
//! Which encodings are accepted is decided in [`encoding`]: UTF-8 as it is; Windows-1251 when
//! configured, or in `auto` mode when a detector (chardetng) also reads the file so; anything
//! else (KOI8-R, Latin-1, a mix) refused with the encoding it looks like. The detector only
//! ever sees files that are not UTF-8, so UTF-8 input pays nothing for it.
//!
//! Only the array's punctuation is checked here; each record's inside is parsed strictly later,
//! on a worker thread. Memory is bounded by the batch size plus the largest record.

mod encoding;

use super::messages::{msg, Lang};
use super::report::{codes, Issue};
use std::io::{self, Read};

/// How to decode a data file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EncodingMode {
    /// UTF-8, unless the content is not UTF-8 and reads as Windows-1251 text.
    #[default]
    Auto,
    #[serde(rename = "utf-8")]
    Utf8,
    #[serde(rename = "windows-1251")]
    Windows1251,
}

/// What a file turned out to be encoded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detected {
    Utf8,
    Utf8Bom,
    Windows1251,
}

/// A run of whole records, with the bytes they were cut from.
#[derive(Debug)]
pub struct Batch {
    /// The batch's bytes are `data[..len]`; the rest is room of a reused buffer.
    data: Vec<u8>,
    pub len: usize,
    pub records: Vec<Span>,
    /// Line number (1-based) of `data[0]` in the decoded file.
    pub first_line: u64,
    /// Characters before `data[0]` on its line.
    first_column: u64,
    /// `data` was validated as UTF-8 (or decoded into it) as a whole.
    utf8: bool,
}

/// One record inside a [`Batch`].
#[derive(Debug, Clone, Copy)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub index: u64,
}

impl Batch {
    /// The buffer, to be handed back to the reader (see [`RecordReader::recycle_from`]).
    pub fn into_buffer(self) -> Vec<u8> {
        self.data
    }

    pub fn bytes(&self, s: &Span) -> &[u8] {
        &self.data[s.start..s.end]
    }

    /// A record's text, without validating it again when the whole batch was.
    pub fn text(&self, s: &Span) -> Option<&str> {
        let bytes = self.bytes(s);
        if self.utf8 {
            debug_assert!(std::str::from_utf8(bytes).is_ok());
            // SAFETY: `data` is valid UTF-8 as a whole (`utf8`), and a record starts and ends
            // on ASCII punctuation or an ASCII scalar, so its span lies on char boundaries.
            Some(unsafe { std::str::from_utf8_unchecked(bytes) })
        } else {
            simdutf8::basic::from_utf8(bytes).ok()
        }
    }

    /// Line of a record's first byte; only computed for records that have problems.
    pub fn line_of(&self, s: &Span) -> u64 {
        self.first_line + memchr::memchr_iter(b'\n', &self.data[..s.start]).count() as u64
    }

    /// Characters before a record's first byte on its line (0 when the record starts a line);
    /// only computed for records that have problems.
    pub fn column_of(&self, s: &Span) -> u64 {
        let before = &self.data[..s.start];
        match memchr::memrchr(b'\n', before) {
            Some(n) => chars_in(&before[n + 1..]),
            None => self.first_column + chars_in(before),
        }
    }
}

/// The line (from 1) on which each record of `wanted` starts, read again from `src`: reports
/// name the line of each bad record, and only files with bad records pay for a second reading.
/// Reading stops at the last wanted record, or where the file stops being readable.
pub fn record_lines(
    src: impl Read,
    mode: EncodingMode,
    wanted: &std::collections::BTreeSet<u64>,
) -> std::collections::HashMap<u64, u64> {
    let mut out = std::collections::HashMap::new();
    let Some(&last) = wanted.last() else {
        return out;
    };
    let mut r = RecordReader::new(io::BufReader::with_capacity(1 << 16, src), mode);
    while let Ok(Some(b)) = r.next_batch() {
        // One pass over the batch: count line breaks from one wanted record to the next.
        let (mut line, mut at) = (b.first_line, 0);
        for s in &b.records {
            if wanted.contains(&s.index) {
                line += memchr::memchr_iter(b'\n', &b.data[at..s.start]).count() as u64;
                at = s.start;
                out.insert(s.index, line);
            }
        }
        if b.records.last().is_some_and(|s| s.index >= last) {
            break;
        }
    }
    out
}

/// UTF-8 characters in `b` (its bytes that do not continue a character).
fn chars_in(b: &[u8]) -> u64 {
    b.iter().filter(|&&c| (c & 0xC0) != 0x80).count() as u64
}

/// Why reading stopped.
#[derive(Debug)]
pub enum ReadError {
    Io(io::Error),
    /// The file is not a well-formed array in an accepted encoding; records already returned
    /// are still worth checking.
    Content(Issue),
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

const CHUNK: usize = 1 << 18;
/// Reads shrink towards a batch's end, so that little is left over to copy into the next one.
const MIN_READ: usize = 1 << 16;
const BATCH_BYTES: usize = 1 << 19;
const BATCH_RECORDS: usize = 8192;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    AfterOpen,
    AfterValue,
    AfterComma,
    AfterClose,
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decoding {
    /// Only ASCII so far: UTF-8 and Windows-1251 read the same.
    Undecided,
    Utf8,
    Windows1251,
}

/// Streaming reader of a data file's records.
pub struct RecordReader<R> {
    src: R,
    mode: EncodingMode,
    decoding: Decoding,
    bom: bool,
    started: bool,
    eof: bool,
    /// Undecoded bytes, for Windows-1251 only: UTF-8 is read straight into `buf`.
    raw: Vec<u8>,
    /// Decoded bytes not yet handed out in a batch are `buf[..filled]`. The whole of `buf` is
    /// initialised (it grows with zeros once), so reading into it needs no zeroing.
    buf: Vec<u8>,
    filled: usize,
    /// `buf[..validated]` is known-good UTF-8 (undecoded tails wait after it).
    validated: usize,
    pos: usize,
    state: State,
    next_index: u64,
    lines_before_buf: u64,
    /// Characters before `buf[0]` on its line.
    columns_before_buf: u64,
    bytes_read: u64,
    decoder: Option<encoding_rs::Decoder>,
    /// Set when `auto` mode fell back from UTF-8: what the undecoded bytes look like.
    /// Dropped once it has seen [`DETECTOR_SAMPLE`] bytes and judged them: it reads about
    /// 10 MB/s, and a file does not change its encoding half-way (a part in UTF-8 is caught
    /// by `utf8_pairs` over the whole file).
    detector: Option<Box<chardetng::EncodingDetector>>,
    /// Bytes fed to the detector.
    detector_fed: usize,
    /// `auto` mode fell back to Windows-1251: the file must prove to be that.
    guessing: bool,
    /// Non-ASCII bytes fed to the detector.
    high_bytes: u64,
    /// Pairs of bytes that read as a UTF-8 Cyrillic letter (`D0`/`D1` then `80..BF`): in a
    /// Windows-1251 file, the mark of a part saved in UTF-8.
    utf8_pairs: u64,
    /// The last byte decoded, for pairs cut by a chunk boundary.
    last_byte: u8,
    lang: Lang,
    pending: Option<ReadError>,
    /// Batch buffers handed back by the consumer, reused instead of fresh allocations (fresh
    /// multi-megabyte blocks cost page faults and zeroing).
    recycled: Option<crossbeam_channel::Receiver<Vec<u8>>>,
}

impl<R: Read> RecordReader<R> {
    /// Reuses the buffers received on `rx` for new batches.
    pub fn recycle_from(mut self, rx: crossbeam_channel::Receiver<Vec<u8>>) -> Self {
        self.recycled = Some(rx);
        self
    }

    /// Writes its messages in `lang`.
    pub fn messages_in(mut self, lang: Lang) -> Self {
        self.lang = lang;
        self
    }

    pub fn new(src: R, mode: EncodingMode) -> Self {
        RecordReader {
            src,
            mode,
            decoding: match mode {
                EncodingMode::Windows1251 => Decoding::Windows1251,
                EncodingMode::Utf8 => Decoding::Utf8,
                EncodingMode::Auto => Decoding::Undecided,
            },
            bom: false,
            started: false,
            eof: false,
            raw: Vec::new(),
            buf: Vec::new(),
            filled: 0,
            validated: 0,
            pos: 0,
            state: State::Start,
            next_index: 0,
            lines_before_buf: 1,
            columns_before_buf: 0,
            bytes_read: 0,
            decoder: None,
            detector: None,
            detector_fed: 0,
            guessing: false,
            high_bytes: 0,
            utf8_pairs: 0,
            last_byte: 0,
            lang: Lang::default(),
            pending: None,
            recycled: None,
        }
    }

    /// Raw bytes consumed from the source so far (for progress).
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// Records seen so far.
    pub fn records(&self) -> u64 {
        self.next_index
    }

    pub fn detected(&self) -> Detected {
        match (self.decoding, self.bom) {
            (Decoding::Windows1251, _) => Detected::Windows1251,
            (_, true) => Detected::Utf8Bom,
            _ => Detected::Utf8,
        }
    }

    fn content_err(&self, record: Option<u64>, code: &str, message: String) -> ReadError {
        let pointer = record.map(|r| format!("/{r}")).unwrap_or_default();
        ReadError::Content(Issue::new(record, pointer, code, message))
    }

    /// Line and column (in characters, from 1) of `buf[pos]` in the file.
    fn position(&self, pos: usize) -> (u64, u64) {
        let end = pos.min(self.filled);
        let before = &self.buf[..end];
        let column = match memchr::memrchr(b'\n', before) {
            Some(n) => chars_in(&before[n + 1..]),
            None => self.columns_before_buf + chars_in(before),
        };
        (self.line_at(pos), column + 1)
    }

    fn line_at(&self, pos: usize) -> u64 {
        let end = pos.min(self.filled);
        self.lines_before_buf + memchr::memchr_iter(b'\n', &self.buf[..end]).count() as u64
    }

    /// Makes `buf` hold at least `n` bytes after `filled`.
    fn room(&mut self, n: usize) {
        if self.buf.len() < self.filled + n {
            self.buf.resize(self.filled + n, 0);
        }
    }

    /// Reads and decodes another chunk into `buf`. Returns false at end of input.
    fn fill(&mut self) -> Result<bool, ReadError> {
        if self.eof {
            return Ok(false);
        }
        // UTF-8 (or not yet known) goes straight into `buf`; Windows-1251 through `raw`.
        let direct = self.decoding != Decoding::Windows1251;
        let want = CHUNK.min(BATCH_BYTES.saturating_sub(self.filled).max(MIN_READ));
        let at = if direct {
            self.room(want);
            self.filled
        } else {
            self.raw.resize(want, 0);
            0
        };
        let mut n = {
            let target = if direct {
                &mut self.buf[at..at + want]
            } else {
                &mut self.raw[..]
            };
            match self.src.read(target) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(true),
                Err(e) => return Err(e.into()),
            }
        };
        self.bytes_read += n as u64;
        let mut from = 0;
        if !self.started && n > 0 {
            let target = if direct {
                &mut self.buf[at..at + want]
            } else {
                &mut self.raw[..]
            };
            // A BOM may be split across tiny reads; top the chunk up to 3 bytes first.
            while n < 3 {
                let m = self.src.read(&mut target[n..])?;
                if m == 0 {
                    break;
                }
                n += m;
                self.bytes_read += m as u64;
            }
            self.started = true;
            let head = &target[..n];
            if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
                self.bom = true;
                if self.decoding != Decoding::Windows1251 {
                    self.decoding = Decoding::Utf8;
                }
                from = 3;
            } else if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
                return Err(self.content_err(
                    None,
                    codes::ENCODING_INVALID,
                    msg!(self.lang, "encoding-invalid-utf16"),
                ));
            }
        }
        if n == 0 {
            self.eof = true;
            return self.finish_decoding().map(|_| false);
        }
        let fresh = if direct {
            &self.buf[at + from..at + n]
        } else {
            &self.raw[from..n]
        };
        if memchr::memchr(0, fresh).is_some() {
            return Err(self.content_err(
                None,
                codes::ENCODING_INVALID,
                msg!(self.lang, "encoding-invalid-nul"),
            ));
        }
        if direct {
            if from > 0 {
                self.buf.copy_within(at + from..at + n, at);
            }
            self.filled += n - from;
            self.check_utf8(false)?;
        } else {
            self.decode_1251(from, n)?;
        }
        Ok(true)
    }

    /// Makes sure at least one unscanned byte is in `buf` (false at end of input).
    fn need(&mut self, at: usize) -> Result<bool, ReadError> {
        while at >= self.validated {
            if !self.fill()? {
                return Ok(at < self.validated);
            }
        }
        Ok(true)
    }

    fn skip_ws(&mut self) -> Result<Option<u8>, ReadError> {
        loop {
            while self.pos < self.validated {
                let b = self.buf[self.pos];
                if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                    return Ok(Some(b));
                }
                self.pos += 1;
            }
            if !self.need(self.pos)? {
                return Ok(None);
            }
        }
    }

    /// Returns the next batch of records, `None` at the end.
    pub fn next_batch(&mut self) -> Result<Option<Batch>, ReadError> {
        if let Some(e) = self.pending.take() {
            self.state = State::Done;
            return Err(e);
        }
        let mut records = Vec::new();
        loop {
            if self.state == State::Done {
                break;
            }
            if let Err(e) = self.step(&mut records) {
                self.state = State::Done;
                if records.is_empty() {
                    return Err(e);
                }
                self.pending = Some(e);
                break;
            }
            if records.len() >= BATCH_RECORDS || self.pos >= BATCH_BYTES {
                break;
            }
        }
        if records.is_empty() && self.state == State::Done {
            return Ok(None);
        }
        Ok(Some(self.cut(records)))
    }

    fn cut(&mut self, records: Vec<Span>) -> Batch {
        // The batch takes `buf` as it is; only what was read past its last record moves to
        // the next buffer (a returned one, whose pages are warm, when there is one).
        let mut next = self
            .recycled
            .as_ref()
            .and_then(|rx| rx.try_recv().ok())
            .unwrap_or_default();
        let rest = self.filled - self.pos;
        if next.len() < rest {
            next.resize(rest, 0);
        }
        next[..rest].copy_from_slice(&self.buf[self.pos..self.filled]);
        let data = std::mem::replace(&mut self.buf, next);
        self.filled = rest;
        let len = self.pos;
        let first_line = self.lines_before_buf;
        let first_column = self.columns_before_buf;
        self.lines_before_buf += memchr::memchr_iter(b'\n', &data[..len]).count() as u64;
        self.columns_before_buf = match memchr::memrchr(b'\n', &data[..len]) {
            Some(n) => chars_in(&data[n + 1..len]),
            None => first_column + chars_in(&data[..len]),
        };
        let utf8 = self.pos <= self.validated;
        self.validated -= self.pos.min(self.validated);
        self.pos = 0;
        Batch {
            data,
            len,
            records,
            first_line,
            first_column,
            utf8,
        }
    }

    fn step(&mut self, records: &mut Vec<Span>) -> Result<(), ReadError> {
        let c = self.skip_ws()?;
        match (self.state, c) {
            (State::Start, None) => {
                Err(self.content_err(None, codes::FILE_EMPTY, msg!(self.lang, "file-empty")))
            }
            (State::Start, Some(b'[')) => {
                self.pos += 1;
                self.state = State::AfterOpen;
                Ok(())
            }
            (State::Start, Some(b'{')) => Err(self.content_err(
                None,
                codes::JSON_NOT_ARRAY,
                msg!(self.lang, "json-not_array-object"),
            )),
            (State::Start, Some(b)) if b == b'"' || b == b'-' || b.is_ascii_alphanumeric() => {
                Err(self.content_err(
                    None,
                    codes::JSON_NOT_ARRAY,
                    msg!(self.lang, "json-not_array-scalar"),
                ))
            }
            (State::Start, Some(b)) => {
                let (line, column) = self.position(self.pos);
                let message = msg!(
                    self.lang,
                    "json-syntax-expected-array",
                    line = line,
                    column = column,
                    found = show(b)
                );
                Err(self.syntax_err(None, message))
            }
            (State::AfterOpen, Some(b']')) | (State::AfterValue, Some(b']')) => {
                self.pos += 1;
                self.state = State::AfterClose;
                Ok(())
            }
            (State::AfterValue, Some(b',')) => {
                self.pos += 1;
                self.state = State::AfterComma;
                Ok(())
            }
            (State::AfterComma, Some(b']')) => {
                let (line, column) = self.position(self.pos);
                let message = msg!(
                    self.lang,
                    "json-syntax-trailing-comma-records",
                    line = line,
                    column = column
                );
                Err(self.syntax_err(None, message))
            }
            (State::AfterOpen | State::AfterComma, Some(_)) => {
                let span = self.scan_record()?;
                records.push(span);
                self.state = State::AfterValue;
                Ok(())
            }
            (State::AfterValue, Some(b)) => {
                let (line, column) = self.position(self.pos);
                let message = msg!(
                    self.lang,
                    "json-syntax-after-record",
                    line = line,
                    column = column,
                    index = self.next_index - 1,
                    found = show(b)
                );
                Err(self.syntax_err(None, message))
            }
            (State::AfterOpen | State::AfterValue | State::AfterComma, None) => {
                let (line, column) = self.position(self.pos);
                let message = msg!(
                    self.lang,
                    "json-syntax-truncated",
                    line = line,
                    column = column
                );
                Err(self.syntax_err(None, message))
            }
            (State::AfterClose, None) => {
                self.state = State::Done;
                Ok(())
            }
            (State::AfterClose, Some(b)) => {
                let (line, column) = self.position(self.pos);
                let message = msg!(
                    self.lang,
                    "json-syntax-after-close",
                    line = line,
                    column = column,
                    found = show(b)
                );
                Err(self.syntax_err(None, message))
            }
            (State::Done, _) => Ok(()),
        }
    }

    fn syntax_err(&self, record: Option<u64>, message: String) -> ReadError {
        self.content_err(record, codes::JSON_SYNTAX, message)
    }

    fn scan_record(&mut self) -> Result<Span, ReadError> {
        let start = self.pos;
        let index = self.next_index;
        loop {
            match scan_value(&self.buf[..self.validated], start) {
                Scan::Complete(end) => {
                    self.pos = end;
                    self.next_index += 1;
                    return Ok(Span { start, end, index });
                }
                Scan::Invalid(at, found) => {
                    self.pos = at;
                    let (line, column) = self.position(self.pos);
                    // Nothing of a record has begun yet: the problem lies between records.
                    let message = if self.buf[at] == b'/' {
                        msg!(
                            self.lang,
                            "json-syntax-record-start-comment",
                            line = line,
                            column = column,
                            found = found,
                            index = index
                        )
                    } else {
                        msg!(
                            self.lang,
                            "json-syntax-record-start",
                            line = line,
                            column = column,
                            found = found,
                            index = index
                        )
                    };
                    return Err(self.syntax_err(None, message));
                }
                Scan::Incomplete => {
                    let before = self.validated;
                    self.need(self.validated)?;
                    if self.validated == before {
                        if self.eof && scalar_start(self.buf[start]) {
                            // A bare scalar at the very end: complete, the missing ']' is
                            // reported by the caller.
                            self.pos = self.validated;
                            self.next_index += 1;
                            return Ok(Span {
                                start,
                                end: self.pos,
                                index,
                            });
                        }
                        self.pos = self.validated;
                        let (line, column) = self.position(self.pos);
                        let message = msg!(
                            self.lang,
                            "json-syntax-truncated-record",
                            line = line,
                            column = column,
                            index = index
                        );
                        return Err(self.syntax_err(Some(index), message));
                    }
                }
            }
        }
    }
}

/// A byte as messages show it: the character, or its code when it is not printable.
fn show(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("'{}'", b as char)
    } else {
        format!("0x{b:02X}")
    }
}

fn scalar_start(b: u8) -> bool {
    b == b'-' || b.is_ascii_alphanumeric()
}

enum Scan {
    Complete(usize),
    Incomplete,
    Invalid(usize, String),
}

/// Offset just past the string starting with the quote at `open`, or `None` if it does not end
/// within `buf`.
pub(crate) fn string_end(buf: &[u8], open: usize) -> Option<usize> {
    let mut i = open + 1;
    loop {
        let j = i + memchr::memchr2(b'"', b'\\', &buf[i..])?;
        if buf[j] == b'\\' {
            i = j + 2;
            if i > buf.len() {
                return None;
            }
        } else {
            return Some(j + 1);
        }
    }
}

/// Finds the end of the JSON value starting at `start` by bracket depth, ignoring strings.
/// The value's inside is checked strictly later; only its extent matters here.
fn scan_value(buf: &[u8], start: usize) -> Scan {
    match buf[start] {
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = start;
            while i < buf.len() {
                match buf[i] {
                    b'"' => match string_end(buf, i) {
                        Some(e) => {
                            i = e;
                            continue;
                        }
                        None => return Scan::Incomplete,
                    },
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Scan::Complete(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            Scan::Incomplete
        }
        b'"' => match string_end(buf, start) {
            Some(e) => Scan::Complete(e),
            None => Scan::Incomplete,
        },
        b if scalar_start(b) => {
            match buf[start..]
                .iter()
                .position(|&c| matches!(c, b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r'))
            {
                Some(p) => Scan::Complete(start + p),
                None => Scan::Incomplete,
            }
        }
        b => Scan::Invalid(start, show(b)),
    }
}

#[cfg(test)]
mod tests;
