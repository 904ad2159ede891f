//! The remote cache and remote execution over the Remote Execution API v2, against a
//! real BuildGrid (tests/buildgrid/*.yml) on 127.0.0.1.

use std::path::Path;

use e2e::buildgrid::BuildGrid;
use e2e::{Run, Ws};

/// A workspace of genrules (one of them larger than a gRPC batch, so it streams over
/// ByteStream both ways; one executable, which the bundle's sha256 covers), a test and
/// a bundle.
fn workspace() -> Ws {
    let ws = Ws::new();
    ws.write("WORKSPACE.toml", "[workspace]\nname = \"ops\"\n")
        .write("tool/msg.txt", "hello over reapi\n")
        .write(
            "tool/BUILD.toml",
            r#"[[genrule]]
name = "stamp"
srcs = ["msg.txt"]
outs = ["stamp.txt"]
cmd = "tr a-z A-Z < $SRCS > $OUTS"

[[genrule]]
name = "big"
outs = ["big.bin"]
cmd = "head -c 6000000 /dev/zero | tr '\\0' k > $OUTS"

[[genrule]]
name = "tool-sh"
srcs = [":stamp"]
outs = ["bin/tool.sh"]
cmd = "printf '#!/bin/sh\\ncat \"$(dirname \"$0\")/../stamp.txt\"\\n' > $OUTS && chmod +x $OUTS"

[[test]]
name = "stamp_test"
src = "stamp_test.sh"
data = [":stamp"]

[[wrapper]]
name = "tool"
src = "run.sh"
data = [":stamp", ":big", ":tool-sh"]

[[bundle]]
name = "tool-bundle"
kind = "tool"
binaries = [":tool"]
"#,
        )
        .write_exec(
            "tool/stamp_test.sh",
            "#!/bin/sh\ngrep -q 'HELLO OVER REAPI' \"$RUNFILES_DIR/_main/tool/stamp.txt\"\necho checked\n",
        )
        .write_exec("tool/run.sh", "#!/bin/sh\necho run\n");
    ws
}

fn build(ws: &Ws, url: &str, extra: &[&str]) -> Run {
    let mut args = vec!["build", "--remote-cache", url];
    args.extend_from_slice(extra);
    ws.kiln(&args)
}

fn ran(run: &Run) -> usize {
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains(" action(s) run"))
        .unwrap_or_else(|| panic!("no summary in\n{}", run.stderr));
    let n = line
        .split(" target(s): ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap();
    n.parse().unwrap()
}

fn bundle_sha(run: &Run) -> String {
    run.stdout
        .lines()
        .find(|l| l.contains("tool-bundle.tar.gz"))
        .and_then(|l| l.split_whitespace().last())
        .unwrap_or_else(|| panic!("no bundle in\n{}", run.stdout))
        .to_string()
}

fn blob_on_server(bg: &BuildGrid, content: &[u8]) -> std::path::PathBuf {
    let hex = e2e::sha256_hex(content);
    bg.dir
        .join("cas/cas/objects")
        .join(&hex[..2])
        .join(&hex[2..])
}

#[test]
fn a_second_workspace_with_an_empty_cache_runs_nothing() {
    let ci = workspace();
    let bg = BuildGrid::start("cache.yml", &ci.tmp.path().join("bg"), "kiln/ci", &[]);
    let url = bg.url();
    let inst = ["--remote-instance", "kiln/ci"];
    let first = build(&ci, &url, &inst).expect(0);
    assert_eq!(ran(&first), 4, "{}", first.stderr);
    ci.kiln(&[
        "test",
        "--remote-cache",
        &url,
        "--remote-instance",
        "kiln/ci",
    ])
    .expect(0);
    // The server holds the outputs themselves, by their sha256.
    let big = vec![b'k'; 6_000_000];
    assert_eq!(
        std::fs::read(blob_on_server(&bg, &big)).unwrap(),
        big,
        "the 6 MB output on the server"
    );
    assert!(blob_on_server(&bg, b"HELLO OVER REAPI\n").is_file());

    // Another checkout, another empty local cache: everything comes from the server.
    let other = workspace();
    let second = build(&other, &url, &inst).expect(0);
    assert_eq!(ran(&second), 0, "{}", second.stderr);
    assert_eq!(bundle_sha(&second), bundle_sha(&first));
    assert_eq!(
        std::fs::read(other.path("kiln-out/tool/big.bin")).unwrap(),
        big
    );
    other
        .kiln(&[
            "test",
            "--remote-cache",
            &url,
            "--remote-instance",
            "kiln/ci",
        ])
        .expect(0)
        .stdout_has("(cached) PASSED");

    // Another instance name is another cache.
    let third = workspace();
    let run = build(&third, &url, &["--remote-instance", "other"]).expect(0);
    assert_eq!(ran(&run), 4, "{}", run.stderr);
}

