//! The one action path: how an action's key is encoded, and how its record is looked
//! up in the action cache (the local one, then the remote one, whose hit is kept
//! locally) and written back. Genrules, tests and bundles all go through here.

use release::Digest;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::cache::Cache;
use crate::error::Result;
use crate::remote::Remote;
use crate::ui::Ui;

/// What it took to have an action's outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// kiln-out already held this exact output.
    UpToDate,
    /// Found in the action cache; copied out of the CAS.
    Cached,
    /// Run (or packed) now.
    Built,
}

/// The key of an action: the sha256 of a versioned tag and the action's canonical
/// JSON (`doc`'s field order is the encoding). Everything the action can observe must
/// be in `doc`.
pub fn key(doc: &impl Serialize) -> Digest {
    let mut h = release::Hasher::new();
    h.update(b"kiln-action-v2\0");
    h.update(&serde_json::to_vec(doc).expect("serializable"));
    h.finish()
}

/// A record of the action cache: the blobs it names, each of which must be in the CAS
/// with its size for the record to be a hit.
pub trait Record: Serialize + DeserializeOwned {
    fn blobs(&self) -> Vec<(Digest, u64)>;
}

/// The local action cache and the remote one.
#[derive(Clone, Copy)]
pub struct ActionCache<'a> {
    pub cache: &'a Cache,
    pub remote: Option<&'a Remote>,
    pub ui: Ui,
}

impl ActionCache<'_> {
    /// The record under `key` that `accept` takes and whose blobs are all in the CAS:
    /// the local one, else the remote one (kept locally). `what` names the action for
    /// `-v`, which says hit or miss.
    pub fn lookup<R: Record>(
        &self,
        what: &str,
        key: &Digest,
        accept: impl Fn(&R) -> bool,
    ) -> Option<R> {
        let complete = |r: &R| {
            r.blobs().iter().all(|(d, size)| {
                fs_err::metadata(self.cache.cas_path(d))
                    .is_ok_and(|m| m.is_file() && m.len() == *size)
            })
        };
        let path = self.cache.ac_path(key);
        if let Some(rec) = fs_err::read(&path)
            .ok()
            .and_then(|b| Remote::local_record(self.remote, key, b))
            .and_then(|b| serde_json::from_slice::<R>(&b).ok())
            .filter(|r| accept(r) && complete(r))
        {
            self.ui.detail(format!("kiln: {what}: action cache hit"));
            return Some(rec);
        }
        let remote = self.remote.and_then(|remote| {
            let blobs_of = |b: &[u8]| {
                serde_json::from_slice::<R>(b)
                    .map(|r| r.blobs().into_iter().map(|(d, _)| d).collect())
                    .unwrap_or_default()
            };
            let (bytes, envelope) = remote.fetch(self.cache, key, blobs_of)?;
            let rec: R = serde_json::from_slice(&bytes).ok()?;
            if !accept(&rec) || !complete(&rec) {
                return None;
            }
            self.cache.write_small(&path, &envelope).ok()?;
            Some(rec)
        });
        match &remote {
            Some(_) => self.ui.detail(format!("kiln: {what}: remote cache hit")),
            None => self.ui.detail(format!("kiln: {what}: action cache miss")),
        }
        remote
    }

    /// Record a result locally, and in the remote cache when `share` (results of the
    /// real sandbox only).
    pub fn record<R: Record>(&self, key: &Digest, rec: &R, share: bool) -> Result<()> {
        let bytes = serde_json::to_vec(rec)?;
        self.cache.write_small(&self.cache.ac_path(key), &bytes)?;
        if let Some(remote) = self.remote
            && share
        {
            let blobs: Vec<Digest> = rec.blobs().into_iter().map(|(d, _)| d).collect();
            remote.upload(self.cache, key, &bytes, &blobs);
        }
        Ok(())
    }
}
