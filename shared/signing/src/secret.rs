//! A secret that never shows itself in `Debug` output or logs.
use serde::{Deserialize, Serialize};
use std::fmt;

/// Bytes of SHA-256 a secret's fingerprint shows: 64 bits.
pub(crate) const FINGERPRINT_BYTES: usize = 8;

/// A shared secret as configured for a source: the raw string the provider
/// gave (GitHub's webhook secret, Stripe's `whsec_…`, a Standard Webhooks
/// `whsec_…`, Twilio's auth token, …). How it becomes a key depends on the
/// scheme, so it is kept as given.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself. Call only where it is used as a key or stored.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A short, non-reversible label for logs and listings: the first 64
    /// bits of SHA-256 of the secret, so operators can tell secrets apart
    /// (and two secrets are not mistaken for one: 32 bits collide among
    /// tens of thousands).
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(self.0.as_bytes());
        hex::encode(&digest[..FINGERPRINT_BYTES])
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret::new(value)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret::new(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_contains_the_secret() {
        let secret = Secret::new("hunter2-very-secret");
        let printed = format!("{secret:?} {:?}", vec![secret.clone()]);
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("redacted"));
    }

    #[test]
    fn fingerprints_differ_between_secrets_and_hide_them() {
        let a = Secret::new("alpha").fingerprint();
        let b = Secret::new("beta").fingerprint();
        assert_ne!(a, b);
        assert_eq!(a.len(), 16, "64 bits");
        assert!(!a.contains("alpha"));
    }
}
