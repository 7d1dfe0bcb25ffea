//! Delivers notifications: a thread that looks at the journal every few seconds and hands all
//! new events of a pass, as one JSON document, to the configured command (on its standard
//! input) and webhook (a POST). What each channel was told is kept in the journal, so a
//! restart neither repeats nor loses an event; a channel that fails is tried again later with
//! the same events.

use super::events::{self, Event};
use super::Context;
use crate::config::NotifySettings;
use crate::journal::Journal;
use serde::Serialize;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How often the journal is looked at.
pub const POLL: Duration = Duration::from_secs(2);
/// How long a command or a webhook may take.
const TIMEOUT: Duration = Duration::from_secs(30);
/// The longest wait before a failing channel is tried again.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// What a command reads and a webhook receives.
#[derive(Debug, Serialize)]
pub struct Payload<'a> {
    pub source: &'static str,
    pub host: String,
    pub workdir: String,
    pub sent_at: String,
    pub events: &'a [Event],
}

/// A place notifications go.
enum Channel {
    Command(String),
    Webhook(String, ureq::Agent),
}

impl Channel {
    fn name(&self) -> &'static str {
        match self {
            Channel::Command(_) => "command",
            Channel::Webhook(..) => "webhook",
        }
    }

    fn send(&self, body: &str) -> Result<(), String> {
        match self {
            Channel::Command(cmd) => run_command(cmd, body),
            Channel::Webhook(url, agent) => agent
                .post(url)
                .header("Content-Type", "application/json")
                .send(body)
                .map(|_| ())
                // The URL often carries a token: only its host goes into the log.
                .map_err(|e| format!("POST to {}: {e}", host_of(url))),
        }
    }
}

fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let auth = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    auth.rsplit_once('@').map_or(auth, |(_, h)| h)
}