#[test]
fn a_record_from_the_server_is_used_only_with_that_server() {
    let ci = workspace();
    let bg = BuildGrid::start("cache.yml", &ci.tmp.path().join("bg"), "", &[]);
    build(&ci, &bg.url(), &[]).expect(0);
    let other = workspace();
    assert_eq!(ran(&build(&other, &bg.url(), &[]).expect(0)), 0);
    // The same local cache without the server: the server vouched for those records,
    // this build did not choose it, so they are not used.
    let run = other.kiln(&["build"]).expect(0);
    // (The bundle is up to date: kiln-out holds it, and its inputs are the same.)
    assert_eq!(ran(&run), 3, "{}", run.stderr);
}

#[test]
fn read_mode_never_writes_the_server() {
    let pr = workspace();
    let bg = BuildGrid::start("cache.yml", &pr.tmp.path().join("bg"), "", &[]);
    build(&pr, &bg.url(), &["--remote-cache-mode", "read"]).expect(0);
    assert!(!blob_on_server(&bg, b"HELLO OVER REAPI\n").exists());
    let other = workspace();
    assert_eq!(ran(&build(&other, &bg.url(), &[]).expect(0)), 4);
}

#[test]
fn a_corrupted_blob_on_the_server_never_reaches_kiln_out() {
    let ci = workspace();
    let bg = BuildGrid::start("cache.yml", &ci.tmp.path().join("bg"), "", &[]);
    build(&ci, &bg.url(), &[]).expect(0);
    // Whoever can write the server's storage swaps the bytes of one output.
    let blob = blob_on_server(&bg, b"HELLO OVER REAPI\n");
    std::fs::write(&blob, b"EVIL OUTPUT HERE\n").unwrap();
    let other = workspace();
    let run = build(&other, &bg.url(), &[]).expect(0);
    run.stderr_has("does not match its digest");
    assert_eq!(
        std::fs::read_to_string(other.path("kiln-out/tool/stamp.txt")).unwrap(),
        "HELLO OVER REAPI\n"
    );
}

#[test]
fn a_server_that_is_down_costs_one_warning() {
    let ws = workspace();
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("grpc://127.0.0.1:{port}");
    let run = build(&ws, &url, &[]).expect(0);
    assert_eq!(ran(&run), 4);
    assert_eq!(
        run.stderr.matches("warning").count(),
        1,
        "one warning:\n{}",
        run.stderr
    );
    run.stderr_has("going on without it");

    // A server stopped between two builds: the same.
    let mut bg = BuildGrid::start("cache.yml", &ws.tmp.path().join("bg"), "", &[]);
    build(&ws, &bg.url(), &[]).expect(0);
    bg.stop();
    let other = workspace();
    let run = build(&other, &bg.url(), &[]).expect(0);
    assert_eq!(ran(&run), 4);
    assert_eq!(run.stderr.matches("warning").count(), 1, "{}", run.stderr);
}

#[test]
fn a_bad_reapi_url_or_instance_is_refused_with_exit_2() {
    let ws = workspace();
    for (url, inst, says) in [
        ("grpc://127.0.0.1", "", "expected grpc://HOST:PORT"),
        ("grpc://user@127.0.0.1:1", "", "expected grpc://HOST:PORT"),
        ("grpc://127.0.0.1:1", "a/../b", "instance name"),
        ("grpc://127.0.0.1:1", "x/blobs", "instance name"),
    ] {
        let run = ws
            .kiln(&["build", "--remote-cache", url, "--remote-instance", inst])
            .expect(2);
        run.stderr_has(says);
        assert!(!Path::new(&ws.path("kiln-out")).exists());
    }
    for (args, says) in [
        (
            vec!["--remote-executor", "s3://bucket/x"],
            "not a grpc:// or grpcs:// URL",
        ),
        (
            vec![
                "--remote-executor",
                "grpc://127.0.0.1:1",
                "--remote-cache",
                "grpc://127.0.0.1:2",
            ],
            "is not the remote cache",
        ),
        (
            vec!["--sandbox=none", "--remote-executor", "grpc://127.0.0.1:1"],
            "--sandbox=none cannot run on a remote executor",
        ),
    ] {
        let mut all = vec!["build"];
        all.extend(args);
        let run = ws.kiln(&all).expect(2);
        run.stderr_has(says);
        let json: serde_json::Value =
            serde_json::from_str(&ws.kiln(&[&all[..], &["--json"]].concat()).expect(2).stdout)
                .expect("one JSON object");
        assert_eq!(json["exit_code"], 2);
        assert!(!Path::new(&ws.path("kiln-out")).exists());
    }
}

