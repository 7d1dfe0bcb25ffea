//! One process per work folder: `run` and `once` hold an advisory lock on `state/lock` while
//! they work, with their pid written inside, so that a second one refuses at once and says who
//! holds the folder. Readers (`status`, `validate`) never take it.
//!
//! The lock is the kernel's (`flock`), so it ends with the process however it ends, kill -9
//! included; the file stays, and a stale pid in it means nothing while nobody holds the lock.

use anyhow::Context;
// fs4's trait, called by path: std's File grew inherent methods of the same names.
use fs4::FileExt;
use fs4::TryLockError;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The lock file inside the state folder.
pub fn lock_path(state: &Path) -> PathBuf {
    state.join("lock")
}

/// Who holds (or last held) a work folder, as written in its lock file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Holder {
    pub pid: u32,
    pub command: String,
    /// RFC 3339 with offset.
    pub since: String,
}

impl Holder {
    fn parse(text: &str) -> Option<Holder> {
        let mut lines = text.lines();
        Some(Holder {
            pid: lines.next()?.trim().parse().ok()?,
            command: lines.next().unwrap_or("").to_string(),
            since: lines.next().unwrap_or("").to_string(),
        })
    }
}

/// A held work folder; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct FolderLock {
    _file: File,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "the work folder {} is in use by process {} ({}, since {}): one `run` or `once` at a \
         time per work folder; stop it first, or wait for it to finish (lock file {})",
        workdir.display(), holder.pid, holder.command, holder.since, path.display()
    )]
    Held {
        workdir: PathBuf,
        path: PathBuf,
        holder: Holder,
    },
    #[error(
        "the work folder {} is in use by another process (its pid is not in {} yet); one \
         `run` or `once` at a time per work folder",
        workdir.display(), path.display()
    )]
    HeldUnknown { workdir: PathBuf, path: PathBuf },
}

fn open(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
}

fn read_holder(f: &mut File) -> Option<Holder> {
    let mut text = String::new();
    f.rewind().ok()?;
    f.read_to_string(&mut text).ok()?;
    Holder::parse(&text)
}

/// Takes the work folder for `command` (`run`, `once`), or says who has it.
pub fn take(workdir: &Path, state: &Path, command: &str) -> anyhow::Result<FolderLock> {
    std::fs::create_dir_all(state).with_context(|| state.display().to_string())?;
    let path = lock_path(state);
    let mut f = open(&path).with_context(|| format!("lock file {}", path.display()))?;
    // A `status` looks with a shared lock for an instant: a few short tries keep that from
    // turning a start into a refusal.
    let mut tries = 0;
    loop {
        match FileExt::try_lock(&f) {
            Ok(()) => break,
            Err(TryLockError::WouldBlock) if tries < 5 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(TryLockError::WouldBlock) => {
                let workdir = workdir.to_path_buf();
                return Err(match read_holder(&mut f) {
                    Some(holder) => LockError::Held {
                        workdir,
                        path,
                        holder,
                    },
                    None => LockError::HeldUnknown { workdir, path },
                }
                .into());
            }
            Err(TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("lock file {}", path.display()))
            }
        }
    }
    let since = chrono::Local::now()
        .fixed_offset()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
    let text = format!("{}\n{command}\n{since}\n", std::process::id());
    (|| -> std::io::Result<()> {
        f.set_len(0)?;
        f.rewind()?;
        f.write_all(text.as_bytes())?;
        f.sync_data()
    })()
    .with_context(|| format!("lock file {}", path.display()))?;
    Ok(FolderLock { _file: f })
}

/// The process holding the work folder now, if any (without taking it).
pub fn holder(state: &Path) -> Option<Holder> {
    let path = lock_path(state);
    let mut f = File::open(&path).ok()?;
    match FileExt::try_lock_shared(&f) {
        // Nobody holds it: whatever pid is written is stale.
        Ok(()) => {
            let _ = FileExt::unlock(&f);
            None
        }
        Err(TryLockError::WouldBlock) => read_holder(&mut f).or(Some(Holder {
            pid: 0,
            command: String::new(),
            since: String::new(),
        })),
        Err(TryLockError::Error(_)) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_taker_is_refused_with_the_holder_and_a_release_frees_the_folder() {
        let d = tempfile::tempdir().unwrap();
        let state = d.path().join("state");
        assert_eq!(holder(&state), None);
        let first = take(d.path(), &state, "run").unwrap();
        let h = holder(&state).unwrap();
        assert_eq!((h.pid, h.command.as_str()), (std::process::id(), "run"));
        assert!(
            chrono::DateTime::parse_from_rfc3339(&h.since).is_ok(),
            "{}",
            h.since
        );
        // flock locks belong to the open file: a second open in this process conflicts just
        // as another process's would.
        let e = take(d.path(), &state, "once").unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("process {}", std::process::id())) && msg.contains("(run,"),
            "{msg}"
        );
        drop(first);
        assert_eq!(holder(&state), None, "a released lock shows no holder");
        let again = take(d.path(), &state, "once").unwrap();
        assert_eq!(holder(&state).unwrap().command, "once");
        drop(again);
    }
}
