//! `kiln worker`: a bot for BuildGrid's Bots API. Each slot holds its own bot session
//! (bot id `NAME-SLOT`, stable across restarts, so a restarted worker hands back what
//! it held at once), long-polls for a lease, and runs the leased action in kiln's own
//! Linux sandbox, laid out as `shape.rs` describes: the input root's `runfiles/` at
//! /kiln/runfiles, outputs under /kiln/out. It uploads the outputs and the log (as
//! stdout) and reports the `ActionResult`. While an action runs the slot keeps its
//! session alive; a lease the server takes back (cancelled, or reassigned) is killed.

use std::collections::{BTreeSet, HashSet};
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use bazel_remote_apis::google::protobuf::Any;
use bazel_remote_apis::google::rpc::Status;
use prost::Message;
use release::Digest;

use super::bots::{self, BotSession, BotStatus, Lease, LeaseState};
use super::{Blob, Client, from_re, re, to_re};
use crate::cache::{Cache, hash_file};
use crate::sandbox::{self, Mode, Spec};

/// How long an idle slot's long-poll may take (the server answers at 80% of it).
const POLL: Duration = Duration::from_secs(30);
/// The time limit of an action that names none, and the most any may ask for.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3600);
const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 3600);
/// Bounds on an input tree a server sends.
const MAX_ENTRIES: usize = 1_000_000;
const MAX_DEPTH: usize = 64;
/// Linux's NAME_MAX and PATH_MAX.
const MAX_NAME: usize = 255;
const MAX_PATH: usize = 4096;

const ACTION: &str = "build.bazel.remote.execution.v2.Action";
const DIGEST: &str = "build.bazel.remote.execution.v2.Digest";
const ACTION_RESULT: &str = "build.bazel.remote.execution.v2.ActionResult";

/// What a finished lease reports.
struct Outcome {
    status: Status,
    result: Option<Box<re::ActionResult>>,
}

fn failed(code: tonic::Code, msg: impl Into<String>) -> Outcome {
    Outcome {
        status: Status {
            code: code as i32,
            message: msg.into(),
            details: Vec::new(),
        },
        result: None,
    }
}

/// The properties a slot offers: what `shape::platform` asks of kiln's actions.
fn properties() -> Vec<bots::Property> {
    super::shape::platform(Mode::Linux.key_name())
        .properties
        .into_iter()
        .map(|p| bots::Property {
            key: p.name,
            value: p.value,
        })
        .collect()
}

fn new_session(bot_id: &str) -> BotSession {
    BotSession {
        bot_id: bot_id.to_string(),
        status: BotStatus::Ok as i32,
        worker: Some(bots::Worker {
            devices: vec![bots::Device {
                handle: "kiln-sandbox".into(),
                properties: properties(),
            }],
            properties: Vec::new(),
            configs: vec![bots::Property {
                key: "capacity".into(),
                value: "1".into(),
            }],
        }),
        ..Default::default()
    }
}

/// How often to tell the server the slot is alive: a third of what it allows.
fn heartbeat(session: &BotSession) -> Duration {
    let left = session
        .expire_time
        .as_ref()
        .and_then(|t| {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .ok()?
                .as_secs() as i64;
            u64::try_from(t.seconds.saturating_sub(now)).ok()
        })
        .unwrap_or(60);
    Duration::from_secs(left / 3).clamp(Duration::from_secs(1), Duration::from_secs(20))
}

pub struct Worker<'a> {
    pub client: &'a Client,
    pub cache: &'a Cache,
    pub name: String,
    pub ran: AtomicUsize,
    /// Whether any slot ever had a session.
    pub connected: AtomicBool,
    /// `-v`: a line per action, with where its time went.
    pub ui: crate::ui::Ui,
}

