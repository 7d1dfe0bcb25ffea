//! Which files `validate` takes: the batches of the paths given (sub-folders with
//! `--recursive`), less `--exclude`, with the files skipped and the sub-folders left out as
//! notices, and the path under which each file is reported.

use super::{Level, Notice};
use crate::compo::messages::{msg, Lang};
use crate::compo::model::{DataFileName, DataType, Side};
use crate::compo::report::codes;
use crate::compo::validate::BatchInput;
use std::path::{Component, Path, PathBuf};

/// A batch and where its files are reported: `base` joined with each file's name in the batch
/// (the folder as given on the command line and the sub-folder), or, for files named directly,
/// the names as given.
pub struct Batch {
    pub input: BatchInput,
    pub base: Option<PathBuf>,
}

impl Batch {
    /// The path a file of this batch is reported under.
    pub fn shown(&self, rel: &str) -> String {
        match &self.base {
            Some(b) => shown(&b.join(rel)),
            None => shown(Path::new(rel)),
        }
    }

    /// Data files and attached files: what is validated.
    pub fn files(&self) -> usize {
        self.input.data.len() + self.input.attached.len()
    }
}

/// A path as reported: as given, without `./` steps (CI tools match paths from the
/// repository's root, and `./a.json` is not `a.json` to them).
pub fn shown(p: &Path) -> String {
    let clean: PathBuf = p
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect();
    if clean.as_os_str().is_empty() {
        ".".to_string()
    } else {
        clean.display().to_string()
    }
}

pub struct Collector {
    pub side: Side,
    pub recursive: bool,
    pub exclude: globset::GlobSet,
    pub lang: Lang,
    pub batches: Vec<Batch>,
    pub notices: Vec<Notice>,
}

impl Collector {
    /// Whether `--exclude` leaves out a file or folder: a glob matches either the path as
    /// reported or the path inside the folder given on the command line.
    fn excluded(&self, shown: &str, inside: &str) -> bool {
        self.exclude.is_match(shown) || (!inside.is_empty() && self.exclude.is_match(inside))
    }

    fn skipped(&mut self, path: String) {
        self.notices.push(Notice {
            path: Some(path),
            level: Level::Note,
            code: codes::FILE_SKIPPED,
            message: msg!(self.lang, "file-skipped"),
        });
    }

    /// The batch of folder `dir`, then its sub-folders; `inside` is `dir`'s path below the
    /// folder given on the command line (empty for that folder itself).
    pub fn folder(&mut self, dir: &Path, inside: &str) -> anyhow::Result<()> {
        let mut input = BatchInput::from_folder(dir, self.side)?;
        let base = dir.to_path_buf();
        let under = |rel: &str| -> String {
            if inside.is_empty() {
                rel.to_string()
            } else {
                format!("{inside}/{rel}")
            }
        };
        let keep = |c: &Collector, rel: &str| !c.excluded(&shown(&base.join(rel)), &under(rel));
        input.data.retain(|d| keep(self, &d.rel));
        input.attached.retain(|a| keep(self, &a.rel));
        let unknown = std::mem::take(&mut input.unknown);
        for u in unknown {
            if !keep(self, &u) {
                continue;
            }
            // A .json name that is no data type stays an error (a misspelt products.json must
            // not pass); anything else (README.md) is not data and is only listed.
            if u.to_ascii_lowercase().ends_with(".json") {
                input.unknown.push(u);
            } else {
                self.skipped(shown(&base.join(&u)));
            }
        }
        for i in std::mem::take(&mut input.ignored) {
            if keep(self, &i) {
                self.skipped(shown(&base.join(&i)));
            }
        }
        let subfolders = std::mem::take(&mut input.subfolders);
        if !input.is_empty() {
            self.batches.push(Batch {
                input,
                base: Some(base.clone()),
            });
        }
        for (name, path) in subfolders {
            let sub_inside = under(&name);
            if !keep(self, &name) {
                continue;
            }
            // Links are not followed: a link to a parent would walk forever.
            if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
                continue;
            }
            if self.recursive {
                self.folder(&path, &sub_inside)?;
            } else {
                let found = self.data_files_below(&path, &sub_inside);
                if let Some(first) = found.first() {
                    self.notices.push(Notice {
                        path: Some(shown(&path)),
                        level: Level::Warning,
                        code: codes::FOLDER_NOT_WALKED,
                        message: msg!(
                            self.lang,
                            "folder-not_walked",
                            count = found.len(),
                            example = first.as_str()
                        ),
                    });
                }
            }
        }
        Ok(())
    }

    /// The data files anywhere below `dir` that `--exclude` leaves in, as reported.
    fn data_files_below(&self, dir: &Path, inside: &str) -> Vec<String> {
        let mut out = Vec::new();
        let inner = |p: &Path| {
            let below = p.strip_prefix(dir).unwrap_or(p);
            format!("{inside}/{}", below.display())
        };
        // Hidden and excluded folders are not entered (.git, an excluded node_modules).
        let walk = walkdir::WalkDir::new(dir)
            .min_depth(1)
            .into_iter()
            .filter_entry(|e| {
                let hidden =
                    crate::compo::model::is_temporary_name(&e.file_name().to_string_lossy());
                let excluded =
                    e.file_type().is_dir() && self.excluded(&shown(e.path()), &inner(e.path()));
                !hidden && !excluded
            });
        for e in walk.flatten() {
            if !e.file_type().is_file() {
                continue;
            }
            let name = e.file_name().to_string_lossy();
            if DataFileName::parse(&name, self.side).is_none() {
                continue;
            }
            let path = shown(e.path());
            if !self.excluded(&path, &inner(e.path())) {
                out.push(path);
            }
        }
        out
    }

    /// Files named directly on the command line: one batch together, as before.
    pub fn files(&mut self, paths: &[PathBuf], as_type: Option<DataType>) {
        let kept: Vec<PathBuf> = paths
            .iter()
            .filter(|p| !self.excluded(&shown(p), ""))
            .cloned()
            .collect();
        if kept.is_empty() {
            return;
        }
        let mut input = BatchInput::from_files(&kept, self.side, as_type);
        for u in std::mem::take(&mut input.unknown) {
            if u.to_ascii_lowercase().ends_with(".json") {
                input.unknown.push(u);
            } else {
                self.skipped(shown(Path::new(&u)));
            }
        }
        if !input.is_empty() {
            self.batches.push(Batch { input, base: None });
        }
    }
}
