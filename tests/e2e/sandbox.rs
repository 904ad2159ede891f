//! The sandbox's promises, each checked by a genrule or test that tries to break one:
//! it sees only what it declared, cannot reach the network, gets a clean environment,
//! cannot write outside its outputs, and is killed whole on timeout or Ctrl-C.

use std::path::Path;
use std::time::{Duration, Instant};

use e2e::{Run, Ws, sh};

fn ws(build: &str) -> Ws {
    let ws = Ws::new();
    ws.write("WORKSPACE.toml", "[workspace]\nname = \"t\"\n")
        .write("p/BUILD.toml", build)
        .write("p/in.txt", "declared\n")
        .write("p/secret.txt", "undeclared\n");
    ws
}

fn genrule(cmd: &str) -> String {
    format!(
        "[[genrule]]\nname = \"g\"\nsrcs = [\"in.txt\"]\nouts = [\"out.txt\"]\ncmd = '''{cmd}'''\n"
    )
}

#[track_caller]
fn fails(ws: &Ws, needles: &[&str]) -> Run {
    let run = ws.kiln(&["build"]).expect(1);
    run.stderr_has("genrule //p:g");
    for n in needles {
        run.stderr_has(n);
    }
    assert!(!ws.path("kiln-out/p/out.txt").exists(), "no output appears");
    run
}

#[test]
fn declared_inputs_are_there_and_nothing_else() {
    let ws = ws(&genrule("cat $SRCS > $OUTS"));
    ws.kiln(&["build"]).expect(0);
    assert_eq!(
        std::fs::read_to_string(ws.path("kiln-out/p/out.txt")).unwrap(),
        "declared\n"
    );

    let ws = self::ws(&genrule("cat p/secret.txt > $OUTS"));
    fails(
        &ws,
        &["failed with exit code", "p/secret.txt: No such file"],
    );
    // Nor by its absolute path on the host.
    let abs = ws.path("p/secret.txt");
    let ws2 = self::ws(&genrule(&format!("cat {} > $OUTS", abs.display())));
    fails(&ws2, &["No such file"]);
}

#[test]
fn home_and_the_real_tmp_are_not_visible() {
    let marker = std::env::temp_dir().join(format!("kiln-host-tmp-{}", std::process::id()));
    std::fs::write(&marker, "host /tmp").unwrap();
    let ws = ws(&genrule(&format!("cat {} > $OUTS", marker.display())));
    fails(&ws, &["No such file"]);
    std::fs::remove_file(&marker).unwrap();

    let ws = self::ws(&genrule(
        "test \"$HOME\" = /tmp && ls -A \"$HOME\" > $OUTS && test ! -s $OUTS",
    ));
    ws.kiln(&["build"]).expect(0);
    let home = ws.tmp.path().join("home");
    std::fs::write(home.join(".netrc"), "machine x password y").unwrap();
    let ws2 = self::ws(&genrule(&format!("cat {}/.netrc > $OUTS", home.display())));
    fails(&ws2, &["No such file"]);
}

#[test]
fn no_network_not_even_loopback() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let ws = ws(&genrule(&format!(
        "python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", {port}), timeout=5)' && touch $OUTS"
    )));
    let run = fails(&ws, &["failed with exit code"]);
    assert!(
        run.stderr.contains("Network is unreachable") || run.stderr.contains("Connection refused"),
        "{}",
        run.stderr
    );
    assert!(
        listener.accept().is_err(),
        "the sandbox reached the host's listener"
    );
}

#[test]
fn only_declared_environment_variables() {
    let ws = ws(&genrule(
        ": \"${KILN_TEST_SECRET:?is not set}\"; touch $OUTS",
    ));
    let run = ws
        .command(&["build"])
        .env("KILN_TEST_SECRET", "leaked")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("genrule //p:g failed"), "{stderr}");
    assert!(stderr.contains("KILN_TEST_SECRET: is not set"), "{stderr}");

    let ws = self::ws(&format!(
        "{}env = {{ GREETING = \"hi\" }}\n",
        genrule("printf '%s %s %s' \"$GREETING\" \"$TZ\" \"$PATH\" > $OUTS")
    ));
    ws.kiln(&["build"]).expect(0);
    assert_eq!(
        std::fs::read_to_string(ws.path("kiln-out/p/out.txt")).unwrap(),
        "hi UTC /usr/bin:/bin"
    );
}

