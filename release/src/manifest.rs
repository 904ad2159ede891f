//! `MANIFEST.json`, the first entry of every bundle: what the bundle is and every file
//! it holds, so a host can verify an unpacked tree byte for byte.

use serde::{Deserialize, Serialize};

use crate::Digest;

pub const MANIFEST_PATH: &str = "MANIFEST.json";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Entry points are linked onto PATH.
    Tool,
    /// A supervised process, restarted when the bundle changes.
    Service,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<String>,
}

/// An external archive the bundle was built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Input {
    pub name: String,
    pub sha256: Digest,
}

/// One entry of the bundle. Regular files carry `sha256`; symlinks carry `target`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    pub path: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<Digest>,
    /// Unix permission bits: 0o644 or 0o755 for files, 0o777 for symlinks.
    pub mode: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub schema: u32,
    pub package: String,
    pub kind: Kind,
    pub binaries: Vec<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::fields::optional_object"
    )]
    pub service: Option<Service>,
    /// The Python (`3.11`) a bundle with py_binary binaries was built and tested
    /// against: the host's python3 runs them (kiln-fetch compares).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub python: Option<String>,
    #[serde(deserialize_with = "crate::fields::objects")]
    pub inputs: Vec<Input>,
    #[serde(deserialize_with = "crate::fields::objects")]
    pub files: Vec<FileEntry>,
}

impl Manifest {
    /// Canonical bytes: pretty JSON with a trailing newline, fields in declaration order.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).expect("manifest serializes");
        out.push(b'\n');
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Manifest, serde_json::Error> {
        serde_json::from_slice::<crate::fields::Object<Manifest>>(bytes).map(|o| o.0)
    }
}
