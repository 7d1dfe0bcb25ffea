//! Records cut from any read size, structure errors, encodings accepted and refused.

use super::encoding::DETECTOR_SAMPLE;
use super::*;
use encoding_rs::WINDOWS_1251;

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

fn all(input: &[u8], step: usize, mode: EncodingMode) -> (Vec<String>, Option<Issue>, Detected) {
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
fn past_the_detectors_sample_a_utf8_part_is_still_found() {
    // Some 3 MB of Windows-1251 records, beyond what the detector reads.
    let record = "{\"id\": \"P-1\", \"name\": \"Стиральный порошок «Чистота» автомат, 3 кг\"}";
    let mut text = String::from("[");
    while text.len() < 3 * DETECTOR_SAMPLE {
        text.push_str(record);
        text.push_str(",\r\n");
    }
    let mut cp = WINDOWS_1251.encode(&text).0.into_owned();
    assert_eq!(refusal(&[&cp[..], &b"{}]"[..]].concat(), Lang::En), None);
    // The same file with its last records appended in UTF-8.
    for _ in 0..3 {
        cp.extend_from_slice(record.as_bytes());
        cp.extend_from_slice(b",\r\n");
    }
    cp.extend_from_slice(b"{}]");
    let i = refusal(&cp, Lang::En).expect("the UTF-8 tail is found");
    assert!(i.message.contains("different encodings"), "{}", i.message);
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
