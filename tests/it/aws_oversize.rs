//! Bodies over an AWS target's limit (issue 28), on moto: with `oversize =
//! "pointer"` (the default) the consumer gets a pointer, fetches the body
//! by its presigned URL over HTTP (moto serves presigned GETs on its
//! endpoint; it does not enforce their expiry) and gets the same bytes;
//! with `oversize = "fail"` the delivery fails for good at once, saying
//! why. In memory the relay keeps every body itself, so the body goes to
//! the bucket first; on DynamoDB a body this large is in the bucket
//! already, and is found there.
use hookrelay_aws::{s3_client, BodyBucket};
use hookrelay_models::{AttemptErrorKind, AttemptOutcome, DeliveryState, DestinationId};
use hookrelay_tests::aws_targets::{
    bus_into, create_queue, queue_arn, receive_landed, sqs_client, topic_into,
};
use hookrelay_tests::relay::Relay;
use hookrelay_tests::{config_from, large_json_body, moto, python_verifies, ManualClock};
use sha2::{Digest, Sha256};
use std::sync::Arc;

const SECRET: &str = "It's a Secret to Everybody";
const DEST_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[derive(Clone, Copy)]
enum Kind {
    Embedded,
    Aws,
}

/// A relay whose GitHub source takes bodies of up to 2 MiB, routed to the
/// destination `big` described by `destination`; in memory, its pointers
/// go to a bucket of their own on moto.
async fn relay(kind: Kind, destination: &str) -> Relay {
    let config = config_from(&format!(
        "[[sources]]\nid = \"github\"\nscheme = \"github\"\nsecrets = [{SECRET:?}]\nmax_body_bytes = 2097152\n\
         [[destinations]]\nid = \"big\"\nsecret = \"{DEST_SECRET}\"\nretry_schedule = [\"0s\", \"1s\", \"1h\"]\n{destination}\n\
         [[routes]]\nsource = \"github\"\ndestination = \"big\"\n"
    ));
    let clock = Arc::new(ManualClock::following_system_time());
    match kind {
        Kind::Embedded => {
            let s3 = s3_client(&moto::shared().sdk_config());
            let bucket = moto::unique_name("pointers");
            hookrelay_aws::provision::create_body_bucket(&s3, &bucket, 30)
                .await
                .expect("create a bucket for pointers");
            Relay::embedded_with_body_links(config, clock, Arc::new(BodyBucket::new(s3, bucket)))
        }
        Kind::Aws => Relay::aws(config, clock).await,
    }
}

