//! `[[python_lock]]`: each distribution a PEP 751 lock pins becomes a pinned archive
//! (`@LOCK//DIST`, the archive `LOCK+DIST`): the wheel the target interpreter takes,
//! fetched, checked against the lock's sha256 and unpacked like any archive. The
//! target interpreter is the host's `python3`, asked once for its version, machine
//! and glibc.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use rules::pylock::{Interpreter, Locked, parse_pylock};
use rules::{Diagnostic, ExtractLimits, PythonLockSpec};

use crate::error::{Code, Result, at, hinted};
use crate::workspace::{Archive, WORKSPACE_FILE};

/// The host's `python3`, isolated from the caller's environment (`-I`: no user site,
/// no `PYTHON*` variables).
pub fn host_interpreter() -> Result<Interpreter> {
    let out = Command::new("python3")
        .args([
            "-I",
            "-c",
            "import sys, platform, os\n\
             try:\n    libc = os.confstr('CS_GNU_LIBC_VERSION') or ''\n\
             except (ValueError, OSError):\n    libc = ''\n\
             print(sys.implementation.name, sys.version_info[0], sys.version_info[1], platform.machine(), libc.replace(' ', '/'))",
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map_err(|e| {
            hinted(
                Code::Env,
                format!("{WORKSPACE_FILE} has [[python_lock]], but python3 cannot be run: {e}"),
                "install python3 (the interpreter locked wheels are chosen for)",
            )
        })?;
    let text = String::from_utf8_lossy(&out.stdout);
    let f: Vec<&str> = text.split_whitespace().collect();
    let parsed = (|| {
        if f.len() < 4 || f[0] != "cpython" || f[1] != "3" {
            return None;
        }
        let minor: u32 = f[2].parse().ok()?;
        let glibc = f
            .get(4)
            .and_then(|l| l.strip_prefix("glibc/2."))
            .and_then(|m| m.parse().ok());
        Some(Interpreter::cpython(minor, f[3], glibc))
    })();
    parsed.ok_or_else(|| {
        hinted(
            Code::Env,
            format!(
                "python3 is not a CPython 3 kiln can choose wheels for (it says {:?})",
                text.trim()
            ),
            "put CPython 3 first in PATH",
        )
    })
}

/// Add an archive for every distribution of `lock` that `interp` can install.
pub fn lock_archives(
    root: &Path,
    lock: &PythonLockSpec,
    interp: &Interpreter,
    archives: &mut BTreeMap<String, Archive>,
) -> Result<()> {
    let path = root.join(&lock.lock);
    // A file of the workspace only: a link could name any file of the machine.
    if !fs_err::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
        return Err(hinted(
            Code::BadInput,
            format!(
                "{WORKSPACE_FILE}: python_lock {:?}: {} is not a file of the workspace",
                lock.name, lock.lock
            ),
            "write the lock there (uv pip compile --format pylock.toml -o FILE), not a link",
        ));
    }
    let text = plumbing::fs::read_text(&path)?;
    let file = Path::new(&lock.lock);
    let locked = parse_pylock(&text).map_err(|d| at(file, &text, &d))?;
    // One entry per name and environment: the first whose wheel fits is taken.
    let mut by_name: BTreeMap<&str, Vec<&Locked>> = BTreeMap::new();
    for l in &locked {
        by_name.entry(l.name.as_str()).or_default().push(l);
    }
    for (name, entries) in by_name {
        let chosen = entries
            .iter()
            .find_map(|l| interp.choose(l).map(|w| (*l, w)));
        let Some((l, wheel)) = chosen else {
            let first = entries[0];
            let has: Vec<String> = entries
                .iter()
                .flat_map(|l| l.wheels.iter().map(|w| w.tags[0].to_string()))
                .collect();
            // An entry whose marker names another environment is not needed here.
            if entries.iter().all(|l| l.marker.is_some()) {
                continue;
            }
            return Err(at(
                file,
                &text,
                &Diagnostic::new(
                    Some(first.span.clone()),
                    format!(
                        "{name} {} has no wheel for {} (its wheels: {})",
                        first.version.as_deref().unwrap_or(""),
                        interp.describe,
                        has.join(", ")
                    ),
                )
                .hint(
                    "lock for this interpreter and platform (uv pip compile --python-version, --python-platform), or build on a host whose python3 matches",
                ),
            ));
        };
        let archive = format!("{}+{name}", lock.name);
        let (line, _) = rules::line_col(&text, l.span.start);
        archives.insert(
            archive.clone(),
            Archive {
                name: archive,
                urls: vec![wheel.url.clone()],
                sha256: wheel.sha256,
                strip_prefix: None,
                exports: BTreeMap::from([("files".to_string(), vec!["**".to_string()])]),
                export_spans: BTreeMap::new(),
                limits: ExtractLimits::DEFAULT,
                span: lock.span.clone(),
                pinned_in: Some(format!("{}:{line}", lock.lock)),
            },
        );
    }
    Ok(())
}
