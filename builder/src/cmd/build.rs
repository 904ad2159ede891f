//! `kiln build [PATTERNS]`: build targets; print each bundle's label, path and sha256.

use plumbing::output::{Human, Output};
use serde::Serialize;

use super::{Context, patterns};
use crate::bundle::{Built, Status};
use crate::error::Result;

#[derive(clap::Args)]
#[command(after_help = "Examples:
  kiln build                          every target (//...)
  kiln build //packages/solr:solr     one bundle
  kiln build //packages/...           every target under packages/
  kiln build --json                   the bundles as one JSON object

Exit codes: 0 built, 1 an action failed, 2 bad input (a malformed BUILD.toml, an unknown
label, a cycle), 3 the environment (an archive cannot be fetched, the disk is full).")]
pub struct Args {
    /// Labels or patterns (//..., //pkg/..., //pkg:all); default //...
    pub patterns: Vec<String>,
}

#[derive(Serialize)]
pub struct Bundle {
    pub label: String,
    pub path: std::path::PathBuf,
    pub sha256: release::Digest,
    pub size: u64,
    pub changed: bool,
}

impl From<&Built> for Bundle {
    fn from(b: &Built) -> Bundle {
        Bundle {
            label: b.label.to_string(),
            path: b.out.clone(),
            sha256: b.sha256,
            size: b.size,
            changed: b.status != Status::UpToDate,
        }
    }
}

#[derive(Serialize)]
pub struct Report {
    pub bundles: Vec<Bundle>,
    /// Actions run, taken from the cache, and up to date.
    pub actions: crate::engine::Counts,
}

impl Output for Report {
    fn changed(&self) -> bool {
        self.actions.ran + self.actions.cached > 0
    }

    fn human(&self, out: &mut Human) {
        for b in &self.bundles {
            out.result(format!("{}  {}  {}", b.label, b.path.display(), b.sha256));
        }
    }
}

pub fn run(ctx: &Context, args: Args) -> Result<Report> {
    let session = ctx.session(ctx.workspace()?)?;
    let built = session.build(&patterns(&args.patterns), false)?;
    Ok(Report {
        bundles: built.bundles.iter().map(Bundle::from).collect(),
        actions: built.counts,
    })
}