/// BuildGrid with its scheduler on PostgreSQL, and `n` kiln workers of two slots.
struct Farm {
    workers: e2e::buildgrid::Workers,
    bg: BuildGrid,
    _pg: e2e::buildgrid::Postgres,
}

fn farm(dir: &Path, n: usize) -> Farm {
    let pg = e2e::buildgrid::Postgres::start();
    let bg = BuildGrid::start("exec.yml", &dir.join("bg"), "", &[("@DB@", pg.url())]);
    let workers = e2e::buildgrid::Workers::start(&bg.url(), "", n, 2, &dir.join("workers"));
    Farm {
        workers,
        bg,
        _pg: pg,
    }
}

/// `n` genrules, each hashing its own input with the tools the sandbox offers, and a
/// bundle of all their outputs.
fn graph(n: usize, cmd: &str) -> Ws {
    let ws = Ws::new();
    ws.write("WORKSPACE.toml", "[workspace]\nname = \"farm\"\n")
        .write_exec("g/run.sh", "#!/bin/sh\necho run\n")
        .write_exec(
            "g/all_test.sh",
            "#!/bin/sh\nls \"$RUNFILES_DIR/_main/g\" | grep -c '^out' \n",
        );
    let mut build = String::new();
    let mut data = Vec::new();
    for i in 0..n {
        ws.write(&format!("g/in{i}.txt"), format!("input {i}\n"));
        build.push_str(&format!(
            "[[genrule]]\nname = \"g{i}\"\nsrcs = [\"in{i}.txt\"]\nouts = [\"out{i}.txt\"]\ncmd = \"{cmd}\"\n\n"
        ));
        data.push(format!("\":g{i}\""));
    }
    build.push_str(&format!(
        "[[wrapper]]\nname = \"all\"\nsrc = \"run.sh\"\ndata = [{}]\n\n[[bundle]]\nname = \"all-bundle\"\nkind = \"tool\"\nbinaries = [\":all\"]\n\n[[test]]\nname = \"all_test\"\nsrc = \"all_test.sh\"\ndata = [{}]\n",
        data.join(", "),
        data.join(", ")
    ));
    ws.write("g/BUILD.toml", build);
    ws
}

fn all_bundle(run: &Run) -> String {
    run.stdout
        .lines()
        .find(|l| l.contains("all-bundle.tar.gz"))
        .and_then(|l| l.split_whitespace().last())
        .unwrap_or_else(|| panic!("no bundle in\n{}", run.stdout))
        .to_string()
}

const HASH: &str = "cat $SRCS | sha256sum > $OUTS && echo $SOURCE_DATE_EPOCH >> $OUTS";

#[test]
fn a_graph_through_two_workers_equals_the_local_build_byte_for_byte() {
    let remote = graph(100, HASH);
    let f = farm(remote.tmp.path(), 2);
    let url = f.bg.url();
    let run = remote
        .kiln(&["build", "--remote-executor", &url, "-j", "8"])
        .expect(0);
    assert_eq!(ran(&run), 101, "{}", run.stderr);
    let local = graph(100, HASH);
    let here = local.kiln(&["build"]).expect(0);
    assert_eq!(all_bundle(&run), all_bundle(&here), "the same bytes");
    for i in [0, 57, 99] {
        assert_eq!(
            std::fs::read(remote.path(&format!("kiln-out/g/out{i}.txt"))).unwrap(),
            std::fs::read(local.path(&format!("kiln-out/g/out{i}.txt"))).unwrap()
        );
    }
    // Both workers ran some of them: each has outputs in its own cache.
    for i in 0..2 {
        let cache = remote.tmp.path().join(format!("workers/worker{i}/cache"));
        assert!(
            cache.join("v1/cas").is_dir(),
            "worker {i} ran nothing; see {}",
            remote
                .tmp
                .path()
                .join(format!("workers/worker{i}/worker.log"))
                .display()
        );
    }
    // A test through the executor, and again: cached.
    remote
        .kiln(&["test", "--remote-executor", &url])
        .expect(0)
        .stdout_has("PASSED");
    // A fresh checkout with an empty cache: everything from the server's cache.
    let again = graph(100, HASH);
    let run = again.kiln(&["build", "--remote-executor", &url]).expect(0);
    assert_eq!(ran(&run), 0, "{}", run.stderr);

    // A failing command fails the build as it does here: its exit code and log.
    let broken = graph(1, "echo broken on purpose >&2; exit 7");
    let run = broken.kiln(&["build", "--remote-executor", &url]).expect(1);
    run.stderr_has("failed with exit code 7");
    run.stderr_has("broken on purpose");
    assert!(broken.path("kiln-out/logs/g/g0.log").is_file());
    drop(f.workers);
}

