//! Where things live on a host, all below `root`:
//!
//! ```text
//! opt/kiln/<package>/<build>/     an unpacked bundle, read-only, with its release.json
//! opt/kiln/<package>/current      -> <build>, switched by renaming a new symlink over it
//! usr/local/bin/<binary>          -> ../../../opt/kiln/<package>/current/bin/<binary>
//! var/lib/kiln/<package>/         state.json (history, channel followed), pending.json, lock
//! var/cache/kiln/                 downloads named by sha256 (<sha256>.partial while resumable)
//! ```

use std::path::{Path, PathBuf};

pub struct Layout {
    pub root: PathBuf,
}

/// Temp entries beside their target start with this; a build number never does.
pub const TMP_PREFIX: &str = ".tmp-";

impl Layout {
    pub fn new(root: PathBuf) -> Layout {
        Layout { root }
    }

    pub fn packages_dir(&self) -> PathBuf {
        self.root.join("opt/kiln")
    }

    pub fn package_dir(&self, pkg: &str) -> PathBuf {
        self.packages_dir().join(pkg)
    }

    pub fn build_dir(&self, pkg: &str, build: u64) -> PathBuf {
        self.package_dir(pkg).join(build.to_string())
    }

    pub fn current_link(&self, pkg: &str) -> PathBuf {
        self.package_dir(pkg).join("current")
    }

    pub fn bin_dir(&self) -> PathBuf {
        self.root.join("usr/local/bin")
    }

    /// What a tool's entry point in usr/local/bin points at.
    pub fn bin_target(pkg: &str, binary: &str) -> PathBuf {
        Path::new("../../../opt/kiln")
            .join(pkg)
            .join("current/bin")
            .join(binary)
    }

    pub fn state_dir(&self, pkg: &str) -> PathBuf {
        self.root.join("var/lib/kiln").join(pkg)
    }

    /// The newest keys record version (and its sha256) this host accepted.
    pub fn keys_seen(&self) -> PathBuf {
        self.root.join("var/lib/kiln/keys-record.json")
    }

    pub fn cache_dir(&self) -> PathBuf {
        self.root.join("var/cache/kiln")
    }

    /// The build `current` points at, if any.
    pub fn current(&self, pkg: &str) -> Option<u64> {
        let target = std::fs::read_link(self.current_link(pkg)).ok()?;
        target.to_str()?.parse().ok()
    }

    /// Installed builds, ascending.
    pub fn installed(&self, pkg: &str) -> Vec<u64> {
        let mut out: Vec<u64> = std::fs::read_dir(self.package_dir(pkg))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter_map(|e| e.file_name().to_str()?.parse().ok())
            .collect();
        out.sort_unstable();
        out
    }

    /// Packages with anything installed.
    pub fn packages(&self) -> Vec<String> {
        let mut out: Vec<String> = std::fs::read_dir(self.packages_dir())
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .filter(|n| !n.starts_with('.'))
            .collect();
        out.sort();
        out
    }
}
