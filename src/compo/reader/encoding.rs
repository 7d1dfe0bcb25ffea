//! Which encoding a data file is read in: UTF-8 as it is, Windows-1251 when configured or when
//! a file that is not UTF-8 also reads as Windows-1251 to a detector made for the job; any
//! other single-byte or mixed file is refused, naming what it looks like.

use super::{Decoding, EncodingMode, ReadError, RecordReader};
use crate::compo::messages::msg;
use crate::compo::report::codes;
use encoding_rs::{Encoding, WINDOWS_1251};
use std::io::Read;

/// How much of a file that is not UTF-8 the detector reads before it judges.
pub(super) const DETECTOR_SAMPLE: usize = 1 << 20;
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

impl<R: Read> RecordReader<R> {
    pub(super) fn decode_1251(&mut self, from: usize, n: usize) -> Result<(), ReadError> {
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
            self.detector_fed += raw.len();
            if self.detector_fed >= DETECTOR_SAMPLE {
                self.judge_guess()?;
                self.detector = None;
            }
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
    pub(super) fn check_utf8(&mut self, at_eof: bool) -> Result<(), ReadError> {
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
                    self.guessing = true;
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
    pub(super) fn judge_guess(&mut self) -> Result<(), ReadError> {
        if !self.guessing {
            return Ok(());
        }
        // Some UTF-8 Cyrillic in a Windows-1251 file: parts saved in different encodings.
        // Genuine Windows-1251 text almost never has 'Р' or 'С' before these symbols.
        if self.utf8_pairs >= MIXED_PAIRS {
            return Err(self.content_err(
                None,
                codes::ENCODING_INVALID,
                msg!(self.lang, "encoding-invalid-mixed", count = self.utf8_pairs),
            ));
        }
        let Some(d) = self.detector.as_ref() else {
            return Ok(()); // judged on its sample already
        };
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

    pub(super) fn finish_decoding(&mut self) -> Result<(), ReadError> {
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
}
