//! End-to-end tests of `kiln`: the real binary, archives from a real HTTP server on
//! 127.0.0.1, real tar on the output.

use std::collections::BTreeMap;
use std::io::Read;

use e2e::archives::{self, E};
use e2e::http::{Fault, HttpServer};
use e2e::{Ws, sh, sha256_hex};

const HELLO_BUILD: &str = r#"
[[wrapper]]
name = "say-hello"
src = "hello.sh"
data = ["@greet//:files", ":conf"]

[[filegroup]]
name = "conf"
srcs = ["conf/*.txt"]

[[bundle]]
name = "hello"
kind = "tool"
binaries = [":say-hello"]
"#;

const HELLO_SH: &str = "#!/bin/sh\nset -eu\nexec \"$RUNFILES_DIR/greet/bin/greet\" \"$RUNFILES_DIR/greet/share/greeting.txt\" \"$(cat \"$RUNFILES_DIR/_main/tools/hello/conf/name.txt\")\"\n";

const OTHER_BUILD: &str = r#"
[[wrapper]]
name = "run-other"
src = "other.sh"

[[bundle]]
name = "other"
kind = "service"
binaries = [":run-other"]
"#;

/// A workspace with two packages, `tools/hello` (using archive @greet served over
/// HTTP) and `tools/other` (sources only).
fn fixture(server: &HttpServer) -> Ws {
    let ws = Ws::new();
    let archive = archives::tool_tar_gz("greet-1.0", "Hello");
    server.add("greet-1.0.tar.gz", archive.clone());
    ws.write(
        "WORKSPACE.toml",
        format!(
            "[workspace]\nname = \"t\"\n\n[[archive]]\nname = \"greet\"\nurls = [\"{}\"]\nsha256 = \"{}\"\nstrip_prefix = \"greet-1.0\"\n",
            server.url("greet-1.0.tar.gz"),
            sha256_hex(&archive)
        ),
    );
    ws.write("tools/hello/BUILD.toml", HELLO_BUILD)
        .write_exec("tools/hello/hello.sh", HELLO_SH)
        .write("tools/hello/conf/name.txt", "kiln")
        .write("tools/other/BUILD.toml", OTHER_BUILD)
        .write("tools/other/other.sh", "#!/bin/sh\necho other\n");
    ws
}

fn server(ws_tmp: &std::path::Path) -> HttpServer {
    HttpServer::start(ws_tmp.join("http.log"))
}

fn json(run: &e2e::Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

/// (path, mode, uid, mtime, kind) of every entry, in archive order.
fn entries(bundle: &[u8]) -> Vec<(String, u32, u64, u64, char)> {
    let mut a = tar::Archive::new(flate2::read::GzDecoder::new(bundle));
    a.entries()
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let h = e.header();
            let kind = match h.entry_type() {
                tar::EntryType::Directory => 'd',
                tar::EntryType::Symlink => 'l',
                _ => 'f',
            };
            (
                e.path().unwrap().to_string_lossy().into_owned(),
                h.mode().unwrap(),
                h.uid().unwrap(),
                h.mtime().unwrap(),
                kind,
            )
        })
        .collect()
}

fn file_in(bundle: &[u8], path: &str) -> Vec<u8> {
    let mut a = tar::Archive::new(flate2::read::GzDecoder::new(bundle));
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        if e.path().unwrap().to_string_lossy() == path {
            let mut v = Vec::new();
            e.read_to_end(&mut v).unwrap();
            return v;
        }
    }
    panic!("{path} not in bundle");
}

