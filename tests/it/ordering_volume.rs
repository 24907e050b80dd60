//! Ordered delivery at volume, on the real `hookrelay dev` binary (issue
//! 29's two larger tests): 10 000 events over 100 keys through random
//! failures, and one key failing for a minute beside 99 that keep flowing.
//! The sink checks each key's sequence numbers as requests arrive.
use hookrelay_tests::sink::{Received, Reply, Sink};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

const SECRET: &str = "ordering-volume-secret";

fn config_text(sink: &Sink, retry_schedule: &str) -> String {
    format!(
        "allow_private_destinations = true\n[[sources]]\nid = \"github\"\nscheme = \"github\"\nsecrets = [{SECRET:?}]\n\
         [[destinations]]\nid = \"ordered\"\nurl = \"{}\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n\
         timeout = \"2s\"\nmax_in_flight = 64\nretry_schedule = {retry_schedule}\nordering = {{ key = \"json:/key\" }}\n\
         [[routes]]\nsource = \"github\"\ndestination = \"ordered\"\n",
        sink.url("/hook"),
    )
}

/// Sends `seq` of `key`; retries until accepted (as a provider would).
async fn send(client: &reqwest::Client, port: u16, key: usize, seq: usize, doomed: bool) {
    let body = format!(r#"{{"key":"k{key}","seq":{seq},"doomed":{doomed}}}"#).into_bytes();
    let url = format!("http://127.0.0.1:{port}/hooks/github");
    for _ in 0..20 {
        let mut request = client.post(&url).body(body.clone());
        for (name, value) in
            hookrelay_tests::github_push_headers(SECRET, &body, &format!("k{key}-{seq}"))
        {
            request = request.header(name, value);
        }
        if let Ok(response) = request.send().await {
            if response.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("k{key} seq {seq} never accepted");
}

fn key_and_seq(received: &Received) -> (usize, usize) {
    let body: serde_json::Value = serde_json::from_slice(&received.body).expect("JSON body");
    let key = body["key"].as_str().expect("key")[1..].parse().unwrap();
    (key, body["seq"].as_u64().expect("seq") as usize)
}

/// Per-key order at the sink: a request for a sequence number below one
/// that already arrived for its key is a violation.
fn order_violations(received: &[Received]) -> Vec<String> {
    let mut highest: HashMap<usize, usize> = HashMap::new();
    let mut violations = Vec::new();
    for request in received {
        let (key, seq) = key_and_seq(request);
        let top = highest.entry(key).or_insert(seq);
        if seq < *top {
            violations.push(format!("k{key}: seq {seq} after {top}"));
        }
        *top = (*top).max(seq);
    }
    violations
}

/// The issue's first test: 10 000 events over 100 keys (each key's sent
/// one after another, the keys at once), 20 % of requests failing at
/// random, and 10 events the destination never takes (failed for good
/// after their 15 attempts). Zero order violations per key, every other
/// event delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_events_over_a_hundred_keys_arrive_in_order_through_failures() {
    let _turn = hookrelay_tests::heavy_test_turn().await;
    const KEYS: usize = 100;
    const PER_KEY: usize = 100;
    const ATTEMPTS: usize = 15;
    let doomed = |key: usize, seq: usize| (key * PER_KEY + seq) % 1000 == 500;
    let sink = Sink::start().await;
    sink.script(
        "/hook",
        vec![Reply::FailIfBodyHas {
            marker: b"\"doomed\":true".to_vec(),
            otherwise: Box::new(Reply::Chaos {
                fail: 0.2,
                stall: 0.0,
                stall_for: Duration::ZERO,
            }),
        }],
    );
    let schedule = format!("[{}]", vec!["\"0s\""; ATTEMPTS].join(", "));
    let dev =
        hookrelay_tests::RunningDev::start("ordering-volume", &config_text(&sink, &schedule)).await;
    let client = reqwest::Client::new();
    let started = Instant::now();
    let senders: Vec<_> = (0..KEYS)
        .map(|key| {
            let (client, port) = (client.clone(), dev.port);
            tokio::spawn(async move {
                for seq in 0..PER_KEY {
                    send(&client, port, key, seq, doomed(key, seq)).await;
                }
            })
        })
        .collect();
    for sender in senders {
        sender.await.unwrap();
    }
    eprintln!(
        "ordering volume: 10 000 accepted in {:?}",
        started.elapsed()
    );

    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let received = sink.received("/hook");
        let mut succeeded = vec![[false; PER_KEY]; KEYS];
        let mut doomed_attempts = 0;
        for request in &received {
            let (key, seq) = key_and_seq(request);
            if request.status == Some(200) {
                succeeded[key][seq] = true;
            }
            if doomed(key, seq) {
                doomed_attempts += 1;
            }
        }
        let delivered = succeeded.iter().flatten().filter(|ok| **ok).count();
        let doomed_count = (0..KEYS * PER_KEY)
            .filter(|i| doomed(i / PER_KEY, i % PER_KEY))
            .count();
        if delivered == KEYS * PER_KEY - doomed_count && doomed_attempts == doomed_count * ATTEMPTS
        {
            assert_eq!(order_violations(&received), Vec::<String>::new());
            assert!(received.len() > KEYS * PER_KEY, "no request failed");
            eprintln!(
                "ordering volume: {delivered} delivered, {doomed_count} failed for good, {} requests, after {:?}",
                received.len(),
                started.elapsed()
            );
            return;
        }
        assert!(
            Instant::now() < deadline,
            "after 600 s: {delivered} delivered, {doomed_attempts} attempts of doomed events; order violations so far: {:?}",
            &order_violations(&received)[..order_violations(&received).len().min(5)]
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The issue's second test: 100 keys sending steadily; for a minute the
/// destination answers 500 to everything of key 0. The other 99 keys'
/// deliveries per second during that minute are at least 90 % of theirs
/// in the 20 s before it (same run), and key 0 drains in order after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_failing_key_holds_back_only_itself() {
    let _turn = hookrelay_tests::heavy_test_turn().await;
    const KEYS: usize = 100;
    const BASELINE: Duration = Duration::from_secs(20);
    const FAILING: Duration = Duration::from_secs(60);
    /// Each key sends an event this often: 100 a second in all, well within
    /// what `hookrelay dev` delivers on a busy 2-core machine.
    const EVERY: Duration = Duration::from_secs(1);
    let sink = Sink::start().await;
    sink.script("/hook", vec![Reply::Status(200)]);
    // Retries spread over more than the minute, so key 0's head outlives
    // the failure and succeeds after it.
    let schedule =
        r#"["0s", "1s", "2s", "5s", "10s", "10s", "10s", "10s", "10s", "10s", "10s", "10s"]"#;
    let dev =
        hookrelay_tests::RunningDev::start("ordering-failing-key", &config_text(&sink, schedule))
            .await;
    let client = reqwest::Client::new();
    let started = Instant::now();
    let stop_at = started + BASELINE + FAILING;
    let sent = Arc::new(std::sync::Mutex::new(vec![0usize; KEYS]));
    let senders: Vec<_> = (0..KEYS)
        .map(|key| {
            let (client, port, sent) = (client.clone(), dev.port, sent.clone());
            tokio::spawn(async move {
                let mut seq = 0;
                let mut next = Instant::now();
                while Instant::now() < stop_at {
                    send(&client, port, key, seq, false).await;
                    seq += 1;
                    sent.lock().unwrap()[key] = seq;
                    next += EVERY;
                    tokio::time::sleep_until(next.into()).await;
                }
            })
        })
        .collect();
    tokio::time::sleep(BASELINE).await;
    let failing_from = Instant::now();
    sink.script(
        "/hook",
        vec![Reply::FailIfBodyHas {
            marker: b"\"key\":\"k0\"".to_vec(),
            otherwise: Box::new(Reply::Status(200)),
        }],
    );
    tokio::time::sleep(FAILING).await;
    let failing_until = Instant::now();
    sink.script("/hook", vec![Reply::Status(200)]);
    for sender in senders {
        sender.await.unwrap();
    }
    let sent = sent.lock().unwrap().clone();

    // Wait for every event, key 0's backlog included, to be delivered.
    let deadline = Instant::now() + Duration::from_secs(180);
    let received = loop {
        let received = sink.received("/hook");
        let mut delivered = vec![0usize; KEYS];
        for request in received.iter().filter(|r| r.status == Some(200)) {
            delivered[key_and_seq(request).0] += 1;
        }
        if delivered.iter().zip(&sent).all(|(d, s)| d >= s) {
            break received;
        }
        assert!(
            Instant::now() < deadline,
            "key backlogs not drained: {delivered:?} of {sent:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(order_violations(&received), Vec::<String>::new());
    let others_per_second = |from: Instant, until: Instant| {
        let count = received
            .iter()
            .filter(|r| r.status == Some(200) && r.arrived_at >= from && r.arrived_at < until)
            .filter(|r| key_and_seq(r).0 != 0)
            .count();
        count as f64 / until.duration_since(from).as_secs_f64()
    };
    // The baseline leaves out its first seconds (dev warming up).
    let baseline = others_per_second(started + Duration::from_secs(5), failing_from);
    let during = others_per_second(failing_from, failing_until);
    eprintln!(
        "ordering: other keys {baseline:.1}/s before, {during:.1}/s while key 0 failed ({:.2}x)",
        during / baseline
    );
    assert!(
        during >= 0.9 * baseline,
        "the other keys fell to {during:.1}/s from {baseline:.1}/s while key 0 failed"
    );
    // Key 0 really was held back: its requests in the minute all failed,
    // and they were retries of one head, not its later events.
    let key0_in_failure: Vec<usize> = received
        .iter()
        .filter(|r| {
            r.arrived_at >= failing_from + Duration::from_millis(500)
                && r.arrived_at < failing_until
        })
        .map(key_and_seq)
        .filter(|(key, _)| *key == 0)
        .map(|(_, seq)| seq)
        .collect();
    assert!(
        !key0_in_failure.is_empty(),
        "key 0 was not attempted while failing"
    );
    assert!(
        key0_in_failure.windows(2).all(|w| w[0] == w[1]),
        "key 0 moved past a failing head: {key0_in_failure:?}"
    );
}