#[test]
fn writes_outside_the_outputs_fail() {
    let ws = ws(&genrule("echo x > p/new.txt && touch $OUTS"));
    fails(&ws, &["Read-only file system"]);
    assert!(!ws.path("p/new.txt").exists());
    let target = ws.path("p/escaped.txt");
    let ws2 = self::ws(&genrule(&format!(
        "echo x > {} && touch $OUTS",
        target.display()
    )));
    fails(&ws2, &["failed with exit code"]);
    assert!(!target.exists());
    // Nor can it take the walls down: it holds no capabilities, even as uid 0 inside.
    let ws4 = self::ws(&genrule(
        "mount -o remount,bind,rw /kiln/runfiles && echo pwned > p/in.txt && touch $OUTS",
    ));
    fails(&ws4, &["failed with exit code"]);
    assert_eq!(
        std::fs::read_to_string(ws4.path("p/in.txt")).unwrap(),
        "declared\n"
    );
    let ws3 = self::ws(&genrule("touch $OUTS $OUT_DIR/extra.txt"));
    fails(&ws3, &["wrote undeclared output(s): extra.txt"]);
}

/// A tree deeper than any stack: kiln walks and removes it without recursing once per
/// level (it aborted with a stack overflow at about 1,300 levels).
#[test]
fn a_very_deep_tree_in_the_outputs_fails_cleanly() {
    let ws = ws(&genrule(
        // Level by level (a shell's cd gives up once the path passes PATH_MAX).
        r#"cd $OUT_DIR; python3 -c "import os
for _ in range(3000): os.mkdir('d'); os.chdir('d')
open('f', 'w').write('x')""#,
    ));
    fails(&ws, &["undeclared output"]);
    let left = std::fs::read_dir(ws.cache.join("v1/tmp")).map_or(0, |d| d.count());
    assert_eq!(left, 0, "the scratch tree is gone");
}

#[test]
fn a_forgotten_declared_output_fails() {
    let ws = ws(
        "[[genrule]]\nname = \"g\"\nsrcs = [\"in.txt\"]\nouts = [\"out.txt\", \"b/second.txt\"]\ncmd = \"cp $SRCS $OUT_DIR/out.txt\"\n",
    );
    fails(
        &ws,
        &["did not create its declared output(s): b/second.txt"],
    );
}

/// Processes whose command line contains `marker`.
fn processes_with(marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmd) = std::fs::read(e.path().join("cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if cmd.contains(marker) && !cmd.contains("kiln") {
                found.push(cmd);
            }
        }
    }
    found
}

#[test]
fn a_time_limit_kills_the_whole_process_tree() {
    let marker = "987.654";
    let ws = ws(&format!(
        "{}timeout = \"1s\"\n",
        genrule(&format!("sleep {marker} & sleep {marker}; touch $OUTS"))
    ));
    let start = Instant::now();
    let run = fails(
        &ws,
        &["timed out after 1s; its whole process tree was killed"],
    );
    drop(run);
    assert!(start.elapsed() < Duration::from_secs(60));
    assert!(
        processes_with(marker).is_empty(),
        "{:?}",
        processes_with(marker)
    );
}

