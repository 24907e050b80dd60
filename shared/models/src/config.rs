//! What users configure: sources, destinations, routes. The same model is
//! read from `hookrelay.toml`, stored in the DynamoDB config table and
//! printed by the admin CLI.
use hookrelay_signing::{HmacOptions, Scheme, SchemeKind, Secret, Verifier, WebhookSecret};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::error::ConfigError;
use crate::filter::EventFilter;
use crate::ids::{DestinationId, SourceId};
use crate::rate_limit::{Pace, RateLimit, MAX_BURST};
use crate::retry::{optional_duration, RetrySchedule};
use crate::route_filter::RouteFilter;
use crate::time::Timestamp;

/// Body limit when a source sets none: the ceiling.
pub const DEFAULT_BODY_LIMIT: usize = BODY_LIMIT_CEILING;
/// No source may accept more: 5 MiB, about what the platform passes to the
/// receiver. Lambda takes a request event of less than 6 MiB
/// (6 291 456 bytes), and API Gateway puts the body in it as a JSON
/// string (JSON bodies, a few percent longer once escaped) or base64
/// (binary and form bodies, a third longer: those fit up to about
/// 4.6 MB, and above it API Gateway answers 413 before the receiver
/// runs). Bodies too big for a DynamoDB item are kept in S3. Larger
/// bodies are answered 413 before anything is stored.
pub const BODY_LIMIT_CEILING: usize = 5 * 1024 * 1024;
/// The longest timestamp tolerance a source may set: past it a captured
/// request stays replayable for too long.
pub const MAX_TOLERANCE_SECS: u64 = 3600;
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

/// Where a value is read from in an inbound request: `header:X-GitHub-Event`
/// or `json:/type` (a JSON pointer into the body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum FieldSelector {
    Header(String),
    JsonPointer(String),
}

impl FromStr for FieldSelector {
    type Err = String;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        if let Some(name) = value.strip_prefix("header:") {
            if !name.is_empty() && name.bytes().all(is_token_byte) {
                return Ok(FieldSelector::Header(name.to_string()));
            }
        } else if let Some(pointer) = value.strip_prefix("json:") {
            if pointer.is_empty() || pointer.starts_with('/') {
                return Ok(FieldSelector::JsonPointer(pointer.to_string()));
            }
        }
        Err(format!("{value:?} is not header:<Name> or json:/<pointer>"))
    }
}

impl TryFrom<String> for FieldSelector {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<FieldSelector> for String {
    fn from(selector: FieldSelector) -> String {
        selector.to_string()
    }
}

impl fmt::Display for FieldSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldSelector::Header(name) => write!(f, "header:{name}"),
            FieldSelector::JsonPointer(pointer) => write!(f, "json:{pointer}"),
        }
    }
}

/// RFC 9110 token characters: what a header name may be made of.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A provider endpoint: `POST /hooks/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub id: SourceId,
    pub scheme: SchemeKind,
    /// Active secrets; any one that matches passes (rotation).
    pub secrets: Vec<Secret>,
    /// Options of the generic `hmac` scheme.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hmac: Option<HmacOptions>,
    /// Allowed clock difference for signed timestamps, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance_secs: Option<u64>,
    /// Largest body accepted, in bytes (default and most: 5 MiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_body_bytes: Option<usize>,
    /// Where the event type is read, if not the scheme's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<FieldSelector>,
    /// Where the provider's delivery id (for dedupe) is read, if not the
    /// scheme's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_id: Option<FieldSelector>,
    /// The public URL providers post to, for schemes that sign it (Twilio),
    /// when it cannot be rebuilt from the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// The string the provider echoes when it checks the endpoint with a
    /// `GET` (Meta's `hub.verify_token`): chosen by the user, typed into
    /// the provider's dashboard, and not the signing secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_token: Option<Secret>,
    /// SNS: confirm a subscription by fetching the `SubscribeURL` (on
    /// SNS's own host) of its signed confirmation. Off, the confirmation
    /// is stored and delivered like any message, for someone to confirm.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub auto_confirm: bool,
}

impl Source {
    pub fn new(id: SourceId, scheme: SchemeKind, secrets: Vec<Secret>) -> Self {
        Source {
            id,
            scheme,
            secrets,
            hmac: None,
            tolerance_secs: None,
            max_body_bytes: None,
            event_type: None,
            delivery_id: None,
            public_url: None,
            verify_token: None,
            auto_confirm: false,
        }
    }

    pub fn body_limit(&self) -> usize {
        self.max_body_bytes.unwrap_or(DEFAULT_BODY_LIMIT)
    }

