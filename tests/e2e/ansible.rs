//! The Ansible module `kiln.tools.kiln_fetch` (contrib/ansible), run by a real
//! ansible-core (ci/test installs it from PyPI) in real playbooks against localhost
//! (connection local), on a file store and a scratch `--root`: first run changed,
//! second ok and unchanged, check mode reports the change and touches nothing, diff
//! mode shows the builds, a tampered build fails the task with kiln-fetch's message,
//! a notified handler runs only on a change, and bad options fail before kiln-fetch
//! runs. The collection builds with `ansible-galaxy collection build` and its
//! documentation renders with `ansible-doc`.

use std::path::{Path, PathBuf};
use std::process::Command;

use e2e::{Run, Ws, bin, repo_root, sh};

struct Play {
    ws: Ws,
    dir: PathBuf,
    config: PathBuf,
    root: PathBuf,
    handler_log: PathBuf,
}

impl Play {
    fn new() -> Play {
        let ws = Ws::new();
        ws.write("WORKSPACE.toml", "[workspace]\nname = \"ans\"\n")
            .write(
                "tool/BUILD.toml",
                "[[wrapper]]\nname = \"greet-tool\"\nsrc = \"greet.sh\"\ndata = [\"msg.txt\"]\n\n[[bundle]]\nname = \"greet\"\nkind = \"tool\"\nbinaries = [\":greet-tool\"]\n",
            )
            .write_exec(
                "tool/greet.sh",
                "#!/bin/sh\ncat \"$RUNFILES_DIR/_main/tool/msg.txt\"\n",
            );
        let (key, public) = ws.keygen("ci.key");
        for (n, msg) in [(1, "one"), (2, "two"), (3, "three")] {
            ws.write("tool/msg.txt", format!("{msg}\n"));
            ws.kiln(&[
                "publish",
                "--build-number",
                &n.to_string(),
                "--signing-key",
                key.to_str().unwrap(),
            ])
            .expect(0);
        }
        let dir = ws.tmp.path().join("play");
        let collections = dir.join("collections/ansible_collections/kiln");
        std::fs::create_dir_all(&collections).unwrap();
        std::os::unix::fs::symlink(
            repo_root().join("contrib/ansible"),
            collections.join("tools"),
        )
        .unwrap();
        let root = ws.tmp.path().join("host");
        let config = ws.tmp.path().join("fetch.toml");
        std::fs::write(
            &config,
            format!(
                "store = \"{}\"\nroot = \"{}\"\ntrusted_keys = [\"{public}\"]\n",
                ws.path(".kiln/store").display(),
                root.display()
            ),
        )
        .unwrap();
        let handler_log = ws.tmp.path().join("handler.log");
        Play {
            ws,
            dir,
            config,
            root,
            handler_log,
        }
    }

    /// A playbook of one kiln_fetch task with `options`, notifying a handler that
    /// appends a line to `handler_log`.
    fn playbook(&self, name: &str, options: &str) -> PathBuf {
        let path = self.dir.join(format!("{name}.yml"));
        std::fs::write(
            &path,
            format!(
                r#"- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: greet
      kiln.tools.kiln_fetch:
        name: greet
        config: {config}
        executable: {exe}
{options}
      notify: greet changed
  handlers:
    - name: greet changed
      ansible.builtin.shell: echo changed >> {log}
"#,
                config = self.config.display(),
                exe = bin("kiln-fetch").display(),
                log = self.handler_log.display(),
                options = options
                    .lines()
                    .map(|l| format!("        {l}\n"))
                    .collect::<String>()
                    .trim_end(),
            ),
        )
        .unwrap();
        path
    }

    fn ansible(&self, program: &str, args: &[&str]) -> Run {
        let out = Command::new(program)
            .args(args)
            .current_dir(&self.dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.ws.tmp.path().join("home"))
            .env("ANSIBLE_COLLECTIONS_PATH", self.dir.join("collections"))
            .env("ANSIBLE_LOCAL_TEMP", self.dir.join("tmp-local"))
            .env("ANSIBLE_REMOTE_TEMP", self.dir.join("tmp-remote"))
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_RETRY_FILES_ENABLED", "0")
            .env("LANG", "C.UTF-8")
            .output()
            .unwrap_or_else(|e| panic!("{program} (ci/test installs ansible-core): {e}"));
        Run::from(out)
    }

