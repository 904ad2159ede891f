//! Running one action's command: in the Linux sandbox (see `linux.rs`), or with
//! `--sandbox=none` as a plain process group. Either way the command gets a clean
//! environment, a time limit, and its whole process tree is killed on timeout or
//! Ctrl-C. Output goes to a log file, never to kiln's own stdout/stderr.

mod linux;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::{Code, Result, hinted};

pub use linux::entry;
use linux::{ENTRY_PROBE, ENTRY_STAGE1};
pub use linux::{OUT, RUNFILES};

/// Set by the Ctrl-C handler; running actions are killed and nothing new starts.
pub static CANCELLED: AtomicBool = AtomicBool::new(false);

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// Namespaces: only declared inputs, no network, private /tmp, read-only everything else.
    Linux,
    /// No isolation; results are marked and never shared through a remote cache.
    None,
}

impl Mode {
    /// Part of every action key: results of different sandboxes never mix.
    pub fn key_name(self) -> &'static str {
        match self {
            Mode::Linux => "linux-v1",
            Mode::None => "none",
        }
    }

    /// Where the command sees the runfiles tree and the outputs directory.
    pub fn runfiles_dir(self, host: &Path) -> PathBuf {
        match self {
            Mode::Linux => PathBuf::from(linux::RUNFILES),
            Mode::None => host.to_path_buf(),
        }
    }

    pub fn out_dir(self, host: &Path) -> PathBuf {
        match self {
            Mode::Linux => PathBuf::from(linux::OUT),
            Mode::None => host.to_path_buf(),
        }
    }
}

/// What to run. Paths in `cwd`, `argv` and `env` are as the command sees them.
#[derive(Debug, Serialize, Deserialize)]
pub struct Spec {
    /// A private host directory for the sandbox's own files.
    pub scratch: PathBuf,
    /// Host directory mounted read-only as the runfiles tree.
    pub runfiles: PathBuf,
    /// Host directory mounted writable for outputs, if the action has any.
    pub out: Option<PathBuf>,
    pub cwd: PathBuf,
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
    /// kiln's pid: a sandbox whose kiln is gone kills itself.
    pub parent: u32,
}

#[derive(Debug)]
pub struct Outcome {
    /// The exit code, or 128 + signal.
    pub code: i32,
    pub timed_out: bool,
    pub elapsed: Duration,
}

/// Check once that namespaces work here; explain how to go on when they do not.
pub fn probe() -> Result<()> {
    let out = Command::new(std::env::current_exe()?)
        .arg(ENTRY_PROBE)
        .stdin(Stdio::null())
        .output()?;
    if out.status.success() {
        return Ok(());
    }
    Err(hinted(
        Code::Env,
        format!(
            "the Linux sandbox is not available here: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        "allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, or the AppArmor userns restriction), or pass --sandbox=none to run actions without isolation (their results are marked and never shared)",
    ))
}

/// Run `spec` with output to `log`, killing everything it started after `timeout`.
pub fn run(mode: Mode, spec: &Spec, log: &Path, timeout: Duration) -> Result<Outcome> {
    run_until(mode, spec, log, timeout, &CANCELLED)
}

/// `run`, also killing everything once `cancel` is set (a remote worker's lease taken
/// back). Ctrl-C (`CANCELLED`) stops it either way.
pub fn run_until(
    mode: Mode,
    spec: &Spec,
    log: &Path,
    timeout: Duration,
    cancel: &AtomicBool,
) -> Result<Outcome> {
    let log_file = fs_err::File::create(log)?.into_parts().0;
    let mut cmd = match mode {
        Mode::Linux => {
            let spec_path = spec.scratch.join("spec.json");
            fs_err::write(&spec_path, serde_json::to_vec(spec)?)?;
            let mut c = Command::new(std::env::current_exe()?);
            c.arg(ENTRY_STAGE1).arg(&spec_path);
            c
        }
        Mode::None => {
            let mut c = Command::new(&spec.argv[0]);
            c.args(&spec.argv[1..])
                .current_dir(&spec.cwd)
                .env_clear()
                .envs(spec.env.iter().map(|(k, v)| (k, v)));
            c
        }
    };
    cmd.stdin(Stdio::null())
        .stdout(log_file.try_clone()?)
        .stderr(log_file)
        .process_group(0);
    let start = Instant::now();
    let mut child = cmd.spawn()?;
    let pgid = nix::unistd::Pid::from_raw(child.id() as i32);
    let mut timed_out = false;
    // A thread waits for the child and says so at once (polling with sleeps noticed
    // a finished action 3 ms late on average); this one wakes at least every 50 ms to
    // see whether the build was cancelled.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let status = loop {
        let left = timeout.saturating_sub(start.elapsed());
        match rx.recv_timeout(left.min(Duration::from_millis(50))) {
            Ok(status) => break status?,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                return Err(anyhow::anyhow!(
                    "the action's waiter ended without a status"
                ));
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
        }
        let cancelled = CANCELLED.load(Ordering::Relaxed) || cancel.load(Ordering::Relaxed);
        if start.elapsed() >= timeout || cancelled {
            timed_out = !cancelled;
            // The whole group: with the Linux sandbox that is its first stage, whose
            // death kills the sandbox's init and with it every process in the sandbox.
            let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
            break rx
                .recv()
                .map_err(|_| anyhow::anyhow!("the action's waiter ended without a status"))??;
        }
    };
    // Reap anything of the group that outlived its leader (--sandbox=none).
    let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
    use std::os::unix::process::ExitStatusExt;
    let code = status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
    if let Ok(msg) = fs_err::read_to_string(spec.scratch.join(linux::SETUP_ERROR)) {
        return Err(hinted(
            Code::Env,
            format!("the sandbox could not be set up: {}", msg.trim()),
            "pass --sandbox=none to run actions without isolation",
        ));
    }
    Ok(Outcome {
        code,
        timed_out,
        elapsed: start.elapsed(),
    })
}
