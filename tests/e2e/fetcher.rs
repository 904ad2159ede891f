//! End-to-end tests of `kiln-fetch`: bundles built and published by the real `kiln`,
//! installed into a temp host root, services supervised by real runit, stores read as
//! a directory and over real HTTP.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use e2e::http::HttpServer;
use e2e::runit::{Runsvdir, wait_for};
use e2e::{Run, Ws, sh, sha256_hex};

const SVC_BUILD: &str = r#"
[[wrapper]]
name = "start-demo"
src = "start.sh"
data = ["version.txt", "blob.bin"]

[[wrapper]]
name = "health-demo"
src = "health.sh"
data = ["health.txt"]

[[bundle]]
name = "demo"
kind = "service"
binaries = [":start-demo", ":health-demo"]
[bundle.service]
name = "demo"
health = "bin/health-demo"
"#;

const START: &str = "#!/bin/sh\ncat \"$RUNFILES_DIR/_main/svc/version.txt\" > \"$DEMO_STATE.tmp\" && mv \"$DEMO_STATE.tmp\" \"$DEMO_STATE\"\nexec sleep \"$DEMO_SLEEP\"\n";
const HEALTH: &str = "#!/bin/sh\ngrep -qx good \"$RUNFILES_DIR/_main/svc/health.txt\"\n";

const TOOL_BUILD: &str = r#"
[[wrapper]]
name = "greet-tool"
src = "greet.sh"
data = ["msg.txt"]

[[bundle]]
name = "greet"
kind = "tool"
binaries = [":greet-tool"]
"#;

/// A workspace that publishes `demo` (a service) and `greet` (a tool) to its store,
/// signed with its own key.
struct Builds {
    ws: Ws,
    key: PathBuf,
    public: String,
    /// More environment for kiln (an S3 store: KILN_STORE and credentials).
    env: Vec<(&'static str, String)>,
}

impl Builds {
    fn new() -> Builds {
        let ws = Ws::new();
        ws.write("WORKSPACE.toml", "[workspace]\nname = \"t\"\n")
            .write("svc/BUILD.toml", SVC_BUILD)
            .write_exec("svc/start.sh", START)
            .write_exec("svc/health.sh", HEALTH)
            .write("tool/BUILD.toml", TOOL_BUILD)
            .write_exec(
                "tool/greet.sh",
                "#!/bin/sh\ncat \"$RUNFILES_DIR/_main/tool/msg.txt\"\n",
            );
        // Incompressible data so a download takes several reads.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let blob: Vec<u8> = (0..700_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 32) as u8
            })
            .collect();
        ws.write("svc/blob.bin", blob);
        let key = ws.tmp.path().join("signing.key");
        let public = ws
            .kiln(&["keygen", "--out", key.to_str().unwrap()])
            .expect(0)
            .stdout
            .trim()
            .to_string();
        Builds {
            ws,
            key,
            public,
            env: vec![],
        }
    }

    /// `kiln ARGS` with the signing key.
    fn kiln(&self, args: &[&str]) -> Run {
        Run::from(
            self.ws
                .command(args)
                .env("KILN_SIGNING_KEY", &self.key)
                .envs(self.env.iter().cloned())
                .output()
                .unwrap(),
        )
    }

    fn store(&self) -> PathBuf {
        self.ws.path(".kiln/store")
    }

    /// Publish `demo` as `build` with this version text and health.
    fn demo(&self, build: u64, version: &str, healthy: bool) {
        self.ws
            .write("svc/version.txt", format!("{version}\n"))
            .write("svc/health.txt", if healthy { "good\n" } else { "bad\n" });
        self.kiln(&[
            "publish",
            "//svc:demo",
            "--build-number",
            &build.to_string(),
        ])
        .expect(0);
    }

    fn greet(&self, build: u64, msg: &str) {
        self.ws.write("tool/msg.txt", format!("{msg}\n"));
        self.kiln(&[
            "publish",
            "//tool:greet",
            "--build-number",
            &build.to_string(),
        ])
        .expect(0);
    }

    /// Write `bytes` as the record at `path`, signed with our key: what someone holding
    /// the signing key (a compromised CI worker) could publish.
    fn sign_into(&self, path: &Path, bytes: &[u8]) {
        let key = release::SecretKey::parse(&std::fs::read_to_string(&self.key).unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
        // Beside the record, named by its digest, as kiln publish signs.
        let dir = path.parent().unwrap().join("sig");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join(format!("{}.sig", sha256_hex(bytes))),
            key.sign(bytes).to_bytes(),
        )
        .unwrap();
    }

    /// Publish `greet` as `build` with a second entry point, `greet-extra` (and every
    /// later build too).
    fn greet_with_extra(&self, build: u64, msg: &str) {
        self.ws.write(
            "tool/BUILD.toml",
            TOOL_BUILD.replace(
                "binaries = [\":greet-tool\"]",
                "binaries = [\":greet-tool\", \":greet-extra\"]",
            ) + "\n[[wrapper]]\nname = \"greet-extra\"\nsrc = \"greet.sh\"\ndata = [\"msg.txt\"]\n",
        );
        self.greet(build, msg);
    }

    fn promote(&self, pkg: &str, build: u64, channel: &str) {
        self.kiln(&["promote", pkg, &build.to_string(), "--channel", channel])
            .expect(0);
    }
}

/// A host root with a fetch.toml, and runit's service directory beside it.
struct Host {
    tmp: tempfile::TempDir,
    root: PathBuf,
    config: PathBuf,
    svdir: PathBuf,
    state: PathBuf,
    marker: String,
    /// More environment for kiln-fetch (an S3 store's credentials).
    env: Vec<(&'static str, String)>,
}

impl Host {
    fn new(store: &str, trusted: &str, marker: &str) -> Host {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        let svdir = tmp.path().join("service");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&svdir).unwrap();
        let config = tmp.path().join("fetch.toml");
        std::fs::write(
            &config,
            format!(
                "store = \"{store}\"\nroot = \"{}\"\nkeep = 5\ntrusted_keys = [\"{trusted}\"]\n\n[services]\nmanager = \"runit\"\nsvdir = \"{}\"\n\n[health]\ntimeout = \"5s\"\nretries = 2\ninterval = \"100ms\"\n",
                root.display(),
                svdir.display()
            ),
        )
        .unwrap();
        let state = tmp.path().join("demo.state");
        // The service sleeps this long once started (a valid sleep, so runit keeps one
        // process running); tests that look for its processes give their own marker.
        let marker = if marker == "unused" { "4290.1" } else { marker };
        Host {
            tmp,
            root,
            config,
            svdir,
            state,
            marker: marker.to_string(),
            env: vec![],
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(e2e::bin("kiln-fetch"));
        c.arg("--config").arg(&self.config).args(args);
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(self.env.iter().cloned());
        c
    }

    fn fetch(&self, args: &[&str]) -> Run {
        Run::from(self.command(args).output().unwrap())
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        let run = self.fetch(&a).expect(0);
        serde_json::from_str(&run.stdout).unwrap()
    }

    fn current(&self, pkg: &str) -> Option<String> {
        let link = self.root.join("opt/kiln").join(pkg).join("current");
        let target = std::fs::read_link(&link).ok()?;
        assert!(
            link.join("release.json").is_file(),
            "current points at a complete build"
        );
        Some(target.to_string_lossy().into_owned())
    }

    /// Add the demo service to runit's directory and start runsvdir.
    fn start_runit(&self) -> Runsvdir {
        let dir = self.svdir.join("demo");
        std::fs::create_dir_all(&dir).unwrap();
        let run = dir.join("run");
        std::fs::write(
            &run,
            format!(
                "#!/bin/sh\nexec env DEMO_STATE={} DEMO_SLEEP={} {}/opt/kiln/demo/current/bin/start-demo\n",
                self.state.display(),
                self.marker,
                self.root.display()
            ),
        )
        .unwrap();
        sh(&format!("chmod 755 {}", run.display()), Path::new("/")).expect(0);
        Runsvdir::start(&self.svdir, &self.tmp.path().join("runsvdir.log"))
    }

    fn running(&self) -> String {
        std::fs::read_to_string(&self.state)
            .unwrap_or_default()
            .trim()
            .to_string()
    }

    /// Wait until the service reports `version`.
    #[track_caller]
    fn wait_running(&self, version: &str) {
        assert!(
            wait_for(Duration::from_secs(20), || self.running() == version),
            "the service runs {:?}, not {version:?}",
            self.running()
        );
    }

    /// Entries directly under opt/kiln/<pkg>: only build numbers and `current`.
    fn assert_no_temp_visible(&self, pkg: &str) {
        for e in std::fs::read_dir(self.root.join("opt/kiln").join(pkg))
            .unwrap()
            .flatten()
        {
            let name = e.file_name().to_string_lossy().into_owned();
            assert!(
                name == "current" || name.parse::<u64>().is_ok() || name.starts_with(".tmp-"),
                "unexpected entry {name}"
            );
        }
    }
}

impl Host {
    /// Stop runit and wait until no process of this host's service is left.
    #[track_caller]
    fn stop(&self, runit: Runsvdir) {
        drop(runit);
        assert!(
            wait_for(Duration::from_secs(10), || no_processes_with(&self.marker)),
            "processes marked {} outlived runit",
            self.marker
        );
    }
}

fn no_processes_with(marker: &str) -> bool {
    std::fs::read_dir("/proc").unwrap().flatten().all(|e| {
        std::fs::read(e.path().join("cmdline"))
            .map(|c| {
                !String::from_utf8_lossy(&c)
                    .replace('\0', " ")
                    .contains(marker)
            })
            .unwrap_or(true)
    })
}

#[test]
fn install_restart_health_rollback_verify_file_store() {
    let b = Builds::new();
    let store = b.store().display().to_string();
    service_lifecycle(&b, &store, "4101.5");
}

#[test]
fn install_restart_health_rollback_verify_https_store() {
    let b = Builds::new();
    let server = HttpServer::start(b.ws.tmp.path().join("http.log"));
    server.serve_dir(&b.store());
    service_lifecycle(&b, &server.url(""), "4102.5");
}

/// Install by version and by channel, restart only on change, roll back on a failed
/// health check, roll back by hand, gc, and catch drift with verify.
fn service_lifecycle(b: &Builds, store: &str, marker: &str) {
    b.demo(1, "v1", true);
    b.demo(2, "v2", true);
    b.demo(3, "v3", false);
    b.promote("demo", 2, "staging");
    let host = Host::new(store, &b.public, marker);

    // First install: nothing supervises the service yet.
    let r = host.json(&["install", "demo", "--version", "1", "--no-restart"]);
    assert_eq!(r["changed"], true);
    assert_eq!(host.current("demo").as_deref(), Some("1"));
    let runit = host.start_runit();
    host.wait_running("v1");

    // By channel: build 2, restarted through runit.
    let pid_v1 = runit.pid("demo").unwrap();
    let r = host.json(&["install", "demo", "--channel", "staging"]);
    assert_eq!(r["changed"], true);
    assert_eq!(r["build"], 2);
    assert_eq!(r["previous"], 1);
    assert_eq!(r["restarted"], serde_json::json!(["demo"]));
    host.wait_running("v2");
    let pid_v2 = runit.pid("demo").unwrap();
    assert_ne!(pid_v1, pid_v2);

    // Again, by version and by channel: nothing changes, nothing restarts.
    for args in [
        ["install", "demo", "--version", "2"],
        ["install", "demo", "--channel", "staging"],
    ] {
        let run = host.fetch(&args).expect(0);
        run.stdout_has("demo build 2 unchanged");
    }
    assert_eq!(
        runit.pid("demo"),
        Some(pid_v2),
        "no restart without a change"
    );
    let dry = host.json(&["install", "demo", "--version", "3", "--dry-run"]);
    assert_eq!(dry["dry_run"]["switch_from"], 2);
    assert_eq!(dry["dry_run"]["switch_to"], 3);
    assert!(dry["dry_run"]["download_bytes"].as_u64().unwrap() > 500_000);
    assert!(
        !host.root.join("opt/kiln/demo/3").exists(),
        "dry run touches nothing"
    );

    // Build 3 fails its health check: back to 2, restarted again. The JSON says it
    // failed, and that the host did change (its service was restarted twice).
    let run = host
        .fetch(&["--json", "install", "demo", "--version", "3"])
        .expect(1);
    run.stderr_has("health check bin/health-demo of demo build 3 failed");
    run.stderr_has("rolled back to build 2, which is running now");
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        (&v["failed"], &v["changed"], &v["exit_code"], &v["package"]),
        (&true.into(), &true.into(), &1.into(), &"demo".into()),
        "{v}"
    );
    assert_eq!(host.current("demo").as_deref(), Some("2"));
    host.wait_running("v2");
    assert_ne!(
        runit.pid("demo"),
        Some(pid_v2),
        "restarted onto build 2 again"
    );

    // rollback: to the previous build in the history.
    let r = host.json(&["rollback", "demo"]);
    assert_eq!(
        (r["build"].as_u64(), r["previous"].as_u64()),
        (Some(1), Some(2))
    );
    host.wait_running("v1");
    let list = host.json(&["list", "demo"]);
    let list = &list["packages"];
    assert_eq!(list[0]["current"], 1);
    assert_eq!(list[0]["installed"], serde_json::json!([1, 2, 3]));
    assert_eq!(list[0]["rollback_target"], 2);
    assert_eq!(list[0]["channel"], "staging");

    // gc never removes current (1) nor the rollback target (2).
    let gc = host.json(&["gc", "--keep", "1"]);
    assert_eq!(gc["removed"]["demo"], serde_json::json!([3]));

    // verify catches a modified file.
    host.fetch(&["verify", "demo"])
        .expect(0)
        .stdout_has("every file matches");
    let file = host
        .root
        .join("opt/kiln/demo/1/runfiles/_main/svc/version.txt");
    sh(
        &format!("chmod u+w {0} && echo tampered > {0}", file.display()),
        Path::new("/"),
    )
    .expect(0);
    let drift = host.fetch(&["verify", "demo"]).expect(1);
    drift.stdout_has("changed: runfiles/_main/svc/version.txt");
    drift.stderr_has("has drifted from its manifest");

    host.stop(runit);
}

#[test]
fn tools_are_linked_into_usr_local_bin_and_the_https_store_works_too() {
    let b = Builds::new();
    b.greet(1, "one");
    b.greet(2, "two");
    let server = HttpServer::start(b.ws.tmp.path().join("http.log"));
    server.serve_dir(&b.store());
    let host = Host::new(&server.url(""), &b.public, "unused");
    // A tool with no services: the configured manager is never asked.
    host.fetch(&["install", "greet", "--version", "1"])
        .expect(0)
        .stdout_has("greet build 1 installed (was nothing)");
    let link = host.root.join("usr/local/bin/greet-tool");
    assert_eq!(
        std::fs::read_link(&link).unwrap(),
        Path::new("../../../opt/kiln/greet/current/bin/greet-tool")
    );
    assert_eq!(
        sh(&link.display().to_string(), Path::new("/"))
            .expect(0)
            .stdout,
        "one\n"
    );
    host.fetch(&["install", "greet", "--version", "2"])
        .expect(0);
    assert_eq!(
        sh(&link.display().to_string(), Path::new("/"))
            .expect(0)
            .stdout,
        "two\n"
    );
    host.fetch(&["install", "greet", "--version", "2"])
        .expect(0)
        .stdout_has("unchanged");
    host.fetch(&["rollback", "greet", "--to", "1"]).expect(0);
    assert_eq!(
        sh(&link.display().to_string(), Path::new("/"))
            .expect(0)
            .stdout,
        "one\n"
    );
    host.fetch(&["verify", "greet"]).expect(0);

    // A command as service manager, and a dependent service restarted on change only.
    let log = host.tmp.path().join("restarts.log");
    std::fs::write(
        &host.config,
        format!(
            "store = \"{}\"\nroot = \"{}\"\ntrusted_keys = [\"{}\"]\n[services]\nmanager = \"command\"\ncommand = \"echo restart {{name}} >> {}\"\n",
            server.url(""),
            host.root.display(),
            b.public,
            log.display()
        ),
    )
    .unwrap();
    let r = host.json(&["install", "greet", "--version", "2", "--restart", "nginx"]);
    assert_eq!(r["restarted"], serde_json::json!(["nginx"]));
    host.fetch(&["install", "greet", "--version", "2", "--restart", "nginx"])
        .expect(0)
        .stdout_has("unchanged");
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "restart nginx\n");

    // A file in the way that kiln-fetch does not own is never replaced.
    let host2 = Host::new(&server.url(""), &b.public, "unused");
    std::fs::create_dir_all(host2.root.join("usr/local/bin")).unwrap();
    std::fs::write(host2.root.join("usr/local/bin/greet-tool"), "mine").unwrap();
    host2
        .fetch(&["install", "greet", "--version", "1"])
        .expect(1)
        .stderr_has("is not managed by kiln-fetch");
    assert!(host2.current("greet").is_none());
}

