//! Access to the exchange server's folder tree: a local folder or an SFTP server.
//!
//! The pipeline only ever sees [`Transport`]; what differs between servers is reported by
//! [`Features`] so that the pipeline can pick a strategy without knowing which transport it has.
//! Paths are relative to the server root, `/`-separated, never starting with `/`.

pub mod faulty;
pub mod lazy;
pub mod local;
pub mod logged;
pub mod retry;
pub mod sftp;
pub mod temporary;

pub use temporary::part_name;

use std::io::{Read, Write};
use std::time::{Duration, SystemTime};

/// Errors of a transport, each naming the path it was about.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("{path}: not found")]
    NotFound { path: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The server cannot be reached or the session broke; retrying later may succeed.
    #[error("{0}")]
    Connection(String),
    /// Authentication or host key refused: retrying will not help until the user acts.
    #[error("{0}")]
    Refused(String),
    /// Fewer bytes reached the server than were sent (a cut-off upload the server did not
    /// report); sending again usually works.
    #[error("{path}: wrote {wrote} of {expected} bytes, the server has {on_server:?}")]
    Short {
        path: String,
        wrote: u64,
        expected: u64,
        on_server: Option<u64>,
    },
    #[error("{path}: {message}")]
    Other { path: String, message: String },
}

impl TransportError {
    pub fn io(path: impl Into<String>, source: std::io::Error) -> TransportError {
        if source.kind() == std::io::ErrorKind::NotFound {
            TransportError::NotFound { path: path.into() }
        } else {
            TransportError::Io {
                path: path.into(),
                source,
            }
        }
    }

    /// Whether trying the same call again shortly can succeed without anyone acting: a lost
    /// or refused connection, a timeout, a short upload, an I/O error of the kind a network
    /// share or a busy server gives for a moment. A missing file, a refused permission, a
    /// refused login or host key, a bad setting are not: they need someone to act.
    pub fn is_transient(&self) -> bool {
        match self {
            TransportError::Connection(_) | TransportError::Short { .. } => true,
            TransportError::Io { source, .. } => io_is_transient(source),
            TransportError::NotFound { .. }
            | TransportError::Refused(_)
            | TransportError::Other { .. } => false,
        }
    }
}

pub type Result<T> = std::result::Result<T, TransportError>;

/// I/O errors that pass by themselves: the connection side (reset, timeout, broken pipe, an
/// unreachable network) and the errno values a network file system or a busy device returns
/// for a moment (EIO from a bridge, EAGAIN, EBUSY, ESTALE).
pub fn io_is_transient(e: &std::io::Error) -> bool {
    use std::io::ErrorKind as K;
    if matches!(
        e.kind(),
        K::TimedOut
            | K::ConnectionReset
            | K::ConnectionAborted
            | K::ConnectionRefused
            | K::NotConnected
            | K::BrokenPipe
            | K::UnexpectedEof
            | K::Interrupted
            | K::WouldBlock
    ) {
        return true;
    }
    matches!(
        e.raw_os_error(),
        Some(
            libc::EIO
                | libc::EAGAIN
                | libc::EBUSY
                | libc::ESTALE
                | libc::ETIMEDOUT
                | libc::ENETDOWN
                | libc::ENETUNREACH
                | libc::EHOSTUNREACH
                | libc::EHOSTDOWN
                | libc::ECONNRESET
        )
    )
}

/// One entry of a folder listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// File name (no folder part).
    pub name: String,
    pub size: u64,
    pub mtime: Option<SystemTime>,
    pub is_dir: bool,
}

/// What a transport can do beyond the basics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Features {
    /// `rename` replaces an existing target atomically.
    pub atomic_replace: bool,
    /// Written data can be flushed to stable storage before the rename.
    pub fsync: bool,
    /// Changes can be watched with events rather than polling.
    pub events: bool,
    /// Granularity of modification times reported by `list`/`stat`.
    pub mtime_resolution: Duration,
    /// `put_file` can publish a local file without copying it.
    pub local_link: bool,
}

/// What a connected server offers that changes how files are replaced on it, in words for the
/// log and `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    /// The extensions that matter here and whether the server has them
    /// (`posix-rename@openssh.com: no, fsync@openssh.com: no`).
    pub offers: String,
    /// Set when files are replaced by the fallback: what a reader of the server may see.
    pub note: Option<String>,
}

/// What the fallback replace means for a reader of the server (the log and `status` say it).
pub const FALLBACK_NOTE: &str = "the server cannot replace a file in one step (it does not \
     offer posix-rename@openssh.com): a file is replaced by moving the old one aside (.NAME.old) \
     and the new one in, so a reader may briefly see no file under its name (never a partial \
     one)";

/// What was written by [`Transport::write_atomic`], measured while writing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub size: u64,
    /// BLAKE3 of the content, hex.
    pub hash: String,
}

