//! End-to-end figures, each next to a baseline measured in the same run:
//!
//! - latency from POST to delivery through `hookrelay dev` (p50/p99),
//!   against a plain POST straight to the same sink;
//! - Lambda cold start: process start to first event answered, for the
//!   receiver and dispatcher binaries under the Runtime API emulator,
//!   with their tables on moto (init writes one item), against starting
//!   `/bin/true`.
//!
//!   cargo bench -p hookrelay-tests --bench end_to_end
use hookrelay_signing::{sign_as_provider, ProviderMessage, Scheme, SchemeKind, Secret};
use hookrelay_tests::lambda_runtime::{lambda_binary, start_function, RuntimeApi};
use hookrelay_tests::moto::{self, Provisioned};
use hookrelay_tests::sink::Sink;
use std::time::{Duration, Instant};

/// Header name and value pairs, as a provider signs them.
type Headers = Vec<(String, String)>;
const EVENTS: usize = 500;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

async fn dev_latency() -> (Vec<Duration>, Vec<Duration>) {
    let sink = Sink::start().await;
    let dir = std::env::temp_dir().join(format!("hookrelay-e2e-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("hookrelay.toml");
    std::fs::write(
        &config,
        format!(
            "allow_private_destinations = true\n[[sources]]\nid = \"github\"\nscheme = \"github\"\nsecrets = [\"s\"]\n\
             [[destinations]]\nid = \"d\"\nurl = \"{}\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n\
             [[routes]]\nsource = \"github\"\ndestination = \"d\"\n",
            sink.url("/hook")
        ),
    )
    .unwrap();
    let (mut dev, port) = hookrelay_tests::spawn_dev(&config);
    let client = reqwest::Client::new();
    while client
        .get(format!("http://127.0.0.1:{port}/health"))
        .send()
        .await
        .is_err()
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // 2 KiB bodies, each different: GitHub signs no timestamp, so the same
    // bytes twice would be a replay (a duplicate, not delivered). Signed
    // before the clock starts.
    let signed: Vec<(Vec<u8>, Headers)> = (0..EVENTS)
        .map(|i| {
            let mut body = format!("{i:08}").into_bytes();
            body.resize(2048, b'x');
            let message = ProviderMessage {
                body: &body,
                timestamp: 0,
                id: "",
                url: None,
            };
            let signature = sign_as_provider(
                &Scheme::Named(SchemeKind::Github),
                &Secret::new("s"),
                &message,
            )
            .unwrap();
            (body, signature)
        })
        .collect();
    let body = vec![b'x'; 2048];

    let mut through_relay = Vec::with_capacity(EVENTS);
    for (i, (signed_body, signature)) in signed.iter().enumerate() {
        let started = Instant::now();
        let mut request = client
            .post(format!("http://127.0.0.1:{port}/hooks/github"))
            .header("x-github-event", "push")
            .header("x-github-delivery", format!("bench-{i}"))
            .body(signed_body.clone());
        for (name, value) in signature {
            request = request.header(name.as_str(), value.as_str());
        }
        assert!(request.send().await.unwrap().status().is_success());
        sink.wait_for_requests(i + 1).await;
        through_relay.push(started.elapsed());
    }
    let _ = dev.kill();
    let _ = dev.wait();

    let direct_sink = Sink::start().await;
    let mut direct = Vec::with_capacity(EVENTS);
    for i in 0..EVENTS {
        let started = Instant::now();
        let response = client
            .post(direct_sink.url("/hook"))
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
        direct_sink.wait_for_requests(i + 1).await;
        direct.push(started.elapsed());
    }
    through_relay.sort();
    direct.sort();
    (through_relay, direct)
}

async fn cold_start(package: &str, binary: &str, event: serde_json::Value) -> Duration {
    let path = lambda_binary(package, binary);
    let api = RuntimeApi::start().await;
    // Tables and a queue on moto (loopback): a function's init records the
    // index shard count in the config table (one UpdateItem, as on AWS),
    // and with no endpoint answering, the SDK's retries would be timed
    // instead (1 to 2 s). The first event itself (a health check, an
    // empty batch) needs no AWS call.
    let stack = Provisioned::on_shared().await;
    let env = stack.environment(&moto::shared().endpoint);
    let started = Instant::now();
    let _function = start_function(&path, binary, &api, &env);
    api.invoke(&event, Duration::from_secs(30))
        .await
        .expect("first event answered");
    started.elapsed()
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (relay, direct) = dev_latency().await;
        println!("end to end, {EVENTS} sequential 2 KiB GitHub pushes, sink on 127.0.0.1:");
        println!("  {:<40} {:>9} {:>9}", "", "p50", "p99");
        for (name, sorted) in [("baseline: POST straight to the sink", &direct), ("POST to hookrelay dev -> delivered", &relay)] {
            println!("  {name:<40} {:>7.0}µs {:>7.0}µs", micros(percentile(sorted, 0.5)), micros(percentile(sorted, 0.99)));
        }
        println!(
            "  relay / baseline: p50 {:.1}x, p99 {:.1}x",
            micros(percentile(&relay, 0.5)) / micros(percentile(&direct, 0.5)),
            micros(percentile(&relay, 0.99)) / micros(percentile(&direct, 0.99))
        );

        let health = serde_json::json!({
            "version": "2.0", "routeKey": "$default", "rawPath": "/health", "rawQueryString": "",
            "headers": {}, "isBase64Encoded": false,
            "requestContext": { "accountId": "1", "apiId": "a", "domainName": "a.example", "domainPrefix": "a",
                "http": { "method": "GET", "path": "/health", "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "x" },
                "requestId": "r", "routeKey": "$default", "stage": "$default", "time": "x", "timeEpoch": 0 }
        });
        let mut spawn_true = Vec::new();
        for _ in 0..5 {
            let started = Instant::now();
            std::process::Command::new("true").status().unwrap();
            spawn_true.push(started.elapsed());
        }
        spawn_true.sort();
        let baseline = percentile(&spawn_true, 0.5);
        println!("cold start (process start to first event answered, Runtime API emulator):");
        println!("  {:<40} {:>8.1}ms", "baseline: start /bin/true", baseline.as_secs_f64() * 1e3);
        for (package, binary, event) in [
            ("hookrelay-receiver", "receiver", health),
            ("hookrelay-dispatcher", "dispatcher", serde_json::json!({ "Records": [] })),
        ] {
            let took = cold_start(package, binary, event).await;
            println!(
                "  {binary:<40} {:>8.1}ms  ({:.0}x baseline)",
                took.as_secs_f64() * 1e3,
                took.as_secs_f64() / baseline.as_secs_f64()
            );
        }
    });
}
