//! Settings of the SFTP transport: the `[server]` keys of the main configuration, the parsed
//! `sftp://` address, and the secrets loaded from the environment or a file.

use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Problems with the SFTP settings, found before any connection is tried.
#[derive(Debug, thiserror::Error)]
pub enum SftpError {
    #[error("server url {url:?}: {reason}")]
    Url { url: String, reason: String },
    #[error("server password_env {var}: the environment variable is not set or not UTF-8")]
    MissingEnv { var: String },
    #[error("server password_file {}: {source}", path.display())]
    PasswordFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("server {key}: {reason}")]
    Setting { key: &'static str, reason: String },
}

fn default_connect_timeout() -> u64 {
    15
}
fn default_io_timeout() -> u64 {
    60
}
fn default_keepalive() -> u32 {
    30
}
fn default_pool_size() -> usize {
    4
}

/// The `[server]` keys for an SFTP server. Secrets never appear here, only where to find them
/// (an environment variable or a file), so that they stay out of config files and command lines.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SftpConfig {
    /// `sftp://USER@HOST[:PORT]/ROOT`, see [`SftpTarget::parse`].
    pub url: String,
    /// Private key file; without it (and without a password) the usual `~/.ssh/id_*` are tried.
    #[serde(default)]
    pub identity: Option<PathBuf>,
    /// Environment variable holding the passphrase of `identity`.
    #[serde(default)]
    pub passphrase_env: Option<String>,
    /// Environment variable holding the login password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// File whose first line is the login password.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Defaults to `~/.ssh/known_hosts`.
    #[serde(default)]
    pub known_hosts: Option<PathBuf>,
    /// Trust on first use: record the key of a host not yet in `known_hosts`. A key that
    /// differs from the recorded one is still refused.
    #[serde(default)]
    pub accept_new_host_keys: bool,
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_secs: u64,
    #[serde(default = "default_io_timeout")]
    pub io_timeout_secs: u64,
    /// Seconds between keepalive messages on idle sessions; 0 turns them off.
    #[serde(default = "default_keepalive")]
    pub keepalive_secs: u32,
    /// Sessions opened at most, one per parallel worker.
    #[serde(default = "default_pool_size")]
    pub pool_size: usize,
}

impl SftpConfig {
    /// Settings with every optional key at its default.
    pub fn new(url: impl Into<String>) -> SftpConfig {
        SftpConfig {
            url: url.into(),
            identity: None,
            passphrase_env: None,
            password_env: None,
            password_file: None,
            known_hosts: None,
            accept_new_host_keys: false,
            connect_timeout_secs: default_connect_timeout(),
            io_timeout_secs: default_io_timeout(),
            keepalive_secs: default_keepalive(),
            pool_size: default_pool_size(),
        }
    }

    pub fn target(&self) -> Result<SftpTarget, SftpError> {
        SftpTarget::parse(&self.url)
    }

    pub fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout_secs.max(1))
    }

    pub fn io_timeout(&self) -> Duration {
        Duration::from_secs(self.io_timeout_secs.max(1))
    }

    /// The known_hosts file to check host keys against.
    pub fn known_hosts_path(&self) -> Result<PathBuf, SftpError> {
        match &self.known_hosts {
            Some(p) => Ok(p.clone()),
            None => home_dir()
                .map(|h| h.join(".ssh/known_hosts"))
                .ok_or(SftpError::Setting {
                    key: "known_hosts",
                    reason: "not set and HOME is unknown".into(),
                }),
        }
    }

    /// Checks the keys that do not need the network, so that mistakes show at start-up.
    pub fn validate(&self) -> Result<(), SftpError> {
        self.target()?;
        if self.pool_size == 0 {
            return Err(SftpError::Setting {
                key: "pool_size",
                reason: "must be at least 1".into(),
            });
        }
        if self.password_env.is_some() && self.password_file.is_some() {
            return Err(SftpError::Setting {
                key: "password_env",
                reason: "give either password_env or password_file, not both".into(),
            });
        }
        if self.passphrase_env.is_some() && self.identity.is_none() {
            return Err(SftpError::Setting {
                key: "passphrase_env",
                reason: "only makes sense together with identity".into(),
            });
        }
        Ok(())
    }

    /// [`SftpConfig::validate`] and the files and variables the settings name: a missing
    /// key file or an unset password variable is a mistake to fix now, not a reason to wait
    /// for a server that will refuse the login anyway.
    pub fn check_files(&self) -> Result<(), SftpError> {
        self.validate()?;
        if let Some(id) = &self.identity {
            if let Err(e) = std::fs::File::open(id) {
                return Err(SftpError::Setting {
                    key: "identity",
                    reason: format!(
                        "{}: {e}; give the private key file (--identity or identity in \
                         [server])",
                        id.display()
                    ),
                });
            }
        }
        self.password()?;
        self.passphrase()?;
        self.known_hosts_path()?;
        Ok(())
    }

    /// The password, when one is configured.
    pub fn password(&self) -> Result<Option<Secret>, SftpError> {
        if let Some(var) = &self.password_env {
            return env_secret(var).map(Some);
        }
        if let Some(path) = &self.password_file {
            let text = std::fs::read_to_string(path).map_err(|source| SftpError::PasswordFile {
                path: path.clone(),
                source,
            })?;
            // Only the first line: editors like to add a trailing newline.
            let first = text.lines().next().unwrap_or("").to_string();
            return Ok(Some(Secret(first)));
        }
        Ok(None)
    }

    /// The passphrase of the identity file, when one is configured.
    pub fn passphrase(&self) -> Result<Option<Secret>, SftpError> {
        self.passphrase_env.as_deref().map(env_secret).transpose()
    }
}

