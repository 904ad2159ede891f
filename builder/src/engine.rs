//! One build: expand patterns, fetch and extract the archives the targets use, then
//! evaluate every target in dependency order on `-j` worker threads: filegroups and
//! wrappers collect files, genrules and tests run in the sandbox, bundles are packed.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use indicatif::ProgressBar;
use release::Input;
use rules::{Label, TargetKind};

use crate::analyze::{Done, Files, Sources, union};
use crate::bundle::{Built, BundleCtx, Status, build_bundle};
use crate::cache::Cache;
use crate::error::{Result, bad_input};
use crate::exec::{Runner, TestResult};
use crate::fetch::{FetchOptions, Fetcher};
use crate::load::Graph;
use crate::outdir::OutDir;
use crate::sandbox::Mode;
use crate::trees::{Tree, ensure_tree};
use crate::ui::Ui;

pub struct Session {
    pub graph: Graph,
    pub cache: Cache,
    pub ui: Ui,
    pub fetch: FetchOptions,
    pub jobs: usize,
    pub sandbox: Mode,
    pub remote: Option<crate::remote::Remote>,
}

/// What a build produced.
#[derive(Default)]
pub struct Outcome {
    pub bundles: Vec<Built>,
    pub tests: Vec<TestResult>,
    pub counts: Counts,
}

/// What it took to have the actions: run, taken from a cache, already up to date.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct Counts {
    pub ran: usize,
    pub cached: usize,
    pub up_to_date: usize,
}

/// Shared scheduler state: which targets wait on how many unfinished dependencies.
struct Sched {
    waiting: HashMap<Label, usize>,
    ready: VecDeque<Label>,
    done: Done,
    running: usize,
    failed: Option<anyhow::Error>,
    outcome: Outcome,
    /// Actions (genrules, tests, bundles) finished, for the status line.
    actions_done: usize,
    /// Genrules and bundles by what it took to have them.
    statuses: Vec<Status>,
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

    /// Build what the patterns name. Tests among them are run only when `run_tests`.
    pub fn build(&self, patterns: &[String], run_tests: bool) -> Result<Outcome> {
        let labels = self.graph.expand(patterns)?;
        self.run(&labels, run_tests)
    }

