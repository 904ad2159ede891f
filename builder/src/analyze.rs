//! What each target stands for on disk: its runfiles, a map from the path under
//! `runfiles/` (`_main/<package>/<file>` or `<archive>/<file>`) to a file with its
//! digest, or a symlink. Globs are expanded and sources hashed here, once per build,
//! from any worker thread.

use std::collections::{BTreeMap, HashMap};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use globset::GlobMatcher;
use release::Digest;
use rules::{Item, Label};
use serde::{Deserialize, Serialize};

use crate::cache::hash_file;
use crate::error::Result;
use crate::load::{Graph, Package, skip_dir};
use crate::outdir::OutDir;
use crate::trees::Tree;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileRef {
    File {
        abs: PathBuf,
        size: u64,
        sha256: Digest,
        executable: bool,
    },
    Link {
        target: String,
    },
}

pub type Files = BTreeMap<String, FileRef>;

/// The files each finished target stands for, by label.
pub type Done = HashMap<Label, Arc<Files>>;

/// What `stat` says of a source file; while it stays the same, so does the content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Stamp {
    size: u64,
    mtime_ns: i64,
    ctime_ns: i64,
    ino: u64,
    dev: u64,
    mode: u32,
}

impl Stamp {
    fn of(m: &std::fs::Metadata) -> Stamp {
        Stamp {
            size: m.size(),
            mtime_ns: m.mtime() * 1_000_000_000 + m.mtime_nsec(),
            ctime_ns: m.ctime() * 1_000_000_000 + m.ctime_nsec(),
            ino: m.ino(),
            dev: m.dev(),
            mode: m.mode(),
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Known {
    stamp: Stamp,
    sha256: Digest,
}

/// Source digests by path, kept between builds (`kiln-out/.kiln/sources.json`), so an
/// unchanged file is not read again: the stat cache.
type StatCache = HashMap<PathBuf, Known>;

/// A file changed this recently may change again within the clock's granularity
/// without its stamp moving: it is hashed again next time rather than remembered.
const RACY: Duration = Duration::from_secs(2);

pub struct Sources<'g> {
    pub graph: &'g Graph,
    trees: &'g BTreeMap<String, Tree>,
    out: &'g OutDir,
    listings: Mutex<HashMap<String, Arc<Vec<String>>>>,
    hashes: Mutex<HashMap<PathBuf, (u64, Digest, bool)>>,
    known: StatCache,
    learned: Mutex<StatCache>,
}

impl<'g> Sources<'g> {
    pub fn new(graph: &'g Graph, trees: &'g BTreeMap<String, Tree>, out: &'g OutDir) -> Self {
        let known = out
            .read(STAT_CACHE)
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        Sources {
            graph,
            trees,
            out,
            listings: Mutex::new(HashMap::new()),
            hashes: Mutex::new(HashMap::new()),
            known,
            learned: Mutex::new(HashMap::new()),
        }
    }

    /// Remember the digests learned in this build for the next one (best effort: a
    /// lost stat cache only costs reading the sources again).
    pub fn save(&self) {
        let learned = std::mem::take(&mut *self.learned.lock().expect("not poisoned"));
        if learned.is_empty() {
            return;
        }
        let mut all = self.known.clone();
        all.extend(learned);
        if let Ok(bytes) = serde_json::to_vec(&all) {
            let _ = self.out.write(STAT_CACHE, &bytes);
        }
    }

    /// The union of the files `items` stand for; labels must be in `done`. Files of
    /// `executable` items are marked executable.
    pub fn collect<'i>(
        &self,
        label: &Label,
        pkg: &Package,
        items: impl IntoIterator<Item = &'i Item>,
        executable: bool,
        done: &Done,
    ) -> Result<Files> {
        let mut out = Files::new();
        for item in items {
            match item {
                Item::Label { label, .. } => {
                    let files = match label {
                        Label::Archive { archive, export } => {
                            Arc::new(self.archive_files(archive, export)?)
                        }
                        Label::Target { .. } => done
                            .get(label)
                            .cloned()
                            .expect("dependencies finish before their dependents"),
                    };
                    for (path, f) in files.iter() {
                        merge(&mut out, path.clone(), f.clone());
                    }
                }
                Item::Source { path, span } => {
                    for rel in self.sources(pkg, path, span.clone())? {
                        let abs = self.inside(label, pkg, &rel, span.clone())?;
                        let (size, sha256, exec) = self.hash(&abs)?;
                        merge(
                            &mut out,
                            main_path(&pkg.name, &rel),
                            FileRef::File {
                                abs,
                                size,
                                sha256,
                                executable: executable || exec,
                            },
                        );
                    }
                }
            }
        }
        Ok(out)
    }

    /// The files of `pkg` a source path or glob names, checked to exist.
    fn sources(
        &self,
        pkg: &Package,
        pattern: &str,
        span: std::ops::Range<usize>,
    ) -> Result<Vec<String>> {
        let graph = self.graph;
        let all = self.listing(pkg)?;
        if !rules::is_glob(pattern) {
            if all.binary_search(&pattern.to_string()).is_ok() {
                return Ok(vec![pattern.to_string()]);
            }
            let full = main_path(&pkg.name, pattern);
            let sub = graph
                .packages
                .keys()
                .find(|k| k.len() > pkg.name.len() && full.starts_with(&format!("_main/{k}/")));
            let (msg, hint) = match sub {
                Some(k) => (
                    format!("{pattern:?} belongs to package //{k}, not //{}", pkg.name),
                    format!("refer to it through a target in //{k}, for example a filegroup"),
                ),
                None => (
                    format!("no such file {pattern:?} in package //{}", pkg.name),
                    format!(
                        "paths are relative to {}",
                        pkg.dir
                            .strip_prefix(&graph.ws.root)
                            .unwrap_or(&pkg.dir)
                            .display()
                    ),
                ),
            };
            return Err(graph.error_at(pkg, span, msg, Some(hint)));
        }
        let matcher = crate::glob::compile(pattern)
            .map_err(|e| graph.error_at(pkg, span.clone(), e, None))?;
        let hits: Vec<String> = all
            .iter()
            .filter(|f| matcher.is_match(f.as_str()))
            .cloned()
            .collect();
        if hits.is_empty() {
            return Err(graph.error_at(
                pkg,
                span,
                format!(
                    "glob {pattern:?} matches no files in package //{}",
                    pkg.name
                ),
                Some("globs never cross into sub-packages; check the pattern, or remove it".into()),
            ));
        }
        Ok(hits)
    }

    /// The file a source path stands for: itself, or for a symlink the file it
    /// resolves to, which must lie inside the workspace; special files are refused.
    fn inside(
        &self,
        label: &Label,
        pkg: &Package,
        rel: &str,
        span: std::ops::Range<usize>,
    ) -> Result<PathBuf> {
        let abs = pkg.dir.join(rel);
        let refuse = |msg: String, hint: &str| {
            self.graph.error_at(
                pkg,
                span.clone(),
                format!("{label}: {msg}"),
                Some(hint.into()),
            )
        };
        let real = if fs_err::symlink_metadata(&abs)?.file_type().is_symlink() {
            let target = fs_err::read_link(&abs)?;
            let ws = &self.graph.ws;
            match abs.canonicalize() {
                Ok(real) if real.starts_with(&ws.root) => {
                    // Not into what kiln never reads: .git (a CI checkout's credentials
                    // live in .git/config), other dot-directories, kiln-out, ignored dirs.
                    if let Some(dir) = real
                        .ancestors()
                        .take_while(|d| *d != ws.root)
                        .skip(1)
                        .find(|d| skip_dir(&ws.root, &ws.ignore, d))
                        .or_else(|| {
                            let name = real.file_name()?.to_string_lossy();
                            name.starts_with('.').then_some(real.as_path())
                        })
                    {
                        let shown = dir.strip_prefix(&ws.root).unwrap_or(dir).display();
                        return Err(refuse(
                            format!(
                                "{rel:?} is a symlink to {target:?}, which resolves into {shown}, which kiln never reads"
                            ),
                            "link only to sources of the workspace; dot-directories, kiln-out/ and ignored directories are not sources",
                        ));
                    }
                    real
                }
                Ok(_) => {
                    return Err(refuse(
                        format!("{rel:?} is a symlink to {target:?}, which leaves the workspace"),
                        "kiln packs only what the workspace holds: copy the file into the package, or pin it as an [[archive]] in WORKSPACE.toml",
                    ));
                }
                Err(_) => {
                    return Err(refuse(
                        format!("{rel:?} is a symlink to {target:?}, which does not exist"),
                        "fix or remove the link",
                    ));
                }
            }
        } else {
            abs
        };
        if !fs_err::metadata(&real)?.is_file() {
            return Err(refuse(
                format!("{rel:?} is not a regular file (a fifo, socket or device)"),
                "list only regular files; kiln never reads special files",
            ));
        }
        Ok(real)
    }

    fn listing(&self, pkg: &Package) -> Result<Arc<Vec<String>>> {
        if let Some(l) = self.listings.lock().expect("not poisoned").get(&pkg.name) {
            return Ok(l.clone());
        }
        let ws = &self.graph.ws;
        let skip = |d: &std::path::Path| skip_dir(&ws.root, &ws.ignore, d);
        let l = Arc::new(crate::glob::list_package_files(&pkg.dir, &skip)?);
        self.listings
            .lock()
            .expect("not poisoned")
            .insert(pkg.name.clone(), l.clone());
        Ok(l)
    }

    fn hash(&self, abs: &PathBuf) -> Result<(u64, Digest, bool)> {
        if let Some(h) = self.hashes.lock().expect("not poisoned").get(abs) {
            return Ok(*h);
        }
        let before = fs_err::metadata(abs)?;
        let stamp = Stamp::of(&before);
        let exec = stamp.mode & 0o111 != 0;
        let (size, d) = match self.known.get(abs) {
            Some(k) if k.stamp == stamp => (stamp.size, k.sha256),
            _ => {
                let (size, d) = hash_file(abs)?;
                let settled = before
                    .modified()
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age > RACY);
                let unchanged = fs_err::metadata(abs).is_ok_and(|m| Stamp::of(&m) == stamp);
                if settled && unchanged && size == stamp.size {
                    self.learned
                        .lock()
                        .expect("not poisoned")
                        .insert(abs.clone(), Known { stamp, sha256: d });
                }
                (size, d)
            }
        };
        self.hashes
            .lock()
            .expect("not poisoned")
            .insert(abs.clone(), (size, d, exec));
        Ok((size, d, exec))
    }

