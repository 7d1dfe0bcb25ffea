//! `out/` → inbox: poll, download, validate, deliver, acknowledge.
//!
//! There are no change events over SFTP, so `out/` is polled: a file is taken when its size and
//! modification time are the same at two polls in a row (the server's mtime may have 1-second
//! precision; two equal looks a poll apart are what counts, not the time itself).

use super::{fsutil, server, Engine, PipelineError, Result, Summary};
use crate::compo::model::{DataFileName, Side};
use crate::compo::validate::{BatchInput, DataInput, Quiet};
use crate::journal::{FileRow, NewFile, Origin, State, Update};
use std::path::PathBuf;
use std::time::Instant;

impl Engine {
    /// Polls `out/`, takes the files that are stable since the previous poll.
    pub fn collect(&mut self, _now: Instant) -> Result<Summary> {
        let entries = self.transport.list(server::OUT)?;
        let mut stable = Vec::new();
        let mut seen = std::collections::HashMap::new();
        for e in entries {
            if e.is_dir || crate::compo::model::is_temporary_name(&e.name) {
                continue;
            }
            let look = (e.size, e.mtime);
            if self.out_seen.get(&e.name) == Some(&look) {
                stable.push(e);
            } else {
                seen.insert(e.name.clone(), look);
            }
        }
        self.out_seen = seen;
        let mut rows = Vec::new();
        for e in stable {
            if let Some(row) = self.download(&e.name, e.size)? {
                rows.push(row);
            }
        }
        if rows.is_empty() {
            return Ok(Summary::default());
        }
        self.process_inbound(rows)
    }

    /// Polls twice a settle time apart, for `once`.
    pub(super) fn collect_settled(&mut self) -> Result<Summary> {
        let mut sum = self.collect(Instant::now())?;
        if !self.out_seen.is_empty() {
            std::thread::sleep(
                self.s
                    .detect
                    .settle
                    .max(std::time::Duration::from_millis(10)),
            );
            sum.absorb(self.collect(Instant::now())?);
        }
        Ok(sum)
    }

    fn incoming_path(&self, id: i64, name: &str) -> PathBuf {
        self.dirs.incoming.join(format!("{id}-{name}"))
    }

    /// Downloads an `out/` file to a local temporary, checks its size, records it.
    fn download(&mut self, name: &str, size: u64) -> Result<Option<FileRow>> {
        let tmp = self.dirs.incoming.join(format!(".{name}.ce-tmp"));
        let remote = crate::transport::join(server::OUT, name);
        let got = {
            let mut f = std::fs::File::create(&tmp).map_err(PipelineError::io(&tmp))?;
            let n = self.transport.read_to(&remote, &mut f)?;
            f.sync_all().map_err(PipelineError::io(&tmp))?;
            n
        };
        if got != size {
            // Changed while we read it: look again at the next poll.
            let _ = std::fs::remove_file(&tmp);
            tracing::debug!(file = name, "changed while downloading; will retry");
            return Ok(None);
        }
        let (_, hash) = fsutil::hash_file(&tmp).map_err(PipelineError::io(&tmp))?;
        let data_type = super::outbound::row_type(name);
        let id = self.journal.begin(
            &NewFile {
                origin: Origin::Out,
                name,
                data_type: data_type.map(|t| t.name()),
                snapshot: false,
                size,
                hash: &hash,
                work_path: None,
            },
            State::Downloaded,
        )?;
        let work = self.incoming_path(id, name);
        std::fs::rename(&tmp, &work).map_err(PipelineError::io(&tmp))?;
        let w = work.to_string_lossy();
        self.journal.transition(
            id,
            State::Downloaded,
            Update {
                work_path: Some(&w),
                ..Default::default()
            },
        )?;
        Ok(self.journal.file(id)?)
    }

    fn process_inbound(&mut self, rows: Vec<FileRow>) -> Result<Summary> {
        let mut sum = Summary::default();
        let mut fresh = Vec::new();
        for row in rows {
            let dup = self
                .journal
                .last_done(Origin::Out, &row.name)?
                .is_some_and(|p| p.hash == row.hash && p.size == row.size && p.id != row.id);
            if dup {
                tracing::info!(file = %row.name, "already delivered; acknowledging only");
                self.acknowledge(&row.name)?;
                self.archive_inbound(&row)?;
                self.journal.transition(
                    row.id,
                    State::Acknowledged,
                    Update {
                        outcome: Some("duplicate"),
                        ..Default::default()
                    },
                )?;
                continue;
            }
            fresh.push(row);
        }
        if fresh.is_empty() {
            return Ok(sum);
        }
        let mut batch = BatchInput::default();
        let mut order = Vec::new();
        for row in &fresh {
            let path = self.incoming_path(row.id, &row.name);
            match DataFileName::parse(&row.name, Side::Inbound) {
                Some(n) if n.data_type.is_inbound() => {
                    batch.data.push(DataInput {
                        rel: row.name.clone(),
                        path,
                        name: n,
                    });
                    order.push(row.clone());
                }
                _ => batch.unknown.push(row.name.clone()),
            }
        }
        for row in &fresh {
            let known = DataFileName::parse(&row.name, Side::Inbound)
                .is_some_and(|n| n.data_type.is_inbound());
            if !known {
                order.push(row.clone());
            }
        }
        let mirror = super::state::mirror_names(&self.s.folders.outbox);
        let outcomes = {
            let view = self.portal.view(&self.journal, &mirror)?;
            self.validator.validate(&batch, Some(&view), &mut Quiet)?
        };
        for (row, o) in order.iter().zip(outcomes) {
            if o.report.is_ok() {
                self.deliver(row)?;
                sum.delivered.push(row.name.clone());
            } else {
                let row = self.journal.file(row.id)?.expect("row exists");
                self.reject(&row, &o.report)?;
                sum.rejected.push(row.name.clone());
            }
        }
        Ok(sum)
    }

