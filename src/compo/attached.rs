//! Attached files (pictures, invoices): names, extensions, magic bytes, sizes.
//!
//! Names are checked before anything touches the file system: a name that could escape its
//! folder (`..`, a separator) or hide (`.x`) is refused, never opened. Contents are judged by
//! the first bytes only, so a folder of 100,000 pictures costs one small read per file.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::Path;

use crate::compo::messages::{msg, Lang};
use crate::compo::model::AttachedFolder;
use crate::compo::report::{codes, Issue};

/// Longest accepted name, in characters (all of them ASCII).
const MAX_NAME_LEN: usize = 128;

/// How many leading bytes are read to recognise a file.
const HEAD_LEN: usize = 64;

/// Checks an attached file's name for `folder`. `Err` carries the message for `file.name`.
pub fn check_name(name: &str, folder: AttachedFolder, lang: Lang) -> Result<(), String> {
    let dir = folder.name();
    if name.is_empty() {
        return Err(msg!(lang, "file-name-empty", folder = dir));
    }
    if name.contains(['/', '\\']) {
        return Err(msg!(lang, "file-name-separator", name = name, folder = dir));
    }
    if name.chars().any(char::is_control) {
        return Err(msg!(lang, "file-name-control", name = name));
    }
    if name.starts_with('.') {
        return Err(msg!(lang, "file-name-hidden", name = name));
    }
    if name.contains("..") {
        return Err(msg!(lang, "file-name-dots", name = name));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(msg!(
            lang,
            "file-name-character",
            name = name,
            character = c.to_string()
        ));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(msg!(
            lang,
            "file-name-long",
            name = name,
            length = name.len(),
            max = MAX_NAME_LEN
        ));
    }
    let allowed = folder.extensions().join(", ");
    let Some((_, ext)) = name.rsplit_once('.') else {
        return Err(msg!(
            lang,
            "file-name-no-extension",
            name = name,
            folder = dir,
            allowed = allowed
        ));
    };
    if !folder
        .extensions()
        .iter()
        .any(|e| e.eq_ignore_ascii_case(ext))
    {
        return Err(msg!(
            lang,
            "file-name-extension",
            name = name,
            extension = ext,
            folder = dir,
            allowed = allowed
        ));
    }
    Ok(())
}

const ZIP_LOCAL: &[u8] = b"PK\x03\x04";
const ZIP_EMPTY: &[u8] = b"PK\x05\x06";
const OLE: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
const UTF8_BOM: &[u8] = &[0xEF, 0xBB, 0xBF];

fn is_webp(head: &[u8]) -> bool {
    head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"WEBP"
}

/// The head with an optional UTF-8 BOM and leading XML whitespace removed.
fn after_bom_and_space(head: &[u8]) -> &[u8] {
    let h = head.strip_prefix(UTF8_BOM).unwrap_or(head);
    let start = h
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .unwrap_or(h.len());
    &h[start..]
}

/// Whether the first bytes of a file fit its (lower-case) extension. Unknown extensions never
/// match.
pub fn magic_matches(ext_lowercase: &str, head: &[u8]) -> bool {
    match ext_lowercase {
        "jpg" | "jpeg" => head.starts_with(&[0xFF, 0xD8, 0xFF]),
        "png" => head.starts_with(PNG),
        "gif" => head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a"),
        "webp" => is_webp(head),
        "pdf" => head.starts_with(b"%PDF-"),
        // Office Open XML files are ZIP archives; an empty archive only makes sense as .zip.
        "xlsx" | "docx" => head.starts_with(ZIP_LOCAL),
        "zip" => head.starts_with(ZIP_LOCAL) || head.starts_with(ZIP_EMPTY),
        "xls" | "doc" => head.starts_with(OLE),
        "xml" => after_bom_and_space(head).starts_with(b"<"),
        _ => false,
    }
}

