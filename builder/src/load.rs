//! Loading: find every BUILD.toml, parse it, resolve every label, and check the graph
//! (unknown labels with a "did you mean", wrong target kinds, cycles with their path).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use rules::{Diagnostic, Item, Label, Pattern, Target, TargetKind};
use walkdir::WalkDir;

use crate::error::{Code, Result, at, bad_input, hinted};
use crate::workspace::Workspace;

pub use rules::BUILD_FILE;

pub struct Package {
    /// `packages/solr`, or "" for the workspace root.
    pub name: String,
    pub dir: PathBuf,
    /// Relative to the workspace root, for messages.
    pub file: PathBuf,
    pub text: String,
    pub targets: Vec<Target>,
    /// Index into `targets` by name (names are unique in a package).
    by_name: HashMap<String, usize>,
}

pub struct Graph {
    pub ws: Workspace,
    pub packages: BTreeMap<String, Package>,
}

/// Directories never searched for packages or sources.
pub fn skip_dir(ws_root: &Path, ignore: &[String], dir: &Path) -> bool {
    let name = dir.file_name().unwrap_or_default().to_string_lossy();
    if name.starts_with('.') {
        return true;
    }
    let rel = dir.strip_prefix(ws_root).unwrap_or(dir).to_string_lossy();
    rel == crate::outdir::OUT_DIR || ignore.iter().any(|i| *i == rel)
}

/// `[[py_scripts]]`: read each one's project file (a file of the package, never
/// through a link) and let the rules make its targets.
fn expand_py_scripts(
    dir: &Path,
    file: &Path,
    text: &str,
    package: &str,
    targets: Vec<Target>,
) -> Result<Vec<Target>> {
    let mut files = BTreeMap::new();
    for t in &targets {
        if let TargetKind::PyScripts(s) = &t.kind {
            let path = dir.join(&s.file);
            // Not through a link, to the file or to a directory on its way.
            let inside = fs_err::symlink_metadata(&path).is_ok_and(|m| m.is_file())
                && matches!(
                    (path.canonicalize(), dir.canonicalize()),
                    (Ok(real), Ok(d)) if real == d.join(&s.file)
                );
            if inside {
                files.insert(s.file.clone(), plumbing::fs::read_text(&path)?);
            }
        }
    }
    rules::expand_py_scripts(text, targets, &files, package).map_err(|d| at(file, text, &d))
}

