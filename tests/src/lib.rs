//! Helpers shared by the cross-crate tests in `it/`: a moto server, test
//! backends (embedded and AWS-on-moto) behind one interface, a settable
//! clock, and signed sample requests.
#![forbid(unsafe_code)]

pub mod aws_targets;
pub mod backend;
pub mod consumer;
pub mod cost;
pub mod lambda_runtime;
pub mod lambda_watch;
pub mod meter;
pub mod moto;
pub mod proxy;
pub mod relay;
pub mod rie;
pub mod sigv4_sink;
pub mod sink;
pub mod webdriver;

use hookrelay_core::Clock;
use hookrelay_models::{Config, Timestamp};
use std::sync::atomic::{AtomicI64, Ordering};

/// A configuration as a user would write it, parsed the way the relay does.
/// The repository this test runs in: the parent of the running package's
/// manifest directory, read when the test runs (cargo sets
/// `CARGO_MANIFEST_DIR` for every test it starts). Not the compile-time
/// `env!`: CI reuses a build made in another clone of the same sources,
/// whose path a compiled-in value would still name.
pub fn repo_root() -> std::path::PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest
        .parent()
        .expect("a package inside the repository")
        .to_path_buf()
}

/// The signature header GitHub puts on `body`, signed with `secret`.
pub fn github_signature(secret: &str, body: &[u8]) -> Vec<(String, String)> {
    use hookrelay_signing::{sign_as_provider, ProviderMessage, Scheme, SchemeKind, Secret};
    let message = ProviderMessage {
        body,
        timestamp: 0,
        id: "",
        url: None,
    };
    sign_as_provider(
        &Scheme::Named(SchemeKind::Github),
        &Secret::new(secret),
        &message,
    )
    .expect("sign as GitHub")
}

/// A GitHub push's headers: the signature, the event and the delivery id.
pub fn github_push_headers(secret: &str, body: &[u8], delivery: &str) -> Vec<(String, String)> {
    let mut headers = github_signature(secret, body);
    headers.push(("X-GitHub-Event".into(), "push".into()));
    headers.push(("X-GitHub-Delivery".into(), delivery.into()));
    headers
}

/// Where the SNS samples of `events/providers/` say their certificate is.
pub const SNS_SAMPLE_CERT_PATH: &str =
    "/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem";

/// SNS verification as deployed (same host rule, the real HTTP fetcher),
/// except that SNS's hosts are stood in for by `sink`, which serves the
/// samples' certificate (events/providers/sns-signing-cert.pem).
pub fn sns_stand_in(sink: &sink::Sink) -> hookrelay_core::Sns {
    let cert = std::fs::read(repo_root().join("events/providers/sns-signing-cert.pem"))
        .expect("the SNS samples' certificate");
    sink.script(SNS_SAMPLE_CERT_PATH, vec![sink::Reply::Content(200, cert)]);
    let fetcher = hookrelay_http::HttpFetcher::new(true).expect("an HTTP client");
    hookrelay_core::Sns::new(
        hookrelay_core::SnsHosts::served_by(&sink.url("")),
        std::sync::Arc::new(fetcher),
    )
}

pub fn config_from(text: &str) -> Config {
    Config::from_toml(text, "test.toml").expect("test configuration is valid")
}

/// Whether a configuration of one destination, `settings` (its TOML lines
/// besides `id` and `secret`), loads; if not, why.
pub fn load_one_destination(settings: &str) -> Result<(), String> {
    Config::from_toml(
        &format!(
            "[[destinations]]\nid = \"d\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n{settings}\n"
        ),
        "test.toml",
    )
    .map(|_| ())
    .map_err(|e| e.to_string())
}

/// A clock that stands still until told otherwise.
#[derive(Debug)]
pub struct ManualClock {
    /// The reading in Unix milliseconds; or, when it follows the system
    /// clock, how far ahead of it the reading is.
    millis: AtomicI64,
    follows_system: bool,
}

