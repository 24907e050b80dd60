//! Every sample event in `events/` goes through the real receiver handler,
//! parsed by lambda_http's own parser, exactly as `cargo lambda invoke
//! --data-file` would deliver it. A sample whose signature no longer
//! verifies fails here.
use hookrelay_core::IngestSettings;
use hookrelay_receiver::{handle, public_url};
use hookrelay_tests::backend::{Backend, EmbeddedBackend};
use hookrelay_tests::sink::Sink;
use hookrelay_tests::{config_from, sns_stand_in, ManualClock};
use std::sync::Arc;

/// `events/generate.py` signs timed schemes at this instant.
const SIGNED_AT: i64 = 1_795_000_000;

fn config() -> hookrelay_models::Config {
    let shipped = include_str!("../../hookrelay.toml");
    config_from(&format!(
        "{shipped}\n[[sources]]\nid = \"twilio\"\nscheme = \"twilio\"\nsecrets = [\"twilio-sample-auth-token\"]\n"
    ))
}

async fn replay(sample: &str) -> (u16, serde_json::Value, EmbeddedBackend) {
    let clock = Arc::new(ManualClock::at_unix_secs(SIGNED_AT + 1));
    let backend = EmbeddedBackend::new(config(), clock, IngestSettings::default());
    let request = lambda_http::request::from_str(sample).expect("lambda_http parses the sample");
    let response = handle(backend.ingest(), request).await;
    let status = response.status().as_u16();
    let body = serde_json::from_slice(response.body().as_ref()).unwrap_or_default();
    (status, body, backend)
}

async fn accepted(sample: &str) -> hookrelay_models::Event {
    let (status, body, backend) = replay(sample).await;
    assert_eq!(status, 202, "{body}");
    let id = hookrelay_models::EventId::parse(body["id"].as_str().unwrap()).unwrap();
    assert_eq!(backend.messages().await.len(), 1);
    backend.event(&id).await.expect("stored")
}

#[tokio::test]
async fn github_http_api_sample_with_a_base64_body_is_accepted_byte_for_byte() {
    let event = accepted(include_str!("../../events/apigw-v2-github-push.json")).await;
    assert_eq!(
        event.body[..],
        include_bytes!("../../events/payloads/github-push.json")[..]
    );
    assert_eq!(event.event_type.as_deref(), Some("push"));
    assert_eq!(
        event.provider_delivery_id.as_deref(),
        Some("72d3162e-cc78-11e3-81ab-4c9367dc0958")
    );
}

#[tokio::test]
async fn github_rest_api_v1_sample_is_accepted() {
    let event = accepted(include_str!("../../events/apigw-v1-github-push.json")).await;
    assert_eq!(event.source.as_str(), "github");
}

#[tokio::test]
async fn stripe_samples_from_the_http_api_and_a_function_url_are_accepted() {
    for sample in [
        include_str!("../../events/apigw-v2-stripe-invoice-paid.json"),
        include_str!("../../events/function-url-stripe-invoice-paid.json"),
    ] {
        let event = accepted(sample).await;
        assert_eq!(event.event_type.as_deref(), Some("invoice.paid"));
        assert_eq!(
            event.provider_delivery_id.as_deref(),
            Some("evt_1QhM2aLkdIwHu7ix0sample")
        );
    }
}

#[tokio::test]
async fn standard_webhooks_sample_is_accepted() {
    let event = accepted(include_str!(
        "../../events/apigw-v2-standard-user-created.json"
    ))
    .await;
    assert_eq!(event.event_type.as_deref(), Some("user.created"));
}

#[tokio::test]
async fn twilio_sample_verifies_against_the_rebuilt_public_url() {
    let sample = include_str!("../../events/apigw-v2-twilio-sms.json");
    let request = lambda_http::request::from_str(sample).unwrap();
    assert_eq!(
        public_url(&request).as_deref(),
        Some("https://abc123xyz.execute-api.us-east-1.amazonaws.com/hooks/twilio?tenant=acme")
    );
    let event = accepted(sample).await;
    assert_eq!(event.provider_delivery_id.as_deref(), Some("idem-sample-1"));
}

#[tokio::test]
async fn rest_api_public_url_keeps_the_stage() {
    let request =
        lambda_http::request::from_str(include_str!("../../events/apigw-v1-github-push.json"))
            .unwrap();
    assert_eq!(
        public_url(&request).as_deref(),
        Some("https://abc123xyz.execute-api.us-east-1.amazonaws.com/prod/hooks/github")
    );
}

#[tokio::test]
async fn the_bad_signature_sample_is_refused_and_nothing_is_stored() {
    let (status, _, backend) = replay(include_str!(
        "../../events/apigw-v2-github-bad-signature.json"
    ))
    .await;
    assert_eq!(status, 401);
    assert_eq!(backend.event_count().await, 0);
    assert!(backend.messages().await.is_empty());
}

#[tokio::test]
async fn timed_samples_go_stale_after_the_tolerance() {
    let clock = Arc::new(ManualClock::at_unix_secs(SIGNED_AT + 301));
    let backend = EmbeddedBackend::new(config(), clock, IngestSettings::default());
    let request = lambda_http::request::from_str(include_str!(
        "../../events/apigw-v2-stripe-invoice-paid.json"
    ))
    .unwrap();
    assert_eq!(handle(backend.ingest(), request).await.status(), 401);
}

