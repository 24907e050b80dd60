//! Destinations of AWS kinds (issue 28, first part: SQS, SNS and
//! EventBridge), delivered to on
//! moto: the body as the message, the delivery's headers as message
//! attributes (a consumer can check the Standard Webhooks signature from
//! them), FIFO group and deduplication ids, an assumed role for another
//! account, and AWS's errors as failed attempts that are retried.
use hookrelay_aws::AwsTargetSender;
use hookrelay_core::{Sender, Target};
use hookrelay_models::{AttemptOutcome, DeliveryState, DestinationId};
use hookrelay_tests::aws_targets::{
    bus_into, create_queue, queue_arn, receive_landed, sqs_client, topic_into, Landed,
};
use hookrelay_tests::relay::Relay;
use hookrelay_tests::{config_from, moto, python_verifies, ManualClock};
use std::collections::HashMap;
use std::sync::Arc;

const SECRET: &str = "It's a Secret to Everybody";
const DEST_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[derive(Clone, Copy)]
enum Kind {
    Embedded,
    Aws,
}

async fn relay(kind: Kind, destination: &str) -> Relay {
    let config = config_from(&format!(
        "[[sources]]\nid = \"github\"\nscheme = \"github\"\nsecrets = [{SECRET:?}]\n\
         [[destinations]]\nid = \"queue\"\nsecret = \"{DEST_SECRET}\"\n{destination}\n\
         [[routes]]\nsource = \"github\"\ndestination = \"queue\"\n"
    ));
    let clock = Arc::new(ManualClock::following_system_time());
    match kind {
        Kind::Embedded => Relay::embedded(config, clock),
        Kind::Aws => Relay::aws(config, clock).await,
    }
}

async fn push(relay: &Relay, n: usize, body: &str) -> hookrelay_models::EventId {
    relay
        .push_github(SECRET, &format!("delivery-{n}"), body.as_bytes())
        .await
}

