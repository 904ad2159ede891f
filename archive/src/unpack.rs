//! Hardened unpacking: every entry name is normalized and checked before anything is
//! written; absolute paths, `..`, links that leave the tree, writes through a symlink,
//! device files and fifos are refused. Regular files are hashed as they are written,
//! and modes are normalized to 0644/0755 (no setuid, setgid or sticky bits).

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::os::unix::fs::{OpenOptionsExt, symlink};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use release::{Digest, Hasher};

use crate::path::{LinkEscape, normalize_entry_path, resolve_in_tree, resolve_link};
use crate::tarfmt::{self, Records};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    TarGz,
    TarXz,
    TarBz2,
    Tar,
    Zip,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeEntry {
    File {
        size: u64,
        sha256: Digest,
        executable: bool,
    },
    Symlink {
        target: String,
    },
}

/// A file or symlink written by [`unpack`], relative to the destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeFile {
    pub path: String,
    pub entry: TreeEntry,
}

#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error("corrupt or truncated archive: {0}")]
    Corrupt(String),
    #[error("entry {entry:?} is refused: {why}")]
    Refused { entry: String, why: String },
    #[error("entry {entry:?} is refused: more than the {limit} {what} allowed{}", if *what == "bytes" { " (a decompression bomb, or more than declared)" } else { "" })]
    TooBig {
        entry: String,
        /// "entries" or "bytes".
        what: &'static str,
        limit: u64,
    },
    #[error("strip_prefix {prefix:?} matches no entry; the archive's top-level entries are: {}", top_level.join(", "))]
    BadPrefix {
        prefix: String,
        top_level: Vec<String>,
    },
    #[error("not an archive kiln can read (expected tar, tar.gz, tar.xz, tar.bz2 or zip)")]
    UnknownFormat,
}

/// Guess the format from the first bytes of the file.
pub fn sniff_format(head: &[u8]) -> Option<Format> {
    if head.starts_with(&[0x1f, 0x8b]) {
        Some(Format::TarGz)
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Some(Format::TarXz)
    } else if head.starts_with(b"BZh") {
        Some(Format::TarBz2)
    } else if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        Some(Format::Zip)
    } else if head.len() >= 262 && &head[257..262] == b"ustar" {
        Some(Format::Tar)
    } else {
        None
    }
}

/// Unpack `archive` into `dest` (which must exist and be empty), keeping only entries
/// under `strip_prefix` (with the prefix removed). Returns every file and symlink
/// written, sorted by path.
/// Bounds on what one archive may unpack to: a decompression bomb or an archive with
/// more in it than its manifest declared is refused as soon as it crosses them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Entries of any kind, directories included.
    pub max_entries: u64,
    /// Bytes of file content, after decompression.
    pub max_bytes: u64,
}

impl Limits {
    pub const UNBOUNDED: Limits = Limits {
        max_entries: u64::MAX,
        max_bytes: u64::MAX,
    };
}

/// The content of the archive's first entry, which must be named `name` and hold at
/// most `max_len` bytes (a bundle's MANIFEST.json), read without unpacking the rest.
pub fn read_first_entry(archive: &Path, name: &str, max_len: u64) -> Result<Vec<u8>, UnpackError> {
    let file = File::open(archive).map_err(|source| UnpackError::Read {
        path: archive.to_path_buf(),
        source,
    })?;
    let mut tar = tar::Archive::new(flate2::read::MultiGzDecoder::new(io::BufReader::new(file)));
    let mut entries = tar.entries().map_err(corrupt)?;
    let mut first = entries
        .next()
        .ok_or_else(|| corrupt("the archive is empty"))?
        .map_err(corrupt)?;
    let path = String::from_utf8_lossy(&first.path_bytes()).into_owned();
    if path != name || first.header().entry_type() != tar::EntryType::Regular {
        return Err(UnpackError::Refused {
            entry: path,
            why: format!("the first entry must be the file {name}"),
        });
    }
    if first.size() > max_len {
        return Err(UnpackError::Refused {
            entry: path,
            why: format!("{} bytes, more than the {max_len} allowed", first.size()),
        });
    }
    let mut out = Vec::new();
    (&mut first)
        .take(max_len)
        .read_to_end(&mut out)
        .map_err(corrupt)?;
    Ok(out)
}