    fn archive_files(&self, archive: &str, export: &str) -> Result<Files> {
        let tree = &self.trees[archive];
        let a = &self.graph.ws.archives[archive];
        // `**` (the `files` export, every locked wheel's) matches every path: no glob
        // to compile per archive and build.
        let all = a.exports[export].iter().any(|g| g == "**");
        let globs: Vec<GlobMatcher> = a.exports[export]
            .iter()
            .filter(|_| !all)
            .map(|g| crate::glob::compile(g).map_err(anyhow::Error::msg))
            .collect::<Result<_>>()?;
        let mut out = Files::new();
        for f in &tree.files {
            if !all && !globs.iter().any(|g| g.is_match(&f.path)) {
                continue;
            }
            let path = format!("{archive}/{}", f.path);
            let r = match (&f.target, f.sha256) {
                (Some(target), _) => FileRef::Link {
                    target: target.clone(),
                },
                (None, Some(sha256)) => FileRef::File {
                    abs: tree.root.join(&f.path),
                    size: f.size,
                    sha256,
                    executable: f.mode & 0o111 != 0,
                },
                (None, None) => continue,
            };
            out.insert(path, r);
        }
        if out.is_empty() {
            return Err(crate::error::bad_input(format!(
                "@{archive}//:{export} matches no files in the archive ({})",
                self.graph.ws.place(a.span.start)
            )));
        }
        Ok(out)
    }
}

/// The stat cache, below kiln-out/.
const STAT_CACHE: &str = ".kiln/sources.json";

/// The runfiles path of a file of package `package`.
pub fn main_path(package: &str, rel: &str) -> String {
    if package.is_empty() {
        format!("_main/{rel}")
    } else {
        format!("_main/{package}/{rel}")
    }
}

/// The runfiles path of a wrapper's or test's script.
pub fn script_path(pkg: &Package, src: &Item) -> String {
    match src {
        Item::Source { path, .. } => main_path(&pkg.name, path),
        Item::Label { .. } => unreachable!("rules allow only a source as a script"),
    }
}

/// Add a file; the same file wanted as executable anywhere is executable.
pub fn merge(out: &mut Files, path: String, f: FileRef) {
    match (out.get_mut(&path), f) {
        (Some(FileRef::File { executable, .. }), FileRef::File { executable: e2, .. }) => {
            *executable |= e2
        }
        (None, f) => {
            out.insert(path, f);
        }
        _ => {}
    }
}

/// Union of two file maps.
pub fn union(mut a: Files, b: Files) -> Files {
    for (p, f) in b {
        merge(&mut a, p, f);
    }
    a
}
