//! Operational events: what the relay says about itself, as Svix's
//! "operational webhooks" do. A destination disabled or enabled, one
//! failing attempt after attempt, a delivery failed for good, messages
//! waiting in the dead-letter queue: each becomes an event of the built-in
//! source `hookrelay` ([`hookrelay_models::OPERATIONAL_SOURCE`]), stored and queued through
//! the same dedupe protocol as a provider's ([`crate::dedupe`]), so routes
//! from that source deliver it, signed with the destination's secret
//! (Standard Webhooks), retried and logged like any other event, to any
//! kind of destination.
//!
//! # One alert per window
//! An alert's dedupe key is its type, its subject (the destination, or the
//! dead-letter queue) and the window it falls in: windows are aligned to
//! multiples of the window length since the Unix epoch. Whoever raises the
//! same alert again in that window (another dispatcher, a retry of the
//! same message) finds the key claimed and adds nothing. So no extra
//! record is kept, and an alert raised twice after a crash is still one.
//!
//! # Cost
//! Nothing unless a route selects the alert's type: the configuration
//! (cached) is read first. A routed alert costs what a received webhook
//! costs (a dedupe claim, an event write, a queue message) plus its
//! deliveries; a repeat within the window, one conditional write.
use hookrelay_models::{AttemptOutcome, DestinationId, Event, EventId, SourceId, Timestamp};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::dedupe;
use crate::error::CoreError;
use crate::metrics::{Metric, Metrics};
use crate::ports::{Clock, ConfigStore, DedupeKey, EventStore, Queue};

/// Every operational event type, as routes select them.
pub const OPERATIONAL_EVENT_TYPES: [&str; 5] = [
    "destination.disabled",
    "destination.enabled",
    "destination.failing",
    "delivery.failed",
    "dead_letters.waiting",
];

/// How often each alert may be raised, and when a destination counts as
/// failing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertSettings {
    /// At most one alert per subject and type per window (zero: every
    /// one).
    pub window: Duration,
    /// `destination.failing` after this many failed attempts in a row.
    pub failing_after: u32,
    /// How long operational events are kept, as received ones are.
    pub retention: Duration,
}

/// An hour: long enough that an outage is one message, short enough that a
/// second one the same afternoon is news.
pub const DEFAULT_ALERT_WINDOW: Duration = Duration::from_secs(3600);
/// Five failures in a row: past a blip, well before the default retry
/// schedule gives any delivery up.
pub const DEFAULT_FAILING_AFTER: u32 = 5;

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            window: DEFAULT_ALERT_WINDOW,
            failing_after: DEFAULT_FAILING_AFTER,
            retention: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

/// Who changed a destination's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangedBy {
    /// An operator: the CLI, the console, a pushed file.
    Operator,
    /// The dispatcher: every attempt failed for the auto-disable period,
    /// or a probe succeeded.
    Automatic,
    /// The destination answered `410 Gone`.
    Gone,
}

impl ChangedBy {
    fn as_str(self) -> &'static str {
        match self {
            ChangedBy::Operator => "operator",
            ChangedBy::Automatic => "automatic",
            ChangedBy::Gone => "gone",
        }
    }
}

/// Something worth telling an operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Alert {
    DestinationDisabled {
        destination: DestinationId,
        by: ChangedBy,
        reason: Option<String>,
    },
    DestinationEnabled {
        destination: DestinationId,
        by: ChangedBy,
    },
    /// A dispatcher saw `attempts` attempts to the destination fail in a
    /// row.
    DestinationFailing {
        destination: DestinationId,
        attempts: u32,
        last_outcome: AttemptOutcome,
    },
    /// A delivery used up its retry schedule (or was refused for good).
    DeliveryFailed {
        destination: DestinationId,
        event_id: EventId,
        source: SourceId,
        event_type: Option<String>,
        attempts: u32,
        last_outcome: AttemptOutcome,
    },
    /// Queue messages the dispatcher could not handle are waiting in the
    /// dead-letter queue.
    DeadLetters { queue: String, waiting: u64 },
}

