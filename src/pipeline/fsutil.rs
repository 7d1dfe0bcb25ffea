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
    let len = f.metadata()?.len();
    let take = len.min(256);
    f.seek(SeekFrom::Start(len - take))?;
    let mut tail = vec![0u8; take as usize];
    f.read_exact(&mut tail)?;
    Ok(tail
        .iter()
        .rev()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b']'))
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
    }
}