/// What the bytes look like, as the catalogue's `file-kind` names kinds (`pdf`, `html`), for
/// messages such as "x.png is a PDF, not a PNG image".
pub fn sniff_kind(head: &[u8]) -> Option<&'static str> {
    let starts = |m: &[u8]| head.starts_with(m);
    if starts(&[0xFF, 0xD8, 0xFF]) {
        return Some("jpeg");
    }
    if starts(PNG) {
        return Some("png");
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return Some("gif");
    }
    if is_webp(head) {
        return Some("webp");
    }
    if starts(b"%PDF-") {
        return Some("pdf");
    }
    if starts(ZIP_LOCAL) || starts(ZIP_EMPTY) {
        return Some("zip-or-office");
    }
    if starts(OLE) {
        return Some("ole");
    }
    if starts(b"BM") && head.len() >= 14 {
        return Some("bmp");
    }
    if starts(b"II*\0") || starts(b"MM\0*") {
        return Some("tiff");
    }
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        return Some(match &head[8..12] {
            b"heic" | b"heix" | b"mif1" | b"msf1" => "heic",
            b"avif" | b"avis" => "avif",
            _ => "mp4",
        });
    }
    if starts(&[0x1F, 0x8B]) {
        return Some("gzip");
    }
    if starts(b"Rar!\x1A\x07") {
        return Some("rar");
    }
    if starts(b"7z\xBC\xAF\x27\x1C") {
        return Some("sevenzip");
    }
    let text = after_bom_and_space(head);
    if text.len() >= 5 {
        let lower: Vec<u8> = text[..text.len().min(14)].to_ascii_lowercase();
        if lower.starts_with(b"<!doctype html") || lower.starts_with(b"<html") {
            return Some("html");
        }
    }
    if text.starts_with(b"<") {
        return Some("xml");
    }
    if looks_like_text(head) {
        return Some("text");
    }
    None
}

/// UTF-8 without control characters other than tab and line ends. The head may cut a
/// multi-byte character at its end, which is not held against it.
fn looks_like_text(head: &[u8]) -> bool {
    if head.is_empty() {
        return false;
    }
    let valid = match std::str::from_utf8(head) {
        Ok(s) => s,
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    !valid.is_empty()
        && valid
            .chars()
            .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
}

/// What a file with this extension should be, as the catalogue's `file-kind` names kinds.
fn expected_kind(ext_lowercase: &str) -> &'static str {
    match ext_lowercase {
        "jpg" | "jpeg" => "jpeg",
        "png" => "png",
        "gif" => "gif",
        "webp" => "webp",
        "pdf" => "pdf",
        "xml" => "xml",
        "xlsx" => "xlsx",
        "docx" => "docx",
        "zip" => "zip",
        "xls" => "xls",
        "doc" => "doc",
        _ => "other",
    }
}

fn config_key(folder: AttachedFolder) -> &'static str {
    match folder {
        AttachedFolder::Pictures => "max_picture_size",
        AttachedFolder::Invoices => "max_invoice_size",
    }
}

/// A size for people: "20 MiB (20971520 bytes)".
fn human_size(bytes: u64, lang: Lang) -> String {
    const MIB: u64 = 1 << 20;
    const KIB: u64 = 1 << 10;
    let (amount, unit) = if bytes >= MIB {
        (bytes as f64 / MIB as f64, "MiB")
    } else if bytes >= KIB {
        (bytes as f64 / KIB as f64, "KiB")
    } else {
        return msg!(lang, "file-size-bytes", bytes = bytes);
    };
    let amount = format!("{amount:.1}");
    msg!(
        lang,
        "file-size",
        amount = amount.trim_end_matches(".0"),
        unit = unit,
        bytes = bytes
    )
}

/// Reads up to `HEAD_LEN` bytes: one `read` may return fewer than are there.
fn read_head(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(HEAD_LEN);
    File::open(path)?
        .take(HEAD_LEN as u64)
        .read_to_end(&mut head)?;
    Ok(head)
}

