//! Ed25519 signing for the requests hookrelay delivers: Standard Webhooks'
//! asymmetric scheme, `v1a`.
//!
//! A destination may hold a `whsk_<base64>` secret key instead of (or
//! beside) a `whsec_` one. What is base64 after `whsk_` is the 32-byte seed
//! followed by the 32-byte public key, 64 bytes in all, as Svix's server
//! reads and writes it. Its public half is shown as `whpk_<base64 of the 32
//! bytes>`. The signed string is the same as for `v1`,
//! `{msg_id}.{timestamp}.{body}`, and the signature is carried as
//! `v1a,<base64 of the 64-byte signature>` in `webhook-signature`, beside
//! any `v1` ones.
//!
//! Ed25519 is deterministic: one key and one message always give the same
//! signature.
use aws_lc_rs::encoding::AsBigEndian;
use aws_lc_rs::signature::{self, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use base64::engine::general_purpose::{STANDARD as BASE64, URL_SAFE_NO_PAD as BASE64URL};
use base64::Engine;
use std::fmt;
use std::sync::Arc;

use crate::error::SecretError;

/// What a secret key starts with.
pub const SECRET_KEY_PREFIX: &str = "whsk_";
/// What a public key starts with.
pub const PUBLIC_KEY_PREFIX: &str = "whpk_";
const SEED_LEN: usize = 32;
const PUBLIC_LEN: usize = 32;
const SIGNATURE_LEN: usize = 64;

/// A destination's Ed25519 secret key, parsed.
#[derive(Clone)]
pub struct Ed25519SigningKey {
    pair: Arc<Ed25519KeyPair>,
    public: WebhookPublicKey,
}

/// Shows the public key only: the seed never leaves this type except as a
/// signature.
impl fmt::Debug for Ed25519SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ed25519SigningKey(<redacted> {})", self.public.encode())
    }
}

impl Ed25519SigningKey {
    /// Parses `whsk_<base64 of seed ‖ public key>`. The public half must be
    /// the seed's own (a key cut or pasted wrong is refused, not used).
    pub fn parse(secret: &str) -> Result<Self, SecretError> {
        let encoded = secret
            .strip_prefix(SECRET_KEY_PREFIX)
            .ok_or(SecretError::NotSigningKey { index: 0 })?;
        let bytes = BASE64
            .decode(encoded)
            .map_err(|_| SecretError::BadBase64 { index: 0 })?;
        if bytes.len() != SEED_LEN + PUBLIC_LEN {
            return Err(SecretError::BadKeyLength {
                index: 0,
                prefix: SECRET_KEY_PREFIX,
                expected: SEED_LEN + PUBLIC_LEN,
                len: bytes.len(),
            });
        }
        let (seed, public) = bytes.split_at(SEED_LEN);
        let pair = Ed25519KeyPair::from_seed_and_public_key(seed, public)
            .map_err(|_| SecretError::KeyPairMismatch { index: 0 })?;
        Ok(Self::from_pair(pair))
    }

    fn from_pair(pair: Ed25519KeyPair) -> Self {
        let mut public = [0u8; PUBLIC_LEN];
        public.copy_from_slice(pair.public_key().as_ref());
        Ed25519SigningKey {
            pair: Arc::new(pair),
            public: WebhookPublicKey { bytes: public },
        }
    }

    /// A new key from the operating system's random source, as its
    /// `whsk_` form (to store as a secret).
    pub fn generate() -> String {
        let pair = Ed25519KeyPair::generate().expect("operating system random source");
        let seed = pair
            .seed()
            .and_then(|seed| seed.as_be_bytes())
            .expect("a generated key has a seed");
        let mut bytes = seed.as_ref().to_vec();
        bytes.extend_from_slice(pair.public_key().as_ref());
        format!("{SECRET_KEY_PREFIX}{}", BASE64.encode(bytes))
    }

    /// `v1a,<base64>` for one message.
    pub fn sign(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
        let signed = signed_content(msg_id, timestamp, body);
        let signature = self.pair.sign(&signed);
        format!("v1a,{}", BASE64.encode(signature.as_ref()))
    }

    /// The key that verifies this one's signatures.
    pub fn public_key(&self) -> &WebhookPublicKey {
        &self.public
    }
}

/// `{msg_id}.{timestamp}.{body}`, the bytes `v1` and `v1a` both sign.
fn signed_content(msg_id: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    let timestamp = timestamp.to_string();
    let mut signed = Vec::with_capacity(msg_id.len() + timestamp.len() + body.len() + 2);
    signed.extend_from_slice(msg_id.as_bytes());
    signed.push(b'.');
    signed.extend_from_slice(timestamp.as_bytes());
    signed.push(b'.');
    signed.extend_from_slice(body);
    signed
}

