//! `kiln-out/`: the one place kiln writes inside a workspace, and the one piece of code
//! that writes there. A change under review controls every file it commits, symlinks
//! included, so nothing here follows a link: the directory and every component below
//! it are opened with `O_NOFOLLOW` relative to the handle of the one above (an
//! `openat` walk, never a path string), and a component that is a symlink, not a
//! directory, or owned by another user is refused with exit 2 before anything is
//! written. Files appear by temp file + `renameat` inside the directory they land in.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use rustix::fs::{AtFlags, CWD, FileType, Mode, OFlags};
use rustix::io::Errno;

use crate::error::{Code, Result, hinted};

pub const OUT_DIR: &str = "kiln-out";

/// The top-level names below kiln-out/ that hold kiln's own files, never outputs.
pub const RESERVED: &[&str] = &[".kiln", "logs", "testlogs"];

pub struct OutDir {
    /// The workspace root.
    root: OwnedFd,
    /// kiln-out itself, opened (and created) on first use: a build that fails before
    /// writing anything leaves no kiln-out behind.
    fd: OnceLock<OwnedFd>,
    /// Directories below it already walked and checked, by their path below kiln-out.
    opened: Mutex<HashMap<String, Arc<OwnedFd>>>,
    uid: u32,
}

/// What `stat` says of a file below kiln-out/ (never of a link's target).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime_ns: i128,
}

const DIR_FLAGS: OFlags = OFlags::DIRECTORY
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC)
    .union(OFlags::RDONLY);

impl OutDir {
    /// Open (creating it if need be) `<ws_root>/kiln-out`. `ws_root` is the canonical
    /// workspace root kiln found; everything below it is checked.
    pub fn open(ws_root: &Path) -> Result<OutDir> {
        let root = rustix::fs::open(ws_root, DIR_FLAGS, Mode::empty())
            .map_err(|e| anyhow::anyhow!("opening the workspace {}: {e}", ws_root.display()))?;
        let out = OutDir {
            root,
            fd: OnceLock::new(),
            opened: Mutex::new(HashMap::new()),
            uid: rustix::process::geteuid().as_raw(),
        };
        // Check what is there now, so a refusal comes before any work (kiln's own
        // state below .kiln is written best effort, where a refusal would go unseen).
        if out.dir(false)?.is_some() {
            out.parent(".kiln/x", false)?;
        }
        Ok(out)
    }

    /// kiln-out, opened once; None when it does not exist and `create` is false.
    fn dir(&self, create: bool) -> Result<Option<&OwnedFd>> {
        if let Some(fd) = self.fd.get() {
            return Ok(Some(fd));
        }
        let Some(fd) = step(&self.root, OUT_DIR, Path::new(OUT_DIR), self.uid, create)? else {
            return Ok(None);
        };
        Ok(Some(self.fd.get_or_init(|| fd)))
    }

    /// `<ws_root>/kiln-out`.
    pub fn path(ws_root: &Path) -> PathBuf {
        ws_root.join(OUT_DIR)
    }

    /// `kiln-out/<rel>` as users see it (relative to the workspace root).
    pub fn display(rel: &str) -> PathBuf {
        Path::new(OUT_DIR).join(rel)
    }

    /// The directory holding `rel`, walked one component at a time; None when a
    /// component is missing and `create` is false.
    fn parent(&self, rel: &str, create: bool) -> Result<Option<(Arc<OwnedFd>, String)>> {
        let parts: Vec<&str> = rel.split('/').collect();
        assert!(
            parts
                .iter()
                .all(|p| !p.is_empty() && *p != "." && *p != ".."),
            "kiln-out paths are plain relative paths: {rel:?}"
        );
        let (name, dirs) = parts.split_last().expect("split yields one part");
        let key = dirs.join("/");
        if let Some(fd) = self.opened.lock().expect("not poisoned").get(&key) {
            return Ok(Some((fd.clone(), name.to_string())));
        }
        let Some(top) = self.dir(create)? else {
            return Ok(None);
        };
        let mut fd = rustix::io::fcntl_dupfd_cloexec(top, 0)?;
        let mut at = PathBuf::from(OUT_DIR);
        for d in dirs {
            at.push(d);
            match step(&fd, d, &at, self.uid, create)? {
                Some(next) => fd = next,
                None => return Ok(None),
            }
        }
        // Checked once: a build writes many files into few directories.
        let fd = Arc::new(fd);
        self.opened
            .lock()
            .expect("not poisoned")
            .insert(key, fd.clone());
        Ok(Some((fd, name.to_string())))
    }

