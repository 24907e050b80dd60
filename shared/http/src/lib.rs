//! The outbound HTTP sender: delivers to destinations with reqwest
//! (rustls), follows no redirects, reads a capped piece of the response,
//! and refuses private, loopback, link-local, multicast and unspecified
//! addresses unless the configuration allows them.
//!
//! The guard sits in the DNS resolver reqwest connects through, so the
//! check applies to the very addresses connected to: a name that resolves
//! to a public address when checked and a private one when connecting (DNS
//! rebinding) cannot slip past, because there is only one resolution. IP
//! literals, which skip the resolver, are checked before sending. Proxies
//! are disabled for the same reason.
#![forbid(unsafe_code)]

mod address_check;
mod auth;
mod client;
mod fetcher;
mod guard;
mod sender;

pub use address_check::PrivateAddressCheck;
pub use auth::{AuthFailure, Authenticator};
pub use fetcher::HttpFetcher;
pub use guard::{is_forbidden, AddressRefused};
pub use sender::{host_is_forbidden_literal, HttpError, HttpSender};
