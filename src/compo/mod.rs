//! The COMPO data model and its validator: types, schemas, record checks and reports.

pub mod attached;
pub mod checks;
pub mod ident;
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
