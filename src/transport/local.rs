//! The exchange server as a local folder (tests, small set-ups, a mounted share).

use super::{Entry, Features, HashingReader, Result, Transport, TransportError, Written};
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A folder on this machine acting as the server root.
#[derive(Debug, Clone)]
pub struct LocalTransport {
    root: PathBuf,
}

impl LocalTransport {
    pub fn new(root: impl Into<PathBuf>) -> LocalTransport {
        LocalTransport { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, rel: &str) -> PathBuf {
        if rel.is_empty() {
            self.root.clone()
        } else {
            self.root.join(rel)
        }
    }

    /// `.NAME.part`, then the rename; with `flush`, the content and then the folder are
    /// flushed so that the file survives a power cut once this returns.
    fn write(&self, path: &str, src: &mut dyn Read, flush: bool) -> Result<Written> {
        let target = self.path(path);
        let part = self.path(&super::part_name(path));
        let io_err = |e| TransportError::io(path, e);
        let written = (|| -> io::Result<Written> {
            let mut f = File::create(&part)?;
            let mut hr = HashingReader::new(src);
            io::copy(&mut hr, &mut f)?;
            if flush {
                f.sync_all()?;
            }
            drop(f);
            fs::rename(&part, &target)?;
            if let (true, Some(dir)) = (flush, target.parent()) {
                sync_dir(dir)?;
            }
            Ok(hr.finish())
        })();
        if written.is_err() {
            let _ = fs::remove_file(&part);
        }
        written.map_err(io_err)
    }
}

fn entry_of(name: String, md: &fs::Metadata) -> Entry {
    Entry {
        name,
        size: md.len(),
        mtime: md.modified().ok(),
        is_dir: md.is_dir(),
    }
}

/// Flushes a folder's entry table so that a rename inside it survives a power cut.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

impl Transport for LocalTransport {
    fn describe(&self) -> String {
        self.root.display().to_string()
    }

    fn features(&self) -> Features {
        Features {
            atomic_replace: true,
            fsync: true,
            events: true,
            mtime_resolution: Duration::from_nanos(1),
            local_link: true,
        }
    }

    fn list(&self, dir: &str) -> Result<Vec<Entry>> {
        let rd = fs::read_dir(self.path(dir)).map_err(|e| TransportError::io(dir, e))?;
        let mut out = Vec::new();
        for de in rd {
            let de = de.map_err(|e| TransportError::io(dir, e))?;
            // A file removed between readdir and stat is simply not listed.
            let Ok(md) = de.metadata() else { continue };
            out.push(entry_of(de.file_name().to_string_lossy().into_owned(), &md));
        }
        Ok(out)
    }

    fn stat(&self, path: &str) -> Result<Option<Entry>> {
        match fs::metadata(self.path(path)) {
            Ok(md) => {
                let name = path.rsplit('/').next().unwrap_or(path).to_string();
                Ok(Some(entry_of(name, &md)))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(TransportError::io(path, e)),
        }
    }

    fn read_to(&self, path: &str, sink: &mut dyn Write) -> Result<u64> {
        let mut f = File::open(self.path(path)).map_err(|e| TransportError::io(path, e))?;
        io::copy(&mut f, sink).map_err(|e| TransportError::io(path, e))
    }

    fn write_atomic(&self, path: &str, src: &mut dyn Read) -> Result<Written> {
        self.write(path, src, true)
    }

    fn write_atomic_unflushed(&self, path: &str, src: &mut dyn Read) -> Result<Written> {
        self.write(path, src, false)
    }

    fn put_file(&self, local: &Path, path: &str, known: Option<&Written>) -> Result<Written> {
        // A hard link publishes a large file without copying it; the content is hashed from
        // the file itself, so the receipt is as trustworthy as a copy's. Across file systems
        // (or where links are refused) it is copied.
        let target = self.path(path);
        let part = self.path(&super::part_name(path));
        let _ = fs::remove_file(&part);
        if fs::hard_link(local, &part).is_err() {
            let mut f = File::open(local).map_err(|e| TransportError::io(path, e))?;
            return self.write_atomic(path, &mut f);
        }
        let linked = (|| -> io::Result<Written> {
            let w = if let Some(k) =
                known.filter(|k| Some(k.size) == fs::metadata(&part).ok().map(|m| m.len()))
            {
                File::open(&part)?.sync_all()?;
                k.clone()
            } else {
                let mut f = File::open(&part)?;
                let mut h = blake3::Hasher::new();
                let mut buf = vec![0u8; 8 << 20];
                loop {
                    let k = f.read(&mut buf)?;
                    if k == 0 {
                        break;
                    }
                    h.update_rayon(&buf[..k]);
                }
                f.sync_all()?;
                Written {
                    size: h.count(),
                    hash: h.finalize().to_hex().to_string(),
                }
            };
            fs::rename(&part, &target)?;
            if let Some(dir) = target.parent() {
                sync_dir(dir)?;
            }
            Ok(w)
        })();
        if linked.is_err() {
            let _ = fs::remove_file(&part);
        }
        linked.map_err(|e| TransportError::io(path, e))
    }

    fn rename(&self, from: &str, to: &str) -> Result<()> {
        fs::rename(self.path(from), self.path(to)).map_err(|e| TransportError::io(from, e))
    }

    fn remove(&self, path: &str) -> Result<()> {
        match fs::remove_file(self.path(path)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(TransportError::io(path, e)),
            _ => Ok(()),
        }
    }

    fn mkdir_all(&self, path: &str) -> Result<()> {
        fs::create_dir_all(self.path(path)).map_err(|e| TransportError::io(path, e))
    }
}
