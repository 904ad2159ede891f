//! A real REAPI server for tests: BuildGrid (`bgd`, from PyPI, installed by ci/test into
//! a virtual environment at `target/buildgrid`) on 127.0.0.1 with a free port, with a
//! config kept in `tests/buildgrid/`, logging to a file; and PostgreSQL (Debian's) on a
//! temp data directory for its scheduler. Each is stopped on drop.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free port below Linux's ephemeral range (32768 and up): polling a port in that
/// range before the server listens can connect the socket to itself, which then holds
/// the port the server was to bind.
fn free_port() -> u16 {
    let mut seed = [0u8; 2];
    for i in 0..1000u32 {
        let _ = std::fs::File::open("/dev/urandom")
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut seed));
        let port = 20000 + (u16::from_le_bytes(seed) as u32 + i) % 12000;
        if std::net::TcpListener::bind(("127.0.0.1", port as u16)).is_ok() {
            return port as u16;
        }
    }
    panic!("no free port in 20000..32000");
}

fn wait_port(port: u16, limit: Duration, what: &str, log: &Path, child: &mut Child) {
    let deadline = Instant::now() + limit;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited ({status}); see {}", log.display());
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not start; see {}",
            log.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn log_file(path: &Path) -> std::fs::File {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap()
}

/// The virtual environment ci/test installs BuildGrid into.
pub fn venv() -> PathBuf {
    match std::env::var_os("KILN_TEST_BUILDGRID_VENV") {
        Some(v) => PathBuf::from(v),
        None => crate::repo_root().join("target/buildgrid"),
    }
}

pub struct BuildGrid {
    child: Option<Child>,
    pub port: u16,
    pub dir: PathBuf,
    pub log: PathBuf,
    config: PathBuf,
}

impl BuildGrid {
    /// Start `bgd` with `tests/buildgrid/<config>`, its @PORT@, @DIR@ and @INSTANCE@
    /// (and any `vars`) filled in, storing under `dir`.
    pub fn start(config: &str, dir: &Path, instance: &str, vars: &[(&str, String)]) -> BuildGrid {
        std::fs::create_dir_all(dir).unwrap();
        let port = free_port();
        let mut text =
            std::fs::read_to_string(crate::repo_root().join("tests/buildgrid").join(config))
                .unwrap();
        let mut all = vec![
            ("@PORT@", port.to_string()),
            ("@DIR@", dir.display().to_string()),
            ("@INSTANCE@", instance.to_string()),
        ];
        all.extend(vars.iter().map(|(k, v)| (*k, v.clone())));
        for (k, v) in all {
            text = text.replace(k, &v);
        }
        let path = dir.join(config);
        std::fs::write(&path, text).unwrap();
        let mut bg = BuildGrid {
            child: None,
            port,
            dir: dir.to_path_buf(),
            log: dir.join("bgd.log"),
            config: path,
        };
        bg.restart();
        bg
    }

    /// (Re)start the server on the same port and storage.
    pub fn restart(&mut self) {
        self.stop();
        let bgd = venv().join("bin/bgd");
        assert!(
            bgd.is_file(),
            "{} is missing: ci/test installs BuildGrid into {}",
            bgd.display(),
            venv().display()
        );
        let log = log_file(&self.log);
        let mut child = Command::new(bgd)
            .args(["server", "start"])
            .arg(&self.config)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0)
            .spawn()
            .unwrap();
        wait_port(
            self.port,
            Duration::from_secs(90),
            "bgd",
            &self.log,
            &mut child,
        );
        self.child = Some(child);
    }

    pub fn url(&self) -> String {
        format!("grpc://127.0.0.1:{}", self.port)
    }

    /// Kill the server (its whole process group) and wait for it.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(c.id() as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
            let _ = c.wait();
        }
    }
}

impl Drop for BuildGrid {
    fn drop(&mut self) {
        self.stop();
    }
}

use std::os::unix::process::CommandExt;
