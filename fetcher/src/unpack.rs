//! Unpacking a verified download into `opt/kiln/<package>/.tmp-<build>-<pid>`, checking
//! every file against MANIFEST.json (whose sha256 the release record pins), adding
//! release.json, making the tree read-only, and only then renaming it to its build
//! number. A crash leaves at most a temp directory, removed by the next run.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use archive::{Limits, TreeEntry, UnpackError};
use release::{Digest, MANIFEST_PATH, Manifest, Release};

use crate::error::{Code, Result, err, hinted};
use crate::layout::{Layout, TMP_PREFIX};
pub use plumbing::fs::remove_tree;

pub fn install_tree(
    layout: &Layout,
    rel: &Release,
    rel_bytes: &[u8],
    blob: &Path,
) -> Result<PathBuf> {
    let dest = layout.build_dir(&rel.package, rel.build);
    let tmp = layout.package_dir(&rel.package).join(format!(
        "{TMP_PREFIX}{}-{}",
        rel.build,
        std::process::id()
    ));
    crate::layout::own_dir(layout, &layout.package_dir(&rel.package))?;
    fs_err::create_dir(&tmp)?;
    let result = (|| {
        let (manifest, limits) = read_manifest(blob, rel)?;
        let files = archive::unpack(blob, &tmp, None, limits).map_err(|e| {
            let full = matches!(&e, UnpackError::Write { source, .. } if plumbing::fs::is_full(source));
            if full {
                // The whole download is no use without the space to unpack it.
                let _ = fs_err::remove_file(blob);
                return hinted(
                    Code::Env,
                    format!(
                        "unpacking {} build {} into {}: the disk is full: it needs {} bytes, and the download ({} bytes) was removed",
                        rel.package,
                        rel.build,
                        layout.package_dir(&rel.package).display(),
                        limits.max_bytes,
                        rel.bundle.size
                    ),
                    "free space there (kiln-fetch gc removes old builds and cached downloads) and run again; nothing was installed",
                );
            }
            unpack_error(rel, e)
        })?;
        check_manifest(rel, &manifest, &files)?;
        fs_err::write(Layout::release_file(&tmp), rel_bytes)?;
        plumbing::fault::pause("unpack");
        make_read_only(&tmp)?;
        Ok(())
    })();
    if let Err(e) = result {
        let _ = remove_tree(&tmp);
        return Err(e);
    }
    if fs_err::symlink_metadata(&dest).is_ok() {
        // A copy that failed its check (or anything else in the way, a link included):
        // swapped for the fresh tree in one step, so the build number never goes
        // missing under a `current` that points at it, then removed.
        rustix::fs::renameat_with(
            rustix::fs::CWD,
            &tmp,
            rustix::fs::CWD,
            &dest,
            rustix::fs::RenameFlags::EXCHANGE,
        )
        .map_err(|e| {
            anyhow::Error::new(std::io::Error::from(e))
                .context(format!("replacing {} with a fresh copy", dest.display()))
        })?;
        remove_tree(&tmp)?;
    } else {
        fs_err::rename(&tmp, &dest)?;
    }
    if let Ok(d) = fs_err::File::open(layout.package_dir(&rel.package)) {
        let _ = d.sync_all();
    }
    Ok(dest)
}

/// The bundle's manifest, read from its first entry alone and checked against the
/// release record before anything is unpacked, and the bounds it sets: its files, their
/// parent directories and the manifest itself, and not a byte more than their sizes.
pub fn read_manifest(blob: &Path, rel: &Release) -> Result<(Manifest, Limits)> {
    const MAX_MANIFEST: u64 = 64 << 20;
    let bytes = archive::read_first_entry(blob, MANIFEST_PATH, MAX_MANIFEST)
        .map_err(|e| unpack_error(rel, e))?;
    let what = format!("{MANIFEST_PATH} of {} build {}", rel.package, rel.build);
    if Digest::of_bytes(&bytes) != rel.manifest_sha256 {
        return Err(err(
            Code::Failed,
            format!("{what} does not match the release record's manifest_sha256"),
        ));
    }
    let manifest =
        Manifest::from_bytes(&bytes).map_err(|e| err(Code::Failed, format!("{what}: {e}")))?;
    if manifest.package != rel.package {
        return Err(err(
            Code::Failed,
            format!(
                "bundle says it is {:?}, but the release record is for {:?}",
                manifest.package, rel.package
            ),
        ));
    }
    // A service name reaches the service manager: a name, never a path or shell text.
    if let Some(s) = &manifest.service {
        release::validate_package_name(&s.name).map_err(|e| {
            err(
                Code::Failed,
                format!("{what}: service name: {e}; refusing it"),
            )
        })?;
    }
    let mut dirs = std::collections::BTreeSet::new();
    for f in &manifest.files {
        let mut p = f.path.as_str();
        while let Some((parent, _)) = p.rsplit_once('/') {
            dirs.insert(parent);
            p = parent;
        }
    }
    let limits = Limits {
        max_entries: 1 + manifest.files.len() as u64 + dirs.len() as u64,
        max_bytes: bytes.len() as u64 + manifest.files.iter().map(|f| f.size).sum::<u64>(),
    };
    Ok((manifest, limits))
}

