//! scripts/package end to end: the static binary and the .deb are built, the .deb is inspected
//! with dpkg-deb and the binary extracted from it runs. Skipped, with the reason printed, when
//! the packaging tools are missing (scripts/install-deps installs them); the build takes a few
//! minutes (OpenSSL is compiled).

use crate::exchange_sftp::batch_into_outbox;
use crate::harness::{self, Work};
use crate::sshd::Sshd;
use std::path::Path;
use std::process::Command;

fn missing_tool() -> Option<&'static str> {
    let works = |cmd: &str, arg: &str| {
        Command::new(cmd)
            .arg(arg)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !works("cargo-deb", "--version") {
        return Some("cargo-deb");
    }
    if !works("dpkg-deb", "--version") {
        return Some("dpkg-deb");
    }
    if std::env::var_os("COMPO_PACKAGE_TARGET").is_none() && !works("musl-gcc", "--version") {
        return Some("musl-gcc (musl-tools)");
    }
    None
}

#[test]
fn the_package_script_builds_a_static_binary_and_a_deb_that_installs_it() {
    if let Some(tool) = missing_tool() {
        eprintln!("skipped: {tool} is not installed (scripts/install-deps installs it)");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // At the lowest priority: the suite's timing-sensitive tests run beside this build.
    let o = Command::new("nice")
        .args(["-n", "19"])
        .arg(root.join("scripts/package"))
        .current_dir(root)
        .output()
        .expect("run scripts/package");
    let out = harness::stdout(&o);
    assert!(o.status.success(), "{out}\n{}", harness::stderr(&o));
    let version = env!("CARGO_PKG_VERSION");
    // The binary extracted from the .deb answers with this build's version.
    assert!(
        out.lines()
            .any(|l| l.starts_with(&format!("compo-exchange {version} (commit "))),
        "{out}"
    );
    assert!(out.contains("Package: compo-exchange"), "{out}");
    assert!(out.contains("./usr/bin/compo-exchange"), "{out}");
    assert!(
        out.contains("./usr/lib/systemd/system/compo-exchange.service"),
        "{out}"
    );
    // No shared library: the binary runs whatever the host's OpenSSL and libc.
    if std::env::var_os("COMPO_PACKAGE_TARGET").is_none() {
        let ldd = out
            .split("ldd:\n")
            .nth(1)
            .and_then(|s| s.lines().next())
            .unwrap_or_default();
        assert!(
            ldd.contains("statically linked") || ldd.contains("not a dynamic executable"),
            "ldd: {ldd}\n{out}"
        );
    }
    let deb = root.join(format!(
        "target/package/compo-exchange_{version}-1_amd64.deb"
    ));
    assert!(deb.is_file(), "{}", deb.display());

    // The packaged binary does the exchange over SFTP with its own OpenSSL: a real sshd gets
    // the whole sample batch.
    let bin = root.join(format!(
        "target/package/compo-exchange-{version}-x86_64-linux"
    ));
    let sshd = Sshd::start();
    let site = sshd.site();
    let w = Work::new();
    batch_into_outbox(&w);
    let o = Command::new(&bin)
        .arg("once")
        .arg("--config")
        .arg(w.config())
        .args(site.args())
        .env("LC_ALL", "C.UTF-8")
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}\n{}",
        harness::stdout(&o),
        harness::stderr(&o)
    );
    assert_eq!(harness::names(&site.root.join("in")).len(), 17);
}
