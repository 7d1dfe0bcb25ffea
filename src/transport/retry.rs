//! A transport that tries a call again after a transient error (see
//! [`TransportError::is_transient`]), waiting a capped, jittered, exponentially growing time
//! between attempts, so that a blip of the network costs a few seconds and no failed step.
//!
//! Every call of [`Transport`] may be repeated: downloads are spooled (in memory up to a few
//! MiB, on disk beyond) so that a cut-off attempt leaves nothing in the caller's sink, uploads
//! keep what their first attempt read so that a second one sends the same bytes,
//! and a rename whose reply was lost is recognised on the next attempt (the source is gone and
//! the target is there). Lasting errors go straight to the caller.

use super::{Entry, Features, Result, Transport, TransportError, Written};
use backon::BackoffBuilder;
use std::io::{self, Read, Seek, Write};
use std::path::Path;
use std::time::Duration;

/// Bytes of an upload or download kept in memory for a repeat; beyond, a temporary file.
const SPOOL_IN_MEMORY: usize = 4 << 20;

/// What an upload's first attempt keeps of what it read, so that a repeat can send the same
/// bytes: a cut-off connection fails early, a large upload that failed late is sent again by
/// its caller.
const TEE_KEEPS: usize = 16 << 20;

/// How often and how patiently a call is repeated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// Attempts in all, the first included.
    pub attempts: usize,
    /// Wait before the second attempt; it doubles for each further one...
    pub first: Duration,
    /// ...up to this.
    pub max: Duration,
    /// Seed of the jitter, for replayable tests; `None` takes a random one.
    pub seed: Option<u64>,
}

impl Default for Backoff {
    /// Four attempts within about four seconds: enough for a reset connection or a server
    /// restart, short enough that the daemon's own retry (per file, minutes apart) takes over
    /// from a real outage quickly.
    fn default() -> Self {
        Backoff {
            attempts: 4,
            first: Duration::from_millis(250),
            max: Duration::from_secs(2),
            seed: None,
        }
    }
}

impl Backoff {
    /// The waits between attempts: each the exponential step plus a random part of it (so
    /// that parallel workers do not retry in lockstep), never more than twice `max`.
    pub fn delays(&self) -> impl Iterator<Item = Duration> {
        let mut b = backon::ExponentialBuilder::default()
            .with_min_delay(self.first)
            .with_max_delay(self.max)
            .with_max_times(self.attempts.saturating_sub(1))
            .with_jitter();
        if let Some(seed) = self.seed {
            b = b.with_jitter_seed(seed);
        }
        b.build()
    }

    /// Runs `op` until it succeeds, fails lastingly, or the attempts are spent; `again` is
    /// told each transient error before its wait (for logging).
    pub fn run<R>(
        &self,
        mut op: impl FnMut(u32) -> Result<R>,
        mut again: impl FnMut(&TransportError, Duration),
    ) -> Result<R> {
        let mut delays = self.delays();
        let mut attempt = 0;
        loop {
            match op(attempt) {
                Err(e) if e.is_transient() => match delays.next() {
                    Some(d) => {
                        again(&e, d);
                        std::thread::sleep(d);
                        attempt += 1;
                    }
                    None => return Err(e),
                },
                other => return other,
            }
        }
    }
}

/// See the module documentation.
pub struct RetryingTransport<T> {
    inner: T,
    backoff: Backoff,
}

impl<T: Transport> RetryingTransport<T> {
    pub fn new(inner: T, backoff: Backoff) -> RetryingTransport<T> {
        RetryingTransport { inner, backoff }
    }

    pub fn inner(&self) -> &T {
        &self.inner
    }

    fn retry<R>(&self, what: &str, path: &str, op: impl FnMut(u32) -> Result<R>) -> Result<R> {
        self.backoff.run(op, |e, d| {
            tracing::info!(op = what, path, error = %e, wait_ms = d.as_millis() as u64, "transient error; trying again");
        })
    }

