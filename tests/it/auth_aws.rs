//! Destination `auth` that needs AWS (issue 30): SigV4-signed deliveries,
//! checked by botocore's signer in a Python receiver (not our code), with
//! the dispatcher's credentials or an assumed role's (moto's STS); and
//! credentials kept in Secrets Manager (moto), read once per cache
//! lifetime, their failures attempts that failed with kind `auth`.
use hookrelay_aws::{AwsRequestSigner, SecretsManagerReader};
use hookrelay_core::{RequestSigner, Sender};
use hookrelay_http::{Authenticator, HttpSender};
use hookrelay_models::{
    AttemptErrorKind, AttemptOutcome, AwsSigv4Auth, DeliveryState, DestinationId,
};
use hookrelay_tests::meter::{MeteringProxy, ProxyOptions};
use hookrelay_tests::relay::Relay;
use hookrelay_tests::sigv4_sink::SigV4Sink;
use hookrelay_tests::sink::Sink;
use hookrelay_tests::{config_from, moto, ManualClock};
use std::sync::Arc;
use std::time::Duration;

const SECRET: &str = "It's a Secret to Everybody";
const DEST_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// An in-memory relay whose HTTP sender has an authenticator on moto
/// (credentials `test`/`test`, region us-east-1), reading secrets through
/// `secrets_endpoint` (moto, or a proxy counting calls to it).
fn relay(destinations: &str, secrets_endpoint: &str, secret_ttl: Duration) -> Relay {
    let mut text = format!(
        "allow_private_destinations = true\n\
         [[sources]]\nid = \"github\"\nscheme = \"github\"\nsecrets = [{SECRET:?}]\n"
    );
    for (n, destination) in destinations.split("\n---\n").enumerate() {
        text.push_str(&format!(
            "[[destinations]]\nid = \"d{n}\"\nsecret = \"{DEST_SECRET}\"\nretry_schedule = [\"0s\", \"1h\"]\n{destination}\n\
             [[routes]]\nsource = \"github\"\ndestination = \"d{n}\"\n"
        ));
    }
    let config = config_from(&text);
    let authenticator = Authenticator::new(
        Some(Arc::new(SecretsManagerReader::new(moto::sdk_config_for(
            secrets_endpoint,
        )))),
        Some(Arc::new(AwsRequestSigner::new(moto::shared().sdk_config()))),
    )
    .with_secret_ttl(secret_ttl);
    let http = HttpSender::new(true)
        .expect("http client")
        .with_authenticator(authenticator);
    let sender = Arc::new(hookrelay_core::dispatch::SenderByTarget::new(
        Arc::new(http),
        None,
    ));
    Relay::embedded_with_sender(
        config,
        Arc::new(ManualClock::following_system_time()),
        sender,
    )
}

async fn push(relay: &Relay, n: usize, body: &str) -> hookrelay_models::EventId {
    relay
        .push_github(SECRET, &format!("delivery-{n}"), body.as_bytes())
        .await
}

fn destination(n: usize) -> DestinationId {
    DestinationId::parse(&format!("d{n}")).unwrap()
}

async fn state(relay: &Relay, id: &hookrelay_models::EventId, n: usize) -> DeliveryState {
    relay
        .deliveries
        .delivery(id, &destination(n))
        .await
        .unwrap()
        .expect("a delivery")
        .state
}