impl Graph {
    pub fn load(ws: Workspace) -> Result<Graph> {
        let mut packages = BTreeMap::new();
        let root = ws.root.clone();
        let walker = WalkDir::new(&root)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                e.depth() == 0 || !e.file_type().is_dir() || !skip_dir(&root, &ws.ignore, e.path())
            });
        for entry in walker {
            let entry = entry.map_err(|e| anyhow::anyhow!("walking {}: {e}", root.display()))?;
            if entry.file_name() != BUILD_FILE || !entry.file_type().is_file() {
                continue;
            }
            let dir = entry
                .path()
                .parent()
                .expect("a file has a parent")
                .to_path_buf();
            let name = dir
                .strip_prefix(&root)
                .expect("walk stays under the root")
                .to_string_lossy()
                .into_owned();
            let file = Path::new(&name).join(BUILD_FILE);
            // A package no label can name (`a:b`, `@x`, a space) is refused here, not
            // listed by `kiln query` and then refused when named.
            if !name.is_empty()
                && let Err(e) = rules::parse_label(&format!("//{name}:x"), "")
            {
                return Err(hinted(
                    Code::BadInput,
                    format!(
                        "{}: package //{name} cannot be named in a label: {e}",
                        file.display()
                    ),
                    "rename the directory (letters, digits, '-', '_', '.'), or remove its BUILD.toml",
                ));
            }
            let text = plumbing::fs::read_text(entry.path())?;
            let targets =
                rules::parse_build_file(&text, &name).map_err(|d| at(&file, &text, &d))?;
            let mut targets = expand_py_scripts(&dir, &file, &text, &name, targets)?;
            // What runs Python depends on the pinned interpreter, when there is one:
            // its whole archive is in the runfiles (and `kiln query` shows the edge).
            if let Some(i) = &ws.interpreter {
                for t in &mut targets {
                    if let TargetKind::PyBinary(s) | TargetKind::PyTest(s, _) = &mut t.kind {
                        s.deps.push(Item::Label {
                            label: Label::Archive {
                                archive: i.archive.clone(),
                                export: "files".into(),
                            },
                            span: t.name_span.clone(),
                        });
                    }
                }
            }
            packages.insert(
                name.clone(),
                Package {
                    name,
                    dir,
                    file,
                    text,
                    by_name: targets
                        .iter()
                        .enumerate()
                        .map(|(i, t)| (t.name.clone(), i))
                        .collect(),
                    targets,
                },
            );
        }
        let graph = Graph { ws, packages };
        graph.check()?;
        Ok(graph)
    }

    pub fn target(&self, label: &Label) -> Option<(&Package, &Target)> {
        let Label::Target { package, name } = label else {
            return None;
        };
        let pkg = self.packages.get(package)?;
        let i = *pkg.by_name.get(name)?;
        Some((pkg, &pkg.targets[i]))
    }

    pub fn label_of(pkg: &Package, t: &Target) -> Label {
        Label::Target {
            package: pkg.name.clone(),
            name: t.name.clone(),
        }
    }

    fn all_targets(&self) -> impl Iterator<Item = (&Package, &Target)> {
        self.packages
            .values()
            .flat_map(|p| p.targets.iter().map(move |t| (p, t)))
    }

    /// An error pointing at `span` in `pkg`'s BUILD.toml.
    pub fn error_at(
        &self,
        pkg: &Package,
        span: std::ops::Range<usize>,
        msg: String,
        hint: Option<String>,
    ) -> anyhow::Error {
        let mut d = Diagnostic::new(Some(span), msg);
        d.hint = hint;
        at(&pkg.file, &pkg.text, &d)
    }

    /// Every label the target depends on directly, with where it is written.
    pub fn deps<'a>(&self, t: &'a Target) -> Vec<(&'a Label, std::ops::Range<usize>)> {
        t.kind
            .items()
            .into_iter()
            .filter_map(|i| match i {
                Item::Label { label, span } => Some((label, span.clone())),
                Item::Source { .. } => None,
            })
            .collect()
    }
}

/// The checks a graph passes before anything is built: outputs, labels, cycles.
impl Graph {
    fn check(&self) -> Result<()> {
        for (pkg, t) in self.all_targets() {
            for (label, span) in self.deps(t) {
                self.check_label(pkg, label, span.clone())?;
                // A test is run, not imported: its files would ship in what depends on it.
                if matches!(
                    t.kind,
                    TargetKind::PyBinary(_) | TargetKind::PyLibrary(_) | TargetKind::PyTest(..)
                ) && self
                    .target(label)
                    .is_some_and(|(_, d)| matches!(d.kind, TargetKind::PyTest(..)))
                {
                    return Err(self.error_at(
                        pkg,
                        span,
                        format!("{label} is a py_test: Python targets depend on py_library and py_binary targets"),
                        Some("move the shared code into a [[py_library]] both use".into()),
                    ));
                }
                if let TargetKind::Bundle(b) = &t.kind
                    && b.binaries.iter().any(|i| i.span() == span)
                {
                    let (_, dep) = self.target(label).expect("checked above");
                    if !matches!(
                        dep.kind,
                        TargetKind::Wrapper { .. } | TargetKind::PyBinary(_)
                    ) {
                        return Err(self.error_at(
                            pkg,
                            span,
                            format!(
                                "{label} is a {}, but binaries must be wrappers or py_binary targets",
                                dep.kind.name()
                            ),
                            Some("list a [[wrapper]] or [[py_binary]] target here; put other files in data".into()),
                        ));
                    }
                }
            }
        }
        self.check_outputs()?;
        self.check_cycles()
    }

