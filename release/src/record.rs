//! The release record (`<package>/<build>/release.json`) and the channel pointer
//! (`<package>/channels/<channel>.json`).

use serde::{Deserialize, Serialize};

use crate::Digest;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleRef {
    pub sha256: Digest,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The VCS commit the workspace was at, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The workspace name from WORKSPACE.toml.
    pub workspace: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Release {
    pub schema: u32,
    pub package: String,
    pub build: u64,
    #[serde(deserialize_with = "crate::fields::object")]
    pub bundle: BundleRef,
    pub manifest_sha256: Digest,
    #[serde(deserialize_with = "crate::fields::object")]
    pub source: Source,
    /// RFC 3339, UTC.
    pub built_at: String,
    /// The program that wrote the record, e.g. `kiln 0.1.0`.
    pub builder: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Channel {
    pub schema: u32,
    pub package: String,
    pub channel: String,
    pub build: u64,
    pub bundle_sha256: Digest,
    /// Grows by one with every move; hosts refuse a pointer older than one they saw.
    pub sequence: u64,
    /// RFC 3339, UTC.
    pub updated_at: String,
    /// RFC 3339, UTC: hosts refuse to follow the pointer after this (a frozen channel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

/// One move of a channel: the audit log of why each host runs what it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelMove {
    pub schema: u32,
    pub package: String,
    pub channel: String,
    pub sequence: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<u64>,
    pub to: u64,
    pub bundle_sha256: Digest,
    /// Who moved it: `$KILN_ACTOR`, else user@host.
    pub by: String,
    /// RFC 3339, UTC.
    pub at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The sha256 of the previous entry's exact bytes (none for sequence 1): the
    /// history is a hash chain, so a deleted, edited or reordered entry shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev_sha256: Option<Digest>,
}

/// `<prefix>/keys.json` (+ `keys.json.sig`, by a root key): which release keys may sign
/// which packages. Hosts that pin only the root learn the release keys from it, so a
/// rotation or a revocation is one new, higher `version` signed by the root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysRecord {
    pub schema: u32,
    /// Grows with every new keys record; hosts refuse a lower one than they have seen.
    pub version: u64,
    /// RFC 3339; hosts refuse the record after it (a frozen keys record).
    pub expires: String,
    pub keys: Vec<KeyGrant>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyGrant {
    /// `kiln-ed25519:<base64>`.
    pub key: String,
    /// Package names this key may sign, or `["*"]` for every package.
    pub packages: Vec<String>,
}

impl KeysRecord {
    /// The keys this record lets sign `package`'s releases and pointers.
    pub fn keys_for(&self, package: &str) -> Vec<crate::PublicKey> {
        self.keys
            .iter()
            .filter(|g| g.packages.iter().any(|p| p == "*" || p == package))
            .filter_map(|g| crate::PublicKey::parse(&g.key).ok())
            .collect()
    }
}

macro_rules! json_bytes {
    ($t:ty) => {
        impl $t {
            /// Canonical bytes: pretty JSON with a trailing newline. Signatures cover these.
            pub fn to_bytes(&self) -> Vec<u8> {
                let mut out = serde_json::to_vec_pretty(self).expect("record serializes");
                out.push(b'\n');
                out
            }

            pub fn from_bytes(bytes: &[u8]) -> Result<$t, serde_json::Error> {
                serde_json::from_slice::<crate::fields::Object<$t>>(bytes).map(|o| o.0)
            }
        }
    };
}

json_bytes!(Release);
json_bytes!(Channel);
json_bytes!(ChannelMove);
json_bytes!(KeysRecord);