    fn upload(
        &self,
        path: &str,
        src: &mut dyn Read,
        write: impl Fn(&T, &mut dyn Read) -> Result<Written>,
    ) -> Result<Written> {
        // The first attempt reads `src` through a tee that keeps what it read while that is
        // small; a repeat sends that copy completed with the rest of `src` (spooled, to disk
        // if large). An attempt that failed after reading more than the tee keeps is left to
        // the caller to send again.
        let mut tee = Tee {
            src: &mut *src,
            copy: Some(Vec::new()),
        };
        let first_err = match write(&self.inner, &mut tee) {
            Err(e) if e.is_transient() => e,
            other => return other,
        };
        let Some(head) = tee.copy.take() else {
            return Err(first_err);
        };
        let mut spool = tempfile::SpooledTempFile::new(SPOOL_IN_MEMORY);
        let mut first_err = Some(first_err);
        let r = spool
            .write_all(&head)
            .and_then(|_| io::copy(src, &mut spool))
            .map_err(|e| TransportError::io(path, e))
            .and_then(|_| {
                self.retry("write", path, |_| {
                    if let Some(e) = first_err.take() {
                        // Counts the first attempt in the policy: its wait comes next.
                        return Err(e);
                    }
                    spool.rewind().map_err(|e| TransportError::io(path, e))?;
                    write(&self.inner, &mut spool)
                })
            });
        if r.is_err() {
            // A cut-off attempt may have left its part behind; ours to remove when we give
            // up (best effort: the next start removes what is left).
            let _ = self.inner.remove(&super::part_name(path));
        }
        r
    }
}

/// Copies what is read from `src` into `copy` while it stays under [`TEE_KEEPS`].
struct Tee<'a> {
    src: &'a mut dyn Read,
    copy: Option<Vec<u8>>,
}

impl Read for Tee<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.src.read(buf)?;
        if let Some(c) = &mut self.copy {
            if c.len() + n > TEE_KEEPS {
                self.copy = None;
            } else {
                c.extend_from_slice(&buf[..n]);
            }
        }
        Ok(n)
    }
}

impl<T: Transport> Transport for RetryingTransport<T> {
    fn describe(&self) -> String {
        self.inner.describe()
    }

    fn features(&self) -> Features {
        self.inner.features()
    }

    fn list(&self, dir: &str) -> Result<Vec<Entry>> {
        self.retry("list", dir, |_| self.inner.list(dir))
    }

    fn stat(&self, path: &str) -> Result<Option<Entry>> {
        self.retry("stat", path, |_| self.inner.stat(path))
    }

    fn read_to(&self, path: &str, sink: &mut dyn Write) -> Result<u64> {
        // Into a spool first: a cut-off attempt must not leave half a file in the sink.
        let mut spool = tempfile::SpooledTempFile::new(SPOOL_IN_MEMORY);
        self.retry("read", path, |_| {
            spool.rewind().map_err(|e| TransportError::io(path, e))?;
            spool.set_len(0).map_err(|e| TransportError::io(path, e))?;
            self.inner.read_to(path, &mut spool)
        })?;
        spool.rewind().map_err(|e| TransportError::io(path, e))?;
        io::copy(&mut spool, sink).map_err(|e| TransportError::io(path, e))
    }

    fn write_atomic(&self, path: &str, src: &mut dyn Read) -> Result<Written> {
        self.upload(path, src, |t, r| t.write_atomic(path, r))
    }

    fn write_atomic_unflushed(&self, path: &str, src: &mut dyn Read) -> Result<Written> {
        self.upload(path, src, |t, r| t.write_atomic_unflushed(path, r))
    }

    fn put_file(&self, local: &Path, path: &str, known: Option<&Written>) -> Result<Written> {
        // The file does not change any more (the contract of `put_file`): a receipt for fewer
        // bytes than it holds is a short upload, sent again.
        let expected = std::fs::metadata(local)
            .map_err(|e| TransportError::io(local.display().to_string(), e))?
            .len();
        self.retry("write", path, |_| {
            let w = self.inner.put_file(local, path, known)?;
            if w.size != expected {
                return Err(TransportError::Short {
                    path: path.into(),
                    wrote: w.size,
                    expected,
                    on_server: None,
                });
            }
            Ok(w)
        })
    }