    fn play(&self, book: &Path, extra: &[&str]) -> Run {
        let mut args = vec![
            "-i",
            "localhost,",
            "-c",
            "local",
            // The Python running ansible-playbook runs the module too (a pyenv shim
            // found by discovery may name a version that is not installed).
            "-e",
            "ansible_python_interpreter={{ ansible_playbook_python }}",
        ];
        args.extend_from_slice(extra);
        args.push(book.to_str().unwrap());
        self.ansible("ansible-playbook", &args)
    }

    fn current(&self) -> Option<String> {
        std::fs::read_link(self.root.join("opt/kiln/greet/current"))
            .ok()
            .map(|t| t.to_string_lossy().into_owned())
    }

    fn handler_runs(&self) -> usize {
        std::fs::read_to_string(&self.handler_log)
            .map(|s| s.lines().count())
            .unwrap_or(0)
    }
}

/// `ok=N changed=M failed=F` of the recap.
fn recap(run: &Run) -> (usize, usize, usize) {
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("localhost") && l.contains("ok="))
        .unwrap_or_else(|| panic!("no recap\n{}\n{}", run.stdout, run.stderr));
    let field = |k: &str| -> usize {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{k}=")))
            .and_then(|n| n.parse().ok())
            .unwrap()
    };
    (field("ok"), field("changed"), field("failed"))
}

#[test]
fn a_playbook_installs_reports_changed_truthfully_and_notifies_only_on_change() {
    let p = Play::new();
    let v1 = p.playbook("v1", "version: 1");
    // Check mode: the change is reported, nothing is touched, no handler runs.
    let check = p.play(&v1, &["--check", "--diff"]).expect(0);
    assert_eq!(recap(&check).1, 1, "{}", check.stdout);
    check.stdout_has("greet build 1");
    assert_eq!(p.current(), None, "check mode installed nothing");
    assert!(!p.root.join("opt/kiln/greet").exists());
    assert_eq!(p.handler_runs(), 0);
    // The first run changes the host and runs the handler once.
    let first = p.play(&v1, &[]).expect(0);
    assert_eq!(
        recap(&first),
        (2, 2, 0),
        "task and handler changed\n{}",
        first.stdout
    );
    assert_eq!(p.current().as_deref(), Some("1"));
    assert_eq!(p.handler_runs(), 1);
    let out = Command::new(p.root.join("usr/local/bin/greet-tool"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "one\n");
    // The second is ok, unchanged, no handler.
    let second = p.play(&v1, &[]).expect(0);
    assert_eq!(recap(&second), (1, 0, 0), "{}", second.stdout);
    assert_eq!(p.handler_runs(), 1);
    // Diff mode shows from -> to.
    let v2 = p.playbook("v2", "version: 2");
    let diff = p.play(&v2, &["--check", "--diff"]).expect(0);
    diff.stdout_has("-greet build 1");
    diff.stdout_has("+greet build 2");
    assert_eq!(p.current().as_deref(), Some("1"));
    p.play(&v2, &[]).expect(0);
    assert_eq!((p.current().as_deref(), p.handler_runs()), (Some("2"), 2));

    // Rolled back, then absent.
    let back = p.playbook("back", "state: rolled_back");
    let r = p.play(&back, &[]).expect(0);
    assert_eq!(recap(&r).1, 2, "{}", r.stdout);
    assert_eq!(p.current().as_deref(), Some("1"));
    let gone = p.playbook("gone", "state: absent");
    let r = p.play(&gone, &["--check"]).expect(0);
    assert_eq!(recap(&r).1, 1);
    assert_eq!(
        p.current().as_deref(),
        Some("1"),
        "check mode removed nothing"
    );
    p.play(&gone, &[]).expect(0);
    assert!(!p.root.join("opt/kiln/greet").exists());
    let r = p.play(&gone, &[]).expect(0);
    assert_eq!(recap(&r).1, 0, "removing it again changes nothing");
}

#[test]
fn a_tampered_build_fails_the_task_with_kiln_fetchs_message() {
    let p = Play::new();
    let bundle = p.ws.path(".kiln/store/greet/3/bundle.tar.gz");
    let mut bytes = std::fs::read(&bundle).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&bundle, bytes).unwrap();
    let v3 = p.playbook("v3", "version: 3");
    let run = p.play(&v3, &[]).expect(2);
    assert_eq!(recap(&run).2, 1, "{}", run.stdout);
    run.stdout_has("does not match its release record");
    assert_eq!(p.current(), None);
    assert_eq!(p.handler_runs(), 0);
    // On a host that runs build 1, the failed task says so: `previous` is what still runs.
    let v1 = p.playbook("v1", "version: 1");
    p.play(&v1, &[]).expect(0);
    let run = p.play(&v3, &[]).expect(2);
    run.stdout_has("does not match its release record");
    run.stdout_has("\"previous\": 1");
    assert_eq!(p.current().as_deref(), Some("1"));
}

