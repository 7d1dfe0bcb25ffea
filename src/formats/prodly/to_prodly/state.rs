//! The seam between the Prodly body builders and where their records come from: "the state
//! after the publish".
//!
//! Builders read COMPO records of a type through [`PublishState`] and never open files
//! themselves. [`FilesState`] feeds them the files of one batch (`convert`); the exchange feeds
//! them the record store, what the portal holds after a publish (`pipeline::prodly_state`),
//! so that stock totals, prices, personal prices and client balances come out right whatever
//! was published before. See docs/prodly.md, "Where the records come from".

use super::super::inputs::CompoInput;
use super::super::stream::{for_each_record, ReadEnd};
use super::super::ProdlyError;
use crate::compo::model::DataType;
use crate::compo::report::{codes, Issue};
use serde_json::{Map, Value};

/// What the state hands a builder, in order: for each part (today a file), `Part`, then its
/// records and problems, then `Counted`.
pub enum Fed<'r> {
    /// A part of the state begins. `file` is the report its problems go to (an index into the
    /// reports the conversion was given); `complete`: the part lists every record of its type
    /// (a snapshot, or the store after one), not only changes.
    Part { file: usize, complete: bool },
    /// A record, with its index in the part (the `record` of report issues).
    Record {
        index: u64,
        record: &'r Map<String, Value>,
    },
    /// Something of the part that is not a usable record: reported, not built.
    Problem { issue: Issue, warning: bool },
    /// How many records the part held.
    Counted { records: u64 },
}

/// The records the builders read, by COMPO type.
pub trait PublishState {
    /// Calls `each` with every part and record of `t`, in a stable order.
    fn for_each(
        &mut self,
        t: DataType,
        each: &mut dyn FnMut(Fed<'_>) -> Result<(), ProdlyError>,
    ) -> Result<(), ProdlyError>;

    /// Whether every record of `t` is in the state (a snapshot of it was published), or only
    /// changes.
    fn complete(&self, t: DataType) -> bool;

    /// About how many bytes of records of `types` there are: sizes the joins' partitions.
    fn size(&self, types: &[DataType]) -> u64;
}

/// The state as the files of one publish give it: each file is a part; a snapshot file is
/// complete, a delta is not. Deletions are not records of the state (the store applies them):
/// they are reported, as Prodly has no deletion by key.
pub(crate) struct FilesState<'a> {
    pub found: &'a [CompoInput],
}

impl FilesState<'_> {
    fn files(&self, t: DataType) -> impl Iterator<Item = (usize, &CompoInput)> + '_ {
        self.found
            .iter()
            .enumerate()
            .filter(move |(_, c)| c.data_type() == Some(t))
    }
}

impl PublishState for FilesState<'_> {
    fn for_each(
        &mut self,
        t: DataType,
        each: &mut dyn FnMut(Fed<'_>) -> Result<(), ProdlyError>,
    ) -> Result<(), ProdlyError> {
        let parts: Vec<(usize, std::path::PathBuf, bool)> = self
            .files(t)
            .map(|(i, c)| {
                let complete = c.name.as_ref().is_some_and(|n| n.is_snapshot());
                (i, c.input.path.clone(), complete)
            })
            .collect();
        for (file, path, complete) in parts {
            each(Fed::Part { file, complete })?;
            let end = for_each_record(&path, |index, record| {
                let Value::Object(obj) = &record else {
                    return each(Fed::Problem {
                        issue: Issue::new(
                            Some(index),
                            format!("/{index}"),
                            codes::CONVERT_VALUE,
                            "a record must be a JSON object",
                        ),
                        warning: false,
                    });
                };
                if obj.get("deleted") == Some(&Value::Bool(true)) {
                    return each(Fed::Problem {
                        issue: Issue::new(
                            Some(index),
                            format!("/{index}/deleted"),
                            codes::CONVERT_UNSUPPORTED,
                            "Prodly has no deletion by key; the record was skipped (send it with \
                             active: false to withdraw it)",
                        ),
                        warning: true,
                    });
                }
                each(Fed::Record { index, record: obj })
            })?;
            match end {
                ReadEnd::Done(n) => each(Fed::Counted { records: n })?,
                ReadEnd::Bad { records, issue } => {
                    each(Fed::Counted { records })?;
                    each(Fed::Problem {
                        issue,
                        warning: false,
                    })?;
                }
            }
        }
        Ok(())
    }

    fn complete(&self, t: DataType) -> bool {
        self.files(t)
            .any(|(_, c)| c.name.as_ref().is_some_and(|n| n.is_snapshot()))
    }

    fn size(&self, types: &[DataType]) -> u64 {
        self.found
            .iter()
            .filter(|c| c.data_type().is_some_and(|t| types.contains(&t)))
            .map(|c| c.input.size)
            .sum()
    }
}