pub fn unpack(
    archive: &Path,
    dest: &Path,
    strip_prefix: Option<&str>,
    limits: Limits,
) -> Result<Vec<TreeFile>, UnpackError> {
    let read_err = |source| UnpackError::Read {
        path: archive.to_path_buf(),
        source,
    };
    let mut file = File::open(archive).map_err(read_err)?;
    let mut head = [0u8; 512];
    let n = read_full(&mut file, &mut head).map_err(read_err)?;
    file.rewind().map_err(read_err)?;
    let format = sniff_format(&head[..n]).ok_or(UnpackError::UnknownFormat)?;
    let prefix = match strip_prefix {
        Some(p) => normalize_entry_path(p).map_err(|why| UnpackError::Refused {
            entry: p.to_string(),
            why: format!("strip_prefix: {why}"),
        })?,
        None => String::new(),
    };
    let mut sink = Sink::new(dest, prefix, limits);
    let result = match format {
        Format::Zip => unpack_zip(io::BufReader::new(file), &mut sink),
        tar => {
            let guarded = Guard {
                inner: decompress(tar, file),
                read: 0,
                counts: sink.counts.clone(),
            };
            unpack_tar(guarded, &mut sink)
        }
    };
    match result {
        Err(UnpackError::Corrupt(why)) if why.contains(META_REFUSED) => Err(UnpackError::Refused {
            entry: "(headers)".into(),
            why: format!(
                "more than {} MiB of headers, long names or PAX records beside its files (a bomb)",
                META_FLOOR >> 20
            ),
        }),
        Err(UnpackError::Corrupt(why)) if why.contains("checksum mismatch") => {
            // Say which entry, and whether it is the old signed-checksum convention.
            let file = File::open(archive).map_err(read_err)?;
            Err(match tarfmt::explain_checksum(decompress(format, file)) {
                Some((entry, true)) => UnpackError::Refused {
                    entry,
                    why: "its header uses the old signed checksum (pre-POSIX tar, as HP-UX and v7 wrote), which kiln does not read".into(),
                },
                Some((entry, false)) => UnpackError::Corrupt(format!("the header of entry {entry:?} fails its checksum")),
                None => UnpackError::Corrupt(why),
            })
        }
        r => r,
    }?;
    sink.finish()
}

