//! A transport that misbehaves on purpose, for tests: around any [`Transport`] it fails calls,
//! stalls them, and drops the connection halfway, at seeded random points.
//!
//! Replayable: whether a call is hit depends only on the seed, the operation, the path and how
//! many times that operation was called on that path before, never on thread timing; so the
//! same calls on the same paths see the same faults in every run, however a thread pool
//! interleaves them. [`FaultyTransport::log`] lists what was injected.
//!
//! A dropped connection does what a real one does: an upload leaves a partial `.NAME.part`
//! behind, a download has written part of the file into the caller's sink, and a rename or a
//! removal may have happened on the server although the caller hears only the error.

use super::{part_name, Entry, Features, Result, Transport, TransportError, Written};
use rustc_hash::{FxHashMap, FxHasher};
use std::hash::{Hash, Hasher};
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// How often each fault strikes, per call; the rates add up to at most 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Faults {
    pub seed: u64,
    /// The call fails before anything is done (refused, timed out, reset).
    pub fail: f64,
    /// The connection drops halfway through the call.
    pub drop: f64,
    /// The call hangs for `stall_for`, then goes on normally.
    pub stall: f64,
    pub stall_for: Duration,
    /// Publishing a local file (`put_file`) stores only its first half and reports that as
    /// done: a short upload nobody noticed, for the caller's size check to catch.
    pub short: f64,
}

impl Faults {
    /// No faults: the wrapper only counts calls (until [`FaultyTransport::set_down`]).
    pub fn none(seed: u64) -> Faults {
        Faults {
            seed,
            fail: 0.0,
            drop: 0.0,
            stall: 0.0,
            stall_for: Duration::ZERO,
            short: 0.0,
        }
    }

    /// A rough network: a tenth of the calls fail, a tenth drop, a twentieth stall 20 ms. No
    /// short uploads (add them with `short`).
    pub fn rough(seed: u64) -> Faults {
        Faults {
            seed,
            fail: 0.1,
            drop: 0.1,
            stall: 0.05,
            stall_for: Duration::from_millis(20),
            short: 0.0,
        }
    }
}

/// What was done to one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// Failed before doing anything.
    Fail,
    /// Cut off halfway; the part that happened is left as a real cut would leave it.
    Drop,
    /// Held, then carried out.
    Stall,
    /// Carried out on half the data, reported as whole.
    Short,
    /// The server was down (see [`FaultyTransport::set_down`]).
    Down,
}