    /// Refuse a symlink (or a directory) where kiln puts a file; replacing it by rename
    /// would be harmless, but it means someone put it there.
    fn check_leaf(&self, dir: &OwnedFd, name: &str, rel: &str) -> Result<Option<Stamp>> {
        match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => {
                let kind = FileType::from_raw_mode(st.st_mode);
                if kind != FileType::RegularFile {
                    return Err(refused(&Self::display(rel), kind));
                }
                Ok(Some(stamp(&st)))
            }
            Err(Errno::NOENT) => Ok(None),
            Err(e) => Err(anyhow::anyhow!("{}: {e}", Self::display(rel).display())),
        }
    }

    /// What is at `rel` now, if it is a regular file kiln could have written.
    pub fn stat(&self, rel: &str) -> Option<Stamp> {
        let (dir, name) = self.parent(rel, false).ok()??;
        let st = rustix::fs::statat(&dir, name.as_str(), AtFlags::SYMLINK_NOFOLLOW).ok()?;
        (FileType::from_raw_mode(st.st_mode) == FileType::RegularFile).then(|| stamp(&st))
    }

    /// The bytes of `rel`, never through a link; None when it is not there.
    pub fn read(&self, rel: &str) -> Option<Vec<u8>> {
        let (dir, name) = self.parent(rel, false).ok()??;
        let fd = rustix::fs::openat(
            &dir,
            name.as_str(),
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .ok()?;
        let mut out = Vec::new();
        std::fs::File::from(fd).read_to_end(&mut out).ok()?;
        Some(out)
    }

    /// Write `rel` whole (temp file + rename in its own directory).
    pub fn write(&self, rel: &str, bytes: &[u8]) -> Result<()> {
        self.put(rel, |dir, tmp| {
            let mut f = create_new(dir, tmp, 0o644)?;
            f.write_all(bytes)?;
            Ok(())
        })
    }

    /// Copy the file at `src` (kiln's own scratch or cache) to `rel`.
    pub fn copy_in(&self, src: &Path, rel: &str) -> Result<()> {
        self.put(rel, |dir, tmp| {
            let mut from = fs_err::File::open(src)?;
            let mut f = create_new(dir, tmp, 0o644)?;
            std::io::copy(&mut from, &mut f)?;
            Ok(())
        })
    }

    /// Put the CAS blob at `rel`: a hard link where the cache shares the file system,
    /// a copy otherwise. Returns false when `rel` already was that very blob.
    pub fn place(&self, blob: &Path, rel: &str) -> Result<bool> {
        let (dir, name) = self.parent(rel, true)?.expect("created");
        if let Some(have) = self.check_leaf(&dir, &name, rel)?
            && let Ok(b) = rustix::fs::stat(blob)
            && (have.dev, have.ino) == (b.st_dev, b.st_ino)
        {
            return Ok(false);
        }
        self.put_in(&dir, &name, rel, |dir, tmp| {
            if rustix::fs::linkat(CWD, blob, dir, tmp, AtFlags::empty()).is_ok() {
                return Ok(());
            }
            let mut from = fs_err::File::open(blob)?;
            let mut f = create_new(dir, tmp, 0o444)?;
            std::io::copy(&mut from, &mut f)?;
            Ok(())
        })?;
        Ok(true)
    }

    fn put(&self, rel: &str, fill: impl FnOnce(&OwnedFd, &str) -> Result<()>) -> Result<()> {
        let (dir, name) = self.parent(rel, true)?.expect("created");
        self.check_leaf(&dir, &name, rel)?;
        self.put_in(&dir, &name, rel, fill)
    }

    fn put_in(
        &self,
        dir: &OwnedFd,
        name: &str,
        rel: &str,
        fill: impl FnOnce(&OwnedFd, &str) -> Result<()>,
    ) -> Result<()> {
        static N: AtomicU64 = AtomicU64::new(0);
        let tmp = format!(
            ".tmp-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let result = fill(dir, &tmp).and_then(|()| {
            rustix::fs::renameat(dir, tmp.as_str(), dir, name)
                .map_err(|e| anyhow::anyhow!("writing {}: {e}", Self::display(rel).display()))
        });
        if result.is_err() {
            let _ = rustix::fs::unlinkat(dir, tmp.as_str(), AtFlags::empty());
        }
        result
    }
}