    /// The verifier for this source's scheme and secrets.
    pub fn verifier(&self) -> Result<Verifier, ConfigError> {
        let refuse = |reason: String| ConfigError::Source {
            source_id: self.id.to_string(),
            reason,
        };
        let scheme = Scheme::from_parts(self.scheme, self.hmac.clone())
            .map_err(|e| refuse(e.to_string()))?;
        let verifier = Verifier::new(scheme, &self.secrets).map_err(|e| refuse(e.to_string()))?;
        Ok(match self.tolerance_secs {
            Some(secs) => verifier.with_tolerance_secs(secs),
            None => verifier,
        })
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let refuse = |reason: String| ConfigError::Source {
            source_id: self.id.to_string(),
            reason,
        };
        self.verifier()?;
        match self.max_body_bytes {
            Some(0) => return Err(refuse("max_body_bytes must be positive".into())),
            Some(limit) if limit > BODY_LIMIT_CEILING => {
                return Err(refuse(format!(
                    "max_body_bytes {limit} is above the ceiling of {BODY_LIMIT_CEILING} bytes (about what API Gateway and Lambda pass to the receiver)"
                )))
            }
            _ => {}
        }
        if let Some(tolerance) = self.tolerance_secs.filter(|t| *t > MAX_TOLERANCE_SECS) {
            return Err(refuse(format!(
                "tolerance_secs {tolerance} is above the maximum of {MAX_TOLERANCE_SECS} (one hour): a captured request could be replayed for that long"
            )));
        }
        if let Some(url) = &self.public_url {
            parse_http_url(url).map_err(refuse)?;
        }
        match (&self.verify_token, self.scheme) {
            (Some(token), SchemeKind::Meta) if token.expose().is_empty() => {
                return Err(refuse("verify_token is empty".into()))
            }
            (Some(_), SchemeKind::Meta) | (None, _) => {}
            (Some(_), scheme) => {
                return Err(refuse(format!(
                    "verify_token is only used by scheme meta, not {scheme}"
                )))
            }
        }
        if self.auto_confirm && self.scheme != SchemeKind::Sns {
            return Err(refuse(format!(
                "auto_confirm is only used by scheme sns, not {}",
                self.scheme
            )));
        }
        Ok(())
    }
}

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
    pub url: String,
    /// `whsec_…`: signs every delivery (Standard Webhooks).
    pub secret: Secret,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retiring_secrets: Vec<RetiringSecret>,
    /// Extra headers on every delivery (e.g. an API key of the receiver).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
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
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    /// Why the destination was disabled (by hand, by a 410, by failing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
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
            .field("url", &redact_url(&self.url))
            .field("secret", &self.secret)
            .field("retiring_secrets", &self.retiring_secrets)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("timeout", &self.timeout)
            .field("retry_schedule", &self.retry_schedule)
            .field("max_in_flight", &self.max_in_flight)
            .field("rate_limit", &self.rate_limit)
            .field("burst", &self.burst)
            .field("enabled", &self.enabled)
            .field("disabled_reason", &self.disabled_reason)
            .finish()
    }
}

impl Destination {
    pub fn new(id: DestinationId, url: impl Into<String>, secret: Secret) -> Self {
        Destination {
            id,
            url: url.into(),
            secret,
            retiring_secrets: Vec::new(),
            headers: BTreeMap::new(),
            timeout: None,
            retry_schedule: None,
            max_in_flight: None,
            rate_limit: None,
            burst: None,
            enabled: true,
            disabled_reason: None,
        }
    }

    pub fn timeout(&self) -> Duration {
        self.timeout.unwrap_or(DEFAULT_TIMEOUT)
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

    /// The secrets that sign a delivery made at `now`: the current one
    /// first, then every retiring one still in its grace period.
    pub fn signing_secrets(&self, now: Timestamp) -> Result<Vec<WebhookSecret>, ConfigError> {
        let refuse = |reason: String| ConfigError::Destination {
            destination_id: self.id.to_string(),
            reason,
        };
        let mut secrets = vec![WebhookSecret::parse(self.secret.expose())
            .map_err(|e| refuse(format!("secret: {e}")))?];
        for retiring in self.retiring_secrets.iter().filter(|r| r.expires_at > now) {
            secrets.push(
                WebhookSecret::parse(retiring.secret.expose())
                    .map_err(|e| refuse(format!("retiring secret: {e}")))?,
            );
        }
        Ok(secrets)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let refuse = |reason: String| ConfigError::Destination {
            destination_id: self.id.to_string(),
            reason,
        };
        parse_http_url(&self.url).map_err(refuse)?;
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

/// Checks that `url` is an absolute http(s) URL with a host and no
/// credentials in it.
/// `value` with any credentials before the host (`user:password@`) masked,
/// for errors and logs; works on text that is not a valid URL too.
pub fn redact_url(value: &str) -> String {
    let Some(scheme_end) = value.find("://").map(|i| i + 3) else {
        return value.to_string();
    };
    let rest = &value[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}***{}", &value[..scheme_end], &rest[at..]),
        None => value.to_string(),
    }
}

pub(crate) fn parse_http_url(value: &str) -> Result<url::Url, String> {
    let shown = redact_url(value);
    let url = url::Url::parse(value).map_err(|e| format!("url {shown:?}: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "url {shown:?}: only http and https are delivered to"
        ));
    }
    if url.host().is_none() {
        return Err(format!("url {shown:?} has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "url {shown:?}: credentials belong in headers, not the URL"
        ));
    }
    Ok(url)
}

/// Sends a source's events, filtered by type, to a destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    pub source: SourceId,
    pub destination: DestinationId,
    #[serde(default = "all_events")]
    pub events: Vec<EventFilter>,
    /// A content filter, in EventBridge's event-pattern syntax, over the
    /// event's envelope (`source`, `type`, `headers`, `body`): see
    /// [`crate::RouteFilter`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<RouteFilter>,
}

