//! Releasing a destination's parked deliveries, one at a time in arrival
//! order, once it is enabled again.
//!
//! A release is a chain of queue messages, one per parked delivery: the
//! dispatcher reopens the delivery when its message arrives, attempts it,
//! and once it is settled releases the next. Which delivery heads the chain
//! is recorded with the destination's health ([`DestinationHealth::
//! release_head`]), and each step moves it by a conditional write from the
//! delivery just settled: a link handled twice (SQS delivers at least
//! once), an enable retried, or a delivery parked while an enable was under
//! way can each start at most one chain, so at most one parked delivery is
//! in flight and they go in arrival order.
use hookrelay_models::{DeliveryState, DestinationId, EventId, Timestamp};
use std::time::Duration;

use crate::error::CoreError;
use crate::ports::{DeliveryStore, DestinationHealth, ListOrder, MessageKind, Queue, QueueMessage};

/// Releases a destination's oldest parked delivery: queues it as the next
/// link of the release chain. `after` is the link just settled; `None`
/// begins a release (an enable; a delivery parked as one landed), unless
/// one is under way (its head pending: being attempted or retried).
/// Returns the released event, or `None` if nothing was released here.
pub async fn release_next_parked(
    deliveries: &dyn DeliveryStore,
    health: &dyn DestinationHealth,
    queue: &dyn Queue,
    destination: &DestinationId,
    after: Option<&EventId>,
) -> Result<Option<EventId>, CoreError> {
    let mut from = after.cloned();
    let mut beginning = after.is_none();
    // The oldest parked, read before the head's state below: a head that
    // is parked then was parked when this was read too.
    let mut next = oldest_parked(deliveries, destination).await?;
    loop {
        if beginning {
            from = health.release_head(destination).await?;
            if let Some(head) = &from {
                let state = deliveries
                    .delivery(head, destination)
                    .await?
                    .map(|d| d.state);
                match state {
                    // Under way: its head is being attempted or retried.
                    Some(DeliveryState::Pending) => return Ok(None),
                    // Its message may be on its way (an enable retried),
                    // or the release stopped there (disabled again). If it
                    // is the oldest parked, send it (again): starting from
                    // another would put a second release beside one on its
                    // way. If an older one is parked, the release stopped
                    // there: start from the oldest.
                    Some(DeliveryState::Parked) if next.as_ref() == Some(head) => {
                        queue
                            .enqueue(&release(head, destination), Duration::ZERO)
                            .await?;
                        return Ok(Some(head.clone()));
                    }
                    // Settled or gone: carry on from it.
                    _ => {}
                }
            }
        }
        if !health
            .move_release_head(destination, from.as_ref(), next.as_ref())
            .await?
        {
            // Another handler of the same step moved the head first.
            return Ok(None);
        }
        if let Some(next) = next {
            queue
                .enqueue(&release(&next, destination), Duration::ZERO)
                .await?;
            return Ok(Some(next));
        }
        // Over. A delivery parked while this looked must not wait for the
        // next enable: look once more, and begin again from it.
        next = oldest_parked(deliveries, destination).await?;
        if next.is_none() {
            tracing::info!(destination = %destination, "no parked deliveries left to release");
            return Ok(None);
        }
        beginning = true;
    }
}

/// The message that makes `event`'s delivery a link of the release.
fn release(event: &EventId, destination: &DestinationId) -> QueueMessage {
    QueueMessage {
        event_id: event.clone(),
        kind: MessageKind::Release(destination.clone()),
        // Not known from the parked list: reserved once read.
        body_bytes: None,
        slot: None,
    }
}

async fn oldest_parked(
    deliveries: &dyn DeliveryStore,
    destination: &DestinationId,
) -> Result<Option<EventId>, CoreError> {
    // The list by state is an index (on DynamoDB a global secondary index,
    // only eventually consistent): it may still show a delivery that has
    // left the state, the one just released above all. Each candidate's
    // state is read from the table before it is trusted; one more read per
    // step, only while a release runs.
    let candidates = deliveries
        .deliveries_in_state(
            destination,
            DeliveryState::Parked,
            None,
            ListOrder::OldestFirst,
            STALE_CANDIDATES,
        )
        .await?;
    for candidate in candidates {
        let state = deliveries
            .delivery(&candidate, destination)
            .await?
            .map(|d| d.state);
        if state == Some(DeliveryState::Parked) {
            return Ok(Some(candidate));
        }
    }
    Ok(None)
}

/// How many of the oldest listed as parked are checked against the table
/// in one step: enough to pass what a lagging index still shows as parked
/// (the deliveries released just before).
const STALE_CANDIDATES: usize = 10;

/// How long after an enable its release is begun once more. Parked
/// deliveries are found through an index that lags the table (on DynamoDB
/// a global secondary index, usually by well under a second): one parked
/// just before the enable, or as it landed, may not be listed yet when the
/// enable's release looks, and without a second look it would wait for the
/// next enable. Past this, the index shows it.
pub const INDEX_LAG_ALLOWANCE: Duration = Duration::from_secs(60);

/// What follows a destination being enabled again, however that happened
/// (by hand, by a pushed file, by a probe): failures from before no longer
/// count towards disabling it, and its parked deliveries are released in
/// arrival order, beginning now and once more after
/// [`INDEX_LAG_ALLOWANCE`] (a [`MessageKind::Resume`] message: one more
/// SendMessage per enable). Returns the first event released now, if any
/// was parked.
pub async fn resume_destination(
    health: &dyn DestinationHealth,
    deliveries: &dyn DeliveryStore,
    queue: &dyn Queue,
    destination: &DestinationId,
    now: Timestamp,
) -> Result<Option<EventId>, CoreError> {
    health.set_failing_since(destination, None).await?;
    let again = QueueMessage {
        event_id: EventId::lower_bound(now),
        kind: MessageKind::Resume(destination.clone()),
        body_bytes: None,
        slot: None,
    };
    queue.enqueue(&again, INDEX_LAG_ALLOWANCE).await?;
    release_next_parked(deliveries, health, queue, destination, None).await
}

impl super::Dispatch {
    /// Begins a release of the destination's parked deliveries if it is
    /// enabled as stored, past the cache (a disable may have just parked
    /// one), and none is under way. One configuration read.
    pub(super) async fn release_if_enabled(
        &self,
        destination: &DestinationId,
    ) -> Result<(), CoreError> {
        let enabled = self
            .config
            .fresh_destination(destination)
            .await?
            .is_some_and(|d| d.enabled);
        if enabled {
            release_next_parked(
                &*self.deliveries,
                &*self.health,
                &*self.queue,
                destination,
                None,
            )
            .await?;
        }
        Ok(())
    }

    /// Carries a release on once its link for `settled` is settled.
    pub(super) async fn release_after(
        &self,
        settled: &EventId,
        destination: &DestinationId,
    ) -> Result<(), CoreError> {
        release_next_parked(
            &*self.deliveries,
            &*self.health,
            &*self.queue,
            destination,
            Some(settled),
        )
        .await?;
        Ok(())
    }
}
