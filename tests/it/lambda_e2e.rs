//! The real Lambda binaries, end to end: the receiver and the dispatcher
//! run as processes under AWS's own Lambda Runtime Interface Emulator
//! (`aws-lambda-rie`, what `sam local` runs; `hookrelay_tests::rie`), on
//! DynamoDB and SQS (moto). A signed webhook goes in as a function URL
//! event; the queued message goes to the dispatcher as an SQS event; a
//! sink on 127.0.0.1 gets a correctly signed request, and so do two
//! destinations with auth the dispatcher binary wires in: a bearer token
//! read from Secrets Manager, and AWS SigV4 checked by botocore. (The tests that kill
//! a function mid-batch, and the cost bench, run under our own emulator:
//! `hookrelay_tests::lambda_runtime` says why.)
use hookrelay_aws::DynamoConfigStore;
use hookrelay_core::DeliveryStore;
use hookrelay_tests::lambda_runtime::{http_api_event, lambda_binary, sqs_event_records};
use hookrelay_tests::rie::OfficialRie;
use hookrelay_tests::sigv4_sink::SigV4Sink;
use hookrelay_tests::sink::Sink;
use hookrelay_tests::{config_from, moto};
use serde_json::{json, Value};
use std::time::Duration;

const DEST_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn function_url_event(body: &[u8], headers: &[(String, String)]) -> Value {
    http_api_event("/hooks/github", body, headers)
}

/// The event source mapping's part: what the queue holds, received and
/// handed to the dispatcher as one batch. Answers how many records went
/// over and what the dispatcher answered.
async fn hand_over_queue(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    dispatcher_api: &OfficialRie,
) -> (usize, Value) {
    let received = sqs
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(10)
        .visibility_timeout(60)
        .send()
        .await
        .unwrap();
    let records = sqs_event_records(received.messages());
    let answer = dispatcher_api
        .invoke(&json!({ "Records": records }), Duration::from_secs(60))
        .await
        .expect("dispatcher answered");
    (records.len(), answer)
}

