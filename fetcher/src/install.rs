//! Installing a build, in the order the code runs it (each step that can fail comes
//! before the switch):
//!
//! 1. a package new to the host is resolved first, so bad input creates nothing;
//! 2. take the package's lock; check its directory is kiln-fetch's own; remove the
//!    crash temps kiln-fetch names; read and check the state; finish an install a crash
//!    interrupted after its switch, or undo one interrupted before it (its links);
//! 3. resolve the build (a pinned version, or a channel's pointer) and its signed
//!    release record; a settled current build is "unchanged" here;
//! 4. check that the service manager can run;
//! 5. reuse a copy on the host only if it re-hashes clean against its manifest and
//!    holds the store's record; else download to `var/cache/kiln/<sha256>.partial`
//!    (size and sha256 checked while streaming) and unpack beside the final directory,
//!    checking every file, then rename (or exchange) it into `opt/kiln/<package>/<build>`;
//! 6. check the entry points (a refusal removes what step 5 made), link a tool's
//!    binaries into `usr/local/bin` (through `current`);
//! 7. record the channel sequence seen and the pending switch, then switch `current` by
//!    renaming a new symlink over it;
//! 8. restart services (runit: once supervised), run the health check; on failure
//!    switch back and restart again (or, with nothing to go back to, record the build
//!    unfinished);
//! 9. record the history, clear the pending switch; then, only warning on failure,
//!    remove stale entry points and keep N builds.

use std::path::Path;

use release::{Channel, Digest, Kind, Manifest, Release, Signature, VerifyError};
use serde::Serialize;
use store::Store;

use crate::config::{Config, Manager};
use crate::error::{Code, Result, err, hinted};
use crate::layout::{Layout, TMP_PREFIX};
use crate::state::{self, Event, Pending, State};
use crate::unpack::{self, installed_manifest, remove_tree};
use crate::{download, ops, services};

pub enum Target {
    Version(u64),
    Channel(String),
}

pub struct Host<'a> {
    pub layout: Layout,
    pub config: &'a Config,
    pub store: Option<Box<dyn Store>>,
    pub no_restart: bool,
    /// Fetch and unpack a fresh copy even of a build already on the host.
    pub reinstall: bool,
    /// Say what would happen; write nothing at all.
    pub dry_run: bool,
    /// More services to restart when the package changes.
    pub restart: Vec<String>,
    pub progress: &'a dyn plumbing::progress::Reporter,
    /// The store's keys record, once read and checked (hosts with `trusted_root`).
    pub keys: std::sync::OnceLock<release::KeysRecord>,
}

#[derive(Serialize, Debug)]
pub struct Report {
    pub changed: bool,
    pub package: String,
    pub build: u64,
    pub previous: Option<u64>,
    pub restarted: Vec<String>,
    /// With --dry-run: what would happen, nothing done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<Plan>,
    /// Set when this run finished an install a crash had interrupted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovered: Option<u64>,
}

#[derive(Serialize, Debug)]
pub struct Plan {
    pub download_bytes: u64,
    pub switch_from: Option<u64>,
    pub switch_to: u64,
    pub restart: Vec<String>,
}

/// A record the store was asked for.
#[derive(Clone, Copy)]
enum Wanted<'a> {
    Build(u64),
    Channel(&'a str),
}

/// Why an install is being rolled back.
enum Failure {
    /// The restart of `p.restart[i]` failed (those before it were restarted).
    Restart(anyhow::Error, usize),
    Health(String),
}

/// A resolved release: the record, its exact bytes, and the channel it came by.
struct Resolved {
    rel: Release,
    bytes: Vec<u8>,
    /// The channel followed: its name, the pointer's sequence and sha256.
    channel: Option<(String, u64, Digest)>,
}

