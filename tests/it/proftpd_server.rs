//! A throwaway ProFTPD 1.3.8 mod_sftp server on 127.0.0.1 for the SFTP tests, the second real
//! server beside OpenSSH (`sshd.rs`): many portals run ProFTPD, some without OpenSSH's
//! extensions. Its own config in a temporary folder, its own host key and port, the test user
//! logged in by key; not daemonised, so that the test owns the process.
//!
//! Starting one costs a host key and a fork, so tests that leave the server running share one
//! per configuration ([`Proftpd::shared`]), each in its own root folder ([`Proftpd::site`]).
//! Tests that stop the server start their own ([`Proftpd::start`]).
#![allow(dead_code)]

use crate::sshd::{current_user, descendants, free_port, keygen, Server, Site};
use std::fs;
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Mutex, OnceLock};
use std::time::{Duration, Instant};

const PROFTPD: &str = "/usr/sbin/proftpd";
const MOD_SFTP: &str = "/usr/lib/proftpd/mod_sftp.so";

/// Which SFTP extensions the server offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extensions {
    /// mod_sftp's defaults, posix-rename@openssh.com and fsync@openssh.com among them.
    Default,
    /// `SFTPExtensions -posixRename -fsync`: a plain SFTP v3 server, where replacing a file
    /// takes the fallback (move the old file aside, move the new one in).
    NoPosixRenameNoFsync,
}

impl Extensions {
    pub const ALL: [Extensions; 2] = [Extensions::Default, Extensions::NoPosixRenameNoFsync];

    fn directive(self) -> &'static str {
        match self {
            Extensions::Default => "",
            Extensions::NoPosixRenameNoFsync => "SFTPExtensions -posixRename -fsync\n",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Extensions::Default => "proftpd",
            Extensions::NoPosixRenameNoFsync => "proftpd -posixRename -fsync",
        }
    }
}

pub struct Proftpd {
    dir: tempfile::TempDir,
    pub port: u16,
    pub user: String,
    pub extensions: Extensions,
    child: Option<Child>,
    /// The served folder of a server of its own ([`Proftpd::start`]).
    pub root: PathBuf,
    pub client_key: PathBuf,
    pub known_hosts: PathBuf,
    log: PathBuf,
}

impl Proftpd {
    /// A server of the caller's own, that it may stop and restart.
    pub fn start(extensions: Extensions) -> Proftpd {
        assert!(
            Path::new(PROFTPD).exists() && Path::new(MOD_SFTP).exists(),
            "ProFTPD with mod_sftp is missing: scripts/install-deps installs proftpd-core and \
             proftpd-mod-crypto"
        );
        let dir = tempfile::Builder::new()
            .prefix("compo-proftpd-")
            .tempdir()
            .expect("tempdir");
        let d = dir.path();
        keygen(&d.join("host_ed25519"));
        keygen(&d.join("client_ed25519"));
        // mod_sftp reads authorized keys in the RFC 4716 format, not OpenSSH's one-line form.
        let rfc4716 = Command::new("ssh-keygen")
            .args(["-e", "-f"])
            .arg(d.join("client_ed25519.pub"))
            .output()
            .expect("run ssh-keygen -e");
        assert!(rfc4716.status.success(), "ssh-keygen -e: {rfc4716:?}");
        fs::write(d.join("authorized_keys"), rfc4716.stdout).unwrap();
        let root = d.join("root");
        fs::create_dir(&root).unwrap();
        let port = free_port();
        // Root may log in (CI runs as root, and Debian's /etc/ftpusers bars it), any shell
        // goes, nothing is written outside the folder, nothing is looked up on the network.
        let config = format!(
            "ServerType standalone\n\
             ServerName \"compo test\"\n\
             DefaultAddress 127.0.0.1\n\
             SocketBindTight on\n\
             Port {port}\n\
             ModulePath /usr/lib/proftpd\n\
             LoadModule mod_sftp.c\n\
             PidFile {dir}/proftpd.pid\n\
             ScoreboardFile {dir}/proftpd.scoreboard\n\
             DelayTable none\n\
             WtmpLog off\n\
             UseReverseDNS off\n\
             TransferLog none\n\
             SystemLog {dir}/proftpd.log\n\
             RootLogin on\n\
             UseFtpUsers off\n\
             RequireValidShell off\n\
             AuthOrder mod_auth_unix.c\n\
             AllowOverwrite on\n\
             MaxInstances 100\n\
             SFTPEngine on\n\
             SFTPLog {dir}/sftp.log\n\
             SFTPHostKey {dir}/host_ed25519\n\
             SFTPAuthorizedUserKeys file:{dir}/authorized_keys\n\
             SFTPAuthMethods publickey\n\
             {ext}",
            dir = d.display(),
            ext = extensions.directive()
        );
        fs::write(d.join("proftpd.conf"), config).unwrap();
        let host_pub = fs::read_to_string(d.join("host_ed25519.pub")).unwrap();
        let mut fields = host_pub.split_whitespace();
        let (kind, key) = (fields.next().unwrap(), fields.next().unwrap());
        let known_hosts = d.join("known_hosts");
        fs::write(&known_hosts, format!("[127.0.0.1]:{port} {kind} {key}\n")).unwrap();
        let mut p = Proftpd {
            port,
            user: current_user(),
            extensions,
            child: None,
            root,
            client_key: d.join("client_ed25519"),
            known_hosts,
            log: d.join("proftpd.stderr"),
            dir,
        };
        p.launch();
        p
    }

