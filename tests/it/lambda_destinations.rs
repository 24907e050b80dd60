//! Destinations of kind `lambda` (issue 28), invoking a real Rust function
//! (`tests/function`) served by `cargo lambda watch` on 127.0.0.1 as a
//! local Lambda Invoke API, while the relay's own stores and queue are the
//! embedded ones or DynamoDB and SQS on moto. The relay's Lambda client
//! finds watch as `AWS_ENDPOINT_URL_LAMBDA` would point it there.
//!
//! watch is not AWS (docs/research/aws-destinations.md §5): an `event`
//! invoke runs synchronously and answers 200 rather than 202, and a
//! function error comes back as a 500 with the error object rather than a
//! 200 with `X-Amz-Function-Error` (the unit tests of
//! `shared/aws/src/lambda_invoke.rs` cover AWS's form).
use hookrelay_models::{AttemptOutcome, DeliveryState, DestinationId, EventId};
use hookrelay_tests::lambda_watch::{self, FUNCTION};
use hookrelay_tests::relay::Relay;
use hookrelay_tests::{config_from, moto, python_verifies, ManualClock};
use serde_json::Value;
use std::sync::Arc;

const SECRET: &str = "It's a Secret to Everybody";
const DEST_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[derive(Clone, Copy)]
enum Kind {
    Embedded,
    Aws,
}

fn config_text(destination: &str) -> String {
    format!(
        "[[sources]]\nid = \"github\"\nscheme = \"github\"\nsecrets = [{SECRET:?}]\n\
         [[destinations]]\nid = \"function\"\nsecret = \"{DEST_SECRET}\"\nkind = \"lambda\"\n\
         url = \"{FUNCTION}\"\n{destination}\n\
         [[routes]]\nsource = \"github\"\ndestination = \"function\"\n"
    )
}

async fn relay(kind: Kind, destination: &str) -> Relay {
    let config = config_from(&config_text(destination));
    let clock = Arc::new(ManualClock::following_system_time());
    match kind {
        Kind::Embedded => Relay::embedded(config, clock),
        Kind::Aws => Relay::aws(config, clock).await,
    }
}

/// A body naming its own case, so the shared function keeps each test's
/// invocations apart.
fn body_for(case: &str) -> String {
    format!(r#"{{"case":"{case}","ref":"refs/heads/main","commits":[]}}"#)
}

async fn push(relay: &Relay, body: &str) -> EventId {
    relay
        .push_github(SECRET, &moto::unique_name("delivery"), body.as_bytes())
        .await
}

async fn state(relay: &Relay, id: &EventId) -> DeliveryState {
    relay
        .deliveries
        .delivery(id, &DestinationId::parse("function").unwrap())
        .await
        .unwrap()
        .unwrap()
        .state
}

fn header<'a>(event: &'a Value, name: &str) -> &'a str {
    event["headers"][name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} header in {event}"))
}

/// A synchronous invoke: the function gets an API Gateway HTTP API event
/// that `lambda_http` parses, with the signed headers and the body as
/// sent; Python's hmac verifies the signature from them; the attempt is a
/// success.
async fn a_function_gets_the_signed_request_as_an_http_api_event(kind: Kind) {
    let watch = lambda_watch::shared();
    let case = moto::unique_name("sync");
    let relay = relay(kind, "").await;
    let body = body_for(&case);
    let id = push(&relay, &body).await;
    relay.drain().await;

    let received = watch.received(&case);
    assert_eq!(received.len(), 1, "invoked once");
    let event = &received[0];
    assert_eq!(event["version"], "2.0");
    assert_eq!(event["requestContext"]["http"]["method"], "POST");
    assert_eq!(event["body"], body.as_str());
    assert_eq!(event["isBase64Encoded"], false);
    assert_eq!(header(event, "webhook-id"), id.message_id().as_str());
    assert_eq!(header(event, "hookrelay-event-id"), id.as_str());
    assert_eq!(header(event, "hookrelay-source"), "github");
    assert_eq!(header(event, "hookrelay-event-type"), "push");
    assert!(
        python_verifies(
            DEST_SECRET,
            header(event, "webhook-id"),
            header(event, "webhook-timestamp"),
            body.as_bytes(),
            header(event, "webhook-signature"),
        ),
        "the signature in the event's headers verifies over its body"
    );
    let parsed =
        lambda_http::request::from_str(&event.to_string()).expect("lambda_http parses the event");
    assert_eq!(parsed.method(), http::Method::POST);
    assert_eq!(parsed.body().as_ref(), body.as_bytes());

    assert_eq!(state(&relay, &id).await, DeliveryState::Succeeded);
    let attempts = relay.deliveries.attempts_for_event(&id).await.unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(
        attempts[0].outcome,
        AttemptOutcome::Response { status: 200 }
    );
}

