//! The remote build cache (`[cache] url` in WORKSPACE.toml, or `--remote-cache URL`):
//! any store (S3 for CI fleets, a shared directory) holding action records under
//! `ac/<key>` and blobs under `cas/sha256/<hex>`, so a CI worker with an empty local
//! cache gets the hits another worker earned. It is an optimization, never a
//! dependency: a cache that is down or slow is a miss, reported once, and the build
//! goes on without it. Results of `--sandbox=none` actions are never uploaded.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use release::Digest;
use store::{Condition, Store};

use crate::cache::{Cache, HashingWriter};

pub struct Remote {
    store: Box<dyn Store>,
    broken: AtomicBool,
}

impl Remote {
    pub fn new(store: Box<dyn Store>) -> Remote {
        Remote {
            store,
            broken: AtomicBool::new(false),
        }
    }

    fn give_up(&self, what: &str, e: impl std::fmt::Display) {
        if !self.broken.swap(true, Ordering::Relaxed) {
            eprintln!(
                "warning: remote cache {}: {what}: {e}; going on without it for this build",
                self.store.url()
            );
        }
    }

    fn usable(&self) -> bool {
        !self.broken.load(Ordering::Relaxed)
    }

    /// The record stored for an action key, with every blob it names copied into the
    /// local CAS (verified), or None.
    pub fn fetch(
        &self,
        cache: &Cache,
        key: &Digest,
        blobs_of: impl Fn(&[u8]) -> Vec<Digest>,
    ) -> Option<Vec<u8>> {
        if !self.usable() {
            return None;
        }
        let bytes = match self.store.get(&release::cache_action_key(key)) {
            Ok(Some((b, _))) => b,
            Ok(None) => return None,
            Err(e) => {
                self.give_up("reading an action record", e);
                return None;
            }
        };
        for d in blobs_of(&bytes) {
            if cache.cas_path(&d).is_file() {
                continue;
            }
            if let Err(e) = self.fetch_blob(cache, &d) {
                self.give_up("downloading a blob", e);
                return None;
            }
        }
        Some(bytes)
    }

    fn fetch_blob(&self, cache: &Cache, d: &Digest) -> anyhow::Result<()> {
        let mut body = self
            .store
            .open(&release::cache_blob_key(d))?
            .ok_or_else(|| anyhow::anyhow!("blob {d} is missing"))?;
        let tmp = cache.tmp_path("remote");
        let mut out = HashingWriter::new(std::fs::File::create(&tmp)?);
        std::io::copy(&mut body, &mut out)?;
        out.flush()?;
        if out.hasher.finish() != *d {
            let _ = std::fs::remove_file(&tmp);
            anyhow::bail!("blob {d} does not match its digest");
        }
        cache.insert_file(&tmp, d)?;
        Ok(())
    }

    /// Upload the blobs, then the record (so a record never names a missing blob).
    pub fn upload(&self, cache: &Cache, key: &Digest, record: &[u8], blobs: &[Digest]) {
        if !self.usable() {
            return;
        }
        let result = (|| -> anyhow::Result<()> {
            for d in blobs {
                let mut f = std::fs::File::open(cache.cas_path(d))?;
                self.store
                    .put(&release::cache_blob_key(d), &mut f, Condition::IfAbsent)?;
            }
            self.store.put(
                &release::cache_action_key(key),
                &mut &record[..],
                Condition::IfAbsent,
            )?;
            Ok(())
        })();
        if let Err(e) = result {
            self.give_up("uploading", e);
        }
    }
}
