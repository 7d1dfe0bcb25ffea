//! What operators see of a running daemon: a status page and `/metrics` over HTTP, and
//! notifications of rejections, holds and stuck files.
//!
//! Everything here reads the journal and nothing else of the daemon: the page and the metrics
//! are computed from it at each request (over a read-only connection of their own, which
//! SQLite's WAL lets sit beside the pipeline's writer), and the notifier polls it. So they need
//! no hook in the pipeline, show the same truth after a restart, and cannot slow a publish
//! down by more than a reader does.
//!
//! [`view`] gathers what the page shows, [`page`] writes it as HTML in English or Russian
//! ([`text`] holds the words), [`metrics`] writes the Prometheus exposition, [`http`] serves
//! them (and the reports in `rejected/`), [`events`] finds what to notify and [`notify`]
//! delivers it.

pub mod events;
pub mod http;
pub mod metrics;
pub mod notify;
pub mod page;
pub mod reports;
pub mod text;
pub mod view;

use crate::config::{ServerLocation, Settings};
use crate::schedule::Plan;
use std::path::PathBuf;

/// What the observers need of the settings (the settings themselves go to the engine).
#[derive(Debug, Clone)]
pub struct Context {
    pub journal: PathBuf,
    pub workdir: PathBuf,
    pub rejected: PathBuf,
    pub plan: Plan,
    /// The exchange server as shown: no user name, never a password or a key.
    pub server: String,
}

impl Context {
    pub fn new(s: &Settings) -> Context {
        Context {
            journal: s.folders.state.join("journal.db"),
            workdir: s.folders.workdir.clone(),
            rejected: s.folders.rejected.clone(),
            plan: s.plan.clone(),
            server: match &s.server {
                ServerLocation::Local(p) => p.display().to_string(),
                ServerLocation::Sftp(u) => without_user(u),
            },
        }
    }
}

/// `sftp://erp@host:22/srv` -> `sftp://host:22/srv`.
fn without_user(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (auth, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let host = auth.rsplit_once('@').map_or(auth, |(_, h)| h);
            format!("{scheme}://{host}{path}")
        }
        None => url.to_string(),
    }
}

/// The observers `run` started; they live as long as the process.
pub struct Observers {
    /// The address the page is served on, when it is.
    pub http: Option<std::net::SocketAddr>,
}

/// Starts the status page (when `listen` or `http.listen` says where) and the notifier (when
/// `[notify]` says where to), each on its own thread. A page that cannot listen is an error
/// at once, so that `run` does not go on without what was asked for.
pub fn start(s: &Settings, listen: Option<std::net::SocketAddr>) -> anyhow::Result<Observers> {
    let cx = Context::new(s);
    let mut out = Observers { http: None };
    if let Some(addr) = listen.or(s.http_listen) {
        out.http = Some(http::serve(cx.clone(), addr)?);
    }
    if s.notify.enabled() {
        notify::spawn(cx, s.notify.clone());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn user_names_are_not_shown() {
        assert_eq!(
            super::without_user("sftp://erp@host:2222/srv/compo"),
            "sftp://host:2222/srv/compo"
        );
        assert_eq!(super::without_user("sftp://host/x"), "sftp://host/x");
    }
}
