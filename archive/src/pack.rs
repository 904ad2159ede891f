//! Deterministic tar.gz: entries sorted bytewise (the first entry excepted), fixed
//! mtime, uid/gid 0 with empty owner names, modes 0644/0755, GNU long names, and a gzip
//! stream compressed in fixed blocks on every core (gz.rs) with no name and no time.
//! Same entries in, same bytes out.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::PathBuf;

use release::{Digest, Hasher};

use crate::gz::GzWriter;

pub enum PackSource {
    /// A file on disk that must still have this size and digest while it is packed.
    File {
        path: PathBuf,
        size: u64,
        sha256: Digest,
    },
    Bytes(Vec<u8>),
    Symlink(String),
}

pub struct PackEntry {
    /// Relative, normalized, `/`-separated.
    pub path: String,
    pub executable: bool,
    pub source: PackSource,
}

/// Write `first` and then `entries` (sorted here) as a deterministic tar.gz into `out`.
/// Parent directories are added as entries of their own (mode 0755).
pub fn pack_tar_gz<W: Write>(
    out: W,
    first: PackEntry,
    mut entries: Vec<PackEntry>,
    mtime: u64,
) -> io::Result<W> {
    entries.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    if let Some(w) = entries.windows(2).find(|w| w[0].path == w[1].path) {
        return Err(io::Error::other(format!(
            "duplicate bundle entry {}",
            w[0].path
        )));
    }
    let mut dirs = BTreeSet::new();
    for e in &entries {
        let mut p = e.path.as_str();
        while let Some((parent, _)) = p.rsplit_once('/') {
            dirs.insert(parent.to_string());
            p = parent;
        }
    }

    let gz = GzWriter::new(out);
    let mut tar = tar::Builder::new(gz);
    append(&mut tar, &first, mtime)?;

    // Merge directories into the sorted file list so each parent precedes its children.
    let mut dirs = dirs.into_iter().peekable();
    for e in &entries {
        while let Some(d) = dirs.peek() {
            if d.as_bytes() < e.path.as_bytes() {
                append_dir(&mut tar, d, mtime)?;
                dirs.next();
            } else {
                break;
            }
        }
        append(&mut tar, e, mtime)?;
    }
    for d in dirs {
        append_dir(&mut tar, &d, mtime)?;
    }
    tar.into_inner()?.finish()
}

fn header(kind: tar::EntryType, mode: u32, size: u64, mtime: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_size(size);
    h.set_mtime(mtime);
    h.set_uid(0);
    h.set_gid(0);
    // Empty owner names: setting them can only fail for over-long names.
    let _ = h.set_username("");
    let _ = h.set_groupname("");
    h
}

fn append_dir<W: Write>(tar: &mut tar::Builder<W>, path: &str, mtime: u64) -> io::Result<()> {
    let mut h = header(tar::EntryType::Directory, 0o755, 0, mtime);
    tar.append_data(&mut h, format!("{path}/"), io::empty())
}

fn append<W: Write>(tar: &mut tar::Builder<W>, e: &PackEntry, mtime: u64) -> io::Result<()> {
    let mode = if e.executable { 0o755 } else { 0o644 };
    match &e.source {
        PackSource::Bytes(bytes) => {
            let mut h = header(tar::EntryType::Regular, mode, bytes.len() as u64, mtime);
            tar.append_data(&mut h, &e.path, bytes.as_slice())
        }
        PackSource::Symlink(target) => {
            let mut h = header(tar::EntryType::Symlink, 0o777, 0, mtime);
            tar.append_link(&mut h, &e.path, target)
        }
        PackSource::File { path, size, sha256 } => {
            let file = File::open(path)
                .map_err(|err| io::Error::new(err.kind(), format!("{}: {err}", path.display())))?;
            let mut reader = HashingReader {
                inner: file.take(*size),
                hasher: Hasher::new(),
            };
            let mut h = header(tar::EntryType::Regular, mode, *size, mtime);
            tar.append_data(&mut h, &e.path, &mut reader)?;
            let (len, got) = (reader.hasher.len(), reader.hasher.finish());
            if len != *size || got != *sha256 {
                return Err(io::Error::other(format!(
                    "{} changed while it was being packed (expected sha256 {sha256}, size {size}; read sha256 {got}, size {len})",
                    path.display()
                )));
            }
            Ok(())
        }
    }
}

struct HashingReader<R> {
    inner: R,
    hasher: Hasher,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}
