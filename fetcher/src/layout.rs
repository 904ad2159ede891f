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

#[derive(Clone)]
pub struct Layout {
    pub root: PathBuf,
}

/// The directories kiln-fetch owns from the top one (`opt/kiln`, `var/lib/kiln` or
/// `var/cache/kiln`) down to `dir`, or None if `dir` is below none of them.
fn owned_chain(layout: &Layout, dir: &Path) -> Option<Vec<PathBuf>> {
    let owned = [
        layout.packages_dir(),
        layout.root.join("var/lib/kiln"),
        layout.cache_dir(),
    ];
    let top = owned.into_iter().find(|t| dir.starts_with(t))?;
    let mut p = top.clone();
    let mut chain = vec![top.clone()];
    for c in dir.strip_prefix(&top).expect("below").components() {
        p.push(c);
        chain.push(p.clone());
    }
    Some(chain)
}

/// Create `dir` and its parents, checking that every directory kiln-fetch owns on the
/// way (`opt/kiln`, `var/lib/kiln`, `var/cache/kiln` and what is below them) is a
/// directory and not a link, one level at a time before anything is created inside
/// it: nothing is written through a link kiln-fetch did not create. (Above them, `opt`
/// or `var` may be links an administrator made.)
pub fn own_dir(layout: &Layout, dir: &Path) -> crate::error::Result<()> {
    let Some(chain) = owned_chain(layout, dir) else {
        fs_err::create_dir_all(dir)?;
        return Ok(());
    };
    fs_err::create_dir_all(chain[0].parent().expect("below the root"))?;
    for p in chain {
        match fs_err::create_dir(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(anyhow::Error::new(e).context(p.display().to_string())),
        }
        if !fs_err::symlink_metadata(&p)?.is_dir() {
            return Err(not_ours(&p));
        }
    }
    Ok(())
}

/// The error for a link (or a file) where kiln-fetch keeps its own directory or file.
pub fn not_ours(p: &Path) -> anyhow::Error {
    crate::error::hinted(
        crate::error::Code::Failed,
        format!(
            "{} is a link, or something else kiln-fetch did not create; refusing to write through it",
            p.display()
        ),
        "remove it (kiln-fetch recreates it); to keep builds on another disk, mount it there or set root in fetch.toml",
    )
}

/// Whether `dir` exists and it and every directory kiln-fetch owns on the way to it
/// are real directories (nothing is created).
pub fn is_own_dir(layout: &Layout, dir: &Path) -> bool {
    match owned_chain(layout, dir) {
        None => dir.is_dir(),
        Some(chain) => chain
            .iter()
            .all(|p| fs_err::symlink_metadata(p).is_ok_and(|m| m.is_dir())),
    }
}

/// Temp entries beside their target start with this; a build number never does.
pub const TMP_PREFIX: &str = ".tmp-";

/// The name of a build's release record, beside its MANIFEST.json.
pub const RELEASE_FILE: &str = "release.json";

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
        Layout::bin_targets(pkg).join(binary)
    }

    /// Where every entry point of `pkg` points into: `../../../opt/kiln/<pkg>/current/bin`.
    pub fn bin_targets(pkg: &str) -> PathBuf {
        Layout::from_bin().join(pkg).join("current/bin")
    }

    /// `opt/kiln` as seen from usr/local/bin.
    pub fn from_bin() -> &'static Path {
        Path::new("../../../opt/kiln")
    }

    /// A build's copy of its signed release record.
    pub fn release_file(build_dir: &Path) -> PathBuf {
        build_dir.join(RELEASE_FILE)
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
        let target = fs_err::read_link(self.current_link(pkg)).ok()?;
        target.to_str()?.parse().ok()
    }

    /// Installed builds, ascending.
    pub fn installed(&self, pkg: &str) -> Vec<u64> {
        let mut out: Vec<u64> = fs_err::read_dir(self.package_dir(pkg))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter_map(|e| e.file_name().to_str()?.parse().ok())
            .collect();
        out.sort_unstable();
        out
    }

    /// Packages with anything installed: directories of opt/kiln named like a package
    /// (and links so named, which every command then refuses); anything else there
    /// (`lost+found`, a README) is not one.
    pub fn packages(&self) -> Vec<String> {
        let mut out: Vec<String> = fs_err::read_dir(self.packages_dir())
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir() || t.is_symlink()))
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .filter(|n| release::validate_package_name(n).is_ok())
            .collect();
        out.sort();
        out
    }
}
