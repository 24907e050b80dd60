//! hookrelay's data: what users configure (sources, destinations, routes)
//! and what the relay records (events, deliveries, attempts).
//!
//! Values are validated on the way in (`parse`, [`Config::validate`]), so
//! the use cases never see an id with a path in it, a destination URL that
//! is not http(s), or a route to nowhere. Everything is serde, in the shape
//! the TOML file, the DynamoDB tables and `--output json` share.
#![forbid(unsafe_code)]

mod auth;
mod config;
mod delivery;
mod destination;
mod destination_keys;
mod destination_kind;
mod error;
mod event;
mod field_selector;
mod filter;
mod http_url;
mod ids;
mod ordering;
mod oversize;
pub mod pattern;
mod rate_limit;
mod retry;
mod route_filter;
mod route_verdict;
mod target_arn;
mod time;

pub use auth::{
    AwsSigv4Auth, BasicAuth, BearerAuth, ClientSecretStyle, CredentialSource, DestinationAuth,
    JwtAlgorithm, MtlsAuth, OAuth2ClientCredentials, PrivateKeyJwt, SECRETS_MANAGER_PREFIX,
};
pub use config::{
    Config, Route, Source, BODY_LIMIT_CEILING, DEFAULT_BODY_LIMIT, MAX_TOLERANCE_SECS,
};
pub use delivery::{Attempt, AttemptErrorKind, AttemptOutcome, Delivery, DeliveryState};
pub use destination::{
    DeliveryFormat, Destination, RetiringSecret, DEFAULT_TIMEOUT, RESERVED_HEADERS,
};
pub use destination_keys::PublishedKey;
pub use destination_kind::{
    BusTarget, DestinationKind, LambdaInvocation, LambdaTarget, SnsTarget, SqsTarget,
};
pub use error::{ConfigError, IdError};
pub use event::Event;
pub use field_selector::FieldSelector;
pub use filter::EventFilter;
pub use http_url::redact_url;
pub use ids::{DestinationId, EventId, MessageId, SourceId, OPERATIONAL_SOURCE};
pub use ordering::{field_value, Ordering, OrderingKey, MAX_KEY_BYTES};
pub use oversize::{Oversize, DEFAULT_POINTER_URL_TTL, MAX_POINTER_URL_TTL};
pub use rate_limit::{Pace, RateLimit, RatePeriod, MAX_BURST, MAX_RATE_PER_SECOND};
pub use retry::{parse_optional_period, RetrySchedule};
pub use route_filter::{envelope as route_envelope, RouteFilter};
pub use route_verdict::{RouteMatch, RouteVerdict};
pub use target_arn::{target_arn, TargetArn};
pub use time::Timestamp;
