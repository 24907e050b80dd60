//! A meter for what hookrelay costs on AWS: an HTTP proxy in front of moto
//! that every DynamoDB and SQS call of a function goes through, and that
//! bills each call as AWS would (see [`billing`]): write and read units
//! from the sizes of the items a call writes or returns, index entries
//! added, moved and removed, transactions at double, SQS requests per
//! 64 KB, S3 requests by their price tier (a large body's `PutObject` at
//! the receiver, its `GetObject` at the dispatcher). For writes it reads
//! the item before and after (straight from moto, not billed), since an
//! update's cost is the larger of the two.
//!
//! Each function gets its own proxy (its own `AWS_ENDPOINT_URL`), labelled
//! with its name, so calls are counted per function. The proxy can also add
//! a fixed latency to every call, to show how many round trips a handler
//! waits for in sequence.
pub mod billing;

use billing::{IndexSchema, Projection, TableSchema, WireItem};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

/// Write units that landed on one partition: table, then `" {pk}"` for the
/// table's own or `"/{index} {pk}"` for an index's, then units.
type PartitionWrite = (String, String, f64);

/// What calls of one kind (service, operation, table) came to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Line {
    pub calls: u64,
    pub write_units: f64,
    /// Of `write_units`, those spent on index entries.
    pub index_write_units: f64,
    pub read_units: f64,
    pub sqs_requests: f64,
    /// What SNS (publishes), EventBridge (events) and Lambda (invokes)
    /// bill, each per 64 KB chunk: the line's key says which.
    pub target_requests: f64,
    /// S3 requests at the PUT, COPY, POST and LIST price.
    pub s3_put_requests: f64,
    /// S3 requests at the GET price (GET, HEAD and the rest).
    pub s3_get_requests: f64,
}

/// Everything one function's calls came to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Usage {
    /// By `"{service} {operation} {table}"`.
    pub lines: BTreeMap<String, Line>,
    /// Calls started while none of this function's calls was in flight:
    /// the round trips it waited for one after another.
    pub sequential_rounds: u64,
    /// HTTP requests that went through, metered or not.
    pub requests: u64,
    /// Time calls spent in the proxy (its own reads included).
    pub time_in_calls: Duration,
    /// Write units by the partition they landed on: `"{table} {pk}"` for
    /// the table's own items, `"{table}/{index} {pk}"` for index entries
    /// (tables by role, keys as wire JSON).
    pub partition_writes: BTreeMap<String, f64>,
}

impl Usage {
    pub fn total(&self) -> Line {
        let mut total = Line::default();
        for line in self.lines.values() {
            total.calls += line.calls;
            total.write_units += line.write_units;
            total.index_write_units += line.index_write_units;
            total.read_units += line.read_units;
            total.sqs_requests += line.sqs_requests;
            total.target_requests += line.target_requests;
            total.s3_put_requests += line.s3_put_requests;
            total.s3_get_requests += line.s3_get_requests;
        }
        total
    }

    /// What `service`'s calls billed (`"sns"`, `"events"`, `"lambda"`).
    pub fn target_requests(&self, service: &str) -> f64 {
        self.lines
            .iter()
            .filter(|(k, _)| k.split(' ').next() == Some(service))
            .map(|(_, l)| l.target_requests)
            // Not `sum()`: a float sum of nothing is -0.0, printed "-0.00".
            .fold(0.0, |total, n| total + n)
    }

    pub fn dynamodb_calls(&self) -> u64 {
        self.lines
            .iter()
            .filter(|(k, _)| k.starts_with("dynamodb"))
            .map(|(_, l)| l.calls)
            .sum()
    }

