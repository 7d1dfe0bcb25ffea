//! Configuration: the TOML file as written (every struct refuses unknown keys), checked once
//! into [`Settings`], the validated form the rest of the program uses.

mod observe;
mod publish;
mod retention;

pub use observe::{parse_listen, NotifySettings, RawHttp, RawNotify};
pub use publish::{PublishSettings, RawPublish};
pub use retention::{RawKeep, Retention};

use crate::compo::messages::Lang;
use crate::compo::reader::EncodingMode;
use crate::compo::validate::{Options, Policy};
use crate::schedule::{Job, Plan};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The commented example, written by `compo-exchange init`.
pub const EXAMPLE: &str = include_str!("../../compo-exchange.example.toml");

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error("{key}: {message}")]
    Invalid { key: String, message: String },
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub workdir: Option<PathBuf>,
    #[serde(default)]
    pub folders: RawFolders,
    #[serde(default)]
    pub server: RawServer,
    #[serde(default)]
    pub validation: RawValidation,
    #[serde(default)]
    pub detect: RawDetect,
    #[serde(default)]
    pub schedule: BTreeMap<String, String>,
    #[serde(default)]
    pub attached: RawAttached,
    #[serde(default)]
    pub inbound: RawInbound,
    #[serde(default)]
    pub prodly: RawProdly,
    #[serde(default)]
    pub sellper: RawSellper,
    #[serde(default)]
    pub snapshot: RawSnapshot,
    #[serde(default)]
    pub http: RawHttp,
    #[serde(default)]
    pub notify: RawNotify,
    /// `[archive] keep_days`.
    #[serde(default)]
    pub archive: RawKeep,
    /// `[rejected] keep_days`.
    #[serde(default)]
    pub rejected: RawKeep,
    #[serde(default)]
    pub publish: RawPublish,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSnapshot {
    pub mass_delete: Option<f64>,
    #[serde(default)]
    pub mass_delete_by_type: BTreeMap<String, f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFolders {
    pub outbox: Option<PathBuf>,
    pub inbox: Option<PathBuf>,
    pub archive: Option<PathBuf>,
    pub rejected: Option<PathBuf>,
    pub state: Option<PathBuf>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    pub url: Option<String>,
    pub identity: Option<PathBuf>,
    pub passphrase_env: Option<String>,
    pub password_env: Option<String>,
    pub password_file: Option<PathBuf>,
    pub known_hosts: Option<PathBuf>,
    pub accept_new_host_keys: Option<bool>,
    pub connect_timeout_secs: Option<u64>,
    pub io_timeout_secs: Option<u64>,
    pub keepalive_secs: Option<u64>,
    pub pool_size: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawValidation {
    pub encoding: Option<EncodingMode>,
    pub policy: Option<Policy>,
    pub max_errors_per_file: Option<usize>,
    pub max_picture_size: Option<u64>,
    pub max_invoice_size: Option<u64>,
    pub schemas: Option<PathBuf>,
    /// IANA name of the zone 1C's local dates and times are in; default the host's.
    pub timezone: Option<String>,
    /// Every normalisation is an error: for exporters that write the canonical form.
    pub strict: Option<bool>,
    /// `en` or `ru`; the locale's language when absent.
    pub language: Option<Lang>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDetect {
    pub settle_secs: Option<f64>,
    pub poll_secs: Option<f64>,
    pub watch: Option<bool>,
    pub truncation_grace_secs: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAttached {
    pub prune: Option<bool>,
    pub max_prune_share: Option<f64>,
    pub allow_mass_prune: Option<bool>,
    pub flush_each_file: Option<bool>,
    pub verify_every_hours: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInbound {
    pub sellper_xml: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProdly {
    pub enabled: Option<bool>,
    pub out: Option<PathBuf>,
    pub vendor: Option<String>,
    pub branch: Option<String>,
    /// `country` of products whose card has none either (docs/prodly.md).
    pub default_country: Option<String>,
    /// Currency of Prodly orders without one whose client has no contract currency.
    pub default_currency: Option<String>,
}

impl RawProdly {
    /// The configured defaults; a currency must be an ISO 4217 code.
    pub fn defaults(&self) -> Result<crate::formats::prodly::ProdlyDefaults, ConfigError> {
        let clean = |v: &Option<String>| {
            v.as_ref()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        let currency = clean(&self.default_currency);
        if let Some(c) = &currency {
            if c.len() != 3 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(invalid(
                    "prodly.default_currency",
                    format!("\"{c}\" is not an ISO 4217 code (three capital letters, e.g. RUB)"),
                ));
            }
        }
        Ok(crate::formats::prodly::ProdlyDefaults {
            country: clean(&self.default_country),
            currency,
        })
    }
}

/// `[sellper]`: the Sellper bridge's lookups (docs/sellper.md, "Configuration").
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSellper {
    pub item_ids_from: Option<Vec<PathBuf>>,
    pub clients_from: Option<Vec<PathBuf>>,
    pub goods_source_behaviour: Option<String>,
    /// COMPO contragent id = Sellper client id.
    #[serde(default)]
    pub clients: BTreeMap<String, String>,
}

impl RawSellper {
    /// The options, paths taken relative to `base` (the working folder).
    pub fn options(
        &self,
        base: &Path,
    ) -> Result<crate::formats::sellper::SellperOptions, ConfigError> {
        let paths = |v: &Option<Vec<PathBuf>>| -> Vec<PathBuf> {
            v.iter().flatten().map(|p| base.join(p)).collect()
        };
        let goods_source_behaviour = match self.goods_source_behaviour.as_deref() {
            None | Some("") => None,
            Some(v) => Some(
                crate::formats::sellper::GoodsSource::parse(v).ok_or_else(|| {
                    invalid(
                        "sellper.goods_source_behaviour",
                        format!("\"{v}\" is neither reserve nor find-impersonal-reserve"),
                    )
                })?,
            ),
        };
        Ok(crate::formats::sellper::SellperOptions {
            item_ids_from: paths(&self.item_ids_from),
            clients_from: paths(&self.clients_from),
            clients: self.clients.clone(),
            goods_source_behaviour,
        })
    }
}

/// Where the exchange server is.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerLocation {
    Local(PathBuf),
    Sftp(String),
}

/// The ERP-side folders, absolute.
#[derive(Debug, Clone)]
pub struct Folders {
    pub workdir: PathBuf,
    pub outbox: PathBuf,
    pub inbox: PathBuf,
    pub archive: PathBuf,
    pub rejected: PathBuf,
    pub state: PathBuf,
}

#[derive(Debug, Clone)]
pub struct DetectSettings {
    pub settle: Duration,
    pub poll: Duration,
    pub watch: bool,
    pub truncation_grace: Duration,
}

#[derive(Debug, Clone)]
pub struct AttachedSettings {
    pub prune: bool,
    pub max_prune_share: f64,
    pub allow_mass_prune: bool,
    /// Flush every attached file on the server before its rename (data files always are).
    pub flush_each_file: bool,
    /// How often the server's mirror folders are compared with the manifest; zero: at every
    /// sync.
    pub verify_every: std::time::Duration,
}

#[derive(Debug, Clone)]
pub struct ProdlySettings {
    pub out: PathBuf,
    pub vendor: String,
    pub branch: String,
    pub defaults: crate::formats::prodly::ProdlyDefaults,
}

/// The mass-deletion guard of spec 4.2: the share of a type's published records that one full
/// snapshot may remove before it is held.
#[derive(Debug, Clone)]
pub struct SnapshotSettings {
    pub mass_delete: f64,
    pub by_type: std::collections::HashMap<crate::compo::model::DataType, f64>,
}

impl SnapshotSettings {
    pub fn mass_delete_limit(&self, t: crate::compo::model::DataType) -> f64 {
        self.by_type.get(&t).copied().unwrap_or(self.mass_delete)
    }
}

/// The validated configuration.
pub struct Settings {
    pub folders: Folders,
    pub server: ServerLocation,
    pub server_raw: RawServer,
    pub validation: Options,
    pub schemas: Option<PathBuf>,
    pub detect: DetectSettings,
    pub plan: Plan,
    pub attached: AttachedSettings,
    pub sellper_xml: bool,
    pub prodly: Option<ProdlySettings>,
    /// `[sellper]`; the pipeline's Sellper hooks take it.
    pub sellper: crate::formats::sellper::SellperOptions,
    pub snapshot: SnapshotSettings,
    /// Where `run` serves the status page and `/metrics`; `None`: not served.
    pub http_listen: Option<std::net::SocketAddr>,
    pub notify: NotifySettings,
    /// How long `archive/` and `rejected/` keep their days' folders.
    pub retention: Retention,
    /// `[publish]`: changes-only publishing.
    pub publish: PublishSettings,
}

/// Command-line values that take precedence over the file.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub workdir: Option<PathBuf>,
    pub server: Option<String>,
    pub identity: Option<PathBuf>,
    pub known_hosts: Option<PathBuf>,
    pub vendor: Option<String>,
    pub branch: Option<String>,
}

impl RawConfig {
    pub fn load(path: &Path) -> Result<RawConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }
}

fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        message: message.into(),
    }
}

fn secs(key: &str, v: Option<f64>, default: f64) -> Result<Duration, ConfigError> {
    let v = v.unwrap_or(default);
    if !(0.0..=86_400.0).contains(&v) {
        return Err(invalid(
            key,
            format!("{v} is not between 0 and 86400 seconds"),
        ));
    }
    Ok(Duration::from_secs_f64(v))
}

impl Settings {
    /// Checks a raw configuration; relative paths are resolved against `base` (the current
    /// folder) and then `workdir`.
    pub fn from_raw(raw: RawConfig, o: &Overrides, base: &Path) -> Result<Settings, ConfigError> {
        let workdir = o
            .workdir
            .clone()
            .or(raw.workdir)
            .unwrap_or_else(|| PathBuf::from("exchange"));
        // Lexically clean (`/srv/compo/.` is `/srv/compo`): paths shown to people and written
        // into reports stay readable.
        let workdir: PathBuf = base.join(workdir).components().collect();
        let under = |p: Option<PathBuf>, d: &str| workdir.join(p.unwrap_or_else(|| d.into()));
        let folders = Folders {
            outbox: under(raw.folders.outbox, "outbox"),
            inbox: under(raw.folders.inbox, "inbox"),
            archive: under(raw.folders.archive, "archive"),
            rejected: under(raw.folders.rejected, "rejected"),
            state: under(raw.folders.state, "state"),
            workdir: workdir.clone(),
        };
        let mut server_raw = raw.server;
        if let Some(i) = &o.identity {
            server_raw.identity = Some(i.clone());
        }
        if let Some(k) = &o.known_hosts {
            server_raw.known_hosts = Some(k.clone());
        }
        let url = o
            .server
            .clone()
            .or(server_raw.url.clone())
            .unwrap_or_else(|| "server".into());
        let server = if url.starts_with("sftp://") {
            ServerLocation::Sftp(url)
        } else if let Some(p) = url.strip_prefix("file://") {
            ServerLocation::Local(PathBuf::from(p))
        } else if url.contains("://") {
            return Err(invalid(
                "server.url",
                format!("{url:?}: use a folder, file:///path or sftp://USER@HOST[:PORT]/ROOT"),
            ));
        } else {
            ServerLocation::Local(workdir.join(url))
        };

        let v = raw.validation;
        let defaults = Options::default();
        let validation = Options {
            encoding: v.encoding.unwrap_or_default(),
            policy: v.policy.unwrap_or_default(),
            max_errors_per_file: v
                .max_errors_per_file
                .unwrap_or(defaults.max_errors_per_file),
            max_picture_size: v.max_picture_size.unwrap_or(defaults.max_picture_size),
            max_invoice_size: v.max_invoice_size.unwrap_or(defaults.max_invoice_size),
            normalise: crate::compo::normalise::Settings {
                zone: match &v.timezone {
                    Some(name) => crate::compo::normalise::zone::Zone::parse(name)
                        .map_err(|m| invalid("validation.timezone", m))?,
                    None => defaults.normalise.zone,
                },
                strict: v.strict.unwrap_or(false),
            },
            lang: v.language.unwrap_or_else(Lang::from_env),
        };
        if validation.max_errors_per_file == 0 {
            return Err(invalid(
                "validation.max_errors_per_file",
                "must be at least 1",
            ));
        }
        let detect = DetectSettings {
            settle: secs("detect.settle_secs", raw.detect.settle_secs, 2.0)?,
            poll: secs("detect.poll_secs", raw.detect.poll_secs, 1.0)?,
            watch: raw.detect.watch.unwrap_or(true),
            truncation_grace: secs(
                "detect.truncation_grace_secs",
                raw.detect.truncation_grace_secs,
                60.0,
            )?,
        };
        let mut plan = Plan::defaults();
        for (key, text) in &raw.schedule {
            if Job::from_key(key).is_none() {
                return Err(invalid(
                    &format!("schedule.{key}"),
                    "not a data type, \"pictures\", \"invoices\" or \"collect\" (names are \
                     case-sensitive)",
                ));
            }
            plan.apply(key, text)
                .map_err(|e| invalid(&format!("schedule.{key}"), e.to_string()))?;
        }
        let share = raw.attached.max_prune_share.unwrap_or(0.10);
        if !(0.0..=1.0).contains(&share) {
            return Err(invalid(
                "attached.max_prune_share",
                format!("{share} is not a share between 0 and 1"),
            ));
        }
        let verify_hours = raw.attached.verify_every_hours.unwrap_or(24.0);
        if !(verify_hours.is_finite() && verify_hours >= 0.0) {
            return Err(invalid(
                "attached.verify_every_hours",
                format!("{verify_hours} is not a number of hours (0 or more)"),
            ));
        }
        let sellper = raw.sellper.options(&workdir)?;
        let prodly = if raw.prodly.enabled.unwrap_or(false) {
            let defaults = raw.prodly.defaults()?;
            let vendor = o.vendor.clone().or(raw.prodly.vendor).unwrap_or_default();
            let branch = o.branch.clone().or(raw.prodly.branch).unwrap_or_default();
            if vendor.is_empty() || branch.is_empty() {
                return Err(invalid(
                    "prodly",
                    "enabled, but vendor or branch is empty: Prodly needs both codes",
                ));
            }
            Some(ProdlySettings {
                defaults,
                out: under(raw.prodly.out, "prodly"),
                vendor,
                branch,
            })
        } else {
            None
        };
        let share_of = |key: &str, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(v)
            } else {
                Err(invalid(
                    key,
                    format!("{v} is not a share between 0 and 1 (0.2 means 20%)"),
                ))
            }
        };
        let mut snapshot = SnapshotSettings {
            mass_delete: share_of(
                "snapshot.mass_delete",
                raw.snapshot.mass_delete.unwrap_or(0.2),
            )?,
            by_type: Default::default(),
        };
        for (name, v) in &raw.snapshot.mass_delete_by_type {
            let key = format!("snapshot.mass_delete_by_type.{name}");
            let t = crate::compo::model::DataType::from_name(name)
                .ok_or_else(|| invalid(&key, "not a data type (names are case-sensitive)"))?;
            snapshot.by_type.insert(t, share_of(&key, *v)?);
        }
        let http_listen = raw.http.listen.as_deref().map(parse_listen).transpose();
        let http_listen = http_listen.map_err(|m| invalid("http.listen", m))?;
        let notify = NotifySettings::from_raw(raw.notify)
            .map_err(|(key, m)| invalid(&format!("notify.{key}"), m))?;
        let retention =
            Retention::from_raw(&raw.archive, &raw.rejected).map_err(|(k, m)| invalid(&k, m))?;
        let publish = PublishSettings::from_raw(raw.publish)
            .map_err(|(key, m)| invalid(&format!("publish.{key}"), m))?;
        Ok(Settings {
            publish,
            folders,
            server,
            server_raw,
            validation,
            schemas: v.schemas.map(|p| workdir.join(p)),
            detect,
            plan,
            attached: AttachedSettings {
                prune: raw.attached.prune.unwrap_or(false),
                max_prune_share: share,
                allow_mass_prune: raw.attached.allow_mass_prune.unwrap_or(false),
                flush_each_file: raw.attached.flush_each_file.unwrap_or(false),
                verify_every: std::time::Duration::from_secs_f64(verify_hours * 3600.0),
            },
            sellper_xml: raw.inbound.sellper_xml.unwrap_or(false),
            prodly,
            sellper,
            snapshot,
            http_listen,
            notify,
            retention,
        })
    }

    /// Loads `path` (or the defaults when `None`) and checks it.
    pub fn load(path: Option<&Path>, o: &Overrides) -> Result<Settings, ConfigError> {
        let raw = match path {
            Some(p) => RawConfig::load(p)?,
            None => RawConfig::default(),
        };
        let cwd = std::env::current_dir().map_err(|source| ConfigError::Read {
            path: PathBuf::from("."),
            source,
        })?;
        // Paths in a file are relative to the file, so a config works wherever it is run from.
        let base = match path.and_then(Path::parent) {
            Some(dir) if raw.workdir.is_some() || o.workdir.is_none() => cwd.join(dir),
            _ => cwd,
        };
        Settings::from_raw(raw, o, &base)
    }
}

