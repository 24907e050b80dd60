//! The ports: the few things the use cases need from the world, each a
//! small trait. `hookrelay-embedded` implements them in process and
//! `hookrelay-aws` on DynamoDB and SQS; both pass the same tests.
use async_trait::async_trait;
use hookrelay_models::{
    Attempt, AttemptOutcome, AwsSigv4Auth, Config, Delivery, DeliveryState, Destination,
    DestinationAuth, DestinationId, Event, EventId, LambdaInvocation, Route, Source, SourceId,
    Timestamp,
};
use hookrelay_signing::Secret;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

use crate::error::CoreError;
use crate::lanes::{LaneId, OrderLanes};
use crate::pace::DestinationPace;

/// Where sources, destinations and routes are kept.
#[async_trait]
pub trait ConfigStore: Send + Sync {
    async fn source(&self, id: &SourceId) -> Result<Option<Source>, CoreError>;
    /// The whole configuration, for routing and administration.
    async fn config(&self) -> Result<Config, CoreError>;
    /// One destination as stored now, past any cache: read before acting
    /// on a cached "disabled", which an operator may have just undone.
    async fn fresh_destination(
        &self,
        id: &DestinationId,
    ) -> Result<Option<Destination>, CoreError> {
        Ok(self.config().await?.destination(id).cloned())
    }
    /// The lanes of ordered delivery `event` goes in (see
    /// [`crate::lanes::lanes_for`]).
    async fn lanes_for(&self, event: &Event) -> Result<Vec<LaneId>, CoreError> {
        Ok(crate::lanes::lanes_for(&self.config().await?, event))
    }
    /// Enables or disables a destination, recording why (e.g. a 410).
    /// Writes only that state, never the destination's settings.
    async fn set_destination_enabled(
        &self,
        id: &DestinationId,
        enabled: bool,
        reason: Option<String>,
    ) -> Result<(), CoreError>;
}

/// One item of the configuration, as the admin use case writes it.
// A destination is much larger than a route; items are made one per admin
// write, so boxing it would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigItem {
    Source(Source),
    Destination(Destination),
    Route(Route),
}

/// Names one item of the configuration. A route is named by its pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigKey {
    Source(SourceId),
    Destination(DestinationId),
    Route(SourceId, DestinationId),
}

/// Writes to the configuration. Only the admin use case writes; the
/// receiver and dispatcher read through [`ConfigStore`]. Callers validate
/// first: a store writes what it is given.
#[async_trait]
pub trait ConfigWriter: Send + Sync {
    /// Creates or replaces one item. An existing destination keeps its
    /// operational state (enabled, and why not) as stored: that is
    /// [`ConfigStore::set_destination_enabled`]'s to change, so a settings
    /// change made from an older read never undoes a concurrent disable.
    async fn put(&self, item: &ConfigItem) -> Result<(), CoreError>;
    /// Deletes one item; absent is not an error.
    async fn remove(&self, key: &ConfigKey) -> Result<(), CoreError>;
    /// Makes the store hold exactly `config`'s sources, destinations and
    /// routes, destinations' operational state included. Idempotent.
    async fn replace(&self, config: &Config) -> Result<(), CoreError>;
}

/// Identifies one provider delivery for dedupe: the provider's own id,
/// scoped to the source, live until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DedupeKey {
    pub source: SourceId,
    pub provider_delivery_id: String,
    pub expires_at: Timestamp,
}

/// The answer to a claim on a dedupe key ([`EventStore::claim_dedupe`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DedupeClaim {
    /// The key's live record names the candidate: written by this call,
    /// or by an earlier try of it whose answer was lost.
    Won,
    /// A live record names this other event: the delivery is that event.
    Held(EventId),
}

/// How far the event a dedupe record names has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventProgress {
    /// Stored, and the dispatcher has begun on it (it has deliveries).
    Dispatched,
    /// Stored, no deliveries yet.
    Stored,
    /// Not stored: its receipt failed (or is still) between claiming the
    /// key and storing the event.
    Missing,
}

/// Whether [`EventStore::put_event`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    Written,
    /// An event with this id was stored already; it was left as it was.
    AlreadyStored,
}

