//! `init`, `run`, `once` and `status`: the exchange on a work folder.

pub use super::common::Common;
use super::service::Service;
pub use super::status::{status, StatusArgs};
use super::{Exit, OutputFormat};
use crate::config::{Overrides, Settings, EXAMPLE};
use crate::journal::Journal;
use crate::pipeline::Engine;
use crate::schedule::Shutdown;
use crate::transport::lazy::Waiting;
use anyhow::Context;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
    std::fs::create_dir_all(&args.dir).with_context(|| args.dir.display().to_string())?;
    // Everything below works on the absolute folder: the config written says `workdir = "."`
    // (relative to the config), and a relative DIR would otherwise be applied twice.
    let dir = &std::path::absolute(&args.dir).with_context(|| args.dir.display().to_string())?;
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
    // The commands to type from where the user stands, with the path as they wrote it.
    let typed = args.dir.join("compo-exchange.toml");
    println!(
        "initialised {}: drop files into {}, then run\n  compo-exchange once --config {}\n\
         or, as a daemon,\n  compo-exchange run --config {}",
        args.dir.display(),
        engine.settings().folders.outbox.display(),
        typed.display(),
        typed.display()
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
    /// Serve the status page and /metrics here (overrides http.listen): a port for loopback,
    /// or ADDRESS:PORT.
    #[arg(long, value_name = "ADDR", value_parser = crate::config::parse_listen)]
    pub http: Option<std::net::SocketAddr>,
}

/// The daemon, until SIGINT or SIGTERM.
///
/// A bad configuration is an error at once (exit 2, naming the key to fix); an exchange server
/// that cannot be reached is waited for, in the log and in `status`, never a reason to exit.
pub fn run(args: RunArgs) -> anyhow::Result<Exit> {
    let settings = args.common.settings()?;
    let _held = super::lock::take(&settings.folders.workdir, &settings.folders.state, "run")?;
    // Only the process that holds the folder serves its page and sends its notifications.
    crate::observe::start(&settings, args.http)?;
    let shutdown = Shutdown::new();
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let s = shutdown.clone();
        // signal-hook's iterator hands the signal to this thread, outside the handler.
        let mut signals = signal_hook::iterator::Signals::new([sig])?;
        std::thread::spawn(move || {
            if signals.forever().next().is_some() {
                tracing::info!("stop requested; finishing the step in flight");
                s.trigger();
            }
        });
    }
    let health = Health::open(&settings)?;
    // Up as far as the service manager is concerned: the folder is held and the settings
    // parsed. A server that does not answer yet is waited for below, pinging the watchdog.
    let service = Service::from_env();
    service.ready("starting: connecting to the exchange server");
    let waiting = Waiting {
        stop: Arc::new({
            let s = shutdown.clone();
            move || s.is_triggered()
        }),
        report: Arc::new({
            let h = health.clone();
            move |e| h.set("server", e)
        }),
        tick: Arc::new({
            let service = service.clone();
            move || service.alive()
        }),
        first: Duration::from_secs(1),
        max: Duration::from_secs(60),
    };
    let opened = crate::pipeline::open_transport_waiting(&settings, Some(waiting))
        .and_then(|t| Engine::with_transport(settings, t));
    let mut engine = match opened {
        Ok(e) => e,
        Err(e) if shutdown.is_triggered() => {
            service.stopping();
            tracing::info!(error = %e, "stopped before start-up finished");
            return Ok(Exit::Ok);
        }
        Err(e) => return Err(e.into()),
    };
    service.status(&format!(
        "running: {} <-> {}",
        engine.settings().folders.workdir.display(),
        engine.transport().describe()
    ));
    let ran = engine.run_with_heartbeat(&shutdown, &mut || service.alive());
    service.stopping();
    ran?;
    Ok(Exit::Ok)
}

/// Writes the health of the exchange's components into the journal for `status`, from any
/// thread (its own connection: the engine's is busy with the pipeline).
#[derive(Clone)]
struct Health(Arc<Mutex<Journal>>);

impl Health {
    fn open(s: &Settings) -> anyhow::Result<Health> {
        let dir = &s.folders.state;
        std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
        Ok(Health(Arc::new(Mutex::new(Journal::open(
            &dir.join("journal.db"),
        )?))))
    }

    fn set(&self, component: &str, error: Option<&str>) {
        let at = now_rfc3339();
        let mut j = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = j.set_health(component, error, &at) {
            tracing::warn!(error = %e, component, "cannot record the health in the journal");
        }
    }
}

/// Now, as `status` shows every time: RFC 3339 with the local offset, to the second.
fn now_rfc3339() -> String {
    chrono::Local::now()
        .fixed_offset()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
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
    let _held = super::lock::take(&settings.folders.workdir, &settings.folders.state, "once")?;
    let mut engine = Engine::open(settings)?;
    if args.samples {
        samples(engine.settings())?;
    }
    let started = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let sum = engine.once()?;
    // Where each file of this pass ended, oldest first, with absolute paths (for scripts that
    // run from anywhere): the archived original, or the rejected one and its report.
    let mut files: Vec<super::history::Entry> = engine
        .journal()
        .ended_since(&started)?
        .iter()
        .map(|r| super::history::entry(r, Path::new("")))
        .collect();
    files.reverse();
    let mut out = std::io::stdout().lock();
    match args.format {
        OutputFormat::Json => {
            #[derive(serde::Serialize)]
            struct Once<'a> {
                #[serde(flatten)]
                summary: &'a crate::pipeline::Summary,
                files: &'a [super::history::Entry],
            }
            let once = Once {
                summary: &sum,
                files: &files,
            };
            serde_json::to_writer_pretty(&mut out, &once)?;
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
            for n in &sum.rejected {
                // The report of this very file when the journal knows it; a file rejected
                // before it had a row (a link, a name too long) is under rejected/ anyway.
                let report = files
                    .iter()
                    .rev()
                    .find(|e| &e.file == n && e.report.is_some())
                    .and_then(|e| e.report.clone())
                    .unwrap_or_else(|| f.rejected.display().to_string());
                writeln!(out, "rejected   {n} (report {report})")?;
            }
            for n in &sum.attached_rejected {
                // An attached file's report is in rejected/pictures or rejected/invoices,
                // under its own name unless that was too long to store.
                let report = f.rejected.join(format!("{n}.report.json"));
                if report.is_file() {
                    writeln!(out, "rejected   {n} (report {})", report.display())?;
                } else {
                    writeln!(out, "rejected   {n} (report in {})", f.rejected.display())?;
                }
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