/// Runs `cmd` through `sh -c` with `body` on its standard input; fails on a non-zero exit or
/// after [`TIMEOUT`] (the command is then killed).
fn run_command(cmd: &str, body: &str) -> Result<(), String> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start `{cmd}`: {e}"))?;
    let mut stderr = child.stderr.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    if let Some(mut stdin) = child.stdin.take() {
        // A command that does not read its input is its own business: not an error.
        let _ = stdin.write_all(body.as_bytes());
    }
    let end = Instant::now() + TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if Instant::now() < end => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "`{cmd}` took longer than {}s; stopped",
                    TIMEOUT.as_secs()
                ));
            }
            Err(e) => return Err(format!("`{cmd}`: {e}")),
        }
    };
    let err = reader.join().unwrap_or_default();
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{cmd}` failed ({status}): {}", err.trim()))
    }
}

fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most that much.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return String::new();
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// The channels `n` configures.
fn channels(n: &NotifySettings) -> Vec<Channel> {
    let mut out = Vec::new();
    if let Some(c) = &n.command {
        out.push(Channel::Command(c.clone()));
    }
    if let Some(u) = &n.webhook_url {
        let tls = ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::NativeTls)
            .root_certs(ureq::tls::RootCerts::PlatformVerifier)
            .build();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(TIMEOUT))
            .tls_config(tls)
            .build()
            .into();
        out.push(Channel::Webhook(u.clone(), agent));
    }
    out
}

/// One pass over one channel: finds its new events and sends them in one message. Returns
/// how many were sent.
fn pass(cx: &Context, n: &NotifySettings, j: &mut Journal, ch: &Channel) -> Result<usize, String> {
    let name = ch.name();
    let since = j.notices_since(name).map_err(|e| e.to_string())?;
    let sent = j.notices_sent(name).map_err(|e| e.to_string())?;
    let events =
        events::find(j, &cx.rejected, &since, n.stuck_after, &sent).map_err(|e| e.to_string())?;
    tracing::debug!(channel = name, events = events.len(), "notifier pass");
    if events.is_empty() {
        return Ok(0);
    }
    let body = serde_json::to_string(&Payload {
        source: "compo-exchange",
        host: hostname(),
        workdir: cx.workdir.display().to_string(),
        sent_at: chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
        events: &events,
    })
    .map_err(|e| e.to_string())?;
    ch.send(&body)?;
    let pairs: Vec<(i64, &str)> = events.iter().map(|e| (e.file_id, e.event)).collect();
    j.note_notices(name, &pairs).map_err(|e| e.to_string())?;
    for e in &events {
        tracing::info!(channel = name, event = e.event, file = %e.file, "notified");
    }
    Ok(events.len())
}

/// Starts the notifier's thread; it runs as long as the process.
pub fn spawn(cx: Context, n: NotifySettings) {
    let spawned = std::thread::Builder::new()
        .name("notifier".into())
        .spawn(move || {
            let chans = channels(&n);
            // Per channel: when it may be tried next, and its current backoff.
            let mut wait: Vec<(Instant, Duration)> = vec![(Instant::now(), POLL); chans.len()];
            let mut journal: Option<Journal> = None;
            loop {
                if journal.is_none() && cx.journal.exists() {
                    journal = Journal::open(&cx.journal)
                        .map_err(|e| tracing::warn!(error = %e, "notifier: journal"))
                        .ok();
                }
                if let Some(j) = journal.as_mut() {
                    for (ch, w) in chans.iter().zip(wait.iter_mut()) {
                        if Instant::now() < w.0 {
                            continue;
                        }
                        match pass(&cx, &n, j, ch) {
                            Ok(_) => *w = (Instant::now(), POLL),
                            Err(e) => {
                                tracing::warn!(channel = ch.name(), error = %e, retry_in_secs = w.1.as_secs(), "notification not sent; will retry");
                                *w = (Instant::now() + w.1, (w.1 * 2).min(MAX_BACKOFF));
                            }
                        }
                    }
                }
                std::thread::sleep(POLL);
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "notifier: cannot start its thread");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_host_of_a_webhook_is_named() {
        assert_eq!(
            host_of("https://hooks.example/T0/B1/secret"),
            "hooks.example"
        );
        assert_eq!(host_of("http://u:pw@h:8080/x?t=1"), "h:8080");
    }

    #[test]
    fn a_webhook_that_fails_gets_the_same_events_later_and_its_token_is_never_said() {
        use crate::compo::report::codes;
        use crate::journal::testing::journal;
        let (d, mut j) = journal();
        let rejected = d.path().join("rejected");
        std::fs::create_dir_all(&rejected).unwrap();
        let cx = Context {
            journal: d.path().join("journal.db"),
            workdir: d.path().to_path_buf(),
            rejected: rejected.clone(),
            plan: crate::schedule::Plan::defaults(),
            server: String::new(),
        };
        let n = NotifySettings::default();
        let webhook = |url: String| {
            channels(&NotifySettings {
                webhook_url: Some(url),
                ..NotifySettings::default()
            })
            .pop()
            .unwrap()
        };
        // Notifications start now; then a file is rejected.
        let down = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let dead = format!("http://{}/hooks/SECRET-TOKEN", down.local_addr().unwrap());
        drop(down);
        assert_eq!(pass(&cx, &n, &mut j, &webhook(dead.clone())).unwrap(), 0);
        super::super::events::tests::reject(&mut j, &rejected, "prices.json", codes::JSON_SYNTAX);

        let e = pass(&cx, &n, &mut j, &webhook(dead)).unwrap_err();
        assert!(e.contains("127.0.0.1") && !e.contains("SECRET"), "{e}");
        // Up again: the same event goes out, once.
        let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", server.server_addr().to_ip().unwrap());
        let got = std::thread::spawn(move || {
            let mut req = server.recv().unwrap();
            let mut body = String::new();
            req.as_reader().read_to_string(&mut body).unwrap();
            req.respond(tiny_http::Response::empty(204)).unwrap();
            body
        });
        assert_eq!(pass(&cx, &n, &mut j, &webhook(url.clone())).unwrap(), 1);
        let body: serde_json::Value = serde_json::from_str(&got.join().unwrap()).unwrap();
        assert_eq!(body["events"][0]["event"], "rejected");
        assert_eq!(body["events"][0]["file"], "prices.json");
        assert_eq!(body["events"][0]["first_errors"][0]["code"], "json.syntax");
        assert_eq!(pass(&cx, &n, &mut j, &webhook(url)).unwrap(), 0);
    }

    #[test]
    fn a_command_gets_the_body_and_its_failure_is_reported() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("got.json");
        run_command(&format!("cat > '{}'", out.display()), "{\"a\":1}").unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "{\"a\":1}");
        let e = run_command("echo nope >&2; exit 3", "{}").unwrap_err();
        assert!(e.contains("nope") && e.contains('3'), "{e}");
    }
}
