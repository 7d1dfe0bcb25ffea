//! Streams the records of a data file without loading it: decodes the bytes (UTF-8, BOM,
//! Windows-1251), checks the top-level array's structure and cuts the input into batches of
//! whole records that can be parsed and checked in parallel.
//!
//! Encodings: UTF-8 is read as it is. A file that is not valid UTF-8 is decoded as
//! Windows-1251 when so configured, or, in `auto` mode, when a detector made for the job
//! (chardetng) also reads it as Windows-1251; otherwise (KOI8-R, Latin-1, a file mixing UTF-8
//! and Windows-1251) it is refused with the encoding it looks like. The detector only ever sees
//! files that are not UTF-8, so UTF-8 input pays nothing for it.
//!
//! Only the array's punctuation is checked here; each record's inside is parsed strictly later,
//! on a worker thread. Memory is bounded by the batch size plus the largest record.

use super::messages::{msg, Lang};
use super::report::{codes, Issue};
use encoding_rs::{Encoding, WINDOWS_1251};
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

/// Non-ASCII bytes enough for the detector to judge a file from its first chunk.
const EARLY_VERDICT_BYTES: u64 = 256;
/// UTF-8 Cyrillic letters that make a Windows-1251 file a mixed one.
const MIXED_PAIRS: u64 = 3;

