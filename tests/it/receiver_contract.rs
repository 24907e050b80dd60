//! The receiver contract (DESIGN.md) through the real Lambda handler, on
//! the embedded adapters and on DynamoDB + SQS (moto). Each scenario is
//! written once and run on both backends.
use hookrelay_core::IngestSettings;
use hookrelay_receiver::handle;
use hookrelay_signing::{sign_as_provider, ProviderMessage, Scheme, SchemeKind, Secret};
use hookrelay_tests::backend::{AwsBackend, Backend, EmbeddedBackend};
use hookrelay_tests::{config_from, ManualClock};
use lambda_http::{Body, Request};
use serde_json::Value;
use std::sync::Arc;

const NOW: i64 = 1_790_000_000;
const GITHUB_SECRET: &str = "It's a Secret to Everybody";
const STRIPE_SECRET: &str = "whsec_test_stripe";

const CONFIG: &str = r#"
[[sources]]
id = "github"
scheme = "github"
secrets = ["It's a Secret to Everybody"]

[[sources]]
id = "stripe"
scheme = "stripe"
secrets = ["whsec_test_stripe"]
max_body_bytes = 2048

[[sources]]
id = "slack"
scheme = "slack"
secrets = ["slack-secret"]

[[sources]]
id = "zoom"
scheme = "zoom"
secrets = ["zoom-secret"]

[[sources]]
id = "twitch"
scheme = "twitch"
secrets = ["twitch-secret"]

[[sources]]
id = "shop"
scheme = "woocommerce"
secrets = ["woo-secret"]

[[sources]]
id = "meta"
scheme = "meta"
secrets = ["meta-app-secret"]
verify_token = "meta-verify-token"

[[sources]]
id = "dropbox"
scheme = "dropbox"
secrets = ["dropbox-app-secret"]

[[sources]]
id = "okta"
scheme = "okta"
secrets = ["okta-authorization-secret"]

[[sources]]
id = "graph"
scheme = "microsoft_graph"
secrets = ["graph-client-state"]
"#;

pub struct Fixture {
    pub backend: Box<dyn Backend>,
    pub clock: Arc<ManualClock>,
}

async fn embedded() -> Fixture {
    let clock = Arc::new(ManualClock::at_unix_secs(NOW));
    let backend = EmbeddedBackend::new(
        config_from(CONFIG),
        clock.clone(),
        IngestSettings::default(),
    );
    Fixture {
        backend: Box::new(backend),
        clock,
    }
}

async fn aws() -> Fixture {
    let clock = Arc::new(ManualClock::at_unix_secs(NOW));
    let backend = AwsBackend::new(
        config_from(CONFIG),
        clock.clone(),
        IngestSettings::default(),
    )
    .await;
    Fixture {
        backend: Box::new(backend),
        clock,
    }
}

/// A POST as API Gateway would hand it over, signed for `scheme`.
fn signed_post(
    source: &str,
    scheme: Scheme,
    secret: &str,
    body: &[u8],
    extra_headers: &[(&str, &str)],
) -> Request {
    let message = ProviderMessage {
        body,
        timestamp: NOW,
        id: "msg_contract",
        url: None,
    };
    let signature = sign_as_provider(&scheme, &Secret::new(secret), &message).unwrap();
    let mut builder = http::Request::builder()
        .method("POST")
        .uri(format!(
            "https://abc123.execute-api.us-east-1.amazonaws.com/hooks/{source}"
        ))
        .header("content-type", "application/json");
    for (name, value) in signature
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .chain(extra_headers.iter().copied())
    {
        builder = builder.header(name, value);
    }
    builder.body(Body::from(body.to_vec())).unwrap()
}

fn github_push(delivery: &str) -> Request {
    signed_post(
        "github",
        Scheme::Named(SchemeKind::Github),
        GITHUB_SECRET,
        br#"{"ref":"refs/heads/main","after":"abc"}"#,
        &[("X-GitHub-Event", "push"), ("X-GitHub-Delivery", delivery)],
    )
}

async fn send(fixture: &Fixture, request: Request) -> (u16, Value) {
    let response = handle(fixture.backend.ingest(), request).await;
    let status = response.status().as_u16();
    let body: Value = serde_json::from_slice(response.body().as_ref()).unwrap_or(Value::Null);
    (status, body)
}

