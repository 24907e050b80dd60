//! AWS SNS through the real receiver handler, on both backends: the
//! signing certificate fetched over HTTP from a server on loopback that
//! stands in for SNS's host (the URL still has to pass the production host
//! rule), cached, and subscription confirmations confirmed or stored.
//! The messages are the samples of `events/providers/`, signed by
//! `events/providers.py` with the key of the certificate the server hands
//! out.
use hookrelay_core::IngestSettings;
use hookrelay_receiver::handle;
use hookrelay_tests::backend::{AwsBackend, Backend, EmbeddedBackend};
use hookrelay_tests::sink::{Reply, Sink};
use hookrelay_tests::{config_from, sns_stand_in, ManualClock, SNS_SAMPLE_CERT_PATH};
use serde_json::Value;
use std::sync::Arc;

#[derive(Clone, Copy)]
enum Kind {
    Embedded,
    Aws,
}

/// When providers.py signed the samples.
const SIGNED_AT: i64 = 1_795_000_000;

const CONFIG: &str = r#"
[[sources]]
id = "sns"
scheme = "sns"
secrets = ["arn:aws:sns:us-east-1:123456789012:orders"]

[[sources]]
id = "sns-auto"
scheme = "sns"
secrets = ["arn:aws:sns:us-east-1:123456789012:orders"]
auto_confirm = true
"#;

async fn backend(kind: Kind, sink: &Sink) -> Box<dyn Backend> {
    let clock = Arc::new(ManualClock::at_unix_secs(SIGNED_AT + 5));
    let config = config_from(CONFIG);
    let sns = sns_stand_in(sink);
    match kind {
        Kind::Embedded => {
            Box::new(EmbeddedBackend::new(config, clock, IngestSettings::default()).with_sns(sns))
        }
        Kind::Aws => Box::new(
            AwsBackend::new(config, clock, IngestSettings::default())
                .await
                .with_sns(sns),
        ),
    }
}

