//! The one action path: how an action's key is encoded, and how its record is looked
//! up in the action cache (the local one, then the remote one, whose hit is kept
//! locally) and written back. Genrules, tests and bundles all go through here.

use release::Digest;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::cache::Cache;
use crate::error::Result;
use crate::reapi::Shape;
use crate::remote::{ReapiCache, Remote};
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

/// One output an action record names, under kiln's name for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub name: String,
    pub sha256: Digest,
    pub size: u64,
    pub executable: bool,
}

/// A record of the action cache: the outputs it names, each of which must be in the
/// CAS with its size for the record to be a hit. A REAPI server holds the outputs as
/// an `ActionResult`, from which the record is made again.
pub trait Record: Serialize + DeserializeOwned {
    fn outputs(&self) -> Vec<Output>;
    /// The record of `outputs`, produced in `sandbox`.
    fn from_outputs(outputs: Vec<Output>, sandbox: &str) -> Self;

    fn blobs(&self) -> Vec<(Digest, u64)> {
        self.outputs().iter().map(|o| (o.sha256, o.size)).collect()
    }
}

/// The local action cache and the remote one.
#[derive(Clone, Copy)]
pub struct ActionCache<'a> {
    pub cache: &'a Cache,
    pub remote: Option<&'a Remote>,
    pub ui: Ui,
}

impl ActionCache<'_> {
    /// The action in REAPI's terms, made by `make`, when the remote cache is a REAPI
    /// server (which knows actions by those terms only).
    pub fn shape(&self, make: impl FnOnce() -> Shape) -> Option<Shape> {
        matches!(self.remote, Some(Remote::Reapi(_))).then(make)
    }

    /// The record under `key` that `accept` takes and whose blobs are all in the CAS:
    /// the local one, else the remote one (kept locally). `shape` is the action for a
    /// REAPI server. `what` names the action for `-v`, which says hit or miss.
    pub fn lookup<R: Record>(
        &self,
        what: &str,
        key: &Digest,
        shape: Option<&Shape>,
        accept: impl Fn(&R) -> bool,
    ) -> Option<R> {
        let complete = |r: &R| self.complete(r);
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
        let remote = self.remote.and_then(|remote| match remote {
            Remote::Store(store) => {
                let blobs_of = |b: &[u8]| {
                    serde_json::from_slice::<R>(b)
                        .map(|r| r.blobs().into_iter().map(|(d, _)| d).collect())
                        .unwrap_or_default()
                };
                let (bytes, envelope) = store.fetch(self.cache, key, blobs_of)?;
                let rec: R = serde_json::from_slice(&bytes).ok()?;
                if !accept(&rec) || !complete(&rec) {
                    return None;
                }
                self.cache.write_small(&path, &envelope).ok()?;
                Some(rec)
            }
            Remote::Reapi(server) => {
                let shape = shape?;
                let outputs = server.fetch(self.cache, shape)?;
                self.keep_from_server(
                    server,
                    key,
                    R::from_outputs(outputs, &shape.sandbox),
                    &accept,
                )
            }
        });
        match &remote {
            Some(_) => self.ui.detail(format!("kiln: {what}: remote cache hit")),
            None => self.ui.detail(format!("kiln: {what}: action cache miss")),
        }
        remote
    }

    /// Is every blob `rec` names in the local CAS, with its size?
    fn complete<R: Record>(&self, rec: &R) -> bool {
        rec.blobs().iter().all(|(d, size)| {
            fs_err::metadata(self.cache.cas_path(d)).is_ok_and(|m| m.is_file() && m.len() == *size)
        })
    }

    /// A record a REAPI server gave (from its cache, or by running the action), if
    /// `accept` takes it and its blobs are here: kept in the local cache marked as the
    /// server's.
    pub fn keep_from_server<R: Record>(
        &self,
        server: &ReapiCache,
        key: &Digest,
        rec: R,
        accept: impl Fn(&R) -> bool,
    ) -> Option<R> {
        if !accept(&rec) || !self.complete(&rec) {
            return None;
        }
        let local = server.local_form(&serde_json::to_vec(&rec).ok()?)?;
        self.cache
            .write_small(&self.cache.ac_path(key), &local)
            .ok()?;
        Some(rec)
    }

    /// Record a result locally, and in the remote cache when `share` (results of the
    /// real sandbox only). `shape` is the action for a REAPI server.
    pub fn record<R: Record>(
        &self,
        key: &Digest,
        rec: &R,
        share: bool,
        shape: Option<&Shape>,
    ) -> Result<()> {
        let bytes = serde_json::to_vec(rec)?;
        self.cache.write_small(&self.cache.ac_path(key), &bytes)?;
        match self.remote {
            Some(Remote::Store(store)) if share => {
                let blobs: Vec<Digest> = rec.blobs().into_iter().map(|(d, _)| d).collect();
                store.upload(self.cache, key, &bytes, &blobs);
            }
            Some(Remote::Reapi(server)) if share => {
                if let Some(shape) = shape {
                    server.upload(self.cache, shape, &rec.outputs());
                }
            }
            _ => {}
        }
        Ok(())
    }
}