/// An Ed25519 public key, as published: `whpk_<base64>`, or a JWK.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct WebhookPublicKey {
    bytes: [u8; PUBLIC_LEN],
}

impl fmt::Debug for WebhookPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebhookPublicKey({})", self.encode())
    }
}

impl fmt::Display for WebhookPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

impl WebhookPublicKey {
    /// Parses `whpk_<base64 of 32 bytes>`.
    pub fn parse(key: &str) -> Result<Self, SecretError> {
        let encoded = key
            .strip_prefix(PUBLIC_KEY_PREFIX)
            .ok_or(SecretError::BadPublicKey {
                index: 0,
                expected: "whpk_ followed by base64 of an Ed25519 public key",
            })?;
        let decoded = BASE64
            .decode(encoded)
            .map_err(|_| SecretError::BadBase64 { index: 0 })?;
        let bytes: [u8; PUBLIC_LEN] =
            decoded
                .as_slice()
                .try_into()
                .map_err(|_| SecretError::BadKeyLength {
                    index: 0,
                    prefix: PUBLIC_KEY_PREFIX,
                    expected: PUBLIC_LEN,
                    len: decoded.len(),
                })?;
        Ok(WebhookPublicKey { bytes })
    }

    /// `whpk_<base64>`.
    pub fn encode(&self) -> String {
        format!("{PUBLIC_KEY_PREFIX}{}", BASE64.encode(self.bytes))
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; PUBLIC_LEN] {
        &self.bytes
    }

    /// A key id for JWKS `kid` and listings: the first 64 bits of SHA-256
    /// of the public key, in hex. Derived from the key alone, so every
    /// reader computes the same one.
    pub fn kid(&self) -> String {
        use sha2::{Digest, Sha256};
        hex::encode(&Sha256::digest(self.bytes)[..crate::secret::FINGERPRINT_BYTES])
    }

    /// The JWK `x` member (RFC 8037): base64url of the key, unpadded.
    pub fn jwk_x(&self) -> String {
        BASE64URL.encode(self.bytes)
    }

