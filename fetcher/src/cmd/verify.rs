//! `kiln-fetch verify PACKAGE`: re-hash the current build's files.

use plumbing::output::{Human, Output};
use serde::Serialize;

use super::Context;
use crate::error::{Code, Result, hinted};

#[derive(clap::Args)]
#[command(after_help = concat!(
    "Examples:\n",
    "  kiln-fetch verify solr          re-hash every file of the current build\n",
    "  kiln-fetch verify solr --json   the drift as one JSON object\n\n",
    "Exit codes: 0 clean, 1 drift (the hint is the repair), 2 not installed."
))]
pub struct Args {
    /// The package whose current build to check.
    pub package: String,
}

#[derive(Serialize)]
pub struct Report {
    pub package: String,
    pub build: u64,
    pub ok: bool,
    pub modified: Vec<String>,
    pub missing: Vec<String>,
    pub extra: Vec<String>,
    #[serde(skip)]
    drift: Option<anyhow::Error>,
}

impl Output for Report {
    fn human(&self, out: &mut Human) {
        for p in &self.modified {
            out.result(format!("changed: {p}"));
        }
        for p in &self.missing {
            out.result(format!("missing: {p}"));
        }
        for p in &self.extra {
            out.result(format!("extra: {p}"));
        }
        if self.ok {
            out.say(format!(
                "{} build {}: every file matches its manifest",
                self.package, self.build
            ));
        }
    }

    fn failures(&self) -> Vec<&anyhow::Error> {
        self.drift.iter().collect()
    }
}

pub fn run(ctx: &Context, args: Args) -> Result<Report> {
    let env = ctx.env(&[])?;
    let d = crate::ops::verify(&env.layout, &args.package)?;
    let drift = (!d.is_clean()).then(|| {
        hinted(
            Code::Failed,
            format!(
                "{} build {} has drifted from its manifest: {}",
                d.package,
                d.build,
                d.summary()
            ),
            format!(
                "put a clean copy in place: kiln-fetch install {} --version {} --reinstall",
                d.package, d.build
            ),
        )
    });
    Ok(Report {
        ok: d.is_clean(),
        drift,
        package: d.package,
        build: d.build,
        modified: d.changed,
        missing: d.missing,
        extra: d.extra,
    })
}
