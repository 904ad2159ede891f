//! The tar dialects GNU tar reads that the `tar` crate leaves to its caller, so that an
//! archive is extracted exactly as GNU tar extracts it or refused with the entry and
//! the format named, never altered: GNU sparse files stored in PAX headers (formats
//! 0.0, 0.1 and 1.0; the old GNU `S` type the crate expands itself), Solaris `X`
//! extended headers, and the pre-POSIX signed header checksum (refused, named).

use std::io::{self, Read};

/// The PAX records of a header, in order (keys may repeat: sparse format 0.0).
pub(crate) type Records = Vec<(String, Vec<u8>)>;

pub(crate) fn records<'a>(
    exts: impl IntoIterator<Item = io::Result<tar::PaxExtension<'a>>>,
) -> Result<Records, String> {
    let mut out = Vec::new();
    for r in exts {
        let r = r.map_err(|_| "a malformed PAX record".to_string())?;
        let key = r
            .key()
            .map_err(|_| "a PAX key that is not UTF-8".to_string())?;
        out.push((key.to_string(), r.value_bytes().to_vec()));
    }
    Ok(out)
}

pub(crate) fn get<'r>(records: &'r Records, key: &str) -> Option<&'r [u8]> {
    records
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_slice())
}

fn number(records: &Records, key: &str) -> Result<Option<u64>, String> {
    get(records, key)
        .map(|v| {
            std::str::from_utf8(v)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| format!("{key} is not a number"))
        })
        .transpose()
}

/// A GNU sparse file described by PAX records.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Sparse {
    /// `GNU.sparse.name`, when the format keeps the real name there.
    pub name: Option<Vec<u8>>,
    pub real_size: u64,
    /// (offset, length) of each stored segment; None for format 1.0, whose map is at
    /// the start of the entry's data.
    pub map: Option<Vec<(u64, u64)>>,
    /// "0.0", "0.1" or "1.0", for messages.
    pub format: &'static str,
}

/// The sparse description in `records`, if any; an unknown sparse format is an error.
pub(crate) fn sparse(records: &Records) -> Result<Option<Sparse>, String> {
    if !records.iter().any(|(k, _)| k.starts_with("GNU.sparse.")) {
        return Ok(None);
    }
    let name = get(records, "GNU.sparse.name").map(<[u8]>::to_vec);
    let major = number(records, "GNU.sparse.major")?;
    let minor = number(records, "GNU.sparse.minor")?;
    if major.is_some() || minor.is_some() {
        if (major, minor) != (Some(1), Some(0)) {
            return Err(format!(
                "GNU sparse format {}.{} is not one GNU tar writes",
                major.unwrap_or(0),
                minor.unwrap_or(0)
            ));
        }
        let real_size = number(records, "GNU.sparse.realsize")?
            .ok_or("GNU sparse 1.0 without GNU.sparse.realsize")?;
        return Ok(Some(Sparse {
            name,
            real_size,
            map: None,
            format: "1.0",
        }));
    }
    let real_size =
        number(records, "GNU.sparse.size")?.ok_or("GNU sparse 0.x without GNU.sparse.size")?;
    if let Some(map) = get(records, "GNU.sparse.map") {
        let text = std::str::from_utf8(map).map_err(|_| "GNU.sparse.map is not text")?;
        let nums: Vec<u64> = text
            .split(',')
            .map(|n| {
                n.trim()
                    .parse()
                    .map_err(|_| "GNU.sparse.map is not numbers")
            })
            .collect::<Result<_, _>>()?;
        if !nums.len().is_multiple_of(2) {
            return Err("GNU.sparse.map has an odd count of numbers".into());
        }
        let map = nums.chunks(2).map(|c| (c[0], c[1])).collect();
        return Ok(Some(Sparse {
            name,
            real_size,
            map: Some(map),
            format: "0.1",
        }));
    }
    // 0.0: GNU.sparse.offset and GNU.sparse.numbytes alternate, in order.
    let mut map = Vec::new();
    let mut offset = None;
    for (k, v) in records {
        let n = || -> Result<u64, String> {
            std::str::from_utf8(v)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| format!("{k} is not a number"))
        };
        match k.as_str() {
            "GNU.sparse.offset" if offset.is_none() => offset = Some(n()?),
            "GNU.sparse.numbytes" if offset.is_some() => {
                map.push((offset.take().expect("checked"), n()?))
            }
            "GNU.sparse.offset" | "GNU.sparse.numbytes" => {
                return Err("GNU.sparse.offset and numbytes do not alternate".into());
            }
            _ => {}
        }
    }
    if offset.is_some() {
        return Err("a GNU.sparse.offset without its numbytes".into());
    }
    Ok(Some(Sparse {
        name,
        real_size,
        map: Some(map),
        format: "0.0",
    }))
}

