//! `kiln sha256 FILE|URL...`: the sha256 to pin in WORKSPACE.toml.

use plumbing::output::{Human, Output};
use serde::Serialize;

use super::Context;
use crate::cache::Cache;
use crate::error::{Code, Result, hinted};

#[derive(clap::Args)]
#[command(after_help = "Examples:
  kiln sha256 third_party/archives/jq-1.7.tar.gz
  kiln sha256 https://archive.apache.org/dist/lucene/solr/6.3.0/solr-6.3.0.tgz

A downloaded URL stays in the cache, so the build that follows does not fetch it again.

Exit codes: 0, 2 no such file, 3 the URL cannot be fetched.")]
pub struct Args {
    /// File paths or http(s):// URLs.
    #[arg(required = true)]
    pub inputs: Vec<String>,
}

#[derive(Serialize)]
pub struct Row {
    pub input: String,
    pub sha256: release::Digest,
}

#[derive(Serialize)]
pub struct Report {
    pub files: Vec<Row>,
}

impl Output for Report {
    fn human(&self, out: &mut Human) {
        for r in &self.files {
            out.result(format!("{}  {}", r.sha256, r.input));
        }
    }
}

pub fn run(ctx: &Context, args: Args) -> Result<Report> {
    let mut files = Vec::new();
    for input in args.inputs {
        let sha256 = if input.starts_with("http://") || input.starts_with("https://") {
            crate::fetch::hash_url(&Cache::open()?, &input, ctx.ui())?
        } else if std::path::Path::new(&input).is_file() {
            crate::cache::hash_file(std::path::Path::new(&input))?.1
        } else {
            return Err(hinted(
                Code::BadInput,
                format!("{input}: no such file"),
                "pass a file path or an http(s):// URL",
            ));
        };
        files.push(Row { input, sha256 });
    }
    Ok(Report { files })
}
