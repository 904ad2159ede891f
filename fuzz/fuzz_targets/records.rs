//! The contract's parsers: release records, channel pointers and their history, keys records,
//! manifests, signatures, digests and keys. Whatever parses must serialize back to
//! bytes that parse to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use release::{Channel, ChannelMove, KeysRecord, Manifest, Release, Signature};

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = Release::from_bytes(data) {
        assert_eq!(Release::from_bytes(&r.to_bytes()).unwrap(), r);
    }
    if let Ok(c) = Channel::from_bytes(data) {
        assert_eq!(Channel::from_bytes(&c.to_bytes()).unwrap(), c);
    }
    if let Ok(m) = ChannelMove::from_bytes(data) {
        assert_eq!(ChannelMove::from_bytes(&m.to_bytes()).unwrap(), m);
    }
    if let Ok(k) = KeysRecord::from_bytes(data) {
        assert_eq!(KeysRecord::from_bytes(&k.to_bytes()).unwrap(), k);
        let _ = k.keys_for("solr");
    }
    if let Ok(m) = Manifest::from_bytes(data) {
        assert_eq!(Manifest::from_bytes(&m.to_bytes()).unwrap(), m);
    }
    if let Ok(s) = Signature::from_bytes(data) {
        let key = release::SecretKey::from_seed([1; 32]);
        assert!(s.verify(data, &[key.public()]).is_err() || s.key_id == key.public().id());
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = text.parse::<release::Digest>();
        let _ = release::PublicKey::parse(text);
        let _ = release::SecretKey::parse(text);
        let _ = release::validate_package_name(text);
    }
});
