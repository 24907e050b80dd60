//! An EventBridge `PutEvents` that AWS answers 200 with the entry refused
//! (`FailedEntryCount` 1): the refusal is a failed attempt with its
//! `ErrorCode`, retried when the code is retryable (throttling), failed
//! for good when retrying cannot help (`MalformedDetail`). moto never
//! refuses an entry hookrelay sends, so a proxy in front of it answers the
//! one call with the answer AWS documents; the real SDK reads it, and the
//! retry goes through to moto's bus, its rule and the queue behind it.
use hookrelay_aws::AwsTargetSender;
use hookrelay_core::dispatch::SenderByTarget;
use hookrelay_core::{Clock, Dispatch};
use hookrelay_models::{AttemptErrorKind, AttemptOutcome, DeliveryState, DestinationId};
use hookrelay_tests::meter::{MeteringProxy, ProxyOptions};
use hookrelay_tests::relay::{test_dispatch_settings, Relay};
use hookrelay_tests::{aws_targets, config_from, moto, ManualClock};
use serde_json::json;
use std::sync::Arc;

const SECRET: &str = "It's a Secret to Everybody";

fn refused(code: &str, message: &str) -> serde_json::Value {
    json!({"FailedEntryCount": 1, "Entries": [{"ErrorCode": code, "ErrorMessage": message}]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_entry_is_a_failed_attempt_retried_or_failed_by_its_code() {
    let sdk = moto::shared().sdk_config();
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let landing = aws_targets::create_queue(&sqs, "landing", false).await;
    let arn = aws_targets::queue_arn(&sqs, &landing).await;
    let bus = aws_targets::bus_into(&sdk, &arn, r#"{"source": ["hookrelay.github"]}"#).await;
    let config = config_from(&format!(
        "[[sources]]\nid = \"github\"\nscheme = \"github\"\nsecrets = [{SECRET:?}]\n\
         [[destinations]]\nid = \"bus\"\nkind = \"eventbridge\"\nurl = \"{bus}\"\n\
         secret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\nretry_schedule = [\"0s\", \"0s\"]\n\
         [[routes]]\nsource = \"github\"\ndestination = \"bus\"\n"
    ));
    let relay = Relay::embedded(config, Arc::new(ManualClock::following_system_time()));
    let proxy = MeteringProxy::start(&moto::shared().endpoint, ProxyOptions::default()).await;
    let clock: Arc<dyn Clock> = relay.clock.clone();
    let dispatch = Dispatch::new(
        relay.stores(),
        relay.queue.clone(),
        Arc::new(SenderByTarget::new(
            Arc::new(hookrelay_http::HttpSender::new(false).unwrap()),
            Some(Arc::new(AwsTargetSender::new(moto::sdk_config_for(
                &proxy.endpoint(),
            )))),
        )),
        clock,
        test_dispatch_settings(),
    );
    let push = |n: u32| {
        let relay = &relay;
        async move {
            relay
                .accept_github(
                    "github",
                    SECRET,
                    format!("{{\"n\":{n}}}").as_bytes(),
                    &[
                        ("X-GitHub-Event", "push"),
                        ("X-GitHub-Delivery", &format!("d-{n}")),
                        ("Content-Type", "application/json"),
                    ],
                )
                .await
        }
    };
    let bus_id = DestinationId::parse("bus").unwrap();

    // Throttled: a 429 attempt with the code, then the retry lands.
    proxy.answer_next("PutEvents", refused("ThrottlingException", "Rate exceeded"));
    let throttled = push(1).await;
    while relay.drain_with(&dispatch).await > 0 {}
    let attempts = relay
        .deliveries
        .attempts_for_event(&throttled)
        .await
        .unwrap();
    let mut outcomes: Vec<_> = attempts.iter().map(|a| (a.number, a.outcome)).collect();
    outcomes.sort_by_key(|(n, _)| *n);
    assert_eq!(
        outcomes,
        [
            (1, AttemptOutcome::Response { status: 429 }),
            (2, AttemptOutcome::Response { status: 200 })
        ]
    );
    let first = attempts.iter().find(|a| a.number == 1).unwrap();
    assert_eq!(first.response_body, "ThrottlingException: Rate exceeded");
    let delivery = relay
        .deliveries
        .delivery(&throttled, &bus_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(delivery.state, DeliveryState::Succeeded);
    assert_eq!(aws_targets::take_all(&sqs, &landing).await, 1);

    // Malformed: failed for good at once, nothing on the bus.
    proxy.answer_next(
        "PutEvents",
        refused("MalformedDetail", "Detail is malformed."),
    );
    let malformed = push(2).await;
    while relay.drain_with(&dispatch).await > 0 {}
    let attempts = relay
        .deliveries
        .attempts_for_event(&malformed)
        .await
        .unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(
        attempts[0].outcome,
        AttemptOutcome::Error {
            error: AttemptErrorKind::Undeliverable
        }
    );
    assert!(attempts[0].response_body.starts_with("MalformedDetail"));
    let delivery = relay
        .deliveries
        .delivery(&malformed, &bus_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(delivery.state, DeliveryState::Failed);
    assert_eq!(aws_targets::take_all(&sqs, &landing).await, 0);
}
