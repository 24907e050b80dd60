//! A destination: where deliveries go, how they are signed, and how fast
//! and how many at once they may go.
use hookrelay_signing::Secret;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use crate::auth::DestinationAuth;
use crate::destination_kind::{
    check_role_arn, BusTarget, DestinationKind, LambdaInvocation, LambdaTarget, SnsTarget,
    SqsTarget,
};
use crate::error::ConfigError;
use crate::field_selector::{is_token_byte, FieldSelector};
use crate::http_url::{parse_http_url, redact_url};
use crate::ids::DestinationId;
use crate::ordering::Ordering;
use crate::oversize::{Oversize, DEFAULT_POINTER_URL_TTL, MAX_POINTER_URL_TTL};
use crate::rate_limit::{Pace, RateLimit, MAX_BURST};
use crate::retry::{optional_duration, RetrySchedule};
use crate::time::Timestamp;

/// Outbound request timeout when a destination sets none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);
/// Longest outbound timeout allowed, well inside the dispatcher Lambda's.
const MAX_TIMEOUT: Duration = Duration::from_secs(120);
/// Headers hookrelay sets itself on deliveries; destinations cannot
/// override them.
pub const RESERVED_HEADERS: [&str; 9] = [
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "content-type",
    "content-length",
    "host",
    "transfer-encoding",
    "connection",
    "user-agent",
];

/// A destination secret still signing alongside the current one until
/// `expires_at`, so receivers can switch at their own pace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetiringSecret {
    pub secret: Secret,
    pub expires_at: Timestamp,
}

/// A team's service that receives deliveries.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Destination {
    pub id: DestinationId,
    /// What the destination is (`http` unless said).
    #[serde(default, skip_serializing_if = "DestinationKind::is_http")]
    pub kind: DestinationKind,
    /// Where deliveries go: an http(s) URL, or for an AWS kind its target
    /// (an SQS queue's URL or ARN).
    pub url: String,
    /// An AWS kind: a role to assume to reach the target (another
    /// account's), instead of the dispatcher's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// The external id the role's trust policy asks for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// A FIFO queue: where each event's message group id is read from
    /// (default: the source's id, one group per source).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_key: Option<FieldSelector>,
    /// An AWS kind: what a body over the target's limit becomes
    /// (`pointer` unless said, or `fail`).
    #[serde(default, skip_serializing_if = "Oversize::is_pointer")]
    pub oversize: Oversize,
    /// How long a pointer's presigned URL is valid (default 1 h).
    #[serde(
        default,
        with = "optional_duration",
        skip_serializing_if = "Option::is_none"
    )]
    pub pointer_url_ttl: Option<Duration>,
    /// A Lambda function: how it is invoked (default `request_response`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invocation: Option<LambdaInvocation>,
    /// `whsec_…` (HMAC, `v1`) or `whsk_…` (Ed25519, `v1a`): signs every
    /// delivery (Standard Webhooks).
    pub secret: Secret,
    /// A second current key of the other kind, so that every delivery
    /// carries both a `v1` and a `v1a` signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second_secret: Option<Secret>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retiring_secrets: Vec<RetiringSecret>,
    /// Extra headers on every delivery (e.g. an API key of the receiver).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// How the receiver authenticates the relay beyond the signature
    /// (`http` only): basic, bearer, OAuth2, mTLS or AWS SigV4.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<DestinationAuth>,
    /// What a delivery's body is: the event's own bytes (the default), or
    /// a chat message about it (`slack`).
    #[serde(default, skip_serializing_if = "DeliveryFormat::is_raw")]
    pub format: DeliveryFormat,
    #[serde(
        default,
        with = "optional_duration",
        skip_serializing_if = "Option::is_none"
    )]
    pub timeout: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_schedule: Option<RetrySchedule>,
    /// Most deliveries to this destination in flight at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_in_flight: Option<u32>,
    /// Most deliveries per second, minute or hour, across every
    /// dispatcher; deliveries beyond it wait.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
    /// How many deliveries may go at once after a quiet spell, on top of
    /// the steady rate (default 1: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<u32>,
    /// Deliveries that share a key value go in the order their events
    /// were accepted, one at a time per key (README, "Ordered delivery").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordering: Option<Ordering>,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    /// Why the destination was disabled (by hand, by a 410, by failing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
}

