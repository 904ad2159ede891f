//! Publishing to a store: bundle and release record first (create-only), channel
//! pointer last (compare-and-swap), so a host never sees a half-published release. A
//! build number, once written, never changes.

use std::time::SystemTime;

use release::{
    BundleRef, Channel, ChannelMove, Digest, Release, SCHEMA, SecretKey, Signature, Source,
};
use serde::Serialize;
use store::{Condition, PutOutcome, Store};

use crate::bundle::Built;
use crate::cache::Cache;
use crate::error::{Code, Result, bad_input, env_failed, failed, hinted};

fn get_release(store: &dyn Store, package: &str, build: u64) -> Result<Option<(Release, Vec<u8>)>> {
    let key = release::release_key(package, build);
    match store.get(&key).map_err(store::StoreError::classify)? {
        None => Ok(None),
        Some((bytes, _)) => {
            let r = Release::from_bytes(&bytes).map_err(|e| {
                failed(format!(
                    "{}/{key} is not a valid release record: {e}",
                    store.url()
                ))
            })?;
            if r.package != package || r.build != build {
                return Err(failed(format!(
                    "{}/{key} is the record of {} build {}, moved here: kiln decides nothing from it",
                    store.url(),
                    r.package,
                    r.build
                )));
            }
            Ok(Some((r, bytes)))
        }
    }
}

/// Whether `key` signed `bytes` (the signature stored at `sig_key`): Err says why not.
fn signed_by(
    store: &dyn Store,
    bytes: &[u8],
    sig_key: &str,
    key: &SecretKey,
) -> Result<std::result::Result<(), String>> {
    let Some((sig, _)) = store.get(sig_key).map_err(store::StoreError::classify)? else {
        return Ok(Err("it has no signature".into()));
    };
    Ok(Signature::from_bytes(&sig)
        .and_then(|s| s.verify(bytes, &[key.public()]))
        .map(|_| ())
        .map_err(|e| e.to_string()))
}

/// A release record's signature keys: digest-named, then where older stores kept it.
fn release_sigs(package: &str, build: u64, bytes: &[u8]) -> [String; 2] {
    [
        release::release_sig_key(package, build, &Digest::of_bytes(bytes)),
        release::release_legacy_sig_key(package, build),
    ]
}

/// `signed_by` with the first of `sig_keys` that exists.
fn signed_by_any(
    store: &dyn Store,
    bytes: &[u8],
    sig_keys: &[String],
    key: &SecretKey,
) -> Result<std::result::Result<(), String>> {
    for k in sig_keys {
        if store.get(k).map_err(store::StoreError::classify)?.is_some() {
            return signed_by(store, bytes, k, key);
        }
    }
    Ok(Err("it has no signature".into()))
}

/// An object the publisher cannot vouch for where it must decide something: never a
/// silent success.
fn unverified(store: &dyn Store, object: &str, why: &str, fix: String) -> anyhow::Error {
    hinted(
        Code::Failed,
        format!(
            "{}/{object} is not signed by the key in use ({why}): kiln decides nothing from it",
            store.url()
        ),
        fix,
    )
}

/// Refuse a release record this key did not sign.
fn check_release(
    store: &dyn Store,
    package: &str,
    build: u64,
    bytes: &[u8],
    key: Option<&SecretKey>,
) -> Result<()> {
    let Some(k) = key else { return Ok(()) };
    if let Err(why) = signed_by_any(store, bytes, &release_sigs(package, build, bytes), k)? {
        return Err(unverified(
            store,
            &release::release_key(package, build),
            &why,
            format!(
                "publish under a new build number; if nobody here wrote that record, remove {package}/{build}/ from the store and publish again (a record signed by another key, for example before a key rotation, is not re-signed: build numbers are immutable)"
            ),
        ));
    }
    Ok(())
}

fn conflict(
    store: &dyn Store,
    package: &str,
    build: u64,
    theirs: &Digest,
    ours: &Digest,
) -> anyhow::Error {
    hinted(
        Code::Failed,
        format!(
            "build {build} of {package} already exists in {} with different bytes\n  published: {theirs}\n  this build: {ours}",
            store.url()
        ),
        format!(
            "build numbers are immutable: publish under a new number (`kiln releases {package}` lists the ones in use)"
        ),
    )
}

#[derive(Serialize)]
pub struct Published {
    pub package: String,
    pub build: u64,
    pub sha256: Digest,
    pub changed: bool,
}

