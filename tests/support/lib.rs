//! Helpers for end-to-end tests: run the real binaries in throwaway workspaces, serve
//! archives from a real HTTP server on 127.0.0.1, and build test archives.

pub mod archives;
pub mod buildgrid;
pub mod http;
pub mod runit;
pub mod s3;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A built binary of this workspace (`kiln`, `kiln-fetch`), next to the test executable.
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps");
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "{} is missing: build the binaries first (`cargo build --workspace`, which ci/test does)",
        path.display()
    );
    path
}

/// The repository checkout, for its example packages.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives in the repository")
        .to_path_buf()
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// A finished process's exit code and output.
    pub fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Assert the exit code, showing everything on failure.
    #[track_caller]
    pub fn expect(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn stderr_has(&self, needle: &str) -> &Run {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}\n--- stderr\n{}",
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn stdout_has(&self, needle: &str) -> &Run {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}\n--- stdout\n{}",
            self.stdout
        );
        self
    }
}

/// A workspace in a temp dir with its own cache and home.
pub struct Ws {
    pub tmp: tempfile::TempDir,
    pub root: PathBuf,
    pub cache: PathBuf,
}

impl Ws {
    pub fn new() -> Ws {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path().join("ws");
        let cache = tmp.path().join("cache");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(tmp.path().join("home")).unwrap();
        Ws { tmp, root, cache }
    }

    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) -> &Ws {
        let p = self.root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, content).unwrap();
        self
    }

    pub fn write_exec(&self, rel: &str, content: &str) -> &Ws {
        use std::os::unix::fs::PermissionsExt;
        self.write(rel, content);
        let p = self.root.join(rel);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        self
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// `kiln ARGS` in the workspace, with a clean, test-owned environment.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(bin("kiln"));
        c.args(args)
            .current_dir(&self.root)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.tmp.path().join("home"))
            .env("KILN_CACHE", &self.cache)
            .env("LANG", "C.UTF-8");
        c
    }

    pub fn kiln(&self, args: &[&str]) -> Run {
        Run::from(self.command(args).output().expect("run kiln"))
    }

    /// `kiln keygen` into the temp dir: the secret key file and the public line.
    pub fn keygen(&self, name: &str) -> (PathBuf, String) {
        let path = self.tmp.path().join(name);
        let mut args = vec!["keygen", "--out", path.to_str().expect("utf-8 temp path")];
        if name.starts_with("root") {
            args.push("--root");
        }
        let public = self.kiln(&args).expect(0).stdout.trim().to_string();
        (path, public)
    }

    /// Every file below the cache's CAS.
    pub fn cas_files(&self) -> Vec<PathBuf> {
        let dir = self.cache.join("v1/cas");
        let mut out = Vec::new();
        let mut stack = vec![dir];
        while let Some(d) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in rd.flatten() {
                if e.file_type().unwrap().is_dir() {
                    stack.push(e.path());
                } else {
                    out.push(e.path());
                }
            }
        }
        out
    }
}

impl Default for Ws {
    fn default() -> Self {
        Ws::new()
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    release::Digest::of_bytes(bytes).hex()
}

/// Run a command, returning its output; panics if it cannot start.
pub fn sh(script: &str, dir: &Path) -> Run {
    Run::from(
        Command::new("sh")
            .arg("-c")
            .arg(script)
            .current_dir(dir)
            .output()
            .expect("run sh"),
    )
}
