//! `kiln promote PACKAGE N --channel C`: point a channel at a published build.

use std::path::PathBuf;

use plumbing::output::{Human, Output};

use super::Context;
use crate::error::Result;
use crate::publish::{PromoteOptions, Promoted};

#[derive(clap::Args)]
#[command(after_help = "Examples:
  kiln promote solr 42 --channel prod --reason 'CHG-1234'   point prod at build 42
  kiln promote solr 41 --channel prod --reason 'roll back'  back to build 41 (3 am)
  kiln promote solr 42 --channel canary --expires 7d        hosts stop following it after 7 days

Every move is signed and appended to the channel's history (kiln releases shows it).

Exit codes: 0 moved (or already there), 1 refused (a signed channel without a key), 2 bad
input (no such build or package), 3 the store.")]
pub struct Args {
    /// The package (a bundle's name in the store).
    pub package: String,
    /// The build number to point the channel at.
    pub build: String,
    /// The channel to move.
    #[arg(long, value_name = "C")]
    pub channel: String,
    /// Why, for the channel's history.
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// Hosts refuse to follow the pointer after this long (e.g. 30d, 12h).
    #[arg(long, value_name = "DURATION", value_parser = plumbing::duration::parse_positive)]
    pub expires: Option<std::time::Duration>,
    /// Sign the pointer with this key; default $KILN_SIGNING_KEY.
    #[arg(long, value_name = "FILE")]
    pub signing_key: Option<PathBuf>,
    /// Move a signed channel without a key (hosts that require signatures refuse it).
    #[arg(long)]
    pub allow_unsigned: bool,
    /// Store URL or path; default [store] url in WORKSPACE.toml.
    #[arg(long, env = "KILN_STORE", value_name = "URL")]
    pub store: Option<String>,
}

impl Output for Promoted {
    fn changed(&self) -> bool {
        self.changed
    }

    fn human(&self, out: &mut Human) {
        if self.changed {
            let from = self
                .previous
                .map_or("nothing".into(), |b| format!("build {b}"));
            out.result(format!(
                "{} {}: {from} -> build {} (sequence {})",
                self.package, self.channel, self.build, self.sequence
            ));
        } else {
            out.result(format!(
                "{} {}: already at build {} (unchanged)",
                self.package, self.channel, self.build
            ));
        }
    }
}

pub fn run(ctx: &Context, args: Args) -> Result<Promoted> {
    let build = super::build_number(Some(&args.build))?;
    let ws = ctx.settings()?;
    let store = ctx.store(&ws, args.store.as_deref())?;
    let key = crate::publish::signing_key(args.signing_key.as_deref())?;
    let opts = PromoteOptions {
        reason: args.reason.as_deref(),
        expires: args.expires,
        key: key.as_ref(),
        allow_unsigned: args.allow_unsigned,
    };
    crate::publish::promote(store.as_ref(), &args.package, build, &args.channel, &opts)
}
