//! The malicious-archive corpus (tests/corpus/unpack/, made by
//! make-unpack-corpus.py): every archive is refused by the shared unpacker, for the
//! reason cases.tsv names, and nothing is written outside the target directory.

use std::path::Path;

#[test]
fn every_malicious_archive_is_refused_and_nothing_escapes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/unpack");
    let index = std::fs::read_to_string(dir.join("cases.tsv")).unwrap();
    let limits = archive::Limits {
        max_entries: 100,
        max_bytes: 1 << 20,
    };
    let mut count = 0;
    for line in index.lines() {
        let (name, expect) = line.split_once('\t').unwrap();
        let parent = tempfile::tempdir().unwrap();
        let target = parent.path().join("a/b/out");
        std::fs::create_dir_all(&target).unwrap();
        let result = archive::unpack(&dir.join(name), &target, None, limits);
        let err = match result {
            Ok(files) => panic!("{name} was accepted: {files:?}"),
            Err(e) => e.to_string(),
        };
        assert!(
            err.contains(expect),
            "{name}: {err:?} does not say {expect:?}"
        );
        // Nothing beside or above the target.
        let around: Vec<_> = walk(parent.path())
            .into_iter()
            .filter(|p| {
                !p.starts_with(&target)
                    && p != &parent.path().join("a")
                    && p != &parent.path().join("a/b")
            })
            .collect();
        assert!(around.is_empty(), "{name} wrote {around:?}");
        assert!(!Path::new("/tmp/kiln-corpus-evil").exists(), "{name}");
        count += 1;
    }
    assert!(count >= 20, "the corpus has {count} archives");
}

#[test]
fn setuid_and_setgid_bits_are_dropped() {
    let tar = e2e::archives::tar(&[e2e::archives::E::File("tool", b"#!/bin/sh\n", 0o6755)]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.tar");
    std::fs::write(&file, tar).unwrap();
    std::fs::create_dir(dir.path().join("out")).unwrap();
    archive::unpack(
        &file,
        &dir.path().join("out"),
        None,
        archive::Limits::UNBOUNDED,
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.path().join("out/tool"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o7777, 0o755);
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if e.file_type().unwrap().is_dir() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}
