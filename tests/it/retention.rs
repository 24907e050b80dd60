//! The in-memory store's retention (what keeps `hookrelay dev`'s memory
//! flat): past the count the oldest settled events go, past their expiry
//! every settled one, and never one that may still be delivered.
use hookrelay_core::EventStore;
use hookrelay_embedded::{MemoryStore, Retention};
use hookrelay_models::{
    AttemptOutcome, Config, DestinationId, Event, EventId, SourceId, Timestamp,
};
use hookrelay_tests::settle_delivery;
use std::time::Duration;

const T0: i64 = 1_790_000_000_000;
const OK: AttemptOutcome = AttemptOutcome::Response { status: 200 };

fn event_at(millis: i64) -> Event {
    let at = Timestamp::from_unix_millis(millis);
    Event {
        id: EventId::new(at),
        source: SourceId::parse("gh").unwrap(),
        event_type: None,
        provider_delivery_id: None,
        received_at: at,
        headers: Vec::new(),
        body: vec![b'x'; 100].into(),
    }
}

async fn insert(store: &MemoryStore, event: &Event, keep_for: Duration) {
    let expires = event.received_at.saturating_add(keep_for);
    store.put_event(event, expires).await.unwrap();
}

async fn deliver(store: &MemoryStore, event: &Event, outcome: Option<AttemptOutcome>) {
    let app = DestinationId::parse("app").unwrap();
    settle_delivery(store, &event.id, &app, event.received_at, outcome).await;
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
        deliver(&store, event, Some(OK)).await;
    }

    // Two more: the last prune left 30, so the next waits for 32.
    let late = [event_at(T0 + 1_000), event_at(T0 + 1_001)];
    for event in &late {
        insert(&store, event, day).await;
    }

    assert_eq!(store.event_count(), 10);
    for event in &events[..5] {
        assert!(
            store.has_event(&event.id),
            "an undelivered event was dropped"
        );
    }
    for event in &events[5..27] {
        assert!(!store.has_event(&event.id), "an old settled event stayed");
    }
    for event in events[27..].iter().chain(&late) {
        assert!(store.has_event(&event.id), "a newer event was dropped");
    }
    assert_eq!(
        store.delivery_count(),
        8,
        "deliveries of dropped events stayed"
    );
    assert_eq!(
        store.attempt_count(),
        3,
        "attempts of dropped events stayed"
    );
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
    deliver(&store, &kept, Some(OK)).await;

    insert(&store, &event_at(T0 + 2 * 60_000), minute).await;

    assert!(!store.has_event(&settled.id), "an expired event stayed");
    assert!(
        store.has_event(&pending.id),
        "an undelivered event was dropped"
    );
    assert!(store.has_event(&kept.id), "an unexpired event was dropped");
}
