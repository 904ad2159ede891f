//! The hardened unpacker on arbitrary bytes: it may refuse, but it never panics, never
//! writes outside its target directory, and every symlink of a tree it accepts, as
//! the kernel resolves it (chains through the tree's other links included), stays
//! inside that tree; within small limits.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("input");
    std::fs::write(&file, data).expect("write input");
    let out = dir.path().join("out");
    std::fs::create_dir(&out).expect("out dir");
    let limits = archive::Limits {
        max_entries: 64,
        max_bytes: 1 << 20,
    };
    let stripped = out.join("stripped");
    for (dest, prefix) in [(&out, None), (&stripped, Some("a"))] {
        let _ = std::fs::create_dir(dest);
        let Ok(files) = archive::unpack(&file, dest, prefix, limits) else {
            continue;
        };
        let root = dest.canonicalize().expect("dest exists");
        for f in files {
            if let archive::TreeEntry::Symlink { target } = &f.entry
                && let Ok(real) = dest.join(&f.path).canonicalize()
            {
                assert!(
                    real.starts_with(&root),
                    "{} -> {target:?} resolves to {} outside the tree",
                    f.path,
                    real.display()
                );
            }
        }
    }
    for entry in std::fs::read_dir(dir.path()).expect("list") {
        let name = entry.expect("entry").file_name();
        assert!(
            name == "input" || name == "out",
            "wrote {name:?} outside the target"
        );
    }
});
