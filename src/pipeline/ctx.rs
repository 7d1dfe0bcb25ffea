//! What every step of the engine works with: the settings, the clock, the server, the journal,
//! the validator, the portal's known state and the engine's own folders below `state/`.

use super::{fsutil, state::PortalState, PipelineError, Result};
use crate::compo::validate::Validator;
use crate::config::Settings;
use crate::journal::Journal;
use crate::schedule::Clock;
use crate::transport::Transport;
use chrono::{DateTime, FixedOffset};
use std::path::PathBuf;
use std::sync::Arc;

/// Local folders the engine owns below `state/`.
pub(super) struct StateDirs {
    pub work: PathBuf,
    pub staging: PathBuf,
    pub incoming: PathBuf,
    pub reports: PathBuf,
}

/// The two sides of the server, whose folders are made on first contact (each on its own, so
/// that an unwritable `in/` does not keep `out/` from being collected).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    In,
    Out,
}

pub(super) struct Ctx {
    pub s: Settings,
    pub clock: Arc<dyn Clock>,
    pub transport: Arc<dyn Transport>,
    pub journal: Journal,
    pub validator: Validator,
    pub dirs: StateDirs,
    pub portal: PortalState,
    /// Which sides' folders are known to exist on the server.
    ready: [bool; 2],
    /// The day retention last ran (`retention.rs`): it runs once a day.
    pub retained_on: Option<chrono::NaiveDate>,
}

impl Ctx {
    pub fn new(
        s: Settings,
        clock: Arc<dyn Clock>,
        transport: Arc<dyn Transport>,
        journal: Journal,
        validator: Validator,
        dirs: StateDirs,
    ) -> Ctx {
        Ctx {
            s,
            clock,
            transport,
            journal,
            validator,
            dirs,
            portal: PortalState::default(),
            ready: [false; 2],
            retained_on: None,
        }
    }

    pub fn now(&self) -> DateTime<FixedOffset> {
        self.clock.now()
    }

    /// The time as the journal and `status` write it (RFC 3339 with the offset).
    pub fn stamp(&self) -> String {
        self.now().to_rfc3339()
    }

    /// Makes the server's folders of one side, once; until the server can be reached every
    /// step that needs it tries again (opening never fails because the network is down). A
    /// folder that later disappears is not made again: a share that is not mounted must not
    /// be replaced by an empty folder on the local disk.
    pub fn ensure_server(&mut self, side: Side) -> Result<()> {
        let i = side as usize;
        if self.ready[i] {
            return Ok(());
        }
        let dirs: &[&str] = match side {
            Side::In => &["in", "in/pictures", "in/invoices"],
            Side::Out => &["out", "out/archive"],
        };
        for d in dirs {
            self.transport.mkdir_all(d)?;
        }
        self.ready[i] = true;
        Ok(())
    }

    /// The work copy of a claimed file: `ID-NAME`, or `ID-` and a shortened name when the
    /// name leaves no room for our prefixes within the file system's limit.
    pub fn work_path(&self, id: i64, name: &str) -> PathBuf {
        self.dirs.work.join(fsutil::stored_name(id, name))
    }

    pub fn staged_path(&self, id: i64) -> PathBuf {
        self.dirs.staging.join(format!("{id}.json"))
    }

    pub fn report_tmp(&self, id: i64) -> PathBuf {
        self.dirs.reports.join(format!("{id}.report.json"))
    }

    pub fn incoming_path(&self, id: i64, name: &str) -> PathBuf {
        self.dirs.incoming.join(fsutil::stored_name(id, name))
    }

    pub fn prodly_pending(&self) -> PathBuf {
        self.s.folders.state.join("prodly-pending")
    }

    /// Creates the local folders of the work tree that are missing.
    pub fn make_local_folders(&self) -> Result<()> {
        let f = &self.s.folders;
        for d in [
            &f.outbox,
            &f.outbox.join("pictures"),
            &f.outbox.join("invoices"),
            &f.outbox.join("sellper"),
            &f.inbox,
            &f.archive,
            &f.rejected,
            &f.state,
            &self.dirs.work,
            &self.dirs.staging,
            &self.dirs.incoming,
            &self.dirs.reports,
        ] {
            std::fs::create_dir_all(d).map_err(PipelineError::io(d))?;
        }
        Ok(())
    }
}