impl Alert {
    pub fn event_type(&self) -> &'static str {
        match self {
            Alert::DestinationDisabled { .. } => OPERATIONAL_EVENT_TYPES[0],
            Alert::DestinationEnabled { .. } => OPERATIONAL_EVENT_TYPES[1],
            Alert::DestinationFailing { .. } => OPERATIONAL_EVENT_TYPES[2],
            Alert::DeliveryFailed { .. } => OPERATIONAL_EVENT_TYPES[3],
            Alert::DeadLetters { .. } => OPERATIONAL_EVENT_TYPES[4],
        }
    }

    /// What the alert is about: one per subject and type per window.
    fn subject(&self) -> &str {
        match self {
            Alert::DestinationDisabled { destination, .. }
            | Alert::DestinationEnabled { destination, .. }
            | Alert::DestinationFailing { destination, .. }
            | Alert::DeliveryFailed { destination, .. } => destination.as_str(),
            Alert::DeadLetters { .. } => "dead-letters",
        }
    }

    /// One line for a person (a chat message, `format = "slack"`).
    pub fn summary(&self) -> String {
        match self {
            Alert::DestinationDisabled {
                destination,
                by,
                reason,
            } => {
                let how = match by {
                    ChangedBy::Operator => "by an operator",
                    ChangedBy::Automatic => "automatically",
                    ChangedBy::Gone => "after it answered 410 Gone",
                };
                let why = reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default();
                format!("hookrelay: destination {destination} was disabled {how}{why}; its deliveries are parked until it is enabled")
            }
            Alert::DestinationEnabled { destination, by } => {
                let how = match by {
                    ChangedBy::Automatic => "after a probe succeeded",
                    _ => "by an operator",
                };
                format!("hookrelay: destination {destination} was enabled {how}; its parked deliveries are being released")
            }
            Alert::DestinationFailing {
                destination,
                attempts,
                last_outcome,
            } => format!(
                "hookrelay: destination {destination} is failing: {attempts} attempts in a row failed (last: {last_outcome})"
            ),
            Alert::DeliveryFailed {
                destination,
                event_id,
                source,
                attempts,
                last_outcome,
                ..
            } => format!(
                "hookrelay: delivery of {event_id} from {source} to {destination} failed for good after {attempts} attempt(s) (last: {last_outcome}); replay it with hookrelay replay"
            ),
            Alert::DeadLetters { waiting, .. } => format!(
                "hookrelay: {waiting} queue message(s) the dispatcher could not handle are waiting in the dead-letter queue"
            ),
        }
    }

    /// The event's `data`.
    fn data(&self) -> Value {
        let mut data = match self {
            Alert::DestinationDisabled {
                destination,
                by,
                reason,
            } => json!({"destination": destination, "by": by.as_str(), "reason": reason}),
            Alert::DestinationEnabled { destination, by } => {
                json!({"destination": destination, "by": by.as_str()})
            }
            Alert::DestinationFailing {
                destination,
                attempts,
                last_outcome,
            } => json!({
                "destination": destination,
                "failed_attempts": attempts,
                "last_outcome": last_outcome.to_string(),
            }),
            Alert::DeliveryFailed {
                destination,
                event_id,
                source,
                event_type,
                attempts,
                last_outcome,
            } => json!({
                "destination": destination,
                "event_id": event_id,
                "source": source,
                "event_type": event_type,
                "attempts": attempts,
                "last_outcome": last_outcome.to_string(),
            }),
            Alert::DeadLetters { queue, waiting } => json!({"queue": queue, "waiting": waiting}),
        };
        data["summary"] = Value::String(self.summary());
        data
    }

    /// The event's body, in Standard Webhooks' shape: `type`, `timestamp`
    /// and `data`.
    pub fn body(&self, at: Timestamp) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "type": self.event_type(),
            "timestamp": at.to_string(),
            "data": self.data(),
        }))
        .expect("JSON values always serialize")
    }
}

