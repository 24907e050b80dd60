//! Which addresses deliveries may reach.
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// True for addresses a delivery must not reach by default: loopback,
/// private (RFC 1918, unique local), carrier-grade NAT, link-local (cloud
/// metadata at 169.254.169.254 included), multicast, broadcast,
/// unspecified, reserved and documentation ranges, and IPv6 forms that
/// embed such an IPv4 address.
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_forbidden_v4(v4),
        IpAddr::V6(v6) => is_forbidden_v6(v6),
    }
}

fn is_forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_unspecified()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast (deprecated)
        || a >= 240 // reserved
}

fn is_forbidden_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_forbidden_v4(v4);
    }
    let segments = ip.segments();
    let v4_of =
        |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    // NAT64 (64:ff9b::/96) embeds an IPv4 address in the last 32 bits.
    if segments[0] == 0x64 && segments[1] == 0xff9b && segments[2..6] == [0, 0, 0, 0] {
        return is_forbidden_v4(v4_of(segments[6], segments[7]));
    }
    // 6to4 (2002::/16) carries the IPv4 address of its gateway in bits
    // 16–47: a private one there reaches a private network.
    if segments[0] == 0x2002 {
        return is_forbidden_v4(v4_of(segments[1], segments[2]));
    }
    // Teredo (2001::/32) tunnels through a relay to a client whose address
    // is hidden (inverted) in the last 32 bits; no destination needs it.
    if segments[0] == 0x2001 && segments[1] == 0 {
        return true;
    }
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        // local-use NAT64 (RFC 8215), which may translate to private IPv4
        || (segments[0] == 0x64 && segments[1] == 0xff9b && segments[2] == 1)
        || (segments[0] & 0xfe00) == 0xfc00 // unique local
        || (segments[0] & 0xffc0) == 0xfe80 // link-local
        || (segments[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation
        // IPv4-compatible (deprecated) ::a.b.c.d
        || (segments[..6] == [0, 0, 0, 0, 0, 0])
}

/// The error a refused address surfaces as, found again in reqwest's
/// error chain to classify the attempt.
#[derive(Debug)]
pub struct AddressRefused(pub IpAddr);

impl fmt::Display for AddressRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "destination address {} is not allowed", self.0)
    }
}

impl std::error::Error for AddressRefused {}

/// A name that did not resolve.
#[derive(Debug)]
pub(crate) struct DnsFailure(pub String);

impl fmt::Display for DnsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "could not resolve {}", self.0)
    }
}

impl std::error::Error for DnsFailure {}

/// The system resolver with forbidden addresses removed. If every address
/// of a name is forbidden, resolution fails with [`AddressRefused`].
pub(crate) struct GuardedResolver {
    pub allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let resolved: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|_| DnsFailure(host.clone()))?
                .collect();
            if resolved.is_empty() {
                return Err(Box::new(DnsFailure(host)) as Box<dyn std::error::Error + Send + Sync>);
            }
            let allowed: Vec<SocketAddr> = resolved
                .iter()
                .copied()
                .filter(|addr| allow_private || !is_forbidden(addr.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(Box::new(AddressRefused(resolved[0].ip()))
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_addresses() {
        for ip in [
            "127.0.0.1",
            "127.8.9.1",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "0.1.2.3",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.0.8",
            "198.18.0.1",
            "240.0.0.1",
            "192.0.2.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "::127.0.0.1",
            "2001:db8::1",
            // 6to4 gateways that are private, loopback or link-local
            "2002:7f00:1::1",
            "2002:a00:1::1",
            "2002:a9fe:a9fe::1",
            "2002:c0a8:101::1",
            // local-use NAT64, whatever it embeds
            "64:ff9b:1::a00:1",
            "64:ff9b:1::808:808",
            // Teredo
            "2001::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            // site-local (deprecated)
            "fec0::1",
            "feff::1",
            // 6to4 relay anycast
            "192.88.99.1",
        ] {
            assert!(
                is_forbidden(ip.parse().unwrap()),
                "{ip} should be forbidden"
            );
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "193.0.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "2001:4860:4860::8888",
            "192.88.98.1",
        ] {
            assert!(!is_forbidden(ip.parse().unwrap()), "{ip} should be allowed");
        }
    }
}