    /// Every file a target puts in kiln-out/ has a place of its own: not kiln's own
    /// state (`.kiln/`, `logs/`, `testlogs/`), not another package's directory, not
    /// another target's output, and neither a file where another needs a directory.
    fn check_outputs(&self) -> Result<()> {
        let mut owner: BTreeMap<String, String> = BTreeMap::new();
        for (pkg, t) in self.all_targets() {
            let outs: Vec<(String, std::ops::Range<usize>)> = match &t.kind {
                TargetKind::Genrule(g) => g.outs.clone(),
                TargetKind::Bundle(_) => vec![(format!("{}.tar.gz", t.name), t.name_span.clone())],
                _ => continue,
            };
            let label = Graph::label_of(pkg, t).to_string();
            for (out, span) in outs {
                let place = crate::outdir::in_package(&pkg.name, &out);
                let top = place.split('/').next().unwrap_or_default();
                let under = |a: &str, b: &str| a.starts_with(&format!("{b}/"));
                let why = if crate::outdir::RESERVED.contains(&top) {
                    Some(if pkg.name.is_empty() {
                        format!(
                            "output {out:?} would be kiln-out/{place}, where kiln keeps its own {top}"
                        )
                    } else {
                        format!(
                            "package //{} lies in kiln-out/{top}/, where kiln keeps its own {top}, so it cannot have outputs (kiln-out/{place})",
                            pkg.name
                        )
                    })
                } else if let Some(other) = self
                    .packages
                    .keys()
                    .find(|k| k.len() > pkg.name.len() && (place == **k || under(&place, k)))
                {
                    Some(format!(
                        "output {out:?} would be kiln-out/{place}, among the outputs of package //{other}"
                    ))
                } else if let Some((theirs, first)) = {
                    // An output below this one (the first key past "place/"), or one of
                    // this one's parent directories.
                    let below = owner
                        .range(format!("{place}/")..)
                        .next()
                        .filter(|(o, _)| under(o, &place));
                    let above = place
                        .match_indices('/')
                        .find_map(|(i, _)| owner.get_key_value(&place[..i]));
                    below.or(above)
                } {
                    Some(format!(
                        "output {out:?} is kiln-out/{place}, and {first} writes kiln-out/{theirs}: one would be a file where the other needs a directory"
                    ))
                } else {
                    owner.insert(place.clone(), label.clone()).map(|first| {
                        format!("output {out:?} is kiln-out/{place}, which {first} writes too")
                    })
                };
                if let Some(why) = why {
                    return Err(self.error_at(
                        pkg,
                        span,
                        format!("{label}: {why}"),
                        Some("give the output (or the package's directory) another name".into()),
                    ));
                }
            }
        }
        Ok(())
    }