/// Publish every bundle as `build`. Conflicts are found before anything is written.
pub fn publish(
    store: &dyn Store,
    cache: &Cache,
    ui: crate::ui::Ui,
    key: Option<&SecretKey>,
    bundles: &[Built],
    build: u64,
    source: Source,
) -> Result<Vec<Published>> {
    let mut seen = std::collections::BTreeMap::new();
    for b in bundles {
        if let Some(other) = seen.insert(&b.package, &b.label) {
            return Err(bad_input(format!(
                "bundles {other} and {} would both publish as package {:?}",
                b.label, b.package
            )));
        }
    }
    let mut todo = Vec::new();
    let mut out = Vec::new();
    for b in bundles {
        let existing = get_release(store, &b.package, build)?;
        if let Some((_, bytes)) = &existing {
            check_release(store, &b.package, build, bytes, key)?;
        }
        match existing.map(|(r, _)| r) {
            Some(r) if r.bundle.sha256 == b.sha256 => out.push(Published {
                package: b.package.clone(),
                build,
                sha256: b.sha256,
                changed: false,
            }),
            Some(r) => {
                return Err(conflict(
                    store,
                    &b.package,
                    build,
                    &r.bundle.sha256,
                    &b.sha256,
                ));
            }
            None => todo.push(b),
        }
    }
    for b in todo {
        let bundle_key = release::bundle_key(&b.package, build);
        let bar = ui.bytes_bar(&format!("Uploading {}", b.package), Some(b.size));
        let mut body = bar.wrap_read(fs_err::File::open(cache.cas_path(&b.sha256))?);
        let outcome = store.put(&bundle_key, &mut body, Condition::IfAbsent);
        bar.finish_and_clear();
        if outcome.map_err(store::StoreError::classify)? == PutOutcome::ConditionFailed {
            // A bundle without a release record: an earlier publish stopped halfway.
            // Finish it only if it holds the same bytes.
            let mut existing = store
                .open(&bundle_key)
                .map_err(store::StoreError::classify)?
                .ok_or_else(|| env_failed(format!("{bundle_key} vanished while publishing")))?;
            let mut h = release::Hasher::new();
            std::io::copy(&mut existing, &mut h)?;
            let theirs = h.finish();
            if theirs != b.sha256 {
                return Err(conflict(store, &b.package, build, &theirs, &b.sha256));
            }
        }
        let record = Release {
            schema: SCHEMA,
            package: b.package.clone(),
            build,
            bundle: BundleRef {
                sha256: b.sha256,
                size: b.size,
            },
            manifest_sha256: b.manifest_sha256,
            source: source.clone(),
            built_at: plumbing::fs::now_rfc3339(),
            builder: concat!("kiln ", env!("CARGO_PKG_VERSION")).to_string(),
        };
        let bytes = record.to_bytes();
        if let Some(k) = key {
            // The signature goes first, so a record is never visible without it; it is
            // named by the record's digest, so a concurrent publisher's is never replaced.
            put_new(
                store,
                &release::release_sig_key(&b.package, build, &Digest::of_bytes(&bytes)),
                &k.sign(&bytes).to_bytes(),
            )?;
        }
        let record_key = release::release_key(&b.package, build);
        let outcome = store
            .put(&record_key, &mut bytes.as_slice(), Condition::IfAbsent)
            .map_err(store::StoreError::classify)?;
        let changed = outcome == PutOutcome::Written;
        if !changed {
            // Someone published this build number while we were uploading.
            let (r, theirs) = get_release(store, &b.package, build)?
                .ok_or_else(|| env_failed(format!("{record_key} vanished while publishing")))?;
            check_release(store, &b.package, build, &theirs, key)?;
            if r.bundle.sha256 != b.sha256 {
                return Err(conflict(
                    store,
                    &b.package,
                    build,
                    &r.bundle.sha256,
                    &b.sha256,
                ));
            }
        }
        out.push(Published {
            package: b.package.clone(),
            build,
            sha256: b.sha256,
            changed,
        });
    }
    out.sort_by(|a, b| a.package.cmp(&b.package));
    Ok(out)
}

#[derive(Serialize)]
pub struct Promoted {
    pub package: String,
    pub channel: String,
    pub build: u64,
    pub previous: Option<u64>,
    pub sequence: u64,
    pub changed: bool,
}

/// How many history entries above the newest signed one a promote looks past.
const MAX_UNSIGNED_HISTORY: usize = 1000;