    /// The server of this configuration that every test shares; it lives as long as the test
    /// binary (it dies with it).
    pub fn shared(extensions: Extensions) -> &'static Proftpd {
        let i = Extensions::ALL
            .iter()
            .position(|e| *e == extensions)
            .unwrap();
        SHARED[i].get_or_init(|| {
            static CLEANUP: std::sync::Once = std::sync::Once::new();
            // SAFETY: registers a plain function without arguments, once.
            CLEANUP.call_once(|| unsafe {
                libc::atexit(remove_shared);
            });
            Proftpd::start(extensions)
        })
    }

    /// A fresh root folder on this server, removed when the site is dropped.
    pub fn site(&self) -> Site {
        let own = tempfile::Builder::new()
            .prefix("site-")
            .tempdir_in(self.dir.path())
            .expect("tempdir");
        let root = own.path().to_path_buf();
        Site {
            name: self.extensions.name(),
            url: format!(
                "sftp://{}@127.0.0.1:{}{}",
                self.user,
                self.port,
                root.display()
            ),
            root,
            client_key: self.client_key.clone(),
            known_hosts: self.known_hosts.clone(),
            _own: Some(own),
        }
    }

    /// The site of a server of one's own: its root folder.
    pub fn own_site(&self) -> Site {
        Site {
            name: self.extensions.name(),
            url: format!(
                "sftp://{}@127.0.0.1:{}{}",
                self.user,
                self.port,
                self.root.display()
            ),
            root: self.root.clone(),
            client_key: self.client_key.clone(),
            known_hosts: self.known_hosts.clone(),
            _own: None,
        }
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn launch(&mut self) {
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let mut cmd = Command::new(PROFTPD);
        cmd.arg("--nodaemon")
            .arg("--config")
            .arg(self.dir.path().join("proftpd.conf"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        self.child = Some(spawn_tied(cmd));
        let addr: SocketAddr = ([127, 0, 0, 1], self.port).into();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("proftpd exited with {status}:\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "proftpd does not listen on port {}:\n{}",
                self.port,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills the server and the session processes it forked: live connections drop at once.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let mut pids = descendants(child.id());
        pids.push(child.id());
        let _ = Command::new("kill")
            .arg("-KILL")
            .args(pids.iter().map(u32::to_string))
            .stderr(Stdio::null())
            .status();
        let _ = child.wait();
    }

    /// Starts again on the same port, with the same keys.
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    /// What the server has logged so far (its stderr, its system log and mod_sftp's log).
    pub fn log(&self) -> String {
        ["proftpd.stderr", "proftpd.log", "sftp.log"]
            .iter()
            .map(|f| fs::read_to_string(self.dir.path().join(f)).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Server for Proftpd {
    fn root_site(&self) -> Site {
        self.own_site()
    }
    fn stop(&mut self) {
        Proftpd::stop(self)
    }
    fn restart(&mut self) {
        Proftpd::restart(self)
    }
}

impl Drop for Proftpd {
    fn drop(&mut self) {
        self.stop();
    }
}

static SHARED: [OnceLock<Proftpd>; 2] = [OnceLock::new(), OnceLock::new()];

/// At the test binary's exit (statics are never dropped): stops the shared servers and removes
/// their folders.
extern "C" fn remove_shared() {
    for s in &SHARED {
        if let Some(p) = s.get() {
            if let Some(child) = &p.child {
                let pids: Vec<u32> = descendants(child.id())
                    .into_iter()
                    .chain([child.id()])
                    .collect();
                for pid in pids {
                    // SAFETY: a plain signal to a process of ours.
                    unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
                }
            }
            let _ = fs::remove_dir_all(p.dir.path());
        }
    }
}

/// Spawns `cmd` from one thread that lives as long as the test binary, with the kernel told to
/// kill the child when that thread ends: a shared server (a static, never dropped) does not
/// outlive the tests, however they end.
fn spawn_tied(mut cmd: Command) -> Child {
    type Request = (Command, mpsc::Sender<std::io::Result<Child>>);
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<Request>>> = OnceLock::new();
    let tx = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Request>();
        std::thread::Builder::new()
            .name("proftpd-spawner".into())
            .spawn(move || {
                for (mut cmd, back) in rx {
                    // SAFETY: prctl is async-signal-safe and touches nothing of the parent.
                    unsafe {
                        cmd.pre_exec(|| {
                            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                                return Err(std::io::Error::last_os_error());
                            }
                            Ok(())
                        });
                    }
                    let _ = back.send(cmd.spawn());
                }
            })
            .expect("spawner thread");
        Mutex::new(tx)
    });
    let (back_tx, back_rx) = mpsc::channel();
    cmd.stdin(Stdio::null());
    tx.lock()
        .unwrap()
        .send((cmd, back_tx))
        .expect("spawner alive");
    back_rx
        .recv()
        .expect("spawner answers")
        .expect("start proftpd")
}
