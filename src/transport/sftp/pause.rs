//! TEST ONLY: a pause between the two renames of the fallback replace, so that a test can kill
//! the server at exactly that point (tests/it/proftpd.rs). Nothing happens unless the
//! environment variable `COMPO_TEST_PAUSE_BETWEEN_RENAMES` names a folder when the transport
//! connects (or a test sets one with `SftpTransport::pause_between_renames_at`); never set it
//! in production.
//!
//! The test arms the pause by writing into that folder a file `armed` holding a piece of the
//! target path. The first fallback replace onto a matching path removes `armed`, writes the
//! path into `reached`, and waits (at most a minute) until a file `go` appears.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The test-only variable; see the module documentation.
pub const VAR: &str = "COMPO_TEST_PAUSE_BETWEEN_RENAMES";

/// The gate folder the environment names, if any.
pub(super) fn gate_from_env() -> Option<PathBuf> {
    std::env::var_os(VAR).map(PathBuf::from)
}

/// Called by the fallback after the old file is moved aside, before the new one is moved in.
pub(super) fn between_renames(gate: Option<&Path>, target: &str) {
    let Some(dir) = gate else {
        return;
    };
    let armed = dir.join("armed");
    let Ok(want) = std::fs::read_to_string(&armed) else {
        return;
    };
    // Removing the file claims the pause: parallel workers pause at most once in all.
    if want.is_empty() || !target.contains(want.trim()) || std::fs::remove_file(&armed).is_err() {
        return;
    }
    tracing::warn!(
        path = target,
        "{VAR}: paused between the renames (test only)"
    );
    let _ = std::fs::write(dir.join("reached"), target);
    let until = Instant::now() + Duration::from_secs(60);
    while !dir.join("go").exists() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(10));
    }
}