    /// Whether any `v1a` signature in a `webhook-signature` value is this
    /// key's over the message. Other entries (`v1`, unknown versions) are
    /// passed over.
    pub fn verifies(&self, header: &str, msg_id: &str, timestamp: i64, body: &[u8]) -> bool {
        let signed = signed_content(msg_id, timestamp, body);
        let key = UnparsedPublicKey::new(&signature::ED25519, &self.bytes);
        header
            .split(' ')
            .filter_map(|entry| entry.strip_prefix("v1a,"))
            .filter_map(|encoded| BASE64.decode(encoded).ok())
            .filter(|signature| signature.len() == SIGNATURE_LEN)
            .any(|signature| key.verify(&signed, &signature).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Svix's server signs with this key in its own test of `v1a`
    /// (server/svix-server/src/worker.rs, test_asymmetric_key_signing),
    /// and the Standard Webhooks spec shows the resulting header.
    const SVIX_SECRET_KEY: &str =
        "whsk_6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kvg==";
    const SVIX_PUBLIC_KEY: &str = "whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=";
    const SVIX_SIGNATURE: &str =
        "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg==";

    #[test]
    fn svix_reference_vector() {
        let key = Ed25519SigningKey::parse(SVIX_SECRET_KEY).unwrap();
        assert_eq!(key.public_key().encode(), SVIX_PUBLIC_KEY);
        let signature = key.sign(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(signature, SVIX_SIGNATURE);
    }

    /// Made with Python's `cryptography` (OpenSSL's Ed25519), an
    /// implementation independent of ours: seed = SHA-256("hookrelay v1a
    /// test vector").
    #[test]
    fn independent_implementation_vector() {
        let key = Ed25519SigningKey::parse(
            "whsk_qEiORqkjyiU6qdxNUnrq5cNLlWbu0vhnDSyvFl8xihv+ZEMfDgxbIdTsThhKtREd1JeOfIq0sXGRuFUklrgwJg==",
        )
        .unwrap();
        assert_eq!(
            key.public_key().encode(),
            "whpk_/mRDHw4MWyHU7E4YSrURHdSXjnyKtLFxkbhVJJa4MCY="
        );
        assert_eq!(
            key.sign(
                "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
                1674087231,
                br#"{"type":"contact.created"}"#
            ),
            "v1a,kKFnO3x3jQuWQ8DHno7S7Jbwn6TYjuxC+PooO7RdwCau26vuT6rkEe6Xr8LkDzLNANrOeD11tGSSV9unud98AQ=="
        );
    }

    #[test]
    fn a_public_key_verifies_its_own_signatures_only() {
        let public = WebhookPublicKey::parse(SVIX_PUBLIC_KEY).unwrap();
        let body = br#"{"test": 2432232314}"#;
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        assert!(public.verifies(SVIX_SIGNATURE, id, 1614265330, body));
        // Among other entries, in any order.
        let mixed = format!("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= {SVIX_SIGNATURE}");
        assert!(public.verifies(&mixed, id, 1614265330, body));
        // Anything else signed, or another key: no.
        assert!(!public.verifies(SVIX_SIGNATURE, id, 1614265331, body));
        assert!(!public.verifies(SVIX_SIGNATURE, "msg_other", 1614265330, body));
        assert!(!public.verifies(SVIX_SIGNATURE, id, 1614265330, b"{}"));
        let other = Ed25519SigningKey::parse(&Ed25519SigningKey::generate()).unwrap();
        assert!(!other
            .public_key()
            .verifies(SVIX_SIGNATURE, id, 1614265330, body));
        // A v1 entry is never read as v1a.
        assert!(!public.verifies(
            &SVIX_SIGNATURE.replacen("v1a,", "v1,", 1),
            id,
            1614265330,
            body
        ));
    }

    #[test]
    fn generated_keys_parse_and_sign_verifiably() {
        let a = Ed25519SigningKey::generate();
        let b = Ed25519SigningKey::generate();
        assert_ne!(a, b);
        assert!(a.starts_with(SECRET_KEY_PREFIX));
        let key = Ed25519SigningKey::parse(&a).unwrap();
        let header = key.sign("msg_1", 10, b"body");
        assert!(key.public_key().verifies(&header, "msg_1", 10, b"body"));
        // Deterministic.
        assert_eq!(header, key.sign("msg_1", 10, b"body"));
        let public = WebhookPublicKey::parse(&key.public_key().encode()).unwrap();
        assert_eq!(&public, key.public_key());
    }

    #[test]
    fn bad_prefixes_lengths_and_mismatched_halves_are_refused() {
        let encoded = SVIX_SECRET_KEY.strip_prefix(SECRET_KEY_PREFIX).unwrap();
        assert_eq!(
            Ed25519SigningKey::parse(&format!("whsec_{encoded}")).unwrap_err(),
            SecretError::NotSigningKey { index: 0 }
        );
        assert_eq!(
            Ed25519SigningKey::parse("whsk_not base64!").unwrap_err(),
            SecretError::BadBase64 { index: 0 }
        );
        // The seed alone (32 bytes): refused, the public half is required.
        let bytes = BASE64.decode(encoded).unwrap();
        let seed_only = format!("whsk_{}", BASE64.encode(&bytes[..32]));
        assert_eq!(
            Ed25519SigningKey::parse(&seed_only).unwrap_err(),
            SecretError::BadKeyLength {
                index: 0,
                prefix: SECRET_KEY_PREFIX,
                expected: 64,
                len: 32
            }
        );
        // A public half that is not the seed's.
        let mut wrong = bytes.clone();
        wrong[40] ^= 1;
        assert_eq!(
            Ed25519SigningKey::parse(&format!("whsk_{}", BASE64.encode(&wrong))).unwrap_err(),
            SecretError::KeyPairMismatch { index: 0 }
        );
        assert!(matches!(
            WebhookPublicKey::parse("whpk_AAAA").unwrap_err(),
            SecretError::BadKeyLength { len: 3, .. }
        ));
        assert!(matches!(
            WebhookPublicKey::parse(SVIX_SECRET_KEY).unwrap_err(),
            SecretError::BadPublicKey { .. }
        ));
    }

    #[test]
    fn debug_and_errors_never_show_the_secret_key() {
        let key = Ed25519SigningKey::parse(SVIX_SECRET_KEY).unwrap();
        let printed = format!("{key:?}");
        let encoded = SVIX_SECRET_KEY.strip_prefix(SECRET_KEY_PREFIX).unwrap();
        assert!(!printed.contains(&encoded[..12]), "{printed}");
        assert!(printed.contains(SVIX_PUBLIC_KEY), "{printed}");
        let mut wrong = BASE64.decode(encoded).unwrap();
        wrong[40] ^= 1;
        let error = Ed25519SigningKey::parse(&format!("whsk_{}", BASE64.encode(&wrong)))
            .unwrap_err()
            .to_string();
        assert!(!error.contains(&encoded[..12]), "{error}");
    }

    #[test]
    fn jwk_members_and_kid() {
        let public = WebhookPublicKey::parse(SVIX_PUBLIC_KEY).unwrap();
        // base64url, no padding, of the same 32 bytes.
        let x = public.jwk_x();
        assert!(!x.contains('=') && !x.contains('+') && !x.contains('/'));
        assert_eq!(BASE64URL.decode(&x).unwrap(), public.as_bytes());
        assert_eq!(public.kid().len(), 16);
        let other = Ed25519SigningKey::parse(&Ed25519SigningKey::generate()).unwrap();
        assert_ne!(public.kid(), other.public_key().kid());
    }
}
