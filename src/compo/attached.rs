//! Attached files (pictures, invoices): names, extensions, magic bytes, sizes.

use super::model::AttachedFolder;
use super::report::Issue;
use std::path::Path;

/// Development stand-in; replaced by the checks branch.
pub fn check_name(_name: &str, _folder: AttachedFolder) -> Result<(), String> {
    Ok(())
}

/// Development stand-in; replaced by the checks branch.
pub fn check_file(_path: &Path, _name: &str, _folder: AttachedFolder, _max: u64) -> Vec<Issue> {
    Vec::new()
}