/// An entry point removed by hand is not "unchanged": the install of the current build
/// links it again and says so (dry run included); with the link back, it is unchanged.
#[test]
fn an_entry_point_removed_by_hand_is_linked_again_and_reported_changed() {
    let b = Builds::new();
    b.greet(1, "one");
    let host = Host::new(&b.store().display().to_string(), &b.public, "unused");
    host.fetch(&["install", "greet", "--version", "1"])
        .expect(0);
    let link = host.root.join("usr/local/bin/greet-tool");
    for how in [["--version", "1"], ["--channel", "stable"]] {
        if how[0] == "--channel" {
            b.kiln(&["promote", "greet", "1", "--channel", "stable"])
                .expect(0);
        }
        std::fs::remove_file(&link).unwrap();
        let plan = host.json(&["install", "greet", how[0], how[1], "--dry-run"]);
        assert_eq!(plan["changed"], true, "{plan}");
        assert_eq!(
            plan["relinked"],
            serde_json::json!(["greet-tool"]),
            "{plan}"
        );
        assert!(
            std::fs::symlink_metadata(&link).is_err(),
            "a dry run links nothing"
        );
        let r = host.json(&["install", "greet", how[0], how[1]]);
        assert_eq!(r["changed"], true, "{r}");
        assert_eq!(r["relinked"], serde_json::json!(["greet-tool"]), "{r}");
        assert_eq!(
            sh(&link.display().to_string(), Path::new("/"))
                .expect(0)
                .stdout,
            "one\n"
        );
        let again = host.json(&["install", "greet", how[0], how[1]]);
        assert_eq!(again["changed"], false, "{again}");
        assert!(again.get("relinked").is_none(), "{again}");
    }
    std::fs::remove_file(&link).unwrap();
    host.fetch(&["install", "greet", "--version", "1"])
        .expect(0)
        .stdout_has("linked greet-tool again");
    // Something else put in its place is still never replaced.
    std::fs::remove_file(&link).unwrap();
    std::fs::write(&link, "mine").unwrap();
    host.fetch(&["install", "greet", "--version", "1"])
        .expect(1)
        .stderr_has("is not managed by kiln-fetch");
    assert_eq!(std::fs::read_to_string(&link).unwrap(), "mine");
}

/// Start an install that pauses at `step`, and kill -9 it there.
fn kill_at(host: &Host, args: &[&str], step: &str) {
    let mut child = host
        .command(args)
        .env("KILN_FETCH_PAUSE_AT", step)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let line = lines.next().and_then(|l| l.ok()).unwrap_or_default();
    assert_eq!(
        line,
        format!("kiln-fetch: paused at {step}"),
        "kiln-fetch did not pause: build it with --features fetcher/fault-injection (ci/test does)"
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
}

fn crash_cases(store: &str, trusted: &str, server: Option<&HttpServer>) {
    for (i, step) in ["download", "unpack", "before-switch", "after-switch"]
        .iter()
        .enumerate()
    {
        let host = Host::new(store, trusted, &format!("4201.{i}"));
        host.fetch(&["install", "demo", "--version", "1", "--no-restart"])
            .expect(0);
        let runit = host.start_runit();
        host.wait_running("v1");

        kill_at(&host, &["install", "demo", "--version", "2"], step);
        // The previous build keeps running and `current` stays valid.
        let after_switch = *step == "after-switch";
        assert_eq!(
            host.current("demo").as_deref(),
            Some(if after_switch { "2" } else { "1" }),
            "{step}"
        );
        assert_eq!(
            host.running(),
            "v1",
            "{step}: the running service was not touched"
        );
        host.assert_no_temp_visible("demo");
        if *step == "download" {
            let partial = std::fs::read_dir(host.root.join("var/cache/kiln"))
                .unwrap()
                .flatten()
                .any(|e| e.file_name().to_string_lossy().ends_with(".partial"));
            assert!(partial, "the partial download is kept for resuming");
        }
        let before = server.map(|s| s.requests("demo/2/bundle.tar.gz").len());

        // The next run finishes (or cleans up and redoes) the work.
        let run = host.fetch(&["install", "demo", "--version", "2"]).expect(0);
        if after_switch {
            run.stdout_has("finished the interrupted install of demo build 2");
        }
        host.wait_running("v2");
        assert_eq!(host.current("demo").as_deref(), Some("2"));
        let leftovers: Vec<_> = std::fs::read_dir(host.root.join("opt/kiln/demo"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".tmp-"))
            .collect();
        assert!(leftovers.is_empty(), "{step}: {leftovers:?}");
        host.fetch(&["verify", "demo"]).expect(0);
        if let (Some(s), Some(before), "download") = (server, before, *step) {
            let reqs = s.requests("demo/2/bundle.tar.gz");
            assert!(
                reqs[before..]
                    .iter()
                    .all(|r| r.as_deref().is_some_and(|r| r.starts_with("bytes="))),
                "the download resumed with a Range request: {reqs:?}"
            );
        }
        host.stop(runit);
    }
}

#[test]
fn kill_9_at_any_step_leaves_the_previous_build_running_file_store() {
    let b = Builds::new();
    b.demo(1, "v1", true);
    b.demo(2, "v2", true);
    crash_cases(&b.store().display().to_string(), &b.public, None);
}

#[test]
fn kill_9_at_any_step_leaves_the_previous_build_running_https_store() {
    let b = Builds::new();
    b.demo(1, "v1", true);
    b.demo(2, "v2", true);
    let server = HttpServer::start(b.ws.tmp.path().join("http.log"));
    server.serve_dir(&b.store());
    crash_cases(&server.url(""), &b.public, Some(&server));
}

/// The store files of `pkg` build `n`, to tamper with.
fn store_files(b: &Builds, pkg: &str, n: u64) -> (PathBuf, PathBuf) {
    let dir = b.store().join(pkg).join(n.to_string());
    (dir.join("bundle.tar.gz"), dir.join("release.json"))
}

#[test]
fn bad_input_gets_a_clear_error_and_leaves_the_host_untouched() {
    let b = Builds::new();
    b.greet(1, "one");
    b.greet(2, "two");
    b.greet(3, "three");
    let store = b.store().display().to_string();
    let host = Host::new(&store, &b.public, "unused");
    host.fetch(&["install", "greet", "--version", "1"])
        .expect(0);
    let untouched = |host: &Host| {
        assert_eq!(host.current("greet").as_deref(), Some("1"));
        host.assert_no_temp_visible("greet");
        host.fetch(&["verify", "greet"]).expect(0);
    };

    host.fetch(&["install", "nope", "--version", "1"])
        .expect(2)
        .stderr_has("package nope is not in");
    host.fetch(&["install", "greet", "--version", "99"])
        .expect(2)
        .stderr_has("build 99 of greet is not in");
    host.fetch(&["install", "greet", "--channel", "prod"])
        .expect(2)
        .stderr_has("greet has no channel prod");
    host.fetch(&["install", "greet"]).expect(2);
    untouched(&host);

    // Tampered bundle: a flipped byte, then an extra byte.
    let (bundle2, _) = store_files(&b, "greet", 2);
    let mut bytes = std::fs::read(&bundle2).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&bundle2, &bytes).unwrap();
    let run = host
        .fetch(&["install", "greet", "--version", "2"])
        .expect(1);
    run.stderr_has("does not match its release record");
    run.stderr_has("tampered");
    untouched(&host);
    bytes[mid] ^= 0xff;
    bytes.push(0);
    std::fs::write(&bundle2, &bytes).unwrap();
    host.fetch(&["install", "greet", "--version", "2"])
        .expect(1)
        .stderr_has("more than the");
    untouched(&host);
    assert!(
        std::fs::read_dir(host.root.join("var/cache/kiln"))
            .unwrap()
            .flatten()
            .all(|e| e.file_name() == ".lock"),
        "a bad download is discarded"
    );

    // A bundle whose files do not match its own manifest, with a release record that
    // vouches for its bytes, signed (someone holding the signing key).
    let (bundle3, rel3) = store_files(&b, "greet", 3);
    let original = std::fs::read(&bundle3).unwrap();
    let altered = rewrite_entry(&original, "runfiles/_main/tool/msg.txt", b"evil\n");
    std::fs::write(&bundle3, &altered).unwrap();
    let mut rel: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&rel3).unwrap()).unwrap();
    rel["bundle"]["sha256"] = sha256_hex(&altered).into();
    rel["bundle"]["size"] = altered.len().into();
    b.sign_into(&rel3, &serde_json::to_vec_pretty(&rel).unwrap());
    let run = host
        .fetch(&["install", "greet", "--version", "3"])
        .expect(1);
    run.stderr_has("does not match its manifest: runfiles/_main/tool/msg.txt");
    untouched(&host);
    assert!(!host.root.join("opt/kiln/greet/3").exists());

    // Hostile entries in a bundle the (signed) record vouches for, manifest and all.
    let manifest = br#"{"schema":1,"package":"greet","kind":"tool","binaries":[],"inputs":[],"files":[{"path":"evil","size":1,"sha256":"2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881","mode":420}]}"#;
    let hostile = e2e::archives::gz(&e2e::archives::tar(&[
        e2e::archives::E::File("MANIFEST.json", manifest, 0o644),
        e2e::archives::E::File("../../evil", b"x", 0o644),
    ]));
    std::fs::write(&bundle3, &hostile).unwrap();
    rel["bundle"]["sha256"] = sha256_hex(&hostile).into();
    rel["bundle"]["size"] = hostile.len().into();
    rel["manifest_sha256"] = sha256_hex(manifest).into();
    b.sign_into(&rel3, &serde_json::to_vec_pretty(&rel).unwrap());
    let run = host
        .fetch(&["install", "greet", "--version", "3"])
        .expect(1);
    run.stderr_has("is refused: '..' component");
    assert!(!host.root.join("opt/evil").exists() && !host.root.join("evil").exists());

    // A decompression bomb: far more bytes than its manifest declares.
    let bomb = e2e::archives::gz(&e2e::archives::tar(&[
        e2e::archives::E::File("MANIFEST.json", manifest, 0o644),
        e2e::archives::E::File("evil", &vec![0u8; 64 << 20], 0o644),
    ]));
    std::fs::write(&bundle3, &bomb).unwrap();
    rel["bundle"]["sha256"] = sha256_hex(&bomb).into();
    rel["bundle"]["size"] = bomb.len().into();
    b.sign_into(&rel3, &serde_json::to_vec_pretty(&rel).unwrap());
    let run = host
        .fetch(&["install", "greet", "--version", "3"])
        .expect(1);
    run.stderr_has("decompression bomb");
    untouched(&host);
    untouched(&host);

    // Unreadable config, unreachable store, missing service manager.
    let run = Command::new(e2e::bin("kiln-fetch"))
        .args(["--config", "/nonexistent/fetch.toml", "list"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&run.stderr).contains("cannot read config /nonexistent/fetch.toml")
    );
    let bad_toml = host.tmp.path().join("bad.toml");
    std::fs::write(&bad_toml, "store = \"x\"\nkeep = \"three\"\n").unwrap();
    let run = Command::new(e2e::bin("kiln-fetch"))
        .arg("--config")
        .arg(&bad_toml)
        .arg("list")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&run.stderr).contains("bad.toml:2:8"),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );

    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let run = host.fetch(&[
        "--store",
        &format!("http://127.0.0.1:{closed}/store"),
        "install",
        "greet",
        "--version",
        "2",
    ]);
    let run = run.expect(3);
    run.stderr_has("after 3 attempts");
    untouched(&host);

    let run = host
        .command(&["install", "greet", "--version", "2"])
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&run.stderr).contains("`sv` is not installed"));
    untouched(&host);
    assert!(
        !host.root.join("opt/kiln/greet/2").exists(),
        "nothing downloaded or unpacked"
    );
}

/// Re-pack a bundle with one entry's content replaced (MANIFEST.json untouched).
fn rewrite_entry(bundle: &[u8], path: &str, content: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut a = tar::Archive::new(flate2::read::GzDecoder::new(bundle));
    let mut out = tar::Builder::new(Vec::new());
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let mut h = e.header().clone();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        let name = e.path().unwrap().to_string_lossy().into_owned();
        if name == path {
            data = content.to_vec();
        }
        h.set_size(data.len() as u64);
        h.set_cksum();
        out.append(&h, data.as_slice()).unwrap();
    }
    e2e::archives::gz(&out.into_inner().unwrap())
}

/// A full disk, while downloading or while unpacking: exit 3 naming the path and the
/// bytes needed, nothing left behind that holds the space (no `.partial`, no complete
/// download), so a smaller install right after succeeds; `gc` empties the cache.
#[test]
fn a_full_disk_fails_cleanly_and_frees_what_it_took() {
    if !Path::new("/usr/bin/unshare").exists() {
        eprintln!("skipped: needs util-linux's unshare");
        return;
    }
    let b = Builds::new();
    b.demo(1, "v1", true);
    b.greet(1, "one");
    // 300 KiB: the demo bundle (700 KB of data) cannot even be downloaded; 1000 KiB: it
    // downloads, but cannot be unpacked beside its download.
    for (size, step) in [("300k", "download"), ("1000k", "unpack")] {
        let host = Host::new(&b.store().display().to_string(), &b.public, "unused");
        let script = format!(
            "mount -t tmpfs -o size={size} tmpfs {root} || exit 99
             {fetch} --config {config} install demo --version 1 --no-restart; echo \"code=$?\"
             echo \"left=$(find {root}/opt/kiln/demo {root}/var/cache/kiln -mindepth 1 ! -name .lock 2>/dev/null | wc -l)\"
             {fetch} --config {config} install greet --version 1 >/dev/null; echo \"greet=$?\"
             mkdir -p {root}/var/cache/kiln && echo x > {root}/var/cache/kiln/0000.partial
             {fetch} --config {config} --json gc; echo \"gc=$?\"
             echo \"cache=$(find {root}/var/cache/kiln -mindepth 1 ! -name .lock | wc -l)\"",
            root = host.root.display(),
            fetch = e2e::bin("kiln-fetch").display(),
            config = host.config.display(),
        );
        let out = Command::new("unshare")
            .args(["--user", "--map-root-user", "--mount", "sh", "-c", &script])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{step}: {stdout}{stderr}");
        assert!(stdout.contains("code=3"), "{step}: {stdout}{stderr}");
        assert!(stderr.contains("disk is full"), "{step}: {stderr}");
        assert!(stderr.contains("bytes"), "{step}: {stderr}");
        let place = if step == "download" {
            "var/cache/kiln"
        } else {
            "opt/kiln/demo"
        };
        assert!(stderr.contains(place), "{step}: {stderr}");
        assert!(
            stdout.contains("left=0\n"),
            "{step}: nothing may be left: {stdout}"
        );
        assert!(
            stdout.contains("greet=0"),
            "{step}: a smaller install fits: {stdout}{stderr}"
        );
        assert!(stdout.contains("gc=0"), "{step}: {stdout}{stderr}");
        assert!(
            stdout.contains("\"cache_files_removed\": 1"),
            "{step}: {stdout}"
        );
        assert!(stdout.contains("cache=0\n"), "{step}: {stdout}");
    }
}

