//! Python locks end to end: real distributions from PyPI (`pip download`, once, into
//! the target directory), served over HTTP on 127.0.0.1 as a find-links page, locked by
//! a real locker (uv, from PyPI: `uv pip compile --format pylock.toml`), and used by a
//! workspace as `[[python_lock]]` with no hand-written sha256: each locked distribution
//! is an archive `@pypi//NAME` whose wheel is fetched, checked against the lock and
//! unpacked for the interpreter on this host.

use std::path::{Path, PathBuf};
use std::process::Command;

use e2e::http::HttpServer;
use e2e::{Run, Ws};

/// The wheels of `requests` and its dependencies (urllib3, idna, certifi,
/// charset-normalizer), downloaded from PyPI when missing.
fn wheels() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pywheels");
    let have = std::fs::read_dir(&dir)
        .map(|d| {
            d.flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("requests-"))
        })
        .unwrap_or(false);
    if !have {
        let out = Command::new("python3")
            .args([
                "-m",
                "pip",
                "download",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(["--only-binary=:all:", "-d"])
            .arg(&dir)
            .arg("requests")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pip download: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // A find-links page: the files as links.
    let mut page = String::from("<html><body>\n");
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        if n.ends_with(".whl") {
            page.push_str(&format!("<a href=\"{n}\">{n}</a>\n"));
        }
    }
    std::fs::write(dir.join("index.html"), page + "</body></html>\n").unwrap();
    dir
}

struct Py {
    ws: Ws,
    _server: HttpServer,
}

const BUILD: &str = r#"
[[test]]
name = "imports"
src = "imports.sh"
data = ["@pypi//requests", "@pypi//urllib3", "@pypi//idna", "@pypi//certifi", "@pypi//Charset_Normalizer"]
"#;

/// Imports requests from the locked wheels only (-S -E: no site-packages, no PYTHON*).
const IMPORTS: &str = r#"#!/bin/sh
set -eu
r="$RUNFILES_DIR"
exec python3 -S -E -c "
import sys
sys.path[:0] = ['$r/pypi+requests', '$r/pypi+urllib3', '$r/pypi+idna', '$r/pypi+certifi', '$r/pypi+charset-normalizer']
import requests, urllib3
assert requests.__file__.startswith('$r/'), requests.__file__
assert urllib3.__file__.startswith('$r/'), urllib3.__file__
print('requests', requests.__version__)
"
"#;

impl Py {
    fn new() -> Py {
        let dir = wheels();
        let server = HttpServer::start(dir.join("../pywheels-http.log"));
        server.serve_dir(&dir);
        let ws = Ws::new();
        ws.write("WORKSPACE.toml", "[workspace]\nname = \"py\"\n\n[[python_lock]]\nname = \"pypi\"\nlock = \"third_party/pylock.toml\"\n")
            .write("third_party/requirements.in", "requests\n")
            .write("app/BUILD.toml", BUILD)
            .write_exec("app/imports.sh", IMPORTS);
        let uv_cache = ws.tmp.path().join("uv-cache");
        let out = Command::new("uv")
            .args([
                "pip",
                "compile",
                "--quiet",
                "--format",
                "pylock.toml",
                "--no-index",
            ])
            .args(["--find-links", &server.url("index.html")])
            .arg(ws.path("third_party/requirements.in"))
            .arg("-o")
            .arg(ws.path("third_party/pylock.toml"))
            .env("UV_CACHE_DIR", &uv_cache)
            .env("UV_PYTHON", "python3")
            .output()
            .expect("uv (from PyPI) is installed by ci/test");
        assert!(
            out.status.success(),
            "uv: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Py {
            ws,
            _server: server,
        }
    }

    fn lock(&self) -> String {
        std::fs::read_to_string(self.ws.path("third_party/pylock.toml")).unwrap()
    }
}

#[test]
fn a_uv_lock_pins_every_wheel_and_the_sandbox_imports_them() {
    let py = Py::new();
    let lock = py.lock();
    assert!(
        lock.contains("name = \"urllib3\""),
        "the lock has the closure: {lock}"
    );
    py.ws.kiln(&["fetch"]).expect(0);
    let run = py.ws.kiln(&["test", "//app:imports"]).expect(0);
    assert!(run.stdout.contains("PASSED"), "{}", run.stdout);
    let again = py.ws.kiln(&["test", "//app:imports"]).expect(0);
    assert!(again.stdout.contains("(cached) PASSED"), "{}", again.stdout);
    // Offline, from the cache.
    py.ws.kiln(&["--offline", "fetch"]).expect(0);
    let q = py.ws.kiln(&["query", "deps", "//app:imports"]).expect(0);
    assert!(q.stdout.contains("@pypi//requests"), "{}", q.stdout);
}

#[test]
fn a_wheel_that_does_not_match_its_lock_hash_is_refused_and_nothing_is_cached() {
    let py = Py::new();
    let lock = py.lock();
    // requests's entry pins other bytes than the index serves.
    let at = lock.find("name = \"requests\"").unwrap();
    let from = at + lock[at..].find("sha256 = \"").unwrap() + 10;
    let real = lock[from..from + 64].to_string();
    let first = if real.starts_with('0') { "1" } else { "0" };
    let wrong = format!("{first}{}", &real[1..]);
    std::fs::write(
        py.ws.path("third_party/pylock.toml"),
        lock.replacen(&real, &wrong, 1),
    )
    .unwrap();
    let run = py.ws.kiln(&["fetch"]).expect(1);
    run.stderr_has("sha256 mismatch for archive @pypi+requests");
    run.stderr_has(&format!("actual:   {real}"));
    run.stderr_has("pinned at third_party/pylock.toml:");
    run.stderr_has("lock it again");
    let cas = py.ws.cas_files();
    assert!(!cas.is_empty(), "the good wheels are cached");
    assert!(
        !cas.iter().any(|p| {
            let p = p.to_string_lossy();
            p.contains(&real) || p.contains(&wrong)
        }),
        "nothing was cached for requests: {cas:?}"
    );
}

#[test]
fn bad_python_input_names_the_file_and_line() {
    let py = Py::new();
    let lock = py.lock();
    // A distribution the lock does not pin.
    py.ws.write(
        "app/BUILD.toml",
        BUILD.replace("@pypi//requests", "@pypi//reqests"),
    );
    py.ws
        .kiln(&["build", "//app:imports"])
        .expect(2)
        .stderr_has("did you mean @pypi//requests");
    py.ws.write("app/BUILD.toml", BUILD);
    // A lock that does not parse.
    std::fs::write(
        py.ws.path("third_party/pylock.toml"),
        lock.replacen("[[packages]]", "[[packages]", 1),
    )
    .unwrap();
    let run = py.ws.kiln(&["fetch"]).expect(2);
    run.stderr_has("third_party/pylock.toml:");
    // A distribution with no wheel for this interpreter: its tags are named.
    let win = regex_free_replace_wheel(&lock, "idna", "idna-3.0-cp27-cp27m-win32.whl");
    std::fs::write(py.ws.path("third_party/pylock.toml"), win).unwrap();
    let run: Run = py.ws.kiln(&["fetch"]).expect(2);
    run.stderr_has("idna");
    run.stderr_has("has no wheel for CPython 3.");
    run.stderr_has("cp27-cp27m-win32");
}

/// `lock` with the wheel URL of `name`'s entry pointing at a file named `file`.
fn regex_free_replace_wheel(lock: &str, name: &str, file: &str) -> String {
    let at = lock.find(&format!("name = \"{name}\"")).unwrap();
    let url = at + lock[at..].find("url = \"").unwrap() + 7;
    let end = url + lock[url..].find('"').unwrap();
    let base = &lock[url..end];
    let dir = &base[..base.rfind('/').unwrap() + 1];
    format!("{}{dir}{file}{}", &lock[..url], &lock[end..])
}
