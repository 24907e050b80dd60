//! Faults, on DynamoDB and SQS (moto) with real network cuts and real
//! processes: the table or the queue becomes unreachable mid-run and comes
//! back; the dispatcher process is killed in the middle of a batch and
//! started again (by AWS's Runtime Interface Emulator, as Lambda would). Afterwards no accepted event is lost and no delivery was
//! ever attempted twice at once. (The destination that is down for its
//! whole schedule and then recovered is in `cli/tests/admin.rs`.)
use hookrelay_core::IngestOutcome;
use hookrelay_models::{DeliveryState, DestinationId, EventId};
use hookrelay_tests::lambda_runtime::{lambda_binary, sqs_event_records};
use hookrelay_tests::moto;
use hookrelay_tests::proxy::CuttableProxy;
use hookrelay_tests::relay::{test_dispatch_settings, Relay};
use hookrelay_tests::rie::OfficialRie;
use hookrelay_tests::sink::{Reply, Sink};
use hookrelay_tests::{config_from, ManualClock};
use serde_json::json;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

const GITHUB_SECRET: &str = "It's a Secret to Everybody";
const DEST_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn config_text(sink: &Sink, extra: &str) -> String {
    format!(
        "allow_private_destinations = true\n[[sources]]\nid = \"github\"\nscheme = \"github\"\nsecrets = [{GITHUB_SECRET:?}]\n\
         [[destinations]]\nid = \"app\"\nurl = \"{}\"\nsecret = \"{DEST_SECRET}\"\n{extra}\n\
         [[routes]]\nsource = \"github\"\ndestination = \"app\"\n",
        sink.url("/app")
    )
}

fn app() -> DestinationId {
    DestinationId::parse("app").unwrap()
}

