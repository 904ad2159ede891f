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
}