/// Signed with the dispatcher's credentials: botocore's signer agrees,
/// for the region `auth` names and, without one, the dispatcher's; the
/// same receiver refuses a destination that does not sign.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigv4_deliveries_verify_with_botocore_and_unsigned_ones_are_refused() {
    let named = SigV4Sink::start("execute-api", "eu-west-1", None);
    let default = SigV4Sink::start("lambda", "us-east-1", None);
    let relay = relay(
        &format!(
            "url = \"{}\"\nauth = {{ kind = \"aws_sigv4\", service = \"execute-api\", region = \"eu-west-1\" }}\n---\n\
             url = \"{}\"\nauth = {{ kind = \"aws_sigv4\", service = \"lambda\" }}\n---\n\
             url = \"{}\"",
            named.url, default.url, named.url
        ),
        &moto::shared().endpoint,
        Duration::from_secs(300),
    );
    let body = r#"{"ref":"refs/heads/main","commits":[]}"#;
    let id = push(&relay, 0, body).await;
    relay.drain().await;
    assert_eq!(state(&relay, &id, 0).await, DeliveryState::Succeeded);
    assert_eq!(state(&relay, &id, 1).await, DeliveryState::Succeeded);
    assert_eq!(
        state(&relay, &id, 2).await,
        DeliveryState::Pending,
        "unsigned: refused, retried later"
    );
    let seen = named.seen().await;
    assert_eq!(seen.len(), 2, "{seen:?}");
    let signed = seen
        .iter()
        .find(|s| s.key_id.is_some())
        .expect("the signed one");
    assert_eq!(signed.refused, None, "{seen:?}");
    assert_eq!(signed.key_id.as_deref(), Some("test"));
    assert_eq!(signed.body, body);
    let unsigned = seen
        .iter()
        .find(|s| s.key_id.is_none())
        .expect("the unsigned one");
    assert_eq!(unsigned.refused.as_deref(), Some("unsigned"));
    let by_default = default.seen().await;
    assert_eq!(by_default.len(), 1);
    assert_eq!(by_default[0].refused, None, "{by_default:?}");
    let attempts = relay.deliveries.attempts_for_event(&id).await.unwrap();
    let of = |n: usize| {
        attempts
            .iter()
            .find(|a| a.destination == destination(n))
            .unwrap()
    };
    assert_eq!(of(0).outcome, AttemptOutcome::Response { status: 200 });
    assert_eq!(of(2).outcome, AttemptOutcome::Response { status: 403 });
}

/// The receiver can tell a bad signature: a body changed after signing,
/// credentials with the wrong secret, a scope for another region.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_or_wrongly_signed_requests_are_refused() {
    let sink = SigV4Sink::start("execute-api", "eu-west-1", None);
    let auth = |region: &str| AwsSigv4Auth {
        service: "execute-api".into(),
        region: Some(region.into()),
        role_arn: None,
        external_id: None,
    };
    let headers = vec![("content-type".to_string(), "application/json".to_string())];
    let right = AwsRequestSigner::new(moto::shared().sdk_config());
    let wrong_secret = AwsRequestSigner::new(
        moto::shared()
            .sdk_config()
            .to_builder()
            .credentials_provider(aws_sdk_sqs::config::SharedCredentialsProvider::new(
                aws_sdk_sqs::config::Credentials::new("test", "not-the-secret", None, None, "t"),
            ))
            .build(),
    );
    let client = reqwest::Client::new();
    let send = |signed: Vec<(String, String)>, body: &'static str| {
        let mut request = client.post(&sink.url).body(body);
        for (name, value) in headers.iter().chain(&signed) {
            request = request.header(name, value);
        }
        async move { request.send().await.unwrap().status().as_u16() }
    };
    let body = b"{\"n\":1}";
    let signed = right
        .sign(&auth("eu-west-1"), &sink.url, &headers, body)
        .await
        .unwrap();
    assert_eq!(send(signed.clone(), "{\"n\":1}").await, 200);
    assert_eq!(send(signed, "{\"n\":2}").await, 403);
    let wrongly = wrong_secret
        .sign(&auth("eu-west-1"), &sink.url, &headers, body)
        .await
        .unwrap();
    assert_eq!(send(wrongly, "{\"n\":1}").await, 403);
    let elsewhere = right
        .sign(&auth("us-west-2"), &sink.url, &headers, body)
        .await
        .unwrap();
    assert_eq!(send(elsewhere, "{\"n\":1}").await, 403);
    let refused: Vec<Option<String>> = sink.seen().await.into_iter().map(|s| s.refused).collect();
    assert_eq!(
        refused,
        vec![
            None,
            Some("the payload hash is not the body's".into()),
            Some("signature mismatch".into()),
            Some("scope us-west-2/execute-api".into()),
        ]
    );
}