impl Worker<'_> {
    fn create(&self, session: &BotSession) -> Result<BotSession, String> {
        let mut req = tonic::Request::new(bots::CreateBotSessionRequest {
            parent: self.client.instance().to_string(),
            bot_session: Some(session.clone()),
        });
        req.set_timeout(POLL);
        self.client.block_on(
            POLL + Duration::from_secs(5),
            bots::call(self.client.channel(), "CreateBotSession", req),
        )
    }

    fn update(&self, session: &BotSession, wait: Duration) -> Result<BotSession, String> {
        let mut req = tonic::Request::new(bots::UpdateBotSessionRequest {
            name: session.name.clone(),
            bot_session: Some(session.clone()),
        });
        req.set_timeout(wait);
        self.client.block_on(
            wait + Duration::from_secs(5),
            bots::call(self.client.channel(), "UpdateBotSession", req),
        )
    }

    /// One slot, until Ctrl-C: (re)connect, take leases, run them.
    pub fn slot(&self, slot: usize) {
        let bot_id = format!("{}-{slot}", self.name);
        let mut backoff = Duration::from_millis(500);
        let mut warned = false;
        while !sandbox::CANCELLED.load(Ordering::Relaxed) {
            let began = std::time::Instant::now();
            match self.session(&bot_id) {
                Ok(()) => return,
                Err(e) => {
                    // A session that worked for a while: this is a new outage.
                    if began.elapsed() > Duration::from_secs(60) {
                        warned = false;
                        backoff = Duration::from_millis(500);
                    }
                    if !warned {
                        plumbing::style::warning(&format!(
                            "kiln worker {bot_id}: {}: {e}; trying again",
                            self.client.name()
                        ));
                        warned = true;
                    }
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                }
            }
        }
    }

    /// One bot session: Ok when cancelled, Err when the server failed us.
    fn session(&self, bot_id: &str) -> Result<(), String> {
        let mut session = self.create(&new_session(bot_id))?;
        self.connected.store(true, Ordering::Relaxed);
        let mut done: HashSet<String> = HashSet::new();
        while !sandbox::CANCELLED.load(Ordering::Relaxed) {
            let lease = session
                .leases
                .iter()
                .find(|l| l.state == LeaseState::Active as i32 && !done.contains(&l.id))
                .cloned();
            let Some(lease) = lease else {
                session.leases.retain(|l| !done.contains(&l.id));
                let asked = std::time::Instant::now();
                session = self.update(&session, POLL)?;
                // A server that answers an idle poll at once (with nothing) is not
                // asked again at once.
                if !session
                    .leases
                    .iter()
                    .any(|l| l.state == LeaseState::Active as i32)
                    && asked.elapsed() < Duration::from_millis(500)
                {
                    std::thread::sleep(Duration::from_millis(500));
                }
                continue;
            };
            let outcome = self.run_leased(&mut session, &lease)?;
            done.insert(lease.id.clone());
            let Some(outcome) = outcome else {
                // Taken back by the server: nothing to report.
                continue;
            };
            self.ran.fetch_add(1, Ordering::Relaxed);
            for l in session.leases.iter_mut().filter(|l| l.id == lease.id) {
                l.state = LeaseState::Completed as i32;
                l.status = Some(outcome.status.clone());
                l.result = outcome.result.as_ref().map(|r| Any {
                    type_url: bots::type_url(ACTION_RESULT),
                    value: r.encode_to_vec(),
                });
            }
            session = self.update(&session, POLL)?;
            // The server dropped the completed lease; forget it once it is gone.
            done.retain(|id| session.leases.iter().any(|l| l.id == *id));
        }
        Ok(())
    }

    /// Run a lease while keeping the session alive. None when the server took it back.
    fn run_leased(
        &self,
        session: &mut BotSession,
        lease: &Lease,
    ) -> Result<Option<Outcome>, String> {
        let cancel = AtomicBool::new(false);
        std::thread::scope(|s| {
            let (tx, rx) = std::sync::mpsc::channel();
            let cancel = &cancel;
            s.spawn(move || {
                let _ = tx.send(self.execute(lease, cancel));
            });
            loop {
                match rx.recv_timeout(heartbeat(session)) {
                    Ok(outcome) => {
                        return Ok((!cancel.load(Ordering::Relaxed)).then_some(outcome));
                    }
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                        return Ok(Some(failed(
                            tonic::Code::Internal,
                            "the action's thread ended",
                        )));
                    }
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                }
                // At capacity, the server answers at once.
                match self.update(session, Duration::from_secs(10)) {
                    Ok(next) => {
                        *session = next;
                        if !session.leases.iter().any(|l| l.id == lease.id) {
                            cancel.store(true, Ordering::Relaxed);
                        }
                    }
                    Err(e) => {
                        // The session is gone, and with it the lease: stop the action.
                        cancel.store(true, Ordering::Relaxed);
                        let _ = rx.recv();
                        return Err(e);
                    }
                }
            }
        })
    }

    /// Fetch, run and report one leased action.
    fn execute(&self, lease: &Lease, cancel: &AtomicBool) -> Outcome {
        let scratch = self.cache.tmp_path("worker");
        let outcome = self
            .execute_in(lease, &scratch, cancel)
            .unwrap_or_else(|o| o);
        let _ = plumbing::fs::remove_tree(&scratch);
        outcome
    }

    fn execute_in(
        &self,
        lease: &Lease,
        scratch: &Path,
        cancel: &AtomicBool,
    ) -> Result<Outcome, Outcome> {
        use tonic::Code;
        let bad = |code: Code| move |e: String| failed(code, e);
        let any = lease
            .payload
            .as_ref()
            .ok_or_else(|| failed(Code::InvalidArgument, "the lease has no payload"))?;
        let action = if bots::is(any, ACTION) {
            re::Action::decode(&any.value[..])
                .map_err(|e| failed(Code::InvalidArgument, e.to_string()))?
        } else if bots::is(any, DIGEST) {
            let d = re::Digest::decode(&any.value[..])
                .map_err(|e| failed(Code::InvalidArgument, e.to_string()))?;
            let bytes = self
                .client
                .read_blob(&d)
                .map_err(bad(Code::FailedPrecondition))?;
            re::Action::decode(&bytes[..])
                .map_err(|e| failed(Code::InvalidArgument, e.to_string()))?
        } else {
            return Err(failed(
                Code::InvalidArgument,
                format!("a lease payload of type {:?}", any.type_url),
            ));
        };
        let command_digest = action
            .command_digest
            .as_ref()
            .ok_or_else(|| failed(Code::InvalidArgument, "the action names no command"))?;
        let bytes = self
            .client
            .read_blob(command_digest)
            .map_err(bad(Code::FailedPrecondition))?;
        let command = re::Command::decode(&bytes[..])
            .map_err(|e| failed(Code::InvalidArgument, e.to_string()))?;
        #[allow(deprecated)]
        let platform = action
            .platform
            .clone()
            .or(command.platform.clone())
            .unwrap_or_default();
        let wanted = Mode::Linux.key_name();
        if !platform
            .properties
            .iter()
            .any(|p| p.name == "kiln-sandbox" && p.value == wanted)
        {
            return Err(failed(
                Code::FailedPrecondition,
                format!(
                    "kiln worker runs actions with the platform property kiln-sandbox={wanted} only"
                ),
            ));
        }
        if command.arguments.is_empty() {
            return Err(failed(
                Code::InvalidArgument,
                "the command has no arguments",
            ));
        }
        #[allow(deprecated)]
        let outputs: Vec<String> = if command.output_paths.is_empty() {
            command.output_files.clone()
        } else {
            command.output_paths.clone()
        };
        let outs = declared_outputs(&outputs).map_err(bad(Code::InvalidArgument))?;
        let root = action
            .input_root_digest
            .as_ref()
            .ok_or_else(|| failed(Code::InvalidArgument, "the action names no input root"))?;
        let start = std::time::Instant::now();
        fs_err::create_dir_all(scratch).map_err(|e| failed(Code::Internal, e.to_string()))?;
        self.materialize(root, scratch, cancel)?;
        let fetched = start.elapsed();
        let out_dir = scratch.join(super::shape::OUT);
        fs_err::create_dir(&out_dir).map_err(|e| failed(Code::Internal, e.to_string()))?;
        for o in &outs {
            if let Some(parent) = Path::new(o).parent() {
                fs_err::create_dir_all(out_dir.join(parent))
                    .map_err(|e| failed(Code::Internal, e.to_string()))?;
            }
        }
        let timeout = action
            .timeout
            .as_ref()
            .map(|d| Duration::new(d.seconds.max(0) as u64, d.nanos.max(0) as u32))
            .filter(|d| !d.is_zero())
            .unwrap_or(DEFAULT_TIMEOUT)
            .min(MAX_TIMEOUT);
        let spec = Spec {
            scratch: scratch.to_path_buf(),
            runfiles: scratch.join(super::shape::RUNFILES),
            out: Some(out_dir.clone()),
            cwd: Path::new(sandbox::RUNFILES).join("_main"),
            argv: command.arguments.clone(),
            env: command
                .environment_variables
                .iter()
                .map(|v| (v.name.clone(), v.value.clone()))
                .collect(),
            parent: std::process::id(),
        };
        let log = scratch.join("log");
        let outcome = sandbox::run_until(Mode::Linux, &spec, &log, timeout, cancel)
            .map_err(|e| failed(Code::Internal, e.to_string()))?;
        let mut result = re::ActionResult {
            exit_code: outcome.code,
            ..Default::default()
        };
        let mut blobs = Vec::new();
        if !outcome.timed_out && outcome.code == 0 {
            match self.collect(&out_dir, &outs) {
                Ok(files) => {
                    for (path, d, size, executable) in files {
                        blobs.push(Blob::file(&self.cache.cas_path(&d), &d, size));
                        result.output_files.push(re::OutputFile {
                            path: format!("{}/{path}", super::shape::OUT),
                            digest: Some(to_re(&d, size)),
                            is_executable: executable,
                            ..Default::default()
                        });
                    }
                }
                Err(msg) => {
                    use std::io::Write;
                    let _ = fs_err::OpenOptions::new()
                        .append(true)
                        .open(&log)
                        .and_then(|mut f| writeln!(f, "kiln worker: {msg}"));
                    result.exit_code = 1;
                }
            }
        }
        let (size, d) = hash_file(&log).map_err(|e| failed(Code::Internal, e.to_string()))?;
        self.cache
            .insert_output(&log, &d)
            .map_err(|e| failed(Code::Internal, e.to_string()))?;
        blobs.push(Blob::file(&self.cache.cas_path(&d), &d, size));
        result.stdout_digest = Some(to_re(&d, size));
        result.execution_metadata = Some(re::ExecutedActionMetadata {
            worker: self.name.clone(),
            ..Default::default()
        });
        self.client.upload(&blobs).map_err(bad(Code::Unavailable))?;
        self.ui.detail(format!(
            "kiln worker {}: lease {}: exit {}{} in {} ms (inputs {} ms, command {} ms)",
            self.name,
            lease
                .id
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .take(40)
                .collect::<String>(),
            outcome.code,
            if outcome.timed_out { ", timed out" } else { "" },
            start.elapsed().as_millis(),
            fetched.as_millis(),
            outcome.elapsed.as_millis()
        ));
        let code = if outcome.timed_out {
            Code::DeadlineExceeded
        } else {
            Code::Ok
        };
        Ok(Outcome {
            status: Status {
                code: code as i32,
                message: if outcome.timed_out {
                    format!(
                        "timed out after {}s; its whole process tree was killed",
                        timeout.as_secs()
                    )
                } else {
                    String::new()
                },
                details: Vec::new(),
            },
            result: Some(Box::new(result)),
        })
    }

    /// Lay out the input root under `scratch` (only `runfiles/` may be in it): every
    /// directory created fresh, every file from the local CAS (fetched first), 0444 or
    /// 0555 as the tree says.
    fn materialize(
        &self,
        root: &re::Digest,
        scratch: &Path,
        cancel: &AtomicBool,
    ) -> Result<(), Outcome> {
        use tonic::Code;
        let bad = |e: String| failed(Code::FailedPrecondition, e);
        let invalid = |e: String| failed(Code::InvalidArgument, e);
        let read_dir = |d: &re::Digest| -> Result<re::Directory, Outcome> {
            let bytes = self.client.read_blob(d).map_err(bad)?;
            re::Directory::decode(&bytes[..])
                .map_err(|e| invalid(format!("a directory that does not decode: {e}")))
        };
        let top = read_dir(root)?;
        let runfiles = super::shape::RUNFILES;
        if !top.files.is_empty()
            || !top.symlinks.is_empty()
            || top.directories.len() != 1
            || top.directories[0].name != runfiles
        {
            return Err(invalid(format!(
                "the input root may hold only {runfiles}/ (kiln's sandbox layout)"
            )));
        }
        // Directories are fetched one at a time as the walk reaches them and counted
        // before their children are: a tree naming one huge directory many times stops
        // at the entry limit, not at the memory it would take.
        let mut dirs: Vec<(PathBuf, re::Digest, usize)> = Vec::new();
        for d in &top.directories {
            let digest = d
                .digest
                .clone()
                .ok_or_else(|| invalid("a directory without a digest".into()))?;
            dirs.push((PathBuf::from(runfiles), digest, 1));
        }
        let mut files: Vec<(PathBuf, re::Digest, bool)> = Vec::new();
        let mut links: Vec<(PathBuf, String)> = Vec::new();
        let mut made: Vec<PathBuf> = Vec::new();
        let mut count = 0;
        while let Some((rel, digest, depth)) = dirs.pop() {
            if cancel.load(Ordering::Relaxed) {
                return Err(failed(Code::Cancelled, "taken back by the server"));
            }
            if depth > MAX_DEPTH {
                return Err(invalid(format!(
                    "the input tree is deeper than {MAX_DEPTH}"
                )));
            }
            let dir = read_dir(&digest)?;
            let mut names = BTreeSet::new();
            let all = dir
                .files
                .iter()
                .map(|f| &f.name)
                .chain(dir.directories.iter().map(|d| &d.name))
                .chain(dir.symlinks.iter().map(|l| &l.name));
            let room = rel.as_os_str().len() + 1;
            for name in all {
                // Longer names than the file system's, or a path longer than PATH_MAX,
                // could never be laid out; refused before any path is made of them.
                if !plain_name(name)
                    || name.len() > MAX_NAME
                    || room + name.len() > MAX_PATH
                    || !names.insert(name.clone())
                {
                    let shown: String = name.chars().take(64).collect();
                    return Err(invalid(format!(
                        "an input name {shown:?} ({} bytes) under {}",
                        name.len(),
                        rel.display()
                    )));
                }
                count += 1;
            }
            if count > MAX_ENTRIES {
                return Err(invalid(format!("more than {MAX_ENTRIES} inputs")));
            }
            made.push(rel.clone());
            for f in &dir.files {
                let d = f
                    .digest
                    .clone()
                    .ok_or_else(|| invalid("a file without a digest".into()))?;
                files.push((rel.join(&f.name), d, f.is_executable));
            }
            for l in &dir.symlinks {
                if l.target.is_empty() || l.target.contains('\0') || l.target.len() > MAX_PATH {
                    return Err(invalid(format!("the link {} has no usable target", l.name)));
                }
                links.push((rel.join(&l.name), l.target.clone()));
            }
            for d in &dir.directories {
                let digest = d
                    .digest
                    .clone()
                    .ok_or_else(|| invalid("a directory without a digest".into()))?;
                dirs.push((rel.join(&d.name), digest, depth + 1));
            }
        }
        let digests: Vec<re::Digest> = files.iter().map(|(_, d, _)| d.clone()).collect();
        self.client
            .download_until(self.cache, &digests, cancel)
            .map_err(bad)?;
        made.sort();
        let internal = |e: std::io::Error| failed(Code::Internal, e.to_string());
        for rel in made {
            fs_err::create_dir(scratch.join(rel)).map_err(internal)?;
        }
        for (rel, d, executable) in files {
            let (digest, _) = from_re(&d).ok_or_else(|| invalid("a malformed digest".into()))?;
            let blob = self.cache.cas_path(&digest);
            let dest = scratch.join(rel);
            // CAS blobs are 0444: a read-only mount shows them as they are. An
            // executable input is a copy with mode 0555.
            if executable {
                fs_err::copy(&blob, &dest).map_err(internal)?;
                fs_err::set_permissions(&dest, std::fs::Permissions::from_mode(0o555))
                    .map_err(internal)?;
            } else {
                fs_err::hard_link(&blob, &dest)
                    .or_else(|_| fs_err::copy(&blob, &dest).map(|_| ()))
                    .map_err(internal)?;
            }
        }
        for (rel, target) in links {
            fs_err::os::unix::fs::symlink(&target, scratch.join(rel)).map_err(internal)?;
        }
        Ok(())
    }

    /// The declared outputs the command wrote, into the local CAS; an error naming what
    /// else it wrote (as a local build refuses it).
    fn collect(
        &self,
        dir: &Path,
        outs: &[String],
    ) -> Result<Vec<(String, Digest, u64, bool)>, String> {
        let found = crate::exec::collect(self.cache, dir, outs).map_err(|e| e.to_string())?;
        if !found.undeclared.is_empty() {
            return Err(format!(
                "the command wrote undeclared output(s): {}",
                found.undeclared.join(", ")
            ));
        }
        Ok(found
            .outputs
            .into_iter()
            .map(|o| (o.path, o.sha256, o.size, o.executable))
            .collect())
    }
}

