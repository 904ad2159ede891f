//! Downloading a bundle into `var/cache/kiln/`: to `<sha256>.partial` (resumed from
//! where it stopped), checking size and sha256 while streaming, then renamed to
//! `<sha256>.tar.gz` only when both match the release record.

use fs_err::OpenOptions;
use fs_err::os::unix::fs::OpenOptionsExt;
use std::io::{Read, Seek, Write};
use std::path::PathBuf;

use release::{Hasher, Release};
use store::Store;

use crate::error::{Code, Result, hinted};
use crate::layout::Layout;

pub fn bundle(
    layout: &Layout,
    store: &dyn Store,
    rel: &Release,
    show: &dyn plumbing::progress::Reporter,
) -> Result<PathBuf> {
    let dir = layout.cache_dir();
    crate::layout::own_dir(layout, &dir)?;
    let sha = rel.bundle.sha256;
    let done = dir.join(format!("{sha}.tar.gz"));
    // A whole download left by an earlier run is used only if it still has the bytes
    // the release record names; anything else there is thrown away.
    if fs_err::symlink_metadata(&done).is_ok() {
        if fs_err::symlink_metadata(&done).is_ok_and(|m| m.is_file() && m.len() == rel.bundle.size)
            && plumbing::fs::hash_file(&done).ok().map(|(_, d)| d) == Some(sha)
        {
            return Ok(done);
        }
        crate::unpack::remove_tree(&done)?;
    }
    let partial = dir.join(format!("{sha}.partial"));
    let resumed = fs_err::metadata(&partial).is_ok_and(|m| m.len() > 0);
    let mut result = download(store, rel, &partial, &done, show);
    // A mismatch is the one failure that discards the partial file (a full disk does
    // too, but is not `Failed`).
    let mismatch = |r: &Result<PathBuf>| {
        r.as_ref()
            .is_err_and(|e| plumbing::error::describe(e).code == Code::Failed as i32)
            && !partial.exists()
    };
    if resumed && mismatch(&result) {
        // The bytes kept from an earlier run were bad (a local file damaged, not
        // necessarily the store): discarded already; once more from the start.
        plumbing::style::warning(
            "the partial download did not match its release record; downloading it again from the start",
        );
        result = download(store, rel, &partial, &done, show);
    }
    // A download that failed before it wrote a byte leaves nothing to resume.
    if result.is_err() && fs_err::metadata(&partial).is_ok_and(|m| m.len() == 0) {
        let _ = fs_err::remove_file(&partial);
    }
    result
}