/// A GitHub push's headers, signed as GitHub signs it.
fn signed_push(body: &[u8], delivery: &str) -> Vec<(String, String)> {
    hookrelay_tests::github_push_headers("It's a Secret to Everybody", body, delivery)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receiver_and_dispatcher_binaries_relay_a_webhook_under_the_official_emulator() {
    let receiver_bin = lambda_binary("hookrelay-receiver", "receiver");
    let dispatcher_bin = lambda_binary("hookrelay-dispatcher", "dispatcher");

    let moto = moto::shared();
    let (provisioned, dynamo, sqs) = moto::Provisioned::on_shared_with_clients().await;
    let moto::Provisioned {
        events_table,
        config_table,
        queue_url,
        ..
    } = provisioned.clone();

    let sink = Sink::start().await;
    // Two more destinations with auth, to prove the binary's wiring of
    // the Secrets Manager reader and the SigV4 signer (the dispatcher's
    // environment holds moto's static credentials, which the SigV4 sink
    // knows).
    let token_arn = moto::create_secret("e2e-token", "tok-from-secrets-manager").await;
    let signed = SigV4Sink::start("execute-api", "eu-west-1", None);
    let config = config_from(&format!(
        "[[sources]]\nid = \"github\"\nscheme = \"github\"\nsecrets = [\"It's a Secret to Everybody\"]\n\
         [[destinations]]\nid = \"orders\"\nurl = \"{}\"\nsecret = \"{DEST_SECRET}\"\n\
         [[destinations]]\nid = \"vault\"\nurl = \"{}\"\nsecret = \"{DEST_SECRET}\"\n\
         auth = {{ kind = \"bearer\", token = \"secretsmanager:{token_arn}\" }}\n\
         [[destinations]]\nid = \"signed\"\nurl = \"{}\"\nsecret = \"{DEST_SECRET}\"\n\
         auth = {{ kind = \"aws_sigv4\", service = \"execute-api\", region = \"eu-west-1\" }}\n\
         [[routes]]\nsource = \"github\"\ndestination = \"orders\"\nevents = [\"push\"]\n\
         [[routes]]\nsource = \"github\"\ndestination = \"vault\"\nevents = [\"push\"]\n\
         [[routes]]\nsource = \"github\"\ndestination = \"signed\"\nevents = [\"push\"]\n",
        sink.url("/hook"),
        sink.url("/vault"),
        signed.url,
    ));
    DynamoConfigStore::new(dynamo.clone(), &config_table)
        .replace_config(&config)
        .await
        .unwrap();

    let mut env = provisioned.environment(&moto.endpoint);
    env.push(("HOOKRELAY_ALLOW_PRIVATE_DESTINATIONS".into(), "true".into()));
    let receiver_api = OfficialRie::start(&receiver_bin, "hookrelay-receiver", &env);
    let dispatcher_api = OfficialRie::start(&dispatcher_bin, "hookrelay-dispatcher", &env);

    // A GitHub push, signed as GitHub signs it.
    let body = br#"{"ref":"refs/heads/main","after":"0d1a26e6"}"#;
    let headers = signed_push(body, "e2e-1");
    let response = receiver_api
        .invoke(&function_url_event(body, &headers), Duration::from_secs(60))
        .await
        .expect("receiver answered");
    assert_eq!(response["statusCode"], 202, "{response}");
    let answer: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    let event_id = answer["id"].as_str().unwrap().to_string();

    // A tampered copy is refused by the same binary.
    let mut tampered = function_url_event(br#"{"ref":"refs/heads/evil"}"#, &headers);
    tampered["headers"]["x-github-delivery"] = json!("e2e-2");
    let refused = receiver_api
        .invoke(&tampered, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(refused["statusCode"], 401);

    // A header value with CR/LF cannot be represented as a request: the
    // runtime is told the invocation failed (API Gateway answers 502, so
    // the provider retries), nothing is stored or queued, and the function
    // goes on serving: the same process (the emulator would start a new
    // one, answering 502 Runtime.ExitError, had it died).
    let serving = receiver_api
        .function_pid()
        .expect("the receiver is running");
    let mut injected = function_url_event(body, &headers);
    injected["headers"]["x-hub-signature-256"] = json!("sha256=00\r\nx-injected: 1");
    let error = receiver_api
        .invoke(&injected, Duration::from_secs(30))
        .await
        .expect_err("a CR/LF header value reached the handler");
    let error: Value = serde_json::from_str(&error).expect("a function error object");
    assert!(error["errorType"].is_string(), "{error}");
    let after = receiver_api
        .invoke(&tampered, Duration::from_secs(30))
        .await
        .expect("the function serves on after the refused event");
    assert_eq!(after["statusCode"], 401);
    assert_eq!(receiver_api.function_pid(), Some(serving));

    let (handed_over, batch_response) = hand_over_queue(&sqs, &queue_url, &dispatcher_api).await;
    assert_eq!(handed_over, 1, "exactly one message for the accepted event");
    assert_eq!(
        batch_response["batchItemFailures"],
        json!([]),
        "{batch_response}"
    );

    let delivered = sink.received("/hook");
    assert_eq!(delivered.len(), 1);
    let delivery = &delivered[0];
    let message_id = event_id.replace("evt_", "msg_");
    assert_eq!(delivery.header("webhook-id"), Some(message_id.as_str()));
    assert_eq!(delivery.body, body);
    assert!(delivery.python_verifies(DEST_SECRET));
    let vault = sink.received("/vault");
    assert_eq!(vault.len(), 1);
    assert_eq!(
        vault[0].header("authorization"),
        Some("Bearer tok-from-secrets-manager")
    );
    let seen = signed.seen().await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].refused, None, "botocore refused the signature");
    assert_eq!(seen[0].key_id.as_deref(), Some("test"));
    assert_eq!(seen[0].body.as_bytes(), body);

    // The attempts are on record in DynamoDB, one per destination.
    let attempts = hookrelay_aws::DynamoDeliveryStore::new(dynamo.clone(), &events_table)
        .attempts_for_event(&hookrelay_models::EventId::parse(&event_id).unwrap())
        .await
        .unwrap();
    assert_eq!(attempts.len(), 3, "{attempts:?}");
    assert!(
        attempts.iter().all(|a| a.outcome.is_success()),
        "{attempts:?}"
    );

    // A 5 MiB push (the ceiling): its body goes to S3, and arrives whole.
    let large = hookrelay_tests::large_json_body(hookrelay_models::BODY_LIMIT_CEILING);
    assert_eq!(large.len(), hookrelay_models::BODY_LIMIT_CEILING);
    let headers = signed_push(&large, "e2e-large");
    let response = receiver_api
        .invoke(
            &function_url_event(&large, &headers),
            Duration::from_secs(60),
        )
        .await
        .expect("receiver answered");
    assert_eq!(response["statusCode"], 202, "{response}");
    let (handed_over, batch_response) = hand_over_queue(&sqs, &queue_url, &dispatcher_api).await;
    assert_eq!(handed_over, 1);
    assert_eq!(batch_response["batchItemFailures"], json!([]));
    let delivered = sink.received("/hook");
    assert_eq!(delivered.len(), 2);
    assert!(delivered[1].body == large, "the large body arrived changed");
    let objects = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&moto.sdk_config())
            .force_path_style(true)
            .build(),
    )
    .list_objects_v2()
    .bucket(&provisioned.body_bucket)
    .send()
    .await
    .unwrap();
    assert_eq!(objects.contents().len(), 1, "the large body is in S3");
    // Both fit the template's 128 MB (122 MiB) with a 5 MiB body in hand:
    // release builds peaked at 82 MB (receiver) and 26 MB (dispatcher),
    // debug builds, tested here, at about 100 MB and 30 MB.
    for (name, function) in [("receiver", &receiver_api), ("dispatcher", &dispatcher_api)] {
        let peak = function.function_peak_rss_kib().expect("peak memory");
        assert!(peak < 118 * 1024, "{name} peaked at {peak} KiB");
    }
}
