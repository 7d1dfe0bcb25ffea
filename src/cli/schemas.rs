//! `schemas --out DIR`: writes the JSON Schemas embedded in the binary, for editors, other
//! validators and `validate --schemas` (as a starting point for a stricter local copy).

use super::Exit;
use crate::compo::schema::EMBEDDED;
use crate::pipeline::fsutil;
use anyhow::Context;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Folder to write `<type>.schema.json` into (created when missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Replace schema files in DIR that differ from the embedded ones (a local edit is otherwise
    /// kept and reported).
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: Args) -> anyhow::Result<Exit> {
    let written = write_all(&args.out, args.force)?;
    match written {
        Written::All { changed } => {
            println!(
                "{} schemas in {} ({changed} written, {} already up to date)",
                EMBEDDED.len(),
                args.out.display(),
                EMBEDDED.len() - changed
            );
            Ok(Exit::Ok)
        }
        Written::Kept(differing) => {
            for p in &differing {
                eprintln!(
                    "compo-exchange: {} differs from the embedded schema and was kept; \
                     give --force to replace it",
                    p.display()
                );
            }
            Ok(Exit::Error)
        }
    }
}

/// What [`write_all`] did.
#[derive(Debug, PartialEq, Eq)]
enum Written {
    /// Every schema is in the folder; `changed` of them were (re)written.
    All { changed: usize },
    /// Nothing was written: these files hold something else (without `force`).
    Kept(Vec<PathBuf>),
}

/// Writes every embedded schema into `dir`, each atomically. Files that already hold other
/// text (a local edit) stop the whole run before anything is written unless `force`, so a
/// folder is never left half old, half new.
fn write_all(dir: &Path, force: bool) -> anyhow::Result<Written> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut todo = Vec::new();
    let mut differing = Vec::new();
    for (name, text) in EMBEDDED {
        let path = dir.join(format!("{name}.schema.json"));
        match std::fs::read(&path) {
            Ok(old) if old == text.as_bytes() => {}
            Ok(_) if !force => differing.push(path),
            Ok(_) => todo.push((path, *text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => todo.push((path, *text)),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }
    if !differing.is_empty() {
        return Ok(Written::Kept(differing));
    }
    for (path, text) in &todo {
        fsutil::write_atomic(path, |w: &mut dyn Write| w.write_all(text.as_bytes()))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(Written::All {
        changed: todo.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn every_embedded_schema_is_written_as_shipped_with_its_id() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("new/schemas");
        assert_eq!(
            write_all(&out, false).unwrap(),
            Written::All { changed: 16 }
        );
        for (name, text) in EMBEDDED {
            let file = format!("{name}.schema.json");
            let written = std::fs::read_to_string(out.join(&file)).unwrap();
            assert_eq!(written, *text, "{file}");
            let v: Value = serde_json::from_str(&written).unwrap();
            assert_eq!(
                v["$id"],
                format!("https://compo-exchange.example/schemas/v1/{file}"),
                "{file}"
            );
        }
        assert_eq!(std::fs::read_dir(&out).unwrap().count(), 16);
        // A second run has nothing to do.
        assert_eq!(write_all(&out, false).unwrap(), Written::All { changed: 0 });
    }

    #[test]
    fn a_locally_edited_schema_is_kept_unless_forced() {
        let d = tempfile::tempdir().unwrap();
        write_all(d.path(), false).unwrap();
        let edited = d.path().join("products.schema.json");
        std::fs::write(&edited, b"{\"local\": true}").unwrap();
        std::fs::remove_file(d.path().join("acts.schema.json")).unwrap();
        assert_eq!(
            write_all(d.path(), false).unwrap(),
            Written::Kept(vec![edited.clone()])
        );
        assert_eq!(std::fs::read(&edited).unwrap(), b"{\"local\": true}");
        // All or nothing: the missing one was not written either.
        assert!(!d.path().join("acts.schema.json").exists());
        assert_eq!(
            write_all(d.path(), true).unwrap(),
            Written::All { changed: 2 }
        );
        let (_, products) = EMBEDDED.iter().find(|(n, _)| *n == "products").unwrap();
        assert_eq!(std::fs::read_to_string(&edited).unwrap(), *products);
    }
}