/// The newest entry of a channel's history that `key` signed (with no key: the newest
/// that parses): its sequence, the sha256 of its bytes and the build it moved to.
/// Entries nobody here signed are passed over: a planted one decides nothing.
fn latest_history(
    store: &dyn Store,
    package: &str,
    channel: &str,
    key: Option<&SecretKey>,
) -> Result<Option<(u64, Digest, u64)>> {
    let prefix = format!("{}{channel}/history/", release::channels_prefix(package));
    let mut seqs: Vec<u64> = store
        .list(&prefix)
        .map_err(store::StoreError::classify)?
        .iter()
        .filter_map(|k| k.strip_prefix(&prefix)?.strip_suffix(".json")?.parse().ok())
        .collect();
    seqs.sort_unstable_by(|a, b| b.cmp(a));
    // Planted entries above the newest signed one are passed over, a bounded number.
    for seq in seqs.into_iter().take(MAX_UNSIGNED_HISTORY) {
        let hkey = release::channel_history_key(package, channel, seq);
        let Some((bytes, _)) = store.get(&hkey).map_err(store::StoreError::classify)? else {
            continue;
        };
        let Ok(entry) = ChannelMove::from_bytes(&bytes) else {
            continue;
        };
        if entry.sequence != seq || entry.package != package || entry.channel != channel {
            continue;
        }
        let sig_key = release::channel_sig_key(package, channel, &Digest::of_bytes(&bytes));
        if let Some(k) = key
            && signed_by(store, &bytes, &sig_key, k)?.is_err()
        {
            continue;
        }
        return Ok(Some((seq, Digest::of_bytes(&bytes), entry.to)));
    }
    Ok(None)
}

/// Who moves a channel: `$KILN_ACTOR` (CI sets it to the job), else user@host.
pub fn actor() -> String {
    if let Ok(a) = std::env::var("KILN_ACTOR")
        && !a.is_empty()
    {
        return a;
    }
    let uid = nix::unistd::getuid();
    let user = std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(|| {
            nix::unistd::User::from_uid(uid)
                .ok()
                .flatten()
                .map(|u| u.name)
        })
        .unwrap_or_else(|| format!("uid {uid}"));
    let host = nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "unknown".into());
    format!("{user}@{host}")
}

pub struct PromoteOptions<'a> {
    pub reason: Option<&'a str>,
    /// How long hosts may follow the new pointer.
    pub expires: Option<std::time::Duration>,
    pub key: Option<&'a SecretKey>,
    /// Move a channel whose pointer is signed without a key (hosts that require
    /// signatures then refuse it).
    pub allow_unsigned: bool,
}

/// Write a digest-named signature, create-only: the same name is the same bytes'
/// signature, so one already there is as good as ours.
fn put_new(store: &dyn Store, sig_key: &str, sig: &[u8]) -> Result<()> {
    store
        .put(sig_key, &mut &sig[..], Condition::IfAbsent)
        .map_err(store::StoreError::classify)?;
    Ok(())
}

