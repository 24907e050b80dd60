//! HMAC keys prepared once per verifier, and constant-time tag comparison.
//!
//! Keying an HMAC costs two compression rounds; a verifier is built once per
//! source and used for many requests, so each key is prepared up front and
//! cloned per request.
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Sha256, Sha512};
use subtle::ConstantTimeEq;

use crate::scheme::HmacAlgorithm;

#[derive(Clone)]
pub(crate) enum MacKey {
    Sha1(Hmac<Sha1>),
    Sha256(Hmac<Sha256>),
    Sha512(Hmac<Sha512>),
}

/// A computed tag; long enough for SHA-512.
pub(crate) struct Tag {
    bytes: [u8; 64],
    len: usize,
}

impl Tag {
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// Constant-time equality. Lengths are public, so a length mismatch may
    /// return early.
    pub(crate) fn matches(&self, candidate: &[u8]) -> bool {
        self.as_bytes().ct_eq(candidate).into()
    }
}

fn tag_of(out: &[u8]) -> Tag {
    let mut bytes = [0u8; 64];
    bytes[..out.len()].copy_from_slice(out);
    Tag {
        bytes,
        len: out.len(),
    }
}

impl MacKey {
    pub(crate) fn new(algorithm: HmacAlgorithm, key: &[u8]) -> Self {
        // HMAC accepts keys of any length, so these cannot fail.
        match algorithm {
            HmacAlgorithm::Sha1 => {
                MacKey::Sha1(Hmac::new_from_slice(key).expect("hmac takes any key length"))
            }
            HmacAlgorithm::Sha256 => {
                MacKey::Sha256(Hmac::new_from_slice(key).expect("hmac takes any key length"))
            }
            HmacAlgorithm::Sha512 => {
                MacKey::Sha512(Hmac::new_from_slice(key).expect("hmac takes any key length"))
            }
        }
    }

    /// HMAC over the concatenation of `parts`, without concatenating them.
    pub(crate) fn tag(&self, parts: &[&[u8]]) -> Tag {
        fn run<M: Mac + Clone>(mac: &M, parts: &[&[u8]]) -> Tag {
            let mut mac = mac.clone();
            for part in parts {
                mac.update(part);
            }
            tag_of(&mac.finalize().into_bytes())
        }
        match self {
            MacKey::Sha1(mac) => run(mac, parts),
            MacKey::Sha256(mac) => run(mac, parts),
            MacKey::Sha512(mac) => run(mac, parts),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_matches_only_the_same_bytes() {
        let key = MacKey::new(HmacAlgorithm::Sha256, b"k");
        let tag = key.tag(&[b"hello ", b"world"]);
        let whole = key.tag(&[b"hello world"]);
        assert!(tag.matches(whole.as_bytes()));
        let mut other = whole.as_bytes().to_vec();
        other[0] ^= 1;
        assert!(!tag.matches(&other));
        assert!(!tag.matches(&whole.as_bytes()[..31]));
        assert_eq!(tag.as_bytes().len(), 32);
    }

    #[test]
    fn tag_lengths_follow_the_algorithm() {
        assert_eq!(
            MacKey::new(HmacAlgorithm::Sha1, b"k")
                .tag(&[b"x"])
                .as_bytes()
                .len(),
            20
        );
        assert_eq!(
            MacKey::new(HmacAlgorithm::Sha512, b"k")
                .tag(&[b"x"])
                .as_bytes()
                .len(),
            64
        );
    }
}
