//! `kiln fetch [PATTERNS]`: download and extract the archives the targets use.

use plumbing::output::{Human, Output};
use serde::Serialize;

use super::{Context, patterns};
use crate::error::Result;

#[derive(clap::Args)]
#[command(after_help = "Examples:
  kiln fetch                      every archive the workspace's targets use
  kiln fetch //packages/solr:solr the archives one bundle needs
  kiln fetch --distdir /mnt/dist  take the files from a directory, not the network

Exit codes: 0 fetched, 1 an archive's sha256 does not match its pin, 2 bad input, 3 the
network (after retries, every url tried).")]
pub struct Args {
    /// Labels or patterns; default //...
    pub patterns: Vec<String>,
}

#[derive(Serialize)]
pub struct Archive {
    pub name: String,
    pub files: usize,
    /// Downloaded (or copied from a --distdir) by this run.
    pub fetched: bool,
}

#[derive(Serialize)]
pub struct Report {
    pub archives: Vec<Archive>,
}

impl Output for Report {
    fn changed(&self) -> bool {
        self.archives.iter().any(|a| a.fetched)
    }

    fn human(&self, out: &mut Human) {
        for a in &self.archives {
            let how = if a.fetched { "fetched" } else { "cached" };
            out.status(format!("@{}: {} files ({how})", a.name, a.files));
        }
        if self.archives.is_empty() {
            out.status("kiln: the targets use no archive");
        }
    }
}

pub fn run(ctx: &Context, args: Args) -> Result<Report> {
    let session = ctx.session(ctx.workspace()?)?;
    let labels = session.graph.expand(&patterns(&args.patterns))?;
    let (_, names) = session.graph.closure(&labels);
    let had: Vec<bool> = names
        .iter()
        .map(|n| {
            let a = &session.graph.ws.archives[n];
            session.cache.cas_path(&a.sha256).is_file()
        })
        .collect();
    let trees = session.trees(&names)?;
    Ok(Report {
        archives: trees
            .iter()
            .zip(had)
            .map(|((name, t), had)| Archive {
                name: name.clone(),
                files: t.files.len(),
                fetched: !had,
            })
            .collect(),
    })
}
