//! The store's indexes: kept in step with what they index through every
//! change, and walked by a listing only as far as it returns.
use super::{MemoryStore, Retention, DEFAULT_MAX_EVENTS};
use hookrelay_core::{
    Claim, DedupeClaim, DedupeKey, DeliveryStore, EventProgress, EventStore, ListOrder,
};
use hookrelay_models::{
    Attempt, AttemptOutcome, Config, Delivery, DeliveryState, DestinationId, Event, EventId,
    SourceId, Timestamp,
};
use std::sync::atomic::Ordering;
use std::time::Duration;

const T0: i64 = 1_790_000_000_000;
const DAY: i64 = 86_400_000;
const FAILED: AttemptOutcome = AttemptOutcome::Response { status: 500 };
const OK: AttemptOutcome = AttemptOutcome::Response { status: 200 };

impl MemoryStore {
    /// Panics unless every index holds exactly what it indexes.
    fn assert_consistent(&self) {
        let state = self.lock();
        state.events.assert_consistent();
        state.dedupe.assert_consistent();
        state.deliveries.assert_consistent();
        state.attempts.assert_consistent();
    }

    /// The index entries walked since the last call.
    fn take_visits(&self) -> usize {
        self.visits.swap(0, Ordering::Relaxed)
    }
}

fn at(offset: i64) -> Timestamp {
    Timestamp::from_unix_millis(T0 + offset)
}

fn id(name: &str) -> DestinationId {
    DestinationId::parse(name).unwrap()
}

/// An event at `offset` ms; its id's random part is the offset, so runs
/// repeat exactly.
fn event(source: &str, offset: i64) -> Event {
    Event {
        id: EventId::from_parts(at(offset), offset as u128),
        source: SourceId::parse(source).unwrap(),
        event_type: Some("push".into()),
        provider_delivery_id: Some(format!("d-{offset}")),
        received_at: at(offset),
        headers: Vec::new(),
        body: vec![b'x'; 64].into(),
    }
}

async fn claimed(
    store: &MemoryStore,
    event: &EventId,
    to: &DestinationId,
    now: Timestamp,
) -> Delivery {
    match store.claim(event, to, now, lease(now)).await.unwrap() {
        Claim::Claimed(delivery) => delivery,
        other => panic!("not claimed: {other:?}"),
    }
}

fn lease(now: Timestamp) -> Timestamp {
    now.saturating_add(Duration::from_secs(60))
}

fn attempt(delivery: &Delivery, started_at: Timestamp, outcome: AttemptOutcome) -> Attempt {
    Attempt {
        event_id: delivery.event_id.clone(),
        destination: delivery.destination.clone(),
        number: delivery.attempts + 1,
        series: delivery.series,
        started_at,
        duration_ms: 1,
        outcome,
        response_body: String::new(),
        response_truncated: false,
    }
}

/// Claims and settles a delivery with one attempt; returns the attempt.
async fn settle(
    store: &MemoryStore,
    event: &EventId,
    to: &DestinationId,
    now: Timestamp,
    outcome: AttemptOutcome,
) -> Attempt {
    let mut delivery = claimed(store, event, to, now).await;
    let made = attempt(&delivery, now, outcome);
    delivery.state = if outcome.is_success() {
        DeliveryState::Succeeded
    } else {
        DeliveryState::Failed
    };
    delivery.attempts += 1;
    delivery.lease_until = None;
    delivery.next_attempt_at = None;
    assert!(store
        .record_attempt(&made, &delivery, lease(now))
        .await
        .unwrap());
    made
}

async fn listed(store: &MemoryStore, to: &DestinationId, state: DeliveryState) -> Vec<EventId> {
    store
        .deliveries_in_state(to, state, None, ListOrder::OldestFirst, 100)
        .await
        .unwrap()
}

async fn ids_of_source(store: &MemoryStore, source: &str) -> Vec<EventId> {
    let source = SourceId::parse(source).unwrap();
    store
        .events_by_source(&source, None, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|info| info.id)
        .collect()
}

