//! A destination for tests: a real HTTP/1.1 server on 127.0.0.1 that
//! answers each path from a script (status codes, stalls, dropped
//! connections) and records everything it receives.
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// How the sink answers one request.
#[derive(Debug, Clone)]
pub enum Reply {
    Status(u16),
    /// A status with extra response headers (e.g. `Retry-After`).
    StatusWith(u16, Vec<(String, String)>),
    /// Wait, then answer with the status.
    Delayed(Duration, u16),
    /// Never answer (until the client gives up).
    Stall,
    /// Close the connection without answering.
    Close,
    /// A status and this body (e.g. a certificate to download).
    Content(u16, Vec<u8>),
    /// At random: `fail` of requests get a 500, `stall` are answered only
    /// after `stall_for` (past the client's timeout), the rest get 200.
    Chaos {
        fail: f64,
        stall: f64,
        stall_for: Duration,
    },
    /// 500 for every request whose body holds `marker` (an event that
    /// can never succeed), else `otherwise`.
    FailIfBodyHas {
        marker: Vec<u8>,
        otherwise: Box<Reply>,
    },
}

#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The status the sink chose to answer with (None: closed without one).
    pub status: Option<u16>,
    /// When the request had been read whole.
    pub arrived_at: std::time::Instant,
}

impl Received {
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether Python's `hmac` accepts this delivery's Standard Webhooks
    /// signature under `secret`, with the id and timestamp it carries.
    pub fn python_verifies(&self, secret: &str) -> bool {
        crate::python_verifies(
            secret,
            self.header("webhook-id").expect("a webhook-id header"),
            self.header("webhook-timestamp")
                .expect("a webhook-timestamp header"),
            &self.body,
            self.header("webhook-signature")
                .expect("a webhook-signature header"),
        )
    }
}

#[derive(Default)]
struct State {
    scripts: Mutex<HashMap<String, Vec<Reply>>>,
    received: Mutex<Vec<Received>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// Requests being answered per `webhook-id`, and the most at once for
    /// any one id: a delivery attempted twice concurrently shows as 2.
    in_flight_by_id: Mutex<HashMap<String, usize>>,
    max_concurrent_same_id: AtomicUsize,
    arrived: Notify,
}

pub struct Sink {
    addr: std::net::SocketAddr,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Sink {
    /// Listens on a free port of 127.0.0.1 (or `[::1]` with `bind`).
    pub async fn start() -> Sink {
        Self::bind("127.0.0.1:0").await
    }

    pub async fn bind(addr: &str) -> Sink {
        let listener = TcpListener::bind(addr).await.expect("bind sink");
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State::default());
        let serving = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                tokio::spawn(serve(stream, serving.clone()));
            }
        });
        Sink { addr, state, task }
    }

    pub fn url(&self, path: &str) -> String {
        match self.addr {
            std::net::SocketAddr::V4(a) => format!("http://127.0.0.1:{}{path}", a.port()),
            std::net::SocketAddr::V6(a) => format!("http://[::1]:{}{path}", a.port()),
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Replies for `path`, used in order; the last one repeats. Paths with
    /// no script answer 200.
    pub fn script(&self, path: &str, replies: Vec<Reply>) {
        self.state
            .scripts
            .lock()
            .unwrap()
            .insert(path.to_string(), replies);
    }

    pub fn received(&self, path: &str) -> Vec<Received> {
        self.state
            .received
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    /// Every request received, in order (paths with their query).
    pub fn all_received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }

    /// The bodies received on `path`, in order, as text.
    pub fn bodies(&self, path: &str) -> Vec<String> {
        self.received(path)
            .iter()
            .map(Received::body_text)
            .collect()
    }

    /// How many 2xx answers each `webhook-id` got.
    pub fn successes_by_webhook_id(&self) -> std::collections::HashMap<String, usize> {
        let mut counts = std::collections::HashMap::new();
        for received in self.state.received.lock().unwrap().iter() {
            if received.status.is_some_and(|s| (200..300).contains(&s)) {
                if let Some(id) = received.header("webhook-id") {
                    *counts.entry(id.to_string()).or_default() += 1;
                }
            }
        }
        counts
    }

    pub fn received_count(&self) -> usize {
        self.state.received.lock().unwrap().len()
    }

    /// The most requests with the same `webhook-id` being answered at once.
    pub fn max_concurrent_same_webhook_id(&self) -> usize {
        self.state.max_concurrent_same_id.load(Ordering::SeqCst)
    }

    /// The most requests that were being answered at once.
    pub fn max_in_flight(&self) -> usize {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }

    /// Resolves once `count` requests in all have been fully received.
    pub async fn wait_for_requests(&self, count: usize) {
        loop {
            // Register before checking, so an arrival in between is seen.
            let notified = self.state.arrived.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.received_count() >= count {
                return;
            }
            notified.await;
        }
    }
}

fn random_fraction() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    // RandomState is seeded randomly per instance: enough for chaos.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(0);
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

fn next_reply(state: &State, path: &str) -> Reply {
    let mut scripts = state.scripts.lock().unwrap();
    // A script for the path with its query, else for the path alone.
    let key = if scripts.contains_key(path) {
        path
    } else {
        path.split('?').next().unwrap_or(path)
    };
    match scripts.get_mut(key) {
        Some(replies) if replies.len() > 1 => replies.remove(0),
        Some(replies) if replies.len() == 1 => replies[0].clone(),
        _ => Reply::Status(200),
    }
}

/// Counts a request as in flight for its `webhook-id` until dropped, on
/// every way out of [`serve`].
struct SameIdGuard<'a> {
    state: &'a State,
    id: String,
}

