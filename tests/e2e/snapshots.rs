//! Snapshots (insta) of what the main commands of both binaries print, human and JSON,
//! with the paths of the test's scratch directories, hashes, keys, sizes and times
//! redacted. A change to any output shows up here as a diff to review;
//! `INSTA_UPDATE=always cargo test -p e2e --test snapshots` accepts it (CI never
//! writes snapshots).

use std::process::Command;

use e2e::{Run, Ws};

fn filters(ws: &Ws) -> Vec<(String, String)> {
    vec![
        (
            regex_escape(&ws.tmp.path().display().to_string()),
            "[TMP]".into(),
        ),
        (r"\b[0-9a-f]{64}\b".into(), "[SHA256]".into()),
        (r"\b[0-9a-f]{16}\b".into(), "[KEYID]".into()),
        (r"kiln-ed25519:[A-Za-z0-9+/=]+".into(), "[KEY]".into()),
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ".into(), "[TIME]".into()),
        (r"in \d+\.\ds".into(), "in [SECS]".into()),
        (
            r#""seconds": [0-9.e-]+"#.into(),
            r#""seconds": [SECS]"#.into(),
        ),
        (
            r#""(size|bytes_before|bytes_after)": \d+"#.into(),
            r#""$1": [SIZE]"#.into(),
        ),
        (r"by [^ :]+@[^ :]+:".into(), "by [WHO]:".into()),
        (r"(?m)^(\d+ +\[SHA256\] +)\d+".into(), "$1[SIZE]".into()),
        (r"\(0\.\d+s\)".into(), "([SECS])".into()),
    ]
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '/' || c == '_' || c == '-' {
                c.to_string()
            } else {
                format!("\\{c}")
            }
        })
        .collect()
}

/// `exit`, stdout and stderr of a run, as one text.
fn shown(run: &Run) -> String {
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        run.code, run.stdout, run.stderr
    )
}

fn workspace() -> Ws {
    let ws = Ws::new();
    ws.write("WORKSPACE.toml", "[workspace]\nname = \"snap\"\n");
    ws.write("tool/msg.txt", "hello\n");
    ws.write_exec(
        "tool/greet.sh",
        "#!/bin/sh\ncat \"$RUNFILES_DIR/_main/tool/msg.txt\"\n",
    );
    ws.write_exec("tool/check.sh", "#!/bin/sh\ntest -s tool/msg.txt\n");
    ws.write(
        "tool/BUILD.toml",
        r#"[[wrapper]]
name = "greet"
src = "greet.sh"
data = ["msg.txt"]

[[test]]
name = "check"
src = "check.sh"
data = ["msg.txt"]

[[bundle]]
name = "greet-bundle"
kind = "tool"
binaries = [":greet"]
"#,
    );
    ws
}

#[test]
fn kiln_main_commands() {
    let ws = workspace();
    let key = ws.tmp.path().join("ci.key");
    let key = key.to_str().unwrap().to_string();
    let steps: Vec<(&str, Vec<&str>)> = vec![
        ("build", vec!["build"]),
        ("build_again_json", vec!["build", "--json"]),
        ("test", vec!["test"]),
        ("test_cached_json", vec!["test", "--json"]),
        ("query", vec!["query", "//..."]),
        (
            "query_dot",
            vec!["query", "deps", "//tool:greet-bundle", "--output", "dot"],
        ),
        ("keygen", vec!["keygen", "--out", &key]),
        (
            "publish",
            vec!["publish", "--build-number", "1", "--signing-key", &key],
        ),
        (
            "publish_again_json",
            vec![
                "publish",
                "--build-number",
                "1",
                "--signing-key",
                &key,
                "--json",
            ],
        ),
        (
            "promote",
            vec![
                "promote",
                "greet-bundle",
                "1",
                "--channel",
                "prod",
                "--signing-key",
                &key,
                "--reason",
                "first",
            ],
        ),
        ("releases", vec!["releases", "greet-bundle"]),
        ("releases_json", vec!["releases", "greet-bundle", "--json"]),
        ("bad_label", vec!["build", "//tool:nope"]),
        ("bad_label_json", vec!["build", "//tool:nope", "--json"]),
        ("clean", vec!["clean"]),
        ("clean_again_json", vec!["clean", "--json"]),
    ];
    let mut settings = insta::Settings::clone_current();
    for (re, with) in filters(&ws) {
        settings.add_filter(&re, with);
    }
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for (name, args) in steps {
            let run = ws.kiln(&args);
            insta::assert_snapshot!(format!("kiln_{name}"), shown(&run));
        }
    });
}

#[test]
fn kiln_fetch_main_commands() {
    let ws = workspace();
    ws.kiln(&["publish", "--build-number", "1"]).expect(0);
    ws.write("tool/msg.txt", "hello again\n");
    ws.kiln(&["publish", "--build-number", "2"]).expect(0);
    let host = ws.tmp.path().join("host");
    let config = ws.tmp.path().join("fetch.toml");
    std::fs::write(
        &config,
        format!(
            "store = \"{}\"\nroot = \"{}\"\nallow_unsigned = true\n",
            ws.path(".kiln/store").display(),
            host.display()
        ),
    )
    .unwrap();
    let fetch = |args: &[&str]| {
        Run::from(
            Command::new(e2e::bin("kiln-fetch"))
                .arg("--config")
                .arg(&config)
                .args(args)
                .env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .output()
                .unwrap(),
        )
    };
    let steps: Vec<(&str, Vec<&str>)> = vec![
        ("install", vec!["install", "greet-bundle", "--version", "1"]),
        (
            "install_again_json",
            vec!["install", "greet-bundle", "--version", "1", "--json"],
        ),
        (
            "install_2_json",
            vec!["install", "greet-bundle", "--version", "2", "--json"],
        ),
        ("list", vec!["list"]),
        ("list_json", vec!["list", "--json"]),
        ("verify", vec!["verify", "greet-bundle"]),
        ("rollback", vec!["rollback", "greet-bundle"]),
        (
            "missing_build_json",
            vec!["install", "greet-bundle", "--version", "9", "--json"],
        ),
        ("usage_json", vec!["install", "--json"]),
        ("gc_json", vec!["gc", "--keep", "1", "--json"]),
    ];
    let mut settings = insta::Settings::clone_current();
    for (re, with) in filters(&ws) {
        settings.add_filter(&re, with);
    }
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for (name, args) in steps {
            let run = fetch(&args);
            insta::assert_snapshot!(format!("kiln_fetch_{name}"), shown(&run));
        }
    });
}
