//! Ordered delivery per key (README, "Ordered delivery").
//!
//! The receiver puts each event in the lane of every ordered destination
//! it is routed to (one per key value; [`crate::lanes`]) before it
//! acknowledges it. Here only a lane's head is attempted: a delivery
//! behind an earlier event of its key is not attempted, and its message is
//! done with. When the head settles (succeeds, or fails for good) it
//! leaves the lane and queues the new head. So a key's deliveries go one
//! at a time in event id order, a failing key holds back only itself, and
//! each key's state is its own partition: no one item for a destination.
//!
//! Every step is idempotent and each one is made before the next is
//! looked for, so a crash anywhere is carried on by the message that is
//! handled again: a delivery that settled but did not leave its lane
//! leaves it when its message comes back (`Claim::Settled`), and one whose
//! wake was lost is found behind a settled head by the next event of its
//! key. A lane's head that never reaches the dispatcher (its receipt
//! failed after entering the lane, and the event was never stored or
//! never queued) is taken out, or queued, by whoever waits behind it.
use hookrelay_models::{Destination, DestinationId, Event, EventId};
use std::time::Duration;

use super::{DeliveryReport, Dispatch, MIN_NOT_DUE_WAIT, NOT_YET_STORED_GRACE};
use crate::error::CoreError;
use crate::lanes::{lane_of, LaneId};
use crate::ports::{EventStore, MessageKind, Queue, QueueMessage};

/// What a delivery's key allows now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum OrderTurn {
    /// Not ordered: no ordering, no key value, or taken out of its lane
    /// (by an operator's release, or a replay of a settled delivery).
    Unordered,
    /// The head of its lane: attempt it.
    Head(LaneId),
    /// Behind an earlier event of its key that is being delivered: that
    /// one's settling queues this.
    Behind(EventId),
    /// Behind an earlier event that has not reached the dispatcher (yet):
    /// look again after the wait.
    LookAgain(Duration),
}

/// How many settled heads one look takes out before it gives up for now
/// (each is a crash's leftover: rare).
const MAX_STALE_HEADS: usize = 8;

/// A head that has not reached the dispatcher this long after it was
/// received had its fan-out lost (its receipt failed after storing it):
/// the one waiting behind it queues it.
const HEAD_DISPATCH_GRACE: Duration = Duration::from_secs(60);

impl Dispatch {
    /// Whether `event`'s delivery to `destination` may be attempted now as
    /// far as its key's order goes. One consistent read when it heads its
    /// lane (the usual case); more only behind another event.
    pub(super) async fn order_turn(
        &self,
        event: &Event,
        destination: &Destination,
    ) -> Result<OrderTurn, CoreError> {
        let Some(lane) = lane_of(destination, event) else {
            return Ok(OrderTurn::Unordered);
        };
        let mut entered = false;
        for _ in 0..MAX_STALE_HEADS {
            let head = self.events.lane_head(&lane).await?;
            match head {
                Some(ref head) if *head == event.id => return Ok(OrderTurn::Head(lane)),
                Some(ref head) if *head < event.id => match self.head_state(head, &lane).await? {
                    HeadState::Delivering if entered => {
                        return Ok(OrderTurn::Behind(head.clone()));
                    }
                    HeadState::Delivering => {
                        // The head's settling queues the event then heading
                        // the lane, which is this one only if it is in the
                        // lane. Its receipt puts it there after queuing it,
                        // so it may not be there yet, or ever (the receipt
                        // failed in between: seed 1628): in now if not (a
                        // read, usually), then look at the head again, which
                        // may have settled before this was in (seed 7295).
                        if !self.events.in_lane(&lane, &event.id).await? {
                            self.enter_lane(&lane, &event.id).await?;
                        }
                        entered = true;
                    }
                    HeadState::NotDispatched(wait) => return Ok(OrderTurn::LookAgain(wait)),
                    HeadState::Settled => {
                        self.events.leave_lane(&lane, head).await?;
                        self.unblock(&lane, head).await?;
                    }
                },
                // Not in its lane.
                _ if entered => return Ok(OrderTurn::Head(lane)),
                _ => {
                    if let Some(delivery) =
                        self.deliveries.delivery(&event.id, &destination.id).await?
                    {
                        // It was in the lane when first attempted, and has
                        // left it since: released by an operator, or
                        // settled and now replayed. Outside the order.
                        if let (true, Some(next)) = (delivery.state.is_final(), head) {
                            // Or settled, and this is its message back
                            // because its handler stopped after leaving
                            // (the leave's answer lost, a crash) and before
                            // queuing the next head: queue it now, or no one
                            // will (seed 870). A second message for a head
                            // already on its way is harmless (claims).
                            let message = QueueMessage::delivery(next, lane.destination.clone());
                            self.queue.enqueue(&message, Duration::ZERO).await?;
                        }
                        return Ok(OrderTurn::Unordered);
                    }
                    // The destination became ordered after the receipt
                    // (or the receipt's entry is still on its way): in
                    // now, behind whatever is there already.
                    self.enter_lane(&lane, &event.id).await?;
                    entered = true;
                }
            }
        }
        Ok(OrderTurn::LookAgain(MIN_NOT_DUE_WAIT))
    }

