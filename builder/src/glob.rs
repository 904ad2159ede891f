//! Globs over a package's files: `*` and `?` stay within one path segment, `**` spans
//! any number. Walking never leaves the package nor enters a sub-package.

use std::path::Path;

use globset::{GlobBuilder, GlobMatcher};
use walkdir::WalkDir;

use crate::error::Result;

pub fn compile(glob: &str) -> Result<GlobMatcher, String> {
    GlobBuilder::new(glob)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map(|g| g.compile_matcher())
        .map_err(|e| format!("bad glob {glob:?}: {e}"))
}

/// Every entry below `dir` that is not a directory, as sorted `/`-separated relative
/// paths, skipping sub-packages (directories with a BUILD.toml) and `skip_dir`s.
pub fn list_package_files(dir: &Path, skip_dir: &dyn Fn(&Path) -> bool) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let walker = WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            e.depth() == 0
                || !e.file_type().is_dir()
                || !(e.path().join(rules::BUILD_FILE).exists() || skip_dir(e.path()))
        });
    for entry in walker {
        let entry = entry.map_err(|e| anyhow::anyhow!("walking {}: {e}", dir.display()))?;
        // Everything but directories (and links to them, which are never followed):
        // fifos, devices and links that leave the workspace are listed so that naming
        // one is refused with its reason, not reported missing.
        let ft = entry.file_type();
        // Dotfiles are never sources, as dot-directories are not: CI steps leave
        // credentials in the checkout that way (.npmrc, .env, .netrc).
        let dotfile = entry.file_name().to_string_lossy().starts_with('.');
        let listed = !(dotfile || ft.is_dir() || ft.is_symlink() && entry.path().is_dir());
        if listed && let Ok(rel) = entry.path().strip_prefix(dir) {
            out.push(rel.to_string_lossy().into_owned());
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn stars_stay_in_their_segment() {
        let m = super::compile("conf/*.xml").unwrap();
        assert!(m.is_match("conf/solr.xml"));
        assert!(!m.is_match("conf/sub/solr.xml"));
        let m = super::compile("conf/**").unwrap();
        assert!(m.is_match("conf/sub/solr.xml"));
        assert!(!m.is_match("other/x"));
    }
}
