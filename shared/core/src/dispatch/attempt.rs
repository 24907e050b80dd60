//! One attempt: send the request, record what came of it, schedule what
//! comes next, and note the destination's health and any pause it asked
//! for.
use hookrelay_models::{
    Attempt, AttemptErrorKind, AttemptOutcome, Delivery, DeliveryState, Destination, Event,
    Timestamp,
};

use std::time::Duration;

use super::{DeliveryReport, Dispatch, MAX_QUEUE_DELAY};
use crate::error::CoreError;
use crate::metrics::Metric;
use crate::operational::{Alert, ChangedBy};
use crate::ports::QueueMessage;
use crate::retry::{next_step, random_jitter_sample, NextStep};

impl Dispatch {
    pub(super) async fn attempt(
        &self,
        event: &Event,
        destination: &Destination,
        mut delivery: Delivery,
        lease: Timestamp,
        follow_up: &QueueMessage,
    ) -> Result<DeliveryReport, CoreError> {
        let started_at = self.clock.now();
        let lease_left = lease.since(started_at);
        if lease_left < destination.timeout() {
            // Held up past the lease's margin (a starved process, a slow
            // store): the request could outlive the lease, and another
            // dispatcher then send the delivery while it is on its way (at
            // an ordered destination, the key's next event too). Left to
            // the lease instead; the delivery comes back after it.
            let wait = (lease_left + Duration::from_secs(1)).min(MAX_QUEUE_DELAY);
            self.queue.enqueue(follow_up, wait).await?;
            tracing::warn!(event_id = %event.id, destination = %destination.id, "lease nearly out before the request; left to it");
            return Ok(DeliveryReport::Busy);
        }
        let number = delivery.attempts + 1;
        let request = self.outbound_request(event, destination, started_at, delivery.series)?;
        let sent = self.sender.send(&request).await;

        let schedule = destination.retry_schedule();
        let jitter = if self.settings.jitter {
            random_jitter_sample()
        } else {
            0.0
        };
        let step = next_step(
            &schedule,
            number,
            delivery.deferrals,
            sent.outcome,
            sent.retry_after,
            jitter,
            &self.settings.policy,
        );
        let finished_at = self.clock.now();
        let attempt = Attempt {
            event_id: event.id.clone(),
            destination: destination.id.clone(),
            number,
            series: delivery.series,
            started_at,
            duration_ms: sent.duration.as_millis() as u64,
            outcome: sent.outcome,
            response_body: sent.response_body.clone(),
            response_truncated: sent.response_truncated,
        };
        delivery.last_outcome = Some(sent.outcome);
        delivery.lease_until = None;
        delivery.updated_at = finished_at;
        let report = match step {
            NextStep::Succeeded => {
                delivery.attempts = number;
                delivery.state = DeliveryState::Succeeded;
                delivery.next_attempt_at = None;
                DeliveryReport::Succeeded { attempt: number }
            }
            NextStep::Failed => {
                delivery.attempts = number;
                delivery.state = DeliveryState::Failed;
                delivery.next_attempt_at = None;
                DeliveryReport::Failed {
                    attempt: number,
                    outcome: sent.outcome,
                }
            }
            NextStep::Gone => {
                delivery.attempts = number;
                delivery.state = DeliveryState::Failed;
                delivery.next_attempt_at = None;
                DeliveryReport::DestinationGone { attempt: number }
            }
            NextStep::Retry {
                after,
                attempt_spent,
            } => {
                if attempt_spent {
                    delivery.attempts = number;
                } else {
                    delivery.deferrals += 1;
                }
                delivery.state = DeliveryState::Pending;
                let due = finished_at.saturating_add(after);
                delivery.next_attempt_at = Some(due);
                DeliveryReport::RetryScheduled {
                    attempt: number,
                    after,
                }
            }
        };
        if !self
            .deliveries
            .record_attempt(&attempt, &delivery, lease)
            .await?
        {
            tracing::warn!(event_id = %event.id, destination = %destination.id, "attempt outlived its lease; not recorded as the delivery's state");
            return Ok(DeliveryReport::LeaseLost);
        }
        if let (AttemptOutcome::Response { status: 429 | 503 }, Some(wait)) =
            (sent.outcome, sent.retry_after)
        {
            // The destination asked every sender to hold off, not only for
            // this delivery: pause it for every dispatcher. A pause that
            // cannot be written is not worth the message: this delivery's
            // own retry waits as asked all the same.
            let until = finished_at.saturating_add(wait.min(self.settings.policy.max_retry_after));
            if let Err(err) = self.pacer.pause(&destination.id, until).await {
                tracing::warn!(destination = %destination.id, error = %err, "could not record the destination's pause");
            }
        }
        if let DeliveryReport::RetryScheduled { after, .. } = report {
            // Queued only once the pending state is recorded, so the retry
            // never finds its own attempt's lease. If queueing fails, the
            // error makes the queue redeliver the message in hand, which
            // finds the delivery pending and picks it up: nothing is lost.
            self.queue
                .enqueue(follow_up, after.min(MAX_QUEUE_DELAY))
                .await?;
        }
        self.metrics.record(match &report {
            DeliveryReport::Succeeded { .. } => Metric::Delivered {
                latency_ms: finished_at.since(event.received_at).as_millis() as u64,
            },
            DeliveryReport::RetryScheduled { .. } => Metric::RetryScheduled,
            _ => Metric::DeliveryFailed,
        });
        // An undeliverable attempt says nothing of the destination's
        // health (the event cannot go there as it is): it neither counts
        // toward the automatic disable nor clears it.
        let undeliverable = sent.outcome
            == (AttemptOutcome::Error {
                error: AttemptErrorKind::Undeliverable,
            });
        if !undeliverable {
            self.track_health(destination, &event.id, sent.outcome, finished_at)
                .await?;
        }
        if let DeliveryReport::DestinationGone { .. } = report {
            let reason = format!("410 Gone at {finished_at}");
            self.config
                .set_destination_enabled(&destination.id, false, Some(reason.clone()))
                .await?;
            self.alerts
                .raise_or_log(&Alert::DestinationDisabled {
                    destination: destination.id.clone(),
                    by: ChangedBy::Gone,
                    reason: Some(reason),
                })
                .await;
        }
        if let (DeliveryReport::Failed { .. }, false) = (&report, event.source.is_operational()) {
            // Not for an operational event's own delivery: an alerts
            // destination that fails is told of by `destination.failing`,
            // not by an alert about each alert.
            self.alerts
                .raise_or_log(&Alert::DeliveryFailed {
                    destination: destination.id.clone(),
                    event_id: event.id.clone(),
                    source: event.source.clone(),
                    event_type: event.event_type.clone(),
                    attempts: number,
                    last_outcome: sent.outcome,
                })
                .await;
        }
        self.watch_failures_in_a_row(destination, sent.outcome)
            .await;
        log_attempt(event, destination, &attempt, &report);
        Ok(report)
    }
}

