//! The contract shared by the builder (`kiln`) and the host fetcher (`kiln-fetch`):
//! digests, the bundle manifest, the release record, the channel pointer and the store
//! key layout. Pure: this crate never touches the disk or the network.

mod digest;
pub mod fields;
mod keys;
mod manifest;
mod path;
mod receipt;
mod record;
mod sign;

pub use digest::{Digest, DigestError, Hasher};
pub use keys::{
    KEYS_RECORD, bundle_key, cache_action_key, cache_blob_key, channel_history_key, channel_key,
    channel_sig_key, channels_prefix, keys_sig_key, package_prefix, parse_build_key, release_key,
    release_legacy_sig_key, release_sig_key, validate_package_name,
};
pub use manifest::{FileEntry, Input, Kind, MANIFEST_PATH, Manifest, Service};
pub use path::normalize_relative;
pub use receipt::{RECEIPT_SCHEMA, Receipt, receipt_key, receipt_signature_key, receipts_prefix};
pub use record::{BundleRef, Channel, ChannelMove, KeyGrant, KeysRecord, Release, Source};
pub use sign::{PublicKey, SecretKey, Signature, VerifyError, redact_secrets};

/// "did you mean X?" for the closest candidate, when one is close enough: for unknown
/// labels, archives, packages, builds' channels.
pub fn did_you_mean(wrong: &str, candidates: impl Iterator<Item = String>) -> Option<String> {
    let limit = (wrong.chars().count() / 3).max(2);
    candidates
        .map(|c| (strsim::levenshtein(wrong, &c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| format!("did you mean {c}?"))
}

/// The schema number written into every JSON record; bumped on incompatible change.
pub const SCHEMA: u32 = 1;
