//! Keep N builds: never `current`, nor the rollback target; a build is renamed away before
//! it is removed, so no half-removed build is ever visible.

use super::*;
use crate::error::Result;
use crate::layout::TMP_PREFIX;
use crate::state::{self, State};
use crate::unpack::remove_tree;

impl Host<'_> {
    /// `gc` for one package, under its lock (never while an install of it runs).
    pub fn collect(&self, pkg: &str, keep: usize) -> Result<Vec<u64>> {
        let _lock = state::lock(&self.layout, pkg)?;
        let dir = self.layout.package_dir(pkg);
        if !crate::layout::is_own_dir(&self.layout, &dir) {
            return Err(crate::layout::not_ours(&dir));
        }
        self.clean_temps(pkg);
        self.gc(pkg, keep)
    }

    /// Remove old builds beyond `keep`, never `current` nor the rollback target.
    pub fn gc(&self, pkg: &str, keep: usize) -> Result<Vec<u64>> {
        let current = self.layout.current(pkg);
        let st = State::load(&self.layout, pkg)?;
        let protected: Vec<u64> = current
            .into_iter()
            .chain(st.rollback_target(current))
            .collect();
        // Most recently current first; builds never current come last, newest first.
        let mut order: Vec<u64> = Vec::new();
        for e in st.history.iter().rev() {
            if !order.contains(&e.build) {
                order.push(e.build);
            }
        }
        for b in self.layout.installed(pkg).into_iter().rev() {
            if !order.contains(&b) {
                order.push(b);
            }
        }
        let installed = self.layout.installed(pkg);
        let mut kept: Vec<u64> = protected.clone();
        for b in order {
            if kept.len() >= keep.max(protected.len()) {
                break;
            }
            if installed.contains(&b) && !kept.contains(&b) {
                kept.push(b);
            }
        }
        let mut removed = Vec::new();
        for b in installed {
            if !kept.contains(&b) {
                // Renamed to a temp name first, so a removal that fails half way never
                // leaves half a build visible (the next run removes the rest).
                self.remove_build(pkg, b)?;
                removed.push(b);
            }
        }
        Ok(removed)
    }

    /// Remove build `b`, renamed to a temp name first, so a removal that fails half way
    /// never leaves half a build visible (the next run removes the rest).
    pub(super) fn remove_build(&self, pkg: &str, b: u64) -> Result<()> {
        let dir = self.layout.build_dir(pkg, b);
        let tmp = self
            .layout
            .package_dir(pkg)
            .join(format!("{TMP_PREFIX}{b}-{}", std::process::id()));
        fs_err::rename(&dir, &tmp)
            .and_then(|()| remove_tree(&tmp))
            .map_err(|e| {
                anyhow::Error::new(e).context(format!("removing build {b} ({})", dir.display()))
            })
    }
}
