//! Where the log goes and how much of it: stderr (coloured only at a terminal) or, with
//! `--log-file`, a file rotated daily with a limit on the files kept; `-v` adds each step of
//! each file, `-vv` each operation on the server.

use super::LogFormat;
use std::path::Path;
use tracing_subscriber::EnvFilter;

/// Rotated log files kept when `--log-keep` is not given: two weeks of daily files.
pub const KEEP_DEFAULT: usize = 14;

/// The filter for a verbosity: only our own crate gets more verbose (a dependency's trace
/// output would drown ours). `RUST_LOG` overrides it.
fn filter(verbose: u8) -> EnvFilter {
    let default = match verbose {
        0 => "info",
        1 => "info,compo_exchange=debug",
        _ => "info,compo_exchange=trace",
    };
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default))
}

/// Sets up the log. With `file`, lines go to `STEM.YYYY-MM-DD.EXT` beside it (the date in UTC,
/// a new file each day), never coloured, and only the `keep` newest such files stay.
pub fn init(
    format: LogFormat,
    verbose: u8,
    file: Option<&Path>,
    keep: usize,
) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    use tracing_subscriber::fmt::writer::BoxMakeWriter;
    let (writer, colour) = match file {
        Some(file) => (BoxMakeWriter::new(rolling(file, keep)?), false),
        // Colour is for people at a terminal: never into a pipe, a file or journald, and
        // never when NO_COLOR is set (no-color.org).
        None => (
            BoxMakeWriter::new(std::io::stderr),
            std::io::stderr().is_terminal()
                && std::env::var_os("NO_COLOR").map_or(true, |v| v.is_empty()),
        ),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter(verbose))
        .with_ansi(colour)
        .with_writer(writer);
    let _ = match format {
        LogFormat::Text => builder.with_target(false).try_init(),
        LogFormat::Json => builder.json().with_current_span(false).try_init(),
    };
    Ok(())
}

/// The daily appender for `--log-file PATH`: `compo.log` becomes `compo.2026-11-30.log`.
fn rolling(
    file: &Path,
    keep: usize,
) -> anyhow::Result<tracing_appender::rolling::RollingFileAppender> {
    use tracing_appender::rolling::{Builder, Rotation};
    anyhow::ensure!(
        keep >= 1,
        "--log-keep: give at least 1 (the file being written)"
    );
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| anyhow::anyhow!("--log-file {}: give a file name", file.display()))?;
    let dir = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s, Some(e)),
        _ => (name, None),
    };
    let mut b = Builder::new()
        .rotation(Rotation::DAILY)
        .filename_prefix(stem)
        .max_log_files(keep);
    if let Some(e) = ext {
        b = b.filename_suffix(e);
    }
    b.build(dir)
        .map_err(|e| anyhow::anyhow!("--log-file {}: {e}", file.display()))
}

#[cfg(test)]
mod tests {
    use super::rolling;

    #[test]
    fn the_days_file_is_named_from_the_path_given() {
        let d = tempfile::tempdir().unwrap();
        let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
        rolling(&d.path().join("logs/compo.log"), 3).unwrap();
        rolling(&d.path().join("plain"), 3).unwrap();
        assert!(d.path().join(format!("logs/compo.{today}.log")).is_file());
        assert!(d.path().join(format!("plain.{today}")).is_file());
        let e = rolling(&d.path().join("x.log"), 0).err().unwrap();
        assert!(e.to_string().contains("--log-keep"), "{e}");
    }
}