impl ManualClock {
    pub fn at_unix_secs(secs: i64) -> Self {
        ManualClock {
            millis: AtomicI64::new(secs * 1000),
            follows_system: false,
        }
    }

    /// Starts at the system clock's reading.
    pub fn at_system_time() -> Self {
        ManualClock {
            millis: AtomicI64::new(Timestamp::now().unix_millis()),
            follows_system: false,
        }
    }

    /// Moves with the system clock (for tests that pace real traffic),
    /// and can still be set or advanced.
    pub fn following_system_time() -> Self {
        ManualClock {
            millis: AtomicI64::new(0),
            follows_system: true,
        }
    }

    fn base(&self) -> i64 {
        if self.follows_system {
            Timestamp::now().unix_millis()
        } else {
            0
        }
    }

    pub fn set(&self, at: Timestamp) {
        self.millis
            .store(at.unix_millis() - self.base(), Ordering::SeqCst);
    }

    pub fn set_unix_secs(&self, secs: i64) {
        self.set(Timestamp::from_unix_millis(secs * 1000));
    }

    /// The current reading, without naming the `Clock` trait.
    pub fn now_for_tests(&self) -> Timestamp {
        Timestamp::from_unix_millis(self.base() + self.millis.load(Ordering::SeqCst))
    }

