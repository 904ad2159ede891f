//! The local cache shared by all workspaces: `$KILN_CACHE` (default the XDG cache dir
//! `…/kiln`), versioned as `v1/`. Everything enters it by temp file + rename, so a
//! `kill -9` leaves at worst a stray temp file, never a wrong entry.

use std::fs::{self, File};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use release::Digest;

use crate::error::{Result, env_failed};

pub struct Cache {
    root: PathBuf,
}

impl Cache {
    /// `$KILN_CACHE`, else `$XDG_CACHE_HOME/kiln`, else `$HOME/.cache/kiln`; then `v1`.
    pub fn open() -> Result<Cache> {
        let base = if let Some(dir) = std::env::var_os("KILN_CACHE").filter(|v| !v.is_empty()) {
            PathBuf::from(dir)
        } else if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
            PathBuf::from(dir).join("kiln")
        } else if let Some(home) = std::env::var_os("HOME").filter(|v| !v.is_empty()) {
            PathBuf::from(home).join(".cache").join("kiln")
        } else {
            return Err(env_failed(
                "cannot place the cache: none of KILN_CACHE, XDG_CACHE_HOME or HOME is set",
            ));
        };
        let root = std::path::absolute(base.join("v1"))?;
        fs_err::create_dir_all(root.join("tmp"))?;
        Ok(Cache { root })
    }

    pub fn cas_path(&self, d: &Digest) -> PathBuf {
        let hex = d.hex();
        self.root.join("cas/sha256").join(&hex[..2]).join(hex)
    }

    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// A fresh name in the tmp dir; nothing is created.
    pub fn tmp_path(&self, what: &str) -> PathBuf {
        fresh_name(&self.tmp_dir(), what)
    }

    pub fn tree_dir(&self, key: &Digest) -> PathBuf {
        self.root.join("trees").join(key.hex())
    }

    pub fn ac_path(&self, key: &Digest) -> PathBuf {
        let hex = key.hex();
        self.root.join("ac").join(&hex[..2]).join(hex)
    }

    /// Move a verified temp file into the CAS under `d` (read-only from then on),
    /// synced first: archives and bundles must survive a power cut.
    pub fn insert_file(&self, tmp: &Path, d: &Digest) -> Result<PathBuf> {
        File::open(tmp).and_then(|f| f.sync_all())?;
        self.insert_output(tmp, d)
    }

    /// Like `insert_file`, without the fsync, for action outputs: one fsync per action
    /// serialized builds on the file system's journal. The rename still makes the entry
    /// whole or absent after a `kill -9`; after a power cut a blob can at worst come
    /// back short, and every action-cache hit checks the size, so it is rebuilt
    /// (and replaced: see `Runner::collect_outputs`).
    pub fn insert_output(&self, tmp: &Path, d: &Digest) -> Result<PathBuf> {
        let dest = self.cas_path(d);
        fs::set_permissions(tmp, fs::Permissions::from_mode(0o444))?;
        fs_err::create_dir_all(dest.parent().expect("cas paths have a parent"))?;
        fs_err::rename(tmp, &dest)?;
        Ok(dest)
    }

    /// Write a small entry (an action cache record) by temp file + rename. Not synced:
    /// the rename makes it whole or absent after a `kill -9`, and after a power loss a
    /// torn record fails to parse, which is a cache miss. (CAS files are synced: their
    /// name vouches for their bytes; their size is checked again on every hit.)
    /// The temp file sits beside `dest`, which may be outside the cache (kiln-out/) and
    /// on another file system.
    pub fn write_small(&self, dest: &Path, bytes: &[u8]) -> Result<()> {
        let dir = dest.parent().expect("cache paths have a parent");
        fs_err::create_dir_all(dir)?;
        let tmp = fresh_name(dir, ".tmp");
        let mut f = fs_err::File::create(&tmp)?;
        f.write_all(bytes)?;
        fs_err::rename(&tmp, dest)?;
        Ok(())
    }
}

/// `dir/<prefix>-<pid>-<n>`: unique among this process's names and other processes'.
fn fresh_name(dir: &Path, prefix: &str) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    dir.join(format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Stream a file through sha256.
pub fn hash_file(path: &Path) -> Result<(u64, Digest)> {
    let mut f = fs_err::File::open(path)?;
    let mut h = release::Hasher::new();
    std::io::copy(&mut f, &mut h)?;
    Ok((h.len(), h.finish()))
}

/// A writer that hashes what passes through it.
pub struct HashingWriter<W> {
    pub inner: W,
    pub hasher: release::Hasher,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: release::Hasher::new(),
        }
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
