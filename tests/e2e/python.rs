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
/// charset-normalizer) and of `pytest` and its, downloaded from PyPI when missing.
fn wheels() -> PathBuf {
    // One test at a time downloads and lists (the tests share the directory).
    static ONE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = ONE.lock().unwrap_or_else(|e| e.into_inner());
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pywheels");
    let have = std::fs::read_dir(&dir)
        .map(|d| {
            let names: Vec<String> = d
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            ["requests-", "pytest-"]
                .iter()
                .all(|p| names.iter().any(|n| n.starts_with(p)))
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
            .args(["requests", "pytest"])
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
    // Replaced whole: another test's server may be serving it.
    let tmp = dir.join(format!("index.html.{}", std::process::id()));
    std::fs::write(&tmp, page + "</body></html>\n").unwrap();
    std::fs::rename(&tmp, dir.join("index.html")).unwrap();
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
            .write("third_party/requirements.in", "requests\npytest\n")
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

const OPS_BUILD: &str = r#"
[[py_binary]]
name = "fetch-url"
srcs = ["tools/**/*.py"]
entry = "tools.cli:main"
deps = ["@pypi//requests"]

[[py_binary]]
name = "say-versions"
srcs = ["tools/**/*.py"]
main = "tools/versions.py"
deps = ["@pypi//requests"]

[[bundle]]
name = "ops-tools"
kind = "tool"
binaries = [":fetch-url", ":say-versions"]

[[test]]
name = "cli_test"
src = "cli_test.sh"
data = [":fetch-url"]

[[py_test]]
name = "cli_pytest"
srcs = ["tools/**/*.py", "tests/test_cli.py"]
deps = ["@pypi//requests", "@pypi//pytest"]

[[py_test]]
name = "cli_unittest"
srcs = ["tools/**/*.py", "tests/cli_test.py"]
deps = ["@pypi//requests"]
"#;

const TEST_CLI: &str = "import sys\n\nfrom tools import cli\n\n\ndef test_main_prints_versions(capsys):\n    assert cli.main() == 0\n    assert capsys.readouterr().out.startswith('requests ')\n\n\ndef test_isolated():\n    assert sys.flags.isolated and sys.flags.no_site\n";
const UNIT_CLI: &str = "import sys\nimport unittest\n\nfrom tools import cli\n\n\nclass Cli(unittest.TestCase):\n    def test_main(self):\n        self.assertEqual(cli.main(), 0)\n\n    def test_isolated(self):\n        self.assertTrue(sys.flags.isolated and sys.flags.no_site)\n";

const CLI: &str = "import sys\n\nimport requests\nimport urllib3\n\n\ndef main():\n    print('requests', requests.__version__, 'urllib3', urllib3.__version__, ' '.join(sys.argv[1:]))\n    return 0\n";
const VERSIONS: &str = "import sys\nimport requests\nprint('versions', requests.__version__, sys.flags.isolated, sys.flags.no_site)\n";
const CLI_TEST: &str = "#!/bin/sh\nset -eu\nout=$(python3 -I -S \"$RUNFILES_DIR/_main/ops/fetch-url.kiln-main.py\" hi)\necho \"$out\"\ncase \"$out\" in 'requests '*' urllib3 '*' hi') ;; *) exit 1 ;; esac\n";

/// A host that installs what `py` published: its root, its fetch.toml (trusting the
/// workspace's release key), kiln-fetch with a PATH of our choosing.
struct PyHost {
    tmp: tempfile::TempDir,
    root: PathBuf,
    config: PathBuf,
}

impl Py {
    /// Sign and publish `label` as build `n`; the public key of the signer.
    fn publish(&self, label: &str, n: &str) -> String {
        let key = self.ws.tmp.path().join("release.key");
        let public_file = self.ws.tmp.path().join("release.key.pub-line");
        if !key.exists() {
            let (_, public) = self.ws.keygen("release.key");
            std::fs::write(&public_file, public).unwrap();
        }
        let out = self
            .ws
            .command(&["publish", label, "--build-number", n])
            .env("KILN_SIGNING_KEY", &key)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::read_to_string(&public_file).unwrap()
    }

    fn host(&self, public: &str, extra: &str) -> PyHost {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        let config = tmp.path().join("fetch.toml");
        std::fs::write(
            &config,
            format!(
                "store = \"{}\"\nroot = \"{}\"\ntrusted_keys = [\"{public}\"]\n{extra}",
                self.ws.path(".kiln/store").display(),
                root.display()
            ),
        )
        .unwrap();
        PyHost { tmp, root, config }
    }
}

impl PyHost {
    fn fetch(&self, args: &[&str], path: Option<&str>) -> Run {
        let mut c = Command::new(e2e::bin("kiln-fetch"));
        c.arg("--config").arg(&self.config).args(args);
        if let Some(p) = path {
            c.env("PATH", p);
        }
        Run::from(c.output().unwrap())
    }

    fn install(&self, package: &str, n: &str) {
        self.fetch(&["install", package, "--version", n], None)
            .expect(0);
    }

    fn tool(&self, name: &str) -> Command {
        Command::new(self.root.join("usr/local/bin").join(name))
    }
}

fn ops(py: &Py) {
    py.ws
        .write("ops/BUILD.toml", OPS_BUILD)
        .write("ops/tools/__init__.py", "")
        .write("ops/tools/cli.py", CLI)
        .write("ops/tools/versions.py", VERSIONS)
        .write_exec("ops/cli_test.sh", CLI_TEST)
        .write("ops/tests/test_cli.py", TEST_CLI)
        .write("ops/tests/cli_test.py", UNIT_CLI);
}

/// py_test runs in the sandbox with pytest when pytest is among its deps (its own
/// closure: pluggy, iniconfig, packaging, ...; the markers for older Pythons skipped),
/// with unittest otherwise; results are cached like any test, and a failing test fails.
#[test]
fn py_tests_run_with_pytest_or_unittest_and_are_cached() {
    let py = Py::new();
    ops(&py);
    for t in ["//ops:cli_pytest", "//ops:cli_unittest"] {
        let run = py.ws.kiln(&["test", t]).expect(0);
        assert!(run.stdout.contains("PASSED"), "{t}: {}", run.stdout);
        let again = py.ws.kiln(&["test", t]).expect(0);
        assert!(
            again.stdout.contains("(cached) PASSED"),
            "{t}: {}",
            again.stdout
        );
    }
    let log =
        std::fs::read_to_string(py.ws.path("kiln-out/testlogs/ops/cli_pytest/test.log")).unwrap();
    assert!(log.contains("2 passed"), "pytest ran both: {log}");
    let log =
        std::fs::read_to_string(py.ws.path("kiln-out/testlogs/ops/cli_unittest/test.log")).unwrap();
    assert!(log.contains("Ran 2 tests"), "unittest ran both: {log}");
    // A failing assertion fails the test, with pytest's own report in the log.
    py.ws.write(
        "ops/tests/test_cli.py",
        TEST_CLI.replace("startswith('requests ')", "startswith('nope')"),
    );
    py.ws.kiln(&["test", "//ops:cli_pytest"]).expect(1);
    let log =
        std::fs::read_to_string(py.ws.path("kiln-out/testlogs/ops/cli_pytest/test.log")).unwrap();
    assert!(log.contains("1 failed"), "{log}");
    // No test file at all is found at build time.
    py.ws.write(
        "ops/BUILD.toml",
        OPS_BUILD.replace("\"tests/cli_test.py\"", "\"cli_test.sh\""),
    );
    py.ws
        .kiln(&["test", "//ops:cli_unittest"])
        .expect(2)
        .stderr_has("no test file (test_*.py or *_test.py)");
}

/// The runbook-to-tool path: a py_binary whose only dep is @pypi//requests gets its
/// closure (urllib3, idna, certifi, charset-normalizer, from the wheels' Requires-Dist:
/// the lock records no edges), is tested in the sandbox (cached the second time),
/// published, installed by kiln-fetch on a host root and run from usr/local/bin, even
/// with a conflicting urllib3 on the host's PYTHONPATH and in the interpreter's
/// site-packages.
#[test]
fn a_py_binary_is_tested_published_installed_and_runs_isolated_on_a_host() {
    let py = Py::new();
    ops(&py);
    let run = py.ws.kiln(&["test", "//ops:cli_test"]).expect(0);
    assert!(run.stdout.contains("PASSED"), "{}", run.stdout);
    let again = py.ws.kiln(&["test", "//ops:cli_test"]).expect(0);
    assert!(again.stdout.contains("(cached) PASSED"), "{}", again.stdout);

    let public = py.publish("//ops:ops-tools", "1");
    let h = py.host(&public, "");
    h.install("ops-tools", "1");
    let host = &h.tmp;

    // A host whose Python has another urllib3 (one that cannot even be imported), on
    // PYTHONPATH and in the site-packages of the python3 first in PATH.
    let evil = host.path().join("evil");
    std::fs::create_dir_all(evil.join("urllib3")).unwrap();
    std::fs::write(
        evil.join("urllib3/__init__.py"),
        "raise ImportError('the host urllib3')\n",
    )
    .unwrap();
    let venv = host.path().join("venv");
    let made = Command::new("python3")
        .args(["-m", "venv", "--without-pip"])
        .arg(&venv)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let site = std::fs::read_dir(venv.join("lib"))
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path()
        .join("site-packages/urllib3");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(
        site.join("__init__.py"),
        "raise ImportError('the site urllib3')\n",
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        venv.join("bin").display(),
        std::env::var("PATH").unwrap()
    );
    for tool in ["fetch-url", "say-versions"] {
        let out = h
            .tool(tool)
            .arg("now")
            .env("PYTHONPATH", &evil)
            .env("PATH", &path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{tool}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        match tool {
            "fetch-url" => assert!(
                text.starts_with("requests ")
                    && text.contains(" urllib3 ")
                    && text.trim_end().ends_with("now"),
                "{text}"
            ),
            _ => assert!(
                text.starts_with("versions ") && text.trim_end().ends_with("1 1"),
                "{text}"
            ),
        }
    }
    // Running the tools (as root, whom read-only modes do not stop) wrote nothing into
    // the install: no __pycache__, so verify stays clean.
    h.fetch(&["verify", "ops-tools"], None).expect(0);
}

/// The same bundle, bit for bit, from another checkout path, another umask and time
/// zone, each workspace with its own cache.
#[test]
fn a_py_binary_bundle_is_reproducible_across_paths() {
    let sha = |py: &Py, umask: &str, tz: &str| {
        let kiln = py.ws.command(&[]);
        let out = Command::new("sh")
            .args(["-c", &format!("umask {umask}; exec \"$@\""), "sh"])
            .arg(kiln.get_program())
            .args(["--json", "build", "//ops:ops-tools"])
            .current_dir(py.ws.path(""))
            .env_clear()
            .envs(kiln.get_envs().filter_map(|(k, v)| Some((k, v?))))
            .env("TZ", tz)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["bundles"][0]["sha256"].as_str().unwrap().to_string()
    };
    let (a, b) = (Py::new(), Py::new());
    ops(&a);
    ops(&b);
    assert_eq!(sha(&a, "022", "UTC"), sha(&b, "077", "Asia/Tokyo"));
}

#[test]
fn py_binary_mistakes_are_found_at_build_time() {
    let py = Py::new();
    ops(&py);
    py.ws.write(
        "ops/BUILD.toml",
        OPS_BUILD.replace("tools.cli:main", "tools.nope:main"),
    );
    let run = py.ws.kiln(&["build", "//ops:ops-tools"]).expect(2);
    run.stderr_has("ops/BUILD.toml:5:");
    run.stderr_has("entry module tools.nope is not in its srcs");
    py.ws.write(
        "ops/BUILD.toml",
        OPS_BUILD.replace("tools.cli:main", "tools.cli"),
    );
    py.ws
        .kiln(&["build", "//ops:ops-tools"])
        .expect(2)
        .stderr_has("is not MODULE:FUNCTION");
    py.ws.write("ops/BUILD.toml", OPS_BUILD);
    // The lock lacks a distribution requests needs (and nothing names it directly).
    std::fs::remove_dir_all(py.ws.path("app")).unwrap();
    let lock = py.lock();
    let at = lock.find("[[packages]]\nname = \"urllib3\"").unwrap();
    let end = lock[at + 1..]
        .find("[[packages]]")
        .map_or(lock.len(), |e| at + 1 + e);
    std::fs::write(
        py.ws.path("third_party/pylock.toml"),
        format!("{}{}", &lock[..at], &lock[end..]),
    )
    .unwrap();
    let run = py.ws.kiln(&["build", "//ops:ops-tools"]).expect(2);
    run.stderr_has("needs urllib3, which the lock \"pypi\" does not pin");
}

/// Names as users write them: a tool bundle and the binary it ships share a name
/// (`hello` installs `hello`), for a py_binary and for a wrapper. `//ops:hello` on the
/// command line is both (the bundle is built and published); in the BUILD file `:hello`
/// is the binary.
#[test]
fn a_bundle_and_its_binary_may_share_a_name() {
    let py = Py::new();
    ops(&py);
    py.ws
        .write(
            "ops/BUILD.toml",
            format!(
                "{OPS_BUILD}\n[[py_binary]]\nname = \"hello\"\nsrcs = [\"tools/**/*.py\"]\nentry = \"tools.cli:main\"\ndeps = [\"@pypi//requests\"]\n\n[[bundle]]\nname = \"hello\"\nkind = \"tool\"\nbinaries = [\":hello\"]\n"
            ),
        )
        .write(
            "sh/BUILD.toml",
            "[[wrapper]]\nname = \"greet\"\nsrc = \"greet.sh\"\n\n[[bundle]]\nname = \"greet\"\nkind = \"tool\"\nbinaries = [\":greet\"]\n",
        )
        .write_exec("sh/greet.sh", "#!/bin/sh\necho greetings\n");
    for (label, package) in [("//ops:hello", "hello"), ("//sh:greet", "greet")] {
        let run = py.ws.kiln(&["--json", "build", label]).expect(0);
        let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let bundles = v["bundles"].as_array().unwrap();
        assert_eq!(bundles.len(), 1, "{v}");
        assert_eq!(bundles[0]["label"], format!("{label} (bundle)"), "{v}");
        assert!(
            py.ws
                .path(&format!(
                    "kiln-out/{}/{package}.tar.gz",
                    &label[2..label.find(':').unwrap()]
                ))
                .is_file()
        );
    }
    let mut public = String::new();
    for label in ["//ops:hello", "//sh:greet"] {
        public = py.publish(label, "7");
    }
    let h = py.host(&public, "");
    for (package, says) in [("hello", "requests "), ("greet", "greetings")] {
        h.install(package, "7");
        let out = h.tool(package).output().unwrap();
        assert!(
            String::from_utf8_lossy(&out.stdout).starts_with(says),
            "{out:?}"
        );
    }
    // Two bundles of one name are still one too many.
    py.ws.write(
        "sh/BUILD.toml",
        "[[wrapper]]\nname = \"greet\"\nsrc = \"greet.sh\"\n\n[[bundle]]\nname = \"greet\"\nkind = \"tool\"\nbinaries = [\":greet\"]\n\n[[bundle]]\nname = \"greet\"\nkind = \"tool\"\n",
    );
    py.ws
        .kiln(&["build", "//sh:greet"])
        .expect(2)
        .stderr_has("duplicate target name");
}

const PYPROJECT: &str = "[project]\nname = \"ops-runbooks\"\nversion = \"1.0\"\ndependencies = [\"requests\"]\n\n[project.scripts]\nfetch-url = \"tools.cli:main\"\npromote-follower = \"tools.promote:main\"\n";
const PROMOTE: &str = "import sys\n\nimport idna\n\n\ndef main():\n    print(sys.argv[0], 'promoting', ' '.join(sys.argv[1:]), 'idna', idna.__version__)\n    return 0\n";

/// The runbook repository: one `[[py_scripts]]` block turns `[project.scripts]` into a
/// py_binary per script and, with `bundles = true`, a tool bundle each, named after the
/// script; each is published, installed by its name and run. A script whose module is
/// missing is found at build time; a setup.py is refused with the reason.
#[test]
fn py_scripts_turn_project_scripts_into_one_tool_each() {
    let py = Py::new();
    ops(&py);
    py.ws
        .write("ops/pyproject.toml", PYPROJECT)
        .write("ops/tools/promote.py", PROMOTE)
        .write(
            "ops/BUILD.toml",
            "[[py_scripts]]\nname = \"runbooks\"\npyproject = \"pyproject.toml\"\nsrcs = [\"tools/**/*.py\"]\ndeps = [\"@pypi//requests\"]\nbundles = true\n",
        );
    let run = py.ws.kiln(&["--json", "build", "//ops:runbooks"]).expect(0);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let mut paths: Vec<String> = v["bundles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["path"].as_str().unwrap().to_string())
        .collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            "kiln-out/ops/fetch-url.tar.gz",
            "kiln-out/ops/promote-follower.tar.gz"
        ],
        "{v}"
    );
    let public = py.publish("//ops:runbooks", "3");
    let h = py.host(&public, "");
    for (tool, says) in [
        ("fetch-url", "requests "),
        // argv[0] is the script's name, as for an installed console script
        // (click's usage line shows it).
        ("promote-follower", "promote-follower promoting db-2 idna "),
    ] {
        h.install(tool, "3");
        let out = h.tool(tool).arg("db-2").output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.starts_with(says),
            "{tool}: {text} {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // A script whose module is not in the sources: at build time.
    py.ws.write(
        "ops/pyproject.toml",
        PYPROJECT.replace("tools.promote:main", "tools.gone:main"),
    );
    py.ws
        .kiln(&["build", "//ops:runbooks"])
        .expect(2)
        .stderr_has("entry module tools.gone is not in its srcs");
    // A setup.py is code: refused, with what to do.
    py.ws.write("ops/setup.py", "from setuptools import setup\nsetup()\n").write(
        "ops/BUILD.toml",
        "[[py_scripts]]\nname = \"runbooks\"\npyproject = \"setup.py\"\nsrcs = [\"tools/**/*.py\"]\n",
    );
    py.ws
        .kiln(&["build", "//ops:runbooks"])
        .expect(2)
        .stderr_has("cannot be read without running it");
}

/// A bundle of Python tools records the Python it was built for; a host whose python3
/// is another version gets a warning, or with `require_python = true` a refusal (exit
/// 3) that leaves nothing behind.
#[test]
fn hosts_warn_or_refuse_when_their_python_differs() {
    let py = Py::new();
    ops(&py);
    let public = py.publish("//ops:ops-tools", "5");
    let manifest = Command::new("tar")
        .args(["-xzOf"])
        .arg(py.ws.path("kiln-out/ops/ops-tools.tar.gz"))
        .arg("MANIFEST.json")
        .output()
        .unwrap();
    let m: serde_json::Value = serde_json::from_slice(&manifest.stdout).unwrap();
    let built_for = m["python"]
        .as_str()
        .expect("the manifest records the Python")
        .to_string();
    for require in [true, false] {
        let h = py.host(&public, &format!("require_python = {require}\n"));
        // A python3 that says it is 3.2.
        let bin = h.tmp.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::write(bin.join("python3"), "#!/bin/sh\necho 3.2\n").unwrap();
        Command::new("chmod")
            .arg("755")
            .arg(bin.join("python3"))
            .status()
            .unwrap();
        let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
        let run = h.fetch(&["install", "ops-tools", "--version", "5"], Some(&path));
        let linked = h.root.join("usr/local/bin/fetch-url").exists();
        if require {
            run.expect(3).stderr_has(&format!(
                "built for Python {built_for}; this host has Python 3.2"
            ));
            assert!(
                !h.root.join("opt/kiln/ops-tools/5").exists(),
                "nothing unpacked"
            );
            assert!(!linked, "nothing linked");
        } else {
            run.expect(0)
                .stderr_has("warning: ops-tools build 5 was built for Python");
            assert!(linked);
        }
    }
}

/// What an outside review found a lock or project file could do, each refused now with
/// the file and line: a wheel that is another distribution than its entry (by file
/// name, or by its contents under a reused sha256), a lock read through a symlinked
/// directory, an entry name that is no distribution name, the same distribution twice,
/// a `requires-python` this interpreter does not meet, script names that would be host
/// commands starting with '-', an unknown lock named in a label.
#[test]
fn a_lock_or_project_file_cannot_smuggle_things_in() {
    let py = Py::new();
    let lock = py.lock();
    let write = |text: String| std::fs::write(py.ws.path("third_party/pylock.toml"), text).unwrap();
    // idna's entry pointing at certifi's wheel file.
    let at = lock.find("name = \"idna\"").unwrap();
    let url = at + lock[at..].find("url = \"").unwrap() + 7;
    let end = url + lock[url..].find('"').unwrap();
    let certifi_url = {
        let c = lock.find("name = \"certifi\"").unwrap();
        let u = c + lock[c..].find("url = \"").unwrap() + 7;
        lock[u..u + lock[u..].find('"').unwrap()].to_string()
    };
    write(format!("{}{certifi_url}{}", &lock[..url], &lock[end..]));
    let run = py.ws.kiln(&["fetch"]).expect(2);
    run.stderr_has("third_party/pylock.toml:");
    run.stderr_has("is a wheel of certifi, not of idna");
    // idna's entry with certifi's sha256 (its bytes already in the cache): the
    // contents say certifi.
    write(lock.clone());
    py.ws.kiln(&["fetch"]).expect(0);
    let sha = |name: &str| {
        let at = lock.find(&format!("name = \"{name}\"")).unwrap();
        let from = at + lock[at..].find("sha256 = \"").unwrap() + 10;
        lock[from..from + 64].to_string()
    };
    write(lock.replacen(&sha("idna"), &sha("certifi"), 1));
    let run = py.ws.kiln(&["test", "//app:imports"]).expect(1);
    run.stderr_has("the wheel pinned for idna holds certifi");
    write(lock.clone());
    // The same distribution twice, and a name that is not one.
    write(
        lock.replacen("name = \"idna\"", "name = \"IDNA\"", 1)
            + "\n[[packages]]\nname = \"idna\"\nversion = \"3.20\"\nwheels = []\n",
    );
    py.ws
        .kiln(&["fetch"])
        .expect(2)
        .stderr_has("idna is locked twice");
    write(lock.replacen("name = \"idna\"", "name = \"../../idna\"", 1));
    py.ws
        .kiln(&["fetch"])
        .expect(2)
        .stderr_has("is not a distribution name");
    // requires-python this interpreter does not meet.
    write(lock.replacen("requires-python = \"", "requires-python = \">=3.99,", 1));
    py.ws
        .kiln(&["fetch"])
        .expect(2)
        .stderr_has("requires-python");
    write(lock.clone());
    // The lock through a symlinked directory.
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("pylock.toml"), &lock).unwrap();
    std::os::unix::fs::symlink(outside.path(), py.ws.path("third_party/d")).unwrap();
    py.ws.write(
        "WORKSPACE.toml",
        "[workspace]\nname = \"py\"\n\n[[python_lock]]\nname = \"pypi\"\nlock = \"third_party/d/pylock.toml\"\n",
    );
    py.ws
        .kiln(&["fetch"])
        .expect(2)
        .stderr_has("is not a file of the workspace");
    py.ws.write(
        "WORKSPACE.toml",
        "[workspace]\nname = \"py\"\n\n[[python_lock]]\nname = \"pypi\"\nlock = \"third_party/pylock.toml\"\n",
    );
    // An unknown lock.
    py.ws.write(
        "app/BUILD.toml",
        BUILD.replace("@pypi//idna", "@nosuch//idna"),
    );
    py.ws
        .kiln(&["build", "//app:imports"])
        .expect(2)
        .stderr_has("no [[python_lock]] or archive named \"nosuch\"");
    py.ws.write("app/BUILD.toml", BUILD);
    // Script names that would be host commands starting with '-', at their line.
    ops(&py);
    py.ws
        .write("ops/pyproject.toml", "[project]\nname = \"x\"\n\n[project.scripts]\nok = \"tools.cli:main\"\n\"-rf\" = \"tools.cli:main\"\n")
        .write("ops/BUILD.toml", "[[py_scripts]]\nname = \"runbooks\"\nsrcs = [\"tools/**/*.py\"]\ndeps = [\"@pypi//requests\"]\n");
    let run = py.ws.kiln(&["build", "//ops:runbooks"]).expect(2);
    run.stderr_has("ops/pyproject.toml:6: script \"-rf\"");
    // A project file through a symlinked directory is not read.
    let away = tempfile::tempdir().unwrap();
    std::fs::write(away.path().join("pyproject.toml"), PYPROJECT).unwrap();
    std::os::unix::fs::symlink(away.path(), py.ws.path("ops/away")).unwrap();
    py.ws.write("ops/BUILD.toml", "[[py_scripts]]\nname = \"runbooks\"\npyproject = \"away/pyproject.toml\"\nsrcs = [\"tools/**/*.py\"]\n");
    py.ws
        .kiln(&["build", "//ops:runbooks"])
        .expect(2)
        .stderr_has("no such file \"away/pyproject.toml\" in the package");
}

/// Wheels that put their modules under `{name}.data/purelib` (PEP 427) work too.
#[test]
fn a_wheel_with_a_data_purelib_directory_is_importable() {
    let py = Py::new();
    // A wheel of our own, served beside the others.
    let dir = wheels();
    let wheel = dir.join("datapk-1.0-py3-none-any.whl");
    if !wheel.exists() {
        let script = format!(
            "import zipfile\nz = zipfile.ZipFile({:?}, 'w')\nz.writestr('datapk-1.0.data/purelib/datapk/__init__.py', 'VALUE = 42\\n')\nz.writestr('datapk-1.0.dist-info/METADATA', 'Metadata-Version: 2.1\\nName: datapk\\nVersion: 1.0\\n')\nz.writestr('datapk-1.0.dist-info/WHEEL', 'Wheel-Version: 1.0\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n')\nz.writestr('datapk-1.0.dist-info/RECORD', '')\nz.close()\n",
            wheel.display().to_string()
        );
        let out = Command::new("python3")
            .arg("-c")
            .arg(script)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let sha = e2e::sha256_hex(&std::fs::read(&wheel).unwrap());
    let lock = py.lock()
        + &format!(
            "\n[[packages]]\nname = \"datapk\"\nversion = \"1.0\"\nwheels = [{{ url = \"{}\", hashes = {{ sha256 = \"{sha}\" }} }}]\n",
            py.lock()[py.lock().find("url = \"").unwrap() + 7..]
                .split('"')
                .next()
                .unwrap()
                .rsplit_once('/')
                .unwrap()
                .0
                .to_string()
                + "/datapk-1.0-py3-none-any.whl"
        );
    std::fs::write(py.ws.path("third_party/pylock.toml"), lock).unwrap();
    py.ws
        .write("d/BUILD.toml", "[[py_binary]]\nname = \"show\"\nsrcs = [\"show.py\"]\nmain = \"show.py\"\ndeps = [\"@pypi//datapk\"]\n\n[[test]]\nname = \"show_test\"\nsrc = \"show_test.sh\"\ndata = [\":show\"]\n")
        .write("d/show.py", "import datapk\nprint('value', datapk.VALUE)\n")
        .write_exec("d/show_test.sh", "#!/bin/sh\nset -eu\npython3 -B -I -S \"$RUNFILES_DIR/_main/d/show.kiln-main.py\" | grep -qx 'value 42'\n");
    py.ws.kiln(&["test", "//d:show_test"]).expect(0);
}

const LIB_BUILD: &str = r#"
[[py_library]]
name = "common"
srcs = ["src/opslib/**/*.py"]
imports = ["src"]
deps = ["@pypi//requests"]
"#;

const USES_BUILD: &str = r#"
[[py_binary]]
name = "uses-lib"
srcs = ["uses.py"]
main = "uses.py"
deps = ["//lib:common"]

[[py_binary]]
name = "uses-binary"
srcs = ["uses.py"]
main = "uses.py"
deps = [":uses-lib"]

[[py_test]]
name = "lib_test"
srcs = ["test_lib.py"]
deps = ["//lib:common"]

[[test]]
name = "runs"
src = "runs.sh"
data = [":uses-lib", ":uses-binary"]

[[bundle]]
name = "uses"
kind = "tool"
binaries = [":uses-lib"]
"#;

/// `[[py_library]]`: sources other Python targets depend on, with their own import
/// roots and locked distributions. A py_binary (or py_test) depending on it, directly or
/// through another py_binary, imports it and its closure (requests, urllib3) from
/// another package, in the sandbox and installed on a host; a library is not a binary.
#[test]
fn a_py_library_brings_its_sources_roots_and_wheels_to_its_dependents() {
    let py = Py::new();
    py.ws
        .write("lib/BUILD.toml", LIB_BUILD)
        .write("lib/src/opslib/__init__.py", "")
        .write(
            "lib/src/opslib/net.py",
            "import requests\nimport urllib3\n\n\ndef versions():\n    return 'requests %s urllib3 %s' % (requests.__version__, urllib3.__version__)\n",
        )
        .write("ops/BUILD.toml", USES_BUILD)
        .write(
            "ops/uses.py",
            "import sys\nfrom opslib import net\nprint('uses', net.versions(), ' '.join(sys.argv[1:]))\n",
        )
        .write(
            "ops/test_lib.py",
            "import unittest\n\nfrom opslib import net\n\n\nclass Lib(unittest.TestCase):\n    def test_versions(self):\n        self.assertTrue(net.versions().startswith('requests '))\n",
        )
        .write_exec(
            "ops/runs.sh",
            "#!/bin/sh\nset -eu\nfor b in uses-lib uses-binary; do\n  out=$(python3 -B -I -S \"$RUNFILES_DIR/_main/ops/$b.kiln-main.py\" hi)\n  echo \"$out\"\n  case \"$out\" in 'uses requests '*' urllib3 '*' hi') ;; *) exit 1 ;; esac\ndone\n",
        );
    for t in ["//ops:lib_test", "//ops:runs"] {
        let run = py.ws.kiln(&["test", t]).expect(0);
        assert!(run.stdout.contains("PASSED"), "{t}: {}", run.stdout);
    }
    let q = py.ws.kiln(&["query", "deps", "//ops:uses-lib"]).expect(0);
    assert!(q.stdout.contains("//lib:common"), "{}", q.stdout);

    let public = py.publish("//ops:uses", "1");
    let h = py.host(&public, "");
    h.install("uses", "1");
    let out = h.tool("uses-lib").arg("there").output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && said.starts_with("uses requests ") && said.contains(" there"),
        "{said} {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A library is not something a host can run.
    py.ws.write(
        "ops/BUILD.toml",
        USES_BUILD.replace(
            "binaries = [\":uses-lib\"]",
            "binaries = [\"//lib:common\"]",
        ),
    );
    py.ws.kiln(&["build", "//ops:uses"]).expect(2).stderr_has(
        "//lib:common is a py_library, but binaries must be wrappers or py_binary targets",
    );
    // What the library needs and the lock lacks names the library.
    py.ws.write(
        "lib/BUILD.toml",
        LIB_BUILD.replace("@pypi//requests", "@pypi//reqests"),
    );
    py.ws
        .kiln(&["build", "//ops:uses-lib"])
        .expect(2)
        .stderr_has("did you mean @pypi//requests");
}

/// A PEP 503 simple index of the downloaded wheels on `server`: `/simple/NAME/` lists
/// each wheel of NAME as `../../FILE#sha256=HEX` (the files are served at `/FILE`).
fn simple_index(server: &HttpServer, dir: &Path) {
    let mut pages: std::collections::BTreeMap<String, String> = Default::default();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        if !file.ends_with(".whl") {
            continue;
        }
        let name = file
            .split('-')
            .next()
            .unwrap()
            .to_ascii_lowercase()
            .replace(['_', '.'], "-");
        let sha = e2e::sha256_hex(&std::fs::read(e.path()).unwrap());
        pages.entry(name).or_default().push_str(&format!(
            "<a href=\"../../{file}#sha256={sha}\" data-requires-python=\"&gt;=3.7\">{file}</a><br/>\n"
        ));
    }
    for (name, links) in pages {
        server.add(
            &format!("simple/{name}/"),
            format!(
                "<!DOCTYPE html>\n<html><body><h1>Links for {name}</h1>\n{links}</body></html>\n"
            )
            .into_bytes(),
        );
    }
}

/// The same workspace as [`Py::new`], locked instead by a hashed requirements file
/// (`uv pip compile --generate-hashes`, a real locker) whose wheels are looked up on
/// a PEP 503 index: `index_url` in WORKSPACE.toml.
fn requirements_workspace(index_urls: &str) -> (Py, PathBuf) {
    let py = Py::new();
    let dir = wheels();
    simple_index(&py._server, &dir);
    let out = Command::new("uv")
        .args([
            "pip",
            "compile",
            "--quiet",
            "--generate-hashes",
            "--no-index",
        ])
        .args(["--find-links", &py._server.url("index.html")])
        .arg(py.ws.path("third_party/requirements.in"))
        .arg("-o")
        .arg(py.ws.path("third_party/requirements.txt"))
        .env("UV_CACHE_DIR", py.ws.tmp.path().join("uv-cache"))
        .env("UV_PYTHON", "python3")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "uv: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let index = index_urls.replace("INDEX", &py._server.url("simple"));
    py.ws.write(
        "WORKSPACE.toml",
        format!("[workspace]\nname = \"py\"\n\n[[python_lock]]\nname = \"pypi\"\nlock = \"third_party/requirements.txt\"\nindex_url = {index}\n"),
    );
    std::fs::remove_file(py.ws.path("third_party/pylock.toml")).unwrap();
    (py, dir)
}

/// A hashed requirements file works as a pylock.toml does: each pinned release's
/// wheel is found on the index (one page per release, asked once: later commands,
/// `--offline` ones too, use what the cache remembers), checked against the file's
/// hashes, and the tools build, test and run. A dead mirror first is passed over.
#[test]
fn a_hashed_requirements_file_finds_its_wheels_on_an_index() {
    let dead = HttpServer::start(std::env::temp_dir().join("kiln-dead-index.log"));
    let dead_url = dead.url("simple");
    drop(dead);
    let (py, _) = requirements_workspace(&format!("[\"{dead_url}\", \"INDEX\"]"));
    let reqs = std::fs::read_to_string(py.ws.path("third_party/requirements.txt")).unwrap();
    assert!(reqs.contains("--hash=sha256:"), "{reqs}");
    // A release for another platform is not looked up (the index has no page for it).
    py.ws.write(
        "third_party/requirements.txt",
        format!(
            "{reqs}colorama==0.4.6 ; sys_platform == \"win32\" \\\n    --hash=sha256:{}\n",
            "ab".repeat(32)
        ),
    );
    ops(&py);
    for t in ["//ops:cli_pytest", "//app:imports"] {
        let run = py.ws.kiln(&["test", t]).expect(0);
        assert!(run.stdout.contains("PASSED"), "{t}: {}", run.stdout);
    }
    let asked = py._server.requests("simple/requests/").len();
    assert_eq!(asked, 1, "one look at the index page of requests");
    assert!(py._server.requests("simple/colorama/").is_empty());
    py.ws
        .kiln(&["--offline", "build", "//ops:ops-tools"])
        .expect(0);
    py.ws.kiln(&["build", "//ops:ops-tools"]).expect(0);
    assert_eq!(
        py._server.requests("simple/requests/").len(),
        1,
        "remembered"
    );

    let public = py.publish("//ops:ops-tools", "1");
    let h = py.host(&public, "");
    h.install("ops-tools", "1");
    let out = h.tool("fetch-url").arg("hi").output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && said.starts_with("requests ") && said.contains(" hi"),
        "{said} {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// With a new cache: `--offline` has nothing to go on (exit 3, naming the line), a
/// `--distdir` holding the wheels (as `pip download` leaves them) is enough.
#[test]
fn a_requirements_lock_resolves_offline_from_a_distdir() {
    let (py, dir) = requirements_workspace("\"INDEX\"");
    ops(&py);
    let run = py
        .ws
        .kiln(&["--offline", "build", "//ops:ops-tools"])
        .expect(3);
    run.stderr_has("third_party/requirements.txt:");
    run.stderr_has("is not resolved yet");
    run.stderr_has("--distdir");
    let d = dir.display().to_string();
    py.ws
        .kiln(&["--offline", "--distdir", &d, "build", "//ops:ops-tools"])
        .expect(0);
    // Remembered: offline without the distdir now.
    py.ws
        .kiln(&["--offline", "build", "//ops:ops-tools"])
        .expect(0);
    assert!(py._server.requests("simple/requests/").is_empty());
}

/// What a requirements file or its index can get wrong: a hash the index's files do
/// not have (exit 1, nothing cached), an index that lies about a file's hash (the
/// bytes are checked: exit 1, nothing cached), a line kiln cannot pin (file:line,
/// exit 2), and the WORKSPACE.toml mistakes (exit 2).
#[test]
fn requirements_locks_refuse_what_they_cannot_pin() {
    let (py, dir) = requirements_workspace("\"INDEX\"");
    ops(&py);
    let reqs = std::fs::read_to_string(py.ws.path("third_party/requirements.txt")).unwrap();
    // idna pinned with another hash than any of its files.
    let at = reqs.find("\nidna==").unwrap();
    let from = at + reqs[at..].find("sha256:").unwrap() + 7;
    let real = reqs[from..from + 64].to_string();
    let wrong = format!(
        "{}{}",
        if real.starts_with('0') { "1" } else { "0" },
        &real[1..]
    );
    py.ws.write(
        "third_party/requirements.txt",
        reqs.replacen(&real, &wrong, 1),
    );
    let run = py.ws.kiln(&["fetch"]).expect(1);
    run.stderr_has("third_party/requirements.txt:");
    run.stderr_has("idna==");
    run.stderr_has("other hashes than pinned");
    py.ws.write("third_party/requirements.txt", &reqs);

    // The index says idna's wheel is one the file pins, and serves other bytes.
    let idna = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|f| f.starts_with("idna-") && f.ends_with(".whl"))
        .unwrap();
    let certifi = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("certifi-"))
        .unwrap()
        .path();
    py._server.add(
        "simple/idna/",
        format!("<a href=\"/evil/{idna}#sha256={real}\">{idna}</a>\n").into_bytes(),
    );
    py._server
        .add(&format!("evil/{idna}"), std::fs::read(certifi).unwrap());
    let run = py.ws.kiln(&["fetch"]).expect(1);
    run.stderr_has("sha256 mismatch for archive @pypi+idna");
    run.stderr_has("pinned at third_party/requirements.txt:");
    assert!(
        !py.ws
            .cas_files()
            .iter()
            .any(|p| p.to_string_lossy().contains(&real)),
        "nothing cached for idna"
    );

    for (text, says) in [
        (
            "requests>=2\n",
            "third_party/requirements.txt:1:1: requests is not pinned to one version",
        ),
        (
            "requests==2.31.0\n",
            "third_party/requirements.txt:1:1: requests==2.31.0 has no --hash",
        ),
        (
            "-r other.txt\n",
            "third_party/requirements.txt:1:1: -r: kiln reads one requirements file",
        ),
    ] {
        py.ws.write("third_party/requirements.txt", text);
        py.ws
            .kiln(&["build", "//ops:ops-tools"])
            .expect(2)
            .stderr_has(says);
    }
    let ws = "[workspace]\nname = \"py\"\n\n[[python_lock]]\nname = \"pypi\"\nlock = \"third_party/requirements.txt\"\n";
    py.ws.write("WORKSPACE.toml", ws);
    py.ws
        .kiln(&["build", "//ops:ops-tools"])
        .expect(2)
        .stderr_has(
            "WORKSPACE.toml:6:8: lock \"third_party/requirements.txt\" is a requirements file",
        );
    py.ws.write(
        "WORKSPACE.toml",
        format!(
            "{}index_url = \"https://x/simple\"\n",
            ws.replace("requirements.txt", "pylock.toml")
        ),
    );
    py.ws
        .kiln(&["build", "//ops:ops-tools"])
        .expect(2)
        .stderr_has("index_url is for a hashed requirements file");
    py.ws.write(
        "WORKSPACE.toml",
        format!("{ws}index_url = \"file:///etc\"\n"),
    );
    py.ws
        .kiln(&["build", "//ops:ops-tools"])
        .expect(2)
        .stderr_has("is not an http(s) URL of a PEP 503 simple index");
}

/// The first file of `dir` whose name starts with `prefix`.
fn wheel_named(dir: &Path, prefix: &str) -> (String, Vec<u8>) {
    let e = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .find(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with(prefix) && n.ends_with(".whl")
        })
        .unwrap();
    (
        e.file_name().to_string_lossy().into_owned(),
        std::fs::read(e.path()).unwrap(),
    )
}

/// `kiln ARGS` in `ws` run by python3, which reports the peak RSS (KiB) of what it ran.
fn kiln_peak_rss(ws: &e2e::Ws, args: &[&str]) -> (Run, u64) {
    // The environment the harness gives kiln (its cache, HOME), passed through python3.
    let env = ws.command(&[]);
    let out = Command::new("python3")
        .args([
            "-c",
            "import resource, subprocess, sys\np = subprocess.run(sys.argv[1:])\nprint(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\nsys.exit(p.returncode)",
        ])
        .arg(e2e::bin("kiln"))
        .args(args)
        .current_dir(&ws.root)
        .envs(env.get_envs().filter_map(|(k, v)| Some((k.to_owned(), v?.to_owned()))))
        .output()
        .unwrap();
    let run = Run::from(out);
    let rss = run
        .stderr
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap();
    (run, rss)
}

/// A requirements workspace and idna's wheel in it: (py, name, bytes, sha256, version).
fn idna_index() -> (Py, String, Vec<u8>, String, String) {
    let (py, dir) = requirements_workspace("\"INDEX\"");
    ops(&py);
    let (idna, bytes) = wheel_named(&dir, "idna-");
    let sha = e2e::sha256_hex(&bytes);
    let version = idna.split('-').nth(1).unwrap().to_string();
    (py, idna, bytes, sha, version)
}

/// An index link whose name expands to millions of tags (150 per set) costs nothing:
/// tags are read only of a pinned file.
#[test]
fn an_index_link_cannot_exhaust_memory() {
    let (py, idna, _, idna_sha, version) = idna_index();
    let s = &py._server;

    // One link whose tag sets multiply out to 150^3 tags, before the real one.
    let set = |t: &str| vec![t; 150].join(".");
    let bomb = format!(
        "idna-{version}-{}-{}-{}.whl",
        set("py3"),
        set("none"),
        set("any")
    );
    s.add(
        "simple/idna/",
        format!("<a href=\"../../{bomb}#sha256={}\">x</a>\n<a href=\"../../{idna}#sha256={idna_sha}\">{idna}</a>\n", "0".repeat(64)).into_bytes(),
    );
    let (run, rss) = kiln_peak_rss(&py.ws, &["fetch"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(rss < 200_000, "peak RSS {rss} KiB");
}

/// The right hash in front of wrong bytes (exit 1); once the index is repaired, the
/// next fetch asks it again (a resolution is used only while its wheel is cached).
#[test]
fn a_repaired_index_is_asked_again() {
    let (py, idna, idna_bytes, idna_sha, _) = idna_index();
    let s = &py._server;
    let (_, certifi_bytes) = wheel_named(&wheels(), "certifi-");
    s.add(&format!("evil/{idna}"), certifi_bytes);
    s.add(
        "simple/idna/",
        format!("<a href=\"/evil/{idna}#sha256={idna_sha}\">{idna}</a>\n").into_bytes(),
    );
    py.ws
        .kiln(&["fetch"])
        .expect(1)
        .stderr_has("sha256 mismatch for archive @pypi+idna");
    s.add(
        "simple/idna/",
        format!("<a href=\"/fixed/{idna}#sha256={idna_sha}\">{idna}</a>\n").into_bytes(),
    );
    s.add(&format!("fixed/{idna}"), idna_bytes);
    py.ws.kiln(&["fetch"]).expect(0);
}

/// Two mirrors, the first listing the file where it is gone: the second's copy is
/// fetched.
#[test]
fn a_wheel_gone_from_the_first_mirror_comes_from_the_next() {
    let (py, idna, _, idna_sha, _) = idna_index();
    let s = &py._server;
    s.add(
        "m1/simple/idna/",
        format!("<a href=\"/gone/{idna}#sha256={idna_sha}\">{idna}</a>\n").into_bytes(),
    );
    let ws_text = std::fs::read_to_string(py.ws.path("WORKSPACE.toml")).unwrap();
    let index = s.url("simple");
    py.ws.write(
        "WORKSPACE.toml",
        ws_text.replace(
            &format!("index_url = \"{index}\""),
            &format!("index_url = [\"{}\", \"{index}\"]", s.url("m1/simple")),
        ),
    );
    py.ws.kiln(&["fetch"]).expect(0);
    assert_eq!(s.requests(&format!("gone/{idna}")).len(), 1);
}

/// A page of unhashed links, one with a terminal escape in its name: listed briefly,
/// never printed raw. Credentials in index_url: refused, never printed.
#[test]
fn index_errors_are_short_and_print_nothing_raw_or_secret() {
    let (py, _, _, _, version) = idna_index();
    let s = &py._server;
    let ws_text = std::fs::read_to_string(py.ws.path("WORKSPACE.toml")).unwrap();
    let mut page = String::new();
    for i in 0..100 {
        page.push_str(&format!(
            "<a href=\"/x/idna-{version}-{i}-py3-none-any.whl\">w</a>\n"
        ));
    }
    page.push_str(&format!(
        "<a href=\"/x/idna-{version}-py3-none-any%1B%5B2J.whl\">w</a>\n"
    ));
    s.add("simple/idna/", page.into_bytes());
    let run = py.ws.kiln(&["fetch"]).expect(3);
    run.stderr_has("its links give no sha256 for");
    run.stderr_has("and 92 more");
    assert!(!run.stderr.contains('\x1b'), "{:?}", run.stderr);
    assert!(run.stderr.len() < 4000, "{} bytes", run.stderr.len());

    // Credentials in index_url.
    py.ws.write(
        "WORKSPACE.toml",
        ws_text.replace("http://", "http://deploy:s3cretTOKEN@"),
    );
    let run = py.ws.kiln(&["fetch"]).expect(2);
    run.stderr_has("index_url carries credentials");
    assert!(!run.stderr.contains("s3cretTOKEN"), "{}", run.stderr);
}

/// Requirements the way pip reads them: a pin listed twice where both lines apply is
/// an error (not the first silently), a lock whose only line is for another platform
/// says so for its distribution (not that the lock does not exist).
#[test]
fn requirements_pins_that_both_apply_or_none_apply_are_reported_truthfully() {
    let (py, dir) = requirements_workspace("\"INDEX\"");
    ops(&py);
    let (idna, bytes) = wheel_named(&dir, "idna-");
    let version = idna.split('-').nth(1).unwrap();
    let h = e2e::sha256_hex(&bytes);
    let reqs = std::fs::read_to_string(py.ws.path("third_party/requirements.txt")).unwrap();
    py.ws.write(
        "third_party/requirements.txt",
        format!("{reqs}idna=={version} ; python_version >= \"3\" --hash=sha256:{h}\n"),
    );
    py.ws
        .kiln(&["build", "//ops:ops-tools"])
        .expect(2)
        .stderr_has("idna is pinned again for this interpreter (first at line");
    py.ws.write(
        "third_party/requirements.txt",
        format!("colorama==0.4.6 ; sys_platform == \"win32\" --hash=sha256:{h}\n"),
    );
    py.ws.write(
        "app/BUILD.toml",
        "[[test]]\nname = \"imports\"\nsrc = \"imports.sh\"\ndata = [\"@pypi//colorama\"]\n",
    );
    py.ws
        .kiln(&["build", "//app:imports"])
        .expect(2)
        .stderr_has("the lock \"pypi\" pins no distribution \"colorama\" for this interpreter");
}

/// `--distdir` holds a directory's own files: a link there is not followed (nor the
/// digest of what it points at printed), and a file whose URL is percent-encoded
/// (`%2B` for the `+` of a local version) is found under its real name.
#[test]
fn a_distdir_is_read_by_real_names_and_never_through_links() {
    let py = Py::new();
    let dir = wheels();
    let (idna, bytes) = wheel_named(&dir, "idna-");
    let dd = py.ws.tmp.path().join("dd");
    std::fs::create_dir_all(&dd).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", dd.join(&idna)).unwrap();
    let d = dd.display().to_string();
    let run = py
        .ws
        .kiln(&["--offline", "--distdir", &d, "fetch"])
        .expect(3);
    let host = e2e::sha256_hex(&std::fs::read("/etc/hostname").unwrap());
    assert!(!run.stderr.contains(&host), "{}", run.stderr);
    run.stderr_has("is not in the cache and --offline was given");

    // A local version's `+`, percent-encoded in the lock's URL.
    let mut parts = idna.splitn(3, '-');
    let (name, version, tags) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let local = format!("{name}-{version}+kiln-{tags}");
    std::fs::remove_file(dd.join(&idna)).unwrap();
    std::fs::write(dd.join(&local), &bytes).unwrap();
    let lock = py.lock();
    py.ws.write(
        "third_party/pylock.toml",
        regex_free_replace_wheel(&lock, "idna", &local.replace('+', "%2B")),
    );
    py.ws
        .kiln(&["--distdir", &d, "fetch", "//app:imports"])
        .expect(0);
    assert!(py._server.requests(&local.replace('+', "%2B")).is_empty());
}

/// A relocatable CPython as an archive: Debian's python3 (statically linked, it finds
/// its standard library next to itself) and its standard library without tests or
/// site-packages, as `python/bin/python3`. Made once, in the target directory.
fn interpreter_archive() -> PathBuf {
    static ONE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = ONE.lock().unwrap_or_else(|e| e.into_inner());
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pyinterp");
    let tarball = dir.join("python.tar.gz");
    if tarball.exists() {
        return tarball;
    }
    let version = Command::new("/usr/bin/python3")
        .args([
            "-I",
            "-S",
            "-c",
            "import sys; print('%d.%d' % sys.version_info[:2])",
        ])
        .output()
        .expect("Debian's python3 at /usr/bin/python3 (ci/test installs it)");
    let v = String::from_utf8(version.stdout)
        .unwrap()
        .trim()
        .to_string();
    let stage = dir.join("stage");
    let _ = std::fs::remove_dir_all(&stage);
    std::fs::create_dir_all(stage.join("python/bin")).unwrap();
    std::fs::create_dir_all(stage.join("python/lib")).unwrap();
    std::fs::copy(
        format!("/usr/bin/python{v}"),
        stage.join(format!("python/bin/python{v}")),
    )
    .unwrap();
    std::os::unix::fs::symlink(format!("python{v}"), stage.join("python/bin/python3")).unwrap();
    let script = format!(
        "set -e\ntar -C /usr/lib --exclude=test --exclude=dist-packages --exclude=site-packages --exclude=__pycache__ --exclude=idlelib --exclude=tkinter --exclude=turtledemo --exclude=ensurepip --exclude=lib2to3 --exclude='config-*' --exclude=sitecustomize.py -cf - python{v} | tar -C python/lib -xf -\ntar -czf ../python.tar.gz.tmp python\nmv ../python.tar.gz.tmp ../python.tar.gz\n"
    );
    let out = Command::new("sh")
        .args(["-c", &script])
        .current_dir(&stage)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(&stage).unwrap();
    tarball
}

const WHERE: &str = "import os, sys\n\n\ndef main():\n    print('python', sys.executable, sys.prefix, sys.flags.isolated)\n    return 0\n";
const WHERE_TEST: &str = "import os, sys, unittest\n\n\nclass Where(unittest.TestCase):\n    def test_the_pinned_python_runs_it(self):\n        r = os.environ['RUNFILES_DIR']\n        self.assertTrue(sys.executable.startswith(r), sys.executable)\n        self.assertTrue(sys.prefix.startswith(r), sys.prefix)\n";

/// `interpreter = "@python//:bin/python3"`: the wheels are chosen for that Python, the
/// tests run on it in the sandbox, and the tools carry it: installed on a host whose
/// PATH has no python3 at all (and with require_python set), the tool runs on its own.
#[test]
fn a_pinned_interpreter_travels_with_the_tools() {
    let tarball = std::fs::read(interpreter_archive()).unwrap();
    let py = interpreter_workspace(&tarball, "", "@python//:bin/python3");
    for t in ["//ops:where_test", "//ops:cli_unittest"] {
        let run = py.ws.kiln(&["test", t]).expect(0);
        assert!(run.stdout.contains("PASSED"), "{t}: {}", run.stdout);
    }
    let public = py.publish("//ops:where", "1");
    // require_python: installing needs no python3 either (the bundle names none).
    let h = py.host(&public, "require_python = true\n");
    // A PATH with what the launcher uses (readlink, dirname) and no python3.
    let bin = h.tmp.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for tool in ["readlink", "dirname"] {
        let real = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .unwrap();
        let real = String::from_utf8(real.stdout).unwrap();
        std::os::unix::fs::symlink(real.trim(), bin.join(tool)).unwrap();
    }
    let path = bin.display().to_string();
    h.fetch(&["install", "where", "--version", "1"], Some(&path))
        .expect(0);
    let out = h.tool("where").env("PATH", &path).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    let root = h.root.display().to_string();
    assert!(
        out.status.success() && said.starts_with(&format!("python {root}/")),
        "{said} {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // What the interpreter key can get wrong: at WORKSPACE.toml's line.
    let ws = std::fs::read_to_string(py.ws.path("WORKSPACE.toml")).unwrap();
    for (bad, says) in [
        ("@nope//:bin/python3", "no [[archive]] named \"nope\""),
        ("python3", "is not @ARCHIVE//:PATH"),
        ("@python//:../x", "interpreter \"@python//:../x\""),
        (
            "@python//:bin/python9",
            "bin/python9 is not a file of @python",
        ),
    ] {
        py.ws
            .write("WORKSPACE.toml", ws.replace("@python//:bin/python3", bad));
        py.ws
            .kiln(&["build", "//ops:where"])
            .expect(2)
            .stderr_has("WORKSPACE.toml:")
            .stderr_has(says);
    }
}

/// A directory holding one program, `python3`, with `script` as its body.
fn fake_python(dir: &Path, script: &str) -> String {
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.join("python3");
    std::fs::write(&p, format!("#!/bin/sh\n{script}\n")).unwrap();
    std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    format!("{}:{}", dir.display(), std::env::var("PATH").unwrap())
}

/// The python3 that kiln (at every load of a workspace with a lock) and kiln-fetch
/// (installing a Python bundle) ask may hang or flood: both give up within their
/// deadline with a short message, and kiln-fetch carries on as for an unknown Python.
#[test]
fn a_python3_that_hangs_or_floods_stops_nothing() {
    let py = Py::new();
    ops(&py);
    let public = py.publish("//ops:ops-tools", "1");
    for (name, script) in [
        ("hang", "sleep 60"),
        ("flood", "head -c 50000000 /dev/zero | tr '\\0' 'A'"),
    ] {
        let path = fake_python(&py.ws.tmp.path().join(name), script);
        let started = std::time::Instant::now();
        let out = py
            .ws
            .command(&["build", "//ops:ops-tools"])
            .env("PATH", &path)
            .output()
            .unwrap();
        let run = Run::from(out);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(40),
            "{name}"
        );
        assert_eq!(run.code, 3, "{name}: {}", run.stderr);
        run.stderr_has("python3 (python3) failed or did not answer within 10s");
        assert!(
            run.stderr.len() < 2000,
            "{name}: {} bytes",
            run.stderr.len()
        );

        let h = py.host(&public, "");
        let started = std::time::Instant::now();
        let run = h.fetch(&["install", "ops-tools", "--version", "1"], Some(&path));
        assert!(
            started.elapsed() < std::time::Duration::from_secs(40),
            "{name}"
        );
        assert!(
            run.stderr.len() < 2000,
            "{name}: {} bytes",
            run.stderr.len()
        );
        run.expect(0)
            .stderr_has("this host has no python3 in PATH that reports its version");
    }
}

/// A lock with PEP 751 dependency records: they say what an entry needs (the wheel's
/// own metadata is not asked), here one dependency more than requests declares; a
/// record naming what the lock does not pin is the usual error.
#[test]
fn a_locks_dependency_records_decide_the_closure() {
    let py = Py::new();
    ops(&py);
    let lock = py.lock();
    let at = lock.find("name = \"requests\"").unwrap();
    let line_end = at + lock[at..].find('\n').unwrap() + 1;
    let with = |deps: &str| {
        format!(
            "{}dependencies = [{deps}]\n{}",
            &lock[..line_end],
            &lock[line_end..]
        )
    };
    py.ws.write(
        "third_party/pylock.toml",
        with("{ name = \"urllib3\" }, { name = \"idna\" }, { name = \"certifi\" }, { name = \"Charset_Normalizer\" }, { name = \"iniconfig\" }"),
    );
    py.ws.kiln(&["build", "//ops:ops-tools"]).expect(0);
    let manifest = Command::new("tar")
        .args(["-xzOf"])
        .arg(py.ws.path("kiln-out/ops/ops-tools.tar.gz"))
        .arg("MANIFEST.json")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&manifest.stdout);
    assert!(
        text.contains("runfiles/pypi+iniconfig/"),
        "the record's extra dependency"
    );
    assert!(text.contains("runfiles/pypi+charset-normalizer/"));
    assert!(
        !text.contains("runfiles/pypi+pytest/"),
        "only what is needed"
    );
    py.ws.write(
        "third_party/pylock.toml",
        with("{ name = \"urllib3\" }, { name = \"nosuch\" }"),
    );
    py.ws
        .kiln(&["build", "//ops:ops-tools"])
        .expect(2)
        .stderr_has("needs nosuch, which the lock \"pypi\" does not pin");
}

/// The pinned-interpreter workspace of [`a_pinned_interpreter_travels_with_the_tools`]
/// with `tarball` as the interpreter archive and `extra` appended to its [[archive]].
fn interpreter_workspace(tarball: &[u8], extra: &str, interpreter: &str) -> Py {
    let py = Py::new();
    ops(&py);
    let lock: String = py
        .lock()
        .lines()
        .map(|l| {
            if l.starts_with("requires-python") {
                "requires-python = \">=3\"\n".to_string()
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    py.ws
        .write("third_party/pylock.toml", lock)
        .write("third_party/python.tar.gz", tarball)
        .write(
            "WORKSPACE.toml",
            format!(
                "[workspace]\nname = \"py\"\n\n[[archive]]\nname = \"python\"\nurls = [\"file://third_party/python.tar.gz\"]\nsha256 = \"{}\"\nstrip_prefix = \"python\"\n{extra}\n[[python_lock]]\nname = \"pypi\"\nlock = \"third_party/pylock.toml\"\ninterpreter = \"{interpreter}\"\n",
                e2e::sha256_hex(tarball)
            ),
        )
        .write("ops/tools/where.py", WHERE)
        .write("ops/tests/where_test.py", WHERE_TEST)
        .write(
            "ops/BUILD.toml",
            format!("{OPS_BUILD}\n[[py_binary]]\nname = \"where\"\nsrcs = [\"tools/**/*.py\"]\nentry = \"tools.where:main\"\ndeps = [\"@pypi//requests\"]\n\n[[bundle]]\nname = \"where\"\nkind = \"tool\"\nbinaries = [\":where\"]\n\n[[py_test]]\nname = \"where_test\"\nsrcs = [\"tools/**/*.py\", \"tests/where_test.py\"]\n"),
        );
    py
}

/// What an outside review found a pinned interpreter could do, each refused now at its
/// WORKSPACE.toml line: a path that is shell code in the launcher (an archive holding
/// `bin/py$(touch${IFS}INJECTED)` built, and its launcher ran the command), an archive
/// named like a lock's distribution (silently replaced by the wheel), a narrowed
/// `files` export of the interpreter (the tools ran on the host's standard library).
/// And `kiln query` shows what depends on the interpreter.
#[test]
fn a_pinned_interpreter_cannot_inject_hide_or_be_cut_short() {
    let tarball = std::fs::read(interpreter_archive()).unwrap();
    // The same archive with an entry whose name is shell code.
    let stage = tempfile::tempdir().unwrap();
    let sh = |script: &str| {
        let out = Command::new("sh")
            .args(["-c", script])
            .current_dir(stage.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    std::fs::write(stage.path().join("python.tar.gz"), &tarball).unwrap();
    sh("tar xzf python.tar.gz");
    std::os::unix::fs::symlink(
        "python3",
        stage.path().join("python/bin/py$(touch${IFS}INJECTED)"),
    )
    .unwrap();
    sh("tar czf evil.tar.gz python");
    let evil = std::fs::read(stage.path().join("evil.tar.gz")).unwrap();
    let py = interpreter_workspace(&evil, "", "@python//:bin/py$(touch${IFS}INJECTED)");
    py.ws
        .kiln(&["build", "//ops:where"])
        .expect(2)
        .stderr_has("WORKSPACE.toml:")
        .stderr_has("the path may hold only letters, digits and . _ + / -");

    // A narrowed files export of the interpreter's archive.
    let py = interpreter_workspace(
        &tarball,
        "exports = { files = [\"bin/**\"], lib = [\"lib/**\"] }\n",
        "@python//:bin/python3",
    );
    py.ws
        .kiln(&["build", "//ops:where"])
        .expect(2)
        .stderr_has("the archive's files export must be all of it");

    // The interpreter as a dependency of what runs Python.
    let py = interpreter_workspace(&tarball, "", "@python//:bin/python3");
    let q = py.ws.kiln(&["query", "deps", "//ops:where"]).expect(0);
    assert!(q.stdout.contains("@python//:files"), "{}", q.stdout);
    let q = py.ws.kiln(&["query", "rdeps", "@python//:files"]).expect(0);
    assert!(q.stdout.contains("//ops:where"), "{}", q.stdout);

    // An archive named like a distribution of the lock.
    let ws = std::fs::read_to_string(py.ws.path("WORKSPACE.toml")).unwrap();
    py.ws.write(
        "WORKSPACE.toml",
        format!("{ws}\n[[archive]]\nname = \"pypi+idna\"\nurls = [\"file://third_party/python.tar.gz\"]\nsha256 = \"{}\"\n", e2e::sha256_hex(&tarball)),
    );
    py.ws
        .kiln(&["build", "//ops:where"])
        .expect(2)
        .stderr_has("'+' is reserved for the distributions of a [[python_lock]]");
}

/// A Python target depending on a py_test would ship the test's files (refused at its
/// line), and a --distdir that does not exist is said so (not passed over).
#[test]
fn python_deps_on_tests_and_missing_distdirs_are_refused() {
    let py = Py::new();
    ops(&py);
    py.ws.write(
        "ops/BUILD.toml",
        format!("{OPS_BUILD}\n[[py_library]]\nname = \"lib\"\nsrcs = [\"tools/**/*.py\"]\ndeps = [\":cli_unittest\"]\n"),
    );
    py.ws
        .kiln(&["build", "//ops:lib"])
        .expect(2)
        .stderr_has("//ops:cli_unittest is a py_test: Python targets depend on py_library and py_binary targets");
    py.ws.write("ops/BUILD.toml", OPS_BUILD);
    py.ws
        .kiln(&["--distdir", "no/such/dir", "fetch"])
        .expect(2)
        .stderr_has("--distdir no/such/dir: no such directory");
}

/// The commands that build nothing (releases, status, keys, promote, clean) need no
/// Python, even in a workspace that locks some: an engineer's broken python3 does not
/// stop a rollback. What builds still asks it.
#[test]
fn commands_that_build_nothing_need_no_python() {
    let py = Py::new();
    ops(&py);
    py.publish("//ops:ops-tools", "1");
    let path = fake_python(&py.ws.tmp.path().join("broken"), "exit 1");
    let key = py.ws.tmp.path().join("release.key").display().to_string();
    for args in [
        vec!["releases", "ops-tools"],
        vec![
            "promote",
            "ops-tools",
            "1",
            "--channel",
            "prod",
            "--signing-key",
            &key,
        ],
        vec!["status", "ops-tools", "--channel", "prod"],
        vec!["clean"],
    ] {
        let out = py.ws.command(&args).env("PATH", &path).output().unwrap();
        let run = Run::from(out);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
    }
    let out = py
        .ws
        .command(&["build", "//ops:ops-tools"])
        .env("PATH", &path)
        .output()
        .unwrap();
    Run::from(out)
        .expect(3)
        .stderr_has("python3 (python3) failed or did not answer");
}
