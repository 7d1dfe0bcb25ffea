//! Local file operations with the guarantees the protocol needs: atomic writes (temporary
//! name, flush, rename, folder flush), moves that never lose a file, names that never clash.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// Writes a file atomically: `.NAME.ce-tmp` beside it, fsync, rename, fsync of the folder.
pub fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{name}.ce-tmp"));
    let result = (|| {
        let mut f = File::create(&tmp)?;
        {
            let mut w = io::BufWriter::with_capacity(1 << 20, &mut f);
            fill(&mut w)?;
            w.flush()?;
        }
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Copies `from` to `to` atomically (see [`write_atomic`]); returns the bytes copied.
pub fn copy_atomic(from: &Path, to: &Path) -> io::Result<u64> {
    let mut n = 0;
    write_atomic(to, |w| {
        n = io::copy(&mut File::open(from)?, w)?;
        Ok(())
    })?;
    Ok(n)
}

/// What a [`CopyUnlessSame`] ended as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyOutcome {
    /// Not finished (the writer was dropped without its final `flush`).
    Unfinished,
    /// Everything written equals the original up to trailing whitespace: nothing was written.
    Same,
    /// The copy was written to its path.
    Written,
}

/// The outcome slot a [`CopyUnlessSame`] fills, kept by whoever created it.
pub type CopyResult = std::sync::Arc<std::sync::Mutex<CopyOutcome>>;

/// A normalised copy of a file that is written only where it differs from the original.
/// Many ERPs already write compact UTF-8, one record per line: then every byte handed to
/// this writer equals the original's, nothing is written, and the caller links the original
/// instead of writing a second gigabyte. The comparison runs as the bytes come; at the first
/// difference the matching prefix is copied from the original and writing goes on from there.
///
/// `flush` finishes the copy (the validator calls it once, after the last record).
pub struct CopyUnlessSame {
    original: io::BufReader<File>,
    original_path: PathBuf,
    out_path: PathBuf,
    matched: u64,
    out: Option<io::BufWriter<EarlyWriteback>>,
    result: CopyResult,
}

impl CopyUnlessSame {
    pub fn new(original: &Path, out: &Path) -> io::Result<(CopyUnlessSame, CopyResult)> {
        let result = CopyResult::new(std::sync::Mutex::new(CopyOutcome::Unfinished));
        let w = CopyUnlessSame {
            original: io::BufReader::with_capacity(1 << 20, File::open(original)?),
            original_path: original.to_path_buf(),
            out_path: out.to_path_buf(),
            matched: 0,
            out: None,
            result: result.clone(),
        };
        Ok((w, result))
    }

    /// A writer that writes everything, comparing nothing: for file systems without clones,
    /// where our own copy of the original must be written anyway.
    pub fn writing(original: &Path, out: &Path) -> io::Result<(CopyUnlessSame, CopyResult)> {
        let (mut w, result) = CopyUnlessSame::new(original, out)?;
        w.diverge()?;
        Ok((w, result))
    }

    /// Whether `buf` is what comes next in the original (consuming it).
    fn same_as_next(&mut self, mut buf: &[u8]) -> io::Result<bool> {
        use io::BufRead;
        while !buf.is_empty() {
            let avail = self.original.fill_buf()?;
            if avail.is_empty() {
                return Ok(false);
            }
            let n = avail.len().min(buf.len());
            if avail[..n] != buf[..n] {
                return Ok(false);
            }
            self.original.consume(n);
            buf = &buf[n..];
        }
        Ok(true)
    }

    /// Starts the real copy with what matched so far.
    fn diverge(&mut self) -> io::Result<&mut io::BufWriter<EarlyWriteback>> {
        let mut out = io::BufWriter::with_capacity(
            1 << 20,
            EarlyWriteback::new(File::create(&self.out_path)?),
        );
        let prefix = File::open(&self.original_path)?.take(self.matched);
        let copied = io::copy(&mut io::BufReader::with_capacity(1 << 20, prefix), &mut out)?;
        if copied != self.matched {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the original changed while it was being copied",
            ));
        }
        Ok(self.out.insert(out))
    }
}