/// `events/providers/`: one sample per provider scheme, signed by
/// `events/providers.py` (Python's hmac, from each provider's documented
/// format), with the event type and delivery id the receiver must read.
#[tokio::test]
async fn every_provider_sample_is_accepted_with_its_event_type_and_delivery_id() {
    let dir = hookrelay_tests::repo_root().join("events/providers");
    let config = config_from(&std::fs::read_to_string(dir.join("hookrelay.toml")).unwrap());
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let expected = expected.as_object().unwrap();
    // The schemes that came with samples of their own (above), and the
    // generic one; every other scheme has a sample here.
    let older = [
        "github", "stripe", "shopify", "slack", "standard", "zoom", "twitch", "paddle", "linear",
        "twilio", "hmac",
    ];
    for kind in hookrelay_signing::SchemeKind::ALL {
        if !older.contains(&kind.as_str()) {
            assert!(expected.contains_key(kind.as_str()), "no sample for {kind}");
        }
    }
    // SNS's certificate, from a server standing in for SNS's host.
    let sns_host = Sink::start().await;
    let backend_at_signing = || {
        let clock = Arc::new(ManualClock::at_unix_secs(SIGNED_AT + 1));
        EmbeddedBackend::new(config.clone(), clock, IngestSettings::default())
            .with_sns(sns_stand_in(&sns_host))
    };
    for (scheme, want) in expected {
        let sample = std::fs::read_to_string(dir.join(format!("{scheme}.json"))).unwrap();
        let backend = backend_at_signing();
        let request = lambda_http::request::from_str(&sample).expect("lambda_http parses it");
        let response = handle(backend.ingest(), request).await;
        let body = String::from_utf8_lossy(response.body().as_ref()).to_string();
        let id = if scheme == "discord" {
            // Discord's webhook events are acknowledged 204, with no body.
            assert_eq!(response.status(), 204, "{scheme}: {body}");
            assert!(body.is_empty(), "{body}");
            let source = hookrelay_models::SourceId::parse(scheme).unwrap();
            let listed = backend
                .event_store()
                .events_by_source(&source, None, 10)
                .await
                .unwrap();
            assert_eq!(listed.len(), 1, "{scheme}");
            listed[0].id.clone()
        } else {
            assert_eq!(response.status(), 202, "{scheme}: {body}");
            let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
            hookrelay_models::EventId::parse(answer["id"].as_str().unwrap()).unwrap()
        };
        let event = backend.event(&id).await.expect("stored");
        assert_eq!(
            event.event_type.as_deref(),
            want["event_type"].as_str(),
            "{scheme}"
        );
        assert_eq!(
            event.provider_delivery_id.as_deref(),
            want["delivery_id"].as_str(),
            "{scheme}"
        );

        // The same request with one body byte changed is refused, and
        // nothing is stored (a token or Basic scheme signs no body: its
        // credentials are changed instead).
        let mut tampered: serde_json::Value = serde_json::from_str(&sample).unwrap();
        if scheme == "gitlab" {
            tampered["headers"]["x-gitlab-token"] = "not-the-token".into();
        } else if scheme == "okta" {
            tampered["headers"]["authorization"] = "not-the-secret".into();
        } else if scheme == "basic" {
            tampered["headers"]["authorization"] = "Basic bm90OnRoZS1wYXNzd29yZA==".into();
        } else if scheme == "microsoft_graph" {
            let text = tampered["body"]
                .as_str()
                .unwrap()
                .replace("sample-", "guessed-");
            tampered["body"] = text.into();
        } else if scheme == "sns" {
            // SNS signs the envelope's fields, not its layout.
            let text = tampered["body"]
                .as_str()
                .unwrap()
                .replacen("ord_1", "ord_2", 1);
            tampered["body"] = text.into();
        } else if scheme == "mailgun" {
            // Mailgun signs its signature object's timestamp and token.
            let text = tampered["body"]
                .as_str()
                .unwrap()
                .replacen("e0b5", "e0b6", 1);
            tampered["body"] = text.into();
        } else {
            let text = tampered["body"].as_str().unwrap().replacen('{', "{ ", 1);
            tampered["body"] = text.into();
        }
        let backend = backend_at_signing();
        let request = lambda_http::request::from_str(&tampered.to_string()).unwrap();
        let status = handle(backend.ingest(), request).await.status();
        assert_eq!(status, 401, "{scheme} tampered");
        assert_eq!(backend.event_count().await, 0, "{scheme}");
    }
}

/// Discord's PING interaction, signed with the sample application key, is
/// answered PONG (`{"type":1}`) by the receiver and nothing is kept.
#[tokio::test]
async fn the_discord_ping_sample_is_answered_pong_and_not_stored() {
    let dir = hookrelay_tests::repo_root().join("events/providers");
    let config = config_from(&std::fs::read_to_string(dir.join("hookrelay.toml")).unwrap());
    let sample = std::fs::read_to_string(dir.join("discord-ping.json")).unwrap();
    let clock = Arc::new(ManualClock::at_unix_secs(SIGNED_AT + 1));
    let backend = EmbeddedBackend::new(config, clock, IngestSettings::default());
    let response = handle(
        backend.ingest(),
        lambda_http::request::from_str(&sample).unwrap(),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.body().as_ref(), br#"{"type":1}"#);
    assert_eq!(backend.event_count().await, 0);
    assert!(backend.messages().await.is_empty());
}