/// Point `channel` at `build`: the move is first written to the channel's history
/// (signed, chained to the previous entry, create-only: whoever writes sequence N owns
/// it), then the pointer, by compare-and-swap. The next sequence is one past the
/// highest this key signed, pointer or history; nothing unsigned decides it.
// Long: the protocol's steps in order (read, decide the sequence, write history
// create-only, swap the pointer), each a few lines; split up, the order is hidden.
pub fn promote(
    store: &dyn Store,
    package: &str,
    build: u64,
    channel: &str,
    opts: &PromoteOptions,
) -> Result<Promoted> {
    let reason = opts.reason;
    release::validate_package_name(package).map_err(bad_input)?;
    release::validate_package_name(channel).map_err(|e| bad_input(format!("channel: {e}")))?;
    let Some((rel, rel_bytes)) = get_release(store, package, build)? else {
        // An unknown build is bad input, as it is to kiln-fetch.
        return Err(hinted(
            Code::BadInput,
            format!("build {build} of {package} is not in {}", store.url()),
            format!("publish it first, or pick a published build: `kiln releases {package}`"),
        ));
    };
    check_release(store, package, build, &rel_bytes, opts.key)?;
    let key = release::channel_key(package, channel);
    // Whoever writes history entry N (create-only) owns sequence N; the pointer then
    // follows by compare-and-swap.
    for _ in 0..5 {
        let (at, pointer_build, condition) = match read_pointer(store, package, channel, opts)? {
            None => (0, None, Condition::IfAbsent),
            Some((c, tag)) => (
                c.sequence,
                Some((c.build, c.bundle_sha256)),
                Condition::IfMatch(tag),
            ),
        };
        plumbing::fault::stop("promote-read");
        let latest = latest_history(store, package, channel, opts.key)?;
        let recorded = latest.map_or(0, |l| l.0);
        let same = pointer_build == Some((build, rel.bundle.sha256));
        // --expires always writes a fresh pointer: that is how a channel is kept alive.
        if same && at >= recorded && opts.expires.is_none() {
            return Ok(Promoted {
                package: package.into(),
                channel: channel.into(),
                build,
                previous: pointer_build.map(|p| p.0),
                sequence: at,
                changed: false,
            });
        }
        let sequence = at.max(recorded).checked_add(1).ok_or_else(|| {
            hinted(
                Code::Failed,
                format!(
                    "channel {channel} of {package}: the sequence cannot go past {}",
                    u64::MAX
                ),
                "the channel's history is not one kiln wrote: check the store",
            )
        })?;
        // The build this move leaves: the newer of the pointer and the history.
        let previous = match latest {
            Some((seq, _, to)) if seq >= at => Some(to),
            _ => pointer_build.map(|p| p.0),
        };
        let updated_at = plumbing::fs::now_rfc3339();
        let entry = ChannelMove {
            schema: SCHEMA,
            package: package.into(),
            channel: channel.into(),
            sequence,
            from: previous,
            to: build,
            bundle_sha256: rel.bundle.sha256,
            by: actor(),
            at: updated_at.clone(),
            reason: reason.map(str::to_string),
            prev_sha256: latest.map(|l| l.1),
        };
        let entry_bytes = entry.to_bytes();
        let hkey = release::channel_history_key(package, channel, sequence);
        let hsig = release::channel_sig_key(package, channel, &Digest::of_bytes(&entry_bytes));
        if let Some(k) = opts.key {
            put_new(store, &hsig, &k.sign(&entry_bytes).to_bytes())?;
        }
        if store
            .put(&hkey, &mut entry_bytes.as_slice(), Condition::IfAbsent)
            .map_err(store::StoreError::classify)?
            == PutOutcome::ConditionFailed
        {
            // Another promote took this sequence (read again), unless what is there is
            // not a signed entry (then it would block the channel forever: say so).
            if let Some(k) = opts.key
                && let Some((theirs, _)) = store.get(&hkey).map_err(store::StoreError::classify)?
                && signed_by(
                    store,
                    &theirs,
                    &release::channel_sig_key(package, channel, &Digest::of_bytes(&theirs)),
                    k,
                )?
                .is_err()
            {
                return Err(unverified(
                    store,
                    &hkey,
                    "it was written without this key",
                    "check who wrote it; if nobody here did, remove it and promote again".into(),
                ));
            }
            continue;
        }
        let pointer = Channel {
            schema: SCHEMA,
            package: package.into(),
            channel: channel.into(),
            build,
            bundle_sha256: rel.bundle.sha256,
            sequence,
            updated_at,
            expires: opts
                .expires
                .map(|d| plumbing::fs::rfc3339(SystemTime::now() + d)),
        };
        let pointer_bytes = pointer.to_bytes();
        if let Some(k) = opts.key {
            // Named by the pointer's digest: written before the pointer, never replaced.
            let sig_key =
                release::channel_sig_key(package, channel, &Digest::of_bytes(&pointer_bytes));
            store
                .put(
                    &sig_key,
                    &mut k.sign(&pointer_bytes).to_bytes().as_slice(),
                    Condition::IfAbsent,
                )
                .map_err(store::StoreError::classify)?;
        }
        let done = Promoted {
            package: package.into(),
            channel: channel.into(),
            build,
            previous,
            sequence,
            changed: true,
        };
        let mut condition = condition;
        for _ in 0..5 {
            if store
                .put(&key, &mut pointer_bytes.as_slice(), condition)
                .map_err(store::StoreError::classify)?
                == PutOutcome::Written
            {
                return Ok(done);
            }
            // The pointer moved meanwhile. A later sequence (whose history entry comes
            // after ours) supersedes this move, which stays in the history; an earlier
            // one is replaced.
            condition = match read_pointer(store, package, channel, opts)? {
                Some((c, _)) if c.sequence >= sequence => return Ok(done),
                Some((_, tag)) => Condition::IfMatch(tag),
                None => Condition::IfAbsent,
            };
        }
        break;
    }
    Err(env_failed(format!(
        "channel {channel} of {package} kept moving under concurrent promotes; try again"
    )))
}