/// Checks one attached file: its name, then (only when the name is acceptable) its size and
/// first bytes. `name` is the file's name in `folder` (used in messages), `path` where to read
/// it. Issues concern the whole file: no record, empty pointer.
pub fn check_file(
    path: &Path,
    name: &str,
    folder: AttachedFolder,
    max_size: u64,
    lang: Lang,
) -> Vec<Issue> {
    let shown = format!("{folder}/{name}");
    if let Err(message) = check_name(name, folder, lang) {
        return vec![Issue::file(codes::FILE_NAME, message)];
    }
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => {
            return vec![Issue::file(
                codes::IO_ERROR,
                msg!(lang, "io-error", file = &shown, error = e.to_string()),
            )]
        }
    };
    if !meta.is_file() {
        return vec![Issue::file(
            codes::IO_ERROR,
            msg!(lang, "io-error-not-regular", file = &shown),
        )];
    }
    let size = meta.len();
    if size == 0 {
        return vec![Issue::file(
            codes::FILE_EMPTY,
            msg!(lang, "file-empty-attached", file = &shown),
        )];
    }
    let mut issues = Vec::new();
    if size > max_size {
        issues.push(Issue::file(
            codes::FILE_TOO_LARGE,
            msg!(
                lang,
                "file-too_large",
                file = &shown,
                size = human_size(size, lang),
                limit = human_size(max_size, lang),
                folder = folder.name(),
                key = config_key(folder)
            ),
        ));
    }
    let head = match read_head(path) {
        Ok(h) => h,
        Err(e) => {
            let error = e.to_string();
            let message = if e.kind() == ErrorKind::PermissionDenied {
                msg!(lang, "io-error-permissions", file = &shown, error = error)
            } else {
                msg!(lang, "io-error", file = &shown, error = error)
            };
            issues.push(Issue::file(codes::IO_ERROR, message));
            return issues;
        }
    };
    // check_name guarantees an allowed extension.
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    if !magic_matches(&ext, &head) {
        let expected = msg!(lang, "file-kind", kind = expected_kind(&ext));
        let message = match sniff_kind(&head) {
            Some(kind) => msg!(
                lang,
                "file-magic",
                file = &shown,
                found = msg!(lang, "file-kind", kind = kind),
                expected = expected
            ),
            None => {
                let bytes: Vec<String> = head.iter().take(8).map(|b| format!("{b:02X}")).collect();
                msg!(
                    lang,
                    "file-magic-unknown",
                    file = &shown,
                    expected = expected,
                    bytes = bytes.join(" ")
                )
            }
        };
        issues.push(Issue::file(codes::FILE_MAGIC, message));
    }
    issues
}

#[cfg(test)]
mod tests {
    use super::*;
    use AttachedFolder::{Invoices, Pictures};

    const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F'];
    const PDF: &[u8] = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n";
    const WEBP: &[u8] = b"RIFF\x24\x00\x00\x00WEBPVP8 ";

    fn png() -> Vec<u8> {
        let mut v = PNG.to_vec();
        v.extend_from_slice(b"\0\0\0\rIHDR");
        v
    }

    #[test]
    fn good_names() {
        for n in ["a.jpg", "A-1_b.c.JPEG", "x.Png", "0.webp", "g.gif"] {
            assert_eq!(check_name(n, Pictures, Lang::En), Ok(()), "{n}");
        }
        for n in [
            "inv.pdf", "a.XML", "b.xlsx", "c.xls", "d.docx", "e.doc", "f.ZIP",
        ] {
            assert_eq!(check_name(n, Invoices, Lang::En), Ok(()), "{n}");
        }
        let longest = format!("{}.jpg", "a".repeat(MAX_NAME_LEN - 4));
        assert_eq!(check_name(&longest, Pictures, Lang::En), Ok(()));
    }

    #[test]
    fn bad_names() {
        let cases: &[(&str, AttachedFolder, &str)] = &[
            ("", Pictures, "empty"),
            ("../etc/passwd.jpg", Pictures, "path separator"),
            ("a\\b.jpg", Pictures, "path separator"),
            ("a\nb.jpg", Pictures, "control character"),
            ("a\u{7f}.jpg", Pictures, "control character"),
            (".hidden.jpg", Pictures, "starts with a dot"),
            ("a..jpg", Pictures, "\"..\""),
            ("фото.jpg", Pictures, "'ф'"),
            ("my photo.jpg", Pictures, "' '"),
            ("noext", Pictures, "no extension"),
            ("a.pdf", Pictures, "\".pdf\""),
            ("a.jpg", Invoices, "\".jpg\""),
            ("a.jpg.exe", Pictures, "\".exe\""),
            ("a.", Pictures, "\".\""),
        ];
        for (name, folder, part) in cases {
            let e = check_name(name, *folder, Lang::En).expect_err(name);
            assert!(e.contains(part), "{name:?}: {e}");
        }
        let too_long = format!("{}.jpg", "a".repeat(MAX_NAME_LEN - 3));
        let e = check_name(&too_long, Pictures, Lang::En).unwrap_err();
        assert!(e.contains("129 characters"), "{e}");
        assert!(check_name("a.pdf", Pictures, Lang::En)
            .unwrap_err()
            .contains("jpg, jpeg"));
    }

