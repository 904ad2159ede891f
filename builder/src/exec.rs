//! Actions that run a command: genrules and tests. Each has a key, the sha256 of a
//! canonical, versioned encoding of everything the command can see (command line,
//! every input file by digest, environment, declared outputs, sandbox version); the
//! action cache maps the key to the outputs' digests in the CAS, so a hit restores the
//! outputs without running anything. Tests are cached only when they pass.

use plumbing::fs::remove_tree;
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use release::Digest;
use rules::{GenruleSpec, Label, TestSpec};
use serde::{Deserialize, Serialize};

use crate::action::{ActionCache, Output, Record, Status};
use crate::analyze::{FileRef, Files, main_path};
use crate::cache::{Cache, hash_file};
use crate::error::{Code, Result, hinted};
use crate::load::Package;
use crate::outdir::{OutDir, in_package};
use crate::reapi::Shape;
use crate::remote::{Executed, ReapiCache, Remote};
use crate::sandbox::{self, Mode, Spec};

const LOG_TAIL_LINES: usize = 20;

pub struct Runner<'a> {
    pub cache: &'a Cache,
    pub remote: Option<&'a Remote>,
    pub mode: Mode,
    /// Where outputs and logs become visible: `kiln-out/`.
    pub out: &'a OutDir,
    /// SOURCE_DATE_EPOCH, passed to every command.
    pub epoch: u64,
    /// For `-v`: hits and misses.
    pub ui: crate::ui::Ui,
    /// Whether the sandbox was found to work: checked once, when the first action runs
    /// (a build where everything is cached never starts a process).
    pub probed: std::sync::Mutex<bool>,
}

#[derive(Serialize, Deserialize, Clone)]
pub struct OutputRecord {
    pub path: String,
    pub sha256: Digest,
    pub size: u64,
    pub executable: bool,
}

impl Record for ActionRecord {
    fn outputs(&self) -> Vec<Output> {
        self.outputs
            .iter()
            .map(|o| Output {
                name: o.path.clone(),
                sha256: o.sha256,
                size: o.size,
                executable: o.executable,
            })
            .collect()
    }

    fn from_outputs(outputs: Vec<Output>, sandbox: &str) -> ActionRecord {
        ActionRecord {
            sandbox: sandbox.to_string(),
            outputs: outputs
                .into_iter()
                .map(|o| OutputRecord {
                    path: o.name,
                    sha256: o.sha256,
                    size: o.size,
                    executable: o.executable,
                })
                .collect(),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct ActionRecord {
    /// Which sandbox produced this: results from `none` are never shared.
    sandbox: String,
    outputs: Vec<OutputRecord>,
}

/// Everything a command can observe, as the key sees it. Paths in `env` are as the
/// command sees them in the Linux sandbox (with `--sandbox=none` the scratch paths
/// differ per run; they are keyed as the sandbox's), so the same action always has
/// the same key and any change to what it sees changes it.
pub struct Action<'a> {
    pub kind: &'a str,
    pub sandbox: &'a str,
    pub argv: &'a [String],
    pub env: &'a BTreeMap<String, String>,
    /// Every input by runfiles path, with its role (`srcs`, `tools`, `data`).
    pub inputs: Vec<(&'a str, &'static str, &'a FileRef)>,
    pub outs: &'a [String],
    pub timeout: Duration,
}

/// The canonical form hashed into an action key. Field order is the encoding.
#[derive(Serialize)]
struct KeyDoc<'a> {
    version: u32,
    kind: &'a str,
    sandbox: &'a str,
    platform: String,
    argv: &'a [String],
    cwd: &'a str,
    env: &'a BTreeMap<String, String>,
    inputs: Vec<(&'a str, &'a str, String, bool)>,
    outs: &'a [String],
    timeout_ms: u128,
}

impl Action<'_> {
    pub fn key(&self) -> Digest {
        let doc = KeyDoc {
            version: 2,
            kind: self.kind,
            sandbox: self.sandbox,
            platform: format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS),
            argv: self.argv,
            cwd: "_main",
            env: self.env,
            inputs: self
                .inputs
                .iter()
                .map(|(p, role, f)| match f {
                    FileRef::File {
                        sha256, executable, ..
                    } => (*p, *role, sha256.hex(), *executable),
                    FileRef::Link { target } => (*p, *role, format!("-> {target}"), false),
                })
                .collect(),
            outs: self.outs,
            timeout_ms: self.timeout.as_millis(),
        };
        crate::action::key(&doc)
    }
}