async fn push(relay: &Relay, body: &[u8]) -> hookrelay_models::EventId {
    relay
        .push_github(SECRET, &moto::unique_name("delivery"), body)
        .await
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// What a consumer does with a pointer: a plain HTTP GET of its URL (no
/// AWS credentials), checked against the pointer's size and SHA-256.
async fn fetch_by_pointer(pointer: &serde_json::Value) -> Vec<u8> {
    assert_eq!(pointer["body_encoding"], "pointer", "{pointer}");
    let found = &pointer["hookrelay_pointer"];
    assert_eq!(found["version"], 1);
    let url = found["url"].as_str().expect("a URL");
    assert!(url.contains("X-Amz-Signature="), "presigned");
    let answer = reqwest::get(url).await.expect("GET the presigned URL");
    assert!(answer.status().is_success(), "{}", answer.status());
    let bytes = answer.bytes().await.unwrap().to_vec();
    assert_eq!(found["size"], bytes.len() as u64);
    assert_eq!(found["sha256"], sha256_hex(&bytes));
    assert_eq!(
        found["key"],
        format!("bodies/sha256/{}", sha256_hex(&bytes)),
        "content-addressed"
    );
    bytes
}

async fn attempts(relay: &Relay, id: &hookrelay_models::EventId) -> Vec<hookrelay_models::Attempt> {
    relay.deliveries.attempts_for_event(id).await.unwrap()
}

/// A body over SQS's 1 MiB: the queue gets a pointer, with the delivery's
/// signed headers as attributes and `hookrelay-body-encoding = pointer`;
/// the body fetched by its URL is the one sent, byte for byte, and the
/// signature in the attributes verifies over it.
async fn an_oversize_body_reaches_an_sqs_consumer_by_pointer(kind: Kind) {
    let client = sqs_client();
    let url = create_queue(&client, "big", false).await;
    let relay = relay(kind, &format!("kind = \"sqs\"\nurl = \"{url}\"")).await;
    let body = large_json_body(1_100_000);
    let id = push(&relay, &body).await;
    relay.drain().await;

    let received = receive_landed(&client, &url).await;
    assert_eq!(received.len(), 1);
    let message = &received[0];
    assert!(
        message.body.len() < 8 * 1024,
        "{} bytes",
        message.body.len()
    );
    assert_eq!(message.attributes["hookrelay-body-encoding"], "pointer");
    assert_eq!(message.attributes["hookrelay-event-id"], id.as_str());
    let pointer: serde_json::Value = serde_json::from_str(&message.body).unwrap();
    assert_eq!(pointer["hookrelay"]["event_id"], id.as_str());
    assert_eq!(
        pointer["hookrelay_pointer"]["content_type"],
        "application/json"
    );
    if let Kind::Aws = kind {
        assert_eq!(pointer["hookrelay_pointer"]["bucket"], relay.body_bucket());
    }
    let fetched = fetch_by_pointer(&pointer).await;
    assert_eq!(sha256_hex(&fetched), sha256_hex(&body));
    assert!(python_verifies(
        DEST_SECRET,
        &message.attributes["webhook-id"],
        &message.attributes["webhook-timestamp"],
        &fetched,
        &message.attributes["webhook-signature"],
    ));
    let attempts = attempts(&relay, &id).await;
    assert_eq!(attempts.len(), 1);
    assert!(attempts[0].outcome.is_success());
    assert!(
        attempts[0].response_body.contains("by pointer: s3://")
            && !attempts[0].response_body.contains("X-Amz"),
        "where the body is, never its URL: {}",
        attempts[0].response_body
    );
}

/// SQS counts attributes too: a body 100 bytes under 1 MiB, whose
/// attributes take it over, goes by pointer.
async fn a_body_under_the_limit_whose_attributes_take_it_over_goes_by_pointer(kind: Kind) {
    let client = sqs_client();
    let url = create_queue(&client, "big", false).await;
    let relay = relay(kind, &format!("kind = \"sqs\"\nurl = \"{url}\"")).await;
    let body = large_json_body(1_048_576 - 100);
    push(&relay, &body).await;
    relay.drain().await;
    let received = receive_landed(&client, &url).await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].attributes["hookrelay-body-encoding"], "pointer");
    let pointer: serde_json::Value = serde_json::from_str(&received[0].body).unwrap();
    assert_eq!(fetch_by_pointer(&pointer).await, body);
}

/// An EventBridge entry over its limit: the rule (on `source`, as before)
/// still matches, and the event's detail is the pointer.
async fn an_oversize_entry_reaches_the_bus_as_a_pointer_detail(kind: Kind) {
    let client = sqs_client();
    let url = create_queue(&client, "big", false).await;
    let arn = queue_arn(&client, &url).await;
    let bus = bus_into(
        &moto::shared().sdk_config(),
        &arn,
        r#"{"source": ["hookrelay.github"], "detail": {"body_encoding": ["pointer"]}}"#,
    )
    .await;
    let relay = relay(kind, &format!("kind = \"eventbridge\"\nurl = \"{bus}\"")).await;
    let body = large_json_body(1_000_000);
    let id = push(&relay, &body).await;
    relay.drain().await;
    let received = receive_landed(&client, &url).await;
    assert_eq!(received.len(), 1, "the rule matched the pointer");
    let event: serde_json::Value = serde_json::from_str(&received[0].body).unwrap();
    assert_eq!(event["detail-type"], "push");
    assert_eq!(event["detail"]["hookrelay"]["event_id"], id.as_str());
    assert_eq!(fetch_by_pointer(&event["detail"]).await, body);
}

