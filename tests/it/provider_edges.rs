//! Provider edge cases from issue 26, through the receiver's use case on
//! the embedded backend: each found by checking hookrelay against the
//! provider's own SDK or documentation.
use hookrelay_core::{InboundHook, IngestOutcome, IngestSettings};
use hookrelay_signing::{
    sign_as_provider, HeaderPairs, ProviderMessage, Scheme, SchemeKind, Secret,
};
use hookrelay_tests::backend::{Backend, EmbeddedBackend};
use hookrelay_tests::{config_from, ManualClock};
use sha2::{Digest, Sha256};
use std::sync::Arc;

const NOW: i64 = 1_790_000_000;

fn backend(toml: &str) -> EmbeddedBackend {
    EmbeddedBackend::new(
        config_from(toml),
        Arc::new(ManualClock::at_unix_secs(NOW)),
        IngestSettings::default(),
    )
}

async fn ingest(
    backend: &EmbeddedBackend,
    source: &str,
    headers: Vec<(String, String)>,
    body: &[u8],
    query: &str,
) -> Result<IngestOutcome, hookrelay_core::CoreError> {
    let pairs = HeaderPairs(&headers);
    backend
        .ingest()
        .ingest(InboundHook {
            source_id: source,
            headers: &pairs,
            header_pairs: headers.clone(),
            body,
            public_url: None,
            query,
        })
        .await
}

/// The headers `kind`'s provider sends with `body` (posted to `url`).
fn signed(kind: SchemeKind, secret: &str, body: &[u8], url: Option<&str>) -> Vec<(String, String)> {
    sign_as_provider(
        &Scheme::Named(kind),
        &Secret::new(secret),
        &ProviderMessage {
            body,
            timestamp: NOW,
            id: "",
            url,
        },
    )
    .unwrap()
}

/// Twilio signs the URL it posted to; for a JSON body that URL carries
/// `?bodySHA256=<hex SHA-256 of the body>` (twilio-python and twilio-node
/// `RequestValidator`). A source with `public_url` set used that URL
/// verbatim and dropped the request's query: only a body whose hash was
/// written into `public_url` verified.
#[tokio::test]
async fn twilio_json_on_a_source_with_a_public_url_keeps_the_requests_query() {
    let token = "twilio-auth-token";
    let public = "https://hooks.example.com/hooks/twilio";
    let backend = backend(&format!(
        "[[sources]]\nid = \"twilio\"\nscheme = \"twilio\"\nsecrets = [\"{token}\"]\npublic_url = \"{public}\"\n"
    ));
    for (n, body) in [
        &br#"{"MessageSid":"SM1","Body":"hi"}"#[..],
        br#"{"MessageSid":"SM2"}"#,
    ]
    .into_iter()
    .enumerate()
    {
        let query = format!("bodySHA256={}", hex::encode(Sha256::digest(body)));
        let signed_url = format!("{public}?{query}");
        let mut headers = signed(SchemeKind::Twilio, token, body, Some(&signed_url));
        headers.push(("Content-Type".into(), "application/json".into()));
        headers.push(("I-Twilio-Idempotency-Token".into(), format!("idem-{n}")));
        let outcome = ingest(&backend, "twilio", headers.clone(), body, &query).await;
        assert!(
            matches!(outcome, Ok(IngestOutcome::Accepted { .. })),
            "{n}: {outcome:?}"
        );
        // The hash still binds the body: another body under that query and
        // signature is refused.
        let forged = ingest(
            &backend,
            "twilio",
            headers,
            b"{\"MessageSid\":\"SM9\"}",
            &query,
        )
        .await;
        assert!(forged.is_err(), "{n}: {forged:?}");
    }
}

/// A scheme whose proof is the secret itself (GitLab's `X-Gitlab-Token`,
/// Okta's and Basic's `Authorization`) must not have it stored with the
/// event, where `events show`, the console and backups would keep it for
/// the retention period. Which header that is comes from the scheme
/// catalogue.
#[tokio::test]
async fn a_token_header_is_not_stored_with_the_event() {
    let secret = "gitlab-secret-token";
    let backend = backend(&format!(
        "[[sources]]\nid = \"gitlab\"\nscheme = \"gitlab\"\nsecrets = [\"{secret}\"]\n"
    ));
    let body = br#"{"object_kind":"push","ref":"refs/heads/main"}"#;
    let mut headers = signed(SchemeKind::Gitlab, secret, body, None);
    assert!(
        headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case("X-Gitlab-Token") && v == secret),
        "{headers:?}"
    );
    headers.push(("X-Gitlab-Event".into(), "Push Hook".into()));
    headers.push(("X-Gitlab-Event-UUID".into(), "uuid-1".into()));
    let Ok(IngestOutcome::Accepted { id }) = ingest(&backend, "gitlab", headers, body, "").await
    else {
        panic!("not accepted");
    };
    let stored = backend.event(&id).await.unwrap();
    assert!(
        stored
            .headers
            .iter()
            .all(|(name, value)| name != "x-gitlab-token" && !value.contains(secret)),
        "{:?}",
        stored.headers
    );
    assert!(stored
        .headers
        .iter()
        .any(|(name, _)| name == "x-gitlab-event"));
}