    pub fn run(&self, roots: &[Label], run_tests: bool) -> Result<Outcome> {
        let (closure, archives) = self.graph.closure(roots);
        let trees = self.trees(&archives)?;
        let nodes: Vec<Label> = closure
            .into_iter()
            .filter(|l| matches!(l, Label::Target { .. }))
            .collect();
        let out = OutDir::open(&self.graph.ws.root)?;
        let sources = Sources::new(&self.graph, &trees, &out);
        let runner = Runner {
            cache: &self.cache,
            remote: self.remote.as_ref(),
            mode: self.sandbox,
            out: &out,
            epoch: source_date_epoch()?,
            ui: self.ui,
            probed: Mutex::new(false),
        };
        let bundle_ctx = BundleCtx {
            cache: &self.cache,
            remote: self.remote.as_ref(),
            graph: &self.graph,
            out: &out,
            mtime: runner.epoch,
            ui: self.ui,
        };

        let mut rdeps: HashMap<Label, Vec<Label>> = HashMap::new();
        let mut waiting = HashMap::new();
        let mut ready = VecDeque::new();
        let mut total_actions = 0;
        for l in &nodes {
            let (_, t) = self.graph.target(l).expect("resolved");
            if is_action(&t.kind, run_tests) {
                total_actions += 1;
            }
            let deps: Vec<&Label> = self
                .graph
                .deps(t)
                .into_iter()
                .map(|(d, _)| d)
                .filter(|d| matches!(d, Label::Target { .. }))
                .collect();
            for d in &deps {
                rdeps.entry((*d).clone()).or_default().push(l.clone());
            }
            let mut unique = deps.clone();
            unique.sort();
            unique.dedup();
            if unique.is_empty() {
                ready.push_back(l.clone());
            } else {
                waiting.insert(l.clone(), unique.len());
            }
        }
        let state = Mutex::new(Sched {
            waiting,
            ready,
            done: Done::new(),
            running: 0,
            failed: None,
            outcome: Outcome::default(),
            actions_done: 0,
            statuses: Vec::new(),
        });
        let wake = Condvar::new();
        let bar = self.ui.status_bar(total_actions);
        let workers = self.jobs.clamp(1, nodes.len().max(1));
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    self.worker(
                        &state,
                        &wake,
                        &rdeps,
                        &sources,
                        &runner,
                        &bundle_ctx,
                        run_tests,
                        total_actions,
                        &bar,
                    )
                });
            }
        });
        bar.finish_and_clear();
        sources.save();
        let state = state.into_inner().expect("workers do not panic");
        if let Some(e) = state.failed {
            return Err(e);
        }
        if crate::sandbox::CANCELLED.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(crate::error::failed("interrupted"));
        }
        let mut outcome = state.outcome;
        outcome.bundles.sort_by(|a, b| a.label.cmp(&b.label));
        outcome.tests.sort_by(|a, b| a.label.cmp(&b.label));
        let count = |s| state.statuses.iter().filter(|x| **x == s).count();
        // Tests count too: a run that ran tests did something.
        let tests_ran = outcome.tests.iter().filter(|t| !t.cached).count();
        let tests_cached = outcome.tests.len() - tests_ran;
        let (ran, cached, fresh) = (
            count(Status::Built) + tests_ran,
            count(Status::Cached) + tests_cached,
            count(Status::UpToDate),
        );
        outcome.counts = Counts {
            ran,
            cached,
            up_to_date: fresh,
        };
        if ran + cached == 0 {
            self.ui.status(format!(
                "kiln: {} target(s), {fresh} up to date, nothing to do",
                roots.len()
            ));
        } else {
            self.ui.status(format!(
                "kiln: {} target(s): {ran} action(s) run, {cached} from cache, {fresh} up to date",
                roots.len()
            ));
        }
        Ok(outcome)
    }

    #[allow(clippy::too_many_arguments)]
    fn worker(
        &self,
        state: &Mutex<Sched>,
        wake: &Condvar,
        rdeps: &HashMap<Label, Vec<Label>>,
        sources: &Sources,
        runner: &Runner,
        bundle_ctx: &BundleCtx,
        run_tests: bool,
        total_actions: usize,
        bar: &ProgressBar,
    ) {
        loop {
            let (label, deps) = {
                let mut st = state.lock().expect("not poisoned");
                loop {
                    let stop = st.failed.is_some()
                        || crate::sandbox::CANCELLED.load(std::sync::atomic::Ordering::Relaxed);
                    if stop || (st.ready.is_empty() && st.running == 0) {
                        wake.notify_all();
                        return;
                    }
                    if let Some(l) = st.ready.pop_front() {
                        st.running += 1;
                        // Only the finished dependencies this target needs.
                        let (_, t) = self.graph.target(&l).expect("resolved");
                        let deps: Done = self
                            .graph
                            .deps(t)
                            .into_iter()
                            .filter_map(|(d, _)| st.done.get(d).map(|f| (d.clone(), f.clone())))
                            .collect();
                        break (l, deps);
                    }
                    st = wake.wait(st).expect("not poisoned");
                }
            };
            let (_, t) = self.graph.target(&label).expect("resolved");
            if is_action(&t.kind, run_tests) {
                bar.set_message(format!("{} {label}", t.kind.name()));
            }
            let result = self.evaluate(&label, sources, runner, bundle_ctx, &deps, run_tests);
            let mut st = state.lock().expect("not poisoned");
            st.running -= 1;
            match result {
                Ok((files, product)) => {
                    st.done.insert(label.clone(), Arc::new(files));
                    for r in rdeps.get(&label).into_iter().flatten() {
                        let left = st.waiting.get_mut(r).expect("waiting on us");
                        *left -= 1;
                        if *left == 0 {
                            st.waiting.remove(r);
                            st.ready.push_back(r.clone());
                        }
                    }
                    if is_action(&t.kind, run_tests) {
                        st.actions_done += 1;
                        let n = st.actions_done;
                        bar.set_position(n as u64);
                        if let Some(line) = product.line(t.kind.name(), &label) {
                            self.ui
                                .progress_line(bar, format!("[{n}/{total_actions}] {line}"));
                        }
                    }
                    match product {
                        Product::Bundle(b) => {
                            st.statuses.push(b.status);
                            st.outcome.bundles.push(b);
                        }
                        Product::Test(r) => st.outcome.tests.push(r),
                        Product::Genrule(status, _) => st.statuses.push(status),
                        Product::Nothing => {}
                    }
                }
                Err(e) => {
                    if st.failed.is_none() {
                        st.failed = Some(e);
                    }
                }
            }
            wake.notify_all();
        }
    }

    fn evaluate(
        &self,
        label: &Label,
        sources: &Sources,
        runner: &Runner,
        bundle_ctx: &BundleCtx,
        done: &Done,
        run_tests: bool,
    ) -> Result<(Files, Product)> {
        let (pkg, t) = self.graph.target(label).expect("resolved");
        Ok(match &t.kind {
            TargetKind::Filegroup { srcs } => (
                sources.collect(label, pkg, srcs, false, done)?,
                Product::Nothing,
            ),
            TargetKind::Wrapper { src, data } => {
                let files = union(
                    sources.collect(label, pkg, [src], true, done)?,
                    sources.collect(label, pkg, data, false, done)?,
                );
                (files, Product::Nothing)
            }
            TargetKind::Genrule(g) => {
                let srcs = sources.collect(label, pkg, &g.srcs, false, done)?;
                let inputs = union(
                    srcs.clone(),
                    sources.collect(label, pkg, &g.tools, false, done)?,
                );
                let (outs, status, took) = runner.genrule(label, pkg, g, &srcs, &inputs)?;
                (outs, Product::Genrule(status, took))
            }
            TargetKind::Test(spec) => {
                let runfiles = union(
                    sources.collect(label, pkg, [&spec.src], true, done)?,
                    sources.collect(label, pkg, &spec.data, false, done)?,
                );
                if !run_tests {
                    return Ok((runfiles, Product::Nothing));
                }
                let r = runner.test(label, pkg, spec, &runfiles)?;
                (runfiles, Product::Test(r))
            }
            TargetKind::PyBinary(spec) | TargetKind::PyLibrary(spec) => (
                crate::python::binary_files(
                    label,
                    pkg,
                    &t.name,
                    spec,
                    sources,
                    runner.cache,
                    done,
                )?,
                Product::Nothing,
            ),
            TargetKind::PyScripts(_) => unreachable!("the loader expands py_scripts"),
            TargetKind::PyTest(spec, test) => {
                let runfiles = crate::python::binary_files(
                    label,
                    pkg,
                    &t.name,
                    spec,
                    sources,
                    runner.cache,
                    done,
                )?;
                if !run_tests {
                    return Ok((runfiles, Product::Nothing));
                }
                let r = runner.test(label, pkg, test, &runfiles)?;
                (runfiles, Product::Test(r))
            }
            TargetKind::Bundle(spec) => {
                let files = sources.collect(
                    label,
                    pkg,
                    spec.binaries.iter().chain(&spec.data),
                    false,
                    done,
                )?;
                let (_, used) = self.graph.closure(std::slice::from_ref(label));
                let inputs = used
                    .iter()
                    .map(|n| Input {
                        name: n.clone(),
                        sha256: self.graph.ws.archives[n].sha256,
                    })
                    .collect();
                let b = build_bundle(bundle_ctx, &files, pkg, &t.name, spec, inputs)?;
                (files, Product::Bundle(b))
            }
        })
    }
}

fn is_action(kind: &TargetKind, run_tests: bool) -> bool {
    match kind {
        TargetKind::Genrule(_) | TargetKind::Bundle(_) => true,
        TargetKind::Test(_) | TargetKind::PyTest(..) => run_tests,
        TargetKind::Filegroup { .. }
        | TargetKind::Wrapper { .. }
        | TargetKind::PyBinary(_)
        | TargetKind::PyLibrary(_)
        | TargetKind::PyScripts(_) => false,
    }
}

enum Product {
    Nothing,
    Genrule(Status, Duration),
    Bundle(Built),
    Test(TestResult),
}

impl Product {
    /// The line shown for a finished action, when it did work worth a line.
    fn line(&self, kind: &str, label: &Label) -> Option<String> {
        match self {
            Product::Genrule(Status::Built, d) => Some(format!("{kind} {label} ({})", secs(*d))),
            Product::Bundle(b) if b.status == Status::Built => Some(format!("{kind} {label}")),
            Product::Test(r) if !r.cached => Some(format!("{kind} {label} ({})", secs(r.elapsed))),
            _ => None,
        }
    }
}

pub fn secs(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
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
