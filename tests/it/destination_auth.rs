//! Destination auth (issue 30): OAuth2 client credentials against a local
//! token server that counts its requests and checks the client's
//! credentials (HTTP Basic, form body, or an RFC 7523 assertion it verifies
//! with the client's public key); mTLS against an HTTPS sink that requires
//! a client certificate (certificates made here with rcgen); basic and
//! bearer headers; and no credential in an attempt's response.
use base64::Engine;
use bytes::Bytes;
use hookrelay_core::{OutboundRequest, RequestAuth, Sender};
use hookrelay_http::HttpSender;
use hookrelay_models::{
    Attempt, AttemptErrorKind, AttemptOutcome, DeliveryState, DestinationAuth, DestinationId,
    EventId,
};
use hookrelay_tests::relay::{test_dispatch_settings, Relay};
use hookrelay_tests::sink::{Reply, Sink};
use hookrelay_tests::{config_from, ManualClock};
use http_body_util::{BodyExt, Full};
use std::collections::{HashMap, HashSet, VecDeque};
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_rustls::rustls;

const SECRET: &str = "It's a Secret to Everybody";
const DEST_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// A client id and secret that form-encoding changes (RFC 6749 §2.3.1).
const CLIENT_ID: &str = "relay client:1";
const CLIENT_SECRET: &str = "s3cret/with+chars&=:";

#[derive(Clone, Copy)]
enum Kind {
    Embedded,
    Aws,
}

// ---- a token server -------------------------------------------------------

/// A client's public key and the algorithm it verifies with.
type PublicKey = (
    &'static dyn aws_lc_rs::signature::VerificationAlgorithm,
    Vec<u8>,
);

/// How the token server expects the client to authenticate.
#[derive(Clone)]
enum ClientCheck {
    Basic,
    Body,
    /// Signed assertions, verified with each client id's public key.
    Jwt(HashMap<String, PublicKey>),
}

struct TokenState {
    check: ClientCheck,
    expires_in: Option<u64>,
    /// Answers given before any token: (status, body).
    script: Mutex<VecDeque<(u16, String)>>,
    /// How long each answer takes.
    delay: Duration,
    requests: AtomicUsize,
    issued: AtomicUsize,
    refused: Mutex<Vec<String>>,
    jtis: Mutex<HashSet<String>>,
}

struct TokenServer {
    url: String,
    state: Arc<TokenState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn form_decode(value: &str) -> String {
    let bytes = value.replace('+', " ").into_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn form(body: &[u8]) -> HashMap<String, String> {
    std::str::from_utf8(body)
        .unwrap()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (form_decode(k), form_decode(v)))
        .collect()
}

impl TokenState {
    /// Why the request does not authenticate the client, if it does not.
    fn refusal(&self, headers: &http::HeaderMap, form: &HashMap<String, String>) -> Option<String> {
        if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
            return Some("grant_type".into());
        }
        let basic = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Basic "));
        match &self.check {
            ClientCheck::Basic => {
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(basic?)
                    .ok()?;
                let (id, secret) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
                (form_decode(id) != CLIENT_ID
                    || form_decode(secret) != CLIENT_SECRET
                    || form.contains_key("client_secret"))
                .then(|| "basic credentials".into())
            }
            ClientCheck::Body => (basic.is_some()
                || form.get("client_id").map(String::as_str) != Some(CLIENT_ID)
                || form.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET))
            .then(|| "body credentials".into()),
            ClientCheck::Jwt(keys) => self.assertion_refusal(keys, form),
        }
    }

    fn assertion_refusal(
        &self,
        keys: &HashMap<String, PublicKey>,
        form: &HashMap<String, String>,
    ) -> Option<String> {
        if form.get("client_assertion_type").map(String::as_str)
            != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
        {
            return Some("client_assertion_type".into());
        }
        let assertion = form.get("client_assertion")?;
        let parts: Vec<&str> = assertion.split('.').collect();
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let claims: serde_json::Value =
            serde_json::from_slice(&b64.decode(parts.get(1)?).ok()?).ok()?;
        let client = claims["iss"].as_str()?;
        let (algorithm, public_key) = keys.get(client)?;
        aws_lc_rs::signature::UnparsedPublicKey::new(*algorithm, public_key)
            .verify(
                format!("{}.{}", parts[0], parts[1]).as_bytes(),
                &b64.decode(parts.get(2)?).ok()?,
            )
            .ok()?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let (iat, exp) = (claims["iat"].as_u64()?, claims["exp"].as_u64()?);
        let fresh = self
            .jtis
            .lock()
            .unwrap()
            .insert(claims["jti"].as_str()?.into());
        (claims["sub"] != client
            || form.get("client_id").map(String::as_str) != Some(client)
            || !claims["aud"].as_str()?.ends_with("/token")
            || iat > now + 5
            || exp <= now
            || exp - iat > 300
            || !fresh)
            .then(|| "assertion claims".into())
    }
}

