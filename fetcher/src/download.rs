//! Downloading a bundle into `var/cache/kiln/`: to `<sha256>.partial` (resumed from
//! where it stopped), checking size and sha256 while streaming, then renamed to
//! `<sha256>.tar.gz` only when both match the release record.

use std::fs::OpenOptions;
use std::io::{Read, Seek, Write};
use std::path::PathBuf;

use release::{Hasher, Release};
use store::Store;

use crate::error::{Code, Result, err, hinted};
use crate::layout::Layout;
use crate::testhook;

pub fn bundle(
    layout: &Layout,
    store: &dyn Store,
    rel: &Release,
    show: &dyn Fn(u64, u64),
) -> Result<PathBuf> {
    let dir = layout.cache_dir();
    fs_err::create_dir_all(&dir)?;
    let sha = rel.bundle.sha256;
    let done = dir.join(format!("{sha}.tar.gz"));
    if std::fs::metadata(&done).is_ok_and(|m| m.len() == rel.bundle.size) {
        return Ok(done);
    }
    let partial = dir.join(format!("{sha}.partial"));
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&partial)?;
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
        .map_err(crate::error::store)?
        .ok_or_else(|| {
            err(
                Code::Failed,
                format!("{}/{key} is missing: the release record names a bundle the store does not have", store.url()),
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
            let _ = std::fs::remove_file(&partial);
            return Err(tampered(
                &key,
                format!(
                    "the store sent more than the {} bytes the release record says",
                    rel.bundle.size
                ),
            ));
        }
        file.write_all(&buf[..n])?;
        hasher.update(&buf[..n]);
        show(hasher.len(), rel.bundle.size);
        if !paused {
            paused = true;
            file.flush()?;
            testhook::pause("download");
        }
    }
    file.sync_all()?;
    drop(file);
    let (size, actual) = (hasher.len(), hasher.finish());
    if size != rel.bundle.size || actual != sha {
        let _ = std::fs::remove_file(&partial);
        return Err(tampered(
            &key,
            format!(
                "expected {} bytes with sha256 {sha}, got {size} bytes with sha256 {actual}",
                rel.bundle.size
            ),
        ));
    }
    fs_err::rename(&partial, &done)?;
    Ok(done)
}

fn tampered(key: &str, detail: String) -> anyhow::Error {
    hinted(
        Code::Failed,
        format!("{key} does not match its release record: {detail}"),
        "the bundle in the store is corrupt or was tampered with; nothing was installed and the download was discarded",
    )
}
