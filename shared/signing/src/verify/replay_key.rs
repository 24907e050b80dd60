//! Replay keys: how the receiver knows an exact replay of a request whose
//! signature covers no timestamp (GitHub, Shopify, Twilio, a token
//! header, …). Such a request stays genuine for ever and its delivery id
//! is an unsigned header, so its dedupe record is keyed by one of these
//! instead.
//!
//! Verification has already read every byte the signature covers; the key
//! is made without a second pass over the body wherever that is sound:
//!
//! - An HMAC: the tag computed for the matching secret is a keyed digest
//!   of everything it covers, one per signed content under that secret,
//!   which only the secret's holders can make. The key is a SHA-256 of
//!   that tag (one compression round), never the tag itself, so a dedupe
//!   record does not hold a valid signature. The secret's index is left
//!   out: it moves when the source's secrets are rotated, and a captured
//!   request must stay a duplicate across that.
//! - A public-key signature (Discord's Ed25519, SendGrid's ECDSA): not one
//!   per message (an ECDSA `(r, s)` is as valid as `(r, n - s)`), so the
//!   key is a digest of what is signed.
//! - A header that carries the secret itself: it covers nothing, so the
//!   key is a digest of the body (the token is kept out of it).
use sha2::{Digest, Sha256};

use super::Verified;
use crate::mac::Tag;

/// Starts every HMAC-derived key's input, so that it is never the plain
/// SHA-256 of a tag that some other system might compute.
const MAC_LABEL: &[u8] = b"hookrelay replay key: HMAC tag\0";

impl Verified {
    /// Verified by secret `secret_index` through an HMAC whose computed
    /// tag (equal to the one the request carried) is `tag`.
    pub(super) fn by_mac(secret_index: usize, tag: &Tag) -> Self {
        Verified {
            secret_index,
            timestamp: None,
            replay_key: Some(of_mac(tag.as_bytes())),
        }
    }

    /// Verified by secret `secret_index` through something that is not
    /// one per content (a public-key signature, a shared token): the key
    /// is a digest of `parts`.
    pub(super) fn by_content(secret_index: usize, parts: &[&[u8]]) -> Self {
        Verified {
            secret_index,
            timestamp: None,
            replay_key: Some(of_content(parts)),
        }
    }
}

fn of_mac(tag: &[u8]) -> [u8; 32] {
    let mut digest = Sha256::new();
    digest.update(MAC_LABEL);
    digest.update(tag);
    digest.finalize().into()
}

fn of_content(parts: &[&[u8]]) -> [u8; 32] {
    // Each part with its length, so no two different lists of parts hash
    // alike.
    let mut digest = Sha256::new();
    for part in parts {
        digest.update((part.len() as u64).to_be_bytes());
        digest.update(part);
    }
    digest.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mac_key_follows_the_tag_and_is_not_the_tag_or_its_plain_digest() {
        let tag = [7u8; 32];
        let key = of_mac(&tag);
        assert_eq!(key, of_mac(&tag));
        let mut other = tag;
        other[31] ^= 1;
        assert_ne!(key, of_mac(&other));
        assert_ne!(key, tag);
        assert_ne!(key, <[u8; 32]>::from(Sha256::digest(tag)));
    }

    #[test]
    fn content_keys_tell_apart_parts_cut_differently() {
        assert_ne!(of_content(&[b"ab", b"c"]), of_content(&[b"a", b"bc"]));
        assert_eq!(of_content(&[b"ab", b"c"]), of_content(&[b"ab", b"c"]));
    }
}
