//! One build: expand patterns, fetch and extract the archives the targets use, work out
//! every target's files, and pack the bundles.

use std::collections::BTreeMap;

use release::Input;
use rules::{Label, TargetKind};

use crate::analyze::Analyzer;
use crate::bundle::{Built, BundleCtx, Status, build_bundle};
use crate::cache::Cache;
use crate::error::{Result, bad_input};
use crate::fetch::{FetchOptions, Fetcher};
use crate::load::Graph;
use crate::trees::{Tree, ensure_tree};
use crate::ui::Ui;

pub struct Session {
    pub graph: Graph,
    pub cache: Cache,
    pub ui: Ui,
    pub fetch: FetchOptions,
}

impl Session {
    /// Fetch (if needed) and extract (if needed) the named archives.
    pub fn trees<'a>(
        &self,
        names: impl IntoIterator<Item = &'a String>,
    ) -> Result<BTreeMap<String, Tree>> {
        let mut fetcher = Fetcher::new(&self.cache, &self.graph.ws, &self.fetch, self.ui);
        let mut trees = BTreeMap::new();
        for name in names {
            let a = &self.graph.ws.archives[name];
            let blob = fetcher.ensure(a)?;
            trees.insert(
                name.clone(),
                ensure_tree(&self.cache, &self.graph.ws, a, &blob)?,
            );
        }
        Ok(trees)
    }

    /// Build what the patterns name; returns the bundles, in label order.
    pub fn build(&self, patterns: &[String]) -> Result<Vec<Built>> {
        let labels = self.graph.expand(patterns)?;
        let (_, archives) = self.graph.closure(&labels);
        let trees = self.trees(&archives)?;
        let mut analyzer = Analyzer::new(&self.graph, &trees);
        let ctx = BundleCtx {
            cache: &self.cache,
            graph: &self.graph,
            mtime: source_date_epoch()?,
        };
        let mut out = Vec::new();
        for label in &labels {
            let (pkg, t) = self.graph.target(label).expect("expanded labels exist");
            // Every target is analyzed, so a missing source fails the build even when
            // no bundle uses it.
            analyzer.files(label)?;
            let TargetKind::Bundle(spec) = &t.kind else {
                continue;
            };
            let (_, used) = self.graph.closure(std::slice::from_ref(label));
            let inputs = used
                .iter()
                .map(|n| Input {
                    name: n.clone(),
                    sha256: self.graph.ws.archives[n].sha256,
                })
                .collect();
            let b = build_bundle(&ctx, &mut analyzer, pkg, &t.name, spec, inputs)?;
            self.ui.detail(format!("{:?} {}", b.status, b.label));
            out.push(b);
        }
        let count = |s| out.iter().filter(|b| b.status == s).count();
        let (built, cached, fresh) = (
            count(Status::Built),
            count(Status::Cached),
            count(Status::UpToDate),
        );
        if built + cached == 0 {
            self.ui.status(format!(
                "kiln: {} target(s), {fresh} bundle(s) up to date, nothing to do",
                labels.len()
            ));
        } else {
            self.ui.status(format!(
                "kiln: {} target(s): {built} bundle(s) packed, {cached} from cache, {fresh} up to date",
                labels.len()
            ));
        }
        Ok(out)
    }
}

/// The timestamp written into every bundle entry: SOURCE_DATE_EPOCH, else 0.
pub fn source_date_epoch() -> Result<u64> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) if !v.is_empty() => v.trim().parse().map_err(|_| {
            bad_input(format!(
                "SOURCE_DATE_EPOCH={v:?} is not a whole number of seconds since 1970"
            ))
        }),
        _ => Ok(0),
    }
}

pub fn label_list(labels: impl IntoIterator<Item = Label>) -> Vec<String> {
    labels.into_iter().map(|l| l.to_string()).collect()
}
