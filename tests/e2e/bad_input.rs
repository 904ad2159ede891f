//! Bad input gets one clear error naming the file and line, the documented exit code,
//! and changes nothing on disk: no kiln-out, nothing in the cache.

use e2e::archives::{self, E};
use e2e::http::HttpServer;
use e2e::{Run, Ws, sha256_hex};

const WS: &str = "[workspace]\nname = \"t\"\n";

fn ws_with(build: &str) -> Ws {
    let ws = Ws::new();
    ws.write("WORKSPACE.toml", WS)
        .write("p/BUILD.toml", build)
        .write("p/run.sh", "#!/bin/sh\n")
        .write("p/conf/a.txt", "a");
    ws
}

/// Expect `code`, every needle on stderr, and nothing written.
#[track_caller]
fn fails(ws: &Ws, args: &[&str], code: i32, needles: &[&str]) -> Run {
    let run = ws.kiln(args).expect(code);
    for n in needles {
        run.stderr_has(n);
    }
    assert_eq!(
        run.stderr
            .lines()
            .filter(|l| l.starts_with("error:"))
            .count(),
        1,
        "one error: {}",
        run.stderr
    );
    assert!(!ws.path("kiln-out").exists(), "kiln-out was written");
    assert!(
        ws.cas_files().is_empty(),
        "the cache was written: {:?}",
        ws.cas_files()
    );
    run
}

#[test]
fn malformed_toml_names_file_and_line() {
    let ws = ws_with("[[filegroup]]\nname = \"a\"\nsrcs = [\"x\"\n");
    fails(
        &ws,
        &["build"],
        2,
        &["p/BUILD.toml:3:12: invalid array; expected `]`"],
    );
    let ws = ws_with("");
    ws.write("WORKSPACE.toml", "[workspace]\nname = t\n");
    fails(&ws, &["build"], 2, &["WORKSPACE.toml:2:8: invalid string"]);
}

#[test]
fn unknown_key_is_an_error() {
    let ws = ws_with("[[filegroup]]\nname = \"a\"\nsrcz = [\"conf/*\"]\n");
    fails(
        &ws,
        &["build"],
        2,
        &["p/BUILD.toml:3:1: unknown field `srcz`", "hint:"],
    );
    let ws = ws_with("");
    ws.write(
        "WORKSPACE.toml",
        "[workspace]\nname = \"t\"\ncolour = \"blue\"\n",
    );
    fails(
        &ws,
        &["build"],
        2,
        &["WORKSPACE.toml:3:1: unknown field `colour`"],
    );
    let ws = ws_with("[[genrule_typo]]\nname = \"a\"\n");
    fails(
        &ws,
        &["build"],
        2,
        &["p/BUILD.toml:1:", "unknown field `genrule_typo`"],
    );
}

#[test]
fn duplicate_target_name() {
    let ws = ws_with(
        "[[filegroup]]\nname = \"a\"\nsrcs = [\"conf/*\"]\n\n[[wrapper]]\nname = \"a\"\nsrc = \"run.sh\"\n",
    );
    fails(
        &ws,
        &["build"],
        2,
        &["p/BUILD.toml:6:8: duplicate target name \"a\"", "line 2"],
    );
}

#[test]
fn bad_label() {
    let ws = ws_with("[[filegroup]]\nname = \"a\"\nsrcs = [\"//a b:c\"]\n");
    fails(
        &ws,
        &["build"],
        2,
        &["p/BUILD.toml:3:9:", "not a valid name"],
    );
    fails(&ws_with(""), &["build", "p:x"], 2, &["not a label"]);
}

#[test]
fn unknown_label_suggests_the_closest() {
    let ws = ws_with(
        "[[filegroup]]\nname = \"conf\"\nsrcs = [\"conf/*\"]\n\n[[wrapper]]\nname = \"w\"\nsrc = \"run.sh\"\ndata = [\":conff\"]\n",
    );
    fails(
        &ws,
        &["build"],
        2,
        &[
            "p/BUILD.toml:8:9: unknown label //p:conff",
            "hint: did you mean //p:conf?",
        ],
    );
    let ws = ws_with("[[filegroup]]\nname = \"a\"\nsrcs = [\"@nope//:files\"]\n");
    fails(
        &ws,
        &["build"],
        2,
        &["p/BUILD.toml:3:9:", "no archive \"nope\" in WORKSPACE.toml"],
    );
    fails(
        &ws_with(""),
        &["build", "//p:nothing"],
        2,
        &["unknown label //p:nothing"],
    );
}