#[test]
fn builds_a_deterministic_bundle_that_runs_through_a_symlink() {
    let tmp = tempfile::tempdir().unwrap();
    let server = server(tmp.path());
    let ws = fixture(&server);
    let run = ws.kiln(&["build"]).expect(0);
    let bundle = std::fs::read(ws.path("kiln-out/tools/hello/hello.tar.gz")).unwrap();
    let sha = sha256_hex(&bundle);
    run.stdout_has(&format!(
        "//tools/hello:hello  kiln-out/tools/hello/hello.tar.gz  {sha}"
    ));
    run.stdout_has("//tools/other:other  kiln-out/tools/other/other.tar.gz");

    let list = entries(&bundle);
    assert_eq!(list[0].0, "MANIFEST.json", "manifest comes first");
    let paths: Vec<&str> = list[1..]
        .iter()
        .map(|e| e.0.trim_end_matches('/'))
        .collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted, "entries are sorted");
    for (path, mode, uid, mtime, kind) in &list {
        assert_eq!((*uid, *mtime), (0, 0), "{path}");
        let ok = match kind {
            'd' => *mode == 0o755,
            _ => *mode == 0o644 || *mode == 0o755,
        };
        assert!(ok, "{path} has mode {mode:o}");
    }
    assert!(paths.contains(&"bin/say-hello"));
    assert!(paths.contains(&"runfiles/greet/bin/greet"));
    assert!(paths.contains(&"runfiles/_main/tools/hello/conf/name.txt"));

    let manifest: release::Manifest =
        serde_json::from_slice(&file_in(&bundle, "MANIFEST.json")).unwrap();
    assert_eq!(manifest.package, "hello");
    assert_eq!(manifest.binaries, vec!["say-hello".to_string()]);
    assert_eq!(manifest.inputs[0].name, "greet");
    let greet = manifest
        .files
        .iter()
        .find(|f| f.path == "runfiles/greet/bin/greet")
        .unwrap();
    assert_eq!(greet.mode, 0o755);
    assert_eq!(
        greet.sha256.unwrap().hex(),
        sha256_hex(&file_in(&bundle, "runfiles/greet/bin/greet"))
    );

    // Unpack with real tar and run the launcher through a symlink elsewhere.
    let host = tmp.path().join("host");
    std::fs::create_dir_all(host.join("opt/hello")).unwrap();
    std::fs::create_dir_all(host.join("bin")).unwrap();
    sh(
        &format!(
            "tar xzf {} -C opt/hello && ln -s ../opt/hello/bin/say-hello bin/say-hello",
            ws.path("kiln-out/tools/hello/hello.tar.gz").display()
        ),
        &host,
    )
    .expect(0);
    let out = sh("env -i PATH=/usr/bin:/bin ./bin/say-hello", &host).expect(0);
    assert_eq!(out.stdout, "Hello, kiln!\n");
}

#[test]
fn second_build_does_nothing_and_a_change_rebuilds_only_its_dependents() {
    let tmp = tempfile::tempdir().unwrap();
    let server = server(tmp.path());
    let ws = fixture(&server);
    ws.kiln(&["build"]).expect(0);
    assert_eq!(server.requests("greet-1.0.tar.gz").len(), 1);

    let again = ws.kiln(&["build", "--json"]).expect(0);
    again.stderr_has("nothing to do");
    let v = json(&again);
    assert_eq!(v["command"], "build");
    assert_eq!(v["changed"], false, "{v}");
    let rows = &v["bundles"];
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .all(|r| r["changed"] == false)
    );
    assert_eq!(server.requests("greet-1.0.tar.gz").len(), 1, "no refetch");

    let before: BTreeMap<String, String> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["label"].as_str().unwrap().into(),
                r["sha256"].as_str().unwrap().into(),
            )
        })
        .collect();
    ws.write("tools/hello/conf/name.txt", "world");
    let after = ws.kiln(&["build", "--json"]).expect(0);
    after.stderr_has("1 action(s) run, 0 from cache, 1 up to date");
    let v = json(&after);
    assert_eq!(v["changed"], true);
    assert_eq!(v["actions"]["ran"], 1);
    for r in v["bundles"].as_array().unwrap() {
        let label = r["label"].as_str().unwrap();
        let changed = r["sha256"].as_str().unwrap() != before[label];
        assert_eq!(changed, label == "//tools/hello:hello", "{label}");
        assert_eq!(r["changed"], label == "//tools/hello:hello", "{label}");
    }
    // A file no target declares changes nothing.
    ws.write("tools/hello/notes.md", "undeclared");
    ws.kiln(&["build"]).expect(0).stderr_has("nothing to do");
    // Going back restores the earlier bundle from the action cache, without packing.
    ws.write("tools/hello/conf/name.txt", "kiln");
    ws.kiln(&["build"])
        .expect(0)
        .stderr_has("0 action(s) run, 1 from cache");
    // Deleted outputs come back from the cache too.
    std::fs::remove_dir_all(ws.path("kiln-out")).unwrap();
    ws.kiln(&["build"])
        .expect(0)
        .stderr_has("0 action(s) run, 2 from cache");
}