    /// What was spent since `earlier` (a copy taken before).
    pub fn since(&self, earlier: &Usage) -> Usage {
        let mut lines = BTreeMap::new();
        for (key, line) in &self.lines {
            let before = earlier.lines.get(key).cloned().unwrap_or_default();
            let diff = Line {
                calls: line.calls - before.calls,
                write_units: line.write_units - before.write_units,
                index_write_units: line.index_write_units - before.index_write_units,
                read_units: line.read_units - before.read_units,
                sqs_requests: line.sqs_requests - before.sqs_requests,
                target_requests: line.target_requests - before.target_requests,
                s3_put_requests: line.s3_put_requests - before.s3_put_requests,
                s3_get_requests: line.s3_get_requests - before.s3_get_requests,
            };
            if diff.calls > 0 {
                lines.insert(key.clone(), diff);
            }
        }
        let partition_writes = self
            .partition_writes
            .iter()
            .map(|(key, units)| {
                (
                    key.clone(),
                    units - earlier.partition_writes.get(key).copied().unwrap_or(0.0),
                )
            })
            .filter(|(_, units)| *units > 0.0)
            .collect();
        Usage {
            lines,
            partition_writes,
            sequential_rounds: self.sequential_rounds - earlier.sequential_rounds,
            requests: self.requests - earlier.requests,
            time_in_calls: self.time_in_calls.saturating_sub(earlier.time_in_calls),
        }
    }
}

#[derive(Default)]
struct Counters {
    usage: Usage,
    in_flight: usize,
}

struct ProxyState {
    target: String,
    client: reqwest::Client,
    latency: Duration,
    metering: bool,
    /// Table name → role ("events", "config") for the report.
    roles: HashMap<String, String>,
    schemas: Mutex<HashMap<String, TableSchema>>,
    counters: Mutex<Counters>,
    /// Writes are metered one at a time, so the item read before and after
    /// a write is that write's.
    writes: tokio::sync::Mutex<()>,
    /// Answers given instead of moto's to the next calls of an operation:
    /// what AWS answers that moto never does (an entry `PutEvents`
    /// refused), in the shape AWS documents.
    answers: Mutex<std::collections::VecDeque<(String, Value)>>,
}