#[test]
fn ctrl_c_kills_running_actions() {
    let marker = "876.543";
    let ws = ws(&genrule(&format!(
        "sleep {marker} & sleep {marker}; touch $OUTS"
    )));
    let child = ws
        .command(&["build"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while processes_with(marker).len() < 2 {
        assert!(Instant::now() < deadline, "the action never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("interrupted"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while !processes_with(marker).is_empty() {
        assert!(
            Instant::now() < deadline,
            "left behind: {:?}",
            processes_with(marker)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!ws.path("kiln-out/p/out.txt").exists());
}

#[test]
fn only_changed_inputs_rerun_their_actions() {
    let ws = ws(
        "[[genrule]]\nname = \"a\"\nsrcs = [\"a.in\"]\nouts = [\"a.out\"]\ncmd = \"cp $SRCS $OUTS\"\n\n[[genrule]]\nname = \"b\"\nsrcs = [\"b.in\"]\nouts = [\"b.out\"]\ncmd = \"cp $SRCS $OUTS\"\n\n[[genrule]]\nname = \"ab\"\nsrcs = [\":a\", \":b\"]\nouts = [\"ab.out\"]\ncmd = \"cat $SRCS > $OUTS\"\n",
    );
    ws.write("p/a.in", "a1\n").write("p/b.in", "b1\n");
    let first = ws.kiln(&["build"]).expect(0);
    first.stderr_has("3 action(s) run");
    ws.kiln(&["build"]).expect(0).stderr_has("nothing to do");
    ws.write("p/notes.txt", "undeclared");
    ws.kiln(&["build"]).expect(0).stderr_has("nothing to do");

    ws.write("p/a.in", "a2\n");
    let again = ws.kiln(&["build"]).expect(0);
    again.stderr_has("genrule //p:a ");
    again.stderr_has("genrule //p:ab ");
    assert!(!again.stderr.contains("genrule //p:b "), "{}", again.stderr);
    again.stderr_has("2 action(s) run");
    assert_eq!(
        std::fs::read_to_string(ws.path("kiln-out/p/ab.out")).unwrap(),
        "a2\nb1\n"
    );
}

#[test]
fn the_python_example_passes_is_cached_and_catches_a_broken_helper() {
    let ws = Ws::new();
    ws.write("WORKSPACE.toml", "[workspace]\nname = \"t\"\n");
    std::fs::create_dir_all(ws.path("packages/pyhello")).unwrap();
    sh(
        &format!(
            "cp -R {}/packages/pyhello/. packages/pyhello/",
            e2e::repo_root().display()
        ),
        &ws.root,
    )
    .expect(0);
    let first = ws.kiln(&["test", "//packages/pyhello/..."]).expect(0);
    first.stdout_has("//packages/pyhello:hello_test  PASSED in");
    ws.kiln(&["test"])
        .expect(0)
        .stdout_has("//packages/pyhello:hello_test  (cached) PASSED");
    assert!(
        ws.path("kiln-out/testlogs/packages/pyhello/hello_test/test.log")
            .is_file()
    );

    let dep = ws.path("packages/pyhello/dep.py");
    let good = std::fs::read_to_string(&dep).unwrap();
    std::fs::write(&dep, good.replace("Hello, {name}!", "Goodbye, {name}!")).unwrap();
    let broken = ws.kiln(&["test"]).expect(1);
    broken.stdout_has("//packages/pyhello:hello_test  FAILED in");
    broken.stdout_has("AssertionError");
    broken.stderr_has("1 test failed");

    std::fs::write(&dep, good).unwrap();
    ws.kiln(&["test"])
        .expect(0)
        .stdout_has("hello_test  (cached) PASSED");

    // The wrapper runs from an installed bundle, through a symlink.
    ws.kiln(&["build"]).expect(0);
    let host = ws.tmp.path().join("host");
    std::fs::create_dir_all(host.join("bin")).unwrap();
    sh(
        &format!(
            "mkdir opt && tar xzf {} -C opt && ln -s ../opt/bin/hello-py bin/hello-py && ./bin/hello-py SRE",
            ws.path("kiln-out/packages/pyhello/pyhello.tar.gz").display()
        ),
        &host,
    )
    .expect(0)
    .stdout_has("HELLO FROM A GENRULE\nHello, SRE!\n");
}

#[test]
fn sandbox_none_runs_unisolated_and_keeps_its_results_apart() {
    let ws = ws(&genrule("cat $SRCS > $OUTS"));
    ws.kiln(&["build", "--sandbox=none"]).expect(0);
    assert_eq!(
        std::fs::read_to_string(ws.path("kiln-out/p/out.txt")).unwrap(),
        "declared\n"
    );
    // A different sandbox is a different action key: the Linux sandbox runs it again.
    ws.kiln(&["build"]).expect(0).stderr_has("1 action(s) run");
}

#[test]
fn the_sandbox_works_unprivileged() {
    if !nix::unistd::getuid().is_root() || !Path::new("/usr/bin/setpriv").exists() {
        eprintln!("skipped: needs root to switch to an unprivileged user");
        return;
    }
    let ws = ws(&genrule("cat $SRCS > $OUTS; id -u >> $OUTS"));
    // Everything the unprivileged user needs: its own workspace, cache and home.
    sh(
        &format!(
            "chmod 755 {0} && chown -R 65534:65534 {0}",
            ws.tmp.path().display()
        ),
        Path::new("/"),
    )
    .expect(0);
    let kiln = e2e::bin("kiln");
    let out = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(&kiln)
        .arg("build")
        .current_dir(&ws.root)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", ws.tmp.path().join("home"))
        .env("KILN_CACHE", &ws.cache)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(ws.path("kiln-out/p/out.txt")).unwrap(),
        "declared\n65534\n"
    );
}

#[test]
fn without_namespaces_kiln_says_so_unless_sandbox_none() {
    if !Path::new("/usr/bin/unshare").exists() {
        eprintln!("skipped: needs util-linux's unshare");
        return;
    }
    let ws = ws(&genrule("cat $SRCS > $OUTS"));
    // A user namespace of our own whose limit on further user namespaces is 0.
    let run = |extra: &str| {
        let script = format!(
            "echo 0 > /proc/sys/user/max_user_namespaces && exec {} build {extra}",
            e2e::bin("kiln").display()
        );
        std::process::Command::new("unshare")
            .args(["--user", "--map-root-user", "sh", "-c", &script])
            .current_dir(&ws.root)
            .env("KILN_CACHE", &ws.cache)
            .env("HOME", ws.tmp.path().join("home"))
            .output()
            .unwrap()
    };
    let out = run("");
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the Linux sandbox is not available here"),
        "{stderr}"
    );
    assert!(stderr.contains("limit on user namespaces"), "{stderr}");
    assert!(stderr.contains("--sandbox=none"), "{stderr}");
    assert!(!ws.path("kiln-out/p/out.txt").exists());
    let out = run("--sandbox=none");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(ws.path("kiln-out/p/out.txt").exists());
}
