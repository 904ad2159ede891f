//! The README's tour, run as written: every `$ command` of its `console` blocks runs in
//! a copy of this repository's workspace (with `/tmp/` standing for a scratch
//! directory), in order, and what it prints must be the lines the README shows under
//! it. Hashes, keys, sizes, times and dates are redacted on both sides, and progress
//! lines (`[1/2] genrule …`, printed when stderr is not a terminal) are not shown in
//! the README.

use std::path::Path;

use e2e::{bin, repo_root};

/// The README's console blocks: each command with the lines it prints.
fn tour(readme: &str) -> Vec<(String, Vec<String>)> {
    let mut steps: Vec<(String, Vec<String>)> = Vec::new();
    let mut inside = false;
    for line in readme.lines() {
        if line.trim_start().starts_with("```") {
            inside = line.trim() == "```console";
            continue;
        }
        if !inside {
            continue;
        }
        if let Some(cmd) = line.strip_prefix("$ ") {
            steps.push((cmd.to_string(), Vec::new()));
        } else if let Some(last) = steps.last_mut() {
            last.1.push(line.to_string());
        }
    }
    steps
}

/// A line with what differs run to run replaced.
fn redact(line: &str) -> String {
    let mut out = Vec::new();
    for word in line.split_whitespace() {
        let w = word.trim_end_matches(['…', ';', ',']);
        let hexish = w.len() >= 8 && w.chars().all(|c| c.is_ascii_hexdigit());
        let redacted = if hexish {
            "<hash>".to_string()
        } else if w.starts_with("kiln-ed25519:") {
            "<key>".to_string()
        } else if w.starts_with("file:///") {
            "<url>".to_string()
        } else if w.contains('@') && w.ends_with(':') {
            "<who>:".to_string()
        } else if w.len() == 20 && w.ends_with('Z') && w.as_bytes()[4] == b'-' {
            "<time>".to_string()
        } else if w.chars().all(|c| c.is_ascii_digit()) && w.len() >= 3 {
            "<size>".to_string()
        } else if let Some(s) = w.strip_suffix('s')
            && s.parse::<f64>().is_ok()
            && s.contains('.')
        {
            "<secs>".to_string()
        } else {
            word.to_string()
        };
        out.push(redacted);
    }
    out.join(" ")
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

#[test]
fn the_readme_tour_runs_as_written() {
    let root = repo_root();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let steps = tour(&readme);
    assert!(
        steps.len() >= 10,
        "the README's tour has its console blocks"
    );

    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    let scratch = tmp.path().join("scratch");
    std::fs::create_dir_all(&scratch).unwrap();
    std::fs::create_dir_all(tmp.path().join("home")).unwrap();
    std::fs::create_dir_all(&ws).unwrap();
    std::fs::copy(root.join("WORKSPACE.toml"), ws.join("WORKSPACE.toml")).unwrap();
    copy_tree(&root.join("packages"), &ws.join("packages"));
    copy_tree(&root.join("third_party"), &ws.join("third_party"));
    let bins = bin("kiln").parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        bins.display(),
        std::env::var("PATH").unwrap_or_default()
    );

    let mut failures = Vec::new();
    for (cmd, expected) in &steps {
        let run = cmd.replace("/tmp/", &format!("{}/", scratch.display()));
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(&run)
            .current_dir(&ws)
            .env_clear()
            .env("PATH", &path)
            .env("HOME", tmp.path().join("home"))
            .env("KILN_CACHE", tmp.path().join("cache"))
            .env("LANG", "C.UTF-8")
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let actual: Vec<String> = text
            .lines()
            .filter(|l| {
                !(l.starts_with('[')
                    && l[1..].split_once(']').is_some_and(|(n, _)| n.contains('/')))
            })
            .map(redact)
            .collect();
        let expected: Vec<String> = expected.iter().map(|l| redact(l)).collect();
        if !out.status.success() || actual != expected {
            failures.push(format!(
                "$ {cmd}\n  exit: {}\n  README:\n    {}\n  actual:\n    {}",
                out.status,
                expected.join("\n    "),
                actual.join("\n    ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "the README's tour differs from what the binaries print:\n{}",
        failures.join("\n")
    );
}
