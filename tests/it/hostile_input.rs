//! Hostile and broken requests through the real receiver handler: each
//! gets its contract answer — never a panic, never a 5xx that would make a
//! provider retry forever — and nothing is stored for it.
use hookrelay_core::IngestSettings;
use hookrelay_receiver::handle;
use hookrelay_signing::{sign_as_provider, ProviderMessage, Scheme, SchemeKind, Secret};
use hookrelay_tests::backend::{Backend, EmbeddedBackend};
use hookrelay_tests::{config_from, ManualClock};
use lambda_http::{Body, Request};
use serde_json::json;
use std::sync::Arc;

const NOW: i64 = 1_790_000_000;

fn backend() -> EmbeddedBackend {
    let config = config_from(
        "[[sources]]\nid = \"github\"\nscheme = \"github\"\nsecrets = [\"gh\"]\n\
         [[sources]]\nid = \"stripe\"\nscheme = \"stripe\"\nsecrets = [\"whsec_st\"]\n\
         [[sources]]\nid = \"small\"\nscheme = \"github\"\nsecrets = [\"gh\"]\nmax_body_bytes = 1024\n",
    );
    EmbeddedBackend::new(
        config,
        Arc::new(ManualClock::at_unix_secs(NOW)),
        IngestSettings::default(),
    )
}

fn post(source: &str, headers: &[(String, String)], body: Vec<u8>) -> Request {
    let mut builder = http::Request::builder()
        .method("POST")
        .uri(format!("/hooks/{source}"));
    for (name, value) in headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    builder.body(Body::from(body)).unwrap()
}

fn signed(scheme: Scheme, secret: &str, body: &[u8]) -> Vec<(String, String)> {
    let message = ProviderMessage {
        body,
        timestamp: NOW,
        id: "msg_x",
        url: None,
    };
    sign_as_provider(&scheme, &Secret::new(secret), &message).unwrap()
}

async fn status(backend: &EmbeddedBackend, request: Request) -> u16 {
    handle(backend.ingest(), request).await.status().as_u16()
}

#[tokio::test]
async fn oversized_bodies_are_413_at_the_sources_limit_and_the_ceiling() {
    let backend = backend();
    let body = vec![b'x'; 1025];
    assert_eq!(
        status(
            &backend,
            post(
                "small",
                &signed(Scheme::Named(SchemeKind::Github), "gh", &body),
                body
            )
        )
        .await,
        413
    );
    let huge = vec![b'x'; hookrelay_models::BODY_LIMIT_CEILING + 1];
    assert_eq!(
        status(
            &backend,
            post(
                "github",
                &signed(Scheme::Named(SchemeKind::Github), "gh", &huge),
                huge
            )
        )
        .await,
        413
    );
    assert_eq!(backend.event_count().await, 0);
}

#[tokio::test]
async fn invalid_utf8_bodies_are_verified_as_bytes_and_kept_exactly() {
    let backend = backend();
    let body = vec![0xff, 0xfe, 0x00, b'{', 0xc3, 0x28];
    let response = handle(
        backend.ingest(),
        post(
            "github",
            &signed(Scheme::Named(SchemeKind::Github), "gh", &body),
            body.clone(),
        ),
    )
    .await;
    assert_eq!(response.status(), 202);
    let id: serde_json::Value = serde_json::from_slice(response.body().as_ref()).unwrap();
    let event = backend
        .event(&hookrelay_models::EventId::parse(id["id"].as_str().unwrap()).unwrap())
        .await
        .unwrap();
    assert_eq!(event.body, body);
}

#[tokio::test]
async fn deeply_nested_json_is_accepted_without_overflowing_the_stack() {
    let backend = backend();
    let body = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes();
    let response = handle(
        backend.ingest(),
        post(
            "stripe",
            &signed(Scheme::Named(SchemeKind::Stripe), "whsec_st", &body),
            body,
        ),
    )
    .await;
    // Genuine, so accepted; its type simply cannot be read.
    assert_eq!(response.status(), 202);
}

