//! The dispatcher through its real Lambda handler, fed by the same bridge
//! the SQS event source provides, delivering over real HTTP to sinks on
//! 127.0.0.1 — on the embedded adapters and on DynamoDB + SQS (moto).
use hookrelay_core::{Claim, ConfigItem, DeliveryReport, ListOrder, QueueMessage};
use hookrelay_models::{AttemptErrorKind, AttemptOutcome, DeliveryState, DestinationId, EventId};
use hookrelay_tests::relay::Relay;
use hookrelay_tests::sink::{Reply, Sink};
use hookrelay_tests::{config_from, ManualClock};
use std::sync::Arc;
use std::time::Duration;

const NOW: i64 = 1_790_000_000;
const GITHUB_SECRET: &str = "It's a Secret to Everybody";
const DEST_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[derive(Clone, Copy)]
enum Kind {
    Embedded,
    Aws,
}

/// A relay whose github source routes to one destination per `(id, path,
/// extra TOML)`, all at the sink.
async fn relay(kind: Kind, sink: &Sink, destinations: &[(&str, &str, &str)]) -> Relay {
    let mut text = format!(
        "allow_private_destinations = true\n[[sources]]\nid = \"github\"\nscheme = \"github\"\nsecrets = [{GITHUB_SECRET:?}]\n"
    );
    for (id, path, extra) in destinations {
        text.push_str(&format!(
            "[[destinations]]\nid = \"{id}\"\nurl = \"{}\"\nsecret = \"{DEST_SECRET}\"\n{extra}\n[[routes]]\nsource = \"github\"\ndestination = \"{id}\"\n",
            sink.url(path)
        ));
    }
    let clock = Arc::new(ManualClock::at_unix_secs(NOW));
    match kind {
        Kind::Embedded => Relay::embedded(config_from(&text), clock),
        Kind::Aws => Relay::aws(config_from(&text), clock).await,
    }
}

