//! The one integration-test binary: every test runs real files through the real binary or the
//! library, with the harness in `harness.rs` (and a real sshd from `sshd.rs`).

mod attached;
mod bridges;
mod changes;
mod changes_crash;
mod changes_property;
mod cli;
mod daemon;
mod ends;
mod exchange;
mod exchange_sftp;
mod guard;
mod handoff;
mod harness;
mod history;
mod logs;
mod observe;
mod ops;
mod package;
mod precommit;
mod prodly;
mod proftpd;
mod proftpd_server;
mod reference_portal;
mod resilience;
mod schemas;
mod sellper;
mod sshd;
mod transport;
mod validate;
mod validate_1c;
mod validate_ci;
