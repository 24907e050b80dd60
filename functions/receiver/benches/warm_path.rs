//! The receiver's warm path: one 2 KiB GitHub push through the real
//! handler on the embedded adapters (verify, extract, dedupe, store,
//! enqueue, answer). Per-request time on one thread is its CPU time.
//!
//!   cargo bench -p hookrelay-receiver --bench warm_path
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use hookrelay_core::{Clock, Ingest, IngestSettings, SystemClock};
use hookrelay_embedded::{MemoryQueue, MemoryStore};
use hookrelay_models::Config;
use hookrelay_signing::{sign_as_provider, ProviderMessage, Scheme, SchemeKind, Secret};
use lambda_http::{Body, Request};
use std::sync::Arc;

const SECRET: &str = "It's a Secret to Everybody";

fn push_body() -> Vec<u8> {
    let mut body =
        br#"{"ref":"refs/heads/main","repository":{"full_name":"octocat/Hello-World"},"commits":["#
            .to_vec();
    while body.len() < 2000 {
        body.extend_from_slice(
            br#"{"id":"0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c","message":"Update README.md"},"#,
        );
    }
    body.extend_from_slice(br#"{"id":"end"}]}"#);
    body
}

fn bench_warm_path(c: &mut Criterion) {
    let config = Config::from_toml(
        &format!("[[sources]]\nid = \"github\"\nscheme = \"github\"\nsecrets = [{SECRET:?}]\n"),
        "bench.toml",
    )
    .unwrap();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = Arc::new(MemoryStore::new(config));
    let queue = Arc::new(MemoryQueue::new(clock.clone()));
    let ingest = Ingest::new(
        store.clone(),
        store.clone(),
        queue.clone(),
        clock,
        IngestSettings::default(),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();

    let template = push_body();
    let mut delivery = 0u64;

    let mut group = c.benchmark_group("receiver");
    group.throughput(Throughput::Elements(1));
    group.bench_function("github_push_2KiB_embedded", |b| {
        b.iter_batched(
            || {
                // Outside the timing: keep the store small, build and sign
                // a request whose body names a fresh delivery, so it is
                // never a duplicate (GitHub signs no timestamp: the same
                // bytes again would be a replay).
                if delivery % 1024 == 0 {
                    store.clear_events();
                    queue.take_ready(usize::MAX);
                }
                delivery += 1;
                let mut body = format!("{{\"delivery\":{delivery},").into_bytes();
                body.extend_from_slice(&template[1..]);
                let message = ProviderMessage {
                    body: &body,
                    timestamp: 0,
                    id: "",
                    url: None,
                };
                let signature = sign_as_provider(
                    &Scheme::Named(SchemeKind::Github),
                    &Secret::new(SECRET),
                    &message,
                )
                .unwrap();
                let mut builder = http::Request::builder()
                    .method("POST")
                    .uri("https://example.execute-api.us-east-1.amazonaws.com/hooks/github")
                    .header("content-type", "application/json")
                    .header("x-github-event", "push")
                    .header("x-github-delivery", format!("delivery-{delivery}"));
                for (name, value) in &signature {
                    builder = builder.header(name.as_str(), value.as_str());
                }
                let request: Request = builder.body(Body::from(body)).unwrap();
                request
            },
            |request| {
                let response = runtime.block_on(hookrelay_receiver::handle(&ingest, request));
                assert_eq!(response.status(), 202);
                response
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench_warm_path);
criterion_main!(benches);