fn all_events() -> Vec<EventFilter> {
    vec![EventFilter::any()]
}

impl Route {
    pub fn new(source: SourceId, destination: DestinationId) -> Self {
        Route {
            source,
            destination,
            events: all_events(),
            filter: None,
        }
    }

    /// Whether an event of this type from this route's source goes to its
    /// destination, its content filter aside (see [`Route::admits`]).
    pub fn matches(&self, source: &SourceId, event_type: Option<&str>) -> bool {
        &self.source == source && self.events.iter().any(|f| f.matches(event_type))
    }

    /// Whether the route's content filter, if any, admits the event whose
    /// envelope (`crate::route_envelope`) is `envelope`.
    pub fn admits(&self, envelope: &serde_json::Value) -> bool {
        self.filter.as_ref().is_none_or(|f| f.matches(envelope))
    }
}

/// A whole configuration, as in `hookrelay.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Lets destinations resolve to loopback and private addresses. For
    /// local development and tests only.
    #[serde(default)]
    pub allow_private_destinations: bool,
    #[serde(default)]
    pub sources: Vec<Source>,
    #[serde(default)]
    pub destinations: Vec<Destination>,
    #[serde(default)]
    pub routes: Vec<Route>,
}

impl Config {
    /// Reads and validates TOML; errors name `file`, the line and column.
    pub fn from_toml(text: &str, file: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| {
            let offset = e.span().map(|span| span.start).unwrap_or(0);
            let (line, column) = line_and_column(text, offset);
            ConfigError::Syntax {
                file: file.to_string(),
                line,
                column,
                reason: e.message().to_string(),
            }
        })?;
        config.validate()?;
        Ok(config)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("the config model always serializes to TOML")
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut source_ids = HashSet::new();
        for source in &self.sources {
            if !source_ids.insert(&source.id) {
                return Err(ConfigError::Duplicate {
                    kind: "source",
                    id: source.id.to_string(),
                });
            }
            source.validate()?;
        }
        let mut destination_ids = HashSet::new();
        for destination in &self.destinations {
            if !destination_ids.insert(&destination.id) {
                return Err(ConfigError::Duplicate {
                    kind: "destination",
                    id: destination.id.to_string(),
                });
            }
            destination.validate()?;
        }
        let mut pairs = HashSet::new();
        for route in &self.routes {
            let refuse = |reason: &str| ConfigError::Route {
                source_id: route.source.to_string(),
                destination_id: route.destination.to_string(),
                reason: reason.to_string(),
            };
            if !source_ids.contains(&route.source) {
                return Err(refuse("no such source"));
            }
            if !destination_ids.contains(&route.destination) {
                return Err(refuse("no such destination"));
            }
            if route.events.is_empty() {
                return Err(refuse("events is empty; use [\"*\"] for every event"));
            }
            if !pairs.insert((&route.source, &route.destination)) {
                return Err(refuse("defined twice; list all its events in one route"));
            }
        }
        Ok(())
    }

    pub fn source(&self, id: &SourceId) -> Option<&Source> {
        self.sources.iter().find(|s| &s.id == id)
    }

    pub fn destination(&self, id: &DestinationId) -> Option<&Destination> {
        self.destinations.iter().find(|d| &d.id == id)
    }

    /// The destinations `event` goes to: each once, in the order of the
    /// routes that select it (by source, event type and content filter).
    /// The filters' envelope is built once, and only if one is needed.
    pub fn routed_destinations(&self, event: &crate::Event) -> Vec<Destination> {
        let envelope = std::cell::OnceCell::new();
        let mut seen: Vec<&DestinationId> = Vec::new();
        for route in self.routes_for(&event.source, event.event_type.as_deref()) {
            let admitted = route.filter.is_none()
                || route.admits(envelope.get_or_init(|| crate::route_envelope(event)));
            if admitted && !seen.contains(&&route.destination) {
                seen.push(&route.destination);
            }
        }
        seen.into_iter()
            .filter_map(|id| self.destination(id).cloned())
            .collect()
    }

    /// The destinations an event of `event_type` from `source` goes to.
    pub fn routes_for<'a>(
        &'a self,
        source: &'a SourceId,
        event_type: Option<&'a str>,
    ) -> impl Iterator<Item = &'a Route> + 'a {
        self.routes
            .iter()
            .filter(move |route| route.matches(source, event_type))
    }
}

/// 1-based line and column of a byte offset.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}