/// A metering (and optionally slowing) proxy in front of moto.
pub struct MeteringProxy {
    port: u16,
    state: Arc<ProxyState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for MeteringProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// How a proxy treats calls.
#[derive(Debug, Clone, Default)]
pub struct ProxyOptions {
    /// Added before each call is forwarded.
    pub latency: Duration,
    /// Bill each call (reads the items a write touches before and after).
    pub metering: bool,
    /// Table name → the role it is reported under.
    pub roles: HashMap<String, String>,
}

impl MeteringProxy {
    pub async fn start(target: &str, options: ProxyOptions) -> MeteringProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(ProxyState {
            target: target.trim_end_matches('/').to_string(),
            client: reqwest::Client::new(),
            latency: options.latency,
            metering: options.metering,
            roles: options.roles,
            schemas: Mutex::new(HashMap::new()),
            counters: Mutex::new(Counters::default()),
            writes: tokio::sync::Mutex::new(()),
            answers: Mutex::new(std::collections::VecDeque::new()),
        });
        let serving = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = serving.clone();
                // Small request and response writes must not wait for
                // delayed ACKs (40 ms each), or the latency shown is ours.
                let _ = stream.set_nodelay(true);
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        let state = state.clone();
                        async move { Ok::<_, std::convert::Infallible>(handle(state, request).await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        MeteringProxy { port, state, task }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Answers the next call of `operation` (an `X-Amz-Target`'s last
    /// part, such as `PutEvents`) with `answer` (HTTP 200, AWS JSON), not
    /// forwarding it; answers queued for one operation go in turn.
    pub fn answer_next(&self, operation: &str, answer: Value) {
        self.state
            .answers
            .lock()
            .unwrap()
            .push_back((operation.to_string(), answer));
    }

    /// Everything metered so far.
    pub fn usage(&self) -> Usage {
        self.state.counters.lock().unwrap().usage.clone()
    }
}

type ProxyResponse = hyper::Response<Full<Bytes>>;

async fn handle(
    state: Arc<ProxyState>,
    request: hyper::Request<hyper::body::Incoming>,
) -> ProxyResponse {
    let started = Instant::now();
    {
        let mut counters = state.counters.lock().unwrap();
        if counters.in_flight == 0 {
            counters.usage.sequential_rounds += 1;
        }
        counters.usage.requests += 1;
        counters.in_flight += 1;
    }
    let response = forward_and_meter(&state, request).await;
    let mut counters = state.counters.lock().unwrap();
    counters.in_flight -= 1;
    counters.usage.time_in_calls += started.elapsed();
    response
}

async fn forward_and_meter(
    state: &ProxyState,
    request: hyper::Request<hyper::body::Incoming>,
) -> ProxyResponse {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let authorization = parts
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if !state.latency.is_zero() {
        tokio::time::sleep(state.latency).await;
    }
    let input: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let operation = target.rsplit('.').next().unwrap_or("").to_string();
    // SNS speaks the query protocol (`Action=Publish&…` in a form body),
    // Lambda's Invoke is REST (`/2015-03-31/functions/{name}/invocations`),
    // and so is S3 (path-style `/{bucket}/{key}`), known by the service its
    // request was signed for.
    let query_action = (target.is_empty() && body.starts_with(b"Action="))
        .then(|| form_field(&body, "Action"))
        .flatten();
    let service = if target.starts_with("DynamoDB") {
        "dynamodb"
    } else if target.starts_with("AmazonSQS") {
        "sqs"
    } else if target.starts_with("AWSEvents") {
        "events"
    } else if query_action.as_deref() == Some("Publish") {
        "sns"
    } else if parts.uri.path().ends_with("/invocations") {
        "lambda"
    } else if authorization
        .as_deref()
        .is_some_and(|a| a.contains("/s3/aws4_request"))
    {
        "s3"
    } else {
        "other"
    };
    let operation = match service {
        "sns" => query_action.unwrap_or_default(),
        "lambda" => "Invoke".to_string(),
        "s3" => s3_operation(&parts.method, parts.uri.path(), parts.uri.query()),
        _ => operation,
    };
    let scripted = {
        let mut answers = state.answers.lock().unwrap();
        let position = answers.iter().position(|(op, _)| *op == operation);
        position.and_then(|at| answers.remove(at))
    };
    if let Some((_, answer)) = scripted {
        return hyper::Response::builder()
            .status(200)
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amzn-requestid", "00000000-0000-4000-8000-scripted0001")
            .body(Full::new(Bytes::from(answer.to_string())))
            .unwrap();
    }
    let side = SideCalls {
        state,
        authorization: authorization.as_deref(),
    };
    let is_write = service == "dynamodb"
        && matches!(
            operation.as_str(),
            "PutItem" | "UpdateItem" | "DeleteItem" | "TransactWriteItems" | "BatchWriteItem"
        );
    let _one_write = if state.metering && is_write {
        Some(state.writes.lock().await)
    } else {
        None
    };
    let touched = if state.metering && is_write {
        side.before_images(&operation, &input).await
    } else {
        Vec::new()
    };

    let mut forward = state
        .client
        .request(
            parts.method.clone(),
            format!("{}{}", state.target, parts.uri),
        )
        .body(body.clone());
    for (name, value) in &parts.headers {
        if name != "host" && name != "content-length" {
            forward = forward.header(name, value);
        }
    }
    let (status, headers, answer) = match forward.send().await {
        Ok(response) => {
            let status = response.status();
            let headers = response.headers().clone();
            let answer = response.bytes().await.unwrap_or_default();
            (status, headers, answer)
        }
        Err(err) => {
            return hyper::Response::builder()
                .status(502)
                .body(Full::new(Bytes::from(err.to_string())))
                .unwrap()
        }
    };

    if state.metering {
        let output: Value = serde_json::from_slice(&answer).unwrap_or(Value::Null);
        let error = if status.is_success() {
            None
        } else {
            output["__type"]
                .as_str()
                .map(|t| t.rsplit('#').next().unwrap_or(t).to_string())
        };
        let mut lines = Vec::new();
        let mut partitions = Vec::new();
        match service {
            "dynamodb" if is_write => {
                let after = side.after_images(touched).await;
                (lines, partitions) = side.bill_write(&operation, &input, &after, error.as_deref());
            }
            "dynamodb" => lines.push(side.bill_read(&operation, &input, &output)),
            "sqs" => lines.push(bill_sqs(&operation, &input, &output)),
            "sns" => lines.push(chunks_billed(sns_payload(&body))),
            "events" => lines.push(bill_put_events(&input)),
            "lambda" => lines.push(chunks_billed(vec![body.len()])),
            // S3 bills a request whatever its answer (a HeadObject's 404
            // too).
            "s3" => lines.push(bill_s3(&operation)),
            _ => {}
        }
        let mut counters = state.counters.lock().unwrap();
        for (table, partition, units) in partitions {
            let role = state.roles.get(&table).cloned().unwrap_or(table);
            *counters
                .usage
                .partition_writes
                .entry(format!("{role}{partition}"))
                .or_default() += units;
        }
        for (table, mut line) in lines {
            line.calls = 1;
            let role = state.roles.get(&table).cloned().unwrap_or(table);
            let key = format!("{service} {operation} {role}")
                .trim_end()
                .to_string();
            let entry = counters.usage.lines.entry(key).or_default();
            entry.calls += line.calls;
            entry.write_units += line.write_units;
            entry.index_write_units += line.index_write_units;
            entry.read_units += line.read_units;
            entry.sqs_requests += line.sqs_requests;
            entry.target_requests += line.target_requests;
            entry.s3_put_requests += line.s3_put_requests;
            entry.s3_get_requests += line.s3_get_requests;
        }
    }

    let mut response = hyper::Response::builder().status(status.as_u16());
    // A HEAD's answer has no body, and its length says the object's.
    let is_head = parts.method == hyper::Method::HEAD;
    for (name, value) in &headers {
        if (name != "content-length" || is_head)
            && name != "transfer-encoding"
            && name != "connection"
        {
            response = response.header(name, value);
        }
    }
    response.body(Full::new(answer)).unwrap()
}

/// An S3 call's operation, from its method and path-style URL (the
/// calls hookrelay makes, and a few more to name them right).
fn s3_operation(method: &hyper::Method, path: &str, query: Option<&str>) -> String {
    let has_key = path.trim_start_matches('/').contains('/');
    let query = query.unwrap_or("");
    match (method.as_str(), has_key) {
        ("PUT", true) => "PutObject",
        ("GET", true) => "GetObject",
        ("HEAD", true) => "HeadObject",
        ("DELETE", true) => "DeleteObject",
        ("GET", false) if query.contains("list-type=2") => "ListObjectsV2",
        ("GET", false) => "ListObjects",
        ("POST", false) if query.contains("delete") => "DeleteObjects",
        ("PUT", false) => "PutBucket",
        ("POST", _) => "PostObject",
        (method, _) => method,
    }
    .to_string()
}

/// S3 bills each request at its tier's price: PUT, COPY, POST and LIST at
/// one, GET, HEAD and the rest at the other (DELETE is free).
fn bill_s3(operation: &str) -> (String, Line) {
    let line = match billing::s3_tier(operation) {
        billing::S3Tier::Put => Line {
            s3_put_requests: 1.0,
            ..Line::default()
        },
        billing::S3Tier::Get => Line {
            s3_get_requests: 1.0,
            ..Line::default()
        },
        billing::S3Tier::Free => Line::default(),
    };
    (String::new(), line)
}

fn bill_sqs(operation: &str, input: &Value, output: &Value) -> (String, Line) {
    let payload: usize = match operation {
        "SendMessage" => input["MessageBody"].as_str().map_or(0, str::len),
        "SendMessageBatch" => input["Entries"].as_array().map_or(0, |e| {
            e.iter()
                .filter_map(|m| m["MessageBody"].as_str())
                .map(str::len)
                .sum()
        }),
        "ReceiveMessage" => output["Messages"].as_array().map_or(0, |m| {
            m.iter()
                .filter_map(|m| m["Body"].as_str())
                .map(str::len)
                .sum()
        }),
        _ => 0,
    };
    (
        String::new(),
        Line {
            sqs_requests: billing::sqs_requests(payload),
            ..Line::default()
        },
    )
}

/// Requests (or events) billed per 64 KB chunk of each payload: SNS's
/// publishes, EventBridge's events, Lambda's invokes, as SQS's requests.
fn chunks_billed(payloads: Vec<usize>) -> (String, Line) {
    (
        String::new(),
        Line {
            target_requests: payloads.into_iter().map(billing::sqs_requests).sum(),
            ..Line::default()
        },
    )
}

/// A `PutEvents` call: each entry is an event, billed per 64 KB of its
/// `Source`, `DetailType`, `Detail` and resources (EventBridge's entry
/// size).
fn bill_put_events(input: &Value) -> (String, Line) {
    let entries = input["Entries"].as_array().map_or(Vec::new(), |entries| {
        entries
            .iter()
            .map(|e| {
                ["Source", "DetailType", "Detail"]
                    .iter()
                    .filter_map(|f| e[*f].as_str())
                    .map(str::len)
                    .sum::<usize>()
                    + e["Resources"].as_array().map_or(0, |r| {
                        r.iter().filter_map(Value::as_str).map(str::len).sum()
                    })
            })
            .collect()
    });
    chunks_billed(entries)
}

/// What an SNS publish is billed on: the message and its attributes'
/// names and values, decoded from the query form.
fn sns_payload(body: &[u8]) -> Vec<usize> {
    let text = String::from_utf8_lossy(body);
    let bytes = text
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .filter(|(name, _)| {
            *name == "Message"
                || (name.starts_with("MessageAttributes.")
                    && (name.ends_with(".Name") || name.ends_with(".StringValue")))
        })
        .map(|(_, value)| percent_decoded_len(value))
        .sum();
    vec![bytes]
}

/// One field of a query-protocol form body, decoded.
fn form_field(body: &[u8], field: &str) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    text.split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| *name == field)
        .map(|(_, value)| value.replace('+', " "))
}

/// The length of a form value once `%XX` escapes are decoded.
fn percent_decoded_len(value: &str) -> usize {
    value.len() - 2 * value.matches('%').count()
}

/// One item a write touches: its table, key, and the item before.
struct Touched {
    table: String,
    key: WireItem,
    before: Option<WireItem>,
    /// The item a put writes (its size bills a put that failed its
    /// condition).
    put: Option<WireItem>,
    transactional: bool,
}

struct SideCalls<'a> {
    state: &'a ProxyState,
    authorization: Option<&'a str>,
}

impl SideCalls<'_> {
    async fn call(&self, operation: &str, input: Value) -> Value {
        let mut request = self
            .state
            .client
            .post(format!("{}/", self.state.target))
            .header("x-amz-target", format!("DynamoDB_20120810.{operation}"))
            .header("content-type", "application/x-amz-json-1.0")
            .body(input.to_string());
        if let Some(authorization) = self.authorization {
            request = request.header("authorization", authorization);
        }
        match request.send().await {
            Ok(response) => response
                .bytes()
                .await
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or(Value::Null),
            Err(_) => Value::Null,
        }
    }