    fn rename(&self, from: &str, to: &str) -> Result<()> {
        let mut lost_reply = false;
        self.retry("rename", from, |_| match self.inner.rename(from, to) {
            // The attempt before may have renamed and lost only its reply.
            Err(TransportError::NotFound { .. }) if lost_reply => {
                if self.inner.stat(to)?.is_some() {
                    Ok(())
                } else {
                    Err(TransportError::NotFound { path: from.into() })
                }
            }
            Err(e) => {
                lost_reply = e.is_transient();
                Err(e)
            }
            ok => ok,
        })
    }

    fn remove(&self, path: &str) -> Result<()> {
        self.retry("remove", path, |_| self.inner.remove(path))
    }

    fn mkdir_all(&self, path: &str) -> Result<()> {
        self.retry("mkdir", path, |_| self.inner.mkdir_all(path))
    }
}

#[cfg(test)]
mod tests {
    use super::super::faulty::{Fault, Faults, FaultyTransport};
    use super::super::local::LocalTransport;
    use super::*;

    fn quick(attempts: usize) -> Backoff {
        Backoff {
            attempts,
            first: Duration::from_millis(1),
            max: Duration::from_millis(4),
            seed: Some(1),
        }
    }

    #[test]
    fn delays_grow_are_capped_and_jittered() {
        let b = Backoff {
            attempts: 8,
            first: Duration::from_millis(100),
            max: Duration::from_millis(800),
            seed: Some(9),
        };
        let d: Vec<Duration> = b.delays().collect();
        assert_eq!(d.len(), 7);
        for (i, d) in d.iter().enumerate() {
            let step = Duration::from_millis(100 << i.min(3));
            assert!(*d >= step && *d <= step * 2, "delay {i}: {d:?}");
        }
        let again: Vec<Duration> = b.delays().collect();
        assert_eq!(d, again, "a seed replays the jitter");
        let other: Vec<Duration> = Backoff {
            seed: Some(10),
            ..b
        }
        .delays()
        .collect();
        assert_ne!(d, other, "jitter varies with the seed");
    }

    #[test]
    fn transient_errors_are_retried_and_lasting_ones_are_not() {
        let mut calls = 0;
        let r = quick(4).run(
            |_| {
                calls += 1;
                if calls < 3 {
                    Err(TransportError::Connection("reset".into()))
                } else {
                    Ok(calls)
                }
            },
            |_, _| {},
        );
        assert_eq!(r.unwrap(), 3);
        let mut calls = 0;
        let r: Result<()> = quick(4).run(
            |_| {
                calls += 1;
                Err(TransportError::Refused("host key mismatch".into()))
            },
            |_, _| {},
        );
        assert!(r.is_err());
        assert_eq!(calls, 1);
        let mut calls = 0;
        let r: Result<()> = quick(3).run(
            |_| {
                calls += 1;
                Err(TransportError::Connection("down".into()))
            },
            |_, _| {},
        );
        assert!(r.unwrap_err().is_transient());
        assert_eq!(calls, 3, "attempts are capped");
    }

    #[test]
    fn a_dropped_upload_is_sent_again_whole_from_the_spool() {
        let d = tempfile::tempdir().unwrap();
        let faulty = FaultyTransport::new(
            LocalTransport::new(d.path()),
            Faults {
                drop: 0.5,
                ..Faults::none(11)
            },
        );
        let t = RetryingTransport::new(faulty, quick(30));
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        for i in 0..10 {
            let name = format!("f{i}.json");
            let w = t.write_atomic(&name, &mut data.as_slice()).unwrap();
            assert_eq!(w.size, data.len() as u64);
            assert_eq!(std::fs::read(d.path().join(&name)).unwrap(), data);
            let mut got = Vec::new();
            assert_eq!(t.read_to(&name, &mut got).unwrap(), data.len() as u64);
            assert_eq!(
                got, data,
                "a cut download leaves nothing partial in the sink"
            );
        }
        assert!(t.inner().count(Fault::Drop) > 3);
    }

