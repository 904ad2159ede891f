//! `kiln releases PACKAGE [--verify]`: a package's builds, channels and their history.

use std::path::PathBuf;

use plumbing::output::{Human, Output};
use serde::Serialize;

use super::Context;
use crate::error::{Code, Result, bad_input, hinted};
use crate::publish::Releases;

#[derive(clap::Args)]
#[command(after_help = "Examples:
  kiln releases solr                                   builds, sha256, channels, history
  kiln releases solr --json                            the same as one JSON object
  kiln releases solr --verify --trusted-key kiln-ed25519:...
                                                       check every signature and history chain

Exit codes: 0, 1 --verify found a bad signature or a broken chain, 2 bad input (no such
package), 3 the store.")]
pub struct Args {
    /// The package (a bundle's name in the store).
    pub package: String,
    /// Store URL or path; default [store] url in WORKSPACE.toml.
    #[arg(long, env = "KILN_STORE", value_name = "URL")]
    pub store: Option<String>,
    /// Check every signature and each channel's history chain, from the store alone.
    #[arg(long)]
    pub verify: bool,
    /// A public key whose signatures count (repeatable); default the public half of
    /// --signing-key or $KILN_SIGNING_KEY.
    #[arg(long = "trusted-key", value_name = "KEY")]
    pub trusted_keys: Vec<String>,
    /// With --verify: the signing key whose public half to trust.
    #[arg(long, value_name = "FILE")]
    pub signing_key: Option<PathBuf>,
}

#[derive(Serialize)]
pub struct ChannelMoves {
    pub channel: String,
    pub moves: u64,
}

#[derive(Serialize)]
#[serde(untagged)]
pub enum Report {
    Listed(Releases),
    Verified {
        verified: bool,
        package: String,
        builds: usize,
        channels: Vec<ChannelMoves>,
    },
}

impl Output for Report {
    fn human(&self, out: &mut Human) {
        match self {
            Report::Listed(r) => table(r, out),
            Report::Verified {
                package,
                builds,
                channels,
                ..
            } => {
                let chans: Vec<String> = channels
                    .iter()
                    .map(|c| {
                        format!(
                            "{} ({} move{})",
                            c.channel,
                            c.moves,
                            super::plural(c.moves as usize)
                        )
                    })
                    .collect();
                out.result(format!(
                    "{package}: {builds} build(s) and channels [{}]: every signature and each history chain verify",
                    chans.join(", ")
                ));
            }
        }
    }
}

fn table(r: &Releases, out: &mut Human) {
    out.result(format!(
        "{:<8} {:<64} {:>12}  {:<20}  CHANNELS",
        "BUILD", "SHA256", "SIZE", "BUILT_AT"
    ));
    for row in &r.builds {
        out.result(format!(
            "{:<8} {:<64} {:>12}  {:<20}  {}",
            row.build,
            row.sha256,
            row.size,
            row.built_at,
            row.channels.join(", ")
        ));
    }
    if !r.history.is_empty() {
        out.result("\nCHANNEL HISTORY");
        for m in &r.history {
            let from = m.from.map_or("-".to_string(), |b| b.to_string());
            out.result(format!(
                "{}  {} #{}: {from} -> {}  by {}{}",
                m.at,
                m.channel,
                m.sequence,
                m.to,
                m.by,
                m.reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            ));
        }
    }
}

pub fn run(ctx: &Context, args: Args) -> Result<Report> {
    let ws = ctx.settings()?;
    let store = ctx.store(&ws, args.store.as_deref())?;
    if !args.verify {
        return Ok(Report::Listed(crate::publish::releases(
            store.as_ref(),
            &args.package,
        )?));
    }
    let mut trusted = args
        .trusted_keys
        .iter()
        .map(|k| release::PublicKey::parse(k).map_err(|e| bad_input(format!("--trusted-key: {e}"))))
        .collect::<Result<Vec<_>>>()?;
    if trusted.is_empty() {
        match crate::publish::signing_key(args.signing_key.as_deref())? {
            Some(k) => trusted.push(k.public()),
            None => {
                return Err(hinted(
                    Code::BadInput,
                    "--verify needs the keys whose signatures count",
                    "pass --trusted-key kiln-ed25519:… (the publisher's KEY.pub line), or --signing-key FILE",
                ));
            }
        }
    }
    let v = crate::publish::verify(store.as_ref(), &args.package, &trusted)?;
    Ok(Report::Verified {
        verified: true,
        package: v.package,
        builds: v.builds,
        channels: v
            .channels
            .into_iter()
            .map(|(channel, moves)| ChannelMoves { channel, moves })
            .collect(),
    })
}
