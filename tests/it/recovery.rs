//! Bulk recovery across many pages of failed deliveries: each one is
//! reopened and queued exactly once, including where a page ends inside a
//! millisecond.
use async_trait::async_trait;
use hookrelay_core::admin::{AddressCheck, Admin, AdminRequest, AdminResponse};
use hookrelay_core::{Clock, DeliveryStore, SystemClock};
use hookrelay_embedded::{MemoryQueue, MemoryStore};
use hookrelay_models::{AttemptOutcome, Config, DeliveryState, DestinationId, EventId, Timestamp};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use hookrelay_tests::settle_delivery;

const FAILED: AttemptOutcome = AttemptOutcome::Response { status: 500 };

struct NoCheck;

#[async_trait]
impl AddressCheck for NoCheck {
    async fn private_address(&self, _url: &str) -> Option<String> {
        None
    }
}

#[tokio::test]
async fn bulk_recovery_pages_through_more_failures_than_a_page_holds() {
    let config = Config::from_toml(
        "[[destinations]]\nid = \"app\"\nurl = \"https://example.com/\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n",
        "test",
    )
    .unwrap();
    let store = Arc::new(MemoryStore::new(config));
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let queue = Arc::new(MemoryQueue::new(clock.clone()));
    let app = DestinationId::parse("app").unwrap();
    let now = clock.now();
    // 1 200 failed deliveries, three events to a millisecond, so pages
    // end inside a millisecond.
    for i in 0..1200 {
        let event = EventId::new(Timestamp::from_unix_millis(1_700_000_000_000 + i / 3));
        settle_delivery(&*store, &event, &app, now, Some(FAILED)).await;
    }
    let admin = Admin::new(
        hookrelay_core::Stores::all_in(store.clone()),
        store.clone(),
        Some(queue.clone()),
        clock,
        Arc::new(NoCheck),
    );
    let AdminResponse::Replayed(replayed) = admin
        .execute(AdminRequest::Recover {
            destination: app.clone(),
            since: None,
        })
        .await
        .unwrap()
    else {
        panic!("not a replay");
    };
    assert_eq!(replayed.len(), 1200);
    let queued = queue.take_ready(5000);
    assert_eq!(queued.len(), 1200);
    let distinct: BTreeSet<&EventId> = queued.iter().map(|m| &m.event_id).collect();
    assert_eq!(distinct.len(), 1200, "a delivery was queued twice");
    assert!(store
        .deliveries_in_state(
            &app,
            DeliveryState::Failed,
            None,
            hookrelay_core::ListOrder::OldestFirst,
            10
        )
        .await
        .unwrap()
        .is_empty());
}

/// `events list --status` shows the newest events in that state, even with
/// more of them than one read of the index returns (1 000).
#[tokio::test]
async fn events_in_a_state_are_listed_newest_first_past_the_read_limit() {
    let config = Config::from_toml(
        "[[sources]]\nid = \"gh\"\nscheme = \"github\"\nsecrets = [\"s\"]\n[[destinations]]\nid = \"app\"\nurl = \"https://example.com/\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n",
        "test",
    )
    .unwrap();
    let store = Arc::new(MemoryStore::new(config));
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let app = DestinationId::parse("app").unwrap();
    let now = clock.now();
    let mut ids = Vec::new();
    for i in 0..1_010 {
        let at = Timestamp::from_unix_millis(now.unix_millis() - 100_000 + i);
        let event = hookrelay_models::Event {
            id: EventId::new(at),
            source: hookrelay_models::SourceId::parse("gh").unwrap(),
            event_type: None,
            provider_delivery_id: None,
            received_at: at,
            headers: Vec::new(),
            body: b"{}".to_vec().into(),
        };
        hookrelay_core::EventStore::put_event(
            &*store,
            &event,
            now.saturating_add(Duration::from_secs(3600)),
        )
        .await
        .unwrap();
        settle_delivery(&*store, &event.id, &app, now, Some(FAILED)).await;
        ids.push(event.id);
    }
    let admin = Admin::new(
        hookrelay_core::Stores::all_in(store.clone()),
        store.clone(),
        None,
        clock,
        Arc::new(NoCheck),
    );
    for source in [None, Some(hookrelay_models::SourceId::parse("gh").unwrap())] {
        let AdminResponse::Events(listed) = admin
            .execute(AdminRequest::ListEvents {
                source: source.clone(),
                since: None,
                status: Some(DeliveryState::Failed),
                limit: 10,
            })
            .await
            .unwrap()
        else {
            panic!("not a listing");
        };
        let listed: Vec<EventId> = listed.into_iter().map(|e| e.id).collect();
        let newest: Vec<EventId> = ids.iter().rev().take(10).cloned().collect();
        assert_eq!(listed, newest, "with source filter {source:?}");
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Embedded,
    Aws,
}

/// Bulk recovery on either backend, with the failures spread over the
/// index shards (on DynamoDB): two and a half pages of them, three to a
/// millisecond (so a page ends inside a millisecond), each reopened and
/// queued exactly once. The page is 40 here instead of 500, so a hundred
/// failures cross page boundaries as thousands would.
async fn bulk_recovery_across_shards_queues_each_failure_once(kind: Kind) {
    use hookrelay_tests::relay::Relay;
    use hookrelay_tests::{config_from, ManualClock};
    const FAILURES: usize = 100;
    const PAGE: usize = 40;
    let config = config_from(
        "[[destinations]]\nid = \"app\"\nurl = \"https://example.com/\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n",
    );
    let clock = Arc::new(ManualClock::at_unix_secs(1_790_000_000));
    let relay = match kind {
        Kind::Embedded => Relay::embedded(config, clock.clone()),
        Kind::Aws => Relay::aws(config, clock.clone()).await,
    };
    let app = DestinationId::parse("app").unwrap();
    let now = clock.now_for_tests();
    let events: Vec<EventId> = (0..FAILURES)
        .map(|i| {
            EventId::new(Timestamp::from_unix_millis(
                1_789_999_000_000 + i as i64 / 3,
            ))
        })
        .collect();
    for chunk in events.chunks(8) {
        futures::future::join_all(
            chunk
                .iter()
                .map(|event| settle_delivery(&*relay.deliveries, event, &app, now, Some(FAILED))),
        )
        .await;
    }
    let AdminResponse::Replayed(replayed) = relay
        .admin()
        .with_recover_page(PAGE)
        .execute(AdminRequest::Recover {
            destination: app.clone(),
            since: None,
        })
        .await
        .unwrap()
    else {
        panic!("not a replay");
    };
    let recovered: BTreeSet<&EventId> = replayed.iter().map(|r| &r.event).collect();
    assert_eq!(replayed.len(), FAILURES);
    assert_eq!(recovered, events.iter().collect());

    let mut queued = Vec::new();
    loop {
        let batch = relay.receive_batch().await;
        if batch.is_empty() {
            break;
        }
        relay.ack(&batch).await;
        for record in batch {
            let message: hookrelay_core::QueueMessage =
                serde_json::from_str(record.body.as_deref().unwrap()).unwrap();
            queued.push(message.event_id);
        }
    }
    let distinct: BTreeSet<&EventId> = queued.iter().collect();
    assert_eq!(queued.len(), FAILURES, "queued once each");
    assert_eq!(distinct.len(), FAILURES);
    assert!(relay
        .deliveries
        .deliveries_in_state(
            &app,
            DeliveryState::Failed,
            None,
            hookrelay_core::ListOrder::OldestFirst,
            10
        )
        .await
        .unwrap()
        .is_empty());
}

on_both_backends!(bulk_recovery_across_shards_queues_each_failure_once);