    #[test]
    fn magic_by_extension() {
        assert!(magic_matches("jpg", JPEG));
        assert!(magic_matches("jpeg", JPEG));
        assert!(!magic_matches("jpg", &JPEG[..2]));
        assert!(magic_matches("png", &png()));
        assert!(!magic_matches("png", &png()[..7]));
        assert!(magic_matches("gif", b"GIF89a\x01\x00"));
        assert!(magic_matches("gif", b"GIF87a"));
        assert!(!magic_matches("gif", b"GIF88a"));
        assert!(magic_matches("webp", WEBP));
        assert!(!magic_matches("webp", b"RIFF\x24\x00\x00\x00WAVEfmt "));
        assert!(magic_matches("pdf", PDF));
        assert!(!magic_matches("pdf", b"%PDF"));
        assert!(magic_matches("xlsx", b"PK\x03\x04\x14\x00"));
        assert!(magic_matches("docx", b"PK\x03\x04\x14\x00"));
        assert!(magic_matches("zip", b"PK\x03\x04\x14\x00"));
        assert!(magic_matches("zip", b"PK\x05\x06\0\0"));
        assert!(!magic_matches("xlsx", b"PK\x05\x06\0\0"));
        assert!(magic_matches("xls", OLE));
        assert!(magic_matches("doc", OLE));
        assert!(!magic_matches("xls", b"PK\x03\x04"));
        assert!(magic_matches("xml", b"<?xml version=\"1.0\"?>"));
        assert!(magic_matches("xml", b"\xEF\xBB\xBF  \r\n\t<root/>"));
        assert!(!magic_matches("xml", b"\xEF\xBB\xBFroot"));
        assert!(!magic_matches("xml", b"  "));
        assert!(!magic_matches("exe", b"MZ"));
        assert!(!magic_matches("png", b""));
    }

    #[test]
    fn sniffing() {
        assert_eq!(sniff_kind(JPEG), Some("jpeg"));
        assert_eq!(sniff_kind(&png()), Some("png"));
        assert_eq!(sniff_kind(b"GIF89a"), Some("gif"));
        assert_eq!(sniff_kind(WEBP), Some("webp"));
        assert_eq!(sniff_kind(PDF), Some("pdf"));
        assert!(sniff_kind(b"PK\x03\x04").unwrap().starts_with("zip"));
        assert!(sniff_kind(OLE) == Some("ole"));
        assert_eq!(sniff_kind(b"\0\0\0\x18ftypheic\0\0\0\0"), Some("heic"));
        assert_eq!(sniff_kind(b"BM\x36\0\0\0\0\0\0\0\x36\0\0\0"), Some("bmp"));
        assert_eq!(sniff_kind(b"\n<!DOCTYPE html><html>"), Some("html"));
        assert_eq!(sniff_kind(b"<?xml version='1.0'?>"), Some("xml"));
        assert_eq!(sniff_kind("Счёт № 5\n".as_bytes()), Some("text"));
        // A multi-byte character cut by the 64-byte head still counts as text.
        assert_eq!(sniff_kind(&"ж".as_bytes()[..1]), None);
        assert_eq!(sniff_kind(&"aж".as_bytes()[..2]), Some("text"));
        assert_eq!(sniff_kind(&[0, 1, 2, 3]), None);
        assert_eq!(sniff_kind(b""), None);
    }

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    fn codes_of(issues: &[Issue]) -> Vec<&str> {
        for i in issues {
            assert_eq!(i.record, None);
            assert_eq!(i.pointer, "");
        }
        issues.iter().map(|i| i.code.as_str()).collect()
    }

