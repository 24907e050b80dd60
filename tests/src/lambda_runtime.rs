//! A Lambda Runtime API emulator, so the real Lambda binaries can run here
//! as they do in AWS: the binary long-polls `/invocation/next`, handles the
//! event, and posts its response — no Docker, no AWS.
//!
//! AWS's own emulator (`aws-lambda-rie`, [`crate::rie`]) runs the Lambda
//! end-to-end test (`it/lambda_e2e.rs`) and the dispatcher-kill tests
//! (`it/faults.rs`): it restarts a killed function at the next invoke, as
//! Lambda does. This one stays for the cost bench (`cost.rs`,
//! `it/cost.rs`, `bench/cost.sh`), for what the official one does not
//! give, as seen with aws-sam-cli 1.170.0's copy:
//! - the function's own stdout, line by line: the bench bills CloudWatch
//!   Logs by the bytes and lines the function writes and reads its metric
//!   (EMF) documents from them. Under the official emulator the function's
//!   stdout is the emulator's, interleaved with the emulator's START, END
//!   and REPORT lines (the bench adds the platform's lines itself, at
//!   their real size; the emulator's REPORT says 3008 MB of memory used
//!   whatever the function used), so the bench would have to parse them
//!   apart;
//! - a clean time per invocation: the bench's compute time is the
//!   invocation's wall time less its AWS calls, with no second process
//!   and HTTP hop of the emulator's in it;
//! - more than one invocation at once: the official emulator takes one at
//!   a time, and a second invoke while one is in flight makes it panic and
//!   exit (leaving its function running). Nothing here overlaps
//!   invocations today; this emulator queues them.
//!
//! Both take Lambda-format events (API Gateway, function URL, SQS batches;
//! [`http_api_event`], [`sqs_event_records`]): neither polls SQS, so the
//! tests play the event source mapping themselves.
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, Notify};

type Outcome = Result<Vec<u8>, String>;

#[derive(Default)]
struct State {
    pending: Mutex<VecDeque<(String, Vec<u8>)>>,
    arrived: Notify,
    waiting: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    init_error: Mutex<Option<String>>,
    next_id: AtomicU64,
}

pub struct RuntimeApi {
    port: u16,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Request {
    method: String,
    path: String,
    body: Vec<u8>,
}

async fn read_request(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<Request> {
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(pos) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    buffer.drain(..head_end);
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(pos) = buffer.windows(2).position(|w| w == b"\r\n") {
                    break pos;
                }
                let n = stream.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                buffer.extend_from_slice(&chunk[..n]);
            };
            let size_text = String::from_utf8_lossy(&buffer[..line_end]).to_string();
            let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
            while buffer.len() < line_end + 2 + size + 2 {
                let n = stream.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                buffer.extend_from_slice(&chunk[..n]);
            }
            body.extend_from_slice(&buffer[line_end + 2..line_end + 2 + size]);
            buffer.drain(..line_end + 2 + size + 2);
            if size == 0 {
                break body;
            }
        }
    } else {
        let length: usize = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        while buffer.len() < length {
            let n = stream.read(&mut chunk).await.ok()?;
            if n == 0 {
                return None;
            }
            buffer.extend_from_slice(&chunk[..n]);
        }
        buffer.drain(..length).collect()
    };
    Some(Request { method, path, body })
}

async fn respond(
    stream: &mut TcpStream,
    status: u16,
    headers: &[(&str, String)],
    body: &[u8],
) -> bool {
    let mut head = format!("HTTP/1.1 {status} OK\r\ncontent-length: {}\r\n", body.len());
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.is_ok() && stream.write_all(body).await.is_ok()
}