/// What `events show` and the console show of an event never includes its
/// source's secret or the proof made with it: a configured `hmac` header
/// (`X-Digest`, which the console's name patterns did not catch) and
/// Microsoft Graph's `clientState`, which is the source's secret itself, in
/// the body. What is stored and delivered stays exact.
#[tokio::test]
async fn events_are_shown_with_their_sources_proof_and_secrets_masked() {
    use hookrelay_core::admin::{AdminRequest, AdminResponse};
    use hookrelay_tests::relay::Relay;
    let relay = Relay::embedded(
        config_from(
            "[[sources]]\nid = \"billing\"\nscheme = \"hmac\"\nsecrets = [\"hmac-key\"]\n\
             hmac = { header = \"X-Digest\", encoding = \"hex\", algorithm = \"sha256\" }\n\
             [[sources]]\nid = \"graph\"\nscheme = \"microsoft_graph\"\nsecrets = [\"graph-client-state\"]\n",
        ),
        Arc::new(ManualClock::at_unix_secs(NOW)),
    );
    let accept = |source: &'static str, headers: Vec<(String, String)>, body: &'static [u8]| {
        let relay = &relay;
        async move {
            match relay.try_accept(source, headers, body).await {
                Ok(IngestOutcome::Accepted { id }) => id,
                other => panic!("{source}: {other:?}"),
            }
        }
    };
    let show = |id: hookrelay_models::EventId| {
        let admin = relay.admin();
        async move {
            match admin.execute(AdminRequest::ShowEvent { id }).await.unwrap() {
                AdminResponse::Event(detail) => detail.event,
                other => panic!("{other:?}"),
            }
        }
    };

    let body: &[u8] = br#"{"invoice":"in_1"}"#;
    let digest = hex::encode(hmac_sha256(b"hmac-key", body));
    let billing = accept("billing", vec![("X-Digest".into(), digest.clone())], body).await;
    let shown = show(billing.clone()).await;
    assert_eq!(
        shown.header("x-digest"),
        Some(hookrelay_core::admin::MASKED),
        "{:?}",
        shown.headers
    );
    assert!(!format!("{shown:?}").contains(&digest));

    let graph_body: &[u8] = br#"{"value":[{"subscriptionId":"s1","clientState":"graph-client-state","changeType":"created","resource":"users/1"}]}"#;
    let graph = accept("graph", Vec::new(), graph_body).await;
    let shown = show(graph.clone()).await;
    let text = String::from_utf8(shown.body.to_vec()).unwrap();
    assert!(!text.contains("graph-client-state"), "{text}");
    assert!(text.contains("users/1"), "{text}");
    // Stored as received, for delivery.
    let stored = relay.events.event(&graph).await.unwrap().unwrap();
    assert_eq!(&stored.body[..], graph_body);
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// Mailgun signs only `timestamp + token`; the event, its id included, is
/// not signed. Deduplicated by the unsigned `event-data.id`, one captured
/// signature object carried any number of forged bodies in as new events
/// for its 300 s. Now the signed token is the delivery's key: used once.
#[tokio::test]
async fn a_mailgun_signature_carries_one_body_only() {
    use hookrelay_signing::sign_body_as_provider;
    let key = "mailgun-signing-key";
    let backend = backend(&format!(
        "[[sources]]\nid = \"mailgun\"\nscheme = \"mailgun\"\nsecrets = [\"{key}\"]\n"
    ));
    let genuine = sign_body_as_provider(
        &Scheme::Named(SchemeKind::Mailgun),
        &Secret::new(key),
        &ProviderMessage {
            body: br#"{"event-data":{"id":"evt-1","event":"delivered"}}"#,
            timestamp: NOW,
            id: "token-abcdef0123456789",
            url: None,
        },
    )
    .unwrap()
    .unwrap();
    let json = |body: &[u8]| -> serde_json::Value { serde_json::from_slice(body).unwrap() };
    let Ok(IngestOutcome::Accepted { id: first }) =
        ingest(&backend, "mailgun", Vec::new(), &genuine, "").await
    else {
        panic!("the genuine request is accepted");
    };
    // The same signature object on another event: not a new event.
    let mut forged = json(&genuine);
    forged["event-data"] = serde_json::json!({"id": "evt-forged", "event": "failed"});
    let forged = serde_json::to_vec(&forged).unwrap();
    let outcome = ingest(&backend, "mailgun", Vec::new(), &forged, "").await;
    match outcome {
        Ok(IngestOutcome::Duplicate { id }) => assert_eq!(id, first),
        other => panic!("a second body under one token: {other:?}"),
    }
    assert_eq!(backend.event_count().await, 1);
}

/// Discord's webhook events (discord.com/developers/docs/events/
/// webhook-events): the PING (`type: 0`) is answered `204` with an empty
/// body and a content type, and nothing is stored; an event is
/// acknowledged `204` with no body too ("respond with a 204 status code
/// with no body within 3 seconds"), after it is stored and queued.
#[tokio::test]
async fn discord_webhook_events_get_204_and_their_ping_is_not_stored() {
    use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
    // The key events/providers.py signs its Discord samples with.
    let seed = Sha256::digest(b"hookrelay discord sample");
    let key = Ed25519KeyPair::from_seed_unchecked(&seed).unwrap();
    let public = hex::encode(key.public_key().as_ref());
    let backend = backend(&format!(
        "[[sources]]\nid = \"discord\"\nscheme = \"discord\"\nsecrets = [\"{public}\"]\n"
    ));
    let post = |body: &'static [u8]| {
        let timestamp = NOW.to_string();
        let mut signed = timestamp.as_bytes().to_vec();
        signed.extend_from_slice(body);
        let signature = hex::encode(key.sign(&signed).as_ref());
        http::Request::builder()
            .method("POST")
            .uri("/hooks/discord")
            .header("X-Signature-Ed25519", signature)
            .header("X-Signature-Timestamp", timestamp)
            .header("content-type", "application/json")
            .body(lambda_http::Body::from(body))
            .unwrap()
    };
    let ping = hookrelay_receiver::handle(
        backend.ingest(),
        post(br#"{"version":1,"application_id":"1234567890","type":0}"#),
    )
    .await;
    assert_eq!(ping.status(), 204);
    assert!(ping.body().is_empty());
    assert_eq!(ping.headers()["content-type"], "application/json");
    assert_eq!(backend.event_count().await, 0);

    let event = hookrelay_receiver::handle(
        backend.ingest(),
        post(br#"{"version":1,"application_id":"1234567890","type":1,"event":{"type":"APPLICATION_AUTHORIZED","timestamp":"2026-12-05T20:00:00Z","data":{}}}"#),
    )
    .await;
    assert_eq!(event.status(), 204);
    assert!(event.body().is_empty());
    assert_eq!(backend.event_count().await, 1);
    assert_eq!(backend.messages().await.len(), 1);
}

/// A dedupe window shorter than a source's timestamp window would let an
/// exact replay in again, as a new event, once the delivery's record had
/// expired: such a source is refused as misconfigured, with the fix.
#[tokio::test]
async fn a_dedupe_window_shorter_than_a_sources_timestamp_window_is_refused() {
    use hookrelay_models::SourceId;
    let settings = IngestSettings {
        dedupe_window: std::time::Duration::from_secs(3_000),
        ..IngestSettings::default()
    };
    let sns = SourceId::parse("sns").unwrap();
    let refused = settings.check_window(&sns, 3_600).unwrap_err();
    assert!(matches!(
        refused,
        hookrelay_core::CoreError::Misconfigured(_)
    ));
    assert!(
        refused.to_string().contains("HOOKRELAY_DEDUPE_WINDOW_SECS"),
        "{refused}"
    );
    assert!(settings.check_window(&sns, 600).is_ok());
    // The default covers every scheme's window (SendGrid's 25 h the longest).
    let longest = hookrelay_signing::CATALOG
        .iter()
        .map(|spec| spec.tolerance_secs)
        .max()
        .unwrap();
    assert!(IngestSettings::default()
        .check_window(&sns, longest)
        .is_ok());
    assert_eq!(longest, 25 * 3600);
}