fn env_secret(var: &str) -> Result<Secret, SftpError> {
    std::env::var(var)
        .map(Secret)
        .map_err(|_| SftpError::MissingEnv {
            var: var.to_string(),
        })
}

pub(crate) fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// A password or passphrase. Its `Debug` never shows the value, so it cannot leak into logs.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Where an SFTP server's exchange tree is.
///
/// `ROOT` is an absolute path on the server (`sftp://u@h/srv/x` → `/srv/x`). A path that
/// starts with `~` is relative to the login folder (`sftp://u@h/~/x` → `x`, `sftp://u@h/~` →
/// the login folder itself); OpenSSH resolves relative paths against it. No path at all
/// (`sftp://u@h`) means the server's `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SftpTarget {
    pub user: String,
    pub host: String,
    pub port: u16,
    /// Absolute (`/srv/x`), relative to the login folder (`x`), or empty for the login folder.
    pub root: String,
}

impl SftpTarget {
    pub fn parse(url: &str) -> Result<SftpTarget, SftpError> {
        let bad = |reason: &str| SftpError::Url {
            url: url.to_string(),
            reason: reason.to_string(),
        };
        let rest = url
            .strip_prefix("sftp://")
            .ok_or_else(|| bad("must start with sftp://"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let (user, hostport) = authority
            .rsplit_once('@')
            .ok_or_else(|| bad("the user is missing (sftp://USER@HOST/ROOT)"))?;
        if user.is_empty() {
            return Err(bad("the user is empty"));
        }
        if user.contains(':') {
            return Err(bad(
                "passwords do not belong in the url; use password_env or password_file",
            ));
        }
        let (host, port) = split_host_port(hostport).map_err(|r| bad(&r))?;
        if path.contains("/../") || path.ends_with("/..") {
            return Err(bad("the root must not contain `..`"));
        }
        let root = if let Some(home_rel) = path.strip_prefix("/~") {
            if !(home_rel.is_empty() || home_rel.starts_with('/')) {
                return Err(bad("`~user` paths are not supported; use an absolute path"));
            }
            home_rel.trim_matches('/').to_string()
        } else if path.is_empty() || path == "/" {
            "/".to_string()
        } else {
            path.trim_end_matches('/').to_string()
        };
        Ok(SftpTarget {
            user: user.to_string(),
            host,
            port,
            root,
        })
    }

    /// The server-side path of `rel` (a transport path, relative to the root).
    pub fn remote(&self, rel: &str) -> PathBuf {
        let rel = rel.trim_matches('/');
        match (self.root.as_str(), rel) {
            ("", "") => PathBuf::from("."),
            ("", rel) => PathBuf::from(rel),
            (root, "") => PathBuf::from(root),
            ("/", rel) => PathBuf::from(format!("/{rel}")),
            (root, rel) => Path::new(root).join(rel),
        }
    }

    /// How the host appears in known_hosts: `[host]:port` unless the port is 22.
    pub fn known_hosts_name(&self) -> String {
        if self.port == 22 {
            self.host.clone()
        } else {
            format!("[{}]:{}", self.host, self.port)
        }
    }
}

impl fmt::Display for SftpTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let root = if self.root.starts_with('/') {
            self.root.clone()
        } else if self.root.is_empty() {
            "/~".to_string()
        } else {
            format!("/~/{}", self.root)
        };
        write!(f, "sftp://{}@{}:{}{}", self.user, host, self.port, root)
    }
}

