//! `kiln gc [--max-size SIZE]`: trim the local cache, least recently used first, and
//! sweep what killed runs left behind.

use plumbing::output::{Human, Output};
use serde::Serialize;

use super::Context;
use crate::cache::{Cache, Swept};
use crate::error::{Code, Result, hinted};

#[derive(clap::Args)]
#[command(after_help = "Examples:
  kiln gc                   sweep temp files of killed runs; say how big the cache is
  kiln gc --max-size 20G    and remove the least recently used entries down to 20 GiB

The cache is $KILN_CACHE (default ~/.cache/kiln). kiln gc waits for no build: while
another kiln uses the cache it exits 3 and removes nothing.

Exit codes: 0, 2 bad input (a size), 3 the cache is in use or cannot be read.")]
pub struct Args {
    /// Remove entries, least recently used first, until the cache holds at most SIZE
    /// (e.g. 500M, 20G).
    #[arg(long, value_name = "SIZE", value_parser = plumbing::size::parse)]
    pub max_size: Option<u64>,
}

#[derive(Serialize)]
pub struct Report {
    pub cache: std::path::PathBuf,
    #[serde(flatten)]
    pub swept: Swept,
}

impl Output for Report {
    fn changed(&self) -> bool {
        self.swept.entries_removed + self.swept.leftovers_removed > 0
    }

    fn human(&self, out: &mut Human) {
        let s = &self.swept;
        if !self.changed() {
            out.status(format!(
                "kiln: nothing to remove; {} holds {}",
                self.cache.display(),
                plumbing::size::format(s.bytes_after)
            ));
            return;
        }
        out.status(format!(
            "kiln: removed {} entr{} and {} leftover{} of killed runs; {} now holds {} (was {})",
            s.entries_removed,
            if s.entries_removed == 1 { "y" } else { "ies" },
            s.leftovers_removed,
            super::plural(s.leftovers_removed),
            self.cache.display(),
            plumbing::size::format(s.bytes_after),
            plumbing::size::format(s.bytes_before)
        ));
    }
}

pub fn run(_: &Context, args: Args) -> Result<Report> {
    let Some(cache) = Cache::open_exclusive()? else {
        return Err(hinted(
            Code::Env,
            "the cache is in use by a running kiln; nothing was removed",
            "run kiln gc again when the build finishes",
        ));
    };
    let swept = cache.gc(args.max_size)?;
    Ok(Report {
        cache: cache.root().to_path_buf(),
        swept,
    })
}
