//! Benchmark entry point for the SFTP transport (used by scripts/bench-sftp): uploads a
//! folder tree with N parallel workers, or downloads one file, and prints what it moved and
//! how long it took. Not part of the CLI on purpose.

use clap::{Parser, Subcommand};
use compo_exchange::transport::sftp::{SftpConfig, SftpTransport};
use compo_exchange::transport::Transport;
use rayon::prelude::*;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Parser)]
struct Args {
    /// sftp://USER@HOST[:PORT]/ROOT
    #[arg(long)]
    url: String,
    #[arg(long)]
    identity: Option<PathBuf>,
    #[arg(long)]
    known_hosts: Option<PathBuf>,
    /// Parallel workers, one SFTP session each.
    #[arg(long, default_value_t = 4)]
    jobs: usize,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Uploads every file under LOCAL into REMOTE (relative to the url's root).
    Put { local: PathBuf, remote: String },
    /// Downloads REMOTE (relative to the url's root) into LOCAL.
    Get { remote: String, local: PathBuf },
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut cfg = SftpConfig::new(args.url);
    cfg.identity = args.identity;
    cfg.known_hosts = args.known_hosts;
    cfg.pool_size = args.jobs.max(1);
    let started = Instant::now();
    let t = SftpTransport::connect(cfg)?;
    let (files, bytes) = match args.cmd {
        Cmd::Put { local, remote } => put(&t, &local, &remote, args.jobs)?,
        Cmd::Get { remote, local } => {
            let mut out =
                std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&local)?);
            let n = t.read_to(&remote, &mut out)?;
            std::io::Write::flush(&mut out)?;
            (1, n)
        }
    };
    let secs = started.elapsed().as_secs_f64();
    println!(
        "files={files} bytes={bytes} seconds={secs:.3} MBps={:.1}",
        bytes as f64 / 1e6 / secs
    );
    Ok(())
}

fn put(
    t: &SftpTransport,
    local: &std::path::Path,
    remote: &str,
    jobs: usize,
) -> anyhow::Result<(usize, u64)> {
    let mut files = Vec::new();
    for e in walkdir::WalkDir::new(local) {
        let e = e?;
        if e.file_type().is_file() {
            let rel = e.path().strip_prefix(local)?.to_string_lossy().into_owned();
            files.push((e.path().to_path_buf(), format!("{remote}/{rel}")));
        }
    }
    let dirs: BTreeSet<String> = files
        .iter()
        .map(|(_, r)| r.rsplit_once('/').map_or("", |x| x.0).to_string())
        .collect();
    for d in &dirs {
        t.mkdir_all(d)?;
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.max(1))
        .build()?;
    let bytes = pool.install(|| {
        files
            .par_iter()
            .map(|(path, dest)| -> anyhow::Result<u64> {
                let mut f = std::fs::File::open(path)?;
                Ok(t.write_atomic(dest, &mut f)?.size)
            })
            .sum::<anyhow::Result<u64>>()
    })?;
    Ok((files.len(), bytes))
}