fn split_host_port(s: &str) -> Result<(String, u16), String> {
    let (host, port) = if let Some(v6) = s.strip_prefix('[') {
        let (host, after) = v6
            .split_once(']')
            .ok_or_else(|| "unclosed `[` in the host".to_string())?;
        match after {
            "" => (host, None),
            p => (
                host,
                Some(
                    p.strip_prefix(':')
                        .ok_or_else(|| "junk after `]`".to_string())?,
                ),
            ),
        }
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    if host.is_empty() {
        return Err("the host is empty".into());
    }
    let port = match port {
        None => 22,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| format!("bad port {p:?}"))?,
    };
    Ok((host.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_and_home_relative_roots() {
        let t = SftpTarget::parse("sftp://u@h/srv/x").unwrap();
        assert_eq!((t.user.as_str(), t.host.as_str(), t.port), ("u", "h", 22));
        assert_eq!(t.root, "/srv/x");
        assert_eq!(t.remote("in/a.json"), PathBuf::from("/srv/x/in/a.json"));
        assert_eq!(t.remote(""), PathBuf::from("/srv/x"));

        let t = SftpTarget::parse("sftp://u@h:2222/~/x/").unwrap();
        assert_eq!((t.port, t.root.as_str()), (2222, "x"));
        assert_eq!(t.remote("a"), PathBuf::from("x/a"));
        assert_eq!(t.known_hosts_name(), "[h]:2222");

        let t = SftpTarget::parse("sftp://u@h").unwrap();
        assert_eq!(t.root, "/");
        assert_eq!(t.remote("a"), PathBuf::from("/a"));
        let t = SftpTarget::parse("sftp://u@h/~").unwrap();
        assert_eq!(t.root, "");
        assert_eq!(t.remote(""), PathBuf::from("."));
        assert_eq!(t.to_string(), "sftp://u@h:22/~");

        let t = SftpTarget::parse("sftp://u@[::1]:23/d").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 23));
    }

    #[test]
    fn bad_urls_say_why() {
        for (url, why) in [
            ("ftp://u@h/x", "sftp://"),
            ("sftp://h/x", "user is missing"),
            ("sftp://u:pw@h/x", "password_env"),
            ("sftp://u@h:0/x", "bad port"),
            ("sftp://u@h:99999/x", "bad port"),
            ("sftp://u@h/a/../b", ".."),
            ("sftp://u@h/~bob/x", "~user"),
        ] {
            let e = SftpTarget::parse(url).unwrap_err().to_string();
            assert!(e.contains(why), "{url}: {e}");
        }
    }

    #[test]
    fn config_rejects_unknown_keys_and_fills_defaults() {
        let c: SftpConfig = toml::from_str("url = \"sftp://u@h/x\"\npool_size = 2").unwrap();
        assert_eq!(c.pool_size, 2);
        assert_eq!(c.io_timeout_secs, 60);
        assert!(!c.accept_new_host_keys);
        let e = toml::from_str::<SftpConfig>("url = \"sftp://u@h/x\"\npasword_env = \"P\"");
        assert!(e.unwrap_err().to_string().contains("pasword_env"));
    }

    #[test]
    fn secrets_are_redacted_and_read_from_file_first_line() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pw");
        std::fs::write(&f, "hunter2\n").unwrap();
        let mut c = SftpConfig::new("sftp://u@h/x");
        c.password_file = Some(f);
        let pw = c.password().unwrap().unwrap();
        assert_eq!(pw.expose(), "hunter2");
        assert!(!format!("{pw:?}").contains("hunter2"));
        c.password_env = Some("COMPO_TEST_UNSET_PASSWORD_VAR".into());
        assert!(c.validate().unwrap_err().to_string().contains("not both"));
        c.password_file = None;
        let e = c.password().unwrap_err().to_string();
        assert!(e.contains("COMPO_TEST_UNSET_PASSWORD_VAR"), "{e}");
    }
}