/// The channel's pointer and its tag, checked as the publisher may rely on it: signed
/// by the key in use, or (without one) not signed at all unless `--allow-unsigned`.
fn read_pointer(
    store: &dyn Store,
    package: &str,
    channel: &str,
    opts: &PromoteOptions,
) -> Result<Option<(Channel, store::ETag)>> {
    let key = release::channel_key(package, channel);
    let Some((bytes, tag)) = store.get(&key).map_err(store::StoreError::classify)? else {
        return Ok(None);
    };
    let c = Channel::from_bytes(&bytes).map_err(|e| {
        failed(format!(
            "{}/{key} is not a valid channel pointer: {e}",
            store.url()
        ))
    })?;
    if c.package != package || c.channel != channel {
        return Err(failed(format!(
            "{}/{key} is the pointer of {} channel {}, moved here: kiln decides nothing from it; remove it and promote again",
            store.url(),
            c.package,
            c.channel
        )));
    }
    let sig_key = release::channel_sig_key(package, channel, &Digest::of_bytes(&bytes));
    match opts.key {
        Some(k) => {
            if let Err(why) = signed_by(store, &bytes, &sig_key, k)? {
                return Err(unverified(
                    store,
                    &key,
                    &why,
                    format!(
                        "check who wrote it; if nobody here did, remove it and promote again (the channel's signed history carries its sequence on): `kiln releases {package} --verify` shows the history"
                    ),
                ));
            }
        }
        None => {
            if !opts.allow_unsigned
                && store
                    .get(&sig_key)
                    .map_err(store::StoreError::classify)?
                    .is_some()
            {
                return Err(hinted(
                    Code::BadInput,
                    format!(
                        "channel {channel} of {package} is signed, and this promote has no key: hosts that require signatures would refuse the new pointer"
                    ),
                    "pass --signing-key FILE (or set KILN_SIGNING_KEY), or --allow-unsigned if that is really meant",
                ));
            }
        }
    }
    Ok(Some((c, tag)))
}

#[derive(Serialize)]
pub struct ReleaseRow {
    pub build: u64,
    pub sha256: Digest,
    pub size: u64,
    pub built_at: String,
    pub channels: Vec<String>,
}

#[derive(Serialize)]
pub struct Releases {
    pub package: String,
    pub builds: Vec<ReleaseRow>,
    pub channels: Vec<Channel>,
    /// Every recorded channel move, oldest first.
    pub history: Vec<ChannelMove>,
}

pub fn releases(store: &dyn Store, package: &str) -> Result<Releases> {
    release::validate_package_name(package).map_err(bad_input)?;
    let keys = store
        .list(&release::package_prefix(package))
        .map_err(store::StoreError::classify)?;
    let mut channels = Vec::new();
    let mut history = Vec::new();
    let chan_prefix = release::channels_prefix(package);
    for k in keys.iter().filter(|k| k.ends_with(".json")) {
        let Some(rest) = k.strip_prefix(&chan_prefix) else {
            continue;
        };
        let Some((bytes, _)) = store.get(k).map_err(store::StoreError::classify)? else {
            continue;
        };
        let invalid = |e| {
            failed(format!(
                "{}/{k} is not a valid channel record: {e}",
                store.url()
            ))
        };
        if rest.contains("/history/") {
            history.push(ChannelMove::from_bytes(&bytes).map_err(invalid)?);
        } else if !rest.contains('/') && !rest.ends_with(".sig") {
            channels.push(Channel::from_bytes(&bytes).map_err(invalid)?);
        }
    }
    history.sort_by(|a, b| (&a.at, &a.channel, a.sequence).cmp(&(&b.at, &b.channel, b.sequence)));
    let mut builds: Vec<u64> = keys
        .iter()
        .filter_map(|k| release::parse_build_key(package, k))
        .collect();
    builds.sort_unstable();
    let mut rows = Vec::new();
    for build in builds {
        let Some((r, _)) = get_release(store, package, build)? else {
            continue;
        };
        rows.push(ReleaseRow {
            build,
            sha256: r.bundle.sha256,
            size: r.bundle.size,
            built_at: r.built_at,
            channels: channels
                .iter()
                .filter(|c| c.build == build)
                .map(|c| c.channel.clone())
                .collect(),
        });
    }
    if rows.is_empty() {
        return Err(hinted(
            Code::BadInput,
            format!("no releases of {package} in {}", store.url()),
            "check the package name (a bundle's name) and --store",
        ));
    }
    Ok(Releases {
        package: package.into(),
        builds: rows,
        channels,
        history,
    })
}

