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
use crate::reapi;

/// A remote build cache: a store, or a REAPI server.
pub enum Remote {
    Store(StoreCache),
    Reapi(ReapiCache),
}

/// What the local cache keeps of a record a REAPI server gave: the record and the
/// server, so only builds using that server use it (see [`Remote::local_record`]).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FromServer {
    schema: u32,
    server: String,
    record: String,
}

impl Remote {
    /// Is `bytes` (read from the local action cache) a record to use? One this machine
    /// produced is plain and used; one that came from a remote cache is kept in its
    /// signed envelope and used only if this build trusts its signer too, and one a
    /// REAPI server gave only by builds using that server. The local cache is shared
    /// by every workspace on the machine, and a workspace chooses what it trusts: an
    /// untrusted build must not leave records a trusted one uses.
    pub fn local_record(remote: Option<&Remote>, key: &Digest, bytes: Vec<u8>) -> Option<Vec<u8>> {
        if let Ok(from) = serde_json::from_slice::<FromServer>(&bytes) {
            return match remote {
                Some(Remote::Reapi(r)) if r.client.name() == from.server => {
                    Some(from.record.into_bytes())
                }
                _ => None,
            };
        }
        if serde_json::from_slice::<Envelope>(&bytes).is_err() {
            return Some(bytes);
        }
        match remote {
            Some(Remote::Store(s)) => s.verified(key, &bytes).ok(),
            _ => None,
        }
    }
}

/// A REAPI server as the build cache: the server is the authority (docs/security.md),
/// so results are neither signed nor checked for a signature; blobs are checked
/// against their digests.
pub struct ReapiCache {
    pub client: reapi::Client,
    mode: CacheMode,
    broken: AtomicBool,
    /// Whether cache misses run on the server (`--remote-executor`), and whether a
    /// server that is gone sends them back here (`--remote-fallback`).
    execute: Option<Fallback>,
    fell_back: AtomicBool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Fallback {
    /// A server that cannot be reached fails the build.
    Fail,
    /// A server that cannot be reached: one warning, and actions run here.
    RunHere,
}

/// What a remote execution gave: the result (with the log as its stdout, in the
/// local CAS), or a time-out with whatever log there was.
pub struct Executed {
    pub result: reapi::ActionResult,
    pub timed_out: bool,
    /// The command's output, as the local sandbox's log has it (the CAS path).
    pub log: Option<std::path::PathBuf>,
    pub elapsed: std::time::Duration,
}

impl ReapiCache {
    pub fn new(client: reapi::Client, mode: CacheMode, execute: Option<Fallback>) -> ReapiCache {
        ReapiCache {
            client,
            mode,
            broken: AtomicBool::new(false),
            execute,
            fell_back: AtomicBool::new(false),
        }
    }

    /// Does this build run cache misses on the server?
    pub fn executes(&self) -> bool {
        self.execute.is_some()
    }

    /// Run a cache-missing action on the server when this build has an executor: its
    /// inputs uploaded (what the server lacks), then `Execute`. None: run it here (no
    /// executor, or it is gone and `--remote-fallback` was given).
    pub fn execute(
        &self,
        cache: &Cache,
        what: &str,
        shape: &reapi::Shape,
    ) -> crate::error::Result<Option<Executed>> {
        use crate::error::{Code, hinted};
        use reapi::ExecError;
        let Some(fallback) = self.execute else {
            return Ok(None);
        };
        if self.fell_back.load(Ordering::Relaxed) {
            return Ok(None);
        }
        let start = std::time::Instant::now();
        // The server's own retries (a lost worker) fit in twice the action's limit.
        let limit = shape.timeout * 2 + std::time::Duration::from_secs(300);
        let outcome = self
            .client
            .upload(&shape.input_blobs())
            .map_err(ExecError::Unavailable)
            .and_then(|()| self.client.execute(&shape.digest, limit));
        let (result, timed_out) = match outcome {
            Ok(r) => (r, false),
            Err(ExecError::TimedOut(r)) => (r.map(|r| *r).unwrap_or_default(), true),
            Err(ExecError::Unavailable(e)) => {
                if fallback == Fallback::RunHere {
                    if !self.fell_back.swap(true, Ordering::Relaxed) {
                        plumbing::style::warning(&format!(
                            "remote executor {}: {e}; running the remaining actions here (--remote-fallback)",
                            self.client.name()
                        ));
                    }
                    return Ok(None);
                }
                return Err(hinted(
                    Code::Env,
                    format!(
                        "remote executor {}: {e} (while running {what})",
                        self.client.name()
                    ),
                    "check that the server is up, or pass --remote-fallback to run actions here when it is not",
                ));
            }
            Err(ExecError::Failed(e)) => {
                return Err(hinted(
                    Code::Failed,
                    format!(
                        "{what} did not run on the remote executor {}: {e}",
                        self.client.name()
                    ),
                    "see the server's log; the same action runs here without --remote-executor",
                ));
            }
        };
        // Only what the action declares (a server may name anything); the log for a
        // test, or for an action that failed.
        let mut wanted: Vec<reapi::re::Digest> = shape
            .outputs_of(&result)
            .unwrap_or_default()
            .iter()
            .map(|o| reapi::to_re(&o.sha256, o.size))
            .collect();
        let log_wanted = timed_out || result.exit_code != 0 || shape.log_is_stdout();
        if log_wanted {
            wanted.extend(result.stdout_digest.clone());
        }
        if let Err(e) = self.client.download(cache, &wanted) {
            return Err(hinted(
                Code::Env,
                format!(
                    "remote executor {}: downloading the outputs of {what}: {e}",
                    self.client.name()
                ),
                "run the build again (what was fetched is kept)",
            ));
        }
        let log = result
            .stdout_digest
            .as_ref()
            .filter(|_| log_wanted)
            .and_then(reapi::from_re)
            .map(|(d, _)| cache.cas_path(&d));
        Ok(Some(Executed {
            result,
            timed_out,
            log,
            elapsed: start.elapsed(),
        }))
    }

