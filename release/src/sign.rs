//! Signatures over the exact bytes of a record (release.json, a channel pointer):
//! ed25519 keys written as one line, `kiln-ed25519:<base64>` for a public key and
//! `kiln-ed25519-secret:<base64 seed>` for a secret one, and a detached signature
//! envelope naming the key that made it. Pure: generating the seed is the caller's job.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signer, Verifier};
use serde::{Deserialize, Serialize};

use crate::Digest;

const PUBLIC_PREFIX: &str = "kiln-ed25519:";
const SECRET_PREFIX: &str = "kiln-ed25519-secret:";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey(ed25519_dalek::VerifyingKey);

pub struct SecretKey(ed25519_dalek::SigningKey);

/// A detached signature: `<record>.sig`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signature {
    pub schema: u32,
    pub algorithm: String,
    /// The signing key's id (see [`PublicKey::id`]).
    pub key_id: String,
    /// Base64 of the 64-byte ed25519 signature.
    pub signature: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    /// Signed by a key that is not trusted.
    Untrusted { key_id: String },
    /// Signed by a trusted key, but not over these bytes.
    Mismatch { key_id: String },
    /// Not a signature kiln can read.
    Malformed(String),
}

impl std::fmt::Display for VerifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VerifyError::Untrusted { key_id } => {
                write!(
                    f,
                    "signed by key {key_id}, which is not among the trusted keys"
                )
            }
            VerifyError::Mismatch { key_id } => write!(
                f,
                "the signature by key {key_id} does not match the record's bytes (edited after signing)"
            ),
            VerifyError::Malformed(why) => write!(f, "unreadable signature: {why}"),
        }
    }
}

/// `text` with every secret key in it (`kiln-ed25519-secret:` and what follows)
/// replaced: the last line of defence for error messages that quote input, such as a
/// parser's "invalid type: string ..." for a key pasted into the wrong field.
pub fn redact_secrets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(SECRET_PREFIX) {
        out.push_str(&rest[..i + SECRET_PREFIX.len()]);
        out.push_str("<redacted>");
        rest = &rest[i + SECRET_PREFIX.len()..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')))
            .unwrap_or(rest.len());
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

impl PublicKey {
    pub fn parse(line: &str) -> Result<PublicKey, String> {
        let b64 = line
            .trim()
            .strip_prefix(PUBLIC_PREFIX)
            .ok_or_else(|| format!("a public key starts with {PUBLIC_PREFIX:?}"))?;
        let bytes: [u8; 32] = B64
            .decode(b64)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or("a public key is 32 bytes of base64")?;
        ed25519_dalek::VerifyingKey::from_bytes(&bytes)
            .map(PublicKey)
            .map_err(|e| format!("not an ed25519 public key: {e}"))
    }

    /// Short and stable: the first 8 bytes of the key's sha256, in hex.
    pub fn id(&self) -> String {
        Digest::of_bytes(self.0.as_bytes()).hex()[..16].to_string()
    }
}

impl std::fmt::Display for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{PUBLIC_PREFIX}{}", B64.encode(self.0.as_bytes()))
    }
}

impl SecretKey {
    pub fn from_seed(seed: [u8; 32]) -> SecretKey {
        SecretKey(ed25519_dalek::SigningKey::from_bytes(&seed))
    }

    pub fn parse(text: &str) -> Result<SecretKey, String> {
        let b64 = text
            .trim()
            .strip_prefix(SECRET_PREFIX)
            .ok_or_else(|| format!("a secret key starts with {SECRET_PREFIX:?}"))?;
        let seed: [u8; 32] = B64
            .decode(b64)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or("a secret key is 32 bytes of base64")?;
        Ok(SecretKey::from_seed(seed))
    }

    /// The one-line text of the secret key file.
    pub fn to_text(&self) -> String {
        format!("{SECRET_PREFIX}{}\n", B64.encode(self.0.to_bytes()))
    }

    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    pub fn sign(&self, bytes: &[u8]) -> Signature {
        Signature {
            schema: crate::SCHEMA,
            algorithm: "ed25519".into(),
            key_id: self.public().id(),
            signature: B64.encode(self.0.sign(bytes).to_bytes()),
        }
    }
}

impl Signature {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).expect("serializable");
        out.push(b'\n');
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Signature, VerifyError> {
        serde_json::from_slice::<crate::fields::Object<Signature>>(bytes)
            .map(|o| o.0)
            .map_err(|e| VerifyError::Malformed(e.to_string()))
    }

    /// Check the signature covers `bytes` and was made by one of `trusted`. Returns the
    /// id of the key that made it.
    pub fn verify(&self, bytes: &[u8], trusted: &[PublicKey]) -> Result<String, VerifyError> {
        if self.algorithm != "ed25519" {
            return Err(VerifyError::Malformed(format!(
                "algorithm {:?}",
                self.algorithm
            )));
        }
        let key = trusted
            .iter()
            .find(|k| k.id() == self.key_id)
            .ok_or_else(|| VerifyError::Untrusted {
                key_id: self.key_id.clone(),
            })?;
        let raw: [u8; 64] = B64
            .decode(&self.signature)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| VerifyError::Malformed("not 64 bytes of base64".into()))?;
        key.0
            .verify(bytes, &ed25519_dalek::Signature::from_bytes(&raw))
            .map_err(|_| VerifyError::Mismatch {
                key_id: self.key_id.clone(),
            })?;
        Ok(self.key_id.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_from_text() {
        let k = SecretKey::from_seed([5; 32]).to_text();
        let text = format!("invalid type: string \"{}\", expected a sequence", k.trim());
        let red = redact_secrets(&text);
        assert!(!red.contains(&k.trim()[SECRET_PREFIX.len()..]), "{red}");
        assert!(
            red.contains("kiln-ed25519-secret:<redacted>\", expected"),
            "{red}"
        );
        assert_eq!(redact_secrets("nothing here"), "nothing here");
    }

    #[test]
    fn sign_verify_and_refuse() {
        let a = SecretKey::from_seed([7; 32]);
        let b = SecretKey::from_seed([9; 32]);
        let text = a.to_text();
        let a2 = SecretKey::parse(&text).unwrap();
        assert_eq!(a2.public(), a.public());
        let public = PublicKey::parse(&a.public().to_string()).unwrap();
        let sig = a.sign(b"record");
        let sig = Signature::from_bytes(&sig.to_bytes()).unwrap();
        assert_eq!(
            sig.verify(b"record", std::slice::from_ref(&public))
                .unwrap(),
            a.public().id()
        );
        assert!(matches!(
            sig.verify(b"recorD", std::slice::from_ref(&public)),
            Err(VerifyError::Mismatch { .. })
        ));
        assert!(matches!(
            sig.verify(b"record", &[b.public()]),
            Err(VerifyError::Untrusted { .. })
        ));
        // Rotation: any trusted key will do.
        assert!(sig.verify(b"record", &[b.public(), public]).is_ok());
        assert!(PublicKey::parse("kiln-ed25519:AAAA").is_err());
        assert!(SecretKey::parse(&a.public().to_string()).is_err());
    }
}