/// The tar stream inside an archive file of `format` (not zip).
fn decompress(format: Format, file: File) -> Box<dyn Read> {
    let reader = io::BufReader::with_capacity(256 * 1024, file);
    match format {
        Format::TarGz => Box::new(flate2::read::MultiGzDecoder::new(reader)),
        Format::TarXz => Box::new(liblzma::read::XzDecoder::new(reader)),
        Format::TarBz2 => Box::new(bzip2::read::MultiBzDecoder::new(reader)),
        Format::Tar | Format::Zip => Box::new(reader),
    }
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

fn corrupt(e: impl std::fmt::Display) -> UnpackError {
    UnpackError::Corrupt(e.to_string())
}

fn unpack_tar(reader: impl Read, sink: &mut Sink) -> Result<(), UnpackError> {
    let mut archive = tar::Archive::new(reader);
    // A Solaris `X` header describes the entry after it, as a PAX `x` header does.
    let mut solaris: Option<Records> = None;
    for entry in archive.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        let counts = &sink.counts;
        counts
            .declared
            .set(counts.declared.get().saturating_add(entry.size()));
        counts.headers.set(counts.headers.get() + 1);
        let kind = entry.header().entry_type();
        if let Some(why) = tarfmt::header_differs(entry.header().as_bytes()) {
            return Err(UnpackError::Refused {
                entry: String::from_utf8_lossy(&entry.path_bytes()).into_owned(),
                why,
            });
        }
        let shown = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let refused = |why: String| UnpackError::Refused {
            entry: shown.clone(),
            why,
        };
        let own = match entry.pax_extensions() {
            Ok(Some(exts)) => tarfmt::records(exts).map_err(&refused)?,
            Ok(None) => Vec::new(),
            Err(e) => return Err(corrupt(e)),
        };
        let mut recs = solaris.take().unwrap_or_default();
        if let Some(size) = tarfmt::get(&recs, "size")
            && size
                != entry
                    .header()
                    .size()
                    .map_err(corrupt)?
                    .to_string()
                    .as_bytes()
        {
            return Err(refused(
                "a Solaris extended header (type 'X') gives it another size, which kiln does not apply".into(),
            ));
        }
        recs.extend(own);
        let utf8 = |bytes: &[u8], what: &str| {
            String::from_utf8(bytes.to_vec()).map_err(|_| {
                refused(format!(
                    "its {what} is not valid UTF-8, and kiln keeps names as the bytes they are or not at all"
                ))
            })
        };
        let path_bytes = tarfmt::get(&recs, "path")
            .map(<[u8]>::to_vec)
            .unwrap_or_else(|| entry.path_bytes().into_owned());
        let link_target = |entry: &tar::Entry<_>| -> Result<String, UnpackError> {
            let bytes = tarfmt::get(&recs, "linkpath")
                .map(<[u8]>::to_vec)
                .or_else(|| entry.link_name_bytes().map(|b| b.into_owned()))
                .ok_or_else(|| refused("link without a target".into()))?;
            utf8(&bytes, "link target")
        };
        match kind {
            // Old (v7) archives mark a directory by a trailing slash on a regular entry;
            // GNU tar reads any regular or contiguous entry so.
            tar::EntryType::Regular | tar::EntryType::Continuous if path_bytes.ends_with(b"/") => {
                if entry.header().size().map_err(corrupt)? != 0 {
                    return Err(refused(
                        "an old-style directory entry with a non-zero size (GNU tar ignores the size; kiln cannot read past it)".into(),
                    ));
                }
                sink.dir(&utf8(&path_bytes, "name")?)?
            }
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
                let mode = entry.header().mode().map_err(corrupt)?;
                let sparse = tarfmt::sparse(&recs)
                    .map_err(|why| refused(format!("a GNU sparse file in PAX headers: {why}")))?;
                match sparse {
                    None => {
                        let raw = utf8(&path_bytes, "name")?;
                        sink.file(&raw, mode & 0o111 != 0, &mut entry)?;
                    }
                    Some(sp) => {
                        let raw = utf8(sp.name.as_deref().unwrap_or(&path_bytes), "name")?;
                        let bad = |why: String| {
                            refused(format!("a GNU sparse file (format {}): {why}", sp.format))
                        };
                        let stored = entry.size();
                        let (map, stored) = match sp.map {
                            Some(map) => (map, stored),
                            None => {
                                let (map, took) = tarfmt::read_map_1_0(&mut entry).map_err(bad)?;
                                (map, stored.saturating_sub(took))
                            }
                        };
                        tarfmt::check_map(&map, sp.real_size, stored).map_err(bad)?;
                        let mut expanded = tarfmt::SparseReader::new(&mut entry, map, sp.real_size);
                        sink.file(&raw, mode & 0o111 != 0, &mut expanded)?;
                    }
                }
            }
            tar::EntryType::Directory => {
                // POSIX: a directory's size stores no data, and GNU tar reads none;
                // the tar crate would take the next headers for its data.
                if entry.header().size().map_err(corrupt)? != 0 {
                    return Err(refused(
                        "a directory entry with a non-zero size (GNU tar ignores the size; kiln cannot read past it)".into(),
                    ));
                }
                sink.dir(&utf8(&path_bytes, "name")?)?
            }
            tar::EntryType::Symlink => {
                let target = link_target(&entry)?;
                sink.symlink(&utf8(&path_bytes, "name")?, &target)?;
            }
            tar::EntryType::Link => {
                let target = link_target(&entry)?;
                sink.hardlink(&utf8(&path_bytes, "name")?, &target)?;
            }
            tar::EntryType::XGlobalHeader => {
                let mut data = Vec::new();
                (&mut entry)
                    .take(1 << 20)
                    .read_to_end(&mut data)
                    .map_err(corrupt)?;
                let global = tarfmt::records(tar::PaxExtensions::new(&data)).map_err(&refused)?;
                if let Some((k, _)) = global.iter().find(|(k, _)| {
                    ["path", "linkpath", "size"].contains(&k.as_str())
                        || k.starts_with("GNU.sparse.")
                }) {
                    return Err(refused(format!(
                        "a PAX global header sets {k} for every entry after it, which kiln does not apply"
                    )));
                }
            }
            other => match other.as_byte() {
                b'X' => {
                    let mut data = Vec::new();
                    (&mut entry)
                        .take(1 << 20)
                        .read_to_end(&mut data)
                        .map_err(corrupt)?;
                    solaris =
                        Some(tarfmt::records(tar::PaxExtensions::new(&data)).map_err(&refused)?);
                }
                b'D' => sink.dir(&utf8(&path_bytes, "name")?)?,
                b'V' => {} // a GNU volume label: GNU tar extracts nothing for it
                _ => {
                    return Err(refused(format!(
                        "{} entries are not allowed",
                        describe(other)
                    )));
                }
            },
        }
    }
    Ok(())
}

