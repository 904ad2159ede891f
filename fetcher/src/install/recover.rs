//! Step 2: before anything else under the lock, remove the crash temps kiln-fetch names,
//! then finish an install a crash interrupted after its switch (or undo the links of one
//! interrupted before it), and say what restart or health check is still owed.

use std::path::Path;

use super::*;
use crate::error::Result;
use crate::layout::TMP_PREFIX;
use crate::state::{self, Pending, State};
use crate::unpack::{installed_manifest, remove_tree};

impl Host<'_> {
    /// Remove what a crash left, and only that: the temp entries kiln-fetch names
    /// (`.tmp-<build>-<pid>` trees and `.tmp-current-<pid>` links beside the builds,
    /// `.tmp-<pid>-<file>` state files, `.tmp-<pid>-<binary>` links into opt/kiln in
    /// usr/local/bin), in directories that are its own and not links. Anything else
    /// named `.tmp-*` (an administrator's) is left alone.
    pub(super) fn clean_temps(&self, pkg: &str) {
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit());
        // `<digits>-<rest>`, with the rest it must be.
        let numbered = |rest: &str, tail: &dyn Fn(&str) -> bool| {
            rest.split_once('-')
                .is_some_and(|(a, b)| digits(a) && tail(b))
        };
        let temps = |dir: &Path| -> Vec<(String, std::fs::FileType, std::path::PathBuf)> {
            fs_err::read_dir(dir)
                .into_iter()
                .flatten()
                .flatten()
                .filter_map(|e| {
                    let name = e.file_name().to_str()?.to_string();
                    let rest = name.strip_prefix(TMP_PREFIX)?.to_string();
                    Some((rest, e.file_type().ok()?, e.path()))
                })
                .collect()
        };
        let package_dir = self.layout.package_dir(pkg);
        if crate::layout::is_own_dir(&self.layout, &package_dir) {
            for (rest, kind, path) in temps(&package_dir) {
                let ours = (kind.is_dir() && numbered(&rest, &digits))
                    || (kind.is_symlink() && rest.strip_prefix("current-").is_some_and(digits));
                if ours {
                    let _ = remove_tree(&path);
                }
            }
        }
        let state_dir = self.layout.state_dir(pkg);
        if crate::layout::is_own_dir(&self.layout, &state_dir) {
            for (rest, kind, path) in temps(&state_dir) {
                let state_file =
                    |t: &str| matches!(t, "state.json" | "pending.json" | "follow.json");
                if kind.is_file() && numbered(&rest, &state_file) {
                    let _ = fs_err::remove_file(&path);
                }
            }
        }
        let into_opt = Layout::from_bin().join(pkg);
        for (rest, kind, path) in temps(&self.layout.bin_dir()) {
            let ours = kind.is_symlink()
                && numbered(&rest, &|t: &str| !t.is_empty())
                && fs_err::read_link(&path).is_ok_and(|t| t.starts_with(&into_opt));
            if ours {
                let _ = fs_err::remove_file(&path);
            }
        }
    }

    /// Finish an install a crash interrupted after it recorded its pending switch.
    pub(super) fn recover(&self, pkg: &str) -> Result<Option<Report>> {
        let p = match state::load_pending(&self.layout, pkg)? {
            state::Journal::None => return Ok(None),
            state::Journal::Pending(p) => p,
            state::Journal::Unreadable(why) => match self.owed(pkg)? {
                None => {
                    plumbing::style::warning(&format!(
                        "{why}; the switch it recorded did not happen, clearing it"
                    ));
                    self.undo_links(pkg)?;
                    state::clear_pending(&self.layout, pkg)?;
                    return Ok(None);
                }
                Some(p) => {
                    plumbing::style::warning(&format!(
                        "{why}; finishing the switch to build {} the host shows",
                        p.to
                    ));
                    p
                }
            },
        };
        let current = self.layout.current(pkg);
        if p.action == "auto-rollback" && current != Some(p.to) && self.on_host(pkg, p.to) {
            // A rollback journalled but killed before its switch: carried out.
            self.link(pkg, &installed_manifest(&self.layout.build_dir(pkg, p.to))?)?;
            self.switch(pkg, p.to)?;
        } else if current != Some(p.to) {
            // The switch never happened: the previous build is still current.
            self.undo_links(pkg)?;
            state::clear_pending(&self.layout, pkg)?;
            return Ok(None);
        }
        let report = self.finish(pkg, &p)?;
        Ok(Some(report))
    }

    /// The entry points are the current build's again: those linked for a build whose
    /// switch never happened go.
    pub(super) fn undo_links(&self, pkg: &str) -> Result<()> {
        let manifest = self
            .layout
            .current(pkg)
            .map(|c| installed_manifest(&self.layout.build_dir(pkg, c)))
            .transpose()?;
        if let Some(m) = &manifest {
            self.link(pkg, m)?;
        }
        self.unlink_stale(pkg, manifest.as_ref())
    }

    /// What an unfinished install whose journal cannot be read still owes, from what
    /// the host shows: `current` switched to a build the history does not end with
    /// means the restart, the health check and the history entry never happened.
    pub(super) fn owed(&self, pkg: &str) -> Result<Option<Pending>> {
        let Some(to) = self.layout.current(pkg) else {
            return Ok(None);
        };
        let st = State::load(&self.layout, pkg)?;
        let from = st.history.last().map(|e| e.build);
        if from == Some(to) && st.unfinished != Some(to) {
            return Ok(None);
        }
        let manifest = installed_manifest(&self.layout.build_dir(pkg, to))?;
        Ok(Some(Pending {
            from,
            to,
            action: "install".into(),
            restart: if self.no_restart {
                vec![]
            } else {
                self.restarts_for(Some(&manifest))
            },
            channel: None,
            sequence: None,
            pointer_sha256: None,
        }))
    }
}