async fn serve(mut stream: TcpStream, state: Arc<State>) {
    let mut buffer = Vec::new();
    while let Some(request) = read_request(&mut stream, &mut buffer).await {
        let path = request.path.trim_start_matches("/2018-06-01/runtime");
        if request.method == "GET" && path == "/invocation/next" {
            let (id, event) = loop {
                let notified = state.arrived.notified();
                if let Some(next) = state.pending.lock().unwrap().pop_front() {
                    break next;
                }
                notified.await;
            };
            let deadline = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_millis()
                + 300_000;
            let headers = [
                ("lambda-runtime-aws-request-id", id.clone()),
                ("lambda-runtime-deadline-ms", deadline.to_string()),
                (
                    "lambda-runtime-invoked-function-arn",
                    "arn:aws:lambda:us-east-1:123456789012:function:hookrelay".to_string(),
                ),
                (
                    "lambda-runtime-trace-id",
                    "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
                        .to_string(),
                ),
                ("content-type", "application/json".to_string()),
            ];
            if !respond(&mut stream, 200, &headers, &event).await {
                return;
            }
        } else if let Some(rest) = path.strip_prefix("/invocation/") {
            let (id, kind) = rest.split_once('/').unwrap_or((rest, ""));
            let outcome = if kind == "response" {
                Ok(request.body)
            } else {
                Err(String::from_utf8_lossy(&request.body).to_string())
            };
            if let Some(waiter) = state.waiting.lock().unwrap().remove(id) {
                let _ = waiter.send(outcome);
            }
            if !respond(&mut stream, 202, &[], b"{\"status\":\"OK\"}").await {
                return;
            }
        } else if path == "/init/error" {
            *state.init_error.lock().unwrap() =
                Some(String::from_utf8_lossy(&request.body).to_string());
            if !respond(&mut stream, 202, &[], b"{\"status\":\"OK\"}").await {
                return;
            }
        } else if !respond(&mut stream, 404, &[], b"{}").await {
            return;
        }
    }
}

impl RuntimeApi {
    pub async fn start() -> RuntimeApi {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
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
        RuntimeApi { port, state, task }
    }

    /// `AWS_LAMBDA_RUNTIME_API` for the function process.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Invokes the function with `event` and waits for its response.
    pub async fn invoke(&self, event: &Value, timeout: Duration) -> Result<Value, String> {
        let id = format!("req-{}", self.state.next_id.fetch_add(1, Ordering::SeqCst));
        let (sender, receiver) = oneshot::channel();
        self.state
            .waiting
            .lock()
            .unwrap()
            .insert(id.clone(), sender);
        self.state
            .pending
            .lock()
            .unwrap()
            .push_back((id, serde_json::to_vec(event).unwrap()));
        self.state.arrived.notify_one();
        match tokio::time::timeout(timeout, receiver).await {
            Ok(Ok(Ok(body))) => {
                serde_json::from_slice(&body).map_err(|e| format!("response is not JSON: {e}"))
            }
            Ok(Ok(Err(error))) => Err(error),
            Ok(Err(_)) => Err("runtime API dropped the invocation".into()),
            Err(_) => Err(format!(
                "no response within {timeout:?}; init error: {:?}",
                self.state.init_error.lock().unwrap()
            )),
        }
    }
}

/// SQS messages as the records of the SQS event Lambda's event source
/// mapping hands the function.
pub fn sqs_event_records(messages: &[aws_sdk_sqs::types::Message]) -> Vec<Value> {
    messages
        .iter()
        .map(|m| {
            serde_json::json!({
                "messageId": m.message_id(),
                "receiptHandle": m.receipt_handle(),
                "body": m.body(),
                "attributes": { "ApproximateReceiveCount": "1", "SentTimestamp": "1", "SenderId": "x", "ApproximateFirstReceiveTimestamp": "1" },
                "messageAttributes": {},
                "md5OfBody": m.md5_of_body(),
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:hookrelay",
                "awsRegion": "us-east-1"
            })
        })
        .collect()
}

/// A binary of this workspace (a Lambda, or the CLI), built with the
/// tests' profile if needed, and its path.
pub fn lambda_binary(package: &str, binary: &str) -> PathBuf {
    // A test lives in <target>/<profile>/deps, a binary in <target>/<profile>.
    let exe = std::env::current_exe().expect("test binary path");
    let mut profile_dir = exe.parent().expect("binary dir").to_path_buf();
    if profile_dir.file_name().is_some_and(|n| n == "deps") {
        profile_dir.pop();
    }
    let target_dir = profile_dir.parent().expect("target dir").to_path_buf();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .args(["build", "--quiet", "-p", package, "--bin", binary])
        .env("CARGO_TARGET_DIR", &target_dir)
        .current_dir(crate::repo_root());
    // HOOKRELAY_FUNCTION_PROFILE=release builds the functions as they
    // ship (the cost bench measures their durations), whatever the
    // profile of the caller.
    let release = match std::env::var("HOOKRELAY_FUNCTION_PROFILE").as_deref() {
        Ok("release") => true,
        _ => profile_dir.file_name().is_some_and(|n| n == "release"),
    };
    if release {
        build.arg("--release");
    }
    let status = build.status().expect("run cargo build");
    assert!(status.success(), "building {binary} failed");
    target_dir
        .join(if release { "release" } else { "debug" })
        .join(binary)
}