/// The `data.summary` of an operational event's body, if it is one.
pub fn summary_of(event: &Event) -> Option<String> {
    if !event.source.is_operational() {
        return None;
    }
    let body: Value = serde_json::from_slice(&event.body).ok()?;
    body.pointer("/data/summary")?.as_str().map(str::to_string)
}

/// Raises alerts: stores each as an event of [`hookrelay_models::OPERATIONAL_SOURCE`] and
/// queues it, when a route wants its type.
#[derive(Clone)]
pub struct Alerts {
    config: Arc<dyn ConfigStore>,
    events: Arc<dyn EventStore>,
    queue: Arc<dyn Queue>,
    clock: Arc<dyn Clock>,
    metrics: Arc<dyn Metrics>,
    settings: AlertSettings,
}

impl Alerts {
    pub fn new(
        config: Arc<dyn ConfigStore>,
        events: Arc<dyn EventStore>,
        queue: Arc<dyn Queue>,
        clock: Arc<dyn Clock>,
        metrics: Arc<dyn Metrics>,
        settings: AlertSettings,
    ) -> Self {
        Alerts {
            config,
            events,
            queue,
            clock,
            metrics,
            settings,
        }
    }

    /// The same, counting what it queues in `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<dyn Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    pub fn settings(&self) -> &AlertSettings {
        &self.settings
    }

    /// Whether some route selects operational events of `event_type`.
    pub async fn wanted(&self, event_type: &str) -> Result<bool, CoreError> {
        let config = self.config.config().await?;
        let source = SourceId::operational();
        let wanted = config
            .routes_for(&source, Some(event_type))
            .next()
            .is_some();
        Ok(wanted)
    }

    /// Looks at the dead-letter queue and raises `dead_letters.waiting`
    /// if messages wait there (and a route wants to hear of it: if none
    /// does, the queue is not even asked). Answers how many wait, if it
    /// asked.
    pub async fn check_dead_letters(
        &self,
        queue: &dyn DeadLetters,
    ) -> Result<Option<u64>, CoreError> {
        if !self.wanted(OPERATIONAL_EVENT_TYPES[4]).await? {
            return Ok(None);
        }
        let waiting = queue.waiting().await?;
        if waiting > 0 {
            self.raise(&Alert::DeadLetters {
                queue: queue.name(),
                waiting,
            })
            .await?;
        }
        Ok(Some(waiting))
    }

    /// Stores and queues `alert` if a route selects its type and it was
    /// not raised already in this window. `Some(id)` is the event that
    /// stands for it (this one, or the window's first).
    pub async fn raise(&self, alert: &Alert) -> Result<Option<EventId>, CoreError> {
        if !self.wanted(alert.event_type()).await? {
            return Ok(None);
        }
        let source = SourceId::operational();
        let now = self.clock.now();
        let dedupe = window_key(alert, now, self.settings.window);
        let event = Event {
            id: EventId::new(now),
            source: source.clone(),
            event_type: Some(alert.event_type().to_string()),
            provider_delivery_id: dedupe.as_ref().map(|k| k.provider_delivery_id.clone()),
            received_at: now,
            headers: vec![("content-type".to_string(), "application/json".to_string())],
            body: alert.body(now).into(),
        };
        let lanes = self.config.lanes_for(&event).await?;
        let stored = dedupe::store_and_queue(
            &*self.events,
            &*self.queue,
            event,
            dedupe.as_ref(),
            &lanes,
            now.saturating_add(self.settings.retention),
            &|| self.metrics.record(Metric::Enqueued),
        )
        .await?;
        Ok(Some(match stored {
            dedupe::Stored::New(id) => {
                tracing::info!(event_id = %id, event_type = alert.event_type(), subject = alert.subject(), "operational event raised");
                id
            }
            dedupe::Stored::Duplicate(id) => id,
        }))
    }

    /// [`Alerts::raise`], for callers whose own work is done and must not
    /// fail for the alert: an alert that cannot be stored is logged.
    pub async fn raise_or_log(&self, alert: &Alert) {
        if let Err(err) = self.raise(alert).await {
            tracing::warn!(event_type = alert.event_type(), subject = alert.subject(), error = %err, summary = %alert.summary(), "operational event could not be raised");
        }
    }
}

