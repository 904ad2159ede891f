//! The build's trust boundary, attacked as a change under review would: a workspace
//! whose author controls every committed file (symlinks included) must not make
//! `kiln build` write outside the workspace and cache, read the host's files into a
//! bundle, reach fds the caller left open, or be served a result of another action.

use std::os::unix::fs::symlink;
use std::path::Path;

use e2e::{Run, Ws, sh};

/// A directory outside the workspace standing for `~/.ssh`: what must never change.
fn victim(ws: &Ws) -> std::path::PathBuf {
    let v = ws.tmp.path().join("victim");
    std::fs::create_dir_all(&v).unwrap();
    std::fs::write(v.join("authorized_keys"), "ssh-ed25519 AAAA the-owner\n").unwrap();
    v
}

#[track_caller]
fn untouched(victim: &Path) {
    let mut names: Vec<String> = std::fs::read_dir(victim)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["authorized_keys"], "nothing new appears outside");
    assert_eq!(
        std::fs::read_to_string(victim.join("authorized_keys")).unwrap(),
        "ssh-ed25519 AAAA the-owner\n",
        "the file outside the workspace is unchanged"
    );
}

#[track_caller]
fn refused_link(run: &Run, component: &str) {
    run.stderr_has(&format!("{component} is a symlink"));
    run.stderr_has("kiln writes nothing through it");
}

const GENRULE_AT_ROOT: &str = "[[genrule]]\nname = \"keys\"\nouts = [\"authorized_keys\"]\ncmd = \"echo ssh-ed25519 AAAA the-attacker > $OUTS\"\n";

#[test]
fn a_committed_kiln_out_symlink_is_refused_and_nothing_outside_changes() {
    let ws = Ws::new();
    let v = victim(&ws);
    ws.write("WORKSPACE.toml", "[workspace]\nname = \"t\"\n")
        .write("BUILD.toml", GENRULE_AT_ROOT);
    symlink(&v, ws.path("kiln-out")).unwrap();
    let run = ws.kiln(&["build"]).expect(2);
    refused_link(&run, "kiln-out");
    run.stderr_has("remove it");
    untouched(&v);
    // The same sequence twice: still refused, still nothing written.
    ws.kiln(&["build"]).expect(2);
    untouched(&v);
    // A relative link to the same place.
    std::fs::remove_file(ws.path("kiln-out")).unwrap();
    symlink("../victim", ws.path("kiln-out")).unwrap();
    ws.kiln(&["build"]).expect(2);
    untouched(&v);
}

#[test]
fn a_symlink_anywhere_below_kiln_out_is_refused() {
    // Each place kiln writes below kiln-out/, made a link to the victim in turn.
    let cases: &[(&str, &str, &str)] = &[
        // (link, BUILD.toml of p, command)
        ("kiln-out/p", "genrule", "build"),
        ("kiln-out/.kiln", "genrule", "build"),
        ("kiln-out/logs", "failing", "build"),
        ("kiln-out/logs/p", "failing", "build"),
        ("kiln-out/testlogs", "test", "test"),
        ("kiln-out/p/out.txt", "genrule", "build"),
        ("kiln-out/p/b.tar.gz", "bundle", "build"),
    ];
    for (link, kind, cmd) in cases {
        let ws = Ws::new();
        let v = victim(&ws);
        let build = match *kind {
            "genrule" => {
                "[[genrule]]\nname = \"g\"\nsrcs = [\"in.txt\"]\nouts = [\"out.txt\"]\ncmd = \"cat $SRCS > $OUTS\"\n"
            }
            "failing" => {
                "[[genrule]]\nname = \"g\"\nouts = [\"out.txt\"]\ncmd = \"echo the-attacker; exit 3\"\n"
            }
            "test" => "[[test]]\nname = \"t\"\nsrc = \"t.sh\"\n",
            "bundle" => {
                "[[wrapper]]\nname = \"w\"\nsrc = \"t.sh\"\n[[bundle]]\nname = \"b\"\nkind = \"tool\"\nbinaries = [\":w\"]\n"
            }
            _ => unreachable!(),
        };
        ws.write("WORKSPACE.toml", "[workspace]\nname = \"t\"\n")
            .write("p/BUILD.toml", build)
            .write("p/in.txt", "the-attacker\n")
            .write_exec("p/t.sh", "#!/bin/sh\necho the-attacker\n");
        let l = ws.path(link);
        std::fs::create_dir_all(l.parent().unwrap()).unwrap();
        let target = if link.ends_with(".txt") || link.ends_with(".gz") {
            v.join("authorized_keys")
        } else {
            v.clone()
        };
        symlink(&target, &l).unwrap();
        let run = ws.kiln(&[cmd]);
        assert_eq!(run.code, 2, "{link}: {}", run.stderr);
        refused_link(&run, link);
        untouched(&v);
    }
}