/// `oversize = "fail"` on an SNS topic (256 KiB): one attempt, not
/// retried, the delivery failed for good, and the attempt log says why;
/// nothing is published.
async fn oversize_fail_fails_the_delivery_for_good_saying_why(kind: Kind) {
    let client = sqs_client();
    let url = create_queue(&client, "big", false).await;
    let topic = topic_into(
        &moto::shared().sdk_config(),
        &queue_arn(&client, &url).await,
    )
    .await;
    let relay = relay(
        kind,
        &format!("kind = \"sns\"\nurl = \"{topic}\"\noversize = \"fail\""),
    )
    .await;
    let id = push(&relay, &large_json_body(300_000)).await;
    relay.drain().await;
    let delivery = relay
        .deliveries
        .delivery(&id, &DestinationId::parse("big").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(delivery.state, DeliveryState::Failed);
    let attempts = attempts(&relay, &id).await;
    assert_eq!(attempts.len(), 1, "not retried");
    assert_eq!(
        attempts[0].outcome,
        AttemptOutcome::Error {
            error: AttemptErrorKind::Undeliverable
        }
    );
    let reason = &attempts[0].response_body;
    assert!(
        reason.contains("over SNS's limit of 262144") && reason.contains("oversize = \"fail\""),
        "{reason}"
    );
    assert!(receive_landed(&client, &url).await.is_empty());
}

on_both_backends!(
    an_oversize_body_reaches_an_sqs_consumer_by_pointer,
    a_body_under_the_limit_whose_attributes_take_it_over_goes_by_pointer,
    an_oversize_entry_reaches_the_bus_as_a_pointer_detail,
    oversize_fail_fails_the_delivery_for_good_saying_why,
);

#[test]
fn oversize_settings_are_checked_when_the_configuration_is_loaded() {
    let with = |destination: &str| {
        hookrelay_models::Config::from_toml(
            &format!("[[destinations]]\nid = \"q\"\nsecret = \"{DEST_SECRET}\"\n{destination}\n"),
            "test.toml",
        )
        .map_err(|e| e.to_string())
    };
    let queue = "kind = \"sqs\"\nurl = \"arn:aws:sqs:eu-west-1:123456789012:orders\"";
    let config = with(queue).unwrap();
    assert_eq!(
        config.destinations[0].oversize,
        hookrelay_models::Oversize::Pointer,
        "the default"
    );
    assert_eq!(
        config.destinations[0].pointer_url_ttl(),
        std::time::Duration::from_secs(3600)
    );
    let config = with(&format!("{queue}\noversize = \"fail\"")).unwrap();
    assert_eq!(
        config.destinations[0].oversize,
        hookrelay_models::Oversize::Fail
    );
    let config = with(&format!("{queue}\npointer_url_ttl = \"15m\"")).unwrap();
    assert_eq!(
        config.destinations[0].pointer_url_ttl(),
        std::time::Duration::from_secs(900)
    );
    for (bad, says) in [
        (format!("{queue}\noversize = \"drop\""), "drop"),
        (
            format!("{queue}\noversize = \"fail\"\npointer_url_ttl = \"1h\""),
            "pointer_url_ttl is for oversize = \"pointer\"",
        ),
        (
            format!("{queue}\npointer_url_ttl = \"8d\""),
            "between 1s and 7d",
        ),
        (
            "url = \"https://example.com/hook\"\noversize = \"fail\"".to_string(),
            "oversize and pointer_url_ttl are for AWS kinds",
        ),
    ] {
        let refused = with(&bad).unwrap_err();
        assert!(refused.contains(says), "{bad}: {refused}");
    }
}

/// `hookrelay dev` in memory has no bucket: it serves the body itself, at
/// a signed, expiring URL on its own receiver's address, and the consumer
/// of an SQS destination (on moto) fetches it from there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hookrelay_dev_without_a_bucket_serves_the_pointed_to_body_itself() {
    let client = sqs_client();
    let url = create_queue(&client, "big", false).await;
    let dir = std::env::temp_dir().join(moto::unique_name("dev-pointer"));
    std::fs::create_dir_all(&dir).unwrap();
    let config_path = dir.join("hookrelay.toml");
    std::fs::write(
        &config_path,
        format!(
            "[[sources]]\nid = \"github\"\nscheme = \"github\"\nsecrets = [{SECRET:?}]\nmax_body_bytes = 2097152\n\
             [[destinations]]\nid = \"big\"\nsecret = \"{DEST_SECRET}\"\nkind = \"sqs\"\nurl = \"{url}\"\npointer_url_ttl = \"10m\"\n\
             [[routes]]\nsource = \"github\"\ndestination = \"big\"\n"
        ),
    )
    .unwrap();
    let mut dev = std::process::Command::new(hookrelay_tests::lambda_runtime::lambda_binary(
        "hookrelay-cli",
        "hookrelay",
    ))
    .args(["dev", "--config"])
    .arg(&config_path)
    .args(["--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"])
    .env("HOOKRELAY_LOG", "error")
    .env("AWS_ENDPOINT_URL", &moto::shared().endpoint)
    .env("AWS_REGION", "us-east-1")
    .env("AWS_ACCESS_KEY_ID", "test")
    .env("AWS_SECRET_ACCESS_KEY", "test")
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::null())
    .spawn()
    .expect("start hookrelay dev");
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let (port, _) = hookrelay_tests::dev_ports(&mut dev);
    let _dev = Kill(dev);

    let body = large_json_body(1_100_000);
    let mut post = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/hooks/github"))
        .header("X-GitHub-Event", "push")
        .header("X-GitHub-Delivery", moto::unique_name("delivery"))
        .header("Content-Type", "application/json");
    for (name, value) in hookrelay_tests::github_signature(SECRET, &body) {
        post = post.header(name, value);
    }
    let answer = post.body(body.clone()).send().await.unwrap();
    assert_eq!(answer.status(), 202);

    // Delivered in the background: wait for it (bounded, not timed).
    let mut received = Vec::new();
    for _ in 0..30 {
        received = receive_landed(&client, &url).await;
        if !received.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    assert_eq!(received.len(), 1, "the pointer reached the queue");
    let pointer: serde_json::Value = serde_json::from_str(&received[0].body).unwrap();
    assert!(pointer["hookrelay_pointer"].get("bucket").is_none());
    let link = pointer["hookrelay_pointer"]["url"].as_str().unwrap();
    assert!(
        link.starts_with(&format!("http://127.0.0.1:{port}/bodies/sha256/")),
        "{link}"
    );
    assert_eq!(fetch_by_pointer_url(&pointer).await, body);
    // The signature is what makes it a URL to this body only.
    let forged = link.replace("signature=", "signature=A");
    assert_eq!(reqwest::get(forged).await.unwrap().status(), 403);
}

