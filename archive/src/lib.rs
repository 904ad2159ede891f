//! Reading and writing archives safely, shared by `kiln` and `kiln-fetch`.
//! Packing is deterministic (same entries, same bytes); unpacking never writes outside
//! its destination, whatever the archive says.

mod gz;
mod pack;
mod path;
mod tarfmt;
mod unpack;

pub use gz::GZIP_FORMAT;
pub use pack::{PackEntry, PackSource, pack_tar_gz};
pub use path::normalize_entry_path;
pub use unpack::{
    Format, Limits, TreeEntry, TreeFile, UnpackError, read_first_entry, sniff_format, unpack,
};

#[cfg(test)]
mod tests {
    use super::*;
    use release::Digest;

    fn pack(entries: Vec<PackEntry>) -> Vec<u8> {
        let first = PackEntry {
            path: "MANIFEST.json".into(),
            executable: false,
            source: PackSource::Bytes(b"{}".to_vec()),
        };
        pack_tar_gz(Vec::new(), first, entries, 0).unwrap()
    }

    fn entries() -> Vec<PackEntry> {
        vec![
            PackEntry {
                path: "runfiles/z/long/".to_string() + &"n".repeat(120),
                executable: false,
                source: PackSource::Bytes(b"long".to_vec()),
            },
            PackEntry {
                path: "bin/tool".into(),
                executable: true,
                source: PackSource::Bytes(b"#!/bin/sh\n".to_vec()),
            },
            PackEntry {
                path: "runfiles/z/link".into(),
                executable: false,
                source: PackSource::Symlink("long".into()),
            },
        ]
    }

    #[test]
    fn packing_is_deterministic_and_unpacks_to_the_same_files() {
        let a = pack(entries());
        let mut reversed = entries();
        reversed.reverse();
        assert_eq!(a, pack(reversed), "input order does not matter");

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("b.tar.gz");
        std::fs::write(&file, &a).unwrap();
        std::fs::create_dir(dir.path().join("out")).unwrap();
        let files = unpack(&file, &dir.path().join("out"), None, Limits::UNBOUNDED).unwrap();
        let paths: Vec<_> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths[0], "MANIFEST.json");
        assert!(paths.contains(&"bin/tool"));
        let tool = files.iter().find(|f| f.path == "bin/tool").unwrap();
        assert_eq!(
            tool.entry,
            TreeEntry::File {
                size: 10,
                sha256: Digest::of_bytes(b"#!/bin/sh\n"),
                executable: true
            }
        );
        assert!(files.iter().any(|f| f.path.ends_with(&"n".repeat(120))));
    }

    #[test]
    fn a_file_that_changed_since_it_was_hashed_fails_the_pack() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("f");
        std::fs::write(&src, b"new").unwrap();
        let entry = PackEntry {
            path: "f".into(),
            executable: false,
            source: PackSource::File {
                path: src,
                size: 3,
                sha256: Digest::of_bytes(b"old"),
            },
        };
        let first = PackEntry {
            path: "MANIFEST.json".into(),
            executable: false,
            source: PackSource::Bytes(vec![]),
        };
        let err = pack_tar_gz(Vec::new(), first, vec![entry], 0).unwrap_err();
        assert!(
            err.to_string()
                .contains("changed while it was being packed"),
            "{err}"
        );
    }
}