    /// Gives `left` bytes, then fails as a reset connection (a source on a network share).
    struct Cut {
        left: usize,
        reads_after: usize,
    }

    impl Read for Cut {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.left == 0 {
                self.reads_after += 1;
                return Err(io::Error::new(io::ErrorKind::ConnectionReset, "reset"));
            }
            let n = buf.len().min(self.left);
            buf[..n].fill(b'x');
            self.left -= n;
            Ok(n)
        }
    }

    #[test]
    fn an_upload_that_failed_after_more_than_the_tee_keeps_is_left_to_the_caller() {
        let d = tempfile::tempdir().unwrap();
        let t = RetryingTransport::new(LocalTransport::new(d.path()), quick(5));
        let mut src = Cut {
            left: TEE_KEEPS + 1,
            reads_after: 0,
        };
        let e = t.write_atomic("big.bin", &mut src).unwrap_err();
        assert!(e.is_transient(), "{e}");
        assert_eq!(
            src.reads_after, 1,
            "not repeated: the bytes could not be sent again"
        );
        assert!(!d.path().join("big.bin").exists());
        assert!(!d.path().join(".big.bin.part").exists());
    }

    #[test]
    fn a_short_upload_is_caught_and_sent_again() {
        let d = tempfile::tempdir().unwrap();
        let src = d.path().join("staged.json");
        let data = vec![b'7'; 100_000];
        std::fs::write(&src, &data).unwrap();
        std::fs::create_dir(d.path().join("srv")).unwrap();
        let faulty = FaultyTransport::new(
            LocalTransport::new(d.path().join("srv")),
            Faults {
                short: 0.6,
                ..Faults::none(4)
            },
        );
        let t = RetryingTransport::new(faulty, quick(20));
        for i in 0..10 {
            let name = format!("p{i}.json");
            let w = t.put_file(&src, &name, None).unwrap();
            assert_eq!(w.size, data.len() as u64);
            assert_eq!(
                std::fs::read(d.path().join("srv").join(&name)).unwrap(),
                data
            );
        }
        assert!(t.inner().count(Fault::Short) > 2);
        // Unwrapped, the short upload is reported as done: the fault is real.
        let raw = FaultyTransport::new(
            LocalTransport::new(d.path().join("srv")),
            Faults {
                short: 1.0,
                ..Faults::none(4)
            },
        );
        assert_eq!(raw.put_file(&src, "raw.json", None).unwrap().size, 50_000);
    }

    #[test]
    fn a_rename_whose_reply_was_lost_counts_as_done() {
        let d = tempfile::tempdir().unwrap();
        let mut ok = 0;
        for seed in 0..64 {
            // Half the renames drop, half of those after renaming (the reply is lost).
            let faulty = FaultyTransport::new(
                LocalTransport::new(d.path()),
                Faults {
                    drop: 0.5,
                    ..Faults::none(seed)
                },
            );
            let t = RetryingTransport::new(faulty, quick(5));
            let (from, to) = (format!("a{seed}"), format!("b{seed}"));
            std::fs::write(d.path().join(&from), b"1").unwrap();
            match t.rename(&from, &to) {
                Ok(()) => {
                    ok += 1;
                    assert!(d.path().join(&to).exists() && !d.path().join(&from).exists());
                }
                // Only when every attempt dropped; never NotFound for a rename that happened.
                Err(e) => {
                    assert!(e.is_transient(), "seed {seed}: {e}");
                    // One fault per attempt (the rename's, or the check of the target's).
                    assert_eq!(t.inner().log().len(), 5, "seed {seed}");
                }
            }
        }
        assert!(ok > 55, "{ok} of 64");
    }
}