/// The folder tree of an exchange server.
pub trait Transport: Send + Sync {
    /// Human-readable location for logs and status (`/srv/exchange`, `sftp://u@h:22/x`).
    fn describe(&self) -> String;
    fn features(&self) -> Features;
    /// What the server offers, once connected; `None` for a local folder (nothing to say) or
    /// a server not connected yet.
    fn offer(&self) -> Option<Offer> {
        None
    }
    /// Entries of a folder, in no particular order. A missing folder is `NotFound`.
    fn list(&self, dir: &str) -> Result<Vec<Entry>>;
    /// `None` when nothing is at `path`.
    fn stat(&self, path: &str) -> Result<Option<Entry>>;
    /// Copies the file's content into `sink`; returns the number of bytes.
    fn read_to(&self, path: &str, sink: &mut dyn Write) -> Result<u64>;
    /// Writes `src` to `.<name>.part` beside `path`, flushes it, and renames it onto `path`
    /// (replacing an older file). Nothing partial is ever visible under `path`.
    fn write_atomic(&self, path: &str, src: &mut dyn Read) -> Result<Written>;
    /// Like [`Transport::write_atomic`] but without flushing the content to stable storage
    /// before the rename: for files that can always be sent again (the attached-file mirrors),
    /// where a flush per small file costs more than the file. Never partial while the server
    /// runs; a server crash may lose it, which the mirror's verification repairs.
    fn write_atomic_unflushed(&self, path: &str, src: &mut dyn Read) -> Result<Written> {
        self.write_atomic(path, src)
    }
    /// Like [`Transport::write_atomic`] from a local file that will not change any more. A
    /// transport that can do better than copying (a hard link on the same file system) does;
    /// when the caller already knows the file's size and hash (`known`), a link returns them
    /// instead of reading the file again. A copy always measures what it sends.
    fn put_file(
        &self,
        local: &std::path::Path,
        path: &str,
        known: Option<&Written>,
    ) -> Result<Written> {
        let _ = known;
        let mut f = std::fs::File::open(local)
            .map_err(|e| TransportError::io(local.display().to_string(), e))?;
        self.write_atomic(path, &mut f)
    }
    /// Renames a file, replacing the target when it exists.
    fn rename(&self, from: &str, to: &str) -> Result<()>;
    /// Removes a file; removing a missing file is not an error.
    fn remove(&self, path: &str) -> Result<()>;
    /// Creates a folder and its parents.
    fn mkdir_all(&self, path: &str) -> Result<()>;
}

/// Whether a name is one of our upload temporaries (`.NAME.part`).
pub fn is_part_name(name: &str) -> bool {
    temporary::kind_of(name) == Some(temporary::Kind::Part)
}

/// Joins server paths.
pub fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{}/{name}", dir.trim_end_matches('/'))
    }
}

/// A writer that hashes and counts what passes through it.
pub struct HashingReader<R> {
    inner: R,
    hasher: blake3::Hasher,
    size: u64,
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: blake3::Hasher::new(),
            size: 0,
        }
    }

    pub fn finish(self) -> Written {
        Written {
            size: self.size,
            hash: self.hasher.finalize().to_hex().to_string(),
        }
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_names_are_told_from_other_names() {
        assert!(is_part_name(".a.json.part"));
        assert!(!is_part_name("a.json"));
        assert!(!is_part_name(".a.json.old"));
    }

    #[test]
    fn errors_that_pass_are_transient_and_those_that_need_a_person_are_not() {
        use std::io::{Error, ErrorKind};
        let io = |e: Error| TransportError::Io {
            path: "in/a.json".into(),
            source: e,
        };
        let transient = [
            TransportError::Connection("sftp://h: cannot connect".into()),
            TransportError::Short {
                path: "in/a.json".into(),
                wrote: 10,
                expected: 20,
                on_server: Some(10),
            },
            io(Error::new(ErrorKind::TimedOut, "timed out")),
            io(Error::new(ErrorKind::ConnectionReset, "reset")),
            io(Error::new(ErrorKind::BrokenPipe, "pipe")),
            io(Error::from_raw_os_error(libc::EIO)),
            io(Error::from_raw_os_error(libc::ESTALE)),
            io(Error::from_raw_os_error(libc::EHOSTUNREACH)),
        ];
        for e in &transient {
            assert!(e.is_transient(), "{e} should be transient");
        }
        let lasting = [
            TransportError::Refused("host key mismatch".into()),
            TransportError::NotFound { path: "in".into() },
            io(Error::new(ErrorKind::PermissionDenied, "denied")),
            io(Error::from_raw_os_error(libc::EROFS)),
            io(Error::from_raw_os_error(libc::ENAMETOOLONG)),
            TransportError::Other {
                path: "a".into(),
                message: "not a file".into(),
            },
        ];
        for e in &lasting {
            assert!(!e.is_transient(), "{e} should not be transient");
        }
    }
}
