//! `kiln query [PATTERNS] | deps LABEL | rdeps LABEL [--output label|json|dot]`: ask the
//! target graph, without building anything.

use std::collections::BTreeSet;

use plumbing::output::{Human, Output};
use rules::Label;
use serde::Serialize;

use super::Context;
use crate::error::{Result, bad_input};

#[derive(clap::Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "Examples:
  kiln query //...                             every target, one label a line
  kiln query //packages/...  --output json     the targets under packages/, as JSON
  kiln query deps //packages/solr:solr         everything the Solr bundle depends on
  kiln query rdeps @solr//:files               what depends on the Solr archive
  kiln query deps //packages/solr:solr --output dot | dot -Tsvg > solr.svg

Exit codes: 0, 2 bad input (a malformed pattern or an unknown label)."
)]
pub struct Args {
    /// Patterns whose targets to list (//..., //pkg/..., //pkg:all); default //...
    pub patterns: Vec<String>,
    #[command(subcommand)]
    pub query: Option<Query>,
    /// `label`: one label a line; `json`: one JSON object (as --json); `dot`: a Graphviz
    /// graph of the labels and the edges between them.
    #[arg(long, global = true, value_enum, default_value = "label")]
    pub output: Format,
}

#[derive(clap::Subcommand)]
pub enum Query {
    /// Everything LABEL depends on, directly or not.
    Deps {
        /// A target (//pkg:name) or an archive export (@name//:files).
        label: String,
    },
    /// Every target that depends on LABEL, directly or not.
    Rdeps {
        /// A target (//pkg:name) or an archive export (@name//:files).
        label: String,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Label,
    Json,
    Dot,
}

#[derive(Serialize)]
pub struct Node {
    pub label: String,
    /// The target's kind (`genrule`, `bundle`, …), or `archive` for an archive export.
    pub kind: &'static str,
}

#[derive(Serialize)]
pub struct Report {
    /// The label `deps` or `rdeps` asked about (not among `labels`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
    pub labels: Vec<Node>,
    /// Direct dependencies among the labels listed and `root`: `[from, to]`.
    pub edges: Vec<[String; 2]>,
    #[serde(skip)]
    format: Format,
}

impl Output for Report {
    fn human(&self, out: &mut Human) {
        if self.format != Format::Dot {
            for n in &self.labels {
                out.result(&n.label);
            }
            return;
        }
        out.result("digraph kiln {");
        out.result("  rankdir=LR;");
        out.result("  node [shape=box, fontname=\"monospace\"];");
        for n in &self.labels {
            let shape = if n.kind == "archive" {
                ", shape=folder"
            } else {
                ""
            };
            out.result(format!(
                "  {} [label={}{shape}];",
                dot_id(&n.label),
                dot_id(&format!("{}\n{}", n.label, n.kind))
            ));
        }
        for [a, b] in &self.edges {
            out.result(format!("  {} -> {};", dot_id(a), dot_id(b)));
        }
        out.result("}");
    }
}

/// A Graphviz quoted ID.
fn dot_id(s: &str) -> String {
    format!(
        "\"{}\"",
        s.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
    )
}

pub fn run(ctx: &Context, args: Args) -> Result<Report> {
    let session = ctx.session(ctx.workspace()?)?;
    let graph = &session.graph;
    let (found, root): (BTreeSet<Label>, Option<Label>) = match &args.query {
        None => (
            graph
                .expand(&super::patterns(&args.patterns))?
                .into_iter()
                .collect(),
            None,
        ),
        Some(Query::Deps { label: raw } | Query::Rdeps { label: raw }) => {
            let label = rules::parse_label(raw, "").map_err(bad_input)?;
            match &label {
                Label::Target { .. } => {
                    graph.expand(std::slice::from_ref(raw))?;
                }
                Label::Archive { archive, export } => {
                    let Some(a) = graph.ws.archives.get(archive) else {
                        return Err(bad_input(format!(
                            "unknown label {raw}: no archive @{archive} in WORKSPACE.toml"
                        )));
                    };
                    if !a.exports.contains_key(export) {
                        let has: Vec<&str> = a.exports.keys().map(String::as_str).collect();
                        return Err(bad_input(format!(
                            "unknown label {raw}: archive {archive:?} has no export {export:?} (it has: {})",
                            has.join(", ")
                        )));
                    }
                }
            }
            let set = if matches!(args.query, Some(Query::Rdeps { .. })) {
                graph.rdeps(&label)
            } else {
                let (closure, _) = graph.closure(std::slice::from_ref(&label));
                closure.into_iter().filter(|l| *l != label).collect()
            };
            (set, Some(label))
        }
    };
    let kind = |l: &Label| graph.target(l).map_or("archive", |(_, t)| t.kind.name());
    let mut all: BTreeSet<&Label> = found.iter().collect();
    all.extend(root.as_ref());
    let mut edges = Vec::new();
    for l in &all {
        if let Some((_, t)) = graph.target(l) {
            let direct: BTreeSet<&Label> = graph.deps(t).into_iter().map(|(d, _)| d).collect();
            for d in direct.into_iter().filter(|d| all.contains(d)) {
                edges.push([l.to_string(), d.to_string()]);
            }
        }
    }
    let mut labels: Vec<Node> = found
        .iter()
        .map(|l| Node {
            label: l.to_string(),
            kind: kind(l),
        })
        .collect();
    // A graph shows the queried label too; a list shows only what was found.
    if let (Format::Dot, Some(r)) = (args.output, &root) {
        labels.insert(
            0,
            Node {
                label: r.to_string(),
                kind: kind(r),
            },
        );
    }
    Ok(Report {
        root: root.as_ref().map(Label::to_string),
        labels,
        edges,
        format: args.output,
    })
}