/// A provider: sends delivery `n` and says whether it got a 2xx, and for
/// which event.
async fn provider_sends(relay: &Relay, n: u32) -> Option<EventId> {
    let outcome = relay
        .try_accept_github(
            "github",
            GITHUB_SECRET,
            format!("{{\"n\":{n}}}").as_bytes(),
            &[
                ("X-GitHub-Event", "push"),
                ("X-GitHub-Delivery", &format!("delivery-{n}")),
                ("Content-Type", "application/json"),
            ],
        )
        .await;
    match outcome {
        Ok(IngestOutcome::Accepted { id }) | Ok(IngestOutcome::Duplicate { id }) => Some(id),
        Ok(other) => panic!("unexpected {other:?}"),
        Err(err) => {
            // The provider is answered 503 and tries again later.
            assert!(err.is_retryable(), "a non-retryable error: {err}");
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn table_and_queue_outages_mid_run_lose_nothing_and_duplicate_nothing() {
    let moto = moto::shared();
    let dynamodb = CuttableProxy::start(&moto.endpoint).await;
    let sqs = CuttableProxy::start(&moto.endpoint).await;
    let sink = Sink::start().await;
    let relay = Relay::aws_at(
        config_from(&config_text(&sink, "")),
        Arc::new(ManualClock::at_system_time()),
        test_dispatch_settings(),
        &dynamodb.endpoint(),
        &sqs.endpoint(),
        &moto.endpoint,
    )
    .await;
    // Deliveries answered per provider delivery: what the provider holds a
    // 2xx for.
    let mut acknowledged: BTreeMap<u32, EventId> = BTreeMap::new();

    // Running normally: four accepted and queued.
    for n in 0..4 {
        acknowledged.insert(n, provider_sends(&relay, n).await.expect("accepted"));
    }
    let in_hand = relay.receive_batch().await;
    assert_eq!(in_hand.len(), 4);

    // The table goes away mid-run: the dispatcher cannot load the events
    // it holds (the batch fails and is put back), and new webhooks are
    // answered 503, with nothing half-written.
    dynamodb.cut();
    relay.run_batch(in_hand).await;
    for n in 4..6 {
        assert_eq!(
            provider_sends(&relay, n).await,
            None,
            "2xx while the table is down"
        );
    }
    dynamodb.restore();

    // Then the queue goes away: an event can be stored but not queued, so
    // the receipt is taken back and answered 503.
    sqs.cut();
    for n in 4..6 {
        assert_eq!(
            provider_sends(&relay, n).await,
            None,
            "2xx while the queue is down"
        );
    }
    sqs.restore();

    // Both back: the providers retry (same delivery ids) and are accepted.
    for n in 4..6 {
        acknowledged.insert(n, provider_sends(&relay, n).await.expect("accepted"));
    }
    // A provider retrying a delivery it already had a 2xx for gets the
    // same event back, not a second one.
    assert_eq!(
        provider_sends(&relay, 0).await.as_ref(),
        acknowledged.get(&0)
    );

    relay.drain().await;
    for event in acknowledged.values() {
        let delivery = relay.deliveries.delivery(event, &app()).await.unwrap();
        assert_eq!(
            delivery.map(|d| d.state),
            Some(DeliveryState::Succeeded),
            "{event} was acknowledged but not delivered"
        );
    }
    let successes = sink.successes_by_webhook_id();
    let expected: HashSet<String> = acknowledged
        .values()
        .map(|e| e.message_id().to_string())
        .collect();
    assert_eq!(successes.keys().cloned().collect::<HashSet<_>>(), expected);
    assert!(successes.values().all(|&n| n == 1), "{successes:?}");
    assert_eq!(sink.max_concurrent_same_webhook_id(), 1);
}

/// The event source mapping's part, once: receive a batch, invoke the
/// function with it, delete what it handled. `None` if the invocation
/// failed (the function died): the messages come back after their
/// visibility timeout, as in SQS.
async fn deliver_one_batch(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    api: &OfficialRie,
) -> Option<usize> {
    let received = sqs
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(10)
        .visibility_timeout(3)
        .wait_time_seconds(1)
        .send()
        .await
        .unwrap();
    let messages = received.messages().to_vec();
    if messages.is_empty() {
        return Some(0);
    }
    let records = sqs_event_records(&messages);
    let answer = api
        .invoke(&json!({ "Records": records }), Duration::from_secs(10))
        .await
        .ok()?;
    let failed: Vec<&str> = answer["batchItemFailures"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter_map(|i| i["itemIdentifier"].as_str())
                .collect()
        })
        .unwrap_or_default();
    for message in &messages {
        if !failed.contains(&message.message_id().unwrap_or_default()) {
            sqs.delete_message()
                .queue_url(queue_url)
                .receipt_handle(message.receipt_handle().unwrap_or_default())
                .send()
                .await
                .unwrap();
        }
    }
    Some(messages.len())
}

/// A sink that answers after 1.5 s (so a kill lands while requests are in
/// flight) and a relay on moto delivering to it, with `extra` settings.
async fn slow_sink_and_relay(extra: &str) -> (Sink, Relay) {
    let sink = Sink::start().await;
    sink.script(
        "/app",
        vec![Reply::Delayed(Duration::from_millis(1500), 200)],
    );
    let relay = Relay::aws_with(
        config_from(&config_text(
            &sink,
            &format!("timeout = \"2s\"\nretry_schedule = [\"0s\", \"1s\", \"1s\"]\n{extra}"),
        )),
        Arc::new(ManualClock::at_system_time()),
        test_dispatch_settings(),
    )
    .await;
    (sink, relay)
}

/// The dispatcher Lambda (a real process under AWS's Runtime Interface
/// Emulator, on `relay`'s moto tables and queue) takes the first batch and
/// is killed once `kill_after` of its requests have reached `sink`; the
/// emulator answers that invocation with `Runtime.ExitError` and starts a
/// new process at the next one, as Lambda does, which is fed batches until
/// every one of `events` has succeeded. Returns how many requests reached
/// the sink before the kill.
async fn kill_mid_batch_and_recover(
    relay: &Relay,
    sink: &Sink,
    events: &[EventId],
    kill_after: usize,
) -> usize {
    let dispatcher_bin = lambda_binary("hookrelay-dispatcher", "dispatcher");
    let (mut env, queue_url) = relay.aws_environment();
    env.push(("HOOKRELAY_ALLOW_PRIVATE_DESTINATIONS", "true".into()));
    // A short lease margin, so the takeover comes within the test.
    env.push(("HOOKRELAY_LEASE_MARGIN_SECS", "1".into()));
    let sqs = aws_sdk_sqs::Client::new(&moto::shared().sdk_config());
    let api = OfficialRie::start(&dispatcher_bin, "hookrelay-dispatcher", &env);
    let first = deliver_one_batch(&sqs, &queue_url, &api);
    let kill = async {
        tokio::time::timeout(Duration::from_secs(30), sink.wait_for_requests(kill_after))
            .await
            .expect("requests reached the sink");
        let pid = api.function_pid().expect("the dispatcher is running");
        let killed = std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        pid
    };
    let (handled, killed) = tokio::join!(first, kill);
    assert_eq!(handled, None, "the killed invocation answered");
    let attempted_before_kill = sink.received_count();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let mut settled = 0;
        for event in events {
            if relay
                .deliveries
                .delivery(event, &app())
                .await
                .unwrap()
                .is_some_and(|d| d.state == DeliveryState::Succeeded)
            {
                settled += 1;
            }
        }
        if settled == events.len() {
            // The batches after the kill ran in a new process.
            assert!(api.function_pid().is_some_and(|pid| pid != killed));
            return attempted_before_kill;
        }
        assert!(
            Instant::now() < deadline,
            "{settled} of {} delivered after the restart",
            events.len()
        );
        deliver_one_batch(&sqs, &queue_url, &api).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispatcher_killed_mid_batch_and_restarted_delivers_everything_never_twice_at_once() {
    let (sink, relay) = slow_sink_and_relay("").await;
    let mut events = Vec::new();
    for n in 0..6 {
        events.push(provider_sends(&relay, n).await.expect("accepted"));
    }
    let attempted_before_kill = kill_mid_batch_and_recover(&relay, &sink, &events, 3).await;
    assert!(attempted_before_kill >= 3);

    // Every event reached the sink with a 2xx at least once (a request
    // answered after its dispatcher died is sent again: at least once),
    // and no delivery was ever in flight twice at the same time.
    let successes = sink.successes_by_webhook_id();
    for event in &events {
        assert!(successes
            .get(event.message_id().as_str())
            .is_some_and(|&n| n >= 1));
    }
    // What the dead dispatcher had sent was taken over and sent again.
    assert!(
        successes.values().any(|&n| n >= 2),
        "nothing was taken over after the kill: {successes:?}"
    );
    assert_eq!(sink.max_concurrent_same_webhook_id(), 1);
}

/// The kill above, with the destination ordered by a key in the body
/// (issue 29): three keys of four events each, each key's sent one after
/// another. After the restart every event is delivered, and no request of
/// a key's event reached the sink after a request of a later event of
/// that key (one the dead dispatcher had sent is sent again, before the
/// key moves on).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispatcher_killed_mid_batch_keeps_each_keys_order() {
    let (sink, relay) = slow_sink_and_relay("ordering = { key = \"json:/key\" }").await;
    let mut events = Vec::new();
    for seq in 0..4 {
        for key in 0..3 {
            let body = format!(r#"{{"key":"k{key}","seq":{seq}}}"#);
            let id = relay
                .accept_github(
                    "github",
                    GITHUB_SECRET,
                    body.as_bytes(),
                    &[
                        ("X-GitHub-Event", "push"),
                        ("X-GitHub-Delivery", &format!("k{key}-{seq}")),
                    ],
                )
                .await;
            events.push(id);
        }
    }
    kill_mid_batch_and_recover(&relay, &sink, &events, 2).await;
    let mut highest: BTreeMap<String, u64> = BTreeMap::new();
    for request in sink.received("/app") {
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        let (key, seq) = (
            body["key"].as_str().unwrap().to_string(),
            body["seq"].as_u64().unwrap(),
        );
        let top = highest.entry(key.clone()).or_insert(seq);
        assert!(
            seq >= *top,
            "{key}: seq {seq} reached the sink after seq {top}"
        );
        *top = seq;
    }
    assert_eq!(highest.values().copied().collect::<Vec<_>>(), vec![3, 3, 3]);
    assert_eq!(sink.max_concurrent_same_webhook_id(), 1);
}
