//! The dispatcher's memory with large bodies (issue 25, defect 8): a
//! batch of ten events with bodies of the largest size a source accepts
//! (5 MiB), each routed to three destinations, goes out within the memory
//! a 128 MB function has for its heap. The heap is counted by this test
//! binary's allocator (a binary of its own, so no other test's allocations
//! are counted), from just before the batch is handled until every
//! delivery has arrived.
//!
//! On the stack as deployed (DynamoDB, S3, SQS, all on moto): each body is
//! read from S3. The destinations are servers in this process that hash
//! what they receive as it arrives and keep nothing, so what is counted is
//! the dispatcher's.
use hookrelay_models::BODY_LIMIT_CEILING;
use hookrelay_tests::relay::Relay;
use hookrelay_tests::{config_from, ManualClock};
use peak_alloc::PeakAlloc;
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[global_allocator]
static HEAP: PeakAlloc = PeakAlloc;

const MIB: usize = 1 << 20;
const EVENTS: usize = 10;
const DESTINATIONS: usize = 3;
/// What the heap may grow by while the batch is handled: half of a 128 MB
/// function, the other half left for the runtime, the code, the stacks
/// and what the heap held before the batch.
const HEAP_GROWTH_LIMIT: usize = 64 * MIB;
const SECRET: &str = "It's a Secret to Everybody";

/// A destination that answers 200 to every request and keeps, per
/// request, only the SHA-256 of its body.
struct Discard {
    port: u16,
    bodies: Arc<Mutex<Vec<String>>>,
}

impl Discard {
    async fn start() -> Discard {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let seen = bodies.clone();
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                tokio::spawn(serve(stream, seen.clone()));
            }
        });
        Discard { port, bodies }
    }
}

/// Requests on one connection, one after another (keep-alive).
async fn serve(mut stream: TcpStream, bodies: Arc<Mutex<Vec<String>>>) {
    let mut buffer = vec![0u8; 64 * 1024];
    let mut held = 0;
    loop {
        // The head, up to its blank line.
        let head_end = loop {
            if let Some(end) = buffer[..held].windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            match stream.read(&mut buffer[held..]).await {
                Ok(0) | Err(_) => return,
                Ok(n) => held += n,
            }
        };
        let head = String::from_utf8_lossy(&buffer[..head_end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))
            .map(|v| v.trim().parse().unwrap())
            .expect("a body of known length");
        let mut hasher = Sha256::new();
        let in_hand = (held - head_end).min(length);
        hasher.update(&buffer[head_end..head_end + in_hand]);
        let mut left = length - in_hand;
        // Whatever followed this body in the buffer (nothing, unless the
        // client pipelined) moves to its start.
        buffer.copy_within(head_end + in_hand..held, 0);
        held -= head_end + in_hand;
        while left > 0 {
            let want = left.min(buffer.len() - held);
            let n = stream.read(&mut buffer[held..held + want]).await.unwrap();
            assert!(n > 0, "the body was cut short");
            hasher.update(&buffer[held..held + n]);
            left -= n;
        }
        bodies.lock().unwrap().push(hex::encode(hasher.finalize()));
        stream
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
            .await
            .unwrap();
    }
}

/// `size` bytes that differ from event to event (so S3 keeps one object
/// each: bodies are stored by their content).
fn body(n: usize, size: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64 ^ (n as u64 + 1);
    let mut body = Vec::with_capacity(size);
    body.extend_from_slice(format!("{{\"n\":{n},\"pad\":\"").as_bytes());
    while body.len() < size - 2 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        body.push(b'a' + (state % 26) as u8);
    }
    body.extend_from_slice(b"\"}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_ten_5_mib_events_to_three_destinations_fits_a_128_mb_dispatcher() {
    let mut destinations = Vec::new();
    for _ in 0..DESTINATIONS {
        destinations.push(Discard::start().await);
    }
    let mut toml = format!(
        "allow_private_destinations = true\n[[sources]]\nid = \"github\"\nscheme = \"github\"\nsecrets = [{SECRET:?}]\n"
    );
    for (i, destination) in destinations.iter().enumerate() {
        toml += &format!(
            "[[destinations]]\nid = \"app{i}\"\nurl = \"http://127.0.0.1:{}/hook\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\ntimeout = \"60s\"\n\
             [[routes]]\nsource = \"github\"\ndestination = \"app{i}\"\n",
            destination.port
        );
    }
    let relay = Relay::aws(config_from(&toml), Arc::new(ManualClock::at_system_time())).await;

    let mut digests = Vec::new();
    for n in 0..EVENTS {
        let body = body(n, BODY_LIMIT_CEILING);
        digests.push(hex::encode(Sha256::digest(&body)));
        relay
            .accept_github(
                "github",
                SECRET,
                &body,
                &[
                    ("X-GitHub-Event", "push"),
                    ("X-GitHub-Delivery", &format!("large-{n}")),
                ],
            )
            .await;
    }
    let mut batch = Vec::new();
    while batch.len() < EVENTS {
        batch.extend(relay.receive_batch().await);
    }
    assert_eq!(batch.len(), EVENTS, "one invocation's batch");

    let before = HEAP.current_usage();
    HEAP.reset_peak_usage();
    relay.run_batch(batch).await;
    // A message that found no room for its body in time went back to the
    // queue for a moment: it belongs to the same work.
    let deadline = Instant::now() + Duration::from_secs(120);
    while destinations
        .iter()
        .any(|d| d.bodies.lock().unwrap().len() < EVENTS)
    {
        assert!(Instant::now() < deadline, "deliveries did not all arrive");
        let more = relay.receive_batch().await;
        if more.is_empty() {
            tokio::time::sleep(Duration::from_millis(200)).await;
        } else {
            relay.run_batch(more).await;
        }
    }
    let growth = HEAP.peak_usage().saturating_sub(before);

    for destination in &destinations {
        let mut got = destination.bodies.lock().unwrap().clone();
        got.sort();
        let mut want = digests.clone();
        want.sort();
        assert_eq!(got, want, "every body, byte for byte, once");
    }
    println!(
        "peak heap growth for {EVENTS} events of {} MiB to {DESTINATIONS} destinations: {:.1} MiB",
        BODY_LIMIT_CEILING / MIB,
        growth as f64 / MIB as f64
    );
    assert!(
        growth <= HEAP_GROWTH_LIMIT,
        "the heap grew by {:.1} MiB, past {} MiB",
        growth as f64 / MIB as f64,
        HEAP_GROWTH_LIMIT / MIB
    );
}