/// Read format 1.0's map from the start of the entry's data: decimal numbers, one per
/// line (the count, then offset and length pairs), padded to a 512-byte block.
/// Returns the map and the bytes it took.
pub(crate) fn read_map_1_0(data: &mut impl Read) -> Result<(Vec<(u64, u64)>, u64), String> {
    let mut consumed = 0u64;
    let mut line = Vec::new();
    let mut next = |consumed: &mut u64| -> Result<u64, String> {
        line.clear();
        loop {
            let mut b = [0u8; 1];
            match data.read(&mut b) {
                Ok(0) => return Err("the sparse map ends early".into()),
                Ok(_) => {}
                Err(e) => return Err(e.to_string()),
            }
            *consumed += 1;
            if b[0] == b'\n' {
                break;
            }
            if line.len() > 20 {
                return Err("a sparse map number is too long".into());
            }
            line.push(b[0]);
        }
        std::str::from_utf8(&line)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| "the sparse map is not numbers".into())
    };
    let count = next(&mut consumed)?;
    if count > 1 << 20 {
        return Err("the sparse map lists too many segments".into());
    }
    let mut map = Vec::new();
    for _ in 0..count {
        let off = next(&mut consumed)?;
        let len = next(&mut consumed)?;
        map.push((off, len));
    }
    let pad = (512 - consumed % 512) % 512;
    io::copy(&mut data.take(pad), &mut io::sink()).map_err(|e| e.to_string())?;
    Ok((map, consumed + pad))
}

/// Check a map against the file's size and the data stored for it.
pub(crate) fn check_map(map: &[(u64, u64)], real_size: u64, stored: u64) -> Result<(), String> {
    let mut end = 0u64;
    let mut total = 0u64;
    for &(off, len) in map {
        if off < end {
            return Err("sparse segments overlap or are out of order".into());
        }
        end = off.checked_add(len).ok_or("a sparse segment overflows")?;
        total = total.checked_add(len).ok_or("a sparse segment overflows")?;
    }
    if end > real_size {
        return Err("a sparse segment lies past the file's size".into());
    }
    if total != stored {
        return Err(format!(
            "the sparse map lists {total} bytes of data, the entry stores {stored}"
        ));
    }
    Ok(())
}

/// The logical content of a sparse file: its segments read from `data`, zeros between
/// them and up to `real_size`.
pub(crate) struct SparseReader<R> {
    data: R,
    map: std::vec::IntoIter<(u64, u64)>,
    /// The current segment: (offset, bytes left of it).
    seg: Option<(u64, u64)>,
    pos: u64,
    real_size: u64,
}

impl<R: Read> SparseReader<R> {
    pub fn new(data: R, map: Vec<(u64, u64)>, real_size: u64) -> Self {
        let mut map = map.into_iter();
        let seg = map.next();
        SparseReader {
            data,
            map,
            seg,
            pos: 0,
            real_size,
        }
    }
}

impl<R: Read> Read for SparseReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.pos >= self.real_size || buf.is_empty() {
                return Ok(0);
            }
            match self.seg {
                Some((_, 0)) => self.seg = self.map.next(),
                Some((off, left)) if self.pos >= off => {
                    let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    let n = self.data.read(&mut buf[..want])?;
                    if n == 0 {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "the sparse file's data ends early",
                        ));
                    }
                    self.seg = Some((off + n as u64, left - n as u64));
                    self.pos += n as u64;
                    return Ok(n);
                }
                next => {
                    let until = next.map_or(self.real_size, |(off, _)| off);
                    let n = buf
                        .len()
                        .min(usize::try_from(until - self.pos).unwrap_or(usize::MAX));
                    buf[..n].fill(0);
                    self.pos += n as u64;
                    return Ok(n);
                }
            }
        }
    }
}

