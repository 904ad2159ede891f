//! `kiln-fetch list [PACKAGE]` (alias `status`).

use plumbing::output::{Human, Output};
use serde::Serialize;

use super::Context;
use crate::error::Result;
use crate::ops::PackageStatus;

#[derive(clap::Args)]
#[command(after_help = concat!(
    "Examples:\n",
    "  kiln-fetch list               every package\n",
    "  kiln-fetch list solr --json   one package, as one JSON object\n\n",
    "Exit codes: 0, or 2 if a package's state cannot be read (the others are still listed)."
))]
pub struct Args {
    /// Only this package.
    pub package: Option<String>,
}

#[derive(Serialize)]
pub struct Report {
    pub packages: Vec<PackageStatus>,
    #[serde(skip)]
    errors: Vec<anyhow::Error>,
}

impl Output for Report {
    fn human(&self, out: &mut Human) {
        for r in &self.packages {
            let builds: Vec<String> = r.installed.iter().map(u64::to_string).collect();
            let chan = r
                .channel
                .as_ref()
                .map(|c| format!(", following {c} (sequence {})", r.sequence.unwrap_or(0)))
                .unwrap_or_default();
            out.result(format!(
                "{}: current {}, installed [{}], rollback target {}{chan}",
                r.package,
                r.current.map_or("none".into(), |b| b.to_string()),
                builds.join(", "),
                r.rollback_target.map_or("none".into(), |b| b.to_string()),
            ));
        }
    }

    /// Every broken package is shown; the run fails with the first one's code.
    fn failures(&self) -> Vec<&anyhow::Error> {
        self.errors.iter().collect()
    }
}

pub fn run(ctx: &Context, args: Args) -> Result<Report> {
    let env = ctx.env(&[])?;
    let (packages, errors) = crate::ops::status(&env.layout, args.package.as_deref())?;
    Ok(Report { packages, errors })
}
