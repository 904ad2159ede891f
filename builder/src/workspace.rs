//! WORKSPACE.toml: the workspace's name, its store, and its pinned external archives.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rules::Diagnostic;

use crate::error::{Code, Result, at, bad_input, hinted};

pub use rules::WORKSPACE_FILE;
pub const DEFAULT_STORE: &str = "file://.kiln/store";

/// A pinned archive, as WORKSPACE.toml declares it.
pub type Archive = rules::ArchiveSpec;

#[derive(Debug)]
pub struct Workspace {
    pub root: PathBuf,
    pub name: String,
    pub store_url: String,
    /// The remote build cache, if the workspace names one.
    pub cache: Option<rules::CacheSpec>,
    /// The remote executor, if the workspace names one.
    pub remote: Option<rules::RemoteSection>,
    pub ignore: Vec<String>,
    pub archives: BTreeMap<String, Archive>,
    /// The interpreter locked wheels are chosen for (with [[python_lock]] only).
    pub python: Option<rules::pylock::Interpreter>,
    /// The names of the [[python_lock]]s.
    pub locks: Vec<String>,
    /// The archive file every Python target runs on, if a lock pins one.
    pub interpreter: Option<rules::InterpreterSpec>,
    pub text: String,
}

impl Workspace {
    /// Find the workspace containing `start` (walking up) and load it. With `build`
    /// (how archives may be fetched), its Python locks are read into archives too,
    /// which asks a Python; without, only its settings (for the commands that build
    /// nothing: releases, promote, status, keys, clean).
    pub fn find(
        start: &Path,
        build: Option<(&crate::fetch::FetchOptions, crate::ui::Ui)>,
    ) -> Result<Workspace> {
        let start = start
            .canonicalize()
            .map_err(|e| bad_input(format!("{}: {e}", start.display())))?;
        let root = start
            .ancestors()
            .find(|d| d.join(WORKSPACE_FILE).is_file())
            .ok_or_else(|| {
                hinted(
                    Code::BadInput,
                    format!(
                        "no {WORKSPACE_FILE} in {} or any parent directory",
                        start.display()
                    ),
                    format!("run kiln inside a workspace, or pass -C DIR; a workspace starts with a {WORKSPACE_FILE} holding [workspace] name = \"...\""),
                )
            })?;
        Workspace::load(root, build)
    }

    pub fn load(
        root: &Path,
        build: Option<(&crate::fetch::FetchOptions, crate::ui::Ui)>,
    ) -> Result<Workspace> {
        let path = root.join(WORKSPACE_FILE);
        // Read only as a file of the workspace: a link could name any file of the machine,
        // and its error messages would quote it.
        if fs_err::symlink_metadata(&path)?.file_type().is_symlink() {
            return Err(hinted(
                Code::BadInput,
                format!(
                    "{} is a symlink; kiln reads it only as a file of the workspace",
                    path.display()
                ),
                "replace the link by the file itself",
            ));
        }
        let text = plumbing::fs::read_text(&path)?;
        let rel = PathBuf::from(WORKSPACE_FILE);
        let spec = rules::parse_workspace_file(&text).map_err(|d| at(&rel, &text, &d))?;
        // Export globs need the glob engine: checked here, pointing at their line.
        for a in spec.archives.values() {
            for (export, span) in &a.export_spans {
                for g in &a.exports[export] {
                    crate::glob::compile(g)
                        .map_err(|e| at(&rel, &text, &Diagnostic::new(Some(span.clone()), e)))?;
                }
            }
        }
        let mut ws = Workspace {
            root: root.to_path_buf(),
            name: spec.name,
            store_url: spec.store_url.unwrap_or_else(|| DEFAULT_STORE.to_string()),
            cache: spec.cache,
            remote: spec.remote,
            ignore: spec.ignore,
            archives: spec.archives,
            python: None,
            locks: spec.python_locks.iter().map(|l| l.name.clone()).collect(),
            interpreter: spec.interpreter,
            text,
        };
        if let Some((fetch, ui)) = build
            && !spec.python_locks.is_empty()
        {
            // The wheels are chosen for the Python the targets run on: the pinned
            // interpreter (fetched and unpacked now), else the host's python3.
            let interpreter = match &ws.interpreter {
                Some(i) => {
                    let program = crate::python::pinned_program(&ws, i, fetch, ui)?;
                    crate::python::interpreter_of(&program, &i.archive)?
                }
                None => crate::python::host_interpreter()?,
            };
            let mut index = crate::pyindex::Index::new(fetch);
            let mut archives = std::mem::take(&mut ws.archives);
            for l in &spec.python_locks {
                crate::python::lock_archives(root, l, &interpreter, &mut index, &mut archives)?;
            }
            ws.archives = archives;
            ws.python = Some(interpreter);
        }
        Ok(ws)
    }

    /// `WORKSPACE.toml:LINE:COL` of a byte offset.
    pub fn place(&self, offset: usize) -> String {
        let (line, col) = rules::line_col(&self.text, offset);
        format!("{WORKSPACE_FILE}:{line}:{col}")
    }
}

/// `file://` URLs relative to the workspace root become absolute paths.
/// `[cache] signing_key`: WORKSPACE.toml belongs to whoever wrote the change, so the key
/// file it names must be a file of the workspace itself (CI puts it there), never a
/// path to a key elsewhere on the machine, nor a link to one.
pub fn key_file(root: &Path, rel: &str) -> Result<PathBuf> {
    let path = root.join(rel);
    let inside = !Path::new(rel).is_absolute()
        && !rel.split('/').any(|c| c == "..")
        && fs_err::symlink_metadata(&path).is_ok_and(|m| m.is_file());
    if !inside {
        return Err(hinted(
            Code::BadInput,
            format!("{WORKSPACE_FILE}: [cache] signing_key {rel:?} is not a file of the workspace"),
            "name a key file inside the workspace (not a link), or give the key in KILN_CACHE_SIGNING_KEY",
        ));
    }
    Ok(path)
}

pub fn local_path(root: &Path, url: &str) -> Option<PathBuf> {
    url.strip_prefix("file://").map(|p| root.join(p))
}
