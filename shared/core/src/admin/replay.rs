//! Replay of one event and bulk recovery of a destination's failed
//! deliveries: each a new attempt series with the same `webhook-id`.
use hookrelay_models::{DeliveryState, DestinationId, EventId, Timestamp};
use std::collections::BTreeSet;
use std::time::Duration;

use super::{not_found, Admin, AdminResponse, Replayed, MAX_RECOVER};
use crate::error::CoreError;
use crate::ports::{ListOrder, Queue, QueueMessage};

impl Admin {
    /// Sends an event again, to one destination or to all it was delivered
    /// to: each delivery starts a new attempt series with the same
    /// `webhook-id`, so receivers that deduplicate see one event.
    pub(super) async fn replay(
        &self,
        event: EventId,
        destination: Option<DestinationId>,
    ) -> Result<AdminResponse, CoreError> {
        let queue = self.queue()?;
        if self.stores.events.event(&event).await?.is_none() {
            return Err(not_found(format!("no event {event} (or it has expired)")));
        }
        let targets: Vec<DestinationId> = match &destination {
            Some(id) => {
                self.destination(id).await?;
                vec![id.clone()]
            }
            None => self
                .stores
                .deliveries
                .deliveries_for_event(&event)
                .await?
                .into_iter()
                .map(|d| d.destination)
                .collect(),
        };
        if targets.is_empty() {
            queue
                .enqueue(&QueueMessage::fan_out(event.clone()), Duration::ZERO)
                .await?;
            return Ok(AdminResponse::Replayed(vec![Replayed {
                event,
                destination: None,
                previous_state: None,
            }]));
        }
        let mut replayed = Vec::new();
        for target in targets {
            replayed.push(self.replay_one(queue, &event, &target).await?);
        }
        Ok(AdminResponse::Replayed(replayed))
    }

    pub(super) async fn replay_one(
        &self,
        queue: &dyn Queue,
        event: &EventId,
        destination: &DestinationId,
    ) -> Result<Replayed, CoreError> {
        let previous = self.stores.deliveries.delivery(event, destination).await?;
        self.stores
            .deliveries
            .reopen(event, destination, self.clock.now(), true)
            .await?;
        // Queued whatever reopen said: a pending delivery whose message was
        // lost is picked up again; the claim keeps a duplicate harmless.
        queue
            .enqueue(
                &QueueMessage::delivery(event.clone(), destination.clone()),
                Duration::ZERO,
            )
            .await?;
        Ok(Replayed {
            event: event.clone(),
            destination: Some(destination.clone()),
            previous_state: previous.map(|d| d.state),
        })
    }

    /// Replays every failed delivery to `destination` of events received
    /// since `since`, oldest first.
    pub(super) async fn recover(
        &self,
        destination: DestinationId,
        since: Option<Timestamp>,
    ) -> Result<AdminResponse, CoreError> {
        let queue = self.queue()?;
        self.destination(&destination).await?;
        let page_size = self.recover_page;
        let mut replayed = Vec::new();
        let mut seen = BTreeSet::new();
        let mut from = since;
        loop {
            let page = self
                .stores
                .deliveries
                .deliveries_in_state(
                    &destination,
                    DeliveryState::Failed,
                    from,
                    ListOrder::OldestFirst,
                    page_size,
                )
                .await?;
            let full = page.len() == page_size;
            let last = page.last().map(EventId::timestamp);
            // Replayed deliveries leave the failed list, but an index that
            // lags may still show them: skip what was seen.
            let fresh: Vec<EventId> = page
                .into_iter()
                .filter(|id| seen.insert(id.clone()))
                .collect();
            let progressed = !fresh.is_empty();
            for event in fresh {
                let now = self.clock.now();
                if self
                    .stores
                    .deliveries
                    .reopen(&event, &destination, now, true)
                    .await?
                {
                    queue
                        .enqueue(
                            &QueueMessage::delivery(event.clone(), destination.clone()),
                            Duration::ZERO,
                        )
                        .await?;
                    replayed.push(Replayed {
                        event,
                        destination: Some(destination.clone()),
                        previous_state: Some(DeliveryState::Failed),
                    });
                }
            }
            if !full || !progressed || replayed.len() >= MAX_RECOVER {
                break;
            }
            // The next page starts at the last one's millisecond (ids of
            // that millisecond seen already are skipped above).
            from = last;
        }
        Ok(AdminResponse::Replayed(replayed))
    }
}