/// Issue 25, defect 9: with 100 000 events (the default retention) every
/// listing used to walk the whole store under the lock. Each now walks
/// as many index entries as it returns.
#[tokio::test]
async fn listings_walk_only_what_they_return_of_a_full_store() {
    let store = MemoryStore::new(Config::default()).with_retention(Retention {
        by_age: false,
        max_events: DEFAULT_MAX_EVENTS,
    });
    let sources = ["gh", "stripe", "shop", "ci"];
    let (app, ops) = (id("app"), id("ops"));
    let mut by_source: Vec<Vec<EventId>> = vec![Vec::new(); sources.len()];
    for i in 0..DEFAULT_MAX_EVENTS as i64 {
        let event = event(sources[i as usize % sources.len()], i);
        store.put_event(&event, at(i + DAY)).await.unwrap();
        by_source[i as usize % sources.len()].push(event.id);
    }
    // Every gh event failed to app; every stripe event is parked for ops.
    for (n, event) in by_source[0].iter().enumerate() {
        settle(&store, event, &app, at(DAY + n as i64), FAILED).await;
    }
    for event in &by_source[1] {
        store.park(event, &ops, at(DAY)).await.unwrap();
    }
    assert_eq!(store.event_count(), DEFAULT_MAX_EVENTS);
    store.take_visits();

    let newest: Vec<EventId> = by_source[0].iter().rev().take(50).cloned().collect();
    let gh = SourceId::parse("gh").unwrap();
    let page = store.events_by_source(&gh, None, 50).await.unwrap();
    assert_eq!(
        page.iter().map(|e| e.id.clone()).collect::<Vec<_>>(),
        newest
    );
    assert_eq!(page[0].body_bytes, 64);
    assert_eq!(store.take_visits(), 50, "the newest 50 of 25 000");

    // From `since`: the ten events of shop from the 40th before the end.
    let shop = SourceId::parse("shop").unwrap();
    let since = at(DEFAULT_MAX_EVENTS as i64 - 40);
    let recent = store
        .events_by_source(&shop, Some(since), 50)
        .await
        .unwrap();
    assert_eq!(recent.len(), 10);
    assert!(recent.iter().all(|e| e.received_at >= since));
    assert_eq!(store.take_visits(), 10);

    let failed = store
        .deliveries_in_state(
            &app,
            DeliveryState::Failed,
            None,
            ListOrder::NewestFirst,
            10,
        )
        .await
        .unwrap();
    assert_eq!(failed, newest[..10]);
    let first = store
        .deliveries_in_state(
            &app,
            DeliveryState::Failed,
            Some(at(400)),
            ListOrder::OldestFirst,
            10,
        )
        .await
        .unwrap();
    assert_eq!(first, by_source[0][100..110]);
    assert_eq!(store.take_visits(), 20);
    assert_eq!(
        store
            .count_in_state(&ops, DeliveryState::Parked)
            .await
            .unwrap(),
        25_000
    );
    assert_eq!(store.take_visits(), 0, "a count walks nothing");

    let one = &by_source[0][7];
    assert_eq!(store.deliveries_for_event(one).await.unwrap().len(), 1);
    assert_eq!(store.attempts_for_event(one).await.unwrap().len(), 1);
    assert_eq!(store.take_visits(), 2);
    let latest = store.attempts_for_destination(&app, 20).await.unwrap();
    let expected: Vec<&EventId> = newest[..20].iter().collect();
    assert_eq!(
        latest.iter().map(|a| &a.event_id).collect::<Vec<_>>(),
        expected
    );
    assert_eq!(store.take_visits(), 20);
    assert_eq!(
        store.progress(one).await.unwrap(),
        EventProgress::Dispatched
    );
    store.assert_consistent();
}

