//! The hardened unpacker on arbitrary bytes: it may refuse, but it never panics and
//! never writes outside its target directory, within small limits.
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
    let _ = archive::unpack(&file, &out, None, limits);
    let _ = archive::unpack(&file, &out.join("stripped"), Some("a"), limits);
    for entry in std::fs::read_dir(dir.path()).expect("list") {
        let name = entry.expect("entry").file_name();
        assert!(
            name == "input" || name == "out",
            "wrote {name:?} outside the target"
        );
    }
});
