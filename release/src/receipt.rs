//! A host's receipt: what a host runs, written by kiln-fetch to
//! `<prefix>/<package>/hosts/<host>.json` after each install, rollback, follow poll or
//! failed health check (with `[receipts] enabled = true`), and read by `kiln status`.
//! Signed (beside it, `hosts/sig/<sha256>.sig`) when the host has a key; a receipt no
//! trusted host key signed is shown as unverified, never as proof of health.

use serde::{Deserialize, Serialize};

use crate::Digest;

pub const RECEIPT_SCHEMA: u32 = 1;

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    pub schema: u32,
    pub host: String,
    pub package: String,
    /// The build current on the host (none: not installed).
    pub build: Option<u64>,
    pub bundle_sha256: Option<Digest>,
    /// The channel the host follows and the pointer sequence it last accepted.
    pub channel: Option<String>,
    pub sequence: Option<u64>,
    /// When `build` became current (RFC 3339), when this receipt was written.
    pub since: Option<String>,
    pub checked_at: String,
    /// `installed`, `unchanged`, `rolled_back`, `removed` or `failed`.
    pub outcome: String,
    /// The build the host went back from, and why (a failed restart or health check,
    /// an operator's rollback).
    pub rolled_back_from: Option<u64>,
    pub reason: Option<String>,
}

impl Receipt {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = serde_json::to_vec_pretty(self).expect("serializable");
        b.push(b'\n');
        b
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Receipt, String> {
        let r: Receipt = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if r.schema != RECEIPT_SCHEMA {
            return Err(format!(
                "receipt schema {} (this kiln reads {RECEIPT_SCHEMA})",
                r.schema
            ));
        }
        Ok(r)
    }
}

/// `<package>/hosts/<host>.json`.
pub fn receipt_key(package: &str, host: &str) -> String {
    format!("{package}/hosts/{host}.json")
}

/// `<package>/hosts/sig/<sha256 of the receipt>.sig`.
pub fn receipt_signature_key(package: &str, receipt_sha256: &Digest) -> String {
    format!("{package}/hosts/sig/{}.sig", receipt_sha256.hex())
}

/// `<package>/hosts/`.
pub fn receipts_prefix(package: &str) -> String {
    format!("{package}/hosts/")
}
