//! Test archives in every format kiln reads, including hostile ones whose entry names
//! the tar crate itself would refuse to write.

use std::io::Write;

pub enum E<'a> {
    File(&'a str, &'a [u8], u32),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
    Hardlink(&'a str, &'a str),
    Fifo(&'a str),
}

fn header(kind: tar::EntryType, name: &str, size: u64, mode: u32) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(mode);
    h.set_mtime(1_600_000_000);
    // Raw name bytes: no validation, so hostile names like "../x" go through.
    let name_field = &mut h.as_old_mut().name;
    name_field.fill(0);
    name_field[..name.len()].copy_from_slice(name.as_bytes());
    h
}

fn link_header(kind: tar::EntryType, name: &str, target: &str) -> tar::Header {
    let mut h = header(kind, name, 0, 0o777);
    let field = &mut h.as_old_mut().linkname;
    field.fill(0);
    field[..target.len()].copy_from_slice(target.as_bytes());
    h
}

pub fn tar(entries: &[E]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        match e {
            E::File(name, data, mode) => {
                let mut h = header(tar::EntryType::Regular, name, data.len() as u64, *mode);
                h.set_cksum();
                b.append(&h, *data).unwrap();
            }
            E::Dir(name) => {
                let mut h = header(tar::EntryType::Directory, name, 0, 0o755);
                h.set_cksum();
                b.append(&h, std::io::empty()).unwrap();
            }
            E::Symlink(name, target) => {
                let mut h = link_header(tar::EntryType::Symlink, name, target);
                h.set_cksum();
                b.append(&h, std::io::empty()).unwrap();
            }
            E::Hardlink(name, target) => {
                let mut h = link_header(tar::EntryType::Link, name, target);
                h.set_cksum();
                b.append(&h, std::io::empty()).unwrap();
            }
            E::Fifo(name) => {
                let mut h = header(tar::EntryType::Fifo, name, 0, 0o644);
                h.set_cksum();
                b.append(&h, std::io::empty()).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

pub fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

pub fn xz(bytes: &[u8]) -> Vec<u8> {
    let mut e = liblzma::write::XzEncoder::new(Vec::new(), 6);
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

pub fn bz2(bytes: &[u8]) -> Vec<u8> {
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

pub fn zip(files: &[(&str, &[u8], u32)]) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data, mode) in files {
        let opts = zip::write::SimpleFileOptions::default().unix_permissions(*mode);
        z.start_file(*name, opts).unwrap();
        z.write_all(data).unwrap();
    }
    z.finish().unwrap().into_inner()
}

/// A small upstream-like tool archive under `prefix/`.
pub fn tool_tar_gz(prefix: &str, greeting: &str) -> Vec<u8> {
    let script = b"#!/bin/sh\nprintf '%s, %s!\\n' \"$(cat \"$1\")\" \"${2:-world}\"\n";
    gz(&tar(&[
        E::Dir(&format!("{prefix}/")),
        E::File(&format!("{prefix}/bin/greet"), script, 0o755),
        E::File(
            &format!("{prefix}/share/greeting.txt"),
            greeting.as_bytes(),
            0o644,
        ),
    ]))
}
