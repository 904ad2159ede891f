//! The remote build cache (`[cache] url` in WORKSPACE.toml, or `--remote-cache URL`):
//! any store (S3 for CI fleets, a shared directory) holding action records under
//! `ac/<key>` and blobs under `cas/sha256/<hex>`, so a CI worker with an empty local
//! cache gets the hits another worker earned. It is an optimization, never a
//! dependency: a cache that is down or slow is a miss, reported once, and the build
//! goes on without it. Results of `--sandbox=none` actions are never uploaded.
//!
//! Whoever can write the bucket must not be able to choose what a build uses, so every
//! action record is signed by a writer's key over the action key and the record
//! (`[cache] signing_key`); readers use a record only when one of `trusted_keys` (or
//! their own signing key) signed it, and anything else is a miss with one warning.
//! Blobs need no signature: their name is their sha256, checked on download. In
//! `read` mode (pull-request builds) nothing is ever written.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use release::{Digest, PublicKey, SecretKey, Signature};
use rules::CacheMode;
use serde::{Deserialize, Serialize};
use store::{Condition, PutOutcome, Store};

use crate::cache::{Cache, HashingWriter};

pub struct Remote {
    store: Box<dyn Store>,
    mode: CacheMode,
    signer: Option<SecretKey>,
    trusted: Vec<PublicKey>,
    broken: AtomicBool,
    warned_untrusted: AtomicBool,
    warned_unsigned: AtomicBool,
}

/// What `ac/<key>` holds: the record's exact bytes and a signature over them and the
/// action key, so a genuine record cannot be moved to another key either.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    schema: u32,
    record: String,
    signature: Signature,
}

/// The bytes a cache record's signature covers.
fn signed_bytes(key: &Digest, record: &[u8]) -> Vec<u8> {
    let mut b = format!("kiln-cache-record-v1\0{}\0", key.hex()).into_bytes();
    b.extend_from_slice(record);
    b
}

impl Remote {
    /// A writer's own key is trusted too, so a fleet sharing one key needs no
    /// `trusted_keys`.
    pub fn new(
        store: Box<dyn Store>,
        mode: CacheMode,
        signer: Option<SecretKey>,
        mut trusted: Vec<PublicKey>,
    ) -> Remote {
        if let Some(k) = &signer {
            trusted.push(k.public());
        }
        Remote {
            store,
            mode,
            signer,
            trusted,
            broken: AtomicBool::new(false),
            warned_untrusted: AtomicBool::new(false),
            warned_unsigned: AtomicBool::new(false),
        }
    }

    fn warn_once(&self, flag: &AtomicBool, msg: String) {
        if !flag.swap(true, Ordering::Relaxed) {
            plumbing::style::warning(&format!("remote cache {}: {msg}", self.store.url()));
        }
    }

    /// The record's bytes, if a trusted key signed them for this action key.
    fn verified(&self, key: &Digest, bytes: &[u8]) -> Result<Vec<u8>, String> {
        let env = serde_json::from_slice::<Envelope>(bytes)
            .map_err(|_| "is not a signed record".to_string())?;
        let record = env.record.into_bytes();
        env.signature
            .verify(&signed_bytes(key, &record), &self.trusted)
            .map_err(|e| e.to_string())?;
        Ok(record)
    }

    /// `verified`, with one warning per build for what is refused.
    fn open_envelope(&self, key: &Digest, bytes: &[u8]) -> Option<Vec<u8>> {
        match self.verified(key, bytes) {
            Ok(record) => Some(record),
            Err(why) => {
                self.warn_once(
                    &self.warned_untrusted,
                    format!(
                        "the record for action {} {why}; it is ignored and the action runs here (a record that does not verify is never used)",
                        &key.hex()[..12]
                    ),
                );
                None
            }
        }
    }

    /// Is `bytes` (read from the local action cache) a record to use? One this machine
    /// produced is plain and used; one that came from a remote cache is kept in its
    /// signed envelope and used only if this build trusts its signer too. The local
    /// cache is shared by every workspace on the machine, and a workspace chooses the
    /// keys it trusts: an untrusted build must not leave records a trusted one uses.
    pub fn local_record(remote: Option<&Remote>, key: &Digest, bytes: Vec<u8>) -> Option<Vec<u8>> {
        if serde_json::from_slice::<Envelope>(&bytes).is_err() {
            return Some(bytes);
        }
        remote?.verified(key, &bytes).ok()
    }