impl TokenServer {
    async fn start(check: ClientCheck, expires_in: Option<u64>) -> TokenServer {
        Self::start_with(check, expires_in, Duration::ZERO, Vec::new()).await
    }

    async fn start_with(
        check: ClientCheck,
        expires_in: Option<u64>,
        delay: Duration,
        script: Vec<(u16, String)>,
    ) -> TokenServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/token", listener.local_addr().unwrap());
        let state = Arc::new(TokenState {
            check,
            expires_in,
            script: Mutex::new(script.into()),
            delay,
            requests: AtomicUsize::new(0),
            issued: AtomicUsize::new(0),
            refused: Mutex::new(Vec::new()),
            jtis: Mutex::new(HashSet::new()),
        });
        let serving = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = serving.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(answer(&state, request).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        TokenServer { url, state, task }
    }

    /// Token requests answered, whatever the answer.
    fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }

    fn issued(&self) -> usize {
        self.state.issued.load(Ordering::SeqCst)
    }

    fn refused(&self) -> Vec<String> {
        self.state.refused.lock().unwrap().clone()
    }
}

async fn answer(
    state: &TokenState,
    request: hyper::Request<hyper::body::Incoming>,
) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    state.requests.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(state.delay).await;
    let reply = |status: u16, body: String| {
        hyper::Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .unwrap()
    };
    if let Some((status, body)) = state.script.lock().unwrap().pop_front() {
        return reply(status, body);
    }
    let form = form(&body);
    if parts.method != http::Method::POST
        || parts
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            != Some("application/x-www-form-urlencoded")
    {
        state.refused.lock().unwrap().push("not a form POST".into());
        return reply(400, r#"{"error":"invalid_request"}"#.into());
    }
    if let Some(why) = state.refusal(&parts.headers, &form) {
        state.refused.lock().unwrap().push(why);
        return reply(401, r#"{"error":"invalid_client"}"#.into());
    }
    let n = state.issued.fetch_add(1, Ordering::SeqCst) + 1;
    let mut token =
        serde_json::json!({ "access_token": format!("tok-{n}"), "token_type": "Bearer" });
    if let Some(expires_in) = state.expires_in {
        token["expires_in"] = expires_in.into();
    }
    reply(200, token.to_string())
}

// ---- relays ---------------------------------------------------------------

/// A relay with destination `app` at `url` carrying `auth`.
async fn relay(kind: Kind, url: &str, auth: serde_json::Value, retries: &str) -> Relay {
    let mut config = config_from(&format!(
        "allow_private_destinations = true\n\
         [[sources]]\nid = \"github\"\nscheme = \"github\"\nsecrets = [{SECRET:?}]\n\
         [[destinations]]\nid = \"app\"\nurl = \"{url}\"\nsecret = \"{DEST_SECRET}\"\n\
         retry_schedule = {retries}\ntimeout = \"5s\"\n\
         [[routes]]\nsource = \"github\"\ndestination = \"app\"\n"
    ));
    config.destinations[0].auth = Some(serde_json::from_value(auth).expect("an auth"));
    config.validate().expect("a valid configuration");
    let clock = Arc::new(ManualClock::following_system_time());
    match kind {
        Kind::Embedded => Relay::embedded_with(
            config,
            clock,
            Arc::new(hookrelay_core::NoMetrics),
            test_dispatch_settings(),
        ),
        Kind::Aws => Relay::aws_with(config, clock, test_dispatch_settings()).await,
    }
}

async fn push(relay: &Relay, n: usize) -> EventId {
    relay
        .push_github(
            SECRET,
            &format!("delivery-{n}"),
            format!(r#"{{"n":{n}}}"#).as_bytes(),
        )
        .await
}

fn app() -> DestinationId {
    DestinationId::parse("app").unwrap()
}

async fn state_of(relay: &Relay, id: &EventId) -> DeliveryState {
    relay
        .deliveries
        .delivery(id, &app())
        .await
        .unwrap()
        .unwrap()
        .state
}

async fn attempts(relay: &Relay, id: &EventId) -> Vec<Attempt> {
    let mut attempts = relay.deliveries.attempts_for_event(id).await.unwrap();
    attempts.sort_by_key(|a| (a.series, a.number));
    attempts
}

fn authorizations(sink: &Sink, path: &str) -> Vec<String> {
    sink.received(path)
        .iter()
        .map(|r| r.header("authorization").unwrap_or("-").to_string())
        .collect()
}

fn secret_style(token_url: &str, style: &str) -> serde_json::Value {
    serde_json::json!({
        "kind": "oauth2_client_credentials",
        "token_url": token_url,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "scope": "hooks:write",
        "style": style,
    })
}

// ---- OAuth2 ---------------------------------------------------------------

/// Deliveries in flight share one token; it is fetched again once it is
/// due (a tenth of its 2 s lifetime early), not before.
async fn a_token_is_fetched_once_per_expiry_for_deliveries_in_flight(kind: Kind) {
    let tokens = TokenServer::start(ClientCheck::Basic, Some(2)).await;
    let sink = Sink::start().await;
    let relay = relay(
        kind,
        &sink.url("/app"),
        secret_style(&tokens.url, "basic"),
        r#"["0s"]"#,
    )
    .await;
    let mut ids = Vec::new();
    for n in 0..8 {
        ids.push(push(&relay, n).await);
    }
    relay.drain().await;
    for id in &ids {
        assert_eq!(state_of(&relay, id).await, DeliveryState::Succeeded);
    }
    assert_eq!(tokens.refused(), Vec::<String>::new());
    assert_eq!(tokens.requests(), 1, "one token for eight deliveries");
    assert!(authorizations(&sink, "/app")
        .iter()
        .all(|a| a == "Bearer tok-1"));

    tokio::time::sleep(Duration::from_millis(2000)).await;
    for n in 8..11 {
        ids.push(push(&relay, n).await);
    }
    relay.drain().await;
    assert_eq!(
        tokens.requests(),
        2,
        "one more token once the first expired"
    );
    let seen = authorizations(&sink, "/app");
    assert_eq!(seen.len(), 11);
    assert!(seen[8..].iter().all(|a| a == "Bearer tok-2"), "{seen:?}");
}

/// A `401` from the receiver: one fresh token and one more try, in the same
/// attempt; a receiver that refuses the fresh one too gets no third try.
async fn a_401_gets_one_fresh_token_and_one_more_try(kind: Kind) {
    let tokens = TokenServer::start(ClientCheck::Body, None).await;
    let sink = Sink::start().await;
    sink.script("/app", vec![Reply::Status(401), Reply::Status(200)]);
    let relay = relay(
        kind,
        &sink.url("/app"),
        secret_style(&tokens.url, "body"),
        r#"["0s"]"#,
    )
    .await;
    let id = push(&relay, 0).await;
    relay.drain().await;
    assert_eq!(state_of(&relay, &id).await, DeliveryState::Succeeded);
    let tried = attempts(&relay, &id).await;
    assert_eq!(tried.len(), 1, "one attempt");
    assert_eq!(tried[0].outcome, AttemptOutcome::Response { status: 200 });
    assert_eq!(
        authorizations(&sink, "/app"),
        ["Bearer tok-1", "Bearer tok-2"]
    );
    assert_eq!(tokens.requests(), 2);
    assert_eq!(tokens.refused(), Vec::<String>::new());

    sink.script("/app", vec![Reply::Status(401)]);
    let refused = push(&relay, 1).await;
    relay.drain().await;
    assert_eq!(state_of(&relay, &refused).await, DeliveryState::Failed);
    let tried = attempts(&relay, &refused).await;
    assert_eq!(tried.len(), 1);
    assert_eq!(tried[0].outcome, AttemptOutcome::Response { status: 401 });
    assert_eq!(
        authorizations(&sink, "/app")[2..],
        ["Bearer tok-2", "Bearer tok-3"]
    );
    assert_eq!(tokens.requests(), 3);
}

/// A token endpoint that fails is an attempt that failed with kind `auth`
/// and a reason (without the secret it may echo), retried as any failure.
async fn a_failing_token_endpoint_is_an_auth_attempt_then_retried(kind: Kind) {
    let echoed =
        format!(r#"{{"error":"temporarily_unavailable","client_secret":"{CLIENT_SECRET}"}}"#);
    let tokens = TokenServer::start_with(
        ClientCheck::Basic,
        None,
        Duration::ZERO,
        vec![(500, echoed)],
    )
    .await;
    let sink = Sink::start().await;
    let relay = relay(
        kind,
        &sink.url("/app"),
        secret_style(&tokens.url, "basic"),
        r#"["0s", "0s"]"#,
    )
    .await;
    let id = push(&relay, 0).await;
    relay.drain().await;
    assert_eq!(state_of(&relay, &id).await, DeliveryState::Succeeded);
    let tried = attempts(&relay, &id).await;
    assert_eq!(tried.len(), 2, "{tried:?}");
    assert_eq!(
        tried[0].outcome,
        AttemptOutcome::Error {
            error: AttemptErrorKind::Auth
        }
    );
    let reason = &tried[0].response_body;
    assert!(
        reason.starts_with("token endpoint answered 500: ")
            && reason.contains("temporarily_unavailable"),
        "{reason}"
    );
    assert!(!reason.contains("s3cret"), "{reason}");
    assert_eq!(tried[1].outcome, AttemptOutcome::Response { status: 200 });
    assert_eq!(sink.received_count(), 1, "no request without a token");
    assert_eq!(tokens.issued(), 1);
}

/// `private_key_jwt` with each algorithm: the token server verifies the
/// assertion's signature with the client's public key, and its claims.
async fn private_key_jwt_assertions_verify_with_the_clients_public_key(kind: Kind) {
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::signature::{self, KeyPair};
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let ec =
        signature::EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .unwrap();
    let ec_public = signature::EcdsaKeyPair::from_pkcs8(
        &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        ec.as_ref(),
    )
    .unwrap()
    .public_key()
    .as_ref()
    .to_vec();
    let ed = signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let ed_public = signature::Ed25519KeyPair::from_pkcs8(ed.as_ref())
        .unwrap()
        .public_key()
        .as_ref()
        .to_vec();
    let rsa = signature::RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let rsa_pkcs8: aws_lc_rs::encoding::Pkcs8V1Der = rsa.as_der().unwrap();
    let rsa_public = rsa.public_key().as_ref().to_vec();
    let pem = |der: &[u8]| {
        format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            base64::engine::general_purpose::STANDARD.encode(der)
        )
    };
    let keys: Vec<(&str, &str, String, PublicKey)> = vec![
        (
            "es-client",
            "ES256",
            pem(ec.as_ref()),
            (&signature::ECDSA_P256_SHA256_FIXED, ec_public),
        ),
        (
            "ed-client",
            "EdDSA",
            pem(ed.as_ref()),
            (&signature::ED25519, ed_public),
        ),
        (
            "rs-client",
            "RS256",
            pem(rsa_pkcs8.as_ref()),
            (&signature::RSA_PKCS1_2048_8192_SHA256, rsa_public),
        ),
    ];
    let check = ClientCheck::Jwt(
        keys.iter()
            .map(|(client, _, _, public)| (client.to_string(), public.clone()))
            .collect(),
    );
    let tokens = TokenServer::start(check, Some(3600)).await;
    let sink = Sink::start().await;
    for (n, (client, algorithm, key, _)) in keys.iter().enumerate() {
        let auth = serde_json::json!({
            "kind": "oauth2_client_credentials",
            "token_url": tokens.url,
            "client_id": client,
            "private_key_jwt": { "private_key": key, "algorithm": algorithm, "key_id": "key-1" },
        });
        let relay = relay(kind, &sink.url("/app"), auth, r#"["0s"]"#).await;
        let id = push(&relay, n).await;
        relay.drain().await;
        assert_eq!(tokens.refused(), Vec::<String>::new(), "{algorithm}");
        assert_eq!(
            state_of(&relay, &id).await,
            DeliveryState::Succeeded,
            "{algorithm}"
        );
    }
    assert_eq!(tokens.issued(), 3);
}

on_both_backends!(
    a_token_is_fetched_once_per_expiry_for_deliveries_in_flight,
    a_401_gets_one_fresh_token_and_one_more_try,
    a_failing_token_endpoint_is_an_auth_attempt_then_retried,
    private_key_jwt_assertions_verify_with_the_clients_public_key,
    basic_and_bearer_headers_reach_the_receiver,
    mtls_presents_the_client_certificate_to_its_destination,
);

fn request(url: String, auth: serde_json::Value) -> OutboundRequest {
    OutboundRequest {
        url,
        headers: vec![("content-type".into(), "application/json".into())],
        body: b"{}".to_vec().into(),
        timeout: Duration::from_secs(5),
        target: Default::default(),
        auth: Some(RequestAuth {
            destination: app(),
            auth: serde_json::from_value(auth).unwrap(),
        }),
    }
}

/// Many deliveries at once while the token is being fetched: one token
/// request; the others wait for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_deliveries_wait_for_one_token_request() {
    let tokens = TokenServer::start_with(
        ClientCheck::Basic,
        Some(3600),
        Duration::from_millis(300),
        Vec::new(),
    )
    .await;
    let sink = Sink::start().await;
    let sender = HttpSender::new(true).unwrap();
    let request = request(sink.url("/app"), secret_style(&tokens.url, "basic"));
    let results = futures::future::join_all((0..20).map(|_| sender.send(&request))).await;
    for result in results {
        assert_eq!(result.outcome, AttemptOutcome::Response { status: 200 });
    }
    assert_eq!(tokens.requests(), 1);
    assert_eq!(sink.received_count(), 20);

    // A changed auth is another token, never the old one.
    let mut changed = request.clone();
    changed.auth = Some(RequestAuth {
        destination: app(),
        auth: serde_json::from_value(serde_json::json!({
            "kind": "oauth2_client_credentials", "token_url": tokens.url,
            "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "scope": "other",
        }))
        .unwrap(),
    });
    assert_eq!(
        sender.send(&changed).await.outcome,
        AttemptOutcome::Response { status: 200 }
    );
    assert_eq!(tokens.requests(), 2);
    assert_eq!(
        authorizations(&sink, "/app").last().unwrap(),
        "Bearer tok-2"
    );
}

/// Two deliveries refused with the same token: the first to hear its
/// `401` fetches a new one; the second, answered later, uses that one
/// rather than fetching a third.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_for_a_token_already_replaced_fetches_no_other() {
    let tokens = TokenServer::start(ClientCheck::Basic, Some(3600)).await;
    let sink = Sink::start().await;
    sink.script(
        "/app",
        vec![
            Reply::Delayed(Duration::from_secs(1), 401),
            Reply::Status(401),
            Reply::Status(200),
        ],
    );
    let sender = Arc::new(HttpSender::new(true).unwrap());
    let request = request(sink.url("/app"), secret_style(&tokens.url, "basic"));
    let slow = tokio::spawn({
        let (sender, request) = (sender.clone(), request.clone());
        async move { sender.send(&request).await }
    });
    sink.wait_for_requests(1).await;
    let quick = sender.send(&request).await;
    assert_eq!(quick.outcome, AttemptOutcome::Response { status: 200 });
    assert_eq!(tokens.requests(), 2);
    let slow = slow.await.unwrap();
    assert_eq!(slow.outcome, AttemptOutcome::Response { status: 200 });
    assert_eq!(tokens.requests(), 2, "the replacement was used");
    assert_eq!(
        authorizations(&sink, "/app"),
        [
            "Bearer tok-1",
            "Bearer tok-1",
            "Bearer tok-2",
            "Bearer tok-2"
        ]
    );
}

/// The token endpoint follows the private-address rule, as deliveries do.
#[tokio::test]
async fn a_token_endpoint_on_a_private_address_is_refused_by_default() {
    let tokens = TokenServer::start(ClientCheck::Basic, None).await;
    let guarded = HttpSender::new(false).unwrap();
    let result = guarded
        .send(&request(
            "https://hooks.example/app".into(),
            secret_style(&tokens.url, "basic"),
        ))
        .await;
    assert_eq!(
        result.outcome,
        AttemptOutcome::Error {
            error: AttemptErrorKind::Auth
        }
    );
    assert!(
        result.response_body.contains("not allowed"),
        "{}",
        result.response_body
    );
    assert_eq!(tokens.requests(), 0);
}

// ---- basic and bearer ------------------------------------------------------

async fn basic_and_bearer_headers_reach_the_receiver(kind: Kind) {
    let sink = Sink::start().await;
    for (auth, expected) in [
        (
            serde_json::json!({ "kind": "basic", "username": "relay", "password": "pa:ss word" }),
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode("relay:pa:ss word")
            ),
        ),
        (
            serde_json::json!({ "kind": "bearer", "token": "static-token-1" }),
            "Bearer static-token-1".to_string(),
        ),
    ] {
        let relay = relay(kind, &sink.url("/app"), auth, r#"["0s"]"#).await;
        let id = push(&relay, 0).await;
        relay.drain().await;
        assert_eq!(state_of(&relay, &id).await, DeliveryState::Succeeded);
        assert_eq!(authorizations(&sink, "/app").last().unwrap(), &expected);
    }
}

// ---- mTLS -------------------------------------------------------------------

struct Pki {
    ca_pem: String,
    ca_der: rustls::pki_types::CertificateDer<'static>,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

impl Pki {
    fn new(name: &str) -> Pki {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params.self_signed(&key).unwrap();
        Pki {
            ca_pem: cert.pem(),
            ca_der: cert.der().clone(),
            issuer: rcgen::Issuer::new(params, key),
        }
    }

    /// A certificate for `names` and its key, PEM.
    fn issue(&self, names: &[&str], usage: rcgen::ExtendedKeyUsagePurpose) -> (String, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params =
            rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, names[0]);
        params.extended_key_usages = vec![usage];
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

/// An HTTPS sink on 127.0.0.1 that requires a client certificate issued by
/// `clients`' CA, and records, per request, the certificate it was shown.
struct TlsSink {
    url: String,
    seen: Arc<Mutex<Vec<Vec<u8>>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TlsSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TlsSink {
    async fn start(server: &Pki, clients: &Pki) -> TlsSink {
        use rustls::pki_types::pem::PemObject;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let (cert_pem, key_pem) =
            server.issue(&["127.0.0.1"], rcgen::ExtendedKeyUsagePurpose::ServerAuth);
        let mut roots = rustls::RootCertStore::empty();
        roots.add(clients.ca_der.clone()).unwrap();
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            provider.clone(),
        )
        .build()
        .unwrap();
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                vec![
                    rustls::pki_types::CertificateDer::from_pem_slice(cert_pem.as_bytes()).unwrap(),
                ],
                rustls::pki_types::PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap(),
            )
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("https://{}/app", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let recording = seen.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (acceptor, recording) = (acceptor.clone(), recording.clone());
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let client = tls.get_ref().1.peer_certificates().map(|c| c[0].to_vec());
                    let service = hyper::service::service_fn(move |_request| {
                        let (recording, client) = (recording.clone(), client.clone());
                        async move {
                            recording.lock().unwrap().push(client.unwrap_or_default());
                            Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from("ok"))))
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        TlsSink { url, seen, task }
    }

    fn requests(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

fn mtls(certificate: &str, key: &str, ca: &str) -> serde_json::Value {
    serde_json::json!({ "kind": "mtls", "certificate": certificate, "private_key": key, "ca_certificate": ca })
}

/// With its certificate, a delivery goes through a sink that demands one;
/// with a certificate the sink does not trust, or a PEM that does not
/// parse (an `auth` failure saying so), it does not.
async fn mtls_presents_the_client_certificate_to_its_destination(kind: Kind) {
    let servers = Pki::new("server CA");
    let clients = Pki::new("client CA");
    let strangers = Pki::new("someone else's CA");
    let sink = TlsSink::start(&servers, &clients).await;
    let (cert, key) = clients.issue(&["relay"], rcgen::ExtendedKeyUsagePurpose::ClientAuth);

    let relay_ok = relay(
        kind,
        &sink.url,
        mtls(&cert, &key, &servers.ca_pem),
        r#"["0s"]"#,
    )
    .await;
    let id = push(&relay_ok, 0).await;
    relay_ok.drain().await;
    assert_eq!(state_of(&relay_ok, &id).await, DeliveryState::Succeeded);
    use rustls::pki_types::pem::PemObject;
    let presented = rustls::pki_types::CertificateDer::from_pem_slice(cert.as_bytes()).unwrap();
    assert_eq!(sink.seen.lock().unwrap().as_slice(), [presented.to_vec()]);

    let (wrong_cert, wrong_key) =
        strangers.issue(&["relay"], rcgen::ExtendedKeyUsagePurpose::ClientAuth);
    let bad_pem =
        "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";
    for (certificate, key, expect_auth) in [
        (&wrong_cert[..], &wrong_key[..], false),
        (bad_pem, &key[..], true),
    ] {
        let relay = relay(
            kind,
            &sink.url,
            mtls(certificate, key, &servers.ca_pem),
            r#"["0s"]"#,
        )
        .await;
        let id = push(&relay, 1).await;
        relay.drain().await;
        assert_eq!(state_of(&relay, &id).await, DeliveryState::Failed);
        let tried = attempts(&relay, &id).await;
        match (&tried[0].outcome, expect_auth) {
            (
                AttemptOutcome::Error {
                    error: AttemptErrorKind::Auth,
                },
                true,
            ) => {
                assert!(
                    tried[0].response_body.starts_with("auth mtls: "),
                    "{}",
                    tried[0].response_body
                );
                assert!(
                    !tried[0].response_body.contains("BEGIN"),
                    "{}",
                    tried[0].response_body
                );
            }
            (AttemptOutcome::Error { error }, false) => assert_ne!(*error, AttemptErrorKind::Auth),
            (other, _) => panic!("{other:?}"),
        }
    }
    assert_eq!(
        sink.requests(),
        1,
        "only the delivery with the right certificate got in"
    );

    // The sink does demand a certificate: a client that trusts it but
    // presents none is turned away.
    let bare = reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only([reqwest::Certificate::from_pem(servers.ca_pem.as_bytes()).unwrap()])
        .build()
        .unwrap();
    assert!(bare.post(&sink.url).body("{}").send().await.is_err());
    assert_eq!(sink.requests(), 1);
}

/// What is printed of a configuration with every kind of auth holds no
/// credential.
#[test]
fn debug_output_of_every_auth_kind_holds_no_credential() {
    for auth in [
        serde_json::json!({ "kind": "basic", "username": "u", "password": "hunter2" }),
        serde_json::json!({ "kind": "bearer", "token": "hunter2" }),
        secret_style("https://id.example/token", "body"),
        mtls(
            "-----BEGIN CERTIFICATE-----hunter2",
            "-----BEGIN PRIVATE KEY-----hunter2",
            "-----BEGIN CERTIFICATE-----ca",
        ),
    ] {
        let auth: DestinationAuth = serde_json::from_value(auth).unwrap();
        let request = RequestAuth {
            destination: app(),
            auth,
        };
        let shown = format!("{request:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains(CLIENT_SECRET),
            "{shown}"
        );
    }
}
