//! Standard Webhooks signing for the requests hookrelay delivers.
//!
//! A destination holds a `whsec_<base64>` secret. Each request carries
//! `webhook-id`, `webhook-timestamp` and `webhook-signature: v1,<base64>`
//! where the signature is HMAC-SHA256 of `{id}.{timestamp}.{body}` keyed by
//! the base64-decoded part of the secret. During rotation the header holds
//! one signature per active secret, separated by spaces, so receivers with
//! either secret accept the request. A destination may also sign with
//! Ed25519 (`v1a`, see `ed25519`); `signing_key::signature_header` takes
//! keys of either kind.
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use std::fmt;

use crate::error::SecretError;
use crate::mac::MacKey;
use crate::scheme::HmacAlgorithm;

const PREFIX: &str = "whsec_";

/// A destination's signing secret, parsed and keyed.
#[derive(Clone)]
pub struct WebhookSecret {
    key: MacKey,
    fingerprint: String,
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebhookSecret(<redacted> {})", self.fingerprint)
    }
}

/// The key bytes of a `whsec_` secret. The prefix is optional on input, as
/// in the official libraries.
pub(crate) fn decode_whsec(secret: &str, index: usize) -> Result<Vec<u8>, SecretError> {
    let encoded = secret.strip_prefix(PREFIX).unwrap_or(secret);
    if encoded.is_empty() {
        return Err(SecretError::NotWhsec { index });
    }
    let key = BASE64
        .decode(encoded)
        .map_err(|_| SecretError::BadBase64 { index })?;
    if key.is_empty() {
        return Err(SecretError::NotWhsec { index });
    }
    Ok(key)
}

impl WebhookSecret {
    /// Parses `whsec_<base64>`.
    pub fn parse(secret: &str) -> Result<Self, SecretError> {
        if !secret.starts_with(PREFIX) {
            return Err(SecretError::NotWhsec { index: 0 });
        }
        let key = decode_whsec(secret, 0)?;
        Ok(Self::from_key_bytes(&key))
    }

    /// A secret from raw key bytes (e.g. 24 random bytes for a new one).
    pub fn from_key_bytes(key: &[u8]) -> Self {
        use sha2::{Digest, Sha256};
        WebhookSecret {
            key: MacKey::new(HmacAlgorithm::Sha256, key),
            fingerprint: hex::encode(&Sha256::digest(key)[..crate::secret::FINGERPRINT_BYTES]),
        }
    }

    /// `whsec_` + base64 of `key`: how a new secret is shown to its owner.
    pub fn encode_key(key: &[u8]) -> String {
        format!("{PREFIX}{}", BASE64.encode(key))
    }

    /// `v1,<base64>` for one message.
    pub fn sign(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
        let timestamp = timestamp.to_string();
        let tag = self
            .key
            .tag(&[msg_id.as_bytes(), b".", timestamp.as_bytes(), b".", body]);
        format!("v1,{}", BASE64.encode(tag.as_bytes()))
    }

    /// A short label that tells secrets apart without revealing them.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_vector_from_the_standard_webhooks_spec() {
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            secret.sign(
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn secrets_without_prefix_or_with_bad_base64_are_refused() {
        assert_eq!(
            WebhookSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap_err(),
            SecretError::NotWhsec { index: 0 }
        );
        assert_eq!(
            WebhookSecret::parse("whsec_not base64!").unwrap_err(),
            SecretError::BadBase64 { index: 0 }
        );
        assert_eq!(
            WebhookSecret::parse("whsec_").unwrap_err(),
            SecretError::NotWhsec { index: 0 }
        );
    }

    #[test]
    fn debug_shows_a_fingerprint_not_the_key() {
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let printed = format!("{secret:?}");
        assert!(!printed.contains("MfKQ9r8G"), "{printed}");
        assert!(printed.contains(secret.fingerprint()));
    }

    #[test]
    fn encoded_keys_parse_back_to_the_same_signer() {
        let encoded = WebhookSecret::encode_key(&[7u8; 24]);
        let parsed = WebhookSecret::parse(&encoded).unwrap();
        let direct = WebhookSecret::from_key_bytes(&[7u8; 24]);
        assert_eq!(parsed.sign("m", 1, b"x"), direct.sign("m", 1, b"x"));
    }
}