#[test]
fn sha256_of_files_and_urls_gives_the_pin_and_warms_the_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let server = server(tmp.path());
    let ws = fixture(&server);
    let archive = archives::tool_tar_gz("greet-1.0", "Hello");
    let want = sha256_hex(&archive);
    ws.write("local.bin", "local bytes\n");
    let url = server.url("greet-1.0.tar.gz");
    let run = ws.kiln(&["sha256", "local.bin", &url]).expect(0);
    assert_eq!(
        run.stdout,
        format!(
            "{}  local.bin\n{want}  {url}\n",
            sha256_hex(b"local bytes\n")
        )
    );
    // The download is in the cache: the build that pins it fetches nothing.
    ws.kiln(&["build", "--offline"]).expect(0);
    assert_eq!(server.requests("greet-1.0.tar.gz").len(), 1);
    ws.kiln(&["sha256", "nope.bin"])
        .expect(2)
        .stderr_has("nope.bin: no such file");
    ws.kiln(&["sha256", &server.url("missing.tar.gz")])
        .expect(3)
        .stderr_has("404");
}

#[test]
fn the_stat_cache_remembers_only_settled_files_and_notices_new_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let server = server(tmp.path());
    let ws = fixture(&server);
    sh(
        "touch -d '2001-02-03 04:05' tools/hello/conf/name.txt",
        &ws.root,
    )
    .expect(0);
    ws.kiln(&["build"]).expect(0);
    let remembered = std::fs::read_to_string(ws.path("kiln-out/.kiln/sources.json")).unwrap();
    assert!(remembered.contains("conf/name.txt"), "{remembered}");
    // Files written a moment ago may change again within the clock's granularity.
    assert!(!remembered.contains("hello.sh"), "{remembered}");
    // New bytes of the same size under the same mtime: the ctime still moves.
    ws.write("tools/hello/conf/name.txt", "nlik");
    sh(
        "touch -d '2001-02-03 04:05' tools/hello/conf/name.txt",
        &ws.root,
    )
    .expect(0);
    ws.kiln(&["build"])
        .expect(0)
        .stderr_has("1 action(s) run, 0 from cache, 1 up to date");
    let out = sh(
        "tar xzf kiln-out/tools/hello/hello.tar.gz -O runfiles/_main/tools/hello/conf/name.txt",
        &ws.root,
    )
    .expect(0);
    assert_eq!(out.stdout, "nlik");
}

#[test]
fn bundles_are_identical_across_directories_users_umasks_and_time_zones() {
    let tmp = tempfile::tempdir().unwrap();
    let server = server(tmp.path());
    let a = fixture(&server);
    let b = fixture(&server);
    // Different mtimes and permissions on the sources of the second copy.
    sh("touch -d '2001-02-03 04:05' tools/hello/hello.sh tools/other/other.sh && chmod 600 tools/hello/conf/name.txt", &b.root).expect(0);
    let run_a = a.command(&["build"]).env("TZ", "UTC").output().unwrap();
    assert!(run_a.status.success());
    let run_b = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "umask 077; exec {} build",
            e2e::bin("kiln").display()
        ))
        .current_dir(&b.root)
        .env("KILN_CACHE", &b.cache)
        .env("TZ", "Pacific/Chatham")
        .env("HOME", b.tmp.path())
        .output()
        .unwrap();
    assert!(
        run_b.status.success(),
        "{}",
        String::from_utf8_lossy(&run_b.stderr)
    );
    for out in [
        "kiln-out/tools/hello/hello.tar.gz",
        "kiln-out/tools/other/other.tar.gz",
    ] {
        let x = std::fs::read(a.path(out)).unwrap();
        let y = std::fs::read(b.path(out)).unwrap();
        assert_eq!(sha256_hex(&x), sha256_hex(&y), "{out} differs");
    }
    // SOURCE_DATE_EPOCH sets the entries' mtime, and so the bytes.
    let run = a
        .command(&["build", "--json", "//tools/other:other"])
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .unwrap();
    assert!(run.status.success());
    let bundle = std::fs::read(a.path("kiln-out/tools/other/other.tar.gz")).unwrap();
    assert!(entries(&bundle).iter().all(|e| e.3 == 1_700_000_000));
}