/// Where accepted events and their dedupe records are kept. The calls are
/// the primitives of the dedupe protocol in [`crate::dedupe`], each one
/// conditional write or one read, so every backend runs the same protocol
/// and the simulator proves it once. Its events' lanes of ordered
/// delivery ([`OrderLanes`]) are kept beside them: the receipt that stores
/// an event puts it in its lanes.
#[async_trait]
pub trait EventStore: OrderLanes + Send + Sync {
    /// Makes the live dedupe record for `key` name `candidate`, unless a
    /// live record names another event. A record whose window ended at or
    /// before `now` is not live. Idempotent: a second call with the same
    /// candidate is `Won` again.
    async fn claim_dedupe(
        &self,
        key: &DedupeKey,
        candidate: &EventId,
        now: Timestamp,
    ) -> Result<DedupeClaim, CoreError>;

    /// Stores `event` until `expires_at`, unless an event with its id is
    /// stored: an event is never overwritten.
    async fn put_event(
        &self,
        event: &Event,
        expires_at: Timestamp,
    ) -> Result<PutOutcome, CoreError>;

    /// How far `id` has come (one consistent read).
    async fn progress(&self, id: &EventId) -> Result<EventProgress, CoreError>;

    async fn event(&self, id: &EventId) -> Result<Option<Event>, CoreError>;

    /// What a listing shows of an event, read without its body.
    async fn event_info(&self, id: &EventId) -> Result<Option<EventInfo>, CoreError>;

    /// A source's events received at or after `since`, newest first, at
    /// most `limit`, read without their bodies.
    async fn events_by_source(
        &self,
        source: &SourceId,
        since: Option<Timestamp>,
        limit: usize,
    ) -> Result<Vec<EventInfo>, CoreError>;
}

/// An event as listings show it: not its headers or body, but the body's
/// size, which the stored reference knows, so a listing never reads a
/// body (no S3 GET for one kept in the bucket).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventInfo {
    pub id: EventId,
    pub source: SourceId,
    pub event_type: Option<String>,
    pub received_at: Timestamp,
    pub body_bytes: u64,
}

impl From<&Event> for EventInfo {
    fn from(event: &Event) -> Self {
        EventInfo {
            id: event.id.clone(),
            source: event.source.clone(),
            event_type: event.event_type.clone(),
            received_at: event.received_at,
            body_bytes: event.body.len() as u64,
        }
    }
}

/// What the receiver (and the dispatcher, and the admin use case) hand
/// the dispatcher: an event and what to do with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "WireMessage", into = "WireMessage")]
pub struct QueueMessage {
    pub event_id: EventId,
    pub kind: MessageKind,
    /// The size of the event's body, when whoever queued it knew it: the
    /// dispatcher reserves that much of its budget of body bytes in flight
    /// before it reads the body (see `DispatchSettings::body_bytes_in_flight`).
    pub body_bytes: Option<u64>,
    /// A send slot of the destination's rate limit, reserved for this
    /// delivery before it was queued again to wait for it (see
    /// `dispatch::pacer`).
    pub slot: Option<Timestamp>,
}

/// What a queue message asks of the dispatcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageKind {
    /// Deliver the event to every destination whose routes match it.
    FanOut,
    /// Deliver it to one destination (a retry, a replay, a delivery held
    /// by another dispatcher).
    Delivery(DestinationId),
    /// As `Delivery`, as one link of the in-order release of the
    /// destination's parked deliveries: once settled, the next is released.
    Release(DestinationId),
    /// Probe the automatically disabled destination; the event is the one
    /// whose failure disabled it.
    Probe(DestinationId),
    /// Begin a release of the destination's parked deliveries again, if it
    /// is enabled and none is under way: sent, delayed past the index's
    /// lag, after each enable (see `dispatch::release`). The event id only
    /// says when it was asked for.
    Resume(DestinationId),
}

/// The message as it travels: the shape messages have had in queues since
/// the first release (a destination and two flags), so messages written by
/// an older dispatcher still parse, and an older one reads ours.
#[derive(Serialize, Deserialize)]
struct WireMessage {
    event_id: EventId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    destination: Option<DestinationId>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    release: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    probe: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    resume: bool,
    /// Added later: older messages have none, older dispatchers ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body_bytes: Option<u64>,
    /// Added with rate limits, the same way (Unix milliseconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    slot: Option<Timestamp>,
}

