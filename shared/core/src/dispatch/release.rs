//! Releasing a destination's parked deliveries, one at a time in arrival
//! order, once it is enabled again.
use hookrelay_models::{DeliveryState, DestinationId};
use std::time::Duration;

use crate::error::CoreError;
use crate::ports::{DeliveryStore, DestinationHealth, ListOrder, MessageKind, Queue, QueueMessage};

/// Releases a destination's oldest parked delivery: queues it as a link of
/// the release chain. The dispatcher reopens it when the message arrives,
/// attempts it, and once it is settled releases the next, so parked
/// deliveries go out one at a time in arrival order. Returns the released
/// event, or `None` if nothing is parked.
pub async fn release_next_parked(
    deliveries: &dyn DeliveryStore,
    queue: &dyn Queue,
    destination: &DestinationId,
) -> Result<Option<hookrelay_models::EventId>, CoreError> {
    let Some(next) = deliveries
        .deliveries_in_state(
            destination,
            DeliveryState::Parked,
            None,
            ListOrder::OldestFirst,
            1,
        )
        .await?
        .into_iter()
        .next()
    else {
        tracing::info!(destination = %destination, "no parked deliveries left to release");
        return Ok(None);
    };
    let message = QueueMessage {
        event_id: next.clone(),
        kind: MessageKind::Release(destination.clone()),
    };
    queue.enqueue(&message, Duration::ZERO).await?;
    Ok(Some(next))
}

/// What follows a destination being enabled again, however that happened
/// (by hand, by a pushed file, by a probe): failures from before no longer
/// count towards disabling it, and its parked deliveries are released in
/// arrival order. Returns the first event released, if any was parked.
pub async fn resume_destination(
    health: &dyn DestinationHealth,
    deliveries: &dyn DeliveryStore,
    queue: &dyn Queue,
    destination: &DestinationId,
) -> Result<Option<hookrelay_models::EventId>, CoreError> {
    health.set_failing_since(destination, None).await?;
    release_next_parked(deliveries, queue, destination).await
}