/// A destination's `format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryFormat {
    /// The event's body, byte for byte, as the provider sent it.
    #[default]
    Raw,
    /// `{"text": "…"}`, what Slack's incoming webhooks (and Mattermost's,
    /// Rocket.Chat's, Discord's `/slack` endpoints) post as a message: an
    /// operational event's summary, or a line naming any other event.
    Slack,
}

impl DeliveryFormat {
    pub fn is_raw(&self) -> bool {
        *self == DeliveryFormat::Raw
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryFormat::Raw => "raw",
            DeliveryFormat::Slack => "slack",
        }
    }
}

fn enabled_by_default() -> bool {
    true
}

/// Header values are often credentials (API keys of the receiver), and a
/// URL may carry some: Debug shows header names only, and the URL masked.
impl fmt::Debug for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Destination")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("role_arn", &self.role_arn)
            .field("group_key", &self.group_key)
            .field("oversize", &self.oversize)
            .field("pointer_url_ttl", &self.pointer_url_ttl)
            .field("invocation", &self.invocation)
            .field("url", &redact_url(&self.url))
            .field("secret", &self.secret)
            .field("second_secret", &self.second_secret)
            .field("retiring_secrets", &self.retiring_secrets)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("auth", &self.auth)
            .field("format", &self.format)
            .field("timeout", &self.timeout)
            .field("retry_schedule", &self.retry_schedule)
            .field("max_in_flight", &self.max_in_flight)
            .field("rate_limit", &self.rate_limit)
            .field("burst", &self.burst)
            .field("ordering", &self.ordering)
            .field("enabled", &self.enabled)
            .field("disabled_reason", &self.disabled_reason)
            .finish()
    }
}

impl Destination {
    pub fn new(id: DestinationId, url: impl Into<String>, secret: Secret) -> Self {
        Destination {
            id,
            kind: DestinationKind::Http,
            url: url.into(),
            role_arn: None,
            external_id: None,
            group_key: None,
            oversize: Oversize::Pointer,
            pointer_url_ttl: None,
            invocation: None,
            secret,
            second_secret: None,
            retiring_secrets: Vec::new(),
            headers: BTreeMap::new(),
            auth: None,
            format: DeliveryFormat::Raw,
            timeout: None,
            retry_schedule: None,
            max_in_flight: None,
            rate_limit: None,
            burst: None,
            ordering: None,
            enabled: true,
            disabled_reason: None,
        }
    }

    pub fn timeout(&self) -> Duration {
        self.timeout.unwrap_or(DEFAULT_TIMEOUT)
    }

    /// How long a pointer's presigned URL is valid.
    pub fn pointer_url_ttl(&self) -> Duration {
        self.pointer_url_ttl.unwrap_or(DEFAULT_POINTER_URL_TTL)
    }

    /// How a Lambda destination's function is invoked (the default for
    /// any other kind, which has none).
    pub fn invocation(&self) -> LambdaInvocation {
        self.invocation.unwrap_or_default()
    }

