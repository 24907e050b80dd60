//! What the in-memory store keeps: `hookrelay dev` may run for days, so
//! events go with their retention period and past a count, oldest settled
//! first, never one that may still be delivered.
use hookrelay_models::{DeliveryState, EventId, Timestamp};
use std::time::Duration;

use super::State;

/// How much the in-memory store keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Events past their expiry (the retention period the ingest gives
    /// them) are dropped, as DynamoDB's TTL drops them.
    pub by_age: bool,
    /// At most this many events are kept: past it the oldest settled ones
    /// go first.
    pub max_events: usize,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            by_age: true,
            max_events: DEFAULT_MAX_EVENTS,
        }
    }
}

/// `hookrelay dev --max-events`' default: about 300 MB at 3 KB an event.
pub const DEFAULT_MAX_EVENTS: usize = 100_000;
/// An event with no delivery yet may still be waiting for its fan-out:
/// only after this long is it taken to have had none (no route matched).
const FAN_OUT_GRACE: Duration = Duration::from_secs(600);
/// How often events are looked at for expiry.
const AGE_PRUNE_EVERY: Duration = Duration::from_secs(60);

/// Drops what the retention no longer covers: expired dedupe records, and
/// events past their expiry or over the count, oldest first, with their
/// deliveries and attempts. An event that may still be delivered (a
/// delivery pending or parked, or not fanned out yet) is never dropped.
/// Runs when the count is 5 % over (so its cost is spread over many
/// inserts) or a minute after the last look at ages.
pub(super) fn prune(state: &mut State, now: Timestamp, retention: &Retention) {
    let slack = (retention.max_events / 20).max(1);
    let over = state.events.len()
        > retention
            .max_events
            .max(state.pruned_to)
            .saturating_add(slack);
    let age_due = retention.by_age
        && state
            .pruned_at
            .is_none_or(|at| now.since(at) >= AGE_PRUNE_EVERY);
    if !over && !age_due {
        return;
    }
    if age_due {
        state.pruned_at = Some(now);
        state.dedupe.expire(now);
    }
    // Oldest first: ids sort by arrival.
    let mut excess = state.events.len().saturating_sub(retention.max_events);
    let mut dropped: Vec<EventId> = Vec::new();
    for (id, stored) in state.events.iter() {
        let mut delivered = false;
        let mut unsettled = false;
        for delivery in state.deliveries.of_event(id) {
            delivered = true;
            unsettled |= matches!(
                delivery.state,
                DeliveryState::Pending | DeliveryState::Parked
            );
        }
        let droppable =
            !unsettled && (delivered || now.since(stored.event.received_at) >= FAN_OUT_GRACE);
        if !droppable {
            continue;
        }
        let expired = retention.by_age && stored.expires_at <= now;
        if expired || excess > 0 {
            excess = excess.saturating_sub(1);
            dropped.push(id.clone());
        }
    }
    state.pruned_to = state.events.len() - dropped.len();
    if dropped.is_empty() {
        return;
    }
    // One by one, so every index drops its entries with the event.
    for id in &dropped {
        state.events.remove(id);
        state.deliveries.remove_event(id);
        state.attempts.remove_event(id);
    }
    // A duplicate arriving within the window must find them delivered,
    // not missing (which would store and deliver them again). `dropped`
    // is in id order, as the marking's search needs.
    state.dedupe.mark_pruned(&dropped);
}
