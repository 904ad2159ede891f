//! Trust v2, attacked as someone with write access to the store but not the signing
//! key would: the publisher decides nothing from what it cannot verify, hosts never go
//! back to an older pointer (not even one with the same sequence), the channel history
//! is a signed hash chain `kiln releases --verify` checks, and no output ever carries a
//! secret key. Each attack runs on the file store and on s3s-fs.

use std::path::{Path, PathBuf};

use e2e::s3::S3Server;
use e2e::{Run, Ws};

/// The store's objects, as the attacker reaches them: a directory, or a bucket through
/// the AWS CLI.
trait Objects {
    fn get(&self, key: &str) -> Option<Vec<u8>>;
    fn put(&self, key: &str, bytes: &[u8]);
    fn delete(&self, key: &str);
}

struct Dir(PathBuf);

impl Objects for Dir {
    fn get(&self, key: &str) -> Option<Vec<u8>> {
        std::fs::read(self.0.join(key)).ok()
    }
    fn put(&self, key: &str, bytes: &[u8]) {
        let p = self.0.join(key);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    fn delete(&self, key: &str) {
        let _ = std::fs::remove_file(self.0.join(key));
    }
}

struct Bucket<'a> {
    s3: &'a S3Server,
    bucket: &'a str,
    scratch: PathBuf,
}

impl Objects for Bucket<'_> {
    fn get(&self, key: &str) -> Option<Vec<u8>> {
        let local = self.scratch.join("get");
        let _ = std::fs::remove_file(&local);
        let r = self.s3.aws(&[
            "s3",
            "cp",
            &format!("s3://{}/{key}", self.bucket),
            local.to_str().unwrap(),
        ]);
        (r.code == 0).then(|| std::fs::read(&local).unwrap())
    }
    fn put(&self, key: &str, bytes: &[u8]) {
        let local = self.scratch.join("put");
        std::fs::write(&local, bytes).unwrap();
        self.s3
            .aws(&[
                "s3",
                "cp",
                local.to_str().unwrap(),
                &format!("s3://{}/{key}", self.bucket),
            ])
            .expect(0);
    }
    fn delete(&self, key: &str) {
        self.s3
            .aws(&["s3", "rm", &format!("s3://{}/{key}", self.bucket)])
            .expect(0);
    }
}

/// CI: a workspace publishing the tool `hello`, signed with its key.
struct Ci {
    ws: Ws,
    key: PathBuf,
    public: String,
    store: String,
    env: Vec<(&'static str, String)>,
}

impl Ci {
    fn new(store: String, env: Vec<(&'static str, String)>) -> Ci {
        let ws = Ws::new();
        ws.write("WORKSPACE.toml", "[workspace]\nname = \"t\"\n")
            .write(
                "hello/BUILD.toml",
                "[[wrapper]]\nname = \"say\"\nsrc = \"say.sh\"\ndata = [\"msg.txt\"]\n[[bundle]]\nname = \"hello\"\nkind = \"tool\"\nbinaries = [\":say\"]\n",
            )
            .write_exec("hello/say.sh", "#!/bin/sh\ncat \"$RUNFILES_DIR/_main/hello/msg.txt\"\n");
        let (key, public) = ws.keygen("ci.key");
        Ci {
            ws,
            key,
            public,
            store,
            env,
        }
    }

    fn run(&self, args: &[&str], key: Option<&Path>) -> Run {
        let mut c = self.ws.command(args);
        c.envs(self.env.clone()).env("KILN_STORE", &self.store);
        if let Some(k) = key {
            c.env("KILN_SIGNING_KEY", k);
        }
        Run::from(c.output().unwrap())
    }

    fn kiln(&self, args: &[&str]) -> Run {
        self.run(args, Some(&self.key))
    }

    fn publish(&self, build: u64) {
        self.ws.write("hello/msg.txt", format!("build {build}\n"));
        self.kiln(&["publish", "--build-number", &build.to_string()])
            .expect(0);
    }

    fn promote(&self, build: u64) -> Run {
        self.kiln(&["promote", "hello", &build.to_string(), "--channel", "prod"])
    }
}

/// A host following `prod`.
struct Host {
    tmp: tempfile::TempDir,
    config: PathBuf,
    env: Vec<(&'static str, String)>,
}

impl Host {
    fn new(ci: &Ci) -> Host {
        let tmp = tempfile::tempdir().unwrap();
        let config = tmp.path().join("fetch.toml");
        std::fs::write(
            &config,
            format!(
                "store = \"{}\"\nroot = \"{}\"\ntrusted_keys = [\"{}\"]\n",
                ci.store,
                tmp.path().join("root").display(),
                ci.public
            ),
        )
        .unwrap();
        Host {
            tmp,
            config,
            env: ci.env.clone(),
        }
    }

