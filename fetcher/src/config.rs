//! `/etc/kiln/fetch.toml` (or `--config FILE`): the store, the host root, how many
//! builds to keep, the service manager and the health check's patience.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::error::{Code, Result, hinted};

pub const DEFAULT_CONFIG: &str = "/etc/kiln/fetch.toml";

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    store: Option<String>,
    root: Option<PathBuf>,
    keep: Option<usize>,
    trusted_keys: Option<Vec<String>>,
    trusted_root: Option<Vec<String>>,
    allow_unsigned: Option<bool>,
    require_python: Option<bool>,
    services: Option<ServicesDef>,
    health: Option<HealthDef>,
    receipts: Option<ReceiptsDef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReceiptsDef {
    enabled: Option<bool>,
    host: Option<String>,
    signing_key: Option<PathBuf>,
    heartbeat: Option<String>,
}

/// `[receipts]`: write what this host runs to the store after each change or check.
#[derive(Clone)]
pub struct Receipts {
    /// This host's id in the store (default its hostname).
    pub host: String,
    /// The key receipts are signed with, if any.
    pub key: Option<std::sync::Arc<release::SecretKey>>,
    /// How often a follower that saw no change writes a receipt anyway (its last
    /// check, for `kiln status --stale`); a change always writes one.
    pub heartbeat: std::time::Duration,
}

impl std::fmt::Debug for Receipts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("Receipts")
            .field("host", &self.host)
            .field("signed", &self.key.is_some())
            .field("heartbeat", &self.heartbeat)
            .finish()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServicesDef {
    manager: ManagerKind,
    svdir: Option<PathBuf>,
    command: Option<String>,
    wait: Option<String>,
    timeout: Option<String>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "lowercase")]