    fn deliver(&mut self, row: &FileRow) -> Result<()> {
        let inbox = self.s.folders.inbox.clone();
        let target = fsutil::free_name(&inbox, &row.name);
        let target_name = target.file_name().unwrap().to_string_lossy().into_owned();
        self.journal.transition(
            row.id,
            State::Delivering,
            Update {
                target_name: Some(&target_name),
                ..Default::default()
            },
        )?;
        self.copy_to_inbox(row.id, &row.name, &target_name)?;
        self.finish_delivery(row.id)
    }

    fn hidden_inbox(&self, id: i64, target: &str) -> PathBuf {
        self.s
            .folders
            .inbox
            .join(super::outbound::hidden_name(target, id))
    }

    fn copy_to_inbox(&mut self, id: i64, name: &str, target: &str) -> Result<()> {
        let src = self.incoming_path(id, name);
        let hidden = self.hidden_inbox(id, target);
        fsutil::copy_atomic(&src, &hidden).map_err(PipelineError::io(&hidden))?;
        self.journal
            .transition(id, State::Uploaded, Update::default())?;
        Ok(())
    }

    fn finish_delivery(&mut self, id: i64) -> Result<()> {
        let row = self.journal.file(id)?.expect("row exists");
        let target = row.target_name.clone().unwrap_or_else(|| row.name.clone());
        let hidden = self.hidden_inbox(id, &target);
        let to = self.s.folders.inbox.join(&target);
        if hidden.exists() {
            std::fs::rename(&hidden, &to).map_err(PipelineError::io(&hidden))?;
            fsutil::sync_dir(&self.s.folders.inbox).map_err(PipelineError::io(&to))?;
        }
        self.journal
            .transition(id, State::Delivered, Update::default())?;
        tracing::info!(file = %row.name, to = %to.display(), "delivered");
        self.after_delivery(&row, &to)?;
        self.finish_acknowledge(&row)
    }

    fn finish_acknowledge(&mut self, row: &FileRow) -> Result<()> {
        self.acknowledge(&row.name)?;
        self.archive_inbound(row)?;
        self.journal
            .transition(row.id, State::Acknowledged, Update::default())?;
        Ok(())
    }

    /// Moves an `out/` file into `out/archive/` (done only once the file is safe locally).
    pub(super) fn acknowledge(&mut self, name: &str) -> Result<()> {
        let from = crate::transport::join(server::OUT, name);
        if self.transport.stat(&from)?.is_some() {
            self.transport
                .rename(&from, &crate::transport::join(server::OUT_ARCHIVE, name))?;
        }
        self.out_seen.remove(name);
        Ok(())
    }

    fn archive_inbound(&mut self, row: &FileRow) -> Result<()> {
        let src = self.incoming_path(row.id, &row.name);
        let dir = super::outbound::archive_dir(&self.s.folders.archive).join("out");
        self.archive_to(row, &dir, &src, None)
    }

    pub(super) fn recover_inbound(&mut self, row: &FileRow, sum: &mut Summary) -> Result<()> {
        match row.state {
            State::Downloaded => {
                if self.incoming_path(row.id, &row.name).exists() {
                    sum.absorb(self.process_inbound(vec![row.clone()])?);
                } else {
                    // The download never completed; the file is still in out/ and is taken
                    // again at the next poll.
                    self.journal.transition(
                        row.id,
                        State::Acknowledged,
                        Update {
                            outcome: Some("abandoned"),
                            ..Default::default()
                        },
                    )?;
                }
            }
            State::Delivering => {
                let target = row.target_name.clone().unwrap_or_else(|| row.name.clone());
                self.copy_to_inbox(row.id, &row.name, &target)?;
                self.finish_delivery(row.id)?;
            }
            State::Uploaded => self.finish_delivery(row.id)?,
            State::Delivered => self.finish_acknowledge(row)?,
            State::Rejecting => self.finish_reject(row)?,
            _ => {}
        }
        Ok(())
    }
}