#[test]
fn cycle_is_reported_as_its_full_path() {
    let ws = ws_with(
        "[[filegroup]]\nname = \"a\"\nsrcs = [\":b\"]\n\n[[filegroup]]\nname = \"b\"\nsrcs = [\"//q:c\"]\n",
    );
    ws.write(
        "q/BUILD.toml",
        "[[filegroup]]\nname = \"c\"\nsrcs = [\"//p:a\"]\n",
    );
    fails(
        &ws,
        &["build"],
        2,
        &["dependency cycle: //p:a -> //p:b -> //q:c -> //p:a"],
    );
}

#[test]
fn globs_and_paths_stay_in_their_package() {
    let ws = ws_with("[[filegroup]]\nname = \"a\"\nsrcs = [\"../q/**\"]\n");
    fails(
        &ws,
        &["build"],
        2,
        &["p/BUILD.toml:3:9:", "leaves the package"],
    );
    let ws = ws_with("[[filegroup]]\nname = \"a\"\nsrcs = [\"/etc/passwd\"]\n");
    fails(&ws, &["build"], 2, &["leaves the package"]);
    // A glob never enters a sub-package; naming a file there says whose it is.
    let ws = ws_with("[[filegroup]]\nname = \"a\"\nsrcs = [\"sub/x.txt\"]\n");
    ws.write("p/sub/BUILD.toml", "").write("p/sub/x.txt", "x");
    fails(&ws, &["build"], 2, &["belongs to package //p/sub"]);
    let ws = ws_with("[[filegroup]]\nname = \"a\"\nsrcs = [\"sub/**\"]\n");
    ws.write("p/sub/BUILD.toml", "").write("p/sub/x.txt", "x");
    fails(&ws, &["build"], 2, &["glob \"sub/**\" matches no files"]);
    let ws = ws_with("[[filegroup]]\nname = \"a\"\nsrcs = [\"missing.txt\"]\n");
    fails(
        &ws,
        &["build"],
        2,
        &["p/BUILD.toml:3:9: no such file \"missing.txt\""],
    );
}

#[test]
fn binaries_must_be_wrappers() {
    let ws = ws_with(
        "[[filegroup]]\nname = \"conf\"\nsrcs = [\"conf/*\"]\n\n[[bundle]]\nname = \"b\"\nkind = \"tool\"\nbinaries = [\":conf\"]\n",
    );
    fails(
        &ws,
        &["build"],
        2,
        &["p/BUILD.toml:8:13:", "binaries must be wrappers"],
    );
}

fn archive_ws(server: &HttpServer, urls: &[String], sha: &str, strip: &str) -> Ws {
    let ws = Ws::new();
    let urls: Vec<String> = urls.iter().map(|u| format!("\"{u}\"")).collect();
    ws.write(
        "WORKSPACE.toml",
        format!(
            "[workspace]\nname = \"t\"\n\n[[archive]]\nname = \"up\"\nurls = [{}]\nsha256 = \"{sha}\"\n{strip}",
            urls.join(", ")
        ),
    );
    ws.write(
        "p/BUILD.toml",
        "[[bundle]]\nname = \"p\"\nkind = \"tool\"\ndata = [\"@up//:files\"]\n",
    );
    let _ = server;
    ws
}

#[test]
fn sha256_must_be_64_hex_chars() {
    let tmp = tempfile::tempdir().unwrap();
    let server = HttpServer::start(tmp.path().join("http.log"));
    let ws = archive_ws(&server, &[server.url("x.tgz")], "abc123", "");
    fails(
        &ws,
        &["build"],
        2,
        &["WORKSPACE.toml:7:10: sha256:", "64 lowercase hex", "hint:"],
    );
}

#[test]
fn every_mirror_failing_is_an_environment_error() {
    let tmp = tempfile::tempdir().unwrap();
    let server = HttpServer::start(tmp.path().join("http.log"));
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let urls = [
        server.url("gone.tgz"),
        format!("http://127.0.0.1:{closed}/up.tgz"),
    ];
    let ws = archive_ws(&server, &urls, &"0".repeat(64), "");
    fails(
        &ws,
        &["build"],
        3,
        &[
            "could not fetch archive @up from any of its 2 url(s)",
            "gone.tgz: HTTP 404",
            &format!("127.0.0.1:{closed}/up.tgz:"),
        ],
    );
}

