//! A destination's signing key of either kind: HMAC (`whsec_`, `v1`) or
//! Ed25519 (`whsk_`, `v1a`). The prefix says which.
use std::fmt;

use crate::ed25519::{Ed25519SigningKey, WebhookPublicKey, SECRET_KEY_PREFIX};
use crate::error::SecretError;
use crate::standard::WebhookSecret;

/// Which scheme a key signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningKeyKind {
    /// `whsec_`: HMAC-SHA256, `v1`.
    Hmac,
    /// `whsk_`: Ed25519, `v1a`.
    Ed25519,
}

impl SigningKeyKind {
    /// The kind a secret's prefix names, if any (without parsing it).
    pub fn of(secret: &str) -> Option<Self> {
        if secret.starts_with("whsec_") {
            Some(SigningKeyKind::Hmac)
        } else if secret.starts_with(SECRET_KEY_PREFIX) {
            Some(SigningKeyKind::Ed25519)
        } else {
            None
        }
    }

    /// The signature's version in `webhook-signature`.
    pub fn version(self) -> &'static str {
        match self {
            SigningKeyKind::Hmac => "v1",
            SigningKeyKind::Ed25519 => "v1a",
        }
    }
}

impl fmt::Display for SigningKeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SigningKeyKind::Hmac => "hmac",
            SigningKeyKind::Ed25519 => "ed25519",
        })
    }
}

/// One key that signs deliveries. Debug shows a fingerprint (HMAC) or the
/// public key (Ed25519), never the secret.
// The HMAC variant holds its keyed state inline (as `WebhookSecret` always
// has), so signing copies no pointer; a destination has a handful of keys.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum SigningKey {
    Hmac(WebhookSecret),
    Ed25519(Ed25519SigningKey),
}

impl SigningKey {
    /// Parses `whsec_…` or `whsk_…`.
    pub fn parse(secret: &str) -> Result<Self, SecretError> {
        match SigningKeyKind::of(secret) {
            Some(SigningKeyKind::Hmac) => WebhookSecret::parse(secret).map(SigningKey::Hmac),
            Some(SigningKeyKind::Ed25519) => {
                Ed25519SigningKey::parse(secret).map(SigningKey::Ed25519)
            }
            None => Err(SecretError::NotSigningKey { index: 0 }),
        }
    }

    pub fn kind(&self) -> SigningKeyKind {
        match self {
            SigningKey::Hmac(_) => SigningKeyKind::Hmac,
            SigningKey::Ed25519(_) => SigningKeyKind::Ed25519,
        }
    }

    /// `v1,<base64>` or `v1a,<base64>` for one message.
    pub fn sign(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
        match self {
            SigningKey::Hmac(key) => key.sign(msg_id, timestamp, body),
            SigningKey::Ed25519(key) => key.sign(msg_id, timestamp, body),
        }
    }

    /// The public key that verifies this key's signatures (Ed25519 only).
    pub fn public_key(&self) -> Option<&WebhookPublicKey> {
        match self {
            SigningKey::Hmac(_) => None,
            SigningKey::Ed25519(key) => Some(key.public_key()),
        }
    }
}

impl From<WebhookSecret> for SigningKey {
    fn from(key: WebhookSecret) -> Self {
        SigningKey::Hmac(key)
    }
}

/// The `webhook-signature` value for a message signed by every active
/// key (one during normal operation, two during a rotation's grace, or
/// one `v1` and one `v1a` for a destination that signs both ways), in
/// the order given.
pub fn signature_header(
    secrets: &[SigningKey],
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    secrets
        .iter()
        .map(|secret| secret.sign(msg_id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_header_carries_one_signature_per_secret() {
        let old = WebhookSecret::from_key_bytes(b"old key bytes");
        let new = WebhookSecret::from_key_bytes(b"new key bytes");
        let header = signature_header(
            &[SigningKey::Hmac(new.clone()), SigningKey::Hmac(old.clone())],
            "msg_1",
            10,
            b"{}",
        );
        let parts: Vec<_> = header.split(' ').collect();
        assert_eq!(
            parts,
            vec![new.sign("msg_1", 10, b"{}"), old.sign("msg_1", 10, b"{}")]
        );
        assert_ne!(parts[0], parts[1]);
    }

    #[test]
    fn the_prefix_picks_the_kind() {
        let hmac = SigningKey::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(hmac.kind(), SigningKeyKind::Hmac);
        assert!(hmac.public_key().is_none());
        assert!(hmac.sign("m", 1, b"x").starts_with("v1,"));
        let ed = SigningKey::parse(&Ed25519SigningKey::generate()).unwrap();
        assert_eq!(ed.kind(), SigningKeyKind::Ed25519);
        assert!(ed.public_key().is_some());
        assert!(ed.sign("m", 1, b"x").starts_with("v1a,"));
        for bad in [
            "",
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=",
        ] {
            assert_eq!(
                SigningKey::parse(bad).unwrap_err(),
                SecretError::NotSigningKey { index: 0 },
                "{bad}"
            );
        }
    }
}
