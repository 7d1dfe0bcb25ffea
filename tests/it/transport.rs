//! One conformance suite for every transport (run on a local folder and on a real OpenSSH
//! server), plus the SFTP fault cases: a server killed mid-upload, a server restart under
//! idle sessions, host key and login refusals.

use crate::sshd::Sshd;
use compo_exchange::transport::faulty::{Fault, Faults, FaultyTransport};
use compo_exchange::transport::local::LocalTransport;
use compo_exchange::transport::retry::{Backoff, RetryingTransport};
use compo_exchange::transport::sftp::{RetryPolicy, SftpTransport};
use compo_exchange::transport::{self, is_part_name, Transport, TransportError};
use std::io::Read;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Deterministic bytes that do not compress, so that sizes and hashes mean something.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn hex(data: &[u8]) -> String {
    blake3::hash(data).to_hex().to_string()
}

fn read_back(t: &dyn Transport, path: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let n = t.read_to(path, &mut out).expect("read_to");
    assert_eq!(n as usize, out.len());
    out
}

fn part_files(root: &Path) -> Vec<String> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file() && is_part_name(&e.file_name().to_string_lossy()))
        .map(|e| e.path().display().to_string())
        .collect()
}

/// A source that fails after some bytes, like a file on a dying disk.
struct FailingReader(usize);

impl Read for FailingReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.0 == 0 {
            return Err(std::io::Error::other("disk on fire"));
        }
        let n = buf.len().min(self.0);
        buf[..n].fill(b'x');
        self.0 -= n;
        Ok(n)
    }
}