/// The inputs of an action with their roles: `first`'s files under `first_role`, the
/// rest of `all` under `rest_role`.
fn with_roles<'a>(
    all: &'a Files,
    first: &'a Files,
    first_role: &'static str,
    rest_role: &'static str,
) -> Vec<(&'a str, &'static str, &'a FileRef)> {
    all.iter()
        .map(|(p, f)| {
            let role = if first.contains_key(p) {
                first_role
            } else {
                rest_role
            };
            (p.as_str(), role, f)
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestStatus {
    Passed,
    Failed,
    TimedOut,
}

pub struct TestResult {
    pub label: Label,
    pub status: TestStatus,
    pub cached: bool,
    pub elapsed: Duration,
    /// Relative to the workspace root.
    pub log: PathBuf,
    pub tail: String,
}

impl Runner<'_> {
    /// The action cache, local and remote.
    fn actions(&self) -> ActionCache<'_> {
        ActionCache {
            cache: self.cache,
            remote: self.remote,
            ui: self.ui,
        }
    }

    /// A record of this sandbox naming exactly the outputs `outs` declares, in order.
    fn lookup(
        &self,
        what: &str,
        key: &Digest,
        shape: Option<&Shape>,
        outs: &[String],
    ) -> Option<ActionRecord> {
        self.actions()
            .lookup(what, key, shape, |rec: &ActionRecord| {
                rec.sandbox == self.mode.key_name()
                    && rec.outputs.len() == outs.len()
                    && rec.outputs.iter().zip(outs).all(|(o, d)| o.path == *d)
            })
    }

    /// Record a result locally, and remotely when it came from the real sandbox.
    fn record(&self, key: &Digest, shape: Option<&Shape>, rec: &ActionRecord) -> Result<()> {
        self.actions()
            .record(key, rec, self.mode == Mode::Linux, shape)
    }

    /// The environment every command starts from, plus what the target declares.
    fn base_env(&self, declared: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        let mut env: BTreeMap<String, String> = [
            ("PATH", "/usr/bin:/bin"),
            ("HOME", "/tmp"),
            ("TMPDIR", "/tmp"),
            ("LANG", "C.UTF-8"),
            ("TZ", "UTC"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        env.insert("SOURCE_DATE_EPOCH".into(), self.epoch.to_string());
        env.extend(declared.clone());
        env
    }

    /// A genrule's whole environment, with the outputs and runfiles where `out_dir` and
    /// `runfiles_dir` say the command sees them.
    fn genrule_env(
        &self,
        g: &GenruleSpec,
        srcs: &Files,
        outs: &[String],
        out_dir: &Path,
        runfiles_dir: &Path,
    ) -> BTreeMap<String, String> {
        let mut env = self.base_env(&g.env);
        let srcs = srcs.keys().map(|p| relative_to_main(p));
        env.insert("SRCS".into(), srcs.collect::<Vec<_>>().join(" "));
        let outs = outs.iter().map(|o| out_dir.join(o).display().to_string());
        env.insert("OUTS".into(), outs.collect::<Vec<_>>().join(" "));
        env.insert("OUT_DIR".into(), out_dir.display().to_string());
        env.insert("RUNFILES_DIR".into(), runfiles_dir.display().to_string());
        env
    }

    /// A test's whole environment, with the runfiles where the command sees them.
    fn test_env(&self, t: &TestSpec, runfiles_dir: &Path) -> BTreeMap<String, String> {
        let mut env = self.base_env(&t.env);
        env.insert("RUNFILES_DIR".into(), runfiles_dir.display().to_string());
        env.insert("TEST_TMPDIR".into(), "/tmp".into());
        env
    }

    /// A fresh scratch directory with `runfiles/` laid out from `files`.
    fn scratch(&self, files: &Files) -> Result<PathBuf> {
        if self.mode == Mode::Linux {
            let mut probed = self.probed.lock().expect("not poisoned");
            if !*probed {
                crate::sandbox::probe()?;
                *probed = true;
            }
        }
        let dir = self.cache.tmp_path("sandbox");
        let runfiles = dir.join("runfiles");
        fs_err::create_dir_all(runfiles.join("_main"))?;
        fs_err::create_dir_all(dir.join("out"))?;
        for (rel, f) in files {
            let dest = runfiles.join(rel);
            fs_err::create_dir_all(dest.parent().expect("runfiles paths have a parent"))?;
            match f {
                FileRef::Link { target } => fs_err::os::unix::fs::symlink(target, &dest)?,
                FileRef::File {
                    abs, executable, ..
                } => {
                    // Every input shows the command exactly 0444 or 0555, as the key
                    // says (`executable`), whatever its mode on disk. In the Linux sandbox
                    // inputs are read-only mounts, so a hard link is safe where the file
                    // already has that mode (CAS blobs, extracted trees); otherwise, and
                    // always without the sandbox, the command gets a copy.
                    let mode = if *executable { 0o555 } else { 0o444 };
                    let same_mode = fs_err::metadata(abs)
                        .is_ok_and(|m| m.permissions().mode() & 0o7777 == mode);
                    let linked = self.mode == Mode::Linux
                        && same_mode
                        && fs_err::hard_link(abs, &dest).is_ok();
                    if !linked {
                        fs_err::copy(abs, &dest)?;
                        fs_err::set_permissions(&dest, std::fs::Permissions::from_mode(mode))?;
                    }
                }
            }
        }
        Ok(dir)
    }

    fn spec(
        &self,
        scratch: &Path,
        argv: Vec<String>,
        env: BTreeMap<String, String>,
        with_out: bool,
    ) -> Spec {
        let runfiles = scratch.join("runfiles");
        Spec {
            scratch: scratch.to_path_buf(),
            cwd: self.mode.runfiles_dir(&runfiles).join("_main"),
            runfiles,
            out: with_out.then(|| scratch.join("out")),
            argv,
            env: env.into_iter().collect(),
            parent: std::process::id(),
        }
    }
}

/// Genrules: look the action up, else run it in the sandbox and collect its outputs.
impl Runner<'_> {
    /// Run a genrule (or take it from the cache). Returns its outputs as runfiles.
    pub fn genrule(
        &self,
        label: &Label,
        pkg: &Package,
        g: &GenruleSpec,
        srcs: &Files,
        inputs: &Files,
    ) -> Result<(Files, Status, Duration)> {
        let outs: Vec<String> = g.outs.iter().map(|(o, _)| o.clone()).collect();
        let argv = vec!["/bin/sh".to_string(), "-c".to_string(), g.cmd.clone()];
        let env = self.genrule_env(
            g,
            srcs,
            &outs,
            Path::new(sandbox::OUT),
            Path::new(sandbox::RUNFILES),
        );
        let key = Action {
            kind: "genrule",
            sandbox: self.mode.key_name(),
            argv: &argv,
            env: &env,
            inputs: with_roles(inputs, srcs, "srcs", "tools"),
            outs: &outs,
            timeout: g.timeout,
        }
        .key();
        let shape = self.actions().shape(|| {
            Shape::command(
                self.mode.key_name(),
                &argv,
                &env,
                inputs,
                &outs,
                false,
                g.timeout,
            )
        });
        let what = format!("genrule {label}");
        let (record, mut status, took) = match self.lookup(&what, &key, shape.as_ref(), &outs) {
            Some(r) => (r, Status::UpToDate, Duration::ZERO),
            None => {
                let remote = match (self.executor(), &shape) {
                    (Some(server), Some(shape)) => server
                        .execute(self.cache, &what, shape)?
                        .map(|ran| (server, shape, ran)),
                    _ => None,
                };
                let (r, took) = match remote {
                    Some((server, shape, ran)) => {
                        self.genrule_remote(label, g, &key, shape, server, ran)?
                    }
                    None => {
                        let scratch = self.scratch(inputs)?;
                        let result = self.run_genrule(label, g, &outs, srcs, &argv, &scratch);
                        let _ = remove_tree(&scratch);
                        let (r, took) = result?;
                        self.record(&key, shape.as_ref(), &r)?;
                        (r, took)
                    }
                };
                (r, Status::Built, took)
            }
        };
        let mut files = Files::new();
        for o in &record.outputs {
            let blob = self.cache.cas_path(&o.sha256);
            if self.out.place(&blob, &in_package(&pkg.name, &o.path))? && status == Status::UpToDate
            {
                status = Status::Cached;
            }
            files.insert(
                main_path(&pkg.name, &o.path),
                FileRef::File {
                    abs: blob,
                    size: o.size,
                    sha256: o.sha256,
                    executable: o.executable,
                },
            );
        }
        Ok((files, status, took))
    }

    fn run_genrule(
        &self,
        label: &Label,
        g: &GenruleSpec,
        outs: &[String],
        srcs: &Files,
        argv: &[String],
        scratch: &Path,
    ) -> Result<(ActionRecord, Duration)> {
        let env = self.genrule_env(
            g,
            srcs,
            outs,
            &self.mode.out_dir(&scratch.join("out")),
            &self.mode.runfiles_dir(&scratch.join("runfiles")),
        );
        for o in outs {
            if let Some(parent) = Path::new(o).parent() {
                fs_err::create_dir_all(scratch.join("out").join(parent))?;
            }
        }
        let spec = self.spec(scratch, argv.to_vec(), env, true);
        let log = scratch.join("log");
        let outcome = sandbox::run(self.mode, &spec, &log, g.timeout)?;
        cancelled()?;
        self.genrule_exit(label, g, &log, outcome.timed_out, outcome.code)?;
        let record = self.collect_outputs(label, outs, &scratch.join("out"))?;
        Ok((record, outcome.elapsed))
    }

    /// A genrule that timed out or exited non-zero (here or on a remote worker) is an
    /// error naming the last lines of its log, which is kept in kiln-out/logs.
    fn genrule_exit(
        &self,
        label: &Label,
        g: &GenruleSpec,
        log: &Path,
        timed_out: bool,
        code: i32,
    ) -> Result<()> {
        if timed_out || code != 0 {
            self.keep_failure_log(label, log)?;
        }
        if timed_out {
            return Err(hinted(
                Code::Failed,
                format!(
                    "genrule {label} timed out after {}; its whole process tree was killed{}",
                    human(g.timeout),
                    tail_block(log)
                ),
                "raise `timeout` on the target if it needs longer",
            ));
        }
        if code != 0 {
            return Err(hinted(
                Code::Failed,
                format!(
                    "genrule {label} failed with exit code {code}{}",
                    tail_block(log)
                ),
                "the command runs in the sandbox: it sees only its srcs and tools, a private /tmp, no network and a clean environment (see docs/sandbox.md)",
            ));
        }
        Ok(())
    }

    /// A genrule's result from the remote executor, checked as a local run is, and
    /// kept in the local cache as the server's.
    fn genrule_remote(
        &self,
        label: &Label,
        g: &GenruleSpec,
        key: &Digest,
        shape: &Shape,
        server: &ReapiCache,
        ran: Executed,
    ) -> Result<(ActionRecord, Duration)> {
        let log = self.remote_log(&ran)?;
        self.genrule_exit(label, g, &log, ran.timed_out, ran.result.exit_code)?;
        let Some(outputs) = shape.outputs_of(&ran.result) else {
            let missing: Vec<&str> = shape
                .outputs
                .iter()
                .filter(|(_, place)| match place {
                    crate::reapi::shape::Place::File(p) => {
                        !ran.result.output_files.iter().any(|f| f.path == *p)
                    }
                    crate::reapi::shape::Place::Stdout => false,
                })
                .map(|(name, _)| name.as_str())
                .collect();
            return Err(hinted(
                Code::Failed,
                format!(
                    "genrule {label} did not create its declared output(s): {}",
                    missing.join(", ")
                ),
                "write each output to its path in $OUTS (or under $OUT_DIR)",
            ));
        };
        let rec = ActionRecord::from_outputs(outputs, &shape.sandbox);
        let outs: Vec<String> = g.outs.iter().map(|(o, _)| o.clone()).collect();
        let rec = self
            .actions()
            .keep_from_server(server, key, rec, |r: &ActionRecord| {
                r.outputs.iter().map(|o| &o.path).eq(outs.iter())
            })
            .ok_or_else(|| anyhow::anyhow!("the outputs of genrule {label} from the remote executor are not all in the local cache"))?;
        Ok((rec, ran.elapsed))
    }

    /// A remote run's log in the CAS (an empty one when the worker sent none).
    fn remote_log(&self, ran: &Executed) -> Result<PathBuf> {
        if let Some(log) = &ran.log {
            return Ok(log.clone());
        }
        let empty = Digest::of_bytes(b"");
        let path = self.cache.cas_path(&empty);
        if !path.is_file() {
            let tmp = self.cache.tmp_path("log");
            fs_err::write(&tmp, b"")?;
            self.cache.insert_output(&tmp, &empty)?;
        }
        Ok(path)
    }

    /// The REAPI server that runs cache misses, if this build has one.
    fn executor(&self) -> Option<&ReapiCache> {
        match self.remote {
            Some(Remote::Reapi(r)) if r.executes() => Some(r),
            _ => None,
        }
    }

    /// Keep a failed genrule's whole log at `kiln-out/logs/<package>/<name>.log`.
    fn keep_failure_log(&self, label: &Label, log: &Path) -> Result<()> {
        let Label::Target { package, name } = label else {
            return Ok(());
        };
        self.out.copy_in(
            log,
            &in_package(&format!("logs/{package}"), &format!("{name}.log")),
        )
    }

    /// Check the outputs directory holds exactly the declared outputs; move them into
    /// the CAS.
    fn collect_outputs(&self, label: &Label, outs: &[String], dir: &Path) -> Result<ActionRecord> {
        let found = collect(self.cache, dir, outs)
            .map_err(|e| anyhow::anyhow!("reading outputs of {label}: {e}"))?;
        if !found.undeclared.is_empty() {
            return Err(hinted(
                Code::Failed,
                format!(
                    "genrule {label} wrote undeclared output(s): {}",
                    found.undeclared.join(", ")
                ),
                "list every file the command writes in outs, or write scratch files to /tmp",
            ));
        }
        if !found.missing.is_empty() {
            return Err(hinted(
                Code::Failed,
                format!(
                    "genrule {label} did not create its declared output(s): {}",
                    found.missing.join(", ")
                ),
                "write each output to its path in $OUTS (or under $OUT_DIR)",
            ));
        }
        Ok(ActionRecord {
            sandbox: self.mode.key_name().to_string(),
            outputs: found.outputs,
        })
    }
}

/// What a command left in its outputs directory.
pub struct Collected {
    /// The declared outputs it wrote, in the CAS (only when nothing is undeclared).
    pub outputs: Vec<OutputRecord>,
    /// Everything else it left there that is not a directory, or not a regular file.
    pub undeclared: Vec<String>,
    pub missing: Vec<String>,
}

/// Walk `dir` (a finished command's outputs, here or on a remote worker) for the
/// declared `outs`, never deeper than the deepest of them: a tree deeper than that holds
/// nothing declared, however deep it goes.
pub fn collect(cache: &Cache, dir: &Path, outs: &[String]) -> Result<Collected> {
    let deepest = outs
        .iter()
        .map(|o| Path::new(o).components().count())
        .max()
        .unwrap_or(0);
    let mut found = BTreeSet::new();
    let mut undeclared = Vec::new();
    for entry in walkdir::WalkDir::new(dir)
        .min_depth(1)
        .max_depth(deepest + 1)
    {
        let entry = entry.map_err(|e| anyhow::anyhow!("{e}"))?;
        let rel = entry
            .path()
            .strip_prefix(dir)
            .expect("below dir")
            .to_string_lossy()
            .into_owned();
        let ft = entry.file_type();
        if ft.is_dir() {
            let below = entry.depth() > deepest
                && fs_err::read_dir(entry.path()).is_ok_and(|mut d| d.next().is_some());
            if below {
                undeclared.push(format!("{rel}/ (a tree below every declared output)"));
            }
            continue;
        }
        if !ft.is_file() {
            undeclared.push(format!("{rel} (not a regular file)"));
        } else if !outs.contains(&rel) {
            undeclared.push(rel);
        } else {
            found.insert(rel);
        }
    }
    let missing: Vec<String> = outs
        .iter()
        .filter(|o| !found.contains(*o))
        .cloned()
        .collect();
    let mut outputs = Vec::new();
    if undeclared.is_empty() {
        for o in outs.iter().filter(|o| found.contains(*o)) {
            let path = dir.join(o);
            let executable = fs_err::symlink_metadata(&path)?.permissions().mode() & 0o111 != 0;
            let (size, sha256) = hash_file(&path)?;
            // Replace a blob a power cut left short.
            if !fs_err::metadata(cache.cas_path(&sha256)).is_ok_and(|m| m.len() == size) {
                cache.insert_output(&path, &sha256)?;
            }
            outputs.push(OutputRecord {
                path: o.clone(),
                sha256,
                size,
                executable,
            });
        }
    }
    Ok(Collected {
        outputs,
        undeclared,
        missing,
    })
}

/// Tests: run once per key; a passing result is cached, a failing one never is.
impl Runner<'_> {
    /// Run a test (or take its earlier pass from the cache).
    pub fn test(
        &self,
        label: &Label,
        pkg: &Package,
        t: &TestSpec,
        runfiles: &Files,
    ) -> Result<TestResult> {
        let script = match &t.src {
            rules::Item::Source { path, .. } => main_path(&pkg.name, path),
            rules::Item::Label { .. } => unreachable!("rules allow only a source"),
        };
        let in_sandbox = Path::new(sandbox::RUNFILES);
        let argv = [in_sandbox.join(&script).display().to_string()];
        let env = self.test_env(t, in_sandbox);
        let key = Action {
            kind: "test",
            sandbox: self.mode.key_name(),
            argv: &argv,
            env: &env,
            inputs: with_roles(runfiles, runfiles, "data", "data"),
            outs: &[],
            timeout: t.timeout,
        }
        .key();
        let shape = self.actions().shape(|| {
            Shape::command(
                self.mode.key_name(),
                &argv,
                &env,
                runfiles,
                &[],
                true,
                t.timeout,
            )
        });
        let name = match label {
            Label::Target { name, .. } => name.as_str(),
            Label::Archive { .. } => unreachable!("tests are targets"),
        };
        let log_in_out = in_package(
            &format!("testlogs/{}", pkg.name),
            &format!("{name}/test.log"),
        );
        let log_rel = OutDir::display(&log_in_out);
        if let Some(rec) = self.lookup(
            &format!("test {label}"),
            &key,
            shape.as_ref(),
            &["test.log".to_string()],
        ) && let Some(log) = rec.outputs.first()
        {
            self.out
                .place(&self.cache.cas_path(&log.sha256), &log_in_out)?;
            return Ok(TestResult {
                label: label.clone(),
                status: TestStatus::Passed,
                cached: true,
                elapsed: Duration::ZERO,
                log: log_rel,
                tail: String::new(),
            });
        }
        if let (Some(server), Some(shape)) = (self.executor(), &shape)
            && let Some(ran) = server.execute(self.cache, &format!("test {label}"), shape)?
        {
            let log = self.remote_log(&ran)?;
            self.out.place(&log, &log_in_out)?;
            let status = if ran.timed_out {
                TestStatus::TimedOut
            } else if ran.result.exit_code == 0 {
                TestStatus::Passed
            } else {
                TestStatus::Failed
            };
            if status == TestStatus::Passed
                && let Some(outputs) = shape.outputs_of(&ran.result)
            {
                let rec = ActionRecord::from_outputs(outputs, &shape.sandbox);
                self.actions()
                    .keep_from_server(server, &key, rec, |_: &ActionRecord| true);
            }
            return Ok(TestResult {
                label: label.clone(),
                status,
                cached: false,
                elapsed: ran.elapsed,
                log: log_rel,
                tail: tail(&log),
            });
        }
        let scratch = self.scratch(runfiles)?;
        let result = (|| {
            let runfiles_dir = self.mode.runfiles_dir(&scratch.join("runfiles"));
            let env = self.test_env(t, &runfiles_dir);
            let argv = vec![runfiles_dir.join(&script).display().to_string()];
            let spec = self.spec(&scratch, argv, env, false);
            let log = scratch.join("log");
            let outcome = sandbox::run(self.mode, &spec, &log, t.timeout)?;
            cancelled()?;
            let status = if outcome.timed_out {
                use std::io::Write;
                let _ = fs_err::OpenOptions::new()
                    .append(true)
                    .open(&log)
                    .and_then(|mut f| {
                        writeln!(
                            f,
                            "kiln: timed out after {}; the test's process tree was killed",
                            human(t.timeout)
                        )
                    });
                TestStatus::TimedOut
            } else if outcome.code == 0 {
                TestStatus::Passed
            } else {
                TestStatus::Failed
            };
            let (size, sha256) = hash_file(&log)?;
            self.cache.insert_output(&log, &sha256)?;
            self.out.place(&self.cache.cas_path(&sha256), &log_in_out)?;
            if status == TestStatus::Passed {
                let rec = ActionRecord {
                    sandbox: self.mode.key_name().to_string(),
                    outputs: vec![OutputRecord {
                        path: "test.log".into(),
                        sha256,
                        size,
                        executable: false,
                    }],
                };
                self.record(&key, shape.as_ref(), &rec)?;
            }
            Ok(TestResult {
                label: label.clone(),
                status,
                cached: false,
                elapsed: outcome.elapsed,
                log: log_rel.clone(),
                tail: tail(&self.cache.cas_path(&sha256)),
            })
        })();
        let _ = remove_tree(&scratch);
        result
    }
}

fn cancelled() -> Result<()> {
    if sandbox::CANCELLED.load(std::sync::atomic::Ordering::Relaxed) {
        return Err(hinted(
            Code::Failed,
            "interrupted",
            "nothing partial was kept",
        ));
    }
    Ok(())
}

/// `_main/p/f` → `p/f`; `greet/x` → `../greet/x`: paths as seen from the command's
/// working directory, `_main`.
fn relative_to_main(p: &str) -> String {
    match p.strip_prefix("_main/") {
        Some(rest) => rest.to_string(),
        None => format!("../{p}"),
    }
}

fn human(d: Duration) -> String {
    if d.as_millis().is_multiple_of(1000) {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// The last lines of a log, indented, only `plumbing::style::printable` characters (a
/// command's or a remote server's escapes and bidi overrides never reach the terminal).
pub fn tail(log: &Path) -> String {
    let text = fs_err::read(log).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(LOG_TAIL_LINES);
    lines[start..]
        .iter()
        .map(|l| {
            let l = plumbing::style::printable_text(l, usize::MAX);
            format!("  | {l}\n")
        })
        .collect()
}

fn tail_block(log: &Path) -> String {
    let t = tail(log);
    if t.is_empty() {
        "; it printed nothing".to_string()
    } else {
        format!(
            "; the last lines it printed (all of them in kiln-out/logs/):\n{}",
            t.trim_end()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every field the command can observe changes the key: one change at a time.
    #[test]
    // Long: one case per observable field, each a line or two; a table reads best whole.
    fn every_observable_field_is_in_the_key() {
        let file = |b: &[u8], executable| FileRef::File {
            abs: PathBuf::from("/x"),
            size: b.len() as u64,
            sha256: Digest::of_bytes(b),
            executable,
        };
        let (a, b, a2, a_exec) = (
            file(b"a", false),
            file(b"b", false),
            file(b"A", false),
            file(b"a", true),
        );
        let link = FileRef::Link { target: "a".into() };
        let argv = vec!["/bin/sh".to_string(), "-c".into(), "cat $SRCS".into()];
        let env: BTreeMap<String, String> = [("SOURCE_DATE_EPOCH", "0"), ("SRCS", "p/a")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let outs = vec!["out.txt".to_string()];
        let base = || Action {
            kind: "genrule",
            sandbox: "linux-v1",
            argv: &argv,
            env: &env,
            inputs: vec![("_main/p/a", "srcs", &a), ("_main/p/b", "tools", &b)],
            outs: &outs,
            timeout: Duration::from_secs(600),
        };
        let argv2 = vec!["/bin/sh".to_string(), "-c".into(), "cat $SRCS ".into()];
        let env_with = |k: &str, v: &str| {
            let mut e = env.clone();
            e.insert(k.into(), v.into());
            e
        };
        let (epoch, srcs, extra) = (
            env_with("SOURCE_DATE_EPOCH", "1"),
            env_with("SRCS", "p/a p/b"),
            env_with("GREETING", "hi"),
        );
        let outs2 = vec!["out2.txt".to_string()];
        let outs3 = vec!["out.txt".to_string(), "more.txt".to_string()];
        let cases: Vec<(&str, Action)> = vec![
            (
                "rule kind",
                Action {
                    kind: "test",
                    ..base()
                },
            ),
            (
                "sandbox and its version",
                Action {
                    sandbox: "linux-v2",
                    ..base()
                },
            ),
            (
                "no sandbox",
                Action {
                    sandbox: "none",
                    ..base()
                },
            ),
            (
                "command",
                Action {
                    argv: &argv2,
                    ..base()
                },
            ),
            (
                "SOURCE_DATE_EPOCH",
                Action {
                    env: &epoch,
                    ..base()
                },
            ),
            (
                "$SRCS",
                Action {
                    env: &srcs,
                    ..base()
                },
            ),
            (
                "a declared variable",
                Action {
                    env: &extra,
                    ..base()
                },
            ),
            (
                "an input's content",
                Action {
                    inputs: vec![("_main/p/a", "srcs", &a2), ("_main/p/b", "tools", &b)],
                    ..base()
                },
            ),
            (
                "an input's mode",
                Action {
                    inputs: vec![("_main/p/a", "srcs", &a_exec), ("_main/p/b", "tools", &b)],
                    ..base()
                },
            ),
            (
                "an input's path",
                Action {
                    inputs: vec![("_main/p/c", "srcs", &a), ("_main/p/b", "tools", &b)],
                    ..base()
                },
            ),
            (
                "an input's role",
                Action {
                    inputs: vec![("_main/p/a", "srcs", &a), ("_main/p/b", "srcs", &b)],
                    ..base()
                },
            ),
            (
                "a file become a link",
                Action {
                    inputs: vec![("_main/p/a", "srcs", &link), ("_main/p/b", "tools", &b)],
                    ..base()
                },
            ),
            (
                "an input more",
                Action {
                    inputs: vec![
                        ("_main/p/a", "srcs", &a),
                        ("_main/p/b", "tools", &b),
                        ("_main/p/c", "data", &b),
                    ],
                    ..base()
                },
            ),
            (
                "an input less",
                Action {
                    inputs: vec![("_main/p/a", "srcs", &a)],
                    ..base()
                },
            ),
            (
                "an output's name",
                Action {
                    outs: &outs2,
                    ..base()
                },
            ),
            (
                "an output more",
                Action {
                    outs: &outs3,
                    ..base()
                },
            ),
            (
                "the timeout",
                Action {
                    timeout: Duration::from_secs(601),
                    ..base()
                },
            ),
        ];
        let key = base().key();
        assert_eq!(key, base().key(), "the key is a function of the action");
        let mut seen = BTreeSet::new();
        seen.insert(key);
        for (what, action) in &cases {
            assert!(
                seen.insert(action.key()),
                "changing {what} left the key as it was"
            );
        }
    }
}