/// A function process attached to a runtime API; killed on drop.
pub struct FunctionProcess(pub Child);

impl Drop for FunctionProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `binary` as Lambda would, pointed at `api`, with `env` added.
pub fn start_function<K: AsRef<str>>(
    binary: &PathBuf,
    name: &str,
    api: &RuntimeApi,
    env: &[(K, String)],
) -> FunctionProcess {
    let mut command = function_command(binary, name, api, env);
    FunctionProcess(command.spawn().expect("start the function binary"))
}

/// What a function printed on stdout (what Lambda sends to CloudWatch
/// Logs): lines and bytes, counted as they come, and its metric (EMF)
/// documents.
#[derive(Debug, Default)]
pub struct LogCount {
    pub lines: AtomicU64,
    pub bytes: AtomicU64,
    pub metric_documents: Mutex<Vec<Value>>,
}

impl LogCount {
    fn note_metrics(&self, line: &[u8]) {
        if !line.starts_with(b"{") {
            return;
        }
        if let Ok(doc) = serde_json::from_slice::<Value>(line) {
            if doc.get("_aws").is_some() {
                self.metric_documents.lock().unwrap().push(doc);
            }
        }
    }
}

/// As [`start_function`], counting what the function logs.
pub fn start_function_counting_logs<K: AsRef<str>>(
    binary: &PathBuf,
    name: &str,
    api: &RuntimeApi,
    env: &[(K, String)],
) -> (FunctionProcess, Arc<LogCount>) {
    let mut command = function_command(binary, name, api, env);
    command.stdout(Stdio::piped());
    let mut child = command.spawn().expect("start the function binary");
    let stdout = child.stdout.take().expect("piped stdout");
    let count = Arc::new(LogCount::default());
    let counting = count.clone();
    std::thread::spawn(move || {
        use std::io::BufRead;
        let mut reader = std::io::BufReader::new(stdout);
        let mut line = Vec::new();
        while reader.read_until(b'\n', &mut line).unwrap_or(0) > 0 {
            let text = line.strip_suffix(b"\n").unwrap_or(&line);
            if std::env::var_os("HOOKRELAY_SHOW_FUNCTION_LOGS").is_some() {
                eprintln!("{}", String::from_utf8_lossy(text));
            }
            counting.note_metrics(text);
            counting.lines.fetch_add(1, Ordering::SeqCst);
            counting
                .bytes
                .fetch_add(text.len() as u64, Ordering::SeqCst);
            line.clear();
        }
    });
    (FunctionProcess(child), count)
}

/// The most memory a process has held (`VmHWM`), in KiB.
pub fn peak_rss_kib(process: &FunctionProcess) -> Option<u64> {
    peak_rss_kib_of(process.0.id())
}

/// The most memory the process `pid` has held (`VmHWM`), in KiB.
pub fn peak_rss_kib_of(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// An API Gateway HTTP API (payload 2.0) event, as a function URL or an
/// HTTP API route hands the receiver a POST to `path`.
pub fn http_api_event(path: &str, body: &[u8], headers: &[(String, String)]) -> Value {
    let mut header_map: HashMap<String, String> = headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
        .collect();
    header_map
        .entry("content-type".into())
        .or_insert_with(|| "application/json".into());
    header_map.insert("host".into(), "abcdefg.lambda-url.us-east-1.on.aws".into());
    serde_json::json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": header_map,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "abcdefg",
            "domainName": "abcdefg.lambda-url.us-east-1.on.aws",
            "domainPrefix": "abcdefg",
            "http": { "method": "POST", "path": path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "provider/1" },
            "requestId": "id-1",
            "routeKey": "$default",
            "stage": "$default",
            "time": "26/Nov/2026:12:00:00 +0000",
            "timeEpoch": hookrelay_models::Timestamp::now().unix_millis()
        },
        "body": String::from_utf8_lossy(body),
        "isBase64Encoded": false
    })
}

fn function_command<K: AsRef<str>>(
    binary: &PathBuf,
    name: &str,
    api: &RuntimeApi,
    env: &[(K, String)],
) -> Command {
    let mut command = Command::new(binary);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", api.address())
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/26/[$LATEST]test")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    for (key, value) in env {
        command.env(key.as_ref(), value);
    }
    command
}
