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

/// CPython's tarfile test archive (Debian's libpython3.11-testsuite; ci/test installs
/// it): every member kiln accepts extracts exactly as GNU tar extracts it (name,
/// content, mode as kiln normalizes it, link target), and every member it refuses is
/// refused for a reason that names the format, never as "corrupt".
#[test]
fn cpythons_test_archive_extracts_as_gnu_tar_does_or_is_refused_by_name() {
    let testtar = Path::new("/usr/lib/python3.11/test/testtar.tar");
    assert!(
        testtar.is_file(),
        "{} is missing: install Debian's libpython3.11-testsuite (ci/test does)",
        testtar.display()
    );
    let raw = std::fs::read(testtar).unwrap();
    // Where each member starts (its first extended header included), from tarfile.
    let list = e2e::sh(
        &format!(
            "python3 -c 'import tarfile, json; t = tarfile.open(\"{}\"); m = t.getmembers(); print(json.dumps([x.offset for x in m] + [t.offset]))'",
            testtar.display()
        ),
        Path::new("/"),
    );
    let offsets: Vec<usize> = serde_json::from_str(list.stdout.trim()).expect(&list.stderr);
    assert!(offsets.len() > 30, "{offsets:?}");
    let dir = tempfile::tempdir().unwrap();
    let archive_of = |chunks: &[&[u8]], name: &str| {
        let mut bytes: Vec<u8> = chunks.concat();
        bytes.extend_from_slice(&[0u8; 1024]);
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    // Members one at a time, after all those already accepted (hard links need theirs).
    let mut accepted: Vec<&[u8]> = Vec::new();
    let mut refused = Vec::new();
    for (i, w) in offsets.windows(2).enumerate() {
        let chunk = &raw[w[0]..w[1]];
        let mut candidate = accepted.clone();
        candidate.push(chunk);
        let file = archive_of(&candidate, &format!("candidate-{i}.tar"));
        let out = dir.path().join(format!("try-{i}"));
        std::fs::create_dir(&out).unwrap();
        match archive::unpack(&file, &out, None, archive::Limits::UNBOUNDED) {
            Ok(_) => accepted.push(chunk),
            Err(e) => refused.push(e.to_string()),
        }
    }
    for why in &refused {
        assert!(!why.contains("corrupt"), "refused as corrupt: {why}");
        let named = [
            "device entries are not allowed",
            "fifo entries are not allowed",
            "is not valid UTF-8",
            "old signed checksum",
            "a directory entry with a non-zero size",
        ];
        assert!(
            named.iter().any(|n| why.contains(n)),
            "unexplained refusal: {why}"
        );
    }
    assert_eq!(refused.len(), 9, "{refused:#?}");

    let all = archive_of(&accepted, "accepted.tar");
    let (ours, gnu) = (dir.path().join("kiln"), dir.path().join("gnu"));
    std::fs::create_dir(&ours).unwrap();
    std::fs::create_dir(&gnu).unwrap();
    archive::unpack(&all, &ours, None, archive::Limits::UNBOUNDED).unwrap();
    let tar = e2e::sh(
        &format!(
            "tar -xf '{}' -C '{}' --no-same-owner",
            all.display(),
            gnu.display()
        ),
        Path::new("/"),
    );
    assert_eq!(tar.code, 0, "GNU tar: {}", tar.stderr);
    let (a, b) = (describe_tree(&ours), describe_tree(&gnu));
    let (a, b): (
        std::collections::BTreeMap<_, _>,
        std::collections::BTreeMap<_, _>,
    ) = (a.into_iter().collect(), b.into_iter().collect());
    let only = |x: &std::collections::BTreeMap<String, String>,
                y: &std::collections::BTreeMap<String, String>| {
        x.keys()
            .filter(|k| !y.contains_key(*k))
            .map(|k| k.chars().take(80).collect::<String>())
            .collect::<Vec<_>>()
    };
    assert!(only(&a, &b).is_empty(), "only kiln has {:?}", only(&a, &b));
    assert!(
        only(&b, &a).is_empty(),
        "only GNU tar has {:?}",
        only(&b, &a)
    );
    for (path, ours) in &a {
        assert_eq!(ours, &b[path], "{path}");
    }
    // The sparse files of every flavour are there, whole.
    for f in [
        "gnu/sparse",
        "gnu/sparse-0.0",
        "gnu/sparse-0.1",
        "gnu/sparse-1.0",
        "ustar/sparse",
    ] {
        assert_eq!(std::fs::metadata(ours.join(f)).unwrap().len(), 86016, "{f}");
    }
    assert!(ours.join("misc/regtype-suntar").is_file());
}

/// Every path below `root` with what it is: file content digest and normalized mode,
/// link target, or directory.
fn describe_tree(root: &Path) -> Vec<(String, String)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out: Vec<(String, String)> = walk(root)
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let m = std::fs::symlink_metadata(&p).unwrap();
            let what = if m.file_type().is_symlink() {
                format!("-> {}", std::fs::read_link(&p).unwrap().display())
            } else if m.is_dir() {
                "dir".to_string()
            } else {
                let mode = if m.permissions().mode() & 0o111 != 0 {
                    0o755
                } else {
                    0o644
                };
                format!(
                    "{:o} {}",
                    mode,
                    e2e::sha256_hex(&std::fs::read(&p).unwrap())
                )
            };
            (rel, what)
        })
        .collect();
    out.sort();
    out
}