/// What every transport must do. `root` is where the transport's files are on this machine.
fn conformance(t: &dyn Transport, root: &Path) {
    // Folders.
    t.mkdir_all("in/deep/er").unwrap();
    t.mkdir_all("in/deep/er").unwrap();
    assert!(root.join("in/deep/er").is_dir());

    // Missing things.
    assert!(matches!(
        t.list("missing"),
        Err(TransportError::NotFound { .. })
    ));
    assert_eq!(t.stat("in/nope.json").unwrap(), None);
    let mut sink = Vec::new();
    assert!(matches!(
        t.read_to("in/nope.json", &mut sink),
        Err(TransportError::NotFound { .. })
    ));
    assert!(matches!(
        t.rename("in/nope.json", "in/x.json"),
        Err(TransportError::NotFound { .. })
    ));
    t.remove("in/nope.json").unwrap();

    // Without the flush (attached files): the same receipt, the same atomic replace.
    t.write_atomic("in/u.png", &mut &b"first"[..]).unwrap();
    let w = t
        .write_atomic_unflushed("in/u.png", &mut &b"unflushed"[..])
        .unwrap();
    assert_eq!((w.size, w.hash.clone()), (9, hex(b"unflushed")));
    assert_eq!(read_back(t, "in/u.png"), b"unflushed");
    assert!(part_files(root).is_empty());
    t.remove("in/u.png").unwrap();

    // Publishing a local file (a hard link where the transport can): same receipt as a copy,
    // the content in place, no temporary left, the local file untouched.
    let local = tempfile::tempdir().unwrap();
    let src = local.path().join("staged.json");
    std::fs::write(&src, b"[{\"id\":\"1\"}]").unwrap();
    let w = t.put_file(&src, "in/put.json", None).unwrap();
    assert_eq!((w.size, w.hash.clone()), (12, hex(b"[{\"id\":\"1\"}]")));
    assert_eq!(
        std::fs::read(root.join("in/put.json")).unwrap(),
        b"[{\"id\":\"1\"}]"
    );
    assert!(!root.join("in/.put.json.part").exists());
    // With the receipt already known (the caller hashed the file): the same receipt.
    let w2 = t.put_file(&src, "in/put2.json", Some(&w)).unwrap();
    assert_eq!(w2, w);
    assert_eq!(read_back(t, "in/put2.json"), b"[{\"id\":\"1\"}]");
    t.remove("in/put2.json").unwrap();
    std::fs::remove_file(&src).unwrap();
    assert!(root.join("in/put.json").exists());
    t.remove("in/put.json").unwrap();

    // Write, stat, list, read.
    let w = t.write_atomic("in/a.json", &mut &b"hello"[..]).unwrap();
    assert_eq!((w.size, w.hash.as_str()), (5, hex(b"hello").as_str()));
    assert_eq!(std::fs::read(root.join("in/a.json")).unwrap(), b"hello");
    let st = t.stat("in/a.json").unwrap().expect("written file is there");
    assert_eq!((st.name.as_str(), st.size, st.is_dir), ("a.json", 5, false));
    let age = std::time::SystemTime::now()
        .duration_since(st.mtime.expect("mtime"))
        .unwrap_or_default();
    assert!(age < Duration::from_secs(60), "mtime is {age:?} old");
    let mut names: Vec<_> = t
        .list("in")
        .unwrap()
        .into_iter()
        .map(|e| (e.name, e.is_dir))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [("a.json".to_string(), false), ("deep".to_string(), true)]
    );
    assert_eq!(read_back(t, "in/a.json"), b"hello");

    // Replacing: by write_atomic and by rename onto an existing file.
    t.write_atomic("in/a.json", &mut &b"second"[..]).unwrap();
    assert_eq!(std::fs::read(root.join("in/a.json")).unwrap(), b"second");
    t.write_atomic("in/b.json", &mut &b"B"[..]).unwrap();
    t.rename("in/b.json", "in/a.json").unwrap();
    assert_eq!(std::fs::read(root.join("in/a.json")).unwrap(), b"B");
    assert!(!root.join("in/b.json").exists());
    t.rename("in/a.json", "in/deep/a.json").unwrap();
    assert_eq!(std::fs::read(root.join("in/deep/a.json")).unwrap(), b"B");

    // Remove.
    t.remove("in/deep/a.json").unwrap();
    assert!(!root.join("in/deep/a.json").exists());
    assert_eq!(t.stat("in/deep/a.json").unwrap(), None);

    // A write into a missing folder fails and leaves nothing.
    assert!(t.write_atomic("nofolder/a.json", &mut &b"x"[..]).is_err());
    assert!(!root.join("nofolder").exists());

    // A source that fails midway: error, old content intact, no part left.
    t.write_atomic("in/c.json", &mut &b"old"[..]).unwrap();
    let e = t
        .write_atomic("in/c.json", &mut FailingReader(3_000_000))
        .unwrap_err();
    assert!(e.to_string().contains("disk on fire"), "{e}");
    assert_eq!(std::fs::read(root.join("in/c.json")).unwrap(), b"old");
    assert_eq!(part_files(root), Vec::<String>::new());

    // A large file: size and hash measured while writing, content intact both ways.
    let big = noise(20 * 1024 * 1024 + 123, 7);
    let w = t.write_atomic("in/big.bin", &mut &big[..]).unwrap();
    assert_eq!(w.size, big.len() as u64);
    assert_eq!(w.hash, hex(&big));
    assert_eq!(
        hex(&std::fs::read(root.join("in/big.bin")).unwrap()),
        w.hash
    );
    assert_eq!(hex(&read_back(t, "in/big.bin")), w.hash);

    // Parallel writers.
    std::thread::scope(|s| {
        for worker in 0..6u64 {
            s.spawn(move || {
                for i in 0..5u64 {
                    let data = noise(100_000 + (i as usize) * 777, worker * 10 + i + 1);
                    let path = format!("in/deep/w{worker}-{i}.bin");
                    let w = t.write_atomic(&path, &mut &data[..]).unwrap();
                    assert_eq!(w.hash, hex(&data), "{path}");
                }
            });
        }
    });
    for worker in 0..6u64 {
        for i in 0..5u64 {
            let data = noise(100_000 + (i as usize) * 777, worker * 10 + i + 1);
            let on_disk = std::fs::read(root.join(format!("in/deep/w{worker}-{i}.bin"))).unwrap();
            assert!(on_disk == data, "w{worker}-{i} differs");
        }
    }
    assert_eq!(t.list("in/deep").unwrap().len(), 31);
    assert_eq!(part_files(root), Vec::<String>::new());
}

#[test]
fn local_transport_conforms() {
    let dir = crate::harness::tempdir();
    let t = LocalTransport::new(dir.path());
    conformance(&t, dir.path());
}

/// The seed of the fault-injecting runs: `COMPO_FAULT_SEED` replays a failing one.
fn fault_seed() -> u64 {
    let seed = std::env::var("COMPO_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20261130);
    eprintln!("fault seed {seed} (COMPO_FAULT_SEED replays it)");
    seed
}

#[test]
fn faulty_local_transport_with_retries_conforms() {
    // A rough network (a quarter of the calls fail, drop halfway or stall) under the retrying
    // wrapper: the contract holds through the trait alone, with no partial file anywhere.
    let dir = crate::harness::tempdir();
    let seed = fault_seed();
    let faulty = FaultyTransport::new(
        LocalTransport::new(dir.path()),
        Faults {
            short: 0.1,
            ..Faults::rough(seed)
        },
    );
    let t = RetryingTransport::new(
        faulty,
        Backoff {
            attempts: 12,
            first: Duration::from_millis(1),
            max: Duration::from_millis(10),
            seed: Some(seed),
        },
    );
    conformance(&t, dir.path());
    for f in [Fault::Fail, Fault::Drop, Fault::Stall] {
        assert!(
            t.inner().count(f) > 0,
            "no {f:?} injected: the run proved nothing"
        );
    }
}

fn quick_retry() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        first_delay: Duration::from_millis(100),
    }
}