/// The function fails once (a function error): the attempt fails with
/// the error's type on record, the retry reaches the function with the
/// same `webhook-id` and succeeds.
async fn a_function_error_is_a_failed_attempt_and_the_retry_succeeds(kind: Kind) {
    let watch = lambda_watch::shared();
    let case = moto::unique_name("error");
    watch.fail_times(&case, 1);
    let relay = relay(kind, "retry_schedule = [\"0s\", \"0s\"]").await;
    let id = push(&relay, &body_for(&case)).await;
    relay.drain().await;

    let attempts = relay.deliveries.attempts_for_event(&id).await.unwrap();
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    assert_eq!(
        attempts[0].outcome,
        AttemptOutcome::Response { status: 502 }
    );
    assert!(
        attempts[0]
            .response_body
            .contains("function error: HookrelayTestFailure: case"),
        "{}",
        attempts[0].response_body
    );
    assert_eq!(
        attempts[1].outcome,
        AttemptOutcome::Response { status: 200 }
    );
    assert_eq!(state(&relay, &id).await, DeliveryState::Succeeded);
    let received = watch.received(&case);
    assert_eq!(received.len(), 2, "the function ran for each attempt");
    assert_eq!(
        header(&received[0], "webhook-id"),
        header(&received[1], "webhook-id")
    );
}

/// The function answers an HTTP response of 503: a failed attempt with
/// that status and body, and a retry due.
async fn a_function_answering_503_is_a_failed_attempt(kind: Kind) {
    let watch = lambda_watch::shared();
    let case = moto::unique_name("status");
    watch.answer_status(&case, 503);
    let relay = relay(kind, "retry_schedule = [\"0s\", \"1h\"]").await;
    let id = push(&relay, &body_for(&case)).await;
    relay.drain().await;

    let attempts = relay.deliveries.attempts_for_event(&id).await.unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(
        attempts[0].outcome,
        AttemptOutcome::Response { status: 503 }
    );
    assert!(
        attempts[0].response_body.contains(": 503"),
        "{}",
        attempts[0].response_body
    );
    assert_eq!(
        state(&relay, &id).await,
        DeliveryState::Pending,
        "a retry is due"
    );
}

/// `invocation = "event"`: the invoke is accepted (watch answers 200
/// where AWS answers 202) and the function ran.
async fn an_event_invoke_is_accepted_and_the_function_runs(kind: Kind) {
    let watch = lambda_watch::shared();
    let case = moto::unique_name("event");
    let relay = relay(kind, "invocation = \"event\"").await;
    let id = push(&relay, &body_for(&case)).await;
    relay.drain().await;

    let attempts = relay.deliveries.attempts_for_event(&id).await.unwrap();
    assert_eq!(attempts.len(), 1);
    let AttemptOutcome::Response { status } = attempts[0].outcome else {
        panic!("{:?}", attempts[0]);
    };
    assert!((200..300).contains(&status), "{status}");
    assert!(
        attempts[0].response_body.starts_with("accepted"),
        "{}",
        attempts[0].response_body
    );
    assert_eq!(state(&relay, &id).await, DeliveryState::Succeeded);
    assert_eq!(watch.received(&case).len(), 1, "the function ran");
}

on_both_backends!(
    a_function_gets_the_signed_request_as_an_http_api_event,
    a_function_error_is_a_failed_attempt_and_the_retry_succeeds,
    a_function_answering_503_is_a_failed_attempt,
    an_event_invoke_is_accepted_and_the_function_runs,
);

/// A function that is not there: watch answers 404 with no error code;
/// the attempt fails with that status (as an AWS error would).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_function_is_a_failed_attempt() {
    let config = config_from(&config_text("retry_schedule = [\"0s\", \"1h\"]").replace(
        &format!("url = \"{FUNCTION}\""),
        "url = \"no-such-function\"",
    ));
    let relay = Relay::embedded(config, Arc::new(ManualClock::following_system_time()));
    let id = push(&relay, &body_for(&moto::unique_name("unknown"))).await;
    relay.drain().await;
    let attempts = relay.deliveries.attempts_for_event(&id).await.unwrap();
    assert_eq!(attempts.len(), 1);
    let AttemptOutcome::Response { status } = attempts[0].outcome else {
        panic!("{:?}", attempts[0]);
    };
    assert!((400..500).contains(&status), "{status}");
    assert!(
        attempts[0].response_body.contains("request id"),
        "{}",
        attempts[0].response_body
    );
}

