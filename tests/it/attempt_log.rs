//! The attempt log on both backends: every attempt a delivery gets is on
//! record, listed by its event and by its destination, whichever way the
//! store keeps it (on DynamoDB a first series' success lives in the
//! delivery's own item, every other attempt in an item of its own).
use hookrelay_core::{Claim, DeliveryStore};
use hookrelay_models::{
    Attempt, AttemptOutcome, Delivery, DeliveryState, DestinationId, EventId, Timestamp,
};
use hookrelay_tests::relay::Relay;
use hookrelay_tests::{config_from, ManualClock};
use std::sync::Arc;
use std::time::Duration;

const NOW: i64 = 1_790_000_000;
const LEASE: Duration = Duration::from_secs(30);

#[derive(Clone, Copy)]
enum Kind {
    Embedded,
    Aws,
}

async fn store(kind: Kind) -> Arc<dyn DeliveryStore> {
    let config = config_from("");
    let clock = Arc::new(ManualClock::at_unix_secs(NOW));
    match kind {
        Kind::Embedded => Relay::embedded(config, clock).deliveries,
        Kind::Aws => Relay::aws(config, clock).await.deliveries,
    }
}

fn at(offset_secs: i64) -> Timestamp {
    Timestamp::from_unix_secs(NOW + offset_secs)
}

async fn claim(
    store: &dyn DeliveryStore,
    event: &EventId,
    dest: &DestinationId,
    now: Timestamp,
) -> (Delivery, Timestamp) {
    let lease = now.saturating_add(LEASE);
    match store.claim(event, dest, now, lease).await.unwrap() {
        Claim::Claimed(delivery) => (delivery, lease),
        other => panic!("not claimed: {other:?}"),
    }
}

/// Records an attempt made under `lease` with `status`, settling the
/// delivery (succeeded on 2xx; otherwise pending, due again at once).
async fn record(
    store: &dyn DeliveryStore,
    mut delivery: Delivery,
    lease: Timestamp,
    started_at: Timestamp,
    status: u16,
) -> (bool, Attempt) {
    delivery.attempts += 1;
    let outcome = AttemptOutcome::Response { status };
    let attempt = Attempt {
        event_id: delivery.event_id.clone(),
        destination: delivery.destination.clone(),
        number: delivery.attempts,
        series: delivery.series,
        started_at,
        duration_ms: 3,
        outcome,
        response_body: format!("answer {status}"),
        response_truncated: false,
    };
    delivery.last_outcome = Some(outcome);
    delivery.lease_until = None;
    if outcome.is_success() {
        delivery.state = DeliveryState::Succeeded;
        delivery.next_attempt_at = None;
    } else {
        delivery.next_attempt_at = Some(started_at);
    }
    delivery.updated_at = started_at;
    let kept = store
        .record_attempt(&attempt, &delivery, lease)
        .await
        .unwrap();
    (kept, attempt)
}

fn keys(attempts: &[Attempt]) -> Vec<(u32, u32, Timestamp, String)> {
    attempts
        .iter()
        .map(|a| (a.series, a.number, a.started_at, a.response_body.clone()))
        .collect()
}

async fn a_failure_a_success_and_a_replays_success_are_all_listed(kind: Kind) {
    let store = store(kind).await;
    let store = store.as_ref();
    let event = EventId::new(at(0));
    let dest = DestinationId::parse("orders").unwrap();

    let (delivery, lease) = claim(store, &event, &dest, at(1)).await;
    let (_, failed) = record(store, delivery, lease, at(1), 503).await;
    let (delivery, lease) = claim(store, &event, &dest, at(2)).await;
    let (kept, succeeded) = record(store, delivery, lease, at(2), 200).await;
    assert!(kept);
    assert_eq!(
        store.delivery(&event, &dest).await.unwrap().unwrap().state,
        DeliveryState::Succeeded
    );
    // Replayed: a new series, delivered again.
    assert!(store.reopen(&event, &dest, at(10), true).await.unwrap());
    let (delivery, lease) = claim(store, &event, &dest, at(10)).await;
    let (kept, replayed) = record(store, delivery, lease, at(11), 204).await;
    assert!(kept);
    assert_eq!(replayed.series, 1);

    let by_event = store.attempts_for_event(&event).await.unwrap();
    assert_eq!(
        keys(&by_event),
        keys(&[failed.clone(), succeeded.clone(), replayed.clone()])
    );
    assert_eq!(by_event[1], succeeded, "kept whole");
    let by_destination = store.attempts_for_destination(&dest, 10).await.unwrap();
    assert_eq!(
        keys(&by_destination),
        keys(&[replayed.clone(), succeeded.clone(), failed])
    );
    let newest = store.attempts_for_destination(&dest, 2).await.unwrap();
    assert_eq!(keys(&newest), keys(&[replayed, succeeded]));
    // The delivery itself reads as before.
    let delivery = store.delivery(&event, &dest).await.unwrap().unwrap();
    assert_eq!(
        (delivery.state, delivery.series, delivery.attempts),
        (DeliveryState::Succeeded, 1, 1)
    );
}

async fn a_success_that_outlived_its_lease_stays_on_record(kind: Kind) {
    let store = store(kind).await;
    let store = store.as_ref();
    let event = EventId::new(at(0));
    let dest = DestinationId::parse("slow").unwrap();

    let (first, first_lease) = claim(store, &event, &dest, at(1)).await;
    // The lease runs out while the destination answers; another claims.
    let (second, second_lease) = claim(store, &event, &dest, at(40)).await;
    let (kept, late) = record(store, first, first_lease, at(1), 200).await;
    assert!(!kept, "the lease was lost");
    let held = store.delivery(&event, &dest).await.unwrap().unwrap();
    assert_eq!(held.state, DeliveryState::Pending, "the new holder's");
    let (kept, on_time) = record(store, second, second_lease, at(40), 200).await;
    assert!(kept);

    let by_event = store.attempts_for_event(&event).await.unwrap();
    assert_eq!(keys(&by_event), keys(&[late.clone(), on_time.clone()]));
    let by_destination = store.attempts_for_destination(&dest, 10).await.unwrap();
    assert_eq!(keys(&by_destination), keys(&[on_time, late]));
}

on_both_backends!(
    a_failure_a_success_and_a_replays_success_are_all_listed,
    a_success_that_outlived_its_lease_stays_on_record,
);
