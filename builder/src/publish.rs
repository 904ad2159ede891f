//! Publishing to a store: bundle and release record first (create-only), channel
//! pointer last (compare-and-swap), so a host never sees a half-published release. A
//! build number, once written, never changes.

use std::time::SystemTime;

use release::{BundleRef, Channel, ChannelMove, Digest, Release, SCHEMA, SecretKey, Source};
use serde::Serialize;
use store::{Condition, PutOutcome, Store};

use crate::bundle::Built;
use crate::cache::Cache;
use crate::error::{Code, Result, bad_input, env_failed, failed, with_hint};

pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

fn store_err(e: store::StoreError) -> anyhow::Error {
    match e {
        store::StoreError::BadUrl { .. }
        | store::StoreError::BadKey(_)
        | store::StoreError::Unsupported { .. } => bad_input(e.to_string()),
        store::StoreError::Io { .. } | store::StoreError::Unreachable { .. } => {
            env_failed(e.to_string())
        }
    }
}

fn get_release(store: &dyn Store, package: &str, build: u64) -> Result<Option<Release>> {
    let key = release::release_key(package, build);
    match store.get(&key).map_err(store_err)? {
        None => Ok(None),
        Some((bytes, _)) => Release::from_bytes(&bytes).map(Some).map_err(|e| {
            failed(format!(
                "{}/{key} is not a valid release record: {e}",
                store.url()
            ))
        }),
    }
}

