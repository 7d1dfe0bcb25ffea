//! What a batch is made of: its data files and attached files, found in a folder or given
//! one by one, with the names that cannot be data refused before anything is read.

use super::*;

/// A data file of a batch.
#[derive(Debug, Clone)]
pub struct DataInput {
    /// Name in reports: relative to the batch folder, or the path as given.
    pub rel: String,
    pub path: PathBuf,
    pub name: DataFileName,
}

/// An attached file of a batch.
#[derive(Debug, Clone)]
pub struct AttachedInput {
    pub rel: String,
    pub path: PathBuf,
    pub folder: AttachedFolder,
    pub name: String,
}

/// Files checked together.
#[derive(Debug, Clone, Default)]
pub struct BatchInput {
    pub data: Vec<DataInput>,
    pub attached: Vec<AttachedInput>,
    /// Files whose name is not a data file of the protocol.
    pub unknown: Vec<String>,
    /// Attached-file folders that are part of the batch: references into them are checked
    /// even when the state of the server is unknown.
    pub folders: BTreeSet<AttachedFolder>,
    /// Top-level files of a folder left out for their temporary or hidden names (`.gitkeep`,
    /// `~lock`), so that `validate` can list them.
    pub ignored: Vec<String>,
    /// Sub-folders of a folder other than `pictures/` and `invoices/`: not part of the batch
    /// (`validate --recursive` makes each a batch of its own). Name and path.
    pub subfolders: Vec<(String, PathBuf)>,
}

/// A FIFO, socket or device would make reading block forever or read a stream that never
/// ends: such an entry is refused, naming it, before anything is read.
fn refuse_special(path: &Path) -> Result<(), ValidateError> {
    let Ok(md) = std::fs::metadata(path) else {
        return Ok(());
    };
    if md.is_file() || md.is_dir() {
        return Ok(());
    }
    #[cfg(unix)]
    let what = {
        use std::os::unix::fs::FileTypeExt;
        let t = md.file_type();
        if t.is_fifo() {
            "a FIFO (named pipe)"
        } else if t.is_socket() {
            "a socket"
        } else {
            "a device"
        }
    };
    #[cfg(not(unix))]
    let what = "not a regular file";
    Err(ValidateError::Io {
        path: path.to_path_buf(),
        source: io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{what}, not a regular file: only files are validated; remove it or validate the files by name"),
        ),
    })
}

impl BatchInput {
    /// A folder laid out like `in/`: data files at the top, `pictures/` and `invoices/` below.
    pub fn from_folder(dir: &Path, side: Side) -> Result<BatchInput, ValidateError> {
        let io_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| ValidateError::Io { path, source }
        };
        let mut b = BatchInput::default();
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .map_err(io_err(dir))?
            .collect::<Result<_, _>>()
            .map_err(io_err(dir))?;
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = e.file_name().to_string_lossy().into_owned();
            let path = e.path();
            if crate::compo::model::is_temporary_name(&name) {
                if !path.is_dir() {
                    b.ignored.push(name);
                }
                continue;
            }
            refuse_special(&path)?;
            if path.is_dir() {
                if let Some(folder) = AttachedFolder::from_name(&name) {
                    b.folders.insert(folder);
                    let mut files: Vec<_> = std::fs::read_dir(&path)
                        .map_err(io_err(&path))?
                        .collect::<Result<_, _>>()
                        .map_err(io_err(&path))?;
                    files.sort_by_key(|e| e.file_name());
                    for f in files {
                        let fname = f.file_name().to_string_lossy().into_owned();
                        if crate::compo::model::is_temporary_name(&fname) && !fname.starts_with('.')
                        {
                            continue;
                        }
                        refuse_special(&f.path())?;
                        b.attached.push(AttachedInput {
                            rel: format!("{}/{fname}", folder.name()),
                            path: f.path(),
                            folder,
                            name: fname,
                        });
                    }
                } else {
                    b.subfolders.push((name, path));
                }
                continue;
            }
            b.add_file(name.clone(), path, &name, side);
        }
        Ok(b)
    }

    /// Loose files named on the command line, checked together. With `as_type`, every data
    /// file is taken as a snapshot of that type whatever its name.
    pub fn from_files(paths: &[PathBuf], side: Side, as_type: Option<DataType>) -> BatchInput {
        let mut b = BatchInput::default();
        for p in paths {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let parent = p
                .parent()
                .and_then(|d| d.file_name())
                .and_then(|d| AttachedFolder::from_name(&d.to_string_lossy()));
            match parent {
                Some(folder) => b.attached.push(AttachedInput {
                    rel: p.display().to_string(),
                    path: p.clone(),
                    folder,
                    name,
                }),
                None => match as_type {
                    Some(t) => b.data.push(DataInput {
                        rel: p.display().to_string(),
                        path: p.clone(),
                        name: DataFileName {
                            data_type: t,
                            kind: crate::compo::model::FileKind::Snapshot,
                        },
                    }),
                    None => b.add_file(p.display().to_string(), p.clone(), &name, side),
                },
            }
        }
        b
    }

    /// Adds one top-level file, classifying it by name.
    pub fn add_file(&mut self, rel: String, path: PathBuf, name: &str, side: Side) {
        match DataFileName::parse(name, side) {
            Some(n) => self.data.push(DataInput { rel, path, name: n }),
            None => self.unknown.push(rel),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty() && self.attached.is_empty() && self.unknown.is_empty()
    }

    /// Total bytes of the batch's files (for progress).
    pub fn total_bytes(&self) -> u64 {
        self.data
            .iter()
            .map(|d| &d.path)
            .chain(self.attached.iter().map(|a| &a.path))
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum()
    }
}