    /// Puts `event` in `lane` from the dispatcher's side, kept as long as
    /// events are.
    async fn enter_lane(&self, lane: &LaneId, event: &EventId) -> Result<(), CoreError> {
        let expires_at = self
            .clock
            .now()
            .saturating_add(self.settings.alerts.retention);
        self.events
            .enter_lanes(event, std::slice::from_ref(lane), expires_at)
            .await
    }

    /// Where `head`, heading `lane`, stands. Reads its delivery; if it has
    /// none, its event.
    async fn head_state(&self, head: &EventId, lane: &LaneId) -> Result<HeadState, CoreError> {
        if let Some(delivery) = self.deliveries.delivery(head, &lane.destination).await? {
            return Ok(if delivery.state.is_final() {
                HeadState::Settled
            } else {
                HeadState::Delivering
            });
        }
        let age = self.clock.now().since(head.timestamp());
        if age < HEAD_DISPATCH_GRACE {
            // Not dispatched yet: an event is put in a lane only once its
            // fan-out is queued (by its receipt, crate::dedupe) or while a
            // message for it is handled (above), so it is on its way
            // (usually in the same batch), and its settling queues the
            // next. No need to look again.
            return Ok(HeadState::Delivering);
        }
        let wait = age.clamp(MIN_NOT_DUE_WAIT, HEAD_DISPATCH_GRACE);
        let Some(event) = self.events.event(head).await? else {
            // Its receipt entered the lane and then failed before storing
            // it (never acknowledged). Past the time a retried receipt or a
            // slow write could still store it, it is no one's.
            return Ok(if age < NOT_YET_STORED_GRACE {
                HeadState::NotDispatched(wait)
            } else {
                HeadState::Settled
            });
        };
        let config = self.config.config().await?;
        let still_routed = config
            .routed_destinations(&event)
            .iter()
            .any(|d| lane_of(d, &event).as_ref() == Some(lane));
        if !still_routed {
            // The route or the key changed since it was received: it will
            // never be delivered here in this lane.
            return Ok(HeadState::Settled);
        }
        if age >= HEAD_DISPATCH_GRACE {
            // Stored, but its fan-out never came (its receipt failed after
            // the write and the provider has not retried): send it on its
            // way, as a retried receipt would: its fan-out, to every
            // destination. Only this lane's delivery would make it look
            // dispatched, and the provider's retry would then be answered
            // 2xx without it ever reaching the others (seed 1269). A second
            // message for a delivery under way is harmless (claims).
            let message = QueueMessage::fan_out(head.clone());
            self.queue.enqueue(&message, Duration::ZERO).await?;
            tracing::info!(event_id = %head, destination = %lane.destination, "lane head never dispatched; queued it");
        }
        Ok(HeadState::NotDispatched(wait))
    }

