//! The CLI surface of both binaries, end to end: every command's `--json` is exactly
//! one object (failures included) with `schema`, `command`, `changed` and `failed`;
//! summary lines say what happened; `kiln query` lists, answers and draws; `kiln gc`
//! trims the cache; colours only on a terminal; the checked-in man pages and
//! completion scripts are what the binaries generate.

use std::path::Path;

use e2e::{Run, Ws, bin, repo_root};

fn json(run: &Run) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not one JSON object ({e}):\n{}", run.stdout));
    assert!(v.is_object(), "{v}");
    for k in ["schema", "command", "changed", "failed"] {
        assert!(v.get(k).is_some(), "no {k} in {v}");
    }
    assert_eq!(v["schema"], 1);
    assert_eq!(v["failed"], run.code != 0, "{v}");
    if run.code != 0 {
        assert_eq!(v["exit_code"], run.code, "{v}");
        assert!(v["error"].is_string(), "{v}");
    }
    v
}

/// A workspace with a genrule, a test and a bundle.
fn small() -> Ws {
    let ws = Ws::new();
    ws.write("WORKSPACE.toml", "[workspace]\nname = \"cli\"\n");
    ws.write("tools/a/x.txt", "hi\n");
    ws.write_exec("tools/a/check.sh", "#!/bin/sh\ntest -s tools/a/y.txt\n");
    ws.write(
        "tools/a/BUILD.toml",
        r#"[[filegroup]]
name = "files"
srcs = ["x.txt"]

[[genrule]]
name = "gen"
srcs = [":files"]
outs = ["y.txt"]
cmd = "cat $SRCS > $OUTS"

[[test]]
name = "check"
src = "check.sh"
data = [":gen"]

[[bundle]]
name = "a"
kind = "tool"
data = [":gen"]
"#,
    );
    ws
}

#[test]
fn every_kiln_command_prints_one_json_object_failures_included() {
    let ws = small();
    let key = ws.tmp.path().join("k.key");
    let key = key.to_str().unwrap();
    let cases: Vec<(Vec<&str>, i32)> = vec![
        (vec!["build"], 0),
        (vec!["build", "//tools/a:nope"], 2),
        (vec!["test"], 0),
        (vec!["fetch"], 0),
        (vec!["query", "//..."], 0),
        (vec!["query", "deps", "//tools/a:a"], 0),
        (vec!["query", "rdeps", "//nope:x"], 2),
        (vec!["publish"], 2),
        (vec!["publish", "--build-number", "1"], 0),
        (vec!["promote", "a", "1", "--channel", "prod"], 0),
        (vec!["promote", "a", "9", "--channel", "prod"], 2),
        (vec!["releases", "a"], 0),
        (vec!["status", "a", "--channel", "prod"], 0),
        (vec!["status", "a", "--channel", "nope"], 2),
        (vec!["releases", "nope"], 2),
        (vec!["releases", "a", "--verify"], 2),
        (vec!["sha256", "tools/a/x.txt"], 0),
        (vec!["sha256", "missing"], 2),
        (vec!["keygen", "--out", key], 0),
        (vec!["keygen", "--out", key], 2),
        (vec!["keys", "--grant", "*=x"], 2),
        (vec!["clean"], 0),
        (vec!["gc"], 0),
        (vec!["completions", "bash"], 0),
        (vec!["man"], 0),
        (vec!["no-such-command"], 2),
        (vec!["build", "--jobs", "x"], 2),
        (vec!["--help"], 0),
    ];
    for (args, code) in cases {
        let mut a = args.clone();
        a.push("--json");
        let run = ws.kiln(&a).expect(code);
        let v = json(&run);
        let command = if args[0].starts_with('-') || args[0] == "no-such-command" {
            None
        } else {
            Some(args[0])
        };
        if let (Some(c), true) = (command, code == 0 || !args.contains(&"--jobs")) {
            assert_eq!(v["command"], c, "{args:?}: {v}");
        }
        // The flag before the command too.
        let mut b = vec!["--json"];
        b.extend(&args);
        if code == 0 && !matches!(args[0], "keygen" | "publish" | "--help") {
            json(&ws.kiln(&b).expect(code));
        }
    }
}

