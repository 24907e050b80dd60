//! Ordered destinations' blocked keys: listing them, and letting a key go
//! on past a head that will never succeed, by skipping it (failed for
//! good, replayable) or releasing it (it keeps its retries, out of order).
use hookrelay_models::{
    Attempt, AttemptErrorKind, AttemptOutcome, Delivery, DeliveryState, DestinationId, EventId,
    Timestamp,
};
use serde::{Deserialize, Serialize};
use std::time::Duration;

use super::{invalid, not_found, Admin, AdminResponse};
use crate::dispatch::leave_lane;
use crate::error::CoreError;
use crate::lanes::LaneId;
use crate::ports::Claim;

/// A key held back by its head's failing delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockedKeyView {
    pub key: String,
    /// The event whose delivery heads the key.
    pub head: EventId,
    /// When its first attempt failed.
    pub since: Timestamp,
    /// Its delivery as it stands (attempts, next attempt, last outcome).
    pub delivery: Option<Delivery>,
    /// Events waiting in the key's lane, the head included (counted up to
    /// [`WAITING_COUNTED`]).
    pub waiting: usize,
}

/// How far a key's waiting events are counted for a listing.
pub const WAITING_COUNTED: usize = 1000;

/// What an operator does with a blocked key's head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeadAction {
    /// Fail it for good now (no request is made; replayable later).
    Skip,
    /// Take it out of the key's order: it keeps its retry schedule and
    /// goes whenever it goes.
    Release,
}

/// A skip's own lease on the head: long enough to record it.
const SKIP_LEASE: Duration = Duration::from_secs(30);

impl Admin {
    pub(super) async fn blocked_keys(
        &self,
        destination: DestinationId,
        limit: usize,
    ) -> Result<AdminResponse, CoreError> {
        self.ordered(&destination).await?;
        let blocked = self.stores.events.blocked_keys(&destination, limit).await?;
        let mut views = Vec::with_capacity(blocked.len());
        for key in blocked {
            let lane = LaneId {
                destination: destination.clone(),
                key: key.key.clone(),
            };
            let delivery = self
                .stores
                .deliveries
                .delivery(&key.head, &destination)
                .await?;
            let waiting = self
                .stores
                .events
                .lane_entries(&lane, WAITING_COUNTED)
                .await?
                .len();
            views.push(BlockedKeyView {
                key: key.key,
                head: key.head,
                since: key.since,
                delivery,
                waiting,
            });
        }
        Ok(AdminResponse::BlockedKeys(views))
    }

    /// Skips or releases the head of `key`'s lane at `destination`, then
    /// queues the key's next event.
    pub(super) async fn unblock_key(
        &self,
        destination: DestinationId,
        key: String,
        action: HeadAction,
    ) -> Result<AdminResponse, CoreError> {
        self.ordered(&destination).await?;
        let queue = self.queue()?;
        let lane = LaneId {
            destination: destination.clone(),
            key,
        };
        let Some(head) = self.stores.events.lane_head(&lane).await? else {
            return Err(not_found(format!(
                "no event of key {:?} waits at {destination}",
                lane.key
            )));
        };
        if action == HeadAction::Skip {
            self.fail_for_good(&head, &lane).await?;
        }
        leave_lane(&*self.stores.events, queue, &lane, &head, true).await?;
        let (done, after) = match action {
            HeadAction::Skip => ("skipped", "failed for good; replay it when it can succeed"),
            HeadAction::Release => ("released", "it keeps its retries, outside the key's order"),
        };
        tracing::info!(destination = %destination, key = %lane.key, event_id = %head, action = done, "blocked key's head let go by an operator");
        Ok(AdminResponse::Done(format!(
            "{done} {head} at the head of key {:?} at {destination} ({after}); the key's next event is on its way",
            lane.key
        )))
    }

    /// Records the head's delivery as failed by a skip, under a lease of
    /// its own (so no dispatcher attempts it meanwhile).
    async fn fail_for_good(&self, head: &EventId, lane: &LaneId) -> Result<(), CoreError> {
        let deliveries = &self.stores.deliveries;
        let now = self.clock.now();
        // A retry scheduled for later is claimed as of its time: the skip
        // takes its place.
        let due = deliveries
            .delivery(head, &lane.destination)
            .await?
            .and_then(|d| d.next_attempt_at)
            .map_or(now, |due| due.max(now));
        let lease = due.saturating_add(SKIP_LEASE);
        let mut delivery = match deliveries
            .claim(head, &lane.destination, due, lease)
            .await?
        {
            Claim::Claimed(delivery) => delivery,
            Claim::Busy(until) => {
                return Err(invalid(format!(
                    "{head} is being attempted now (until {until}); look again after that"
                )))
            }
            Claim::Settled(DeliveryState::Parked) => {
                return Err(invalid(format!(
                    "{head} is parked: {} is disabled; enable it first",
                    lane.destination
                )))
            }
            // Settled already (its lane is only catching up): nothing to
            // fail.
            Claim::Settled(_) | Claim::NotDue(_) => return Ok(()),
        };
        let number = delivery.attempts + 1;
        let outcome = AttemptOutcome::Error {
            error: AttemptErrorKind::Skipped,
        };
        let attempt = Attempt {
            event_id: head.clone(),
            destination: lane.destination.clone(),
            number,
            series: delivery.series,
            started_at: now,
            duration_ms: 0,
            outcome,
            response_body: format!(
                "skipped by an operator so later events of key {:?} could go",
                lane.key
            ),
            response_truncated: false,
        };
        delivery.attempts = number;
        delivery.state = DeliveryState::Failed;
        delivery.next_attempt_at = None;
        delivery.last_outcome = Some(outcome);
        delivery.lease_until = None;
        delivery.updated_at = now;
        deliveries
            .record_attempt(&attempt, &delivery, lease)
            .await?;
        Ok(())
    }

    async fn ordered(&self, destination: &DestinationId) -> Result<(), CoreError> {
        if self.destination(destination).await?.ordering.is_none() {
            return Err(invalid(format!(
                "{destination} has no ordering: no key of it is ever held back"
            )));
        }
        Ok(())
    }
}