    fn check_label(
        &self,
        pkg: &Package,
        label: &Label,
        span: std::ops::Range<usize>,
    ) -> Result<()> {
        match label {
            Label::Target { package, name } => {
                if self.target(label).is_some() {
                    return Ok(());
                }
                let why = if self.packages.contains_key(package) {
                    format!("no target {name:?} in package //{package}")
                } else {
                    format!("no package //{package} (no {BUILD_FILE} there)")
                };
                let candidates = self
                    .all_targets()
                    .map(|(p, t)| Graph::label_of(p, t).to_string());
                let hint = did_you_mean(&label.to_string(), candidates);
                Err(self.error_at(pkg, span, format!("unknown label {label}: {why}"), hint))
            }
            Label::Archive { archive, export } => {
                if let Some((lock, dist)) = archive.split_once('+')
                    && !self.ws.archives.contains_key(archive)
                {
                    if !self.ws.locks.iter().any(|l| l == lock) {
                        return Err(self.error_at(
                            pkg,
                            span,
                            format!("unknown label {label}: no [[python_lock]] or archive named {lock:?} in WORKSPACE.toml"),
                            Some("declare the lock as [[python_lock]] name = ... in WORKSPACE.toml".into()),
                        ));
                    }
                    let names = self
                        .ws
                        .archives
                        .keys()
                        .filter_map(|a| a.strip_prefix(&format!("{lock}+")))
                        .map(|d| format!("@{lock}//{d}"));
                    let hint = did_you_mean(&label.to_string(), names).or_else(|| {
                        Some(format!(
                            "add {dist} to the lock of [[python_lock]] {lock:?} and lock again"
                        ))
                    });
                    return Err(self.error_at(
                        pkg,
                        span,
                        format!("unknown label {label}: the lock {lock:?} pins no distribution {dist:?} for this interpreter"),
                        hint,
                    ));
                }
                let Some(a) = self.ws.archives.get(archive) else {
                    let hint = did_you_mean(archive, self.ws.archives.keys().cloned())
                        .or_else(|| Some("declare it as an [[archive]] in WORKSPACE.toml".into()));
                    return Err(self.error_at(
                        pkg,
                        span,
                        format!("unknown label {label}: no archive {archive:?} in WORKSPACE.toml"),
                        hint,
                    ));
                };
                if a.exports.contains_key(export) {
                    return Ok(());
                }
                let hint = did_you_mean(export, a.exports.keys().cloned());
                Err(self.error_at(
                    pkg,
                    span,
                    format!("unknown label {label}: archive {archive:?} has no export {export:?} (it has: {})",
                        a.exports.keys().cloned().collect::<Vec<_>>().join(", ")),
                    hint,
                ))
            }
        }
    }

