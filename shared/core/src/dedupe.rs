//! The dedupe protocol: how a receipt becomes a stored, queued event that
//! its provider may be told about, once, whatever fails and whoever else
//! receives the same delivery at the same time. Every backend runs this
//! over its [`EventStore`] primitives; `tests/sim` runs it under every
//! fault the real services have (README, "Proving it").
//!
//! # States
//! For one provider delivery, named by its dedupe key within its window:
//!
//! | state | dedupe record | event item | queue |
//! |---|---|---|---|
//! | `Unseen` | none (or its window ended) | – | – |
//! | `Claimed(E)` | names E | none | maybe a fan-out of E |
//! | `Stored(E)` | names E | E | maybe a fan-out of E |
//! | `Queued(E)` | names E | E | a fan-out of E, or done with it |
//! | `Dispatched(E)` | names E | E, with deliveries | – |
//!
//! # Transitions, each one primitive call
//! - `claim_dedupe(K, candidate)`: `Unseen → Claimed(candidate)`; in any
//!   other state it changes nothing and answers which event the record
//!   names.
//! - `put_event(E)`: `Claimed(E) → Stored(E)`; a no-op once E is stored
//!   (the first write wins; an event is never overwritten).
//! - `enqueue(fan-out E)`: `Stored(E) → Queued(E)`. The receipt that
//!   claimed the key sends it at the same time as its `put_event` (two
//!   rounds of calls before the 2xx, not three), so it can overtake the
//!   write: the dispatcher then finds no event yet and looks again for a
//!   while (`NOT_YET_STORED_GRACE`, counted from the event id's time; see
//!   [`crate::dispatch`]). A later receipt that finds the claimed event
//!   missing writes it first and queues it after, since by then the id
//!   may be older than that grace.
//! - the dispatcher's first claim on a delivery: `Queued(E) → Dispatched(E)`.
//!
//! # Invariants
//! 1. Within its window a record, once written, names the same event:
//!    nothing re-points or deletes it. So every receipt of a delivery, at
//!    any time in the window, works on that one event id (one
//!    `webhook-id` downstream).
//! 2. Nothing is ever taken back: no transition goes backwards. A receipt
//!    that fails half-way leaves a state from which the provider's retry
//!    (or a concurrent duplicate) carries on forwards.
//! 3. A receipt answers 2xx only after it has itself seen the event stored
//!    and a fan-out queued (or the event dispatched): an acknowledged event
//!    is stored, and reaches the dispatcher.
//!
//! A receipt whose calls all fail leaves at worst `Claimed(E)` with no
//! event: it was not acknowledged, the provider retries, and the retry
//! stores its copy under E. If the provider never retries, the record
//! expires with its window and names nothing anyone was told about.
use std::time::Duration;

use hookrelay_models::{Event, EventId, Timestamp};

use crate::error::CoreError;
use crate::lanes::LaneId;
use crate::ports::{DedupeClaim, DedupeKey, EventProgress, EventStore, Queue, QueueMessage};

/// What a receipt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// The first receipt of this delivery: stored and queued as `event`.
    New(EventId),
    /// A receipt of a delivery already claimed by that event; stored and
    /// queued (by this receipt or an earlier one).
    Duplicate(EventId),
}

/// Takes `event`, received now, through the protocol; `Ok` only once it
/// (or the event its delivery already is) is stored and queued, and in
/// each of `lanes` (its ordered destinations' lanes; see
/// [`crate::lanes`]), so that an event acknowledged before another was
/// received is ahead of it in every lane they share. `enqueued` is told of
/// each message this receipt queued.
pub async fn store_and_queue(
    events: &dyn EventStore,
    queue: &dyn Queue,
    event: Event,
    dedupe: Option<&DedupeKey>,
    lanes: &[LaneId],
    expires_at: Timestamp,
    enqueued: &(dyn Fn() + Sync),
) -> Result<Stored, CoreError> {
    // A duplicate's body is the delivery's body: its size stands for the
    // claimed event's too.
    let body_bytes = event.body.len();
    let fan_out = |id: &EventId| QueueMessage::fan_out(id.clone()).with_body_bytes(body_bytes);
    let Some(key) = dedupe else {
        // Nothing names this delivery: the receipt is its own event. Stored
        // first, so a failed write queues nothing.
        events.put_event(&event, expires_at).await?;
        queue.enqueue(&fan_out(&event.id), Duration::ZERO).await?;
        enqueued();
        enter_lanes(events, &event.id, lanes, expires_at).await?;
        return Ok(Stored::New(event.id));
    };
    match events
        .claim_dedupe(key, &event.id, event.received_at)
        .await?
    {
        DedupeClaim::Won => {
            let id = event.id.clone();
            let message = fan_out(&id);
            let (stored, queued) = futures::join!(
                events.put_event(&event, expires_at),
                queue.enqueue(&message, Duration::ZERO)
            );
            if queued.is_ok() {
                enqueued();
            }
            stored?;
            queued?;
            enter_lanes(events, &id, lanes, expires_at).await?;
            Ok(Stored::New(id))
        }
        DedupeClaim::Held(existing) => {
            match events.progress(&existing).await? {
                // The fan-out is under way; it stays in the queue until it
                // has reached every destination. In its lanes too, before
                // this 2xx: the receipt that queued it may have failed
                // before it put it there (simulator seed 69076). One put
                // back after its delivery settled is found settled and
                // taken out by the next in its lane.
                EventProgress::Dispatched => {
                    enter_lanes(events, &existing, lanes, expires_at).await?;
                }
                // Stored, perhaps never queued (its receipt failed after
                // the write): queue it (again). The dispatcher's claims make
                // a second fan-out harmless; skipping it could lose the
                // event.
                EventProgress::Stored => {
                    queue.enqueue(&fan_out(&existing), Duration::ZERO).await?;
                    enqueued();
                    enter_lanes(events, &existing, lanes, expires_at).await?;
                }
                // Claimed and never stored: this receipt stores its own copy
                // under the claimed id (the same delivery, so the same
                // body), then queues it. In this order: the claimed id may
                // be hours old, past the time the dispatcher waits for a
                // fan-out's event to land.
                EventProgress::Missing => {
                    let copy = Event {
                        id: existing.clone(),
                        ..event
                    };
                    events.put_event(&copy, expires_at).await?;
                    queue.enqueue(&fan_out(&existing), Duration::ZERO).await?;
                    enqueued();
                    enter_lanes(events, &existing, lanes, expires_at).await?;
                }
            }
            Ok(Stored::Duplicate(existing))
        }
    }
}

/// Puts `event` in `lanes`, if it goes in any (no call if it does not),
/// once it is stored and its fan-out queued: so an event in a lane always
/// has its fan-out on its way, and the dispatcher, which wakes a lane's
/// next head with a message for that one delivery, never makes an event
/// look dispatched (to a provider's retry) whose fan-out was lost (the
/// simulator's seeds 1269 and 1436). A third round of calls before the
/// 2xx, for events of ordered destinations only.
async fn enter_lanes(
    events: &dyn EventStore,
    event: &EventId,
    lanes: &[LaneId],
    expires_at: Timestamp,
) -> Result<(), CoreError> {
    if lanes.is_empty() {
        return Ok(());
    }
    events.enter_lanes(event, lanes, expires_at).await
}
