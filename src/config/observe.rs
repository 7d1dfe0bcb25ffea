//! The settings of what operators see: where the status page listens (`[http]`) and where
//! notifications go (`[notify]`).

use serde::Deserialize;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHttp {
    pub listen: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNotify {
    pub command: Option<String>,
    pub webhook_url: Option<String>,
    pub stuck_after: Option<String>,
}

/// Where notifications go; neither set: none are sent.
#[derive(Debug, Clone, PartialEq)]
pub struct NotifySettings {
    /// Run through `sh -c` with the events as JSON on its standard input.
    pub command: Option<String>,
    /// POSTed the same JSON. Never shown on the status page (it often carries a token).
    pub webhook_url: Option<String>,
    /// A file failing for longer than this is announced as stuck.
    pub stuck_after: Duration,
}

impl NotifySettings {
    /// Checks `[notify]`; an error names the key (without `notify.`) and what to write.
    pub fn from_raw(raw: RawNotify) -> Result<NotifySettings, (&'static str, String)> {
        let stuck_after = match raw.stuck_after.as_deref() {
            None => Duration::from_secs(30 * 60),
            Some(t) => humantime::parse_duration(t).map_err(|e| {
                (
                    "stuck_after",
                    format!("{t:?} is not a duration ({e}); write e.g. \"30m\", \"2h\", \"1d\""),
                )
            })?,
        };
        if let Some(u) = &raw.webhook_url {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                return Err((
                    "webhook_url",
                    "must start with http:// or https://".to_string(),
                ));
            }
        }
        if raw.command.as_deref().is_some_and(|c| c.trim().is_empty()) {
            return Err((
                "command",
                "is empty; remove the key or name a program".into(),
            ));
        }
        Ok(NotifySettings {
            command: raw.command,
            webhook_url: raw.webhook_url,
            stuck_after,
        })
    }

    pub fn enabled(&self) -> bool {
        self.command.is_some() || self.webhook_url.is_some()
    }
}

impl Default for NotifySettings {
    fn default() -> NotifySettings {
        NotifySettings::from_raw(RawNotify::default()).expect("defaults are valid")
    }
}

/// `8080` (loopback), `127.0.0.1:8080`, `0.0.0.0:8080`, `[::1]:8080`: a bare port binds to
/// loopback only; listening elsewhere takes an explicit address.
pub fn parse_listen(text: &str) -> Result<SocketAddr, String> {
    let t = text.trim();
    if let Ok(port) = t.parse::<u16>() {
        return Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
    }
    t.parse::<SocketAddr>().map_err(|_| {
        format!(
            "{text:?} is not an address to listen on; write a port (8080, on loopback) or \
             ADDRESS:PORT (127.0.0.1:8080, or 0.0.0.0:8080 for every interface)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_port_listens_on_loopback_only() {
        assert_eq!(parse_listen("8080").unwrap().to_string(), "127.0.0.1:8080");
        assert_eq!(parse_listen("0.0.0.0:9").unwrap().to_string(), "0.0.0.0:9");
        assert_eq!(parse_listen("[::1]:9").unwrap().to_string(), "[::1]:9");
        let e = parse_listen("localhost").unwrap_err();
        assert!(e.contains("127.0.0.1:8080"), "{e}");
    }

    #[test]
    fn notify_settings_are_checked() {
        let d = NotifySettings::default();
        assert!(!d.enabled());
        assert_eq!(d.stuck_after, Duration::from_secs(1800));
        let e = NotifySettings::from_raw(RawNotify {
            stuck_after: Some("half an hour".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(e.0, "stuck_after");
        assert!(e.1.contains("30m"), "{}", e.1);
        let e = NotifySettings::from_raw(RawNotify {
            webhook_url: Some("hooks.example/x".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(e.0, "webhook_url");
        let ok = NotifySettings::from_raw(RawNotify {
            command: Some("logger -t compo".into()),
            stuck_after: Some("2h".into()),
            ..Default::default()
        })
        .unwrap();
        assert!(ok.enabled());
        assert_eq!(ok.stuck_after, Duration::from_secs(7200));
    }
}
