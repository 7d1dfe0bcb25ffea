//! The exchange server over SFTP, through libssh2. Tested against OpenSSH and ProFTPD 1.3.8
//! mod_sftp, the latter also without OpenSSH's extensions (`SFTPExtensions -posixRename
//! -fsync`).
//!
//! One libssh2 session serialises everything on one lock, so the transport keeps a small pool
//! of sessions (`pool_size`), one per parallel worker. Lost connections are reopened with
//! exponential backoff; host key and login refusals are not retried (they need the user) and
//! are remembered for a while so that parallel workers do not hammer the server with bad
//! credentials.
//!
//! Uploads follow spec 3.3: `.NAME.part` beside the target, large pipelined writes hashed on
//! the way, fsync@openssh.com when offered, then posix-rename@openssh.com onto the final name;
//! a server without posix-rename gets the fallback replace (see `replace`), and the log says
//! which, once per session.

mod config;
mod conn;
pub mod pause;

pub use config::{Secret, SftpConfig, SftpError, SftpTarget};

use super::temporary::{old_name, part_name};
use super::{Entry, Features, HashingReader, Offer, Result, Transport, TransportError, Written};
use conn::{classify, classify_io, Conn, PosixRename};
use ssh2::{ErrorCode, FileStat, OpenFlags, OpenType, RenameFlags};
use std::collections::HashSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant, UNIX_EPOCH};

/// Bytes handed to libssh2 per write call: libssh2 cuts them into ~30 KB SFTP requests and
/// keeps them all in flight, so bigger calls mean fewer round-trip waits.
const WRITE_CHUNK: usize = 1024 * 1024;

/// How long a refused login or host key is answered from memory before the server is asked
/// again (someone may have fixed the server side meanwhile).
const REFUSAL_MEMORY: Duration = Duration::from_secs(300);

/// How reconnecting after a lost connection is paced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Connection attempts in all, the first included.
    pub attempts: u32,
    /// Wait before the second attempt; it doubles for each further one.
    pub first_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            first_delay: Duration::from_millis(500),
        }
    }
}

/// An SFTP server as a [`Transport`].
pub struct SftpTransport {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: SftpConfig,
    target: SftpTarget,
    retry: RetryPolicy,
    pool: Mutex<PoolState>,
    returned: Condvar,
    posix_rename: AtomicBool,
    fsync: AtomicBool,
    /// Targets whose fallback replace was cut off between or after the renames, leaving
    /// `.NAME.old`: the next replace onto NAME that succeeds removes it.
    aside: Mutex<HashSet<String>>,
    /// TEST ONLY: see [`pause`].
    pause: Mutex<Option<PathBuf>>,
}

struct PoolState {
    idle: Vec<Conn>,
    /// Sessions alive or being opened, idle or not.
    open: usize,
    refused: Option<(Instant, String)>,
}

impl std::fmt::Debug for SftpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SftpTransport")
            .field("target", &self.inner.target.to_string())
            .field("pool_size", &self.inner.cfg.pool_size)
            .finish_non_exhaustive()
    }
}

impl SftpTransport {
    /// Connects once (so that a wrong host key or login shows at start-up) and learns what the
    /// server offers.
    pub fn connect(cfg: SftpConfig) -> Result<SftpTransport> {
        Self::connect_with(cfg, RetryPolicy::default())
    }

    pub fn connect_with(cfg: SftpConfig, retry: RetryPolicy) -> Result<SftpTransport> {
        cfg.validate()
            .map_err(|e| TransportError::Refused(e.to_string()))?;
        let target = cfg
            .target()
            .map_err(|e| TransportError::Refused(e.to_string()))?;
        let inner = Arc::new(Inner {
            cfg,
            target,
            retry: RetryPolicy {
                attempts: retry.attempts.max(1),
                ..retry
            },
            pool: Mutex::new(PoolState {
                idle: Vec::new(),
                open: 0,
                refused: None,
            }),
            returned: Condvar::new(),
            posix_rename: AtomicBool::new(false),
            fsync: AtomicBool::new(false),
            aside: Mutex::new(HashSet::new()),
            pause: Mutex::new(pause::gate_from_env()),
        });
        {
            let g = inner.acquire()?;
            inner.probe(g.conn());
        }
        // Once per transport, so once per session of the processor: the pool's later
        // sessions and reconnections do not probe again.
        let offer = inner.offer();
        tracing::info!(server = %inner.target, "the SFTP server offers {}", offer.offers);
        if let Some(note) = &offer.note {
            tracing::warn!(server = %inner.target, "{note}");
        }
        if inner.cfg.keepalive_secs > 0 {
            spawn_keepalive(Arc::downgrade(&inner), inner.cfg.keepalive_secs);
        }
        Ok(SftpTransport { inner })
    }

