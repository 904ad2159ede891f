//! A real S3-compatible server for tests: `s3s-fs` (from crates.io, installed by
//! ci/test) on 127.0.0.1 with a free port, checking SigV4 signatures against a fixed
//! test key, storing under a temp directory, logging to a file. Stopped on drop. The
//! AWS CLI (from PyPI) is the independent client that checks what kiln wrote.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::Run;

pub const ACCESS_KEY: &str = "KILNTESTACCESSKEY";
pub const SECRET_KEY: &str = "kiln-test-secret-key-0123456789";

pub struct S3Server {
    child: Option<Child>,
    pub port: u16,
    pub dir: PathBuf,
    log: PathBuf,
}

fn find(program: &str) -> PathBuf {
    let mut dirs: Vec<PathBuf> =
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()).collect();
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        dirs.push(PathBuf::from(home).join("bin"));
    }
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo/bin"));
    }
    dirs.into_iter()
        .map(|d| d.join(program))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{program} is not installed: ci/test installs it"))
}

impl S3Server {
    /// Start a server storing under `dir` with these buckets.
    pub fn start(dir: &Path, buckets: &[&str]) -> S3Server {
        std::fs::create_dir_all(dir).unwrap();
        for b in buckets {
            std::fs::create_dir_all(dir.join(b)).unwrap();
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut s = S3Server {
            child: None,
            port,
            dir: dir.to_path_buf(),
            log: dir.with_extension("s3s.log"),
        };
        s.restart();
        s
    }

    /// (Re)start the server on the same port and directory.
    pub fn restart(&mut self) {
        self.stop();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(find("s3s-fs"))
            // Each request and response in the log: what `requests` reads.
            .env("RUST_LOG", "s3s::service=debug")
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(&self.dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "s3s-fs did not start; see {}",
                self.log.display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// The requests the server answered so far, as its log has them, in order:
    /// (method, path, whether it carried If-None-Match, response status). Read by
    /// pairing each request line with the next response line, so only meaningful
    /// while one client at a time talks to the server.
    pub fn requests(&self) -> Vec<(String, String, bool, u16)> {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let mut out = Vec::new();
        let mut open: Option<(String, String, bool)> = None;
        for line in log.lines() {
            if let Some(rest) = line.split_once("req: Request { method: ").map(|(_, r)| r) {
                let method = rest.split(',').next().unwrap_or("").to_string();
                let uri = rest
                    .split_once("uri: ")
                    .map(|(_, u)| u.split(',').next().unwrap_or("").to_string())
                    .unwrap_or_default();
                open = Some((
                    method,
                    uri,
                    line.to_ascii_lowercase().contains("\"if-none-match\""),
                ));
            } else if let Some(rest) = line.split_once("resp: Response { status: ").map(|(_, r)| r)
                && let Some((method, uri, conditional)) = open.take()
            {
                let status = rest
                    .split(',')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .parse()
                    .unwrap_or(0);
                out.push((method, uri, conditional, status));
            }
        }
        out
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A kiln store URL for `bucket/prefix` on this server.
    pub fn url(&self, bucket_and_prefix: &str) -> String {
        format!(
            "s3://{bucket_and_prefix}?endpoint={}&path_style=true",
            self.endpoint()
        )
    }

    /// Credentials and region for a client of this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.to_string()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.to_string()),
            ("AWS_DEFAULT_REGION", "us-east-1".to_string()),
            ("AWS_REGION", "us-east-1".to_string()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
        ]
    }

    /// The AWS CLI against this server.
    pub fn aws(&self, args: &[&str]) -> Run {
        let out = Command::new(find("aws"))
            .args(["--endpoint-url", &self.endpoint()])
            .args(args)
            .envs(self.env())
            .output()
            .unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.stop();
    }
}
