//! Real runit for service tests: `runsvdir` on a temp service directory, in its own
//! process group, logging to a file. Dropping the guard stops it the way an init would
//! (SIGHUP: runsvdir tells every runsv to stop its service), then kills whatever is
//! left of the group.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

pub struct Runsvdir {
    child: Child,
    pub svdir: PathBuf,
}

impl Runsvdir {
    pub fn start(svdir: &Path, log: &Path) -> Runsvdir {
        std::fs::create_dir_all(svdir).unwrap();
        let log = std::fs::File::create(log).unwrap();
        let child = Command::new("runsvdir")
            .arg(svdir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0)
            .spawn()
            .expect("runsvdir (Debian's runit) is installed by ci/test");
        Runsvdir {
            child,
            svdir: svdir.to_path_buf(),
        }
    }

    /// The pid runit supervises for `service`, once it is up.
    pub fn pid(&self, service: &str) -> Option<u32> {
        let text = std::fs::read_to_string(self.svdir.join(service).join("supervise/pid")).ok()?;
        text.trim().parse().ok().filter(|p| *p > 0)
    }
}

impl Drop for Runsvdir {
    fn drop(&mut self) {
        let pid = Pid::from_raw(self.child.id() as i32);
        let _ = kill(pid, Signal::SIGHUP);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(200));
        let _ = killpg(pid, Signal::SIGKILL);
        let _ = self.child.wait();
    }
}

/// Poll `cond` every 20 ms until it holds or `limit` passes.
pub fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