/// Where GNU tar would read this header otherwise than the `tar` crate does: a
/// numeric field that is not plain octal (GNU reads a leading `+` or `-` as its old
/// base-64, the crate as octal, so the two would disagree on sizes and so on every
/// entry after), or a ustar header of another version whose prefix the crate drops
/// and GNU tar keeps.
pub(crate) fn header_differs(h: &[u8]) -> Option<String> {
    for (name, range) in [
        ("mode", 100..108),
        ("uid", 108..116),
        ("gid", 116..124),
        ("size", 124..136),
        ("mtime", 136..148),
    ] {
        let f = &h[range];
        if f[0] & 0x80 != 0 {
            continue; // base-256, read alike
        }
        let digits = until_nul(f);
        let ok = digits.iter().all(|c| matches!(c, b'0'..=b'7' | b' '));
        if !ok {
            return Some(format!(
                "its {name} field {:?} is not octal (GNU tar would read it otherwise), so the archive is refused",
                String::from_utf8_lossy(digits)
            ));
        }
    }
    let ustar = &h[257..263] == b"ustar\0";
    let version_00 = &h[263..265] == b"00";
    if ustar && !version_00 && h[345..500].iter().any(|b| *b != 0) {
        return Some(
            "a ustar header of version other than \"00\" with a name prefix (GNU tar keeps the prefix, the tar crate drops it)".into(),
        );
    }
    None
}

/// After the `tar` crate reported a header checksum mismatch: walk the headers of the
/// stream again to name the entry, and say whether it uses the old signed checksum.
pub(crate) fn explain_checksum(mut r: impl Read) -> Option<(String, bool)> {
    let mut block = [0u8; 512];
    loop {
        r.read_exact(&mut block).ok()?;
        if block.iter().all(|b| *b == 0) {
            continue;
        }
        let stored = octal(&block[148..156])?;
        // The checksum counts its own field as spaces; bytes as unsigned (POSIX) or,
        // in old archives, as signed.
        let sum = |byte: fn(u8) -> i64| -> i64 {
            block
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    if (148..156).contains(&i) {
                        32
                    } else {
                        byte(*b)
                    }
                })
                .sum()
        };
        let unsigned = sum(|b| b as i64) as u64;
        if stored != unsigned {
            let signed = sum(|b| b as i8 as i64);
            let name = String::from_utf8_lossy(until_nul(&block[..100])).into_owned();
            return Some((name, signed >= 0 && signed as u64 == stored));
        }
        let size = if block[124] & 0x80 != 0 {
            block[125..136]
                .iter()
                .fold(0u64, |a, b| a.saturating_mul(256).saturating_add(*b as u64))
        } else {
            octal(&block[124..136])?
        };
        if block[156] == b'S' && block[482] != 0 {
            loop {
                r.read_exact(&mut block).ok()?;
                if block[504] == 0 {
                    break;
                }
            }
        }
        io::copy(
            &mut (&mut r).take(size.div_ceil(512) * 512),
            &mut io::sink(),
        )
        .ok()?;
    }
}

fn until_nul(b: &[u8]) -> &[u8] {
    &b[..b.iter().position(|c| *c == 0).unwrap_or(b.len())]
}

fn octal(field: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(until_nul(field)).ok()?.trim();
    if s.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(s, 8).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_files_read_back_with_their_holes() {
        let data = b"AABBB";
        let mut out = Vec::new();
        SparseReader::new(&data[..], vec![(2, 2), (6, 3)], 12)
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, b"\0\0AA\0\0BBB\0\0\0");
        let recs: Records = vec![
            ("GNU.sparse.size".into(), b"12".to_vec()),
            ("GNU.sparse.offset".into(), b"2".to_vec()),
            ("GNU.sparse.numbytes".into(), b"2".to_vec()),
            ("GNU.sparse.offset".into(), b"6".to_vec()),
            ("GNU.sparse.numbytes".into(), b"3".to_vec()),
        ];
        let s = sparse(&recs).unwrap().unwrap();
        assert_eq!(s.map.as_deref(), Some(&[(2, 2), (6, 3)][..]));
        assert_eq!(s.format, "0.0");
        check_map(s.map.as_ref().unwrap(), 12, 5).unwrap();
        assert!(check_map(&[(2, 2), (3, 3)], 12, 5).is_err(), "overlap");
        assert!(check_map(&[(2, 2), (6, 3)], 8, 5).is_err(), "past the end");
        assert!(
            check_map(&[(2, 2)], 8, 5).is_err(),
            "stored bytes unaccounted"
        );
        let mut map = &b"2\n2\n2\n6\n3\n"[..];
        let mut padded = map.to_vec();
        padded.resize(512, 0);
        padded.extend_from_slice(b"AABBB");
        map = &padded;
        let (m, took) = read_map_1_0(&mut map).unwrap();
        assert_eq!((m.as_slice(), took), (&[(2, 2), (6, 3)][..], 512));
        assert_eq!(map, b"AABBB");
    }
}