fn describe(kind: tar::EntryType) -> String {
    match kind {
        tar::EntryType::Char => "character device".into(),
        tar::EntryType::Block => "block device".into(),
        tar::EntryType::Fifo => "fifo".into(),
        other => match other.as_byte() {
            b'M' => "GNU multi-volume continuation (type 'M')".into(),
            b'N' => "old GNU long name (type 'N')".into(),
            b => format!("unknown (type {:?})", b as char),
        },
    }
}

fn unpack_zip(reader: impl Read + Seek, sink: &mut Sink) -> Result<(), UnpackError> {
    let mut zip = zip::ZipArchive::new(reader).map_err(corrupt)?;
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).map_err(corrupt)?;
        let raw = f.name().to_string();
        let mode = f.unix_mode().unwrap_or(0o644);
        match mode & 0o170000 {
            0o120000 => {
                let mut target = String::new();
                (&mut f)
                    .take(4096)
                    .read_to_string(&mut target)
                    .map_err(corrupt)?;
                sink.symlink(&raw, &target)?;
            }
            0o040000 => sink.dir(&raw)?,
            0 | 0o100000 if f.is_dir() => sink.dir(&raw)?,
            0 | 0o100000 => sink.file(&raw, mode & 0o111 != 0, &mut f)?,
            _ => {
                return Err(UnpackError::Refused {
                    entry: raw,
                    why: "special files are not allowed".into(),
                });
            }
        }
    }
    Ok(())
}

#[derive(Default)]
struct Counts {
    entries: Cell<u64>,
    bytes: Cell<u64>,
    /// Entries the tar reader returned, and the data sizes their headers declared
    /// (read, or skipped past when strip_prefix leaves them out).
    headers: Cell<u64>,
    declared: Cell<u64>,
}

/// What a tar stream may hold besides file content: headers, padding, GNU long names
/// and PAX headers, which the `tar` crate reads whole into memory, so a few hundred KB
/// of gzip holding one 700 MiB "name" would exhaust the machine. 2 KiB per entry and
/// 64 MiB in all are far above any real archive's.
const META_PER_ENTRY: u64 = 2048;
const META_FLOOR: u64 = 64 << 20;
const META_REFUSED: &str = "kiln-meta-limit";

/// The tar stream, counted against [`META_PER_ENTRY`] and [`META_FLOOR`].
struct Guard<R> {
    inner: R,
    read: u64,
    counts: Rc<Counts>,
}

impl<R: Read> Read for Guard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        let allowed = self
            .counts
            .declared
            .get()
            .saturating_add(self.counts.headers.get().saturating_mul(META_PER_ENTRY))
            .saturating_add(META_FLOOR);
        if self.read > allowed {
            return Err(io::Error::other(META_REFUSED));
        }
        Ok(n)
    }
}

/// Where entries land: applies strip_prefix, refuses escapes, records what it wrote.
struct Sink<'a> {
    dest: &'a Path,
    prefix: String,
    limits: Limits,
    /// Entries placed and bytes of file content written, shared with the [`Guard`].
    counts: Rc<Counts>,
    written: BTreeMap<String, TreeEntry>,
    dirs: BTreeSet<String>,
    top_level: BTreeSet<String>,
    matched: bool,
}

