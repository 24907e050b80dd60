//! Destination health: how long a destination has been failing, the
//! automatic disable once every attempt has failed for the period, and the
//! probes that bring an automatically disabled destination back.
use hookrelay_models::{AttemptOutcome, Destination, DestinationId, Event, Timestamp};

use super::{resume_destination, DeliveryResult, Dispatch, AUTO_DISABLED, MAX_QUEUE_DELAY};
use crate::error::CoreError;
use crate::metrics::Metric;
use crate::operational::{Alert, ChangedBy};
use crate::ports::{MessageKind, QueueMessage};

impl Dispatch {
    /// Keeps track of how long a destination has been failing, and
    /// disables it once every attempt has failed for `auto_disable_after`.
    /// The decision is checked against the attempt log (another dispatcher
    /// may have seen a success this one has not), so a destination that
    /// succeeds now and then is never disabled.
    pub(super) async fn track_health(
        &self,
        destination: &Destination,
        event: &hookrelay_models::EventId,
        outcome: AttemptOutcome,
        at: Timestamp,
    ) -> Result<(), CoreError> {
        let Some(period) = self.settings.auto_disable_after else {
            return Ok(());
        };
        if outcome.is_success() {
            // Only the success that finds the destination failing clears
            // the record: the others of a batch find it cleared in memory.
            let was_failing = self
                .failing_since
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&destination.id)
                .is_some();
            if was_failing {
                self.health.set_failing_since(&destination.id, None).await?;
            }
            return Ok(());
        }
        // The first failure this process sees notes it in the store; the
        // rest of a batch, failing at the same moment, find it noted here
        // first. So the record is written when the state changes, not per
        // attempt.
        let known = {
            let mut failing = self.failing_since.lock().unwrap_or_else(|e| e.into_inner());
            let known = failing.get(&destination.id).copied();
            if known.is_none() {
                failing.insert(destination.id.clone(), at);
            }
            known
        };
        let since = match known {
            Some(since) => since,
            None => match self.health.note_failing(&destination.id, at).await {
                Ok(since) => {
                    self.remember_failing(&destination.id, since);
                    since
                }
                Err(err) => {
                    // Not noted: let the next failure try again.
                    self.forget_failing(&destination.id);
                    return Err(err);
                }
            },
        };
        if at.since(since) < period {
            return Ok(());
        }
        if known.is_some() {
            // This process's memory may be stale: the destination may have
            // been enabled again since (which clears the store's record) or
            // have recovered under another dispatcher. The store decides.
            let stored = self.health.note_failing(&destination.id, at).await?;
            self.remember_failing(&destination.id, stored);
            if at.since(stored) < period {
                return Ok(());
            }
        }
        let recent = self
            .deliveries
            .attempts_for_destination(&destination.id, 1000)
            .await?;
        if let Some(success) = recent.iter().find(|a| a.outcome.is_success()) {
            if at.since(success.started_at) < period {
                // Failing only since that success.
                self.health
                    .set_failing_since(&destination.id, Some(success.started_at))
                    .await?;
                self.remember_failing(&destination.id, success.started_at);
                return Ok(());
            }
        }
        let reason = format!("{AUTO_DISABLED} from {since} to {at}; disabled automatically");
        self.config
            .set_destination_enabled(&destination.id, false, Some(reason.clone()))
            .await?;
        self.alerts
            .raise_or_log(&Alert::DestinationDisabled {
                destination: destination.id.clone(),
                by: ChangedBy::Automatic,
                reason: Some(reason),
            })
            .await;
        self.health.set_failing_since(&destination.id, None).await?;
        self.forget_failing(&destination.id);
        tracing::warn!(
            destination = %destination.id, failing_since = %since,
            probe_every_secs = self.settings.probe_every.map(|d| d.as_secs()),
            "destination disabled automatically: every attempt failed; its deliveries are parked until it is enabled"
        );
        self.metrics.record(Metric::DestinationDisabled);
        if let Some(every) = self.settings.probe_every {
            let probe = QueueMessage {
                event_id: event.clone(),
                kind: MessageKind::Probe(destination.id.clone()),
                // A probe sends a body of its own, not the event's.
                body_bytes: None,
                slot: None,
            };
            self.queue
                .enqueue(&probe, every.min(MAX_QUEUE_DELAY))
                .await?;
        }
        Ok(())
    }

    fn remember_failing(&self, destination: &DestinationId, since: Timestamp) {
        self.failing_since
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(destination.clone(), since);
    }

    fn forget_failing(&self, destination: &DestinationId) {
        self.failing_since
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(destination);
    }

    /// Sends a signed `hookrelay.probe` event to an automatically disabled
    /// destination. A 2xx enables it and releases its parked deliveries in
    /// arrival order; anything else schedules the next probe. Probing stops
    /// if the destination was enabled, removed, or disabled for another
    /// reason in the meantime.
    pub(super) async fn probe(
        &self,
        message: &QueueMessage,
        id: &DestinationId,
    ) -> Result<Vec<DeliveryResult>, CoreError> {
        // Read past any cache: an operator may have enabled it, or
        // disabled it for another reason, since.
        let Some(destination) = self.config.fresh_destination(id).await? else {
            return Ok(Vec::new());
        };
        let destination = &destination;
        let auto_disabled = destination
            .disabled_reason
            .as_deref()
            .is_some_and(|r| r.starts_with(AUTO_DISABLED));
        if destination.enabled || !auto_disabled {
            return Ok(Vec::new());
        }
        let now = self.clock.now();
        let body = serde_json::json!({
            "type": "hookrelay.probe",
            "destination": destination.id.as_str(),
            "disabled": destination.disabled_reason,
        })
        .to_string()
        .into_bytes();
        let probe_event = Event {
            id: hookrelay_models::EventId::new(now),
            source: hookrelay_models::SourceId::operational(),
            event_type: Some("hookrelay.probe".into()),
            provider_delivery_id: None,
            received_at: now,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.into(),
        };
        let request = self.outbound_request(&probe_event, destination, now, 0)?;
        let sent = self.sender.send(&request).await;
        if sent.outcome.is_success() {
            self.config
                .set_destination_enabled(&destination.id, true, None)
                .await?;
            tracing::info!(destination = %destination.id, "probe succeeded; destination enabled again, releasing its parked deliveries in arrival order");
            self.alerts
                .raise_or_log(&Alert::DestinationEnabled {
                    destination: destination.id.clone(),
                    by: ChangedBy::Automatic,
                })
                .await;
            resume_destination(
                &*self.health,
                &*self.deliveries,
                &*self.queue,
                &destination.id,
                now,
            )
            .await?;
        } else if let Some(every) = self.settings.probe_every {
            tracing::info!(destination = %destination.id, outcome = %sent.outcome, "probe failed; destination stays disabled");
            self.queue
                .enqueue(message, every.min(MAX_QUEUE_DELAY))
                .await?;
        }
        Ok(Vec::new())
    }
}
