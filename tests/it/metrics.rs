//! The counts the alarms rely on are recorded where things happen.
use hookrelay_embedded::MemoryMetrics;
use hookrelay_signing::{sign_as_provider, ProviderMessage, Scheme, SchemeKind, Secret};
use hookrelay_tests::relay::Relay;
use hookrelay_tests::sink::{Reply, Sink};
use hookrelay_tests::{config_from, ManualClock};
use lambda_http::Body;
use std::sync::Arc;

fn push(secret: &str, delivery: &str) -> lambda_http::Request {
    let message = ProviderMessage {
        body: b"{}",
        timestamp: 0,
        id: "",
        url: None,
    };
    let mut builder = http::Request::builder()
        .method("POST")
        .uri("/hooks/gh")
        .header("X-GitHub-Event", "push")
        .header("X-GitHub-Delivery", delivery);
    for (name, value) in sign_as_provider(
        &Scheme::Named(SchemeKind::Github),
        &Secret::new(secret),
        &message,
    )
    .unwrap()
    {
        builder = builder.header(name, value);
    }
    builder.body(Body::from("{}")).unwrap()
}

#[tokio::test]
async fn receiving_and_delivering_record_their_metrics() {
    let sink = Sink::start().await;
    sink.script("/hook", vec![Reply::Status(500), Reply::Status(200)]);
    let config = config_from(&format!(
        "allow_private_destinations = true\n[[sources]]\nid = \"gh\"\nscheme = \"github\"\nsecrets = [\"s\"]\n\
         [[destinations]]\nid = \"d\"\nurl = \"{}\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\nretry_schedule = [\"0s\", \"0s\"]\n\
         [[routes]]\nsource = \"gh\"\ndestination = \"d\"\n",
        sink.url("/hook")
    ));
    let metrics = Arc::new(MemoryMetrics::default());
    let relay = Relay::embedded_with_metrics(
        config,
        Arc::new(ManualClock::at_unix_secs(1_790_000_000)),
        metrics.clone(),
    );

    hookrelay_receiver::handle(&relay.ingest, push("s", "d1")).await;
    relay.drain().await;
    // Once dispatched, a duplicate is not queued again.
    for request in [push("s", "d1"), push("wrong", "d2")] {
        hookrelay_receiver::handle(&relay.ingest, request).await;
    }
    relay.drain().await;

    for (name, expected) in [
        ("Received", 1),
        ("Duplicate", 1),
        ("Rejected", 1),
        ("Rejected:unauthenticated", 1),
        ("Enqueued", 1),
        ("RetryScheduled", 1),
        ("Delivered", 1),
        ("DeliveryFailed", 0),
    ] {
        assert_eq!(metrics.count(name), expected, "{name}");
    }
}

/// `Received` counts accepted webhooks only: a handshake is counted as
/// one, and a store that cannot be reached as `Unavailable`, never as a
/// malformed request.
#[tokio::test]
async fn handshakes_and_outages_are_not_counted_as_received_or_malformed() {
    let config = config_from(
        "[[sources]]\nid = \"slack\"\nscheme = \"slack\"\nsecrets = [\"slack-secret\"]\n\
         [[sources]]\nid = \"gh\"\nscheme = \"github\"\nsecrets = [\"s\"]\n",
    );
    let metrics = Arc::new(MemoryMetrics::default());
    let clock = Arc::new(ManualClock::at_unix_secs(1_790_000_000));
    let relay = Relay::embedded_with_metrics(config, clock, metrics.clone());

    // Slack's url_verification, signed as Slack signs it.
    let body = br#"{"type":"url_verification","challenge":"c-123"}"#;
    let message = ProviderMessage {
        body,
        timestamp: 1_790_000_000,
        id: "",
        url: None,
    };
    let mut builder = http::Request::builder().method("POST").uri("/hooks/slack");
    for (name, value) in sign_as_provider(
        &Scheme::Named(SchemeKind::Slack),
        &Secret::new("slack-secret"),
        &message,
    )
    .unwrap()
    {
        builder = builder.header(name, value);
    }
    let response =
        hookrelay_receiver::handle(&relay.ingest, builder.body(Body::from(&body[..])).unwrap())
            .await;
    assert_eq!(response.status(), 200);
    assert!(String::from_utf8_lossy(response.body().as_ref()).contains("c-123"));

    // The queue goes away for one genuine webhook.
    relay.set_queue_unavailable(true);
    let response = hookrelay_receiver::handle(&relay.ingest, push("s", "d1")).await;
    assert_eq!(response.status(), 503);
    relay.set_queue_unavailable(false);

    for (name, expected) in [
        ("Handshake", 1),
        ("Received", 0),
        ("Unavailable", 1),
        ("Rejected", 0),
        ("Rejected:malformed", 0),
    ] {
        assert_eq!(metrics.count(name), expected, "{name}");
    }
}
