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
}

impl Host<'_> {
    pub fn remove(&self, pkg: &str) -> Result<Removed> {
        release::validate_package_name(pkg).map_err(|e| err(Code::BadInput, e))?;
        let dir = self.layout.package_dir(pkg);
        let nothing = Removed {
            package: pkg.to_string(),
            previous: None,
            removed: Vec::new(),
            changed: false,
            dry_run: self.dry_run,
        };
        // Never on the host: nothing to lock, nothing created.
        if fs_err::symlink_metadata(&dir).is_err() {
            return Ok(nothing);
        }
        self.locked(pkg, |_| {
            let previous = self.layout.current(pkg);
            let installed = self.layout.installed(pkg);
            let done = |changed: bool, removed: Vec<u64>| Removed {
                package: pkg.to_string(),
                previous,
                removed,
                changed,
                dry_run: self.dry_run,
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
            // What is left: crash temps of earlier runs, never a build.
            plumbing::fs::remove_tree(&dir)?;
            Ok(done(true, installed))
        })
    }
}
