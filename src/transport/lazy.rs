//! A transport that connects on first use, so that a daemon started before the network (or
//! the server) is up waits for it instead of exiting.
//!
//! Two ways to meet an unreachable server, chosen by the caller: without [`Waiting`] the first
//! use fails as a plain connection would (one-shot commands report it and exit); with it, the
//! first use waits, trying again at growing intervals, saying so in the log (once when the
//! wait begins, then at doubling intervals) and through [`Waiting::report`], until the server
//! answers or [`Waiting::stop`] says to give up. Errors that need a person (a refused host key
//! or login, a bad setting) end the wait at once: they are never waited out.
//!
//! Once connected, calls go straight to the connected transport, which reconnects by itself.

use super::retry::{Backoff, RetryingTransport};
use super::sftp::{RetryPolicy, SftpConfig, SftpTransport};
use super::{Entry, Features, Result, Transport, TransportError, Written};
use backon::BackoffBuilder;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type Connect = Box<dyn Fn() -> Result<Arc<dyn Transport>> + Send + Sync>;

/// Told how the server fares: `Some(error)` while unreachable, `None` once it answers.
pub type Report = Arc<dyn Fn(Option<&str>) + Send + Sync>;

/// How the first use waits for a server that cannot be reached.
#[derive(Clone)]
pub struct Waiting {
    /// Asked between attempts: `true` ends the wait (a stop was requested).
    pub stop: Arc<dyn Fn() -> bool + Send + Sync>,
    /// Told after each attempt: `Some(error)` while the server cannot be reached, `None` once
    /// it answers (for the health shown by `status`).
    pub report: Report,
    /// Called about once a second while waiting (a service manager's watchdog).
    pub tick: Arc<dyn Fn() + Send + Sync>,
    /// Wait before the second attempt...
    pub first: Duration,
    /// ...growing up to this between attempts.
    pub max: Duration,
}

impl Waiting {
    /// Waits with the given stop condition and nothing else to tell: 1 s growing to a minute.
    pub fn until(stop: impl Fn() -> bool + Send + Sync + 'static) -> Waiting {
        Waiting {
            stop: Arc::new(stop),
            report: Arc::new(|_| {}),
            tick: Arc::new(|| {}),
            first: Duration::from_secs(1),
            max: Duration::from_secs(60),
        }
    }
}

/// See the module documentation.
pub struct LazyTransport {
    what: String,
    /// What the transport is expected to offer, until it is connected and can say.
    assumed: Features,
    connect: Connect,
    waiting: Option<Waiting>,
    /// Held while connecting, so that parallel first uses wait for one connection.
    slot: Mutex<Option<Arc<dyn Transport>>>,
    /// Whether the last call reached the server: an outage after start-up is reported when it
    /// begins and when it ends, not at every call.
    reachable: AtomicBool,
}

impl LazyTransport {
    pub fn new(
        what: String,
        assumed: Features,
        connect: impl Fn() -> Result<Arc<dyn Transport>> + Send + Sync + 'static,
        waiting: Option<Waiting>,
    ) -> LazyTransport {
        LazyTransport {
            what,
            assumed,
            connect: Box::new(connect),
            waiting,
            slot: Mutex::new(None),
            reachable: AtomicBool::new(true),
        }
    }

    /// An SFTP server. The settings are checked now (a bad one is an error at once, waiting
    /// or not); the connection is made on first use. Each connection attempt is a single
    /// try: the waiting here, and the retrying wrapper around the connected transport, pace
    /// the repeats.
    pub fn sftp(cfg: SftpConfig, waiting: Option<Waiting>) -> Result<LazyTransport> {
        cfg.check_files()
            .map_err(|e| TransportError::Refused(e.to_string()))?;
        let target = cfg
            .target()
            .map_err(|e| TransportError::Refused(e.to_string()))?;
        let assumed = Features {
            atomic_replace: false,
            fsync: false,
            events: false,
            mtime_resolution: Duration::from_secs(1),
            local_link: false,
        };
        let connect = move || -> Result<Arc<dyn Transport>> {
            let once = RetryPolicy {
                attempts: 1,
                ..RetryPolicy::default()
            };
            let t = SftpTransport::connect_with(cfg.clone(), once)?;
            // Each attempt is logged (-vv), below the retries.
            let t = super::logged::LoggedTransport::new(t);
            Ok(Arc::new(RetryingTransport::new(t, Backoff::default())))
        };
        Ok(LazyTransport::new(
            target.to_string(),
            assumed,
            connect,
            waiting,
        ))
    }