impl Dispatch {
    /// Counts failed attempts in a row to `destination` as this process
    /// sees them, and raises `destination.failing` each time the count
    /// reaches another `failing_after`. Counted in memory, not from the
    /// attempt log: reading a destination's latest attempts queries every
    /// index shard (32 by default, about 16 read units), which cost the
    /// one-retry scenario 3.3 read units per webhook when tried. So it
    /// takes one dispatcher seeing N failures in a row; one that sees a
    /// success starts again.
    async fn watch_failures_in_a_row(&self, destination: &Destination, outcome: AttemptOutcome) {
        let threshold = self.settings.alerts.failing_after;
        let count = {
            let mut counts = self
                .failures_in_a_row
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if outcome.is_success() {
                counts.remove(&destination.id);
                return;
            }
            let count = counts.entry(destination.id.clone()).or_insert(0);
            *count += 1;
            *count
        };
        if threshold == 0 || count % threshold != 0 {
            return;
        }
        self.alerts
            .raise_or_log(&Alert::DestinationFailing {
                destination: destination.id.clone(),
                attempts: count,
                last_outcome: outcome,
            })
            .await;
    }
}

fn log_attempt(
    event: &Event,
    destination: &Destination,
    attempt: &Attempt,
    report: &DeliveryReport,
) {
    let outcome = attempt.outcome.to_string();
    match report {
        DeliveryReport::Succeeded { .. } => tracing::info!(
            event_id = %event.id, destination = %destination.id, attempt = attempt.number,
            outcome, duration_ms = attempt.duration_ms, result = "delivered", "delivery attempt"
        ),
        DeliveryReport::RetryScheduled { after, .. } => tracing::info!(
            event_id = %event.id, destination = %destination.id, attempt = attempt.number,
            outcome, duration_ms = attempt.duration_ms, result = "retry_scheduled",
            retry_in_ms = after.as_millis() as u64, "delivery attempt"
        ),
        _ => tracing::warn!(
            event_id = %event.id, destination = %destination.id, attempt = attempt.number,
            outcome, duration_ms = attempt.duration_ms, result = "failed", "delivery attempt"
        ),
    }
}