async fn assert_nothing_written(fixture: &Fixture) {
    assert_eq!(fixture.backend.event_count().await, 0, "events stored");
    assert_eq!(
        fixture.backend.dedupe_count().await,
        0,
        "dedupe records left"
    );
    assert!(
        fixture.backend.messages().await.is_empty(),
        "messages queued"
    );
}

async fn valid_webhook_is_accepted_stored_and_queued_once(f: Fixture) {
    let (status, body) = send(&f, github_push("d-1")).await;
    assert_eq!(status, 202, "{body}");
    let id = hookrelay_models::EventId::parse(body["id"].as_str().unwrap()).unwrap();
    let messages = f.backend.messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].event_id, id);
    assert_eq!(f.backend.event_count().await, 1);
    let stored = f.backend.event(&id).await.expect("stored event");
    assert_eq!(
        stored.body[..],
        br#"{"ref":"refs/heads/main","after":"abc"}"#[..]
    );
    assert_eq!(stored.event_type.as_deref(), Some("push"));
    assert_eq!(stored.provider_delivery_id.as_deref(), Some("d-1"));
    assert_eq!(stored.header("x-github-event"), Some("push"));
}

async fn duplicate_is_answered_with_the_first_id_and_not_queued_again(f: Fixture) {
    let (first_status, first) = send(&f, github_push("d-dup")).await;
    assert_eq!(first_status, 202);
    let id = hookrelay_models::EventId::parse(first["id"].as_str().unwrap()).unwrap();
    f.backend.begin_dispatch(&id).await;
    f.clock.advance_millis(60_000);
    let (status, body) = send(&f, github_push("d-dup")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], first["id"]);
    assert_eq!(body["duplicate"], true);
    assert_eq!(f.backend.messages().await.len(), 1);
    assert_eq!(f.backend.event_count().await, 1);
}

/// Before the dispatcher has begun on an event, nothing tells a duplicate
/// whether its first receipt queued it (recording that would cost a write
/// on every webhook): it is queued again, under the first id, and the
/// dispatcher drops the second copy.
async fn an_early_duplicate_queues_the_first_event_again(f: Fixture) {
    let (_, first) = send(&f, github_push("d-early")).await;
    let (status, body) = send(&f, github_push("d-early")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["duplicate"], true);
    assert_eq!(body["id"], first["id"]);
    let messages = f.backend.messages().await;
    assert_eq!(messages.len(), 2);
    assert!(messages.iter().all(|m| m.event_id.as_str() == first["id"]));
    assert_eq!(f.backend.event_count().await, 1);
    assert_eq!(f.backend.dedupe_count().await, 1);
}

async fn a_delivery_id_is_forgotten_after_the_dedupe_window(f: Fixture) {
    let (_, first) = send(&f, github_push("d-old")).await;
    f.clock
        .advance_millis(hookrelay_core::DEFAULT_DEDUPE_WINDOW.as_millis() as i64 + 1);
    // GitHub signs no timestamp, so the same request is still genuine.
    let (status, second) = send(&f, github_push("d-old")).await;
    assert_eq!(status, 202, "{second}");
    assert_ne!(second["id"], first["id"]);
    assert_eq!(f.backend.event_count().await, 2);
}

/// GitHub signs no timestamp and not its delivery id: a captured request
/// stays genuine for ever. Replayed with the id header changed, or without
/// it, it is still the same delivery.
async fn a_replayed_request_is_a_duplicate_whatever_its_delivery_id_says(f: Fixture) {
    let (status, first) = send(&f, github_push("d-captured")).await;
    assert_eq!(status, 202, "{first}");
    let id = hookrelay_models::EventId::parse(first["id"].as_str().unwrap()).unwrap();
    f.backend.begin_dispatch(&id).await;
    f.clock.advance_millis(3600 * 1000);

    let (status, changed) = send(&f, github_push("d-forged")).await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["duplicate"], true);
    assert_eq!(changed["id"], first["id"]);

    let without_id = signed_post(
        "github",
        Scheme::Named(SchemeKind::Github),
        GITHUB_SECRET,
        br#"{"ref":"refs/heads/main","after":"abc"}"#,
        &[("X-GitHub-Event", "push")],
    );
    let (status, missing) = send(&f, without_id).await;
    assert_eq!(status, 200, "{missing}");
    assert_eq!(missing["duplicate"], true);
    assert_eq!(missing["id"], first["id"]);

    assert_eq!(f.backend.event_count().await, 1, "a replay was stored");
    assert_eq!(f.backend.messages().await.len(), 1, "a replay was queued");

    // A different body is a different delivery, whatever its id.
    let other = signed_post(
        "github",
        Scheme::Named(SchemeKind::Github),
        GITHUB_SECRET,
        br#"{"ref":"refs/heads/main","after":"def"}"#,
        &[
            ("X-GitHub-Event", "push"),
            ("X-GitHub-Delivery", "d-captured"),
        ],
    );
    let (status, body) = send(&f, other).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(f.backend.event_count().await, 2);
}

