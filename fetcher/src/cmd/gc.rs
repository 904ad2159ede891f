//! `kiln-fetch gc [--keep N]`: remove old builds and cached downloads.

use std::collections::BTreeMap;

use plumbing::output::{Human, Output};
use serde::Serialize;

use super::{Context, Opts};
use crate::error::Result;

#[derive(clap::Args)]
#[command(after_help = concat!(
    "Examples:\n",
    "  kiln-fetch gc            keep the config's `keep` builds per package; empty the download cache\n",
    "  kiln-fetch gc --keep 1   keep only current and the rollback target\n\n",
    "Exit codes: 0, or 2 if a package's state cannot be read (the others are still collected)."
))]
pub struct Args {
    /// Builds to keep per package (current and the rollback target are always kept);
    /// default the config's `keep`.
    #[arg(long, value_name = "N")]
    pub keep: Option<usize>,
}

#[derive(Serialize)]
pub struct Report {
    /// The builds removed, by package.
    pub removed: BTreeMap<String, Vec<u64>>,
    pub cache_files_removed: u64,
    pub cache_bytes_freed: u64,
    #[serde(skip)]
    cache_busy: bool,
    #[serde(skip)]
    errors: Vec<anyhow::Error>,
}

impl Output for Report {
    fn changed(&self) -> bool {
        self.cache_files_removed > 0 || self.removed.values().any(|r| !r.is_empty())
    }

    fn human(&self, out: &mut Human) {
        for (p, r) in self.removed.iter().filter(|(_, r)| !r.is_empty()) {
            out.say(format!(
                "{p}: removed builds {}",
                r.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
            ));
        }
        if self.cache_busy {
            eprintln!("note: an install is using var/cache/kiln; its downloads were left");
        } else if self.cache_files_removed > 0 {
            out.say(format!(
                "removed {} cached downloads ({} bytes)",
                self.cache_files_removed, self.cache_bytes_freed
            ));
        }
        if !self.changed() && self.errors.is_empty() {
            out.say("nothing to remove");
        }
    }

    fn failures(&self) -> Vec<&anyhow::Error> {
        self.errors.iter().collect()
    }
}

pub fn run(ctx: &Context, args: Args) -> Result<Report> {
    let env = ctx.env(&[])?;
    let keep = args.keep.unwrap_or(env.config.keep).max(1);
    let host = env.host(Opts::default());
    let mut removed = BTreeMap::new();
    // One package's broken state never stops the others, nor the cache.
    let mut errors = Vec::new();
    for p in host.layout.packages() {
        match host.collect(&p, keep) {
            Ok(r) => {
                removed.insert(p, r);
            }
            Err(e) => errors.push(e),
        }
    }
    let cache = match crate::download::clean_cache(&host.layout) {
        Ok(c) => c,
        Err(e) => {
            errors.push(e);
            Some((0, 0))
        }
    };
    let (files, bytes) = cache.unwrap_or_default();
    Ok(Report {
        removed,
        cache_files_removed: files,
        cache_bytes_freed: bytes,
        cache_busy: cache.is_none(),
        errors,
    })
}
