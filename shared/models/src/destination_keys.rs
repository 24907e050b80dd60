//! A destination's signing keys: which sign a delivery made at a time, and
//! which public keys are published for it.
use hookrelay_signing::{SigningKey, SigningKeyKind, WebhookPublicKey};

use crate::destination::Destination;
use crate::error::ConfigError;
use crate::time::Timestamp;

/// A key that verifies a destination's `v1a` signatures, as published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedKey {
    pub key: WebhookPublicKey,
    /// Until when a retiring key still signs; `None` for a current one.
    pub expires_at: Option<Timestamp>,
}

impl Destination {
    /// Every signing key, parsed, whatever its expiry: the current one,
    /// the second current one if any, then each retiring one with the time
    /// it stops signing.
    pub fn all_signing_keys(&self) -> Result<Vec<(SigningKey, Option<Timestamp>)>, ConfigError> {
        let refuse = |what: &str, reason: String| ConfigError::Destination {
            destination_id: self.id.to_string(),
            reason: format!("{what}: {reason}"),
        };
        let mut keys = vec![(
            SigningKey::parse(self.secret.expose()).map_err(|e| refuse("secret", e.to_string()))?,
            None,
        )];
        if let Some(second) = &self.second_secret {
            let key = SigningKey::parse(second.expose())
                .map_err(|e| refuse("second_secret", e.to_string()))?;
            if key.kind() == keys[0].0.kind() {
                return Err(refuse(
                    "second_secret",
                    format!(
                        "must be of the other kind than secret (both are {}: one whsec_ and one whsk_)",
                        key.kind()
                    ),
                ));
            }
            keys.push((key, None));
        }
        for retiring in &self.retiring_secrets {
            keys.push((
                SigningKey::parse(retiring.secret.expose())
                    .map_err(|e| refuse("retiring secret", e.to_string()))?,
                Some(retiring.expires_at),
            ));
        }
        Ok(keys)
    }

    /// The keys that sign a delivery made at `now`: the current ones
    /// first, then every retiring one still in its grace period.
    pub fn signing_secrets(&self, now: Timestamp) -> Result<Vec<SigningKey>, ConfigError> {
        Ok(self
            .all_signing_keys()?
            .into_iter()
            .filter(|(_, expires_at)| expires_at.is_none_or(|at| at > now))
            .map(|(key, _)| key)
            .collect())
    }

    /// Whether a key of `kind` signs for this destination now (a current
    /// one; retiring keys aside). Read from the prefixes, without parsing.
    pub fn signs_with(&self, kind: SigningKeyKind) -> bool {
        std::iter::once(&self.secret)
            .chain(&self.second_secret)
            .any(|secret| SigningKeyKind::of(secret.expose()) == Some(kind))
    }

    /// The public keys of its Ed25519 keys that sign at `now`: current
    /// ones, then retiring ones with their expiry. Empty for a destination
    /// that signs with HMAC only.
    pub fn published_keys(&self, now: Timestamp) -> Result<Vec<PublishedKey>, ConfigError> {
        Ok(self
            .all_signing_keys()?
            .into_iter()
            .filter(|(_, expires_at)| expires_at.is_none_or(|at| at > now))
            .filter_map(|(key, expires_at)| {
                key.public_key().map(|key| PublishedKey {
                    key: *key,
                    expires_at,
                })
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::destination::RetiringSecret;
    use crate::ids::DestinationId;
    use hookrelay_signing::{Ed25519SigningKey, Secret};

    const WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    fn destination(secret: &str) -> Destination {
        Destination::new(
            DestinationId::parse("orders").unwrap(),
            "https://example.com/hook",
            Secret::new(secret),
        )
    }

    #[test]
    fn a_destination_signs_with_both_kinds_and_publishes_the_ed25519_key() {
        let whsk = Ed25519SigningKey::generate();
        let public = Ed25519SigningKey::parse(&whsk)
            .unwrap()
            .public_key()
            .encode();
        let mut d = destination(WHSEC);
        assert!(d
            .published_keys(Timestamp::from_unix_secs(0))
            .unwrap()
            .is_empty());
        d.second_secret = Some(Secret::new(whsk.clone()));
        d.validate().unwrap();
        let kinds: Vec<_> = d
            .signing_secrets(Timestamp::from_unix_secs(0))
            .unwrap()
            .iter()
            .map(|k| k.kind())
            .collect();
        assert_eq!(kinds, [SigningKeyKind::Hmac, SigningKeyKind::Ed25519]);
        let published = d.published_keys(Timestamp::from_unix_secs(0)).unwrap();
        assert_eq!(published.len(), 1);
        assert_eq!(published[0].key.encode(), public);
        assert_eq!(published[0].expires_at, None);
        assert!(d.signs_with(SigningKeyKind::Ed25519) && d.signs_with(SigningKeyKind::Hmac));
    }

    #[test]
    fn a_second_secret_of_the_same_kind_is_refused() {
        let mut d = destination(WHSEC);
        d.second_secret = Some(Secret::new("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
        let error = d.validate().unwrap_err().to_string();
        assert!(error.contains("other kind"), "{error}");
        assert!(!error.contains("AAAAAAAA"), "{error}");
    }

    #[test]
    fn retiring_ed25519_keys_are_published_until_they_expire() {
        let old = Ed25519SigningKey::generate();
        let new = Ed25519SigningKey::generate();
        let mut d = destination(&new);
        d.retiring_secrets.push(RetiringSecret {
            secret: Secret::new(old.clone()),
            expires_at: Timestamp::from_unix_secs(2_000),
        });
        let during = d.published_keys(Timestamp::from_unix_secs(1_999)).unwrap();
        assert_eq!(during.len(), 2);
        assert_eq!(
            during[1].key,
            *Ed25519SigningKey::parse(&old).unwrap().public_key()
        );
        assert_eq!(during[1].expires_at, Some(Timestamp::from_unix_secs(2_000)));
        let after = d.published_keys(Timestamp::from_unix_secs(2_000)).unwrap();
        assert_eq!(after.len(), 1);
        assert_eq!(
            after[0].key,
            *Ed25519SigningKey::parse(&new).unwrap().public_key()
        );
    }

    #[test]
    fn a_bad_whsk_key_is_refused_without_showing_it() {
        let d = destination("whsk_c2VjcmV0LXNlZWQtYnl0ZXM=");
        let error = d.validate().unwrap_err().to_string();
        assert!(error.contains("bytes, not 64"), "{error}");
        assert!(!error.contains("c2VjcmV0"), "{error}");
    }
}