    /// Connects now (for commands that want a refusal at once, before any work).
    pub fn connect_now(&self) -> Result<()> {
        self.get().map(|_| ())
    }

    /// Whether a connection was made.
    pub fn is_connected(&self) -> bool {
        self.lock().is_some()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Arc<dyn Transport>>> {
        self.slot.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn get(&self) -> Result<Arc<dyn Transport>> {
        let mut slot = self.lock();
        if let Some(t) = &*slot {
            return Ok(t.clone());
        }
        let t = match &self.waiting {
            None => Backoff::default().run(|_| (self.connect)(), |_, _| {})?,
            Some(w) => self.wait_for(w)?,
        };
        *slot = Some(t.clone());
        Ok(t)
    }

    /// Reports the server unreachable when a call fails for a reason that passes (the
    /// connection), and reachable again at the next call that gets through.
    fn watch<R>(&self, r: Result<R>) -> Result<R> {
        let Some(w) = &self.waiting else { return r };
        match &r {
            Err(e) if e.is_transient() => {
                if self.reachable.swap(false, Ordering::SeqCst) {
                    tracing::warn!(server = %self.what, error = %e, "the server stopped answering");
                    (w.report)(Some(&e.to_string()));
                }
            }
            Ok(_) => {
                if !self.reachable.swap(true, Ordering::SeqCst) {
                    tracing::info!(server = %self.what, "the server answers again");
                    (w.report)(None);
                }
            }
            Err(_) => {}
        }
        r
    }

    fn wait_for(&self, w: &Waiting) -> Result<Arc<dyn Transport>> {
        let started = Instant::now();
        let mut delays = backon::ExponentialBuilder::default()
            .with_min_delay(w.first)
            .with_max_delay(w.max)
            .without_max_times()
            .with_jitter()
            .build();
        // The log says it once, then again when the wait has doubled, up to once an hour.
        let mut next_log: Option<Duration> = None;
        loop {
            if (w.stop)() {
                return Err(TransportError::Connection(format!(
                    "{}: stopped while waiting for the server",
                    self.what
                )));
            }
            match (self.connect)() {
                Ok(t) => {
                    if next_log.is_some() {
                        tracing::info!(
                            server = %self.what,
                            waited_secs = started.elapsed().as_secs(),
                            "the server answers; going on"
                        );
                    }
                    (w.report)(None);
                    return Ok(t);
                }
                Err(e) if e.is_transient() => {
                    let waited = started.elapsed();
                    match next_log {
                        None => {
                            tracing::warn!(
                                server = %self.what,
                                error = %e,
                                "waiting for the server: it cannot be reached; trying again at \
                                 growing intervals"
                            );
                            next_log = Some(Duration::from_secs(30));
                        }
                        Some(at) if waited >= at => {
                            tracing::warn!(
                                server = %self.what,
                                error = %e,
                                waited_secs = waited.as_secs(),
                                "still waiting for the server"
                            );
                            next_log = Some((at * 2).min(Duration::from_secs(3600)));
                        }
                        Some(_) => {
                            tracing::debug!(server = %self.what, error = %e, "server still unreachable")
                        }
                    }
                    (w.report)(Some(&format!("waiting for the server: {e}")));
                    let pause = delays.next().unwrap_or(w.max);
                    sleep_ticking(pause, w);
                }
                Err(e) => {
                    (w.report)(Some(&e.to_string()));
                    return Err(e);
                }
            }
        }
    }
}

/// Sleeps `d` in short slices: a stop request is honoured within a fraction of a second and
/// the tick runs about once a second.
fn sleep_ticking(d: Duration, w: &Waiting) {
    let until = Instant::now() + d;
    let mut last_tick = Instant::now();
    (w.tick)();
    loop {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() || (w.stop)() {
            return;
        }
        std::thread::sleep(left.min(Duration::from_millis(100)));
        if last_tick.elapsed() >= Duration::from_secs(1) {
            (w.tick)();
            last_tick = Instant::now();
        }
    }
}

impl Transport for LazyTransport {
    fn describe(&self) -> String {
        self.what.clone()
    }

    fn features(&self) -> Features {
        match &*self.lock() {
            Some(t) => t.features(),
            None => self.assumed,
        }
    }

    fn offer(&self) -> Option<super::Offer> {
        self.lock().as_ref().and_then(|t| t.offer())
    }

    fn list(&self, dir: &str) -> Result<Vec<Entry>> {
        self.watch(self.get().and_then(|t| t.list(dir)))
    }

    fn stat(&self, path: &str) -> Result<Option<Entry>> {
        self.watch(self.get().and_then(|t| t.stat(path)))
    }

    fn read_to(&self, path: &str, sink: &mut dyn Write) -> Result<u64> {
        self.watch(self.get().and_then(|t| t.read_to(path, sink)))
    }

    fn write_atomic(&self, path: &str, src: &mut dyn Read) -> Result<Written> {
        self.watch(self.get().and_then(|t| t.write_atomic(path, src)))
    }

    fn write_atomic_unflushed(&self, path: &str, src: &mut dyn Read) -> Result<Written> {
        self.watch(self.get().and_then(|t| t.write_atomic_unflushed(path, src)))
    }

    fn put_file(&self, local: &Path, path: &str, known: Option<&Written>) -> Result<Written> {
        self.watch(self.get().and_then(|t| t.put_file(local, path, known)))
    }

    fn rename(&self, from: &str, to: &str) -> Result<()> {
        self.watch(self.get().and_then(|t| t.rename(from, to)))
    }

    fn remove(&self, path: &str) -> Result<()> {
        self.watch(self.get().and_then(|t| t.remove(path)))
    }

    fn mkdir_all(&self, path: &str) -> Result<()> {
        self.watch(self.get().and_then(|t| t.mkdir_all(path)))
    }
}

#[cfg(test)]
mod tests {
    use super::super::faulty::{Faults, FaultyTransport};
    use super::super::local::LocalTransport;
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    fn quick(stop: Arc<AtomicBool>, reports: Arc<Mutex<Vec<Option<String>>>>) -> Waiting {
        Waiting {
            stop: Arc::new(move || stop.load(Ordering::SeqCst)),
            report: Arc::new(move |e| reports.lock().unwrap().push(e.map(String::from))),
            tick: Arc::new(|| {}),
            first: Duration::from_millis(5),
            max: Duration::from_millis(20),
        }
    }

    /// A server that is down until `up` is set (the faulty wrapper's down switch).
    fn server(dir: &Path, up: Arc<AtomicBool>, attempts: Arc<AtomicUsize>) -> Connect {
        let dir = dir.to_path_buf();
        Box::new(move || {
            attempts.fetch_add(1, Ordering::SeqCst);
            let t = FaultyTransport::new(LocalTransport::new(&dir), Faults::none(1));
            t.set_down(!up.load(Ordering::SeqCst));
            // Connecting is the first call: a down server refuses it.
            t.list("")?;
            Ok(Arc::new(t) as Arc<dyn Transport>)
        })
    }

    fn lazy(connect: Connect, waiting: Option<Waiting>) -> LazyTransport {
        LazyTransport {
            what: "test server".into(),
            assumed: LocalTransport::new("/").features(),
            connect,
            waiting,
            slot: Mutex::new(None),
            reachable: AtomicBool::new(true),
        }
    }

    #[test]
    fn the_first_use_waits_for_the_server_and_then_goes_on() {
        let d = tempfile::tempdir().unwrap();
        let up = Arc::new(AtomicBool::new(false));
        let attempts = Arc::new(AtomicUsize::new(0));
        let reports = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let t = lazy(
            server(d.path(), up.clone(), attempts.clone()),
            Some(quick(stop, reports.clone())),
        );
        assert_eq!(
            attempts.load(Ordering::SeqCst),
            0,
            "nothing at construction"
        );
        std::thread::scope(|s| {
            let h = s.spawn(|| t.mkdir_all("in"));
            std::thread::sleep(Duration::from_millis(150));
            assert!(!h.is_finished(), "returned while the server was down");
            up.store(true, Ordering::SeqCst);
            h.join().unwrap().unwrap();
        });
        assert!(d.path().join("in").is_dir());
        assert!(attempts.load(Ordering::SeqCst) > 2);
        let r = reports.lock().unwrap().clone();
        assert!(
            r[0].as_deref().unwrap().contains("waiting for the server"),
            "{r:?}"
        );
        assert_eq!(r.last().unwrap(), &None);
        // Connected: later calls do not connect again.
        let n = attempts.load(Ordering::SeqCst);
        t.stat("in").unwrap();
        assert_eq!(attempts.load(Ordering::SeqCst), n);
    }

    #[test]
    fn an_outage_after_start_is_reported_when_it_begins_and_ends() {
        let d = tempfile::tempdir().unwrap();
        let reports = Arc::new(Mutex::new(Vec::new()));
        let faulty = Arc::new(FaultyTransport::new(
            LocalTransport::new(d.path()),
            Faults::none(2),
        ));
        let f = faulty.clone();
        let t = lazy(
            Box::new(move || Ok(f.clone() as Arc<dyn Transport>)),
            Some(quick(Arc::new(AtomicBool::new(false)), reports.clone())),
        );
        t.mkdir_all("in").unwrap();
        faulty.set_down(true);
        for _ in 0..5 {
            assert!(t.list("in").unwrap_err().is_transient());
        }
        faulty.set_down(false);
        for _ in 0..5 {
            t.list("in").unwrap();
        }
        // A lasting error (a missing folder) is not the server's health.
        assert!(t.list("nope").is_err());
        let r = reports.lock().unwrap().clone();
        assert_eq!(r.len(), 3, "{r:?}");
        assert_eq!(r[0], None, "connected");
        assert!(
            r[1].as_deref().unwrap().contains("connection refused"),
            "{r:?}"
        );
        assert_eq!(r[2], None, "back");
    }

    #[test]
    fn a_stop_ends_the_wait_and_a_refusal_is_never_waited_out() {
        let d = tempfile::tempdir().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let reports = Arc::new(Mutex::new(Vec::new()));
        let t = lazy(
            server(
                d.path(),
                Arc::new(AtomicBool::new(false)),
                Arc::new(AtomicUsize::new(0)),
            ),
            Some(quick(stop.clone(), reports)),
        );
        std::thread::scope(|s| {
            let h = s.spawn(|| t.list(""));
            std::thread::sleep(Duration::from_millis(50));
            stop.store(true, Ordering::SeqCst);
            let e = h.join().unwrap().unwrap_err();
            assert!(e.to_string().contains("stopped while waiting"), "{e}");
        });
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let refused = lazy(
            Box::new(move || {
                c.fetch_add(1, Ordering::SeqCst);
                Err(TransportError::Refused("host key mismatch".into()))
            }),
            Some(quick(
                Arc::new(AtomicBool::new(false)),
                Arc::new(Mutex::new(Vec::new())),
            )),
        );
        assert!(matches!(refused.list(""), Err(TransportError::Refused(_))));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn without_waiting_an_unreachable_server_is_an_error_after_a_few_tries() {
        let d = tempfile::tempdir().unwrap();
        let attempts = Arc::new(AtomicUsize::new(0));
        let t = lazy(
            server(d.path(), Arc::new(AtomicBool::new(false)), attempts.clone()),
            None,
        );
        let started = Instant::now();
        assert!(t.list("").unwrap_err().is_transient());
        assert_eq!(attempts.load(Ordering::SeqCst), Backoff::default().attempts);
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(!t.is_connected());
    }
}
