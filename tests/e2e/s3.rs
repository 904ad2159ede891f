//! kiln on S3, against a real S3-compatible server (s3s-fs, SigV4-checking) started on
//! 127.0.0.1, with the AWS CLI as an independent client: publishing (multipart,
//! immutable build numbers), channels and their history, racing promotes, faults
//! (wrong credentials, a missing bucket, the server stopped mid-upload), installing
//! with kiln-fetch, and the remote build cache.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use e2e::runit::wait_for;
use e2e::s3::S3Server;
use e2e::{Run, Ws, sha256_hex};

/// A tool whose data is large and incompressible, so its bundle is uploaded in parts.
fn workspace(big: usize) -> Ws {
    let ws = Ws::new();
    ws.write("WORKSPACE.toml", "[workspace]\nname = \"t\"\n")
        .write(
            "tool/BUILD.toml",
            "[[genrule]]\nname = \"stamp\"\nsrcs = [\"msg.txt\"]\nouts = [\"stamp.txt\"]\ncmd = \"tr a-z A-Z < $SRCS > $OUTS\"\n\n[[wrapper]]\nname = \"big-tool\"\nsrc = \"run.sh\"\ndata = [\"big.bin\", \":stamp\"]\n\n[[bundle]]\nname = \"big\"\nkind = \"tool\"\nbinaries = [\":big-tool\"]\n",
        )
        .write_exec("tool/run.sh", "#!/bin/sh\ncat \"$RUNFILES_DIR/_main/tool/stamp.txt\"\n")
        .write("tool/msg.txt", "one\n");
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let data: Vec<u8> = (0..big)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    ws.write("tool/big.bin", data);
    ws
}

/// `kiln ARGS` against the server, signing with the workspace's key when it has one.
fn kiln(ws: &Ws, s3: &S3Server, args: &[&str]) -> Run {
    let mut c = ws.command(args);
    c.envs(s3.env());
    let key = ws.tmp.path().join("signing.key");
    if key.exists() {
        c.env("KILN_SIGNING_KEY", key);
    }
    Run::from(c.output().unwrap())
}

fn releases(ws: &Ws, s3: &S3Server, store: &str, pkg: &str) -> serde_json::Value {
    let run = kiln(ws, s3, &["releases", pkg, "--json", "--store", store]).expect(0);
    serde_json::from_str(&run.stdout).unwrap()
}

