//! Small helpers shared by the integration tests: temporary folders, running the CLI.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository's `fixtures/` folder.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// A command for the binary under test, with logs kept quiet unless asked for.
pub fn cli() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_compo-exchange"));
    c.env_remove("RUST_LOG");
    c
}

/// Runs the binary with `args` and returns its output.
pub fn run<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    cli().args(args).output().expect("run compo-exchange")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fresh temporary folder, removed when dropped.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("compo-it-")
        .tempdir()
        .expect("tempdir")
}