#[test]
fn bad_options_fail_before_kiln_fetch_runs() {
    let p = Play::new();
    for (name, options, says) in [
        ("both", "version: 1\nchannel: prod", "mutually exclusive"),
        ("neither", "state: present", "missing"),
        ("word", "version: one", "int"),
        (
            "absent-version",
            "state: absent\nversion: 1",
            "takes no version",
        ),
        ("zero", "version: 0", "build number"),
    ] {
        let book = p.playbook(name, options);
        let run = p.play(&book, &[]).expect(2);
        assert_eq!(recap(&run).2, 1, "{name}: {}", run.stdout);
        run.stdout_has(says);
        assert!(!p.root.exists(), "{name}: kiln-fetch never ran");
    }
}

#[test]
fn the_collection_builds_and_documents_itself() {
    let p = Play::new();
    let out = p.ws.tmp.path().join("galaxy");
    let src = repo_root().join("contrib/ansible");
    p.ansible(
        "ansible-galaxy",
        &[
            "collection",
            "build",
            src.to_str().unwrap(),
            "--output-path",
            out.to_str().unwrap(),
        ],
    )
    .expect(0);
    assert!(out.join("kiln-tools-0.1.0.tar.gz").is_file());
    let doc = p
        .ansible("ansible-doc", &["kiln.tools.kiln_fetch"])
        .expect(0);
    doc.stdout_has("kiln-fetch");
    doc.stdout_has("changed");
    doc.stdout_has("rolled_back");
}

#[test]
fn the_module_refuses_what_kiln_fetch_would_misread_and_checks_like_the_real_run() {
    let p = Play::new();
    // A name that looks like a flag never reaches kiln-fetch.
    let book = p.dir.join("flag.yml");
    let text = std::fs::read_to_string(p.playbook("tmp", "version: 1"))
        .unwrap()
        .replace(
            "name: greet\n        config",
            "name: \"--help\"\n        config",
        );
    std::fs::write(&book, text).unwrap();
    let run = p.play(&book, &[]).expect(2);
    run.stdout_has("is not a package name");
    // Check mode for a rollback asks the store as the real run would: a build it
    // does not have fails in check mode too.
    p.play(&p.playbook("v1", "version: 1"), &[]).expect(0);
    let back = p.playbook("back99", "state: rolled_back\nversion: 99");
    let check = p.play(&back, &["--check"]).expect(2);
    check.stdout_has("build 99 of greet is not in");
    assert_eq!(p.current().as_deref(), Some("1"));
    let none = p.playbook("back", "state: rolled_back");
    p.play(&none, &["--check"])
        .expect(2)
        .stdout_has("no build to roll back to");
    // An executable whose exit code says failure fails the task, whatever it printed.
    let liar = p.ws.tmp.path().join("liar");
    std::fs::write(
        &liar,
        "#!/bin/sh\necho '{\"changed\": true, \"failed\": false}'\nexit 1\n",
    )
    .unwrap();
    sh(&format!("chmod 755 {}", liar.display()), p.ws.tmp.path());
    let text = std::fs::read_to_string(p.playbook("tmp2", "version: 1"))
        .unwrap()
        .replace(
            &bin("kiln-fetch").display().to_string(),
            &liar.display().to_string(),
        );
    let book = p.dir.join("liar.yml");
    std::fs::write(&book, text).unwrap();
    let run = p.play(&book, &[]).expect(2);
    assert_eq!(recap(&run).2, 1, "{}", run.stdout);
}