#[test]
fn hosts_install_only_what_a_trusted_key_signed_and_never_go_back_in_time() {
    let b = Builds::new();
    b.greet(1, "one");
    b.greet(2, "two");
    b.promote("greet", 1, "prod");
    let store = b.store().display().to_string();
    let host = Host::new(&store, &b.public, "unused");
    host.fetch(&["install", "greet", "--channel", "prod"])
        .expect(0);
    let pointer = b.store().join("greet/channels/prod.json");
    let old_pointer = std::fs::read(&pointer).unwrap();
    b.promote("greet", 2, "prod");
    host.fetch(&["install", "greet", "--channel", "prod"])
        .expect(0);
    let running = |host: &Host, build: &str| {
        assert_eq!(host.current("greet").as_deref(), Some(build));
        host.fetch(&["verify", "greet"]).expect(0);
    };

    // The keygen output: a 0600 secret key and a one-line public key.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&b.key).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(b.public.starts_with("kiln-ed25519:"));
    b.ws.kiln(&["keygen", "--out", b.key.to_str().unwrap()])
        .expect(2)
        .stderr_has("never overwrites");

    // A replayed older pointer (validly signed in its day) is refused.
    std::fs::write(&pointer, &old_pointer).unwrap();
    let run = host
        .fetch(&["install", "greet", "--channel", "prod"])
        .expect(1);
    run.stderr_has("is at sequence 1, older than sequence 2 this host already followed");
    running(&host, "2");
    // Rolling back on purpose is a new promote of the old build: a higher sequence.
    b.promote("greet", 1, "prod");
    host.fetch(&["install", "greet", "--channel", "prod"])
        .expect(0);
    running(&host, "1");

    // An expired pointer is refused (a frozen channel).
    let mut p: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&pointer).unwrap()).unwrap();
    p["sequence"] = 9.into();
    p["build"] = 2.into();
    let rel2: serde_json::Value =
        serde_json::from_slice(&std::fs::read(b.store().join("greet/2/release.json")).unwrap())
            .unwrap();
    p["bundle_sha256"] = rel2["bundle"]["sha256"].clone();
    p["expires"] = "2020-01-01T00:00:00Z".into();
    let bytes = serde_json::to_vec_pretty(&p).unwrap();
    let key = release::SecretKey::parse(&std::fs::read_to_string(&b.key).unwrap()).unwrap();
    let sig = b
        .store()
        .join("greet/channels/prod/sig")
        .join(format!("{}.sig", sha256_hex(&bytes)));
    std::fs::write(&pointer, &bytes).unwrap();
    std::fs::write(&sig, key.sign(&bytes).to_bytes()).unwrap();
    let run = host
        .fetch(&["install", "greet", "--channel", "prod"])
        .expect(1);
    run.stderr_has("expired at 2020-01-01T00:00:00Z");
    running(&host, "1");
    // --expires writes a future expiry that hosts accept.
    b.kiln(&[
        "promote",
        "greet",
        "2",
        "--channel",
        "prod",
        "--expires",
        "30d",
    ])
    .expect(0);
    let p: serde_json::Value = serde_json::from_slice(&std::fs::read(&pointer).unwrap()).unwrap();
    assert!(p["expires"].as_str().unwrap() > "2026");
    host.fetch(&["install", "greet", "--channel", "prod"])
        .expect(0);
    running(&host, "2");

    // A record edited after signing is refused.
    b.greet(3, "three");
    let rel3 = b.store().join("greet/3/release.json");
    let edited = String::from_utf8(std::fs::read(&rel3).unwrap())
        .unwrap()
        .replace("\"builder\": \"kiln", "\"builder\": \"evil");
    std::fs::write(&rel3, edited).unwrap();
    let run = host
        .fetch(&["install", "greet", "--version", "3"])
        .expect(1);
    run.stderr_has("does not match the record's bytes (edited after signing)");
    running(&host, "2");

    // A release signed by a key the host does not trust is refused.
    let other = b.ws.tmp.path().join("other.key");
    b.ws.kiln(&["keygen", "--out", other.to_str().unwrap()])
        .expect(0);
    b.ws.write("tool/msg.txt", "four\n");
    let out =
        b.ws.command(&[
            "publish",
            "//tool:greet",
            "--build-number",
            "4",
            "--signing-key",
            other.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let run = host
        .fetch(&["install", "greet", "--version", "4"])
        .expect(1);
    run.stderr_has("which is not among the trusted keys");
    running(&host, "2");

    // Unsigned: refused, unless allow_unsigned (with a warning on every run).
    b.ws.write("tool/msg.txt", "five\n");
    b.ws.kiln(&["publish", "//tool:greet", "--build-number", "5"])
        .expect(0)
        .stderr_has("publishing unsigned");
    host.fetch(&["install", "greet", "--version", "5"])
        .expect(1)
        .stderr_has("is not signed; refusing it");
    running(&host, "2");
    let config = std::fs::read_to_string(&host.config).unwrap();
    std::fs::write(
        &host.config,
        config.replace("keep = 5\n", "keep = 5\nallow_unsigned = true\n"),
    )
    .unwrap();
    let run = host
        .fetch(&["install", "greet", "--version", "5"])
        .expect(0);
    run.stderr_has("warning: allow_unsigned = true");
    run.stderr_has("release record of greet build 5 is not signed; installing anyway");

    // Rotation: several trusted keys at once; a release by any of them installs.
    let other_pub = std::fs::read_to_string(format!("{}.pub", other.display())).unwrap();
    std::fs::write(
        &host.config,
        config.replace(
            &format!("trusted_keys = [\"{}\"]", b.public),
            &format!(
                "trusted_keys = [\"{}\", \"{}\"]",
                b.public,
                other_pub.trim()
            ),
        ),
    )
    .unwrap();
    host.fetch(&["install", "greet", "--version", "4"])
        .expect(0);
    running(&host, "4");
    // A malformed trusted key is bad input.
    std::fs::write(
        &host.config,
        config.replace(&b.public, "kiln-ed25519:not-base64"),
    )
    .unwrap();
    host.fetch(&["list"])
        .expect(2)
        .stderr_has("trusted_keys[0]");
}

/// Health checks and service commands see only stdin, stdout and stderr, whatever
/// descriptors config management left open when it called kiln-fetch.
#[test]
fn only_stdin_stdout_and_stderr_reach_health_checks_and_service_commands() {
    let b = Builds::new();
    let log = b.ws.tmp.path().join("fds.log");
    let probe = |who: &str| {
        format!(
            "for fd in 3 4 5 6 7 8 9; do if (: <&$fd) 2>/dev/null || (: >&$fd) 2>/dev/null; then echo \"{who} open $fd\"; fi; done >> {}; echo \"{who} ran\" >> {}",
            log.display(),
            log.display()
        )
    };
    b.ws.write_exec(
        "svc/health.sh",
        &format!("#!/bin/sh\n{}\n", probe("health")),
    );
    b.demo(1, "v1", true);
    let host = Host::new(&b.store().display().to_string(), &b.public, "unused");
    let cmd_script = host.tmp.path().join("restart.sh");
    std::fs::write(&cmd_script, format!("#!/bin/sh\n{}\n", probe("command"))).unwrap();
    sh(
        &format!("chmod 755 {}", cmd_script.display()),
        Path::new("/"),
    )
    .expect(0);
    std::fs::write(
        &host.config,
        format!(
            "store = \"{}\"\nroot = \"{}\"\ntrusted_keys = [\"{}\"]\n[services]\nmanager = \"command\"\ncommand = \"{} {{name}}\"\n",
            b.store().display(),
            host.root.display(),
            b.public,
            cmd_script.display()
        ),
    )
    .unwrap();
    let secret = host.tmp.path().join("secret");
    std::fs::write(&secret, "SECRET\n").unwrap();
    let run = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "exec 7<'{s}' 8<'{s}'; exec '{}' --config '{}' install demo --version 1",
            e2e::bin("kiln-fetch").display(),
            host.config.display(),
            s = secret.display()
        ))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .unwrap();
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let seen = std::fs::read_to_string(&log).unwrap();
    assert!(
        seen.contains("command ran") && seen.contains("health ran"),
        "{seen}"
    );
    assert!(!seen.contains("open"), "descriptors reached them:\n{seen}");
}

/// `--version N` given before the command (a config-management template's slip) must
/// never print a version and exit 0 having installed nothing: that reads as success.
#[test]
fn a_misplaced_version_flag_is_an_error_not_a_success() {
    let b = Builds::new();
    b.greet(3, "three");
    let host = Host::new(&b.store().display().to_string(), &b.public, "unused");
    let run = host.fetch(&["--version", "3", "install", "greet"]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(!run.stdout.contains("kiln-fetch 0."), "{}", run.stdout);
    assert!(host.current("greet").is_none(), "nothing was installed");
    // In the right place it installs; the version has its own command.
    host.fetch(&["install", "greet", "--version", "3"])
        .expect(0);
    host.fetch(&["version"])
        .expect(0)
        .stdout_has(concat!("kiln-fetch ", env!("CARGO_PKG_VERSION")));
}

/// A host config with a command as service manager and an impatient health check.
fn command_host(b: &Builds, log: &Path) -> Host {
    let host = Host::new(&b.store().display().to_string(), &b.public, "unused");
    std::fs::write(
        &host.config,
        format!(
            "store = \"{}\"\nroot = \"{}\"\ntrusted_keys = [\"{}\"]\n[services]\nmanager = \"command\"\ncommand = \"echo restart {{name}} >> {}\"\n[health]\ntimeout = \"1s\"\nretries = 0\ninterval = \"100ms\"\n",
            b.store().display(),
            host.root.display(),
            b.public,
            log.display()
        ),
    )
    .unwrap();
    host
}

/// Service names reach the service manager as names, never as shell text: refused at
/// build time, refused in a signed bundle at install time, refused on the command line,
/// and passed as an argument even when valid.
#[test]
fn service_names_are_never_shell() {
    let b = Builds::new();
    let log = b.ws.tmp.path().join("restarts.log");
    let pwned = b.ws.tmp.path().join("pwned");
    // Build time: at its line.
    b.ws.write(
        "bad/BUILD.toml",
        format!(
            "[[wrapper]]\nname = \"w\"\nsrc = \"w.sh\"\n[[bundle]]\nname = \"badsvc\"\nkind = \"service\"\nbinaries = [\":w\"]\n[bundle.service]\nname = \"x; touch {}\"\n",
            pwned.display()
        ),
    )
    .write_exec("bad/w.sh", "#!/bin/sh\n");
    b.kiln(&["build", "//bad:badsvc"])
        .expect(2)
        .stderr_has("bad/BUILD.toml:")
        .stderr_has("[bundle.service] name");
    std::fs::remove_dir_all(b.ws.path("bad")).unwrap();
    // Install time: a bundle signed by the key (a compromised CI) naming such a service.
    b.greet(3, "three");
    let (bundle3, rel3) = store_files(&b, "greet", 3);
    let manifest = format!(
        r#"{{"schema":1,"package":"greet","kind":"service","binaries":[],"service":{{"name":"x; touch {}"}},"inputs":[],"files":[{{"path":"ok","size":1,"sha256":"2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881","mode":420}}]}}"#,
        pwned.display()
    );
    let evil = e2e::archives::gz(&e2e::archives::tar(&[
        e2e::archives::E::File("MANIFEST.json", manifest.as_bytes(), 0o644),
        e2e::archives::E::File("ok", b"x", 0o644),
    ]));
    std::fs::write(&bundle3, &evil).unwrap();
    let mut rel: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&rel3).unwrap()).unwrap();
    rel["bundle"]["sha256"] = sha256_hex(&evil).into();
    rel["bundle"]["size"] = evil.len().into();
    rel["manifest_sha256"] = sha256_hex(manifest.as_bytes()).into();
    b.sign_into(&rel3, &serde_json::to_vec_pretty(&rel).unwrap());
    let host = command_host(&b, &log);
    host.fetch(&["install", "greet", "--version", "3"])
        .expect(1)
        .stderr_has("service name");
    assert!(!pwned.exists(), "the service name ran as shell");
    // The command line: the same.
    b.greet(4, "four");
    host.fetch(&[
        "install",
        "greet",
        "--version",
        "4",
        "--restart",
        "y;touch /tmp/x",
    ])
    .expect(2);
    // A valid name is the command's argument.
    host.fetch(&["install", "greet", "--version", "4", "--restart", "nginx"])
        .expect(0);
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "restart nginx\n");
}

/// A health check that backgrounds a process and then hangs: on its timeout the whole
/// process group goes, not just the script.
#[test]
fn a_timed_out_health_check_leaves_no_process_behind() {
    let b = Builds::new();
    let marker = "765.4321";
    b.ws.write_exec(
        "svc/health.sh",
        &format!("#!/bin/sh\nsleep {marker} &\nsleep {marker}\n"),
    );
    b.demo(1, "v1", true);
    let log = b.ws.tmp.path().join("restarts.log");
    let host = command_host(&b, &log);
    host.fetch(&["install", "demo", "--version", "1"])
        .expect(1)
        .stderr_has("health check");
    assert!(
        wait_for(Duration::from_secs(10), || no_processes_with(marker)),
        "the health check's processes outlived it"
    );
}

/// Config management reads one JSON object per run, failures included.
#[test]
fn json_is_one_object_even_when_the_run_fails() {
    let b = Builds::new();
    b.greet(1, "one");
    let host = Host::new(&b.store().display().to_string(), &b.public, "unused");
    let bad_config = host.tmp.path().join("bad.toml");
    std::fs::write(&bad_config, "keep = \"three\"\n").unwrap();
    let cases: Vec<(Vec<String>, i32, &str)> = vec![
        (
            vec![
                "install".into(),
                "nosuch".into(),
                "--version".into(),
                "1".into(),
            ],
            2,
            "install",
        ),
        (
            vec![
                "install".into(),
                "greet".into(),
                "--version".into(),
                "9".into(),
            ],
            2,
            "install",
        ),
        (
            vec![
                "--version".into(),
                "1".into(),
                "install".into(),
                "greet".into(),
            ],
            2,
            "",
        ),
        (vec!["verify".into(), "greet".into()], 2, "verify"),
    ];
    for (args, code, command) in cases {
        let mut a: Vec<&str> = vec!["--json"];
        a.extend(args.iter().map(String::as_str));
        let run = host.fetch(&a);
        assert_eq!(run.code, code, "{a:?}: {}", run.stderr);
        let v: serde_json::Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("{a:?}: not one JSON object ({e}): {:?}", run.stdout));
        assert_eq!(v["failed"], true, "{a:?}: {v}");
        assert_eq!(v["exit_code"], code, "{a:?}: {v}");
        assert_eq!(v["command"], command, "{a:?}: {v}");
        assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()), "{v}");
    }
    let run = Command::new(e2e::bin("kiln-fetch"))
        .arg("--json")
        .arg("--config")
        .arg(&bad_config)
        .arg("list")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(
        (v["failed"].clone(), v["command"].clone()),
        (true.into(), "list".into())
    );
}

/// Under umask 000 nothing kiln-fetch creates is writable by other users.
#[test]
fn modes_do_not_depend_on_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let b = Builds::new();
    b.greet(1, "one");
    let host = Host::new(&b.store().display().to_string(), &b.public, "unused");
    let run = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "umask 000 && exec '{}' --config '{}' install greet --version 1",
            e2e::bin("kiln-fetch").display(),
            host.config.display()
        ))
        .output()
        .unwrap();
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let mut checked = 0;
    let mut stack = vec![host.root.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let m = std::fs::symlink_metadata(e.path()).unwrap();
            if m.file_type().is_symlink() {
                continue;
            }
            assert_eq!(
                m.permissions().mode() & 0o022,
                0,
                "{} is writable by others",
                e.path().display()
            );
            checked += 1;
            if m.is_dir() {
                stack.push(e.path());
            }
        }
    }
    assert!(checked > 5, "{checked}");
}

/// Overwrite an installed (read-only) file, as someone with root on the host could.
fn tamper(path: &Path, content: &str) {
    use std::os::unix::fs::PermissionsExt;
    let dir = path.parent().unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::write(path, content).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o444)).unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
}

/// A build already on the host is checked before it becomes current again; a bad
/// tree is replaced by a fresh download, and `--reinstall` forces that.
#[test]
fn a_tampered_build_is_never_made_current_again() {
    let b = Builds::new();
    b.greet(1, "one");
    b.greet(2, "two");
    let host = Host::new(&b.store().display().to_string(), &b.public, "unused");
    let tool = host.root.join("usr/local/bin/greet-tool");
    let msg = |n: u64| {
        host.root
            .join(format!("opt/kiln/greet/{n}/runfiles/_main/tool/msg.txt"))
    };
    host.fetch(&["install", "greet", "--version", "1"])
        .expect(0);
    host.fetch(&["install", "greet", "--version", "2"])
        .expect(0);
    assert!(msg(2).is_file(), "{}", msg(2).display());
    tamper(&msg(2), "evil\n");
    // verify's hint is a command that repairs.
    let run = host.fetch(&["verify", "greet"]).expect(1);
    run.stderr_has("--reinstall");
    // What the old hint said: roll back, install again. The tampered tree is replaced.
    host.fetch(&["rollback", "greet", "--to", "1"]).expect(0);
    host.fetch(&["install", "greet", "--version", "2"])
        .expect(0)
        .stderr_has("does not match its manifest");
    assert_eq!(
        sh(&tool.display().to_string(), Path::new("/"))
            .expect(0)
            .stdout,
        "two\n"
    );
    host.fetch(&["verify", "greet"]).expect(0);

    // A tampered build that is not current, rolled back to: fetched again.
    tamper(&msg(1), "evil\n");
    host.fetch(&["rollback", "greet"]).expect(0);
    assert_eq!(host.current("greet").as_deref(), Some("1"));
    assert_eq!(
        sh(&tool.display().to_string(), Path::new("/"))
            .expect(0)
            .stdout,
        "one\n"
    );
    host.fetch(&["verify", "greet"]).expect(0);

    // The current build tampered: --reinstall puts a clean copy in place, changed.
    tamper(&msg(1), "evil\n");
    host.fetch(&["install", "greet", "--version", "1"])
        .expect(0)
        .stdout_has("unchanged");
    let r = host.json(&["install", "greet", "--version", "1", "--reinstall"]);
    assert_eq!(r["changed"], true, "{r}");
    assert_eq!(
        sh(&tool.display().to_string(), Path::new("/"))
            .expect(0)
            .stdout,
        "one\n"
    );
    host.fetch(&["verify", "greet"]).expect(0);
    // A clean current build: --reinstall is still a fresh copy, and says so.
    let r = host.json(&["install", "greet", "--version", "1", "--reinstall"]);
    assert_eq!(r["changed"], true, "{r}");
    host.fetch(&["verify", "greet"]).expect(0);
    host.assert_no_temp_visible("greet");
}