/// The signing key: `--signing-key FILE`, else `$KILN_SIGNING_KEY` (a path, or the key
/// itself). None means publishing unsigned.
pub fn signing_key(flag: Option<&std::path::Path>) -> Result<Option<SecretKey>> {
    secret_key(flag, "KILN_SIGNING_KEY", None, "signing key")
}

/// A secret key from the file `flag` names, else from `$var` (a path, or the key
/// itself), else from the file `config` names. Neither the key nor a value that looks
/// like one is ever printed.
pub fn secret_key(
    flag: Option<&std::path::Path>,
    var: &str,
    config: Option<&std::path::Path>,
    what: &str,
) -> Result<Option<SecretKey>> {
    let looks_secret = |s: &str| s.contains("kiln-ed25519-secret:");
    // Where a key came from is named, never the value given: a key pasted where a
    // file name belongs must not reach a log.
    let read = |p: &std::path::Path, from: String| {
        fs_err::read_to_string(p).map_err(|e| {
            hinted(
                Code::BadInput,
                format!("{what}: cannot read {from}: {}", e.kind()),
                "name a key file written by `kiln keygen --out FILE`",
            )
        })
    };
    let env = std::env::var(var).ok().filter(|v| !v.is_empty());
    let text = match (flag, env, config) {
        (Some(p), _, _) | (None, None, Some(p)) if looks_secret(&p.to_string_lossy()) => {
            return Err(hinted(
                Code::BadInput,
                format!("{what}: a key was given where a file name belongs"),
                format!("pass the key's file name, or the key itself in ${var}"),
            ));
        }
        (Some(p), _, _) => read(p, "the key file given".into())?,
        (None, None, Some(p)) => read(p, p.display().to_string())?,
        (None, Some(v), _) if looks_secret(&v) => v,
        (None, Some(v), _) => read(std::path::Path::new(&v), format!("the file ${var} names"))?,
        (None, None, None) => return Ok(None),
    };
    SecretKey::parse(&text).map(Some).map_err(|_| {
        hinted(
            Code::BadInput,
            format!("{what}: not a kiln secret key"),
            "make one with `kiln keygen --out FILE`",
        )
    })
}

/// Write a new key pair: FILE (secret, mode 0600, never overwritten) and FILE.pub.
pub fn keygen(out: &std::path::Path) -> Result<release::PublicKey> {
    use fs_err::os::unix::fs::OpenOptionsExt;
    use std::io::Write;
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| env_failed(format!("no randomness: {e}")))?;
    let key = SecretKey::from_seed(seed);
    let mut pub_path = out.as_os_str().to_owned();
    pub_path.push(".pub");
    let pub_path = std::path::PathBuf::from(pub_path);
    // Both files are created, never overwritten nor written through a link.
    let create = |path: &std::path::Path, mode: u32| {
        fs_err::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(path)
            .map_err(|e| {
                hinted(
                    Code::BadInput,
                    e.to_string(),
                    "kiln keygen never overwrites a key (nor its .pub); choose another --out",
                )
            })
    };
    let mut f = create(out, 0o600)?;
    let mut p = match create(&pub_path, 0o644) {
        Ok(p) => p,
        Err(e) => {
            drop(f);
            let _ = fs_err::remove_file(out);
            return Err(e);
        }
    };
    f.write_all(key.to_text().as_bytes())?;
    f.sync_all()?;
    let public = key.public();
    p.write_all(format!("{public}\n").as_bytes())?;
    Ok(public)
}

