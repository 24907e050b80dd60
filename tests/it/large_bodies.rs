//! Large payloads (claim check): bodies past what an item should hold are
//! kept in S3 on DynamoDB (in memory on the embedded backend), and arrive
//! at the destination byte for byte, signed, first time and on replay.
use hookrelay_core::admin::{AdminRequest, AdminResponse};
use hookrelay_core::CoreError;
use hookrelay_models::{EventId, SourceId, BODY_LIMIT_CEILING};
use hookrelay_tests::proxy::CuttableProxy;
use hookrelay_tests::relay::{test_dispatch_settings, Relay};
use hookrelay_tests::sink::{Reply, Sink};
use hookrelay_tests::{config_from, large_json_body, moto, ManualClock};
use sha2::{Digest, Sha256};
use std::sync::Arc;

const SECRET: &str = "It's a Secret to Everybody";
const DEST_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[derive(Clone, Copy)]
enum Kind {
    Embedded,
    Aws,
}

fn config(sink: &Sink) -> hookrelay_models::Config {
    config_from(&format!(
        "allow_private_destinations = true\n[[sources]]\nid = \"github\"\nscheme = \"github\"\nsecrets = [{SECRET:?}]\n\
         [[destinations]]\nid = \"app\"\nurl = \"{}\"\nsecret = \"{DEST_SECRET}\"\ntimeout = \"60s\"\n\
         [[routes]]\nsource = \"github\"\ndestination = \"app\"\n",
        sink.url("/hook")
    ))
}

async fn relay(kind: Kind, sink: &Sink) -> Relay {
    let clock = Arc::new(ManualClock::at_system_time());
    match kind {
        Kind::Embedded => Relay::embedded(config(sink), clock),
        Kind::Aws => Relay::aws(config(sink), clock).await,
    }
}

/// An AWS relay whose S3 calls go through a proxy the test can cut.
async fn relay_with_cuttable_s3(sink: &Sink) -> (Relay, CuttableProxy) {
    let moto = moto::shared();
    let s3 = CuttableProxy::start(&moto.endpoint).await;
    let relay = Relay::aws_at(
        config(sink),
        Arc::new(ManualClock::at_system_time()),
        test_dispatch_settings(),
        &moto.endpoint,
        &moto.endpoint,
        &s3.endpoint(),
    )
    .await;
    (relay, s3)
}

/// Bytes no compression shrinks, of every value.
fn binary_body(size: usize) -> Vec<u8> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..size)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

async fn accept(relay: &Relay, body: &[u8], content_type: &str, delivery: &str) -> EventId {
    relay
        .accept_github(
            "github",
            SECRET,
            body,
            &[
                ("X-GitHub-Event", "push"),
                ("X-GitHub-Delivery", delivery),
                ("Content-Type", content_type),
            ],
        )
        .await
}

/// Delivered, byte for byte, with a signature Python's `hmac` accepts.
fn assert_delivered_intact(sink: &Sink, event: &EventId, body: &[u8]) {
    let message_id = event.as_str().replace("evt_", "msg_");
    let received = sink.received("/hook");
    let delivery = received
        .iter()
        .rev()
        .find(|r| r.header("webhook-id") == Some(message_id.as_str()))
        .unwrap_or_else(|| panic!("{event} was not delivered"));
    assert_eq!(delivery.body.len(), body.len());
    assert_eq!(
        sha256(&delivery.body),
        sha256(body),
        "{event}: bytes differ"
    );
    assert!(delivery.python_verifies(DEST_SECRET));
}

async fn a_5_mib_json_body_and_a_1_mib_binary_body_arrive_byte_for_byte(kind: Kind) {
    let sink = Sink::start().await;
    sink.script("/hook", vec![Reply::Status(200)]);
    let relay = relay(kind, &sink).await;
    let json = large_json_body(BODY_LIMIT_CEILING);
    let binary = binary_body(1024 * 1024);
    let json_event = accept(&relay, &json, "application/json", "d-json").await;
    let binary_event = accept(&relay, &binary, "application/octet-stream", "d-bin").await;
    while relay.drain().await > 0 {}
    assert_delivered_intact(&sink, &json_event, &json);
    assert_delivered_intact(&sink, &binary_event, &binary);
    // Stored whole, read back whole.
    let stored = relay.events.event(&binary_event).await.unwrap().unwrap();
    assert_eq!(sha256(&stored.body), sha256(&binary));

    // A replay reads the stored body again.
    let AdminResponse::Replayed(replayed) = relay
        .admin()
        .execute(AdminRequest::Replay {
            event: json_event.clone(),
            destination: None,
        })
        .await
        .unwrap()
    else {
        panic!("not a replay");
    };
    assert_eq!(replayed.len(), 1);
    while relay.drain().await > 0 {}
    assert_eq!(sink.received("/hook").len(), 3);
    assert_delivered_intact(&sink, &json_event, &json);
}