/// `hookrelay dev`, in memory, with the AWS configuration of its
/// environment: `AWS_ENDPOINT_URL_LAMBDA` (read by aws-config itself)
/// points its Lambda client at watch, and the function gets the event.
#[test]
fn hookrelay_dev_invokes_a_function_at_aws_endpoint_url_lambda() {
    let watch = lambda_watch::shared();
    let case = moto::unique_name("dev");
    let dir = std::env::temp_dir().join(moto::unique_name("dev-lambda"));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("hookrelay.toml");
    std::fs::write(&config, config_text("")).unwrap();
    let mut dev = std::process::Command::new(hookrelay_tests::lambda_runtime::lambda_binary(
        "hookrelay-cli",
        "hookrelay",
    ))
    .args(["dev", "--config"])
    .arg(&config)
    .args(["--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"])
    .env("HOOKRELAY_LOG", "error")
    .env_remove("AWS_ENDPOINT_URL")
    .env("AWS_ENDPOINT_URL_LAMBDA", &watch.endpoint)
    .env("AWS_REGION", "us-east-1")
    .env("AWS_ACCESS_KEY_ID", "test")
    .env("AWS_SECRET_ACCESS_KEY", "test")
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::null())
    .spawn()
    .expect("start hookrelay dev");
    let (port, _) = hookrelay_tests::dev_ports(&mut dev);

    let body = body_for(&case);
    let mut request = format!("POST /hooks/github HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n");
    for (name, value) in hookrelay_tests::github_push_headers(SECRET, body.as_bytes(), &case) {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!(
        "Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    std::io::Write::write_all(&mut stream, request.as_bytes()).unwrap();
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut stream, &mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while watch.received(&case).is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = dev.kill();
    let _ = dev.wait();
    let received = watch.received(&case);
    assert_eq!(received.len(), 1, "hookrelay dev invoked the function once");
    assert_eq!(received[0]["body"], body.as_str());
    assert!(python_verifies(
        DEST_SECRET,
        header(&received[0], "webhook-id"),
        header(&received[0], "webhook-timestamp"),
        body.as_bytes(),
        header(&received[0], "webhook-signature"),
    ));
}

#[test]
fn lambda_destinations_are_checked_when_the_configuration_is_loaded() {
    let with = hookrelay_tests::load_one_destination;
    for good in [
        "kind = \"lambda\"\nurl = \"orders\"",
        "kind = \"lambda\"\nurl = \"orders:live\"\ninvocation = \"event\"",
        "kind = \"lambda\"\nurl = \"arn:aws:lambda:eu-west-1:123456789012:function:orders\"\ninvocation = \"request_response\"",
        "kind = \"lambda\"\nurl = \"orders\"\nrole_arn = \"arn:aws:iam::210987654321:role/hookrelay-delivery\"",
    ] {
        assert!(with(good).is_ok(), "{good}: {:?}", with(good));
    }
    for (bad, says) in [
        ("kind = \"lambda\"\nurl = \"https://example.com/fn\"", "function name"),
        ("kind = \"lambda\"\nurl = \"orders\"\ninvocation = \"async\"", "expected `request_response` or `event`"),
        ("url = \"https://example.com/hook\"\ninvocation = \"event\"", "invocation is for lambda destinations"),
        ("kind = \"sqs\"\nurl = \"arn:aws:sqs:eu-west-1:123456789012:q\"\ninvocation = \"event\"", "invocation is for lambda destinations"),
        ("kind = \"lambda\"\nurl = \"orders\"\nheaders = { \"X-Key\" = \"v\" }", "headers are sent only to http destinations"),
        ("kind = \"lambda\"\nurl = \"orders\"\ngroup_key = \"json:/a\"", "group_key is for FIFO"),
        ("kind = \"lambda\"\nurl = \"orders\"\naws_access_key_id = \"AKIA\"", "AWS access keys are never configured"),
    ] {
        let refused = with(bad).unwrap_err();
        assert!(refused.contains(says), "{bad}: {refused}");
    }
}
