//! `kiln-fetch remove`: take a package off the host, under its lock, in an order a
//! `kill -9` at any point leaves safe to run again (or for `install` to repair):
//! `current` first, then the entry points, then the state (which keeps the channel sequences the host has seen, so a
//! reinstall still refuses a replayed pointer), then each build renamed away before it
//! is removed. Services are config management's: stop a service before removing its
//! package (kiln-fetch restarts nothing here).

use serde::Serialize;

use super::*;
use crate::error::Result;
use crate::state::State;

/// What `remove` did.
#[derive(Serialize, Debug)]
pub struct Removed {
    pub package: String,
    /// The build that was current, if any.
    pub previous: Option<u64>,
    /// The builds removed from the host.
    pub removed: Vec<u64>,
    #[serde(skip)]
    pub changed: bool,
    /// With --dry-run: nothing was touched.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
    /// What was in the package's directory that kiln-fetch did not put there: left,
    /// with the directory.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub left: Vec<String>,
}

impl Host<'_> {
    pub fn remove(&self, pkg: &str) -> Result<Removed> {
        release::validate_package_name(pkg).map_err(|e| err(Code::BadInput, e))?;
        let dir = self.layout.package_dir(pkg);
        let nothing = |changed| Removed {
            package: pkg.to_string(),
            previous: None,
            removed: Vec::new(),
            changed,
            dry_run: self.dry_run,
            left: Vec::new(),
        };
        if fs_err::symlink_metadata(&dir).is_err() {
            // Not on the host; only entry points of ours may be left (dangling).
            let prefix = Layout::bin_targets(pkg);
            let dangling = fs_err::read_dir(self.layout.bin_dir())
                .into_iter()
                .flatten()
                .flatten()
                .any(|e| {
                    fs_err::read_link(e.path()).is_ok_and(|t| t.parent() == Some(prefix.as_path()))
                });
            if dangling && !self.dry_run {
                let _lock = crate::state::lock(&self.layout, pkg)?;
                self.unlink_stale(pkg, None)?;
            }
            return Ok(nothing(dangling));
        }
        self.locked(pkg, |_| {
            let previous = self.layout.current(pkg);
            let installed = self.layout.installed(pkg);
            // Only what kiln-fetch put there goes: builds, `current`, its temps.
            let left: Vec<String> = fs_err::read_dir(&dir)?
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| {
                    !(n == "current"
                        || n.starts_with(crate::layout::TMP_PREFIX)
                        || n.parse::<u64>().is_ok_and(|b| installed.contains(&b)))
                })
                .collect();
            let done = |changed: bool, removed: Vec<u64>| Removed {
                package: pkg.to_string(),
                previous,
                removed,
                changed,
                dry_run: self.dry_run,
                left: left.clone(),
            };
            // Left empty by an earlier remove that was killed at its very end.
            if fs_err::read_dir(&dir)?.next().is_none() {
                if !self.dry_run {
                    fs_err::remove_dir(&dir)?;
                }
                return Ok(done(false, Vec::new()));
            }
            if self.dry_run {
                return Ok(done(true, installed));
            }
            // `current` first: an install after a kill from here on sees no current
            // build and installs (and links) again, and the entry points dangle at
            // worst until then.
            let current = self.layout.current_link(pkg);
            if fs_err::symlink_metadata(&current).is_ok() {
                fs_err::remove_file(&current)?;
            }
            plumbing::fault::pause("remove-current");
            self.unlink_stale(pkg, None)?;
            let mut st = State::load(&self.layout, pkg)?;
            st.history.clear();
            st.channel = None;
            st.sequence = None;
            st.unfinished = None;
            st.removed = Some(plumbing::fs::now_rfc3339());
            st.save(&self.layout, pkg)?;
            // A reinstall follows its channel afresh.
            let memo = self.layout.state_dir(pkg).join("follow.json");
            if fs_err::symlink_metadata(&memo).is_ok() {
                fs_err::remove_file(&memo)?;
            }
            plumbing::fault::pause("remove-builds");
            for b in &installed {
                self.remove_build(pkg, *b)?;
            }
            // Crash temps of earlier runs go; anything else stays, with the directory.
            for e in fs_err::read_dir(&dir)?.flatten() {
                if e.file_name()
                    .to_string_lossy()
                    .starts_with(crate::layout::TMP_PREFIX)
                {
                    plumbing::fs::remove_tree(&e.path())?;
                }
            }
            if left.is_empty() {
                fs_err::remove_dir(&dir)?;
            } else {
                plumbing::style::warning(&format!(
                    "left {} in {}: kiln-fetch did not put it there",
                    left.join(", "),
                    dir.display()
                ));
            }
            Ok(done(true, installed))
        })
    }
}
