//! A throwaway OpenSSH server on 127.0.0.1 for the SFTP tests: its own host key, an
//! authorized client key, and a known_hosts file for the client. It can be stopped and
//! restarted on the same port to simulate outages.
#![allow(dead_code)]

use compo_exchange::transport::sftp::SftpConfig;
use std::fs;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SSHD: &str = "/usr/sbin/sshd";

/// Where a test reaches an SFTP server: the URL of its root folder, that folder on this
/// machine, and the client's key and known_hosts. Any of the real servers gives one.
pub struct Site {
    /// Which server, for messages.
    pub name: &'static str,
    pub url: String,
    pub root: PathBuf,
    pub client_key: PathBuf,
    pub known_hosts: PathBuf,
    /// A root folder of the site's own (on a shared server), removed with it.
    pub _own: Option<tempfile::TempDir>,
}

impl Site {
    /// Client settings that log in with the authorized key and trust only this server.
    pub fn config(&self) -> SftpConfig {
        let mut c = SftpConfig::new(self.url.clone());
        c.identity = Some(self.client_key.clone());
        c.known_hosts = Some(self.known_hosts.clone());
        c.connect_timeout_secs = 5;
        c.io_timeout_secs = 10;
        c
    }

    /// The command-line options that point `once` or `run` at this server.
    pub fn args(&self) -> Vec<String> {
        vec![
            "--server".into(),
            self.url.clone(),
            "--identity".into(),
            self.client_key.display().to_string(),
            "--known-hosts".into(),
            self.known_hosts.display().to_string(),
        ]
    }
}

/// A real server a test can stop and start again (for outages).
pub trait Server {
    /// Its root folder as a [`Site`].
    fn root_site(&self) -> Site;
    fn stop(&mut self);
    fn restart(&mut self);
}

impl Server for Sshd {
    fn root_site(&self) -> Site {
        self.site()
    }
    fn stop(&mut self) {
        Sshd::stop(self)
    }
    fn restart(&mut self) {
        Sshd::restart(self)
    }
}

pub struct Sshd {
    dir: tempfile::TempDir,
    pub port: u16,
    pub user: String,
    child: Option<Child>,
    /// The folder served as the transport root.
    pub root: PathBuf,
    pub client_key: PathBuf,
    pub known_hosts: PathBuf,
    log: PathBuf,
}

pub fn keygen(path: &Path) {
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "compo-test", "-f"])
        .arg(path)
        .output()
        .expect("run ssh-keygen (install openssh-client)");
    assert!(out.status.success(), "ssh-keygen: {out:?}");
}

pub fn current_user() -> String {
    let out = Command::new("id").arg("-un").output().expect("run id -un");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("find a free port")
}

impl Sshd {
    pub fn start() -> Sshd {
        assert!(
            Path::new(SSHD).exists(),
            "{SSHD} is missing: install openssh-server (scripts/test does it)"
        );
        // Privilege separation wants this folder; a fresh container does not have it.
        let _ = fs::create_dir_all("/run/sshd");
        let dir = tempfile::Builder::new()
            .prefix("compo-sshd-")
            .tempdir()
            .expect("tempdir");
        let d = dir.path();
        keygen(&d.join("host_ed25519"));
        keygen(&d.join("client_ed25519"));
        fs::copy(d.join("client_ed25519.pub"), d.join("authorized_keys")).unwrap();
        let root = d.join("root");
        fs::create_dir(&root).unwrap();
        let port = free_port();
        let config = format!(
            "Port {port}\n\
             ListenAddress 127.0.0.1\n\
             HostKey {dir}/host_ed25519\n\
             PidFile {dir}/sshd.pid\n\
             AuthorizedKeysFile {dir}/authorized_keys\n\
             PermitRootLogin yes\n\
             PubkeyAuthentication yes\n\
             PasswordAuthentication yes\n\
             KbdInteractiveAuthentication no\n\
             UsePAM no\n\
             StrictModes no\n\
             LogLevel VERBOSE\n\
             MaxStartups 100\n\
             Subsystem sftp internal-sftp\n",
            dir = d.display()
        );
        fs::write(d.join("sshd_config"), config).unwrap();
        let host_pub = fs::read_to_string(d.join("host_ed25519.pub")).unwrap();
        let mut fields = host_pub.split_whitespace();
        let (kind, key) = (fields.next().unwrap(), fields.next().unwrap());
        let known_hosts = d.join("known_hosts");
        fs::write(&known_hosts, format!("[127.0.0.1]:{port} {kind} {key}\n")).unwrap();
        let mut sshd = Sshd {
            port,
            user: current_user(),
            child: None,
            root,
            client_key: d.join("client_ed25519"),
            known_hosts,
            log: d.join("sshd.log"),
            dir,
        };
        sshd.launch();
        sshd
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
        let child = Command::new(SSHD)
            .args(["-D", "-e", "-f"])
            .arg(self.dir.path().join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start sshd");
        self.child = Some(child);
        let addr: SocketAddr = ([127, 0, 0, 1], self.port).into();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("sshd exited with {status}:\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "sshd does not listen on port {}:\n{}",
                self.port,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills the server and every per-connection process it forked (they run in their own
    /// sessions, so the process group would miss them): live connections drop at once.
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

    /// What sshd has written to stderr so far.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn url(&self) -> String {
        format!(
            "sftp://{}@127.0.0.1:{}{}",
            self.user,
            self.port,
            self.root.display()
        )
    }

    /// Client settings that log in with the authorized key and trust only this server.
    pub fn config(&self) -> SftpConfig {
        self.site().config()
    }

    /// This server's root as a [`Site`].
    pub fn site(&self) -> Site {
        Site {
            name: "openssh",
            url: self.url(),
            root: self.root.clone(),
            client_key: self.client_key.clone(),
            known_hosts: self.known_hosts.clone(),
            _own: None,
        }
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Process ids whose ancestry leads to `pid`, from /proc.
pub fn descendants(pid: u32) -> Vec<u32> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    if let Ok(rd) = fs::read_dir("/proc") {
        for e in rd.flatten() {
            let Some(p) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            let Ok(stat) = fs::read_to_string(e.path().join("stat")) else {
                continue;
            };
            // The command name is in parentheses and may hold spaces: parse after it.
            let Some(after) = stat.rsplit_once(')').map(|x| x.1) else {
                continue;
            };
            if let Some(ppid) = after.split_whitespace().nth(1).and_then(|s| s.parse().ok()) {
                parents.push((p, ppid));
            }
        }
    }
    let mut found = vec![pid];
    let mut i = 0;
    while i < found.len() {
        let cur = found[i];
        found.extend(parents.iter().filter(|(_, pp)| *pp == cur).map(|(p, _)| *p));
        i += 1;
    }
    found.remove(0);
    found
}
