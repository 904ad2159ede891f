//! Extracted archive trees, cached by (archive sha256, strip_prefix) under
//! `v1/trees/<key>/` as `root/` plus `files.json` (every file with size, sha256 and
//! mode), so later builds neither unpack nor rehash. A tree appears by renaming a
//! finished temp directory into place.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use archive::{TreeEntry, UnpackError};
use release::{Digest, FileEntry};

use crate::cache::Cache;
use crate::error::{Code, Result, env_failed, hinted};
use crate::workspace::{Archive, Workspace};

pub struct Tree {
    pub root: PathBuf,
    pub files: Vec<FileEntry>,
}

fn key(a: &Archive) -> Digest {
    let mut h = release::Hasher::new();
    // v2: link chains resolved against the tree, GNU tar's dialects (trees extracted
    // by an earlier kiln are not trusted to have passed those checks).
    h.update(b"kiln-tree-v2\0");
    h.update(a.sha256.hex().as_bytes());
    h.update(b"\0");
    h.update(a.strip_prefix.as_deref().unwrap_or("").as_bytes());
    h.finish()
}

pub fn ensure_tree(
    cache: &Cache,
    ws: &Workspace,
    a: &Archive,
    blob: &std::path::Path,
) -> Result<Tree> {
    let dir = cache.tree_dir(&key(a));
    let listing = dir.join("files.json");
    let packed = fs_err::metadata(blob)?.len();
    let by_ratio = packed
        .saturating_mul(a.limits.max_ratio)
        .max(rules::ExtractLimits::RATIO_FLOOR);
    let limits = archive::Limits {
        max_entries: a.limits.max_entries,
        max_bytes: a.limits.max_bytes.min(by_ratio),
    };
    if let Ok(bytes) = fs_err::read(&listing) {
        let files: Vec<FileEntry> = serde_json::from_slice(&bytes)?;
        // Extracted under other limits, perhaps: this pin's limits hold all the same.
        // Counted so as never to exceed what extraction counted (it also counts
        // directories, and hard links do not count twice): files, and distinct
        // contents, so a tree accepted fresh is never refused from the cache.
        let mut seen = std::collections::HashSet::new();
        let total: u64 = files
            .iter()
            .filter(|f| f.sha256.is_some_and(|d| seen.insert(d)))
            .map(|f| f.size)
            .sum();
        let over = if files.len() as u64 > limits.max_entries {
            Some(("entries", limits.max_entries))
        } else if total > limits.max_bytes {
            Some(("bytes", limits.max_bytes))
        } else {
            None
        };
        if let Some((what, limit)) = over {
            let entry = files.last().map(|f| f.path.clone()).unwrap_or_default();
            return Err(unpack_error(
                ws,
                a,
                UnpackError::TooBig { entry, what, limit },
                packed,
            ));
        }
        check_wheel(a, &files)?;
        return Ok(Tree {
            root: dir.join("root"),
            files,
        });
    }
    let tmp = cache.tmp_path("tree");
    fs_err::create_dir_all(tmp.join("root"))?;
    let result = archive::unpack(blob, &tmp.join("root"), a.strip_prefix.as_deref(), limits);
    let written = match result {
        Ok(w) => w,
        Err(e) => {
            let _ = fs_err::remove_dir_all(&tmp);
            return Err(unpack_error(ws, a, e, packed));
        }
    };
    // Read-only from now on, as CAS entries are: actions are shown their inputs as 0444
    // or 0555, so these can be hard-linked into a sandbox as they are.
    for f in &written {
        if let TreeEntry::File { executable, .. } = f.entry {
            let mode = if executable { 0o555 } else { 0o444 };
            fs_err::set_permissions(
                tmp.join("root").join(&f.path),
                std::fs::Permissions::from_mode(mode),
            )?;
        }
    }
    let files: Vec<FileEntry> = written
        .into_iter()
        .map(|f| match f.entry {
            TreeEntry::File {
                size,
                sha256,
                executable,
            } => FileEntry {
                path: f.path,
                size,
                sha256: Some(sha256),
                mode: if executable { 0o755 } else { 0o644 },
                target: None,
            },
            TreeEntry::Symlink { target } => FileEntry {
                path: f.path,
                size: 0,
                sha256: None,
                mode: 0o777,
                target: Some(target),
            },
        })
        .collect();
    fs_err::write(tmp.join("files.json"), serde_json::to_vec(&files)?)?;
    fs_err::create_dir_all(dir.parent().expect("tree dirs have a parent"))?;
    if let Err(e) = fs_err::rename(&tmp, &dir) {
        // Another kiln finished the same tree first: theirs is as good as ours.
        let _ = fs_err::remove_dir_all(&tmp);
        if !listing.is_file() {
            return Err(e.into());
        }
    }
    check_wheel(a, &files)?;
    Ok(Tree {
        root: dir.join("root"),
        files,
    })
}