#[tokio::test]
async fn thousands_of_headers_are_400_and_nothing_is_stored() {
    let backend = backend();
    let body = b"{}".to_vec();
    let mut headers = signed(Scheme::Named(SchemeKind::Github), "gh", &body);
    for i in 0..5000 {
        headers.push((format!("x-filler-{i}"), "y".repeat(20)));
    }
    assert_eq!(status(&backend, post("github", &headers, body)).await, 400);
    assert_eq!(backend.event_count().await, 0);
}

#[tokio::test]
async fn header_values_with_cr_lf_from_a_lambda_event_never_reach_the_handler() {
    let event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/hooks/github",
        "rawQueryString": "",
        "headers": { "x-hub-signature-256": "sha256=00\r\nx-injected: 1", "content-type": "application/json" },
        "requestContext": {
            "accountId": "1", "apiId": "a", "domainName": "a.example", "domainPrefix": "a",
            "http": { "method": "POST", "path": "/hooks/github", "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "x" },
            "requestId": "r", "routeKey": "$default", "stage": "$default", "time": "x", "timeEpoch": 0
        },
        "body": "{}",
        "isBase64Encoded": false
    });
    // lambda_http refuses the event outright: a header value with CR/LF
    // cannot be an `http::HeaderValue`, so no request reaches the handler
    // and nothing is stored. What the runtime then answers (an invocation
    // error, and the function serves on) is checked against the real
    // binary in `lambda_e2e`.
    let parsed = lambda_http::request::from_str(&event.to_string());
    assert!(
        parsed.is_err(),
        "lambda_http now parses a CR/LF header value; the receiver must refuse it itself"
    );
}

#[tokio::test]
async fn signatures_of_the_wrong_length_are_401_or_400() {
    let backend = backend();
    for value in [
        "sha256=",
        "sha256=00",
        &format!("sha256={}", "0".repeat(62)),
        &format!("sha256={}", "0".repeat(66)),
        &format!("sha256={}", "a".repeat(5000)),
    ] {
        let headers = vec![("X-Hub-Signature-256".to_string(), value.to_string())];
        let answer = status(&backend, post("github", &headers, b"{}".to_vec())).await;
        assert!(answer == 401 || answer == 400, "{value:.40}: {answer}");
    }
    assert_eq!(backend.event_count().await, 0);
}

#[tokio::test]
async fn timestamps_at_the_i64_limits_are_refused_cleanly() {
    let backend = backend();
    for ts in [
        "9223372036854775807",
        "-9223372036854775808",
        "0",
        "99999999999999999999999",
    ] {
        let body = b"{}";
        let headers = vec![(
            "Stripe-Signature".to_string(),
            format!("t={ts},v1={}", "0".repeat(64)),
        )];
        let answer = status(&backend, post("stripe", &headers, body.to_vec())).await;
        assert!(answer == 401 || answer == 400, "t={ts}: {answer}");
    }
    assert_eq!(backend.event_count().await, 0);
}

#[tokio::test]
async fn source_ids_with_path_tricks_are_404() {
    let backend = backend();
    for source in [
        "..",
        "%2e%2e",
        "..%2fgithub",
        "github%00",
        &"a".repeat(10_000),
        "GITHUB",
        "github.json",
    ] {
        let uri = format!("/hooks/{source}");
        let Ok(request) = http::Request::builder()
            .method("POST")
            .uri(&uri)
            .body(Body::from("{}"))
        else {
            continue; // not even a valid URI
        };
        assert_eq!(status(&backend, request).await, 404, "{source:.40}");
    }
    let odd_paths = [
        "/hooks",
        "/hooks/",
        "/hooks/github/extra/parts",
        "/../hooks/github/x",
    ];
    for path in odd_paths {
        let request = http::Request::builder()
            .method("POST")
            .uri(path)
            .body(Body::from("{}"))
            .unwrap();
        assert_eq!(status(&backend, request).await, 404, "{path}");
    }
}

#[tokio::test]
async fn wrong_methods_are_405_not_errors() {
    let backend = backend();
    for method in ["GET", "PUT", "DELETE"] {
        let request = http::Request::builder()
            .method(method)
            .uri("/hooks/github")
            .body(Body::Empty)
            .unwrap();
        assert_eq!(status(&backend, request).await, 405, "{method}");
    }
}
