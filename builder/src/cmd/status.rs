//! `kiln status PACKAGE [--channel C]`: the fleet from its receipts (what each host
//! wrote after its last install, rollback or poll): hosts on the channel's build, hosts
//! behind, hosts that rolled back or failed (with the reason), hosts whose last receipt
//! is older than `--stale`. A receipt no `--trusted-host-key` signed is shown as
//! unverified: a claim, never proof of health.

use std::time::Duration;

use plumbing::output::{Human, Output};
use serde::Serialize;

use super::Context;
use crate::error::{Result, bad_input};

#[derive(clap::Args)]
#[command(after_help = "Examples:
  kiln status solr --channel prod            which hosts run prod's build, which are behind
  kiln status solr --stale 30m --json        hosts silent for 30 minutes are stale
  kiln status solr --trusted-host-key kiln-ed25519:...   receipts that key signed are verified

Hosts write receipts with `[receipts] enabled = true` in fetch.toml (docs/operations.md).

Exit codes: 0, 2 bad input (no such package or channel), 3 the store.")]
pub struct Args {
    /// The package (a bundle's name in the store).
    pub package: String,
    /// Compare each host with this channel's build.
    #[arg(long, value_name = "C")]
    pub channel: Option<String>,
    /// A host whose last receipt is older than this is stale: more than the hosts'
    /// [receipts] heartbeat (1h unless set), which idle followers write at.
    #[arg(long, value_name = "DURATION", default_value = "2h", value_parser = plumbing::duration::parse_positive)]
    pub stale: Duration,
    /// A host key whose signed receipts count as verified (repeatable).
    #[arg(long = "trusted-host-key", value_name = "KEY")]
    pub trusted_host_keys: Vec<String>,
    /// Store URL or path; default [store] url in WORKSPACE.toml.
    #[arg(long, env = "KILN_STORE", value_name = "URL")]
    pub store: Option<String>,
}

#[derive(Serialize)]
pub struct Host {
    pub host: String,
    pub build: Option<u64>,
    pub outcome: String,
    pub checked_at: String,
    /// `current` (on the channel's build), `behind`, `ahead`, `rolled_back`, `failed`,
    /// `stale`, or `ok` (no channel given).
    pub state: &'static str,
    pub reason: Option<String>,
    pub rolled_back_from: Option<u64>,
    /// Signed by a trusted host key.
    pub verified: bool,
}

#[derive(Serialize)]
pub struct Report {
    pub package: String,
    pub channel: Option<String>,
    pub channel_build: Option<u64>,
    pub hosts: Vec<Host>,
}

impl Output for Report {
    fn human(&self, out: &mut Human) {
        if let (Some(c), Some(b)) = (&self.channel, self.channel_build) {
            out.result(format!("{} {c}: build {b}", self.package));
        }
        out.result(format!(
            "{:<24} {:>7}  {:<12} {:<21} {:<10} WHY",
            "HOST", "BUILD", "STATE", "CHECKED", "VERIFIED"
        ));
        for h in &self.hosts {
            out.result(format!(
                "{:<24} {:>7}  {:<12} {:<21} {:<10} {}",
                h.host,
                h.build.map_or("-".into(), |b| b.to_string()),
                h.state,
                h.checked_at,
                if h.verified { "yes" } else { "no" },
                h.reason.as_deref().unwrap_or("")
            ));
        }
        let count = |s: &str| self.hosts.iter().filter(|h| h.state == s).count();
        out.status(format!(
            "kiln: {} host(s): {} current, {} behind, {} rolled back, {} failed, {} stale",
            self.hosts.len(),
            count("current"),
            count("behind"),
            count("rolled_back"),
            count("failed"),
            count("stale")
        ));
    }
}

pub fn run(ctx: &Context, args: Args) -> Result<Report> {
    release::validate_package_name(&args.package).map_err(bad_input)?;
    let ws = ctx.settings()?;
    let store = ctx.store(&ws, args.store.as_deref())?;
    let trusted = args
        .trusted_host_keys
        .iter()
        .map(|k| {
            release::PublicKey::parse(k).map_err(|e| bad_input(format!("--trusted-host-key: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    let classify = store::StoreError::classify;
    let channel_build = match &args.channel {
        None => None,
        Some(c) => {
            release::validate_package_name(c).map_err(|e| bad_input(format!("channel: {e}")))?;
            let (bytes, _) = store
                .get(&release::channel_key(&args.package, c))
                .map_err(classify)?
                .ok_or_else(|| {
                    bad_input(format!(
                        "{} has no channel {c} in {}",
                        args.package,
                        store.url()
                    ))
                })?;
            let ch = release::Channel::from_bytes(&bytes).map_err(|e| {
                crate::error::failed(format!("channel {c} of {}: {e}", args.package))
            })?;
            Some(ch.build)
        }
    };
    let prefix = release::receipts_prefix(&args.package);
    let now = std::time::SystemTime::now();
    let mut hosts = Vec::new();
    for key in store.list(&prefix).map_err(classify)? {
        let Some(name) = key
            .strip_prefix(&prefix)
            .and_then(|k| k.strip_suffix(".json"))
        else {
            continue;
        };
        if name.contains('/') {
            continue;
        }
        let Some((bytes, _)) = store.get(&key).map_err(classify)? else {
            continue;
        };
        let Ok(r) = release::Receipt::from_bytes(&bytes) else {
            hosts.push(Host {
                host: name.to_string(),
                build: None,
                outcome: "unreadable".into(),
                checked_at: String::new(),
                state: "failed",
                reason: Some("the receipt is not one kiln-fetch wrote".into()),
                rolled_back_from: None,
                verified: false,
            });
            continue;
        };
        let sig_key =
            release::receipt_signature_key(&args.package, &release::Digest::of_bytes(&bytes));
        let verified = !trusted.is_empty()
            && r.host == name
            && store.get(&sig_key).ok().flatten().is_some_and(|(sig, _)| {
                release::Signature::from_bytes(&sig)
                    .is_ok_and(|s| s.verify(&bytes, &trusted).is_ok())
            });
        let stale = plumbing::fs::parse_rfc3339(&r.checked_at).map_or(true, |t| {
            now.duration_since(t).is_ok_and(|age| age > args.stale)
        });
        let state = if stale {
            "stale"
        } else if r.outcome == "failed" {
            "failed"
        } else if r.outcome == "rolled_back" {
            "rolled_back"
        } else {
            match (channel_build, r.build) {
                (None, _) => "ok",
                (Some(c), Some(b)) if b == c => "current",
                (Some(c), Some(b)) if b > c => "ahead",
                _ => "behind",
            }
        };
        hosts.push(Host {
            host: name.to_string(),
            build: r.build,
            outcome: r.outcome,
            checked_at: r.checked_at,
            state,
            reason: r.reason,
            rolled_back_from: r.rolled_back_from,
            verified,
        });
    }
    Ok(Report {
        package: args.package,
        channel: args.channel,
        channel_build,
        hosts,
    })
}