/// How a message names an encoding the detector recognised.
fn encoding_name(e: &'static Encoding) -> &'static str {
    match e.name() {
        // The detector answers KOI8-U, KOI8-R's Ukrainian superset, for Russian KOI8 text.
        "KOI8-R" | "KOI8-U" => "KOI8-R",
        "IBM866" => "DOS (CP866)",
        "x-mac-cyrillic" => "Mac Cyrillic",
        "ISO-8859-5" => "ISO-8859-5",
        "windows-1252" | "ISO-8859-1" => "Latin-1 (Windows-1252, ISO-8859-1)",
        "ISO-8859-2" | "windows-1250" => "Central European (Windows-1250, ISO-8859-2)",
        other => other,
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
    detector: Option<Box<chardetng::EncodingDetector>>,
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

    fn decode_1251(&mut self, from: usize, n: usize) -> Result<(), ReadError> {
        let raw = &self.raw[from..n];
        let mut prev = self.last_byte;
        for (i, &b) in raw.iter().enumerate() {
            if b >= 0x80 {
                self.high_bytes += 1;
                if matches!(prev, 0xD0 | 0xD1) && b <= 0xBF {
                    self.utf8_pairs += 1;
                }
                if b == 0x98 {
                    // The one byte Windows-1251 leaves undefined.
                    let line = self.line_at(self.filled)
                        + memchr::memchr_iter(b'\n', &raw[..i]).count() as u64;
                    return Err(self.content_err(
                        None,
                        codes::ENCODING_INVALID,
                        msg!(
                            self.lang,
                            "encoding-invalid-windows1251",
                            byte = "0x98",
                            line = line
                        ),
                    ));
                }
            }
            prev = b;
        }
        self.last_byte = prev;
        if let Some(d) = self.detector.as_mut() {
            d.feed(raw, false);
        }
        let mut dec = self
            .decoder
            .take()
            .unwrap_or_else(|| WINDOWS_1251.new_decoder_without_bom_handling());
        let need = dec
            .max_utf8_buffer_length(n - from)
            .unwrap_or((n - from) * 3);
        let start = self.filled;
        self.room(need);
        let (result, _, written, _) = dec.decode_to_utf8(
            &self.raw[from..n],
            &mut self.buf[start..start + need],
            false,
        );
        debug_assert_eq!(result, encoding_rs::CoderResult::InputEmpty);
        self.decoder = Some(dec);
        self.filled = start + written;
        self.validated = self.filled;
        Ok(())
    }

    /// Validates the undecided tail of `buf` as UTF-8, switching to Windows-1251 when the
    /// content so far was plain ASCII and the first non-ASCII byte is not UTF-8.
    fn check_utf8(&mut self, at_eof: bool) -> Result<(), ReadError> {
        let tail = &self.buf[self.validated..self.filled];
        match simdutf8::compat::from_utf8(tail) {
            Ok(_) => {
                if self.decoding == Decoding::Undecided && !tail.is_ascii() {
                    self.decoding = Decoding::Utf8;
                }
                self.validated = self.filled;
                Ok(())
            }
            Err(e) => {
                let good = e.valid_up_to();
                let prefix_ascii = tail[..good].is_ascii();
                if e.error_len().is_none() && !at_eof {
                    // A character cut by the chunk boundary: wait for the rest.
                    if self.decoding == Decoding::Undecided && !prefix_ascii {
                        self.decoding = Decoding::Utf8;
                    }
                    self.validated += good;
                    return Ok(());
                }
                if self.mode == EncodingMode::Auto
                    && self.decoding == Decoding::Undecided
                    && prefix_ascii
                {
                    self.decoding = Decoding::Windows1251;
                    self.detector = Some(Box::new(chardetng::EncodingDetector::new(
                        chardetng::Iso2022JpDetection::Deny,
                    )));
                    let undecoded = self.buf[self.validated..self.filled].to_vec();
                    self.filled = self.validated;
                    let (from, n) = (0, undecoded.len());
                    let saved = std::mem::replace(&mut self.raw, undecoded);
                    let r = self.decode_1251(from, n);
                    self.raw = saved;
                    r?;
                    // A first chunk with enough text to judge is judged at once, so that a
                    // KOI8-R file does not go on to fill the report with garbled values.
                    if self.high_bytes >= EARLY_VERDICT_BYTES {
                        self.judge_guess()?;
                    }
                    return Ok(());
                }
                let line = self.line_at(self.validated + good);
                let offset = self.bytes_read as usize - (self.filled - self.validated - good);
                let id = if self.mode == EncodingMode::Utf8 {
                    msg!(
                        self.lang,
                        "encoding-invalid-utf8",
                        line = line,
                        offset = offset
                    )
                } else {
                    msg!(
                        self.lang,
                        "encoding-invalid-utf8-mixed",
                        line = line,
                        offset = offset
                    )
                };
                Err(self.content_err(None, codes::ENCODING_INVALID, id))
            }
        }
    }

    /// Refuses a file taken for Windows-1251 that the detector reads as something else.
    fn judge_guess(&mut self) -> Result<(), ReadError> {
        let Some(d) = self.detector.as_ref() else {
            return Ok(());
        };
        // Some UTF-8 Cyrillic in a Windows-1251 file: parts saved in different encodings.
        // Genuine Windows-1251 text almost never has 'Р' or 'С' before these symbols.
        if self.utf8_pairs >= MIXED_PAIRS {
            return Err(self.content_err(
                None,
                codes::ENCODING_INVALID,
                msg!(self.lang, "encoding-invalid-mixed", count = self.utf8_pairs),
            ));
        }
        // The generic top-level domain: no hint towards Cyrillic, the bytes alone decide.
        let guess = d.guess(None, chardetng::Utf8Detection::Deny);
        if guess == WINDOWS_1251 {
            return Ok(());
        }
        Err(self.content_err(
            None,
            codes::ENCODING_INVALID,
            msg!(
                self.lang,
                "encoding-invalid-guess",
                encoding = encoding_name(guess)
            ),
        ))
    }

    fn finish_decoding(&mut self) -> Result<(), ReadError> {
        if self.decoding == Decoding::Windows1251 {
            if let Some(d) = self.detector.as_mut() {
                d.feed(&[], true);
            }
            self.judge_guess()?;
        } else if self.validated < self.filled {
            self.check_utf8(true)?;
        }
        Ok(())
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
mod tests {
    use super::*;

    /// A reader that hands out at most `n` bytes per read, to cross every boundary.
    struct Trickle<'a>(&'a [u8], usize);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(self.1).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn all(
        input: &[u8],
        step: usize,
        mode: EncodingMode,
    ) -> (Vec<String>, Option<Issue>, Detected) {
        let mut r = RecordReader::new(Trickle(input, step), mode);
        let mut out = Vec::new();
        loop {
            match r.next_batch() {
                Ok(Some(b)) => {
                    for s in &b.records {
                        out.push(String::from_utf8(b.bytes(s).to_vec()).unwrap());
                    }
                }
                Ok(None) => return (out, None, r.detected()),
                Err(ReadError::Content(i)) => return (out, Some(i), r.detected()),
                Err(ReadError::Io(e)) => panic!("{e}"),
            }
        }
    }

    #[test]
    fn splits_records_across_any_read_size() {
        let input = br#" [ {"a":"x,]}\"{"} , {"b":[1,{"c":2}]},"s" ,12, null ] "#;
        for step in [1, 2, 3, 7, 64, 4096] {
            let (recs, err, _) = all(input, step, EncodingMode::Auto);
            assert!(err.is_none(), "{step}: {err:?}");
            assert_eq!(
                recs,
                [
                    r#"{"a":"x,]}\"{"}"#,
                    r#"{"b":[1,{"c":2}]}"#,
                    r#""s""#,
                    "12",
                    "null"
                ],
                "{step}"
            );
        }
    }

    #[test]
    fn structural_errors_are_reported_with_position() {
        let cases: &[(&[u8], &str, &str)] = &[
            (b"", codes::FILE_EMPTY, ""),
            (b"{\"a\":1}", codes::JSON_NOT_ARRAY, ""),
            (b"[{\"a\":1},]", codes::JSON_SYNTAX, ""),
            (b"[{\"a\":1} {\"b\":2}]", codes::JSON_SYNTAX, ""),
            (b"[{\"a\":1},{\"b\":", codes::JSON_SYNTAX, "/1"),
            (b"[{\"a\":1}", codes::JSON_SYNTAX, ""),
            (b"[{\"a\":1}] x", codes::JSON_SYNTAX, ""),
        ];
        for (input, code, pointer) in cases {
            let (_, err, _) = all(input, 3, EncodingMode::Auto);
            let err = err.unwrap_or_else(|| panic!("{}", String::from_utf8_lossy(input)));
            assert_eq!((err.code.as_str(), err.pointer.as_str()), (*code, *pointer));
        }
    }

    #[test]
    fn bom_is_removed_and_windows_1251_detected() {
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice("[{\"name\":\"Молоко\"}]".as_bytes());
        let (recs, err, det) = all(&bom, 2, EncodingMode::Auto);
        assert!(err.is_none());
        assert_eq!(det, Detected::Utf8Bom);
        assert_eq!(recs, ["{\"name\":\"Молоко\"}"]);

        let (cp, _, _) = WINDOWS_1251.encode("[{\"name\":\"Молоко и сыр\"}]");
        let (recs, err, det) = all(&cp, 5, EncodingMode::Auto);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(det, Detected::Windows1251);
        assert_eq!(recs, ["{\"name\":\"Молоко и сыр\"}"]);
    }

    #[test]
    fn other_encodings_are_refused() {
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("[]".encode_utf16().flat_map(|u| u.to_le_bytes()))
            .collect();
        let (_, err, _) = all(&utf16, 4096, EncodingMode::Auto);
        assert_eq!(err.unwrap().code, codes::ENCODING_INVALID);
        // Latin-1 accents are not Cyrillic letters in Windows-1251 terms... mostly they are,
        // so use the C1 range that Russian text never needs.
        let latin = b"[{\"name\":\"\x80\x82\x84\x85\x86\x87\x89\x8B \x91\x92\x93\"}]";
        let (_, err, _) = all(latin, 4096, EncodingMode::Auto);
        assert_eq!(err.unwrap().code, codes::ENCODING_INVALID);
        // UTF-8 first, then a stray Windows-1251 byte: mixed files are refused.
        let mixed = "[{\"a\":\"Молоко\"},{\"b\":\""
            .bytes()
            .chain([0xCC, b'"', b'}', b']'])
            .collect::<Vec<_>>();
        let (_, err, _) = all(&mixed, 4096, EncodingMode::Auto);
        assert_eq!(err.unwrap().code, codes::ENCODING_INVALID);
        // Configured as UTF-8: no guessing.
        let (cp, _, _) = WINDOWS_1251.encode("[{\"name\":\"Молоко\"}]");
        let (_, err, _) = all(&cp, 4096, EncodingMode::Utf8);
        assert_eq!(err.unwrap().code, codes::ENCODING_INVALID);
    }

    fn fixture(rel: &str) -> Vec<u8> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        std::fs::read(root.join(rel)).unwrap()
    }

    /// The message a file gets in `lang`, or `None` when it is accepted.
    fn refusal(input: &[u8], lang: Lang) -> Option<Issue> {
        let mut r = RecordReader::new(Trickle(input, 4096), EncodingMode::Auto).messages_in(lang);
        loop {
            match r.next_batch() {
                Ok(Some(_)) => {}
                Ok(None) => return None,
                Err(ReadError::Content(i)) => return Some(i),
                Err(ReadError::Io(e)) => panic!("{e}"),
            }
        }
    }

    #[test]
    fn single_byte_files_are_taken_only_when_they_read_as_windows_1251() {
        // Real exports: a product catalogue in KOI8-R, a West European warehouse list in
        // Windows-1252 (Latin-1), a catalogue half Windows-1251, half UTF-8.
        let koi8 = fixture("invalid/products/encoding-koi8r.json");
        let i = refusal(&koi8, Lang::En).expect("KOI8-R is refused");
        assert_eq!(i.code, codes::ENCODING_INVALID);
        assert!(i.message.contains("looks like KOI8-R"), "{}", i.message);
        assert!(i.message.contains("КодировкаТекста.UTF8"), "{}", i.message);
        let ru = refusal(&koi8, Lang::Ru).unwrap().message;
        assert!(ru.contains("похоже, это KOI8-R"), "{ru}");

        let latin = fixture("invalid/warehouses/encoding-windows1252.json");
        let i = refusal(&latin, Lang::En).expect("Latin-1 is refused");
        assert_eq!(i.code, codes::ENCODING_INVALID);
        assert!(i.message.contains("Latin-1"), "{}", i.message);

        let mixed = fixture("invalid/products/encoding-mixed.json");
        let i = refusal(&mixed, Lang::En).expect("a mixed file is refused");
        assert_eq!(i.code, codes::ENCODING_INVALID);
        assert!(i.message.contains("different encodings"), "{}", i.message);

        // UTF-8 first, then Windows-1251: refused at the first byte that is not UTF-8.
        let mut utf8_then_1251 = "[{\"name\": \"Молоко\"},\r\n{\"name\": \""
            .as_bytes()
            .to_vec();
        utf8_then_1251.extend(WINDOWS_1251.encode("Сыр\"}]").0.iter());
        let i = refusal(&utf8_then_1251, Lang::En).unwrap();
        assert!(
            i.message.contains("starts in UTF-8, but line 2"),
            "{}",
            i.message
        );

        // Windows-1251 as 1C writes it is still accepted, and so is the batch's.
        let products = String::from_utf8(fixture("valid/products.json")).unwrap();
        let (cp, _, unmappable) = WINDOWS_1251.encode(&products);
        assert!(!unmappable);
        assert_eq!(refusal(&cp, Lang::En), None);
        let (recs, err, det) = all(&cp, 4096, EncodingMode::Auto);
        assert!(err.is_none());
        assert_eq!(det, Detected::Windows1251);
        assert!(
            recs[0].contains("Стиральный порошок «Чистота»"),
            "{}",
            recs[0]
        );
        assert_eq!(refusal(&fixture("batch/warehouses.json"), Lang::En), None);
    }

    #[test]
    fn a_configured_encoding_is_not_second_guessed() {
        let koi8 = fixture("invalid/products/encoding-koi8r.json");
        let (_, err, det) = all(&koi8, 4096, EncodingMode::Windows1251);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(det, Detected::Windows1251);
    }

    #[test]
    fn lines_of_records_are_found_again() {
        let input = b"[\r\n\t{\"a\": 1},\r\n\t{\"a\":\n 2},\r\n\t{\"a\": 3}, {\"a\": 4}\r\n]";
        let wanted = [0, 2, 3, 9].into_iter().collect();
        let lines = record_lines(&input[..], EncodingMode::Auto, &wanted);
        let mut got: Vec<_> = lines.into_iter().collect();
        got.sort();
        assert_eq!(got, [(0, 2), (2, 5), (3, 5)]);
    }

    #[test]
    fn batches_bound_memory() {
        let mut input = b"[".to_vec();
        for i in 0..50_000 {
            if i > 0 {
                input.push(b',');
            }
            input.extend_from_slice(
                format!("{{\"id\":\"{i}\",\"pad\":\"{}\"}}\n", "x".repeat(100)).as_bytes(),
            );
        }
        input.push(b']');
        let mut r = RecordReader::new(&input[..], EncodingMode::Auto);
        let (mut n, mut batches, mut max) = (0, 0, 0);
        while let Some(b) = r.next_batch().unwrap() {
            assert_eq!(b.records[0].index, n);
            assert_eq!(b.line_of(&b.records[0]), n + 1);
            n += b.records.len() as u64;
            batches += 1;
            max = max.max(b.len);
        }
        assert_eq!(n, 50_000);
        assert!(batches > 1);
        assert!(max < BATCH_BYTES + CHUNK + 4096);
    }
}
