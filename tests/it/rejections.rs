//! Rejections of a known source are counted per reason and hour, in the
//! store the console reads (memory for dev, the events table for AWS):
//! the first at once, then at most one write a minute; accepted webhooks
//! and unknown sources count nothing.
use hookrelay_core::rejections::hour_of;
use hookrelay_core::{IngestSettings, RejectionStore};
use hookrelay_models::SourceId;
use hookrelay_receiver::handle;
use hookrelay_tests::backend::{AwsBackend, Backend, EmbeddedBackend};
use hookrelay_tests::{config_from, github_push_headers, ManualClock};
use std::sync::Arc;

enum Kind {
    Embedded,
    Aws,
}

const SECRET: &str = "It's a Secret to Everybody";
const NOW: i64 = 1_790_000_000;

fn post(source: &str, headers: &[(String, String)], body: &[u8]) -> lambda_http::Request {
    let mut builder = http::Request::builder().method("POST").uri(format!(
        "https://abc.execute-api.us-east-1.amazonaws.com/hooks/{source}"
    ));
    for (name, value) in headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    builder
        .body(lambda_http::Body::from(body.to_vec()))
        .unwrap()
}

async fn forged_and_malformed_requests_are_counted_by_reason(kind: Kind) {
    let clock = Arc::new(ManualClock::at_unix_secs(NOW));
    let config = config_from(&format!(
        "[[sources]]\nid = \"github\"\nscheme = \"github\"\nsecrets = [\"{SECRET}\"]\n"
    ));
    let settings = IngestSettings::default();
    let (backend, store): (Box<dyn Backend>, Arc<dyn RejectionStore>) = match kind {
        Kind::Embedded => {
            let backend = EmbeddedBackend::new(config, clock.clone(), settings).with_rejections();
            let store = backend.rejection_store();
            (Box::new(backend), store)
        }
        Kind::Aws => {
            let backend = AwsBackend::new(config, clock.clone(), settings)
                .await
                .with_rejections();
            let store = backend.rejection_store();
            (Box::new(backend), store)
        }
    };
    let body = br#"{"ref":"refs/heads/main"}"#;
    let forged = [(
        "x-hub-signature-256".to_string(),
        format!("sha256={}", "0".repeat(64)),
    )];
    let malformed = [("x-hub-signature-256".to_string(), "sha256=zz".to_string())];
    let send = |request| handle(backend.ingest(), request);

    assert_eq!(send(post("github", &forged, body)).await.status(), 401);
    assert_eq!(send(post("github", &forged, body)).await.status(), 401);
    assert_eq!(send(post("github", &malformed, body)).await.status(), 400);
    let valid = github_push_headers(SECRET, body, "d-1");
    assert_eq!(send(post("github", &valid, body)).await.status(), 202);
    assert_eq!(send(post("gitlab", &forged, body)).await.status(), 404);

    let github = SourceId::parse("github").unwrap();
    let counts = |list: Vec<hookrelay_core::RejectionCount>| {
        list.into_iter()
            .map(|c| (c.reason, c.count))
            .collect::<Vec<_>>()
    };
    let since = hour_of(clock_now(&clock));
    // The first rejection is written at once; the next two wait.
    assert_eq!(
        counts(store.rejections(&github, since).await.unwrap()),
        [("bad_signature".to_string(), 1)]
    );
    clock.advance_millis(61_000);
    assert_eq!(send(post("github", &forged, body)).await.status(), 401);
    assert_eq!(
        counts(store.rejections(&github, since).await.unwrap()),
        [
            ("bad_signature".to_string(), 3),
            ("malformed".to_string(), 1)
        ]
    );
    let gitlab = SourceId::parse("gitlab").unwrap();
    assert!(store.rejections(&gitlab, since).await.unwrap().is_empty());
}

fn clock_now(clock: &ManualClock) -> hookrelay_models::Timestamp {
    use hookrelay_core::Clock;
    clock.now()
}

on_both_backends!(forged_and_malformed_requests_are_counted_by_reason);