#[test]
fn sftp_transport_conforms() {
    let sshd = Sshd::start();
    let t = SftpTransport::connect_with(sshd.config(), quick_retry()).unwrap();
    let f = t.features();
    assert!(f.atomic_replace && f.fsync && !f.events, "{f:?}");
    assert_eq!(f.mtime_resolution, Duration::from_secs(1));
    assert!(t.describe().starts_with("sftp://"), "{}", t.describe());
    conformance(&t, &sshd.root);
    // Still atomic: no rename fell back to the move-aside path.
    assert!(t.features().atomic_replace);
}

#[test]
fn sftp_as_the_daemon_opens_it_conforms() {
    // The daemon's stack: connected on first use (waiting for the server), one try per
    // connection, the retrying wrapper around it.
    use compo_exchange::transport::lazy::{LazyTransport, Waiting};
    let sshd = Sshd::start();
    let t = LazyTransport::sftp(sshd.config(), Some(Waiting::until(|| false))).unwrap();
    assert!(!t.is_connected());
    assert!(t.describe().starts_with("sftp://"), "{}", t.describe());
    conformance(&t, &sshd.root);
    assert!(t.is_connected() && t.features().atomic_replace);
}

#[test]
fn sftp_without_posix_rename_still_replaces() {
    let sshd = Sshd::start();
    let t = SftpTransport::connect_with(sshd.config(), quick_retry()).unwrap();
    t.disable_posix_rename();
    assert!(!t.features().atomic_replace);
    conformance(&t, &sshd.root);
    assert!(
        !walkdir::WalkDir::new(&sshd.root)
            .into_iter()
            .filter_map(|e| e.ok())
            .any(|e| e.file_name().to_string_lossy().ends_with(".old")),
        "the fallback left a .old file"
    );
}

#[test]
fn sftp_root_in_the_login_folder() {
    // `~/x` roots are relative to the login folder; check with the server's real home.
    let sshd = Sshd::start();
    let home = std::env::var("HOME").expect("HOME");
    let sub = format!("compo-it-home-{}", sshd.port);
    let mut cfg = sshd.config();
    cfg.url = format!("sftp://{}@127.0.0.1:{}/~/{sub}", sshd.user, sshd.port);
    let t = SftpTransport::connect_with(cfg, quick_retry()).unwrap();
    t.mkdir_all("").unwrap();
    t.write_atomic("a.txt", &mut &b"home"[..]).unwrap();
    let local = Path::new(&home).join(&sub);
    let content = std::fs::read(local.join("a.txt"));
    let _ = std::fs::remove_dir_all(&local);
    assert_eq!(content.unwrap(), b"home");
}

/// Feeds `before` bytes, tells the test, waits for its go, then feeds `after` bytes.
struct GatedReader {
    before: usize,
    after: usize,
    reached: Option<mpsc::Sender<()>>,
    go: mpsc::Receiver<()>,
}

impl Read for GatedReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.before == 0 {
            if let Some(tx) = self.reached.take() {
                let _ = tx.send(());
                let _ = self.go.recv();
            }
            if self.after == 0 {
                return Ok(0);
            }
            let n = buf.len().min(self.after);
            buf[..n].fill(b'n');
            self.after -= n;
            return Ok(n);
        }
        let n = buf.len().min(self.before);
        buf[..n].fill(b'n');
        self.before -= n;
        Ok(n)
    }
}

