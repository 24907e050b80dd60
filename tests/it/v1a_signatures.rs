//! Ed25519 signatures (Standard Webhooks `v1a`) and the published keys,
//! end to end: `hookrelay dev` delivers to a consumer written in Python that
//! fetches the destination's keys from the relay's well-known path and
//! verifies each delivery; the same deliveries are checked again in
//! Node.js. No released official library verifies `v1a` (PyPI and npm
//! `standardwebhooks` 1.3.0, `svix`), so `v1a` is checked with two
//! independent Ed25519 implementations (Python's `cryptography`, Node's
//! crypto), and the official libraries check the `v1` signature carried in
//! the same header.
use async_trait::async_trait;
use hookrelay_core::{
    http_api, CachedConfigStore, Clock, ConfigStore, CoreError, Ingest, IngestSettings,
};
use hookrelay_embedded::{MemoryQueue, MemoryStore};
use hookrelay_models::{Config, DestinationId, Source, SourceId, Timestamp};
use hookrelay_signing::{Ed25519SigningKey, WebhookPublicKey};
use hookrelay_tests::consumer::{node_verdicts, Consumer};
use hookrelay_tests::{config_from, github_push_headers, ManualClock, RunningDev};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const GITHUB_SECRET: &str = "It's a Secret to Everybody";
const WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn public_of(whsk: &str) -> WebhookPublicKey {
    *Ed25519SigningKey::parse(whsk).unwrap().public_key()
}

fn dev_config(destinations: &str, consumer: &Consumer) -> String {
    format!(
        "allow_private_destinations = true\n\
         [[sources]]\nid = \"github\"\nscheme = \"github\"\nsecrets = [{GITHUB_SECRET:?}]\n\
         {destinations}\n\
         [[routes]]\nsource = \"github\"\ndestination = \"consumer\"\n",
    )
    .replace("CONSUMER_URL", &consumer.url())
}