#[test]
fn kiln_out_owned_by_kiln_still_works_and_clean_removes_only_the_link() {
    let ws = Ws::new();
    let v = victim(&ws);
    ws.write("WORKSPACE.toml", "[workspace]\nname = \"t\"\n")
        .write("BUILD.toml", GENRULE_AT_ROOT);
    ws.kiln(&["build"]).expect(0);
    ws.kiln(&["build"]).expect(0);
    assert!(ws.path("kiln-out/authorized_keys").is_file());
    ws.kiln(&["clean"]).expect(0);
    symlink(&v, ws.path("kiln-out")).unwrap();
    ws.kiln(&["clean"]).expect(0);
    untouched(&v);
}

fn source_ws(build: &str) -> Ws {
    let ws = Ws::new();
    ws.write("WORKSPACE.toml", "[workspace]\nname = \"t\"\n")
        .write("p/BUILD.toml", build)
        .write_exec("p/run.sh", "#!/bin/sh\necho hi\n")
        .write("p/ok.txt", "inside\n");
    ws
}

const WRAPPER_DATA: &str = "[[wrapper]]\nname = \"w\"\nsrc = \"run.sh\"\ndata = [\"env\"]\n[[bundle]]\nname = \"b\"\nkind = \"tool\"\nbinaries = [\":w\"]\n";

#[test]
fn a_source_symlink_that_leaves_the_workspace_is_refused() {
    let outside = {
        let ws = Ws::new();
        let p = ws.tmp.path().join("secret");
        std::fs::write(&p, "AWS_SECRET_ACCESS_KEY=hunter2\n").unwrap();
        (ws, p)
    };
    let targets: Vec<String> = vec![
        "/proc/self/environ".into(),
        outside.1.display().to_string(),
        "../../../../../../../../../../etc/passwd".into(),
        "/dev/zero".into(),
    ];
    for target in &targets {
        let ws = source_ws(WRAPPER_DATA);
        symlink(target, ws.path("p/env")).unwrap();
        let run = ws
            .command(&["build"])
            .env("AWS_SECRET_ACCESS_KEY", "hunter2")
            .output()
            .unwrap();
        let code = run.status.code();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(code, Some(2), "{target}: {stderr}");
        assert!(stderr.contains("p/BUILD.toml:4"), "{target}: {stderr}");
        assert!(stderr.contains("//p:w"), "{target}: {stderr}");
        assert!(
            stderr.contains("leaves the workspace"),
            "{target}: {stderr}"
        );
        assert!(!stderr.contains("hunter2"), "{stderr}");
        assert!(!ws.path("kiln-out/p/b.tar.gz").exists());
    }
    // A glob that matches the link is refused the same way.
    let ws = source_ws(&WRAPPER_DATA.replace("[\"env\"]", "[\"**/*\"]"));
    symlink("/proc/self/environ", ws.path("p/env")).unwrap();
    let run = ws.kiln(&["build"]).expect(2);
    run.stderr_has("p/BUILD.toml:4")
        .stderr_has("leaves the workspace");
    // Inside the workspace, but into what kiln never reads: CI's checkout credentials in
    // .git/config, a .env file, kiln's own kiln-out/.
    for (target, made) in [
        ("../.git/config", ".git/config"),
        ("../.env", ".env"),
        ("../kiln-out/q/x", "kiln-out/q/x"),
    ] {
        let ws = source_ws(WRAPPER_DATA);
        ws.write(made, "[http] extraheader = AUTHORIZATION: basic hunter2\n");
        symlink(target, ws.path("p/env")).unwrap();
        let run = ws.kiln(&["build"]).expect(2);
        run.stderr_has("p/BUILD.toml:4")
            .stderr_has("which kiln never reads");
        assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);
    }
    // A link through a link inside the workspace that ends outside.
    let ws = source_ws(WRAPPER_DATA);
    std::fs::create_dir_all(ws.path("q")).unwrap();
    symlink("../..", ws.path("q/up")).unwrap();
    symlink("../q/up/secret", ws.path("p/env")).unwrap();
    std::fs::write(ws.tmp.path().join("secret"), "hunter2").unwrap();
    let run = ws.kiln(&["build"]).expect(2);
    run.stderr_has("leaves the workspace");
}

