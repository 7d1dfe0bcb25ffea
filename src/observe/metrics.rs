//! `/metrics`: the journal's figures in the Prometheus exposition format (OpenMetrics text, as
//! the Prometheus client library writes it), computed at each scrape.
//!
//! The `_total` counters count journal rows, which are never deleted, so they only grow, as a
//! counter must; a retention that deleted rows would need a table of running totals as their
//! source instead. Each scrape reads every file row once: fine for the hundreds of thousands
//! of files of years of exchange, at a scrape every 15 s or more.

use super::view::type_of;
use super::Context;
use crate::journal::{Journal, Origin, State};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use std::sync::atomic::AtomicU64;

/// The content type of what [`render`] writes.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Claimed-to-published buckets, in seconds: from an immediate publish to a daily cron.
const LATENCY_BUCKETS: [f64; 12] = [
    1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 21600.0, 43200.0, 86400.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TypeLabel {
    r#type: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FolderLabel {
    folder: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ComponentLabel {
    component: String,
}

type Counters = Family<TypeLabel, Counter>;
type Gauges = Family<TypeLabel, Gauge>;
type Stamps = Family<TypeLabel, Gauge<f64, AtomicU64>>;

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

fn label(t: Option<String>) -> TypeLabel {
    TypeLabel {
        r#type: t.unwrap_or_else(|| "unknown".into()),
    }
}

/// Unix seconds of an RFC 3339 time.
fn unix(t: &str) -> Option<f64> {
    chrono::DateTime::parse_from_rfc3339(t)
        .ok()
        .map(|t| t.timestamp_millis() as f64 / 1000.0)
}

/// The exposition, or the journal's error (the caller answers 503 with it).
pub fn render(cx: &Context) -> Result<String, String> {
    let j = Journal::open_read_only(&cx.journal).map_err(|e| e.to_string())?;
    let mut reg = Registry::with_prefix("compo_exchange");
    let taken = Counters::default();
    let published = Counters::default();
    let rejected = Counters::default();
    let delivered = Counters::default();
    let bytes_published = Counters::default();
    let bytes_delivered = Counters::default();
    let waiting = Gauges::default();
    let last_publish = Stamps::default();
    let last_delivery = Stamps::default();
    let latency = Family::<TypeLabel, Histogram>::new_with_constructor(
        latency_histogram as fn() -> Histogram,
    );
    let files = j.file_figures().map_err(|e| e.to_string())?;
    for f in &files {
        let l = label(type_of(&f.data_type, &f.name));
        let stamp_max = |fam: &Stamps, at: &str| {
            if let Some(s) = unix(at) {
                let g = fam.get_or_create(&l);
                if s > g.get() {
                    g.set(s);
                }
            }
        };
        match f.origin {
            Origin::Outbox => {
                if f.taken_at.is_some() {
                    taken.get_or_create(&l).inc();
                }
                if let Some(at) = &f.published_at {
                    published.get_or_create(&l).inc();
                    bytes_published.get_or_create(&l).inc_by(f.size);
                    stamp_max(&last_publish, at);
                }
                if let Some(s) = f.publish_secs {
                    latency.get_or_create(&l).observe(s.max(0.0));
                }
            }
            Origin::Out => {
                if f.taken_at.is_some() {
                    taken.get_or_create(&l).inc();
                }
                if let Some(at) = &f.delivered_at {
                    delivered.get_or_create(&l).inc();
                    bytes_delivered.get_or_create(&l).inc_by(f.size);
                    stamp_max(&last_delivery, at);
                }
            }
        }
        if f.state == State::Rejected {
            rejected.get_or_create(&l).inc();
        }
        if f.state == State::Staged {
            waiting.get_or_create(&l).inc();
        }
    }
    let attached_files = Family::<FolderLabel, Gauge>::default();
    let attached_bytes = Family::<FolderLabel, Gauge>::default();
    for t in j.manifest_totals().map_err(|e| e.to_string())? {
        let l = FolderLabel {
            folder: t.folder.clone(),
        };
        attached_files.get_or_create(&l).set(t.files as i64);
        attached_bytes.get_or_create(&l).set(t.bytes as i64);
        if let Some(s) = t.last_published_at.as_deref().and_then(unix) {
            last_publish.get_or_create(&label(Some(t.folder))).set(s);
        }
    }
    let retrying: Gauge = Gauge::default();
    retrying.set(j.retrying().map_err(|e| e.to_string())?.len() as i64);
    let up = Family::<ComponentLabel, Gauge>::default();
    let last_collect: Gauge<f64, AtomicU64> = Gauge::default();
    let server: Gauge = Gauge::default();
    let mut server_known = false;
    for h in j.health().map_err(|e| e.to_string())? {
        up.get_or_create(&ComponentLabel {
            component: h.component.clone(),
        })
        .set(h.ok() as i64);
        if h.component == "server" {
            server.set(h.ok() as i64);
            server_known = true;
        }
        if h.component == "collect" {
            if let Some(s) = h.last_success.as_deref().and_then(unix) {
                last_collect.set(s);
            }
        }
    }

    reg.register(
        "files_taken",
        "Files taken from the outbox or downloaded from out/",
        taken,
    );
    reg.register(
        "files_published",
        "Files published to the portal",
        published,
    );
    reg.register(
        "files_rejected",
        "Files rejected or held (report in rejected/)",
        rejected,
    );
    reg.register(
        "files_delivered",
        "Files from out/ delivered into the inbox",
        delivered,
    );
    reg.register_with_unit(
        "published",
        "Bytes of the files published",
        Unit::Bytes,
        bytes_published,
    );
    reg.register_with_unit(
        "delivered",
        "Bytes of the files delivered",
        Unit::Bytes,
        bytes_delivered,
    );
    reg.register_with_unit(
        "publish_latency",
        "From taking a file to its publish",
        Unit::Seconds,
        latency,
    );
    reg.register(
        "files_waiting",
        "Files staged and waiting for their tick",
        waiting,
    );
    reg.register(
        "files_retrying",
        "Files whose last attempt failed and that are retried",
        retrying,
    );
    reg.register_with_unit(
        "last_publish_timestamp",
        "When a file of the type was last published (Unix time)",
        Unit::Seconds,
        last_publish,
    );
    reg.register_with_unit(
        "last_delivery_timestamp",
        "When a file of the type was last delivered from out/ (Unix time)",
        Unit::Seconds,
        last_delivery,
    );
    if last_collect.get() > 0.0 {
        reg.register_with_unit(
            "last_collect_timestamp",
            "When out/ was last collected without error (Unix time)",
            Unit::Seconds,
            last_collect,
        );
    }
    if server_known {
        reg.register(
            "server_reachable",
            "1 when the last attempt to reach the exchange server worked",
            server,
        );
    }
    reg.register(
        "component_up",
        "1 when the component's last attempt worked",
        up,
    );
    reg.register(
        "attached_files",
        "Attached files on the server",
        attached_files,
    );
    reg.register_with_unit(
        "attached",
        "Bytes of the attached files on the server",
        Unit::Bytes,
        attached_bytes,
    );
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &reg).map_err(|e| e.to_string())?;
    Ok(out)
}