pub enum ManagerKind {
    Runit,
    Systemd,
    Command,
    None,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HealthDef {
    timeout: Option<String>,
    retries: Option<u32>,
    interval: Option<String>,
    soak: Option<String>,
    start: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Manager {
    /// `sv` against this service directory.
    Runit {
        svdir: PathBuf,
        /// How long a service runsvdir has not picked up yet is waited for.
        wait: Duration,
    },
    Systemd,
    /// A shell command with `{name}` replaced by the service name.
    Command {
        template: String,
    },
    None,
}

#[derive(Debug, Clone)]
pub struct Health {
    /// One attempt may take this long.
    pub timeout: Duration,
    /// Attempts after the first one.
    pub retries: u32,
    pub interval: Duration,
    /// After the check passed (ready), keep re-running it every `interval` for this
    /// long; a failure in that window rolls back like any other. Zero: no soak.
    pub soak: Duration,
    /// The first stage, after each restart: the process the service manager started
    /// is still the one running this long after (runit, systemd). Zero: not checked.
    pub start: Duration,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// Release and channel signers; any one of them will do (key rotation).
    pub trusted_keys: Vec<release::PublicKey>,
    /// Root keys: the store's keys record, signed by one of them, names the release
    /// keys (and the packages each may sign) this host then trusts too.
    pub trusted_root: Vec<release::PublicKey>,
    /// Install records no trusted key signed (the embedded demo), with a warning.
    pub allow_unsigned: bool,
    /// Refuse a bundle of Python tools built for another Python than the host's
    /// python3 (else: a warning).
    pub require_python: bool,
    pub store: Option<String>,
    /// What a relative `store` path is relative to: the config file's directory.
    pub store_base: PathBuf,
    /// The host root; a relative `root` is relative to the config file's directory.
    pub root: PathBuf,
    pub keep: usize,
    pub manager: Manager,
    /// How long one restart through the manager may take.
    pub service_timeout: Duration,
    pub health: Health,
    /// Off for a scratch root (`--root` elsewhere than the config's): no service of
    /// this machine runs that build, so its health check means nothing here.
    pub check_health: bool,
    /// None unless `[receipts] enabled = true`.
    pub receipts: Option<Receipts>,
}

fn duration(s: &str, what: &str, path: &Path) -> Result<Duration> {
    plumbing::duration::parse(s).map_err(|e| {
        hinted(
            Code::BadInput,
            format!("{}: {what} = {s:?}: {e}", path.display()),
            "write durations like \"30s\", \"2m\" or \"1h30m\"",
        )
    })
}

fn receipts(r: ReceiptsDef, base: &Path, path: &Path) -> Result<Receipts> {
    let host = match r.host {
        Some(h) => h,
        None => rustix::system::uname()
            .nodename()
            .to_string_lossy()
            .into_owned(),
    };
    release::validate_package_name(&host).map_err(|e| {
        hinted(
            Code::BadInput,
            format!("{}: [receipts] host {host:?}: {e}", path.display()),
            "set host = \"web-12\" (letters, digits, '-', '_', '.')",
        )
    })?;
    let key = match r.signing_key {
        None => None,
        Some(k) => {
            let file = base.join(k);
            let text = fs_err::read_to_string(&file).map_err(|e| {
                hinted(
                    Code::BadInput,
                    format!(
                        "{}: [receipts] signing_key: cannot read {}: {}",
                        path.display(),
                        file.display(),
                        e.kind()
                    ),
                    "name a key file written by `kiln keygen --out FILE`",
                )
            })?;
            Some(std::sync::Arc::new(
                release::SecretKey::parse(&text).map_err(|e| {
                    hinted(
                        Code::BadInput,
                        format!(
                            "{}: [receipts] signing_key {}: {e}",
                            path.display(),
                            file.display()
                        ),
                        "name a key file written by `kiln keygen --out FILE`",
                    )
                })?,
            ))
        }
    };
    let heartbeat = match r.heartbeat.as_deref() {
        Some(h) => duration(h, "receipts.heartbeat", path)?,
        None => Duration::from_secs(3600),
    };
    Ok(Receipts {
        host,
        key,
        heartbeat,
    })
}

impl Config {
    /// Read the config: `explicit` must exist; the default path may be missing.
    pub fn load(explicit: Option<&Path>) -> Result<Config> {
        let path = explicit.unwrap_or(Path::new(DEFAULT_CONFIG));
        let text = match fs_err::read_to_string(path) {
            Ok(t) => Some(t),
            Err(e) if explicit.is_none() && e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                return Err(hinted(
                    Code::BadInput,
                    format!("cannot read config {}: {e}", path.display()),
                    "check the path given to --config and its permissions",
                ));
            }
        };
        let def: ConfigFile = match &text {
            None => ConfigFile::default(),
            Some(t) => toml::from_str(t).map_err(|e| {
                let place = plumbing::error::place(path, t, e.span().map(|s| s.start));
                hinted(
                    Code::BadInput,
                    format!("{place}: {}", e.message().trim_end().replace('\n', "; ")),
                    "see docs/operations.md for the keys fetch.toml takes",
                )
            })?,
        };
        let keys = |list: &Option<Vec<String>>, field: &str| -> Result<Vec<release::PublicKey>> {
            let mut out = Vec::new();
            for (i, line) in list.iter().flatten().enumerate() {
                out.push(release::PublicKey::parse(line).map_err(|e| {
                    hinted(
                        Code::BadInput,
                        format!("{}: {field}[{i}]: {e}", path.display()),
                        "paste the line `kiln keygen` printed (also in its FILE.pub)",
                    )
                })?);
            }
            Ok(out)
        };
        // Relative paths in a config mean the same wherever kiln-fetch runs from.
        let cwd = std::env::current_dir()?;
        let base = match path.parent() {
            Some(d) if text.is_some() => cwd.join(d),
            _ => cwd,
        };
        let root = base.join(def.root.unwrap_or_else(|| PathBuf::from("/")));
        let trusted_keys = keys(&def.trusted_keys, "trusted_keys")?;
        let trusted_root = keys(&def.trusted_root, "trusted_root")?;
        let service_timeout = match def.services.as_ref().and_then(|s| s.timeout.as_deref()) {
            Some(t) => duration(t, "services.timeout", path)?,
            None => Duration::from_secs(120),
        };
        let manager = match def.services {
            None => Manager::None,
            Some(s) => match s.manager {
                ManagerKind::Runit => Manager::Runit {
                    svdir: base.join(s.svdir.unwrap_or_else(|| root.join("etc/service"))),
                    wait: match s.wait.as_deref() {
                        Some(w) => duration(w, "services.wait", path)?,
                        None => Duration::from_secs(10),
                    },
                },
                ManagerKind::Systemd => Manager::Systemd,
                ManagerKind::None => Manager::None,
                ManagerKind::Command => Manager::Command {
                    template: s.command.ok_or_else(|| {
                        hinted(
                            Code::BadInput,
                            format!(
                                "{}: [services] manager = \"command\" needs command",
                                path.display()
                            ),
                            "for example command = \"service {name} restart\"",
                        )
                    })?,
                },
            },
        };
        let receipts = match def.receipts {
            Some(r) if r.enabled.unwrap_or(false) => Some(receipts(r, &base, path)?),
            _ => None,
        };
        let h = def.health;
        let health = Health {
            timeout: match h.as_ref().and_then(|h| h.timeout.as_deref()) {
                Some(s) => duration(s, "health.timeout", path)?,
                None => Duration::from_secs(30),
            },
            retries: h.as_ref().and_then(|h| h.retries).unwrap_or(5),
            interval: match h.as_ref().and_then(|h| h.interval.as_deref()) {
                Some(s) => duration(s, "health.interval", path)?,
                None => Duration::from_secs(2),
            },
            soak: match h.as_ref().and_then(|h| h.soak.as_deref()) {
                Some(s) => duration(s, "health.soak", path)?,
                None => Duration::ZERO,
            },
            start: match h.as_ref().and_then(|h| h.start.as_deref()) {
                Some(s) => duration(s, "health.start", path)?,
                None => Duration::from_secs(1),
            },
        };
        Ok(Config {
            trusted_keys,
            trusted_root,
            allow_unsigned: def.allow_unsigned.unwrap_or(false),
            require_python: def.require_python.unwrap_or(false),
            store: def.store,
            store_base: base,
            root,
            keep: def.keep.unwrap_or(3).max(1),
            manager,
            service_timeout,
            health,
            check_health: true,
            receipts,
        })
    }
}
