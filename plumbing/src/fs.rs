//! File helpers both binaries use, on fs-err (every error names its path): fresh temp
//! names, atomic replacement, hashing, locks, and [`remove_tree`]. None of them follows
//! a link it did not create.

use fs_err::os::unix::fs::OpenOptionsExt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Code, Result, hinted};

pub use crate::remove::remove_tree;

/// `O_NOFOLLOW`, for `OpenOptions::custom_flags`.
pub const NOFOLLOW: i32 = rustix::fs::OFlags::NOFOLLOW.bits() as i32;

/// `dir/<prefix>-<pid>-<n>`: unique among this process's names and other processes'.
/// Nothing is created.
pub fn temp_name(dir: &Path, prefix: &str) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    dir.join(format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

/// The OS error number of an I/O error, also through fs-err's wrapper. fs-err names
/// the path and keeps the OS error's message (std's `... (os error N)`) but hides the
/// number from `raw_os_error`; exposing it (its `expose_original_error` feature) would
/// drop the cause from every message that formats the error, so the number is read
/// back from the message here, in the one place that needs it.
#[allow(clippy::disallowed_methods)] // the one place that reads it
pub fn errno(e: &std::io::Error) -> Option<i32> {
    e.raw_os_error().or_else(|| {
        let text = e.to_string();
        let at = text.rfind("(os error ")?;
        text[at + "(os error ".len()..]
            .strip_suffix(')')?
            .parse()
            .ok()
    })
}

/// Whether an I/O error is a full disk (or quota).
pub fn is_full(e: &std::io::Error) -> bool {
    [rustix::io::Errno::NOSPC, rustix::io::Errno::DQUOT]
        .iter()
        .any(|n| errno(e) == Some(n.raw_os_error()))
}

/// Replace `path` with `bytes`: a temp file beside it, created exclusively (a link in
/// its place is never followed), synced when `sync`, renamed over `path`. A `kill -9`
/// leaves the old file or the new one, never a torn one; a failure leaves no temp file,
/// and a full disk is named as such.
pub fn write_atomic(path: &Path, bytes: &[u8], sync: bool) -> Result<()> {
    let dir = path
        .parent()
        .expect("an atomic write has a parent directory");
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = temp_name(dir, &format!(".tmp-{name}"));
    write_atomic_via(&tmp, path, bytes, sync, "free space there and run again")
}

/// [`write_atomic`] through the temp file `tmp` (beside `path`), for callers whose
/// crash recovery knows their temp names; `full_hint` says what to do about a full disk.
pub fn write_atomic_via(
    tmp: &Path,
    path: &Path,
    bytes: &[u8],
    sync: bool,
    full_hint: &str,
) -> Result<()> {
    match write_via(tmp, path, bytes, sync) {
        Ok(()) => Ok(()),
        Err(e) if is_full(&e) => Err(hinted(
            Code::Env,
            format!(
                "the disk is full: writing {} needs {} bytes",
                path.display(),
                bytes.len()
            ),
            full_hint,
        )),
        Err(e) => Err(e.into()),
    }
}

/// Write `tmp` exclusively, sync it when `sync`, rename it over `path`; on failure the
/// temp file is removed.
fn write_via(tmp: &Path, path: &Path, bytes: &[u8], sync: bool) -> std::io::Result<()> {
    let written = (|| -> std::io::Result<()> {
        let mut f = fs_err::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(tmp)?;
        f.write_all(bytes)?;
        if sync {
            f.sync_all()?;
        }
        fs_err::rename(tmp, path)
    })();
    if written.is_err() {
        let _ = fs_err::remove_file(tmp);
    }
    written
}

/// A text file kiln reads (BUILD.toml, WORKSPACE.toml, fetch.toml): its bytes must be
/// UTF-8, else the error is bad input naming the file, the line and the byte.
pub fn read_text(path: &Path) -> Result<String> {
    let bytes = fs_err::read(path)?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let good = String::from_utf8_lossy(&e.as_bytes()[..at]).into_owned();
        let (line, col) = crate::error::line_col(&good, at);
        hinted(
            Code::BadInput,
            format!(
                "{}:{line}:{col}: not UTF-8 text (byte {at} is not part of a UTF-8 character)",
                path.display()
            ),
            "save the file as UTF-8",
        )
    })
}

/// Stream a file through sha256, never through a link: its size and digest.
pub fn hash_file(path: &Path) -> std::io::Result<(u64, release::Digest)> {
    let mut f = fs_err::OpenOptions::new()
        .read(true)
        .custom_flags(NOFOLLOW)
        .open(path)?;
    let mut h = release::Hasher::new();
    std::io::copy(&mut f, &mut h)?;
    Ok((h.len(), h.finish()))
}

/// Open (creating) a lock file, never through a link; lock it with `lock()` or
/// `lock_shared()` on the returned file.
pub fn lock_file(path: &Path) -> std::io::Result<std::fs::File> {
    fs_err::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .custom_flags(NOFOLLOW)
        .open(path)
        .map(fs_err::File::into_parts)
        .map(|(f, _)| f)
}

/// Whether an I/O error is `ELOOP`: the last component was a link under `O_NOFOLLOW`.
pub fn is_link_refused(e: &std::io::Error) -> bool {
    errno(e) == Some(rustix::io::Errno::LOOP.raw_os_error())
}

/// Now, as RFC 3339 in whole seconds (UTC): every timestamp kiln writes.
pub fn now_rfc3339() -> String {
    rfc3339(std::time::SystemTime::now())
}

pub fn rfc3339(t: std::time::SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

/// Parse an RFC 3339 timestamp.
pub fn parse_rfc3339(s: &str) -> Result<std::time::SystemTime, String> {
    humantime::parse_rfc3339(s).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_never_follows() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("f");
        write_atomic(&p, b"one", true).unwrap();
        write_atomic(&p, b"two", false).unwrap();
        assert_eq!(fs_err::read(&p).unwrap(), b"two");
        // A link in the file's place is replaced, its target untouched.
        let target = tmp.path().join("target");
        fs_err::write(&target, "keep").unwrap();
        let l = tmp.path().join("l");
        fs_err::os::unix::fs::symlink(&target, &l).unwrap();
        write_atomic(&l, b"new", false).unwrap();
        assert_eq!(fs_err::read(&target).unwrap(), b"keep");
        assert!(!fs_err::symlink_metadata(&l).unwrap().is_symlink());
        assert_eq!(fs_err::read_dir(tmp.path()).unwrap().count(), 3);
        assert!(hash_file(&l).is_ok());
        fs_err::os::unix::fs::symlink(&target, tmp.path().join("l2")).unwrap();
        assert!(hash_file(&tmp.path().join("l2")).is_err());
        let refused = lock_file(&tmp.path().join("l2")).unwrap_err();
        assert!(is_link_refused(&refused), "{refused}");
        assert!(
            refused.to_string().contains("l2"),
            "the path is named: {refused}"
        );
    }
}