fn archive_ws(server: &HttpServer, file: &str, bytes: Vec<u8>, strip: Option<&str>) -> Ws {
    let ws = Ws::new();
    server.add(file, bytes.clone());
    let strip = strip
        .map(|s| format!("strip_prefix = \"{s}\"\n"))
        .unwrap_or_default();
    ws.write(
        "WORKSPACE.toml",
        format!(
            "[workspace]\nname = \"t\"\n\n[[archive]]\nname = \"up\"\nurls = [\"{}\"]\nsha256 = \"{}\"\n{strip}",
            server.url(file),
            sha256_hex(&bytes)
        ),
    );
    ws.write(
        "p/BUILD.toml",
        "[[bundle]]\nname = \"p\"\nkind = \"tool\"\ndata = [\"@up//:files\"]\n",
    );
    ws
}

#[test]
fn extracts_every_supported_format() {
    let tmp = tempfile::tempdir().unwrap();
    let server = server(tmp.path());
    let inner = archives::tar(&[
        E::Dir("up-1/"),
        E::File("up-1/bin/tool", b"#!/bin/sh\necho tool\n", 0o755),
        E::File("up-1/data/a.txt", b"a", 0o600),
        E::Symlink("up-1/bin/alias", "tool"),
    ]);
    let zip = archives::zip(&[
        ("up-1/bin/tool", b"#!/bin/sh\necho tool\n", 0o755),
        ("up-1/data/a.txt", b"a", 0o600),
    ]);
    let cases = [
        ("up.tar.gz", archives::gz(&inner)),
        ("up.tar.xz", archives::xz(&inner)),
        ("up.tar.bz2", archives::bz2(&inner)),
        ("up.tar", inner.clone()),
        ("up.zip", zip),
    ];
    for (file, bytes) in cases {
        let ws = archive_ws(&server, file, bytes, Some("up-1"));
        ws.kiln(&["build"]).expect(0);
        let bundle = std::fs::read(ws.path("kiln-out/p/p.tar.gz")).unwrap();
        let list = entries(&bundle);
        let find = |p: &str| {
            list.iter()
                .find(|e| e.0 == p)
                .unwrap_or_else(|| panic!("{file}: no {p}"))
        };
        assert_eq!(find("runfiles/up/bin/tool").1, 0o755, "{file}");
        assert_eq!(
            find("runfiles/up/data/a.txt").1,
            0o644,
            "{file}: modes are normalized"
        );
        if file != "up.zip" {
            assert_eq!(find("runfiles/up/bin/alias").4, 'l', "{file}: symlink kept");
        }
    }
}

