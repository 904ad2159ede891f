//! `kiln keys --root-key FILE --grant PACKAGES=KEY...`: sign and publish the store's
//! keys record (which release keys may sign which packages).

use std::path::PathBuf;

use plumbing::output::{Human, Output};
use serde::Serialize;

use super::Context;
use crate::error::{Code, Result, hinted};

#[derive(clap::Args)]
#[command(after_help = "Examples:
  kiln keys --root-key root.key --grant '*=kiln-ed25519:...'
  kiln keys --root-key root.key --grant 'solr,hello=kiln-ed25519:...' --grant '*=kiln-ed25519:...'

Rotation and revocation are a new record: grant the new key, leave out the old one.

Exit codes: 0 signed and published, 2 bad input (a grant, no root key), 3 the store.")]
pub struct Args {
    /// The root key (`kiln keygen --root`); default $KILN_ROOT_KEY.
    #[arg(long, value_name = "FILE")]
    pub root_key: Option<PathBuf>,
    /// PACKAGES=KEY: a release key and the packages it may sign (`*` for all, or
    /// `solr,hello`); repeatable.
    #[arg(long = "grant", value_name = "PACKAGES=KEY", required = true)]
    pub grants: Vec<String>,
    /// The record's version; default one past the store's.
    #[arg(long)]
    pub version: Option<u64>,
    /// Hosts refuse the record after this long.
    #[arg(long, default_value = "365d", value_parser = plumbing::duration::parse_positive)]
    pub expires: std::time::Duration,
    /// Store URL or path; default [store] url in WORKSPACE.toml.
    #[arg(long, env = "KILN_STORE", value_name = "URL")]
    pub store: Option<String>,
}

#[derive(Serialize)]
pub struct Report {
    pub version: u64,
    pub root_key_id: String,
    #[serde(skip)]
    changed: bool,
}

impl Output for Report {
    fn changed(&self) -> bool {
        self.changed
    }

    fn human(&self, out: &mut Human) {
        out.result(format!(
            "keys record version {} signed by root {}{}",
            self.version,
            self.root_key_id,
            if self.changed { "" } else { " (unchanged)" }
        ));
    }
}

pub fn run(ctx: &Context, args: Args) -> Result<Report> {
    let ws = ctx.settings()?;
    let store = ctx.store(&ws, args.store.as_deref())?;
    let root =
        crate::publish::secret_key(args.root_key.as_deref(), "KILN_ROOT_KEY", None, "root key")?
            .ok_or_else(|| {
                hinted(
                    Code::BadInput,
                    "kiln keys needs the root key",
                    "pass --root-key FILE (made by `kiln keygen --root`), or set KILN_ROOT_KEY",
                )
            })?;
    let (version, changed) = crate::publish::publish_keys(
        store.as_ref(),
        &root,
        &args.grants,
        args.version,
        args.expires,
    )?;
    Ok(Report {
        version,
        root_key_id: root.public().id(),
        changed,
    })
}