async fn concurrent_identical_deliveries_store_one_event(f: Fixture) {
    let f = Arc::new(f);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let f = f.clone();
        tasks.spawn(async move { send(&f, github_push("d-race")).await });
    }
    let mut ids = std::collections::HashSet::new();
    while let Some(result) = tasks.join_next().await {
        let (status, body) = result.unwrap();
        assert!(status == 200 || status == 202, "{status} {body}");
        ids.insert(body["id"].as_str().unwrap().to_string());
    }
    assert_eq!(ids.len(), 1, "all answers name the same event: {ids:?}");
    assert_eq!(f.backend.event_count().await, 1);
    let messages = f.backend.messages().await;
    assert!(!messages.is_empty());
    assert!(messages
        .iter()
        .all(|m| m.event_id.as_str() == ids.iter().next().unwrap()));
}

async fn a_bad_signature_is_401_without_detail_and_nothing_is_written(f: Fixture) {
    let request = signed_post(
        "github",
        Scheme::Named(SchemeKind::Github),
        "not the secret",
        b"{}",
        &[("X-GitHub-Event", "push")],
    );
    let (status, body) = send(&f, request).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "signature verification failed");
    assert_nothing_written(&f).await;
}

async fn a_stale_timestamp_is_401(f: Fixture) {
    f.clock.set_unix_secs(NOW + 301);
    let request = signed_post(
        "stripe",
        Scheme::Named(SchemeKind::Stripe),
        STRIPE_SECRET,
        br#"{"id":"evt_s","type":"invoice.paid"}"#,
        &[],
    );
    let (status, _) = send(&f, request).await;
    assert_eq!(status, 401);
    assert_nothing_written(&f).await;
}

async fn unknown_sources_and_path_tricks_are_404(f: Fixture) {
    for source in ["nope", "..%2F..%2Fetc", "%2e%2e", &"x".repeat(300)] {
        let request = signed_post(
            source,
            Scheme::Named(SchemeKind::Github),
            GITHUB_SECRET,
            b"{}",
            &[],
        );
        let (status, _) = send(&f, request).await;
        assert_eq!(status, 404, "{source}");
    }
    assert_nothing_written(&f).await;
}

async fn a_body_over_the_limit_is_413_and_nothing_is_written(f: Fixture) {
    let body = format!(
        r#"{{"id":"evt_big","type":"x","pad":"{}"}}"#,
        "x".repeat(3000)
    );
    let request = signed_post(
        "stripe",
        Scheme::Named(SchemeKind::Stripe),
        STRIPE_SECRET,
        body.as_bytes(),
        &[],
    );
    let (status, _) = send(&f, request).await;
    assert_eq!(status, 413);
    assert_nothing_written(&f).await;
}

/// A source without a limit of its own takes up to the ceiling (5 MiB),
/// and a byte more is refused before anything is written.
async fn a_body_over_the_ceiling_is_413_and_nothing_is_written(f: Fixture) {
    let body = vec![b'x'; hookrelay_models::BODY_LIMIT_CEILING + 1];
    let request = signed_post(
        "github",
        Scheme::Named(SchemeKind::Github),
        GITHUB_SECRET,
        &body,
        &[("X-GitHub-Event", "push")],
    );
    let (status, _) = send(&f, request).await;
    assert_eq!(status, 413);
    assert_nothing_written(&f).await;
}

async fn a_malformed_signature_header_is_400(f: Fixture) {
    let request = http::Request::builder()
        .method("POST")
        .uri("/hooks/stripe")
        .header("Stripe-Signature", "garbage-without-equals")
        .body(Body::from("{}"))
        .unwrap();
    let (status, body) = send(&f, request).await;
    assert_eq!(status, 400, "{body}");
    assert_nothing_written(&f).await;
}