#[test]
fn changed_is_true_exactly_when_something_changed() {
    let ws = small();
    let changed = |args: &[&str]| {
        let mut a = args.to_vec();
        a.push("--json");
        json(&ws.kiln(&a).expect(0))["changed"].clone()
    };
    assert_eq!(changed(&["build"]), true);
    assert_eq!(changed(&["build"]), false);
    assert_eq!(changed(&["test"]), true);
    assert_eq!(changed(&["test"]), false);
    assert_eq!(changed(&["publish", "--build-number", "1"]), true);
    assert_eq!(changed(&["publish", "--build-number", "1"]), false);
    assert_eq!(changed(&["promote", "a", "1", "--channel", "prod"]), true);
    assert_eq!(changed(&["promote", "a", "1", "--channel", "prod"]), false);
    assert_eq!(changed(&["clean"]), true);
    assert_eq!(changed(&["clean"]), false);
    assert_eq!(changed(&["query", "//..."]), false);
}

#[test]
fn summary_lines_are_true() {
    let ws = small();
    // Running tests is not "nothing to do", though every other action is up to date.
    ws.kiln(&["build"]).expect(0);
    let run = ws.kiln(&["test"]).expect(0);
    assert!(!run.stderr.contains("nothing to do"), "{}", run.stderr);
    run.stderr_has("1 action(s) run");
    run.stderr_has("1 test: 1 passed, 0 failed");
    ws.kiln(&["test"]).expect(0).stdout_has("(cached) PASSED");
    // A second clean does not claim it removed anything.
    ws.kiln(&["clean"])
        .expect(0)
        .stderr_has("removed kiln-out/");
    let again = ws.kiln(&["clean"]).expect(0);
    assert!(!again.stderr.contains("removed"), "{}", again.stderr);
    again.stderr_has("no kiln-out/ to remove");
}

