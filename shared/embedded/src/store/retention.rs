//! What the in-memory store keeps: `hookrelay dev` may run for days, so
//! events go with their retention period and past a count, oldest settled
//! first, never one that may still be delivered.
use hookrelay_models::{DeliveryState, EventId, Timestamp};
use std::collections::HashSet;
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
        state.dedupe.retain(|_, record| record.expires_at > now);
    }
    let mut unsettled: HashSet<&EventId> = HashSet::new();
    let mut delivered: HashSet<&EventId> = HashSet::new();
    for delivery in state.deliveries.values() {
        delivered.insert(&delivery.event_id);
        if matches!(
            delivery.state,
            DeliveryState::Pending | DeliveryState::Parked
        ) {
            unsettled.insert(&delivery.event_id);
        }
    }
    let mut droppable: Vec<(&EventId, bool)> = state
        .events
        .iter()
        .filter(|(id, (event, _))| {
            !unsettled.contains(id)
                && (delivered.contains(id) || now.since(event.received_at) >= FAN_OUT_GRACE)
        })
        .map(|(id, (_, expires_at))| (id, retention.by_age && *expires_at <= now))
        .collect();
    droppable.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut excess = state.events.len().saturating_sub(retention.max_events);
    let mut dropped: HashSet<EventId> = HashSet::new();
    for (id, expired) in droppable {
        if expired || excess > 0 {
            excess = excess.saturating_sub(1);
            dropped.insert(id.clone());
        }
    }
    state.pruned_to = state.events.len() - dropped.len();
    if dropped.is_empty() {
        return;
    }
    state.events.retain(|id, _| !dropped.contains(id));
    state
        .deliveries
        .retain(|(event, _), _| !dropped.contains(event));
    state.attempts.retain(|a| !dropped.contains(&a.event_id));
}

#[cfg(test)]
mod tests {
    use super::super::MemoryStore;
    use super::*;
    use hookrelay_core::{Claim, DeliveryStore, EventStore};
    use hookrelay_models::{Attempt, Config, DestinationId, SourceId};
    use hookrelay_models::{AttemptOutcome, Event};

    const T0: i64 = 1_790_000_000_000;

    fn event_at(millis: i64) -> Event {
        let at = Timestamp::from_unix_millis(millis);
        Event {
            id: EventId::new(at),
            source: SourceId::parse("gh").unwrap(),
            event_type: None,
            provider_delivery_id: None,
            received_at: at,
            headers: Vec::new(),
            body: vec![b'x'; 100],
        }
    }

    async fn insert(store: &MemoryStore, event: &Event, keep_for: Duration) {
        let expires = event.received_at.saturating_add(keep_for);
        store.insert_event(event, None, expires).await.unwrap();
    }

    /// Claims the event's delivery to `app`; with `outcome`, records it
    /// settled that way.
    async fn deliver(store: &MemoryStore, event: &Event, outcome: Option<AttemptOutcome>) {
        let app = DestinationId::parse("app").unwrap();
        let now = event.received_at;
        let lease = now.saturating_add(Duration::from_secs(60));
        let Claim::Claimed(mut delivery) = store.claim(&event.id, &app, now, lease).await.unwrap()
        else {
            panic!("not claimed");
        };
        let Some(outcome) = outcome else { return };
        delivery.state = if outcome.is_success() {
            DeliveryState::Succeeded
        } else {
            DeliveryState::Failed
        };
        delivery.attempts = 1;
        delivery.lease_until = None;
        let attempt = Attempt {
            event_id: event.id.clone(),
            destination: app,
            number: 1,
            series: 0,
            started_at: now,
            duration_ms: 1,
            outcome,
            response_body: String::new(),
            response_truncated: false,
        };
        assert!(store
            .record_attempt(&attempt, &delivery, lease)
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn over_the_count_the_oldest_settled_events_go_and_undelivered_ones_stay() {
        let store = MemoryStore::new(Config::default()).with_retention(Retention {
            by_age: false,
            max_events: 10,
        });
        let day = Duration::from_secs(86_400);
        let events: Vec<Event> = (0..30).map(|i| event_at(T0 + i)).collect();
        for event in &events {
            insert(&store, event, day).await;
        }
        // Not fanned out yet, so nothing could be dropped.
        assert_eq!(store.event_count(), 30);
        for event in &events[..5] {
            deliver(&store, event, None).await; // pending
        }
        for event in &events[5..] {
            deliver(
                &store,
                event,
                Some(AttemptOutcome::Response { status: 200 }),
            )
            .await;
        }

        // Two more: the last prune left 30, so the next waits for 32.
        let late = [event_at(T0 + 1_000), event_at(T0 + 1_001)];
        for event in &late {
            insert(&store, event, day).await;
        }

        assert_eq!(store.event_count(), 10);
        let state = store.lock();
        for event in &events[..5] {
            assert!(
                state.events.contains_key(&event.id),
                "an undelivered event was dropped"
            );
        }
        for event in &events[5..27] {
            assert!(
                !state.events.contains_key(&event.id),
                "an old settled event stayed"
            );
        }
        for event in events[27..].iter().chain(&late) {
            assert!(
                state.events.contains_key(&event.id),
                "a newer event was dropped"
            );
        }
        assert_eq!(
            state.deliveries.len(),
            8,
            "deliveries of dropped events stayed"
        );
        assert_eq!(state.attempts.len(), 3, "attempts of dropped events stayed");
    }

    #[tokio::test]
    async fn expired_events_go_unless_they_may_still_be_delivered() {
        let store = MemoryStore::new(Config::default());
        let minute = Duration::from_secs(60);
        let settled = event_at(T0);
        let pending = event_at(T0 + 1);
        let kept = event_at(T0 + 2);
        insert(&store, &settled, minute).await;
        insert(&store, &pending, minute).await;
        insert(&store, &kept, Duration::from_secs(86_400)).await;
        deliver(
            &store,
            &settled,
            Some(AttemptOutcome::Response { status: 500 }),
        )
        .await;
        deliver(&store, &pending, None).await;
        deliver(
            &store,
            &kept,
            Some(AttemptOutcome::Response { status: 200 }),
        )
        .await;

        insert(&store, &event_at(T0 + 2 * 60_000), minute).await;

        let state = store.lock();
        assert!(
            !state.events.contains_key(&settled.id),
            "an expired event stayed"
        );
        assert!(
            state.events.contains_key(&pending.id),
            "an undelivered event was dropped"
        );
        assert!(
            state.events.contains_key(&kept.id),
            "an unexpired event was dropped"
        );
    }
}
