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

/// PostgreSQL (Debian's) on a temp data directory and a free port, for BuildGrid's
/// scheduler. As root it runs as `nobody` (PostgreSQL refuses root).
pub struct Postgres {
    child: Option<Child>,
    pub port: u16,
    pub log: PathBuf,
    _dir: tempfile::TempDir,
}

fn pg_bin(name: &str) -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is not installed: ci/test installs Debian's postgresql")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin").join(name)))
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    found
        .pop()
        .unwrap_or_else(|| panic!("no {name} under /usr/lib/postgresql"))
}

/// `program` as `nobody` when we are root.
fn unprivileged(program: PathBuf) -> Command {
    if nix::unistd::geteuid().is_root() {
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            "--reset-env",
        ])
        .arg(program);
        c
    } else {
        Command::new(program)
    }
}

impl Postgres {
    /// A fresh cluster with the database `bgd`, BuildGrid's schema applied.
    pub fn start() -> Postgres {
        let dir = tempfile::tempdir().unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let data = dir.path().join("data");
        let sock = dir.path().join("sock");
        let log = dir.path().join("postgres.log");
        for d in [&data, &sock] {
            std::fs::create_dir(d).unwrap();
        }
        std::fs::write(&log, b"").unwrap();
        if nix::unistd::geteuid().is_root() {
            for p in [&data, &sock, &log] {
                let st = Command::new("chown")
                    .args(["nobody:nogroup"])
                    .arg(p)
                    .status()
                    .unwrap();
                assert!(st.success());
            }
        }
        let out = unprivileged(pg_bin("initdb"))
            .args(["-D"])
            .arg(&data)
            .args(["-U", "bgd", "--auth=trust", "-E", "UTF8", "--no-sync"])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        let mut child = unprivileged(pg_bin("postgres"))
            .arg("-D")
            .arg(&data)
            .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
            .args(["-p", &port.to_string(), "-k"])
            .arg(&sock)
            .stdin(Stdio::null())
            .stdout(log_file(&log))
            .stderr(log_file(&log))
            .spawn()
            .unwrap();
        wait_port(port, Duration::from_secs(60), "postgres", &log, &mut child);
        let pg = Postgres {
            child: Some(child),
            port,
            log,
            _dir: dir,
        };
        // Accepting connections is not yet accepting queries: try for a while.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let out = Command::new(pg_bin("psql"))
                .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", "bgd"])
                .args(["-d", "postgres", "-c", "CREATE DATABASE bgd"])
                .stdin(Stdio::null())
                .output()
                .unwrap();
            if out.status.success() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "CREATE DATABASE: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        let out = Command::new(venv().join("bin/bgd"))
            .args(["migrate", "apply", &pg.url()])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "bgd migrate apply: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        pg
    }

    /// The connection string BuildGrid takes.
    pub fn url(&self) -> String {
        format!("postgresql+psycopg2://bgd@127.0.0.1:{}/bgd", self.port)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // Immediate shutdown: the postmaster takes its backends with it.
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(c.id() as i32),
                nix::sys::signal::Signal::SIGQUIT,
            );
            let deadline = Instant::now() + Duration::from_secs(10);
            while matches!(c.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// `kiln worker` processes, each logging to a file, killed on drop.
pub struct Workers {
    pub children: Vec<Child>,
}

impl Workers {
    /// `n` workers of `slots` slots each on `url`, with their own caches under `dir`.
    pub fn start(url: &str, instance: &str, n: usize, slots: usize, dir: &Path) -> Workers {
        let mut children = Vec::new();
        for i in 0..n {
            let home = dir.join(format!("worker{i}"));
            std::fs::create_dir_all(&home).unwrap();
            let log = log_file(&home.join("worker.log"));
            let child = Command::new(crate::bin("kiln"))
                .args(["worker", "--server", url, "--instance", instance])
                .args(["--name", &format!("w{i}"), "-j", &slots.to_string(), "-v"])
                .env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .env("HOME", &home)
                .env("KILN_CACHE", home.join("cache"))
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .unwrap();
            children.push(child);
        }
        Workers { children }
    }

    pub fn kill(&mut self, i: usize) {
        let _ = self.children[i].kill();
        let _ = self.children[i].wait();
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// `tests/buildgrid/hostile.py`: a REAPI server that answers as an attacker would, run
/// with the BuildGrid venv's python; every call it takes is a JSON line in `events`.
pub struct Hostile {
    child: Child,
    pub port: u16,
    pub events: PathBuf,
}

impl Hostile {
    pub fn start(scenario: &str, dir: &Path) -> Hostile {
        std::fs::create_dir_all(dir).unwrap();
        let port = free_port();
        let events = dir.join(format!("{scenario}.jsonl"));
        let log = dir.join(format!("{scenario}.log"));
        let mut child = Command::new(venv().join("bin/python"))
            .arg(crate::repo_root().join("tests/buildgrid/hostile.py"))
            .args(["--port", &port.to_string(), "--scenario", scenario, "--log"])
            .arg(&events)
            .stdin(Stdio::null())
            .stdout(log_file(&log))
            .stderr(log_file(&log))
            .spawn()
            .unwrap();
        wait_port(
            port,
            Duration::from_secs(90),
            "hostile.py",
            &log,
            &mut child,
        );
        Hostile {
            child,
            port,
            events,
        }
    }

    pub fn url(&self) -> String {
        format!("grpc://127.0.0.1:{}", self.port)
    }

    /// The calls so far, as (name, the whole event).
    pub fn events(&self) -> Vec<(String, serde_json::Value)> {
        std::fs::read_to_string(&self.events)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .map(|v| (v["call"].as_str().unwrap_or("").to_string(), v))
            .collect()
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
