//! The one integration-test binary: every test runs real files through the real binary or the
//! library, with the harness in `harness.rs`.

mod daemon;
mod exchange;
mod harness;
mod prodly;
mod validate;
