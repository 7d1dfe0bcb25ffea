//! One SSH session with its SFTP channel: connecting with timeouts, checking the host key
//! against known_hosts, logging in, and sorting libssh2 errors into "retry later" and
//! "the user must act".

use super::config::{home_dir, SftpConfig, SftpError, SftpTarget};
use crate::transport::TransportError;
use libssh2_sys as raw;
use ssh2::{CheckResult, ErrorCode, KnownHostFileKind, Session, Sftp};
use std::ffi::{c_char, c_int, CString};
use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::Instant;

// libssh2 has had this since 1.11.1 and the vendored copy built by libssh2-sys carries it, but
// libssh2-sys does not declare it. ssh2's own `rename` sends the plain SFTP v3 RENAME, which
// OpenSSH refuses when the target exists, so an atomic replace needs this extension.
extern "C" {
    fn libssh2_sftp_posix_rename_ex(
        sftp: *mut raw::LIBSSH2_SFTP,
        source: *const c_char,
        source_len: usize,
        dest: *const c_char,
        dest_len: usize,
    ) -> c_int;
}

const FX_OP_UNSUPPORTED: c_int = raw::LIBSSH2_FX_OP_UNSUPPORTED;

/// A logged-in session. Fields drop in order: both SFTP channels go before the session.
pub(crate) struct Conn {
    pub sftp: Sftp,
    ext: ExtSftp,
    pub sess: Session,
    pub last_used: Instant,
}

/// What the server answered to a rename through the posix-rename extension.
pub(crate) enum PosixRename {
    Done,
    /// The server does not offer posix-rename@openssh.com.
    Unsupported,
    Failed(ssh2::Error),
}

impl Conn {
    pub fn posix_rename(&self, from: &Path, to: &Path) -> PosixRename {
        self.ext.posix_rename(from, to)
    }
}

/// A second SFTP channel on the same session, opened through the C API because ssh2 does not
/// expose its channel's handle and we need one for posix-rename.
struct ExtSftp {
    sess: Session,
    raw: *mut raw::LIBSSH2_SFTP,
}

// The handle is only used while holding the session's lock (`Session::raw`), which is what
// makes ssh2's own handles shareable between threads as well.
unsafe impl Send for ExtSftp {}

impl ExtSftp {
    fn open(sess: &Session) -> Result<ExtSftp, ssh2::Error> {
        let mut guard = sess.raw();
        let sess_raw: *mut raw::LIBSSH2_SESSION = &mut *guard;
        // SAFETY: the session pointer is valid and locked for the duration of the call.
        let handle = unsafe { raw::libssh2_sftp_init(sess_raw) };
        if handle.is_null() {
            return Err(
                ssh2::Error::last_session_error_raw(sess_raw).unwrap_or_else(ssh2::Error::unknown)
            );
        }
        drop(guard);
        Ok(ExtSftp {
            sess: sess.clone(),
            raw: handle,
        })
    }

    fn posix_rename(&self, from: &Path, to: &Path) -> PosixRename {
        let (Ok(src), Ok(dst)) = (
            CString::new(from.as_os_str().as_bytes()),
            CString::new(to.as_os_str().as_bytes()),
        ) else {
            return PosixRename::Failed(ssh2::Error::new(
                ErrorCode::Session(raw::LIBSSH2_ERROR_INVAL),
                "path contains a NUL byte",
            ));
        };
        let mut guard = self.sess.raw();
        let sess_raw: *mut raw::LIBSSH2_SESSION = &mut *guard;
        // SAFETY: both handles are alive (we own `raw`, `sess` keeps the session) and the
        // session lock is held; the strings outlive the call.
        let rc = unsafe {
            libssh2_sftp_posix_rename_ex(
                self.raw,
                src.as_ptr(),
                src.as_bytes().len(),
                dst.as_ptr(),
                dst.as_bytes().len(),
            )
        };
        if rc == 0 {
            return PosixRename::Done;
        }
        if rc == raw::LIBSSH2_ERROR_SFTP_PROTOCOL {
            // SAFETY: as above.
            let status = unsafe { raw::libssh2_sftp_last_error(self.raw) } as c_int;
            if status == FX_OP_UNSUPPORTED {
                return PosixRename::Unsupported;
            }
            return PosixRename::Failed(ssh2::Error::from_errno(ErrorCode::SFTP(status)));
        }
        PosixRename::Failed(ssh2::Error::from_session_error_raw(sess_raw, rc))
    }
}