/// A single path component a directory may hold.
fn plain_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\0'])
}

/// The output paths (below `out/`), each a plain relative path.
fn declared_outputs(paths: &[String]) -> Result<Vec<String>, String> {
    let prefix = format!("{}/", super::shape::OUT);
    paths
        .iter()
        .map(|p| {
            let rest = p.strip_prefix(&prefix).ok_or_else(|| {
                format!("the output {p:?} is not below {prefix} (kiln's sandbox layout)")
            })?;
            let plain = !rest.is_empty()
                && Path::new(rest)
                    .components()
                    .all(|c| matches!(c, Component::Normal(_)))
                && !rest.contains('\0')
                && !rest.ends_with('/');
            if !plain {
                return Err(format!("the output {p:?} is not a plain relative path"));
            }
            Ok(rest.to_string())
        })
        .collect()
}

/// Run `slots` slots until Ctrl-C: the number of actions run, and whether the server
/// was ever reached.
pub fn run(
    client: &Client,
    cache: &Cache,
    name: &str,
    slots: usize,
    ui: crate::ui::Ui,
) -> (usize, bool) {
    let worker = Worker {
        client,
        cache,
        name: name.to_string(),
        ran: AtomicUsize::new(0),
        connected: AtomicBool::new(false),
        ui,
    };
    std::thread::scope(|s| {
        for slot in 0..slots {
            let w = &worker;
            s.spawn(move || w.slot(slot));
        }
    });
    (
        worker.ran.load(Ordering::Relaxed),
        worker.connected.load(Ordering::Relaxed),
    )
}
