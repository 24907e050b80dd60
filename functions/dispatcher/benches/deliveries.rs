//! Dispatcher throughput and added latency against a local sink, next to a
//! baseline of plain HTTP POSTs to the same sink from the same process.
//!
//!   cargo bench -p hookrelay-dispatcher --bench deliveries
//!
//! Each delivery is one queue message handled by the real dispatch use case
//! on the embedded adapters: load event and config, claim, sign, POST,
//! record the attempt. The baseline is the POST alone (same client stack,
//! same body), so the ratio is hookrelay's overhead.
use hookrelay_core::{Clock, Dispatch, DispatchSettings, EventStore, QueueMessage, SystemClock};
use hookrelay_embedded::{MemoryQueue, MemoryStore};
use hookrelay_http::HttpSender;
use hookrelay_models::{Config, Event, EventId, SourceId, Timestamp};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const DELIVERIES: usize = 4000;
const CONCURRENCY: usize = 16;

/// A keep-alive HTTP/1.1 sink that answers every request 204.
async fn start_sink() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let mut buffer = Vec::with_capacity(8192);
                let mut chunk = [0u8; 8192];
                loop {
                    let head_end = loop {
                        if let Some(p) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                            break p + 4;
                        }
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&buffer[..head_end]).to_ascii_lowercase();
                    let length: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    while buffer.len() < head_end + length {
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                        }
                    }
                    buffer.drain(..head_end + length);
                    if stream
                        .write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    port
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

struct Run {
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

async fn measure<F, Fut>(count: usize, job: F) -> Run
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let job = Arc::new(job);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..CONCURRENCY {
        let job = job.clone();
        let next = next.clone();
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if i >= count {
                    return latencies;
                }
                let t = Instant::now();
                job(i).await;
                latencies.push(t.elapsed());
            }
        }));
    }
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await.unwrap());
    }
    let elapsed = started.elapsed();
    latencies.sort();
    Run {
        per_second: count as f64 / elapsed.as_secs_f64(),
        p50: percentile(&latencies, 0.5),
        p99: percentile(&latencies, 0.99),
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let port = start_sink().await;
        let url = format!("http://127.0.0.1:{port}/hook");
        let body = vec![b'x'; 2048];

        // Baseline: the same POST with the same client stack, nothing else.
        let client = Arc::new(HttpSender::new(true).unwrap());
        let baseline = {
            let (client, url, body) = (client.clone(), url.clone(), body.clone());
            measure(DELIVERIES, move |_| {
                let (client, url, body) = (client.clone(), url.clone(), body.clone());
                async move {
                    use hookrelay_core::Sender;
                    let request = hookrelay_core::OutboundRequest {
                        url,
                        headers: vec![("content-type".into(), "application/json".into())],
                        body: body.into(),
                        timeout: Duration::from_secs(5),
                        target: Default::default(),
                        auth: None,
                    };
                    let result = client.send(&request).await;
                    assert!(result.outcome.is_success());
                }
            })
            .await
        };

        let config = Config::from_toml(
            &format!(
                "allow_private_destinations = true\n[[sources]]\nid = \"gh\"\nscheme = \"github\"\nsecrets = [\"s\"]\n\
                 [[destinations]]\nid = \"sink\"\nurl = \"{url}\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n\
                 [[routes]]\nsource = \"gh\"\ndestination = \"sink\"\n"
            ),
            "bench.toml",
        )
        .unwrap();
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let store = Arc::new(MemoryStore::new(config));
        let queue = Arc::new(MemoryQueue::new(clock.clone()));
        let dispatch = Arc::new(Dispatch::new(
            hookrelay_core::Stores::all_in(store.clone()),
            queue,
            client,
            clock,
            DispatchSettings::default(),
        ));
        let mut ids = Vec::with_capacity(DELIVERIES);
        for _ in 0..DELIVERIES {
            let now = Timestamp::now();
            let event = Event {
                id: EventId::new(now),
                source: SourceId::parse("gh").unwrap(),
                event_type: Some("push".into()),
                provider_delivery_id: None,
                received_at: now,
                headers: vec![("content-type".into(), "application/json".into())],
                body: body.clone().into(),
            };
            store.put_event(&event, now).await.unwrap();
            ids.push(event.id);
        }
        let ids = Arc::new(ids);
        let relay = measure(DELIVERIES, move |i| {
            let (dispatch, ids) = (dispatch.clone(), ids.clone());
            async move {
                let results = dispatch
                    .handle_message(&QueueMessage::fan_out(ids[i].clone()))
                    .await
                    .unwrap();
                assert!(matches!(
                    results[0].report,
                    hookrelay_core::DeliveryReport::Succeeded { .. }
                ));
            }
        })
        .await;

        println!("deliveries: {DELIVERIES}, concurrency: {CONCURRENCY}, body: 2 KiB, sink on 127.0.0.1 (keep-alive, 204)");
        println!("{:<30} {:>12} {:>10} {:>10}", "", "per second", "p50", "p99");
        for (name, run) in [("baseline: plain POST", &baseline), ("hookrelay dispatch", &relay)] {
            println!(
                "{name:<30} {:>12.0} {:>8.0}µs {:>8.0}µs",
                run.per_second,
                run.p50.as_secs_f64() * 1e6,
                run.p99.as_secs_f64() * 1e6
            );
        }
        println!(
            "ratio (dispatch / baseline throughput): {:.2}; added latency p50 {:.0}µs, p99 {:.0}µs",
            relay.per_second / baseline.per_second,
            (relay.p50.as_secs_f64() - baseline.p50.as_secs_f64()) * 1e6,
            (relay.p99.as_secs_f64() - baseline.p99.as_secs_f64()) * 1e6,
        );
    });
}
