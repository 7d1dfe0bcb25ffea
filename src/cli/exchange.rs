//! `init`, `run`, `once` and `status`: the exchange on a work folder.

use super::{Exit, OutputFormat};
use crate::compo::model::{AttachedFolder, DataType};
use crate::config::{Overrides, Settings, EXAMPLE};
use crate::journal::{Journal, State};
use crate::pipeline::Engine;
use crate::schedule::{Job, Shutdown};
use anyhow::Context;
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

/// Where the work folder and the server are; shared by the exchange commands.
#[derive(clap::Args, Debug, Clone)]
pub struct Common {
    /// TOML configuration (see compo-exchange.example.toml); without it, defaults apply.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Work folder with outbox/, inbox/, archive/, rejected/, state/ and (by default) the local
    /// exchange server server/.
    #[arg(long, value_name = "DIR")]
    pub workdir: Option<PathBuf>,
    /// Exchange server: a folder, file:///path or sftp://USER@HOST[:PORT]/ROOT.
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// SFTP private key.
    #[arg(long, value_name = "FILE")]
    pub identity: Option<PathBuf>,
    /// SFTP known_hosts file (default ~/.ssh/known_hosts).
    #[arg(long, value_name = "FILE")]
    pub known_hosts: Option<PathBuf>,
}

impl Common {
    pub fn settings(&self) -> anyhow::Result<Settings> {
        let o = Overrides {
            workdir: self.workdir.clone(),
            server: self.server.clone(),
            identity: self.identity.clone(),
            known_hosts: self.known_hosts.clone(),
            ..Default::default()
        };
        Ok(Settings::load(self.config.as_deref(), &o)?)
    }
}

#[derive(clap::Args, Debug)]
pub struct InitArgs {
    /// Folder to set up (created when missing).
    pub dir: PathBuf,
    /// Also put sample files into the outbox and a sample order into server/out/.
    #[arg(long)]
    pub samples: bool,
}

/// Writes a commented config and the folder tree.
pub fn init(args: InitArgs) -> anyhow::Result<Exit> {
    let dir = &args.dir;
    std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
    let cfg = dir.join("compo-exchange.toml");
    if cfg.exists() {
        eprintln!("{} exists; left as it is", cfg.display());
    } else {
        // The example's paths are relative to workdir; here workdir is the folder itself.
        let text = EXAMPLE.replacen("workdir = \"exchange\"", "workdir = \".\"", 1);
        std::fs::write(&cfg, text).with_context(|| cfg.display().to_string())?;
    }
    let settings = Settings::load(
        Some(&cfg),
        &Overrides {
            workdir: Some(dir.clone()),
            ..Default::default()
        },
    )?;
    let engine = Engine::open(settings)?;
    if args.samples {
        samples(engine.settings())?;
    }
    println!(
        "initialised {}: drop files into {}, then run `compo-exchange once --config {}`",
        dir.display(),
        engine.settings().folders.outbox.display(),
        cfg.display()
    );
    Ok(Exit::Ok)
}

/// The sample batch shipped in the binary (fixtures/samples/), for the first run.
pub fn samples(s: &Settings) -> anyhow::Result<()> {
    for (rel, bytes) in crate::samples::FILES {
        let (base, rel) = match rel.strip_prefix("out/") {
            Some(r) => (s.server_out()?, r),
            None => (s.folders.outbox.clone(), *rel),
        };
        let to = base.join(rel);
        if let Some(d) = to.parent() {
            std::fs::create_dir_all(d)?;
        }
        // Written under a temporary name and renamed, as the protocol asks of every writer.
        crate::pipeline::fsutil::write_atomic(&to, |w| w.write_all(bytes))?;
    }
    Ok(())
}

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub common: Common,
}

/// The daemon, until SIGINT or SIGTERM.
pub fn run(args: RunArgs) -> anyhow::Result<Exit> {
    let settings = args.common.settings()?;
    let mut engine = Engine::open(settings)?;
    let shutdown = Shutdown::new();
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let s = shutdown.clone();
        // SAFETY-free: signal-hook's registry runs the closure outside the signal handler.
        let mut signals = signal_hook::iterator::Signals::new([sig])?;
        std::thread::spawn(move || {
            if signals.forever().next().is_some() {
                tracing::info!("stop requested; finishing the step in flight");
                s.trigger();
            }
        });
    }
    engine.run(&shutdown)?;
    Ok(Exit::Ok)
}

#[derive(clap::Args, Debug)]
pub struct OnceArgs {
    #[command(flatten)]
    pub common: Common,
    /// Put the built-in sample files into the outbox (and a sample order into the local
    /// server's out/) first: a demonstration on the embedded default.
    #[arg(long)]
    pub samples: bool,
    /// Print the summary as JSON.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

/// One pass regardless of schedule; exit 1 when anything was rejected.
pub fn once(args: OnceArgs) -> anyhow::Result<Exit> {
    let settings = args.common.settings()?;
    let mut engine = Engine::open(settings)?;
    if args.samples {
        samples(engine.settings())?;
    }
    let sum = engine.once()?;
    let mut out = std::io::stdout().lock();
    match args.format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &sum)?;
            writeln!(out)?;
        }
        OutputFormat::Text => {
            let f = &engine.settings().folders;
            for (what, list) in [
                ("published", &sum.published),
                ("delivered", &sum.delivered),
                ("unchanged", &sum.unchanged),
                ("superseded", &sum.superseded),
            ] {
                for n in list {
                    writeln!(out, "{what:<10} {n}")?;
                }
            }
            for n in &sum.waiting {
                writeln!(
                    out,
                    "waiting    {n} (still being written, or not yet ending with ]; taken by a \
                     later pass)"
                )?;
            }
            for n in sum.rejected.iter().chain(&sum.attached_rejected) {
                writeln!(out, "rejected   {n} (report in {})", f.rejected.display())?;
            }
            writeln!(
                out,
                "{} published, {} delivered, {} attached files published, {} rejected",
                sum.published.len(),
                sum.delivered.len(),
                sum.attached_published,
                sum.rejected.len() + sum.attached_rejected.len()
            )?;
        }
    }
    Ok(if sum.anything_rejected() {
        Exit::Invalid
    } else {
        Exit::Ok
    })
}

