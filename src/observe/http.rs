//! The HTTP side of the status page: `/` (the page), `/status.json`, `/metrics`, and
//! `/rejected/...report.json` (reports only), served on a thread of its own.
//!
//! Answers say `no-store` and forbid every script and outside resource (the page has none),
//! so a file name in the journal can never run anything in the operator's browser.

use super::view::Overview;
use super::{metrics, page, reports, Context};
use anyhow::Context as _;
use std::net::SocketAddr;
use tiny_http::{Header, Method, Request, Response, Server};

/// Binds `addr` and serves on a new thread; returns the address bound (port 0 picks one).
pub fn serve(cx: Context, addr: SocketAddr) -> anyhow::Result<SocketAddr> {
    let server = Server::http(addr)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("status page: cannot listen on {addr} (http.listen / --http)"))?;
    let bound = server
        .server_addr()
        .to_ip()
        .context("status page: not an IP listener")?;
    tracing::info!(address = %bound, "status page at http://{bound}/, metrics at /metrics");
    if !bound.ip().is_loopback() {
        tracing::warn!(address = %bound, "the status page is reachable beyond this machine and has no login; put it behind a proxy that asks for one");
    }
    std::thread::Builder::new()
        .name("status-page".into())
        .spawn(move || {
            for req in server.incoming_requests() {
                let url = req.url().to_string();
                if let Err(e) = handle(&cx, req) {
                    tracing::debug!(error = %e, url, "status page: answer not sent");
                }
            }
        })
        .context("status page: cannot start its thread")?;
    Ok(bound)
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("ASCII header")
}

fn respond(req: Request, status: u16, content_type: &str, body: String) -> std::io::Result<()> {
    // tiny_http leaves the body out of an answer to HEAD by itself.
    let r = Response::from_string(body)
        .with_status_code(status)
        .with_header(header("Content-Type", content_type))
        .with_header(header("Cache-Control", "no-store"))
        .with_header(header("X-Content-Type-Options", "nosniff"))
        .with_header(header(
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; \
             form-action 'none'; frame-ancestors 'none'",
        ));
    req.respond(r)
}

/// Decodes `%XX` of a URL path or query value; `None` for bad escapes or non-UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

fn query_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn handle(cx: &Context, req: Request) -> std::io::Result<()> {
    if !matches!(req.method(), Method::Get | Method::Head) {
        return respond(req, 405, "text/plain; charset=utf-8", "GET only\n".into());
    }
    let url = req.url().to_string();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    match path {
        "/" | "/index.html" => {
            let accept = req
                .headers()
                .iter()
                .find(|h| h.field.equiv("Accept-Language"))
                .map(|h| h.value.as_str().to_string());
            let lang = super::text::choose(query_param(query, "lang"), accept.as_deref());
            let html = page::render(&Overview::gather(cx), lang);
            respond(req, 200, "text/html; charset=utf-8", html)
        }
        "/status.json" => {
            let body = serde_json::to_string_pretty(&Overview::gather(cx))
                .unwrap_or_else(|e| format!("{{\"error\":{:?}}}", e.to_string()));
            respond(req, 200, "application/json; charset=utf-8", body)
        }
        "/metrics" => match metrics::render(cx) {
            Ok(body) => respond(req, 200, metrics::CONTENT_TYPE, body),
            Err(e) => respond(
                req,
                503,
                "text/plain; charset=utf-8",
                format!("journal not readable: {e}\n"),
            ),
        },
        p if p.starts_with("/rejected/") => {
            let found = percent_decode(&p["/rejected/".len()..])
                .and_then(|rel| reports::resolve(&cx.rejected, &rel))
                .and_then(|f| std::fs::read_to_string(f).ok());
            match found {
                Some(body) => respond(req, 200, "application/json; charset=utf-8", body),
                None => respond(
                    req,
                    404,
                    "text/plain; charset=utf-8",
                    "no such report\n".into(),
                ),
            }
        }
        _ => respond(req, 404, "text/plain; charset=utf-8", "not found\n".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_parameters_are_read() {
        assert_eq!(percent_decode("a%20b%2Fc").as_deref(), Some("a b/c"));
        assert_eq!(percent_decode("%2e%2e/x").as_deref(), Some("../x"));
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%d0%9f").as_deref(), Some("П"));
        assert_eq!(query_param("a=1&lang=ru", "lang"), Some("ru"));
        assert_eq!(query_param("", "lang"), None);
    }
}