impl Settings {
    /// The local server's `out/`, for putting sample portal files there.
    pub fn server_out(&self) -> Result<PathBuf, ConfigError> {
        match &self.server {
            ServerLocation::Local(root) => Ok(root.join("out")),
            ServerLocation::Sftp(_) => Err(invalid(
                "server.url",
                "samples go into a local server only; use the default server folder",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_is_the_default() {
        let raw: RawConfig = toml::from_str(EXAMPLE).expect("example parses");
        let s = Settings::from_raw(raw, &Overrides::default(), Path::new("/base")).unwrap();
        let d = Settings::from_raw(
            RawConfig::default(),
            &Overrides::default(),
            Path::new("/base"),
        )
        .unwrap();
        assert_eq!(s.folders.outbox, d.folders.outbox);
        assert_eq!(
            s.server,
            ServerLocation::Local(PathBuf::from("/base/exchange/server"))
        );
        assert_eq!(s.detect.settle, d.detect.settle);
        for (job, c) in d.plan.iter() {
            assert_eq!(s.plan.cadence(job).to_string(), c.to_string(), "{job}");
        }
    }

    #[test]
    fn unknown_keys_are_refused() {
        for text in [
            "wrokdir = \"x\"",
            "[folders]\noutbx = \"x\"",
            "[server]\nusr = \"a\"",
        ] {
            assert!(toml::from_str::<RawConfig>(text).is_err(), "{text}");
        }
        let raw: RawConfig = toml::from_str("[schedule]\nProducts = \"5m\"").unwrap();
        let e = Settings::from_raw(raw, &Overrides::default(), Path::new("/"))
            .err()
            .unwrap();
        assert!(e.to_string().contains("schedule.Products"), "{e}");
    }

    #[test]
    fn the_time_zone_is_an_iana_name_and_strict_is_off_by_default() {
        let raw: RawConfig =
            toml::from_str("[validation]\ntimezone = \"Asia/Novosibirsk\"\nstrict = true").unwrap();
        let s = Settings::from_raw(raw, &Overrides::default(), Path::new("/")).unwrap();
        assert_eq!(s.validation.normalise.zone.name(), "Asia/Novosibirsk");
        assert!(s.validation.normalise.strict);
        let d = Settings::from_raw(RawConfig::default(), &Overrides::default(), Path::new("/"))
            .unwrap();
        assert!(!d.validation.normalise.strict);
        let raw: RawConfig = toml::from_str("[validation]\ntimezone = \"GMT+3\"").unwrap();
        let e = Settings::from_raw(raw, &Overrides::default(), Path::new("/"))
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.starts_with("validation.timezone:") && e.contains("GMT+3"),
            "{e}"
        );
    }

    #[test]
    fn the_language_of_messages_is_en_or_ru() {
        let raw: RawConfig = toml::from_str("[validation]\nlanguage = \"ru\"").unwrap();
        let s = Settings::from_raw(raw, &Overrides::default(), Path::new("/")).unwrap();
        assert_eq!(s.validation.lang, Lang::Ru);
        let raw: RawConfig = toml::from_str("[validation]\nlanguage = \"en\"").unwrap();
        let s = Settings::from_raw(raw, &Overrides::default(), Path::new("/")).unwrap();
        assert_eq!(s.validation.lang, Lang::En);
        let e = toml::from_str::<RawConfig>("[validation]\nlanguage = \"de\"")
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("language") && e.contains("en") && e.contains("ru"),
            "{e}"
        );
    }

    #[test]
    fn overrides_win_and_urls_are_classified() {
        let o = Overrides {
            workdir: Some("/w".into()),
            server: Some("sftp://erp@host:2222/srv/compo".into()),
            ..Default::default()
        };
        let s = Settings::from_raw(RawConfig::default(), &o, Path::new("/base")).unwrap();
        assert_eq!(s.folders.inbox, PathBuf::from("/w/inbox"));
        assert!(matches!(s.server, ServerLocation::Sftp(_)));
        let raw: RawConfig = toml::from_str("[server]\nurl = \"http://x\"").unwrap();
        assert!(Settings::from_raw(raw, &Overrides::default(), Path::new("/")).is_err());
    }
}