impl Write for CopyUnlessSame {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.out.is_none() {
            if self.same_as_next(buf)? {
                self.matched += buf.len() as u64;
                return Ok(buf.len());
            }
            self.diverge()?;
        }
        let out = self.out.as_mut().expect("diverged");
        out.write_all(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        use io::BufRead;
        if self.out.is_none() {
            let mut rest_blank = true;
            loop {
                let avail = self.original.fill_buf()?;
                if avail.is_empty() {
                    break;
                }
                if !avail.iter().all(|b| b" \t\r\n".contains(b)) {
                    rest_blank = false;
                    break;
                }
                let n = avail.len();
                self.original.consume(n);
            }
            if rest_blank {
                *self.result.lock().unwrap_or_else(|p| p.into_inner()) = CopyOutcome::Same;
                return Ok(());
            }
            self.diverge()?;
        }
        self.out.as_mut().expect("diverged").flush()?;
        *self.result.lock().unwrap_or_else(|p| p.into_inner()) = CopyOutcome::Written;
        Ok(())
    }
}

/// A file being written that will be flushed when complete (a staged copy of a big data file).
/// It asks the kernel to start writing each full window to disk as soon as it is written, and
/// waits for the window before it, so that the final `fsync` finds little left to do: the
/// disk works while the validator still computes, and dirty pages stay bounded.
pub struct EarlyWriteback {
    file: File,
    written: u64,
    started: u64,
}

const WRITEBACK_WINDOW: u64 = 8 << 20;

impl EarlyWriteback {
    pub fn new(file: File) -> Self {
        EarlyWriteback {
            file,
            written: 0,
            started: 0,
        }
    }

    #[cfg(target_os = "linux")]
    fn start_writeback(&mut self) {
        use std::os::fd::AsRawFd;
        let fd = self.file.as_raw_fd();
        let (from, len) = (self.started, self.written - self.started);
        // SAFETY: plain syscalls on a descriptor we own; ranges lie within what was written.
        // Errors are ignored on purpose: this is only a hint, the final fsync reports failures.
        unsafe {
            libc::sync_file_range(
                fd,
                from as libc::off64_t,
                len as libc::off64_t,
                libc::SYNC_FILE_RANGE_WRITE,
            );
            if from >= WRITEBACK_WINDOW {
                let prev = from - WRITEBACK_WINDOW;
                libc::sync_file_range(
                    fd,
                    prev as libc::off64_t,
                    WRITEBACK_WINDOW as libc::off64_t,
                    libc::SYNC_FILE_RANGE_WAIT_BEFORE
                        | libc::SYNC_FILE_RANGE_WRITE
                        | libc::SYNC_FILE_RANGE_WAIT_AFTER,
                );
            }
        }
        self.started = self.written;
    }

    #[cfg(not(target_os = "linux"))]
    fn start_writeback(&mut self) {}
}