async fn an_unreachable_queue_is_503_and_the_retry_carries_the_receipt_forward(f: Fixture) {
    f.backend.set_queue_reachable(false);
    let (status, _) = send(&f, github_push("d-outage")).await;
    assert_eq!(status, 503);
    // Nothing is taken back: what the failed receipt wrote stays, and the
    // retry finishes its work under its id.
    assert_eq!(f.backend.dedupe_count().await, 1);
    assert_eq!(f.backend.event_count().await, 1);

    f.backend.set_queue_reachable(true);
    let (status, body) = send(&f, github_push("d-outage")).await;
    assert_eq!(status, 200, "{body}");
    let id = hookrelay_models::EventId::parse(body["id"].as_str().unwrap()).unwrap();
    assert!(
        f.backend.event(&id).await.is_some(),
        "the first receipt's event"
    );
    assert_eq!(f.backend.event_count().await, 1);
    let messages = f.backend.messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].event_id, id);
}

/// A Stripe invoice (its delivery id is signed, inside the body, so dedupe
/// goes by it), with what the dedupe record for it looks like.
fn stripe_delivery(delivery: &str) -> (Request, hookrelay_core::DedupeKey) {
    let now = hookrelay_models::Timestamp::from_unix_secs(NOW);
    let body = format!(r#"{{"id":"{delivery}","type":"invoice.paid"}}"#);
    let request = signed_post(
        "stripe",
        Scheme::Named(SchemeKind::Stripe),
        STRIPE_SECRET,
        body.as_bytes(),
        &[],
    );
    let key = hookrelay_core::DedupeKey {
        source: hookrelay_models::SourceId::parse("stripe").unwrap(),
        provider_delivery_id: delivery.into(),
        expires_at: now.saturating_add(std::time::Duration::from_secs(86_400)),
    };
    (request, key)
}

async fn a_receipt_that_was_stored_but_never_queued_is_queued_by_the_retry(f: Fixture) {
    // As if an earlier receipt claimed the delivery, stored the event and
    // died before queueing it.
    let now = hookrelay_models::Timestamp::from_unix_secs(NOW);
    let orphan = hookrelay_models::Event {
        id: hookrelay_models::EventId::new(now),
        source: hookrelay_models::SourceId::parse("stripe").unwrap(),
        event_type: Some("invoice.paid".into()),
        provider_delivery_id: Some("evt_crash".into()),
        received_at: now,
        headers: vec![],
        body: b"{}".to_vec().into(),
    };
    let (_, key) = stripe_delivery("evt_crash");
    let store = f.backend.event_store();
    let claim = store.claim_dedupe(&key, &orphan.id, now).await.unwrap();
    assert_eq!(claim, hookrelay_core::DedupeClaim::Won);
    let put = store
        .put_event(
            &orphan,
            now.saturating_add(std::time::Duration::from_secs(3600)),
        )
        .await
        .unwrap();
    assert_eq!(put, hookrelay_core::PutOutcome::Written);

    f.clock.advance_millis(5_000);
    let (status, body) = send(&f, stripe_delivery("evt_crash").0).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], orphan.id.as_str());
    let messages = f.backend.messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].event_id, orphan.id);
    assert_eq!(f.backend.event_count().await, 1);
    // Stored first, never overwritten: the retry's body is not the one kept.
    assert_eq!(
        f.backend.event(&orphan.id).await.unwrap().body[..],
        b"{}"[..]
    );

    f.backend.begin_dispatch(&orphan.id).await;
    let (status, body) = send(&f, stripe_delivery("evt_crash").0).await;
    assert_eq!((status, body["duplicate"].as_bool()), (200, Some(true)));
    assert_eq!(f.backend.messages().await.len(), 1);
    assert_eq!(f.backend.event_count().await, 1);
}