    pub fn usable(&self) -> bool {
        !self.broken.load(Ordering::Relaxed)
    }

    /// The first failure of a build: one warning, and no more calls.
    pub fn give_up(&self, what: &str, e: &str) {
        if !self.broken.swap(true, Ordering::Relaxed) {
            plumbing::style::warning(&format!(
                "remote cache {}: {what}: {e}; going on without it for this build",
                self.client.name()
            ));
        }
    }

    /// The outputs the server's action cache holds for `shape`, brought into the
    /// local CAS.
    pub fn fetch(&self, cache: &Cache, shape: &reapi::Shape) -> Option<Vec<crate::action::Output>> {
        if !self.usable() {
            return None;
        }
        let result = match self.client.get_action_result(&shape.digest) {
            Ok(r) => r?,
            Err(e) => {
                self.give_up("reading the action cache", &e);
                return None;
            }
        };
        let outputs = shape.outputs_of(&result)?;
        let digests: Vec<_> = outputs
            .iter()
            .map(|o| reapi::to_re(&o.sha256, o.size))
            .collect();
        match self.client.download(cache, &digests) {
            Ok(()) => Some(outputs),
            Err(e) => {
                self.give_up("downloading outputs", &e);
                None
            }
        }
    }

    /// What the local cache keeps of a record this server gave.
    pub fn local_form(&self, record: &[u8]) -> Option<Vec<u8>> {
        let from = FromServer {
            schema: 1,
            server: self.client.name(),
            record: String::from_utf8(record.to_vec()).ok()?,
        };
        serde_json::to_vec(&from).ok()
    }

    /// Upload the outputs and the action's messages, then the result (so a result never
    /// names a missing blob). Nothing in read mode, or where the server takes no
    /// results from clients.
    pub fn upload(&self, cache: &Cache, shape: &reapi::Shape, outputs: &[crate::action::Output]) {
        if !self.usable() || self.mode == CacheMode::Read {
            return;
        }
        let result = (|| -> Result<(), String> {
            if !self.client.caps()?.update_action_cache {
                return Ok(());
            }
            let mut blobs = shape.message_blobs();
            blobs.extend(
                outputs
                    .iter()
                    .map(|o| reapi::Blob::file(&cache.cas_path(&o.sha256), &o.sha256, o.size)),
            );
            self.client.upload(&blobs)?;
            self.client
                .update_action_result(&shape.digest, shape.result(outputs))
        })();
        if let Err(e) = result {
            self.give_up("uploading", &e);
        }
    }
}

/// A store (S3, a directory) as the build cache.
pub struct StoreCache {
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

impl StoreCache {
    /// A writer's own key is trusted too, so a fleet sharing one key needs no
    /// `trusted_keys`.
    pub fn new(
        store: Box<dyn Store>,
        mode: CacheMode,
        signer: Option<SecretKey>,
        mut trusted: Vec<PublicKey>,
    ) -> StoreCache {
        if let Some(k) = &signer {
            trusted.push(k.public());
        }
        StoreCache {
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
    /// in: the envelope is what the local cache keeps (see [`Remote::local_record`]).
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