/// Where queue messages the dispatcher could not handle end up (SQS's
/// redrive to the dead-letter queue).
#[async_trait]
pub trait DeadLetters: Send + Sync {
    /// The queue, as an alert names it.
    fn name(&self) -> String;
    /// About how many messages wait in it.
    async fn waiting(&self) -> Result<u64, CoreError>;
}

/// The dedupe key that makes `alert` one per window: `None` when every
/// alert counts (a zero window).
fn window_key(alert: &Alert, now: Timestamp, window: Duration) -> Option<DedupeKey> {
    let length = i64::try_from(window.as_millis()).ok().filter(|l| *l > 0)?;
    let index = now.unix_millis().div_euclid(length);
    Some(DedupeKey {
        source: SourceId::operational(),
        provider_delivery_id: format!("{}:{}:{index}", alert.event_type(), alert.subject()),
        expires_at: Timestamp::from_unix_millis((index + 1).saturating_mul(length)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disabled(destination: &str) -> Alert {
        Alert::DestinationDisabled {
            destination: DestinationId::parse(destination).unwrap(),
            by: ChangedBy::Automatic,
            reason: Some("every attempt failed from a to b".into()),
        }
    }

    #[test]
    fn one_key_per_type_subject_and_aligned_window() {
        let hour = Duration::from_secs(3600);
        let at = |secs| Timestamp::from_unix_secs(secs);
        let key = |alert: &Alert, secs| window_key(alert, at(secs), hour).unwrap();
        let orders = disabled("orders");
        assert_eq!(key(&orders, 7200), key(&orders, 7200 + 3599));
        assert_ne!(key(&orders, 7200), key(&orders, 7200 + 3600));
        assert_ne!(key(&orders, 7200), key(&disabled("billing"), 7200));
        let enabled = Alert::DestinationEnabled {
            destination: DestinationId::parse("orders").unwrap(),
            by: ChangedBy::Operator,
        };
        assert_ne!(key(&orders, 7200), key(&enabled, 7200));
        assert_eq!(key(&orders, 7200).expires_at, at(10800));
        assert_eq!(window_key(&orders, at(7200), Duration::ZERO), None);
    }

    #[test]
    fn the_body_is_standard_webhooks_shaped_with_a_summary() {
        let alert = Alert::DeliveryFailed {
            destination: DestinationId::parse("orders").unwrap(),
            event_id: EventId::new(Timestamp::from_unix_secs(1_700_000_000)),
            source: SourceId::parse("github").unwrap(),
            event_type: Some("push".into()),
            attempts: 3,
            last_outcome: AttemptOutcome::Response { status: 500 },
        };
        let at = Timestamp::from_unix_secs(1_700_000_100);
        let body: Value = serde_json::from_slice(&alert.body(at)).unwrap();
        assert_eq!(body["type"], "delivery.failed");
        assert_eq!(body["timestamp"], "2023-11-14T22:15:00.000Z");
        assert_eq!(body["data"]["destination"], "orders");
        assert_eq!(body["data"]["attempts"], 3);
        assert_eq!(body["data"]["event_type"], "push");
        let summary = body["data"]["summary"].as_str().unwrap();
        assert!(summary.contains("to orders failed for good after 3 attempt(s)"));
        assert!(summary.contains("500"), "{summary}");
        let event = Event {
            id: EventId::new(at),
            source: SourceId::operational(),
            event_type: Some("delivery.failed".into()),
            provider_delivery_id: None,
            received_at: at,
            headers: Vec::new(),
            body: alert.body(at).into(),
        };
        assert_eq!(summary_of(&event).as_deref(), Some(summary));
        let provider = Event {
            source: SourceId::parse("github").unwrap(),
            ..event
        };
        assert_eq!(summary_of(&provider), None);
    }
}
