//! `kiln keygen --out FILE [--root]`: a new ed25519 key pair.

use std::path::PathBuf;

use plumbing::output::{Human, Output};
use serde::Serialize;

use super::Context;
use crate::error::Result;

#[derive(clap::Args)]
#[command(after_help = "Examples:
  kiln keygen --out ci.key            a release key for CI (KILN_SIGNING_KEY=ci.key)
  kiln keygen --root --out root.key   an offline root key: it signs only keys records

Writes FILE (secret, mode 0600) and FILE.pub; refuses to overwrite either.

Exit codes: 0, 2 a file is already there, 3 the disk.")]
pub struct Args {
    /// The secret key's file; the public key goes to FILE.pub.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// A root key: it signs only keys records (`kiln keys`); keep it offline.
    #[arg(long)]
    pub root: bool,
}

#[derive(Serialize)]
pub struct Report {
    pub public_key: String,
    pub key_id: String,
    pub secret_key_file: PathBuf,
    pub root: bool,
}

impl Output for Report {
    fn changed(&self) -> bool {
        true
    }

    fn human(&self, out: &mut Human) {
        out.result(&self.public_key);
        let how = if self.root {
            "a root key: keep it offline; it signs only keys records (kiln keys), and hosts pin it with trusted_root"
        } else {
            "add the line above to trusted_keys on hosts, or grant it in the keys record (kiln keys)"
        };
        out.status(format!(
            "kiln: wrote {} (secret, mode 0600) and {}.pub; key id {}; {how}",
            self.secret_key_file.display(),
            self.secret_key_file.display(),
            self.key_id
        ));
    }
}

pub fn run(_: &Context, args: Args) -> Result<Report> {
    let public = crate::publish::keygen(&args.out)?;
    Ok(Report {
        public_key: public.to_string(),
        key_id: public.id(),
        secret_key_file: args.out,
        root: args.root,
    })
}