impl Drop for ExtSftp {
    fn drop(&mut self) {
        let _guard = self.sess.raw();
        // SAFETY: the handle came from libssh2_sftp_init and is freed exactly once, under the
        // session lock. On a dead connection this fails fast; the handle is freed either way.
        unsafe {
            raw::libssh2_sftp_shutdown(self.raw);
        }
    }
}

/// Opens, verifies and logs in one session. Every failure is either `Connection` (try again
/// later) or `Refused` (host key or login: only the user can fix it).
pub(crate) fn open(cfg: &SftpConfig, target: &SftpTarget) -> Result<Conn, TransportError> {
    let lost = |what: &str, e: &dyn std::fmt::Display| {
        TransportError::Connection(format!("{target}: {what}: {e}"))
    };
    let addrs: Vec<_> = (target.host.as_str(), target.port)
        .to_socket_addrs()
        .map_err(|e| lost("cannot resolve the host", &e))?
        .collect();
    let mut last_err = None;
    let mut tcp = None;
    for addr in &addrs {
        match TcpStream::connect_timeout(addr, cfg.connect_timeout()) {
            Ok(s) => {
                tcp = Some(s);
                break;
            }
            Err(e) => last_err = Some(e),
        }
    }
    let tcp = match (tcp, last_err) {
        (Some(t), _) => t,
        (None, Some(e)) => return Err(lost("cannot connect", &e)),
        (None, None) => return Err(lost("cannot connect", &"the host has no address")),
    };
    // Small SFTP requests (stat, rename) must not wait for Nagle.
    let _ = tcp.set_nodelay(true);

    let mut sess = Session::new().map_err(|e| lost("cannot start a session", &e))?;
    sess.set_tcp_stream(tcp);
    sess.set_blocking(true);
    sess.set_timeout(millis(cfg.connect_timeout()));
    sess.handshake()
        .map_err(|e| lost("SSH handshake failed", &e))?;
    verify_host_key(&sess, cfg, target)?;
    authenticate(&sess, cfg, target)?;

    sess.set_timeout(millis(cfg.io_timeout()));
    sess.set_keepalive(false, cfg.keepalive_secs);
    let sftp = sess
        .sftp()
        .map_err(|e| lost("cannot start the SFTP subsystem", &e))?;
    let ext = ExtSftp::open(&sess).map_err(|e| lost("cannot start the SFTP subsystem", &e))?;
    Ok(Conn {
        sftp,
        ext,
        sess,
        last_used: Instant::now(),
    })
}

fn millis(d: std::time::Duration) -> u32 {
    u32::try_from(d.as_millis()).unwrap_or(u32::MAX)
}

fn setting(e: SftpError) -> TransportError {
    TransportError::Refused(e.to_string())
}