/// The pid of the worker (of `pids`) whose sandbox runs a process named `comm`.
fn worker_running(pids: &[u32], comm: &str) -> Option<u32> {
    let parent = |pid: u32| -> Option<u32> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let after = stat.rsplit_once(") ")?.1;
        after.split_whitespace().nth(1)?.parse().ok()
    };
    for e in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .ok()?
            .trim()
            != comm
        {
            continue;
        }
        let mut p = pid;
        for _ in 0..64 {
            match parent(p) {
                Some(pp) if pids.contains(&pp) => return Some(pp),
                Some(pp) if pp > 1 => p = pp,
                _ => break,
            }
        }
    }
    None
}

#[test]
fn a_worker_killed_mid_action_does_not_fail_the_build() {
    let ws = graph(1, "sleep 4; cat $SRCS | sha256sum > $OUTS");
    let mut f = farm(ws.tmp.path(), 2);
    let url = f.bg.url();
    let build = ws
        .command(&["build", "--remote-executor", &url])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pids: Vec<u32> = f.workers.children.iter().map(|c| c.id()).collect();
    let mut victim = None;
    assert!(
        e2e::runit::wait_for(std::time::Duration::from_secs(60), || {
            victim = worker_running(&pids, "sleep");
            victim.is_some()
        }),
        "no worker started the action"
    );
    let i = pids.iter().position(|p| Some(*p) == victim).unwrap();
    f.workers.kill(i);
    let run = Run::from(build.wait_with_output().unwrap()).expect(0);
    assert_eq!(ran(&run), 2, "{}", run.stderr);
    // The other worker ran it again after the server gave up on the first.
    let out = format!("{}  -\n", e2e::sha256_hex(b"input 0\n"));
    let hex = e2e::sha256_hex(out.as_bytes());
    let survivor = ws
        .tmp
        .path()
        .join(format!("workers/worker{}/cache/v1/cas/sha256", 1 - i))
        .join(&hex[..2])
        .join(&hex);
    assert!(
        survivor.is_file(),
        "the output is not in the other worker's cache"
    );
    let local = graph(1, "sleep 4; cat $SRCS | sha256sum > $OUTS");
    let here = local.kiln(&["build"]).expect(0);
    assert_eq!(all_bundle(&run), all_bundle(&here));
}