fn unpack_error(rel: &Release, e: UnpackError) -> anyhow::Error {
    match &e {
        UnpackError::Write { .. } | UnpackError::Read { .. } => err(
            Code::Env,
            format!("unpacking {} build {}: {e}", rel.package, rel.build),
        ),
        _ => hinted(
            Code::Failed,
            format!(
                "bundle of {} build {} is refused: {e}",
                rel.package, rel.build
            ),
            "the bundle is malformed or hostile; nothing was installed",
        ),
    }
}

/// Every unpacked file must be in the manifest with the same size, digest and mode,
/// and every manifest entry must have been unpacked (MANIFEST.json itself included,
/// with the digest the release record pins).
fn check_manifest(rel: &Release, manifest: &Manifest, files: &[archive::TreeFile]) -> Result<()> {
    let mut unpacked: BTreeMap<&str, &TreeEntry> =
        files.iter().map(|f| (f.path.as_str(), &f.entry)).collect();
    let mut bad = Vec::new();
    match unpacked.remove(MANIFEST_PATH) {
        Some(TreeEntry::File { sha256, .. }) if *sha256 == rel.manifest_sha256 => {}
        _ => bad.push(MANIFEST_PATH.to_string()),
    }
    for m in &manifest.files {
        let ok = match unpacked.remove(m.path.as_str()) {
            None => false,
            Some(TreeEntry::File {
                size,
                sha256,
                executable,
            }) => {
                m.sha256 == Some(*sha256) && m.size == *size && (m.mode & 0o111 != 0) == *executable
            }
            Some(TreeEntry::Symlink { target }) => m.target.as_deref() == Some(target.as_str()),
        };
        if !ok {
            bad.push(m.path.clone());
        }
    }
    bad.extend(
        unpacked
            .keys()
            .map(|p| format!("{p} (not in the manifest)")),
    );
    if !bad.is_empty() {
        return Err(hinted(
            Code::Failed,
            format!(
                "bundle of {} build {} does not match its manifest: {}",
                rel.package,
                rel.build,
                bad.join(", ")
            ),
            "the bundle was altered after it was built; nothing was installed",
        ));
    }
    Ok(())
}

/// Files lose their write bits, directories become 0555, deepest first.
fn make_read_only(dir: &Path) -> Result<()> {
    let mut dirs = Vec::new();
    for entry in walk(dir)? {
        let meta = fs_err::symlink_metadata(&entry)?;
        if meta.file_type().is_symlink() {
            continue;
        }
        if meta.is_dir() {
            dirs.push(entry);
        } else {
            let mode = meta.permissions().mode() & 0o555;
            fs_err::set_permissions(&entry, std::fs::Permissions::from_mode(mode))?;
        }
    }
    for d in dirs.iter().rev() {
        fs_err::set_permissions(d, std::fs::Permissions::from_mode(0o555))?;
    }
    fs_err::set_permissions(dir, std::fs::Permissions::from_mode(0o555))?;
    Ok(())
}

/// Every path below `dir` (not `dir` itself), parents before children.
fn walk(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs_err::read_dir(&d)? {
            let e = e?;
            let p = e.path();
            if e.file_type()?.is_dir() {
                stack.push(p.clone());
            }
            out.push(p);
        }
    }
    Ok(out)
}

/// Read the manifest of an installed build.
pub fn installed_manifest(build_dir: &Path) -> Result<Manifest> {
    let bytes = fs_err::read(build_dir.join(MANIFEST_PATH))?;
    Manifest::from_bytes(&bytes).map_err(|e| {
        err(
            Code::Failed,
            format!("{}: {e}", build_dir.join(MANIFEST_PATH).display()),
        )
    })
}
