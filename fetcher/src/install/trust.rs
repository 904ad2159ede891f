//! The trust step of resolving: which keys may sign a package (the host's
//! `trusted_keys`, or the store's keys record checked against `trusted_root`), and the
//! check of a record's signature against them.

//! pointer checked fresh) and its release record, signature checked against the keys the
//! host trusts; decide whether a copy already on the host may be reused.

use release::{Digest, Signature, VerifyError};

use super::*;
use crate::error::{Code, Result, hinted};
use crate::state::{self};

impl Host<'_> {
    /// The keys whose signatures count for `pkg`: `trusted_keys`, and with
    /// `trusted_root` the keys the store's keys record grants that package.
    pub(super) fn trusted_for(&self, pkg: &str) -> Result<Vec<release::PublicKey>> {
        let mut keys = self.config.trusted_keys.clone();
        if !self.config.trusted_root.is_empty() {
            // Read once per run: a pointer and its release record are checked against
            // the same keys record.
            let rec = match self.keys.get() {
                Some(r) => r.clone(),
                None => {
                    let r = self.keys_record()?;
                    self.keys.get_or_init(|| r).clone()
                }
            };
            keys.extend(rec.keys_for(pkg));
        }
        Ok(keys)
    }

    /// The store's keys record, signed by a trusted root, not expired, and not older
    /// than one this host accepted (nor another at the same version).
    pub(super) fn keys_record(&self) -> Result<release::KeysRecord> {
        let store = self.store()?;
        let refuse = |why: String, hint: &str| {
            hinted(
                Code::Failed,
                format!(
                    "keys record {}/{}: {why}; refusing it",
                    store.url(),
                    release::KEYS_RECORD
                ),
                hint.to_string(),
            )
        };
        let Some((bytes, _)) = store
            .get(release::KEYS_RECORD)
            .map_err(store::StoreError::classify)?
        else {
            return Err(refuse(
                "there is none, and this host trusts only a root (trusted_root)".into(),
                "publish one with `kiln keys`, or list the release keys in trusted_keys",
            ));
        };
        let digest = Digest::of_bytes(&bytes);
        let sig = store
            .get(&release::keys_sig_key(&digest))
            .map_err(store::StoreError::classify)?;
        let Some((sig, _)) = sig else {
            return Err(refuse(
                "it is not signed".into(),
                "sign it with the root key: `kiln keys`",
            ));
        };
        Signature::from_bytes(&sig)
            .and_then(|s| s.verify(&bytes, &self.config.trusted_root))
            .map_err(|e| {
                refuse(
                    e.to_string(),
                    "only a key in trusted_root may sign the keys record",
                )
            })?;
        let rec = release::KeysRecord::from_bytes(&bytes)
            .map_err(|e| refuse(format!("not a keys record: {e}"), "check the store"))?;
        let expires = plumbing::fs::parse_rfc3339(&rec.expires)
            .map_err(|e| refuse(format!("expires {:?}: {e}", rec.expires), "check the store"))?;
        if std::time::SystemTime::now() > expires {
            return Err(refuse(
                format!("it expired at {} (a frozen keys record)", rec.expires),
                "publish a new keys record with a later expiry: `kiln keys`",
            ));
        }
        let seen_path = self.layout.keys_seen();
        let seen: Option<(u64, Digest)> = match state::read_state_file(&seen_path)? {
            None => None,
            Some(b) => {
                Some(serde_json::from_slice(&b).map_err(|e| state::corrupt(&seen_path, &e))?)
            }
        };
        if let Some((version, sha)) = seen
            && (rec.version < version || (rec.version == version && sha != digest))
        {
            return Err(refuse(
                format!(
                    "version {} is not newer than version {version}, which this host already accepted: a replayed keys record",
                    rec.version
                ),
                "publish a keys record with a higher version",
            ));
        }
        if !self.dry_run && seen.is_none_or(|(v, _)| rec.version > v) {
            let bytes = serde_json::to_vec(&(rec.version, digest))?;
            state::write_atomic(&self.layout, &seen_path, &bytes)?;
        }
        Ok(rec)
    }

    /// Check `bytes` against its detached signature before trusting anything in them.
    pub(super) fn check_signature(
        &self,
        pkg: &str,
        what: &str,
        bytes: &[u8],
        sig_key: &str,
    ) -> Result<()> {
        let store = self.store()?;
        let sig = store.get(sig_key).map_err(store::StoreError::classify)?;
        let trusted = self.trusted_for(pkg)?;
        let unsigned_hint =
            "publish with --signing-key (or KILN_SIGNING_KEY) so hosts can check it";
        let untrusted_hint = if self.config.trusted_root.is_empty() {
            "if you trust its publisher, add their public key (the line `kiln keygen` printed, also in its FILE.pub) to trusted_keys in fetch.toml"
        } else {
            "if you trust its publisher, grant their key this package in the store's keys record: kiln keys --root-key ROOT --grant PACKAGE=KEY"
        };
        let verdict: std::result::Result<(), (String, &str)> = match &sig {
            None => Err((format!("{what} is not signed"), unsigned_hint)),
            Some((b, _)) => {
                match Signature::from_bytes(b).and_then(|s| s.verify(bytes, &trusted)) {
                    Ok(_) => return Ok(()),
                    // Evidence of tampering: never accepted, even with allow_unsigned.
                    Err(e @ (VerifyError::Mismatch { .. } | VerifyError::Malformed(_))) => {
                        return Err(hinted(
                            Code::Failed,
                            format!("{what}: {e}; refusing it"),
                            "someone changed the record after it was signed, or the store is corrupt; nothing was installed",
                        ));
                    }
                    Err(e @ VerifyError::Untrusted { .. }) => {
                        Err((format!("{what}: {e}"), untrusted_hint))
                    }
                }
            }
        };
        let Err((why, hint)) = verdict else {
            return Ok(());
        };
        if self.config.allow_unsigned {
            // Once per record: a package new to the host is resolved twice.
            if self
                .warned
                .lock()
                .expect("not poisoned")
                .insert(why.clone())
            {
                plumbing::style::warning(&format!(
                    "{why}; installing anyway because allow_unsigned = true"
                ));
            }
            return Ok(());
        }
        Err(hinted(Code::Failed, format!("{why}; refusing it"), hint))
    }
}