#[test]
fn sftp_server_killed_mid_upload_keeps_old_content_and_recovers() {
    let mut sshd = Sshd::start();
    let t = SftpTransport::connect_with(sshd.config(), quick_retry()).unwrap();
    t.mkdir_all("in").unwrap();
    t.write_atomic("in/big.bin", &mut &b"old content"[..])
        .unwrap();

    let (reached_tx, reached_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel();
    let result = std::thread::scope(|s| {
        let upload = s.spawn(|| {
            let mut src = GatedReader {
                before: 8 * 1024 * 1024,
                after: 16 * 1024 * 1024,
                reached: Some(reached_tx),
                go: go_rx,
            };
            t.write_atomic("in/big.bin", &mut src)
        });
        reached_rx
            .recv_timeout(Duration::from_secs(60))
            .expect("upload reached the middle");
        let part = sshd.root.join("in/.big.bin.part");
        let part_size = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
        assert!(part_size > 0, "nothing uploaded before the kill");
        sshd.stop();
        go_tx.send(()).unwrap();
        upload.join().unwrap()
    });
    let e = result.expect_err("an upload through a killed server must fail");
    assert!(
        e.is_transient(),
        "a lost server is a connection error: {e:?}"
    );
    assert_eq!(
        std::fs::read(sshd.root.join("in/big.bin")).unwrap(),
        b"old content"
    );
    assert!(sshd.root.join("in/.big.bin.part").exists());

    sshd.restart();
    let data = noise(3 * 1024 * 1024, 3);
    let w = t.write_atomic("in/next.bin", &mut &data[..]).unwrap();
    assert_eq!(w.hash, hex(&data));
    let cleanup = |t: &SftpTransport| {
        ["in", "missing"]
            .iter()
            .map(|d| transport::remove_stale(t, d, transport::is_part_name).unwrap())
            .sum::<usize>()
    };
    assert_eq!(cleanup(&t), 1);
    assert!(!sshd.root.join("in/.big.bin.part").exists());
    assert_eq!(
        std::fs::read(sshd.root.join("in/big.bin")).unwrap(),
        b"old content"
    );
    assert_eq!(cleanup(&t), 0);
}

#[test]
fn sftp_idle_sessions_survive_a_server_restart() {
    let mut sshd = Sshd::start();
    let mut cfg = sshd.config();
    cfg.pool_size = 2;
    let t = SftpTransport::connect_with(cfg, quick_retry()).unwrap();
    t.write_atomic("a.txt", &mut &b"1"[..]).unwrap();
    sshd.restart();
    // Each call finds a dead idle session first and must reconnect by itself.
    t.write_atomic("b.txt", &mut &b"2"[..]).unwrap();
    sshd.restart();
    assert_eq!(t.list("").unwrap().len(), 2);
    sshd.restart();
    assert_eq!(t.stat("a.txt").unwrap().map(|e| e.size), Some(1));
    assert_eq!(std::fs::read(sshd.root.join("b.txt")).unwrap(), b"2");
}

#[test]
fn sftp_unreachable_server_gives_up_after_bounded_attempts() {
    let mut sshd = Sshd::start();
    sshd.stop();
    let started = Instant::now();
    let e = SftpTransport::connect_with(sshd.config(), quick_retry()).unwrap_err();
    assert!(e.is_transient(), "{e:?}");
    assert!(e.to_string().contains("after 3 attempts"), "{e}");
    // 100 ms + 200 ms of backoff, plus quick refusals from the closed port.
    assert!(started.elapsed() < Duration::from_secs(5));
}

fn other_public_key(dir: &Path) -> String {
    let key = dir.join("other_ed25519");
    let out = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(out.status.success());
    std::fs::read_to_string(dir.join("other_ed25519.pub")).unwrap()
}

#[test]
fn sftp_changed_host_key_is_refused_even_with_tofu() {
    let sshd = Sshd::start();
    let other = other_public_key(sshd.dir());
    let mut parts = other.split_whitespace();
    let line = format!(
        "[127.0.0.1]:{} {} {}\n",
        sshd.port,
        parts.next().unwrap(),
        parts.next().unwrap()
    );
    std::fs::write(&sshd.known_hosts, &line).unwrap();
    for accept in [false, true] {
        let mut cfg = sshd.config();
        cfg.accept_new_host_keys = accept;
        let e = SftpTransport::connect_with(cfg, quick_retry()).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, TransportError::Refused(_)), "{e:?}");
        assert!(msg.contains("differs"), "{msg}");
        assert!(msg.contains("ssh-keygen -R"), "{msg}");
        assert!(
            msg.contains(&format!(
                "ssh-keyscan -p {} -t ssh-ed25519 127.0.0.1 >>",
                sshd.port
            )),
            "{msg}"
        );
    }
    assert_eq!(std::fs::read_to_string(&sshd.known_hosts).unwrap(), line);
}