async fn a_body_just_over_the_inline_limit_and_a_small_one_both_round_trip(kind: Kind) {
    let sink = Sink::start().await;
    sink.script("/hook", vec![Reply::Status(200)]);
    let relay = relay(kind, &sink).await;
    let mut events = Vec::new();
    for (n, size) in [10, 8 * 1024, 8 * 1024 + 1, 20 * 1024]
        .into_iter()
        .enumerate()
    {
        let body = binary_body(size);
        let id = accept(&relay, &body, "application/octet-stream", &format!("d-{n}")).await;
        events.push((id, body));
    }
    while relay.drain().await > 0 {}
    for (id, body) in &events {
        assert_delivered_intact(&sink, id, body);
    }
    let listed = relay
        .events
        .events_by_source(&SourceId::parse("github").unwrap(), None, 10)
        .await
        .unwrap();
    assert_eq!(listed.len(), events.len());
    for listed in listed {
        let (_, body) = events.iter().find(|(id, _)| *id == listed.id).unwrap();
        // Listed with its size (from the stored reference, for a body in
        // the bucket); read whole only when asked for.
        assert_eq!(listed.body_bytes, body.len() as u64);
        let event = relay.events.event(&listed.id).await.unwrap().unwrap();
        assert_eq!(sha256(&event.body), sha256(body));
    }
}

on_both_backends!(
    a_5_mib_json_body_and_a_1_mib_binary_body_arrive_byte_for_byte,
    a_body_just_over_the_inline_limit_and_a_small_one_both_round_trip,
);

/// The dispatcher's budget of body bytes in flight: with room for one
/// 1 MiB body, a batch of two handles one and queues the other again for a
/// moment (issue 25, defect 8); it is delivered then, not lost, and the
/// message says how large its body is, so the next try reserves before it
/// reads.
#[tokio::test]
async fn a_body_that_finds_no_room_goes_back_to_the_queue_and_is_delivered() {
    let sink = Sink::start().await;
    sink.script("/hook", vec![Reply::Status(200)]);
    let clock = Arc::new(ManualClock::at_system_time());
    let relay = Relay::embedded_with(
        config(&sink),
        clock.clone(),
        Arc::new(hookrelay_core::NoMetrics),
        hookrelay_core::DispatchSettings {
            body_bytes_in_flight: 1024 * 1024 + 1024,
            body_budget_wait: std::time::Duration::ZERO,
            ..test_dispatch_settings()
        },
    );
    let bodies = [binary_body(1024 * 1024), binary_body(1024 * 1024 - 7)];
    let mut events = Vec::new();
    for (n, body) in bodies.iter().enumerate() {
        events.push(
            accept(
                &relay,
                body,
                "application/octet-stream",
                &format!("room-{n}"),
            )
            .await,
        );
    }
    let batch = relay.receive_batch().await;
    assert_eq!(batch.len(), 2);
    relay.run_batch(batch).await;
    assert_eq!(sink.received("/hook").len(), 1, "one body at a time");
    assert!(relay.receive_batch().await.is_empty(), "not due at once");

    clock.advance_millis(hookrelay_core::BODY_BUDGET_REQUEUE_AFTER.as_millis() as i64);
    let again = relay.receive_batch().await;
    assert_eq!(again.len(), 1);
    let message: hookrelay_core::QueueMessage =
        serde_json::from_str(again[0].body.as_deref().unwrap()).unwrap();
    let waiting = events.iter().position(|e| *e == message.event_id).unwrap();
    assert_eq!(message.body_bytes, Some(bodies[waiting].len() as u64));
    relay.run_batch(again).await;
    for (event, body) in events.iter().zip(&bodies) {
        assert_delivered_intact(&sink, event, body);
    }
    assert_eq!(sink.received("/hook").len(), 2, "each once");
}

/// DynamoDB + S3: the object is written before the item that names it, so
/// with S3 unreachable the provider gets a 503 and no event is stored; its
/// retry stores it under the id the first receipt claimed, and it is
/// delivered once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_unavailable_at_ingest_is_503_and_the_retry_succeeds() {
    let sink = Sink::start().await;
    sink.script("/hook", vec![Reply::Status(200)]);
    let (relay, s3) = relay_with_cuttable_s3(&sink).await;
    let body = binary_body(64 * 1024);
    let headers = [
        ("X-GitHub-Event", "push"),
        ("X-GitHub-Delivery", "d-s3"),
        ("Content-Type", "application/octet-stream"),
    ];
    s3.cut();
    let refused = relay
        .try_accept_github("github", SECRET, &body, &headers)
        .await;
    assert!(
        matches!(refused, Err(CoreError::Unavailable { .. })),
        "{refused:?}"
    );
    let source = SourceId::parse("github").unwrap();
    assert!(relay
        .events
        .events_by_source(&source, None, 10)
        .await
        .unwrap()
        .is_empty());

    s3.restore();
    let event = match relay
        .try_accept_github("github", SECRET, &body, &headers)
        .await
        .unwrap()
    {
        // The first receipt claimed the delivery: the retry is its.
        hookrelay_core::IngestOutcome::Duplicate { id } => id,
        other => panic!("the retry carries the first receipt on: {other:?}"),
    };
    while relay.drain().await > 0 {}
    assert_delivered_intact(&sink, &event, &body);
    assert_eq!(sink.received("/hook").len(), 1);
}

