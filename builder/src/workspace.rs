//! WORKSPACE.toml: the workspace's name, its store, and its pinned external archives.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use release::Digest;
use rules::Diagnostic;
use serde::Deserialize;
use toml::Spanned;

use crate::error::{Code, Result, at, bad_input, with_hint};

pub const WORKSPACE_FILE: &str = "WORKSPACE.toml";
pub const DEFAULT_STORE: &str = "file://.kiln/store";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkspaceDef {
    workspace: WorkspaceSection,
    store: Option<StoreSection>,
    cache: Option<StoreSection>,
    #[serde(default)]
    archive: Vec<ArchiveDef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkspaceSection {
    name: Spanned<String>,
    /// Directories (relative to the root) never searched for packages.
    #[serde(default)]
    ignore: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreSection {
    url: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ArchiveDef {
    name: Spanned<String>,
    urls: Spanned<Vec<Spanned<String>>>,
    sha256: Spanned<String>,
    strip_prefix: Option<Spanned<String>>,
    exports: Option<BTreeMap<String, Spanned<Vec<String>>>>,
}

#[derive(Debug, Clone)]
pub struct Archive {
    pub name: String,
    pub urls: Vec<String>,
    pub sha256: Digest,
    pub strip_prefix: Option<String>,
    /// Export name → globs over the extracted tree. Default: `files = ["**"]`.
    pub exports: BTreeMap<String, Vec<String>>,
    pub span: Range<usize>,
}

#[derive(Debug)]
pub struct Workspace {
    pub root: PathBuf,
    pub name: String,
    pub store_url: String,
    /// The remote build cache, if the workspace names one.
    pub cache_url: Option<String>,
    pub ignore: Vec<String>,
    pub archives: BTreeMap<String, Archive>,
    pub text: String,
}

impl Workspace {
    /// Find the workspace containing `start` (walking up) and load it.
    pub fn find(start: &Path) -> Result<Workspace> {
        let start = start
            .canonicalize()
            .map_err(|e| bad_input(format!("{}: {e}", start.display())))?;
        let root = start
            .ancestors()
            .find(|d| d.join(WORKSPACE_FILE).is_file())
            .ok_or_else(|| {
                with_hint(
                    Code::BadInput,
                    format!(
                        "no {WORKSPACE_FILE} in {} or any parent directory",
                        start.display()
                    ),
                    format!("run kiln inside a workspace, or pass -C DIR; a workspace starts with a {WORKSPACE_FILE} holding [workspace] name = \"...\""),
                )
            })?;
        Workspace::load(root)
    }

    pub fn load(root: &Path) -> Result<Workspace> {
        let path = root.join(WORKSPACE_FILE);
        let text = fs_err::read_to_string(&path)?;
        let rel = PathBuf::from(WORKSPACE_FILE);
        let def: WorkspaceDef =
            toml::from_str(&text).map_err(|e| at(&rel, &text, &Diagnostic::from_toml(&e)))?;
        let err =
            |span: Range<usize>, msg: String| at(&rel, &text, &Diagnostic::new(Some(span), msg));

        let name = def.workspace.name.get_ref().clone();
        rules::validate_name(&name).map_err(|e| err(def.workspace.name.span(), e))?;

        let mut archives = BTreeMap::new();
        for a in def.archive {
            let name = a.name.get_ref().clone();
            rules::validate_name(&name).map_err(|e| err(a.name.span(), e))?;
            if archives.contains_key(&name) {
                return Err(err(
                    a.name.span(),
                    format!("duplicate archive name {name:?}"),
                ));
            }
            let sha256: Digest = a.sha256.get_ref().parse().map_err(|e| {
                at(
                    &rel,
                    &text,
                    &Diagnostic::new(Some(a.sha256.span()), format!("sha256: {e}"))
                        .hint("paste the archive's sha256 as printed by `sha256sum FILE`"),
                )
            })?;
            if a.urls.get_ref().is_empty() {
                return Err(err(a.urls.span(), format!("archive {name:?} has no urls")));
            }
            for u in a.urls.get_ref() {
                let ok = ["https://", "http://", "file://"]
                    .iter()
                    .any(|s| u.get_ref().starts_with(s));
                if !ok {
                    return Err(err(
                        u.span(),
                        format!(
                            "{:?} is not a URL kiln can fetch: use https://, http:// or file://",
                            u.get_ref()
                        ),
                    ));
                }
            }
            let strip_prefix = match a.strip_prefix {
                Some(p) => Some(
                    archive::normalize_entry_path(p.get_ref())
                        .map_err(|why| err(p.span(), format!("strip_prefix: {why}")))?,
                )
                .filter(|p| !p.is_empty()),
                None => None,
            };
            let mut exports = BTreeMap::new();
            for (export, globs) in a.exports.unwrap_or_default() {
                rules::validate_name(&export).map_err(|e| err(globs.span(), e))?;
                for g in globs.get_ref() {
                    crate::glob::compile(g).map_err(|e| err(globs.span(), e))?;
                }
                exports.insert(export, globs.into_inner());
            }
            exports
                .entry("files".to_string())
                .or_insert_with(|| vec!["**".to_string()]);
            archives.insert(
                name.clone(),
                Archive {
                    name,
                    urls: a
                        .urls
                        .into_inner()
                        .into_iter()
                        .map(|u| u.into_inner())
                        .collect(),
                    sha256,
                    strip_prefix,
                    exports,
                    span: a.sha256.span(),
                },
            );
        }
        Ok(Workspace {
            root: root.to_path_buf(),
            name,
            store_url: def
                .store
                .map(|s| s.url)
                .unwrap_or_else(|| DEFAULT_STORE.to_string()),
            cache_url: def.cache.map(|c| c.url),
            ignore: def.workspace.ignore,
            archives,
            text,
        })
    }

    /// `WORKSPACE.toml:LINE:COL` of a byte offset.
    pub fn place(&self, offset: usize) -> String {
        let (line, col) = rules::line_col(&self.text, offset);
        format!("{WORKSPACE_FILE}:{line}:{col}")
    }
}

/// `file://` URLs relative to the workspace root become absolute paths.
pub fn local_path(root: &Path, url: &str) -> Option<PathBuf> {
    url.strip_prefix("file://").map(|p| root.join(p))
}