#[test]
fn mirrors_are_tried_in_order_with_retries_and_resume() {
    let tmp = tempfile::tempdir().unwrap();
    let server = server(tmp.path());
    let archive = archives::tool_tar_gz("greet-1.0", &"x".repeat(200_000));
    server.add("flaky.tgz", archive.clone());
    // The first mirror is missing; the second fails twice, then cuts the connection
    // halfway; kiln resumes with a Range request.
    server.faults(
        "flaky.tgz",
        vec![Fault::Status(503), Fault::CutAfter(archive.len() / 2)],
    );
    let ws = Ws::new();
    ws.write(
        "WORKSPACE.toml",
        format!(
            "[workspace]\nname = \"t\"\n[[archive]]\nname = \"greet\"\nurls = [\"{}\", \"{}\"]\nsha256 = \"{}\"\nstrip_prefix = \"greet-1.0\"\n",
            server.url("missing.tgz"),
            server.url("flaky.tgz"),
            sha256_hex(&archive)
        ),
    );
    ws.write(
        "p/BUILD.toml",
        "[[bundle]]\nname = \"p\"\nkind = \"tool\"\ndata = [\"@greet//:files\"]\n",
    );
    ws.kiln(&["fetch"]).expect(0);
    assert_eq!(server.requests("missing.tgz").len(), 1);
    let reqs = server.requests("flaky.tgz");
    assert_eq!(reqs.len(), 3, "{reqs:?}");
    assert_eq!(reqs[0], None);
    assert_eq!(reqs[2], Some(format!("bytes={}-", archive.len() / 2)));
    // The verified file is in the CAS under its sha256.
    let cas = ws.cas_files();
    assert_eq!(cas.len(), 1);
    assert!(cas[0].ends_with(sha256_hex(&archive)));
}

#[test]
fn distdir_and_offline() {
    let tmp = tempfile::tempdir().unwrap();
    let server = server(tmp.path());
    let ws = fixture(&server);
    let offline = ws.kiln(&["build", "--offline"]).expect(3);
    offline.stderr_has("not in the cache and --offline was given");
    assert!(!ws.path("kiln-out").exists(), "nothing written");

    let distdir = tmp.path().join("dist");
    std::fs::create_dir_all(&distdir).unwrap();
    std::fs::write(
        distdir.join("greet-1.0.tar.gz"),
        archives::tool_tar_gz("greet-1.0", "Hello"),
    )
    .unwrap();
    ws.kiln(&["build", "--offline", "--distdir", distdir.to_str().unwrap()])
        .expect(0);
    assert!(
        server.requests("greet-1.0.tar.gz").is_empty(),
        "served from the distdir"
    );
    // Now cached: offline works without the distdir.
    std::fs::remove_dir_all(ws.path("kiln-out")).unwrap();
    ws.kiln(&["build", "--offline"]).expect(0);
}

#[test]
fn publish_promote_and_releases_on_the_file_store() {
    let tmp = tempfile::tempdir().unwrap();
    let server = server(tmp.path());
    let ws = fixture(&server);
    ws.kiln(&["publish"])
        .expect(2)
        .stderr_has("no build number");
    ws.kiln(&["publish", "--build-number", "07"]).expect(2);

    let first = ws
        .kiln(&["publish", "--build-number", "1", "--json"])
        .expect(0);
    let v = json(&first);
    assert!(
        v["published"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["changed"] == true)
    );
    let store = ws.path(".kiln/store");
    let bundle = std::fs::read(store.join("hello/1/bundle.tar.gz")).unwrap();
    let record: release::Release =
        serde_json::from_slice(&std::fs::read(store.join("hello/1/release.json")).unwrap())
            .unwrap();
    assert_eq!(record.build, 1);
    assert_eq!(record.bundle.sha256.hex(), sha256_hex(&bundle));
    assert_eq!(record.bundle.size, bundle.len() as u64);
    assert_eq!(record.source.workspace, "t");
    assert_eq!(
        bundle,
        std::fs::read(ws.path("kiln-out/tools/hello/hello.tar.gz")).unwrap()
    );

    // The same bytes again: a no-op. BUILD_NUMBER works as the default.
    let again = ws
        .command(&["publish"])
        .env("BUILD_NUMBER", "1")
        .output()
        .unwrap();
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("unchanged hello build 1"));

    // Different bytes under the same number: refused, nothing changes.
    ws.write("tools/hello/conf/name.txt", "changed");
    let before = std::fs::read(store.join("hello/1/release.json")).unwrap();
    let clash = ws.kiln(&["publish", "--build-number", "1"]).expect(1);
    clash.stderr_has("build 1 of hello already exists");
    clash.stderr_has("build numbers are immutable");
    assert_eq!(
        before,
        std::fs::read(store.join("hello/1/release.json")).unwrap()
    );

    ws.kiln(&["publish", "--build-number", "2", "--channel", "staging"])
        .expect(0)
        .stdout_has("hello staging -> build 2 (sequence 1)");
    ws.kiln(&["promote", "hello", "1", "--channel", "prod"])
        .expect(0)
        .stdout_has("nothing -> build 1 (sequence 1)");
    ws.kiln(&["promote", "hello", "2", "--channel", "prod"])
        .expect(0)
        .stdout_has("build 1 -> build 2 (sequence 2)");
    ws.kiln(&["promote", "hello", "2", "--channel", "prod"])
        .expect(0)
        .stdout_has("unchanged");
    let pointer: release::Channel =
        serde_json::from_slice(&std::fs::read(store.join("hello/channels/prod.json")).unwrap())
            .unwrap();
    assert_eq!((pointer.build, pointer.sequence), (2, 2));
    ws.kiln(&["promote", "hello", "9", "--channel", "prod"])
        .expect(2)
        .stderr_has("build 9 of hello is not in");

    let rel = ws.kiln(&["releases", "hello", "--json"]).expect(0);
    let v = json(&rel);
    let builds = v["builds"].as_array().unwrap();
    assert_eq!(builds.len(), 2);
    assert_eq!(
        builds[1]["channels"],
        serde_json::json!(["prod", "staging"])
    );
    ws.kiln(&["releases", "nope"]).expect(2);

    // A store given on the command line, as a path.
    let other = tmp.path().join("other-store");
    ws.kiln(&[
        "publish",
        "--build-number",
        "5",
        "--store",
        other.to_str().unwrap(),
    ])
    .expect(0);
    assert!(other.join("other/5/release.json").is_file());
}