    fn give_up(&self, what: &str, e: impl std::fmt::Display) {
        if !self.broken.swap(true, Ordering::Relaxed) {
            plumbing::style::warning(&format!(
                "remote cache {}: {what}: {e}; going on without it for this build",
                self.store.url()
            ));
        }
    }

    fn usable(&self) -> bool {
        !self.broken.load(Ordering::Relaxed)
    }

    /// The record stored for an action key, with every blob it names copied into the
    /// local CAS (verified), or None. Returns the record and the signed envelope it came
    /// in: the envelope is what the local cache keeps (see [`local_record`]).
    pub fn fetch(
        &self,
        cache: &Cache,
        key: &Digest,
        blobs_of: impl Fn(&[u8]) -> Vec<Digest>,
    ) -> Option<(Vec<u8>, Vec<u8>)> {
        if !self.usable() {
            return None;
        }
        if self.trusted.is_empty() {
            self.warn_once(
                &self.warned_untrusted,
                "no trusted_keys in [cache] and no signing key: records cannot be verified, so none is read".into(),
            );
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
        let envelope = bytes;
        let bytes = self.open_envelope(key, &envelope)?;
        for d in blobs_of(&bytes) {
            if cache.cas_path(&d).is_file() {
                continue;
            }
            if let Err(e) = self.fetch_blob(cache, &d) {
                self.give_up("downloading a blob", e);
                return None;
            }
        }
        Some((bytes, envelope))
    }

    fn fetch_blob(&self, cache: &Cache, d: &Digest) -> anyhow::Result<()> {
        let mut body = self
            .store
            .open(&release::cache_blob_key(d))?
            .ok_or_else(|| anyhow::anyhow!("blob {d} is missing"))?;
        let tmp = cache.tmp_path("remote");
        let mut out = HashingWriter::new(fs_err::File::create(&tmp)?);
        std::io::copy(&mut body, &mut out)?;
        out.flush()?;
        if out.hasher.finish() != *d {
            let _ = fs_err::remove_file(&tmp);
            anyhow::bail!("blob {d} does not match its digest");
        }
        cache.insert_file(&tmp, d)?;
        Ok(())
    }

    /// Upload the blobs, then the record (so a record never names a missing blob).
    pub fn upload(&self, cache: &Cache, key: &Digest, record: &[u8], blobs: &[Digest]) {
        if !self.usable() || self.mode == CacheMode::Read {
            return;
        }
        let Some(signer) = &self.signer else {
            self.warn_once(
                &self.warned_unsigned,
                "no signing key ([cache] signing_key or KILN_CACHE_SIGNING_KEY), so results are not uploaded: readers use only signed records".into(),
            );
            return;
        };
        let Ok(text) = String::from_utf8(record.to_vec()) else {
            return;
        };
        let envelope = Envelope {
            schema: 1,
            signature: signer.sign(&signed_bytes(key, record)),
            record: text,
        };
        let envelope = serde_json::to_vec(&envelope).expect("serializable");
        let result = (|| -> anyhow::Result<()> {
            for d in blobs {
                let mut f = fs_err::File::open(cache.cas_path(d))?;
                self.store
                    .put(&release::cache_blob_key(d), &mut f, Condition::IfAbsent)?;
            }
            let ac = release::cache_action_key(key);
            let outcome = self
                .store
                .put(&ac, &mut &envelope[..], Condition::IfAbsent)?;
            // A record there already that does not verify (planted, or signed by a key
            // since retired) is replaced, or it would hide this result from every reader.
            if outcome == PutOutcome::ConditionFailed
                && let Some((theirs, tag)) = self.store.get(&ac)?
                && self.verified(key, &theirs).is_err()
            {
                self.store
                    .put(&ac, &mut &envelope[..], Condition::IfMatch(tag))?;
            }
            Ok(())
        })();
        if let Err(e) = result {
            self.give_up("uploading", e);
        }
    }
}