#[test]
fn a_source_symlink_inside_the_workspace_is_packed_as_its_content() {
    let ws = source_ws(WRAPPER_DATA);
    symlink("ok.txt", ws.path("p/env")).unwrap();
    ws.kiln(&["build"]).expect(0);
    let list = sh("tar tvzf kiln-out/p/b.tar.gz", &ws.root);
    assert!(
        list.stdout.contains("runfiles/_main/p/env"),
        "{}",
        list.stdout
    );
    let content = sh(
        "tar xzOf kiln-out/p/b.tar.gz runfiles/_main/p/env",
        &ws.root,
    );
    assert_eq!(content.stdout, "inside\n");
}

#[test]
fn special_files_among_sources_are_refused() {
    let ws = source_ws(WRAPPER_DATA);
    nix::unistd::mkfifo(
        &ws.path("p/env"),
        nix::sys::stat::Mode::from_bits(0o644).unwrap(),
    )
    .unwrap();
    let run = ws.kiln(&["build"]).expect(2);
    run.stderr_has("p/BUILD.toml:4")
        .stderr_has("not a regular file");
    // And a link to one inside the workspace.
    let ws = source_ws(WRAPPER_DATA);
    nix::unistd::mkfifo(
        &ws.path("p/fifo"),
        nix::sys::stat::Mode::from_bits(0o644).unwrap(),
    )
    .unwrap();
    symlink("fifo", ws.path("p/env")).unwrap();
    ws.kiln(&["build"])
        .expect(2)
        .stderr_has("not a regular file");
}

#[test]
fn only_stdin_stdout_and_stderr_reach_an_action() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    for sandbox in ["linux", "none"] {
        let ws = Ws::new();
        let secret = ws.tmp.path().join("secret");
        std::fs::write(&secret, "SECRET-THROUGH-FD\n").unwrap();
        ws.write("WORKSPACE.toml", "[workspace]\nname = \"t\"\n").write(
            "p/BUILD.toml",
            "[[genrule]]\nname = \"g\"\nouts = [\"fds.txt\"]\ncmd = '''\nfor fd in 3 4 5 6 7 8 9; do\n  if (: <&$fd) 2>/dev/null || (: >&$fd) 2>/dev/null; then echo \"open $fd\"; fi\ndone > $OUTS\n(cat <&7) 2>/dev/null >> $OUTS || true\n'''\n",
        );
        // The caller leaves fd 7 open on a secret file and fd 8 on a socket to a host server.
        let kiln = e2e::bin("kiln");
        let script = format!(
            "exec 7<'{}'; exec 8<>/dev/tcp/127.0.0.1/{port} 2>/dev/null || exec 8<'{}'; exec '{}' --sandbox={sandbox} build",
            secret.display(),
            secret.display(),
            kiln.display()
        );
        let run = std::process::Command::new("bash")
            .arg("-c")
            .arg(&script)
            .current_dir(&ws.root)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", ws.tmp.path().join("home"))
            .env("KILN_CACHE", &ws.cache)
            .output()
            .unwrap();
        assert_eq!(
            run.status.code(),
            Some(0),
            "{sandbox}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let fds = std::fs::read_to_string(ws.path("kiln-out/p/fds.txt")).unwrap();
        assert_eq!(fds, "", "{sandbox}: fds reached the action: {fds}");
    }
}

