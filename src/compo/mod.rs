//! The COMPO data model and its validator: types, schemas, record checks and reports.

/// The protocol version this build implements (spec: `compo-json/1`).
pub const PROTOCOL: &str = "compo-json/1";

pub mod attached;
pub mod canonical;
pub mod checks;
pub mod ident;
pub mod key_changes;
pub mod keys;
pub mod messages;
pub mod model;
pub mod normalise;
pub mod pattern;
pub mod reader;
pub mod report;
pub mod schema;
pub mod strict;
pub mod tape;
pub mod validate;
