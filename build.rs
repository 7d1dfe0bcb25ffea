//! Stamps the git commit into the binary for `--version`, so a bug report names the exact build.
//! Outside a git checkout (a source tarball, `cargo install` from a registry) it says "unknown".

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let o = Command::new("git").args(args).output().ok()?;
    let s = String::from_utf8_lossy(&o.stdout).trim().to_string();
    (o.status.success() && !s.is_empty()).then_some(s)
}

/// Watches `path` only when it exists: cargo reruns a build script on every build for a
/// missing one.
fn watch(path: Option<String>) {
    if let Some(p) = path.filter(|p| std::path::Path::new(p).exists()) {
        println!("cargo:rerun-if-changed={p}");
    }
}

fn main() {
    let commit = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=COMPO_GIT_COMMIT={commit}");
    // Run again when HEAD moves: HEAD itself changes on a checkout, the branch's ref on a
    // commit. Git says where both are (a worktree keeps them apart from the main checkout).
    watch(git(&["rev-parse", "--git-path", "HEAD"]));
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watch(git(&["rev-parse", "--git-path", &branch]));
    }
    watch(git(&["rev-parse", "--git-path", "packed-refs"]));
    println!("cargo:rerun-if-changed=build.rs");
}