async fn send_push(dev: &RunningDev, delivery: &str) {
    let body = format!(r#"{{"ref":"refs/heads/main","delivery":"{delivery}"}}"#);
    let mut request = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{}/hooks/github", dev.port))
        .header("Content-Type", "application/json")
        .body(body.clone());
    for (name, value) in github_push_headers(GITHUB_SECRET, body.as_bytes(), delivery) {
        request = request.header(name, value);
    }
    assert_eq!(request.send().await.unwrap().status(), 202);
}

async fn get(url: &str) -> reqwest::Response {
    reqwest::Client::new().get(url).send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_libraries_and_independent_ed25519_verify_deliveries_signed_both_ways() {
    let whsk = Ed25519SigningKey::generate();
    let kid = public_of(&whsk).kid();
    let consumer = Consumer::start("v1a-both", Some(WHSEC));
    let dev = RunningDev::start(
        "v1a-both",
        &dev_config(
            &format!(
                "[[destinations]]\nid = \"consumer\"\nurl = \"CONSUMER_URL\"\n\
                 secret = {WHSEC:?}\nsecond_secret = {whsk:?}\n"
            ),
            &consumer,
        ),
    )
    .await;
    let keys_url = format!(
        "http://127.0.0.1:{}/.well-known/webhook-keys/consumer",
        dev.port
    );
    let loaded = consumer.fetch_keys(&keys_url).await;
    assert_eq!(loaded["kids"], serde_json::json!([kid]));
    assert_eq!(loaded["cache_control"], "public, max-age=300");

    send_push(&dev, "d-1").await;
    let records = consumer.wait_for(1).await;
    let delivered = &records[0];
    assert_eq!(delivered["versions"], serde_json::json!(["v1", "v1a"]));
    assert_eq!(
        delivered["v1a_kids"],
        serde_json::json!([kid]),
        "{delivered}"
    );
    assert_eq!(delivered["standardwebhooks"], true, "{delivered}");
    assert_eq!(delivered["svix"], true, "{delivered}");
    assert_eq!(delivered["ok"], true);

    // The checks can fail: one byte of the body changed, and neither
    // signature holds.
    let status = consumer.replay(delivered, |body| body[2] ^= 1).await;
    assert_eq!(status, 400);
    let records = consumer.wait_for(2).await;
    assert_eq!(records[1]["v1a_kids"], serde_json::json!([]));
    assert_eq!(records[1]["standardwebhooks"], false);
    assert_eq!(records[1]["svix"], false);

    // Node.js: npm's official libraries on v1, Node's crypto on v1a with
    // the JWKS as published.
    let jwks: serde_json::Value =
        serde_json::from_str(&get(&keys_url).await.text().await.unwrap()).unwrap();
    let verdicts = node_verdicts(&records, &jwks, Some(WHSEC));
    assert_eq!(verdicts[0]["v1a_kids"], serde_json::json!([kid]));
    assert_eq!(verdicts[0]["standardwebhooks"], true);
    assert_eq!(verdicts[0]["svix"], true);
    assert_eq!(verdicts[1]["v1a_kids"], serde_json::json!([]));
    assert_eq!(verdicts[1]["standardwebhooks"], false);
    assert_eq!(verdicts[1]["svix"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_verifies_with_either_published_key_during_a_rotation_overlap() {
    let (old, new) = (Ed25519SigningKey::generate(), Ed25519SigningKey::generate());
    let (old_kid, new_kid) = (public_of(&old).kid(), public_of(&new).kid());
    let until = Timestamp::now().saturating_add(Duration::from_secs(3600));
    let consumer = Consumer::start("v1a-rotation", None);
    let dev = RunningDev::start(
        "v1a-rotation",
        &dev_config(
            &format!(
                "[[destinations]]\nid = \"consumer\"\nurl = \"CONSUMER_URL\"\nsecret = {new:?}\n\
                 retiring_secrets = [{{ secret = {old:?}, expires_at = {} }}]\n\
                 [[destinations]]\nid = \"plain\"\nurl = \"CONSUMER_URL\"\nsecret = {WHSEC:?}\n",
                until.unix_millis()
            ),
            &consumer,
        ),
    )
    .await;
    let base = format!("http://127.0.0.1:{}/.well-known/webhook-keys", dev.port);

    // What is published: both keys, the retiring one with its expiry, and
    // nothing of the secrets.
    let response = get(&format!("{base}/consumer")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["cache-control"].to_str().unwrap(),
        "public, max-age=300"
    );
    let text = response.text().await.unwrap();
    for secret in [&old, &new] {
        let seed = &secret["whsk_".len()..][..20];
        assert!(!text.contains(seed), "a secret key is published: {text}");
    }
    assert!(
        !text.contains("whsk_") && !text.contains("127.0.0.1"),
        "{text}"
    );
    let jwks: serde_json::Value = serde_json::from_str(&text).unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0]["kid"], new_kid.as_str());
    assert_eq!(keys[0]["status"], "current");
    assert_eq!(keys[0]["whpk"], public_of(&new).encode().as_str());
    assert!(keys[0].get("expires_at").is_none());
    assert_eq!(keys[1]["kid"], old_kid.as_str());
    assert_eq!(keys[1]["status"], "retiring");
    assert_eq!(keys[1]["expires_at"], until.to_string().as_str());
    for key in keys {
        assert_eq!(
            (key["kty"].as_str(), key["crv"].as_str()),
            (Some("OKP"), Some("Ed25519"))
        );
    }
    // An HMAC-only destination and an unknown one look the same: 404.
    for missing in ["plain", "nobody", "..%2Fhooks"] {
        assert_eq!(
            get(&format!("{base}/{missing}")).await.status(),
            404,
            "{missing}"
        );
    }

    // The consumer loads both and verifies a delivery: each key verifies
    // its own signature in the header.
    let loaded = consumer.fetch_keys(&format!("{base}/consumer")).await;
    assert_eq!(loaded["kids"], serde_json::json!([new_kid, old_kid]));
    send_push(&dev, "d-2").await;
    let records = consumer.wait_for(1).await;
    assert_eq!(records[0]["ok"], true, "{}", records[0]);
    assert_eq!(records[0]["versions"], serde_json::json!(["v1a"]));
    assert_eq!(
        records[0]["v1a_kids"],
        serde_json::json!([new_kid, old_kid])
    );

    // Either key alone: a consumer that still has only the old one, and a
    // consumer that has only the new one.
    for (only, kid) in [(&keys[1], &old_kid), (&keys[0], &new_kid)] {
        let one = serde_json::json!({ "keys": [only] });
        let verdicts = node_verdicts(&records, &one, None);
        assert_eq!(verdicts[0]["v1a_kids"], serde_json::json!([kid]));
    }
    // And a key that is not the destination's verifies nothing.
    let stranger = Ed25519SigningKey::generate();
    let other = serde_json::json!({ "keys": [{
        "kty": "OKP", "crv": "Ed25519", "kid": "stranger", "x": public_of(&stranger).jwk_x()
    }] });
    assert_eq!(
        node_verdicts(&records, &other, None)[0]["v1a_kids"],
        serde_json::json!([])
    );
}

/// The inner store under the receiver's cache, counting whole-config reads
/// (on DynamoDB, a Query each).
struct CountingConfig {
    inner: Arc<MemoryStore>,
    reads: AtomicUsize,
}

#[async_trait]
impl ConfigStore for CountingConfig {
    async fn source(&self, id: &SourceId) -> Result<Option<Source>, CoreError> {
        self.inner.source(id).await
    }
    async fn config(&self) -> Result<Config, CoreError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.inner.config().await
    }
    async fn set_destination_enabled(
        &self,
        id: &DestinationId,
        enabled: bool,
        reason: Option<String>,
    ) -> Result<(), CoreError> {
        self.inner
            .set_destination_enabled(id, enabled, reason)
            .await
    }
}

#[tokio::test]
async fn published_keys_are_read_through_the_receivers_config_cache() {
    let (current, retiring) = (Ed25519SigningKey::generate(), Ed25519SigningKey::generate());
    let config = config_from(&format!(
        "[[destinations]]\nid = \"orders\"\nurl = \"https://orders.example.com/hook\"\n\
         secret = {WHSEC:?}\nsecond_secret = {current:?}\n\
         retiring_secrets = [{{ secret = {retiring:?}, expires_at = 1000000 }}]\n"
    ));
    let clock = Arc::new(ManualClock::at_unix_secs(900));
    let clock_port: Arc<dyn Clock> = clock.clone();
    let store = Arc::new(MemoryStore::new(config));
    let counting = Arc::new(CountingConfig {
        inner: store.clone(),
        reads: AtomicUsize::new(0),
    });
    let cached = Arc::new(CachedConfigStore::new(
        counting.clone(),
        clock_port.clone(),
        Duration::from_secs(30),
    ));
    let ingest = Ingest::new(
        cached,
        store.clone(),
        Arc::new(MemoryQueue::new(clock_port.clone())),
        clock_port,
        IngestSettings::default(),
    );
    let keys = |method: http::Method, path: &'static str| {
        let ingest = &ingest;
        async move { http_api::handle(ingest, &method, path, &http::HeaderMap::new(), b"", None).await }
    };
    let path = "/.well-known/webhook-keys/orders";
    for _ in 0..20 {
        assert_eq!(keys(http::Method::GET, path).await.status(), 200);
    }
    assert_eq!(
        counting.reads.load(Ordering::SeqCst),
        1,
        "one read for 20 requests"
    );
    assert_eq!(keys(http::Method::HEAD, path).await.status(), 200);
    let refused = keys(http::Method::POST, path).await;
    assert_eq!(refused.status(), 405);
    assert_eq!(refused.headers()["allow"], "GET");
    // Under a stage prefix, as an API Gateway REST API passes it.
    assert_eq!(
        keys(http::Method::GET, "/prod/.well-known/webhook-keys/orders")
            .await
            .status(),
        200
    );

    let listed = |response: http::Response<Vec<u8>>| -> Vec<String> {
        let document: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
        document["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["whpk"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        listed(keys(http::Method::GET, path).await),
        [public_of(&current).encode(), public_of(&retiring).encode()]
    );
    // Past the retiring key's expiry (and the cache's lifetime): the
    // current key only, after one more read.
    clock.set_unix_secs(1_000);
    assert_eq!(
        listed(keys(http::Method::GET, path).await),
        [public_of(&current).encode()]
    );
    assert_eq!(counting.reads.load(Ordering::SeqCst), 2);
}
