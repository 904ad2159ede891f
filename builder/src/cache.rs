//! The local cache shared by all workspaces: `$KILN_CACHE` (default the XDG cache dir
//! `…/kiln`), versioned as `v1/`. Everything enters it by temp file + rename, so a
//! `kill -9` leaves at worst a stray temp file, never a wrong entry.

use std::fs::{self, File};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use release::Digest;

use crate::error::{Result, env_failed};

pub struct Cache {
    root: PathBuf,
    /// Held shared for the whole run, so `kiln gc` (which takes it exclusively) never
    /// removes what a running build is using.
    _lock: File,
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
        let lock = plumbing::fs::lock_file(&root.join("lock"))?;
        lock.lock_shared()?;
        Ok(Cache { root, _lock: lock })
    }

    /// The cache for `kiln gc`: its lock held exclusively, so no build is using it.
    /// None when a running kiln holds it.
    pub fn open_exclusive() -> Result<Option<Cache>> {
        let shared = Cache::open()?;
        let root = shared.root.clone();
        drop(shared);
        let lock = plumbing::fs::lock_file(&root.join("lock"))?;
        match lock.try_lock() {
            Ok(()) => Ok(Some(Cache { root, _lock: lock })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(e.into()),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
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
        plumbing::fs::temp_name(&self.tmp_dir(), what)
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
        fs_err::File::open(tmp)?.sync_all()?;
        self.insert_output(tmp, d)
    }

    /// Like `insert_file`, without the fsync, for action outputs: one fsync per action
    /// serialized builds on the file system's journal. The rename still makes the entry
    /// whole or absent after a `kill -9`; after a power cut a blob can at worst come
    /// back short, and every action-cache hit checks the size, so it is rebuilt
    /// (and replaced: see `Runner::collect_outputs`).
    pub fn insert_output(&self, tmp: &Path, d: &Digest) -> Result<PathBuf> {
        let dest = self.cas_path(d);
        fs_err::set_permissions(tmp, fs::Permissions::from_mode(0o444))?;
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
        let tmp = plumbing::fs::temp_name(dir, ".tmp");
        let mut f = fs_err::File::create(&tmp)?;
        f.write_all(bytes)?;
        fs_err::rename(&tmp, dest)?;
        Ok(())
    }
}

/// Stream a file through sha256 (never through a link).
pub fn hash_file(path: &Path) -> Result<(u64, Digest)> {
    Ok(plumbing::fs::hash_file(path)?)
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

/// What `kiln gc` found and removed.
#[derive(Debug, Default, serde::Serialize)]
pub struct Swept {
    /// Bytes in the cache before and after.
    pub bytes_before: u64,
    pub bytes_after: u64,
    /// Entries (blobs, action records, extracted archives) removed to fit the size.
    pub entries_removed: usize,
    /// Temp files and directories of killed runs removed.
    pub leftovers_removed: usize,
}

struct Entry {
    path: PathBuf,
    bytes: u64,
    used: std::time::SystemTime,
    is_dir: bool,
}

impl Cache {
    /// Sweep what killed runs left (everything in tmp/, `.tmp` files beside entries),
    /// then, with `max`, remove entries least recently used first (the later of their
    /// access and modification times) until the cache holds at most `max` bytes. Only
    /// with the lock held exclusively ([`Cache::open_exclusive`]). A removed blob that
    /// an action record names is a cache miss later (every hit checks its blobs).
    pub fn gc(&self, max: Option<u64>) -> Result<Swept> {
        // The directories kiln made are walked only if they still are directories: a
        // link in one's place (kiln never makes one) is not followed, and nothing is
        // removed.
        for dir in ["tmp", "cas", "cas/sha256", "ac", "trees"] {
            let path = self.root.join(dir);
            if fs_err::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
                return Err(crate::error::hinted(
                    crate::error::Code::Env,
                    format!(
                        "{} is a symbolic link, not the directory kiln made; kiln gc does not follow it and removed nothing",
                        path.display()
                    ),
                    "remove the link (kiln makes the directory again), or point KILN_CACHE at the real cache",
                ));
            }
        }
        let mut swept = Swept::default();
        for e in fs_err::read_dir(self.tmp_dir())? {
            let e = e?;
            plumbing::fs::remove_tree(&e.path())?;
            swept.leftovers_removed += 1;
        }
        let mut entries = Vec::new();
        for (top, depth) in [("cas/sha256", 2), ("ac", 2), ("trees", 1)] {
            self.entries(&self.root.join(top), depth, &mut entries, &mut swept)?;
        }
        swept.bytes_before = entries.iter().map(|e| e.bytes).sum();
        swept.bytes_after = swept.bytes_before;
        if let Some(max) = max {
            entries.sort_by_key(|e| e.used);
            for e in entries {
                if swept.bytes_after <= max {
                    break;
                }
                if e.is_dir {
                    plumbing::fs::remove_tree(&e.path)?;
                } else {
                    fs_err::remove_file(&e.path)?;
                }
                swept.bytes_after -= e.bytes;
                swept.entries_removed += 1;
            }
        }
        Ok(swept)
    }

    /// The entries `depth` levels below `dir` (a missing dir holds none); `.tmp` names
    /// are leftovers and go at once.
    fn entries(
        &self,
        dir: &Path,
        depth: usize,
        out: &mut Vec<Entry>,
        swept: &mut Swept,
    ) -> Result<()> {
        let list = match fs_err::read_dir(dir) {
            Ok(l) => l,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        for e in list {
            let e = e?;
            let path = e.path();
            let meta = fs_err::symlink_metadata(&path)?;
            if e.file_name().to_string_lossy().starts_with(".tmp") {
                plumbing::fs::remove_tree(&path)?;
                swept.leftovers_removed += 1;
            } else if depth > 1 && meta.is_dir() {
                self.entries(&path, depth - 1, out, swept)?;
            } else {
                let used = |m: &fs::Metadata| {
                    m.accessed()
                        .ok()
                        .max(m.modified().ok())
                        .unwrap_or(std::time::UNIX_EPOCH)
                };
                let (bytes, used) = if meta.is_dir() {
                    let mut bytes = 0;
                    for f in walkdir::WalkDir::new(&path) {
                        let f = f?;
                        bytes += f.metadata()?.len();
                    }
                    (bytes, used(&meta))
                } else {
                    (meta.len(), used(&meta))
                };
                out.push(Entry {
                    path,
                    bytes,
                    used,
                    is_dir: meta.is_dir(),
                });
            }
        }
        Ok(())
    }
}
