//! Step 3 and the check of step 5: resolve the build (a pinned version, or a channel's
//! pointer checked fresh) and its release record, signature checked against the keys the
//! host trusts; decide whether a copy already on the host may be reused.

use release::{Channel, Digest, Release};
use store::Store;

use super::*;
use crate::error::{Code, Result, err, hinted};
use crate::ops;
use crate::state::State;

impl Host<'_> {
    pub(super) fn store(&self) -> Result<&dyn Store> {
        self.store.ok_or_else(|| {
            hinted(
                Code::BadInput,
                "no store configured",
                "pass --store URL or set store in /etc/kiln/fetch.toml",
            )
        })
    }

    /// The error for a record the store does not have, naming what is wrong: the
    /// store (it holds no releases), the package (with "did you mean"), the build or
    /// the channel, each with what the store does hold.
    pub(super) fn missing(&self, pkg: &str, wanted: Wanted) -> anyhow::Error {
        let Ok(store) = self.store() else {
            return err(Code::BadInput, "no store configured");
        };
        let url = store.url();
        let (what, hint) = match wanted {
            Wanted::Build(n) => (
                format!("build {n} of {pkg} is not in {url}"),
                format!(
                    "check the package name and build number (`kiln releases {pkg}` lists them)"
                ),
            ),
            Wanted::Channel(c) => (
                format!("{pkg} has no channel {c} in {url}"),
                format!("promote a build first: kiln promote {pkg} N --channel {c}"),
            ),
        };
        // A store that cannot be listed (an https mirror) gets the plain message.
        let Ok(keys) = store.list("") else {
            return hinted(Code::BadInput, what, hint);
        };
        let mut packages = std::collections::BTreeSet::new();
        let mut builds = Vec::new();
        let mut channels = Vec::new();
        for k in &keys {
            let parts: Vec<&str> = k.split('/').collect();
            match parts[..] {
                [p, n, _]
                    if n.parse::<u64>()
                        .is_ok_and(|b| *k == release::release_key(p, b)) =>
                {
                    packages.insert(p.to_string());
                    if p == pkg {
                        builds.push(n.parse::<u64>().unwrap_or_default());
                    }
                }
                [p, "channels", c] if p == pkg => {
                    if let Some(c) = c.strip_suffix(".json") {
                        channels.push(c.to_string());
                    }
                }
                _ => {}
            }
        }
        if packages.is_empty() {
            return hinted(
                Code::BadInput,
                format!("{url} holds no releases at all"),
                "check the store URL (store in fetch.toml, or --store): it is where `kiln publish` wrote",
            );
        }
        if !packages.contains(pkg) {
            let held: Vec<&str> = packages.iter().take(20).map(String::as_str).collect();
            let more = if packages.len() > 20 { ", …" } else { "" };
            return hinted(
                Code::BadInput,
                format!(
                    "package {pkg} is not in {url}: it holds {}{more}",
                    held.join(", ")
                ),
                release::did_you_mean(pkg, packages.iter().cloned())
                    .unwrap_or_else(|| "check the package name".into()),
            );
        }
        match wanted {
            Wanted::Build(_) => {
                builds.sort_unstable();
                let list: Vec<String> = builds.iter().map(u64::to_string).collect();
                hinted(
                    Code::BadInput,
                    format!("{what}; its builds: {}", list.join(", ")),
                    hint,
                )
            }
            Wanted::Channel(c) => {
                let held = if channels.is_empty() {
                    "it has no channels yet".to_string()
                } else {
                    format!("its channels: {}", channels.join(", "))
                };
                hinted(
                    Code::BadInput,
                    format!("{what}; {held}"),
                    release::did_you_mean(c, channels.into_iter()).unwrap_or(hint),
                )
            }
        }
    }

    /// Refuse a pointer older than one this host accepted (a replay: rollback attack)
    /// or past its expiry (a frozen channel).
    pub(super) fn check_fresh(&self, pkg: &str, ch: &Channel, pointer: &Digest) -> Result<()> {
        let st = State::load(&self.layout, pkg)?;
        if let Some(&seen) = st.seen.get(&ch.channel)
            && ch.sequence == seen
        {
            // The same sequence is the same pointer, byte for byte, or a replay of
            // another one signed with that sequence (after the store's history was
            // rewound). A host from before it kept the digest knows the build it runs.
            let same = match st.seen_pointer.get(&ch.channel) {
                Some(d) => d == pointer,
                None => st
                    .history
                    .iter()
                    .any(|e| e.channel.as_deref() == Some(&ch.channel) && e.build == ch.build),
            };
            if !same {
                return Err(hinted(
                    Code::Failed,
                    format!(
                        "channel {} of {pkg} is at sequence {}, the sequence this host already followed, but it is not the pointer it accepted: a replayed pointer; refusing it",
                        ch.channel, ch.sequence
                    ),
                    "the store's channel history was rewound; promote again (a new promote writes a higher sequence) and check the store with `kiln releases PACKAGE --verify`",
                ));
            }
        }
        if let Some(&seen) = st.seen.get(&ch.channel)
            && ch.sequence < seen
        {
            return Err(hinted(
                Code::Failed,
                format!(
                    "channel {} of {pkg} is at sequence {}, older than sequence {seen} this host already followed: a replayed pointer; refusing it",
                    ch.channel, ch.sequence
                ),
                "to roll a channel back on purpose, promote the old build: that writes a newer sequence",
            ));
        }
        if let Some(expires) = &ch.expires {
            let at = plumbing::fs::parse_rfc3339(expires).map_err(|e| {
                err(
                    Code::Failed,
                    format!("channel {} of {pkg}: expires {expires:?}: {e}", ch.channel),
                )
            })?;
            if std::time::SystemTime::now() > at {
                return Err(hinted(
                    Code::Failed,
                    format!(
                        "channel {} of {pkg} expired at {expires}: a frozen pointer; refusing to follow it",
                        ch.channel
                    ),
                    format!(
                        "promote again to refresh it: kiln promote {pkg} {} --channel {} --expires 30d",
                        ch.build, ch.channel
                    ),
                ));
            }
        }
        Ok(())
    }

    pub(super) fn fetch_release(&self, pkg: &str, build: u64) -> Result<(Release, Vec<u8>)> {
        let store = self.store()?;
        let key = release::release_key(pkg, build);
        let (bytes, _) = store
            .get(&key)
            .map_err(store::StoreError::classify)?
            .ok_or_else(|| self.missing(pkg, Wanted::Build(build)))?;
        // Digest-named signatures, or where stores written before them keep one.
        let sig_key = release::release_sig_key(pkg, build, &Digest::of_bytes(&bytes));
        let sig_key = if store
            .get(&sig_key)
            .map_err(store::StoreError::classify)?
            .is_some()
        {
            sig_key
        } else {
            // Signatures for other bytes of this record: it was changed after signing.
            let signed = store
                .list(&format!("{pkg}/{build}/sig/"))
                .map_err(store::StoreError::classify)?;
            if !signed.is_empty() {
                return Err(hinted(
                    Code::Failed,
                    format!(
                        "release record of {pkg} build {build}: its signature does not match the record's bytes (edited after signing); refusing it"
                    ),
                    "someone changed the record after it was signed, or the store is corrupt; nothing was installed",
                ));
            }
            release::release_legacy_sig_key(pkg, build)
        };
        self.check_signature(
            pkg,
            &format!("release record of {pkg} build {build}"),
            &bytes,
            &sig_key,
        )?;
        let rel = Release::from_bytes(&bytes).map_err(|e| {
            err(
                Code::Failed,
                format!("{}/{key} is not a valid release record: {e}", store.url()),
            )
        })?;
        if rel.package != pkg || rel.build != build {
            return Err(err(
                Code::Failed,
                format!(
                    "{}/{key} describes {} build {}, not {pkg} build {build}",
                    store.url(),
                    rel.package,
                    rel.build
                ),
            ));
        }
        Ok((rel, bytes))
    }

    pub(super) fn resolve(&self, pkg: &str, target: &Target) -> Result<Resolved> {
        match target {
            Target::Version(n) => {
                let (rel, bytes) = self.fetch_release(pkg, *n)?;
                Ok(Resolved {
                    rel,
                    bytes,
                    channel: None,
                })
            }
            Target::Channel(c) => {
                let store = self.store()?;
                let key = release::channel_key(pkg, c);
                let (bytes, _) = store
                    .get(&key)
                    .map_err(store::StoreError::classify)?
                    .ok_or_else(|| self.missing(pkg, Wanted::Channel(c)))?;
                self.check_signature(
                    pkg,
                    &format!("channel {c} of {pkg}"),
                    &bytes,
                    &release::channel_sig_key(pkg, c, &Digest::of_bytes(&bytes)),
                )?;
                let ch = Channel::from_bytes(&bytes).map_err(|e| {
                    err(
                        Code::Failed,
                        format!("{}/{key} is not a valid channel pointer: {e}", store.url()),
                    )
                })?;
                if ch.package != pkg || ch.channel != *c {
                    return Err(err(
                        Code::Failed,
                        format!("{}/{key} is for {} {}", store.url(), ch.package, ch.channel),
                    ));
                }
                let pointer_sha256 = Digest::of_bytes(&bytes);
                self.check_fresh(pkg, &ch, &pointer_sha256)?;
                let (rel, bytes) = self.fetch_release(pkg, ch.build)?;
                if rel.bundle.sha256 != ch.bundle_sha256 {
                    return Err(err(
                        Code::Failed,
                        format!(
                            "channel {c} of {pkg} names bundle {} for build {}, but the release record says {}",
                            ch.bundle_sha256, ch.build, rel.bundle.sha256
                        ),
                    ));
                }
                Ok(Resolved {
                    rel,
                    bytes,
                    channel: Some((c.clone(), ch.sequence, pointer_sha256)),
                })
            }
        }
    }

    /// Whether the copy of build `n` on the host may become current as it is: a real
    /// directory holding exactly the store's release record, every file re-hashed
    /// against its manifest. Anything else is replaced by a fresh download (and
    /// `--reinstall` always replaces it).
    pub(super) fn reusable(&self, pkg: &str, n: u64, bytes: &[u8]) -> Result<bool> {
        let dir = self.layout.build_dir(pkg, n);
        let Ok(meta) = fs_err::symlink_metadata(&dir) else {
            return Ok(false);
        };
        if self.reinstall {
            return Ok(false);
        }
        let why = if !meta.is_dir() {
            "is not a directory kiln-fetch made".to_string()
        } else if fs_err::read(Layout::release_file(&dir)).ok().as_deref() != Some(bytes) {
            "does not hold the store's release record".to_string()
        } else {
            let drift = ops::check_tree(&dir, pkg, n)?;
            if drift.is_clean() {
                return Ok(true);
            }
            format!("does not match its manifest: {}", drift.summary())
        };
        plumbing::style::warning(&format!("{} {why}; installing a fresh copy", dir.display()));
        Ok(false)
    }
}