/// One delivery's life, each index checked against a scan of what it
/// indexes after every step: claim, record_attempt (ours and a lost
/// lease's), park, reopen, settle, then prune by age and the dedupe
/// records' expiry.
#[tokio::test]
async fn indexes_stay_in_step_from_claim_to_prune() {
    let store = MemoryStore::new(Config::default()).with_retention(Retention {
        by_age: true,
        max_events: 100,
    });
    let (app, ops) = (id("app"), id("ops"));
    let (a, b, c) = (event("gh", 0), event("gh", 1), event("stripe", 2));
    for e in [&a, &b, &c] {
        let key = DedupeKey {
            source: e.source.clone(),
            provider_delivery_id: e.provider_delivery_id.clone().unwrap(),
            expires_at: at(7 * DAY),
        };
        let claim = store
            .claim_dedupe(&key, &e.id, e.received_at)
            .await
            .unwrap();
        assert_eq!(claim, DedupeClaim::Won);
        store.put_event(e, at(DAY)).await.unwrap();
        store.assert_consistent();
    }
    assert_eq!(
        ids_of_source(&store, "gh").await,
        [b.id.clone(), a.id.clone()]
    );
    assert_eq!(ids_of_source(&store, "stripe").await, vec![c.id.clone()]);

    // claim: a pending delivery, which no state index lists.
    let now = at(10);
    let mut delivery = claimed(&store, &a.id, &app, now).await;
    store.assert_consistent();
    assert_eq!(
        store.progress(&a.id).await.unwrap(),
        EventProgress::Dispatched
    );
    assert_eq!(store.progress(&b.id).await.unwrap(), EventProgress::Stored);
    assert!(listed(&store, &app, DeliveryState::Failed).await.is_empty());

    // record_attempt: failed, listed; then an attempt under a lost lease
    // is logged without changing the delivery.
    let first = attempt(&delivery, now, FAILED);
    delivery.state = DeliveryState::Failed;
    delivery.attempts = 1;
    delivery.lease_until = None;
    assert!(store
        .record_attempt(&first, &delivery, lease(now))
        .await
        .unwrap());
    let late = attempt(&delivery, now, FAILED);
    assert!(!store.record_attempt(&late, &delivery, at(1)).await.unwrap());
    store.assert_consistent();
    assert_eq!(
        listed(&store, &app, DeliveryState::Failed).await,
        vec![a.id.clone()]
    );
    assert_eq!(
        store
            .count_in_state(&app, DeliveryState::Failed)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store.attempts_for_event(&a.id).await.unwrap(),
        [first.clone(), late.clone()]
    );
    // Same start: in the order recorded, as the log's stable sort had it.
    assert_eq!(
        store.attempts_for_destination(&app, 10).await.unwrap(),
        [first, late]
    );

    // park: a pending delivery is parked, a failed one left alone.
    store.park(&b.id, &app, at(20)).await.unwrap();
    store.park(&a.id, &app, at(20)).await.unwrap();
    store.park(&c.id, &ops, at(20)).await.unwrap();
    store.assert_consistent();
    assert_eq!(
        listed(&store, &app, DeliveryState::Parked).await,
        vec![b.id.clone()]
    );
    assert_eq!(
        listed(&store, &app, DeliveryState::Failed).await,
        vec![a.id.clone()]
    );
    assert_eq!(
        listed(&store, &ops, DeliveryState::Parked).await,
        vec![c.id.clone()]
    );

    // reopen: both leave their lists; a pending one is not reopened.
    assert!(store.reopen(&a.id, &app, at(30), true).await.unwrap());
    assert!(store.reopen(&b.id, &app, at(30), false).await.unwrap());
    assert!(!store.reopen(&b.id, &app, at(30), false).await.unwrap());
    store.assert_consistent();
    assert!(listed(&store, &app, DeliveryState::Failed).await.is_empty());
    assert!(listed(&store, &app, DeliveryState::Parked).await.is_empty());
    let reopened = store.delivery(&a.id, &app).await.unwrap().unwrap();
    assert_eq!(
        (reopened.state, reopened.series),
        (DeliveryState::Pending, 1)
    );

    settle(&store, &a.id, &app, at(40), OK).await;
    settle(&store, &b.id, &app, at(41), FAILED).await;
    store.assert_consistent();
    assert_eq!(
        listed(&store, &app, DeliveryState::Failed).await,
        vec![b.id.clone()]
    );

    // prune: a and b expired and settled go with their deliveries and
    // attempts; c, parked, stays; d is new.
    let d = event("gh", 2 * DAY);
    store.put_event(&d, at(3 * DAY)).await.unwrap();
    store.assert_consistent();
    assert!(!store.has_event(&a.id) && !store.has_event(&b.id));
    assert_eq!(ids_of_source(&store, "gh").await, vec![d.id.clone()]);
    assert_eq!(ids_of_source(&store, "stripe").await, vec![c.id.clone()]);
    assert!(store.deliveries_for_event(&a.id).await.unwrap().is_empty());
    assert!(store.attempts_for_event(&a.id).await.unwrap().is_empty());
    assert!(store
        .attempts_for_destination(&app, 10)
        .await
        .unwrap()
        .is_empty());
    assert!(listed(&store, &app, DeliveryState::Failed).await.is_empty());
    assert_eq!(
        store
            .count_in_state(&app, DeliveryState::Failed)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        listed(&store, &ops, DeliveryState::Parked).await,
        vec![c.id.clone()]
    );
    assert_eq!((store.delivery_count(), store.attempt_count()), (1, 0));
    // Their dedupe records say so: dispatched, never stored again.
    assert_eq!(
        store.progress(&a.id).await.unwrap(),
        EventProgress::Dispatched
    );
    assert_eq!(
        store.progress(&b.id).await.unwrap(),
        EventProgress::Dispatched
    );
    assert_eq!(store.progress(&d.id).await.unwrap(), EventProgress::Stored);

    // forget_event (the tests' stand-in for an expired item) too.
    store.forget_event(&d.id);
    store.assert_consistent();
    assert!(ids_of_source(&store, "gh").await.is_empty());

    // Once the records expire, the pruned ones are forgotten with them.
    store
        .put_event(&event("gh", 8 * DAY), at(9 * DAY))
        .await
        .unwrap();
    store.assert_consistent();
    assert_eq!(store.dedupe_count(), 0);
    assert_eq!(store.progress(&a.id).await.unwrap(), EventProgress::Missing);
}