/// A standard queue gets the body as sent and the delivery's headers as
/// attributes; Python's hmac verifies the signature from them; the
/// attempt is recorded as a success with SQS's message id.
async fn an_sqs_destination_gets_the_body_and_the_signed_headers_as_attributes(kind: Kind) {
    let client = sqs_client();
    let url = create_queue(&client, "dest", false).await;
    let relay = relay(kind, &format!("kind = \"sqs\"\nurl = \"{url}\"")).await;
    let body = r#"{"ref":"refs/heads/main","commits":[]}"#;
    let id = push(&relay, 0, body).await;
    relay.drain().await;

    let received = receive_landed(&client, &url).await;
    assert_eq!(received.len(), 1);
    let message = &received[0];
    assert_eq!(message.body, body);
    let attribute = |name: &str| message.attributes.get(name).map(String::as_str);
    assert_eq!(attribute("webhook-id"), Some(id.message_id().as_str()));
    assert_eq!(attribute("hookrelay-event-id"), Some(id.as_str()));
    assert_eq!(attribute("hookrelay-source"), Some("github"));
    assert_eq!(attribute("hookrelay-event-type"), Some("push"));
    assert_eq!(attribute("content-type"), Some("application/json"));
    assert!(
        python_verifies(
            DEST_SECRET,
            attribute("webhook-id").unwrap(),
            attribute("webhook-timestamp").unwrap(),
            message.body.as_bytes(),
            attribute("webhook-signature").unwrap(),
        ),
        "the signature in the attributes verifies"
    );
    let queue_id = DestinationId::parse("queue").unwrap();
    let delivery = relay
        .deliveries
        .delivery(&id, &queue_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(delivery.state, DeliveryState::Succeeded);
    let attempts = relay.deliveries.attempts_for_event(&id).await.unwrap();
    assert_eq!(
        attempts[0].outcome,
        AttemptOutcome::Response { status: 200 }
    );
    assert!(
        attempts[0].response_body.starts_with("MessageId "),
        "{}",
        attempts[0].response_body
    );
}

/// A FIFO queue: each message's group is read where `group_key` says, its
/// deduplication id names the event, the destination and the series, and
/// a second send of the same delivery (a dispatcher that died before it
/// recorded the first) is dropped by SQS itself.
async fn a_fifo_queue_gets_group_and_deduplication_ids(kind: Kind) {
    let client = sqs_client();
    let url = create_queue(&client, "dest", true).await;
    let relay = relay(
        kind,
        &format!("kind = \"sqs\"\nurl = \"{url}\"\ngroup_key = \"json:/repository/name\""),
    )
    .await;
    let first = push(&relay, 0, r#"{"repository":{"name":"api"},"n":0}"#).await;
    let second = push(&relay, 1, r#"{"repository":{"name":"web"},"n":1}"#).await;
    let ungrouped = push(&relay, 2, r#"{"n":2}"#).await;
    relay.drain().await;
    let received = receive_landed(&client, &url).await;
    let by_event: HashMap<String, &Landed> = received
        .iter()
        .map(|m| (m.attributes["hookrelay-event-id"].clone(), m))
        .collect();
    assert_eq!(by_event.len(), 3);
    for (id, group) in [(&first, "api"), (&second, "web"), (&ungrouped, "github")] {
        let message = by_event[id.as_str()];
        assert_eq!(message.system["MessageGroupId"], group, "{id}");
        assert_eq!(
            message.system["MessageDeduplicationId"],
            format!("{}.queue.0", id.message_id()),
            "{id}"
        );
    }
}

/// An ordered FIFO queue without a `group_key`: its ordering key is each
/// message's group, so the queue itself keeps a key's messages in order
/// for its consumers (issue 29); the key's events arrive in order.
async fn an_ordered_fifo_queue_groups_by_the_ordering_key(kind: Kind) {
    let client = sqs_client();
    let url = create_queue(&client, "ordered", true).await;
    let relay = relay(
        kind,
        &format!("kind = \"sqs\"\nurl = \"{url}\"\nordering = {{ key = \"/customer\" }}"),
    )
    .await;
    let mut sent = Vec::new();
    for n in 0..6 {
        let customer = ["cus_a", "cus_b"][n % 2];
        let id = push(
            &relay,
            n,
            &format!(r#"{{"customer":"{customer}","n":{n}}}"#),
        )
        .await;
        sent.push((id, customer));
    }
    relay.drain().await;
    let received = receive_landed(&client, &url).await;
    assert_eq!(received.len(), sent.len());
    for (id, customer) in &sent {
        let message = received
            .iter()
            .find(|m| m.attributes["hookrelay-event-id"] == id.as_str())
            .expect("landed");
        assert_eq!(message.system["MessageGroupId"], *customer, "{id}");
    }
    for customer in ["cus_a", "cus_b"] {
        let order: Vec<&str> = received
            .iter()
            .filter(|m| m.system["MessageGroupId"] == customer)
            .map(|m| m.attributes["hookrelay-event-id"].as_str())
            .collect();
        let expected: Vec<&str> = sent
            .iter()
            .filter(|(_, c)| *c == customer)
            .map(|(id, _)| id.as_str())
            .collect();
        assert_eq!(order, expected, "{customer}");
    }
}

on_both_backends!(
    an_ordered_fifo_queue_groups_by_the_ordering_key,
    an_sqs_destination_gets_the_body_and_the_signed_headers_as_attributes,
    a_fifo_queue_gets_group_and_deduplication_ids,
    an_sns_destination_publishes_the_body_and_the_signed_headers,
    an_eventbridge_destination_puts_the_body_as_the_detail,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_fifo_delivery_sent_twice_is_one_message() {
    let client = sqs_client();
    let url = create_queue(&client, "dest", true).await;
    let sender = AwsTargetSender::new(moto::shared().sdk_config());
    let request = hookrelay_core::OutboundRequest {
        url: url.clone(),
        headers: vec![("webhook-id".into(), "msg_1".into())],
        body: b"{}".to_vec().into(),
        timeout: std::time::Duration::from_secs(5),
        target: Target::Sqs(hookrelay_core::AwsTarget {
            fifo: Some(("group".into(), "msg_1.queue.0".into())),
            ..Default::default()
        }),
        auth: None,
    };
    for _ in 0..2 {
        assert!(sender.send(&request).await.outcome.is_success());
    }
    assert_eq!(receive_landed(&client, &url).await.len(), 1);
}

/// A body that is not UTF-8 travels as base64, and an attribute says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_binary_body_is_sent_as_base64_and_says_so() {
    let client = sqs_client();
    let url = create_queue(&client, "dest", false).await;
    let sender = AwsTargetSender::new(moto::shared().sdk_config());
    let body = vec![0xff, 0x00, 0x89, b'P', b'N', b'G'];
    let request = hookrelay_core::OutboundRequest {
        url: url.clone(),
        headers: vec![("content-type".into(), "image/png".into())],
        body: body.clone().into(),
        timeout: std::time::Duration::from_secs(5),
        target: Target::Sqs(Default::default()),
        auth: None,
    };
    assert!(sender.send(&request).await.outcome.is_success());
    let received = receive_landed(&client, &url).await;
    use base64::Engine;
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(&received[0].body)
            .unwrap(),
        body
    );
    assert_eq!(received[0].attributes["hookrelay-body-encoding"], "base64");
}

/// A queue that is not there: the attempt fails with AWS's status, error
/// code and request id on record, and a retry is scheduled (nothing lost).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aws_error_is_a_failed_attempt_with_its_code_and_retried() {
    let url = format!(
        "{}/123456789012/{}",
        moto::shared().endpoint,
        moto::unique_name("gone")
    );
    let relay = relay(
        Kind::Aws,
        &format!("kind = \"sqs\"\nurl = \"{url}\"\nretry_schedule = [\"0s\", \"1h\"]"),
    )
    .await;
    let id = push(&relay, 0, "{}").await;
    relay.drain().await;
    let attempts = relay.deliveries.attempts_for_event(&id).await.unwrap();
    assert_eq!(attempts.len(), 1);
    let AttemptOutcome::Response { status } = attempts[0].outcome else {
        panic!("{:?}", attempts[0].outcome);
    };
    assert!((400..500).contains(&status), "{status}");
    assert!(
        attempts[0].response_body.contains("NonExistentQueue")
            || attempts[0].response_body.contains("QueueDoesNotExist"),
        "{}",
        attempts[0].response_body
    );
    assert!(
        attempts[0].response_body.contains("request id"),
        "{}",
        attempts[0].response_body
    );
    let delivery = relay
        .deliveries
        .delivery(&id, &DestinationId::parse("queue").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(delivery.state, DeliveryState::Pending, "a retry is due");
}

/// Another account's queue, reached by assuming a role there (moto's
/// STS): the message lands in that account's queue, which the
/// dispatcher's own credentials do not reach.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_is_assumed_for_another_accounts_queue() {
    let sdk = moto::shared().sdk_config();
    let role = "arn:aws:iam::222222222222:role/hookrelay-delivery";
    let assumed = aws_config::sts::AssumeRoleProvider::builder(role)
        .session_name("test")
        .configure(&sdk)
        .build()
        .await;
    let theirs = aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::config::Builder::from(&sdk)
            .credentials_provider(assumed)
            .build(),
    );
    let url = create_queue(&theirs, "dest", false).await;
    assert!(url.contains("222222222222"), "{url}");
    let relay = relay(
        Kind::Aws,
        &format!(
            "kind = \"sqs\"\nurl = \"{url}\"\nrole_arn = \"{role}\"\nexternal_id = \"hookrelay-test\""
        ),
    )
    .await;
    push(&relay, 0, r#"{"n":0}"#).await;
    relay.drain().await;
    let received = receive_landed(&theirs, &url).await;
    assert_eq!(received.len(), 1, "delivered into the other account");
    assert_eq!(received[0].body, r#"{"n":0}"#);
}

#[test]
fn aws_destinations_are_checked_when_the_configuration_is_loaded() {
    let with = hookrelay_tests::load_one_destination;
    assert!(with("kind = \"sqs\"\nurl = \"arn:aws:sqs:eu-west-1:123456789012:orders\"").is_ok());
    for (bad, says) in [
        (
            "kind = \"sqs\"\nurl = \"arn:aws:sqs:eu-west-1:123456789012:orders\"\naws_secret_access_key = \"x\"",
            "AWS access keys are never configured",
        ),
        ("kind = \"sqs\"\nurl = \"https://example.com/hook\"", "queue URL"),
        (
            "kind = \"sqs\"\nurl = \"arn:aws:sqs:eu-west-1:123456789012:orders\"\nheaders = { \"X-Key\" = \"v\" }",
            "headers are sent only to http destinations",
        ),
        (
            "kind = \"sqs\"\nurl = \"arn:aws:sqs:eu-west-1:123456789012:orders\"\ngroup_key = \"json:/a\"",
            "group_key is for FIFO queues",
        ),
        (
            "kind = \"sqs\"\nurl = \"arn:aws:sqs:eu-west-1:123456789012:orders\"\nexternal_id = \"abc\"",
            "external_id needs a role_arn",
        ),
        (
            "url = \"https://example.com/hook\"\nrole_arn = \"arn:aws:iam::123456789012:role/x\"",
            "role_arn and external_id are for AWS kinds",
        ),
        ("kind = \"kafka\"\nurl = \"https://example.com/hook\"", "kafka"),
        ("kind = \"sns\"\nurl = \"arn:aws:sqs:eu-west-1:123456789012:orders\"", "topic ARN"),
    ] {
        let refused = with(bad).unwrap_err();
        assert!(refused.contains(says), "{bad}: {refused}");
    }
}

/// An SNS topic with an SQS queue subscribed (raw delivery): the queue
/// gets the body as published and the attributes as message attributes.
async fn an_sns_destination_publishes_the_body_and_the_signed_headers(kind: Kind) {
    let client = sqs_client();
    let url = create_queue(&client, "dest", false).await;
    let topic = topic_into(
        &moto::shared().sdk_config(),
        &queue_arn(&client, &url).await,
    )
    .await;
    let relay = relay(kind, &format!("kind = \"sns\"\nurl = \"{topic}\"")).await;
    let body = r#"{"ref":"refs/heads/main"}"#;
    let id = push(&relay, 0, body).await;
    relay.drain().await;
    let received = receive_landed(&client, &url).await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].body, body);
    let attribute = |name: &str| received[0].attributes.get(name).map(String::as_str);
    assert_eq!(attribute("webhook-id"), Some(id.message_id().as_str()));
    assert_eq!(attribute("hookrelay-source"), Some("github"));
    assert!(python_verifies(
        DEST_SECRET,
        attribute("webhook-id").unwrap(),
        attribute("webhook-timestamp").unwrap(),
        body.as_bytes(),
        attribute("webhook-signature").unwrap(),
    ));
    let attempts = relay.deliveries.attempts_for_event(&id).await.unwrap();
    assert_eq!(
        attempts[0].outcome,
        AttemptOutcome::Response { status: 200 }
    );
}

/// An EventBridge bus with a rule that sends `hookrelay.github` events to
/// an SQS queue: the event arrives with the body as its detail, the
/// event's identity beside it, and the event type as its detail-type.
async fn an_eventbridge_destination_puts_the_body_as_the_detail(kind: Kind) {
    let client = sqs_client();
    let url = create_queue(&client, "dest", false).await;
    let bus = bus_into(
        &moto::shared().sdk_config(),
        &queue_arn(&client, &url).await,
        r#"{"source": ["hookrelay.github"], "detail": {"ref": [{"prefix": "refs/heads/"}]}}"#,
    )
    .await;
    let relay = relay(kind, &format!("kind = \"eventbridge\"\nurl = \"{bus}\"")).await;
    let id = push(&relay, 0, r#"{"ref":"refs/heads/main","size":3}"#).await;
    relay.drain().await;
    let received = receive_landed(&client, &url).await;
    assert_eq!(received.len(), 1, "the rule matched on the detail");
    let event: serde_json::Value = serde_json::from_str(&received[0].body).unwrap();
    assert_eq!(event["source"], "hookrelay.github");
    assert_eq!(event["detail-type"], "push");
    assert_eq!(event["detail"]["ref"], "refs/heads/main");
    assert_eq!(event["detail"]["size"], 3);
    assert_eq!(event["detail"]["hookrelay"]["event_id"], id.as_str());
    assert_eq!(
        event["detail"]["hookrelay"]["webhook_id"],
        id.message_id().as_str()
    );
    let attempts = relay.deliveries.attempts_for_event(&id).await.unwrap();
    assert_eq!(
        attempts[0].outcome,
        AttemptOutcome::Response { status: 200 }
    );
}

/// A bus that is not there: a failed attempt with AWS's answer on record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_bus_is_a_failed_attempt() {
    let relay = relay(
        Kind::Aws,
        &format!(
            "kind = \"eventbridge\"\nurl = \"{}\"\nretry_schedule = [\"0s\", \"1h\"]",
            moto::unique_name("nobus")
        ),
    )
    .await;
    let id = push(&relay, 0, "{}").await;
    relay.drain().await;
    let attempts = relay.deliveries.attempts_for_event(&id).await.unwrap();
    assert_eq!(attempts.len(), 1);
    assert!(!attempts[0].outcome.is_success(), "{:?}", attempts[0]);
    assert!(
        attempts[0].response_body.contains("request id")
            || attempts[0].response_body.contains(": "),
        "{}",
        attempts[0].response_body
    );
}