fn push_body(delivery: &str) -> String {
    format!(r#"{{"ref":"refs/heads/main","after":"0d1a26e6","delivery":"{delivery}"}}"#)
}

/// A push whose body names its delivery: GitHub signs no timestamp, so two
/// deliveries with the same bytes would be one (a replay).
async fn receive_push(relay: &Relay, delivery: &str) -> EventId {
    let body = push_body(delivery);
    relay
        .accept_github(
            "github",
            GITHUB_SECRET,
            body.as_bytes(),
            &[
                ("X-GitHub-Event", "push"),
                ("X-GitHub-Delivery", delivery),
                ("Content-Type", "application/json"),
            ],
        )
        .await
}

fn dest(id: &str) -> DestinationId {
    DestinationId::parse(id).unwrap()
}

async fn state(relay: &Relay, event: &EventId, destination: &str) -> hookrelay_models::Delivery {
    relay
        .deliveries
        .delivery(event, &dest(destination))
        .await
        .unwrap()
        .expect("delivery exists")
}

async fn fan_out_reaches_every_destination_and_a_flaky_one_after_three_attempts(kind: Kind) {
    let sink = Sink::start().await;
    sink.script(
        "/b",
        vec![Reply::Status(500), Reply::Status(500), Reply::Status(200)],
    );
    let schedule = "retry_schedule = [\"0s\", \"0s\", \"0s\", \"0s\"]";
    let relay = relay(
        kind,
        &sink,
        &[
            ("a", "/a", schedule),
            ("b", "/b", schedule),
            ("c", "/c", schedule),
        ],
    )
    .await;
    let event = receive_push(&relay, "d-fan").await;
    relay.drain().await;

    assert_eq!(sink.received("/a").len(), 1);
    assert_eq!(sink.received("/c").len(), 1);
    let flaky = sink.received("/b");
    assert_eq!(flaky.len(), 3);
    let msg_id = event.message_id();
    for received in sink
        .received("/a")
        .iter()
        .chain(&flaky)
        .chain(&sink.received("/c"))
    {
        assert_eq!(received.header("webhook-id"), Some(msg_id.as_str()));
        assert_eq!(received.body, push_body("d-fan").as_bytes());
        assert_eq!(received.header("content-type"), Some("application/json"));
        assert!(received.python_verifies(DEST_SECRET));
    }
    for (id, attempts) in [("a", 1), ("b", 3), ("c", 1)] {
        let delivery = state(&relay, &event, id).await;
        assert_eq!(delivery.state, DeliveryState::Succeeded, "{id}");
        assert_eq!(delivery.attempts, attempts, "{id}");
    }
    let log = relay.deliveries.attempts_for_event(&event).await.unwrap();
    assert_eq!(log.len(), 5);
    let flaky_log: Vec<_> = log
        .iter()
        .filter(|a| a.destination.as_str() == "b")
        .collect();
    assert_eq!(
        flaky_log
            .iter()
            .map(|a| (a.number, a.outcome))
            .collect::<Vec<_>>(),
        vec![
            (1, AttemptOutcome::Response { status: 500 }),
            (2, AttemptOutcome::Response { status: 500 }),
            (3, AttemptOutcome::Response { status: 200 }),
        ]
    );
    let by_destination = relay
        .deliveries
        .attempts_for_destination(&dest("b"), 10)
        .await
        .unwrap();
    assert_eq!(by_destination.len(), 3);
}

async fn a_destination_down_for_the_whole_schedule_fails_and_the_others_are_unaffected(kind: Kind) {
    let sink = Sink::start().await;
    sink.script("/down", vec![Reply::Status(503)]);
    let schedule = "retry_schedule = [\"0s\", \"0s\", \"0s\"]";
    let relay = relay(
        kind,
        &sink,
        &[("up", "/up", schedule), ("down", "/down", schedule)],
    )
    .await;
    let event = receive_push(&relay, "d-down").await;
    relay.drain().await;

    assert_eq!(sink.received("/up").len(), 1);
    assert_eq!(sink.received("/down").len(), 3);
    assert_eq!(
        state(&relay, &event, "up").await.state,
        DeliveryState::Succeeded
    );
    let down = state(&relay, &event, "down").await;
    assert_eq!(down.state, DeliveryState::Failed);
    assert_eq!(down.attempts, 3);
    assert_eq!(
        down.last_outcome,
        Some(AttemptOutcome::Response { status: 503 })
    );
}

async fn duplicate_queue_messages_never_deliver_twice(kind: Kind) {
    let sink = Sink::start().await;
    sink.script(
        "/slow",
        vec![Reply::Delayed(Duration::from_millis(300), 200)],
    );
    let relay = relay(kind, &sink, &[("slow", "/slow", ""), ("fast", "/fast", "")]).await;
    let event = receive_push(&relay, "d-dup").await;
    // The original message plus two duplicates, handled at the same time
    // (as two concurrent invocations would), then once more afterwards.
    let message = QueueMessage::fan_out(event.clone());
    let (a, b) = tokio::join!(
        relay.dispatch.handle_message(&message),
        relay.dispatch.handle_message(&message)
    );
    let reports: Vec<DeliveryReport> = a
        .unwrap()
        .into_iter()
        .chain(b.unwrap())
        .map(|r| r.report)
        .collect();
    assert_eq!(
        reports
            .iter()
            .filter(|r| matches!(r, DeliveryReport::Succeeded { .. }))
            .count(),
        2
    );
    relay.drain().await;
    relay.dispatch.handle_message(&message).await.unwrap();
    assert_eq!(sink.received("/slow").len(), 1);
    assert_eq!(sink.received("/fast").len(), 1);
}

async fn a_dispatcher_dying_after_sending_delivers_again_not_never(kind: Kind) {
    let sink = Sink::start().await;
    sink.script(
        "/hook",
        vec![Reply::Delayed(Duration::from_millis(500), 200)],
    );
    let relay = relay(kind, &sink, &[("d", "/hook", "timeout = \"5s\"")]).await;
    let event = receive_push(&relay, "d-crash").await;

    let batch = relay.receive_batch().await;
    assert_eq!(batch.len(), 1);
    // Drop the invocation once the destination has the request: after the
    // HTTP call went out, before any state was written.
    tokio::select! {
        _ = relay.run_batch(batch.clone()) => panic!("the invocation should have been cut short"),
        _ = sink.wait_for_requests(1) => {}
    }
    assert_eq!(sink.received("/hook").len(), 1);
    let held = state(&relay, &event, "d").await;
    assert_eq!(held.state, DeliveryState::Pending);
    assert!(held.lease_until.is_some());

    // SQS makes the message visible again; while the lease holds, nobody
    // else may attempt the delivery.
    relay.put_back(&batch).await;
    let claim = relay
        .deliveries
        .claim(
            &event,
            &dest("d"),
            relay.clock.now_for_tests(),
            relay.clock.now_for_tests(),
        )
        .await
        .unwrap();
    assert!(matches!(claim, Claim::Busy(_)), "{claim:?}");

    relay.clock.advance_millis(36_000);
    sink.script("/hook", vec![Reply::Status(200)]);
    relay.drain().await;
    assert_eq!(sink.received("/hook").len(), 2, "delivered again");
    let received = sink.received("/hook");
    assert_eq!(
        received[0].header("webhook-id"),
        received[1].header("webhook-id")
    );
    assert_eq!(
        state(&relay, &event, "d").await.state,
        DeliveryState::Succeeded
    );
}

async fn a_410_fails_the_delivery_disables_the_destination_and_parks_later_events(kind: Kind) {
    let sink = Sink::start().await;
    sink.script("/gone", vec![Reply::Status(410)]);
    let relay = relay(
        kind,
        &sink,
        &[("gone", "/gone", "retry_schedule = [\"0s\", \"0s\"]")],
    )
    .await;
    let first = receive_push(&relay, "d-410").await;
    relay.drain().await;
    let delivery = state(&relay, &first, "gone").await;
    assert_eq!(
        (delivery.state, delivery.attempts),
        (DeliveryState::Failed, 1)
    );
    let config = relay.config.config().await.unwrap();
    let destination = config.destination(&dest("gone")).unwrap();
    assert!(!destination.enabled);
    assert!(destination
        .disabled_reason
        .as_deref()
        .unwrap()
        .contains("410"));

    let second = receive_push(&relay, "d-410-later").await;
    relay.drain().await;
    assert_eq!(
        state(&relay, &second, "gone").await.state,
        DeliveryState::Parked
    );
    assert_eq!(sink.received("/gone").len(), 1);
}

async fn retry_after_is_honoured_without_spending_an_attempt(kind: Kind) {
    let sink = Sink::start().await;
    sink.script(
        "/busy",
        vec![
            Reply::StatusWith(429, vec![("Retry-After".into(), "0".into())]),
            Reply::StatusWith(503, vec![("Retry-After".into(), "0".into())]),
            Reply::Status(200),
        ],
    );
    let relay = relay(
        kind,
        &sink,
        &[("busy", "/busy", "retry_schedule = [\"0s\"]")],
    )
    .await;
    let event = receive_push(&relay, "d-429").await;
    relay.drain().await;
    let delivery = state(&relay, &event, "busy").await;
    assert_eq!(
        delivery.state,
        DeliveryState::Succeeded,
        "a one-attempt schedule survived two Retry-Afters"
    );
    assert_eq!((delivery.attempts, delivery.deferrals), (1, 2));
    assert_eq!(sink.received("/busy").len(), 3);
}

async fn timeouts_and_dropped_connections_are_recorded_and_retried(kind: Kind) {
    let sink = Sink::start().await;
    sink.script("/stall", vec![Reply::Stall, Reply::Status(200)]);
    sink.script("/close", vec![Reply::Close, Reply::Status(200)]);
    let extra = "timeout = \"300ms\"\nretry_schedule = [\"0s\", \"0s\"]";
    let relay = relay(
        kind,
        &sink,
        &[("stall", "/stall", extra), ("close", "/close", extra)],
    )
    .await;
    let event = receive_push(&relay, "d-faults").await;
    relay.drain().await;
    let log = relay.deliveries.attempts_for_event(&event).await.unwrap();
    let first = |d: &str| {
        log.iter()
            .find(|a| a.destination.as_str() == d && a.number == 1)
            .unwrap()
            .outcome
    };
    assert_eq!(
        first("stall"),
        AttemptOutcome::Error {
            error: AttemptErrorKind::Timeout
        }
    );
    assert!(
        matches!(
            first("close"),
            AttemptOutcome::Error {
                error: AttemptErrorKind::Connect | AttemptErrorKind::Io
            }
        ),
        "{:?}",
        first("close")
    );
    assert_eq!(
        state(&relay, &event, "stall").await.state,
        DeliveryState::Succeeded
    );
    assert_eq!(
        state(&relay, &event, "close").await.state,
        DeliveryState::Succeeded
    );
}

async fn a_batch_of_ten_is_delivered_concurrently(kind: Kind) {
    let sink = Sink::start().await;
    sink.script(
        "/slow",
        vec![Reply::Delayed(Duration::from_millis(800), 200)],
    );
    let relay = relay(kind, &sink, &[("slow", "/slow", "")]).await;
    for i in 0..10 {
        receive_push(&relay, &format!("d-batch-{i}")).await;
    }
    let batch = relay.receive_batch().await;
    assert_eq!(batch.len(), 10);
    relay.run_batch(batch).await;
    assert_eq!(sink.received("/slow").len(), 10);
    assert_eq!(sink.max_in_flight(), 10, "all ten were in flight at once");
}

/// A warm dispatcher keeps a destination's in-flight slots; a new
/// `max_in_flight` must take effect once its cached configuration is
/// refreshed, not only after a cold start.
async fn a_changed_max_in_flight_is_picked_up_with_the_configuration(kind: Kind) {
    let sink = Sink::start().await;
    sink.script(
        "/slow",
        vec![Reply::Delayed(Duration::from_millis(500), 200)],
    );
    let relay = relay(kind, &sink, &[("slow", "/slow", "max_in_flight = 2")]).await;
    for n in 0..6 {
        receive_push(&relay, &format!("d-limit-{n}")).await;
    }
    relay.drain().await;
    assert_eq!(sink.received("/slow").len(), 6);
    assert_eq!(sink.max_in_flight(), 2, "the limit of 2 was not kept");

    // When: the limit is raised, and the configuration cache runs out.
    let mut destination = relay
        .config
        .config()
        .await
        .unwrap()
        .destination(&dest("slow"))
        .cloned()
        .unwrap();
    destination.max_in_flight = Some(6);
    relay
        .writer
        .put(&ConfigItem::Destination(destination))
        .await
        .unwrap();
    relay.clock.advance_millis(60_000);
    for n in 6..12 {
        receive_push(&relay, &format!("d-limit-{n}")).await;
    }
    let batch = relay.receive_batch().await;
    assert_eq!(batch.len(), 6);
    relay.run_batch(batch).await;

    // Then: six at once.
    assert_eq!(sink.received("/slow").len(), 12);
    assert_eq!(sink.max_in_flight(), 6, "the new limit of 6 was not used");
}

/// The delivery store lists a state from either end: release and recovery
/// page forward from the oldest, an operator looks at the newest.
async fn deliveries_in_a_state_are_listed_from_either_end(kind: Kind) {
    let sink = Sink::start().await;
    sink.script("/down", vec![Reply::Status(500)]);
    let relay = relay(
        kind,
        &sink,
        &[("down", "/down", "retry_schedule = [\"0s\"]")],
    )
    .await;
    let mut ids = Vec::new();
    for n in 0..5 {
        relay.clock.advance_millis(1);
        ids.push(receive_push(&relay, &format!("d-order-{n}")).await);
    }
    relay.drain().await;
    let list = |order| {
        let relay = &relay;
        async move {
            relay
                .deliveries
                .deliveries_in_state(&dest("down"), DeliveryState::Failed, None, order, 3)
                .await
                .unwrap()
        }
    };
    assert_eq!(list(ListOrder::OldestFirst).await, ids[..3].to_vec());
    let newest: Vec<EventId> = ids.iter().rev().take(3).cloned().collect();
    assert_eq!(list(ListOrder::NewestFirst).await, newest);
    // Pending and succeeded deliveries have no index entries (each would
    // cost a write as a delivery enters or leaves the state): asking for
    // them by destination is refused, on both backends alike.
    for state in [DeliveryState::Pending, DeliveryState::Succeeded] {
        let refused = relay
            .deliveries
            .deliveries_in_state(&dest("down"), state, None, ListOrder::NewestFirst, 3)
            .await
            .unwrap_err();
        assert_eq!(
            refused.kind(),
            hookrelay_core::ErrorKind::Invalid,
            "{refused}"
        );
    }
}

on_both_backends!(
    deliveries_in_a_state_are_listed_from_either_end,
    a_changed_max_in_flight_is_picked_up_with_the_configuration,
    fan_out_reaches_every_destination_and_a_flaky_one_after_three_attempts,
    a_destination_down_for_the_whole_schedule_fails_and_the_others_are_unaffected,
    duplicate_queue_messages_never_deliver_twice,
    a_dispatcher_dying_after_sending_delivers_again_not_never,
    a_410_fails_the_delivery_disables_the_destination_and_parks_later_events,
    retry_after_is_honoured_without_spending_an_attempt,
    timeouts_and_dropped_connections_are_recorded_and_retried,
    a_batch_of_ten_is_delivered_concurrently,
);

/// DynamoDB's TTL removes an event's item after the retention period; its
/// deliveries and attempts, under the same key, must go with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_and_attempts_expire_with_their_event_in_dynamodb() {
    let sink = Sink::start().await;
    sink.script("/flaky", vec![Reply::Status(500), Reply::Status(200)]);
    let relay = relay(
        Kind::Aws,
        &sink,
        &[("flaky", "/flaky", "retry_schedule = [\"0s\", \"0s\"]")],
    )
    .await;
    let event = receive_push(&relay, "d-ttl").await;
    relay.drain().await;
    assert_eq!(
        state(&relay, &event, "flaky").await.state,
        DeliveryState::Succeeded
    );

    let table = relay.events_table();
    let items = aws_sdk_dynamodb::Client::new(&hookrelay_tests::moto::shared().sdk_config())
        .query()
        .table_name(&table)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(
            ":pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("EVT#{event}")),
        )
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default();
    let expiry =
        |item: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>| {
            item.get("expires_at")
                .and_then(|v| v.as_n().ok())
                .and_then(|v| v.parse::<i64>().ok())
        };
    let event_item = items
        .iter()
        .find(|i| i.get("sk").and_then(|v| v.as_s().ok()).map(String::as_str) == Some("EVENT"))
        .expect("the event item");
    let event_expiry = expiry(event_item).expect("the event expires");
    // The event, the failed attempt's own item, and the delivery, which
    // holds the attempt that succeeded.
    assert_eq!(items.len(), 3, "{items:?}");
    assert!(
        items.iter().any(|i| i.contains_key("done")),
        "the success inside its delivery: {items:?}"
    );
    for item in &items {
        let item_expiry = expiry(item).unwrap_or_else(|| panic!("no expires_at on {item:?}"));
        assert!(
            (item_expiry - event_expiry).abs() <= 1,
            "{item_expiry} vs the event's {event_expiry}"
        );
    }
}
