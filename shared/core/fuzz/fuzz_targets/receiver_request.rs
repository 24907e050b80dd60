//! The receiver's whole request path — routing, header handling, every
//! scheme's verification, extraction, handshakes, dedupe, store, enqueue —
//! on arbitrary input. Input layout: first byte picks the method, then text
//! up to the first NUL is the path, then `name: value` header lines up to
//! the next NUL, then the body. The handler must answer; a 5xx other than
//! 503 would make providers retry a request that can never succeed.
#![no_main]
use hookrelay_core::{
    http_api, Clock, CoreError, Fetcher, Ingest, IngestSettings, Sns, SnsHosts, SystemClock,
};
use hookrelay_embedded::{MemoryQueue, MemoryStore};
use hookrelay_models::Config;
use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, OnceLock};

const CONFIG: &str = r#"
[[sources]]
id = "sns"
scheme = "sns"
secrets = ["arn:aws:sns:us-east-1:123456789012:orders"]
auto_confirm = true

[[sources]]
id = "github"
scheme = "github"
secrets = ["s"]
[[sources]]
id = "stripe"
scheme = "stripe"
secrets = ["whsec_s"]
[[sources]]
id = "standard"
scheme = "standard"
secrets = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]
[[sources]]
id = "slack"
scheme = "slack"
secrets = ["s"]
[[sources]]
id = "zoom"
scheme = "zoom"
secrets = ["s"]
[[sources]]
id = "twitch"
scheme = "twitch"
secrets = ["s"]
[[sources]]
id = "linear"
scheme = "linear"
secrets = ["s"]
[[sources]]
id = "twilio"
scheme = "twilio"
secrets = ["s"]
[[sources]]
id = "generic"
scheme = "hmac"
secrets = ["s"]
event_type = "json:/a/b"
delivery_id = "header:x-id"
hmac = { header = "x-sig", template = "{timestamp}.{body}", timestamp_header = "x-ts" }
"#;

/// Stands in for SNS's hosts, which a fuzzer must not call: every URL that
/// passes the host rule gets the samples' certificate.
struct SnsStandIn;

#[async_trait::async_trait]
impl Fetcher for SnsStandIn {
    async fn get(&self, _url: &str, _limit: usize) -> Result<Vec<u8>, CoreError> {
        Ok(include_bytes!("../../../../events/providers/sns-signing-cert.pem").to_vec())
    }
}

struct World {
    runtime: tokio::runtime::Runtime,
    ingest: Ingest,
    store: Arc<MemoryStore>,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let config = Config::from_toml(CONFIG, "fuzz.toml").unwrap();
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let store = Arc::new(MemoryStore::new(config));
        let queue = Arc::new(MemoryQueue::new(clock.clone()));
        let ingest = Ingest::new(store.clone(), store.clone(), queue, clock, IngestSettings::default())
            .with_sns(Sns::new(SnsHosts::aws(), Arc::new(SnsStandIn)));
        World {
            runtime: tokio::runtime::Builder::new_current_thread().build().unwrap(),
            ingest,
            store,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let method = [http::Method::POST, http::Method::GET, http::Method::PUT][selector as usize % 3].clone();
    let mut parts = rest.splitn(3, |b| *b == 0);
    let path = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let head = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let body = parts.next().unwrap_or_default();
    let mut headers = http::HeaderMap::new();
    for line in head.lines() {
        if let Some((name, value)) = line.split_once(':') {
            if let (Ok(name), Ok(value)) = (
                http::HeaderName::from_bytes(name.trim().as_bytes()),
                http::HeaderValue::from_str(value.trim()),
            ) {
                headers.append(name, value);
            }
        }
    }
    let world = world();
    let response = world.runtime.block_on(http_api::handle(
        &world.ingest,
        &method,
        &path,
        &headers,
        body,
        Some("https://relay.example/hooks/twilio"),
    ));
    let status = response.status().as_u16();
    assert!(status < 500 || status == 503, "{status} for {path:?}");
    if world.store.event_count() > 10_000 {
        world.store.clear_events();
    }
});
