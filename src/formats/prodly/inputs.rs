//! Finding the files a conversion reads: COMPO data files named by the protocol, given one by
//! one or as folders laid out like `in/`, and plain JSON files for Prodly exports.

use super::ProdlyError;
use crate::compo::model::{DataFileName, DataType, Side};
use std::path::{Path, PathBuf};

/// One input file and the name it is reported under.
#[derive(Debug, Clone)]
pub(crate) struct Input {
    pub path: PathBuf,
    /// Relative to the folder it was found in, or the file name when given directly.
    pub display: String,
    pub size: u64,
}

/// A COMPO input: its data file name, or `None` when the name is not a data type.
#[derive(Debug, Clone)]
pub(crate) struct CompoInput {
    pub input: Input,
    pub name: Option<DataFileName>,
}

impl CompoInput {
    pub(crate) fn data_type(&self) -> Option<DataType> {
        self.name.as_ref().map(|n| n.data_type)
    }
}

fn read_err(path: &Path) -> impl Fn(std::io::Error) -> ProdlyError + '_ {
    move |source| ProdlyError::Read {
        path: path.to_path_buf(),
        source,
    }
}

/// The `*.json` files given, folders expanded to their top-level `*.json` files in name order.
/// Sub-folders (`pictures/`, `invoices/`) and temporary names are not data and are skipped.
fn expand(inputs: &[PathBuf]) -> Result<Vec<Input>, ProdlyError> {
    let mut out = Vec::new();
    for p in inputs {
        let meta = std::fs::metadata(p).map_err(read_err(p))?;
        if meta.is_dir() {
            let mut names = Vec::new();
            for entry in std::fs::read_dir(p).map_err(read_err(p))? {
                let entry = entry.map_err(read_err(p))?;
                let name = entry.file_name().to_string_lossy().into_owned();
                let meta = entry.metadata().map_err(read_err(&entry.path()))?;
                if meta.is_file()
                    && name.ends_with(".json")
                    && !crate::compo::model::is_temporary_name(&name)
                {
                    names.push((name, meta.len()));
                }
            }
            names.sort();
            out.extend(names.into_iter().map(|(name, size)| Input {
                path: p.join(&name),
                display: name,
                size,
            }));
        } else {
            let display = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| p.display().to_string());
            out.push(Input {
                path: p.clone(),
                display,
                size: meta.len(),
            });
        }
    }
    Ok(out)
}

/// COMPO inputs in publishing order (types that others refer to first), files of one type in
/// the order given.
pub(crate) fn collect_compo(inputs: &[PathBuf]) -> Result<Vec<CompoInput>, ProdlyError> {
    let mut found: Vec<CompoInput> = expand(inputs)?
        .into_iter()
        .map(|input| {
            let name = DataFileName::parse(&input.display, Side::Outbound);
            CompoInput { input, name }
        })
        .collect();
    found.sort_by_key(|c| c.data_type().map_or(usize::MAX, |t| t.rank()));
    Ok(found)
}

/// Plain JSON inputs, in the order given.
pub(crate) fn collect_json(inputs: &[PathBuf]) -> Result<Vec<Input>, ProdlyError> {
    expand(inputs)
}
