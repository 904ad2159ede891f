//! Step 6: the entry points in `usr/local/bin`, linked through `current`; a link that is
//! not kiln-fetch's is never replaced.

use release::{Kind, Manifest};

use super::*;
use crate::error::{Code, Result, hinted};
use crate::layout::TMP_PREFIX;

impl Host<'_> {
    pub(super) fn check_links(&self, pkg: &str, m: &Manifest) -> Result<()> {
        if m.kind != Kind::Tool {
            return Ok(());
        }
        for b in &m.binaries {
            let path = self.layout.bin_dir().join(b);
            let Ok(meta) = fs_err::symlink_metadata(&path) else {
                continue;
            };
            let target = meta
                .file_type()
                .is_symlink()
                .then(|| fs_err::read_link(&path).ok())
                .flatten();
            if target.as_deref() == Some(Layout::bin_target(pkg, b).as_path()) {
                continue;
            }
            let owner = target
                .as_ref()
                .and_then(|t| t.strip_prefix(Layout::from_bin()).ok())
                .and_then(|rest| rest.components().next())
                .map(|c| c.as_os_str().to_string_lossy().into_owned());
            return Err(match owner {
                Some(other) => hinted(
                    Code::Failed,
                    format!("{} is already provided by package {other}", path.display()),
                    "two tools cannot install the same entry point; rename one binary",
                ),
                None => hinted(
                    Code::Failed,
                    format!(
                        "{} exists and is not managed by kiln-fetch; refusing to replace it",
                        path.display()
                    ),
                    "remove it by hand if kiln-fetch should own it",
                ),
            });
        }
        Ok(())
    }

    /// The entry points of the settled current build `n` that are gone from
    /// usr/local/bin (removed by hand), linked again; one in the way that is not ours
    /// is refused as at install. Returns the names relinked.
    pub(super) fn repair_links(&self, pkg: &str, n: u64) -> Result<Vec<String>> {
        let m = installed_manifest(&self.layout.build_dir(pkg, n))?;
        self.check_links(pkg, &m)?;
        let missing = self.missing_links(&m);
        if !missing.is_empty() {
            self.link(pkg, &m)?;
        }
        Ok(missing)
    }

    /// A tool's entry points that are not in usr/local/bin at all.
    pub(super) fn missing_links(&self, m: &Manifest) -> Vec<String> {
        if m.kind != Kind::Tool {
            return vec![];
        }
        m.binaries
            .iter()
            .filter(|b| fs_err::symlink_metadata(self.layout.bin_dir().join(b)).is_err())
            .cloned()
            .collect()
    }

    /// Link a tool's binaries into usr/local/bin, through `current`.
    pub(super) fn link(&self, pkg: &str, m: &Manifest) -> Result<()> {
        if m.kind != Kind::Tool {
            return Ok(());
        }
        let bin = self.layout.bin_dir();
        fs_err::create_dir_all(&bin)?;
        for b in &m.binaries {
            let path = bin.join(b);
            let target = Layout::bin_target(pkg, b);
            if fs_err::read_link(&path).ok().as_deref() == Some(target.as_path()) {
                continue;
            }
            let tmp = bin.join(format!("{TMP_PREFIX}{}-{b}", std::process::id()));
            let _ = fs_err::remove_file(&tmp);
            fs_err::os::unix::fs::symlink(&target, &tmp)?;
            fs_err::rename(&tmp, &path)?;
        }
        Ok(())
    }

    /// Remove entry points of ours that the current build (`m`; none: every one) no
    /// longer has.
    pub(super) fn unlink_stale(&self, pkg: &str, m: Option<&Manifest>) -> Result<()> {
        let prefix = Layout::bin_targets(pkg);
        for e in fs_err::read_dir(self.layout.bin_dir())
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = e.file_name().to_string_lossy().into_owned();
            let ours =
                fs_err::read_link(e.path()).is_ok_and(|t| t.parent() == Some(prefix.as_path()));
            if ours && m.is_none_or(|m| m.kind != Kind::Tool || !m.binaries.contains(&name)) {
                fs_err::remove_file(e.path())?;
            }
        }
        Ok(())
    }
}