/// Download to `partial` (resuming what it holds), checking size and sha256 while
/// streaming, and rename it to `done` when both match.
fn download(
    store: &dyn Store,
    rel: &Release,
    partial: &std::path::Path,
    done: &std::path::Path,
    show: &dyn plumbing::progress::Reporter,
) -> Result<PathBuf> {
    let sha = rel.bundle.sha256;
    // Only a regular file kiln-fetch wrote is resumed; a link in its place is removed,
    // never followed.
    if fs_err::symlink_metadata(partial).is_ok_and(|m| !m.is_file()) {
        fs_err::remove_file(partial)?;
    }
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(partial)
        .map_err(|e| anyhow::Error::new(e).context(partial.display().to_string()))?;
    let mut have = file.metadata()?.len();
    if have > rel.bundle.size {
        file.set_len(0)?;
        have = 0;
    }
    let mut hasher = Hasher::new();
    file.rewind()?;
    std::io::copy(&mut (&mut file).take(have), &mut hasher)?;
    file.seek(std::io::SeekFrom::Start(have))?;

    let key = release::bundle_key(&rel.package, rel.build);
    let mut body: Box<dyn Read + Send> = if have == rel.bundle.size {
        Box::new(std::io::empty())
    } else {
        store
        .open_at(&key, have)
        .map_err(store::StoreError::classify)?
        .ok_or_else(|| {
            hinted(
                Code::Failed,
                format!("{}/{key} is missing: the release record names a bundle the store does not have", store.url()),
                format!("publish build {} of {} again from CI, or install another build (`kiln releases {}` lists them)", rel.build, rel.package, rel.package),
            )
        })?
    };
    let mut buf = vec![0u8; 256 * 1024];
    let mut paused = false;
    loop {
        let n = match body.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let _ = file.sync_all();
                return Err(hinted(
                    Code::Env,
                    format!(
                        "downloading {key} stopped after {} bytes: {e}",
                        hasher.len()
                    ),
                    "run the same command again: the download resumes where it stopped",
                ));
            }
        };
        if hasher.len() + n as u64 > rel.bundle.size {
            drop(file);
            let _ = fs_err::remove_file(partial);
            return Err(tampered(
                &key,
                format!(
                    "the store sent more than the {} bytes the release record says",
                    rel.bundle.size
                ),
            ));
        }
        if let Err(e) = file.write_all(&buf[..n]) {
            drop(file);
            // What was written cannot be finished without the space it holds.
            let _ = fs_err::remove_file(partial);
            return Err(if plumbing::fs::is_full(&e) {
                disk_full(partial, rel.bundle.size - hasher.len(), rel.bundle.size)
            } else {
                anyhow::Error::new(e).context(partial.display().to_string())
            });
        }
        hasher.update(&buf[..n]);
        show.bytes("downloading", hasher.len(), Some(rel.bundle.size));
        if !paused {
            paused = true;
            file.flush()?;
            plumbing::fault::pause("download");
        }
    }
    if let Err(e) = file.sync_all() {
        drop(file);
        let _ = fs_err::remove_file(partial);
        return Err(if plumbing::fs::is_full(&e) {
            disk_full(partial, rel.bundle.size, rel.bundle.size)
        } else {
            anyhow::Error::new(e).context(partial.display().to_string())
        });
    }
    drop(file);
    let (size, actual) = (hasher.len(), hasher.finish());
    if size != rel.bundle.size || actual != sha {
        let _ = fs_err::remove_file(partial);
        return Err(tampered(
            &key,
            format!(
                "expected {} bytes with sha256 {sha}, got {size} bytes with sha256 {actual}",
                rel.bundle.size
            ),
        ));
    }
    fs_err::rename(partial, done)?;
    Ok(done.to_path_buf())
}

fn disk_full(partial: &std::path::Path, more: u64, size: u64) -> anyhow::Error {
    hinted(
        Code::Env,
        format!(
            "the disk is full: downloading to {} needs {more} more bytes (the bundle is {size} bytes); the partial download was removed",
            partial.display()
        ),
        "free space there (kiln-fetch gc removes old builds and cached downloads) and run again; nothing was installed",
    )
}

/// Hold `var/cache/kiln/.lock` while a download is written or unpacked (shared) or
/// while `gc` empties the cache (exclusive, and only if nobody holds it).
pub fn cache_lock(layout: &Layout, exclusive: bool) -> Result<Option<std::fs::File>> {
    let dir = layout.cache_dir();
    crate::layout::own_dir(layout, &dir)?;
    let f = crate::state::lock_file(&dir.join(".lock"))?;
    if !exclusive {
        f.lock_shared()?;
        return Ok(Some(f));
    }
    match f.try_lock() {
        Ok(()) => Ok(Some(f)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(e.into()),
    }
}

/// Remove every cached download (partial or whole): what `gc` frees. Returns the
/// count and the bytes; nothing if an install holds the cache.
pub fn clean_cache(layout: &Layout) -> Result<Option<(u64, u64)>> {
    if !layout.cache_dir().is_dir() {
        return Ok(Some((0, 0)));
    }
    let Some(_lock) = cache_lock(layout, true)? else {
        return Ok(None);
    };
    let (mut files, mut bytes) = (0, 0);
    for e in fs_err::read_dir(layout.cache_dir())? {
        let e = e?;
        if e.file_name() == ".lock" {
            continue;
        }
        let meta = fs_err::symlink_metadata(e.path())?;
        crate::unpack::remove_tree(&e.path())?;
        files += 1;
        bytes += meta.len();
    }
    Ok(Some((files, bytes)))
}

fn tampered(key: &str, detail: String) -> anyhow::Error {
    hinted(
        Code::Failed,
        format!("{key} does not match its release record: {detail}"),
        "the bundle in the store is corrupt or was tampered with; nothing was installed and the download was discarded",
    )
}
