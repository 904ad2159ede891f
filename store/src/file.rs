//! A directory as a store: the embedded default, no server needed. Objects are files;
//! writes go to a temporary file beside the target, are synced, then appear with
//! `link` (create-only) or `rename` under a lock (compare-and-swap).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use release::Digest;

use crate::{Condition, ETag, PutOutcome, Store, StoreError, check_key};

pub struct FileStore {
    root: PathBuf,
}

impl FileStore {
    pub fn new(root: PathBuf) -> FileStore {
        FileStore { root }
    }

    fn path(&self, key: &str) -> Result<PathBuf, StoreError> {
        check_key(key)?;
        Ok(self.root.join(key))
    }
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn etag_of(bytes: &[u8]) -> ETag {
    ETag(Digest::of_bytes(bytes).hex())
}

fn read_if_exists(path: &Path) -> Result<Option<Vec<u8>>, StoreError> {
    // Non-blocking, so a fifo planted at a record's key cannot hang the reader; then
    // anything but a regular file is refused.
    use std::os::unix::fs::OpenOptionsExt;
    let opened = fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open(path);
    match opened {
        Ok(f) => {
            let meta = f.metadata().map_err(io_err(path))?;
            if !meta.is_file() {
                return Err(StoreError::Io {
                    path: path.to_path_buf(),
                    source: io::Error::other("not a regular file: not a record kiln wrote"),
                });
            }
            let url = path.parent().unwrap_or(path).display().to_string();
            let key = path.file_name().unwrap_or_default().to_string_lossy();
            crate::read_record(&f, &url, &key).map(Some)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(path)(e)),
    }
}

/// A temporary file beside `target`, removed on drop unless it was renamed away.
struct Temp {
    path: PathBuf,
}

impl Temp {
    fn write(target: &Path, body: &mut dyn Read) -> Result<Temp, StoreError> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let dir = target.parent().expect("store paths have a parent");
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        let name = target.file_name().unwrap_or_default().to_string_lossy();
        let path = dir.join(format!(
            ".tmp-{}-{}-{name}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let temp = Temp { path };
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp.path)
            .map_err(io_err(&temp.path))?;
        io::copy(body, &mut f).map_err(io_err(&temp.path))?;
        f.flush().map_err(io_err(&temp.path))?;
        f.sync_all().map_err(io_err(&temp.path))?;
        Ok(temp)
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

impl Store for FileStore {
    fn url(&self) -> String {
        format!("file://{}", self.root.display())
    }

    fn get(&self, key: &str) -> Result<Option<(Vec<u8>, ETag)>, StoreError> {
        let path = self.path(key)?;
        Ok(read_if_exists(&path)?.map(|b| {
            let tag = etag_of(&b);
            (b, tag)
        }))
    }

    fn open_at(&self, key: &str, offset: u64) -> Result<Option<Box<dyn Read + Send>>, StoreError> {
        use std::io::Seek;
        let path = self.path(key)?;
        match File::open(&path) {
            Ok(mut f) => {
                f.seek(io::SeekFrom::Start(offset)).map_err(io_err(&path))?;
                Ok(Some(Box::new(f)))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(&path)(e)),
        }
    }

    fn put(
        &self,
        key: &str,
        body: &mut dyn Read,
        condition: Condition,
    ) -> Result<PutOutcome, StoreError> {
        let path = self.path(key)?;
        let temp = Temp::write(&path, body)?;
        let dir = path.parent().expect("store paths have a parent");
        match condition {
            Condition::IfAbsent => match fs::hard_link(&temp.path, &path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    return Ok(PutOutcome::ConditionFailed);
                }
                Err(e) => return Err(io_err(&path)(e)),
            },
            Condition::IfMatch(expected) => {
                // The lock orders writers; the rename is what makes the switch atomic.
                let lock_path = dir.join(format!(
                    ".lock-{}",
                    path.file_name().unwrap_or_default().to_string_lossy()
                ));
                let lock = OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(&lock_path)
                    .map_err(io_err(&lock_path))?;
                lock.lock().map_err(io_err(&lock_path))?;
                let current = read_if_exists(&path)?;
                if current.map(|b| etag_of(&b)) != Some(expected) {
                    return Ok(PutOutcome::ConditionFailed);
                }
                fs::rename(&temp.path, &path).map_err(io_err(&path))?;
            }
            Condition::Always => fs::rename(&temp.path, &path).map_err(io_err(&path))?,
        }
        sync_dir(dir)?;
        Ok(PutOutcome::Written)
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        // Walk only the directory the prefix names, then filter by the full prefix.
        let dir_part = prefix.rsplit_once('/').map_or("", |(d, _)| d);
        let start = self.root.join(dir_part);
        let mut out = Vec::new();
        let mut stack = vec![start];
        while let Some(dir) = stack.pop() {
            let entries = match fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io_err(&dir)(e)),
            };
            for entry in entries {
                let entry = entry.map_err(io_err(&dir))?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with(".tmp-") || name.starts_with(".lock-") {
                    continue;
                }
                let path = entry.path();
                let ft = entry.file_type().map_err(io_err(&path))?;
                if ft.is_dir() {
                    stack.push(path);
                } else if let Ok(rel) = path.strip_prefix(&self.root) {
                    let key = rel.to_string_lossy().into_owned();
                    if key.starts_with(prefix) {
                        out.push(key);
                    }
                }
            }
        }
        out.sort();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_only_and_compare_and_swap() {
        let dir = tempfile::tempdir().unwrap();
        let s = FileStore::new(dir.path().join("store"));
        let put = |k: &str, b: &[u8], c| s.put(k, &mut &b[..], c).unwrap();
        assert_eq!(
            put("a/1/x", b"one", Condition::IfAbsent),
            PutOutcome::Written
        );
        assert_eq!(
            put("a/1/x", b"two", Condition::IfAbsent),
            PutOutcome::ConditionFailed
        );
        let (bytes, tag) = s.get("a/1/x").unwrap().unwrap();
        assert_eq!(bytes, b"one");
        assert_eq!(
            put("a/1/x", b"three", Condition::IfMatch(ETag("nope".into()))),
            PutOutcome::ConditionFailed
        );
        assert_eq!(
            put("a/1/x", b"three", Condition::IfMatch(tag)),
            PutOutcome::Written
        );
        assert_eq!(s.get("a/1/x").unwrap().unwrap().0, b"three");
        assert_eq!(s.list("a/").unwrap(), vec!["a/1/x".to_string()]);
        assert!(s.get("missing").unwrap().is_none());
        // Nothing temporary is left behind.
        let names: Vec<_> = fs::read_dir(dir.path().join("store/a/1"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".tmp-"))
            .collect();
        assert!(names.is_empty(), "{names:?}");
    }

    #[test]
    fn refuses_keys_that_leave_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let s = FileStore::new(dir.path().to_path_buf());
        assert!(s.get("../etc/passwd").is_err());
        assert!(s.get("/abs").is_err());
    }
}
