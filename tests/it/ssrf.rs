//! Deliveries never reach private, loopback or link-local addresses unless
//! the configuration allows them. Only loopback is ever actually dialled
//! here; other ranges are checked without sending a packet.
use hookrelay_core::{OutboundRequest, Sender};
use hookrelay_http::{host_is_forbidden_literal, is_forbidden, HttpSender};
use hookrelay_models::{AttemptErrorKind, AttemptOutcome};
use hookrelay_tests::sink::Sink;
use std::time::Duration;

fn request(url: String) -> OutboundRequest {
    OutboundRequest {
        url,
        headers: vec![("content-type".into(), "application/json".into())],
        body: b"{}".to_vec().into(),
        timeout: Duration::from_secs(5),
        target: Default::default(),
        auth: None,
    }
}

const REFUSED: AttemptOutcome = AttemptOutcome::Error {
    error: AttemptErrorKind::RefusedAddress,
};

#[tokio::test]
async fn loopback_by_address_and_by_name_is_refused_by_default_and_nothing_arrives() {
    let sink = Sink::start().await;
    let guarded = HttpSender::new(false).unwrap();
    for url in [
        sink.url("/hook"),
        format!("http://localhost:{}/hook", sink.port()),
        format!("http://[::ffff:127.0.0.1]:{}/hook", sink.port()),
    ] {
        let result = guarded.send(&request(url.clone())).await;
        assert_eq!(result.outcome, REFUSED, "{url}");
    }
    assert_eq!(
        sink.received_count(),
        0,
        "a refused delivery must not connect"
    );

    // The same request goes through when private destinations are allowed,
    // so the refusal above is the guard and not a broken client.
    let open = HttpSender::new(true).unwrap();
    let result = open.send(&request(sink.url("/hook"))).await;
    assert_eq!(result.outcome, AttemptOutcome::Response { status: 200 });
    assert_eq!(sink.received_count(), 1);
}

#[tokio::test]
async fn ipv6_loopback_is_refused_by_default() {
    let sink = Sink::bind("[::1]:0").await;
    let guarded = HttpSender::new(false).unwrap();
    assert_eq!(
        guarded.send(&request(sink.url("/hook"))).await.outcome,
        REFUSED
    );
    assert_eq!(sink.received_count(), 0);
    let open = HttpSender::new(true).unwrap();
    assert_eq!(
        open.send(&request(sink.url("/hook"))).await.outcome,
        AttemptOutcome::Response { status: 200 }
    );
}

#[test]
fn private_and_metadata_addresses_are_refused_before_any_connection() {
    for url in [
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://192.168.1.10:8080/",
        "http://[fd00::1]/",
        "http://0.0.0.0/",
    ] {
        let parsed = reqwest::Url::parse(url).unwrap();
        assert!(host_is_forbidden_literal(&parsed), "{url}");
    }
    assert!(is_forbidden("10.0.0.1".parse().unwrap()));
    assert!(is_forbidden("169.254.169.254".parse().unwrap()));
    assert!(!host_is_forbidden_literal(
        &reqwest::Url::parse("https://example.com/").unwrap()
    ));
}

#[tokio::test]
async fn a_refused_destination_fails_at_once_and_is_not_retried() {
    let sink = Sink::start().await;
    let config = hookrelay_tests::config_from(&format!(
        "[[sources]]\nid = \"gh\"\nscheme = \"github\"\nsecrets = [\"s\"]\n\
         [[destinations]]\nid = \"internal\"\nurl = \"{}\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\nretry_schedule = [\"0s\", \"0s\", \"0s\"]\n\
         [[routes]]\nsource = \"gh\"\ndestination = \"internal\"\n",
        sink.url("/hook")
    ));
    let relay = hookrelay_tests::relay::Relay::embedded(
        config,
        std::sync::Arc::new(hookrelay_tests::ManualClock::at_unix_secs(1_790_000_000)),
    );
    let id = relay.accept_github("gh", "s", b"{}", &[]).await;
    relay.drain().await;
    let delivery = relay
        .deliveries
        .delivery(
            &id,
            &hookrelay_models::DestinationId::parse("internal").unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(delivery.state, hookrelay_models::DeliveryState::Failed);
    assert_eq!(delivery.attempts, 1);
    assert_eq!(delivery.last_outcome, Some(REFUSED));
    assert_eq!(sink.received_count(), 0);
}
