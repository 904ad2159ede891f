//! The store key layout, computed here and nowhere else. Keys are relative to the
//! store's prefix and always use `/`.

/// Package and channel names: what may appear as one key segment.
pub fn validate_package_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not a valid name: use letters, digits, '.', '_' and '-', starting with a letter or digit"
        ))
    }
}

pub fn package_prefix(package: &str) -> String {
    format!("{package}/")
}

pub fn bundle_key(package: &str, build: u64) -> String {
    format!("{package}/{build}/bundle.tar.gz")
}

pub fn release_key(package: &str, build: u64) -> String {
    format!("{package}/{build}/release.json")
}

pub fn channel_key(package: &str, channel: &str) -> String {
    format!("{package}/channels/{channel}.json")
}

/// The detached signature of a release record, named by the sha256 of the record's
/// bytes (as pointers' are): two publishers racing for one build number each write
/// their own, never replacing another's, and the record that wins finds its own.
pub fn release_sig_key(package: &str, build: u64, record_sha256: &crate::Digest) -> String {
    format!("{package}/{build}/sig/{}.sig", record_sha256.hex())
}

/// Where stores written before digest-named signatures keep a release record's.
pub fn release_legacy_sig_key(package: &str, build: u64) -> String {
    format!("{package}/{build}/release.json.sig")
}

/// The detached signature of one channel pointer, named by the sha256 of the pointer's
/// bytes: written before the pointer moves, never overwritten, so a host always finds
/// the signature of the exact pointer it read.
pub fn channel_sig_key(package: &str, channel: &str, pointer_sha256: &crate::Digest) -> String {
    format!("{package}/channels/{channel}/sig/{pointer_sha256}.sig")
}

/// One move of a channel, written once the pointer moved: `<package>/channels/<channel>/history/<sequence>.json`
/// (sequence zero-padded so keys sort in order).
pub fn channel_history_key(package: &str, channel: &str, sequence: u64) -> String {
    format!("{package}/channels/{channel}/history/{sequence:012}.json")
}

/// The keys record, at the store's root (its prefix).
pub const KEYS_RECORD: &str = "keys.json";

/// The root's signature of one keys record, named by the sha256 of its bytes (as a
/// channel pointer's is), so a host never pairs a record with another's signature.
pub fn keys_sig_key(record_sha256: &crate::Digest) -> String {
    format!("keys/sig/{}.sig", record_sha256.hex())
}

/// The prefix under which every channel pointer of a package lives.
pub fn channels_prefix(package: &str) -> String {
    format!("{package}/channels/")
}

/// Remote build cache: an action key's record.
pub fn cache_action_key(key: &crate::Digest) -> String {
    format!("ac/{key}")
}

/// Remote build cache: a blob by its sha256.
pub fn cache_blob_key(sha256: &crate::Digest) -> String {
    format!("cas/sha256/{sha256}")
}

/// The build number of a `<package>/<build>/release.json` key, if it is one.
pub fn parse_build_key(package: &str, key: &str) -> Option<u64> {
    let rest = key.strip_prefix(package)?.strip_prefix('/')?;
    let build = rest.strip_suffix("/release.json")?;
    if build.starts_with('0') {
        return None;
    }
    build.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_the_design() {
        assert_eq!(bundle_key("solr", 42), "solr/42/bundle.tar.gz");
        assert_eq!(release_key("solr", 42), "solr/42/release.json");
        assert_eq!(channel_key("solr", "prod"), "solr/channels/prod.json");
        assert_eq!(
            channel_history_key("solr", "prod", 7),
            "solr/channels/prod/history/000000000007.json"
        );
        assert_eq!(parse_build_key("solr", "solr/42/release.json"), Some(42));
        assert_eq!(parse_build_key("solr", "solr/042/release.json"), None);
        assert_eq!(parse_build_key("solr", "solr/42/bundle.tar.gz"), None);
        assert_eq!(parse_build_key("solr", "solrx/42/release.json"), None);
    }

    #[test]
    fn names_are_single_safe_segments() {
        assert!(validate_package_name("solr-6.3_x").is_ok());
        for bad in ["", "../x", "a/b", ".hidden", "-x", "a b"] {
            assert!(validate_package_name(bad).is_err(), "{bad}");
        }
    }
}