    async fn schema(&self, table: &str) -> TableSchema {
        if let Some(schema) = self.state.schemas.lock().unwrap().get(table) {
            return schema.clone();
        }
        let described = self
            .call("DescribeTable", json!({ "TableName": table }))
            .await;
        let keys = |schema: &Value| -> Vec<String> {
            let mut keys: Vec<(String, String)> = schema
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|k| {
                    Some((
                        k["KeyType"].as_str()?.to_string(),
                        k["AttributeName"].as_str()?.to_string(),
                    ))
                })
                .collect();
            keys.sort(); // HASH before RANGE
            keys.into_iter().map(|(_, name)| name).collect()
        };
        let table_info = &described["Table"];
        let schema = TableSchema {
            keys: keys(&table_info["KeySchema"]),
            indexes: table_info["GlobalSecondaryIndexes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|index| IndexSchema {
                    name: index["IndexName"].as_str().unwrap_or("").to_string(),
                    keys: keys(&index["KeySchema"]),
                    projection: match index["Projection"]["ProjectionType"].as_str() {
                        Some("ALL") => Projection::All,
                        Some("INCLUDE") => Projection::Include(
                            index["Projection"]["NonKeyAttributes"]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .filter_map(|v| v.as_str().map(str::to_string))
                                .collect(),
                        ),
                        _ => Projection::KeysOnly,
                    },
                })
                .collect(),
        };
        self.state
            .schemas
            .lock()
            .unwrap()
            .insert(table.to_string(), schema.clone());
        schema
    }

    async fn get(&self, table: &str, key: &WireItem) -> Option<WireItem> {
        let found = self
            .call(
                "GetItem",
                json!({ "TableName": table, "Key": key, "ConsistentRead": true }),
            )
            .await;
        found["Item"].as_object().cloned()
    }

    async fn key_of(&self, table: &str, item: &WireItem) -> WireItem {
        let schema = self.schema(table).await;
        schema
            .keys
            .iter()
            .filter_map(|k| Some((k.clone(), item.get(k)?.clone())))
            .collect()
    }

    async fn before_images(&self, operation: &str, input: &Value) -> Vec<Touched> {
        // (table, key-or-item, is-put, transactional)
        let mut targets: Vec<(String, WireItem, bool, bool)> = Vec::new();
        let table = input["TableName"].as_str().unwrap_or("").to_string();
        match operation {
            "PutItem" => {
                if let Some(item) = input["Item"].as_object() {
                    targets.push((table, item.clone(), true, false));
                }
            }
            "UpdateItem" | "DeleteItem" => {
                if let Some(key) = input["Key"].as_object() {
                    targets.push((table, key.clone(), false, false));
                }
            }
            "TransactWriteItems" => {
                for entry in input["TransactItems"].as_array().into_iter().flatten() {
                    for (kind, body) in entry.as_object().into_iter().flatten() {
                        let table = body["TableName"].as_str().unwrap_or("").to_string();
                        if kind == "Put" {
                            if let Some(item) = body["Item"].as_object() {
                                targets.push((table, item.clone(), true, true));
                            }
                        } else if let Some(key) = body["Key"].as_object() {
                            targets.push((table, key.clone(), false, true));
                        }
                    }
                }
            }
            "BatchWriteItem" => {
                for (table, requests) in input["RequestItems"].as_object().into_iter().flatten() {
                    for request in requests.as_array().into_iter().flatten() {
                        if let Some(item) = request["PutRequest"]["Item"].as_object() {
                            targets.push((table.clone(), item.clone(), true, false));
                        } else if let Some(key) = request["DeleteRequest"]["Key"].as_object() {
                            targets.push((table.clone(), key.clone(), false, false));
                        }
                    }
                }
            }
            _ => {}
        }
        let mut touched = Vec::new();
        for (table, item, is_put, transactional) in targets {
            // Index writes are billed from the schema: have it before the
            // write, whatever the operation (not only puts need it).
            self.schema(&table).await;
            let key = if is_put {
                self.key_of(&table, &item).await
            } else {
                item.clone()
            };
            let before = self.get(&table, &key).await;
            touched.push(Touched {
                table,
                key,
                before,
                put: is_put.then_some(item),
                transactional,
            });
        }
        touched
    }

    async fn after_images(&self, touched: Vec<Touched>) -> Vec<(Touched, Option<WireItem>)> {
        let mut images = Vec::new();
        for item in touched {
            let after = self.get(&item.table, &item.key).await;
            images.push((item, after));
        }
        images
    }

    fn bill_write(
        &self,
        _operation: &str,
        _input: &Value,
        images: &[(Touched, Option<WireItem>)],
        error: Option<&str>,
    ) -> (Vec<(String, Line)>, Vec<PartitionWrite>) {
        let failed_condition = matches!(
            error,
            Some("ConditionalCheckFailedException") | Some("TransactionCanceledException")
        );
        if error.is_some() && !failed_condition {
            let lines = images
                .iter()
                .map(|(t, _)| (t.table.clone(), Line::default()))
                .take(1)
                .collect();
            return (lines, Vec::new());
        }
        let mut lines: Vec<(String, Line)> = Vec::new();
        let mut partitions: Vec<PartitionWrite> = Vec::new();
        for (touched, after) in images {
            let size = |item: &Option<WireItem>| item.as_ref().map_or(0, billing::item_size);
            let mut bytes = size(&touched.before).max(size(after));
            if failed_condition {
                bytes = size(&touched.before).max(size(&touched.put));
            }
            let factor = if touched.transactional { 2.0 } else { 1.0 };
            let mut line = Line {
                write_units: factor * billing::write_units(bytes),
                ..Line::default()
            };
            let base_partition = self
                .state
                .schemas
                .lock()
                .unwrap()
                .get(&touched.table)
                .and_then(|schema| touched.key.get(&schema.keys[0]).map(|v| v.to_string()))
                .unwrap_or_default();
            partitions.push((
                touched.table.clone(),
                format!(" {base_partition}"),
                line.write_units,
            ));
            if !failed_condition {
                let schema = self
                    .state
                    .schemas
                    .lock()
                    .unwrap()
                    .get(&touched.table)
                    .cloned();
                if let Some(schema) = schema {
                    let writes =
                        schema.index_partition_writes(touched.before.as_ref(), after.as_ref());
                    for (index, partition, units) in &writes {
                        partitions.push((
                            touched.table.clone(),
                            format!("/{index} {partition}"),
                            *units,
                        ));
                    }
                    let index: f64 = writes.iter().map(|(_, _, units)| units).sum();
                    line.write_units += index;
                    line.index_write_units += index;
                }
            }
            match lines.iter_mut().find(|(table, _)| *table == touched.table) {
                Some((_, existing)) => {
                    existing.write_units += line.write_units;
                    existing.index_write_units += line.index_write_units;
                }
                None => lines.push((touched.table.clone(), line)),
            }
        }
        (lines, partitions)
    }

    fn bill_read(&self, operation: &str, input: &Value, output: &Value) -> (String, Line) {
        let consistent = input["ConsistentRead"].as_bool().unwrap_or(false);
        let table = input["TableName"].as_str().unwrap_or("").to_string();
        let sizes = |items: &Value| -> Vec<usize> {
            items
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_object)
                .map(billing::item_size)
                .collect()
        };
        let read_units = match operation {
            "GetItem" => billing::read_units(
                output["Item"].as_object().map_or(0, billing::item_size),
                consistent,
            ),
            // A query or scan is billed on the total it read, rounded once.
            "Query" | "Scan" => {
                billing::read_units(sizes(&output["Items"]).iter().sum(), consistent)
            }
            "BatchGetItem" => output["Responses"]
                .as_object()
                .into_iter()
                .flatten()
                .flat_map(|(_, items)| sizes(items))
                .map(|size| billing::read_units(size, consistent))
                .sum(),
            "TransactGetItems" => output["Responses"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| {
                    2.0 * billing::read_units(
                        r["Item"].as_object().map_or(0, billing::item_size),
                        true,
                    )
                })
                .sum(),
            _ => 0.0,
        };
        (
            table,
            Line {
                read_units,
                ..Line::default()
            },
        )
    }
}