#[test]
fn publish_promote_and_install_checked_by_an_independent_client() {
    let ws = workspace(9_000_000);
    let s3 = S3Server::start(&ws.tmp.path().join("s3"), &["tools"]);
    let store = s3.url("tools/releases");
    let key = ws.tmp.path().join("signing.key");
    let public = ws
        .kiln(&["keygen", "--out", key.to_str().unwrap()])
        .expect(0)
        .stdout;
    kiln(
        &ws,
        &s3,
        &[
            "publish",
            "--build-number",
            "1",
            "--store",
            &store,
            "--channel",
            "staging",
        ],
    )
    .expect(0)
    .stdout_has("published big build 1");

    // The AWS CLI sees the keys of the layout, and the bundle it downloads has the
    // sha256 and size the release record says.
    let ls = s3
        .aws(&["s3", "ls", "--recursive", "s3://tools/releases/"])
        .expect(0);
    for key in [
        "releases/big/1/bundle.tar.gz",
        "releases/big/1/release.json",
        "releases/big/channels/staging.json",
    ] {
        ls.stdout_has(key);
    }
    let got = ws.tmp.path().join("got.tar.gz");
    s3.aws(&[
        "s3",
        "cp",
        "s3://tools/releases/big/1/bundle.tar.gz",
        got.to_str().unwrap(),
    ])
    .expect(0);
    let rel = ws.tmp.path().join("rel.json");
    s3.aws(&[
        "s3",
        "cp",
        "s3://tools/releases/big/1/release.json",
        rel.to_str().unwrap(),
    ])
    .expect(0);
    let record: release::Release = serde_json::from_slice(&std::fs::read(&rel).unwrap()).unwrap();
    let bytes = std::fs::read(&got).unwrap();
    assert!(
        bytes.len() > 8 * 1024 * 1024,
        "large enough to go up in parts"
    );
    assert_eq!(record.bundle.sha256.hex(), sha256_hex(&bytes));
    assert_eq!(record.bundle.size, bytes.len() as u64);

    // Same bytes again: a no-op; other bytes under the same number: refused.
    kiln(
        &ws,
        &s3,
        &["publish", "--build-number", "1", "--store", &store],
    )
    .expect(0)
    .stdout_has("unchanged big build 1");
    ws.write("tool/msg.txt", "two\n");
    kiln(
        &ws,
        &s3,
        &["publish", "--build-number", "1", "--store", &store],
    )
    .expect(1)
    .stderr_has("build 1 of big already exists");
    kiln(
        &ws,
        &s3,
        &["publish", "--build-number", "2", "--store", &store],
    )
    .expect(0);

    // Promote, with a reason, into the channel history; a missing build is refused.
    kiln(
        &ws,
        &s3,
        &[
            "promote",
            "big",
            "2",
            "--channel",
            "prod",
            "--reason",
            "ticket OPS-1",
            "--store",
            &store,
        ],
    )
    .expect(0)
    .stdout_has("nothing -> build 2 (sequence 1)");
    kiln(
        &ws,
        &s3,
        &[
            "promote",
            "big",
            "7",
            "--channel",
            "prod",
            "--store",
            &store,
        ],
    )
    .expect(2)
    .stderr_has("build 7 of big is not in");
    let r = releases(&ws, &s3, &store, "big");
    let history = r["history"].as_array().unwrap();
    let prod: Vec<_> = history.iter().filter(|m| m["channel"] == "prod").collect();
    assert_eq!(prod.len(), 1);
    assert_eq!(prod[0]["reason"], "ticket OPS-1");
    assert_eq!(prod[0]["to"], 2);
    assert!(prod[0]["by"].as_str().unwrap().contains('@'));

    // A host installs from S3, by channel, trusting the publisher's key.
    let host = ws.tmp.path().join("host");
    let config = ws.tmp.path().join("fetch.toml");
    std::fs::write(&config, format!("trusted_keys = [\"{}\"]\n", public.trim())).unwrap();
    let out = Command::new(e2e::bin("kiln-fetch"))
        .args([
            "--config",
            config.to_str().unwrap(),
            "--root",
            host.to_str().unwrap(),
            "--store",
            &store,
            "install",
            "big",
            "--channel",
            "prod",
        ])
        .envs(s3.env())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tool = Command::new(host.join("usr/local/bin/big-tool"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&tool.stdout), "TWO\n");

    // `follow --once` on S3: the first poll remembers the pointer's ETag, the next is a
    // conditional GET (s3s-fs answers it 200 with the same ETag, S3 304): nothing
    // installed either way.
    let follow = || {
        let out = Command::new(e2e::bin("kiln-fetch"))
            .args([
                "--config",
                config.to_str().unwrap(),
                "--root",
                host.to_str().unwrap(),
            ])
            .args([
                "--store",
                &store,
                "--json",
                "follow",
                "big",
                "--channel",
                "prod",
                "--once",
            ])
            .envs(s3.env())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let first = follow();
    assert_eq!(
        (first["changed"].clone(), first["pointer_unchanged"].clone()),
        (false.into(), false.into()),
        "{first}"
    );
    let idle = follow();
    assert_eq!(idle["pointer_unchanged"], true, "{idle}");
    assert_eq!(idle["changed"], false);
}

/// Publish builds 1..=n of `big` to `store`.
fn publish_builds(ws: &Ws, s3: &S3Server, store: &str, n: u64) {
    for b in 1..=n {
        ws.write("tool/msg.txt", format!("v{b}\n"));
        kiln(
            ws,
            s3,
            &[
                "publish",
                "-q",
                "--build-number",
                &b.to_string(),
                "--store",
                store,
            ],
        )
        .expect(0);
    }
}

/// The channel's moves by sequence, checking each starts where the previous ended.
fn checked_history(r: &serde_json::Value, channel: &str) -> Vec<serde_json::Value> {
    let mut moves: Vec<_> = r["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["channel"] == channel)
        .cloned()
        .collect();
    moves.sort_by_key(|m| m["sequence"].as_u64());
    for (i, m) in moves.iter().enumerate() {
        assert_eq!(m["sequence"], i as u64 + 1, "{moves:?}");
        if i > 0 {
            assert_eq!(m["from"], moves[i - 1]["to"], "{moves:?}");
        }
    }
    moves
}

#[test]
fn a_promote_that_loses_a_race_retries_and_loses_nothing() {
    let ws = workspace(10);
    let s3 = S3Server::start(&ws.tmp.path().join("s3"), &["tools"]);
    let store = s3.url("tools");
    publish_builds(&ws, &s3, &store, 3);
    kiln(
        &ws,
        &s3,
        &[
            "promote",
            "big",
            "1",
            "--channel",
            "prod",
            "--store",
            &store,
        ],
    )
    .expect(0);
    // A reads the pointer (sequence 1) and stops; B moves the channel meanwhile.
    let a = ws
        .command(&[
            "promote",
            "big",
            "2",
            "--channel",
            "prod",
            "--store",
            &store,
        ])
        .envs(s3.env())
        .env("KILN_TEST_STOP_AT", "promote-read")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(wait_for(Duration::from_secs(30), || stopped(a.id())));
    kiln(
        &ws,
        &s3,
        &[
            "promote",
            "big",
            "3",
            "--channel",
            "prod",
            "--store",
            &store,
        ],
    )
    .expect(0)
    .stdout_has("build 1 -> build 3 (sequence 2)");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(a.id() as i32),
        nix::sys::signal::Signal::SIGCONT,
    )
    .unwrap();
    let out = finish(a, Duration::from_secs(60));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A's conditional write failed on B's newer pointer; it read again and moved on
    // from build 3, not from the build 1 it first saw.
    assert!(String::from_utf8_lossy(&out.stdout).contains("build 3 -> build 2 (sequence 3)"));
    let r = releases(&ws, &s3, &store, "big");
    assert_eq!(r["channels"][0]["sequence"], 3);
    assert_eq!(r["channels"][0]["build"], 2);
    assert_eq!(checked_history(&r, "prod").len(), 3);
}

#[test]
fn concurrent_promotes_on_the_file_store_never_lose_a_move() {
    // s3s-fs checks conditions and then writes, not atomically, so truly simultaneous
    // promotes are raced here against the file store (a lock orders its writes); on
    // S3 the same compare-and-swap is atomic in the server.
    let ws = workspace(10);
    let store = ws.path("store").display().to_string();
    let s3 = S3Server::start(&ws.tmp.path().join("s3"), &[]);
    publish_builds(&ws, &s3, &store, 5);
    let children: Vec<_> = (1..=5)
        .map(|n| {
            ws.command(&[
                "promote",
                "big",
                &n.to_string(),
                "--channel",
                "prod",
                "--store",
                &store,
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    for c in children {
        let out = finish(c, Duration::from_secs(60));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let r = releases(&ws, &s3, &store, "big");
    assert_eq!(r["channels"][0]["sequence"], 5);
    let moves = checked_history(&r, "prod");
    assert_eq!(moves.len(), 5);
    assert_eq!(moves[4]["to"], r["channels"][0]["build"]);
}

#[test]
fn wrong_credentials_and_a_missing_bucket_are_environment_errors() {
    let ws = workspace(10);
    let s3 = S3Server::start(&ws.tmp.path().join("s3"), &["tools"]);
    let out = ws
        .command(&[
            "publish",
            "--build-number",
            "1",
            "--store",
            &s3.url("tools"),
        ])
        .envs(s3.env())
        .env("AWS_SECRET_ACCESS_KEY", "not-the-secret")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("credentials from the environment (AWS_ACCESS_KEY_ID)"),
        "{stderr}"
    );
    kiln(
        &ws,
        &s3,
        &[
            "publish",
            "--build-number",
            "1",
            "--store",
            &s3.url("nosuchbucket/x"),
        ],
    )
    .expect(3)
    .stderr_has("bucket \"nosuchbucket\" does not exist");
    assert!(
        s3.aws(&["s3", "ls", "--recursive", "s3://tools/"])
            .stdout
            .is_empty(),
        "nothing written"
    );
}

/// Wait for a child at most `limit`, killing it (and failing) past that.
fn finish(mut child: std::process::Child, limit: Duration) -> std::process::Output {
    let done = wait_for(limit, || !matches!(child.try_wait(), Ok(None)));
    if !done {
        let _ = child.kill();
        panic!("the process did not finish within {limit:?}");
    }
    child.wait_with_output().unwrap()
}

/// Whether the process is stopped (SIGSTOP).
fn stopped(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(") ").map(|(_, rest)| rest.starts_with('T')))
        .unwrap_or(false)
}

#[test]
fn a_server_stopped_mid_upload_leaves_no_release_and_a_rerun_completes() {
    let ws = workspace(9_000_000);
    let mut s3 = S3Server::start(&ws.tmp.path().join("s3"), &["tools"]);
    let store = s3.url("tools");
    // kiln stops itself after the first part; the server goes away; kiln goes on.
    let child = ws
        .command(&[
            "publish",
            "--build-number",
            "1",
            "--store",
            &store,
            "--channel",
            "prod",
        ])
        .envs(s3.env())
        .env("KILN_TEST_STOP_AT", "s3-part")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    assert!(
        wait_for(Duration::from_secs(60), || stopped(pid)),
        "kiln never reached the first part"
    );
    s3.stop();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGCONT,
    )
    .unwrap();
    let out = finish(child, Duration::from_secs(120));
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    s3.restart();
    let ls = s3.aws(&["s3", "ls", "--recursive", "s3://tools/"]);
    assert!(
        !ls.stdout.contains("release.json"),
        "no release record: {}",
        ls.stdout
    );
    assert!(
        !ls.stdout.contains("channels"),
        "no channel move: {}",
        ls.stdout
    );
    kiln(
        &ws,
        &s3,
        &[
            "publish",
            "--build-number",
            "1",
            "--store",
            &store,
            "--channel",
            "prod",
        ],
    )
    .expect(0)
    .stdout_has("published big build 1");
    let ls = s3
        .aws(&["s3", "ls", "--recursive", "s3://tools/"])
        .expect(0);
    ls.stdout_has("big/1/release.json");
    ls.stdout_has("big/channels/prod.json");
}

/// The cache key pair CI workers share: `KILN_CACHE_SIGNING_KEY` for `kiln`.
fn cache_key(ws: &Ws) -> std::path::PathBuf {
    let key = ws.tmp.path().join("cache.key");
    if !key.exists() {
        ws.kiln(&["keygen", "--out", key.to_str().unwrap()])
            .expect(0);
    }
    key
}

/// `kiln ARGS` as a CI worker holding the cache key `key`.
fn worker(ws: &Ws, s3: &S3Server, key: &Path, args: &[&str]) -> Run {
    Run::from(
        ws.command(args)
            .envs(s3.env())
            .env("KILN_CACHE_SIGNING_KEY", key)
            .output()
            .unwrap(),
    )
}

#[test]
fn the_remote_cache_lets_a_second_worker_skip_every_action() {
    let first = workspace(1000);
    let s3 = S3Server::start(&first.tmp.path().join("s3"), &["cache"]);
    let cache = s3.url("cache/kiln");
    let key = cache_key(&first);
    let kiln = |ws: &Ws, _: &S3Server, args: &[&str]| worker(ws, &s3, &key, args);
    kiln(&first, &s3, &["build", "--remote-cache", &cache])
        .expect(0)
        .stderr_has("2 action(s) run");
    s3.aws(&["s3", "ls", "--recursive", "s3://cache/kiln/ac/"])
        .expect(0);

    // Another checkout, another machine's empty local cache: zero actions run.
    let second = workspace(1000);
    let run = kiln(&second, &s3, &["build", "--remote-cache", &cache]).expect(0);
    run.stderr_has("0 action(s) run, 2 from cache");
    assert_eq!(
        std::fs::read(second.path("kiln-out/tool/big.tar.gz")).unwrap(),
        std::fs::read(first.path("kiln-out/tool/big.tar.gz")).unwrap()
    );

    // A cache that is down is a miss with one warning, never a failure.
    let third = workspace(1000);
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = format!("s3://cache/kiln?endpoint=http://127.0.0.1:{closed}&path_style=true");
    let run = kiln(&third, &s3, &["build", "--remote-cache", &down]).expect(0);
    assert_eq!(
        run.stderr.matches("warning: remote cache").count(),
        1,
        "{}",
        run.stderr
    );
    run.stderr_has("2 action(s) run");

    // Results of unsandboxed actions are never uploaded.
    let fourth = workspace(1000);
    fourth.write("tool/msg.txt", "unsandboxed\n");
    let before = s3
        .aws(&["s3", "ls", "--recursive", "s3://cache/kiln/ac/"])
        .stdout
        .lines()
        .count();
    kiln(
        &fourth,
        &s3,
        &["build", "--sandbox=none", "--remote-cache", &cache],
    )
    .expect(0);
    let after = s3
        .aws(&["s3", "ls", "--recursive", "s3://cache/kiln/ac/"])
        .stdout
        .lines()
        .count();
    // The bundle (a pure function of its files) may be shared; the genrule may not.
    assert!(after - before <= 1, "{before} -> {after}");
    let fifth = workspace(1000);
    fifth.write("tool/msg.txt", "unsandboxed\n");
    kiln(&fifth, &s3, &["build", "--remote-cache", &cache])
        .expect(0)
        .stderr_has("genrule //tool:stamp");
    let _ = Path::new("/");
}

/// The genrule's record in the remote cache (the one naming stamp.txt), as stored.
fn genrule_record(s3: &S3Server, dir: &Path) -> (String, serde_json::Value) {
    let ls = s3
        .aws(&["s3", "ls", "--recursive", "s3://cache/kiln/ac/"])
        .expect(0);
    for line in ls.stdout.lines() {
        let name = line.split_whitespace().last().unwrap();
        let local = dir.join("record.json");
        s3.aws(&[
            "s3",
            "cp",
            &format!("s3://cache/{name}"),
            local.to_str().unwrap(),
        ])
        .expect(0);
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&local).unwrap()).unwrap();
        if v["record"]
            .as_str()
            .is_some_and(|r| r.contains("stamp.txt"))
        {
            return (name.to_string(), v);
        }
    }
    panic!("no genrule record in {}", ls.stdout);
}

fn put(s3: &S3Server, dir: &Path, key: &str, bytes: &[u8]) {
    let local = dir.join("upload");
    std::fs::write(&local, bytes).unwrap();
    s3.aws(&[
        "s3",
        "cp",
        local.to_str().unwrap(),
        &format!("s3://cache/{key}"),
    ])
    .expect(0);
}

#[test]
fn a_tampered_cache_record_never_reaches_a_bundle() {
    let ci = workspace(1000);
    let s3 = S3Server::start(&ci.tmp.path().join("s3"), &["cache"]);
    let cache = s3.url("cache/kiln");
    let key = cache_key(&ci);
    worker(&ci, &s3, &key, &["build", "--remote-cache", &cache]).expect(0);
    let scratch = ci.tmp.path().join("attacker");
    std::fs::create_dir_all(&scratch).unwrap();
    let (name, genuine) = genrule_record(&s3, &scratch);

    // The attacker can write the bucket but holds no key: an evil blob, and the
    // genrule's record pointed at it, in each of the ways they could try.
    let evil = b"EVIL OUTPUT\n";
    let evil_sha = e2e::sha256_hex(evil);
    put(&s3, &scratch, &format!("kiln/cas/sha256/{evil_sha}"), evil);
    let mut record: serde_json::Value =
        serde_json::from_str(genuine["record"].as_str().unwrap()).unwrap();
    record["outputs"][0]["sha256"] = evil_sha.clone().into();
    record["outputs"][0]["size"] = evil.len().into();
    let record = serde_json::to_string(&record).unwrap();
    let own = ci.tmp.path().join("attacker.key");
    ci.kiln(&["keygen", "--out", own.to_str().unwrap()])
        .expect(0);
    let mut resigned = genuine.clone();
    resigned["record"] = record.clone().into();
    let unsigned = record.clone().into_bytes();
    // Another action's genuine record moved to this key.
    let ls = s3
        .aws(&["s3", "ls", "--recursive", "s3://cache/kiln/ac/"])
        .stdout;
    let other = ls
        .lines()
        .map(|l| l.split_whitespace().last().unwrap().to_string())
        .find(|n| *n != name)
        .unwrap();
    let other_local = scratch.join("other.json");
    s3.aws(&[
        "s3",
        "cp",
        &format!("s3://cache/{other}"),
        other_local.to_str().unwrap(),
    ])
    .expect(0);
    let moved = std::fs::read(&other_local).unwrap();
    let tampered: Vec<(&str, Vec<u8>)> = vec![
        (
            "edited, old signature",
            serde_json::to_vec(&resigned).unwrap(),
        ),
        ("unsigned", unsigned),
        ("another action's record", moved),
    ];
    for (how, bytes) in tampered {
        put(
            &s3,
            &scratch,
            name.strip_prefix("cache/").unwrap_or(&name),
            &bytes,
        );
        let pr = workspace(1000);
        let run = worker(&pr, &s3, &key, &["build", "--remote-cache", &cache]).expect(0);
        assert_eq!(
            run.stderr.matches("warning: remote cache").count(),
            1,
            "{how}: {}",
            run.stderr
        );
        run.stderr_has("it is ignored and the action runs here");
        run.stderr_has("genrule //tool:stamp");
        let out = std::fs::read_to_string(pr.path("kiln-out/tool/stamp.txt")).unwrap();
        assert_eq!(out, "ONE\n", "{how}");
        let listing = e2e::sh("tar xzOf kiln-out/tool/big.tar.gz", &pr.root);
        assert!(
            !listing.stdout.contains("EVIL"),
            "{how}: the evil blob reached the bundle"
        );
    }
    // Properly signed, by a key nobody trusts, is no better.
    let own_key = release::SecretKey::parse(&std::fs::read_to_string(&own).unwrap()).unwrap();
    let action = name.rsplit('/').next().unwrap();
    let mut signed = format!("kiln-cache-record-v1\0{action}\0").into_bytes();
    signed.extend_from_slice(record.as_bytes());
    let forged = serde_json::json!({
        "schema": 1,
        "record": record,
        "signature": own_key.sign(&signed),
    });
    put(
        &s3,
        &scratch,
        name.strip_prefix("cache/").unwrap_or(&name),
        forged.to_string().as_bytes(),
    );
    let pr = workspace(1000);
    let run = worker(&pr, &s3, &key, &["build", "--remote-cache", &cache]).expect(0);
    run.stderr_has("which is not among the trusted keys");
    run.stderr_has("genrule //tool:stamp");
    assert_eq!(
        std::fs::read_to_string(pr.path("kiln-out/tool/stamp.txt")).unwrap(),
        "ONE\n"
    );
    // The worker put its genuine record back: the next worker is served again.
    let pr = workspace(1000);
    let run = worker(&pr, &s3, &key, &["build", "--remote-cache", &cache]).expect(0);
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    run.stderr_has("0 action(s) run, 2 from cache");

    // Read mode never writes, whatever WORKSPACE.toml says; and needs no key.
    let before = s3
        .aws(&["s3", "ls", "--recursive", "s3://cache/kiln/"])
        .stdout;
    let pr = workspace(1000);
    pr.write("tool/msg.txt", "pull request\n");
    pr.write(
        "WORKSPACE.toml",
        format!("[workspace]\nname = \"t\"\n[cache]\nurl = \"{cache}\"\nmode = \"read-write\"\n"),
    );
    let run = worker(&pr, &s3, &key, &["build", "--remote-cache-mode", "read"]).expect(0);
    run.stderr_has("genrule //tool:stamp");
    let after = s3
        .aws(&["s3", "ls", "--recursive", "s3://cache/kiln/"])
        .stdout;
    assert_eq!(
        before.lines().count(),
        after.lines().count(),
        "read mode wrote:\n{after}"
    );
    // The flag in the other position, and through the environment: the same.
    let run = pr
        .command(&["--remote-cache-mode=read", "build", "//tool:all"])
        .envs(s3.env())
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0));
    let run = pr
        .command(&["build"])
        .envs(s3.env())
        .env("KILN_REMOTE_CACHE_MODE", "read")
        .env("KILN_CACHE_SIGNING_KEY", &key)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0));
    let after = s3
        .aws(&["s3", "ls", "--recursive", "s3://cache/kiln/"])
        .stdout;
    assert_eq!(
        before.lines().count(),
        after.lines().count(),
        "read mode wrote:\n{after}"
    );
}