    /// The upload of [`Transport::write_atomic`], with or without the flush on the server.
    fn write(&self, path: &str, src: &mut dyn Read, flush: bool) -> Result<Written> {
        let inner = &self.inner;
        let mut g = inner.acquire()?;
        let opened = inner.open_part(g.conn(), path);
        let file = match g.check(opened) {
            Ok(f) => f,
            // Nothing was read from `src` yet, so a session that died while idle can be
            // replaced and the upload started over.
            Err(e) if e.is_transient() => {
                drop(g);
                tracing::info!(error = %e, "SFTP session lost, reconnecting");
                g = inner.acquire()?;
                let opened = inner.open_part(g.conn(), path);
                g.check(opened)?
            }
            Err(e) => return Err(e),
        };
        let r = inner.upload(g.conn(), file, path, src, flush);
        match g.check(r) {
            Ok(w) => Ok(w),
            Err(e) => {
                if !g.broken {
                    // The session still works: do not leave the part behind. A broken one
                    // leaves it for the next start, which looks where an upload was cut off.
                    let _ = g.conn().sftp.unlink(&inner.remote(&part_name(path)));
                }
                Err(e)
            }
        }
    }

    /// Makes renames take the fallback path of servers without posix-rename, so that it can
    /// be tested against OpenSSH.
    #[doc(hidden)]
    pub fn disable_posix_rename(&self) {
        self.inner.posix_rename.store(false, Ordering::Relaxed);
    }

    /// TEST ONLY: pauses the fallback replace between its renames through the folder `gate`
    /// (see [`pause`]), as `COMPO_TEST_PAUSE_BETWEEN_RENAMES` does for a whole process.
    #[doc(hidden)]
    pub fn pause_between_renames_at(&self, gate: PathBuf) {
        *self.inner.pause.lock().unwrap_or_else(|p| p.into_inner()) = Some(gate);
    }
}

fn spawn_keepalive(inner: Weak<Inner>, secs: u32) {
    let period = Duration::from_secs(u64::from(secs.max(2)));
    let spawned = std::thread::Builder::new()
        .name("sftp-keepalive".into())
        .spawn(move || loop {
            std::thread::sleep(period);
            let Some(inner) = inner.upgrade() else { return };
            inner.keepalive_idle();
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "no keepalive thread; idle SFTP sessions may be dropped");
    }
}

/// A session borrowed from the pool; goes back on drop unless it broke.
struct Pooled<'a> {
    inner: &'a Inner,
    conn: Option<Conn>,
    broken: bool,
}

