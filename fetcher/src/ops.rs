//! Read-only views of a host: `list`/`status` and `verify`.

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use release::{Digest, MANIFEST_PATH, Release};
use serde::Serialize;

use crate::error::{Code, Result, hinted};
use crate::layout::Layout;
use crate::state::State;
use crate::unpack::installed_manifest;

#[derive(Serialize)]
pub struct PackageStatus {
    pub package: String,
    pub current: Option<u64>,
    pub installed: Vec<u64>,
    pub rollback_target: Option<u64>,
    pub channel: Option<String>,
    pub sequence: Option<u64>,
    pub last_change: Option<String>,
}

/// The status of each package (or of `only`), and the errors of those whose state
/// cannot be read: one broken package never hides the others.
pub fn status(
    layout: &Layout,
    only: Option<&str>,
) -> Result<(Vec<PackageStatus>, Vec<anyhow::Error>)> {
    let packages = match only {
        Some(p) => {
            if layout.installed(p).is_empty() {
                return Err(hinted(
                    Code::BadInput,
                    format!("{p} is not installed under {}", layout.root.display()),
                    "kiln-fetch list shows what is installed",
                ));
            }
            vec![p.to_string()]
        }
        None => layout.packages(),
    };
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for p in packages {
        let dir = layout.package_dir(&p);
        if !crate::layout::is_own_dir(layout, &dir) {
            errors.push(crate::layout::not_ours(&dir));
            continue;
        }
        let st = match State::load(layout, &p) {
            Ok(st) => st,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let current = layout.current(&p);
        // Removed (or never finished): not installed, as `list PACKAGE` says.
        if only.is_none() && current.is_none() && layout.installed(&p).is_empty() {
            continue;
        }
        out.push(PackageStatus {
            installed: layout.installed(&p),
            rollback_target: st.rollback_target(current),
            channel: st.channel.clone(),
            sequence: st.sequence,
            last_change: st
                .history
                .last()
                .map(|e| format!("{} {} at {}", e.action, e.build, e.at)),
            current,
            package: p,
        });
    }
    Ok((out, errors))
}

#[derive(Serialize, Default)]
pub struct Drift {
    pub package: String,
    pub build: u64,
    pub changed: Vec<String>,
    pub missing: Vec<String>,
    pub extra: Vec<String>,
}

impl Drift {
    pub fn is_clean(&self) -> bool {
        self.changed.is_empty() && self.missing.is_empty() && self.extra.is_empty()
    }
}

/// Re-hash every file of the current build against its manifest.
pub fn verify(layout: &Layout, pkg: &str) -> Result<Drift> {
    let dir = layout.package_dir(pkg);
    if fs_err::symlink_metadata(&dir).is_ok() && !crate::layout::is_own_dir(layout, &dir) {
        return Err(crate::layout::not_ours(&dir));
    }
    let build = layout.current(pkg).ok_or_else(|| {
        hinted(
            Code::BadInput,
            format!("{pkg} is not installed under {}", layout.root.display()),
            "kiln-fetch list shows what is installed",
        )
    })?;
    check_tree(&layout.build_dir(pkg, build), pkg, build)
}

/// Re-hash every file of an installed build against its manifest (whose sha256 its
/// release.json pins). Nothing is followed: a link where a file belongs is drift.
pub fn check_tree(dir: &Path, pkg: &str, build: u64) -> Result<Drift> {
    let mut drift = Drift {
        package: pkg.into(),
        build,
        ..Drift::default()
    };
    // The build itself swapped for a link (or anything but the directory kiln-fetch
    // made) is drift, whatever it points at.
    if !fs_err::symlink_metadata(dir).is_ok_and(|m| m.is_dir()) {
        drift.changed.push(".".into());
        return Ok(drift);
    }
    let manifest_bytes = fs_err::read(dir.join(MANIFEST_PATH)).unwrap_or_default();
    let rel_ok = fs_err::read(Layout::release_file(dir))
        .ok()
        .and_then(|b| Release::from_bytes(&b).ok())
        .is_some_and(|r| r.manifest_sha256 == Digest::of_bytes(&manifest_bytes));
    if !rel_ok {
        drift.changed.push(MANIFEST_PATH.into());
        return Ok(drift);
    }
    let manifest = installed_manifest(dir)?;
    let mut expected = BTreeSet::new();
    for f in &manifest.files {
        expected.insert(f.path.clone());
        let path = dir.join(&f.path);
        let Ok(meta) = fs_err::symlink_metadata(&path) else {
            drift.missing.push(f.path.clone());
            continue;
        };
        let same = match &f.target {
            Some(t) => fs_err::read_link(&path).is_ok_and(|l| l == Path::new(t)),
            None => {
                // Installed read-only: 0555 if executable, else 0444.
                let mode = if f.mode & 0o111 != 0 { 0o555 } else { 0o444 };
                meta.is_file()
                    && meta.len() == f.size
                    && meta.permissions().mode() & 0o7777 == mode
                    && hash(&path).ok() == f.sha256
            }
        };
        if !same {
            drift.changed.push(f.path.clone());
        }
    }
    if fs_err::symlink_metadata(dir)?.permissions().mode() & 0o7777 != 0o555 {
        drift.changed.push("./".into());
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs_err::read_dir(&d)? {
            let e = e?;
            let rel = e
                .path()
                .strip_prefix(dir)
                .expect("below")
                .to_string_lossy()
                .into_owned();
            if e.file_type()?.is_dir() {
                if e.metadata()?.permissions().mode() & 0o7777 != 0o555 {
                    drift.changed.push(format!("{rel}/"));
                }
                stack.push(e.path());
            } else if !expected.contains(&rel)
                && rel != MANIFEST_PATH
                && rel != crate::layout::RELEASE_FILE
            {
                drift.extra.push(rel);
            }
        }
    }
    drift.extra.sort();
    Ok(drift)
}

impl Drift {
    /// "2 changed (a, b), 1 missing (c)": for messages.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        for (what, list) in [
            ("changed", &self.changed),
            ("missing", &self.missing),
            ("extra", &self.extra),
        ] {
            if !list.is_empty() {
                let mut names: Vec<&str> = list.iter().take(3).map(String::as_str).collect();
                if list.len() > 3 {
                    names.push("…");
                }
                parts.push(format!("{} {what} ({})", list.len(), names.join(", ")));
            }
        }
        parts.join(", ")
    }
}

fn hash(path: &Path) -> std::io::Result<Digest> {
    let mut h = release::Hasher::new();
    use fs_err::os::unix::fs::OpenOptionsExt;
    let mut f = fs_err::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)?;
    std::io::copy(&mut f, &mut h)?;
    Ok(h.finish())
}
