//! The one integration-test binary: every test runs real files through the real binary or the
//! library, with the harness in `harness.rs`.

mod harness;
mod prodly;