#[test]
fn queries_and_patterns() {
    let tmp = tempfile::tempdir().unwrap();
    let server = server(tmp.path());
    let ws = fixture(&server);
    let deps = ws.kiln(&["query", "deps", "//tools/hello:hello"]).expect(0);
    assert_eq!(
        deps.stdout,
        "//tools/hello:conf\n//tools/hello:say-hello\n@greet//:files\n"
    );
    let rdeps = ws.kiln(&["query", "rdeps", "@greet//:files"]).expect(0);
    assert_eq!(
        rdeps.stdout,
        "//tools/hello:hello\n//tools/hello:say-hello\n"
    );
    ws.kiln(&["query", "deps", "//tools/hello:helo"])
        .expect(2)
        .stderr_has("did you mean //tools/hello:hello?");

    // //pkg/... builds one package; manual targets are skipped by patterns.
    let one = ws.kiln(&["build", "//tools/other/..."]).expect(0);
    assert!(!one.stdout.contains("hello"));
    assert!(server.requests("greet-1.0.tar.gz").is_empty());
    ws.write(
        "tools/other/BUILD.toml",
        format!("{OTHER_BUILD}manual = true\n"),
    );
    let all = ws.kiln(&["build", "//..."]).expect(0);
    assert!(
        !all.stdout.contains("//tools/other:other "),
        "{}",
        all.stdout
    );
    ws.kiln(&["build", "//tools/other:other"]).expect(0);
    ws.kiln(&["build", "//nowhere/..."]).expect(2);
}