#[test]
fn sftp_unknown_host_is_refused_with_how_to_accept() {
    let sshd = Sshd::start();
    let mut cfg = sshd.config();
    cfg.known_hosts = Some(sshd.dir().join("empty_known_hosts"));
    let e = SftpTransport::connect_with(cfg, quick_retry()).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, TransportError::Refused(_)), "{e:?}");
    assert!(msg.contains("not a known host"), "{msg}");
    assert!(msg.contains("SHA256:"), "{msg}");
    assert!(msg.contains("accept_new_host_keys = true"), "{msg}");
    assert!(
        msg.contains(&format!("ssh-keyscan -p {}", sshd.port)),
        "{msg}"
    );
    assert!(!sshd.dir().join("empty_known_hosts").exists());
}

#[test]
fn sftp_accept_new_host_keys_records_the_key() {
    let sshd = Sshd::start();
    let file = sshd.dir().join("tofu/known_hosts");
    let mut cfg = sshd.config();
    cfg.known_hosts = Some(file.clone());
    cfg.accept_new_host_keys = true;
    SftpTransport::connect_with(cfg.clone(), quick_retry()).unwrap();
    let recorded = std::fs::read_to_string(&file).unwrap();
    let host_pub = std::fs::read_to_string(sshd.dir().join("host_ed25519.pub")).unwrap();
    let key: Vec<_> = host_pub.split_whitespace().take(2).collect();
    assert_eq!(
        recorded,
        format!("[127.0.0.1]:{} {} {}\n", sshd.port, key[0], key[1])
    );
    // Known now: accepted without TOFU, and not recorded twice.
    cfg.accept_new_host_keys = false;
    let t = SftpTransport::connect_with(cfg, quick_retry()).unwrap();
    t.write_atomic("x", &mut &b"ok"[..]).unwrap();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), recorded);
}

fn connections_in(log: &str) -> usize {
    log.lines()
        .filter(|l| l.contains("Connection from"))
        .count()
}

#[test]
fn sftp_wrong_key_is_refused_at_once_without_retrying() {
    let sshd = Sshd::start();
    other_public_key(sshd.dir());
    std::thread::sleep(Duration::from_millis(200));
    let before = connections_in(&sshd.log());
    let mut cfg = sshd.config();
    cfg.identity = Some(sshd.dir().join("other_ed25519"));
    let started = Instant::now();
    // Default policy: retrying would cost 0.5 + 1 + 2 s of backoff.
    let e = SftpTransport::connect(cfg).unwrap_err();
    let took = started.elapsed();
    let msg = e.to_string();
    assert!(matches!(e, TransportError::Refused(_)), "{e:?}");
    assert!(msg.contains("refused the login"), "{msg}");
    assert!(msg.contains("other_ed25519"), "{msg}");
    assert!(took < Duration::from_millis(1500), "took {took:?}");
    std::thread::sleep(Duration::from_millis(300));
    let log = sshd.log();
    assert_eq!(connections_in(&log) - before, 1, "sshd log:\n{log}");
}

#[test]
fn sftp_wrong_password_is_refused_and_never_shown() {
    let sshd = Sshd::start();
    let var = "COMPO_IT_SFTP_WRONG_PASSWORD";
    std::env::set_var(var, "not-the-password-9f3a");
    let mut cfg = sshd.config();
    cfg.identity = None;
    cfg.password_env = Some(var.into());
    let started = Instant::now();
    let e = SftpTransport::connect(cfg.clone()).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, TransportError::Refused(_)), "{e:?}");
    assert!(msg.contains("with a password"), "{msg}");
    assert!(!msg.contains("not-the-password-9f3a"));
    assert!(!format!("{cfg:?}").contains("not-the-password-9f3a"));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn sftp_login_refused_later_is_remembered_not_retried() {
    let mut sshd = Sshd::start();
    let t = SftpTransport::connect(sshd.config()).unwrap();
    t.write_atomic("a.txt", &mut &b"1"[..]).unwrap();
    // The server stops accepting our key while we run, and drops our session.
    std::fs::write(sshd.dir().join("authorized_keys"), "").unwrap();
    sshd.restart();
    std::thread::sleep(Duration::from_millis(200));
    let before = connections_in(&sshd.log());
    let started = Instant::now();
    let e = t.stat("a.txt").unwrap_err();
    assert!(matches!(e, TransportError::Refused(_)), "{e:?}");
    for _ in 0..5 {
        let again = t.write_atomic("b.txt", &mut &b"2"[..]).unwrap_err();
        assert_eq!(again.to_string(), e.to_string());
    }
    assert!(started.elapsed() < Duration::from_secs(3));
    std::thread::sleep(Duration::from_millis(300));
    let log = sshd.log();
    assert_eq!(connections_in(&log) - before, 1, "sshd log:\n{log}");
    assert!(!sshd.root.join("b.txt").exists());
}