impl TryFrom<WireMessage> for QueueMessage {
    type Error = String;

    fn try_from(wire: WireMessage) -> Result<Self, String> {
        let kind = match (wire.destination, wire.release, wire.probe, wire.resume) {
            (None, false, false, false) => MessageKind::FanOut,
            (Some(d), false, false, false) => MessageKind::Delivery(d),
            (Some(d), true, false, false) => MessageKind::Release(d),
            (Some(d), false, true, false) => MessageKind::Probe(d),
            (Some(d), false, false, true) => MessageKind::Resume(d),
            (None, _, _, _) => {
                return Err("a release, probe or resume message names no destination".into())
            }
            (Some(_), _, _, _) => {
                return Err("a message is at most one of a release, a probe, a resume".into())
            }
        };
        Ok(QueueMessage {
            event_id: wire.event_id,
            kind,
            body_bytes: wire.body_bytes,
            slot: wire.slot,
        })
    }
}

impl From<QueueMessage> for WireMessage {
    fn from(message: QueueMessage) -> Self {
        let (destination, release, probe, resume) = match message.kind {
            MessageKind::FanOut => (None, false, false, false),
            MessageKind::Delivery(d) => (Some(d), false, false, false),
            MessageKind::Release(d) => (Some(d), true, false, false),
            MessageKind::Probe(d) => (Some(d), false, true, false),
            MessageKind::Resume(d) => (Some(d), false, false, true),
        };
        WireMessage {
            event_id: message.event_id,
            destination,
            release,
            probe,
            resume,
            body_bytes: message.body_bytes,
            slot: message.slot,
        }
    }
}

impl QueueMessage {
    pub fn fan_out(event_id: EventId) -> Self {
        QueueMessage {
            event_id,
            kind: MessageKind::FanOut,
            body_bytes: None,
            slot: None,
        }
    }

    /// A message for one delivery (a retry, a replay).
    pub fn delivery(event_id: EventId, destination: DestinationId) -> Self {
        QueueMessage {
            event_id,
            kind: MessageKind::Delivery(destination),
            body_bytes: None,
            slot: None,
        }
    }

    /// The same message, saying how large its event's body is.
    pub fn with_body_bytes(self, body_bytes: usize) -> Self {
        QueueMessage {
            body_bytes: Some(body_bytes as u64),
            ..self
        }
    }

    /// The destination it is for, unless it is a fan-out.
    pub fn destination(&self) -> Option<&DestinationId> {
        match &self.kind {
            MessageKind::FanOut => None,
            MessageKind::Delivery(d)
            | MessageKind::Release(d)
            | MessageKind::Probe(d)
            | MessageKind::Resume(d) => Some(d),
        }
    }