    fn install(&self) -> Run {
        Run::from(
            std::process::Command::new(e2e::bin("kiln-fetch"))
                .arg("--config")
                .arg(&self.config)
                .args(["install", "hello", "--channel", "prod"])
                .env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .envs(self.env.clone())
                .output()
                .unwrap(),
        )
    }

    fn runs(&self) -> String {
        let out = e2e::sh(
            &self
                .tmp
                .path()
                .join("root/usr/local/bin/say")
                .display()
                .to_string(),
            Path::new("/"),
        );
        out.stdout.trim().to_string()
    }
}

const POINTER: &str = "hello/channels/prod.json";

fn history(seq: u64) -> String {
    format!("hello/channels/prod/history/{seq:012}.json")
}

fn attacks(ci: &Ci, objects: &dyn Objects) {
    for b in 1..=4 {
        ci.publish(b);
    }
    // Equal-sequence rollback: the attacker rewinds the channel and its history.
    ci.promote(1).expect(0);
    let p1 = objects.get(POINTER).unwrap();
    ci.promote(2).expect(0).stdout_has("(sequence 2)");
    let p2 = objects.get(POINTER).unwrap();
    let host_a = Host::new(ci);
    host_a.install().expect(0);
    assert_eq!(host_a.runs(), "build 2");
    objects.put(POINTER, &p1);
    objects.delete(&history(2));
    objects.delete(&format!("{}.sig", history(2)));
    ci.promote(3).expect(0);
    let host_b = Host::new(ci);
    host_b.install().expect(0);
    assert_eq!(host_b.runs(), "build 3");
    // Host A holds sequence 2 (build 2): a different sequence-2 pointer is refused.
    host_a.install().expect(1).stderr_has(
        "the sequence this host already followed, but it is not the pointer it accepted",
    );
    assert_eq!(host_a.runs(), "build 2");
    // The saved sequence-2 pointer to build 2, replayed: host B stays on build 3.
    objects.put(POINTER, &p2);
    host_b.install().expect(1).stderr_has("a replayed pointer");
    assert_eq!(host_b.runs(), "build 3", "no host installs an older build");
    // CI's next promote moves past all of it; both hosts follow.
    objects.put(POINTER, &p2);
    ci.promote(3).expect(0);
    host_a.install().expect(0);
    host_b.install().expect(0);
    assert_eq!(
        (host_a.runs(), host_b.runs()),
        ("build 3".into(), "build 3".into())
    );

    // Sequence wrap: junk at the highest sequence decides nothing.
    objects.put(&history(u64::MAX), b"junk");
    let run = ci.promote(4).expect(0);
    assert!(!run.stdout.contains("(sequence 0)"), "{}", run.stdout);
    host_a.install().expect(0);
    assert_eq!(host_a.runs(), "build 4");
    objects.delete(&history(u64::MAX));

    // False "unchanged": an unsigned pointer naming the build CI promotes.
    let good = objects.get(POINTER).unwrap();
    let planted = String::from_utf8(good.clone())
        .unwrap()
        .replace("\"build\": 4", "\"build\": 2");
    objects.put(POINTER, planted.as_bytes());
    ci.promote(2)
        .expect(1)
        .stderr_has("hello/channels/prod.json is not signed by the key in use");
    objects.put(POINTER, &good);
    // ...and an unsigned release record at the number CI publishes next.
    let rec = String::from_utf8(objects.get("hello/4/release.json").unwrap())
        .unwrap()
        .replace("\"build\": 4", "\"build\": 5");
    objects.put("hello/5/release.json", rec.as_bytes());
    ci.ws.write("hello/msg.txt", "build 5\n");
    ci.kiln(&["publish", "--build-number", "5"])
        .expect(1)
        .stderr_has("hello/5/release.json is not signed by the key in use (it has no signature)");
    objects.delete("hello/5/release.json");

    // Another key: re-publishing build 4 says so, never "unchanged".
    let other = ci.ws.tmp.path().join("other.key");
    ci.ws
        .kiln(&["keygen", "--out", other.to_str().unwrap()])
        .expect(0);
    ci.ws.write("hello/msg.txt", "build 4\n");
    ci.run(&["publish", "--build-number", "4"], Some(&other))
        .expect(1)
        .stderr_has("is not among the trusted keys")
        .stderr_has("publish under a new build number");
    // A promote without a key onto a signed channel is refused, unless said so.
    ci.run(&["promote", "hello", "3", "--channel", "prod"], None)
        .expect(2)
        .stderr_has("this promote has no key");
    ci.run(
        &[
            "promote",
            "hello",
            "3",
            "--channel",
            "prod",
            "--allow-unsigned",
        ],
        None,
    )
    .expect(0);
    // What it wrote is unsigned: the next signed promote decides nothing from it, and
    // says what to do.
    ci.promote(4)
        .expect(1)
        .stderr_has("hello/channels/prod.json is not signed by the key in use")
        .stderr_has("remove it and promote again");
    objects.delete(POINTER);
    // Its history entry too, as the next refusal says.
    ci.promote(4)
        .expect(1)
        .stderr_has("is not signed by the key in use (it was written without this key)");
    objects.delete(&history(5));
    ci.promote(4).expect(0);
    host_a.install().expect(0);
    assert_eq!(host_a.runs(), "build 4");
}

/// A channel whose whole history CI signed: `--verify` passes, then finds a deleted,
/// an edited and a reordered entry.
fn history_chain(ci: &Ci, objects: &dyn Objects) {
    for b in 1..=3 {
        ci.publish(b);
        ci.promote(b).expect(0);
    }
    let verify = || {
        ci.run(
            &["releases", "hello", "--verify", "--trusted-key", &ci.public],
            None,
        )
    };
    verify().expect(0).stdout_has(
        "3 build(s) and channels [prod (3 moves)]: every signature and each history chain verify",
    );
    // Edited: move 2 rewritten (signatures are named by the bytes they cover, so an
    // edited entry has none).
    let h2 = objects.get(&history(2)).unwrap();
    let edited = String::from_utf8(h2.clone())
        .unwrap()
        .replace("\"to\": 2", "\"to\": 1");
    objects.put(&history(2), edited.as_bytes());
    verify()
        .expect(1)
        .stderr_has(&history(2))
        .stderr_has("it has no signature");
    objects.put(&history(2), &h2);
    verify().expect(0);
    // Reordered: entries 1 and 2 swapped (each genuinely signed).
    let h1 = objects.get(&history(1)).unwrap();
    objects.put(&history(1), &h2);
    objects.put(&history(2), &h1);
    verify().expect(1).stderr_has(&history(1));
    objects.put(&history(1), &h1);
    objects.put(&history(2), &h2);
    verify().expect(0);
    // Deleted: move 2 gone.
    objects.delete(&history(2));
    verify()
        .expect(1)
        .stderr_has(&history(2))
        .stderr_has("this history entry is missing");
    objects.put(&history(2), &h2);
    // The newest deleted, the pointer left: named too.
    let h3 = objects.get(&history(3)).unwrap();
    objects.delete(&history(3));
    verify().expect(1).stderr_has("the pointer was put back");
    objects.put(&history(3), &h3);
    verify().expect(0);
}

#[test]
fn the_publisher_trusts_only_what_it_signed_on_the_file_store() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    std::fs::create_dir_all(&dir).unwrap();
    let ci = Ci::new(format!("file://{}", dir.display()), vec![]);
    attacks(&ci, &Dir(dir.clone()));
    let dir2 = tmp.path().join("store2");
    std::fs::create_dir_all(&dir2).unwrap();
    let ci = Ci::new(format!("file://{}", dir2.display()), vec![]);
    history_chain(&ci, &Dir(dir2));
}

#[test]
fn the_publisher_trusts_only_what_it_signed_on_s3() {
    let tmp = tempfile::tempdir().unwrap();
    let s3 = S3Server::start(&tmp.path().join("s3"), &["tools", "chain"]);
    let scratch = tmp.path().join("scratch");
    std::fs::create_dir_all(&scratch).unwrap();
    let ci = Ci::new(s3.url("tools"), s3.env());
    let tools = Bucket {
        s3: &s3,
        bucket: "tools",
        scratch: scratch.clone(),
    };
    attacks(&ci, &tools);
    // A record far larger than any real one is refused, not read.
    tools.put("hello/1/release.json", &vec![b' '; 5 << 20]);
    ci.kiln(&["releases", "hello"])
        .expect(1)
        .stderr_has("more than the 4194304 a record may have");
    let ci = Ci::new(s3.url("chain"), s3.env());
    history_chain(
        &ci,
        &Bucket {
            s3: &s3,
            bucket: "chain",
            scratch,
        },
    );
}

#[test]
fn records_larger_than_any_real_one_are_refused_not_read() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    std::fs::create_dir_all(&dir).unwrap();
    let ci = Ci::new(format!("file://{}", dir.display()), vec![]);
    ci.publish(1);
    ci.promote(1).expect(0);
    let big = vec![b' '; 5 << 20];
    std::fs::write(dir.join("hello/1/release.json"), &big).unwrap();
    ci.kiln(&["releases", "hello"])
        .expect(1)
        .stderr_has("more than the 4194304 a record may have");
    Host::new(&ci)
        .install()
        .expect(1)
        .stderr_has("more than the 4194304 a record may have");
}

/// Arguments and environment of one run.
type Case<'a> = (Vec<&'a str>, Vec<(&'a str, String)>);

#[test]
fn no_output_ever_carries_a_secret_key() {
    let ws = Ws::new();
    ws.write("WORKSPACE.toml", "[workspace]\nname = \"t\"\n");
    let key = ws.tmp.path().join("ci.key");
    ws.kiln(&["keygen", "--out", key.to_str().unwrap()])
        .expect(0);
    let secret = std::fs::read_to_string(&key).unwrap().trim().to_string();
    let body = secret
        .strip_prefix("kiln-ed25519-secret:")
        .unwrap()
        .to_string();
    let mangled = format!("{}!", &secret[..secret.len() - 2]);
    let key_path = key.display().to_string();
    let star_secret = format!("*={secret}");
    let cases: Vec<Case> = vec![
        // The key itself where a file name belongs.
        (
            vec![
                "promote",
                "x",
                "1",
                "--channel",
                "prod",
                "--signing-key",
                &secret,
            ],
            vec![],
        ),
        (
            vec!["publish", "--build-number", "1", "--signing-key", &secret],
            vec![],
        ),
        // A malformed key in the variable, and in a file.
        (
            vec!["promote", "x", "1", "--channel", "prod"],
            vec![("KILN_SIGNING_KEY", mangled.clone())],
        ),
        (
            vec!["promote", "x", "1", "--channel", "prod"],
            vec![("KILN_SIGNING_KEY", body.clone())],
        ),
        (
            vec!["build"],
            vec![
                ("KILN_CACHE_SIGNING_KEY", mangled.clone()),
                ("KILN_REMOTE_CACHE", "file:///tmp/nowhere".into()),
            ],
        ),
        (
            vec!["releases", "x", "--verify"],
            vec![("KILN_SIGNING_KEY", mangled.clone())],
        ),
        // The root key: inline, malformed, and a secret pasted where a public key goes.
        (
            vec!["keys", "--root-key", &secret, "--grant", "*=x"],
            vec![],
        ),
        (
            vec!["keys", "--grant", "*=x"],
            vec![("KILN_ROOT_KEY", mangled.clone())],
        ),
        (
            vec!["keys", "--grant", &secret],
            vec![("KILN_ROOT_KEY", key_path.clone())],
        ),
        (
            vec!["keys", "--grant", &star_secret],
            vec![("KILN_ROOT_KEY", key_path.clone())],
        ),
    ];
    let bad_file = ws.tmp.path().join("bad.key");
    std::fs::write(&bad_file, &mangled).unwrap();
    let bad_file = bad_file.display().to_string();
    let mut all = cases;
    all.push((
        vec![
            "promote",
            "x",
            "1",
            "--channel",
            "prod",
            "--signing-key",
            &bad_file,
        ],
        vec![],
    ));
    for (args, env) in all {
        for json in [false, true] {
            let mut a = args.clone();
            if json {
                a.insert(0, "--json");
            }
            let out = ws.command(&a).envs(env.clone()).output().unwrap();
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert_ne!(out.status.code(), Some(0), "{a:?}: {text}");
            for needle in [&secret, &body, &mangled, &body[..20].to_string()] {
                assert!(
                    !text.contains(needle.as_str()),
                    "{a:?} {env:?} printed key material:\n{text}"
                );
            }
        }
    }
    // kiln-fetch: a secret pasted into trusted_keys or trusted_root, as a list entry or
    // as a string where a list belongs (the parser's message quotes the value).
    for line in [
        format!("trusted_keys = [\"{secret}\"]"),
        format!("trusted_root = [\"{secret}\"]"),
        format!("trusted_keys = \"{secret}\""),
        format!("allow_unsigned = \"{secret}\""),
    ] {
        let config = ws.tmp.path().join("fetch.toml");
        std::fs::write(&config, format!("store = \"/nowhere\"\n{line}\n")).unwrap();
        for json in [false, true] {
            let mut c = std::process::Command::new(e2e::bin("kiln-fetch"));
            if json {
                c.arg("--json");
            }
            let out = c.arg("--config").arg(&config).arg("list").output().unwrap();
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(out.status.code(), Some(2), "{text}");
            assert!(
                !text.contains(&body[..20]),
                "kiln-fetch printed key material:\n{text}"
            );
        }
    }
}

/// A host that pins only the root: release keys come from the store's keys record,
/// each scoped to packages; rotation and revocation are a new record.
#[test]
fn a_host_that_pins_only_the_root_follows_the_keys_record() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    std::fs::create_dir_all(&dir).unwrap();
    let objects = Dir(dir.clone());
    let ci = Ci::new(format!("file://{}", dir.display()), vec![]);
    let (root, root_pub) = ci.ws.keygen("root.key");
    let (key_b, pub_b) = ci.ws.keygen("b.key");
    let (key_c, pub_c) = ci.ws.keygen("c.key");
    let keys = |grants: &[String], extra: &[&str]| {
        let mut args = vec!["keys", "--root-key", root.to_str().unwrap()];
        for g in grants {
            args.extend(["--grant", g.as_str()]);
        }
        args.extend_from_slice(extra);
        ci.run(&args, None)
    };
    let host = Host::new(&ci);
    std::fs::write(
        &host.config,
        format!(
            "store = \"{}\"\nroot = \"{}\"\ntrusted_root = [\"{root_pub}\"]\n",
            ci.store,
            host.tmp.path().join("root").display()
        ),
    )
    .unwrap();
    let install = |version: &str| {
        Run::from(
            std::process::Command::new(e2e::bin("kiln-fetch"))
                .arg("--config")
                .arg(&host.config)
                .args(["install", "hello", "--version", version])
                .env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .output()
                .unwrap(),
        )
    };
    // No keys record yet: a root-only host installs nothing.
    ci.publish(1);
    install("1").expect(1).stderr_has("there is none");
    // Version 1: CI's key may sign hello; key C only the package "other".
    keys(
        &[format!("hello={}", ci.public), format!("other={pub_c}")],
        &[],
    )
    .expect(0)
    .stdout_has("keys record version 1");
    install("1").expect(0);
    assert_eq!(host.runs(), "build 1");
    // A key scoped to another package cannot sign this one.
    ci.ws.write("hello/msg.txt", "build 2\n");
    ci.run(&["publish", "--build-number", "2"], Some(&key_c))
        .expect(0);
    install("2")
        .expect(1)
        .stderr_has("not among the trusted keys");
    assert_eq!(host.runs(), "build 1");
    // Rotation: version 2 grants key B, and CI's old key is gone.
    let v1 = objects.get("keys.json").unwrap();
    keys(&[format!("hello={pub_b}")], &[])
        .expect(0)
        .stdout_has("version 2");
    ci.ws.write("hello/msg.txt", "build 3\n");
    ci.run(&["publish", "--build-number", "3"], Some(&key_b))
        .expect(0);
    install("3").expect(0);
    assert_eq!(host.runs(), "build 3");
    // The rotated-out key is refused: build 1 was signed by it.
    std::fs::remove_dir_all(host.tmp.path().join("root/opt/kiln/hello/1")).unwrap();
    install("1")
        .expect(1)
        .stderr_has("not among the trusted keys");
    // The old keys record put back: refused as a replay.
    let v2 = objects.get("keys.json").unwrap();
    objects.put("keys.json", &v1);
    install("1")
        .expect(1)
        .stderr_has("not newer than version 2");
    objects.put("keys.json", &v2);
    // A keys record the root did not sign: refused.
    let forged = String::from_utf8(v2.clone())
        .unwrap()
        .replace(&pub_b, &ci.public)
        .replace("\"version\": 2", "\"version\": 9");
    objects.put("keys.json", forged.as_bytes());
    install("1").expect(1).stderr_has("it is not signed");
    objects.put("keys.json", &v2);
    // The store's record cannot be replaced without the root, nor with a lower version.
    keys(&[format!("hello={pub_b}")], &["--version", "2"])
        .expect(2)
        .stderr_has("is not above the store's keys record version 2");
    // An expired keys record is refused.
    keys(&[format!("hello={pub_b}")], &["--expires", "1s"]).expect(0);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    install("1").expect(1).stderr_has("a frozen keys record");
}

/// Genuine signed objects moved to where they do not belong, races between honest
/// promotes, and objects that are not files: each refused or harmless.
#[test]
fn mix_and_match_races_and_odd_objects() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    std::fs::create_dir_all(&dir).unwrap();
    let o = Dir(dir.clone());
    let ci = Ci::new(format!("file://{}", dir.display()), vec![]);
    for b in 1..=4 {
        ci.publish(b);
    }
    ci.promote(1).expect(0);
    ci.kiln(&["promote", "hello", "2", "--channel", "staging"])
        .expect(0);
    // Another channel's genuine pointer (and its signature) copied over prod.
    let prod = o.get(POINTER).unwrap();
    let staging = o.get("hello/channels/staging.json").unwrap();
    o.put(POINTER, &staging);
    for k in std::fs::read_dir(dir.join("hello/channels/staging/sig")).unwrap() {
        let k = k.unwrap();
        o.put(
            &format!(
                "hello/channels/prod/sig/{}",
                k.file_name().to_string_lossy()
            ),
            &std::fs::read(k.path()).unwrap(),
        );
    }
    ci.promote(2)
        .expect(1)
        .stderr_has("is the pointer of hello channel staging, moved here");
    o.put(POINTER, &prod);
    // Build 3's genuine record and signature copied to build 5's place.
    let rec3 = o.get("hello/3/release.json").unwrap();
    o.put("hello/5/release.json", &rec3);
    for k in std::fs::read_dir(dir.join("hello/3/sig")).unwrap() {
        let k = k.unwrap();
        o.put(
            &format!("hello/5/sig/{}", k.file_name().to_string_lossy()),
            &std::fs::read(k.path()).unwrap(),
        );
    }
    ci.ws.write("hello/msg.txt", "build 3\n");
    ci.kiln(&["publish", "--build-number", "5"])
        .expect(1)
        .stderr_has("is the record of hello build 3, moved here");
    let verify = || {
        ci.run(
            &["releases", "hello", "--verify", "--trusted-key", &ci.public],
            None,
        )
    };
    verify().expect(1).stderr_has("moved here");
    o.delete("hello/5/release.json");
    verify().expect(0);
    // Honest promotes racing each other: every one succeeds, the chain stays whole.
    for round in 0..3 {
        let children: Vec<_> = (2..=4)
            .map(|b| {
                let mut c =
                    ci.ws
                        .command(&["promote", "hello", &b.to_string(), "--channel", "prod"]);
                c.env("KILN_STORE", &ci.store)
                    .env("KILN_SIGNING_KEY", &ci.key)
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped());
                c.spawn().unwrap()
            })
            .collect();
        for c in children {
            let out = c.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        verify().expect(0);
    }
    // The pointer deleted: the history is still checked, and the gap named.
    let p = o.get(POINTER).unwrap();
    o.delete(POINTER);
    verify()
        .expect(1)
        .stderr_has("has a history but no pointer");
    o.put(POINTER, &p);
    // A fifo where a record belongs: refused at once, never waited on.
    o.delete(POINTER);
    nix::unistd::mkfifo(
        &dir.join(POINTER),
        nix::sys::stat::Mode::from_bits(0o644).unwrap(),
    )
    .unwrap();
    let start = std::time::Instant::now();
    let run = ci.promote(2);
    assert_ne!(run.code, 0);
    run.stderr_has("not a regular file");
    let host = Host::new(&ci);
    assert_ne!(host.install().code, 0);
    assert!(start.elapsed() < std::time::Duration::from_secs(30));
}