#[test]
fn the_solr_example_builds_from_a_local_mirror() {
    let tmp = tempfile::tempdir().unwrap();
    let server = server(tmp.path());
    // A Solr-shaped archive: the upstream layout, with a bin/solr that reports its args.
    let solr = b"#!/bin/sh\necho \"solr $*\"\n";
    let archive = archives::gz(&archives::tar(&[
        E::Dir("solr-6.3.0/"),
        E::File("solr-6.3.0/bin/solr", solr, 0o755),
        E::File("solr-6.3.0/server/start.jar", b"jar", 0o644),
        E::File("solr-6.3.0/LICENSE.txt", b"Apache License 2.0", 0o644),
    ]));
    server.add("solr-6.3.0.tgz", archive.clone());
    let ws = Ws::new();
    let repo = e2e::repo_root();
    sh(
        &format!(
            "cp -R {}/packages/solr/. {}/packages/solr/",
            repo.display(),
            ws.root.display()
        ),
        {
            std::fs::create_dir_all(ws.path("packages/solr")).unwrap();
            &ws.root
        },
    )
    .expect(0);
    ws.write(
        "WORKSPACE.toml",
        format!(
            "[workspace]\nname = \"t\"\n[[archive]]\nname = \"solr\"\nurls = [\"{}\"]\nsha256 = \"{}\"\nstrip_prefix = \"solr-6.3.0\"\n",
            server.url("solr-6.3.0.tgz"),
            sha256_hex(&archive)
        ),
    );
    // Manual: //... does not touch it (no fetch).
    ws.kiln(&["build", "//..."]).expect(0);
    assert!(server.requests("solr-6.3.0.tgz").is_empty());

    ws.kiln(&["build", "//packages/solr:solr"]).expect(0);
    let bundle = std::fs::read(ws.path("kiln-out/packages/solr/solr.tar.gz")).unwrap();
    let manifest: release::Manifest =
        serde_json::from_slice(&file_in(&bundle, "MANIFEST.json")).unwrap();
    assert_eq!(manifest.kind, release::Kind::Service);
    let service = manifest.service.unwrap();
    assert_eq!(service.name, "solr");
    assert_eq!(service.health.as_deref(), Some("bin/solr_health"));
    let paths: Vec<_> = manifest.files.iter().map(|f| f.path.as_str()).collect();
    for p in [
        "bin/start_solr",
        "runfiles/solr/bin/solr",
        "runfiles/solr/server/start.jar",
        "runfiles/_main/packages/solr/conf/solr.xml",
        "runfiles/_main/packages/solr/conf/solr.in.sh",
        "runfiles/_main/packages/solr/conf/collection1/conf/solrconfig.xml",
    ] {
        assert!(paths.contains(&p), "{p} missing from {paths:?}");
    }
    // Start it from an unpacked copy: configs land in SOLR_DATA, bin/solr gets the port.
    let host = tmp.path().join("host");
    std::fs::create_dir_all(&host).unwrap();
    sh(
        &format!(
            "tar xzf {} -C .",
            ws.path("kiln-out/packages/solr/solr.tar.gz").display()
        ),
        &host,
    )
    .expect(0);
    let out = sh("SOLR_DATA=$PWD/data SOLR_PORT=8999 ./bin/start_solr", &host).expect(0);
    assert_eq!(
        out.stdout,
        format!("solr start -f -p 8999 -s {}/data\n", host.display())
    );
    assert!(host.join("data/collection1/core.properties").is_file());
}

/// A mirror serving more bytes than the archive may hold (`max_bytes`) is cut off as
/// soon as it passes the limit, nothing of it is kept, and the next mirror is tried;
/// a download is never unbounded.
#[test]
fn a_download_larger_than_the_archive_limit_is_cut_off_and_the_next_mirror_tried() {
    let tmp = tempfile::tempdir().unwrap();
    let server = server(tmp.path());
    let archive = archives::tool_tar_gz("greet-1.0", "hello");
    server.add("huge.tgz", vec![7u8; 4 << 20]);
    server.add("good.tgz", archive.clone());
    let ws = Ws::new();
    ws.write(
        "WORKSPACE.toml",
        format!(
            "[workspace]\nname = \"t\"\n[[archive]]\nname = \"greet\"\nurls = [\"{}\", \"{}\"]\nsha256 = \"{}\"\nstrip_prefix = \"greet-1.0\"\nmax_bytes = 65536\n",
            server.url("huge.tgz"),
            server.url("good.tgz"),
            sha256_hex(&archive)
        ),
    );
    ws.write(
        "p/BUILD.toml",
        "[[bundle]]\nname = \"p\"\nkind = \"tool\"\ndata = [\"@greet//:files\"]\n",
    );
    let run = ws.kiln(&["-v", "fetch"]).expect(0);
    run.stderr_has("larger than the archive's limit of 65536 bytes");
    assert_eq!(server.requests("good.tgz").len(), 1);
    let partials: Vec<_> = std::fs::read_dir(ws.cache.join("v1/tmp"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(partials.is_empty(), "{partials:?}");
}