/// With `role_arn`, the request is signed with the role's session
/// credentials (moto's STS): the receiver sees that session's access key
/// and checks the signature with its secret and session token. Two
/// deliveries, one `AssumeRole`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_assumed_role_signs_with_its_own_credentials() {
    let endpoint = moto::shared().endpoint.clone();
    let sink = SigV4Sink::start("execute-api", "us-east-1", Some(&endpoint));
    let role = format!(
        "arn:aws:iam::222222222222:role/{}",
        moto::unique_name("invoker")
    );
    let relay = relay(
        &format!(
            "url = \"{}\"\nauth = {{ kind = \"aws_sigv4\", service = \"execute-api\", role_arn = \"{role}\", external_id = \"hookrelay-test\" }}",
            sink.url
        ),
        &endpoint,
        Duration::from_secs(300),
    );
    let first = push(&relay, 0, r#"{"n":0}"#).await;
    let second = push(&relay, 1, r#"{"n":1}"#).await;
    relay.drain().await;
    assert_eq!(state(&relay, &first, 0).await, DeliveryState::Succeeded);
    assert_eq!(state(&relay, &second, 0).await, DeliveryState::Succeeded);
    let seen = sink.seen().await;
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(|s| s.refused.is_none()), "{seen:?}");
    let key = seen[0].key_id.clone().unwrap();
    assert_ne!(key, "test", "not the dispatcher's own key");
    assert_eq!(
        seen[1].key_id.as_deref(),
        Some(key.as_str()),
        "the session is kept"
    );
    let data: serde_json::Value = serde_json::from_str(
        &reqwest::get(format!("{endpoint}/moto-api/data.json"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    let sessions: Vec<&serde_json::Value> = data["sts"]["AssumedRole"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["role_arn"] == role.as_str())
        .collect();
    assert_eq!(sessions.len(), 1, "one AssumeRole for both");
    assert_eq!(sessions[0]["access_key_id"], key.as_str());
    assert_eq!(sessions[0]["external_id"], "hookrelay-test");
    assert_eq!(sessions[0]["session_name"], "hookrelay-dispatcher");
}

/// A bearer token (the whole secret) and a basic password (a field of a
/// JSON secret) read from Secrets Manager reach the receiver as their
/// headers; three events cost one `GetSecretValue` per secret, and a
/// secret read again once its cache lifetime is over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_are_read_from_secrets_manager_once_per_cache_lifetime() {
    let token_arn = moto::create_secret("token", "tok-from-secrets-manager").await;
    let login_arn = moto::create_secret(
        "login",
        r#"{"username":"relay","password":"pw-from-secrets-manager"}"#,
    )
    .await;
    let proxy = MeteringProxy::start(&moto::shared().endpoint, ProxyOptions::default()).await;
    let sink = Sink::start().await;
    let ttl = Duration::from_secs(3);
    let relay = relay(
        &format!(
            "url = \"{}\"\nauth = {{ kind = \"bearer\", token = \"secretsmanager:{token_arn}\" }}\n---\n\
             url = \"{}\"\nauth = {{ kind = \"basic\", username = \"relay\", password = \"secretsmanager:{login_arn}#password\" }}",
            sink.url("/bearer"),
            sink.url("/basic")
        ),
        &proxy.endpoint(),
        ttl,
    );
    let started = std::time::Instant::now();
    for n in 0..3 {
        push(&relay, n, &format!(r#"{{"n":{n}}}"#)).await;
    }
    relay.drain().await;
    assert!(
        started.elapsed() < ttl,
        "the first deliveries took {:?}",
        started.elapsed()
    );
    let bearer = sink.received("/bearer");
    let basic = sink.received("/basic");
    assert_eq!((bearer.len(), basic.len()), (3, 3));
    assert!(bearer
        .iter()
        .all(|r| r.header("authorization") == Some("Bearer tok-from-secrets-manager")));
    use base64::Engine;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("relay:pw-from-secrets-manager")
    );
    assert!(basic
        .iter()
        .all(|r| r.header("authorization") == Some(expected.as_str())));
    assert_eq!(proxy.usage().requests, 2, "one GetSecretValue per secret");
    tokio::time::sleep(ttl + Duration::from_millis(200)).await;
    push(&relay, 3, r#"{"n":3}"#).await;
    relay.drain().await;
    assert_eq!(sink.received("/bearer").len(), 4);
    assert_eq!(
        proxy.usage().requests,
        4,
        "read again after the cache lifetime"
    );
}

/// A secret that is not there, a JSON key the secret lacks, or a token a
/// header cannot carry (a stored trailing newline): the
/// attempt fails with kind `auth`, naming the ARN and why (AWS's error
/// code), never the secret's value; a retry is due, nothing was sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_secret_is_an_auth_failure_naming_the_arn() {
    let present = moto::create_secret("present", r#"{"user":"relay-value-not-shown"}"#).await;
    let newline = moto::create_secret("newline", "tok-stored-with-a-newline\n").await;
    let missing = "arn:aws:secretsmanager:us-east-1:123456789012:secret:hookrelay-missing-AbCdEf";
    let sink = Sink::start().await;
    let relay = relay(
        &format!(
            "url = \"{}\"\nauth = {{ kind = \"bearer\", token = \"secretsmanager:{missing}\" }}\n---\n\
             url = \"{}\"\nauth = {{ kind = \"bearer\", token = \"secretsmanager:{present}#password\" }}\n---\n\
             url = \"{}\"\nauth = {{ kind = \"bearer\", token = \"secretsmanager:{newline}\" }}",
            sink.url("/a"),
            sink.url("/b"),
            sink.url("/c")
        ),
        &moto::shared().endpoint,
        Duration::from_secs(300),
    );
    let id = push(&relay, 0, "{}").await;
    relay.drain().await;
    assert_eq!(
        sink.received_count(),
        0,
        "nothing sent without its credential"
    );
    let attempts = relay.deliveries.attempts_for_event(&id).await.unwrap();
    let of = |n: usize| {
        attempts
            .iter()
            .find(|a| a.destination == destination(n))
            .unwrap()
    };
    for n in [0, 1, 2] {
        assert_eq!(
            of(n).outcome,
            AttemptOutcome::Error {
                error: AttemptErrorKind::Auth
            },
            "{:?}",
            of(n)
        );
        assert_eq!(state(&relay, &id, n).await, DeliveryState::Pending);
    }
    let said = &of(0).response_body;
    assert!(said.contains(missing), "{said}");
    assert!(said.contains("ResourceNotFoundException"), "{said}");
    let said = &of(1).response_body;
    assert!(
        said.contains(&present) && said.contains("password"),
        "{said}"
    );
    assert!(!said.contains("relay-value-not-shown"), "{said}");
    let said = &of(2).response_body;
    assert!(said.contains("space or control character"), "{said}");
    assert!(!said.contains("tok-stored"), "{said}");
}

/// Without an AWS client (an authenticator with neither reader nor
/// signer, as in tests of plain sending), both kinds fail with a reason.
#[tokio::test]
async fn without_aws_the_failure_says_so() {
    let http = HttpSender::new(true).unwrap();
    let request = |auth: &str| hookrelay_core::OutboundRequest {
        url: "http://127.0.0.1:9/hook".into(),
        headers: vec![],
        body: b"{}".to_vec().into(),
        timeout: Duration::from_secs(1),
        target: hookrelay_core::Target::Http,
        auth: Some(hookrelay_core::RequestAuth {
            destination: destination(0),
            auth: serde_json::from_str(auth).unwrap(),
        }),
    };
    let sigv4 = http
        .send(&request(r#"{"kind":"aws_sigv4","service":"execute-api"}"#))
        .await;
    assert_eq!(
        sigv4.outcome,
        AttemptOutcome::Error {
            error: AttemptErrorKind::Auth
        }
    );
    assert!(
        sigv4.response_body.contains("no AWS client"),
        "{}",
        sigv4.response_body
    );
    let secret = http
        .send(&request(
            r#"{"kind":"bearer","token":"secretsmanager:arn:aws:secretsmanager:us-east-1:123456789012:secret:x"}"#,
        ))
        .await;
    assert_eq!(
        secret.outcome,
        AttemptOutcome::Error {
            error: AttemptErrorKind::Auth
        }
    );
    assert!(
        secret.response_body.contains("no AWS client"),
        "{}",
        secret.response_body
    );
}