impl<'a> SameIdGuard<'a> {
    fn enter(state: &'a State, id: String) -> Self {
        let mut by_id = state.in_flight_by_id.lock().unwrap();
        let count = by_id.entry(id.clone()).or_default();
        *count += 1;
        state
            .max_concurrent_same_id
            .fetch_max(*count, Ordering::SeqCst);
        SameIdGuard { state, id }
    }
}

impl Drop for SameIdGuard<'_> {
    fn drop(&mut self) {
        let mut by_id = self.state.in_flight_by_id.lock().unwrap();
        if let Some(count) = by_id.get_mut(&self.id) {
            *count -= 1;
        }
    }
}

async fn serve(mut stream: TcpStream, state: Arc<State>) {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(pos) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
        if buffer.len() > 1 << 20 {
            return;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let path = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .unwrap_or("/")
        .to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buffer[head_end..].to_vec();
    while body.len() < length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    body.truncate(length);

    let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    state.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let webhook_id = headers
        .iter()
        .find(|(n, _)| n == "webhook-id")
        .map(|(_, v)| v.clone());
    let _same_id = webhook_id.map(|id| SameIdGuard::enter(&state, id));
    // A chaos stall outlasts the client's timeout by design, so its late
    // answer is never seen: it is recorded as no answer.
    let mut reply = next_reply(&state, &path);
    while let Reply::FailIfBodyHas { marker, otherwise } = reply {
        reply = if body.windows(marker.len()).any(|w| w == marker.as_slice()) {
            Reply::Status(500)
        } else {
            *otherwise
        };
    }
    let (reply, answered) = match reply {
        Reply::Chaos {
            fail,
            stall,
            stall_for,
        } => {
            let roll = random_fraction();
            if roll < stall {
                (Reply::Delayed(stall_for, 200), false)
            } else if roll < stall + fail {
                (Reply::Status(500), true)
            } else {
                (Reply::Status(200), true)
            }
        }
        other => (other, true),
    };
    let status = match &reply {
        Reply::Status(s)
        | Reply::StatusWith(s, _)
        | Reply::Delayed(_, s)
        | Reply::Content(s, _)
            if answered =>
        {
            Some(*s)
        }
        _ => None,
    };
    state.received.lock().unwrap().push(Received {
        path: path.clone(),
        headers,
        body,
        status,
        arrived_at: std::time::Instant::now(),
    });
    state.arrived.notify_waiters();

    let mut content = b"ok".to_vec();
    let (status, extra) = match reply {
        Reply::Status(status) => (status, Vec::new()),
        Reply::StatusWith(status, headers) => (status, headers),
        Reply::Content(status, body) => {
            content = body;
            (status, Vec::new())
        }
        Reply::Delayed(wait, status) => {
            tokio::time::sleep(wait).await;
            (status, Vec::new())
        }
        Reply::Stall => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            (200, Vec::new())
        }
        Reply::Close | Reply::Chaos { .. } | Reply::FailIfBodyHas { .. } => {
            state.in_flight.fetch_sub(1, Ordering::SeqCst);
            return;
        }
    };
    let mut response = format!(
        "HTTP/1.1 {status} Sink\r\ncontent-length: {}\r\nconnection: close\r\n",
        content.len()
    );
    for (name, value) in extra {
        response.push_str(&format!("{name}: {value}\r\n"));
    }
    response.push_str("\r\n");
    let mut response = response.into_bytes();
    response.extend_from_slice(&content);
    // No longer in flight once the answer is decided, before it is sent:
    // a client that has the answer may start its next request before this
    // task runs again, and must not be counted twice.
    state.in_flight.fetch_sub(1, Ordering::SeqCst);
    drop(_same_id);
    let _ = stream.write_all(&response).await;
    let _ = stream.shutdown().await;
}