/// Sign and write the store's keys record: `grants` are `PACKAGES=KEY`. The new
/// version must be above the store's (one past it by default); a record there that the
/// root did not sign is an error, never silently replaced. Returns the version.
pub fn publish_keys(
    store: &dyn Store,
    root: &SecretKey,
    grants: &[String],
    version: Option<u64>,
    expires: std::time::Duration,
) -> Result<(u64, bool)> {
    let mut keys = Vec::new();
    for (i, g) in grants.iter().enumerate() {
        // Named by position, never echoed: a secret key pasted here must not reach a log.
        let (pkgs, key) = g.split_once('=').ok_or_else(|| {
            hinted(
                Code::BadInput,
                format!("--grant number {} is not PACKAGES=KEY", i + 1),
                "for example --grant '*=kiln-ed25519:…' or --grant 'solr,hello=kiln-ed25519:…'",
            )
        })?;
        release::PublicKey::parse(key).map_err(|e| bad_input(format!("--grant: {e}")))?;
        let packages: Vec<String> = pkgs.split(',').map(str::to_string).collect();
        for p in &packages {
            if p != "*" {
                release::validate_package_name(p)
                    .map_err(|e| bad_input(format!("--grant: {e}")))?;
            }
        }
        keys.push(release::KeyGrant {
            key: key.to_string(),
            packages,
        });
    }
    let current = store
        .get(release::KEYS_RECORD)
        .map_err(store::StoreError::classify)?;
    let (at, condition) = match &current {
        None => (0, Condition::IfAbsent),
        Some((bytes, tag)) => {
            let sig_key = release::keys_sig_key(&Digest::of_bytes(bytes));
            if let Err(why) = signed_by(store, bytes, &sig_key, root)? {
                return Err(unverified(
                    store,
                    release::KEYS_RECORD,
                    &why,
                    "check who wrote it; if nobody here did, remove it and run kiln keys again"
                        .into(),
                ));
            }
            let r = release::KeysRecord::from_bytes(bytes)
                .map_err(|e| failed(format!("{}/keys.json: {e}", store.url())))?;
            (r.version, Condition::IfMatch(tag.clone()))
        }
    };
    let version = match version {
        Some(v) if v > at => v,
        Some(v) => {
            return Err(bad_input(format!(
                "--version {v} is not above the store's keys record version {at}: hosts would refuse it"
            )));
        }
        None => at
            .checked_add(1)
            .ok_or_else(|| failed("the keys record version cannot grow"))?,
    };
    let record = release::KeysRecord {
        schema: SCHEMA,
        version,
        expires: plumbing::fs::rfc3339(SystemTime::now() + expires),
        keys,
    };
    let bytes = record.to_bytes();
    store
        .put(
            &release::keys_sig_key(&Digest::of_bytes(&bytes)),
            &mut root.sign(&bytes).to_bytes().as_slice(),
            Condition::IfAbsent,
        )
        .map_err(store::StoreError::classify)?;
    if store
        .put(release::KEYS_RECORD, &mut bytes.as_slice(), condition)
        .map_err(store::StoreError::classify)?
        == PutOutcome::ConditionFailed
    {
        return Err(env_failed(
            "the keys record changed while this one was written; run kiln keys again",
        ));
    }
    Ok((version, true))
}

/// What `kiln releases PACKAGE --verify` checked.
#[derive(Serialize)]
pub struct Verification {
    pub package: String,
    pub builds: usize,
    /// Each channel with the moves of its history.
    pub channels: Vec<(String, u64)>,
}