fn conflict(
    store: &dyn Store,
    package: &str,
    build: u64,
    theirs: &Digest,
    ours: &Digest,
) -> anyhow::Error {
    with_hint(
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
        match get_release(store, &b.package, build)? {
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
        if outcome.map_err(store_err)? == PutOutcome::ConditionFailed {
            // A bundle without a release record: an earlier publish stopped halfway.
            // Finish it only if it holds the same bytes.
            let mut existing = store
                .open(&bundle_key)
                .map_err(store_err)?
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
            built_at: now_rfc3339(),
            builder: concat!("kiln ", env!("CARGO_PKG_VERSION")).to_string(),
        };
        let bytes = record.to_bytes();
        if let Some(k) = key {
            // The signature goes first, so a record is never visible without it. One
            // left by an interrupted publish (of other bytes: another built_at) is
            // replaced, which is safe while no release.json exists.
            let sig_key = release::release_sig_key(&b.package, build);
            let sig = k.sign(&bytes).to_bytes();
            let condition = match store.get(&sig_key).map_err(store_err)? {
                Some((_, tag)) => Condition::IfMatch(tag),
                None => Condition::IfAbsent,
            };
            store
                .put(&sig_key, &mut sig.as_slice(), condition)
                .map_err(store_err)?;
        }
        let key = release::release_key(&b.package, build);
        let outcome = store
            .put(&key, &mut bytes.as_slice(), Condition::IfAbsent)
            .map_err(store_err)?;
        let changed = outcome == PutOutcome::Written;
        if !changed {
            // Someone published this build number while we were uploading.
            let r = get_release(store, &b.package, build)?
                .ok_or_else(|| env_failed(format!("{key} vanished while publishing")))?;
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

/// The highest sequence in a channel's history (0 when it has none).
fn last_recorded_sequence(store: &dyn Store, package: &str, channel: &str) -> Result<u64> {
    let prefix = format!("{}{channel}/history/", release::channels_prefix(package));
    Ok(store
        .list(&prefix)
        .map_err(store_err)?
        .iter()
        .filter_map(|k| k.strip_prefix(&prefix)?.strip_suffix(".json")?.parse().ok())
        .max()
        .unwrap_or(0))
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

/// Point `channel` at `build`, with a sequence one past the pointer it replaces, then
/// append the move to the channel's history.
pub struct PromoteOptions<'a> {
    pub reason: Option<&'a str>,
    /// How long hosts may follow the new pointer.
    pub expires: Option<std::time::Duration>,
    pub key: Option<&'a SecretKey>,
}

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
    let Some(rel) = get_release(store, package, build)? else {
        return Err(with_hint(
            Code::Failed,
            format!("build {build} of {package} is not in {}", store.url()),
            format!("publish it first, or pick a published build: `kiln releases {package}`"),
        ));
    };
    let key = release::channel_key(package, channel);
    // Compare-and-swap: a concurrent promote makes our write fail; read again and retry.
    for _ in 0..5 {
        let current = store.get(&key).map_err(store_err)?;
        store::test_stop("promote-read");
        let (previous, sequence, condition) = match &current {
            None => (None, 1, Condition::IfAbsent),
            Some((bytes, tag)) => {
                let c = Channel::from_bytes(bytes).map_err(|e| {
                    failed(format!(
                        "{}/{key} is not a valid channel pointer: {e}",
                        store.url()
                    ))
                })?;
                // A pointer older than the history says was replayed into the store:
                // move past it whatever build it names.
                let recorded = last_recorded_sequence(store, package, channel)?;
                // --expires always writes a fresh pointer: that is how a channel is kept alive.
                let same = c.build == build && c.bundle_sha256 == rel.bundle.sha256;
                if same && c.sequence >= recorded && opts.expires.is_none() {
                    return Ok(Promoted {
                        package: package.into(),
                        channel: channel.into(),
                        build,
                        previous: Some(c.build),
                        sequence: c.sequence,
                        changed: false,
                    });
                }
                (
                    Some(c.build),
                    c.sequence.max(recorded) + 1,
                    Condition::IfMatch(tag.clone()),
                )
            }
        };
        let pointer = Channel {
            schema: SCHEMA,
            package: package.into(),
            channel: channel.into(),
            build,
            bundle_sha256: rel.bundle.sha256,
            sequence,
            updated_at: now_rfc3339(),
            expires: opts
                .expires
                .map(|d| humantime::format_rfc3339_seconds(SystemTime::now() + d).to_string()),
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
                .map_err(store_err)?;
        }
        if store
            .put(&key, &mut pointer_bytes.as_slice(), condition)
            .map_err(store_err)?
            == PutOutcome::Written
        {
            // Only the writer of this sequence records it; a crash here loses the log
            // line, never the move (the pointer is the truth).
            let entry = ChannelMove {
                schema: SCHEMA,
                package: package.into(),
                channel: channel.into(),
                sequence,
                from: previous,
                to: build,
                bundle_sha256: rel.bundle.sha256,
                by: actor(),
                at: pointer.updated_at.clone(),
                reason: reason.map(str::to_string),
            };
            store
                .put(
                    &release::channel_history_key(package, channel, sequence),
                    &mut entry.to_bytes().as_slice(),
                    Condition::IfAbsent,
                )
                .map_err(store_err)?;
            return Ok(Promoted {
                package: package.into(),
                channel: channel.into(),
                build,
                previous,
                sequence,
                changed: true,
            });
        }
    }
    Err(env_failed(format!(
        "channel {channel} of {package} kept moving under concurrent promotes; try again"
    )))
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
        .map_err(store_err)?;
    let mut channels = Vec::new();
    let mut history = Vec::new();
    let chan_prefix = release::channels_prefix(package);
    for k in keys.iter().filter(|k| k.ends_with(".json")) {
        let Some(rest) = k.strip_prefix(&chan_prefix) else {
            continue;
        };
        let Some((bytes, _)) = store.get(k).map_err(store_err)? else {
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
        let Some(r) = get_release(store, package, build)? else {
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
        return Err(with_hint(
            Code::Failed,
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
    let read = |p: &std::path::Path, from: String| {
        std::fs::read_to_string(p).map_err(|e| {
            with_hint(
                Code::BadInput,
                format!("{what}: cannot read {from}: {e}"),
                "name a key file written by `kiln keygen --out FILE`",
            )
        })
    };
    let env = std::env::var(var).ok().filter(|v| !v.is_empty());
    let text = match (flag, env, config) {
        (Some(p), _, _) | (None, None, Some(p)) if looks_secret(&p.to_string_lossy()) => {
            return Err(with_hint(
                Code::BadInput,
                format!("{what}: a key was given where a file name belongs"),
                format!("pass the key's file name, or the key itself in ${var}"),
            ));
        }
        (Some(p), _, _) | (None, None, Some(p)) => read(p, p.display().to_string())?,
        (None, Some(v), _) if looks_secret(&v) => v,
        (None, Some(v), _) => read(
            std::path::Path::new(&v),
            format!("the file ${var} names ({v})"),
        )?,
        (None, None, None) => return Ok(None),
    };
    SecretKey::parse(&text).map(Some).map_err(|_| {
        with_hint(
            Code::BadInput,
            format!("{what}: not a kiln secret key"),
            "make one with `kiln keygen --out FILE`",
        )
    })
}

/// Write a new key pair: FILE (secret, mode 0600, never overwritten) and FILE.pub.
pub fn keygen(out: &std::path::Path) -> Result<release::PublicKey> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| env_failed(format!("no randomness: {e}")))?;
    let key = SecretKey::from_seed(seed);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(out)
        .map_err(|e| {
            with_hint(
                Code::BadInput,
                format!("{}: {e}", out.display()),
                "kiln keygen never overwrites a key; choose another --out",
            )
        })?;
    f.write_all(key.to_text().as_bytes())?;
    f.sync_all()?;
    let public = key.public();
    let mut pub_path = out.as_os_str().to_owned();
    pub_path.push(".pub");
    fs_err::write(std::path::PathBuf::from(pub_path), format!("{public}\n"))?;
    Ok(public)
}