#[test]
fn sha256_mismatch_caches_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let server = HttpServer::start(tmp.path().join("http.log"));
    let bytes = archives::tool_tar_gz("up-1", "hi");
    server.add("up.tgz", bytes.clone());
    let wrong = "1".repeat(64);
    let ws = archive_ws(&server, &[server.url("up.tgz")], &wrong, "");
    let run = fails(
        &ws,
        &["build"],
        1,
        &[
            "sha256 mismatch for archive @up",
            &server.url("up.tgz"),
            &format!("expected: {wrong}"),
            &format!("actual:   {}", sha256_hex(&bytes)),
            "WORKSPACE.toml:7:",
        ],
    );
    drop(run);
    let leftovers: Vec<_> = std::fs::read_dir(ws.cache.join("v1/tmp"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn wrong_strip_prefix_lists_the_real_top_level() {
    let tmp = tempfile::tempdir().unwrap();
    let server = HttpServer::start(tmp.path().join("http.log"));
    let bytes = archives::tool_tar_gz("up-1.0", "hi");
    server.add("up.tgz", bytes.clone());
    let ws = archive_ws(
        &server,
        &[server.url("up.tgz")],
        &sha256_hex(&bytes),
        "strip_prefix = \"up-2.0\"\n",
    );
    let run = ws.kiln(&["build"]).expect(2);
    run.stderr_has("strip_prefix \"up-2.0\" matches no entry");
    run.stderr_has("top-level entries are: up-1.0");
    assert!(!ws.path("kiln-out").exists());
    assert!(
        !ws.cache.join("v1/trees").exists()
            || std::fs::read_dir(ws.cache.join("v1/trees"))
                .unwrap()
                .count()
                == 0
    );
}

#[test]
fn corrupt_archive_fails_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let server = HttpServer::start(tmp.path().join("http.log"));
    let mut bytes = archives::tool_tar_gz("up-1", "hi");
    let n = bytes.len();
    bytes.truncate(n / 2);
    server.add("up.tgz", bytes.clone());
    let ws = archive_ws(&server, &[server.url("up.tgz")], &sha256_hex(&bytes), "");
    let run = ws.kiln(&["build"]).expect(1);
    run.stderr_has("archive @up (WORKSPACE.toml:7:10) cannot be extracted");
    assert!(!ws.path("kiln-out").exists());
}

#[test]
fn escaping_entries_are_refused_and_nothing_lands_outside() {
    let tmp = tempfile::tempdir().unwrap();
    let server = HttpServer::start(tmp.path().join("http.log"));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "dotdot",
            archives::tar(&[E::File("up/../../evil", b"x", 0o644)]),
            "'..' component",
        ),
        (
            "absolute",
            archives::tar(&[E::File("/tmp/evil-abs", b"x", 0o644)]),
            "absolute path",
        ),
        (
            "symlink-out",
            archives::tar(&[E::Symlink("up/link", "../../../etc")]),
            "points outside",
        ),
        (
            "symlink-abs",
            archives::tar(&[E::Symlink("up/link", "/etc/passwd")]),
            "points outside",
        ),
        (
            "through-symlink",
            archives::tar(&[E::Symlink("up/d", "."), E::File("up/d/x", b"x", 0o644)]),
            "written through the symlink",
        ),
        (
            "hardlink-out",
            archives::tar(&[E::Hardlink("up/h", "../../etc/passwd")]),
            "hard link",
        ),
        (
            "fifo",
            archives::tar(&[E::Fifo("up/f")]),
            "fifo entries are not allowed",
        ),
        (
            "duplicate",
            archives::tar(&[E::File("up/a", b"1", 0o644), E::File("up/a", b"2", 0o644)]),
            "duplicate entry",
        ),
    ];
    for (name, tar, why) in cases {
        let file = format!("{name}.tar");
        server.add(&file, tar.clone());
        let ws = archive_ws(&server, &[server.url(&file)], &sha256_hex(&tar), "");
        let run = ws.kiln(&["build"]).expect(1);
        run.stderr_has("is refused");
        run.stderr_has(why);
        assert!(!ws.path("kiln-out").exists(), "{name}");
        assert!(
            !ws.cache.join("evil").exists() && !ws.tmp.path().join("evil").exists(),
            "{name}"
        );
        assert!(!std::path::Path::new("/tmp/evil-abs").exists(), "{name}");
        let trees = ws.cache.join("v1/trees");
        assert!(
            !trees.exists() || std::fs::read_dir(&trees).unwrap().count() == 0,
            "{name}"
        );
    }
}