    /// Checks `url` for the destination's kind, and that only that kind's
    /// settings are given.
    fn check_target(&self) -> Result<(), String> {
        let kind = self.kind;
        if self.invocation.is_some() && kind != DestinationKind::Lambda {
            return Err("invocation is for lambda destinations".into());
        }
        match kind {
            DestinationKind::Http => {
                let url = parse_http_url(&self.url)?;
                if matches!(self.auth, Some(DestinationAuth::Mtls(_))) && url.scheme() != "https" {
                    return Err(
                        "auth mtls presents a client certificate over TLS: the url must be https"
                            .into(),
                    );
                }
                if self.role_arn.is_some() || self.external_id.is_some() {
                    return Err(
                        "role_arn and external_id are for AWS kinds (sqs, sns, eventbridge, lambda)".into(),
                    );
                }
                if self.group_key.is_some() {
                    return Err("group_key is for FIFO queues".into());
                }
                if let Some(auth) = &self.auth {
                    auth.validate()?;
                    if auth.sets_authorization()
                        && self
                            .headers
                            .keys()
                            .any(|name| name.eq_ignore_ascii_case("authorization"))
                    {
                        return Err(format!(
                            "auth {} sets Authorization itself: remove it from headers",
                            auth.kind()
                        ));
                    }
                }
                if !self.oversize.is_pointer() || self.pointer_url_ttl.is_some() {
                    return Err(
                        "oversize and pointer_url_ttl are for AWS kinds (an http destination takes any body the relay accepts)".into(),
                    );
                }
            }
            DestinationKind::Sqs
            | DestinationKind::Sns
            | DestinationKind::Eventbridge
            | DestinationKind::Lambda => {
                let fifo = match kind {
                    DestinationKind::Sns => SnsTarget::parse(&self.url)?.fifo,
                    DestinationKind::Eventbridge => BusTarget::parse(&self.url).map(|_| false)?,
                    DestinationKind::Lambda => LambdaTarget::parse(&self.url).map(|_| false)?,
                    _ => SqsTarget::parse(&self.url)?.fifo,
                };
                if !self.headers.is_empty() {
                    return Err(format!(
                        "headers are sent only to http destinations, not {kind}"
                    ));
                }
                if self.auth.is_some() {
                    return Err(format!(
                        "auth is for http destinations, not {kind} (which the dispatcher reaches with its own role, or role_arn)"
                    ));
                }
                if self.group_key.is_some() && !fifo {
                    return Err(
                        "group_key is for FIFO queues and topics (a name ending in .fifo)".into(),
                    );
                }
            }
        }
        if let Some(ttl) = self.pointer_url_ttl {
            if !self.oversize.is_pointer() {
                return Err("pointer_url_ttl is for oversize = \"pointer\"".into());
            }
            if ttl < Duration::from_secs(1) || ttl > MAX_POINTER_URL_TTL {
                return Err(format!(
                    "pointer_url_ttl must be between 1s and {}d (a presigned URL's longest)",
                    MAX_POINTER_URL_TTL.as_secs() / 86_400
                ));
            }
        }
        if let Some(arn) = &self.role_arn {
            check_role_arn(arn)?;
        }
        match &self.external_id {
            Some(_) if self.role_arn.is_none() => {
                Err("external_id needs a role_arn to assume".into())
            }
            Some(id) if !(2..=1224).contains(&id.len()) => {
                Err("external_id must be 2 to 1224 characters".into())
            }
            _ => Ok(()),
        }
    }

    /// The rate limit as the dispatcher paces by it, if there is one.
    pub fn pace(&self) -> Option<Pace> {
        self.rate_limit.map(|limit| Pace {
            interval: limit.interval(),
            burst: self.burst.unwrap_or(1).max(1),
        })
    }

    pub fn retry_schedule(&self) -> RetrySchedule {
        self.retry_schedule.clone().unwrap_or_default()
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let refuse = |reason: String| ConfigError::Destination {
            destination_id: self.id.to_string(),
            reason,
        };
        self.check_target().map_err(refuse)?;
        self.signing_secrets(Timestamp::from_unix_millis(i64::MIN))?;
        for (name, value) in &self.headers {
            if name.is_empty() || !name.bytes().all(is_token_byte) {
                return Err(refuse(format!("header name {name:?} is not a valid token")));
            }
            if RESERVED_HEADERS
                .iter()
                .any(|reserved| reserved.eq_ignore_ascii_case(name))
            {
                return Err(refuse(format!("header {name} is set by hookrelay itself")));
            }
            if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
                return Err(refuse(format!("header {name} has a control character")));
            }
        }
        if let Some(timeout) = self.timeout {
            if timeout.is_zero() || timeout > MAX_TIMEOUT {
                return Err(refuse(format!(
                    "timeout must be between 1ms and {}s",
                    MAX_TIMEOUT.as_secs()
                )));
            }
        }
        if self.max_in_flight == Some(0) {
            return Err(refuse("max_in_flight must be at least 1".into()));
        }
        match (self.rate_limit, self.burst) {
            (None, Some(_)) => return Err(refuse("burst needs a rate_limit".into())),
            (Some(_), Some(burst)) if burst == 0 || burst > MAX_BURST => {
                return Err(refuse(format!("burst must be between 1 and {MAX_BURST}")))
            }
            _ => {}
        }
        Ok(())
    }
}
