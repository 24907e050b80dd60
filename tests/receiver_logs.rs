//! The receiver's log lines: one structured JSON line per request with
//! source, outcome and event id — and never a body, a signature or a secret.
//! (A test binary of its own: see tests/Cargo.toml.)
use hookrelay_core::IngestSettings;
use hookrelay_receiver::handle;
use hookrelay_signing::{sign_as_provider, ProviderMessage, Scheme, SchemeKind, Secret};
use hookrelay_tests::backend::{Backend, EmbeddedBackend};
use hookrelay_tests::{config_from, ManualClock};
use lambda_http::Body;
use std::io::Write;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const SECRET: &str = "super-secret-github-token";
const BODY: &[u8] = br#"{"ref":"refs/heads/main","customer_email":"ada@example.com"}"#;

fn request(secret: &str) -> lambda_http::Request {
    let message = ProviderMessage {
        body: BODY,
        timestamp: 0,
        id: "",
        url: None,
    };
    let headers = sign_as_provider(
        &Scheme::Named(SchemeKind::Github),
        &Secret::new(secret),
        &message,
    )
    .unwrap();
    let mut builder = http::Request::builder()
        .method("POST")
        .uri("/hooks/github")
        .header("x-github-event", "push");
    for (name, value) in &headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    builder.body(Body::from(BODY.to_vec())).unwrap()
}

#[tokio::test]
async fn logs_name_the_outcome_and_event_but_never_bodies_signatures_or_secrets() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    // Another test's thread, without a subscriber, may have met the
    // receiver's log call sites first and cached "never" for them.
    tracing::callsite::rebuild_interest_cache();

    let config = config_from(&format!(
        "[[sources]]\nid = \"github\"\nscheme = \"github\"\nsecrets = [{SECRET:?}]\n"
    ));
    let backend = EmbeddedBackend::new(
        config,
        Arc::new(ManualClock::at_unix_secs(1_800_000_000)),
        IngestSettings::default(),
    );
    let accepted = handle(backend.ingest(), request(SECRET)).await;
    assert_eq!(accepted.status(), 202);
    let body: serde_json::Value = serde_json::from_slice(accepted.body().as_ref()).unwrap();
    let refused = handle(backend.ingest(), request("wrong")).await;
    assert_eq!(refused.status(), 401);

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).expect("every log line is JSON"))
        .collect();
    assert!(
        lines.iter().any(|l| l["fields"]["outcome"] == "accepted"
            && l["fields"]["event_id"] == body["id"]
            && l["fields"]["source"] == "github"),
        "{logs}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["outcome"] == "unauthenticated"),
        "{logs}"
    );

    let signature = sign_as_provider(
        &Scheme::Named(SchemeKind::Github),
        &Secret::new(SECRET),
        &ProviderMessage {
            body: BODY,
            timestamp: 0,
            id: "",
            url: None,
        },
    )
    .unwrap();
    for forbidden in [
        SECRET,
        "ada@example.com",
        "refs/heads/main",
        &signature[0].1[7..],
    ] {
        assert!(
            !logs.contains(forbidden),
            "log contains {forbidden:?}:\n{logs}"
        );
    }
}
