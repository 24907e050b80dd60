//! The ports: the few things the use cases need from the world, each a
//! small trait. `hookrelay-embedded` implements them in process and
//! `hookrelay-aws` on DynamoDB and SQS; both pass the same tests.
use async_trait::async_trait;
use hookrelay_models::{Config, DestinationId, Event, EventId, Source, SourceId, Timestamp};
use serde::{Deserialize, Serialize};
use std::time::Duration;

use crate::error::CoreError;

/// Where sources, destinations and routes are kept.
#[async_trait]
pub trait ConfigStore: Send + Sync {
    async fn source(&self, id: &SourceId) -> Result<Option<Source>, CoreError>;
    /// The whole configuration, for routing and administration.
    async fn config(&self) -> Result<Config, CoreError>;
}

/// Identifies one provider delivery for dedupe: the provider's own id,
/// scoped to the source, live until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DedupeKey {
    pub source: SourceId,
    pub provider_delivery_id: String,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertOutcome {
    /// The event was stored (with its dedupe record, if any).
    Inserted,
    /// A live dedupe record already names `existing`; nothing was written.
    /// `enqueued` says whether that event is known to have been queued: if
    /// not, its first receipt failed half-way (or is still in progress) and
    /// the caller must queue it, so a provider's retry is never swallowed.
    Duplicate { existing: EventId, enqueued: bool },
}

/// Where accepted events (and, later, deliveries and attempts) are kept.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// Stores `event` until `expires_at`. With a dedupe key the event and
    /// its dedupe record are written atomically, and only if no live record
    /// for the key exists: two concurrent receipts of the same delivery
    /// yield exactly one stored event.
    async fn insert_event(
        &self,
        event: &Event,
        dedupe: Option<&DedupeKey>,
        expires_at: Timestamp,
    ) -> Result<InsertOutcome, CoreError>;

    /// Records that the event named by `dedupe` has been queued, so later
    /// duplicates are answered without queueing it again.
    async fn mark_enqueued(&self, dedupe: &DedupeKey) -> Result<(), CoreError>;

    /// Takes back an insert whose enqueue failed, so the provider's retry is
    /// treated as new.
    async fn remove_event(&self, id: &EventId, dedupe: Option<&DedupeKey>)
        -> Result<(), CoreError>;

    async fn event(&self, id: &EventId) -> Result<Option<Event>, CoreError>;
}

/// What the receiver hands the dispatcher: an event to fan out, or (on
/// retries) one delivery of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueMessage {
    pub event_id: EventId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<DestinationId>,
}

impl QueueMessage {
    pub fn fan_out(event_id: EventId) -> Self {
        QueueMessage {
            event_id,
            destination: None,
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