/// A sample of events/providers, posted to `source`, its body changed by
/// `edit`.
fn sample(file: &str, source: &str, edit: impl Fn(String) -> String) -> lambda_http::Request {
    let path = hookrelay_tests::repo_root()
        .join("events/providers")
        .join(file);
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let body = edit(event["body"].as_str().unwrap().to_string());
    event["body"] = body.into();
    let route = format!("/hooks/{source}");
    event["rawPath"] = route.clone().into();
    event["requestContext"]["http"]["path"] = route.into();
    event["pathParameters"]["source"] = source.into();
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

fn notification(edit: impl Fn(String) -> String) -> lambda_http::Request {
    sample("sns.json", "sns", edit)
}

fn confirmation(source: &str) -> lambda_http::Request {
    sample("sns-subscription-confirmation.json", source, |b| b)
}

async fn send(backend: &dyn Backend, request: lambda_http::Request) -> (u16, String) {
    let response = handle(backend.ingest(), request).await;
    let body = String::from_utf8_lossy(response.body().as_ref()).into_owned();
    (response.status().as_u16(), body)
}

/// GETs of the confirmation URL the sink received.
fn confirmations(sink: &Sink) -> Vec<String> {
    sink.all_received()
        .into_iter()
        .map(|r| r.path)
        .filter(|path| path.starts_with("/?Action=ConfirmSubscription"))
        .collect()
}

fn certificate_fetches(sink: &Sink) -> usize {
    sink.received(SNS_SAMPLE_CERT_PATH).len()
}

async fn a_notification_is_verified_with_the_fetched_certificate_and_stored_once(kind: Kind) {
    let sink = Sink::start().await;
    let backend = backend(kind, &sink).await;
    let (status, body) = send(backend.as_ref(), notification(|b| b)).await;
    assert_eq!(status, 202, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    let id = hookrelay_models::EventId::parse(answer["id"].as_str().unwrap()).unwrap();
    let event = backend.event(&id).await.expect("stored");
    assert_eq!(event.event_type.as_deref(), Some("Notification"));
    assert_eq!(
        event.provider_delivery_id.as_deref(),
        Some("22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324")
    );
    assert_eq!(backend.messages().await.len(), 1);

    // SNS's retry keeps the MessageId: a duplicate. The certificate came
    // from the cache.
    let (status, body) = send(backend.as_ref(), notification(|b| b)).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""duplicate":true"#), "{body}");
    assert_eq!(certificate_fetches(&sink), 1);
    assert_eq!(backend.event_count().await, 1);
}

async fn a_changed_message_or_a_foreign_topic_is_401_and_nothing_is_kept(kind: Kind) {
    let sink = Sink::start().await;
    let backend = backend(kind, &sink).await;
    let tampered = notification(|b| b.replacen("ord_1", "ord_2", 1));
    assert_eq!(send(backend.as_ref(), tampered).await.0, 401);
    // Another topic is refused before its certificate is fetched.
    let fetches = certificate_fetches(&sink);
    let foreign = notification(|b| b.replace(":orders", ":someone-elses"));
    assert_eq!(send(backend.as_ref(), foreign).await.0, 401);
    assert_eq!(certificate_fetches(&sink), fetches);
    assert_eq!(backend.event_count().await, 0);
    assert!(backend.messages().await.is_empty());
}

async fn a_certificate_url_off_sns_hosts_is_refused_before_any_request(kind: Kind) {
    let sink = Sink::start().await;
    let backend = backend(kind, &sink).await;
    for url in [
        sink.url("/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem"),
        "https://sns.us-east-1.amazonaws.com.attacker.example/x.pem".to_string(),
        "https://attacker.example/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem"
            .to_string(),
    ] {
        let request = notification(|b| {
            b.replace(
                "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem",
                &url,
            )
        });
        assert_eq!(send(backend.as_ref(), request).await.0, 401, "{url}");
    }
    assert_eq!(sink.received_count(), 0);
    assert_eq!(backend.event_count().await, 0);
}

async fn a_certificate_that_cannot_be_fetched_is_503_and_the_retry_succeeds(kind: Kind) {
    let sink = Sink::start().await;
    let first = backend(kind, &sink).await;
    let cert =
        std::fs::read(hookrelay_tests::repo_root().join("events/providers/sns-signing-cert.pem"))
            .unwrap();
    sink.script(
        SNS_SAMPLE_CERT_PATH,
        vec![Reply::Status(500), Reply::Content(200, cert)],
    );
    assert_eq!(send(first.as_ref(), notification(|b| b)).await.0, 503);
    assert_eq!(first.event_count().await, 0);
    // Retried at once, to the same instance: 503 again, without another
    // fetch (a failed URL is not tried again for a minute, or forged
    // messages could make the receiver fetch at will).
    assert_eq!(send(first.as_ref(), notification(|b| b)).await.0, 503);
    assert_eq!(certificate_fetches(&sink), 1);
    // Later (here, on a fresh receiver instance) it is fetched again and
    // the message goes in.
    let later = backend(kind, &sink).await;
    assert_eq!(send(later.as_ref(), notification(|b| b)).await.0, 202);
    assert_eq!(certificate_fetches(&sink), 2);
}

async fn auto_confirm_fetches_the_subscribe_url_and_keeps_nothing(kind: Kind) {
    let sink = Sink::start().await;
    let backend = backend(kind, &sink).await;
    sink.script("/", vec![Reply::Status(500), Reply::Status(200)]);
    // SNS's confirmation endpoint failing: 503, so SNS sends it again.
    assert_eq!(
        send(backend.as_ref(), confirmation("sns-auto")).await.0,
        503
    );
    let (status, body) = send(backend.as_ref(), confirmation("sns-auto")).await;
    assert_eq!((status, body.as_str()), (200, "subscription confirmed"));
    let confirmed = confirmations(&sink);
    assert_eq!(confirmed.len(), 2);
    assert!(
        confirmed[1].contains("&TopicArn=arn:aws:sns:us-east-1:123456789012:orders&Token="),
        "{}",
        confirmed[1]
    );
    assert_eq!(backend.event_count().await, 0);
    assert!(backend.messages().await.is_empty());
}

async fn without_auto_confirm_a_confirmation_is_stored_and_delivered_unconfirmed(kind: Kind) {
    let sink = Sink::start().await;
    let backend = backend(kind, &sink).await;
    let (status, body) = send(backend.as_ref(), confirmation("sns")).await;
    assert_eq!(status, 202, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    let id = hookrelay_models::EventId::parse(answer["id"].as_str().unwrap()).unwrap();
    let event = backend.event(&id).await.expect("stored");
    assert_eq!(
        event.event_type.as_deref(),
        Some("SubscriptionConfirmation")
    );
    assert!(String::from_utf8_lossy(&event.body).contains("SubscribeURL"));
    assert_eq!(backend.messages().await.len(), 1);
    assert!(confirmations(&sink).is_empty());
}

on_both_backends!(
    a_notification_is_verified_with_the_fetched_certificate_and_stored_once,
    a_changed_message_or_a_foreign_topic_is_401_and_nothing_is_kept,
    a_certificate_url_off_sns_hosts_is_refused_before_any_request,
    a_certificate_that_cannot_be_fetched_is_503_and_the_retry_succeeds,
    auto_confirm_fetches_the_subscribe_url_and_keeps_nothing,
    without_auto_confirm_a_confirmation_is_stored_and_delivered_unconfirmed,
);
