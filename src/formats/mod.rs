//! Bridges between COMPO and partner formats: Sellper XML and Prodly NDJSON.

pub mod prodly;
pub mod sellper;

use crate::compo::report::Report;
use std::path::PathBuf;

/// What a conversion produced: the files written and a report per input that had problems.
#[derive(Debug, Default)]
pub struct ConvertOutcome {
    pub written: Vec<PathBuf>,
    pub reports: Vec<Report>,
}

impl ConvertOutcome {
    pub fn has_errors(&self) -> bool {
        self.reports.iter().any(|r| !r.errors.is_empty())
    }
}