/// A build directory replaced by a link to somewhere else (with the right release
/// record in it) is neither used nor followed: a fresh copy replaces the link, and the
/// link's target keeps its files and modes.
#[test]
fn a_build_directory_that_is_a_link_is_replaced_not_followed() {
    use std::os::unix::fs::PermissionsExt;
    let b = Builds::new();
    b.greet(1, "one");
    b.greet(2, "two");
    let host = Host::new(&b.store().display().to_string(), &b.public, "unused");
    host.fetch(&["install", "greet", "--version", "2"])
        .expect(0);
    host.fetch(&["install", "greet", "--version", "1"])
        .expect(0);
    let two = host.root.join("opt/kiln/greet/2");
    let victim = host.tmp.path().join("victim");
    sh(
        &format!(
            "cp -a {two} {victim} && chmod -R u+w {two} && rm -rf {two} && ln -s {victim} {two} && chmod 0600 {victim}/release.json",
            two = two.display(),
            victim = victim.display()
        ),
        Path::new("/"),
    )
    .expect(0);
    let before = sh(
        &format!("find {} -printf '%p %m\\n' | sort", victim.display()),
        Path::new("/"),
    )
    .expect(0)
    .stdout;
    host.fetch(&["install", "greet", "--version", "2"])
        .expect(0)
        .stderr_has("is not a directory kiln-fetch made");
    assert!(
        !std::fs::symlink_metadata(&two)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    host.fetch(&["verify", "greet"]).expect(0);
    let after = sh(
        &format!("find {} -printf '%p %m\\n' | sort", victim.display()),
        Path::new("/"),
    )
    .expect(0)
    .stdout;
    assert_eq!(before, after, "the link's target was changed");
    assert_eq!(
        std::fs::metadata(victim.join("release.json"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
}

/// A corrupt state file is a clear error naming the file and the repair; other
/// packages keep working.
#[test]
fn a_corrupt_state_file_names_itself_and_other_packages_keep_working() {
    let b = Builds::new();
    b.greet(1, "one");
    b.greet(2, "two");
    b.demo(1, "v1", true);
    b.demo(2, "v2", true);
    let host = Host::new(&b.store().display().to_string(), &b.public, "unused");
    host.fetch(&["install", "greet", "--version", "1"])
        .expect(0);
    host.fetch(&["install", "demo", "--version", "1", "--no-restart"])
        .expect(0);
    let state = host.root.join("var/lib/kiln/greet/state.json");
    std::fs::write(&state, "{\"schema\": 1, \"history\": [{\"bui").unwrap();
    let shown = state.display().to_string();

    let run = host.fetch(&["list"]).expect(2);
    run.stdout_has("demo: current 1");
    run.stderr_has(&shown).stderr_has("hint: ");
    let v: serde_json::Value =
        serde_json::from_str(&host.fetch(&["--json", "list"]).expect(2).stdout).unwrap();
    assert_eq!(v["failed"], true, "{v}");
    assert_eq!(v["packages"][0]["package"], "demo", "{v}");

    let run = host
        .fetch(&["install", "greet", "--version", "2"])
        .expect(2);
    run.stderr_has(&shown)
        .stderr_has(&format!("mv {shown} {shown}.corrupt"));
    assert_eq!(
        host.current("greet").as_deref(),
        Some("1"),
        "nothing changed"
    );
    host.fetch(&["rollback", "greet"])
        .expect(2)
        .stderr_has(&shown);
    // Another package is not affected.
    host.fetch(&["install", "demo", "--version", "2", "--no-restart"])
        .expect(0);
    // The repair the hint gives works.
    std::fs::rename(&state, format!("{shown}.corrupt")).unwrap();
    host.fetch(&["install", "greet", "--version", "2"])
        .expect(0);
    host.fetch(&["list"]).expect(0);

    // A schema this kiln-fetch does not know is refused the same way, not guessed at.
    std::fs::write(&state, "{\"schema\": 7, \"history\": []}").unwrap();
    host.fetch(&["install", "greet", "--version", "1"])
        .expect(2)
        .stderr_has(&shown);
}

/// An install killed after the switch, whose journal was then damaged, is still
/// finished on the next run: the restart and health check it owed happen.
#[test]
fn an_unfinished_install_with_a_corrupt_journal_is_finished() {
    let b = Builds::new();
    b.demo(1, "v1", true);
    b.demo(2, "v2", true);
    let host = Host::new(&b.store().display().to_string(), &b.public, "4203.5");
    host.fetch(&["install", "demo", "--version", "1", "--no-restart"])
        .expect(0);
    let runit = host.start_runit();
    host.wait_running("v1");
    kill_at(
        &host,
        &["install", "demo", "--version", "2"],
        "after-switch",
    );
    assert_eq!(host.current("demo").as_deref(), Some("2"));
    let journal = host.root.join("var/lib/kiln/demo/pending.json");
    let text = std::fs::read_to_string(&journal).unwrap();
    std::fs::write(&journal, &text[..text.len() / 2]).unwrap();
    let run = host.fetch(&["install", "demo", "--version", "2"]).expect(0);
    run.stdout_has("finished the interrupted install of demo build 2")
        .stderr_has(&journal.display().to_string());
    host.wait_running("v2");
    assert!(!journal.exists());
    let st: serde_json::Value = serde_json::from_slice(
        &std::fs::read(host.root.join("var/lib/kiln/demo/state.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        st["history"].as_array().unwrap().last().unwrap()["build"],
        2
    );
    // An empty journal where the switch did not happen: cleared, nothing owed.
    std::fs::write(&journal, "").unwrap();
    host.fetch(&["install", "demo", "--version", "2"])
        .expect(0)
        .stdout_has("unchanged");
    assert!(!journal.exists());
    host.stop(runit);
}

impl Host {
    /// Set `[services] wait` in the config.
    fn set_wait(&self, wait: &str) {
        let text = std::fs::read_to_string(&self.config).unwrap();
        let text = text.replace("[services]\n", &format!("[services]\nwait = \"{wait}\"\n"));
        std::fs::write(&self.config, text).unwrap();
    }
}

/// The usual first install: the service directory is there but runsvdir picks it up
/// only seconds later. kiln-fetch waits for runit's supervise/ok, then restarts.
#[test]
fn a_service_runit_has_not_picked_up_yet_is_waited_for() {
    let b = Builds::new();
    b.demo(1, "v1", true);
    let host = Host::new(&b.store().display().to_string(), &b.public, "4204.5");
    // The run script first (what config management writes), runsvdir 2 s later.
    let runit = host.start_runit();
    drop(runit);
    sh(
        &format!("rm -rf {}/demo/supervise", host.svdir.display()),
        Path::new("/"),
    )
    .expect(0);
    let child = host
        .command(&["install", "demo", "--version", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let runit = Runsvdir::start(&host.svdir, &host.tmp.path().join("runsvdir2.log"));
    let run = Run::from(child.wait_with_output().unwrap());
    run.expect(0).stdout_has("restarted demo");
    host.wait_running("v1");
    host.stop(runit);
}

/// A service runit never supervises: after `[services] wait`, a clear error, and a
/// first install leaves the host as it was (no `current`); an upgrade goes back to the
/// build that ran before.
#[test]
fn a_service_that_is_never_supervised_fails_clearly_and_changes_nothing() {
    let b = Builds::new();
    b.demo(1, "v1", true);
    b.demo(2, "v2", true);
    let host = Host::new(&b.store().display().to_string(), &b.public, "4205.5");
    host.set_wait("1s");
    // The service directory exists, runsvdir does not run.
    std::fs::create_dir_all(host.svdir.join("demo")).unwrap();
    let run = host.fetch(&["--json", "install", "demo", "--version", "1"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    run.stderr_has("supervise/ok")
        .stderr_has("hint: check that runsvdir is running");
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        (v["failed"].clone(), v["exit_code"].clone()),
        (true.into(), 3.into())
    );
    assert_eq!(
        host.current("demo"),
        None,
        "a first install that failed leaves no current"
    );

    // Build 1 running under runit, then runit stops supervising: installing 2 fails
    // and build 1 is current again.
    host.fetch(&["install", "demo", "--version", "1", "--no-restart"])
        .expect(0);
    let runit = host.start_runit();
    host.wait_running("v1");
    drop(runit);
    let run = host.fetch(&["install", "demo", "--version", "2"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    run.stderr_has("supervise/ok").stderr_has("build 1");
    assert_eq!(host.current("demo").as_deref(), Some("1"));
    host.fetch(&["list", "demo"]).expect(0);
    assert!(!host.root.join("var/lib/kiln/demo/pending.json").exists());
    assert!(wait_for(Duration::from_secs(10), || no_processes_with(
        &host.marker
    )));
}

/// `--root` elsewhere than the config's root is a scratch host: the config's service
/// manager (which acts on this machine) is never run for it; a config that names that
/// root itself keeps its manager.
#[test]
fn a_scratch_root_never_touches_the_machines_service_manager() {
    let b = Builds::new();
    b.demo(1, "v1", true);
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = tmp.path().join("calls.log");
    std::fs::write(
        bin.join("systemctl"),
        // Restarts are logged; the start stage's questions are answered as systemd
        // would for a running unit (a new MainPID after each restart).
        format!(
            "#!/bin/sh\ncase \"$1\" in\n  is-active) echo active ;;\n  show) echo $((4000 + $(cat {log} 2>/dev/null | grep -c restart))) ;;\n  *) echo systemctl \"$@\" >> {log} ;;\nesac\n",
            log = log.display()
        ),
    )
    .unwrap();
    sh(
        &format!("chmod 755 {}/systemctl", bin.display()),
        Path::new("/"),
    )
    .expect(0);
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = |config: &str, args: &[&str]| {
        let file = tmp.path().join("fetch.toml");
        std::fs::write(&file, config).unwrap();
        Run::from(
            Command::new(e2e::bin("kiln-fetch"))
                .arg("--config")
                .arg(&file)
                .args(args)
                .env_clear()
                .env("PATH", &path)
                .output()
                .unwrap(),
        )
    };
    let store = b.store().display().to_string();
    let head = format!("store = \"{store}\"\ntrusted_keys = [\"{}\"]\n", b.public);
    for (i, services) in [
        "[services]\nmanager = \"systemd\"\n".to_string(),
        format!(
            "[services]\nmanager = \"command\"\ncommand = \"echo command {{name}} >> {}\"\n",
            log.display()
        ),
    ]
    .iter()
    .enumerate()
    {
        let root = tmp.path().join(format!("host{i}"));
        let root = root.to_str().unwrap();
        let config = format!("{head}{services}");
        // --root in either place on the line.
        run(
            &config,
            &["--root", root, "install", "demo", "--version", "1"],
        )
        .expect(0)
        .stderr_has("not the config's root");
        run(
            &config,
            &[
                "install",
                "demo",
                "--version",
                "1",
                "--reinstall",
                "--root",
                root,
            ],
        )
        .expect(0)
        .stderr_has("not the config's root");
        assert!(
            !log.exists(),
            "{services}: {}",
            std::fs::read_to_string(&log).unwrap()
        );
    }
    // The config names the root: its manager is used.
    let root = tmp.path().join("named");
    let config = format!(
        "{head}root = \"{}\"\n[services]\nmanager = \"systemd\"\n",
        root.display()
    );
    run(&config, &["install", "demo", "--version", "1"]).expect(0);
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "systemctl restart demo\n"
    );
}

/// Each kind of wrong name gets its own error and hint: the package (with "did you
/// mean"), the build, the channel, the store, and the key.
#[test]
fn errors_name_what_is_wrong() {
    let b = Builds::new();
    b.greet(1, "one");
    b.greet(2, "two");
    b.demo(1, "v1", true);
    b.promote("greet", 2, "staging");
    let store = b.store().display().to_string();
    let host = Host::new(&store, &b.public, "unused");
    let cases: &[(&[&str], &[&str], &[&str])] = &[
        (
            &["install", "gret", "--version", "1"],
            &["package gret is not in", "it holds demo, greet"],
            &["did you mean greet?"],
        ),
        (
            &["install", "gret", "--channel", "staging"],
            &["package gret is not in"],
            &["did you mean greet?"],
        ),
        (
            &["install", "greet", "--version", "9"],
            &["build 9 of greet is not in", "its builds: 1, 2"],
            &["kiln releases greet"],
        ),
        (
            &["install", "greet", "--channel", "prod"],
            &["greet has no channel prod in", "its channels: staging"],
            &["kiln promote greet N --channel prod"],
        ),
        (
            &["install", "greet", "--channel", "stagin"],
            &["no channel stagin"],
            &["did you mean staging?"],
        ),
    ];
    for (args, errs, hints) in cases {
        let run = host.fetch(args).expect(2);
        let (err, hint) = run
            .stderr
            .split_once("\nhint: ")
            .unwrap_or_else(|| panic!("{args:?}: no hint: {}", run.stderr));
        for e in *errs {
            assert!(err.contains(e), "{args:?}: error lacks {e:?}: {err}");
        }
        for h in *hints {
            assert!(hint.contains(h), "{args:?}: hint lacks {h:?}: {hint}");
        }
        assert!(
            !run.stderr.contains("promote a build first") || args.contains(&"prod"),
            "{}",
            run.stderr
        );
    }
    // A store URL with a typo: the store is named, not the package.
    let typo = format!("{store}x");
    let run = host
        .fetch(&["--store", &typo, "install", "greet", "--version", "1"])
        .expect(2);
    run.stderr_has(&format!("{typo} holds no releases"))
        .stderr_has("hint: check the store URL");
    let run = host
        .fetch(&["--store", &typo, "install", "greet", "--channel", "staging"])
        .expect(2);
    run.stderr_has("holds no releases");

    // A relative store in a config is relative to the config, wherever this runs from.
    let dir = b.ws.path("");
    let config = dir.join("host.toml");
    std::fs::write(
        &config,
        format!(
            "store = \".kiln/store\"\nroot = \"host\"\ntrusted_keys = [\"{}\"]\n",
            b.public
        ),
    )
    .unwrap();
    Run::from(
        Command::new(e2e::bin("kiln-fetch"))
            .args([
                "--config",
                config.to_str().unwrap(),
                "install",
                "greet",
                "--version",
                "1",
            ])
            .current_dir("/")
            .output()
            .unwrap(),
    )
    .expect(0);
    assert!(dir.join("host/opt/kiln/greet/1/release.json").is_file());

    // Signed by a key this host does not trust: the key is named, and the hint is not
    // "publish with --signing-key" (it was signed).
    let other = b.ws.tmp.path().join("other.key");
    let other_pub =
        b.ws.kiln(&["keygen", "--out", other.to_str().unwrap()])
            .expect(0)
            .stdout
            .trim()
            .to_string();
    let stranger = Host::new(&store, &other_pub, "unused");
    let run = stranger
        .fetch(&["install", "greet", "--version", "1"])
        .expect(1);
    run.stderr_has("signed by key").stderr_has("trusted_keys");
    assert!(!run.stderr.contains("--signing-key"), "{}", run.stderr);
}

/// A service command that hangs is stopped at `[services] timeout`, with everything it
/// started; one that leaves a daemon holding its output open does not hang kiln-fetch.
#[test]
fn a_hung_service_command_is_killed_with_its_group() {
    let b = Builds::new();
    b.demo(1, "v1", true);
    let log = b.ws.tmp.path().join("restarts.log");
    let host = command_host(&b, &log);
    let config = std::fs::read_to_string(&host.config).unwrap();
    let marker = "4206.5";
    let hung = config.replace(
        &format!("command = \"echo restart {{name}} >> {}\"", log.display()),
        &format!("command = \"sleep {marker} & sleep {marker}\"\ntimeout = \"1s\""),
    );
    assert_ne!(hung, config);
    std::fs::write(&host.config, &hung).unwrap();
    let run = host.fetch(&["install", "demo", "--version", "1"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    run.stderr_has("did not finish within 1s");
    assert!(
        wait_for(Duration::from_secs(5), || no_processes_with(marker)),
        "the service command's processes outlived it"
    );
    assert_eq!(
        host.current("demo"),
        None,
        "a first install that failed leaves no current"
    );
    // A daemon that keeps stdout open (a naive `service x restart`) is not waited for.
    let marker = "4206.6";
    let daemon = config.replace(
        &format!("command = \"echo restart {{name}} >> {}\"", log.display()),
        &format!("command = \"setsid sleep {marker} & echo restarted\"\ntimeout = \"20s\""),
    );
    std::fs::write(&host.config, &daemon).unwrap();
    let start = std::time::Instant::now();
    host.fetch(&["install", "demo", "--version", "1"]).expect(0);
    assert!(
        start.elapsed() < Duration::from_secs(15),
        "kiln-fetch waited for the daemon"
    );
    sh(&format!("pkill -f 'sleep {marker}'"), Path::new("/"));
}

/// The directories kiln-fetch owns are never written through a link someone else put
/// in their place: the install fails naming the link, and its target is untouched.
#[test]
fn kiln_fetch_never_writes_through_a_link_it_did_not_create() {
    let b = Builds::new();
    b.greet(1, "one");
    for place in [
        "var/lib/kiln/greet",
        "opt/kiln/greet",
        "var/cache/kiln",
        "var/lib/kiln",
    ] {
        let host = Host::new(&b.store().display().to_string(), &b.public, "unused");
        let victim = host.tmp.path().join("victim");
        std::fs::create_dir_all(&victim).unwrap();
        let link = host.root.join(place);
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let run = host.fetch(&["install", "greet", "--version", "1"]);
        assert_eq!(run.code, 1, "{place}: {}", run.stderr);
        run.stderr_has(&link.display().to_string())
            .stderr_has("did not create");
        assert_eq!(
            std::fs::read_dir(&victim).unwrap().count(),
            0,
            "{place}: something was written through the link"
        );
    }
}

// Found by an outside review of the fixes above; each fails without its fix.

/// `-V` with a command, `--json` with help or written `--json=true`, and `--restart`
/// with no service manager: none of them exits 0 having done nothing.
#[test]
fn no_flag_misuse_passes_for_success() {
    let b = Builds::new();
    b.greet(1, "one");
    let host = Host::new(&b.store().display().to_string(), &b.public, "unused");
    let plain = Host::new(&b.store().display().to_string(), &b.public, "unused");
    std::fs::write(
        &plain.config,
        format!(
            "store = \"{}\"\nroot = \"{}\"\ntrusted_keys = [\"{}\"]\n",
            b.store().display(),
            plain.root.display(),
            b.public
        ),
    )
    .unwrap();
    for args in [
        &["-V", "install", "greet", "--version", "1"][..],
        &["install", "greet", "-V", "--version", "1"],
    ] {
        let run = host.fetch(args);
        assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(host.current("greet").is_none(), "{args:?}");
    }
    host.fetch(&["-V"]).expect(0).stdout_has("kiln-fetch ");
    for args in [
        &["--json", "-V"][..],
        &["--json", "--help"],
        &["install", "--json", "--help"],
        &["--json=true", "list"],
        &["--json", "-V", "install", "greet", "--version", "1"],
    ] {
        let run = host.fetch(args);
        let v: serde_json::Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: not one JSON object ({e}): {}", run.stdout));
        assert_eq!(
            v["exit_code"].as_i64().unwrap_or(0),
            i64::from(run.code),
            "{args:?}: {v}"
        );
        assert_eq!(v["failed"], run.code != 0, "{args:?}: {v}");
    }
    let run = plain.fetch(&["install", "greet", "--version", "1", "--restart", "solr"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    run.stderr_has("--restart").stderr_has("[services]");
    assert!(plain.current("greet").is_none());
}

/// Bad input leaves nothing behind, and a run cleans up only temp entries it made:
/// never an administrator's `.tmp-*` files, never anything through a link.
#[test]
fn bad_input_creates_nothing_and_cleanup_removes_only_its_own_temps() {
    let b = Builds::new();
    b.greet(1, "one");
    b.greet(2, "two");
    let host = Host::new(&b.store().display().to_string(), &b.public, "unused");
    host.fetch(&["install", "gret", "--version", "1"]).expect(2);
    host.fetch(&["rollback", "nope"]).expect(2);
    host.fetch(&["install", "greet", "--version", "7"])
        .expect(2);
    for p in ["gret", "nope", "greet"] {
        assert!(
            !host.root.join("var/lib/kiln").join(p).exists(),
            "bad input left var/lib/kiln/{p}"
        );
    }
    host.fetch(&["install", "greet", "--version", "1"])
        .expect(0);
    let bin = host.root.join("usr/local/bin");
    std::fs::create_dir_all(bin.join(".tmp-admin-dir")).unwrap();
    std::fs::write(bin.join(".tmp-admin-dir/data"), "x").unwrap();
    std::fs::write(bin.join(".tmp-notes"), "y").unwrap();
    let outside = host.tmp.path().join("outside");
    std::fs::create_dir_all(outside.join(".tmp-keep")).unwrap();
    std::fs::write(outside.join(".tmp-keep/file"), "important").unwrap();
    std::os::unix::fs::symlink(&outside, host.root.join("opt/kiln/evil")).unwrap();
    host.fetch(&["install", "evil", "--version", "1"]).expect(2);
    host.fetch(&["install", "greet", "--version", "2"])
        .expect(0);
    assert!(bin.join(".tmp-admin-dir/data").is_file());
    assert!(bin.join(".tmp-notes").is_file());
    assert!(
        outside.join(".tmp-keep/file").is_file(),
        "deleted through a link"
    );
}

/// `--dry-run` writes nothing, not even the keys record version a root-pinning host
/// has seen, and never through a link.
#[test]
fn a_dry_run_writes_nothing() {
    let b = Builds::new();
    b.greet(1, "one");
    let root_key = b.ws.tmp.path().join("root.key");
    let root_pub =
        b.ws.kiln(&["keygen", "--root", "--out", root_key.to_str().unwrap()])
            .expect(0)
            .stdout
            .trim()
            .to_string();
    b.kiln(&[
        "keys",
        "--root-key",
        root_key.to_str().unwrap(),
        "--grant",
        &format!("*={}", b.public),
    ])
    .expect(0);
    let host = Host::new(&b.store().display().to_string(), &b.public, "unused");
    std::fs::write(
        &host.config,
        format!(
            "store = \"{}\"\nroot = \"{}\"\ntrusted_root = [\"{root_pub}\"]\n",
            b.store().display(),
            host.root.display()
        ),
    )
    .unwrap();
    host.fetch(&["install", "greet", "--version", "1", "--dry-run"])
        .expect(0);
    assert!(
        !host.root.join("var").exists(),
        "a dry run wrote under var/"
    );
    let outside = host.tmp.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::create_dir_all(host.root.join("var/lib")).unwrap();
    std::os::unix::fs::symlink(&outside, host.root.join("var/lib/kiln")).unwrap();
    host.fetch(&["install", "greet", "--version", "1", "--dry-run"])
        .expect(0);
    host.fetch(&["install", "greet", "--version", "1"])
        .expect(1);
    assert_eq!(
        std::fs::read_dir(&outside).unwrap().count(),
        0,
        "written through a link"
    );
}

/// A rollback to a build on the host never trusts its local release.json alone: one
/// that does not parse, or names another build, is replaced from the store's signed
/// record.
#[test]
fn a_rollback_never_trusts_a_local_release_record() {
    let b = Builds::new();
    b.greet(1, "one");
    b.greet(2, "two");
    b.greet(3, "three");
    let host = Host::new(&b.store().display().to_string(), &b.public, "unused");
    let tool = host.root.join("usr/local/bin/greet-tool");
    for n in ["1", "2", "3"] {
        host.fetch(&["install", "greet", "--version", n]).expect(0);
    }
    host.fetch(&["install", "greet", "--version", "1"])
        .expect(0);
    let rel = |n: u64| host.root.join(format!("opt/kiln/greet/{n}/release.json"));
    tamper(&rel(2), "{");
    host.fetch(&["rollback", "greet", "--to", "2"]).expect(0);
    assert_eq!(
        sh(&tool.display().to_string(), Path::new("/"))
            .expect(0)
            .stdout,
        "two\n"
    );
    host.fetch(&["verify", "greet"]).expect(0);
    host.fetch(&["install", "greet", "--version", "1"])
        .expect(0);
    let three = std::fs::read_to_string(rel(3)).unwrap();
    tamper(&rel(2), &three);
    let r = host.json(&["rollback", "greet", "--to", "2"]);
    assert_eq!(r["build"], 2, "{r}");
    assert_eq!(host.current("greet").as_deref(), Some("2"));
    assert_eq!(
        sh(&tool.display().to_string(), Path::new("/"))
            .expect(0)
            .stdout,
        "two\n"
    );
    host.fetch(&["verify", "greet"]).expect(0);
}

/// `verify` sees a current build swapped for a link, and a build made writable; an
/// install of that build then puts a fresh copy in place instead of "unchanged".
#[test]
fn verify_catches_a_linked_or_writable_build() {
    let b = Builds::new();
    b.greet(1, "one");
    let host = Host::new(&b.store().display().to_string(), &b.public, "unused");
    host.fetch(&["install", "greet", "--version", "1"])
        .expect(0);
    let one = host.root.join("opt/kiln/greet/1");
    let copy = host.tmp.path().join("copy");
    sh(
        &format!(
            "cp -a {one} {copy} && chmod -R u+w {one} && rm -rf {one} && ln -s {copy} {one}",
            one = one.display(),
            copy = copy.display()
        ),
        Path::new("/"),
    )
    .expect(0);
    host.fetch(&["verify", "greet"]).expect(1);
    host.fetch(&["install", "greet", "--version", "1"])
        .expect(0)
        .stderr_has("is not a directory kiln-fetch made");
    host.fetch(&["verify", "greet"]).expect(0);
    for (path, mode) in [("", "777"), ("runfiles/_main/tool/msg.txt", "666")] {
        sh(
            &format!("chmod {mode} {}/{path}", one.display()),
            Path::new("/"),
        )
        .expect(0);
        host.fetch(&["verify", "greet"]).expect(1);
        host.fetch(&["install", "greet", "--version", "1", "--reinstall"])
            .expect(0);
        host.fetch(&["verify", "greet"]).expect(0);
    }
}

/// Two services, the second fails to restart: back on the build before, and the first
/// one (already restarted onto the new build) is restarted again onto it.
#[test]
fn a_failed_second_restart_puts_the_first_service_back_too() {
    let b = Builds::new();
    b.demo(1, "v1", true);
    b.demo(2, "v2", true);
    let log = b.ws.tmp.path().join("restarts.log");
    let host = command_host(&b, &log);
    let config = std::fs::read_to_string(&host.config).unwrap();
    std::fs::write(
        &host.config,
        config.replace(
            &format!("command = \"echo restart {{name}} >> {}\"", log.display()),
            &format!(
                "command = \"test {{name}} != ghost && echo restart {{name}} $(readlink {}/opt/kiln/demo/current) >> {}\"",
                host.root.display(),
                log.display()
            ),
        ),
    )
    .unwrap();
    host.fetch(&["install", "demo", "--version", "1"]).expect(0);
    let run = host.fetch(&[
        "--json",
        "install",
        "demo",
        "--version",
        "2",
        "--restart",
        "ghost",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["changed"], true, "demo was restarted: {v}");
    assert_eq!(host.current("demo").as_deref(), Some("1"));
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "restart demo 1\nrestart demo 2\nrestart demo 1\n"
    );
}

/// A run that first finishes an interrupted install and then fails says that it
/// changed the host; rollback reports what it finished too.
#[test]
fn finishing_an_interrupted_install_is_reported_even_when_the_run_then_fails() {
    let b = Builds::new();
    b.demo(1, "v1", true);
    b.demo(2, "v2", true);
    let log = b.ws.tmp.path().join("restarts.log");
    let host = command_host(&b, &log);
    host.fetch(&["install", "demo", "--version", "1"]).expect(0);
    kill_at(
        &host,
        &["install", "demo", "--version", "2"],
        "after-switch",
    );
    let run = host.fetch(&["--json", "install", "demo", "--version", "99"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    run.stderr_has("finished the interrupted install of demo build 2");
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        (&v["failed"], &v["changed"]),
        (&true.into(), &true.into()),
        "{v}"
    );
    kill_at(
        &host,
        &["install", "demo", "--version", "1"],
        "after-switch",
    );
    let r = host.json(&["rollback", "demo", "--to", "2"]);
    assert_eq!(r["recovered"], 1, "{r}");
}

/// `gc` carries on past a package whose state is corrupt, reports what it removed, and
/// says truthfully that it changed the host.
#[test]
fn gc_reports_what_it_removed_even_when_a_package_is_broken() {
    let b = Builds::new();
    b.demo(1, "v1", true);
    let host = Host::new(&b.store().display().to_string(), &b.public, "unused");
    host.fetch(&["install", "demo", "--version", "1", "--no-restart"])
        .expect(0);
    for (n, msg) in [(1, "one"), (2, "two"), (3, "three")] {
        b.greet(n, msg);
        host.fetch(&["install", "greet", "--version", &n.to_string()])
            .expect(0);
    }
    std::fs::write(host.root.join("var/lib/kiln/demo/state.json"), "garbage").unwrap();
    // demo sorts first, and greet must still be collected: build 1 (3 is current, 2
    // the rollback target).
    let cache = host.root.join("var/cache/kiln/0000.partial");
    std::fs::write(&cache, "x").unwrap();
    let run = host.fetch(&["--json", "gc", "--keep", "1"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    run.stderr_has("demo/state.json");
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["failed"], true, "{v}");
    assert_eq!(v["removed"]["greet"], serde_json::json!([1]), "{v}");
    assert_eq!(v["cache_files_removed"], 1, "{v}");
    assert_eq!(v["changed"], true, "{v}");
    assert!(!cache.exists());
}

/// Downloads: a bundle the store does not have leaves no empty `.partial`; a cached
/// download of the right size but the wrong bytes is checked and fetched again.
#[test]
fn cached_downloads_are_checked_and_failed_ones_leave_nothing() {
    let b = Builds::new();
    b.greet(1, "one");
    b.greet(2, "two");
    let host = Host::new(&b.store().display().to_string(), &b.public, "unused");
    let (bundle, _) = store_files(&b, "greet", 2);
    let saved = std::fs::read(&bundle).unwrap();
    std::fs::remove_file(&bundle).unwrap();
    let run = host
        .fetch(&["install", "greet", "--version", "2"])
        .expect(1);
    run.stderr_has("hint: ");
    let cache = host.root.join("var/cache/kiln");
    let left: Vec<_> = std::fs::read_dir(&cache)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n != ".lock")
                .collect()
        })
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
    std::fs::write(&bundle, &saved).unwrap();
    let sha = sha256_hex(&saved);
    std::fs::create_dir_all(&cache).unwrap();
    let mut junk = saved.clone();
    junk.iter_mut().for_each(|b| *b = !*b);
    std::fs::write(cache.join(format!("{sha}.tar.gz")), &junk).unwrap();
    host.fetch(&["install", "greet", "--version", "2"])
        .expect(0);
    host.fetch(&["verify", "greet"]).expect(0);
}

/// A link in place of the package's lock is refused like the other links, with a hint.
#[test]
fn a_link_in_place_of_the_lock_is_refused_with_a_hint() {
    let b = Builds::new();
    b.greet(1, "one");
    let host = Host::new(&b.store().display().to_string(), &b.public, "unused");
    let victim = host.tmp.path().join("victim");
    std::fs::write(&victim, "keep").unwrap();
    let dir = host.root.join("var/lib/kiln/greet");
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(&victim, dir.join("lock")).unwrap();
    let run = host
        .fetch(&["install", "greet", "--version", "1"])
        .expect(1);
    run.stderr_has("did not create").stderr_has("hint: ");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
}

/// A disk that fills up while state is written: named as such, with the file and the
/// bytes, and no temp file left behind.
#[test]
fn a_full_disk_while_writing_state_is_named_and_leaves_no_temp() {
    if !Path::new("/usr/bin/unshare").exists() {
        eprintln!("skipped: needs util-linux's unshare");
        return;
    }
    let b = Builds::new();
    b.greet(1, "one");
    b.greet(2, "two");
    let host = Host::new(&b.store().display().to_string(), &b.public, "unused");
    let script = format!(
        "mount -t tmpfs -o size=2m tmpfs {root} || exit 99
         {fetch} --config {config} install greet --version 1 >/dev/null || exit 98
         {fetch} --config {config} install greet --version 2 >/dev/null || exit 97
         dd if=/dev/zero of={root}/fill bs=4k 2>/dev/null
         {fetch} --config {config} rollback greet; echo \"code=$?\"
         echo \"temps=$(ls -A {root}/var/lib/kiln/greet | grep -c '^.tmp-')\"",
        root = host.root.display(),
        fetch = e2e::bin("kiln-fetch").display(),
        config = host.config.display(),
    );
    let out = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "sh", "-c", &script])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains("code=3"), "{stdout}{stderr}");
    assert!(stderr.contains("the disk is full: writing"), "{stderr}");
    assert!(stderr.contains("bytes"), "{stderr}");
    assert!(stdout.contains("temps=0"), "{stdout}");
}

// Found by a second outside review; each fails without its fix.

/// A command manager whose restarts take `secs` and log start and end.
fn slow_command_host(b: &Builds, log: &Path, secs: u32, fail: bool) -> Host {
    let host = command_host(b, log);
    let config = std::fs::read_to_string(&host.config).unwrap();
    let cmd = format!(
        "command = \"echo start {{name}} >> {log}; sleep {secs}; echo end {{name}} >> {log}; {}\"",
        if fail { "exit 1" } else { "true" },
        log = log.display()
    );
    std::fs::write(
        &host.config,
        config.replace(
            &format!("command = \"echo restart {{name}} >> {}\"", log.display()),
            &cmd,
        ),
    )
    .unwrap();
    host
}

/// A failed first install never removes the lock other runs wait on: runs of one
/// package stay serialized, restarts never overlap.
#[test]
fn a_failed_first_install_keeps_runs_serialized() {
    let b = Builds::new();
    b.demo(1, "v1", true);
    b.demo(2, "v2", true);
    let log = b.ws.tmp.path().join("restarts.log");
    let failing = slow_command_host(&b, &log, 2, true);
    let slow = b.ws.tmp.path().join("slow.toml");
    let text = std::fs::read_to_string(&failing.config)
        .unwrap()
        .replace("exit 1\"", "true\"");
    std::fs::write(&slow, text).unwrap();
    let spawn = |config: &Path, build: &str| {
        Command::new(e2e::bin("kiln-fetch"))
            .arg("--config")
            .arg(config)
            .args(["install", "demo", "--version", build])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut a = spawn(&failing.config, "1");
    std::thread::sleep(Duration::from_millis(500));
    let mut b2 = spawn(&slow, "2");
    std::thread::sleep(Duration::from_millis(2500));
    let mut c = spawn(&slow, "2");
    for ch in [&mut a, &mut b2, &mut c] {
        ch.wait().unwrap();
    }
    let text = std::fs::read_to_string(&log).unwrap();
    let mut open = 0;
    for line in text.lines() {
        open += if line.starts_with("start") { 1 } else { -1 };
        assert!(open <= 1, "two restarts at once:\n{text}");
    }
}

/// A first install whose health check failed stays failed: the next run checks again
/// instead of calling the unhealthy build "unchanged".
#[test]
fn an_unhealthy_first_install_is_not_unchanged_next_time() {
    let b = Builds::new();
    b.demo(1, "v1", false);
    let log = b.ws.tmp.path().join("restarts.log");
    let host = command_host(&b, &log);
    let run = host.fetch(&["--json", "install", "demo", "--version", "1"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["changed"], true, "current went from nothing to 1: {v}");
    let run = host.fetch(&["install", "demo", "--version", "1"]);
    assert_eq!(
        run.code, 1,
        "an unhealthy build converged: {}{}",
        run.stdout, run.stderr
    );
    run.stderr_has("health check");
    // Without a service manager too: current was created, so the run changed the host.
    let plain = Host::new(&b.store().display().to_string(), &b.public, "unused");
    std::fs::write(
        &plain.config,
        format!(
            "store = \"{}\"\nroot = \"{}\"\ntrusted_keys = [\"{}\"]\n[health]\ntimeout = \"1s\"\nretries = 0\n",
            b.store().display(),
            plain.root.display(),
            b.public
        ),
    )
    .unwrap();
    let run = plain.fetch(&["--json", "install", "demo", "--version", "1"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["changed"], true, "{v}");
}

/// Cleanup after the switch (removing old builds) never fails an install that
/// happened: an old build that cannot be removed (a mount point inside it) is a warning.
#[test]
fn cleanup_after_the_switch_never_fails_the_install() {
    if !Path::new("/usr/bin/unshare").exists() {
        eprintln!("skipped: needs util-linux's unshare");
        return;
    }
    let b = Builds::new();
    for (n, m) in [(1, "one"), (2, "two"), (3, "three")] {
        b.greet(n, m);
    }
    let host = Host::new(&b.store().display().to_string(), &b.public, "unused");
    let text = std::fs::read_to_string(&host.config)
        .unwrap()
        .replace("keep = 5", "keep = 1");
    std::fs::write(&host.config, text).unwrap();
    let script = format!(
        "{fetch} --config {config} install greet --version 1 >/dev/null || exit 98
         {fetch} --config {config} install greet --version 2 >/dev/null || exit 97
         mount -t tmpfs tmpfs {root}/opt/kiln/greet/1/runfiles || exit 99
         {fetch} --config {config} --json install greet --version 3; echo \"code=$?\"
         umount {root}/opt/kiln/greet/1/runfiles",
        root = host.root.display(),
        fetch = e2e::bin("kiln-fetch").display(),
        config = host.config.display(),
    );
    let out = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "sh", "-c", &script])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains("code=0"), "{stdout}{stderr}");
    assert!(
        stderr.contains("warning: ") && stderr.contains("opt/kiln/greet/1"),
        "{stderr}"
    );
    assert!(stdout.contains("\"changed\": true"), "{stdout}");
    assert_eq!(host.current("greet").as_deref(), Some("3"));
}

/// A rollback with the store reachable checks the local copy's release.json against
/// the store's signed record: a consistently re-forged copy is replaced.
#[test]
fn a_rollback_checks_the_local_record_against_the_store() {
    let b = Builds::new();
    b.greet(1, "one");
    b.greet(2, "two");
    let host = Host::new(&b.store().display().to_string(), &b.public, "unused");
    host.fetch(&["install", "greet", "--version", "1"])
        .expect(0);
    host.fetch(&["install", "greet", "--version", "2"])
        .expect(0);
    let one = host.root.join("opt/kiln/greet/1");
    let msg = one.join("runfiles/_main/tool/msg.txt");
    tamper(&msg, "EVIL\n");
    // Re-forge MANIFEST.json and release.json to match, as root on the host could.
    let manifest_path = one.join("MANIFEST.json");
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    for f in manifest["files"].as_array_mut().unwrap() {
        if f["path"] == "runfiles/_main/tool/msg.txt" {
            f["sha256"] = sha256_hex(b"EVIL\n").into();
            f["size"] = 5.into();
        }
    }
    let manifest_bytes = serde_json::to_vec_pretty(&manifest).unwrap();
    tamper(
        &manifest_path,
        std::str::from_utf8(&manifest_bytes).unwrap(),
    );
    let rel_path = one.join("release.json");
    let mut rel: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&rel_path).unwrap()).unwrap();
    rel["manifest_sha256"] = sha256_hex(&manifest_bytes).into();
    tamper(&rel_path, &serde_json::to_string_pretty(&rel).unwrap());
    host.fetch(&["verify", "greet"]).expect(0); // (current is 2)
    host.fetch(&["rollback", "greet", "--to", "1"])
        .expect(0)
        .stderr_has("store's release record");
    let tool = host.root.join("usr/local/bin/greet-tool");
    assert_eq!(
        sh(&tool.display().to_string(), Path::new("/"))
            .expect(0)
            .stdout,
        "one\n"
    );
}

/// Only kiln-fetch's exact temp names are cleaned; `list` and `gc` see only package
/// directories, and write nothing for anything else in opt/kiln.
#[test]
fn only_exact_temp_names_and_real_packages_are_touched() {
    let b = Builds::new();
    b.greet(1, "one");
    b.greet(2, "two");
    let host = Host::new(&b.store().display().to_string(), &b.public, "unused");
    host.fetch(&["install", "greet", "--version", "1"])
        .expect(0);
    let pkg = host.root.join("opt/kiln/greet");
    std::fs::create_dir_all(pkg.join(".tmp-2024-backup/sub")).unwrap();
    std::fs::write(pkg.join(".tmp-2024-backup/sub/data"), "precious").unwrap();
    let state = host.root.join("var/lib/kiln/greet");
    std::fs::write(state.join(".tmp-2024-admin-notes"), "notes").unwrap();
    host.fetch(&["install", "greet", "--version", "2"])
        .expect(0);
    assert!(pkg.join(".tmp-2024-backup/sub/data").is_file());
    assert!(state.join(".tmp-2024-admin-notes").is_file());
    std::fs::write(host.root.join("opt/kiln/README"), "x").unwrap();
    std::fs::create_dir_all(host.root.join("opt/kiln/lost+found")).unwrap();
    host.fetch(&["gc"]).expect(0);
    let v = host.json(&["list"]);
    assert_eq!(v["packages"].as_array().unwrap().len(), 1, "{v}");
    assert!(!host.root.join("var/lib/kiln/README").exists());
    assert!(!host.root.join("var/lib/kiln/lost+found").exists());
}

/// `--root` given as a relative path to the config's own root (not created yet) is that
/// root: its services are restarted.
#[test]
fn a_relative_root_naming_the_configs_root_keeps_its_manager() {
    let b = Builds::new();
    b.demo(1, "v1", true);
    let log = b.ws.tmp.path().join("restarts.log");
    let dir = b.ws.tmp.path().join("hosts");
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("fetch.toml");
    std::fs::write(
        &config,
        format!(
            "store = \"{}\"\nroot = \"hostG\"\ntrusted_keys = [\"{}\"]\n[services]\nmanager = \"command\"\ncommand = \"echo restart {{name}} >> {}\"\n",
            b.store().display(),
            b.public,
            log.display()
        ),
    )
    .unwrap();
    Run::from(
        Command::new(e2e::bin("kiln-fetch"))
            .args(["--config", config.to_str().unwrap(), "--root", "hostG"])
            .args(["install", "demo", "--version", "1"])
            .current_dir(&dir)
            .output()
            .unwrap(),
    )
    .expect(0);
    assert_eq!(
        std::fs::read_to_string(&log).unwrap_or_default(),
        "restart demo\n"
    );
}

/// A dry run after a crash says what the real run will do: finish the install.
#[test]
fn a_dry_run_counts_the_interrupted_install_it_would_finish() {
    let b = Builds::new();
    b.demo(1, "v1", true);
    b.demo(2, "v2", true);
    let log = b.ws.tmp.path().join("restarts.log");
    let host = command_host(&b, &log);
    host.fetch(&["install", "demo", "--version", "1"]).expect(0);
    kill_at(
        &host,
        &["install", "demo", "--version", "2"],
        "after-switch",
    );
    let dry = host.json(&["install", "demo", "--version", "2", "--dry-run"]);
    assert_eq!(dry["changed"], true, "{dry}");
    assert_eq!(
        dry["dry_run"]["restart"],
        serde_json::json!(["demo"]),
        "{dry}"
    );
}

// Found by a third outside review; each fails without its fix.

/// A host config whose command manager fails to restart `web`.
fn failing_web_host(b: &Builds, log: &Path) -> Host {
    let host = command_host(b, log);
    let config = std::fs::read_to_string(&host.config).unwrap();
    std::fs::write(
        &host.config,
        config.replace(
            &format!("command = \"echo restart {{name}} >> {}\"", log.display()),
            &format!(
                "command = \"test {{name}} != web && echo restart {{name}} >> {}\"",
                log.display()
            ),
        ),
    )
    .unwrap();
    host
}

/// A reinstall whose restart fails is not a first install: the build stays current
/// with its entry points.
#[test]
fn a_failed_reinstall_keeps_the_build_current() {
    let b = Builds::new();
    b.greet(1, "one");
    let log = b.ws.tmp.path().join("restarts.log");
    let host = failing_web_host(&b, &log);
    host.fetch(&["install", "greet", "--version", "1"])
        .expect(0);
    let run = host.fetch(&[
        "install",
        "greet",
        "--version",
        "1",
        "--reinstall",
        "--restart",
        "web",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(!run.stderr.contains("nothing is current"), "{}", run.stderr);
    assert_eq!(host.current("greet").as_deref(), Some("1"));
    assert!(host.root.join("usr/local/bin/greet-tool").exists());
}

/// An install killed before its switch leaves no entry point of the build that never
/// became current: the next run removes it.
#[test]
fn entry_points_of_a_build_that_never_became_current_are_removed() {
    let b = Builds::new();
    b.greet(1, "one");
    b.greet_with_extra(2, "two");
    let host = Host::new(&b.store().display().to_string(), &b.public, "unused");
    host.fetch(&["install", "greet", "--version", "1"])
        .expect(0);
    kill_at(
        &host,
        &["install", "greet", "--version", "2"],
        "before-switch",
    );
    host.fetch(&["install", "greet", "--version", "1"])
        .expect(0);
    assert!(
        std::fs::symlink_metadata(host.root.join("usr/local/bin/greet-extra")).is_err(),
        "an entry point of build 2 is left"
    );
}

/// A link in place of opt/kiln/<package> is refused by every path, not only when a new
/// build is unpacked, and nothing under its target is written or removed.
#[test]
fn a_linked_package_directory_is_refused_everywhere() {
    let b = Builds::new();
    b.greet(1, "one");
    b.greet(2, "two");
    let host = Host::new(&b.store().display().to_string(), &b.public, "unused");
    host.fetch(&["install", "greet", "--version", "1"])
        .expect(0);
    host.fetch(&["install", "greet", "--version", "2"])
        .expect(0);
    let pkg = host.root.join("opt/kiln/greet");
    let elsewhere = host.tmp.path().join("elsewhere");
    std::fs::rename(&pkg, &elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &pkg).unwrap();
    let listing = || {
        sh(
            &format!(
                "cd {} && find . | sort && readlink current",
                elsewhere.display()
            ),
            Path::new("/"),
        )
        .stdout
    };
    let before = listing();
    for args in [
        &["rollback", "greet"][..],
        &["install", "greet", "--version", "1"],
        &["install", "greet", "--version", "2", "--reinstall"],
        &["gc", "--keep", "1"],
    ] {
        let run = host.fetch(args);
        assert_ne!(run.code, 0, "{args:?}: {}", run.stderr);
        run.stderr_has("did not create");
        assert_eq!(listing(), before, "{args:?} wrote through the link");
    }
}

/// A build that never passed its health check does not become "installed" by being
/// rolled back to: the next install of it still checks it, and so does a rollback to it.
#[test]
fn a_build_that_never_passed_its_check_keeps_failing() {
    let b = Builds::new();
    b.demo(1, "v1", false);
    b.demo(2, "v2", false);
    let log = b.ws.tmp.path().join("restarts.log");
    let host = command_host(&b, &log);
    host.fetch(&["install", "demo", "--version", "1"]).expect(1);
    host.fetch(&["rollback", "demo", "--to", "1"]).expect(1);
    // Rolled back to build 1, which fails its check too: no healthy build, exit 4.
    host.fetch(&["install", "demo", "--version", "2"]).expect(4);
    assert_eq!(host.current("demo").as_deref(), Some("1"));
    host.fetch(&["install", "demo", "--version", "1"]).expect(1);
}

/// The channel sequence a host saw is kept even when the install that saw it was
/// killed and its journal damaged: an older pointer is still a replay.
#[test]
fn replay_protection_survives_a_crash_and_a_damaged_journal() {
    let b = Builds::new();
    b.greet(1, "one");
    b.greet(2, "two");
    b.promote("greet", 1, "prod");
    let host = Host::new(&b.store().display().to_string(), &b.public, "unused");
    host.fetch(&["install", "greet", "--channel", "prod"])
        .expect(0);
    let pointer = b.store().join("greet/channels/prod.json");
    let old = std::fs::read(&pointer).unwrap();
    b.promote("greet", 2, "prod");
    kill_at(
        &host,
        &["install", "greet", "--channel", "prod"],
        "after-switch",
    );
    std::fs::write(
        host.root.join("var/lib/kiln/greet/pending.json"),
        "{\"from\": 1, \"to\"",
    )
    .unwrap();
    host.fetch(&["install", "greet", "--version", "2"])
        .expect(0);
    std::fs::write(&pointer, &old).unwrap();
    host.fetch(&["install", "greet", "--channel", "prod"])
        .expect(1)
        .stderr_has("replayed pointer");
    assert_eq!(host.current("greet").as_deref(), Some("2"));
}

/// An install refused because an entry point is in the way leaves no new build behind.
#[test]
fn a_refused_install_leaves_no_build_behind() {
    let b = Builds::new();
    b.greet(1, "one");
    let host = Host::new(&b.store().display().to_string(), &b.public, "unused");
    std::fs::create_dir_all(host.root.join("usr/local/bin")).unwrap();
    std::fs::write(host.root.join("usr/local/bin/greet-tool"), "admin").unwrap();
    host.fetch(&["install", "greet", "--version", "1"])
        .expect(1)
        .stderr_has("not managed by kiln-fetch");
    assert!(!host.root.join("opt/kiln/greet/1").exists());
    let cached = std::fs::read_dir(host.root.join("var/cache/kiln"))
        .map(|d| d.flatten().filter(|e| e.file_name() != ".lock").count())
        .unwrap_or(0);
    assert_eq!(cached, 0);
}

/// `gc` also removes what a killed unpack left.
#[test]
fn gc_removes_what_a_killed_unpack_left() {
    let b = Builds::new();
    b.greet(1, "one");
    b.greet(2, "two");
    let host = Host::new(&b.store().display().to_string(), &b.public, "unused");
    host.fetch(&["install", "greet", "--version", "1"])
        .expect(0);
    kill_at(&host, &["install", "greet", "--version", "2"], "unpack");
    host.fetch(&["gc"]).expect(0);
    let temps: Vec<_> = std::fs::read_dir(host.root.join("opt/kiln/greet"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp-"))
        .collect();
    assert!(temps.is_empty(), "{temps:?}");
}

// Found by a fourth outside review; each fails without its fix.

/// A `--reinstall` refused for an entry point in the way leaves the current build as it
/// was; so does a rollback to a drifted copy refused the same way.
#[test]
fn a_refused_reinstall_or_rollback_keeps_the_build_there() {
    let b = Builds::new();
    b.greet(1, "one");
    b.greet(2, "two");
    let host = Host::new(&b.store().display().to_string(), &b.public, "unused");
    host.fetch(&["install", "greet", "--version", "2"])
        .expect(0);
    host.fetch(&["install", "greet", "--version", "1"])
        .expect(0);
    let link = host.root.join("usr/local/bin/greet-tool");
    std::fs::remove_file(&link).unwrap();
    std::fs::write(&link, "admin").unwrap();
    host.fetch(&["install", "greet", "--version", "1", "--reinstall"])
        .expect(1);
    assert!(host.current("greet").is_some(), "current dangles");
    tamper(
        &host
            .root
            .join("opt/kiln/greet/2/runfiles/_main/tool/msg.txt"),
        "evil\n",
    );
    host.fetch(&["rollback", "greet"]).expect(1);
    assert!(
        host.root.join("opt/kiln/greet/2/release.json").is_file(),
        "build 2 was removed"
    );
    assert_eq!(std::fs::read_to_string(&link).unwrap(), "admin");
}

/// A reinstall whose restart fails never switches to another build.
#[test]
fn a_failed_reinstall_never_switches_to_another_build() {
    let b = Builds::new();
    b.demo(1, "v1", true);
    b.demo(2, "v2", true);
    let log = b.ws.tmp.path().join("restarts.log");
    let host = failing_web_host(&b, &log);
    host.fetch(&["install", "demo", "--version", "1"]).expect(0);
    host.fetch(&["install", "demo", "--version", "2"]).expect(0);
    host.fetch(&[
        "install",
        "demo",
        "--version",
        "2",
        "--reinstall",
        "--restart",
        "web",
    ])
    .expect(1);
    assert_eq!(host.current("demo").as_deref(), Some("2"));
    // Build 1 is still a good rollback target.
    host.fetch(&["rollback", "demo", "--to", "1"]).expect(0);
}

/// An automatic rollback killed after it switched back is finished by the next run:
/// the restart onto the build gone back to and its health check happen.
#[test]
fn an_interrupted_automatic_rollback_is_finished() {
    interrupted_automatic_rollback(false);
}

/// The same with the journal damaged after the kill: still finished.
#[test]
fn an_interrupted_automatic_rollback_with_a_damaged_journal_is_finished() {
    interrupted_automatic_rollback(true);
}

fn interrupted_automatic_rollback(damage: bool) {
    let b = Builds::new();
    b.demo(1, "v1", true);
    b.demo(2, "v2", false);
    let log = b.ws.tmp.path().join("restarts.log");
    let host = command_host(&b, &log);
    // The second restart (back onto build 1) hangs, so the run can be killed there.
    let config = std::fs::read_to_string(&host.config).unwrap();
    let flag = b.ws.tmp.path().join("hang");
    std::fs::write(
        &host.config,
        config.replace(
            &format!("command = \"echo restart {{name}} >> {}\"", log.display()),
            &format!(
                "command = \"echo restart {{name}} >> {log}; if [ -e {flag} ] && [ $(wc -l < {log}) -ge 3 ]; then sleep 30.4207; fi\"",
                log = log.display(),
                flag = flag.display()
            ),
        ),
    )
    .unwrap();
    host.fetch(&["install", "demo", "--version", "1"]).expect(0);
    std::fs::write(&flag, "").unwrap();
    let mut child = host
        .command(&["install", "demo", "--version", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(
        wait_for(Duration::from_secs(20), || std::fs::read_to_string(&log)
            .is_ok_and(|t| t.lines().count() >= 3)),
        "never restarted back onto build 1"
    );
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    sh("pkill -f 'sleep 30.4207' || true", Path::new("/"));
    std::fs::remove_file(&flag).unwrap();
    assert_eq!(host.current("demo").as_deref(), Some("1"));
    if damage {
        std::fs::write(
            host.root.join("var/lib/kiln/demo/pending.json"),
            "{\"from\": 2, \"to",
        )
        .unwrap();
    }
    let r = host.json(&["install", "demo", "--version", "1"]);
    assert_eq!(r["changed"], true, "{r}");
    assert_eq!(
        std::fs::read_to_string(&log).unwrap().lines().count(),
        4,
        "restarted onto 1 again"
    );
}

/// An automatic rollback journalled but killed before its switch is carried out by
/// the next run, not dropped.
#[test]
fn an_automatic_rollback_killed_before_its_switch_is_carried_out() {
    let b = Builds::new();
    b.demo(1, "v1", true);
    b.demo(2, "v2", true);
    let log = b.ws.tmp.path().join("restarts.log");
    let host = command_host(&b, &log);
    host.fetch(&["install", "demo", "--version", "1"]).expect(0);
    host.fetch(&["install", "demo", "--version", "2"]).expect(0);
    // What a kill between the journal and the switch back leaves.
    std::fs::write(
        host.root.join("var/lib/kiln/demo/pending.json"),
        "{\"from\": 2, \"to\": 1, \"action\": \"auto-rollback\", \"restart\": [\"demo\"]}",
    )
    .unwrap();
    let r = host.json(&["install", "demo", "--version", "1"]);
    assert_eq!(r["recovered"], 1, "{r}");
    assert_eq!(host.current("demo").as_deref(), Some("1"));
}

/// A reinstall that fails after swapping in a fresh copy says the host changed, and
/// why it stays on that build.
#[test]
fn a_failed_reinstall_says_it_changed_and_why_it_stays() {
    let b = Builds::new();
    b.demo(1, "v1", true);
    b.demo(2, "v2", true);
    let log = b.ws.tmp.path().join("restarts.log");
    let host = failing_web_host(&b, &log);
    host.fetch(&["install", "demo", "--version", "1"]).expect(0);
    host.fetch(&["install", "demo", "--version", "2"]).expect(0);
    let run = host.fetch(&[
        "--json",
        "install",
        "demo",
        "--version",
        "2",
        "--reinstall",
        "--restart",
        "web",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    run.stderr_has("reinstall");
    assert!(!run.stderr.contains("no earlier build"), "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["changed"], true, "{v}");
}

/// With a damaged journal too, an install killed before its switch has its new entry
/// points removed; `verify` and `--dry-run` refuse a linked package directory.
#[test]
fn a_damaged_journal_before_the_switch_still_undoes_links() {
    let b = Builds::new();
    b.greet(1, "one");
    b.greet_with_extra(2, "two");
    let host = Host::new(&b.store().display().to_string(), &b.public, "unused");
    host.fetch(&["install", "greet", "--version", "1"])
        .expect(0);
    kill_at(
        &host,
        &["install", "greet", "--version", "2"],
        "before-switch",
    );
    std::fs::write(
        host.root.join("var/lib/kiln/greet/pending.json"),
        "{\"trunc",
    )
    .unwrap();
    host.fetch(&["install", "greet", "--version", "1"])
        .expect(0);
    assert!(std::fs::symlink_metadata(host.root.join("usr/local/bin/greet-extra")).is_err());
    let pkg = host.root.join("opt/kiln/greet");
    let elsewhere = host.tmp.path().join("elsewhere");
    std::fs::rename(&pkg, &elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &pkg).unwrap();
    host.fetch(&["verify", "greet"])
        .expect(1)
        .stderr_has("did not create");
    host.fetch(&["install", "greet", "--version", "1", "--dry-run"])
        .expect(1)
        .stderr_has("did not create");
}

/// Every command's `--help` teaches: examples and exit codes.
#[test]
fn every_command_help_has_examples_and_exit_codes() {
    for cmd in ["install", "rollback", "list", "verify", "gc", "version"] {
        let out = Command::new(e2e::bin("kiln-fetch"))
            .args([cmd, "--help"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("Example"),
            "{cmd} --help has no example:\n{text}"
        );
        assert!(
            text.contains("Exit codes"),
            "{cmd} --help has no exit codes:\n{text}"
        );
    }
}

/// `remove` takes a package off the host: its entry points, `current`, every build;
/// a second run changes nothing, --dry-run touches nothing, a link that is not ours is
/// left alone, the channel sequences seen are kept, and the package installs again.
#[test]
fn remove_takes_a_package_off_the_host_and_keeps_what_it_has_seen() {
    let b = Builds::new();
    b.greet(1, "one");
    b.greet(2, "two");
    b.promote("greet", 2, "prod");
    let store = b.store().display().to_string();
    let host = Host::new(&store, &b.public, "unused");
    host.fetch(&["install", "greet", "--version", "1"])
        .expect(0);
    host.fetch(&["install", "greet", "--channel", "prod"])
        .expect(0);
    // Someone else's link in usr/local/bin stays.
    let theirs = host.root.join("usr/local/bin/theirs");
    std::os::unix::fs::symlink("/bin/true", &theirs).unwrap();

    let dry = host.json(&["remove", "greet", "--dry-run"]);
    assert_eq!(dry["changed"], true);
    assert_eq!(dry["removed"], serde_json::json!([1, 2]));
    assert!(
        host.root.join("usr/local/bin/greet-tool").exists(),
        "dry run touched nothing"
    );
    assert_eq!(host.current("greet").as_deref(), Some("2"));

    let v = host.json(&["remove", "greet"]);
    assert_eq!(
        (v["changed"].clone(), v["previous"].clone()),
        (true.into(), 2.into()),
        "{v}"
    );
    assert_eq!(v["removed"], serde_json::json!([1, 2]));
    assert!(std::fs::symlink_metadata(host.root.join("usr/local/bin/greet-tool")).is_err());
    assert!(!host.root.join("opt/kiln/greet").exists());
    assert!(std::fs::symlink_metadata(&theirs).is_ok(), "not ours: kept");
    let list = host.json(&["list"]);
    assert_eq!(list["packages"], serde_json::json!([]), "{list}");
    let state = std::fs::read_to_string(host.root.join("var/lib/kiln/greet/state.json")).unwrap();
    assert!(
        state.contains("\"prod\""),
        "the channel sequence seen is kept: {state}"
    );

    let again = host.json(&["remove", "greet"]);
    assert_eq!(again["changed"], false);
    let never = host.json(&["remove", "never-installed"]);
    assert_eq!(never["changed"], false);
    assert!(!host.root.join("opt/kiln/never-installed").exists());
    host.fetch(&["remove", "../etc"]).expect(2);

    // It installs again, from scratch.
    host.fetch(&["install", "greet", "--channel", "prod"])
        .expect(0);
    let out = std::process::Command::new(host.root.join("usr/local/bin/greet-tool"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "two\n");
}

/// A `remove` killed at any step leaves a host that `remove` finishes and `install`
/// repairs; no half-removed build is ever visible.
#[test]
fn kill_9_during_remove_leaves_a_host_that_remove_finishes_or_install_repairs() {
    let b = Builds::new();
    b.greet(1, "one");
    b.greet(2, "two");
    let store = b.store().display().to_string();
    for step in ["remove-current", "remove-builds"] {
        for then in ["remove", "install"] {
            let host = Host::new(&store, &b.public, "unused");
            host.fetch(&["install", "greet", "--version", "1"])
                .expect(0);
            host.fetch(&["install", "greet", "--version", "2"])
                .expect(0);
            kill_at(&host, &["remove", "greet"], step);
            // Whatever is visible is whole: every build directory has its record.
            for e in std::fs::read_dir(host.root.join("opt/kiln/greet"))
                .unwrap()
                .flatten()
            {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.parse::<u64>().is_ok() {
                    assert!(
                        e.path().join("release.json").is_file(),
                        "{step}: build {name} half removed"
                    );
                }
            }
            if then == "remove" {
                let v = host.json(&["remove", "greet"]);
                assert_eq!(v["changed"], true, "{step}: {v}");
                assert!(!host.root.join("opt/kiln/greet").exists(), "{step}");
                assert!(
                    std::fs::symlink_metadata(host.root.join("usr/local/bin/greet-tool")).is_err()
                );
            } else {
                host.fetch(&["install", "greet", "--version", "2"])
                    .expect(0);
                let out = std::process::Command::new(host.root.join("usr/local/bin/greet-tool"))
                    .output()
                    .unwrap();
                assert_eq!(String::from_utf8_lossy(&out.stdout), "two\n", "{step}");
                host.fetch(&["verify", "greet"]).expect(0);
            }
        }
    }
}

/// `follow --once` over https: the first poll installs the channel's build, an idle
/// poll is a conditional GET answered 304 that installs nothing, a promote is
/// installed at the next poll; the pointer's tag is remembered only after an install
/// that worked.
#[test]
fn follow_once_polls_conditionally_and_installs_only_when_the_channel_moves() {
    let b = Builds::new();
    b.greet(1, "one");
    b.greet(2, "two");
    b.promote("greet", 1, "prod");
    let server = HttpServer::start(b.ws.tmp.path().join("http.log"));
    server.serve_dir(&b.store());
    let host = Host::new(&server.url(""), &b.public, "unused");
    let poll = || host.json(&["follow", "greet", "--channel", "prod", "--once"]);
    let pointer = "greet/channels/prod.json";

    let first = poll();
    assert_eq!(
        (first["changed"].clone(), first["build"].clone()),
        (true.into(), 1.into()),
        "{first}"
    );
    assert_eq!(first["pointer_unchanged"], false);
    assert_eq!(host.current("greet").as_deref(), Some("1"));
    let seen = server.conditional_requests(pointer).len();

    for _ in 0..3 {
        let idle = poll();
        assert_eq!(idle["changed"], false, "{idle}");
        assert_eq!(idle["pointer_unchanged"], true, "{idle}");
    }
    let idle: Vec<_> = server.conditional_requests(pointer)[seen..].to_vec();
    assert_eq!(idle.len(), 3, "one request per idle poll: {idle:?}");
    assert!(
        idle.iter()
            .all(|(inm, status)| inm.is_some() && *status == 304),
        "idle polls are conditional and move no body: {idle:?}"
    );
    let state = std::fs::read_to_string(host.root.join("var/lib/kiln/greet/state.json")).unwrap();
    assert_eq!(
        state.matches("\"install\"").count(),
        1,
        "no install on an idle poll"
    );

    b.promote("greet", 2, "prod");
    let moved = poll();
    assert_eq!(
        (moved["changed"].clone(), moved["build"].clone()),
        (true.into(), 2.into()),
        "{moved}"
    );
    assert_eq!(host.current("greet").as_deref(), Some("2"));
    assert_eq!(poll()["pointer_unchanged"], true);

    // Removed on purpose: a poll neither asks the store nor installs.
    host.fetch(&["remove", "greet"]).expect(0);
    let asked = server.conditional_requests(pointer).len();
    let gone = poll();
    assert_eq!(gone["changed"], false, "{gone}");
    assert!(gone["removed"].is_string(), "{gone}");
    assert!(host.current("greet").is_none());
    assert_eq!(server.conditional_requests(pointer).len(), asked);
    host.fetch(&["install", "greet", "--channel", "prod"])
        .expect(0);
    let back = poll();
    assert_eq!(
        back["changed"], false,
        "following again, nothing to do: {back}"
    );
    assert_eq!(poll()["pointer_unchanged"], true);

    // A long-running follower prints no JSON stream: --json needs --once.
    let run = host
        .fetch(&["--json", "follow", "greet", "--channel", "prod"])
        .expect(2);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["failed"], true);
    // A channel that does not exist is the install's error.
    host.fetch(&["follow", "greet", "--channel", "nope", "--once"])
        .expect(2);
}

/// A running follower installs a promote within an interval and keeps the current
/// build running while the store is unreachable.
#[test]
fn a_follower_installs_a_promote_within_an_interval_and_survives_the_store_going_away() {
    let b = Builds::new();
    b.greet(1, "one");
    b.greet(2, "two");
    b.greet(3, "three");
    b.promote("greet", 1, "prod");
    let server = HttpServer::start(b.ws.tmp.path().join("http.log"));
    server.serve_dir(&b.store());
    let host = Host::new(&server.url(""), &b.public, "unused");
    let log = std::fs::File::create(host.tmp.path().join("follow.log")).unwrap();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _follower = Kill(
        host.command(&[
            "follow",
            "greet",
            "--channel",
            "prod",
            "--interval",
            "300ms",
        ])
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap(),
    );
    let at = |build: &str| {
        wait_for(Duration::from_secs(20), || {
            host.current("greet").as_deref() == Some(build)
        })
    };
    assert!(at("1"), "the follower installed the channel's build");
    b.promote("greet", 2, "prod");
    assert!(at("2"), "a promote is installed at the next poll");
    // The store goes away: the build keeps running, and the follower picks up the next
    // promote when the store is back.
    let away = b.ws.path(".kiln/store-away");
    std::fs::rename(b.store(), &away).unwrap();
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(host.current("greet").as_deref(), Some("2"));
    std::fs::rename(&away, b.store()).unwrap();
    b.promote("greet", 3, "prod");
    assert!(
        at("3"),
        "{}",
        std::fs::read_to_string(host.tmp.path().join("follow.log")).unwrap()
    );
    // `remove` (Ansible's state: absent) is not undone by the follower: it says so once
    // and installs nothing, until an install puts the package back.
    host.fetch(&["remove", "greet"]).expect(0);
    std::thread::sleep(Duration::from_millis(1500));
    let said = std::fs::read_to_string(host.tmp.path().join("follow.log")).unwrap();
    assert!(host.current("greet").is_none(), "{said}");
    assert!(!host.root.join("opt/kiln/greet").exists(), "{said}");
    assert_eq!(
        said.matches("was removed from this host").count(),
        1,
        "{said}"
    );
    host.fetch(&["install", "greet", "--channel", "prod"])
        .expect(0);
    b.promote("greet", 2, "prod");
    assert!(
        at("2"),
        "{}",
        std::fs::read_to_string(host.tmp.path().join("follow.log")).unwrap()
    );
}

/// Hosts with `[receipts]` write what they run to the store after each install,
/// rollback, poll or failure; `kiln status` shows the fleet against a channel, and only
/// receipts a trusted host key signed are verified. A receipt that cannot be written
/// is a warning, never a failed install.
#[test]
fn receipts_tell_kiln_status_which_host_runs_what() {
    let b = Builds::new();
    b.greet(1, "one");
    b.greet(2, "two");
    b.greet(3, "three");
    b.promote("greet", 1, "prod");
    let store = b.store().display().to_string();
    let (host_key, host_pub) = b.ws.keygen("host.key");
    let host = |id: &str, signed: bool| {
        let h = Host::new(&store, &b.public, "unused");
        let mut cfg = std::fs::read_to_string(&h.config).unwrap();
        // [receipts] goes before the tables the config already has.
        let key = if signed {
            format!("signing_key = \"{}\"\n", host_key.display())
        } else {
            String::new()
        };
        cfg = cfg.replacen(
            "\n[services]",
            &format!("\n[receipts]\nenabled = true\nhost = \"{id}\"\n{key}\n[services]"),
            1,
        );
        std::fs::write(&h.config, cfg).unwrap();
        h
    };
    let (web1, web2, web3) = (
        host("web-1", true),
        host("web-2", false),
        host("web-3", true),
    );
    web1.fetch(&["follow", "greet", "--channel", "prod", "--once"])
        .expect(0);
    web2.fetch(&["install", "greet", "--version", "1"])
        .expect(0);
    web3.fetch(&["install", "greet", "--version", "1"])
        .expect(0);
    web3.fetch(&["install", "greet", "--version", "2"])
        .expect(0);
    web3.fetch(&["rollback", "greet"]).expect(0);
    b.promote("greet", 2, "prod");
    web1.fetch(&["follow", "greet", "--channel", "prod", "--once"])
        .expect(0);
    // A tampered build fails web-2's install: its receipt says so, on build 1.
    let (bundle, _) = store_files(&b, "greet", 3);
    let mut bytes = std::fs::read(&bundle).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    std::fs::write(&bundle, bytes).unwrap();
    web2.fetch(&["install", "greet", "--version", "3"])
        .expect(1);

    let status = |extra: &[&str]| {
        let mut args = vec![
            "status",
            "greet",
            "--channel",
            "prod",
            "--json",
            "--trusted-host-key",
            &host_pub,
        ];
        args.extend_from_slice(extra);
        let run = b.kiln(&args).expect(0);
        let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        v
    };
    let v = status(&[]);
    assert_eq!(v["channel_build"], 2);
    let row = |id: &str| {
        v["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["host"] == id)
            .unwrap()
            .clone()
    };
    let (r1, r2, r3) = (row("web-1"), row("web-2"), row("web-3"));
    assert_eq!(
        (
            r1["state"].clone(),
            r1["build"].clone(),
            r1["verified"].clone()
        ),
        ("current".into(), 2.into(), true.into()),
        "{r1}"
    );
    assert_eq!(
        (
            r2["state"].clone(),
            r2["build"].clone(),
            r2["verified"].clone()
        ),
        ("failed".into(), 1.into(), false.into()),
        "{r2}"
    );
    assert!(
        r2["reason"].as_str().unwrap().contains("does not match"),
        "{r2}"
    );
    assert_eq!(
        (
            r3["state"].clone(),
            r3["build"].clone(),
            r3["rolled_back_from"].clone()
        ),
        ("rolled_back".into(), 1.into(), 2.into()),
        "{r3}"
    );
    // A forged receipt (the store is writable by others) is shown, but not verified.
    let forged = b.store().join("greet/hosts/web-9.json");
    let mut fake: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(b.store().join("greet/hosts/web-1.json")).unwrap(),
    )
    .unwrap();
    fake["host"] = "web-9".into();
    std::fs::write(&forged, serde_json::to_vec(&fake).unwrap()).unwrap();
    let v = status(&[]);
    let r9 = v["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["host"] == "web-9")
        .unwrap();
    assert_eq!(r9["verified"], false, "{r9}");
    // Silent hosts are stale.
    let v = status(&["--stale", "1ms"]);
    assert!(
        v["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["state"] == "stale"),
        "{v}"
    );
    b.kiln(&["status", "greet", "--channel", "nope"]).expect(2);

    // A store the host cannot write (an https mirror): the install works, with a warning.
    let server = HttpServer::start(b.ws.tmp.path().join("http.log"));
    server.serve_dir(&b.store());
    let ro = Host::new(&server.url(""), &b.public, "unused");
    let cfg = std::fs::read_to_string(&ro.config).unwrap().replacen(
        "\n[services]",
        "\n[receipts]\nenabled = true\nhost = \"web-ro\"\n\n[services]",
        1,
    );
    std::fs::write(&ro.config, cfg).unwrap();
    let run = ro.fetch(&["install", "greet", "--version", "1"]).expect(0);
    run.stderr_has("receipt of greet on host web-ro was not written");
}

/// What an outside review found in `remove` and `follow`: files an administrator put
/// in the package's directory stay (and are named), an entry point of ours left
/// dangling goes, a removed package is not listed, and a follow memo that cannot be
/// read is only a missed saving.
#[test]
fn remove_and_follow_edges_an_outside_review_found() {
    let b = Builds::new();
    b.greet(1, "one");
    b.promote("greet", 1, "prod");
    let store = b.store().display().to_string();
    let host = Host::new(&store, &b.public, "unused");
    host.fetch(&["install", "greet", "--version", "1"])
        .expect(0);
    let dir = host.root.join("opt/kiln/greet");
    std::fs::write(dir.join("NOTES.txt"), "mine").unwrap();
    let v = host.json(&["remove", "greet"]);
    assert_eq!(v["left"], serde_json::json!(["NOTES.txt"]), "{v}");
    assert_eq!(
        std::fs::read_to_string(dir.join("NOTES.txt")).unwrap(),
        "mine"
    );
    assert!(!dir.join("1").exists() && !dir.join("current").exists());
    assert_eq!(host.json(&["list"])["packages"], serde_json::json!([]));
    std::fs::remove_file(dir.join("NOTES.txt")).unwrap();
    std::fs::remove_dir(&dir).unwrap();

    // The package directory gone by hand, our entry point dangling: remove takes it.
    host.fetch(&["install", "greet", "--version", "1"])
        .expect(0);
    std::fs::remove_dir_all(host.root.join("var/lib/kiln/greet")).unwrap();
    let link = host.root.join("usr/local/bin/greet-tool");
    for d in ["current", "1"] {
        let p = dir.join(d);
        if std::fs::symlink_metadata(&p).unwrap().is_dir() {
            let _ = sh(&format!("chmod -R u+w {}", p.display()), &host.root);
            std::fs::remove_dir_all(&p).unwrap();
        } else {
            std::fs::remove_file(&p).unwrap();
        }
    }
    std::fs::remove_dir(&dir).unwrap();
    assert!(std::fs::symlink_metadata(&link).is_ok());
    let v = host.json(&["remove", "greet"]);
    assert_eq!(v["changed"], true, "{v}");
    assert!(
        std::fs::symlink_metadata(&link).is_err(),
        "the dangling entry point went"
    );

    // A follow memo that is garbage, or a link, is as none: the poll installs and the
    // memo is replaced (the link's target untouched).
    let memo = host.root.join("var/lib/kiln/greet/follow.json");
    let target = host.tmp.path().join("precious");
    std::fs::write(&target, "keep").unwrap();
    std::fs::create_dir_all(memo.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&target, &memo).unwrap();
    let v = host.json(&["follow", "greet", "--channel", "prod", "--once"]);
    assert_eq!(v["changed"], true, "{v}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
    assert!(!std::fs::symlink_metadata(&memo).unwrap().is_symlink());
    std::fs::write(&memo, "garbage{").unwrap();
    assert_eq!(
        host.json(&["follow", "greet", "--channel", "prod", "--once"])["changed"],
        false
    );
}

/// Staged health: a build whose check passes (ready) but fails during the soak window
/// is rolled back like one that never passed; the soak is said in the error.
#[test]
fn a_build_that_fails_during_the_soak_is_rolled_back() {
    let b = Builds::new();
    b.demo(1, "v1", true);
    // Build 2's check passes once, then fails: it counts its runs in a file.
    let count = b.ws.tmp.path().join("health-runs");
    b.ws.write_exec(
        "svc/health.sh",
        &format!(
            "#!/bin/sh\nn=$(cat {c} 2>/dev/null || echo 0)\necho $((n + 1)) > {c}\n[ \"$n\" -eq 0 ]\n",
            c = count.display()
        ),
    );
    b.demo(2, "v2", true);
    let store = b.store().display().to_string();
    let host = Host::new(&store, &b.public, "4301.0");
    let cfg = std::fs::read_to_string(&host.config).unwrap();
    std::fs::write(
        &host.config,
        cfg.replace(
            "interval = \"100ms\"\n",
            "interval = \"100ms\"\nsoak = \"1s\"\n",
        ),
    )
    .unwrap();
    host.fetch(&["install", "demo", "--version", "1", "--no-restart"])
        .expect(0);
    let runit = host.start_runit();
    host.wait_running("v1");
    let run = host.fetch(&["install", "demo", "--version", "2"]).expect(1);
    run.stderr_has("soak");
    run.stderr_has("rolled back to build 1");
    assert_eq!(host.current("demo").as_deref(), Some("1"));
    host.wait_running("v1");
    let runs: u32 = std::fs::read_to_string(&count)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(runs >= 2, "the check ran again during the soak: {runs}");
    host.stop(runit);
}

/// A new build that fails its check, rolled back to a build whose check fails too:
/// the host runs no healthy build, and says so with exit code 4 (docs/operations.md).
#[test]
fn rolled_back_to_a_build_that_is_unhealthy_too_exits_4() {
    let b = Builds::new();
    let sick = b.ws.tmp.path().join("v1-sick");
    b.ws.write_exec(
        "svc/health.sh",
        &format!("#!/bin/sh\n[ ! -e {} ]\n", sick.display()),
    );
    b.demo(1, "v1", true);
    b.ws.write_exec("svc/health.sh", HEALTH);
    b.demo(2, "v2", false);
    let store = b.store().display().to_string();
    let host = Host::new(&store, &b.public, "4302.0");
    host.fetch(&["install", "demo", "--version", "1", "--no-restart"])
        .expect(0);
    let runit = host.start_runit();
    host.wait_running("v1");
    std::fs::write(&sick, "").unwrap();
    let run = host
        .fetch(&["--json", "install", "demo", "--version", "2"])
        .expect(4);
    run.stderr_has("its health check fails too");
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["exit_code"], 4, "{v}");
    assert_eq!(host.current("demo").as_deref(), Some("1"));
    host.stop(runit);
}

/// The fleet path on the real parts: s3s-fs as the store, runit supervising each
/// host's service. Followers' idle polls are conditional GETs that s3s-fs answers 304
/// (counted in its own log); a promote to a build whose health check fails is rolled
/// back on the host that polled, and `kiln status` shows both hosts from their
/// receipts: the one that rolled back (from which build, and why) and the one behind.
#[test]
fn followers_on_s3_poll_conditionally_and_their_receipts_show_in_kiln_status() {
    let mut b = Builds::new();
    let s3 = e2e::s3::S3Server::start(&b.ws.tmp.path().join("s3"), &["fleet"]);
    let store = s3.url("fleet/tools");
    b.env = s3.env();
    b.env.push(("KILN_STORE", store.clone()));
    b.demo(1, "v1", true);
    b.demo(2, "v2", false);
    b.promote("demo", 1, "prod");
    let host = |id: &str, marker: &str| {
        let mut h = Host::new(&store, &b.public, marker);
        h.env = s3.env();
        let cfg = std::fs::read_to_string(&h.config).unwrap().replacen(
            "\n[services]",
            &format!("\n[receipts]\nenabled = true\nhost = \"{id}\"\n\n[services]"),
            1,
        );
        std::fs::write(&h.config, cfg).unwrap();
        h
    };
    let (web1, web2) = (host("web-1", "4207.5"), host("web-2", "4207.6"));
    let (runit1, runit2) = (web1.start_runit(), web2.start_runit());
    let follow = |h: &Host| h.fetch(&["--json", "follow", "demo", "--channel", "prod", "--once"]);
    for h in [&web1, &web2] {
        let v: serde_json::Value = serde_json::from_str(&follow(h).expect(0).stdout).unwrap();
        assert_eq!(
            (v["changed"].clone(), v["build"].clone()),
            (true.into(), 1.into()),
            "{v}"
        );
        h.wait_running("v1");
    }

    // Idle polls: one conditional GET of the pointer each, nothing else. S3 answers
    // them 304; s3s-fs 0.14 ignores If-None-Match on GetObject and answers 200 with the
    // same ETag, which kiln-fetch takes as unchanged too (and installs nothing).
    let before = s3.requests().len();
    for _ in 0..3 {
        let v: serde_json::Value = serde_json::from_str(&follow(&web1).expect(0).stdout).unwrap();
        assert_eq!(
            (v["changed"].clone(), v["pointer_unchanged"].clone()),
            (false.into(), true.into()),
            "{v}"
        );
    }
    let idle = s3.requests()[before..].to_vec();
    assert_eq!(idle.len(), 3, "one request per idle poll: {idle:?}");
    assert!(
        idle.iter().all(|(m, uri, conditional, status)| m == "GET"
            && uri.split('?').next() == Some("/fleet/tools/demo/channels/prod.json")
            && *conditional
            && (*status == 304 || *status == 200)),
        "{idle:?}"
    );

    // Build 2 fails its check on web-1: rolled back to 1, restarted onto it by runit.
    let pid = runit1.pid("demo").unwrap();
    b.promote("demo", 2, "prod");
    follow(&web1)
        .expect(1)
        .stderr_has("rolled back to build 1, which is running now");
    web1.wait_running("v1");
    assert_eq!(web1.current("demo").as_deref(), Some("1"));
    assert_ne!(
        runit1.pid("demo"),
        Some(pid),
        "restarted onto 2, then onto 1 again"
    );

    let run = b
        .kiln(&["status", "demo", "--channel", "prod", "--json"])
        .expect(0);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["channel_build"], 2, "{v}");
    let row = |id: &str| {
        v["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["host"] == id)
            .unwrap()
            .clone()
    };
    let (r1, r2) = (row("web-1"), row("web-2"));
    assert_eq!(
        (
            r1["state"].clone(),
            r1["build"].clone(),
            r1["rolled_back_from"].clone()
        ),
        ("failed".into(), 1.into(), 2.into()),
        "{r1}"
    );
    assert!(
        r1["reason"].as_str().unwrap().contains("health check"),
        "{r1}"
    );
    assert_eq!(
        (r2["state"].clone(), r2["build"].clone()),
        ("behind".into(), 1.into()),
        "{r2}"
    );
    let text = b
        .kiln(&["status", "demo", "--channel", "prod"])
        .expect(0)
        .stdout;
    assert!(text.contains("web-1") && text.contains("web-2"), "{text}");
    web1.stop(runit1);
    web2.stop(runit2);
}

/// Staged health, first stage: a build whose service dies 1.5 s after it starts may
/// pass runit's own `sv -w` (up for a second) and passes its health check (which does
/// not look at the process), but not the start stage (the same process still running
/// `[health] start` after the restart, 3 s here): rolled back to the build before,
/// which runit runs again.
#[test]
fn a_service_that_does_not_stay_running_fails_the_start_stage_and_is_rolled_back() {
    let b = Builds::new();
    b.demo(1, "v1", true);
    b.ws.write_exec("svc/start.sh", "#!/bin/sh\nsleep 1.5\nexit 1\n");
    b.demo(2, "v2", true);
    let host = Host::new(&b.store().display().to_string(), &b.public, "4208.5");
    let cfg = std::fs::read_to_string(&host.config).unwrap();
    std::fs::write(
        &host.config,
        cfg.replace("[health]\n", "[health]\nstart = \"3s\"\n"),
    )
    .unwrap();
    host.fetch(&["install", "demo", "--version", "1", "--no-restart"])
        .expect(0);
    let runit = host.start_runit();
    host.wait_running("v1");
    let run = host
        .fetch(&["--json", "install", "demo", "--version", "2"])
        .expect(1);
    run.stderr_has("demo build 2 failed to start");
    run.stderr_has("did not stay running for 3s within 13s of its restart");
    run.stderr_has("rolled back to build 1, which is running now");
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        (&v["failed"], &v["changed"]),
        (&true.into(), &true.into()),
        "{v}"
    );
    assert_eq!(host.current("demo").as_deref(), Some("1"));
    // Back on build 1 (its own start stage passed), runit keeps one process running.
    let pid = runit.pid("demo");
    assert!(pid.is_some());
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(runit.pid("demo"), pid);
    host.stop(runit);
}
