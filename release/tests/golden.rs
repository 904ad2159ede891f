//! The contract's formats, pinned as golden files: a change to a record's shape shows
//! up here as a diff in review. Each golden file must parse and re-serialize to the
//! very same bytes (the bytes signatures will cover).

use release::{Channel, ChannelMove, KeysRecord, Manifest, Release};

fn golden(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/golden/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn release_record_round_trips() {
    let bytes = golden("release.json");
    let r = Release::from_bytes(&bytes).unwrap();
    assert_eq!(r.build, 42);
    assert_eq!(
        String::from_utf8(r.to_bytes()).unwrap(),
        String::from_utf8(bytes).unwrap()
    );
}

#[test]
fn channel_pointer_round_trips() {
    let bytes = golden("channel.json");
    let c = Channel::from_bytes(&bytes).unwrap();
    assert_eq!((c.build, c.sequence), (42, 7));
    assert_eq!(
        String::from_utf8(c.to_bytes()).unwrap(),
        String::from_utf8(bytes).unwrap()
    );
}

#[test]
fn history_entry_round_trips_and_chains() {
    let bytes = golden("history.json");
    let m = ChannelMove::from_bytes(&bytes).unwrap();
    assert_eq!((m.sequence, m.from, m.to), (8, Some(41), 42));
    assert!(
        m.prev_sha256.is_some(),
        "each entry names the one before it"
    );
    assert_eq!(
        String::from_utf8(m.to_bytes()).unwrap(),
        String::from_utf8(bytes).unwrap()
    );
}

#[test]
fn keys_record_round_trips_and_scopes_keys() {
    let bytes = golden("keys.json");
    let k = KeysRecord::from_bytes(&bytes).unwrap();
    assert_eq!(k.version, 3);
    assert_eq!(
        k.keys_for("solr").len(),
        2,
        "the wildcard key and the scoped one"
    );
    assert_eq!(k.keys_for("other").len(), 1, "only the wildcard key");
    assert_eq!(
        String::from_utf8(k.to_bytes()).unwrap(),
        String::from_utf8(bytes).unwrap()
    );
}

#[test]
fn manifest_round_trips() {
    let bytes = golden("manifest.json");
    let m = Manifest::from_bytes(&bytes).unwrap();
    assert_eq!(m.files.len(), 3);
    assert_eq!(
        String::from_utf8(m.to_bytes()).unwrap(),
        String::from_utf8(bytes).unwrap()
    );
}

#[test]
fn unknown_fields_and_bad_digests_are_refused() {
    let bytes = String::from_utf8(golden("release.json")).unwrap();
    let extra = bytes.replacen("{", "{\n  \"surprise\": 1,", 1);
    assert!(Release::from_bytes(extra.as_bytes()).is_err());
    let short = bytes.replacen("\"sha256\": \"", "\"sha256\": \"0", 1);
    assert!(Release::from_bytes(short.as_bytes()).is_err());
}