#[test]
fn the_action_key_sees_roles_and_the_epoch() {
    let ws = Ws::new();
    ws.write("WORKSPACE.toml", "[workspace]\nname = \"t\"\n")
        .write("p/a.txt", "a\n")
        .write("p/b.txt", "b\n");
    let rule = |srcs: &str, tools: &str| {
        format!(
            "[[genrule]]\nname = \"g\"\nsrcs = [{srcs}]\ntools = [{tools}]\nouts = [\"out.txt\"]\ncmd = 'echo \"$SRCS $SOURCE_DATE_EPOCH\" > $OUTS'\n"
        )
    };
    let out = || std::fs::read_to_string(ws.path("kiln-out/p/out.txt")).unwrap();
    ws.write("p/BUILD.toml", rule("\"a.txt\"", "\"b.txt\""));
    ws.kiln(&["build"]).expect(0);
    assert_eq!(out(), "p/a.txt 0\n");
    // Moving b.txt from tools to srcs changes $SRCS: the action runs again.
    ws.write("p/BUILD.toml", rule("\"a.txt\", \"b.txt\"", ""));
    ws.kiln(&["build"]).expect(0);
    assert_eq!(out(), "p/a.txt p/b.txt 0\n");
    // And back: the first result, from the cache.
    ws.write("p/BUILD.toml", rule("\"a.txt\"", "\"b.txt\""));
    ws.kiln(&["build"]).expect(0);
    assert_eq!(out(), "p/a.txt 0\n");
    // SOURCE_DATE_EPOCH is seen by the command, so it is in the key.
    let run = ws
        .command(&["build"])
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0));
    assert_eq!(out(), "p/a.txt 1700000000\n");
}

/// A workspace pinning `bytes` as the archive `up`, exported to a bundle.
fn archive_ws(bytes: &[u8], extra: &str) -> Ws {
    let ws = Ws::new();
    ws.write("third_party/up.tar.gz", bytes);
    ws.write(
        "WORKSPACE.toml",
        format!(
            "[workspace]\nname = \"t\"\n\n[[archive]]\nname = \"up\"\nurls = [\"file://third_party/up.tar.gz\"]\nsha256 = \"{}\"\n{extra}",
            e2e::sha256_hex(bytes)
        ),
    );
    ws.write(
        "p/BUILD.toml",
        "[[bundle]]\nname = \"b\"\nkind = \"tool\"\ndata = [\"@up//:files\"]\n",
    );
    ws
}

#[test]
fn an_archive_whose_links_lead_out_together_is_refused() {
    use e2e::archives::{E, gz, tar};
    let chains: &[&[E]] = &[
        &[E::Symlink("x", "."), E::Symlink("l", "x/..")],
        &[
            E::Dir("a/"),
            E::Symlink("a/up", ".."),
            E::Symlink("l2", "a/up/.."),
            E::Symlink("l3", "l2/etc/passwd"),
        ],
        // The later link changes where the earlier one leads.
        &[E::Symlink("l", "d/.."), E::Symlink("d", ".")],
    ];
    for entries in chains {
        let ws = archive_ws(&gz(&tar(entries)), "");
        let run = ws.kiln(&["build"]).expect(1);
        run.stderr_has("archive @up").stderr_has(
            "points outside the archive once the archive's other symlinks are followed",
        );
        assert!(!ws.path("kiln-out/p/b.tar.gz").exists());
        // Nothing of it stays in the cache's extracted trees.
        let trees = std::fs::read_dir(ws.cache.join("v1/trees"))
            .map(|d| d.count())
            .unwrap_or(0);
        assert_eq!(trees, 0, "a refused tree is not kept");
    }
    // Links through links that stay inside are fine.
    let ok = [
        E::Dir("lib/"),
        E::File("lib/libx.so.1.2", b"elf", 0o755),
        E::Symlink("lib/libx.so.1", "libx.so.1.2"),
        E::Symlink("lib64", "lib"),
        E::Symlink("tool", "lib64/libx.so.1"),
    ];
    let ws = archive_ws(&gz(&tar(&ok)), "");
    ws.kiln(&["build"]).expect(0);
}