/// A receipt claimed the delivery and died before its event landed: the
/// provider's retry stores its own copy under the claimed id and queues
/// it, so the delivery keeps one id.
async fn a_claimed_delivery_whose_event_never_landed_gets_the_retrys_copy(f: Fixture) {
    let now = hookrelay_models::Timestamp::from_unix_secs(NOW);
    let claimed = hookrelay_models::EventId::new(now);
    let (_, key) = stripe_delivery("evt_lost");
    let claim = f
        .backend
        .event_store()
        .claim_dedupe(&key, &claimed, now)
        .await
        .unwrap();
    assert_eq!(claim, hookrelay_core::DedupeClaim::Won);
    assert_eq!(f.backend.event_count().await, 0);

    f.clock.advance_millis(5_000);
    let (status, body) = send(&f, stripe_delivery("evt_lost").0).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], claimed.as_str());
    let stored = f.backend.event(&claimed).await.expect("the retry's copy");
    assert_eq!(stored.provider_delivery_id.as_deref(), Some("evt_lost"));
    assert_eq!(f.backend.event_count().await, 1);
    let messages = f.backend.messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].event_id, claimed);
}

async fn provider_handshakes_are_answered_and_not_queued(f: Fixture) {
    let slack = signed_post(
        "slack",
        Scheme::Named(SchemeKind::Slack),
        "slack-secret",
        br#"{"type":"url_verification","challenge":"3eZbrw1a"}"#,
        &[],
    );
    let (status, body) = send(&f, slack).await;
    assert_eq!(
        (status, body["challenge"].as_str()),
        (200, Some("3eZbrw1a"))
    );

    let zoom = signed_post(
        "zoom",
        Scheme::Named(SchemeKind::Zoom),
        "zoom-secret",
        br#"{"event":"endpoint.url_validation","payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"}}"#,
        &[],
    );
    let (status, body) = send(&f, zoom).await;
    assert_eq!(status, 200);
    assert_eq!(body["plainToken"], "qgg8vlvZRS6UYooatFL8Aw");
    let verifier = hookrelay_signing::Verifier::new(
        Scheme::Named(SchemeKind::Zoom),
        &[Secret::new("zoom-secret")],
    )
    .unwrap();
    assert_eq!(
        body["encryptedToken"],
        verifier.challenge_response_hex(b"qgg8vlvZRS6UYooatFL8Aw")
    );

    let twitch = signed_post(
        "twitch",
        Scheme::Named(SchemeKind::Twitch),
        "twitch-secret",
        br#"{"challenge":"pogchamp-kappa","subscription":{"type":"channel.follow"}}"#,
        &[(
            "Twitch-Eventsub-Message-Type",
            "webhook_callback_verification",
        )],
    );
    let response = handle(f.backend.ingest(), twitch).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/plain");
    assert_eq!(response.body().as_ref(), b"pogchamp-kappa");

    // Microsoft Graph validates the URL with an unsigned POST: the
    // decoded token comes back as text.
    let validation = http::Request::builder()
        .method("POST")
        .uri("/hooks/graph?validationToken=Validation%3a+Testing+client+application+reachability")
        .header("content-type", "text/plain; charset=utf-8")
        .body(Body::Empty)
        .unwrap();
    let response = handle(f.backend.ingest(), validation).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/plain");
    assert_eq!(
        response.body().as_ref(),
        b"Validation: Testing client application reachability"
    );

    // WooCommerce's creation ping is unsigned: exactly 200, nothing kept.
    let ping = http::Request::builder()
        .method("POST")
        .uri("/hooks/shop")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(&b"webhook_id=12"[..]))
        .unwrap();
    let response = handle(f.backend.ingest(), ping).await;
    assert_eq!(response.status(), 200);
    // Anything else unsigned is still refused.
    let unsigned = http::Request::builder()
        .method("POST")
        .uri("/hooks/shop")
        .body(Body::from(&br#"{"id":12}"#[..]))
        .unwrap();
    assert_eq!(handle(f.backend.ingest(), unsigned).await.status(), 401);

    assert_nothing_written(&f).await;
}

/// A GET as API Gateway hands it over.
fn get(uri: &str, headers: &[(&str, &str)]) -> Request {
    let mut request = http::Request::builder().method("GET").uri(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(Body::Empty).unwrap()
}

async fn provider_endpoint_checks_are_answered_to_get(f: Fixture) {
    let text = |response: &http::Response<Body>| {
        (
            response.status().as_u16(),
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .to_string(),
            String::from_utf8_lossy(response.body().as_ref()).to_string(),
        )
    };
    // Meta: the verify token must match; the challenge comes back.
    let meta = "/hooks/meta?hub.mode=subscribe&hub.verify_token=meta-verify-token&hub.challenge=1158201444";
    let response = handle(f.backend.ingest(), get(meta, &[])).await;
    assert_eq!(
        text(&response),
        (200, "text/plain".into(), "1158201444".into())
    );
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    for refused in [
        "/hooks/meta?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1158201444",
        "/hooks/meta?hub.mode=subscribe&hub.verify_token=meta-verify-token",
        "/hooks/meta?hub.mode=unsubscribe&hub.verify_token=meta-verify-token&hub.challenge=1",
        "/hooks/meta?hub.mode=subscribe&hub.verify_token=meta-verify-token&hub.challenge=%3Cscript%3E",
    ] {
        let status = handle(f.backend.ingest(), get(refused, &[])).await.status();
        assert_eq!(status, 401, "{refused}");
    }
    // Dropbox: the challenge comes back as text.
    let response = handle(
        f.backend.ingest(),
        get("/hooks/dropbox?challenge=Z9gP2xwIfaQ-1", &[]),
    )
    .await;
    assert_eq!(
        text(&response),
        (200, "text/plain".into(), "Z9gP2xwIfaQ-1".into())
    );
    let status = handle(f.backend.ingest(), get("/hooks/dropbox", &[]))
        .await
        .status();
    assert_eq!(status, 400);
    // Okta: the header's challenge comes back as JSON, to a request that
    // carries the hook's Authorization value (as Okta's does), and only to
    // such a request.
    for authorization in [None, Some("guess")] {
        let mut headers = vec![("X-Okta-Verification-Challenge", "We4p3dhdsxWFa1Ya3S6m")];
        headers.extend(authorization.map(|value| ("Authorization", value)));
        let status = handle(f.backend.ingest(), get("/hooks/okta", &headers))
            .await
            .status();
        assert_eq!(status, 401, "{authorization:?}");
    }
    let response = handle(
        f.backend.ingest(),
        get(
            "/hooks/okta",
            &[
                ("X-Okta-Verification-Challenge", "We4p3dhdsxWFa1Ya3S6m"),
                ("Authorization", "okta-authorization-secret"),
            ],
        ),
    )
    .await;
    let (status, content_type, body) = text(&response);
    assert_eq!((status, content_type.as_str()), (200, "application/json"));
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({ "verification": "We4p3dhdsxWFa1Ya3S6m" })
    );
    // A scheme without such a check: GET stays 405; an unknown source 404.
    let response = handle(f.backend.ingest(), get("/hooks/github?challenge=x", &[])).await;
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");
    let status = handle(f.backend.ingest(), get("/hooks/nobody?challenge=x", &[]))
        .await
        .status();
    assert_eq!(status, 404);

    assert_nothing_written(&f).await;
}

async fn health_answers_200(f: Fixture) {
    let request = http::Request::builder()
        .method("GET")
        .uri("/health")
        .body(Body::Empty)
        .unwrap();
    let (status, body) = send(&f, request).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
}

macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test]
                async fn $scenario() {
                    super::$scenario(super::embedded().await).await
                }
            )*
        }
        mod dynamodb_and_sqs {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario(super::aws().await).await
                }
            )*
        }
    };
}

on_both_backends!(
    valid_webhook_is_accepted_stored_and_queued_once,
    duplicate_is_answered_with_the_first_id_and_not_queued_again,
    an_early_duplicate_queues_the_first_event_again,
    a_delivery_id_is_forgotten_after_the_dedupe_window,
    concurrent_identical_deliveries_store_one_event,
    a_replayed_request_is_a_duplicate_whatever_its_delivery_id_says,
    a_bad_signature_is_401_without_detail_and_nothing_is_written,
    a_stale_timestamp_is_401,
    unknown_sources_and_path_tricks_are_404,
    a_body_over_the_limit_is_413_and_nothing_is_written,
    a_body_over_the_ceiling_is_413_and_nothing_is_written,
    a_malformed_signature_header_is_400,
    an_unreachable_queue_is_503_and_the_retry_carries_the_receipt_forward,
    a_receipt_that_was_stored_but_never_queued_is_queued_by_the_retry,
    a_claimed_delivery_whose_event_never_landed_gets_the_retrys_copy,
    provider_handshakes_are_answered_and_not_queued,
    provider_endpoint_checks_are_answered_to_get,
    health_answers_200,
);
