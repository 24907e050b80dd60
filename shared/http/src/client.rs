//! The HTTP client deliveries, token requests and fetches go out on: names
//! resolved only through the private-address guard, no redirects, no
//! proxy; and how its failures are classified.
use hookrelay_models::AttemptErrorKind;
use reqwest::redirect::Policy;
use std::error::Error as _;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::guard::{is_forbidden, AddressRefused, DnsFailure, GuardedResolver};

/// A client that resolves names only through the private-address guard,
/// follows no redirects and uses no proxy: the sender's and the fetcher's.
pub(crate) fn guarded_client(allow_private: bool) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(GuardedResolver { allow_private }))
}

/// The guarded client with the timeouts deliveries use: the shared one,
/// and each mTLS destination's own.
pub(crate) fn delivery_client(allow_private: bool) -> reqwest::ClientBuilder {
    guarded_client(allow_private)
        .connect_timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(50))
}

/// Whether `url`'s host is an IP literal in a forbidden range. Names are
/// checked when they resolve, by the guarded resolver.
pub fn host_is_forbidden_literal(url: &reqwest::Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.parse::<IpAddr>().is_ok_and(is_forbidden)
}

/// What kind of failure a request's error is.
pub(crate) fn classify(err: &reqwest::Error) -> AttemptErrorKind {
    let mut source: Option<&(dyn std::error::Error + 'static)> = err.source();
    while let Some(cause) = source {
        if cause.is::<AddressRefused>() {
            return AttemptErrorKind::RefusedAddress;
        }
        if cause.is::<DnsFailure>() {
            return AttemptErrorKind::Dns;
        }
        source = cause.source();
    }
    if err.is_timeout() {
        AttemptErrorKind::Timeout
    } else if err.is_connect() {
        AttemptErrorKind::Connect
    } else {
        AttemptErrorKind::Io
    }
}