impl<'a> Sink<'a> {
    fn new(dest: &'a Path, prefix: String, limits: Limits) -> Sink<'a> {
        Sink {
            dest,
            prefix,
            limits,
            counts: Rc::new(Counts::default()),
            written: BTreeMap::new(),
            dirs: BTreeSet::new(),
            top_level: BTreeSet::new(),
            matched: false,
        }
    }

    /// The checked destination-relative path of an entry, or None when strip_prefix
    /// leaves it out.
    fn place(&mut self, raw: &str) -> Result<Option<String>, UnpackError> {
        let entries = self.counts.entries.get() + 1;
        self.counts.entries.set(entries);
        if entries > self.limits.max_entries {
            return Err(UnpackError::TooBig {
                entry: raw.to_string(),
                what: "entries",
                limit: self.limits.max_entries,
            });
        }
        let path = normalize_entry_path(raw).map_err(|why| UnpackError::Refused {
            entry: raw.to_string(),
            why: why.to_string(),
        })?;
        if let Some(top) = path.split('/').next().filter(|t| !t.is_empty()) {
            self.top_level.insert(top.to_string());
        }
        let rel = if self.prefix.is_empty() {
            path
        } else if path == self.prefix {
            String::new()
        } else if let Some(rest) = path.strip_prefix(&format!("{}/", self.prefix)) {
            rest.to_string()
        } else {
            return Ok(None);
        };
        self.matched = true;
        if rel.is_empty() {
            return Ok(Some(rel));
        }
        // Refuse writing through a symlink this archive created: links are checked
        // lexically, which only holds while every parent is a real directory.
        let mut parent = rel.as_str();
        while let Some((p, _)) = parent.rsplit_once('/') {
            if matches!(self.written.get(p), Some(TreeEntry::Symlink { .. })) {
                return Err(UnpackError::Refused {
                    entry: raw.to_string(),
                    why: format!("it would be written through the symlink {p:?}"),
                });
            }
            parent = p;
        }
        if self.written.contains_key(&rel) {
            return Err(UnpackError::Refused {
                entry: raw.to_string(),
                why: "duplicate entry".into(),
            });
        }
        Ok(Some(rel))
    }

    /// A file or link where the archive already made a directory (GNU tar would
    /// replace it; kiln refuses the archive instead).
    fn not_a_dir(&self, raw: &str, rel: &str) -> Result<(), UnpackError> {
        if self.dirs.contains(rel) {
            return Err(UnpackError::Refused {
                entry: raw.to_string(),
                why: "duplicate entry: a directory of the same name came first".into(),
            });
        }
        Ok(())
    }

    fn ensure_parent(&mut self, rel: &str) -> Result<PathBuf, UnpackError> {
        let full = self.dest.join(rel);
        if let Some((parent, _)) = rel.rsplit_once('/')
            && !self.dirs.contains(parent)
        {
            let dir = self.dest.join(parent);
            fs::create_dir_all(&dir).map_err(|source| UnpackError::Write { path: dir, source })?;
            let mut p = parent;
            loop {
                self.dirs.insert(p.to_string());
                match p.rsplit_once('/') {
                    Some((up, _)) => p = up,
                    None => break,
                }
            }
        }
        Ok(full)
    }

    fn dir(&mut self, raw: &str) -> Result<(), UnpackError> {
        let Some(rel) = self.place(raw)? else {
            return Ok(());
        };
        if rel.is_empty() || self.dirs.contains(&rel) {
            return Ok(());
        }
        let full = self.ensure_parent(&rel)?;
        match fs::create_dir(&full) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && full.is_dir() => {}
            Err(source) => return Err(UnpackError::Write { path: full, source }),
        }
        self.dirs.insert(rel);
        Ok(())
    }