#[test]
fn a_server_gone_mid_build_fails_clearly_or_falls_back() {
    for fallback in [false, true] {
        let ws = graph(6, "sleep 1; cat $SRCS | sha256sum > $OUTS");
        let mut f = farm(ws.tmp.path(), 1);
        let url = f.bg.url();
        let mut args = vec!["build", "--remote-executor", url.as_str(), "-j", "2"];
        if fallback {
            args.push("--remote-fallback");
        }
        let build = ws
            .command(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let pids: Vec<u32> = f.workers.children.iter().map(|c| c.id()).collect();
        assert!(
            e2e::runit::wait_for(std::time::Duration::from_secs(60), || worker_running(
                &pids, "sleep"
            )
            .is_some()),
            "no worker started an action"
        );
        f.bg.stop();
        let run = Run::from(build.wait_with_output().unwrap());
        if fallback {
            let run = run.expect(0);
            run.stderr_has("running the remaining actions here (--remote-fallback)");
            let local = graph(6, "sleep 1; cat $SRCS | sha256sum > $OUTS");
            assert_eq!(
                all_bundle(&run),
                all_bundle(&local.kiln(&["build"]).expect(0))
            );
        } else {
            let run = run.expect(3);
            run.stderr_has("remote executor");
            run.stderr_has("--remote-fallback");
        }
    }
}

#[test]
fn a_hostile_cache_server_cannot_hang_a_build_or_reach_the_terminal() {
    let ws = workspace();
    let evil = e2e::buildgrid::Hostile::start("escapes", &ws.tmp.path().join("hostile"));
    let run = build(&ws, &evil.url(), &[]).expect(0);
    run.stderr_has("remote cache");
    for c in [
        '\u{1b}', '\u{7}', '\u{9b}', '\u{202e}', '\u{2066}', '\u{200b}', '\u{61c}',
    ] {
        assert!(
            !run.stderr.contains(c),
            "{c:?} from the server reached stderr:\n{:?}",
            run.stderr
        );
    }
    assert_eq!(
        std::fs::read_to_string(ws.path("kiln-out/tool/stamp.txt")).unwrap(),
        "HELLO OVER REAPI\n"
    );
    drop(evil);

    // A log it says is 100 GiB, sent a KiB a second: cut off as a stall, and the test
    // runs here.
    let slow = e2e::buildgrid::Hostile::start("trickle", &ws.tmp.path().join("hostile"));
    let run = ws.kiln(&["test", "--remote-cache", &slow.url()]).expect(0);
    run.stderr_has("slower than 1 MiB/s");
    run.stdout_has("PASSED");
    assert!(slow.events().iter().any(|(c, _)| c == "Read"));
}

#[test]
fn a_hostile_bots_server_cannot_crash_wedge_or_spin_a_worker() {
    let dir = tempfile::tempdir().unwrap();
    let evil = e2e::buildgrid::Hostile::start("bots", &dir.path().join("hostile"));
    let mut workers = e2e::buildgrid::Workers::start(&evil.url(), "", 1, 1, dir.path());
    let completed = |evil: &e2e::buildgrid::Hostile| -> Vec<serde_json::Value> {
        evil.events()
            .into_iter()
            .filter(|(c, _)| c == "completed")
            .map(|(_, v)| v)
            .collect()
    };
    // A session that "expired" in the year -292 billion while the lease runs.
    assert!(
        e2e::runit::wait_for(std::time::Duration::from_secs(60), || !completed(&evil)
            .is_empty()),
        "the lease was never reported; see {}",
        dir.path().join("worker0/worker.log").display()
    );
    assert_eq!(completed(&evil)[0]["code"], 0);
    assert!(
        workers.children[0].try_wait().unwrap().is_none(),
        "the worker died"
    );
    // Idle polls answered at once with nothing: the worker does not spin.
    let polls = |evil: &e2e::buildgrid::Hostile| {
        evil.events()
            .iter()
            .filter(|(c, _)| c == "UpdateBotSession")
            .count()
    };
    let before = polls(&evil);
    std::thread::sleep(std::time::Duration::from_secs(3));
    let during = polls(&evil) - before;
    assert!(during <= 12, "{during} polls in 3 s");
    workers.kill(0);
    drop(evil);

    // An input root naming runfiles twice, one naming a 300,000-file directory 30
    // times, and an 8 MiB directory name over 250 files: refused as bad input, in
    // bounded memory.
    let evil = e2e::buildgrid::Hostile::start("fanout", &dir.path().join("hostile2"));
    let workers = e2e::buildgrid::Workers::start(&evil.url(), "", 1, 1, &dir.path().join("w2"));
    assert!(
        e2e::runit::wait_for(std::time::Duration::from_secs(120), || completed(&evil)
            .len()
            >= 3),
        "the leases were not all reported; see {}",
        dir.path().join("w2/worker0/worker.log").display()
    );
    let done = completed(&evil);
    for d in &done {
        assert_eq!(d["code"], 3, "INVALID_ARGUMENT, not a retry: {d}");
    }
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", workers.children[0].id())).unwrap();
    let hwm_kb: u64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(
        hwm_kb < 700 * 1024,
        "the worker peaked at {} MiB",
        hwm_kb / 1024
    );
}

/// 100,000 small inputs in one lease: fetched in batches in linear time (it took 137 s
/// when every answer was looked up in the whole batch), well within the limit here.
#[test]
fn a_worker_fetches_many_small_inputs_in_linear_time() {
    let dir = tempfile::tempdir().unwrap();
    let evil = e2e::buildgrid::Hostile::start("many", &dir.path().join("hostile"));
    let _workers = e2e::buildgrid::Workers::start(&evil.url(), "", 1, 1, dir.path());
    let done = || {
        evil.events()
            .into_iter()
            .find(|(c, _)| c == "completed")
            .map(|(_, v)| v)
    };
    assert!(
        e2e::runit::wait_for(std::time::Duration::from_secs(90), || done().is_some()),
        "100,000 inputs not done in 90 s; see {}",
        dir.path().join("worker0/worker.log").display()
    );
    assert_eq!(done().unwrap()["code"], 0);
}

#[test]
fn a_worker_that_never_reached_its_server_says_so() {
    let ws = Ws::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("grpc://127.0.0.1:{port}");
    let child = ws
        .command(&["--json", "worker", "--server", &url, "-j", "1"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(2));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let run = Run::from(child.wait_with_output().unwrap()).expect(0);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("one JSON object");
    assert_eq!(json["connected"], false, "{json}");
    assert_eq!(json["actions_run"], 0);
    run.stderr_has("trying again");
}
