//! `[[python_lock]]`: each distribution a PEP 751 lock pins becomes a pinned archive
//! (`@LOCK//DIST`, the archive `LOCK+DIST`): the wheel the target interpreter takes,
//! fetched, checked against the lock's sha256 and unpacked like any archive. The
//! target interpreter is the host's `python3`, asked once for its version, machine
//! and glibc.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use rules::pylock::{Interpreter, Locked, parse_pylock};
use rules::{Diagnostic, ExtractLimits, PythonLockSpec};

use crate::error::{Code, Result, at, hinted};
use crate::workspace::{Archive, WORKSPACE_FILE};

/// The host's `python3`, isolated from the caller's environment (`-I`: no user site,
/// no `PYTHON*` variables).
pub fn host_interpreter() -> Result<Interpreter> {
    interpreter_of(Path::new("python3"), "python3")
}

/// What the Python `program` is (`what`: how messages name it).
pub fn interpreter_of(program: &Path, what: &str) -> Result<Interpreter> {
    let mut cmd = Command::new(program);
    cmd
        // -S and no `platform` import: a third of the start-up time, paid by every
        // command of a workspace with a lock (platform.machine() is uname's machine, and
        // platform.python_version() the first word of sys.version).
        .args([
            "-I",
            "-S",
            "-c",
            "import sys, os\n\
             try:\n    libc = os.confstr('CS_GNU_LIBC_VERSION') or ''\n\
             except (ValueError, OSError):\n    libc = ''\n\
             print(sys.implementation.name, sys.version_info[0], sys.version_info[1], os.uname().machine, libc.replace(' ', '/') or '-', sys.version.split()[0])",
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::null());
    let out = plumbing::process::query(&mut cmd, 64 << 10, QUERY_TIMEOUT)
        .map_err(|e| {
            hinted(
                Code::Env,
                format!(
                    "{WORKSPACE_FILE} has [[python_lock]], but {what} ({}) cannot be run: {e}",
                    program.display()
                ),
                "install python3 (the interpreter locked wheels are chosen for), or pin one with interpreter =",
            )
        })?
        .ok_or_else(|| {
            hinted(
                Code::Env,
                format!(
                    "{what} ({}) failed or did not answer within {}s",
                    program.display(),
                    QUERY_TIMEOUT.as_secs()
                ),
                "check that it starts: python3 -I -S -c pass",
            )
        })?;
    let text = String::from_utf8_lossy(&out);
    let f: Vec<&str> = text.split_whitespace().collect();
    let parsed = (|| {
        if f.len() < 4 || f[0] != "cpython" || f[1] != "3" {
            return None;
        }
        // Only plain words reach markers and messages.
        let plain = |w: &str| {
            w.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._+/-".contains(c))
        };
        if !f.iter().all(|w| plain(w)) {
            return None;
        }
        let minor: u32 = f[2].parse().ok()?;
        let glibc = f
            .get(4)
            .and_then(|l| l.strip_prefix("glibc/2."))
            .and_then(|m| m.parse().ok());
        let mut i = Interpreter::cpython(minor, f[3], glibc);
        if let Some(full) = f.get(5) {
            i.markers
                .insert("python_full_version".into(), full.to_string());
        }
        Some(i)
    })();
    parsed.ok_or_else(|| {
        hinted(
            Code::Env,
            format!(
                "{what} is not a CPython 3 kiln can choose wheels for (it says {:?})",
                text.trim().chars().take(200).collect::<String>()
            ),
            "use CPython 3 (first in PATH, or the file interpreter = names)",
        )
    })
}

/// Add an archive for every distribution of `lock` that `interp` can install: a
/// pylock.toml names its wheels; a hashed requirements file's are found by `index`.
pub fn lock_archives(
    root: &Path,
    lock: &PythonLockSpec,
    interp: &Interpreter,
    index: &mut crate::pyindex::Index,
    archives: &mut BTreeMap<String, Archive>,
) -> Result<()> {
    let path = root.join(&lock.lock);
    // A file of the workspace only: a link (to it, or to a directory on its way)
    // could name any file of the machine.
    let inside = fs_err::symlink_metadata(&path).is_ok_and(|m| m.is_file())
        && matches!(
            (path.canonicalize(), root.canonicalize()),
            (Ok(real), Ok(r)) if real == r.join(&lock.lock)
        );
    if !inside {
        return Err(hinted(
            Code::BadInput,
            format!(
                "{WORKSPACE_FILE}: python_lock {:?}: {} is not a file of the workspace",
                lock.name, lock.lock
            ),
            "write the lock there (uv pip compile --format pylock.toml -o FILE), not a link",
        ));
    }
    let text = plumbing::fs::read_text(&path)?;
    let file = Path::new(&lock.lock);
    let locked = if lock.is_pylock() {
        pylock_entries(file, &text, interp)?
    } else {
        let pins = rules::pyreq::parse_requirements(&text).map_err(|d| at(file, &text, &d))?;
        let lines = Lines::of(&text);
        let mut locked = Vec::new();
        for p in pins {
            // Only what this interpreter installs is looked up.
            if let Some(m) = &p.marker
                && !rules::pylock::marker_holds(m, &interp.markers)
                    .map_err(|e| at(file, &text, &Diagnostic::new(Some(p.span.clone()), e)))?
            {
                continue;
            }
            let place = format!("{}:{}", lock.lock, lines.line(p.span.start));
            locked.push(index.entry(&lock.index_urls, &p, interp, &place)?);
        }
        locked
    };
    choose_wheels(lock, file, &text, interp, &locked, archives)
}

/// The entries of a pylock.toml, its `requires-python` checked against `interp`.
fn pylock_entries(file: &Path, text: &str, interp: &Interpreter) -> Result<Vec<Locked>> {
    let parsed = parse_pylock(text).map_err(|d| at(file, text, &d))?;
    if let Some((spec, span)) = &parsed.requires_python {
        let have = interp
            .markers
            .get("python_full_version")
            .cloned()
            .unwrap_or_default();
        if !rules::pylock::python_meets(&have, spec) {
            return Err(at(
                file,
                text,
                &Diagnostic::new(
                    Some(span.clone()),
                    format!("the lock's requires-python {spec:?} excludes the Python its wheels are chosen for ({have})"),
                )
                .hint("lock for this Python (uv pip compile --python-version), or build with a python3 it allows"),
            ));
        }
    }
    Ok(parsed.packages)
}

/// The archive of each distribution of `locked`: the wheel `interp` takes best.
fn choose_wheels(
    lock: &PythonLockSpec,
    file: &Path,
    text: &str,
    interp: &Interpreter,
    locked: &[Locked],
    archives: &mut BTreeMap<String, Archive>,
) -> Result<()> {
    let lines = Lines::of(text);
    // One entry per name and environment: the first whose wheel fits is taken.
    let mut by_name: BTreeMap<&str, Vec<&Locked>> = BTreeMap::new();
    for l in locked {
        by_name.entry(l.name.as_str()).or_default().push(l);
    }
    for (name, entries) in by_name {
        // Entries whose marker excludes this interpreter are not for it.
        let mut here = Vec::new();
        for l in entries {
            let holds = match &l.marker {
                Some(m) => rules::pylock::marker_holds(m, &interp.markers)
                    .map_err(|e| at(file, text, &Diagnostic::new(Some(l.span.clone()), e)))?,
                None => true,
            };
            if holds {
                here.push(l);
            }
        }
        let Some(&first) = here.first() else {
            continue;
        };
        // One release per distribution: two entries whose markers both hold are two
        // answers (pip refuses them too).
        if let Some(second) = here.get(1) {
            return Err(at(
                file,
                text,
                &Diagnostic::new(
                    Some(second.span.clone()),
                    format!(
                        "{name} is pinned again for this interpreter (first at line {}): both markers hold",
                        lines.line(first.span.start)
                    ),
                )
                .hint("keep one pin of it per environment (lock again)"),
            ));
        }
        let chosen = here.iter().find_map(|l| interp.choose(l).map(|w| (*l, w)));
        let Some((l, wheel)) = chosen else {
            let has: Vec<String> = here
                .iter()
                .flat_map(|l| l.wheels.iter().map(|w| w.tags[0].to_string()))
                .collect();
            return Err(at(
                file,
                text,
                &Diagnostic::new(
                    Some(first.span.clone()),
                    format!(
                        "{name} {} has no wheel for {} (its wheels: {})",
                        first.version.as_deref().unwrap_or(""),
                        interp.describe,
                        has.join(", ")
                    ),
                )
                .hint(
                    "lock for this interpreter and platform (uv pip compile --python-version, --python-platform), or build on a host whose python3 matches",
                ),
            ));
        };
        let archive = format!("{}+{name}", lock.name);
        let line = lines.line(l.span.start);
        archives.insert(
            archive.clone(),
            Archive {
                name: archive,
                urls: std::iter::once(&wheel.url)
                    .chain(&wheel.mirrors)
                    .cloned()
                    .collect(),
                sha256: wheel.sha256,
                strip_prefix: None,
                exports: BTreeMap::from([("files".to_string(), vec!["**".to_string()])]),
                export_spans: BTreeMap::new(),
                limits: ExtractLimits::DEFAULT,
                span: lock.span.clone(),
                pinned_in: Some(format!("{}:{line}", lock.lock)),
                locked_deps: l.dependencies.clone(),
            },
        );
    }
    Ok(())
}

/// How long a Python may take to say what it is.
const QUERY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The pinned interpreter's program in its unpacked archive (fetched and unpacked
/// into the cache when missing): a file of the archive, not a link out of it.
pub fn pinned_program(
    ws: &crate::workspace::Workspace,
    i: &rules::InterpreterSpec,
    fetch: &crate::fetch::FetchOptions,
    ui: crate::ui::Ui,
) -> Result<std::path::PathBuf> {
    let cache = crate::cache::Cache::open()?;
    let a = &ws.archives[&i.archive];
    let blob = crate::fetch::Fetcher::new(&cache, ws, fetch, ui).ensure(a)?;
    let tree = crate::trees::ensure_tree(&cache, ws, a, &blob)?;
    let program = tree.root.join(&i.path);
    let inside = tree.files.iter().any(|f| f.path == i.path)
        && program
            .canonicalize()
            .ok()
            .zip(tree.root.canonicalize().ok())
            .is_some_and(|(p, root)| p.starts_with(&root) && p.is_file());
    if !inside {
        return Err(hinted(
            Code::BadInput,
            format!(
                "{}: interpreter: {} is not a file of @{} (strip_prefix applied)",
                ws.place(i.span.start),
                i.path,
                i.archive
            ),
            "name the interpreter's path inside the archive, e.g. bin/python3 for python-build-standalone's install_only tarballs",
        ));
    }
    Ok(program)
}

/// Line numbers of byte offsets, without a scan from the start for each (a lock has
/// an entry per line or three).
struct Lines(Vec<usize>);

impl Lines {
    fn of(text: &str) -> Lines {
        Lines(text.match_indices('\n').map(|(i, _)| i).collect())
    }

    /// The 1-based line of `offset`.
    fn line(&self, offset: usize) -> usize {
        self.0.partition_point(|&n| n < offset) + 1
    }
}

/// How a launcher or test script names the Python its target runs on: the pinned
/// interpreter in the runfiles, else the host's `python3`.
pub fn program(ws: &crate::workspace::Workspace) -> String {
    match &ws.interpreter {
        Some(i) => format!("\"$RUNFILES_DIR/{}/{}\"", i.archive, i.path),
        None => "python3".to_string(),
    }
}

/// The file a py_binary starts from, in its runfiles: `_main/<pkg>/<name>.kiln-main.py`.
pub fn bootstrap_path(pkg: &str, name: &str) -> String {
    crate::analyze::main_path(pkg, &format!("{name}.kiln-main.py"))
}

/// The runfiles of a py_binary: its sources and data, its target deps' files, the
/// unpacked wheels of its locked distributions and of everything they need (their
/// `Requires-Dist`, markers evaluated for this interpreter, only what the lock pins),
/// and the bootstrap that puts exactly those on `sys.path` and starts it.
pub fn binary_files(
    label: &rules::Label,
    pkg: &crate::load::Package,
    name: &str,
    spec: &rules::PyBinarySpec,
    sources: &crate::analyze::Sources,
    cache: &crate::cache::Cache,
    done: &crate::analyze::Done,
) -> Result<crate::analyze::Files> {
    use crate::analyze::{FileRef, main_path, union};
    use rules::{Item, Label, PyStart};
    let graph = sources.graph;
    let srcs = sources.collect(label, pkg, &spec.srcs, false, done)?;
    let mut files = union(
        srcs.clone(),
        sources.collect(label, pkg, &spec.data, false, done)?,
    );
    let mut roots = import_roots(&pkg.name, spec);
    // A py_test's test files: `test_*.py` and `*_test.py` of its srcs, as modules of
    // an import root and as runfiles paths.
    let tests: Vec<(String, String)> = srcs
        .keys()
        .filter(|p| {
            let file = p.rsplit('/').next().unwrap_or("");
            file.ends_with(".py") && (file.starts_with("test_") || file.ends_with("_test.py"))
        })
        .filter_map(|p| {
            let root = roots.iter().find(|r| p.starts_with(&format!("{r}/")))?;
            let module = p[root.len() + 1..]
                .trim_end_matches(".py")
                .replace('/', ".");
            Some((module, p.clone()))
        })
        .collect();
    // The start must be one of its own sources: found at build time, not on a host.
    let start_found = match &spec.start {
        PyStart::Library => true,
        PyStart::Tests => !tests.is_empty(),
        PyStart::Main(path) => srcs.contains_key(&main_path(&pkg.name, path)),
        PyStart::Entry { module, .. } => {
            let m = module.replace('.', "/");
            roots.iter().any(|r| {
                srcs.contains_key(&format!("{r}/{m}.py"))
                    || srcs.contains_key(&format!("{r}/{m}/__init__.py"))
            })
        }
    };
    if !start_found {
        let (what, looked) = match &spec.start {
            PyStart::Library => unreachable!("a library has no start"),
            PyStart::Tests => (
                "has no test file (test_*.py or *_test.py)".to_string(),
                "srcs under its import roots".to_string(),
            ),
            PyStart::Main(path) => (format!("main {path:?}"), "srcs".to_string()),
            PyStart::Entry { module, .. } => (
                format!("entry module {module}"),
                format!(
                    "srcs under the import roots {}",
                    spec.imports
                        .iter()
                        .map(|i| if i.is_empty() { "." } else { i.as_str() })
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
        };
        let says = match spec.start {
            PyStart::Tests => format!("{label} {what} in its {looked}"),
            _ => format!("{label}: {what} is not in its {looked}"),
        };
        return Err(graph.error_at(
            pkg,
            spec.start_span.clone(),
            says,
            Some("add the file to srcs (a glob such as \"tools/**/*.py\"), or fix the name".into()),
        ));
    }
    // Locked distributions: the roots (this target's and those of the Python targets
    // it depends on), then their closure.
    let mut wanted: Vec<(String, String)> = Vec::new();
    python_deps(graph, label, spec, &mut roots, &mut wanted);
    for d in &spec.deps {
        let Item::Label { label: l, .. } = d else {
            continue;
        };
        if !matches!(l, Label::Archive { archive, .. } if archive.contains('+')) {
            files = union(
                files,
                sources.collect(label, pkg, std::slice::from_ref(d), false, done)?,
            );
        }
    }
    let mut dists: Vec<String> = Vec::new();
    let mut extra_roots: Vec<String> = Vec::new();
    while let Some((archive, needed_by)) = wanted.pop() {
        if dists.contains(&archive) {
            continue;
        }
        let (lock, dist) = archive.split_once('+').expect("a locked distribution");
        if !graph.ws.archives.contains_key(&archive) {
            return Err(hinted(
                Code::BadInput,
                format!(
                    "{needed_by} needs {dist}, which the lock {lock:?} does not pin for this interpreter"
                ),
                format!("add {dist} to the requirements of the lock {lock:?} and lock again"),
            ));
        }
        let item = Item::Label {
            label: Label::Archive {
                archive: archive.clone(),
                export: "files".into(),
            },
            span: 0..0,
        };
        let wheel = sources.collect(label, pkg, std::slice::from_ref(&item), false, done)?;
        // The lock's own dependency records, where it has them; else the wheel's
        // metadata (uv records none).
        let needs = match &graph.ws.archives[&archive].locked_deps {
            Some(names) => names
                .iter()
                .map(|n| rules::pylock::Requirement {
                    name: n.clone(),
                    marker: None,
                })
                .collect(),
            None => requirements(&wheel, &archive)?,
        };
        for r in needs {
            let holds = match &r.marker {
                Some(m) => {
                    let env = &graph.ws.python.as_ref().expect("locks have one").markers;
                    rules::pylock::marker_holds(m, env)
                        .map_err(|e| crate::error::bad_input(format!("{dist}: {e}")))?
                }
                None => true,
            };
            if holds {
                wanted.push((
                    format!("{lock}+{}", r.name),
                    format!("{dist} (for {label})"),
                ));
            }
        }
        // PEP 427: `{name}.data/purelib` and `platlib` install at the top level.
        for (p, _) in wheel.iter() {
            let mut parts = p.splitn(4, '/');
            if let (Some(a), Some(data), Some(lib @ ("purelib" | "platlib")), Some(_)) =
                (parts.next(), parts.next(), parts.next(), parts.next())
                && data.ends_with(".data")
            {
                let root = format!("{a}/{data}/{lib}");
                if !extra_roots.contains(&root) {
                    extra_roots.push(root);
                }
            }
        }
        files = union(files, wheel);
        dists.push(archive);
    }
    dists.extend(extra_roots);
    dists.sort();
    if matches!(spec.start, PyStart::Library) {
        return Ok(files);
    }
    let main = match &spec.start {
        PyStart::Main(path) => main_path(&pkg.name, path),
        PyStart::Entry { .. } | PyStart::Tests | PyStart::Library => String::new(),
    };
    let pytest = dists.iter().any(|d| d.ends_with("+pytest"));
    let boot = bootstrap(label, &spec.start, &main, &roots, &dists, &tests, pytest);
    let path = bootstrap_path(&pkg.name, name);
    if files.contains_key(&path) {
        return Err(graph.error_at(
            pkg,
            spec.start_span.clone(),
            format!("{label}: {path} is kiln's bootstrap, but a source has that name"),
            Some("rename the file".into()),
        ));
    }
    let (abs, digest) = cas_bytes(cache, boot.as_bytes())?;
    files.insert(
        path.clone(),
        FileRef::File {
            abs,
            size: boot.len() as u64,
            sha256: digest,
            executable: false,
        },
    );
    // A py_test's script, as its TestSpec names it.
    if matches!(spec.start, PyStart::Tests) {
        let script = format!(
            "#!/bin/sh\n# kiln test script for {label}\nexec {} -B -I -S \"$RUNFILES_DIR/{path}\" \"$@\"\n",
            program(&graph.ws)
        );
        let (abs, digest) = cas_bytes(cache, script.as_bytes())?;
        files.insert(
            main_path(&pkg.name, &format!("{name}.kiln-test.sh")),
            FileRef::File {
                abs,
                size: script.len() as u64,
                sha256: digest,
                executable: true,
            },
        );
    }
    Ok(files)
}

/// The `sys.path` roots of `spec`, a Python target of the package `pkg`, as runfiles paths.
fn import_roots(pkg: &str, spec: &rules::PyBinarySpec) -> Vec<String> {
    use crate::analyze::main_path;
    spec.imports
        .iter()
        .map(|i| {
            if i.is_empty() {
                main_path(pkg, "").trim_end_matches('/').to_string()
            } else {
                main_path(pkg, i)
            }
        })
        .collect()
}

/// What `spec` (the target `label`) and the Python targets below it in `deps`
/// (py_library, py_binary) bring: their import roots, added to `roots`, and their
/// locked distributions with who wants them, added to `wanted`. Their files come
/// through `deps` as any target's do.
fn python_deps(
    graph: &crate::load::Graph,
    label: &rules::Label,
    spec: &rules::PyBinarySpec,
    roots: &mut Vec<String>,
    wanted: &mut Vec<(String, String)>,
) {
    use rules::{Item, Label, TargetKind};
    let mut todo = vec![(label.clone(), spec)];
    let mut seen = vec![label.clone()];
    while let Some((at, spec)) = todo.pop() {
        for d in &spec.deps {
            let Item::Label { label: l, .. } = d else {
                continue;
            };
            match l {
                Label::Archive { archive, .. } if archive.contains('+') => {
                    wanted.push((archive.clone(), format!("{at}")));
                }
                Label::Target { .. } if !seen.contains(l) => {
                    if let Some((pkg, t)) = graph.target(l)
                        && let TargetKind::PyLibrary(s) | TargetKind::PyBinary(s) = &t.kind
                    {
                        for r in import_roots(&pkg.name, s) {
                            if !roots.contains(&r) {
                                roots.push(r);
                            }
                        }
                        seen.push(l.clone());
                        todo.push((l.clone(), s));
                    }
                }
                _ => {}
            }
        }
    }
}

/// `bytes` in the CAS: its path there and its digest.
fn cas_bytes(
    cache: &crate::cache::Cache,
    bytes: &[u8],
) -> Result<(std::path::PathBuf, release::Digest)> {
    let digest = release::Digest::of_bytes(bytes);
    let abs = cache.cas_path(&digest);
    if !abs.is_file() {
        let tmp = cache.tmp_path("py");
        fs_err::write(&tmp, bytes)?;
        cache.insert_file(&tmp, &digest)?;
    }
    Ok((abs, digest))
}

/// The `Requires-Dist` of the unpacked wheel `archive` (its `*.dist-info/METADATA`).
fn requirements(
    wheel: &crate::analyze::Files,
    archive: &str,
) -> Result<Vec<rules::pylock::Requirement>> {
    use crate::analyze::FileRef;
    let metadata = wheel.iter().find(|(p, _)| {
        p.strip_prefix(&format!("{archive}/")).is_some_and(|rel| {
            rel.split('/').count() == 2
                && rel.ends_with("/METADATA")
                && rel
                    .split('/')
                    .next()
                    .is_some_and(|d| d.ends_with(".dist-info"))
        })
    });
    let Some((_, FileRef::File { abs, .. })) = metadata else {
        return Err(hinted(
            Code::Failed,
            format!("@{archive}: the wheel has no *.dist-info/METADATA"),
            "the lock points at a file that is not a wheel; lock again",
        ));
    };
    // Only the headers, which end at the first empty line, and at most 1 MiB of them.
    use std::io::Read;
    let mut head = Vec::new();
    fs_err::File::open(abs)?
        .take(1 << 20)
        .read_to_end(&mut head)?;
    let text = String::from_utf8_lossy(&head);
    Ok(text
        .lines()
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.strip_prefix("Requires-Dist:"))
        .filter_map(|r| rules::pylock::parse_requirement(r.trim()))
        .collect())
}

/// The bootstrap: run with `python3 -I -S` (no user or system site-packages, no
/// `PYTHON*` variables), it puts the import roots and the wheels on `sys.path`, found
/// from `RUNFILES_DIR`, and starts the entry point or the main file (`main`: its path
/// in the runfiles).
fn bootstrap(
    label: &rules::Label,
    start: &rules::PyStart,
    main: &str,
    roots: &[String],
    dists: &[String],
    tests: &[(String, String)],
    pytest: bool,
) -> String {
    let paths: String = roots
        .iter()
        .chain(dists)
        .map(|p| format!("    {p:?},\n"))
        .collect();
    let start = match start {
        rules::PyStart::Entry { module, function } => {
            let (top, rest) = match function.split_once('.') {
                Some((t, r)) => (t, format!(".{r}")),
                None => (function.as_str(), String::new()),
            };
            // As an installed console script: argv[0] is the command's name.
            let name = match label {
                rules::Label::Target { name, .. } => name.as_str(),
                rules::Label::Archive { .. } => "",
            };
            format!(
                "sys.argv[0] = {name:?}\nfrom {module} import {top} as _entry\nsys.exit(_entry{rest}())\n"
            )
        }
        rules::PyStart::Tests if pytest => {
            let files: String = tests
                .iter()
                .map(|(_, p)| format!("os.path.join(_r, {p:?}), "))
                .collect();
            format!(
                "sys.dont_write_bytecode = True\nimport pytest\nsys.exit(pytest.main([\"-q\", \"-p\", \"no:cacheprovider\", {files}]))\n"
            )
        }
        rules::PyStart::Tests => {
            let modules: String = tests.iter().map(|(m, _)| format!("{m:?}, ")).collect();
            format!(
                "sys.dont_write_bytecode = True\nimport unittest\n_suite = unittest.TestSuite()\nfor _m in [{modules}]:\n    _suite.addTests(unittest.defaultTestLoader.loadTestsFromName(_m))\n_result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(_suite)\nsys.exit(0 if _result.wasSuccessful() and _result.testsRun else 1)\n"
            )
        }
        rules::PyStart::Library => unreachable!("a library has no bootstrap"),
        rules::PyStart::Main(_) => format!(
            "import runpy\nsys.argv[0] = os.path.join(_r, {main:?})\nrunpy.run_path(sys.argv[0], run_name=\"__main__\")\n"
        ),
    };
    format!(
        "# kiln bootstrap for {label}: run as python3 -B -I -S\nimport os, sys\n_r = os.environ[\"RUNFILES_DIR\"]\nsys.path[:0] = [os.path.join(_r, p) for p in [\n{paths}]]\n{start}"
    )
}
