//! `kiln publish [PATTERNS] --build-number N`: build bundles and publish them as build N.

use std::path::PathBuf;

use plumbing::output::{Human, Output};
use serde::Serialize;

use super::{Context, patterns};
use crate::error::{Result, bad_input};
use crate::publish::{PromoteOptions, Promoted, Published};

#[derive(clap::Args)]
#[command(after_help = "Examples:
  kiln publish --build-number 42                       every bundle, as build 42
  BUILD_NUMBER=42 kiln publish //packages/solr:solr    one bundle (Jenkins sets BUILD_NUMBER)
  kiln publish --build-number 42 --channel staging     and point staging at it
  kiln publish --build-number 42 --store s3://tools-bucket/tools --signing-key ci.key

Publishing the same bytes as the same build again changes nothing; other bytes under a
published build number are refused (builds are immutable).

Exit codes: 0 published (or already there), 1 a build failed or the number is taken by
other bytes, 2 bad input, 3 the store is unreachable or refused the credentials.")]
pub struct Args {
    /// Labels or patterns; default //...
    pub patterns: Vec<String>,
    /// The build number (a positive integer); default $BUILD_NUMBER.
    #[arg(long, env = "BUILD_NUMBER", value_name = "N")]
    pub build_number: Option<String>,
    /// Store URL or path; default [store] url in WORKSPACE.toml, else file://.kiln/store.
    #[arg(long, env = "KILN_STORE", value_name = "URL")]
    pub store: Option<String>,
    /// Also point this channel at the new build.
    #[arg(long, value_name = "C")]
    pub channel: Option<String>,
    /// Sign the release records (and channel pointer) with this key; default
    /// $KILN_SIGNING_KEY.
    #[arg(long, value_name = "FILE")]
    pub signing_key: Option<PathBuf>,
}

#[derive(Serialize)]
pub struct Report {
    pub store: String,
    pub build: u64,
    pub published: Vec<Published>,
    pub promoted: Vec<Promoted>,
}

impl Output for Report {
    fn changed(&self) -> bool {
        self.published.iter().any(|p| p.changed) || self.promoted.iter().any(|p| p.changed)
    }

    fn human(&self, out: &mut Human) {
        for p in &self.published {
            let what = if p.changed { "published" } else { "unchanged" };
            out.result(format!(
                "{what} {} build {} {}",
                p.package, p.build, p.sha256
            ));
        }
        for p in &self.promoted {
            out.result(format!(
                "{} {} -> build {} (sequence {}){}",
                p.package,
                p.channel,
                p.build,
                p.sequence,
                if p.changed { "" } else { " (unchanged)" }
            ));
        }
        out.status(format!("kiln: store {}", self.store));
    }
}

pub fn run(ctx: &Context, args: Args) -> Result<Report> {
    let build = super::build_number(args.build_number.as_deref())?;
    let ws = ctx.workspace()?;
    let store = ctx.store(&ws, args.store.as_deref())?;
    let key = crate::publish::signing_key(args.signing_key.as_deref())?;
    let ui = ctx.ui();
    if key.is_none() {
        plumbing::style::warning(
            "publishing unsigned (no --signing-key or KILN_SIGNING_KEY); hosts accept it only with allow_unsigned",
        );
    }
    let session = ctx.session(ws)?;
    let built = session.build(&patterns(&args.patterns), false)?.bundles;
    if built.is_empty() {
        return Err(bad_input("the patterns name no bundle to publish"));
    }
    let source = release::Source {
        commit: git_commit(&session.graph.ws.root),
        workspace: session.graph.ws.name.clone(),
    };
    let published = crate::publish::publish(
        store.as_ref(),
        &session.cache,
        ui,
        key.as_ref(),
        &built,
        build,
        source,
    )?;
    let mut promoted = Vec::new();
    if let Some(c) = &args.channel {
        let reason = format!("kiln publish --build-number {build} --channel {c}");
        let opts = PromoteOptions {
            reason: Some(&reason),
            expires: None,
            key: key.as_ref(),
            allow_unsigned: false,
        };
        for p in &published {
            promoted.push(crate::publish::promote(
                store.as_ref(),
                &p.package,
                build,
                c,
                &opts,
            )?);
        }
    }
    Ok(Report {
        store: store.url(),
        build,
        published,
        promoted,
    })
}

/// The commit the workspace is at, when it is a git checkout.
fn git_commit(root: &std::path::Path) -> Option<String> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["rev-parse", "--verify", "-q", "HEAD"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !s.is_empty()).then_some(s)
}
