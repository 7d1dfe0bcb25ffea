//! The status page: an [`Overview`] as one self-contained HTML document (styles inline, no
//! script, no outside resource), reloaded by the browser every few seconds.

use super::text::{Lang, Words};
use super::view::{local, Overview};
use std::fmt::Write;

/// Seconds between reloads.
pub const REFRESH_SECS: u32 = 10;

/// Escapes text for HTML content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes a path below `rejected/` for a link (its `/` kept).
fn url_path(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A local RFC 3339 time shown as `2026-11-30 14:05:09`.
fn when(t: &str) -> String {
    let t = local(t);
    match (t.get(..10), t.get(11..19)) {
        (Some(d), Some(h)) => format!("{d} {h}"),
        _ => t,
    }
}

fn opt_when(t: Option<&str>, w: &Words) -> String {
    t.map_or_else(|| w.never.to_string(), when)
}

fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

const STYLE: &str = "
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;margin:0;
color:#1d2430;background:#f4f6f9}
header{background:#1f3a5f;color:#fff;padding:14px 24px;display:flex;flex-wrap:wrap;gap:6px 28px;
align-items:baseline}
header h1{font-size:19px;margin:0 16px 0 0}
header span{opacity:.85}
header a{color:#fff;margin-left:auto}
header code{background:rgba(255,255,255,.14);color:#fff}
main{padding:8px 24px 32px;max-width:1280px}
section{background:#fff;border:1px solid #dde3ea;border-radius:6px;margin:16px 0;padding:4px 16px 12px}
h2{font-size:16px;margin:12px 0 8px}
h2 small{font-weight:normal;color:#667}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:5px 10px 5px 0;border-bottom:1px solid #eef1f4;vertical-align:top}
th{font-weight:600;color:#445;font-size:13px}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#17733a;font-weight:600}
.bad{color:#b3261e;font-weight:600}
.held{color:#9a5b00;font-weight:600}
.muted{color:#778}
code{font:12px/1.4 ui-monospace,'DejaVu Sans Mono',monospace;background:#f1f3f6;padding:1px 4px;
border-radius:3px}
.err{max-width:520px}
.bar{background:#e6eaf0;border-radius:4px;height:10px;width:180px;display:inline-block;
vertical-align:middle;margin-right:8px}
.bar i{display:block;height:10px;border-radius:4px;background:#2f6fb5}
.warn{background:#fff4e5;border:1px solid #f0c27b;padding:8px 12px;border-radius:6px}
";

/// The whole page.
pub fn render(o: &Overview, lang: Lang) -> String {
    let w = super::text::words(lang);
    let mut h = String::with_capacity(16 * 1024);
    let other = match lang {
        Lang::En => "ru",
        Lang::Ru => "en",
    };
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"{REFRESH_SECS}\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body><header><h1>{}</h1>\
         <span>{}: <code>{}</code></span><span>{}: <code>{}</code></span>\
         <span>{}: {} ({})</span><a href=\"?lang={other}\">{}</a></header><main>",
        lang.code(),
        esc(w.title),
        esc(w.title),
        esc(w.work_folder),
        esc(&o.workdir),
        esc(w.server),
        esc(&o.server),
        esc(w.updated),
        when(&o.generated_at),
        esc(w.refresh_note),
        esc(w.other_language),
    );
    if let Some(e) = &o.journal_error {
        let text = if e.starts_with("no journal") {
            w.no_journal
        } else {
            e
        };
        let _ = write!(h, "<p class=\"warn\">{}</p>", esc(text));
    }
    // Problems first: what an operator opens the page for.
    health(&mut h, o, w);
    warnings(&mut h, o, w);
    rejections(&mut h, o, w);
    retrying(&mut h, o, w);
    waiting(&mut h, o, w);
    types(&mut h, o, w);
    collection(&mut h, o, w);
    attached(&mut h, o, w);
    h.push_str("</main></body></html>\n");
    h
}

fn health(h: &mut String, o: &Overview, w: &Words) {
    let _ = write!(h, "<section id=\"health\"><h2>{}</h2>", esc(w.health));
    if o.health.is_empty() {
        let _ = write!(h, "<p class=\"muted\">{}</p></section>", esc(w.no_health));
        return;
    }
    let _ = write!(
        h,
        "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        esc(w.component),
        esc(w.condition),
        esc(w.since),
        esc(w.last_success),
        esc(w.last_error)
    );
    for c in &o.health {
        let (class, word) = if c.ok() {
            ("ok", w.ok)
        } else {
            ("bad", w.failing)
        };
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"{class}\">{}</td><td>{}</td><td>{}</td>\
             <td class=\"err\">{}</td></tr>",
            esc(&c.component),
            esc(word),
            when(&c.since),
            opt_when(c.last_success.as_deref(), w),
            esc(c.error.as_deref().unwrap_or(""))
        );
    }
    h.push_str("</table></section>");
}

fn warnings(h: &mut String, o: &Overview, w: &Words) {
    if o.warnings.is_empty() {
        return;
    }
    let _ = write!(
        h,
        "<section id=\"warnings\"><h2>{} <small>{}</small></h2><table><tr><th>{}</th>\
         <th>{}</th><th>{}</th></tr>",
        esc(w.warnings),
        esc(w.rejections_note),
        esc(w.when),
        esc(w.topic),
        esc(w.message)
    );
    for x in &o.warnings {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"err\">{}</td></tr>",
            when(&x.at),
            esc(&x.topic),
            esc(&x.message)
        );
    }
    h.push_str("</table></section>");
}

fn types(h: &mut String, o: &Overview, w: &Words) {
    let _ = write!(
        h,
        "<section id=\"types\"><h2>{}</h2><table><tr><th>{}</th><th>{}</th><th>{}</th>\
         <th>{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th></tr>",
        esc(w.types),
        esc(w.data_type),
        esc(w.schedule),
        esc(w.last_publish),
        esc(w.next_tick),
        esc(w.waiting),
        esc(w.retrying),
        esc(w.rejected_24h)
    );
    for t in &o.types {
        let last = match (&t.last_file, &t.last_published_at) {
            (Some(f), Some(at)) => format!("{} <span class=\"muted\">{}</span>", when(at), esc(f)),
            _ => format!("<span class=\"muted\">{}</span>", esc(w.never)),
        };
        let n = |v: usize, class: &str| {
            if v == 0 {
                "<td class=\"n muted\">0</td>".to_string()
            } else {
                format!("<td class=\"n {class}\">{v}</td>")
            }
        };
        let _ = write!(
            h,
            "<tr><td>{}</td><td><code>{}</code></td><td>{last}</td><td>{}</td>{}{}{}</tr>",
            esc(&t.job),
            esc(&t.schedule),
            t.next_tick
                .as_deref()
                .map_or_else(|| esc(w.at_every_check), when),
            n(t.waiting, ""),
            n(t.retrying, "held"),
            n(t.rejected_24h, "bad"),
        );
    }
    h.push_str("</table></section>");
}

fn rejections(h: &mut String, o: &Overview, w: &Words) {
    let _ = write!(
        h,
        "<section id=\"rejections\"><h2>{} <small>{}</small></h2>",
        esc(w.rejections),
        esc(w.rejections_note)
    );
    if o.rejections.is_empty() {
        let _ = write!(
            h,
            "<p class=\"muted\">{}</p></section>",
            esc(w.none_rejected)
        );
        return;
    }
    let _ = write!(
        h,
        "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        esc(w.when),
        esc(w.file),
        esc(w.data_type),
        esc(w.outcome),
        esc(w.first_error),
        esc(w.report)
    );
    for r in &o.rejections {
        let q = &r.quoted;
        let outcome = if q.held {
            format!(
                "<span class=\"held\" title=\"{}\">{}</span>",
                esc(w.held_hint),
                esc(w.held)
            )
        } else {
            format!("<span class=\"bad\">{}</span>", esc(w.rejected))
        };
        let first = match q.first_errors.first() {
            Some(e) => {
                let more = if q.errors > 1 {
                    format!(
                        " <span class=\"muted\">(+{} {})</span>",
                        q.errors - 1,
                        esc(w.and_more)
                    )
                } else {
                    String::new()
                };
                format!(
                    "<code>{}</code> <code>{}</code> {}{more}",
                    esc(&e.code),
                    esc(if e.pointer.is_empty() {
                        "/"
                    } else {
                        &e.pointer
                    }),
                    esc(&e.message)
                )
            }
            None => String::new(),
        };
        // Every rejection had a report; one no longer there went by retention or a release.
        let gone = format!(
            "<span class=\"muted gone\" title=\"{}\">{}</span>",
            esc(w.report_gone_hint),
            esc(w.report_gone)
        );
        let report = q.report.as_deref().map_or(gone, |p| {
            format!(
                "<a class=\"report\" href=\"/rejected/{}\">{}</a>",
                url_path(p),
                esc(w.open_report)
            )
        });
        let _ = write!(
            h,
            "<tr class=\"rejection\"><td>{}</td><td><code>{}</code></td><td>{}</td><td>{outcome}</td>\
             <td class=\"err\">{first}</td><td>{report}</td></tr>",
            when(&r.at),
            esc(&r.file),
            esc(r.data_type.as_deref().unwrap_or("")),
        );
    }
    h.push_str("</table></section>");
}

fn retrying(h: &mut String, o: &Overview, w: &Words) {
    let _ = write!(
        h,
        "<section id=\"retrying\"><h2>{}</h2>",
        esc(w.retrying_files)
    );
    if o.retrying.is_empty() {
        let _ = write!(
            h,
            "<p class=\"muted\">{}</p></section>",
            esc(w.none_retrying)
        );
        return;
    }
    let _ = write!(
        h,
        "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        esc(w.file),
        esc(w.state),
        esc(w.attempts),
        esc(w.failing_since),
        esc(w.next_attempt),
        esc(w.last_error)
    );
    for r in &o.retrying {
        let _ = write!(
            h,
            "<tr><td><code>{}</code></td><td>{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td>\
             <td class=\"err\">{}</td></tr>",
            esc(&r.file),
            esc(&r.state),
            r.attempts,
            when(&r.failing_since),
            when(&r.next_attempt),
            esc(&r.last_error)
        );
    }
    h.push_str("</table></section>");
}

fn waiting(h: &mut String, o: &Overview, w: &Words) {
    let _ = write!(
        h,
        "<section id=\"waiting\"><h2>{}</h2>",
        esc(w.waiting_files)
    );
    if o.waiting.is_empty() {
        let _ = write!(
            h,
            "<p class=\"muted\">{}</p></section>",
            esc(w.none_waiting)
        );
        return;
    }
    let _ = write!(
        h,
        "<table><tr><th>{}</th><th>{}</th><th>{}</th></tr>",
        esc(w.file),
        esc(w.data_type),
        esc(w.staged_at)
    );
    for r in &o.waiting {
        let _ = write!(
            h,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            esc(&r.file),
            esc(r.data_type.as_deref().unwrap_or("")),
            when(&r.staged_at)
        );
    }
    h.push_str("</table></section>");
}

fn collection(h: &mut String, o: &Overview, w: &Words) {
    let c = &o.collection;
    let last = match (&c.last_delivered_file, &c.last_delivered_at) {
        (Some(f), Some(at)) => format!("{} <span class=\"muted\">{}</span>", when(at), esc(f)),
        _ => format!("<span class=\"muted\">{}</span>", esc(w.never)),
    };
    let _ = write!(
        h,
        "<section id=\"collection\"><h2>{}</h2><table><tr><th>{}</th><th>{}</th><th>{}</th>\
         <th>{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th></tr><tr><td><code>{}</code></td><td>{}</td>\
         <td>{}</td><td>{last}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\
         </table></section>",
        esc(w.collection),
        esc(w.schedule),
        esc(w.next_tick),
        esc(w.last_collect),
        esc(w.last_delivered),
        esc(w.delivered_24h),
        esc(w.rejected_24h),
        esc(&c.schedule),
        c.next_tick
            .as_deref()
            .map_or_else(|| esc(w.at_every_check), when),
        opt_when(c.last_collect.as_deref(), w),
        c.delivered_24h,
        c.rejected_24h
    );
}

fn attached(h: &mut String, o: &Overview, w: &Words) {
    let _ = write!(
        h,
        "<section id=\"attached\"><h2>{}</h2><table><tr><th>{}</th><th>{}</th><th>{}</th>\
         <th>{}</th><th>{}</th><th>{}</th></tr>",
        esc(w.attached),
        esc(w.folder),
        esc(w.schedule),
        esc(w.on_server),
        esc(w.last_publish),
        esc(w.next_tick),
        esc(w.progress)
    );
    for a in &o.attached {
        let progress = match &a.progress {
            Some(p) => {
                let pct = (100 * p.done_bytes)
                    .checked_div(p.total_bytes)
                    .unwrap_or(if p.finished { 100 } else { 0 })
                    .min(100);
                format!(
                    "<span class=\"bar\"><i style=\"width:{pct}%\"></i></span>{pct}% \
                     <span class=\"muted\">{}/{} {}, {}/{} · {}</span>",
                    p.done_files,
                    p.total_files,
                    esc(w.files),
                    bytes(p.done_bytes),
                    bytes(p.total_bytes),
                    esc(if p.finished { w.finished } else { w.running })
                )
            }
            None => "<span class=\"muted\">—</span>".into(),
        };
        let _ = write!(
            h,
            "<tr><td>{}</td><td><code>{}</code></td><td>{} {}, {}</td><td>{}</td><td>{}</td>\
             <td>{progress}</td></tr>",
            esc(&a.folder),
            esc(&a.schedule),
            a.on_server,
            esc(w.files),
            bytes(a.bytes),
            opt_when(a.last_published_at.as_deref(), w),
            a.next_tick
                .as_deref()
                .map_or_else(|| esc(w.at_every_check), when),
        );
    }
    h.push_str("</table>");
    let rejected: Vec<_> = o
        .attached
        .iter()
        .flat_map(|a| a.rejected.iter().map(move |r| (&a.folder, r)))
        .collect();
    if !rejected.is_empty() {
        let _ = write!(h, "<h2>{}</h2><ul>", esc(w.attached_rejected));
        for (folder, (name, link)) in rejected {
            let link = link.as_deref().map_or_else(String::new, |p| {
                format!(
                    " — <a class=\"report\" href=\"/rejected/{}\">{}</a>",
                    url_path(p),
                    esc(w.open_report)
                )
            });
            let _ = write!(
                h,
                "<li><code>{}/{}</code>{link}</li>",
                esc(folder),
                esc(name)
            );
        }
        h.push_str("</ul>");
    }
    h.push_str("</section>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_links_encoded() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(
            url_path("pictures/a b#.jpg.report.json"),
            "pictures/a%20b%23.jpg.report.json"
        );
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
    }
}