    #[test]
    fn files_that_pass() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "a.PNG", &png());
        assert!(check_file(&p, "a.PNG", Pictures, 1 << 20, Lang::En).is_empty());
        let mut big_pdf = PDF.to_vec();
        big_pdf.resize(10_000, b' ');
        let p = write(dir.path(), "inv.pdf", &big_pdf);
        assert!(check_file(&p, "inv.pdf", Invoices, 10_000, Lang::En).is_empty());
    }

    #[test]
    fn wrong_content() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "x.png", PDF);
        let i = check_file(&p, "x.png", Pictures, 1 << 20, Lang::En);
        assert_eq!(codes_of(&i), [codes::FILE_MAGIC]);
        assert_eq!(
            i[0].message,
            "pictures/x.png is a PDF, not a PNG image; re-export it or fix its extension"
        );
        let p = write(dir.path(), "y.pdf", &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        let i = check_file(&p, "y.pdf", Invoices, 1 << 20, Lang::En);
        assert_eq!(codes_of(&i), [codes::FILE_MAGIC]);
        assert!(
            i[0].message
                .contains("starts with bytes 00 01 02 03 04 05 06 07)"),
            "{}",
            i[0].message
        );
    }

    #[test]
    fn too_large_names_the_limit_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let mut data = png();
        data.resize(3 << 20, 0);
        let p = write(dir.path(), "big.png", &data);
        let i = check_file(&p, "big.png", Pictures, 2 << 20, Lang::En);
        assert_eq!(codes_of(&i), [codes::FILE_TOO_LARGE]);
        let m = &i[0].message;
        assert!(m.contains("3 MiB (3145728 bytes)"), "{m}");
        assert!(m.contains("2 MiB (2097152 bytes)"), "{m}");
        assert!(m.contains("max_picture_size"), "{m}");
        let p = write(dir.path(), "big.xml", b"<a>..........</a>");
        let i = check_file(&p, "big.xml", Invoices, 10, Lang::En);
        assert_eq!(codes_of(&i), [codes::FILE_TOO_LARGE]);
        assert!(i[0].message.contains("max_invoice_size"));
        // Both problems at once are both reported.
        let p = write(dir.path(), "both.jpg", b"not a jpeg at all");
        assert_eq!(
            codes_of(&check_file(&p, "both.jpg", Pictures, 4, Lang::En)),
            [codes::FILE_TOO_LARGE, codes::FILE_MAGIC]
        );
    }

    #[test]
    fn empty_missing_and_directories() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "e.jpg", b"");
        let i = check_file(&p, "e.jpg", Pictures, 100, Lang::En);
        assert_eq!(codes_of(&i), [codes::FILE_EMPTY]);
        assert!(i[0].message.contains("pictures/e.jpg"));
        let i = check_file(
            &dir.path().join("gone.jpg"),
            "gone.jpg",
            Pictures,
            100,
            Lang::En,
        );
        assert_eq!(codes_of(&i), [codes::IO_ERROR]);
        std::fs::create_dir(dir.path().join("d.jpg")).unwrap();
        let i = check_file(&dir.path().join("d.jpg"), "d.jpg", Pictures, 100, Lang::En);
        assert_eq!(codes_of(&i), [codes::IO_ERROR]);
    }

    #[test]
    fn bad_name_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        // The path does not exist: had it been opened, the outcome would be io.error.
        let missing = dir.path().join("nothing-here");
        let i = check_file(&missing, "../secret.jpg", Pictures, 100, Lang::En);
        assert_eq!(codes_of(&i), [codes::FILE_NAME]);
        let i = check_file(&missing, "a.bmp", Pictures, 100, Lang::En);
        assert_eq!(codes_of(&i), [codes::FILE_NAME]);
    }

    #[test]
    fn kinds_in_both_languages() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "inv.xlsx", b"<html><body>404</body></html>");
        let i = check_file(&p, "inv.xlsx", Invoices, 1 << 20, Lang::En);
        assert_eq!(
            i[0].message,
            "invoices/inv.xlsx is an HTML page, not an Excel workbook (xlsx); re-export it or \
             fix its extension"
        );
        let i = check_file(&p, "inv.xlsx", Invoices, 1 << 20, Lang::Ru);
        assert_eq!(
            i[0].message,
            "файл invoices/inv.xlsx — это веб-страница HTML, а не книга Excel (xlsx); выгрузите \
             его заново или исправьте расширение"
        );
        let e = check_name("фото.jpg", Pictures, Lang::Ru).unwrap_err();
        assert!(e.contains("символ «ф»"), "{e}");
    }

    #[test]
    fn sizes_for_people() {
        assert_eq!(human_size(512, Lang::En), "512 bytes");
        assert_eq!(human_size(1536, Lang::En), "1.5 KiB (1536 bytes)");
        assert_eq!(human_size(20 << 20, Lang::En), "20 MiB (20971520 bytes)");
        assert_eq!(human_size(20 << 20, Lang::Ru), "20 МиБ (20971520 байт)");
    }
}