/// As [`fetch_by_pointer`], for a URL that is not presigned by S3.
async fn fetch_by_pointer_url(pointer: &serde_json::Value) -> Vec<u8> {
    let found = &pointer["hookrelay_pointer"];
    let answer = reqwest::get(found["url"].as_str().unwrap()).await.unwrap();
    assert_eq!(answer.status(), 200);
    let bytes = answer.bytes().await.unwrap().to_vec();
    assert_eq!(found["sha256"], sha256_hex(&bytes));
    assert_eq!(found["size"], bytes.len() as u64);
    bytes
}

/// A Lambda destination invoked asynchronously takes at most 1 MiB: a
/// larger delivery reaches the function (a real one, served by `cargo
/// lambda watch`) as an HTTP API event whose body is the pointer, with
/// `hookrelay-body-encoding: pointer` and the signature of the body it
/// points to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversize_event_reaches_a_function_as_a_pointer() {
    let watch = hookrelay_tests::lambda_watch::shared();
    let relay = relay(
        Kind::Embedded,
        &format!(
            "kind = \"lambda\"\nurl = \"{}\"\ninvocation = \"event\"",
            hookrelay_tests::lambda_watch::FUNCTION
        ),
    )
    .await;
    let body = large_json_body(1_100_000);
    let id = push(&relay, &body).await;
    relay.drain().await;
    let received = watch.received(id.as_str());
    assert_eq!(received.len(), 1, "invoked once, by pointer");
    let event = &received[0];
    assert_eq!(event["headers"]["hookrelay-body-encoding"], "pointer");
    let pointer: serde_json::Value = serde_json::from_str(event["body"].as_str().unwrap()).unwrap();
    let fetched = fetch_by_pointer(&pointer).await;
    assert_eq!(fetched, body);
    let header = |name: &str| event["headers"][name].as_str().unwrap();
    assert!(python_verifies(
        DEST_SECRET,
        header("webhook-id"),
        header("webhook-timestamp"),
        &fetched,
        header("webhook-signature"),
    ));
    let attempts = attempts(&relay, &id).await;
    assert_eq!(attempts.len(), 1);
    assert!(attempts[0].outcome.is_success(), "{:?}", attempts[0]);
    assert!(
        attempts[0].response_body.contains("by pointer: s3://"),
        "{}",
        attempts[0].response_body
    );
}