    /// `event`'s delivery, heading `lane`, has settled: see
    /// [`leave_lane`].
    pub(super) async fn leave_lane(
        &self,
        lane: &LaneId,
        event: &EventId,
        was_blocked: bool,
    ) -> Result<(), CoreError> {
        leave_lane(&*self.events, &*self.queue, lane, event, was_blocked).await
    }

    /// What an attempt of `event`, heading `lane`, means for its key:
    /// settled, it leaves the lane and queues the next; its first failure
    /// records the key as blocked (one write per key blocked, so operators
    /// can list them).
    pub(super) async fn after_attempt_in_lane(
        &self,
        lane: &LaneId,
        event: &EventId,
        report: &DeliveryReport,
    ) -> Result<(), CoreError> {
        match *report {
            DeliveryReport::Succeeded { attempt }
            | DeliveryReport::Failed { attempt, .. }
            | DeliveryReport::DestinationGone { attempt } => {
                self.leave_lane(lane, event, attempt > 1).await
            }
            DeliveryReport::RetryScheduled { attempt: 1, .. } => {
                let now = self.clock.now();
                self.events.set_blocked(lane, event, Some(now)).await
            }
            _ => Ok(()),
        }
    }

    /// A head at a disabled destination: if its delivery settled and never
    /// left its lane (its handler stopped in between; this is its message
    /// back), it carries its lane on instead of being parked, which would
    /// change nothing and leave its key waiting for ever. One read per
    /// head of an ordered destination while it is disabled.
    pub(super) async fn left_lane_if_settled(
        &self,
        lane: &LaneId,
        event: &EventId,
    ) -> Result<bool, CoreError> {
        let settled = self
            .deliveries
            .delivery(event, &lane.destination)
            .await?
            .is_some_and(|d| d.state.is_final());
        if settled {
            self.leave_lane(lane, event, true).await?;
        }
        Ok(settled)
    }

    async fn unblock(&self, lane: &LaneId, head: &EventId) -> Result<(), CoreError> {
        self.events.set_blocked(lane, head, None).await
    }

    /// A delivery not attempted for its key's order: a link of a release
    /// of parked deliveries passes its turn on (it is pending now, and
    /// its key's head queues it); one behind an event that has not reached
    /// the dispatcher looks again.
    pub(super) async fn wait_in_lane(
        &self,
        turn: OrderTurn,
        destination: &DestinationId,
        follow_up: &QueueMessage,
    ) -> Result<(), CoreError> {
        if let MessageKind::Release(_) = follow_up.kind {
            let now = self.clock.now();
            self.deliveries
                .reopen(&follow_up.event_id, destination, now, false)
                .await?;
            self.release_after(&follow_up.event_id, destination).await?;
        }
        if let OrderTurn::LookAgain(wait) = turn {
            // Its own turn later, as a plain delivery: the release has
            // moved on.
            let again = QueueMessage::delivery(follow_up.event_id.clone(), destination.clone());
            self.queue.enqueue(&again, wait).await?;
        }
        tracing::debug!(event_id = %follow_up.event_id, destination = %destination, turn = ?turn, "behind an earlier event of its key");
        Ok(())
    }
}

/// `event`'s delivery, heading `lane`, has settled (or an operator took it
/// out): out of the lane, and the new head queued. `was_blocked`: it
/// failed an attempt first, so its key was recorded as blocked. A write,
/// a read, and a message when a later event waits.
pub async fn leave_lane(
    events: &dyn EventStore,
    queue: &dyn Queue,
    lane: &LaneId,
    event: &EventId,
    was_blocked: bool,
) -> Result<(), CoreError> {
    events.leave_lane(lane, event).await?;
    if was_blocked {
        events.set_blocked(lane, event, None).await?;
    }
    if let Some(next) = events.lane_head(lane).await? {
        let message = QueueMessage::delivery(next, lane.destination.clone());
        queue.enqueue(&message, Duration::ZERO).await?;
    }
    Ok(())
}

enum HeadState {
    /// Pending or parked: its settling queues the next.
    Delivering,
    /// Not dispatched yet; look again after this.
    NotDispatched(Duration),
    /// Succeeded or failed, or never to be delivered in this lane: a
    /// leftover to take out.
    Settled,
}