impl Host<'_> {
    fn store(&self) -> Result<&dyn Store> {
        self.store.as_deref().ok_or_else(|| {
            hinted(
                Code::BadInput,
                "no store configured",
                "pass --store URL or set store in /etc/kiln/fetch.toml",
            )
        })
    }

    /// The keys whose signatures count for `pkg`: `trusted_keys`, and with
    /// `trusted_root` the keys the store's keys record grants that package.
    fn trusted_for(&self, pkg: &str) -> Result<Vec<release::PublicKey>> {
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
    fn keys_record(&self) -> Result<release::KeysRecord> {
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
    fn check_signature(&self, pkg: &str, what: &str, bytes: &[u8], sig_key: &str) -> Result<()> {
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
            plumbing::style::warning(&format!(
                "{why}; installing anyway because allow_unsigned = true"
            ));
            return Ok(());
        }
        Err(hinted(Code::Failed, format!("{why}; refusing it"), hint))
    }

    /// The error for a record the store does not have, naming what is wrong: the
    /// store (it holds no releases), the package (with "did you mean"), the build or
    /// the channel, each with what the store does hold.
    fn missing(&self, pkg: &str, wanted: Wanted) -> anyhow::Error {
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
                [p, n, "release.json"] if n.parse::<u64>().is_ok() => {
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
    fn check_fresh(&self, pkg: &str, ch: &Channel, pointer: &Digest) -> Result<()> {
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

    fn fetch_release(&self, pkg: &str, build: u64) -> Result<(Release, Vec<u8>)> {
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

    fn resolve(&self, pkg: &str, target: &Target) -> Result<Resolved> {
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

    /// Remove what a crash left, and only that: the temp entries kiln-fetch names
    /// (`.tmp-<build>-<pid>` trees and `.tmp-current-<pid>` links beside the builds,
    /// `.tmp-<pid>-<file>` state files, `.tmp-<pid>-<binary>` links into opt/kiln in
    /// usr/local/bin), in directories that are its own and not links. Anything else
    /// named `.tmp-*` (an administrator's) is left alone.
    fn clean_temps(&self, pkg: &str) {
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit());
        // `<digits>-<rest>`, with the rest it must be.
        let numbered = |rest: &str, tail: &dyn Fn(&str) -> bool| {
            rest.split_once('-')
                .is_some_and(|(a, b)| digits(a) && tail(b))
        };
        let temps = |dir: &Path| -> Vec<(String, std::fs::FileType, std::path::PathBuf)> {
            std::fs::read_dir(dir)
                .into_iter()
                .flatten()
                .flatten()
                .filter_map(|e| {
                    let name = e.file_name().to_str()?.to_string();
                    let rest = name.strip_prefix(TMP_PREFIX)?.to_string();
                    Some((rest, e.file_type().ok()?, e.path()))
                })
                .collect()
        };
        let package_dir = self.layout.package_dir(pkg);
        if crate::layout::is_own_dir(&self.layout, &package_dir) {
            for (rest, kind, path) in temps(&package_dir) {
                let ours = (kind.is_dir() && numbered(&rest, &digits))
                    || (kind.is_symlink() && rest.strip_prefix("current-").is_some_and(digits));
                if ours {
                    let _ = remove_tree(&path);
                }
            }
        }
        let state_dir = self.layout.state_dir(pkg);
        if crate::layout::is_own_dir(&self.layout, &state_dir) {
            for (rest, kind, path) in temps(&state_dir) {
                let state_file = |t: &str| t == "state.json" || t == "pending.json";
                if kind.is_file() && numbered(&rest, &state_file) {
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
        let into_opt = Path::new("../../../opt/kiln").join(pkg);
        for (rest, kind, path) in temps(&self.layout.bin_dir()) {
            let ours = kind.is_symlink()
                && numbered(&rest, &|t: &str| !t.is_empty())
                && std::fs::read_link(&path).is_ok_and(|t| t.starts_with(&into_opt));
            if ours {
                let _ = std::fs::remove_file(&path);
            }
        }
    }

    /// Finish an install a crash interrupted after it recorded its pending switch.
    fn recover(&self, pkg: &str) -> Result<Option<Report>> {
        let p = match state::load_pending(&self.layout, pkg)? {
            state::Journal::None => return Ok(None),
            state::Journal::Pending(p) => p,
            state::Journal::Unreadable(why) => match self.owed(pkg)? {
                None => {
                    plumbing::style::warning(&format!(
                        "{why}; the switch it recorded did not happen, clearing it"
                    ));
                    self.undo_links(pkg)?;
                    state::clear_pending(&self.layout, pkg)?;
                    return Ok(None);
                }
                Some(p) => {
                    plumbing::style::warning(&format!(
                        "{why}; finishing the switch to build {} the host shows",
                        p.to
                    ));
                    p
                }
            },
        };
        let current = self.layout.current(pkg);
        if p.action == "auto-rollback" && current != Some(p.to) && self.on_host(pkg, p.to) {
            // A rollback journalled but killed before its switch: carried out.
            self.link(pkg, &installed_manifest(&self.layout.build_dir(pkg, p.to))?)?;
            self.switch(pkg, p.to)?;
        } else if current != Some(p.to) {
            // The switch never happened: the previous build is still current.
            self.undo_links(pkg)?;
            state::clear_pending(&self.layout, pkg)?;
            return Ok(None);
        }
        let report = self.finish(pkg, &p)?;
        Ok(Some(report))
    }

    /// The entry points are the current build's again: those linked for a build whose
    /// switch never happened go.
    fn undo_links(&self, pkg: &str) -> Result<()> {
        let manifest = self
            .layout
            .current(pkg)
            .map(|c| installed_manifest(&self.layout.build_dir(pkg, c)))
            .transpose()?;
        if let Some(m) = &manifest {
            self.link(pkg, m)?;
        }
        self.unlink_stale(pkg, manifest.as_ref())
    }

    /// What an unfinished install whose journal cannot be read still owes, from what
    /// the host shows: `current` switched to a build the history does not end with
    /// means the restart, the health check and the history entry never happened.
    fn owed(&self, pkg: &str) -> Result<Option<Pending>> {
        let Some(to) = self.layout.current(pkg) else {
            return Ok(None);
        };
        let st = State::load(&self.layout, pkg)?;
        let from = st.history.last().map(|e| e.build);
        if from == Some(to) && st.unfinished != Some(to) {
            return Ok(None);
        }
        let manifest = installed_manifest(&self.layout.build_dir(pkg, to))?;
        Ok(Some(Pending {
            from,
            to,
            action: "install".into(),
            restart: if self.no_restart {
                vec![]
            } else {
                self.restarts_for(Some(&manifest))
            },
            channel: None,
            sequence: None,
            pointer_sha256: None,
        }))
    }

    /// Run `work` under the package's lock, after removing what a crash left and
    /// finishing an install it interrupted. A run that finished an interrupted install
    /// and then fails says so, and that it changed the host.
    fn locked(
        &self,
        pkg: &str,
        work: impl FnOnce(Option<Report>) -> Result<Report>,
    ) -> Result<Report> {
        release::validate_package_name(pkg).map_err(|e| err(Code::BadInput, e))?;
        let lock = state::lock(&self.layout, pkg)?;
        let result = (|| {
            // Never written (nor removed) through a link in place of the package's
            // directory, on any path.
            crate::layout::own_dir(&self.layout, &self.layout.package_dir(pkg))?;
            self.clean_temps(pkg);
            // A state file that cannot be read stops the run before anything changes.
            State::load(&self.layout, pkg)?;
            let recovered = self.recover(pkg)?;
            let finished = recovered.as_ref().map(|r| r.build);
            work(recovered).map_err(|e| match finished {
                Some(b) => {
                    eprintln!(
                        "note: finished the interrupted install of {pkg} build {b} before this failed"
                    );
                    crate::error::mark_changed(e)
                }
                None => e,
            })
        })();
        drop(lock);
        result
    }

    /// Build `n` of `pkg` is on the host as kiln-fetch left it: a real directory with
    /// its release record (what `current` may keep pointing at without a download).
    fn on_host(&self, pkg: &str, n: u64) -> bool {
        let dir = self.layout.build_dir(pkg, n);
        std::fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir())
            && dir.join("release.json").is_file()
    }

    pub fn install(&self, pkg: &str, target: &Target, dry_run: bool) -> Result<Report> {
        release::validate_package_name(pkg).map_err(|e| err(Code::BadInput, e))?;
        if self.config.allow_unsigned {
            plumbing::style::warning(
                "allow_unsigned = true: records no trusted key signed are installed (for demos only)",
            );
        }
        if dry_run {
            return self.plan(pkg, target);
        }
        // A package new to this host is looked up before anything is created for it,
        // so bad input (an unknown package, build or channel) leaves nothing behind.
        // (The lock is never removed once made: another run may be waiting on it.)
        if std::fs::symlink_metadata(self.layout.state_dir(pkg)).is_err() {
            self.resolve(pkg, target)?;
        }
        self.locked(pkg, |recovered| {
            let current = self.layout.current(pkg);
            // The current build counts as installed only once an install of it
            // finished and it has not failed since: one whose restart or health check
            // failed with nothing to go back to is checked again.
            let settled = |n: u64| {
                current == Some(n)
                    && self.on_host(pkg, n)
                    && State::load(&self.layout, pkg).is_ok_and(|st| st.settled(n))
            };
            // A pinned build that is already current needs no store at all.
            if let Target::Version(n) = target
                && !self.reinstall
                && settled(*n)
            {
                return Ok(self.unchanged(pkg, *n, recovered));
            }
            let r = self.resolve(pkg, target)?;
            if !self.reinstall && settled(r.rel.build) {
                if let Some((c, seq, sha)) = &r.channel {
                    let mut st = State::load(&self.layout, pkg)?;
                    st.accept(c, *seq, Some(*sha));
                    st.save(&self.layout, pkg)?;
                }
                return Ok(self.unchanged(pkg, r.rel.build, recovered));
            }
            let mut report = self.switch_to(pkg, &r.rel, &r.bytes, "install", r.channel.clone())?;
            report.recovered = recovered.map(|r| r.build);
            Ok(report)
        })
    }

    fn unchanged(&self, pkg: &str, build: u64, recovered: Option<Report>) -> Report {
        match recovered {
            Some(mut r) => {
                r.recovered = Some(r.build);
                r
            }
            None => Report {
                changed: false,
                package: pkg.into(),
                build,
                previous: Some(build),
                restarted: vec![],
                dry_run: None,
                recovered: None,
            },
        }
    }

    fn plan(&self, pkg: &str, target: &Target) -> Result<Report> {
        let dir = self.layout.package_dir(pkg);
        if std::fs::symlink_metadata(&dir).is_ok() && !crate::layout::is_own_dir(&self.layout, &dir)
        {
            return Err(crate::layout::not_ours(&dir));
        }
        let current = self.layout.current(pkg);
        let r = self.resolve(pkg, target)?;
        let n = r.rel.build;
        let on_disk =
            !self.reinstall && self.layout.build_dir(pkg, n).join("release.json").is_file();
        let cache = self.layout.cache_dir();
        let sha = r.rel.bundle.sha256;
        let download_bytes = if on_disk
            || (current == Some(n) && !self.reinstall)
            || cache.join(format!("{sha}.tar.gz")).is_file()
        {
            0
        } else {
            let have =
                std::fs::metadata(cache.join(format!("{sha}.partial"))).map_or(0, |m| m.len());
            r.rel.bundle.size.saturating_sub(have)
        };
        // What the real run would finish first: an install a crash interrupted after
        // its switch (or one whose first health check failed).
        let owed = match state::load_pending(&self.layout, pkg)? {
            state::Journal::Pending(p) if current == Some(p.to) => Some(p),
            state::Journal::Unreadable(_) => self.owed(pkg)?,
            _ => None,
        };
        let settled = State::load(&self.layout, pkg)?.settled(n);
        let changed = self.reinstall || current != Some(n) || owed.is_some() || !settled;
        let mut restart = owed.as_ref().map(|p| p.restart.clone()).unwrap_or_default();
        if (self.reinstall || current != Some(n) || !settled) && !self.no_restart {
            let manifest = on_disk
                .then(|| installed_manifest(&self.layout.build_dir(pkg, n)).ok())
                .flatten();
            for name in self.restarts_for(manifest.as_ref()) {
                if !restart.contains(&name) {
                    restart.push(name);
                }
            }
        }
        Ok(Report {
            changed,
            package: pkg.into(),
            build: n,
            previous: current,
            restarted: vec![],
            dry_run: Some(Plan {
                download_bytes,
                switch_from: current,
                switch_to: n,
                restart,
            }),
            recovered: owed.map(|p| p.to),
        })
    }

    /// The services to restart for a bundle: its own, plus --restart ones.
    fn restarts_for(&self, manifest: Option<&Manifest>) -> Vec<String> {
        let mut out: Vec<String> = manifest
            .and_then(|m| {
                (m.kind == Kind::Service).then(|| m.service.as_ref().map(|s| s.name.clone()))
            })
            .flatten()
            .into_iter()
            .collect();
        out.extend(self.restart.iter().cloned());
        if matches!(self.config.manager, Manager::None) {
            out.clear();
        }
        out
    }

    /// Whether the copy of build `n` on the host may become current as it is: a real
    /// directory holding exactly the store's release record, every file re-hashed
    /// against its manifest. Anything else is replaced by a fresh download (and
    /// `--reinstall` always replaces it).
    fn reusable(&self, pkg: &str, n: u64, bytes: &[u8]) -> Result<bool> {
        let dir = self.layout.build_dir(pkg, n);
        let Ok(meta) = std::fs::symlink_metadata(&dir) else {
            return Ok(false);
        };
        if self.reinstall {
            return Ok(false);
        }
        let why = if !meta.is_dir() {
            "is not a directory kiln-fetch made".to_string()
        } else if std::fs::read(dir.join("release.json")).ok().as_deref() != Some(bytes) {
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

    /// Make `rel` current: everything that can fail first, then the switch.
    fn switch_to(
        &self,
        pkg: &str,
        rel: &Release,
        bytes: &[u8],
        action: &str,
        channel: Option<(String, u64, Digest)>,
    ) -> Result<Report> {
        // A configured manager that cannot run fails the install before anything is
        // downloaded: we do not know yet whether the bundle is a service.
        if !self.no_restart {
            services::preflight(&self.config.manager)?;
        }
        let n = rel.build;
        let dir = self.layout.build_dir(pkg, n);
        let current = self.layout.current(pkg);
        // The entry points are checked before the build directory is touched: from
        // the copy on the host, or from the downloaded bundle's manifest (a refusal
        // then removes only that download).
        // A fresh copy swapped in under the current build changed the host, whatever
        // happens next.
        let reuse = self.reusable(pkg, n, bytes)?;
        let replaced_current = !reuse && current == Some(n);
        if reuse {
            self.check_links(pkg, &installed_manifest(&dir)?)?;
        } else {
            let _cache = download::cache_lock(&self.layout, false)?;
            let blob = download::bundle(&self.layout, self.store()?, rel, self.progress)?;
            let (bundled, _) = unpack::read_manifest(&blob, rel)?;
            if let Err(e) = self.check_links(pkg, &bundled) {
                let _ = std::fs::remove_file(&blob);
                return Err(e);
            }
            unpack::install_tree(&self.layout, rel, bytes, &blob)?;
        }
        let manifest = installed_manifest(&dir)?;
        let restart = if self.no_restart {
            vec![]
        } else {
            self.restarts_for(Some(&manifest))
        };
        self.link(pkg, &manifest)?;
        let pending = Pending {
            from: current,
            to: n,
            action: action.to_string(),
            restart,
            channel: channel.as_ref().map(|c| c.0.clone()),
            sequence: channel.as_ref().map(|c| c.1),
            pointer_sha256: channel.as_ref().map(|c| c.2),
        };
        if let Some((c, seq, sha)) = &channel {
            // Seen before acted on: a kill and a damaged journal cannot lose it.
            let mut st = State::load(&self.layout, pkg)?;
            st.saw(c, *seq, Some(*sha));
            st.save(&self.layout, pkg)?;
        }
        state::save_pending(&self.layout, pkg, &pending)?;
        plumbing::fault::pause("before-switch");
        self.switch(pkg, n)?;
        plumbing::fault::pause("after-switch");
        self.finish(pkg, &pending).map_err(|e| {
            if replaced_current {
                crate::error::mark_changed(e)
            } else {
                e
            }
        })
    }

    /// After the switch: restart, health check (rolling back on failure), history.
    /// Any failure here comes after `current` switched: it says the host changed
    /// unless `current` is back where it was.
    fn finish(&self, pkg: &str, p: &Pending) -> Result<Report> {
        self.finish_switched(pkg, p).map_err(|e| {
            if self.layout.current(pkg) != p.from {
                crate::error::mark_changed(e)
            } else {
                e
            }
        })
    }

    fn finish_switched(&self, pkg: &str, p: &Pending) -> Result<Report> {
        let dir = self.layout.build_dir(pkg, p.to);
        let manifest = installed_manifest(&dir)?;
        let mut st = State::load(&self.layout, pkg)?;
        for (i, name) in p.restart.iter().enumerate() {
            if let Err(e) =
                services::restart(&self.config.manager, name, self.config.service_timeout)
            {
                let failure = Failure::Restart(e, i);
                return Err(self.roll_back(pkg, p, failure, &mut st));
            }
        }
        let health = manifest.service.as_ref().and_then(|s| s.health.as_ref());
        if let Some(health) = health.filter(|_| self.config.check_health) {
            let exe = self.layout.current_link(pkg).join(health);
            if let Err(why) = services::check(&exe, &self.config.health) {
                let failed = format!(
                    "health check {health} of {pkg} build {} failed: {why}",
                    p.to
                );
                return Err(self.roll_back(pkg, p, Failure::Health(failed), &mut st));
            }
        }
        st.history.push(Event {
            build: p.to,
            sha256: release_sha(&dir)?,
            at: state::now(),
            action: p.action.clone(),
            previous: p.from,
            channel: p.channel.clone(),
        });
        if let (Some(c), Some(seq)) = (&p.channel, p.sequence) {
            st.accept(c, seq, p.pointer_sha256);
        }
        st.unfinished = None;
        st.save(&self.layout, pkg)?;
        state::clear_pending(&self.layout, pkg)?;
        // The install happened; tidying up after it never fails it.
        if let Err(e) = self.unlink_stale(pkg, Some(&manifest)) {
            plumbing::style::warning(&format!(
                "removing entry points build {} no longer has: {e:#}",
                p.to
            ));
        }
        if let Err(e) = self.gc(pkg, self.config.keep) {
            plumbing::style::warning(&format!(
                "removing old builds of {pkg}: {e:#}; kiln-fetch gc tries again"
            ));
        }
        let _ = std::fs::remove_file(
            self.layout
                .cache_dir()
                .join(format!("{}.tar.gz", release_sha(&dir)?)),
        );
        Ok(Report {
            changed: true,
            package: pkg.into(),
            build: p.to,
            previous: p.from,
            restarted: p.restart.clone(),
            dry_run: None,
            recovered: None,
        })
    }

    /// After a failed restart or health check: back to the build that was current
    /// before, restarted. A first install whose restart failed leaves no `current`
    /// (the host as it was); one whose health check failed keeps the new build current,
    /// since its service already runs it.
    fn roll_back(&self, pkg: &str, p: &Pending, failure: Failure, st: &mut State) -> anyhow::Error {
        // The services restarted onto the new build: all of them before a health
        // check, those before the one that failed otherwise. They are restarted again
        // onto the build switched back to.
        let done = match &failure {
            Failure::Health(_) => &p.restart[..],
            Failure::Restart(_, i) => &p.restart[..*i],
        };
        let restarted = !done.is_empty();
        let hinted = |code: Code, message: String, hint: &str| {
            if restarted {
                crate::error::changed(code, message, hint)
            } else {
                hinted(code, message, hint)
            }
        };
        let (failed, code, cause_hint) = match &failure {
            Failure::Health(f) => (f.clone(), Code::Failed, None),
            Failure::Restart(e, _) => {
                let d = plumbing::error::describe(e);
                let code = if d.code == Code::Env as i32 {
                    Code::Env
                } else {
                    Code::Failed
                };
                (d.lines.join(": "), code, d.hint)
            }
        };
        let hint_or = |h: &str| cause_hint.clone().unwrap_or_else(|| h.to_string());
        // Back means to the build that was current before. Re-running the current one
        // (--reinstall, or one that never passed its check) keeps it current, and so
        // does a failed automatic rollback being finished (no ping-pong between runs).
        let back_to = p.from.filter(|b| *b != p.to && p.action != "auto-rollback");
        let Some(prev) = back_to.filter(|b| self.on_host(pkg, *b)) else {
            // Only a first install (nothing was current) can be undone to nothing.
            if let (Failure::Restart(..), None) = (&failure, p.from) {
                let undo = (|| -> Result<()> {
                    self.unlink_stale(pkg, None)?;
                    fs_err::remove_file(self.layout.current_link(pkg))?;
                    state::clear_pending(&self.layout, pkg)
                })();
                let still = if done.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; {} had been restarted onto build {} and still run it",
                        done.join(", "),
                        p.to
                    )
                };
                return match undo {
                    Ok(()) => hinted(
                        code,
                        format!(
                            "{failed}; {pkg} was not installed before, so nothing is current now (build {} stays unpacked under {}){still}",
                            p.to,
                            self.layout.build_dir(pkg, p.to).display()
                        ),
                        &hint_or("fix the service and run the same install again"),
                    ),
                    Err(e) => hinted(
                        code,
                        format!("{failed}; removing the new `current` failed too: {e:#}"),
                        "kiln-fetch list shows what is current; run the install again",
                    ),
                };
            }
            // The build stays current but is not installed: the next run checks it
            // again, so config management keeps seeing the failure.
            st.unfinished = Some(p.to);
            let _ = st.save(&self.layout, pkg);
            let _ = state::clear_pending(&self.layout, pkg);
            let why = if p.from == Some(p.to) {
                "it was current before this run, and a reinstall (or a re-check) never switches to another build"
            } else {
                "there is no earlier build to roll back to"
            };
            return hinted(
                code,
                format!("{failed}; build {} stays current: {why}", p.to),
                &hint_or("fix the release and install another build"),
            );
        };
        let back = (|| -> Result<std::result::Result<bool, String>> {
            let prev_manifest = installed_manifest(&self.layout.build_dir(pkg, prev))?;
            self.link(pkg, &prev_manifest)?;
            // Journalled like any switch: a kill after it is finished by the next run
            // (the restarts onto `prev` and its health check).
            let back = Pending {
                from: Some(p.to),
                to: prev,
                action: "auto-rollback".into(),
                restart: done.to_vec(),
                channel: None,
                sequence: None,
                pointer_sha256: None,
            };
            state::save_pending(&self.layout, pkg, &back)?;
            // Until its check passes the build gone back to is not installed, so a
            // damaged journal cannot turn a kill here into "unchanged".
            st.unfinished = Some(prev);
            st.save(&self.layout, pkg)?;
            self.switch(pkg, prev)?;
            for name in done {
                services::restart(&self.config.manager, name, self.config.service_timeout)?;
            }
            // The build gone back to counts as installed only if it is healthy: checked
            // again when its services were restarted onto it, else as it was before.
            let healthy = if done.is_empty() {
                Ok(st.settled(prev))
            } else {
                match prev_manifest
                    .service
                    .as_ref()
                    .and_then(|s| s.health.as_ref())
                {
                    Some(h) if self.config.check_health => {
                        let exe = self.layout.current_link(pkg).join(h);
                        services::check(&exe, &self.config.health).map(|()| true)
                    }
                    _ => Ok(true),
                }
            };
            match &healthy {
                Ok(true) => {
                    st.history.push(Event {
                        build: prev,
                        sha256: release_sha(&self.layout.build_dir(pkg, prev))?,
                        at: state::now(),
                        action: "auto-rollback".into(),
                        previous: Some(p.to),
                        channel: None,
                    });
                    st.unfinished = None;
                }
                _ => st.unfinished = Some(prev),
            }
            st.save(&self.layout, pkg)?;
            state::clear_pending(&self.layout, pkg)?;
            self.unlink_stale(pkg, Some(&prev_manifest))?;
            Ok(healthy)
        })();
        let running = match failure {
            Failure::Health(_) => "which is running now".to_string(),
            Failure::Restart(..) if done.is_empty() => {
                "current again (no service was restarted)".to_string()
            }
            Failure::Restart(..) => format!(
                "current again, and {} restarted onto it again",
                done.join(", ")
            ),
        };
        match back {
            Ok(Err(why)) => hinted(
                code,
                format!(
                    "{failed}; rolled back to build {prev}, but its health check fails too: {why}"
                ),
                "both builds are unhealthy; fix the service or install a build that passes",
            ),
            Ok(Ok(false)) => hinted(
                code,
                format!(
                    "{failed}; rolled back to build {prev}, which never passed its own check either"
                ),
                "fix the service or install a build that passes",
            ),
            Ok(Ok(true)) => hinted(
                code,
                format!("{failed}; rolled back to build {prev}, {running}"),
                &hint_or(&format!(
                    "build {} stays installed for inspection under {}",
                    p.to,
                    self.layout.build_dir(pkg, p.to).display()
                )),
            ),
            Err(e) => hinted(
                code,
                format!("{failed}; rolling back to build {prev} failed too: {e:#}"),
                "check the service by hand; kiln-fetch list shows what is current",
            ),
        }
    }

    /// Point `current` at `build` by renaming a new symlink over it.
    fn switch(&self, pkg: &str, build: u64) -> Result<()> {
        let dir = self.layout.package_dir(pkg);
        let tmp = dir.join(format!("{TMP_PREFIX}current-{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(build.to_string(), &tmp)?;
        fs_err::rename(&tmp, self.layout.current_link(pkg))?;
        std::fs::File::open(&dir)?.sync_all()?;
        Ok(())
    }

    fn check_links(&self, pkg: &str, m: &Manifest) -> Result<()> {
        if m.kind != Kind::Tool {
            return Ok(());
        }
        for b in &m.binaries {
            let path = self.layout.bin_dir().join(b);
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            let target = meta
                .file_type()
                .is_symlink()
                .then(|| std::fs::read_link(&path).ok())
                .flatten();
            if target.as_deref() == Some(Layout::bin_target(pkg, b).as_path()) {
                continue;
            }
            let owner = target
                .as_ref()
                .and_then(|t| t.strip_prefix("../../../opt/kiln").ok())
                .and_then(|rest| rest.components().next())
                .map(|c| c.as_os_str().to_string_lossy().into_owned());
            return Err(match owner {
                Some(other) => hinted(
                    Code::Failed,
                    format!("{} is already provided by package {other}", path.display()),
                    "two tools cannot install the same entry point; rename one binary",
                ),
                None => hinted(
                    Code::Failed,
                    format!(
                        "{} exists and is not managed by kiln-fetch; refusing to replace it",
                        path.display()
                    ),
                    "remove it by hand if kiln-fetch should own it",
                ),
            });
        }
        Ok(())
    }

    /// Link a tool's binaries into usr/local/bin, through `current`.
    fn link(&self, pkg: &str, m: &Manifest) -> Result<()> {
        if m.kind != Kind::Tool {
            return Ok(());
        }
        let bin = self.layout.bin_dir();
        fs_err::create_dir_all(&bin)?;
        for b in &m.binaries {
            let path = bin.join(b);
            let target = Layout::bin_target(pkg, b);
            if std::fs::read_link(&path).ok().as_deref() == Some(target.as_path()) {
                continue;
            }
            let tmp = bin.join(format!("{TMP_PREFIX}{}-{b}", std::process::id()));
            let _ = std::fs::remove_file(&tmp);
            std::os::unix::fs::symlink(&target, &tmp)?;
            fs_err::rename(&tmp, &path)?;
        }
        Ok(())
    }

    /// Remove entry points of ours that the current build (`m`; none: every one) no
    /// longer has.
    fn unlink_stale(&self, pkg: &str, m: Option<&Manifest>) -> Result<()> {
        let prefix = Path::new("../../../opt/kiln").join(pkg).join("current/bin");
        for e in std::fs::read_dir(self.layout.bin_dir())
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = e.file_name().to_string_lossy().into_owned();
            let ours =
                std::fs::read_link(e.path()).is_ok_and(|t| t.parent() == Some(prefix.as_path()));
            if ours && m.is_none_or(|m| m.kind != Kind::Tool || !m.binaries.contains(&name)) {
                fs_err::remove_file(e.path())?;
            }
        }
        Ok(())
    }

    pub fn rollback(&self, pkg: &str, to: Option<u64>) -> Result<Report> {
        release::validate_package_name(pkg).map_err(|e| err(Code::BadInput, e))?;
        if self.layout.installed(pkg).is_empty() && self.layout.current(pkg).is_none() {
            return Err(hinted(
                Code::BadInput,
                format!(
                    "{pkg} is not installed under {}",
                    self.layout.root.display()
                ),
                "kiln-fetch list shows what is installed",
            ));
        }
        self.locked(pkg, |recovered| {
            let finished = recovered.as_ref().map(|r| r.build);
            let current = self.layout.current(pkg);
            let st = State::load(&self.layout, pkg)?;
            let target = match to {
                Some(n) => n,
                None => st.rollback_target(current).ok_or_else(|| {
                    hinted(
                        Code::BadInput,
                        format!("{pkg} has no earlier build to roll back to"),
                        "name one with --to N",
                    )
                })?,
            };
            if current == Some(target) && self.on_host(pkg, target) && st.settled(target) {
                let mut r = self.unchanged(pkg, target, recovered);
                r.recovered = finished;
                return Ok(r);
            }
            // The store's signed record decides (the copy's release.json must equal it).
            // Only when the store cannot say (down, or the build gone from it) does the
            // copy's own record stand in, so a rollback works at 3 am with the store
            // down; never when the store shows tampering.
            let dir = self.layout.build_dir(pkg, target);
            let local = self
                .on_host(pkg, target)
                .then(|| std::fs::read(dir.join("release.json")).ok())
                .flatten()
                .and_then(|b| {
                    let r = Release::from_bytes(&b).ok()?;
                    (r.package == pkg && r.build == target).then_some((r, b))
                });
            let (rel, bytes) = match (self.store.is_some(), local) {
                (false, Some(x)) => x,
                (false, None) => self.fetch_release(pkg, target)?,
                (true, local) => match (self.fetch_release(pkg, target), local) {
                    (Ok(x), _) => x,
                    (Err(e), Some(x)) if plumbing::error::describe(&e).code != Code::Failed as i32 => {
                        plumbing::style::warning(&format!(
                            "the store's record of {pkg} build {target} cannot be read ({e}); rolling back to the copy on this host, checked against its own record"
                        ));
                        x
                    }
                    (Err(e), _) => return Err(e),
                },
            };
            let mut report = self.switch_to(pkg, &rel, &bytes, "rollback", None)?;
            report.recovered = finished;
            Ok(report)
        })
    }

    /// `gc` for one package, under its lock (never while an install of it runs).
    pub fn collect(&self, pkg: &str, keep: usize) -> Result<Vec<u64>> {
        let _lock = state::lock(&self.layout, pkg)?;
        let dir = self.layout.package_dir(pkg);
        if !crate::layout::is_own_dir(&self.layout, &dir) {
            return Err(crate::layout::not_ours(&dir));
        }
        self.clean_temps(pkg);
        self.gc(pkg, keep)
    }

    /// Remove old builds beyond `keep`, never `current` nor the rollback target.
    pub fn gc(&self, pkg: &str, keep: usize) -> Result<Vec<u64>> {
        let current = self.layout.current(pkg);
        let st = State::load(&self.layout, pkg)?;
        let protected: Vec<u64> = current
            .into_iter()
            .chain(st.rollback_target(current))
            .collect();
        // Most recently current first; builds never current come last, newest first.
        let mut order: Vec<u64> = Vec::new();
        for e in st.history.iter().rev() {
            if !order.contains(&e.build) {
                order.push(e.build);
            }
        }
        for b in self.layout.installed(pkg).into_iter().rev() {
            if !order.contains(&b) {
                order.push(b);
            }
        }
        let installed = self.layout.installed(pkg);
        let mut kept: Vec<u64> = protected.clone();
        for b in order {
            if kept.len() >= keep.max(protected.len()) {
                break;
            }
            if installed.contains(&b) && !kept.contains(&b) {
                kept.push(b);
            }
        }
        let mut removed = Vec::new();
        for b in installed {
            if !kept.contains(&b) {
                // Renamed to a temp name first, so a removal that fails half way never
                // leaves half a build visible (the next run removes the rest).
                let dir = self.layout.build_dir(pkg, b);
                let tmp = self
                    .layout
                    .package_dir(pkg)
                    .join(format!("{TMP_PREFIX}{b}-{}", std::process::id()));
                std::fs::rename(&dir, &tmp)
                    .and_then(|()| remove_tree(&tmp))
                    .map_err(|e| {
                        anyhow::Error::new(e)
                            .context(format!("removing build {b} ({})", dir.display()))
                    })?;
                removed.push(b);
            }
        }
        Ok(removed)
    }
}

fn release_sha(dir: &Path) -> Result<release::Digest> {
    let bytes = fs_err::read(dir.join("release.json"))?;
    Ok(Release::from_bytes(&bytes)
        .map_err(|e| {
            err(
                Code::Failed,
                format!("{}: {e}", dir.join("release.json").display()),
            )
        })?
        .bundle
        .sha256)
}