impl Write for EarlyWriteback {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        if self.written - self.started >= WRITEBACK_WINDOW {
            self.start_writeback();
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Whether two paths name one file (two hard links).
#[cfg(unix)]
pub fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (fs::metadata(a), fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
pub fn same_file(_: &Path, _: &Path) -> bool {
    false
}

pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Moves a file, across file systems if need be (copy, flush, then remove the source), so
/// that at every moment at least one complete copy exists.
pub fn move_file(from: &Path, to: &Path) -> io::Result<()> {
    if let Some(d) = to.parent() {
        fs::create_dir_all(d)?;
    }
    match fs::rename(from, to) {
        Ok(()) => {
            if let Some(d) = to.parent() {
                sync_dir(d)?;
            }
            Ok(())
        }
        Err(e) if e.raw_os_error() == Some(18) => {
            // EXDEV: the folders are on different file systems.
            copy_atomic(from, to)?;
            fs::remove_file(from)
        }
        Err(e) => Err(e),
    }
}

/// `dir/name`, or `dir/stem-N.ext` with the smallest N that is free, so nothing is overwritten.
pub fn free_name(dir: &Path, name: &str) -> PathBuf {
    let first = dir.join(name);
    if !first.exists() && !report_path(&first).exists() {
        return first;
    }
    let (stem, ext) = match name.find('.') {
        Some(i) => (&name[..i], &name[i..]),
        None => (name, ""),
    };
    (2..)
        .map(|n| dir.join(format!("{stem}-{n}{ext}")))
        .find(|p| !p.exists() && !report_path(p).exists())
        .expect("some number is free")
}

/// The longest file name (in bytes) the engine takes. Names it derives from a file's name (the
/// upload temporary `.NAME.ID.ce-up.part`, `NAME.report.json`) must stay within the 255 bytes
/// file systems and SFTP servers allow; a longer name is rejected as `name.too_long`.
pub const MAX_NAME: usize = 200;

/// `name` cut to at most `max` bytes on a character boundary.
fn cut(name: &str, max: usize) -> &str {
    let mut end = max.min(name.len());
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

/// A name for storing a file called `name` (row `id`) that always fits: `name` itself when it
/// is not too long, else its beginning, `-ceID` and its extension. The original name is kept
/// in the journal and inside the report.
pub fn storable(name: &str, id: i64) -> String {
    if name.len() <= MAX_NAME && !name.is_empty() {
        return name.to_string();
    }
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e)
        .filter(|e| !e.is_empty() && e.len() <= 16 && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(|e| format!(".{e}"))
        .unwrap_or_default();
    format!("{}-ce{id}{ext}", cut(name, 100))
}

/// A stable number for a name, standing in for a row id where a file has none yet.
pub fn name_tag(name: &str) -> i64 {
    let h = blake3::hash(name.as_bytes());
    i64::from(u32::from_le_bytes(
        h.as_bytes()[..4].try_into().expect("4 bytes"),
    ))
}

/// The engine's own name for a file of row `id` in its folders below `state/`.
pub fn stored_name(id: i64, name: &str) -> String {
    format!("{id}-{}", storable(name, id))
}

/// Whether files in `dir` can be cloned (copy-on-write: Btrfs, XFS with reflink, APFS), tried
/// on a small file of our own.
pub fn clones_files(dir: &Path) -> bool {
    let src = dir.join(".clone-probe.ce-tmp");
    let dst = dir.join(".clone-probe-2.ce-tmp");
    let ok = fs::write(&src, b"probe").is_ok() && reflink_copy::reflink(&src, &dst).is_ok();
    let _ = fs::remove_file(&src);
    let _ = fs::remove_file(&dst);
    ok
}

/// Copies `from` into a new file `to` that shares no storage with it: a copy-on-write clone
/// where the file system offers one (nothing is copied, yet a later write to either file
/// leaves the other as it was), otherwise a plain copy. Flushed, written under a temporary
/// name and renamed; returns the copy's size and BLAKE3 hash.
pub fn own_copy(from: &Path, to: &Path) -> io::Result<(u64, String)> {
    let dir = to.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.ce-tmp",
        to.file_name().unwrap_or_default().to_string_lossy()
    ));
    let _ = fs::remove_file(&tmp);
    let result = (|| {
        let src = open_regular(from)?;
        let measured = match reflink_copy::reflink_file_to_path(&src, &tmp) {
            Ok(()) => hash_file(&tmp)?,
            Err(_) => {
                let _ = fs::remove_file(&tmp);
                let mut out = File::create(&tmp)?;
                let mut h = blake3::Hasher::new();
                let mut buf = vec![0u8; 1 << 20];
                let mut src = &src;
                loop {
                    let k = src.read(&mut buf)?;
                    if k == 0 {
                        break;
                    }
                    h.update(&buf[..k]);
                    out.write_all(&buf[..k])?;
                }
                (h.count(), h.finalize().to_hex().to_string())
            }
        };
        File::open(&tmp)?.sync_all()?;
        fs::rename(&tmp, to)?;
        sync_dir(dir)?;
        Ok(measured)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Opens a regular file without following a symbolic link and without blocking on a FIFO
/// (which is then refused, like every other file that is not a regular one).
pub fn open_regular(path: &Path) -> io::Result<File> {
    #[cfg(unix)]
    let f = {
        use std::os::unix::fs::OpenOptionsExt;
        fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(path)?
    };
    #[cfg(not(unix))]
    let f = File::open(path)?;
    if !f.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    Ok(f)
}

/// `NAME.report.json` beside `NAME`.
pub fn report_path(p: &Path) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(".report.json");
    PathBuf::from(s)
}

/// Size and BLAKE3 (hex) of a large file, hashed on all cores chunk by chunk (bounded memory,
/// unlike a memory map, whose pages would all count as ours).
pub fn hash_claimed(path: &Path) -> io::Result<(u64, String)> {
    let mut f = File::open(path)?;
    let mut h = blake3::Hasher::new();
    let mut buf = vec![0u8; 8 << 20];
    loop {
        let mut filled = 0;
        while filled < buf.len() {
            let k = f.read(&mut buf[filled..])?;
            if k == 0 {
                break;
            }
            filled += k;
        }
        if filled == 0 {
            break;
        }
        h.update_rayon(&buf[..filled]);
    }
    Ok((h.count(), h.finalize().to_hex().to_string()))
}

/// Size and BLAKE3 (hex) of a file.
pub fn hash_file(path: &Path) -> io::Result<(u64, String)> {
    let mut f = File::open(path)?;
    let mut h = blake3::Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf)?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        n += k as u64;
    }
    Ok((n, h.finalize().to_hex().to_string()))
}

/// Whether the last non-blank byte of a file is `]`: a cheap sign that a writer that cannot
/// rename has finished the JSON array.
pub fn ends_like_array(path: &Path) -> io::Result<bool> {
    use std::io::{Seek, SeekFrom};
    let mut f = File::open(path)?;
    let mut end = f.metadata()?.len();
    let mut chunk = vec![0u8; 4096];
    // Backwards over trailing whitespace, however much of it there is.
    while end > 0 {
        let take = end.min(chunk.len() as u64);
        f.seek(SeekFrom::Start(end - take))?;
        let tail = &mut chunk[..take as usize];
        f.read_exact(tail)?;
        if let Some(&b) = tail.iter().rev().find(|b| !b.is_ascii_whitespace()) {
            return Ok(b == b']');
        }
        end -= take;
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_names_never_clash_with_files_or_reports() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(free_name(d.path(), "a.json"), d.path().join("a.json"));
        fs::write(d.path().join("a.json"), "x").unwrap();
        assert_eq!(free_name(d.path(), "a.json"), d.path().join("a-2.json"));
        fs::write(d.path().join("a-2.json.report.json"), "x").unwrap();
        assert_eq!(free_name(d.path(), "a.json"), d.path().join("a-3.json"));
    }

    fn copy_of(original: &[u8], pieces: &[&[u8]]) -> (CopyOutcome, Option<Vec<u8>>) {
        let d = tempfile::tempdir().unwrap();
        let (orig, out) = (d.path().join("orig.json"), d.path().join("out.json"));
        fs::write(&orig, original).unwrap();
        let (mut w, result) = CopyUnlessSame::new(&orig, &out).unwrap();
        for p in pieces {
            w.write_all(p).unwrap();
        }
        w.flush().unwrap();
        let outcome = *result.lock().unwrap();
        (outcome, fs::read(&out).ok())
    }

    #[test]
    fn a_copy_equal_to_its_original_is_not_written() {
        let pieces: &[&[u8]] = &[
            b"[\n",
            b"{\"id\":\"1\"}",
            b",\n",
            b"{\"id\":\"2\"}",
            b"\n]\n",
        ];
        let same = b"[\n{\"id\":\"1\"},\n{\"id\":\"2\"}\n]\n";
        assert_eq!(copy_of(same, pieces), (CopyOutcome::Same, None));
        // Trailing blank lines do not make a difference worth a copy.
        let mut blank = same.to_vec();
        blank.extend_from_slice(b"\n\r\n  \n");
        assert_eq!(copy_of(&blank, pieces), (CopyOutcome::Same, None));
        // Different from the second record on, from the first byte (a BOM), or longer than
        // what was written: the copy is written, and holds exactly what was written.
        let written = pieces.concat();
        for original in [
            &b"[\n{\"id\":\"1\"},\n{ \"id\": \"2\" }\n]\n"[..],
            &b"\xEF\xBB\xBF[\n{\"id\":\"1\"},\n{\"id\":\"2\"}\n]\n"[..],
            &b"[\n{\"id\":\"1\"},\n{\"id\":\"2\"}\n]\nx"[..],
            &b"[\n{\"id\":\"1\"}"[..],
        ] {
            assert_eq!(
                copy_of(original, pieces),
                (CopyOutcome::Written, Some(written.clone()))
            );
        }
    }

    #[test]
    fn atomic_write_leaves_no_temporary() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x.json");
        write_atomic(&p, |w| w.write_all(b"[]")).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"[]");
        let failed = write_atomic(&d.path().join("y.json"), |_| Err(io::Error::other("boom")));
        assert!(failed.is_err());
        let names: Vec<_> = fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["x.json"]);
    }

    #[test]
    fn array_end_detection() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x.json");
        fs::write(&p, "[{\"a\":1}]\n  ").unwrap();
        assert!(ends_like_array(&p).unwrap());
        fs::write(&p, "[{\"a\":1},").unwrap();
        assert!(!ends_like_array(&p).unwrap());
        // Any amount of trailing whitespace, across read chunks.
        fs::write(&p, format!("[{{\"a\":1}}]{}", "\n".repeat(10_000))).unwrap();
        assert!(ends_like_array(&p).unwrap());
        fs::write(&p, " \n\n").unwrap();
        assert!(!ends_like_array(&p).unwrap());
    }
}