#[test]
fn a_decompression_bomb_among_the_pins_is_refused_unless_raised() {
    use e2e::archives::{E, gz, tar};
    let zeros = vec![0u8; 80 << 20];
    let bomb = gz(&tar(&[E::File("zeros", &zeros, 0o644)]));
    drop(zeros);
    assert!(bomb.len() < 200_000, "{}", bomb.len());
    let ws = archive_ws(&bomb, "");
    let run = ws.kiln(&["build"]).expect(1);
    run.stderr_has("archive @up (WORKSPACE.toml:")
        .stderr_has("max_ratio")
        .stderr_has("raise max_ratio on its [[archive]]");
    assert!(!ws.path("kiln-out/p/b.tar.gz").exists());
    let trees_left: Vec<_> = std::fs::read_dir(ws.cache.join("v1/tmp"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("tree"))
        .collect();
    assert!(
        trees_left.is_empty(),
        "the partial extraction is removed: {trees_left:?}"
    );
    // Entries and bytes have their own limits.
    let ws = archive_ws(&bomb, "max_bytes = 1000000\nmax_ratio = 100000\n");
    ws.kiln(&["build"]).expect(1).stderr_has("(max_bytes)");
    let many: Vec<String> = (0..20).map(|i| format!("f{i}")).collect();
    let entries: Vec<E> = many.iter().map(|n| E::File(n, b"x", 0o644)).collect();
    let ws = archive_ws(&gz(&tar(&entries)), "max_entries = 10\n");
    ws.kiln(&["build"])
        .expect(1)
        .stderr_has("more than 10 entries (max_entries)");
    // Extracted once under a higher limit, the cached tree is held to the lower one too.
    let ws2 = archive_ws(&gz(&tar(&entries)), "max_entries = 100\n");
    ws2.kiln(&["build"]).expect(0);
    let lower = archive_ws(&gz(&tar(&entries)), "max_entries = 10\n");
    let run = lower
        .command(&["build"])
        .env("KILN_CACHE", &ws2.cache)
        .output()
        .unwrap();
    assert_eq!(
        run.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // A genuine archive that expands a lot is accepted once its pin says so.
    let ws = archive_ws(&bomb, "max_ratio = 2000\n");
    ws.kiln(&["build"]).expect(0);
    // A zero limit is bad input, at its line.
    let ws = archive_ws(&bomb, "max_ratio = 0\n");
    ws.kiln(&["build"])
        .expect(2)
        .stderr_has("WORKSPACE.toml:8")
        .stderr_has("max_ratio must be at least 1");
}

#[test]
fn a_pinned_archive_is_packed_as_gnu_tar_extracts_it_never_altered() {
    // GNU tar's own sparse archives (PAX 1.0 and 0.1), and a non-UTF-8 name.
    let work = tempfile::tempdir().unwrap();
    let make = sh(
        "mkdir -p src && printf 'head' > src/sparse && truncate -s 70000 src/sparse && printf 'tail' >> src/sparse \
         && tar --sparse --format=pax -cf v10.tar -C src sparse \
         && tar --sparse --sparse-version=0.1 --format=pax -cf v01.tar -C src sparse \
         && mkdir odd && printf x > \"$(printf 'odd/caf\\351')\" && tar --format=gnu -cf odd.tar odd",
        work.path(),
    );
    assert_eq!(make.code, 0, "{}", make.stderr);
    let expected = std::fs::read(work.path().join("src/sparse")).unwrap();
    for t in ["v10.tar", "v01.tar"] {
        let bytes = std::fs::read(work.path().join(t)).unwrap();
        let ws = archive_ws(&bytes, "");
        ws.kiln(&["build"]).expect(0);
        let out = sh("tar xzOf kiln-out/p/b.tar.gz runfiles/up/sparse", &ws.root);
        assert_eq!(out.stdout.len(), 70004, "{t}");
        assert!(
            out.stdout.as_bytes() == expected.as_slice(),
            "{t}: content differs"
        );
    }
    let ws = archive_ws(&std::fs::read(work.path().join("odd.tar")).unwrap(), "");
    ws.kiln(&["build"])
        .expect(1)
        .stderr_has("archive @up")
        .stderr_has("is not valid UTF-8");
}

/// An untrusted build may trust keys of its own (its WORKSPACE.toml is the
/// attacker's), but what it takes from a remote cache on that trust must never be
/// served to a trusted build sharing the machine's local cache.
#[test]
fn records_an_untrusted_build_trusted_are_never_served_to_a_trusted_build() {
    let legit = Ws::new();
    let rule = "[[genrule]]\nname = \"g\"\nouts = [\"out.txt\"]\ncmd = \"echo legit > $OUTS\"\n";
    legit
        .write("WORKSPACE.toml", "[workspace]\nname = \"t\"\n")
        .write("p/BUILD.toml", rule);
    // The action's key, as any cache listing shows it.
    let probe = legit.tmp.path().join("probe-cache");
    let (ci_key, _) = legit.keygen("ci.key");
    let url = format!("file://{}", probe.display());
    legit
        .command(&["build", "--remote-cache", &url])
        .env("KILN_CACHE", legit.tmp.path().join("probe-local"))
        .env("KILN_CACHE_SIGNING_KEY", &ci_key)
        .output()
        .unwrap();
    let key = std::fs::read_dir(probe.join("ac"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .file_name()
        .to_string_lossy()
        .into_owned();

    // The pull request: the same rule, a cache of its own making, its own key trusted.
    let pr = Ws::new();
    let (atk_key, atk_pub) = pr.keygen("atk.key");
    let evil = b"PWNED\n";
    let evil_sha = e2e::sha256_hex(evil);
    pr.write(&format!("third_party/cache/cas/sha256/{evil_sha}"), evil);
    let record = format!(
        "{{\"sandbox\":\"linux-v1\",\"outputs\":[{{\"path\":\"out.txt\",\"sha256\":\"{evil_sha}\",\"size\":{},\"executable\":false}}]}}",
        evil.len()
    );
    let secret = release::SecretKey::parse(&std::fs::read_to_string(&atk_key).unwrap()).unwrap();
    let mut signed = format!("kiln-cache-record-v1\0{key}\0").into_bytes();
    signed.extend_from_slice(record.as_bytes());
    let envelope = format!(
        "{{\"schema\":1,\"record\":{},\"signature\":{}}}",
        serde_json::to_string(&record).unwrap(),
        String::from_utf8(secret.sign(&signed).to_bytes()).unwrap()
    );
    pr.write(&format!("third_party/cache/ac/{key}"), envelope);
    pr.write(
        "WORKSPACE.toml",
        format!(
            "[workspace]\nname = \"t\"\n[cache]\nurl = \"file://third_party/cache\"\ntrusted_keys = [\"{atk_pub}\"]\n"
        ),
    )
    .write("p/BUILD.toml", rule);
    // Both share CI's local cache, as builds on one worker do.
    let shared = legit.tmp.path().join("worker-cache");
    Run::from(
        pr.command(&["build", "--remote-cache-mode", "read"])
            .env("KILN_CACHE", &shared)
            .output()
            .unwrap(),
    )
    .expect(0);
    // The untrusted build got what it asked for...
    assert_eq!(
        std::fs::read_to_string(pr.path("kiln-out/p/out.txt")).unwrap(),
        "PWNED\n"
    );
    // ...and the trusted one, on the same local cache, with no remote cache at all, runs
    // the action itself.
    let run = legit
        .command(&["build"])
        .env("KILN_CACHE", &shared)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(legit.path("kiln-out/p/out.txt")).unwrap(),
        "legit\n",
        "a record only the pull request trusted reached a trusted build"
    );
}

#[test]
fn outputs_cannot_take_the_place_of_kiln_state_or_another_targets_output() {
    let cases: &[(&str, &str, &str)] = &[
        // (root BUILD.toml, p/BUILD.toml, what the error says)
        (
            "[[genrule]]\nname = \"x\"\nouts = [\".kiln/sources.json\"]\ncmd = \"touch $OUTS\"\n",
            "",
            "where kiln keeps its own .kiln",
        ),
        (
            "[[genrule]]\nname = \"x\"\nouts = [\"logs/p/g.log\"]\ncmd = \"touch $OUTS\"\n",
            "",
            "where kiln keeps its own logs",
        ),
        (
            "[[genrule]]\nname = \"x\"\nouts = [\"testlogs/p/t/test.log\"]\ncmd = \"touch $OUTS\"\n",
            "",
            "where kiln keeps its own testlogs",
        ),
        (
            "[[genrule]]\nname = \"x\"\nouts = [\"p/b.tar.gz\"]\ncmd = \"touch $OUTS\"\n",
            "[[wrapper]]\nname = \"w\"\nsrc = \"t.sh\"\n[[bundle]]\nname = \"b\"\nkind = \"tool\"\nbinaries = [\":w\"]\n",
            "among the outputs of package //p",
        ),
        (
            "",
            "[[genrule]]\nname = \"x\"\nouts = [\"b.tar.gz\"]\ncmd = \"touch $OUTS\"\n[[wrapper]]\nname = \"w\"\nsrc = \"t.sh\"\n[[bundle]]\nname = \"b\"\nkind = \"tool\"\nbinaries = [\":w\"]\n",
            "which //p:x writes too",
        ),
        (
            "",
            "[[genrule]]\nname = \"x\"\nouts = [\"o\"]\ncmd = \"touch $OUTS\"\n[[genrule]]\nname = \"y\"\nouts = [\"o\"]\ncmd = \"touch $OUTS\"\n",
            "which //p:x writes too",
        ),
    ];
    for (root, p, says) in cases {
        let ws = Ws::new();
        ws.write("WORKSPACE.toml", "[workspace]\nname = \"t\"\n")
            .write("BUILD.toml", root)
            .write("p/BUILD.toml", p)
            .write_exec("p/t.sh", "#!/bin/sh\n");
        let run = ws.kiln(&["build"]);
        assert_eq!(run.code, 2, "{says}: {}", run.stderr);
        run.stderr_has(says).stderr_has("BUILD.toml:");
        assert!(!ws.path("kiln-out").exists(), "{says}: nothing written");
    }
}

#[test]
fn host_files_are_not_read_through_the_workspace_file_or_a_pin() {
    // A WORKSPACE.toml that is a link to a host file is refused, not parsed and quoted.
    let ws = Ws::new();
    let host = ws.tmp.path().join("host.toml");
    std::fs::write(&host, "secret_key = \"hunter2\"\n").unwrap();
    symlink(&host, ws.path("WORKSPACE.toml")).unwrap();
    let run = ws.kiln(&["build"]).expect(2);
    run.stderr_has("WORKSPACE.toml is a symlink");
    assert!(
        !run.stderr.contains("secret_key") && !run.stderr.contains("hunter2"),
        "{}",
        run.stderr
    );
    // A file:// pin naming a host file: a mismatch does not print the file's digest.
    let secret = ws.tmp.path().join("shadow");
    std::fs::write(&secret, "root:hunter2\n").unwrap();
    let ws = Ws::new();
    ws.write(
        "WORKSPACE.toml",
        format!(
            "[workspace]\nname = \"t\"\n[[archive]]\nname = \"up\"\nurls = [\"file://{}\"]\nsha256 = \"{}\"\n",
            secret.display(),
            "0".repeat(64)
        ),
    )
    .write("p/BUILD.toml", "[[bundle]]\nname = \"b\"\nkind = \"tool\"\ndata = [\"@up//:files\"]\n");
    let run = ws.kiln(&["build"]).expect(1);
    run.stderr_has("not shown: the file lies outside the workspace");
    assert!(
        !run.stderr.contains(&e2e::sha256_hex(b"root:hunter2\n")),
        "{}",
        run.stderr
    );
}

#[test]
fn inputs_show_the_mode_the_key_has_whatever_their_mode_on_disk() {
    use std::os::unix::fs::PermissionsExt;
    for sandbox in ["linux", "none"] {
        let ws = Ws::new();
        ws.write("WORKSPACE.toml", "[workspace]\nname = \"t\"\n")
            .write("p/a.txt", "a\n")
            .write(
                "p/BUILD.toml",
                "[[genrule]]\nname = \"g\"\nsrcs = [\"a.txt\"]\nouts = [\"mode.txt\"]\ncmd = \"stat -c %a $SRCS > $OUTS\"\n",
            );
        for mode in [0o600, 0o644, 0o664, 0o444] {
            std::fs::set_permissions(ws.path("p/a.txt"), std::fs::Permissions::from_mode(mode))
                .unwrap();
            ws.kiln(&[&format!("--sandbox={sandbox}"), "build"])
                .expect(0);
            assert_eq!(
                std::fs::read_to_string(ws.path("kiln-out/p/mode.txt")).unwrap(),
                "444\n",
                "{sandbox}, source mode {mode:o}"
            );
        }
    }
}

#[test]
fn second_round_of_attacks_is_refused_too() {
    // A root output named like a package, and a file where another output needs a
    // directory.
    for (root, says) in [
        (
            "[[genrule]]\nname = \"x\"\nouts = [\"p\"]\ncmd = \"touch $OUTS\"\n",
            "among the outputs of package //p",
        ),
        (
            "[[genrule]]\nname = \"x\"\nouts = [\"a\"]\ncmd = \"touch $OUTS\"\n[[genrule]]\nname = \"y\"\nouts = [\"a/b\"]\ncmd = \"touch $OUTS\"\n",
            "one would be a file where the other needs a directory",
        ),
        (
            "[[genrule]]\nname = \"y\"\nouts = [\"a/b\"]\ncmd = \"touch $OUTS\"\n[[genrule]]\nname = \"x\"\nouts = [\"a\"]\ncmd = \"touch $OUTS\"\n",
            "one would be a file where the other needs a directory",
        ),
    ] {
        let ws = Ws::new();
        ws.write("WORKSPACE.toml", "[workspace]\nname = \"t\"\n")
            .write("BUILD.toml", root)
            .write("p/BUILD.toml", "");
        ws.kiln(&["build"])
            .expect(2)
            .stderr_has(says)
            .stderr_has("BUILD.toml:");
    }
    // Dotfiles are not sources, listed or globbed: CI leaves credentials that way.
    for srcs in ["[\".npmrc\"]", "[\"*\"]"] {
        let ws = Ws::new();
        ws.write("WORKSPACE.toml", "[workspace]\nname = \"t\"\n")
            .write("p/.npmrc", "//registry/:_authToken=hunter2\n")
            .write("p/ok.txt", "ok\n")
            .write(
                "p/BUILD.toml",
                format!("[[genrule]]\nname = \"g\"\nsrcs = {srcs}\nouts = [\"o.txt\"]\ncmd = \"cat $SRCS > $OUTS\"\n"),
            );
        let run = ws.kiln(&["build"]);
        if srcs.contains("npmrc") {
            assert_eq!(run.code, 2, "{}", run.stderr);
        } else {
            assert_eq!(run.code, 0, "{}", run.stderr);
            let out = std::fs::read_to_string(ws.path("kiln-out/p/o.txt")).unwrap();
            assert!(out.ends_with("ok\n") && !out.contains("hunter2"), "{out}");
        }
        assert!(!run.stderr.contains("hunter2"));
    }
    // [cache] signing_key naming a key file elsewhere on the machine: refused.
    let ws = Ws::new();
    let key = ws.tmp.path().join("ci-cache.key");
    ws.kiln(&["keygen", "--out", key.to_str().unwrap()])
        .expect(0);
    ws.write(
        "WORKSPACE.toml",
        format!(
            "[workspace]\nname = \"t\"\n[cache]\nurl = \"file://{}\"\nsigning_key = \"{}\"\n",
            ws.tmp.path().join("remote").display(),
            key.display()
        ),
    )
    .write(
        "p/BUILD.toml",
        "[[genrule]]\nname = \"g\"\nouts = [\"o\"]\ncmd = \"touch $OUTS\"\n",
    );
    ws.kiln(&["build"])
        .expect(2)
        .stderr_has("is not a file of the workspace");
    symlink(&key, ws.path("ci-cache.key")).unwrap();
    ws.write(
        "WORKSPACE.toml",
        format!(
            "[workspace]\nname = \"t\"\n[cache]\nurl = \"file://{}\"\nsigning_key = \"ci-cache.key\"\n",
            ws.tmp.path().join("remote").display()
        ),
    );
    ws.kiln(&["build"])
        .expect(2)
        .stderr_has("is not a file of the workspace");
    // An archive named _main would mix with the workspace's own files.
    let ws = Ws::new();
    ws.write(
        "WORKSPACE.toml",
        format!(
            "[workspace]\nname = \"t\"\n[[archive]]\nname = \"_main\"\nurls = [\"file://x\"]\nsha256 = \"{}\"\n",
            "0".repeat(64)
        ),
    );
    ws.kiln(&["build"])
        .expect(2)
        .stderr_has("archive name \"_main\"");
}
