//! The options every exchange command shares: where the work folder and the server are, and
//! the settings they load.

use crate::config::{Overrides, Settings};
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
