//! Publishing to a store: bundle and release record first (create-only), channel
//! pointer last (compare-and-swap), so a host never sees a half-published release. A
//! build number, once written, never changes.

use std::time::SystemTime;

use release::{BundleRef, Channel, Digest, Release, SCHEMA, Source};
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
        let mut body = fs_err::File::open(cache.cas_path(&b.sha256))?;
        if store
            .put(&bundle_key, &mut body, Condition::IfAbsent)
            .map_err(store_err)?
            == PutOutcome::ConditionFailed
        {
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
        let key = release::release_key(&b.package, build);
        let outcome = store
            .put(&key, &mut record.to_bytes().as_slice(), Condition::IfAbsent)
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

/// Point `channel` at `build`, with a sequence one past the pointer it replaces.
pub fn promote(store: &dyn Store, package: &str, build: u64, channel: &str) -> Result<Promoted> {
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
        let (previous, sequence, condition) = match &current {
            None => (None, 1, Condition::IfAbsent),
            Some((bytes, tag)) => {
                let c = Channel::from_bytes(bytes).map_err(|e| {
                    failed(format!(
                        "{}/{key} is not a valid channel pointer: {e}",
                        store.url()
                    ))
                })?;
                if c.build == build && c.bundle_sha256 == rel.bundle.sha256 {
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
                    c.sequence + 1,
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
        };
        if store
            .put(&key, &mut pointer.to_bytes().as_slice(), condition)
            .map_err(store_err)?
            == PutOutcome::Written
        {
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
}

pub fn releases(store: &dyn Store, package: &str) -> Result<Releases> {
    release::validate_package_name(package).map_err(bad_input)?;
    let keys = store
        .list(&release::package_prefix(package))
        .map_err(store_err)?;
    let mut channels = Vec::new();
    let chan_prefix = format!("{package}/channels/");
    for k in keys
        .iter()
        .filter(|k| k.starts_with(&chan_prefix) && k.ends_with(".json"))
    {
        if let Some((bytes, _)) = store.get(k).map_err(store_err)? {
            channels.push(Channel::from_bytes(&bytes).map_err(|e| {
                failed(format!(
                    "{}/{k} is not a valid channel pointer: {e}",
                    store.url()
                ))
            })?);
        }
    }
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
    })
}