    fn check_cycles(&self) -> Result<()> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            Active,
            Done,
        }
        let mut marks: BTreeMap<Label, Mark> = BTreeMap::new();
        for (pkg, t) in self.all_targets() {
            let start = Graph::label_of(pkg, t);
            if marks.contains_key(&start) {
                continue;
            }
            // Iterative DFS; the stack holds (label, index of next dep to visit).
            let mut stack: Vec<(Label, usize)> = vec![(start.clone(), 0)];
            marks.insert(start, Mark::Active);
            while let Some((label, next)) = stack.last().cloned() {
                let (p, tgt) = self.target(&label).expect("resolved");
                let deps = self.deps(tgt);
                let Some((dep, span)) = deps.get(next) else {
                    marks.insert(label, Mark::Done);
                    stack.pop();
                    continue;
                };
                stack.last_mut().expect("non-empty").1 += 1;
                if !matches!(dep, Label::Target { .. }) {
                    continue;
                }
                match marks.get(*dep) {
                    Some(Mark::Done) => {}
                    Some(Mark::Active) => {
                        let from = stack.iter().position(|(l, _)| l == *dep).expect("active");
                        let mut path: Vec<String> =
                            stack[from..].iter().map(|(l, _)| l.to_string()).collect();
                        path.push(dep.to_string());
                        return Err(self.error_at(
                            p,
                            span.clone(),
                            format!("dependency cycle: {}", path.join(" -> ")),
                            Some("break the cycle by removing one of these dependencies".into()),
                        ));
                    }
                    None => {
                        marks.insert((*dep).clone(), Mark::Active);
                        stack.push(((*dep).clone(), 0));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Questions asked of a loaded graph: patterns, closures, reverse dependencies.
impl Graph {
    /// The targets the patterns name, in label order.
    pub fn expand(&self, patterns: &[String]) -> Result<Vec<Label>> {
        let mut out = BTreeSet::new();
        for raw in patterns {
            let pattern = rules::parse_pattern(raw).map_err(|e| {
                hinted(
                    Code::BadInput,
                    e,
                    "patterns look like //..., //pkg/..., //pkg:all or //pkg:name",
                )
            })?;
            let before = out.len();
            match &pattern {
                Pattern::Recursive(prefix) => {
                    for (p, t) in self.all_targets() {
                        let under = prefix.is_empty()
                            || p.name == *prefix
                            || p.name.starts_with(&format!("{prefix}/"));
                        if under && !t.manual {
                            out.insert(Graph::label_of(p, t));
                        }
                    }
                    if out.len() == before
                        && !self.packages.keys().any(|k| {
                            prefix.is_empty() || k == prefix || k.starts_with(&format!("{prefix}/"))
                        })
                    {
                        return Err(bad_input(format!("{raw}: no packages under //{prefix}")));
                    }
                }
                Pattern::Package(name) => {
                    let pkg = self.packages.get(name).ok_or_else(|| {
                        bad_input(format!(
                            "{raw}: no package //{name} (no {BUILD_FILE} there)"
                        ))
                    })?;
                    for t in pkg.targets.iter().filter(|t| !t.manual) {
                        out.insert(Graph::label_of(pkg, t));
                    }
                }
                Pattern::Label(label @ Label::Target { .. }) => {
                    if self.target(label).is_none() {
                        let candidates = self
                            .all_targets()
                            .map(|(p, t)| Graph::label_of(p, t).to_string());
                        let msg = format!("unknown label {label}");
                        return Err(match did_you_mean(&label.to_string(), candidates) {
                            Some(h) => hinted(Code::BadInput, msg, h),
                            None => bad_input(msg),
                        });
                    }
                    out.insert(label.clone());
                    // NAME on the command line is also the bundle of that name.
                    if let Label::Target { package, name } = label {
                        let twin = Label::Target {
                            package: package.clone(),
                            name: format!("{name}{}", rules::BUNDLE_TWIN),
                        };
                        if self.target(&twin).is_some() {
                            out.insert(twin);
                        }
                    }
                }
                Pattern::Label(label) => {
                    return Err(bad_input(format!(
                        "{label}: an archive export is not a target; name the targets that use it (kiln fetch //... fetches every archive the workspace uses)"
                    )));
                }
            }
        }
        Ok(out.into_iter().collect())
    }

    /// The targets reachable from `roots` (themselves included), and the archives they
    /// use.
    pub fn closure(&self, roots: &[Label]) -> (BTreeSet<Label>, BTreeSet<String>) {
        let mut seen = BTreeSet::new();
        let mut archives = BTreeSet::new();
        let mut locks = BTreeSet::new();
        let mut todo: Vec<Label> = roots.to_vec();
        while let Some(l) = todo.pop() {
            if !seen.insert(l.clone()) {
                continue;
            }
            match &l {
                Label::Archive { archive, .. } => {
                    // A locked distribution's closure is known only from the wheels'
                    // metadata: every wheel of its lock is fetched (once per lock).
                    if let Some((lock, _)) = archive.split_once('+')
                        && locks.insert(lock.to_string())
                    {
                        let prefix = format!("{lock}+");
                        archives.extend(
                            self.ws
                                .archives
                                .keys()
                                .filter(|a| a.starts_with(&prefix))
                                .cloned(),
                        );
                    }
                    archives.insert(archive.clone());
                }
                Label::Target { .. } => {
                    let (_, t) = self.target(&l).expect("resolved");
                    todo.extend(self.deps(t).into_iter().map(|(d, _)| d.clone()));
                }
            }
        }
        (seen, archives)
    }

    /// Every target that depends on `label`, directly or not.
    pub fn rdeps(&self, label: &Label) -> BTreeSet<Label> {
        let mut reverse: BTreeMap<Label, Vec<Label>> = BTreeMap::new();
        for (p, t) in self.all_targets() {
            for (d, _) in self.deps(t) {
                reverse
                    .entry(d.clone())
                    .or_default()
                    .push(Graph::label_of(p, t));
            }
        }
        let mut seen = BTreeSet::new();
        let mut todo = vec![label.clone()];
        while let Some(l) = todo.pop() {
            for r in reverse.get(&l).into_iter().flatten() {
                if seen.insert(r.clone()) {
                    todo.push(r.clone());
                }
            }
        }
        seen
    }
}

use release::did_you_mean;