#[derive(clap::Args, Debug)]
pub struct StatusArgs {
    #[command(flatten)]
    pub common: Common,
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

#[derive(Serialize)]
struct TypeStatus {
    job: String,
    schedule: String,
    next_tick: Option<String>,
    last_file: Option<String>,
    last_published_at: Option<String>,
    waiting: usize,
    rejected_24h: usize,
}

#[derive(Serialize)]
struct Status {
    workdir: String,
    server: String,
    types: Vec<TypeStatus>,
    attached: Vec<AttachedStatus>,
    progress: Vec<crate::journal::Progress>,
}

#[derive(Serialize)]
struct AttachedStatus {
    folder: String,
    on_server: usize,
}

/// Per type: last published file, next tick, files waiting, rejections in the last 24 hours.
pub fn status(args: StatusArgs) -> anyhow::Result<Exit> {
    let s = args.common.settings()?;
    let db = s.folders.state.join("journal.db");
    if !db.exists() {
        anyhow::bail!(
            "no journal at {}: nothing has run in this work folder yet",
            db.display()
        );
    }
    let j = Journal::open(&db)?;
    let now = chrono::Local::now().fixed_offset();
    let since = (chrono::Utc::now() - chrono::Duration::hours(24)).to_rfc3339();
    let rejected = j.recent(State::Rejected, &since)?;
    let staged = j.all_staged()?;
    let last = j.last_published_by_type()?;
    let mut types = Vec::new();
    let mut jobs: Vec<Job> = AttachedFolder::ALL
        .into_iter()
        .map(Job::Attached)
        .chain(DataType::ALL.into_iter().map(Job::Data))
        .chain([Job::Collect])
        .collect();
    crate::schedule::publish_order(&mut jobs);
    for job in jobs {
        let cadence = s.plan.cadence(job);
        let key = job.key();
        let last_row = last.iter().find(|r| r.data_type.as_deref() == Some(key));
        let last_at = match last_row {
            Some(r) => j.entered(r.id, State::Published)?,
            None => None,
        };
        types.push(TypeStatus {
            job: key.to_string(),
            schedule: cadence.to_string(),
            next_tick: cadence.next_after(now).map(|t| t.to_rfc3339()),
            last_file: last_row.map(|r| r.target_name.clone().unwrap_or(r.name.clone())),
            last_published_at: last_at,
            waiting: staged
                .iter()
                .filter(|r| r.data_type.as_deref() == Some(key))
                .count(),
            rejected_24h: rejected
                .iter()
                .filter(|r| crate::pipeline::type_key_of(&r.name) == Some(key))
                .count(),
        });
    }
    let attached = AttachedFolder::ALL
        .into_iter()
        .map(|f| {
            Ok(AttachedStatus {
                folder: f.name().into(),
                on_server: j.manifest(f)?.len(),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let st = Status {
        workdir: s.folders.workdir.display().to_string(),
        server: match &s.server {
            crate::config::ServerLocation::Local(p) => p.display().to_string(),
            crate::config::ServerLocation::Sftp(u) => u.clone(),
        },
        types,
        attached,
        progress: j.progress()?,
    };
    let mut out = std::io::stdout().lock();
    match args.format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &st)?;
            writeln!(out)?;
        }
        OutputFormat::Text => {
            writeln!(out, "work folder {}  server {}", st.workdir, st.server)?;
            writeln!(
                out,
                "{:<16} {:<12} {:<26} {:>7} {:>12}  last published",
                "type", "schedule", "next tick", "waiting", "rejected 24h"
            )?;
            for t in &st.types {
                let last = match (&t.last_file, &t.last_published_at) {
                    (Some(f), Some(at)) => format!("{f} at {at}"),
                    _ => "-".into(),
                };
                writeln!(
                    out,
                    "{:<16} {:<12} {:<26} {:>7} {:>12}  {last}",
                    t.job,
                    t.schedule,
                    t.next_tick.as_deref().unwrap_or("-"),
                    t.waiting,
                    t.rejected_24h
                )?;
            }
            for a in &st.attached {
                writeln!(out, "{}: {} files on the server", a.folder, a.on_server)?;
            }
            for p in &st.progress {
                let pct = (100 * p.done_bytes)
                    .checked_div(p.total_bytes)
                    .unwrap_or(100);
                writeln!(
                    out,
                    "{}: {}/{} files, {}/{} bytes ({pct}%){} since {}",
                    p.job,
                    p.done_files,
                    p.total_files,
                    p.done_bytes,
                    p.total_bytes,
                    if p.finished {
                        ", finished"
                    } else {
                        ", running"
                    },
                    p.started_at
                )?;
            }
        }
    }
    Ok(Exit::Ok)
}