    pub fn advance_millis(&self, millis: i64) {
        self.millis.fetch_add(millis, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        self.now_for_tests()
    }
}

/// The issue-27 check of a destination limited to 10/s with a burst of
/// 20 that was sent `events` events at once: each arrived exactly once, in
/// no 10 seconds did more than 10.5/s plus the burst begin, and the limit was
/// used rather than undershot by far (about 98 s for a thousand). Says
/// what it measured on stderr, `label` first.
pub fn assert_ten_a_second_with_a_burst_of_twenty(
    received: &[sink::Received],
    events: usize,
    label: &str,
) {
    let distinct: std::collections::HashSet<_> = received
        .iter()
        .map(|r| {
            r.header("webhook-id")
                .expect("a webhook-id header")
                .to_string()
        })
        .collect();
    assert_eq!(distinct.len(), events, "every event delivered");
    assert_eq!(
        received.len(),
        events,
        "each once: none dropped, none sent twice"
    );
    // The limit is on when deliveries begin: each one's webhook-timestamp,
    // the second its attempt started. Arrival at the sink adds whatever
    // the machine adds (a CI run under load once saw 128 arrive within
    // 10 s after a stall, whose deliveries had begun in time). Ten whole
    // seconds s..=s+9 are less than 10 s of real time.
    let began: Vec<i64> = received
        .iter()
        .map(|r| {
            r.header("webhook-timestamp")
                .and_then(|t| t.parse().ok())
                .expect("a webhook-timestamp header")
        })
        .collect();
    let busiest = most_in_any_window(&began, |second| second + 10);
    assert!(
        busiest <= 105 + 20,
        "{busiest} deliveries began in ten seconds: over 10.5/s plus the burst"
    );
    let times: Vec<std::time::Instant> = received.iter().map(|r| r.arrived_at).collect();
    let busiest_arrivals = most_in_any_window(&times, |at| at + std::time::Duration::from_secs(10));
    let span = times
        .iter()
        .max()
        .unwrap()
        .duration_since(*times.iter().min().unwrap());
    assert!(
        span >= std::time::Duration::from_secs(90),
        "{events} in {span:?}: faster than 10/s"
    );
    eprintln!(
        "{label}: {events} deliveries in {span:?}; most begun in 10 s: {busiest}, \
         most arrived in 10 s: {busiest_arrivals}"
    );
}

/// The most of `values` that fall in any one window: from a value up to,
/// not including, `window_end` of it (a window starting at each of them
/// is enough to find it).
pub fn most_in_any_window<T: Copy + Ord>(values: &[T], window_end: impl Fn(T) -> T) -> usize {
    let mut sorted = values.to_vec();
    sorted.sort();
    let mut most = 0;
    let mut end = 0;
    for (start, &first) in sorted.iter().enumerate() {
        let limit = window_end(first);
        while end < sorted.len() && sorted[end] < limit {
            end += 1;
        }
        most = most.max(end - start);
    }
    most
}

/// A GitHub-like push of exactly `size` bytes of JSON (many commits, with
/// quotes and newlines to escape): the large bodies tests send.
pub fn large_json_body(size: usize) -> Vec<u8> {
    let mut body = String::from(r#"{"ref":"refs/heads/main","commits":["#);
    let mut n = 0;
    while body.len() + 120 < size {
        body.push_str(&format!(
            r#"{{"id":"{n:040x}","message":"Commit number {n} \"quoted\" with a\nnewline"}},"#
        ));
        n += 1;
    }
    body.push_str(r#"{}],"pad":""#);
    while body.len() + 2 < size {
        body.push('x');
    }
    body.push_str(r#""}"#);
    assert_eq!(body.len(), size, "ask for at least 40 bytes");
    body.into_bytes()
}

/// Checks a Standard Webhooks signature with Python's hmac module: an
/// implementation independent of ours.
pub fn python_verifies(
    secret: &str,
    id: &str,
    timestamp: &str,
    body: &[u8],
    signature: &str,
) -> bool {
    // The body goes on stdin: a large one would not fit an argument list.
    let script = r#"
import base64, hashlib, hmac, sys
secret, msg_id, ts, header = sys.argv[1:5]
body = sys.stdin.buffer.read()
key = base64.b64decode(secret.split("_", 1)[1])
expected = base64.b64encode(hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()).decode()
ok = any(p.split(",", 1)[1] == expected for p in header.split(" ") if p.startswith("v1,"))
sys.exit(0 if ok else 1)
"#;
    use std::io::Write;
    let mut python = std::process::Command::new("python3")
        .args(["-c", script, secret, id, timestamp, signature])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("python3 is needed for the independent signature check (apt-get install python3)");
    python
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(body)
        .expect("hand the body to python3");
    python.wait().expect("python3 ran").success()
}

/// The receiver and admin ports a `hookrelay dev` process bound, read from
/// the line it prints on stdout (start it with `--listen 127.0.0.1:0
/// --admin-listen 127.0.0.1:0` and stdout piped): no port is chosen first
/// and hoped to stay free. A thread keeps draining its stdout afterwards.
pub fn dev_ports(dev: &mut std::process::Child) -> (u16, u16) {
    let started = dev_started(dev);
    (started.receiver_port, started.admin_port)
}

/// The rest of the first line a child prints on its (piped) stdout that
/// starts with `prefix`; within a minute, or the test fails.
pub fn line_starting(child: &mut std::process::Child, prefix: &str) -> String {
    use std::io::{BufRead, BufReader};
    let stdout = child.stdout.take().expect("stdout is piped");
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = sender.send(line);
        }
    });
    loop {
        let line = receiver
            .recv_timeout(std::time::Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("nothing printed {prefix:?}"));
        if let Some(rest) = line.strip_prefix(prefix) {
            return rest.trim().to_string();
        }
    }
}

/// Where a `hookrelay dev` listens, as its first line on stdout says.
pub struct DevStarted {
    pub receiver_port: u16,
    pub admin_port: u16,
    /// The console's one-time login URL.
    pub console_login: String,
}

pub fn dev_started(dev: &mut std::process::Child) -> DevStarted {
    let line = format!(
        "hookrelay dev: receiver {}",
        line_starting(dev, "hookrelay dev: receiver ")
    );
    let port_after = |label: &str| -> u16 {
        let address = line
            .split(label)
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .expect("a labelled address");
        address.rsplit(':').next().unwrap().parse().unwrap()
    };
    DevStarted {
        receiver_port: port_after("receiver http://"),
        admin_port: port_after("admin http://"),
        console_login: line
            .split(" console ")
            .nth(1)
            .expect("the console's login URL")
            .trim()
            .to_string(),
    }
}

/// The real `hookrelay dev` binary on `config`, on free ports, logging
/// errors only; returns it and its receiver's port.
pub fn spawn_dev(config: &std::path::Path) -> (std::process::Child, u16) {
    let mut dev =
        std::process::Command::new(lambda_runtime::lambda_binary("hookrelay-cli", "hookrelay"))
            .args(["dev", "--config"])
            .arg(config)
            .args(["--listen", "127.0.0.1:0"])
            .args(["--admin-listen", "127.0.0.1:0"])
            .env("HOOKRELAY_LOG", "error")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start hookrelay dev");
    let (receiver, _) = dev_ports(&mut dev);
    (dev, receiver)
}

/// `hookrelay dev` running on a configuration file of its own (in a
/// temporary folder named after `name`), answering on its receiver port;
/// killed when dropped.
pub struct RunningDev {
    child: std::process::Child,
    pub port: u16,
}

impl RunningDev {
    /// Writes `config` and starts `hookrelay dev` on it, then waits (up to
    /// 30 s) until its `/health` answers.
    pub async fn start(name: &str, config: &str) -> RunningDev {
        let dir = std::env::temp_dir().join(format!("hookrelay-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("hookrelay.toml");
        std::fs::write(&path, config).unwrap();
        let (child, port) = spawn_dev(&path);
        let dev = RunningDev { child, port };
        let client = reqwest::Client::new();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while client
            .get(format!("http://127.0.0.1:{port}/health"))
            .send()
            .await
            .is_err()
        {
            assert!(std::time::Instant::now() < deadline, "dev did not start");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        dev
    }
}

impl Drop for RunningDev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Claims `event`'s delivery to `destination` at `now`, and with `outcome`
/// records one attempt that settles it that way (succeeded on a 2xx,
/// failed otherwise); without, it stays pending.
pub async fn settle_delivery(
    store: &dyn hookrelay_core::DeliveryStore,
    event: &hookrelay_models::EventId,
    destination: &hookrelay_models::DestinationId,
    now: Timestamp,
    outcome: Option<hookrelay_models::AttemptOutcome>,
) {
    use hookrelay_models::{Attempt, DeliveryState};
    let lease = now.saturating_add(std::time::Duration::from_secs(60));
    let hookrelay_core::Claim::Claimed(mut delivery) = store
        .claim(event, destination, now, lease)
        .await
        .expect("claim")
    else {
        panic!("not claimed");
    };
    let Some(outcome) = outcome else { return };
    delivery.state = if outcome.is_success() {
        DeliveryState::Succeeded
    } else {
        DeliveryState::Failed
    };
    delivery.attempts = 1;
    delivery.lease_until = None;
    delivery.next_attempt_at = None;
    let attempt = Attempt {
        event_id: event.clone(),
        destination: destination.clone(),
        number: 1,
        series: 0,
        started_at: now,
        duration_ms: 1,
        outcome,
        response_body: String::new(),
        response_truncated: false,
    };
    assert!(store
        .record_attempt(&attempt, &delivery, lease)
        .await
        .expect("record the attempt"));
}

/// One heavy test at a time: the soaks, the ordering volume runs and the
/// cost budget each load a 2-core machine on their own; side by side they
/// starve one another (the cost budget's pacing figures depend on how
/// promptly a batch's deliveries come due). Hold the guard for the test.
pub async fn heavy_test_turn() -> tokio::sync::MutexGuard<'static, ()> {
    static HEAVY: std::sync::OnceLock<tokio::sync::Mutex<()>> = std::sync::OnceLock::new();
    HEAVY
        .get_or_init(|| tokio::sync::Mutex::new(()))
        .lock()
        .await
}
