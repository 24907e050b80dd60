//! Case-insensitive header access over whatever the caller holds.
//!
//! Providers send `X-Hub-Signature-256`, API Gateway lower-cases it; the
//! schemes look headers up by name and must not care.

/// Looks a header up by name, ignoring ASCII case. A header whose value is
/// not visible ASCII/UTF-8 is treated as absent by the `http` adapter.
pub trait HeaderLookup: Sync {
    fn header(&self, name: &str) -> Option<&str>;
}

impl HeaderLookup for http::HeaderMap {
    fn header(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|value| value.to_str().ok())
    }
}

/// Headers held as name/value pairs, e.g. parsed from a stored event.
#[derive(Debug, Clone, Copy)]
pub struct HeaderPairs<'a, N, V>(pub &'a [(N, V)]);

impl<N: AsRef<str> + Sync, V: AsRef<str> + Sync> HeaderLookup for HeaderPairs<'_, N, V> {
    fn header(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.as_ref().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
    }
}

impl<T: HeaderLookup + ?Sized> HeaderLookup for &T {
    fn header(&self, name: &str) -> Option<&str> {
        (**self).header(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_lookup_ignores_case() {
        let pairs = [("X-Hub-Signature-256", "sha256=ab")];
        assert_eq!(
            HeaderPairs(&pairs).header("x-hub-signature-256"),
            Some("sha256=ab")
        );
        assert_eq!(HeaderPairs(&pairs).header("x-other"), None);
    }

    #[test]
    fn http_header_map_lookup_ignores_case() {
        let mut map = http::HeaderMap::new();
        map.insert("stripe-signature", "t=1,v1=00".parse().unwrap());
        assert_eq!(map.header("Stripe-Signature"), Some("t=1,v1=00"));
    }
}