/// Check from the store alone that every release record and channel pointer of
/// `package` is signed by one of `trusted`, and that each channel's history is a whole
/// chain: entries 1..N, each signed, each carrying the sha256 of the one before, the
/// pointer signed and equal to the newest entry. The first break is the error.
// Long: the checks in the order a reader of the store must make them, each a few lines.
pub fn verify(
    store: &dyn Store,
    package: &str,
    trusted: &[release::PublicKey],
) -> Result<Verification> {
    release::validate_package_name(package).map_err(bad_input)?;
    let keys = store
        .list(&release::package_prefix(package))
        .map_err(store::StoreError::classify)?;
    let url = store.url();
    let broken = |object: &str, why: String| {
        hinted(
            Code::Failed,
            format!("{url}/{object}: {why}"),
            "the store was changed without the signing key, or a record is missing: restore it from a backup or a host's copy, and promote again to continue the chain",
        )
    };
    let check_sig = |object: &str, bytes: &[u8], sig_key: &str| -> Result<()> {
        let sig = store.get(sig_key).map_err(store::StoreError::classify)?;
        let Some((sig, _)) = sig else {
            return Err(broken(object, "it has no signature".into()));
        };
        Signature::from_bytes(&sig)
            .and_then(|s| s.verify(bytes, trusted))
            .map(|_| ())
            .map_err(|e| broken(object, e.to_string()))
    };
    let mut builds: Vec<u64> = keys
        .iter()
        .filter_map(|k| release::parse_build_key(package, k))
        .collect();
    builds.sort_unstable();
    for &build in &builds {
        let rkey = release::release_key(package, build);
        let (_, bytes) = get_release(store, package, build)?
            .ok_or_else(|| broken(&rkey, "it vanished while being read".into()))?;
        let sigs = release_sigs(package, build, &bytes);
        let sig = if store
            .get(&sigs[0])
            .map_err(store::StoreError::classify)?
            .is_some()
        {
            &sigs[0]
        } else {
            &sigs[1]
        };
        check_sig(&rkey, &bytes, sig)?;
    }
    let prefix = release::channels_prefix(package);
    let mut channels = Vec::new();
    // Channels by their pointer or by their history: a history without its pointer is
    // checked too (and named).
    let names: std::collections::BTreeSet<&str> = keys
        .iter()
        .filter_map(|k| {
            let rest = k.strip_prefix(&prefix)?;
            match rest.split_once('/') {
                None => rest.strip_suffix(".json"),
                Some((name, tail)) if tail.starts_with("history/") => Some(name),
                Some(_) => None,
            }
        })
        .collect();
    let mut bundles = std::collections::BTreeMap::new();
    for &b in &builds {
        if let Some((r, _)) = get_release(store, package, b)? {
            bundles.insert(b, r.bundle.sha256);
        }
    }
    for name in names {
        let hprefix = format!("{prefix}{name}/history/");
        let mut seqs: Vec<u64> = keys
            .iter()
            .filter_map(|k| {
                k.strip_prefix(&hprefix)?
                    .strip_suffix(".json")?
                    .parse()
                    .ok()
            })
            .collect();
        seqs.sort_unstable();
        let mut prev: Option<Digest> = None;
        let mut newest: Option<ChannelMove> = None;
        for (i, &seq) in seqs.iter().enumerate() {
            let hkey = release::channel_history_key(package, name, seq);
            let expected = i as u64 + 1;
            if seq != expected {
                return Err(broken(
                    &release::channel_history_key(package, name, expected),
                    "this history entry is missing (deleted?): the chain breaks here".into(),
                ));
            }
            let Some((bytes, _)) = store.get(&hkey).map_err(store::StoreError::classify)? else {
                return Err(broken(&hkey, "it vanished while being read".into()));
            };
            check_sig(
                &hkey,
                &bytes,
                &release::channel_sig_key(package, name, &Digest::of_bytes(&bytes)),
            )?;
            let entry = ChannelMove::from_bytes(&bytes)
                .map_err(|e| broken(&hkey, format!("not a history entry: {e}")))?;
            if entry.sequence != seq || entry.package != package || entry.channel != name {
                return Err(broken(&hkey, "it is another entry's, moved here".into()));
            }
            if bundles.get(&entry.to) != Some(&entry.bundle_sha256) {
                return Err(broken(
                    &hkey,
                    format!(
                        "it moves to build {} with a bundle that is not that build's signed release",
                        entry.to
                    ),
                ));
            }
            if entry.prev_sha256 != prev {
                return Err(broken(
                    &hkey,
                    "it does not follow the entry before it (an entry was edited, deleted or reordered)".into(),
                ));
            }
            prev = Some(Digest::of_bytes(&bytes));
            newest = Some(entry);
        }
        let ckey = release::channel_key(package, name);
        let Some((bytes, _)) = store.get(&ckey).map_err(store::StoreError::classify)? else {
            return Err(broken(
                &ckey,
                "the channel has a history but no pointer (deleted?)".into(),
            ));
        };
        check_sig(
            &ckey,
            &bytes,
            &release::channel_sig_key(package, name, &Digest::of_bytes(&bytes)),
        )?;
        let c = Channel::from_bytes(&bytes)
            .map_err(|e| broken(&ckey, format!("not a channel pointer: {e}")))?;
        if c.package != package || c.channel != name {
            return Err(broken(
                &ckey,
                format!(
                    "it is the pointer of {} channel {}, moved here",
                    c.package, c.channel
                ),
            ));
        }
        match &newest {
            Some(e)
                if e.sequence == c.sequence
                    && e.to == c.build
                    && e.bundle_sha256 == c.bundle_sha256 => {}
            Some(e) => {
                return Err(broken(
                    &ckey,
                    format!(
                        "it is at sequence {} (build {}), but the history's newest move is sequence {} to build {}: the pointer was put back, or a promote was interrupted (promote again to settle it)",
                        c.sequence, c.build, e.sequence, e.to
                    ),
                ));
            }
            None => return Err(broken(&ckey, "its channel has no history".into())),
        }
        channels.push((name.to_string(), seqs.len() as u64));
    }
    if builds.is_empty() {
        return Err(hinted(
            Code::BadInput,
            format!("no releases of {package} in {url}"),
            "check the package name (a bundle's name) and --store",
        ));
    }
    Ok(Verification {
        package: package.into(),
        builds: builds.len(),
        channels,
    })
}