impl Pooled<'_> {
    fn conn(&self) -> &Conn {
        self.conn.as_ref().expect("present until drop")
    }

    /// Marks the session unusable when `err` says the connection is gone.
    fn check<T>(&mut self, r: Result<T>) -> Result<T> {
        if let Err(e) = &r {
            if e.is_transient() {
                self.broken = true;
            }
        }
        r
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        if self.broken {
            // Closing a dead session may wait on the socket: not under the pool lock.
            drop(conn);
            self.inner.lock().open -= 1;
        } else {
            conn.last_used = Instant::now();
            self.inner.lock().idle.push(conn);
        }
        self.inner.returned.notify_one();
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, PoolState> {
        // A panic elsewhere cannot leave the pool's counters half-updated.
        self.pool.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn acquire(&self) -> Result<Pooled<'_>> {
        let mut st = self.lock();
        loop {
            if let Some((at, msg)) = &st.refused {
                if at.elapsed() < REFUSAL_MEMORY {
                    return Err(TransportError::Refused(msg.clone()));
                }
                st.refused = None;
            }
            if let Some(conn) = st.idle.pop() {
                return Ok(Pooled {
                    inner: self,
                    conn: Some(conn),
                    broken: false,
                });
            }
            if st.open < self.cfg.pool_size {
                st.open += 1;
                break;
            }
            st = self.returned.wait(st).unwrap_or_else(|p| p.into_inner());
        }
        drop(st);
        match self.open_with_backoff() {
            Ok(conn) => Ok(Pooled {
                inner: self,
                conn: Some(conn),
                broken: false,
            }),
            Err(e) => {
                let mut st = self.lock();
                st.open -= 1;
                if let TransportError::Refused(msg) = &e {
                    st.refused = Some((Instant::now(), msg.clone()));
                }
                drop(st);
                // Wake waiters so that they see the refusal or try a connection themselves.
                self.returned.notify_all();
                Err(e)
            }
        }
    }

    fn open_with_backoff(&self) -> Result<Conn> {
        let mut delay = self.retry.first_delay;
        let mut attempt = 1;
        loop {
            match conn::open(&self.cfg, &self.target) {
                Ok(c) => return Ok(c),
                Err(TransportError::Connection(msg)) if attempt < self.retry.attempts => {
                    tracing::warn!(attempt, error = %msg, "SFTP connection failed, retrying");
                    std::thread::sleep(delay);
                    delay = delay.saturating_mul(2);
                    attempt += 1;
                }
                Err(TransportError::Connection(msg)) => {
                    return Err(TransportError::Connection(format!(
                        "{msg} (gave up after {attempt} attempts)"
                    )))
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Runs `op` on a pooled session. When `idempotent` and the session turns out dead (the
    /// server restarted while it sat idle), runs it once more on a fresh session.
    fn run<T>(&self, idempotent: bool, op: impl Fn(&Conn) -> Result<T>) -> Result<T> {
        let mut g = self.acquire()?;
        let r = op(g.conn());
        let first = g.check(r);
        match first {
            Err(e) if e.is_transient() && idempotent => {
                drop(g);
                tracing::info!(error = %e, "SFTP session lost, reconnecting");
                let mut g = self.acquire()?;
                let r = op(g.conn());
                g.check(r)
            }
            r => r,
        }
    }

    fn keepalive_idle(&self) {
        let mut st = self.lock();
        let before = st.idle.len();
        st.idle.retain(|c| c.sess.keepalive_send().is_ok());
        let dropped = before - st.idle.len();
        st.open -= dropped;
        drop(st);
        if dropped > 0 {
            self.returned.notify_all();
        }
    }

    /// Finds out which OpenSSH extensions the server offers, without changing anything.
    fn probe(&self, c: &Conn) {
        // libssh2 knows from the server's hello whether posix-rename is offered and answers
        // "unsupported" locally; otherwise the server says the (nonexistent) file is missing.
        let probe = self.target.remote(".compo-probe-nonexistent.part");
        let posix = !matches!(c.posix_rename(&probe, &probe), PosixRename::Unsupported);
        self.posix_rename.store(posix, Ordering::Relaxed);
        // fsync@openssh.com on a folder handle: a server without the extension answers
        // "unsupported"; OpenSSH and ProFTPD, which offer it, answer something else.
        let fsync = match c.sftp.opendir(self.target.remote("")) {
            Ok(mut dir) => !matches!(
                dir.fsync().map_err(|e| e.code()),
                Err(ErrorCode::SFTP(raw_status)) if raw_status == libssh2_sys::LIBSSH2_FX_OP_UNSUPPORTED
            ),
            // The root does not exist yet; OpenSSH offers fsync wherever it offers
            // posix-rename (both since 6.5), and the first upload corrects us if not.
            Err(_) => posix,
        };
        self.fsync.store(fsync, Ordering::Relaxed);
    }

    /// What the probe found, as the log and `status` say it.
    fn offer(&self) -> Offer {
        let posix = self.posix_rename.load(Ordering::Relaxed);
        let yn = |b: bool| if b { "yes" } else { "no" };
        Offer {
            offers: format!(
                "posix-rename@openssh.com: {}, fsync@openssh.com: {}",
                yn(posix),
                yn(self.fsync.load(Ordering::Relaxed))
            ),
            note: (!posix).then(|| super::FALLBACK_NOTE.to_string()),
        }
    }

    fn remote(&self, rel: &str) -> PathBuf {
        self.target.remote(rel)
    }

    /// Renames `from` onto `to`, replacing `to`.
    ///
    /// Without posix-rename, a plain SFTP v3 rename refuses to replace an existing file. The
    /// fallback then moves the old file aside to `.NAME.old`, moves the new one in, and
    /// deletes the old one: a reader may briefly see no file under NAME, but never a partial
    /// one. If the second step fails the old file is put back. If the connection is lost in
    /// between, `.NAME.old` stays: the next replace onto NAME in this process removes it, and
    /// start-up recovery ([`crate::transport::temporary`]) puts it back or removes it.
    fn replace(&self, c: &Conn, from_rel: &str, to_rel: &str) -> Result<()> {
        let r = self.replace_once(c, from_rel, to_rel);
        if r.is_ok() && self.aside_lock().remove(to_rel) {
            // NAME is in place again. Failing here leaves the file to start-up recovery.
            let old_rel = old_name(to_rel);
            if c.sftp.unlink(&self.remote(&old_rel)).is_ok() {
                tracing::info!(path = %old_rel, "removed the file a cut-off replace left aside");
            }
        }
        r
    }

    fn aside_lock(&self) -> MutexGuard<'_, HashSet<String>> {
        self.aside.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn replace_once(&self, c: &Conn, from_rel: &str, to_rel: &str) -> Result<()> {
        let (from, to) = (self.remote(from_rel), self.remote(to_rel));
        if self.posix_rename.load(Ordering::Relaxed) {
            match c.posix_rename(&from, &to) {
                PosixRename::Done => return Ok(()),
                PosixRename::Failed(e) => return Err(classify(from_rel, e)),
                PosixRename::Unsupported => {
                    // The probe said otherwise: say it now that the fallback takes over.
                    if self.posix_rename.swap(false, Ordering::Relaxed) {
                        tracing::warn!(server = %self.target, "{}", super::FALLBACK_NOTE);
                    }
                }
            }
        }
        let flags = Some(RenameFlags::OVERWRITE | RenameFlags::ATOMIC | RenameFlags::NATIVE);
        let first = match c.sftp.rename(&from, &to, flags) {
            Ok(()) => return Ok(()),
            Err(e) => classify(from_rel, e),
        };
        if first.is_transient() || c.sftp.stat(&to).is_err() {
            return Err(first);
        }
        let old_rel = old_name(to_rel);
        let old = self.remote(&old_rel);
        let _ = c.sftp.unlink(&old);
        c.sftp
            .rename(&to, &old, flags)
            .map_err(|e| classify(to_rel, e))?;
        {
            let gate = self.pause.lock().unwrap_or_else(|p| p.into_inner()).clone();
            pause::between_renames(gate.as_deref(), to_rel);
        }
        if let Err(e) = c.sftp.rename(&from, &to, flags) {
            if c.sftp.rename(&old, &to, flags).is_err() {
                self.aside_lock().insert(to_rel.to_string());
            }
            return Err(classify(from_rel, e));
        }
        c.sftp.unlink(&old).map_err(|e| {
            self.aside_lock().insert(to_rel.to_string());
            classify(&old_rel, e)
        })
    }

    fn open_part(&self, c: &Conn, path: &str) -> Result<ssh2::File> {
        let part_rel = part_name(path);
        c.sftp
            .open_mode(
                self.remote(&part_rel),
                OpenFlags::WRITE | OpenFlags::TRUNCATE,
                0o644,
                OpenType::File,
            )
            .map_err(|e| classify(&part_rel, e))
    }

    fn upload(
        &self,
        c: &Conn,
        mut file: ssh2::File,
        path: &str,
        src: &mut dyn Read,
        flush: bool,
    ) -> Result<Written> {
        let part_rel = part_name(path);
        let mut hashing = HashingReader::new(src);
        let mut buf = vec![0u8; WRITE_CHUNK];
        loop {
            let n = fill(&mut hashing, &mut buf).map_err(|source| TransportError::Io {
                path: path.into(),
                source: std::io::Error::new(
                    source.kind(),
                    format!("reading the data to upload: {source}"),
                ),
            })?;
            if n == 0 {
                break;
            }
            file.write_all(&buf[..n])
                .map_err(|e| classify_io(&part_rel, &c.sess, e))?;
        }
        let written = hashing.finish();
        if flush && self.fsync.load(Ordering::Relaxed) {
            match file.fsync() {
                Ok(()) => {}
                Err(e) if e.code() == ErrorCode::SFTP(libssh2_sys::LIBSSH2_FX_OP_UNSUPPORTED) => {
                    self.fsync.store(false, Ordering::Relaxed);
                }
                Err(e) => return Err(classify(&part_rel, e)),
            }
        }
        // Every WRITE was acknowledged by the server with a status, and CLOSE too: the part
        // holds what was sent, without one more round trip to stat it.
        file.close().map_err(|e| classify(&part_rel, e))?;
        self.replace(c, &part_rel, path)?;
        Ok(written)
    }
}

/// Reads until `buf` is full or the source ends, so that every write call is a big one.
fn fill(src: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match src.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn entry_of(name: String, st: &FileStat) -> Entry {
    Entry {
        name,
        size: st.size.unwrap_or(0),
        mtime: st.mtime.map(|s| UNIX_EPOCH + Duration::from_secs(s)),
        is_dir: st.is_dir(),
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

impl Transport for SftpTransport {
    fn describe(&self) -> String {
        self.inner.target.to_string()
    }

    fn offer(&self) -> Option<Offer> {
        Some(self.inner.offer())
    }

    fn features(&self) -> Features {
        Features {
            atomic_replace: self.inner.posix_rename.load(Ordering::Relaxed),
            fsync: self.inner.fsync.load(Ordering::Relaxed),
            events: false,
            // SFTP v3 carries whole seconds only.
            mtime_resolution: Duration::from_secs(1),
            local_link: false,
        }
    }

    fn list(&self, dir: &str) -> Result<Vec<Entry>> {
        let remote = self.inner.remote(dir);
        self.inner.run(true, |c| {
            let items = c.sftp.readdir(&remote).map_err(|e| classify(dir, e))?;
            Ok(items
                .iter()
                .map(|(p, st)| entry_of(file_name(p), st))
                .collect())
        })
    }

    fn stat(&self, path: &str) -> Result<Option<Entry>> {
        let remote = self.inner.remote(path);
        let name = path.rsplit('/').next().unwrap_or(path).to_string();
        self.inner.run(true, |c| match c.sftp.stat(&remote) {
            Ok(st) => Ok(Some(entry_of(name.clone(), &st))),
            Err(e) => match classify(path, e) {
                TransportError::NotFound { .. } => Ok(None),
                e => Err(e),
            },
        })
    }

    fn read_to(&self, path: &str, sink: &mut dyn Write) -> Result<u64> {
        let remote = self.inner.remote(path);
        let mut g = self.inner.acquire()?;
        let r = (|| {
            let c = g.conn();
            let mut file = c.sftp.open(&remote).map_err(|e| classify(path, e))?;
            let mut buf = vec![0u8; WRITE_CHUNK];
            let mut total = 0u64;
            loop {
                let n = file
                    .read(&mut buf)
                    .map_err(|e| classify_io(path, &c.sess, e))?;
                if n == 0 {
                    return Ok(total);
                }
                sink.write_all(&buf[..n])
                    .map_err(|e| TransportError::io(path, e))?;
                total += n as u64;
            }
        })();
        g.check(r)
    }

    fn write_atomic(&self, path: &str, src: &mut dyn Read) -> Result<Written> {
        self.write(path, src, true)
    }

    fn write_atomic_unflushed(&self, path: &str, src: &mut dyn Read) -> Result<Written> {
        self.write(path, src, false)
    }

    fn rename(&self, from: &str, to: &str) -> Result<()> {
        // Not repeated on a lost connection: the first attempt may have been done.
        self.inner.run(false, |c| self.inner.replace(c, from, to))
    }

    fn remove(&self, path: &str) -> Result<()> {
        let remote = self.inner.remote(path);
        self.inner.run(true, |c| match c.sftp.unlink(&remote) {
            Ok(()) => Ok(()),
            Err(e) => match classify(path, e) {
                TransportError::NotFound { .. } => Ok(()),
                e => Err(e),
            },
        })
    }

    fn mkdir_all(&self, path: &str) -> Result<()> {
        let full = self.inner.remote(path);
        // The folder and its parents up to the root of the server (or the login folder),
        // deepest first; the transport root itself may have to be created too.
        let chain: Vec<&Path> = full
            .ancestors()
            .filter(|a| !matches!(a.to_str(), Some("" | "/" | ".")))
            .collect();
        self.inner.run(true, |c| {
            // Walk up to the deepest folder that exists (usually the target itself), then
            // create downwards; another worker creating the same folder is fine.
            let mut missing = 0;
            for dir in &chain {
                match c.sftp.stat(dir) {
                    Ok(st) if st.is_dir() => break,
                    Ok(_) => {
                        return Err(TransportError::Other {
                            path: dir.display().to_string(),
                            message: "exists and is not a folder".into(),
                        })
                    }
                    Err(e) => match classify(path, e) {
                        TransportError::NotFound { .. } => missing += 1,
                        e => return Err(e),
                    },
                }
            }
            for dir in chain[..missing].iter().rev() {
                if let Err(e) = c.sftp.mkdir(dir, 0o755) {
                    let exists = c.sftp.stat(dir).map(|s| s.is_dir()).unwrap_or(false);
                    if !exists {
                        return Err(classify(&dir.display().to_string(), e));
                    }
                }
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_gathers_small_reads_into_one_buffer() {
        struct Trickle(u8);
        impl Read for Trickle {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if self.0 == 0 {
                    return Ok(0);
                }
                self.0 -= 1;
                let n = buf.len().min(3);
                buf[..n].copy_from_slice(&b"abc"[..n]);
                Ok(n)
            }
        }
        let mut buf = [0u8; 8];
        let mut src = Trickle(5);
        assert_eq!(fill(&mut src, &mut buf).unwrap(), 8);
        assert_eq!(&buf, b"abcabcab");
    }
}