fn create_new(dir: &OwnedFd, name: &str, mode: u32) -> Result<std::fs::File> {
    let fd = rustix::fs::openat(
        dir,
        name,
        OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_raw_mode(mode),
    )?;
    Ok(std::fs::File::from(fd))
}

fn stamp(st: &rustix::fs::Stat) -> Stamp {
    Stamp {
        dev: st.st_dev,
        ino: st.st_ino,
        size: st.st_size as u64,
        mtime_ns: st.st_mtime as i128 * 1_000_000_000 + st.st_mtime_nsec as i128,
    }
}

/// Open the directory `name` below `parent` without following a link, creating it
/// when missing and `create`; refuse anything that is not kiln's own directory.
/// `path` is the directory as users see it, relative to the workspace root.
fn step(
    parent: &impl AsFd,
    name: &str,
    path: &Path,
    uid: u32,
    create: bool,
) -> Result<Option<OwnedFd>> {
    let open = || rustix::fs::openat(parent, name, DIR_FLAGS, Mode::empty());
    let fd = match open() {
        Ok(fd) => fd,
        Err(Errno::NOENT) if create => {
            match rustix::fs::mkdirat(parent, name, Mode::from_raw_mode(0o755)) {
                Ok(()) | Err(Errno::EXIST) => {}
                Err(e) => return Err(anyhow::anyhow!("creating {}: {e}", path.display())),
            }
            open().map_err(|e| classify(parent, name, path, e))?
        }
        Err(Errno::NOENT) => return Ok(None),
        Err(e) => return Err(classify(parent, name, path, e)),
    };
    let st = rustix::fs::fstat(&fd)?;
    if st.st_uid != uid {
        return Err(hinted(
            Code::BadInput,
            format!(
                "{} belongs to uid {}, not to the user kiln runs as (uid {uid}): kiln writes nothing into it",
                path.display(),
                st.st_uid
            ),
            format!("remove it (rm -r {}) and build again", path.display()),
        ));
    }
    Ok(Some(fd))
}

/// Why a directory component could not be opened: a link or a file is the workspace's
/// doing (exit 2); anything else is the environment's.
fn classify(parent: &impl AsFd, name: &str, path: &Path, e: Errno) -> anyhow::Error {
    match rustix::fs::statat(parent, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) if matches!(e, Errno::LOOP | Errno::NOTDIR) => {
            refused(path, FileType::from_raw_mode(st.st_mode))
        }
        _ => anyhow::anyhow!("opening {}: {e}", path.display()),
    }
}

fn refused(path: &Path, kind: FileType) -> anyhow::Error {
    let what = match kind {
        FileType::Symlink => "a symlink",
        FileType::Directory => "a directory",
        FileType::RegularFile => "a file",
        _ => "a special file",
    };
    let shown = path.display();
    hinted(
        Code::BadInput,
        format!(
            "{shown} is {what}, not what kiln put there: kiln writes nothing through it, and nothing outside the workspace was touched"
        ),
        format!(
            "remove it (rm {shown}) and build again; kiln-out/ holds only what kiln writes, so never commit it (add it to .gitignore)"
        ),
    )
}

/// `dir/file` below kiln-out/, where `dir` may be "" (the root package).
pub fn in_package(dir: &str, file: &str) -> String {
    let dir = dir.trim_end_matches('/');
    if dir.is_empty() {
        file.to_string()
    } else {
        format!("{dir}/{file}")
    }
}
