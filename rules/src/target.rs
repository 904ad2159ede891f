//! The BUILD.toml schema and the typed targets it becomes. Every string that names
//! something keeps its byte span so errors can point at the exact line.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::time::Duration;

use release::fields::Object;
use release::{Kind, Service};
use serde::Deserialize;
use toml::Spanned;

use crate::diag::{Diagnostic, line_col};
use crate::label::{Label, looks_like_label, parse_label, validate_name};

type Str = Spanned<String>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BuildFileDef {
    #[serde(default, deserialize_with = "release::fields::objects")]
    filegroup: Vec<FilegroupDef>,
    #[serde(default, deserialize_with = "release::fields::objects")]
    wrapper: Vec<WrapperDef>,
    #[serde(default, deserialize_with = "release::fields::objects")]
    bundle: Vec<BundleDef>,
    #[serde(default, deserialize_with = "release::fields::objects")]
    genrule: Vec<GenruleDef>,
    #[serde(default, deserialize_with = "release::fields::objects")]
    test: Vec<TestDef>,
    #[serde(default, deserialize_with = "release::fields::objects")]
    py_binary: Vec<PyBinaryDef>,
    #[serde(default, deserialize_with = "release::fields::objects")]
    py_library: Vec<PyLibraryDef>,
    #[serde(default, deserialize_with = "release::fields::objects")]
    py_test: Vec<PyTestDef>,
    #[serde(default, deserialize_with = "release::fields::objects")]
    py_scripts: Vec<PyScriptsDef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PyScriptsDef {
    name: Str,
    pyproject: Option<Str>,
    #[serde(default)]
    srcs: Vec<Str>,
    #[serde(default)]
    deps: Vec<Str>,
    #[serde(default)]
    data: Vec<Str>,
    #[serde(default)]
    imports: Vec<Str>,
    #[serde(default)]
    bundles: bool,
    #[serde(default)]
    manual: bool,
}

/// `[[py_scripts]]` before the builder read its project file: one py_binary per script
/// (and with `bundles`, one tool bundle each), made by [`expand_py_scripts`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyScriptsSpec {
    /// `pyproject.toml` or `setup.cfg`, relative to the package.
    pub file: String,
    pub file_span: Range<usize>,
    /// What every script shares (its start is replaced by the script's entry).
    pub base: PyBinarySpec,
    pub bundles: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PyTestDef {
    name: Str,
    srcs: Spanned<Vec<Str>>,
    #[serde(default)]
    deps: Vec<Str>,
    #[serde(default)]
    data: Vec<Str>,
    #[serde(default)]
    imports: Vec<Str>,
    #[serde(default)]
    env: BTreeMap<String, Str>,
    timeout: Option<Str>,
    #[serde(default)]
    manual: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PyLibraryDef {
    name: Str,
    #[serde(default)]
    srcs: Vec<Str>,
    #[serde(default)]
    deps: Vec<Str>,
    #[serde(default)]
    data: Vec<Str>,
    #[serde(default)]
    imports: Vec<Str>,
    #[serde(default)]
    manual: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PyBinaryDef {
    name: Str,
    #[serde(default)]
    srcs: Vec<Str>,
    main: Option<Str>,
    entry: Option<Str>,
    #[serde(default)]
    deps: Vec<Str>,
    #[serde(default)]
    data: Vec<Str>,
    #[serde(default)]
    imports: Vec<Str>,
    #[serde(default)]
    manual: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GenruleDef {
    name: Str,
    #[serde(default)]
    srcs: Vec<Str>,
    #[serde(default)]
    tools: Vec<Str>,
    outs: Spanned<Vec<Str>>,
    cmd: Str,
    #[serde(default)]
    env: BTreeMap<String, Str>,
    timeout: Option<Str>,
    #[serde(default)]
    manual: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TestDef {
    name: Str,
    src: Str,
    #[serde(default)]
    data: Vec<Str>,
    #[serde(default)]
    env: BTreeMap<String, Str>,
    timeout: Option<Str>,
    #[serde(default)]
    manual: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FilegroupDef {
    name: Str,
    #[serde(default)]
    srcs: Vec<Str>,
    #[serde(default)]
    manual: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WrapperDef {
    name: Str,
    src: Str,
    #[serde(default)]
    data: Vec<Str>,
    #[serde(default)]
    manual: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BundleDef {
    name: Str,
    kind: Spanned<Kind>,
    #[serde(default)]
    binaries: Vec<Str>,
    #[serde(default)]
    data: Vec<Str>,
    service: Option<Spanned<Object<ServiceDef>>>,
    #[serde(default)]
    manual: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceDef {
    name: Option<String>,
    health: Option<String>,
}

/// One entry of `srcs`, `data` or `binaries`: a label, or a source path or glob
/// relative to the package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Label { label: Label, span: Range<usize> },
    Source { path: String, span: Range<usize> },
}

impl Item {
    pub fn span(&self) -> Range<usize> {
        match self {
            Item::Label { span, .. } | Item::Source { span, .. } => span.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleSpec {
    /// The package it publishes as: its `name` as written (the target's own name is
    /// that plus [`BUNDLE_TWIN`] when another target of the package has the name).
    pub package: String,
    pub kind: Kind,
    pub binaries: Vec<Item>,
    pub data: Vec<Item>,
    pub service: Option<Service>,
}

/// The suffix of a bundle's target name when it shares its name with another target.
pub const BUNDLE_TWIN: &str = "@bundle";

/// How long an action may run before its process tree is killed.
pub const DEFAULT_GENRULE_TIMEOUT: Duration = Duration::from_secs(600);
pub const DEFAULT_TEST_TIMEOUT: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenruleSpec {
    pub srcs: Vec<Item>,
    pub tools: Vec<Item>,
    /// Output paths relative to the package, with where each is written.
    pub outs: Vec<(String, Range<usize>)>,
    pub cmd: String,
    pub env: BTreeMap<String, String>,
    pub timeout: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestSpec {
    pub src: Item,
    pub data: Vec<Item>,
    pub env: BTreeMap<String, String>,
    pub timeout: Duration,
}

/// How a py_binary starts: a file of its sources run as `__main__`, or a function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PyStart {
    /// `main = "tools/bin/promote.py"`, relative to the package.
    Main(String),
    /// `entry = "tools.bin.promote:main"`.
    Entry { module: String, function: String },
    /// A py_test: its test files (`test_*.py`, `*_test.py` of srcs), run by pytest when
    /// it is in the deps' closure, else by unittest.
    Tests,
    /// A py_library: nothing starts; its sources, import roots and distributions are
    /// for the Python targets that depend on it.
    Library,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyBinarySpec {
    pub srcs: Vec<Item>,
    pub start: PyStart,
    /// Where `main` or `entry` is written.
    pub start_span: Range<usize>,
    /// Labels: `@LOCK//DIST` distributions (with their closure), or other targets.
    pub deps: Vec<Item>,
    pub data: Vec<Item>,
    /// sys.path roots, relative to the package (default: the package itself).
    pub imports: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetKind {
    Filegroup {
        srcs: Vec<Item>,
    },
    Wrapper {
        src: Item,
        data: Vec<Item>,
    },
    Bundle(BundleSpec),
    Genrule(GenruleSpec),
    Test(TestSpec),
    PyBinary(PyBinarySpec),
    /// Sources (with their import roots and locked distributions) for other Python
    /// targets; its start is [`PyStart::Library`].
    PyLibrary(PyBinarySpec),
    /// A py_test: a py_binary that starts its tests, run as a test (env, timeout; its
    /// TestSpec's src is the generated script).
    PyTest(PyBinarySpec, TestSpec),
    /// Only until the builder expands it (then a filegroup of the scripts).
    PyScripts(PyScriptsSpec),
}

impl TargetKind {
    pub fn name(&self) -> &'static str {
        match self {
            TargetKind::Filegroup { .. } => "filegroup",
            TargetKind::Wrapper { .. } => "wrapper",
            TargetKind::Bundle(_) => "bundle",
            TargetKind::Genrule(_) => "genrule",
            TargetKind::Test(_) => "test",
            TargetKind::PyBinary(_) => "py_binary",
            TargetKind::PyLibrary(_) => "py_library",
            TargetKind::PyTest(..) => "py_test",
            TargetKind::PyScripts(_) => "py_scripts",
        }
    }

    /// Every item, in declaration order.
    pub fn items(&self) -> Vec<&Item> {
        match self {
            TargetKind::Filegroup { srcs } => srcs.iter().collect(),
            TargetKind::Wrapper { src, data } => std::iter::once(src).chain(data).collect(),
            TargetKind::Bundle(b) => b.binaries.iter().chain(&b.data).collect(),
            TargetKind::Genrule(g) => g.srcs.iter().chain(&g.tools).collect(),
            TargetKind::Test(t) => std::iter::once(&t.src).chain(&t.data).collect(),
            TargetKind::PyBinary(p) | TargetKind::PyLibrary(p) | TargetKind::PyTest(p, _) => {
                p.srcs.iter().chain(&p.deps).chain(&p.data).collect()
            }
            TargetKind::PyScripts(_) => Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub name: String,
    pub name_span: Range<usize>,
    pub manual: bool,
    pub kind: TargetKind,
}

/// Parse the text of `<package>/BUILD.toml` into its targets, in file order.
pub fn parse_build_file(text: &str, package: &str) -> Result<Vec<Target>, Diagnostic> {
    let def: BuildFileDef = toml::from_str(text).map_err(|e| Diagnostic::from_toml(&e))?;
    let mut targets = Vec::new();
    for fg in def.filegroup {
        targets.push(Target {
            name: name(&fg.name)?,
            name_span: fg.name.span(),
            manual: fg.manual,
            kind: TargetKind::Filegroup {
                srcs: items(&fg.srcs, package)?,
            },
        });
    }
    for w in def.wrapper {
        let src = script(&w.src, package, "wrapper")?;
        targets.push(Target {
            name: name(&w.name)?,
            name_span: w.name.span(),
            manual: w.manual,
            kind: TargetKind::Wrapper {
                src,
                data: items(&w.data, package)?,
            },
        });
    }
    for b in def.bundle {
        let bundle_name = name(&b.name)?;
        release::validate_package_name(&bundle_name)
            .map_err(|e| Diagnostic::new(Some(b.name.span()), format!("bundle name: {e}")))?;
        let kind = *b.kind.get_ref();
        let service = match (kind, b.service) {
            (Kind::Service, def) => {
                let span = def.as_ref().map_or(b.name.span(), |s| s.span());
                let def = def.map(|s| s.into_inner().0);
                let name = def
                    .as_ref()
                    .and_then(|d| d.name.clone())
                    .unwrap_or_else(|| bundle_name.clone());
                // It reaches the service manager on hosts: a name, never a path or shell.
                release::validate_package_name(&name).map_err(|e| {
                    Diagnostic::new(Some(span), format!("[bundle.service] name: {e}"))
                })?;
                Some(Service {
                    name,
                    health: def.and_then(|d| d.health),
                })
            }
            (Kind::Tool, Some(s)) => {
                return Err(Diagnostic::new(
                    Some(s.span()),
                    "[bundle.service] is only allowed on bundles with kind = \"service\"",
                ));
            }
            (Kind::Tool, None) => None,
        };
        let binaries = items(&b.binaries, package)?;
        if let Some(bad) = binaries.iter().find(|i| matches!(i, Item::Source { .. })) {
            return Err(Diagnostic::new(
                Some(bad.span()),
                "binaries must be labels of wrapper targets",
            )
            .hint("write a [[wrapper]] for the script and list it as \":name\""));
        }
        targets.push(Target {
            name: bundle_name.clone(),
            name_span: b.name.span(),
            manual: b.manual,
            kind: TargetKind::Bundle(BundleSpec {
                package: bundle_name,
                kind,
                binaries,
                data: items(&b.data, package)?,
                service,
            }),
        });
    }
    for g in def.genrule {
        let mut outs = Vec::new();
        let mut seen = BTreeSet::new();
        for o in g.outs.get_ref() {
            let Item::Source { path, span } = item(o, package)? else {
                return Err(Diagnostic::new(
                    Some(o.span()),
                    "outs are file paths relative to the package, not labels",
                ));
            };
            if crate::is_glob(&path) {
                return Err(Diagnostic::new(Some(span), "outs may not be globs"));
            }
            if !seen.insert(path.clone()) {
                return Err(Diagnostic::new(
                    Some(span),
                    format!("{path:?} is listed twice in outs"),
                ));
            }
            outs.push((path, span));
        }
        if outs.is_empty() {
            return Err(Diagnostic::new(
                Some(g.outs.span()),
                "a genrule needs at least one output",
            )
            .hint("list the files the command writes, for example outs = [\"out.txt\"]"));
        }
        targets.push(Target {
            name: name(&g.name)?,
            name_span: g.name.span(),
            manual: g.manual,
            kind: TargetKind::Genrule(GenruleSpec {
                srcs: items(&g.srcs, package)?,
                tools: items(&g.tools, package)?,
                outs,
                cmd: g.cmd.into_inner(),
                env: env(g.env)?,
                timeout: timeout(g.timeout.as_ref(), DEFAULT_GENRULE_TIMEOUT)?,
            }),
        });
    }
    for t in def.test {
        targets.push(Target {
            name: name(&t.name)?,
            name_span: t.name.span(),
            manual: t.manual,
            kind: TargetKind::Test(TestSpec {
                src: script(&t.src, package, "test")?,
                data: items(&t.data, package)?,
                env: env(t.env)?,
                timeout: timeout(t.timeout.as_ref(), DEFAULT_TEST_TIMEOUT)?,
            }),
        });
    }
    for p in def.py_binary {
        targets.push(py_binary(p, package)?);
    }
    for p in def.py_library {
        let spec = py_spec(
            PyStart::Library,
            p.name.span(),
            &p.srcs,
            &p.deps,
            &p.data,
            &p.imports,
            package,
        )?;
        targets.push(Target {
            name: name(&p.name)?,
            name_span: p.name.span(),
            manual: p.manual,
            kind: TargetKind::PyLibrary(spec),
        });
    }
    for p in def.py_test {
        let spec = py_spec(
            PyStart::Tests,
            p.srcs.span(),
            p.srcs.get_ref(),
            &p.deps,
            &p.data,
            &p.imports,
            package,
        )?;
        let name = name(&p.name)?;
        let test = TestSpec {
            src: Item::Source {
                path: format!("{name}.kiln-test.sh"),
                span: p.name.span(),
            },
            data: Vec::new(),
            env: env(p.env)?,
            timeout: timeout(p.timeout.as_ref(), DEFAULT_TEST_TIMEOUT)?,
        };
        targets.push(Target {
            name,
            name_span: p.name.span(),
            manual: p.manual,
            kind: TargetKind::PyTest(spec, test),
        });
    }
    for p in def.py_scripts {
        let (file, file_span) = match &p.pyproject {
            Some(f) => match item(f, package)? {
                Item::Source { path, span } if !crate::is_glob(&path) => (path, span),
                _ => {
                    return Err(Diagnostic::new(
                        Some(f.span()),
                        "pyproject is a file of this package (pyproject.toml or setup.cfg)",
                    ));
                }
            },
            None => ("pyproject.toml".to_string(), p.name.span()),
        };
        let base = py_spec(
            PyStart::Tests,
            p.name.span(),
            &p.srcs,
            &p.deps,
            &p.data,
            &p.imports,
            package,
        )?;
        targets.push(Target {
            name: name(&p.name)?,
            name_span: p.name.span(),
            manual: p.manual,
            kind: TargetKind::PyScripts(PyScriptsSpec {
                file,
                file_span,
                base,
                bundles: p.bundles,
            }),
        });
    }
    finish(text, targets)
}

/// Bundles sharing a name get their twin label, then every name is checked unique.
fn finish(text: &str, mut targets: Vec<Target>) -> Result<Vec<Target>, Diagnostic> {
    targets.sort_by_key(|t| t.name_span.start);
    // A bundle may share its name with one other target (`hello` installs `hello`): the
    // bundle's label is then NAME@bundle, a name no one can write, and the label NAME
    // is the other target's (what binaries, data and deps name). On the command line
    // NAME means both (Graph::expand).
    let shared: BTreeSet<String> = targets
        .iter()
        .filter(|t| !matches!(t.kind, TargetKind::Bundle(_)))
        .map(|t| t.name.clone())
        .collect();
    for t in &mut targets {
        if matches!(t.kind, TargetKind::Bundle(_)) && shared.contains(&t.name) {
            t.name = format!("{}{BUNDLE_TWIN}", t.name);
        }
    }
    let mut seen: BTreeMap<&str, &Target> = BTreeMap::new();
    for t in &targets {
        if let Some(first) = seen.insert(&t.name, t) {
            let (line, _) = line_col(text, first.name_span.start);
            return Err(Diagnostic::new(
                Some(t.name_span.clone()),
                format!(
                    "duplicate target name {:?}: a {} of that name is already defined at line {line}",
                    t.name,
                    first.kind.name()
                ),
            )
            .hint("target names must be unique within a package; rename one of them"));
        }
    }
    Ok(targets)
}

fn py_binary(p: PyBinaryDef, package: &str) -> Result<Target, Diagnostic> {
    let (start, start_span) = match (&p.main, &p.entry) {
        (Some(m), None) => {
            let Item::Source { path, span } = item(m, package)? else {
                return Err(Diagnostic::new(
                    Some(m.span()),
                    "main is a .py file of this package, not a label",
                ));
            };
            if !path.ends_with(".py") || crate::is_glob(&path) {
                return Err(Diagnostic::new(
                    Some(span),
                    format!("main {path:?} is not a .py file"),
                ));
            }
            (PyStart::Main(path), m.span())
        }
        (None, Some(e)) => {
            let bad = || {
                Diagnostic::new(
                    Some(e.span()),
                    format!("entry {:?} is not MODULE:FUNCTION", e.get_ref()),
                )
                .hint("write it as in [project.scripts], for example entry = \"tools.bin.promote:main\"")
            };
            let (module, function) = e.get_ref().split_once(':').ok_or_else(bad)?;
            let ident = |s: &str| {
                !s.is_empty()
                    && !s.starts_with(|c: char| c.is_ascii_digit())
                    && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            };
            if !module.split('.').all(ident) || !function.split('.').all(ident) {
                return Err(bad());
            }
            (
                PyStart::Entry {
                    module: module.to_string(),
                    function: function.to_string(),
                },
                e.span(),
            )
        }
        (Some(_), Some(e)) => {
            return Err(Diagnostic::new(
                Some(e.span()),
                "a py_binary has main or entry, not both",
            ));
        }
        (None, None) => {
            return Err(Diagnostic::new(
                Some(p.name.span()),
                "a py_binary needs main (a .py file) or entry (MODULE:FUNCTION)",
            ));
        }
    };
    Ok(Target {
        name: name(&p.name)?,
        name_span: p.name.span(),
        manual: p.manual,
        kind: TargetKind::PyBinary(py_spec(
            start, start_span, &p.srcs, &p.deps, &p.data, &p.imports, package,
        )?),
    })
}

fn py_spec(
    start: PyStart,
    start_span: Range<usize>,
    srcs: &[Str],
    deps: &[Str],
    data: &[Str],
    imports: &[Str],
    package: &str,
) -> Result<PyBinarySpec, Diagnostic> {
    let deps = items(deps, package)?;
    if let Some(bad) = deps.iter().find(|i| matches!(i, Item::Source { .. })) {
        return Err(Diagnostic::new(
            Some(bad.span()),
            "deps are labels (@pypi//requests, :lib), not files",
        )
        .hint("put the package's own files in srcs"));
    }
    let roots = imports;
    let mut imports = Vec::new();
    for i in roots {
        let path = if i.get_ref() == "." {
            String::new()
        } else {
            release::normalize_relative(i.get_ref())
                .map_err(|why| Diagnostic::new(Some(i.span()), format!("imports: {why}")))?
        };
        imports.push(path);
    }
    if imports.is_empty() {
        imports.push(String::new());
    }
    Ok(PyBinarySpec {
        srcs: items(srcs, package)?,
        start,
        start_span,
        deps,
        data: items(data, package)?,
        imports,
    })
}

/// The console scripts a project file declares: `[project.scripts]` of a
/// pyproject.toml, or `console_scripts` under `[options.entry_points]` of a setup.cfg
/// (a setup.py cannot be read without running it). Each: name, entry, 1-based line.
pub fn console_scripts(file: &str, text: &str) -> Result<Vec<(String, String, usize)>, String> {
    let name = file.rsplit('/').next().unwrap_or(file);
    let line_of = |key: &str| {
        let quoted = [format!("\"{key}\""), format!("'{key}'")];
        text.lines()
            .position(|l| {
                let l = l.trim_start();
                let rest = match l.strip_prefix(key) {
                    Some(r) => r,
                    None => match quoted.iter().find_map(|q| l.strip_prefix(q.as_str())) {
                        Some(r) => r,
                        None => return false,
                    },
                };
                rest.trim_start().starts_with('=')
            })
            .map_or(1, |i| i + 1)
    };
    match name {
        "pyproject.toml" => {
            let v: toml::Value = toml::from_str(text).map_err(|e| {
                let at = e.span().map_or(1, |s| line_col(text, s.start).0);
                format!("line {at}: {}", e.message())
            })?;
            let Some(scripts) = v.get("project").and_then(|p| p.get("scripts")) else {
                return Err("it has no [project.scripts]".into());
            };
            let table = scripts
                .as_table()
                .ok_or("[project.scripts] is not a table")?;
            table
                .iter()
                .map(|(k, v)| {
                    let entry = v
                        .as_str()
                        .ok_or_else(|| format!("line {}: script {k:?} is not a string", line_of(k)))?;
                    Ok((k.clone(), entry.to_string(), line_of(k)))
                })
                .collect()
        }
        "setup.cfg" => {
            let mut out = Vec::new();
            let mut section = String::new();
            let mut in_scripts = false;
            for (i, raw) in text.lines().enumerate() {
                let l = raw.trim();
                if l.starts_with('[') {
                    section = l.to_string();
                    in_scripts = false;
                    continue;
                }
                if section != "[options.entry_points]" || l.is_empty() || l.starts_with('#') {
                    continue;
                }
                let indented = raw.starts_with([' ', '\t']);
                if !indented {
                    let (key, rest) = l.split_once('=').unwrap_or((l, ""));
                    in_scripts = key.trim() == "console_scripts";
                    if in_scripts && !rest.trim().is_empty() {
                        return Err(format!("line {}: put each console script on its own indented line", i + 1));
                    }
                    continue;
                }
                if in_scripts {
                    let (k, v) = l
                        .split_once('=')
                        .ok_or_else(|| format!("line {}: expected NAME = MODULE:FUNCTION", i + 1))?;
                    out.push((k.trim().to_string(), v.trim().to_string(), i + 1));
                }
            }
            if out.is_empty() {
                return Err("it has no console_scripts under [options.entry_points]".into());
            }
            Ok(out)
        }
        "setup.py" => Err("a setup.py cannot be read without running it: declare the scripts in pyproject.toml ([project.scripts]) or setup.cfg".into()),
        _ => Err("name a pyproject.toml or a setup.cfg".into()),
    }
}

/// Replace each `[[py_scripts]]` by a py_binary per script of its project file
/// (`files`: the file's text by package-relative path, read by the builder), a tool
/// bundle each with `bundles`, and a filegroup of the scripts under its own name.
/// Errors name the BUILD.toml line; the project file's own problems carry its path.
pub fn expand_py_scripts(
    text: &str,
    targets: Vec<Target>,
    files: &BTreeMap<String, String>,
    package: &str,
) -> Result<Vec<Target>, Diagnostic> {
    if !targets
        .iter()
        .any(|t| matches!(t.kind, TargetKind::PyScripts(_)))
    {
        return Ok(targets);
    }
    let mut out = Vec::new();
    for t in targets {
        let TargetKind::PyScripts(spec) = t.kind else {
            out.push(t);
            continue;
        };
        let body = files.get(&spec.file).ok_or_else(|| {
            Diagnostic::new(
                Some(spec.file_span.clone()),
                format!("no such file {:?} in the package", spec.file),
            )
        })?;
        // Named from the workspace root, as every other file in messages.
        let shown = if package.is_empty() {
            spec.file.clone()
        } else {
            format!("{package}/{}", spec.file)
        };
        let scripts = console_scripts(&spec.file, body)
            .map_err(|e| Diagnostic::new(Some(spec.file_span.clone()), format!("{shown}: {e}")))?;
        let mut labels = Vec::new();
        for (script, entry, line) in scripts {
            let at = |msg: String| {
                Diagnostic::new(
                    Some(spec.file_span.clone()),
                    format!("{shown}:{line}: script {script:?}: {msg}"),
                )
            };
            validate_name(&script).map_err(at)?;
            let entry = entry.split('[').next().unwrap_or("").trim();
            let (module, function) = entry
                .split_once(':')
                .ok_or_else(|| at(format!("{entry:?} is not MODULE:FUNCTION")))?;
            let mut binary = spec.base.clone();
            binary.start = PyStart::Entry {
                module: module.trim().to_string(),
                function: function.trim().to_string(),
            };
            binary.start_span = spec.file_span.clone();
            out.push(Target {
                name: script.clone(),
                name_span: t.name_span.clone(),
                manual: t.manual,
                kind: TargetKind::PyBinary(binary),
            });
            if spec.bundles {
                release::validate_package_name(&script)
                    .map_err(|e| at(format!("as a bundle: {e}")))?;
                out.push(Target {
                    name: script.clone(),
                    name_span: t.name_span.clone(),
                    manual: t.manual,
                    kind: TargetKind::Bundle(BundleSpec {
                        package: script.clone(),
                        kind: Kind::Tool,
                        binaries: vec![Item::Label {
                            label: Label::Target {
                                package: package.to_string(),
                                name: script.clone(),
                            },
                            span: t.name_span.clone(),
                        }],
                        data: Vec::new(),
                        service: None,
                    }),
                });
            }
            // The group names the bundles too, so `//pkg:NAME` builds and publishes them.
            if spec.bundles {
                labels.push(Item::Label {
                    label: Label::Target {
                        package: package.to_string(),
                        name: format!("{script}{BUNDLE_TWIN}"),
                    },
                    span: t.name_span.clone(),
                });
            }
            labels.push(Item::Label {
                label: Label::Target {
                    package: package.to_string(),
                    name: script,
                },
                span: t.name_span.clone(),
            });
        }
        out.push(Target {
            name: t.name,
            name_span: t.name_span,
            manual: t.manual,
            kind: TargetKind::Filegroup { srcs: labels },
        });
    }
    finish(text, out)
}

/// A wrapper's or test's `src`: one script of this package.
fn script(s: &Str, package: &str, kind: &str) -> Result<Item, Diagnostic> {
    let src = item(s, package)?;
    if matches!(src, Item::Label { .. }) || crate::is_glob(s.get_ref()) {
        return Err(Diagnostic::new(
            Some(s.span()),
            format!(
                "a {kind}'s src must be one script of this package, not {:?}",
                s.get_ref()
            ),
        )
        .hint("name the script's path relative to the package, for example src = \"run.sh\""));
    }
    Ok(src)
}

/// Declared environment: names are shell identifiers, and kiln's own variables are
/// not theirs to set.
fn env(vars: BTreeMap<String, Str>) -> Result<BTreeMap<String, String>, Diagnostic> {
    const RESERVED: &[&str] = &[
        "PATH",
        "HOME",
        "TMPDIR",
        "SRCS",
        "OUTS",
        "OUT_DIR",
        "RUNFILES_DIR",
        "TEST_TMPDIR",
        "SOURCE_DATE_EPOCH",
    ];
    let mut out = BTreeMap::new();
    for (k, v) in vars {
        let ident = !k.is_empty()
            && !k.as_bytes()[0].is_ascii_digit()
            && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !ident || RESERVED.contains(&k.as_str()) {
            return Err(Diagnostic::new(
                Some(v.span()),
                format!(
                    "env: {k:?} cannot be set here (a shell variable name, and not one of {})",
                    RESERVED.join(", ")
                ),
            ));
        }
        out.insert(k, v.into_inner());
    }
    Ok(out)
}

fn timeout(s: Option<&Str>, default: Duration) -> Result<Duration, Diagnostic> {
    let Some(s) = s else { return Ok(default) };
    plumbing::duration::parse_positive(s.get_ref()).map_err(|e| Diagnostic::new(Some(s.span()), e))
}

fn name(s: &Str) -> Result<String, Diagnostic> {
    validate_name(s.get_ref()).map_err(|e| Diagnostic::new(Some(s.span()), e))?;
    Ok(s.get_ref().clone())
}

fn items(list: &[Str], package: &str) -> Result<Vec<Item>, Diagnostic> {
    list.iter().map(|s| item(s, package)).collect()
}

fn item(s: &Str, package: &str) -> Result<Item, Diagnostic> {
    let raw = s.get_ref();
    let span = s.span();
    if looks_like_label(raw) {
        let label =
            parse_label(raw, package).map_err(|e| Diagnostic::new(Some(span.clone()), e))?;
        return Ok(Item::Label { label, span });
    }
    let outside = raw.starts_with('/') || raw.split('/').any(|seg| seg == "..") || raw.is_empty();
    if outside {
        return Err(Diagnostic::new(
            Some(span),
            format!("{raw:?} leaves the package: source paths and globs are relative to the package and may not use '..' or start with '/'"),
        )
        .hint("to use files of another package, give that package a filegroup and refer to it by label"));
    }
    let path = raw
        .split('/')
        .filter(|seg| !seg.is_empty() && *seg != ".")
        .collect::<Vec<_>>()
        .join("/");
    Ok(Item::Source { path, span })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOLR: &str = r#"
[[filegroup]]
name = "configs"
srcs = ["conf/**"]

[[wrapper]]
name = "start_solr"
src = "start_solr.sh"
data = ["@solr//:files", ":configs"]

[[bundle]]
name = "solr"
kind = "service"
binaries = [":start_solr"]
[bundle.service]
health = "bin/solr-health"
"#;

    #[test]
    fn parses_the_design_example() {
        let targets = parse_build_file(SOLR, "packages/solr").unwrap();
        let names: Vec<_> = targets.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["configs", "start_solr", "solr"]);
        let TargetKind::Bundle(b) = &targets[2].kind else {
            panic!()
        };
        assert_eq!(b.service.as_ref().unwrap().name, "solr");
        assert_eq!(
            b.service.as_ref().unwrap().health.as_deref(),
            Some("bin/solr-health")
        );
    }

    #[test]
    fn parses_genrules_and_tests() {
        let text = r#"
[[genrule]]
name = "g"
srcs = ["in.txt", ":fg"]
outs = ["out.txt", "sub/b.txt"]
cmd = "cp $SRCS $OUT_DIR"
env = { GREETING = "hi" }
timeout = "30s"

[[test]]
name = "t"
src = "t.sh"
data = [":g"]
"#;
        let targets = parse_build_file(text, "p").unwrap();
        let TargetKind::Genrule(g) = &targets[0].kind else {
            panic!()
        };
        assert_eq!(
            g.outs.iter().map(|(o, _)| o.as_str()).collect::<Vec<_>>(),
            ["out.txt", "sub/b.txt"]
        );
        assert_eq!(g.env["GREETING"], "hi");
        assert_eq!(g.timeout, Duration::from_secs(30));
        let TargetKind::Test(t) = &targets[1].kind else {
            panic!()
        };
        assert_eq!(t.timeout, DEFAULT_TEST_TIMEOUT);
        assert_eq!(targets[1].kind.items().len(), 2);
    }

    #[test]
    fn genrule_mistakes_are_caught() {
        let base = "[[genrule]]\nname = \"g\"\ncmd = \"true\"\n";
        for (rest, want) in [
            ("outs = []", "at least one output"),
            ("outs = [\"a\", \"a\"]", "listed twice"),
            ("outs = [\"*.txt\"]", "may not be globs"),
            ("outs = [\"../a\"]", "leaves the package"),
            ("outs = [\"a\"]\nenv = { PATH = \"/x\" }", "cannot be set"),
            ("outs = [\"a\"]\ntimeout = \"soon\"", "not a duration"),
        ] {
            let (msg, _) = err(&format!("{base}{rest}\n"));
            assert!(msg.contains(want), "{rest}: {msg}");
        }
    }

    fn err(text: &str) -> (String, usize) {
        let d = parse_build_file(text, "p").unwrap_err();
        let line = line_col(text, d.span.unwrap().start).0;
        (d.message, line)
    }

    #[test]
    fn errors_point_at_the_line() {
        let (m, line) = err("[[filegroup]]\nname = \"a\"\nsrcz = []\n");
        assert!(m.contains("unknown field `srcz`"), "{m}");
        assert_eq!(line, 3);
        let (m, line) =
            err("[[filegroup]]\nname = \"a\"\n[[wrapper]]\nname = \"a\"\nsrc = \"a.sh\"\n");
        assert!(m.contains("duplicate target name"), "{m}");
        assert_eq!(line, 4);
        let (m, line) = err("[[filegroup]]\nname = \"a\"\nsrcs = [\"../x/**\"]\n");
        assert!(m.contains("leaves the package"), "{m}");
        assert_eq!(line, 3);
        let (m, _) = err("[[bundle]]\nname = \"a\"\nkind = \"daemon\"\n");
        assert!(m.contains("unknown variant"), "{m}");
        let (m, _) = err("[[filegroup]]\nname = \"a\"\nsrcs = [\"//b:\"]\n");
        assert!(m.contains("names no target"), "{m}");
    }

    #[test]
    fn targets_are_tables_not_lists_of_values() {
        let (m, line) = err("# a\nfilegroup = [[\"configs\", [\"conf/**\"], true]]\n");
        assert!(m.contains("expected named fields"), "{m}");
        assert_eq!(line, 2);
        let (m, line) =
            err("[[bundle]]\nname = \"b\"\nkind = \"service\"\nservice = [\"b\", \"bin/h\"]\n");
        assert!(m.contains("expected named fields"), "{m}");
        assert_eq!(line, 4);
        let (m, line) = err("\ntest = [1979-05-27]\n");
        assert_eq!(m, "found a date-time where a table belongs");
        assert_eq!(line, 2);
    }
}

#[cfg(test)]
mod py_scripts_tests {
    use super::*;

    #[test]
    fn console_scripts_come_from_pyproject_or_setup_cfg() {
        let py = "[project]\nname = \"x\"\n\n[project.scripts]\nhello = \"tools.hello:main\"\nbye = \"tools.bye:run [extra]\"\n";
        let s = console_scripts("pyproject.toml", py).unwrap();
        assert_eq!(s[0], ("bye".into(), "tools.bye:run [extra]".into(), 6));
        assert_eq!(s[1], ("hello".into(), "tools.hello:main".into(), 5));
        let cfg = "[metadata]\nname = x\n\n[options.entry_points]\nconsole_scripts =\n    hello = tools.hello:main\n    bye=tools.bye:run\ngui_scripts =\n    gui = tools.gui:main\n";
        let s = console_scripts("setup.cfg", cfg).unwrap();
        assert_eq!(
            s,
            vec![
                ("hello".into(), "tools.hello:main".into(), 6),
                ("bye".into(), "tools.bye:run".into(), 7)
            ]
        );
        assert!(
            console_scripts("setup.py", "")
                .unwrap_err()
                .contains("without running it")
        );
        assert!(
            console_scripts("pyproject.toml", "[project]\nname = \"x\"\n")
                .unwrap_err()
                .contains("no [project.scripts]")
        );
        assert!(
            console_scripts("pyproject.toml", "[project\n")
                .unwrap_err()
                .starts_with("line 1")
        );
    }
}
