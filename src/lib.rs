//! compo-exchange: exchanges data between a supplier's ERP and the COMPO B2B portal through the
//! COMPO folder protocol, validating and transforming files on the way.

pub mod cli;
pub mod compo;
pub mod config;
pub mod formats;
pub mod journal;
pub mod observe;
pub mod pipeline;
pub mod samples;
pub mod schedule;
pub mod transport;