/// A locked Python distribution's wheel is of that distribution: its top-level
/// `NAME-VERSION.dist-info` says so. (A pin of another wheel's sha256 would otherwise
/// bring that wheel in under this name, from the cache, without a download.)
fn check_wheel(a: &Archive, files: &[FileEntry]) -> Result<()> {
    let (Some(lock), Some((_, dist))) = (&a.pinned_in, a.name.split_once('+')) else {
        return Ok(());
    };
    let infos: Vec<&str> = files
        .iter()
        .filter_map(|f| f.path.strip_suffix("/METADATA"))
        .filter(|d| !d.contains('/') && d.ends_with(".dist-info"))
        .collect();
    let of = |d: &str| rules::pylock::normalize(d.split('-').next().unwrap_or(""));
    if infos.iter().any(|d| of(d) == dist) {
        return Ok(());
    }
    Err(hinted(
        Code::Failed,
        format!(
            "@{} ({lock}): the wheel pinned for {dist} holds {}",
            a.name,
            if infos.is_empty() {
                "no *.dist-info/METADATA".to_string()
            } else {
                infos.iter().map(|d| of(d)).collect::<Vec<_>>().join(", ")
            }
        ),
        "the lock was edited by hand or pins the wrong file: lock again",
    ))
}

fn unpack_error(ws: &Workspace, a: &Archive, e: UnpackError, packed: u64) -> anyhow::Error {
    let place = a
        .pinned_in
        .clone()
        .unwrap_or_else(|| ws.place(a.span.start));
    match e {
        UnpackError::TooBig { entry, what, limit } => {
            let (why, field) = if what == "entries" {
                (
                    format!("more than {limit} entries (max_entries)"),
                    "max_entries",
                )
            } else if limit < a.limits.max_bytes {
                (
                    format!(
                        "more than {limit} bytes, {} times its {packed} bytes (max_ratio; a decompression bomb looks like this)",
                        a.limits.max_ratio
                    ),
                    "max_ratio",
                )
            } else {
                (format!("more than {limit} bytes (max_bytes)"), "max_bytes")
            };
            hinted(
                Code::Failed,
                format!(
                    "archive @{} ({place}) is refused: it extracts to {why}, at entry {entry:?}; nothing was kept",
                    a.name
                ),
                match &a.pinned_in {
                    Some(_) => "a wheel this large is not one kiln unpacks: check the lock points at the right file".to_string(),
                    None => format!(
                        "if the archive is genuine, raise {field} on its [[archive]] in WORKSPACE.toml"
                    ),
                },
            )
        }
        UnpackError::BadPrefix { .. } => hinted(
            Code::BadInput,
            format!("archive @{} ({place}): {e}", a.name),
            "set strip_prefix to one of the top-level entries listed, or remove it",
        ),
        UnpackError::Read { .. } | UnpackError::Write { .. } => {
            env_failed(format!("extracting archive @{}: {e}", a.name))
        }
        _ => hinted(
            Code::Failed,
            format!("archive @{} ({place}) cannot be extracted: {e}", a.name),
            "nothing was extracted; the archive's sha256 matched its pin, so the pinned file itself is unusable",
        ),
    }
}