    fn file(
        &mut self,
        raw: &str,
        executable: bool,
        data: &mut impl Read,
    ) -> Result<(), UnpackError> {
        let Some(rel) = self.place(raw)? else {
            return Ok(());
        };
        if rel.is_empty() {
            return Err(UnpackError::Refused {
                entry: raw.into(),
                why: "a file where the root directory must be".into(),
            });
        }
        self.not_a_dir(raw, &rel)?;
        let full = self.ensure_parent(&rel)?;
        let mode = if executable { 0o755 } else { 0o644 };
        let mut out = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&full)
            .map_err(|source| UnpackError::Write {
                path: full.clone(),
                source,
            })?;
        let mut hasher = Hasher::new();
        let mut buf = vec![0u8; 128 * 1024];
        loop {
            let n = match data.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(corrupt(format!("{raw}: {e}"))),
            };
            let bytes = self.counts.bytes.get() + n as u64;
            self.counts.bytes.set(bytes);
            if bytes > self.limits.max_bytes {
                drop(out);
                let _ = fs::remove_file(&full);
                return Err(UnpackError::TooBig {
                    entry: raw.to_string(),
                    what: "bytes",
                    limit: self.limits.max_bytes,
                });
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n])
                .map_err(|source| UnpackError::Write {
                    path: full.clone(),
                    source,
                })?;
        }
        let size = hasher.len();
        self.written.insert(
            rel,
            TreeEntry::File {
                size,
                sha256: hasher.finish(),
                executable,
            },
        );
        Ok(())
    }

    fn symlink(&mut self, raw: &str, target: &str) -> Result<(), UnpackError> {
        let Some(rel) = self.place(raw)? else {
            return Ok(());
        };
        if resolve_link(&rel, target).is_none_or(|t| t.is_empty() && rel.is_empty()) {
            return Err(UnpackError::Refused {
                entry: raw.into(),
                why: format!("symlink to {target:?} points outside the archive"),
            });
        }
        self.not_a_dir(raw, &rel)?;
        let full = self.ensure_parent(&rel)?;
        symlink(target, &full).map_err(|source| UnpackError::Write { path: full, source })?;
        self.written.insert(
            rel,
            TreeEntry::Symlink {
                target: target.to_string(),
            },
        );
        Ok(())
    }

    fn hardlink(&mut self, raw: &str, target: &str) -> Result<(), UnpackError> {
        let Some(rel) = self.place(raw)? else {
            return Ok(());
        };
        let refused = |why: String| UnpackError::Refused {
            entry: raw.into(),
            why,
        };
        let target_rel = normalize_entry_path(target)
            .ok()
            .and_then(|t| {
                if self.prefix.is_empty() {
                    Some(t)
                } else {
                    t.strip_prefix(&format!("{}/", self.prefix))
                        .map(str::to_string)
                }
            })
            .ok_or_else(|| {
                refused(format!(
                    "hard link to {target:?} points outside the archive"
                ))
            })?;
        let Some(entry @ TreeEntry::File { .. }) = self.written.get(&target_rel).cloned() else {
            return Err(refused(format!(
                "hard link to {target:?}, which is not a file extracted before it"
            )));
        };
        self.not_a_dir(raw, &rel)?;
        let full = self.ensure_parent(&rel)?;
        fs::hard_link(self.dest.join(&target_rel), &full)
            .map_err(|source| UnpackError::Write { path: full, source })?;
        self.written.insert(rel, entry);
        Ok(())
    }

    fn finish(self) -> Result<Vec<TreeFile>, UnpackError> {
        if !self.prefix.is_empty() && !self.matched {
            return Err(UnpackError::BadPrefix {
                prefix: self.prefix,
                top_level: self.top_level.into_iter().collect(),
            });
        }
        // Each link was checked alone when it was written; only the whole tree says
        // where a chain of them leads (a later link can change what an earlier one
        // passes through), so every link is resolved again against all of them.
        let link_target = |p: &str| match self.written.get(p) {
            Some(TreeEntry::Symlink { target }) => Some(target.as_str()),
            _ => None,
        };
        for (path, entry) in &self.written {
            let TreeEntry::Symlink { target } = entry else {
                continue;
            };
            if let Err(why) = resolve_in_tree(path, &link_target) {
                let why = match why {
                    LinkEscape::Outside => format!(
                        "symlink to {target:?} points outside the archive once the archive's other symlinks are followed"
                    ),
                    LinkEscape::Loop => {
                        format!("symlink to {target:?} passes through too many symlinks (a loop)")
                    }
                };
                let _ = fs::remove_file(self.dest.join(path));
                return Err(UnpackError::Refused {
                    entry: path.clone(),
                    why,
                });
            }
        }
        Ok(self
            .written
            .into_iter()
            .map(|(path, entry)| TreeFile { path, entry })
            .collect())
    }
}
