//! `kiln clean`: remove kiln-out/ (the cache is kept).

use plumbing::output::{Human, Output};
use serde::Serialize;

use super::Context;
use crate::error::Result;

#[derive(clap::Args)]
#[command(after_help = "Examples:
  kiln clean          remove kiln-out/ (the next build takes what it can from the cache)
  kiln gc             trim the cache itself

Exit codes: 0 (also when there was nothing to remove), 2 not in a workspace, 3 the disk.")]
pub struct Args {}

#[derive(Serialize)]
pub struct Report {
    pub removed: bool,
    pub path: std::path::PathBuf,
}

impl Output for Report {
    fn changed(&self) -> bool {
        self.removed
    }

    fn human(&self, out: &mut Human) {
        if self.removed {
            out.status("kiln: removed kiln-out/");
        } else {
            out.status("kiln: no kiln-out/ to remove");
        }
    }
}

pub fn run(ctx: &Context, _: Args) -> Result<Report> {
    let ws = ctx.settings()?;
    let out = crate::outdir::OutDir::path(&ws.root);
    // Not `exists()`: a dangling link must go too, and a link is removed, never followed.
    let removed = fs_err::symlink_metadata(&out).is_ok();
    if removed {
        plumbing::fs::remove_tree(&out)?;
    }
    Ok(Report { removed, path: out })
}
