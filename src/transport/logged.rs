//! A transport that says what it does: every call on the server (list, stat, read, write,
//! put, rename, remove, mkdir) as one trace event with its path, size, duration and outcome,
//! so that `-vv` shows the server's side of each step from one place.
//!
//! It wraps the transport that talks to the server, below the retrying one, so that every
//! attempt a retry makes is seen with its own error.

use super::{Entry, Features, Offer, Result, Transport, Written};
use std::io::{Read, Write};
use std::path::Path;
use std::time::Instant;

/// The tracing target of these events (`RUST_LOG=compo_exchange::transport=trace` shows only
/// them).
pub const TARGET: &str = "compo_exchange::transport";

pub struct LoggedTransport<T> {
    inner: T,
}

impl<T> LoggedTransport<T> {
    pub fn new(inner: T) -> LoggedTransport<T> {
        LoggedTransport { inner }
    }
}

/// Milliseconds since `start`, to the microsecond.
fn millis(start: Instant) -> f64 {
    start.elapsed().as_micros() as f64 / 1000.0
}

/// Runs `call` and records it: `size` tells what the result weighs, when it has a size.
fn logged<R>(
    op: &'static str,
    path: &str,
    call: impl FnOnce() -> Result<R>,
    size: impl Fn(&R) -> Option<u64>,
) -> Result<R> {
    // Measuring costs a clock read per call; skipped when nobody listens.
    if !tracing::enabled!(target: TARGET, tracing::Level::TRACE) {
        return call();
    }
    let start = Instant::now();
    let r = call();
    let ms = millis(start);
    match &r {
        Ok(v) => match size(v) {
            Some(n) => tracing::trace!(target: TARGET, op, path, size = n, ms, "server"),
            None => tracing::trace!(target: TARGET, op, path, ms, "server"),
        },
        Err(e) => tracing::trace!(target: TARGET, op, path, ms, error = %e, "server"),
    }
    r
}

impl<T: Transport> Transport for LoggedTransport<T> {
    fn describe(&self) -> String {
        self.inner.describe()
    }

    fn features(&self) -> Features {
        self.inner.features()
    }

    fn offer(&self) -> Option<Offer> {
        self.inner.offer()
    }

    fn list(&self, dir: &str) -> Result<Vec<Entry>> {
        // The size of a listing is its number of entries.
        logged(
            "list",
            dir,
            || self.inner.list(dir),
            |v| Some(v.len() as u64),
        )
    }

    fn stat(&self, path: &str) -> Result<Option<Entry>> {
        logged(
            "stat",
            path,
            || self.inner.stat(path),
            |e| e.as_ref().map(|e| e.size),
        )
    }

    fn read_to(&self, path: &str, sink: &mut dyn Write) -> Result<u64> {
        logged("get", path, || self.inner.read_to(path, sink), |n| Some(*n))
    }

    fn write_atomic(&self, path: &str, src: &mut dyn Read) -> Result<Written> {
        logged(
            "put",
            path,
            || self.inner.write_atomic(path, src),
            |w| Some(w.size),
        )
    }

    fn write_atomic_unflushed(&self, path: &str, src: &mut dyn Read) -> Result<Written> {
        logged(
            "put",
            path,
            || self.inner.write_atomic_unflushed(path, src),
            |w| Some(w.size),
        )
    }

    fn put_file(&self, local: &Path, path: &str, known: Option<&Written>) -> Result<Written> {
        logged(
            "put",
            path,
            || self.inner.put_file(local, path, known),
            |w| Some(w.size),
        )
    }

    fn rename(&self, from: &str, to: &str) -> Result<()> {
        let start = Instant::now();
        let r = self.inner.rename(from, to);
        let ms = millis(start);
        match &r {
            Ok(()) => tracing::trace!(target: TARGET, op = "rename", path = from, to, ms, "server"),
            Err(e) => {
                tracing::trace!(target: TARGET, op = "rename", path = from, to, ms, error = %e, "server")
            }
        }
        r
    }

    fn remove(&self, path: &str) -> Result<()> {
        logged("remove", path, || self.inner.remove(path), |_| None)
    }

    fn mkdir_all(&self, path: &str) -> Result<()> {
        logged("mkdir", path, || self.inner.mkdir_all(path), |_| None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::local::LocalTransport;
    use std::sync::{Arc, Mutex};

    /// Collects what the events print, as the real subscriber would write it.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn each_call_is_one_event_with_its_path_size_and_duration() {
        let d = tempfile::tempdir().unwrap();
        let t = LoggedTransport::new(LocalTransport::new(d.path().to_path_buf()));
        let out = Captured::default();
        let w = out.clone();
        let sub = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || w.clone())
            .finish();
        tracing::subscriber::with_default(sub, || {
            t.mkdir_all("in").unwrap();
            t.write_atomic("in/a.json", &mut &b"[1,2]"[..]).unwrap();
            t.rename("in/a.json", "in/b.json").unwrap();
            assert!(t.stat("in/a.json").unwrap().is_none());
            t.list("in").unwrap();
            t.remove("in/b.json").unwrap();
            assert!(t.read_to("in/b.json", &mut Vec::new()).is_err());
        });
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 7, "{text}");
        assert!(lines[1].contains("op=\"put\"") && lines[1].contains("path=\"in/a.json\""));
        assert!(
            lines[1].contains("size=5") && lines[1].contains("ms="),
            "{}",
            lines[1]
        );
        assert!(lines[2].contains("op=\"rename\"") && lines[2].contains("to=\"in/b.json\""));
        assert!(lines[4].contains("op=\"list\"") && lines[4].contains("size=1"));
        assert!(lines[6].contains("op=\"get\"") && lines[6].contains("error="));
    }
}
