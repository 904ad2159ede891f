//! Restarting services and checking health. Restarts go through the configured
//! manager: runit (`sv restart <svdir>/<name>`), systemd (`systemctl restart <name>`),
//! or a command template. A health check is an executable of the bundle, run with a
//! time limit and bounded retries.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::config::{Health, Manager};
use crate::error::{Code, Result, err, hinted};

/// Check, before anything changes, that the manager's program can be run.
pub fn preflight(manager: &Manager) -> Result<()> {
    let program = match manager {
        Manager::Runit { svdir, .. } => {
            if !svdir.is_dir() {
                return Err(hinted(
                    Code::Env,
                    format!("runit service directory {} does not exist", svdir.display()),
                    "set [services] svdir in fetch.toml to the directory runsvdir watches",
                ));
            }
            "sv"
        }
        Manager::Systemd => "systemctl",
        Manager::Command { .. } => "sh",
        Manager::None => return Ok(()),
    };
    if find_in_path(program).is_none() {
        return Err(hinted(
            Code::Env,
            format!("the service manager's `{program}` is not installed (not found in PATH)"),
            "install it, or change [services] manager in fetch.toml; pass --no-restart to install without restarting",
        ));
    }
    Ok(())
}

fn find_in_path(program: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

pub fn restart(manager: &Manager, name: &str, timeout: Duration) -> Result<()> {
    let cmd = match manager {
        Manager::Runit { svdir, wait } => {
            wait_supervised(svdir, name, *wait)?;
            let mut c = Command::new("sv");
            c.args(["-w", "30", "restart"]).arg(svdir.join(name));
            c
        }
        Manager::Systemd => {
            let mut c = Command::new("systemctl");
            c.args(["restart", name]);
            c
        }
        Manager::Command { template } => {
            // The name is the script's $1, never text of the script itself.
            let mut c = Command::new("sh");
            c.arg("-c")
                .arg(template.replace("{name}", "\"$1\""))
                .arg("kiln-fetch")
                .arg(name);
            c
        }
        Manager::None => return Ok(()),
    };
    run_manager(cmd, name, timeout)
}

/// Run a service manager's command in a process group of its own, its output going to
/// an anonymous file (a daemon it leaves behind holding that open never stalls us),
/// and kill the whole group if it is not done within `timeout`.
fn run_manager(mut cmd: Command, name: &str, timeout: Duration) -> Result<()> {
    use std::io::{Read, Seek};
    use std::os::unix::process::CommandExt;
    let out = rustix::fs::memfd_create("kiln-fetch-service", rustix::fs::MemfdFlags::CLOEXEC)
        .map_err(std::io::Error::from)?;
    let mut out = std::fs::File::from(out);
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out.try_clone()?)
        .process_group(0)
        .spawn()
        .map_err(|e| {
            err(
                Code::Env,
                format!("restarting {name}: cannot run the service manager: {e}"),
            )
        })?;
    let group = rustix::process::Pid::from_child(&child);
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if start.elapsed() >= timeout {
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
            let _ = child.wait();
            return Err(hinted(
                Code::Failed,
                format!(
                    "restarting {name}: the service manager did not finish within {}; it was stopped with everything it started",
                    plumbing::duration::format(timeout)
                ),
                "check the service by hand; raise [services] timeout in fetch.toml if its restarts are slow",
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    if !status.success() {
        let mut text = String::new();
        out.rewind()?;
        let _ = (&mut out).take(64 << 10).read_to_string(&mut text);
        return Err(err(
            Code::Failed,
            format!("restarting {name} failed ({status}): {}", text.trim()),
        ));
    }
    Ok(())
}

/// What the service manager reports of a service: the pid running it, for how long
/// (runit says, in whole seconds; systemd here does not), and its own words.
pub struct Status {
    pub pid: Option<u32>,
    up: Option<Duration>,
    line: String,
}

/// Ask the manager about `name`; a command manager reports nothing (None).
pub fn status(manager: &Manager, name: &str) -> Option<Status> {
    match manager {
        Manager::Runit { svdir, .. } => {
            let text = output(Command::new("sv").arg("status").arg(svdir.join(name)));
            let line = text.lines().next().unwrap_or("").trim().to_string();
            // run: /etc/service/solr: (pid 123) 45s; ...
            let run = line
                .strip_prefix("run: ")
                .and_then(|r| r.split_once("(pid "))
                .and_then(|(_, r)| r.split_once(") "));
            let pid = run.and_then(|(p, _)| p.parse().ok());
            let up = run
                .and_then(|(_, r)| r.split(['s', ';']).next())
                .and_then(|n| n.trim().parse().ok())
                .map(Duration::from_secs);
            Some(Status { pid, up, line })
        }
        Manager::Systemd => {
            let active = output(Command::new("systemctl").args(["is-active", name]));
            let pid =
                output(Command::new("systemctl").args(["show", "-p", "MainPID", "--value", name]));
            let pid = pid
                .trim()
                .parse()
                .ok()
                .filter(|p| *p != 0 && active.trim() == "active");
            Some(Status {
                pid,
                up: None,
                line: format!("systemctl is-active {name}: {}", active.trim()),
            })
        }
        Manager::Command { .. } | Manager::None => None,
    }
}

/// The start stage, after a restart: a process other than the one running `before`
/// the restart is reported running, and has stayed the same process for `window`. A
/// service that exits and is restarted in a loop never does. runit starts a service
/// again at most once a second, so it may be down for a moment after `sv restart`
/// returns; up to [`UP_WITHIN`] is allowed for that. A command manager reports
/// nothing, so there is no stage.
pub fn started(
    manager: &Manager,
    name: &str,
    window: Duration,
    before: Option<u32>,
) -> std::result::Result<(), String> {
    if window.is_zero() || status(manager, name).is_none() {
        return Ok(());
    }
    let deadline = Instant::now() + UP_WITHIN + window;
    // The new process and since when it has run.
    let mut seen: Option<(u32, Instant)> = None;
    loop {
        let st = status(manager, name).expect("a manager that reports");
        match st.pid.filter(|p| Some(*p) != before) {
            Some(pid) => {
                let since = match seen {
                    Some((p, t)) if p == pid => t,
                    _ => {
                        let now = Instant::now();
                        let t = now.checked_sub(st.up.unwrap_or_default()).unwrap_or(now);
                        seen = Some((pid, t));
                        t
                    }
                };
                if since.elapsed() >= window {
                    return Ok(());
                }
            }
            None => seen = None,
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "{name} did not stay running for {} within {} of its restart (last: {})",
                plumbing::duration::format(window),
                plumbing::duration::format(UP_WITHIN + window),
                st.line
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// How long a restarted service may take to be reported running.
const UP_WITHIN: Duration = Duration::from_secs(10);

/// What a status command printed (stdout), or nothing if it could not run.
fn output(cmd: &mut Command) -> String {
    cmd.stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

/// Wait until runit supervises `name`: its `supervise/ok` opens for writing, which it
/// does only while a runsv reads it. A new service directory is picked up by runsvdir
/// within about 5 s; `wait` bounds how long that may take.
fn wait_supervised(svdir: &Path, name: &str, wait: Duration) -> Result<()> {
    use fs_err::os::unix::fs::OpenOptionsExt;
    let ok = svdir.join(name).join("supervise/ok");
    let deadline = Instant::now() + wait;
    loop {
        let opened = fs_err::OpenOptions::new()
            .write(true)
            .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
            .open(&ok);
        let e = match opened {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        if Instant::now() >= deadline {
            let why = match plumbing::fs::errno(&e) {
                Some(2) => format!(
                    "{} does not exist: runsvdir has not picked up {}",
                    ok.display(),
                    svdir.join(name).display()
                ),
                Some(6) => format!("{} has no reader: its runsv is not running", ok.display()),
                _ => format!("{}: {e}", ok.display()),
            };
            return Err(hinted(
                Code::Env,
                format!(
                    "runit does not supervise {name} after waiting {}: {why}",
                    plumbing::duration::format(wait)
                ),
                format!(
                    "check that runsvdir is running and watches {} and that {name} there is a service directory; on a slow host raise [services] wait in fetch.toml",
                    svdir.display()
                ),
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Run the health check until it passes, at most 1 + retries times. Returns the last
/// failure's description.
pub fn check(exe: &Path, health: &Health) -> std::result::Result<(), String> {
    let mut last = String::new();
    for attempt in 0..=health.retries {
        if attempt > 0 {
            std::thread::sleep(health.interval);
        }
        match run_once(exe, health.timeout) {
            Ok(()) => return Ok(()),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// The soak after a passing check: the check again every `interval` until `soak` has
/// passed; the first failure ends it, with when it came.
pub fn soak(exe: &Path, health: &Health) -> std::result::Result<(), String> {
    let start = std::time::Instant::now();
    while start.elapsed() < health.soak {
        std::thread::sleep(
            health
                .interval
                .min(health.soak.saturating_sub(start.elapsed())),
        );
        if let Err(e) = run_once(exe, health.timeout) {
            return Err(format!(
                "{e} ({} into the {} soak)",
                plumbing::duration::format(Duration::from_secs(start.elapsed().as_secs())),
                plumbing::duration::format(health.soak)
            ));
        }
    }
    Ok(())
}

/// One run of the health check, in a process group of its own: whatever it started is
/// killed with it when it is done or out of time (a `sleep 300 &` never outlives it).
fn run_once(exe: &Path, timeout: Duration) -> std::result::Result<(), String> {
    use std::os::unix::process::CommandExt;
    let mut child = Command::new(exe)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot run it: {e}"))?;
    let group = rustix::process::Pid::from_child(&child);
    let result = wait_for_check(&mut child, timeout);
    let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
    result
}

fn wait_for_check(
    child: &mut std::process::Child,
    timeout: Duration,
) -> std::result::Result<(), String> {
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(s)) if s.success() => return Ok(()),
            Ok(Some(s)) => return Err(format!("it exited with {s}")),
            Ok(None) if start.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "it did not finish within {}",
                    plumbing::duration::format(timeout)
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(e.to_string()),
        }
    }
}
