//! The write-time check of a destination URL: the same ranges the send-time
//! guard refuses, for IP literals and for names that resolve to them, so an
//! operator hears about `http://10.0.0.5/` when adding it rather than in a
//! failed delivery later. The guard still decides at send time (names can
//! change what they resolve to).
use async_trait::async_trait;
use hookrelay_core::AddressCheck;
use std::time::Duration;

use crate::guard::is_forbidden;
use crate::sender::host_is_forbidden_literal;

/// Resolves with the system resolver, for at most this long; a name that
/// does not resolve (yet) is not refused here.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, Copy, Default)]
pub struct PrivateAddressCheck;

#[async_trait]
impl AddressCheck for PrivateAddressCheck {
    async fn private_address(&self, url: &str) -> Option<String> {
        let parsed = reqwest::Url::parse(url).ok()?;
        let url = hookrelay_models::redact_url(url);
        if host_is_forbidden_literal(&parsed) {
            return Some(format!(
                "{url} is a private, loopback or link-local address"
            ));
        }
        let host = parsed.host_str()?;
        if host.eq_ignore_ascii_case("localhost") || host.ends_with(".localhost") {
            return Some(format!("{url} names this machine"));
        }
        let port = parsed.port_or_known_default().unwrap_or(443);
        let resolved =
            tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((host, port))).await;
        if let Ok(Ok(addresses)) = resolved {
            for address in addresses {
                if is_forbidden(address.ip()) {
                    return Some(format!(
                        "{host} resolves to {}, a private, loopback or link-local address",
                        address.ip()
                    ));
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn private_literals_and_local_names_are_flagged_public_ones_are_not() {
        for private in [
            "http://127.0.0.1:9000/hook",
            "http://10.1.2.3/",
            "http://[::1]/",
            "http://169.254.169.254/latest",
            "http://localhost:8080/",
            "http://api.localhost/",
        ] {
            assert!(
                PrivateAddressCheck.private_address(private).await.is_some(),
                "{private}"
            );
        }
        for public in ["https://93.184.215.14/hook", "https://[2606:4700::1111]/"] {
            assert_eq!(
                PrivateAddressCheck.private_address(public).await,
                None,
                "{public}"
            );
        }
    }
}