#[test]
fn query_lists_targets_answers_and_draws_a_graph_graphviz_renders() {
    let ws = small();
    let all = ws.kiln(&["query", "//..."]).expect(0);
    assert_eq!(
        all.stdout,
        "//tools/a:a\n//tools/a:check\n//tools/a:files\n//tools/a:gen\n"
    );
    let deps = ws.kiln(&["query", "deps", "//tools/a:a"]).expect(0);
    assert_eq!(deps.stdout, "//tools/a:files\n//tools/a:gen\n");
    let rdeps = ws.kiln(&["query", "rdeps", "//tools/a:files"]).expect(0);
    assert_eq!(
        rdeps.stdout,
        "//tools/a:a\n//tools/a:check\n//tools/a:gen\n"
    );
    let v = json(
        &ws.kiln(&["query", "//tools/...", "--output", "json"])
            .expect(0),
    );
    assert_eq!(v["labels"][0]["label"], "//tools/a:a");
    assert_eq!(v["labels"][0]["kind"], "bundle");
    assert!(
        v["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e[0] == "//tools/a:gen" && e[1] == "//tools/a:files"),
        "{v}"
    );
    let dot = ws
        .kiln(&["query", "deps", "//tools/a:a", "--output", "dot"])
        .expect(0);
    dot.stdout_has("\"//tools/a:a\" -> \"//tools/a:gen\"");
    let svg = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(svg.path(), &dot.stdout).unwrap();
    let rendered = std::process::Command::new("dot")
        .args(["-Tsvg"])
        .arg(svg.path())
        .output()
        .expect("Graphviz's dot (ci/test installs graphviz)");
    assert!(
        rendered.status.success(),
        "{}",
        String::from_utf8_lossy(&rendered.stderr)
    );
    assert!(String::from_utf8_lossy(&rendered.stdout).contains("<svg"));
    ws.kiln(&["query", "//nope/..."]).expect(2);
}

fn cache_bytes(dir: &Path) -> u64 {
    walk(dir)
        .iter()
        .filter(|p| !p.starts_with(dir.join("v1/tmp")) && p.file_name().unwrap() != "lock")
        .map(|p| std::fs::symlink_metadata(p).unwrap().len())
        .sum()
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

#[test]
fn gc_trims_the_cache_least_recently_used_first_and_sweeps_leftovers() {
    let ws = small();
    ws.kiln(&["build"]).expect(0);
    // Leftovers of a killed run: a temp dir and a temp file beside an action record.
    let tmp = ws.cache.join("v1/tmp/sandbox-99999-0");
    std::fs::create_dir_all(tmp.join("x")).unwrap();
    let ac_dir = std::fs::read_dir(ws.cache.join("v1/ac"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::write(ac_dir.join(".tmp-99999-0"), "torn").unwrap();
    let before = cache_bytes(&ws.cache);
    let v = json(&ws.kiln(&["gc", "--json"]).expect(0));
    assert_eq!(v["leftovers_removed"], 2, "{v}");
    assert_eq!(v["entries_removed"], 0, "{v}");
    assert_eq!(v["changed"], true);
    assert!(!tmp.exists() && !ac_dir.join(".tmp-99999-0").exists());
    assert_eq!(cache_bytes(&ws.cache), before - 4);
    let v = json(&ws.kiln(&["gc", "--json"]).expect(0));
    assert_eq!(v["changed"], false, "{v}");

    // The oldest entry goes first: age one CAS blob, then trim by one byte.
    let cas = ws.cas_files();
    let oldest = &cas[0];
    let past = std::time::SystemTime::now() - std::time::Duration::from_secs(86_400 * 30);
    let f = std::fs::File::options().write(true).open(oldest);
    let f = match f {
        Ok(f) => f,
        Err(_) => {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(oldest, std::fs::Permissions::from_mode(0o644)).unwrap();
            std::fs::File::options().write(true).open(oldest).unwrap()
        }
    };
    f.set_times(
        std::fs::FileTimes::new()
            .set_accessed(past)
            .set_modified(past),
    )
    .unwrap();
    drop(f);
    let size = cache_bytes(&ws.cache);
    let v = json(
        &ws.kiln(&["gc", "--max-size", &(size - 1).to_string(), "--json"])
            .expect(0),
    );
    assert_eq!(v["entries_removed"], 1, "{v}");
    assert!(!oldest.exists(), "the least recently used entry went");
    assert!(cache_bytes(&ws.cache) < size);
    // The build after it still works (a missing blob is a cache miss).
    ws.kiln(&["clean"]).expect(0);
    ws.kiln(&["build"]).expect(0);
    // Down to nothing.
    let v = json(&ws.kiln(&["gc", "--max-size", "0", "--json"]).expect(0));
    assert_eq!(v["bytes_after"], 0, "{v}");
    assert!(ws.cas_files().is_empty());
    ws.kiln(&["gc", "--max-size", "10X"]).expect(2);
}

#[test]
fn gc_removes_nothing_while_a_build_uses_the_cache() {
    let ws = small();
    ws.kiln(&["build"]).expect(0);
    let files = ws.cas_files().len();
    // A running kiln holds the cache's lock shared; flock(1) stands in for it.
    let lock = ws.cache.join("v1/lock");
    let mut holder = std::process::Command::new("flock")
        .arg("-s")
        .arg(&lock)
        .args(["sleep", "30"])
        .spawn()
        .unwrap();
    // Wait until it holds the lock: an exclusive try then fails.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::process::Command::new("flock")
        .args(["-n", "-x"])
        .arg(&lock)
        .arg("true")
        .status()
        .unwrap()
        .success()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "flock never took the lock"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let run = ws.kiln(&["gc", "--max-size", "0", "--json"]);
    let _ = holder.kill();
    let _ = holder.wait();
    let run = run.expect(3);
    run.stderr_has("in use");
    json(&run);
    assert_eq!(ws.cas_files().len(), files, "nothing removed");
}

#[test]
fn colour_only_on_a_terminal_and_never_with_no_color() {
    let ws = small();
    // Piped: plain.
    let piped = ws.kiln(&["build", "//tools/a:nope"]).expect(2);
    assert!(piped.stderr.starts_with("error: "), "{}", piped.stderr);
    assert!(!piped.stderr.contains('\x1b'));
    // On a terminal (script(1) gives it one): coloured, unless NO_COLOR.
    let on_tty = |no_color: bool| {
        let mut s = std::process::Command::new("script");
        s.args(["-q", "-e", "-c"])
            .arg(format!("{} build //tools/a:nope", bin("kiln").display()))
            .arg("/dev/null")
            .current_dir(&ws.root)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", ws.tmp.path().join("home"))
            .env("KILN_CACHE", &ws.cache)
            .env("TERM", "xterm");
        if no_color {
            s.env("NO_COLOR", "1");
        }
        Run::from(s.output().unwrap())
    };
    let coloured = on_tty(false);
    assert!(
        coloured.stdout.contains("\x1b[1;31merror:\x1b[0m"),
        "{:?}",
        coloured.stdout
    );
    let plain = on_tty(true);
    assert!(plain.stdout.contains("error: "), "{:?}", plain.stdout);
    assert!(!plain.stdout.contains("\x1b[1;31m"), "{:?}", plain.stdout);
}

/// `kiln man --out`, `kiln completions` (and kiln-fetch's) against the files checked in.
/// `KILN_BLESS=1 cargo test -p e2e --test cli` rewrites them.
#[test]
fn man_pages_and_completions_checked_in_are_current() {
    let bless = std::env::var_os("KILN_BLESS").is_some();
    let root = repo_root();
    let mut stale = Vec::new();
    for prog in ["kiln", "kiln-fetch"] {
        let out = tempfile::tempdir().unwrap();
        let run = Run::from(
            std::process::Command::new(bin(prog))
                .args(["man", "--out"])
                .arg(out.path())
                .output()
                .unwrap(),
        )
        .expect(0);
        drop(run);
        let mut generated: Vec<(String, Vec<u8>)> = std::fs::read_dir(out.path())
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    format!("docs/man/{}", e.file_name().to_string_lossy()),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        for (shell, file) in [
            ("bash", format!("{prog}.bash")),
            ("zsh", format!("_{prog}")),
            ("fish", format!("{prog}.fish")),
        ] {
            let run = Run::from(
                std::process::Command::new(bin(prog))
                    .args(["completions", shell])
                    .output()
                    .unwrap(),
            )
            .expect(0);
            generated.push((
                format!("contrib/completions/{file}"),
                run.stdout.into_bytes(),
            ));
        }
        for (rel, bytes) in generated {
            let path = root.join(&rel);
            if std::fs::read(&path).ok().as_deref() != Some(&bytes[..]) {
                stale.push(rel);
                if bless {
                    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                    std::fs::write(&path, &bytes).unwrap();
                }
            }
        }
    }
    // One page per binary: anything else there is stale.
    for e in std::fs::read_dir(root.join("docs/man"))
        .into_iter()
        .flatten()
    {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if name != "kiln.1" && name != "kiln-fetch.1" {
            stale.push(format!("docs/man/{name}"));
            if bless {
                std::fs::remove_file(root.join("docs/man").join(&name)).unwrap();
            }
        }
    }
    assert!(
        bless || stale.is_empty(),
        "stale (run KILN_BLESS=1 cargo test -p e2e --test cli man_pages): {stale:?}"
    );
}

#[test]
fn every_subcommand_help_has_examples_and_exit_codes() {
    for (prog, subs) in [
        (
            "kiln",
            &[
                "build",
                "test",
                "fetch",
                "query",
                "publish",
                "promote",
                "releases",
                "status",
                "clean",
                "gc",
                "sha256",
                "keygen",
                "keys",
                "completions",
                "man",
            ][..],
        ),
        (
            "kiln-fetch",
            &[
                "install",
                "rollback",
                "remove",
                "follow",
                "list",
                "verify",
                "gc",
                "version",
                "completions",
                "man",
            ][..],
        ),
    ] {
        for sub in subs {
            let run = Run::from(
                std::process::Command::new(bin(prog))
                    .args([sub, "--help"])
                    .output()
                    .unwrap(),
            )
            .expect(0);
            assert!(
                run.stdout.contains("Example"),
                "{prog} {sub} --help: no example"
            );
            assert!(
                run.stdout.contains("Exit code"),
                "{prog} {sub} --help: no exit codes"
            );
        }
    }
}

#[test]
fn verbose_says_which_mirror_and_cache_hits_and_misses() {
    let ws = small();
    let tarball = e2e::archives::tool_tar_gz("greet-1.0", "hi");
    ws.write("third_party/greet.tar.gz", &tarball);
    ws.write(
        "WORKSPACE.toml",
        format!(
            "[workspace]\nname = \"cli\"\n\n[[archive]]\nname = \"greet\"\nurls = [\"file://third_party/missing.tar.gz\", \"file://third_party/greet.tar.gz\"]\nsha256 = \"{}\"\nstrip_prefix = \"greet-1.0\"\n",
            e2e::sha256_hex(&tarball)
        ),
    );
    ws.write(
        "tools/b/BUILD.toml",
        "[[genrule]]\nname = \"g\"\nsrcs = [\"@greet//:files\"]\nouts = [\"n.txt\"]\ncmd = \"ls $SRCS | wc -l > $OUTS\"\n",
    );
    let first = ws.kiln(&["build", "-v", "//tools/b:g"]).expect(0);
    first.stderr_has("fetched @greet from file://third_party/greet.tar.gz");
    first.stderr_has("genrule //tools/b:g: action cache miss");
    ws.kiln(&["clean"]).expect(0);
    let again = ws.kiln(&["build", "-v", "//tools/b:g"]).expect(0);
    again.stderr_has("genrule //tools/b:g: action cache hit");
    assert!(!again.stderr.contains("fetched @greet"), "{}", again.stderr);
    // Without -v, none of it.
    ws.kiln(&["clean"]).expect(0);
    let quiet = ws.kiln(&["build", "//tools/b:g"]).expect(0);
    assert!(!quiet.stderr.contains("cache hit"), "{}", quiet.stderr);
}

/// A directory of the cache that is a link (planted by someone else) is never
/// followed by `kiln gc`: the files it points at survive, and gc says why it stops.
#[test]
fn gc_never_follows_a_link_planted_in_place_of_a_cache_directory() {
    for dir in ["tmp", "ac", "trees", "cas/sha256", "cas"] {
        let ws = small();
        ws.kiln(&["build"]).expect(0);
        let victim = ws.tmp.path().join("victim");
        std::fs::create_dir_all(victim.join("ab")).unwrap();
        std::fs::write(victim.join("f"), "keep").unwrap();
        std::fs::write(victim.join(".tmp-x"), "keep").unwrap();
        std::fs::write(victim.join("ab/cafe"), "keep").unwrap();
        let planted = ws.cache.join("v1").join(dir);
        let _ = std::fs::remove_dir_all(&planted);
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        for args in [&["gc"][..], &["gc", "--max-size", "0"][..]] {
            let mut a = args.to_vec();
            a.push("--json");
            let run = ws.kiln(&a);
            for f in ["f", ".tmp-x", "ab/cafe"] {
                assert!(
                    victim.join(f).is_file(),
                    "{dir}: gc {args:?} removed {f}\n{}",
                    run.stderr
                );
            }
            let run = run.expect(3);
            run.stderr_has("is a symbolic link");
            json(&run);
        }
        assert!(std::fs::symlink_metadata(&planted).unwrap().is_symlink());
    }
}

/// What an outside review of the CLI found, each checked against the binary.
#[test]
fn cli_edges_an_outside_review_found() {
    let ws = small();
    let tarball = e2e::archives::tool_tar_gz("greet-1.0", "hi");
    ws.write("third_party/greet.tar.gz", &tarball);
    ws.write(
        "WORKSPACE.toml",
        format!(
            "[workspace]\nname = \"cli\"\n\n[[archive]]\nname = \"ar\"\nurls = [\"file://third_party/greet.tar.gz\"]\nsha256 = \"{}\"\nstrip_prefix = \"greet-1.0\"\n",
            e2e::sha256_hex(&tarball)
        ),
    );
    // An unknown archive export is an unknown label.
    for q in ["deps", "rdeps"] {
        let run = ws.kiln(&["query", q, "@ar//:nope", "--json"]).expect(2);
        run.stderr_has("has no export \"nope\"");
        json(&run);
    }
    ws.kiln(&["query", "rdeps", "@ar//:files"]).expect(0);
    // JSON edges name only labels it lists, or the root it says.
    let v = json(
        &ws.kiln(&["query", "deps", "//tools/a:a", "--json"])
            .expect(0),
    );
    assert_eq!(v["root"], "//tools/a:a");
    let listed: Vec<&str> = v["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["label"].as_str().unwrap())
        .chain(v["root"].as_str())
        .collect();
    for e in v["edges"].as_array().unwrap() {
        for end in [&e[0], &e[1]] {
            assert!(listed.contains(&end.as_str().unwrap()), "{e} in {v}");
        }
    }
    // A missing argument is named in the JSON error, not only on stderr.
    let v = json(&ws.kiln(&["--json", "sha256"]).expect(2));
    assert!(v["error"].as_str().unwrap().contains("<INPUTS>"), "{v}");
    // -V is the version object; with a command it is an error, never a silent exit 0.
    let v = json(&ws.kiln(&["--json", "-V"]).expect(0));
    assert_eq!(v["command"], "version");
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    ws.kiln(&["-V", "build"]).expect(2);
    ws.kiln(&["build", "-V"]).expect(2);
    assert!(!ws.path("kiln-out").exists(), "nothing was built");
    // man --out: changed only when a page changed.
    let man = ws.tmp.path().join("man");
    let m = man.to_str().unwrap();
    assert_eq!(
        json(&ws.kiln(&["man", "--out", m, "--json"]).expect(0))["changed"],
        true
    );
    assert_eq!(
        json(&ws.kiln(&["man", "--out", m, "--json"]).expect(0))["changed"],
        false
    );
    // Status lines still reach people on stderr with --json.
    ws.kiln(&["build"]).expect(0);
    ws.kiln(&["clean", "--json"])
        .expect(0)
        .stderr_has("removed kiln-out/");
    // keygen never writes through a link planted at FILE.pub, and leaves no secret.
    let target = ws.tmp.path().join("target");
    std::fs::write(&target, "keep").unwrap();
    let key = ws.tmp.path().join("k.key");
    std::os::unix::fs::symlink(&target, ws.tmp.path().join("k.key.pub")).unwrap();
    ws.kiln(&["keygen", "--out", key.to_str().unwrap()])
        .expect(2);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
    assert!(!key.exists(), "no secret left without its .pub");
}

#[test]
fn a_file_kiln_cannot_read_as_text_or_a_package_no_label_can_name_is_bad_input() {
    let ws = small();
    ws.write("tools/bad/BUILD.toml", b"[[filegroup]]\nname = \"x\xff\"\n");
    let run = ws.kiln(&["build", "--json"]).expect(2);
    run.stderr_has("tools/bad/BUILD.toml:2:");
    run.stderr_has("not UTF-8");
    json(&run);
    std::fs::remove_dir_all(ws.path("tools/bad")).unwrap();
    ws.write(
        "tools/a:b/BUILD.toml",
        "[[filegroup]]\nname = \"f\"\nsrcs = []\n",
    );
    let run = ws.kiln(&["query", "//..."]).expect(2);
    run.stderr_has("package //tools/a:b cannot be named in a label");
    std::fs::remove_dir_all(ws.path("tools/a:b")).unwrap();
    ws.write("WORKSPACE.toml", b"[workspace]\nname = \"\xfe\"\n");
    ws.kiln(&["build"])
        .expect(2)
        .stderr_has("WORKSPACE.toml:2:");
}
