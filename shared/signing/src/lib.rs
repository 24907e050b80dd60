//! Webhook signatures, both ways.
//!
//! Inbound: [`Verifier`] proves that a request came from the provider a
//! source is configured for (GitHub, Stripe, Shopify, Slack, Standard
//! Webhooks/Svix, Zoom, Twitch, Paddle, Linear, Twilio, or a generic HMAC
//! sender). Verification is a pure function of the secrets, the headers, the
//! exact body bytes and the current time; several secrets may be active at
//! once (rotation) and any one that matches passes. Tags are compared in
//! constant time.
//!
//! Outbound: [`SigningKey`] signs the requests hookrelay delivers with the
//! Standard Webhooks scheme: HMAC (`whsec_`, `v1`, [`WebhookSecret`]) so any
//! receiver can check them with the official libraries, or Ed25519 (`whsk_`,
//! `v1a`, [`Ed25519SigningKey`]) so a receiver needs only the public key
//! ([`WebhookPublicKey`], `whpk_`).
//!
//! Nothing in this crate prints a secret: [`Secret`] and [`WebhookSecret`]
//! redact themselves in `Debug`, and errors never name a secret.
#![forbid(unsafe_code)]

pub mod catalog;
mod ed25519;
mod error;
mod headers;
mod mac;
pub mod parse;
mod provider;
mod scheme;
mod secret;
mod signing_key;
pub mod sns;
mod standard;
mod verify;

pub use catalog::{markdown_table, Field, Pick, SchemeSpec, CATALOG};
pub use ed25519::{Ed25519SigningKey, WebhookPublicKey, PUBLIC_KEY_PREFIX, SECRET_KEY_PREFIX};
pub use error::{SecretError, VerifyError, VerifyErrorKind};
pub use headers::{HeaderLookup, HeaderPairs};
pub use provider::{sign_as_provider, sign_body_as_provider, ProviderMessage};
pub use scheme::{Encoding, HmacAlgorithm, HmacOptions, Scheme, SchemeKind};
pub use secret::Secret;
pub use signing_key::{signature_header, SigningKey, SigningKeyKind};
pub use standard::WebhookSecret;
pub use verify::{InboundRequest, Verified, Verifier};

/// Default tolerance between a signed timestamp and our clock, both ways.
pub const DEFAULT_TOLERANCE_SECS: u64 = 300;
