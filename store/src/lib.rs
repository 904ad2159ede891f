//! The `Store` trait: keyed objects with create-only and compare-and-swap writes, used
//! by publishing and promoting, the remote build cache and the host fetcher. Key
//! layout is computed in `release`, never here. A store never exposes a half-written
//! object: writes land under a temporary name and appear whole or not at all.

mod file;
#[cfg(feature = "https")]
mod http;
#[cfg(feature = "s3")]
mod s3;

use std::io::Read;
use std::path::{Path, PathBuf};

pub use file::FileStore;
#[cfg(feature = "https")]
pub use http::{HttpStore, describe as describe_http_error};
#[cfg(feature = "s3")]
pub use s3::S3Store;

/// An opaque version tag of an object, for compare-and-swap writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ETag(pub String);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// Write only if no object exists under the key.
    IfAbsent,
    /// Write only if the object still has this tag.
    IfMatch(ETag),
    /// Write whatever is there: for objects only one writer ever writes (a host's
    /// receipt).
    Always,
}

/// What a conditional read ([`Store::poll`]) found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poll {
    /// Still the object of the tag given: nothing was transferred.
    Unchanged,
    Changed(Vec<u8>, ETag),
    Missing,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutOutcome {
    Written,
    /// The condition did not hold; nothing was written.
    ConditionFailed,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{url}: {why}")]
    BadUrl { url: String, why: String },
    #[error("store key {0:?} is not valid")]
    BadKey(String),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The store could not be reached or answered with an error, after retries.
    #[error("{url}: {why}")]
    Unreachable { url: String, why: String },
    /// A small object (a record, pointer or signature) larger than [`MAX_RECORD`]:
    /// never read whole into memory.
    #[error(
        "{url}/{key} is {size} bytes, more than the {limit} a record may have: not a record kiln wrote"
    )]
    TooLarge {
        url: String,
        key: String,
        size: u64,
        limit: u64,
    },
    /// The store does not support this operation (writing to an https mirror).
    #[error("{url}: {why}")]
    Unsupported { url: String, why: String },
}

impl StoreError {
    /// The one classification of a store error for both binaries: an unreachable store
    /// and I/O are the environment (exit 3), a bad URL or key bad input (2), an object
    /// kiln did not write the work failing (1).
    pub fn classify(self) -> anyhow::Error {
        use plumbing::error::{Code, err, hinted};
        match self {
            StoreError::Io { .. } | StoreError::Unreachable { .. } => {
                err(Code::Env, self.to_string())
            }
            StoreError::BadUrl { .. } | StoreError::BadKey(_) | StoreError::Unsupported { .. } => {
                err(Code::BadInput, self.to_string())
            }
            StoreError::TooLarge { .. } => hinted(
                Code::Failed,
                self.to_string(),
                "someone wrote that object without kiln: inspect it and remove it",
            ),
        }
    }
}

/// The most `get` reads: records, pointers, signatures and keys records are a few KB.
pub const MAX_RECORD: u64 = 4 << 20;

/// Read at most [`MAX_RECORD`] bytes of `body`, or say how much larger it is.
pub fn read_record(
    mut body: impl std::io::Read,
    url: &str,
    key: &str,
) -> Result<Vec<u8>, StoreError> {
    let mut out = Vec::new();
    (&mut body)
        .take(MAX_RECORD + 1)
        .read_to_end(&mut out)
        .map_err(|e| StoreError::Unreachable {
            url: url.to_string(),
            why: format!("reading {key}: {e}"),
        })?;
    if out.len() as u64 > MAX_RECORD {
        return Err(StoreError::TooLarge {
            url: url.to_string(),
            key: key.to_string(),
            size: out.len() as u64,
            limit: MAX_RECORD,
        });
    }
    Ok(out)
}

pub trait Store: Send + Sync {
    /// The store's URL, for messages.
    fn url(&self) -> String;

    /// A small object and its tag, or None when absent; one larger than [`MAX_RECORD`]
    /// is an error, never read whole.
    fn get(&self, key: &str) -> Result<Option<(Vec<u8>, ETag)>, StoreError>;

    /// Read a small object unless it still has the tag `known`: a conditional GET
    /// (If-None-Match) where the backend has one, so an idle poll moves no body. The
    /// default reads it and compares tags.
    fn poll(&self, key: &str, known: Option<&ETag>) -> Result<Poll, StoreError> {
        Ok(match self.get(key)? {
            None => Poll::Missing,
            Some((_, tag)) if Some(&tag) == known => Poll::Unchanged,
            Some((bytes, tag)) => Poll::Changed(bytes, tag),
        })
    }

    /// A streaming reader over an object, or None when absent.
    fn open(&self, key: &str) -> Result<Option<Box<dyn Read + Send>>, StoreError> {
        self.open_at(key, 0)
    }

    /// A streaming reader over an object from byte `offset` on (to resume a
    /// download), or None when absent.
    fn open_at(&self, key: &str, offset: u64) -> Result<Option<Box<dyn Read + Send>>, StoreError>;

    /// Write `body` under `key` if `condition` holds.
    fn put(
        &self,
        key: &str,
        body: &mut dyn Read,
        condition: Condition,
    ) -> Result<PutOutcome, StoreError>;

    /// Every key that starts with `prefix`, sorted.
    fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError>;
}

/// Open the store named by `url`: a path or `file://` URL (relative ones are taken
/// from `base`), an `s3://bucket/prefix` (with `?endpoint=URL&path_style=true` for
/// S3-compatible servers), or an `https://` (or `http://`) mirror, read-only.
pub fn open(url: &str, base: &Path) -> Result<Box<dyn Store>, StoreError> {
    if let Some(rest) = url.strip_prefix("file://") {
        return Ok(Box::new(FileStore::new(base.join(rest))));
    }
    #[cfg(feature = "s3")]
    if url.starts_with("s3://") {
        return Ok(Box::new(S3Store::new(url)?));
    }
    #[cfg(feature = "https")]
    if url.starts_with("https://") || url.starts_with("http://") {
        return Ok(Box::new(HttpStore::new(url)?));
    }
    if let Some((scheme, _)) = url.split_once("://") {
        return Err(StoreError::BadUrl {
            url: url.to_string(),
            why: format!(
                "{scheme}:// stores are not available in this build (s3:// and https:// are cargo features of the store crate, on by default); use a directory or a file:// URL"
            ),
        });
    }
    if url.is_empty() {
        return Err(StoreError::BadUrl {
            url: url.to_string(),
            why: "empty store URL".into(),
        });
    }
    Ok(Box::new(FileStore::new(base.join(url))))
}

/// Keys are `/`-separated relative paths with no empty, `.` or `..` segments.
pub(crate) fn check_key(key: &str) -> Result<(), StoreError> {
    let ok = !key.is_empty()
        && key
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != ".." && !s.starts_with(".tmp-"));
    if ok {
        Ok(())
    } else {
        Err(StoreError::BadKey(key.to_string()))
    }
}