fn verify_host_key(
    sess: &Session,
    cfg: &SftpConfig,
    target: &SftpTarget,
) -> Result<(), TransportError> {
    let (key, _) = sess.host_key().ok_or_else(|| {
        TransportError::Connection(format!("{target}: the server sent no host key"))
    })?;
    let key = key.to_vec();
    let key_type = key_type_name(&key).unwrap_or("?").to_string();
    let fingerprint = format!("SHA256:{}", base64(&sha256_of(sess)).trim_end_matches('='));
    let path = cfg.known_hosts_path().map_err(setting)?;
    let mut known = sess.known_hosts().map_err(|e| {
        TransportError::Connection(format!("{target}: cannot check host keys: {e}"))
    })?;
    match std::fs::read_to_string(&path) {
        // Line by line, so that one entry libssh2 cannot parse (a newer key type, a
        // @cert-authority line) does not hide all the others.
        Ok(text) => {
            for line in text.lines() {
                let line = line.trim();
                if !line.is_empty() && !line.starts_with('#') {
                    let _ = known.read_str(line, KnownHostFileKind::OpenSSH);
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(TransportError::Refused(format!(
                "{target}: cannot read known_hosts {}: {e}",
                path.display()
            )))
        }
    }
    let name = target.known_hosts_name();
    let keyscan = format!(
        "ssh-keyscan -p {} -t {} {} >> {}",
        target.port,
        key_type,
        target.host,
        path.display()
    );
    match known.check_port(&target.host, target.port, &key) {
        CheckResult::Match => Ok(()),
        CheckResult::Mismatch => Err(TransportError::Refused(format!(
            "{target}: the host key of {name} ({key_type} {fingerprint}) differs from the one \
             recorded in {}. Someone may be intercepting the connection. If the server's key \
             was really changed, confirm the new fingerprint with its administrator, remove \
             the old entry with `ssh-keygen -R '{name}' -f {}` and add the new one with \
             `{keyscan}`",
            path.display(),
            path.display()
        ))),
        CheckResult::NotFound if cfg.accept_new_host_keys => {
            record_host_key(&path, &name, &key_type, &key).map_err(|e| {
                TransportError::Refused(format!(
                    "{target}: cannot record the new host key in {}: {e}",
                    path.display()
                ))
            })?;
            tracing::warn!(
                host = %name,
                key = %fingerprint,
                file = %path.display(),
                "recorded the key of a new host (accept_new_host_keys)"
            );
            Ok(())
        }
        CheckResult::NotFound => Err(TransportError::Refused(format!(
            "{target}: {name} is not a known host (its key is {key_type} {fingerprint}). \
             Confirm the fingerprint with the server's administrator, then accept it with \
             `{keyscan}` or set accept_new_host_keys = true in [server]",
        ))),
        CheckResult::Failure => Err(TransportError::Refused(format!(
            "{target}: could not check the host key against {}",
            path.display()
        ))),
    }
}

fn sha256_of(sess: &Session) -> Vec<u8> {
    sess.host_key_hash(ssh2::HashType::Sha256)
        .map(<[u8]>::to_vec)
        .unwrap_or_default()
}

/// The key type is the first string of the key blob (RFC 4253 6.6).
fn key_type_name(blob: &[u8]) -> Option<&str> {
    let len = u32::from_be_bytes(blob.get(..4)?.try_into().ok()?) as usize;
    std::str::from_utf8(blob.get(4..4 + len)?).ok()
}

/// Appends one line instead of rewriting the file, so that entries we do not understand
/// survive.
fn record_host_key(path: &Path, name: &str, key_type: &str, key: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let needs_newline = std::fs::read(path)
        .map(|b| !b.is_empty() && !b.ends_with(b"\n"))
        .unwrap_or(false);
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    let lead = if needs_newline { "\n" } else { "" };
    writeln!(f, "{lead}{name} {key_type} {}", base64(key))?;
    f.sync_all()
}

fn authenticate(
    sess: &Session,
    cfg: &SftpConfig,
    target: &SftpTarget,
) -> Result<(), TransportError> {
    let user = target.user.as_str();
    let refused = |how: &str, e: &dyn std::fmt::Display| {
        TransportError::Refused(format!(
            "{target}: the server refused the login of {user} with {how} ({e}). Not retrying: \
             check the [server] credentials and the server's authorized_keys"
        ))
    };
    let outcome = if let Some(identity) = &cfg.identity {
        if !identity.exists() {
            return Err(TransportError::Refused(format!(
                "{target}: identity file {} does not exist",
                identity.display()
            )));
        }
        let passphrase = cfg.passphrase().map_err(setting)?;
        let how = format!("the key {}", identity.display());
        sess.userauth_pubkey_file(
            user,
            None,
            identity,
            passphrase.as_ref().map(|p| p.expose()),
        )
        .map_err(|e| classify_auth(e, &how, &refused))
    } else if let Some(password) = cfg.password().map_err(setting)? {
        sess.userauth_password(user, password.expose())
            .map_err(|e| classify_auth(e, "a password", &refused))
    } else {
        default_identities(sess, user, &refused)
    };
    outcome?;
    if sess.authenticated() {
        Ok(())
    } else {
        Err(refused("the configured method", &"not authenticated"))
    }
}

/// Without configured credentials, the keys ssh itself would try by default.
fn default_identities(
    sess: &Session,
    user: &str,
    refused: &dyn Fn(&str, &dyn std::fmt::Display) -> TransportError,
) -> Result<(), TransportError> {
    let home = home_dir().unwrap_or_default();
    let keys: Vec<_> = ["id_ed25519", "id_ecdsa", "id_rsa"]
        .iter()
        .map(|n| home.join(".ssh").join(n))
        .filter(|p| p.exists())
        .collect();
    if keys.is_empty() {
        return Err(refused(
            "no credentials",
            &"set identity, password_env or password_file in [server]",
        ));
    }
    let mut last = None;
    for key in &keys {
        match sess.userauth_pubkey_file(user, None, key, None) {
            Ok(()) => return Ok(()),
            Err(e) => last = Some((key.display().to_string(), e)),
        }
    }
    let (key, e) = last.expect("at least one key was tried");
    Err(classify_auth(e, &format!("the key {key}"), refused))
}

/// A broken connection during login is worth retrying; a "no" from the server is not.
fn classify_auth(
    e: ssh2::Error,
    how: &str,
    refused: &dyn Fn(&str, &dyn std::fmt::Display) -> TransportError,
) -> TransportError {
    match e.code() {
        ErrorCode::Session(
            raw::LIBSSH2_ERROR_SOCKET_SEND
            | raw::LIBSSH2_ERROR_SOCKET_RECV
            | raw::LIBSSH2_ERROR_SOCKET_DISCONNECT
            | raw::LIBSSH2_ERROR_SOCKET_TIMEOUT
            | raw::LIBSSH2_ERROR_TIMEOUT,
        ) => TransportError::Connection(format!("login with {how} interrupted: {e}")),
        _ => refused(how, &e),
    }
}

/// Sorts an error of an SFTP call on `path` (a transport path).
pub(crate) fn classify(path: &str, e: ssh2::Error) -> TransportError {
    use std::io::ErrorKind;
    match e.code() {
        ErrorCode::SFTP(raw::LIBSSH2_FX_NO_SUCH_FILE | raw::LIBSSH2_FX_NO_SUCH_PATH) => {
            TransportError::NotFound { path: path.into() }
        }
        // The SFTP layer's own word for a lost link: as transient as a session error.
        ErrorCode::SFTP(raw::LIBSSH2_FX_NO_CONNECTION | raw::LIBSSH2_FX_CONNECTION_LOST) => {
            TransportError::Connection(format!("{path}: {e}"))
        }
        ErrorCode::SFTP(status) => {
            let kind = match status {
                raw::LIBSSH2_FX_PERMISSION_DENIED | raw::LIBSSH2_FX_WRITE_PROTECT => {
                    ErrorKind::PermissionDenied
                }
                raw::LIBSSH2_FX_FILE_ALREADY_EXISTS => ErrorKind::AlreadyExists,
                _ => ErrorKind::Other,
            };
            TransportError::Io {
                path: path.into(),
                source: std::io::Error::new(
                    kind,
                    format!("server said: {} (SFTP status {status})", e.message()),
                ),
            }
        }
        ErrorCode::Session(_) => TransportError::Connection(format!("{path}: {e}")),
    }
}

/// Sorts an `io::Error` coming out of an ssh2 `File` read or write: ssh2 keeps only the
/// message, so the session's last error tells a server-side refusal (the session is fine)
/// from a broken connection.
pub(crate) fn classify_io(path: &str, sess: &Session, e: std::io::Error) -> TransportError {
    match ssh2::Error::last_session_error(sess).map(|l| l.code()) {
        Some(ErrorCode::Session(raw::LIBSSH2_ERROR_SFTP_PROTOCOL)) => TransportError::Io {
            path: path.into(),
            source: e,
        },
        _ => TransportError::Connection(format!("{path}: {e}")),
    }
}

/// Standard base64 with padding, for key lines and fingerprints.
fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_rfc_vectors() {
        for (plain, enc) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), enc);
        }
    }

    #[test]
    fn key_type_is_read_from_the_blob() {
        let mut blob = vec![0, 0, 0, 11];
        blob.extend_from_slice(b"ssh-ed25519");
        blob.extend_from_slice(&[0, 0, 0, 32]);
        assert_eq!(key_type_name(&blob), Some("ssh-ed25519"));
        assert_eq!(key_type_name(&[0, 0, 0, 99, 1]), None);
    }

    #[test]
    fn sftp_statuses_and_session_errors_are_told_apart() {
        let nf = ssh2::Error::from_errno(ErrorCode::SFTP(raw::LIBSSH2_FX_NO_SUCH_FILE));
        assert!(matches!(classify("a", nf), TransportError::NotFound { .. }));
        let denied = ssh2::Error::from_errno(ErrorCode::SFTP(raw::LIBSSH2_FX_PERMISSION_DENIED));
        let e = classify("a", denied);
        assert!(!e.is_transient(), "{e}");
        let gone =
            ssh2::Error::from_errno(ErrorCode::Session(raw::LIBSSH2_ERROR_SOCKET_DISCONNECT));
        assert!(classify("a", gone).is_transient());
        let lost = ssh2::Error::from_errno(ErrorCode::SFTP(raw::LIBSSH2_FX_CONNECTION_LOST));
        assert!(classify("a", lost).is_transient());
    }
}