    /// Whether it is a link of an in-order release.
    pub fn is_release(&self) -> bool {
        matches!(self.kind, MessageKind::Release(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hookrelay_models::Timestamp;

    fn event() -> EventId {
        EventId::new(Timestamp::from_unix_millis(1_790_000_000_000))
    }

    #[test]
    fn messages_already_in_a_queue_still_parse_and_ours_keep_their_shape() {
        let id = event();
        let app = DestinationId::parse("app").unwrap();
        let cases = [
            (format!(r#"{{"event_id":"{id}"}}"#), MessageKind::FanOut),
            (
                format!(r#"{{"event_id":"{id}","destination":"app"}}"#),
                MessageKind::Delivery(app.clone()),
            ),
            (
                format!(r#"{{"event_id":"{id}","destination":"app","release":true}}"#),
                MessageKind::Release(app.clone()),
            ),
            (
                format!(r#"{{"event_id":"{id}","destination":"app","probe":true}}"#),
                MessageKind::Probe(app.clone()),
            ),
            (
                format!(r#"{{"event_id":"{id}","destination":"app","resume":true}}"#),
                MessageKind::Resume(app.clone()),
            ),
        ];
        for (old, kind) in cases {
            let parsed: QueueMessage = serde_json::from_str(&old).unwrap();
            assert_eq!(
                parsed,
                QueueMessage {
                    event_id: id.clone(),
                    kind,
                    body_bytes: None,
                    slot: None,
                },
                "{old}"
            );
            assert_eq!(serde_json::to_string(&parsed).unwrap(), old);
        }
        let sized = QueueMessage::fan_out(id.clone()).with_body_bytes(5 << 20);
        let json = serde_json::to_string(&sized).unwrap();
        assert_eq!(
            json,
            format!(r#"{{"event_id":"{id}","body_bytes":5242880}}"#)
        );
        assert_eq!(serde_json::from_str::<QueueMessage>(&json).unwrap(), sized);
    }

    #[test]
    fn contradictory_messages_are_refused() {
        let id = event();
        for bad in [
            format!(r#"{{"event_id":"{id}","release":true}}"#),
            format!(r#"{{"event_id":"{id}","probe":true}}"#),
            format!(r#"{{"event_id":"{id}","destination":"app","release":true,"probe":true}}"#),
            format!(r#"{{"event_id":"{id}","destination":"app","probe":true,"resume":true}}"#),
            format!(r#"{{"event_id":"{id}","resume":true}}"#),
        ] {
            assert!(serde_json::from_str::<QueueMessage>(&bad).is_err(), "{bad}");
        }
    }
}

/// The work queue between receiver and dispatcher.
#[async_trait]
pub trait Queue: Send + Sync {
    async fn enqueue(&self, message: &QueueMessage, delay: Duration) -> Result<(), CoreError>;
}

/// The current time. Tests use a fixed or stepped clock.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// The answer to a claim on a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Ours until the lease runs out: attempt it.
    Claimed(Delivery),
    /// Pending, but its next attempt is not due until then.
    NotDue(Timestamp),
    /// Another dispatcher holds the lease until then.
    Busy(Timestamp),
    /// Nothing to do: succeeded, failed or parked.
    Settled(DeliveryState),
}

impl Claim {
    /// Why `delivery` cannot be claimed at `now`, or `None` if it can: the
    /// one rule every store applies.
    pub fn blocking(delivery: &Delivery, now: Timestamp) -> Option<Claim> {
        if delivery.state != DeliveryState::Pending {
            return Some(Claim::Settled(delivery.state));
        }
        if let Some(lease) = delivery.lease_until.filter(|lease| *lease > now) {
            return Some(Claim::Busy(lease));
        }
        delivery
            .next_attempt_at
            .filter(|due| *due > now)
            .map(Claim::NotDue)
    }
}

/// Which end of a listing comes first, by the events' arrival.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListOrder {
    /// First arrived first: release and bulk recovery, which page forward.
    OldestFirst,
    /// Latest first: what an operator looking at a log wants to see.
    NewestFirst,
}

/// Delivery state per (event, destination), and the attempt log.
/// The check every [`DeliveryStore::deliveries_in_state`] makes first:
/// only indexed states ([`DeliveryState::is_indexed`]) are listed by
/// destination.
pub fn listable_by_destination(state: DeliveryState) -> Result<(), CoreError> {
    if state.is_indexed() {
        Ok(())
    } else {
        Err(CoreError::Invalid(format!(
            "{state} deliveries are not listed by destination; list events instead"
        )))
    }
}

#[async_trait]
pub trait DeliveryStore: Send + Sync {
    /// Takes the delivery for an attempt, creating it on first sight, if it
    /// is pending, due and not held by another lease. Conditional, so two
    /// dispatchers with the same message never attempt it at once.
    async fn claim(
        &self,
        event: &EventId,
        destination: &DestinationId,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Claim, CoreError>;

    /// Records `attempt` (it was made), then the delivery's new state if
    /// the lease `lease` is still the one held. Returns false if it was
    /// lost (the attempt ran past its lease and someone else took over):
    /// the attempt is on record, the delivery's state is the new holder's.
    async fn record_attempt(
        &self,
        attempt: &Attempt,
        delivery: &Delivery,
        lease: Timestamp,
    ) -> Result<bool, CoreError>;

    /// Marks a delivery parked (its destination is disabled), creating it
    /// if needed; settled deliveries are left alone.
    async fn park(
        &self,
        event: &EventId,
        destination: &DestinationId,
        now: Timestamp,
    ) -> Result<(), CoreError>;

    async fn delivery(
        &self,
        event: &EventId,
        destination: &DestinationId,
    ) -> Result<Option<Delivery>, CoreError>;

    async fn deliveries_for_event(&self, event: &EventId) -> Result<Vec<Delivery>, CoreError>;

    /// Attempts of an event, oldest first.
    async fn attempts_for_event(&self, event: &EventId) -> Result<Vec<Attempt>, CoreError>;

    /// A destination's deliveries in `state` for events received at or
    /// after `since`, in `order` of arrival, at most `limit`: the first
    /// `limit` from that end, so `NewestFirst` gives the newest. Only for
    /// states that are indexed ([`DeliveryState::is_indexed`]: failed and
    /// parked); others are refused as `Invalid`.
    async fn deliveries_in_state(
        &self,
        destination: &DestinationId,
        state: DeliveryState,
        since: Option<Timestamp>,
        order: ListOrder,
        limit: usize,
    ) -> Result<Vec<EventId>, CoreError>;

    /// How many of a destination's deliveries are in `state`, exactly:
    /// counted in the index, no event read. Indexed states only, as for
    /// [`DeliveryStore::deliveries_in_state`].
    async fn count_in_state(
        &self,
        destination: &DestinationId,
        state: DeliveryState,
    ) -> Result<u64, CoreError>;

    /// Makes a succeeded, failed or parked delivery pending and due at
    /// `now`. With `new_series` (a replay) its attempts start over in a
    /// new series; without (a parked delivery released) they carry on.
    /// Returns false, changing nothing, if the delivery does not exist or
    /// is pending already.
    async fn reopen(
        &self,
        event: &EventId,
        destination: &DestinationId,
        now: Timestamp,
        new_series: bool,
    ) -> Result<bool, CoreError>;

    /// The newest `limit` attempts to a destination, newest first.
    async fn attempts_for_destination(
        &self,
        destination: &DestinationId,
        limit: usize,
    ) -> Result<Vec<Attempt>, CoreError>;
}

/// Destination health: when attempts to a destination started failing
/// (every attempt since has failed). Only the dispatcher's automatic
/// disable and the ways a destination is enabled again use it.
#[async_trait]
pub trait DestinationHealth: Send + Sync {
    /// Records that attempts to `destination` are failing, from `at` unless
    /// an earlier start is already recorded; returns the recorded start.
    async fn note_failing(
        &self,
        destination: &DestinationId,
        at: Timestamp,
    ) -> Result<Timestamp, CoreError>;

    /// Sets (or, with `None`, clears) when a destination started failing.
    async fn set_failing_since(
        &self,
        destination: &DestinationId,
        since: Option<Timestamp>,
    ) -> Result<(), CoreError>;

    /// The event whose delivery heads the destination's release of parked
    /// deliveries, if a release was begun and not finished (see
    /// `dispatch::release_next_parked`). One read.
    async fn release_head(&self, destination: &DestinationId)
        -> Result<Option<EventId>, CoreError>;

    /// Moves that head to `to` (`None`: no release under way) if it is
    /// `from` now, or `to` already. Returns false, changing nothing, if it
    /// is neither: another handler moved it first. One conditional write.
    async fn move_release_head(
        &self,
        destination: &DestinationId,
        from: Option<&EventId>,
        to: Option<&EventId>,
    ) -> Result<bool, CoreError>;
}

/// The stores the dispatcher and the admin use case work on, each a port
/// of its own; one adapter may implement them all (the in-memory store
/// does), or each be a different one.
#[derive(Clone)]
pub struct Stores {
    pub config: Arc<dyn ConfigStore>,
    pub events: Arc<dyn EventStore>,
    pub deliveries: Arc<dyn DeliveryStore>,
    pub health: Arc<dyn DestinationHealth>,
    pub pace: Arc<dyn DestinationPace>,
}

impl Stores {
    /// All four from one adapter that implements them all.
    pub fn all_in<T>(store: Arc<T>) -> Self
    where
        T: ConfigStore + EventStore + DeliveryStore + DestinationHealth + DestinationPace + 'static,
    {
        Stores {
            config: store.clone(),
            events: store.clone(),
            deliveries: store.clone(),
            health: store.clone(),
            pace: store,
        }
    }
}

/// One outbound delivery: an HTTP request, or a message to an AWS target
/// carrying the same headers as its attributes.
#[derive(Debug, Clone)]
pub struct OutboundRequest {
    /// The URL POSTed to, or the AWS target (an SQS queue's URL).
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// The event's body, shared with it (and every other destination's
    /// request), not a copy.
    pub body: bytes::Bytes,
    pub timeout: Duration,
    pub target: Target,
    /// An http destination's `auth`: the sender gets a token, signs, or
    /// presents a certificate by it.
    pub auth: Option<RequestAuth>,
}

/// What an authenticated request needs: its destination (whose token or
/// client certificate is cached) and the destination's `auth`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestAuth {
    pub destination: DestinationId,
    pub auth: DestinationAuth,
}

impl OutboundRequest {
    /// A header's value, its name in any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What kind of target a request goes to, with what that kind needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Target {
    #[default]
    Http,
    /// `SendMessage` to the queue at the request's `url`.
    Sqs(AwsTarget),
    /// `Publish` to the topic whose ARN is the request's `url`.
    Sns(AwsTarget),
    /// `PutEvents` to the bus the request's `url` names.
    Eventbridge(AwsTarget),
    /// `Invoke` of the function the request's `url` names, with the
    /// request as an API Gateway HTTP API event.
    Lambda(AwsTarget, LambdaInvocation),
}

/// How an AWS target is reached.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsTarget {
    /// The target's region, when its URL or ARN says; else the
    /// dispatcher's.
    pub region: Option<String>,
    /// A role to assume for it (another account's), and its external id.
    pub role: Option<(String, Option<String>)>,
    /// A FIFO queue's or topic's message group id and deduplication id.
    pub fifo: Option<(String, String)>,
    /// What a body over the target's limit becomes.
    pub oversize: OversizeHandling,
}

/// What becomes of a body over an AWS target's limit (a destination's
/// `oversize`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OversizeHandling {
    /// A pointer to the body in the body bucket, its presigned URL valid
    /// for `url_ttl`.
    Pointer { url_ttl: Duration },
    /// The delivery fails for good at once.
    Fail,
}

impl Default for OversizeHandling {
    fn default() -> Self {
        OversizeHandling::Pointer {
            url_ttl: hookrelay_models::DEFAULT_POINTER_URL_TTL,
        }
    }
}

/// What came of sending it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendResult {
    pub outcome: AttemptOutcome,
    /// The start of the response body, lossily decoded.
    pub response_body: String,
    pub response_truncated: bool,
    /// A `Retry-After` the destination asked for.
    pub retry_after: Option<Duration>,
    pub duration: Duration,
}

/// Fetches what the receiver itself must read from the web: an SNS signing
/// certificate, an SNS subscription's confirmation. The caller has checked
/// the URL; the real one (`hookrelay-http`) refuses private addresses and
/// follows no redirects.
#[async_trait]
pub trait Fetcher: Send + Sync {
    /// The body of a 2xx answer to a GET of `url`; refused when longer
    /// than `limit` bytes. Failures are [`CoreError::Unavailable`].
    async fn get(&self, url: &str, limit: usize) -> Result<Vec<u8>, CoreError>;
}

/// Sends deliveries over HTTP. The real one refuses private addresses
/// unless allowed; see `hookrelay-http`.
#[async_trait]
pub trait Sender: Send + Sync {
    async fn send(&self, request: &OutboundRequest) -> SendResult;
}

/// Reads a credential kept in AWS Secrets Manager, for a destination's
/// `auth` that names one (`secretsmanager:<arn>`). Implemented on AWS by
/// `hookrelay-aws`; errors say why, without the secret.
#[async_trait]
pub trait SecretReader: Send + Sync {
    /// The secret's current `SecretString`.
    async fn secret_string(&self, arn: &str) -> Result<Secret, String>;
}

/// Signs HTTP requests with AWS Signature Version 4 (`auth = { kind =
/// "aws_sigv4" }`), with the dispatcher's credentials or a role it
/// assumes. Implemented by `hookrelay-aws`.
#[async_trait]
pub trait RequestSigner: Send + Sync {
    /// The headers to add to a POST of `body` to `url` with `headers`
    /// (`authorization`, `x-amz-date`, `x-amz-security-token`, …).
    async fn sign(
        &self,
        auth: &AwsSigv4Auth,
        url: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<Vec<(String, String)>, String>;
}
