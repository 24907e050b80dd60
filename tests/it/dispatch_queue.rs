//! Queue-level behaviour of the dispatcher: delays longer than SQS allows,
//! and partial batch responses.
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use hookrelay_models::{DeliveryState, DestinationId};
use hookrelay_tests::relay::Relay;
use hookrelay_tests::sink::{Reply, Sink};
use hookrelay_tests::{config_from, ManualClock};
use std::sync::Arc;

fn relay_to(sink: &Sink, schedule: &str) -> Relay {
    let config = config_from(&format!(
        "allow_private_destinations = true\n[[sources]]\nid = \"gh\"\nscheme = \"github\"\nsecrets = [\"s\"]\n\
         [[destinations]]\nid = \"d\"\nurl = \"{}\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\nretry_schedule = {schedule}\n\
         [[routes]]\nsource = \"gh\"\ndestination = \"d\"\n",
        sink.url("/hook")
    ));
    Relay::embedded(config, Arc::new(ManualClock::at_unix_secs(1_790_000_000)))
}

async fn receive(relay: &Relay) -> hookrelay_models::EventId {
    relay.accept_github("gh", "s", b"{}", &[]).await
}

#[tokio::test]
async fn a_retry_delay_beyond_sqs_limit_is_held_by_re_enqueueing() {
    let sink = Sink::start().await;
    sink.script("/hook", vec![Reply::Status(500), Reply::Status(200)]);
    let relay = relay_to(&sink, "[\"0s\", \"40m\"]");
    let event = receive(&relay).await;
    relay.drain().await;
    assert_eq!(sink.received("/hook").len(), 1);

    // SQS delays at most 15 minutes: the retry message surfaces early, finds
    // the delivery not yet due and goes back for the rest of the wait.
    for _ in 0..2 {
        relay.clock.advance_millis(15 * 60 * 1000);
        relay.drain().await;
        assert_eq!(sink.received("/hook").len(), 1, "not before 40 minutes");
    }
    relay.clock.advance_millis(10 * 60 * 1000);
    relay.drain().await;
    assert_eq!(sink.received("/hook").len(), 2);
    let delivery = relay
        .deliveries
        .delivery(&event, &DestinationId::parse("d").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (delivery.state, delivery.attempts),
        (DeliveryState::Succeeded, 2)
    );
}

#[tokio::test]
async fn a_batch_reports_only_the_messages_that_must_come_back() {
    let sink = Sink::start().await;
    let relay = relay_to(&sink, "[\"0s\"]");
    let event = receive(&relay).await;
    let mut good = SqsMessage::default();
    good.message_id = Some("good".into());
    good.body = Some(format!(r#"{{"event_id":"{event}"}}"#));
    let mut unreadable = SqsMessage::default();
    unreadable.message_id = Some("unreadable".into());
    unreadable.body = Some("not json".into());
    let mut gone = SqsMessage::default();
    gone.message_id = Some("expired-event".into());
    gone.body = Some(r#"{"event_id":"evt_01jd0000000000000000000000"}"#.into());
    let mut batch = SqsEvent::default();
    batch.records = vec![good, unreadable, gone];

    let response = hookrelay_dispatcher::handle_batch(&relay.dispatch, batch).await;
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, vec!["unreadable"]);
    assert_eq!(sink.received("/hook").len(), 1);
}

#[tokio::test]
async fn the_sample_sqs_event_parses_with_the_runtime_types() {
    let event: SqsEvent =
        serde_json::from_str(include_str!("../../events/sqs-batch.json")).unwrap();
    assert_eq!(event.records.len(), 1);
    let message: hookrelay_core::QueueMessage =
        serde_json::from_str(event.records[0].body.as_deref().unwrap()).unwrap();
    assert_eq!(message.event_id.as_str(), "evt_01jd0000000000000000000000");
}

/// SQS delays in whole seconds. A retry due at +1.4 s must not surface at
/// +1 s and then come back again and again until due (each time an
/// invocation, a send, a receive and a read): it is attempted once, from
/// one message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_due_at_a_fractional_second_surfaces_once_on_sqs() {
    let sink = Sink::start().await;
    sink.script("/hook", vec![Reply::Status(500), Reply::Status(200)]);
    let config = config_from(&format!(
        "allow_private_destinations = true\n[[sources]]\nid = \"gh\"\nscheme = \"github\"\nsecrets = [\"s\"]\n\
         [[destinations]]\nid = \"d\"\nurl = \"{}\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\nretry_schedule = [\"0s\", \"1400ms\"]\n\
         [[routes]]\nsource = \"gh\"\ndestination = \"d\"\n",
        sink.url("/hook")
    ));
    // SQS's delays are real seconds: the dispatcher reads the real time.
    let relay = Relay::aws(config, Arc::new(ManualClock::at_system_time())).await;
    receive(&relay).await;

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let mut messages = 0;
    while sink.received("/hook").len() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the retry never came; {messages} messages handled"
        );
        relay.clock.set(hookrelay_models::Timestamp::now());
        let batch = relay.receive_batch().await;
        if batch.is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            continue;
        }
        messages += relay.run_batch(batch).await;
    }
    assert_eq!(
        messages, 2,
        "the fan-out and one retry; more means a message surfaced before it was due"
    );
}
