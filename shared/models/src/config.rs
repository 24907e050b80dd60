//! What users configure: sources, destinations, routes. The same model is
//! read from `hookrelay.toml`, stored in the DynamoDB config table and
//! printed by the admin CLI.
use hookrelay_signing::{HmacOptions, Scheme, SchemeKind, Secret, Verifier};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

use crate::destination::Destination;
use crate::error::ConfigError;
use crate::field_selector::FieldSelector;
use crate::filter::EventFilter;
use crate::http_url::parse_http_url;
use crate::ids::{DestinationId, SourceId, OPERATIONAL_SOURCE};
use crate::route_filter::RouteFilter;

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
                reason: with_key_hint(e.message()),
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
            if source.id.is_operational() {
                return Err(ConfigError::Source {
                    source_id: source.id.to_string(),
                    reason: format!(
                        "the id {OPERATIONAL_SOURCE} is the relay's own, for its operational events: choose another"
                    ),
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
            if !source_ids.contains(&route.source) && !route.source.is_operational() {
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

/// An unknown key that looks like an AWS credential says why there is no
/// such key: hookrelay never keeps access keys.
fn with_key_hint(message: &str) -> String {
    let lower = message.to_ascii_lowercase();
    let credential = ["access_key", "secret_key", "secret_access", "session_token"]
        .iter()
        .any(|key| lower.contains(key));
    if lower.contains("unknown field") && credential {
        format!(
            "{message}; AWS access keys are never configured: deliveries to AWS use the dispatcher's role, or `role_arn` (with `external_id`) for another account"
        )
    } else {
        message.to_string()
    }
}

/// 1-based line and column of a byte offset.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}