/// One injected fault: (operation, path, the how-many-th call of it on that path, fault).
pub type Injected = (&'static str, String, u64, Fault);

/// See the module documentation.
pub struct FaultyTransport<T> {
    inner: T,
    faults: Faults,
    enabled: AtomicBool,
    down: AtomicBool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    calls: FxHashMap<(&'static str, String), u64>,
    log: Vec<Injected>,
}

/// What one call will meet, decided up front.
struct Decision {
    fault: Option<Fault>,
    /// A number in [0, 1) for the details of the fault (where a drop cuts, which message).
    detail: f64,
}

impl<T: Transport> FaultyTransport<T> {
    pub fn new(inner: T, faults: Faults) -> FaultyTransport<T> {
        assert!(
            faults.fail + faults.drop + faults.stall + faults.short <= 1.0,
            "fault rates add up to more than 1"
        );
        FaultyTransport {
            inner,
            faults,
            enabled: AtomicBool::new(true),
            down: AtomicBool::new(false),
            state: Mutex::new(State::default()),
        }
    }

    pub fn inner(&self) -> &T {
        &self.inner
    }

    /// Turns the random faults on or off (to check that everything converges once they stop).
    pub fn set_enabled(&self, on: bool) {
        self.enabled.store(on, Ordering::SeqCst);
    }

    /// Makes every call fail as an unreachable server does, until set back.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// The faults injected so far, in the order they were decided.
    pub fn log(&self) -> Vec<Injected> {
        self.lock().log.clone()
    }

    /// How many faults of each kind were injected.
    pub fn count(&self, fault: Fault) -> usize {
        self.lock().log.iter().filter(|i| i.3 == fault).count()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn decide(&self, op: &'static str, path: &str) -> Decision {
        let mut st = self.lock();
        let n = {
            let c = st.calls.entry((op, path.to_string())).or_insert(0);
            *c += 1;
            *c - 1
        };
        // FxHasher has no random state: the same inputs give the same number in every run.
        let mut h = FxHasher::default();
        (self.faults.seed, op, path, n).hash(&mut h);
        let mut rng = fastrand::Rng::with_seed(h.finish());
        let x = rng.f64();
        let detail = rng.f64();
        let f = &self.faults;
        let fault = if self.down.load(Ordering::SeqCst) {
            Some(Fault::Down)
        } else if !self.enabled.load(Ordering::SeqCst) {
            None
        } else if x < f.fail {
            Some(Fault::Fail)
        } else if x < f.fail + f.drop {
            Some(Fault::Drop)
        } else if x < f.fail + f.drop + f.stall {
            Some(Fault::Stall)
        } else if op == "put" && x < f.fail + f.drop + f.stall + f.short {
            Some(Fault::Short)
        } else {
            None
        };
        if let Some(fault) = fault {
            st.log.push((op, path.to_string(), n, fault));
        }
        Decision { fault, detail }
    }

    /// Applies a fault that needs nothing of the operation; returns the decision for the
    /// operation to carry out a drop its own way.
    fn enter(&self, op: &'static str, path: &str) -> Result<Decision> {
        let d = self.decide(op, path);
        match d.fault {
            Some(Fault::Down) => Err(TransportError::Connection(format!(
                "{path}: injected fault: cannot connect: connection refused"
            ))),
            Some(Fault::Fail) => {
                let what = [
                    "connection refused",
                    "timed out",
                    "connection reset by peer",
                ][(d.detail * 3.0) as usize % 3];
                Err(TransportError::Connection(format!(
                    "{path}: injected fault: {what}"
                )))
            }
            Some(Fault::Stall) => {
                std::thread::sleep(self.faults.stall_for);
                Ok(d)
            }
            _ => Ok(d),
        }
    }

    fn dropped(path: &str) -> TransportError {
        TransportError::Connection(format!(
            "{path}: injected fault: connection dropped mid-call"
        ))
    }

    /// A cut-off upload: up to `cut` bytes of `src` land in the part file, then the error.
    fn cut_upload(&self, path: &str, src: &mut dyn Read, cut: u64) -> TransportError {
        let mut head = Vec::new();
        if src.take(cut).read_to_end(&mut head).is_ok() {
            let _ = self
                .inner
                .write_atomic_unflushed(&part_name(path), &mut head.as_slice());
        }
        Self::dropped(path)
    }

    /// Runs `op`; on a drop, half the time after it happened (the reply was lost).
    fn maybe_after<R>(
        &self,
        d: &Decision,
        path: &str,
        op: impl FnOnce() -> Result<R>,
    ) -> Result<R> {
        if d.fault != Some(Fault::Drop) {
            return op();
        }
        if d.detail < 0.5 {
            let _ = op();
        }
        Err(Self::dropped(path))
    }
}

/// A sink that takes `left` bytes, then fails as a cut connection does.
struct CutSink<'a> {
    inner: &'a mut dyn Write,
    left: u64,
}

impl Write for CutSink<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Err(io::Error::new(io::ErrorKind::ConnectionReset, "cut"));
        }
        let n = (buf.len() as u64).min(self.left) as usize;
        let n = self.inner.write(&buf[..n])?;
        self.left -= n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<T: Transport> Transport for FaultyTransport<T> {
    fn describe(&self) -> String {
        format!(
            "{} (with injected faults, seed {})",
            self.inner.describe(),
            self.faults.seed
        )
    }

    fn features(&self) -> Features {
        self.inner.features()
    }

    fn list(&self, dir: &str) -> Result<Vec<Entry>> {
        let d = self.enter("list", dir)?;
        self.maybe_after(&d, dir, || self.inner.list(dir))
    }

    fn stat(&self, path: &str) -> Result<Option<Entry>> {
        let d = self.enter("stat", path)?;
        self.maybe_after(&d, path, || self.inner.stat(path))
    }

    fn read_to(&self, path: &str, sink: &mut dyn Write) -> Result<u64> {
        let d = self.enter("read", path)?;
        if d.fault != Some(Fault::Drop) {
            return self.inner.read_to(path, sink);
        }
        let size = self.inner.stat(path)?.map_or(0, |e| e.size);
        let mut cut = CutSink {
            inner: sink,
            left: (size as f64 * d.detail) as u64,
        };
        let _ = self.inner.read_to(path, &mut cut);
        Err(Self::dropped(path))
    }

    fn write_atomic(&self, path: &str, src: &mut dyn Read) -> Result<Written> {
        let d = self.enter("write", path)?;
        if d.fault == Some(Fault::Drop) {
            return Err(self.cut_upload(path, src, (d.detail * 65536.0) as u64));
        }
        self.inner.write_atomic(path, src)
    }

    fn write_atomic_unflushed(&self, path: &str, src: &mut dyn Read) -> Result<Written> {
        let d = self.enter("write", path)?;
        if d.fault == Some(Fault::Drop) {
            return Err(self.cut_upload(path, src, (d.detail * 65536.0) as u64));
        }
        self.inner.write_atomic_unflushed(path, src)
    }

    fn put_file(&self, local: &Path, path: &str, known: Option<&Written>) -> Result<Written> {
        let d = self.enter("put", path)?;
        let open = || {
            std::fs::File::open(local)
                .map_err(|e| TransportError::io(local.display().to_string(), e))
        };
        match d.fault {
            Some(Fault::Drop) => {
                let mut f = open()?;
                let size = f.metadata().map_or(0, |m| m.len());
                Err(self.cut_upload(path, &mut f, (size as f64 * d.detail) as u64))
            }
            Some(Fault::Short) => {
                let f = open()?;
                let size = f.metadata().map_or(0, |m| m.len());
                self.inner.write_atomic(path, &mut f.take(size / 2))
            }
            _ => self.inner.put_file(local, path, known),
        }
    }

    fn rename(&self, from: &str, to: &str) -> Result<()> {
        let d = self.enter("rename", from)?;
        self.maybe_after(&d, from, || self.inner.rename(from, to))
    }

    fn remove(&self, path: &str) -> Result<()> {
        let d = self.enter("remove", path)?;
        self.maybe_after(&d, path, || self.inner.remove(path))
    }

    fn mkdir_all(&self, path: &str) -> Result<()> {
        let d = self.enter("mkdir", path)?;
        self.maybe_after(&d, path, || self.inner.mkdir_all(path))
    }
}

#[cfg(test)]
mod tests {
    use super::super::local::LocalTransport;
    use super::*;

    /// The same calls, one thread: which ones fail.
    fn run(seed: u64) -> (Vec<bool>, Vec<Injected>) {
        let d = tempfile::tempdir().unwrap();
        let t = FaultyTransport::new(LocalTransport::new(d.path()), Faults::rough(seed));
        let mut ok = Vec::new();
        for i in 0..200 {
            let p = format!("f{}", i % 7);
            ok.push(
                t.write_atomic_unflushed(&p, &mut &b"0123456789"[..])
                    .is_ok(),
            );
            ok.push(t.stat(&p).is_ok());
        }
        (ok, t.log())
    }

    #[test]
    fn a_seed_replays_the_same_faults_and_another_seed_does_not() {
        let (a, la) = run(7);
        let (b, lb) = run(7);
        assert_eq!(a, b);
        assert_eq!(la, lb);
        let (c, _) = run(8);
        assert_ne!(a, c);
        // Rough: about a quarter of the calls are hit, some of each kind.
        let hit = la.len();
        assert!((50..150).contains(&hit), "{hit} faults in 400 calls");
        for f in [Fault::Fail, Fault::Drop, Fault::Stall] {
            assert!(la.iter().any(|i| i.3 == f), "no {f:?}");
        }
    }

    #[test]
    fn faults_do_not_depend_on_thread_timing() {
        let d = tempfile::tempdir().unwrap();
        let t = FaultyTransport::new(LocalTransport::new(d.path()), Faults::rough(3));
        std::thread::scope(|s| {
            for w in 0..4 {
                let t = &t;
                s.spawn(move || {
                    for i in 0..50 {
                        let _ = t.stat(&format!("w{w}-{i}"));
                    }
                });
            }
        });
        let mut par = t.log();
        let t2 = FaultyTransport::new(LocalTransport::new(d.path()), Faults::rough(3));
        for w in 0..4 {
            for i in 0..50 {
                let _ = t2.stat(&format!("w{w}-{i}"));
            }
        }
        let mut seq = t2.log();
        par.sort_by(|a, b| a.1.cmp(&b.1));
        seq.sort_by(|a, b| a.1.cmp(&b.1));
        assert_eq!(par, seq);
    }

    #[test]
    fn a_dropped_upload_leaves_a_partial_part_and_never_the_target() {
        let d = tempfile::tempdir().unwrap();
        let t = FaultyTransport::new(
            LocalTransport::new(d.path()),
            Faults {
                drop: 1.0,
                ..Faults::none(1)
            },
        );
        let data = vec![b'x'; 200_000];
        let e = t.write_atomic("a.json", &mut data.as_slice()).unwrap_err();
        assert!(e.is_transient(), "{e}");
        assert!(!d.path().join("a.json").exists());
        let part = std::fs::metadata(d.path().join(".a.json.part")).unwrap();
        assert!(part.len() < data.len() as u64);
        // A download cut halfway leaves part of the bytes in the sink.
        std::fs::write(d.path().join("b.json"), &data).unwrap();
        let mut got = Vec::new();
        assert!(t.read_to("b.json", &mut got).unwrap_err().is_transient());
        assert!(got.len() < data.len());
    }

    #[test]
    fn down_fails_everything_until_it_comes_back_and_disabling_stops_faults() {
        let d = tempfile::tempdir().unwrap();
        let t = FaultyTransport::new(LocalTransport::new(d.path()), Faults::rough(5));
        t.set_down(true);
        let e = t.list("").unwrap_err();
        assert!(e.is_transient() && e.to_string().contains("connection refused"));
        t.set_down(false);
        t.set_enabled(false);
        for i in 0..100 {
            t.write_atomic_unflushed(&format!("f{i}"), &mut &b"1"[..])
                .unwrap();
        }
        assert_eq!(t.count(Fault::Down), 1);
    }
}