/// DynamoDB + S3: an event whose retention ran out is gone, even while its
/// item is still in the table (DynamoDB's TTL lags by up to days) or after
/// the bucket's lifecycle took its body first: reads say so, listings
/// skip an expired item, and the dispatcher drops its message rather than
/// failing it into the dead-letter queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_event_or_body_reads_as_gone_not_as_an_outage() {
    let sink = Sink::start().await;
    let relay = relay(Kind::Aws, &sink).await;
    let source = SourceId::parse("github").unwrap();

    let body = binary_body(64 * 1024);
    let large = accept(&relay, &body, "application/octet-stream", "d-lifecycle").await;
    let small = accept(&relay, b"{}", "application/json", "d-ttl").await;
    // The lifecycle deletes the large body's object (named by its digest).
    hookrelay_aws::s3_client(&moto::shared().sdk_config())
        .delete_object()
        .bucket(relay.body_bucket())
        .key(format!("bodies/sha256/{}", sha256(&body)))
        .send()
        .await
        .unwrap();
    assert!(relay.events.event(&large).await.unwrap().is_none());
    assert!(relay.events.event(&small).await.unwrap().is_some());
    let listed: Vec<EventId> = relay
        .events
        .events_by_source(&source, None, 10)
        .await
        .expect("a listing, not an error")
        .into_iter()
        .map(|e| e.id)
        .collect();
    // Listings read no body, so the large one is listed until its item's
    // retention ends (the bucket's lifecycle runs on the same period);
    // reading it says it is gone.
    assert_eq!(listed, [small.clone(), large.clone()]);

    // Long after: the small one's retention has run out too, its item
    // still there.
    relay.clock.advance_millis(31 * 24 * 3600 * 1000_i64);
    assert!(relay.events.event(&small).await.unwrap().is_none());
    assert!(relay
        .events
        .events_by_source(&source, None, 10)
        .await
        .unwrap()
        .is_empty());
    // Both fan-outs are handled (dropped), not failed: nothing is left.
    relay.drain().await;
    assert!(relay.receive_batch().await.is_empty());
    assert!(sink.received("/hook").is_empty());
}

/// DynamoDB + S3: a listing reads no body (each size is in the stored
/// reference), so with S3 unreachable `events list` still answers; only
/// reading the event itself needs the bucket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_read_no_body() {
    let sink = Sink::start().await;
    let (relay, s3) = relay_with_cuttable_s3(&sink).await;
    let body = binary_body(64 * 1024);
    let id = accept(&relay, &body, "application/octet-stream", "d-listed").await;
    s3.cut();
    let listed = relay
        .events
        .events_by_source(&SourceId::parse("github").unwrap(), None, 10)
        .await
        .expect("listed without S3");
    assert_eq!(listed.len(), 1);
    assert_eq!((&listed[0].id, listed[0].body_bytes), (&id, 64 * 1024));
    let AdminResponse::Events(summaries) = relay
        .admin()
        .execute(AdminRequest::ListEvents {
            source: None,
            since: None,
            status: None,
            limit: 10,
        })
        .await
        .expect("the admin listing without S3")
    else {
        panic!("not a listing");
    };
    assert_eq!(summaries[0].body_bytes, 64 * 1024);
    assert!(matches!(
        relay.events.event(&id).await,
        Err(CoreError::Unavailable { .. })
    ));
}

/// DynamoDB + S3: a body is named by its content and written only once its
/// delivery is claimed, so replaying a captured request (GitHub signs no
/// timestamp: the same signed bytes are a duplicate whatever delivery id
/// they carry) stores no second object, and no object is ever written
/// with other bytes under a name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_large_request_stores_one_object() {
    let sink = Sink::start().await;
    let relay = relay(Kind::Aws, &sink).await;
    let body = binary_body(64 * 1024);
    let first = accept(&relay, &body, "application/octet-stream", "d-original").await;
    for replayed_as in ["d-replay-1", "d-replay-2"] {
        let again = relay
            .try_accept_github(
                "github",
                SECRET,
                &body,
                &[
                    ("X-GitHub-Event", "push"),
                    ("X-GitHub-Delivery", replayed_as),
                    ("Content-Type", "application/octet-stream"),
                ],
            )
            .await
            .unwrap();
        assert_eq!(
            again,
            hookrelay_core::IngestOutcome::Duplicate { id: first.clone() }
        );
    }
    let listed = hookrelay_aws::s3_client(&moto::shared().sdk_config())
        .list_objects_v2()
        .bucket(relay.body_bucket())
        .prefix("bodies/")
        .send()
        .await
        .unwrap();
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, [format!("bodies/sha256/{}", sha256(&body))]);
}
