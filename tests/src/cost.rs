//! What a webhook costs on AWS, measured: real webhooks through the real
//! receiver and dispatcher binaries (under the Lambda Runtime API
//! emulator), on DynamoDB and SQS (moto) behind a [`MeteringProxy`] per
//! function. `bench/cost.sh` prints the figures; the budget test in
//! `tests/it/cost.rs` holds them down.
use crate::lambda_runtime::{
    http_api_event, lambda_binary, peak_rss_kib, sqs_event_records, start_function_counting_logs,
    FunctionProcess, LogCount, RuntimeApi,
};
use crate::meter::{MeteringProxy, ProxyOptions, Usage};
use crate::sink::{Reply, Sink};
use crate::{aws_targets, config_from, lambda_watch, moto};
use hookrelay_aws::DynamoConfigStore;
use hookrelay_models::Timestamp;
use hookrelay_signing::{sign_as_provider, ProviderMessage, Scheme, SchemeKind, Secret};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// us-east-1 list prices, in one place, with the day they were read.
pub struct Prices {
    pub as_of: &'static str,
    /// API Gateway HTTP API, per million requests (first 300 million).
    pub api_gateway_per_million: f64,
    /// Lambda on arm64: per GB-second, and per million requests.
    pub lambda_arm_gb_second: f64,
    pub lambda_per_million: f64,
    /// SQS standard queue, per million requests (64 KB chunks).
    pub sqs_per_million: f64,
    /// Lambda invokes of the user's function, per million (its own
    /// duration is the function's business, not counted here).
    pub lambda_invoke_per_million: f64,
    /// SNS standard topics, per million publishes (64 KB chunks);
    /// deliveries to SQS subscriptions are free.
    pub sns_per_million: f64,
    /// EventBridge custom events put, per million (64 KB chunks).
    pub eventbridge_per_million: f64,
    /// DynamoDB on-demand, per million write and read request units.
    pub dynamodb_wru_per_million: f64,
    pub dynamodb_rru_per_million: f64,
    /// CloudWatch Logs ingestion, per GB.
    pub logs_per_gb: f64,
}

pub const PRICES: Prices = Prices {
    as_of: "2026-11-27, us-east-1 list prices",
    api_gateway_per_million: 1.00,
    lambda_arm_gb_second: 0.000_013_333_4,
    lambda_per_million: 0.20,
    sqs_per_million: 0.40,
    lambda_invoke_per_million: 0.20,
    sns_per_million: 0.50,
    eventbridge_per_million: 1.00,
    dynamodb_wru_per_million: 0.625,
    dynamodb_rru_per_million: 0.125,
    logs_per_gb: 0.50,
};

/// What the model adds to the durations measured against moto on
/// loopback: each round trip to DynamoDB or SQS in AWS, and the
/// destination's answer.
pub const AWS_CALL_LATENCY: Duration = Duration::from_millis(10);
pub const DESTINATION_LATENCY: Duration = Duration::from_millis(100);
/// CloudWatch Logs bills 26 bytes per log event on top of its message.
const LOG_EVENT_OVERHEAD: u64 = 26;
/// The platform's START, END and REPORT lines of one invocation (text
/// format), as Lambda writes them.
const PLATFORM_LINES: [&str; 3] = [
    "START RequestId: 8f507cfc-1111-4697-b07a-ac58fc914c95 Version: $LATEST",
    "END RequestId: 8f507cfc-1111-4697-b07a-ac58fc914c95",
    "REPORT RequestId: 8f507cfc-1111-4697-b07a-ac58fc914c95\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 21 MB\t",
];
/// The event source mapping's own SQS requests per batch it hands the
/// dispatcher: one ReceiveMessage and one DeleteMessageBatch. (Its idle
/// long polls cost the same whatever the traffic and are left out.)
const EVENT_SOURCE_REQUESTS_PER_BATCH: f64 = 2.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// A Stripe event, one destination, delivered at the first try.
    OneDestination,
    /// The destination fails once, then takes the retry.
    OneRetry,
    /// One event routed to three destinations.
    ThreeDestinations,
    /// An `hmac` source with a signed timestamp and no delivery id: no
    /// dedupe record.
    NoDeliveryId,
    /// As one destination, with a rate limit (5/s, burst 5) that the
    /// batch waits on: what the shared schedule adds.
    RateLimited,
    /// One destination of kind `sqs`: a `SendMessage` to the user's queue
    /// instead of a POST.
    SqsDestination,
    /// One destination of kind `sns`: a `Publish` to the user's topic.
    SnsDestination,
    /// One destination of kind `eventbridge`: a `PutEvents` to the user's
    /// bus.
    EventbridgeDestination,
    /// One destination of kind `lambda`: a synchronous `Invoke` of the
    /// user's function (a real one, under `cargo lambda watch`).
    LambdaDestination,
    /// As one destination, delivered in order per customer
    /// (`ordering = { key = "json:/data/object/customer" }`), the webhooks
    /// spread over [`ORDERED_KEYS`] customers and all received before the
    /// dispatcher runs: each customer's later events wait for its earlier
    /// ones.
    Ordered,
}

/// How many customers (ordering keys) the ordered scenario's webhooks
/// share.
pub const ORDERED_KEYS: usize = 3;

impl Scenario {
    pub const ALL: [Scenario; 10] = [
        Scenario::OneDestination,
        Scenario::OneRetry,
        Scenario::ThreeDestinations,
        Scenario::NoDeliveryId,
        Scenario::RateLimited,
        Scenario::SqsDestination,
        Scenario::SnsDestination,
        Scenario::EventbridgeDestination,
        Scenario::LambdaDestination,
        Scenario::Ordered,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::OneDestination => "one-destination",
            Scenario::OneRetry => "one-retry",
            Scenario::ThreeDestinations => "three-destinations",
            Scenario::NoDeliveryId => "no-delivery-id",
            Scenario::RateLimited => "rate-limited",
            Scenario::SqsDestination => "sqs-destination",
            Scenario::SnsDestination => "sns-destination",
            Scenario::EventbridgeDestination => "eventbridge-destination",
            Scenario::LambdaDestination => "lambda-destination",
            Scenario::Ordered => "ordered",
        }
    }

    /// The destination's kind, for an AWS one.
    pub fn aws_kind(self) -> Option<&'static str> {
        match self {
            Scenario::SqsDestination => Some("sqs"),
            Scenario::SnsDestination => Some("sns"),
            Scenario::EventbridgeDestination => Some("eventbridge"),
            Scenario::LambdaDestination => Some("lambda"),
            _ => None,
        }
    }

    /// How many destinations each webhook goes to.
    pub fn destinations(self) -> usize {
        if self == Scenario::ThreeDestinations {
            3
        } else {
            1
        }
    }
}

const STRIPE_SECRET: &str = "whsec_cost_bench_stripe";
const HMAC_SECRET: &str = "cost-bench-hmac";
const DEST_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// `target`: an AWS destination's queue, topic or bus.
fn config_text(sink: &Sink, scenario: Scenario, target: Option<&str>) -> String {
    let mut text = format!(
        "allow_private_destinations = true\n\
         [[sources]]\nid = \"stripe\"\nscheme = \"stripe\"\nsecrets = [\"{STRIPE_SECRET}\"]\n\
         [[sources]]\nid = \"partner\"\nscheme = \"hmac\"\nsecrets = [\"{HMAC_SECRET}\"]\n\
         hmac = {{ header = \"X-Signature\", prefix = \"sha256=\", encoding = \"hex\", algorithm = \"sha256\", template = \"{{timestamp}}.{{body}}\", timestamp_header = \"X-Timestamp\" }}\n"
    );
    for n in 0..scenario.destinations() {
        let source = if scenario == Scenario::NoDeliveryId {
            "partner"
        } else {
            "stripe"
        };
        let url = match (scenario.aws_kind(), target) {
            (Some(kind), Some(target)) => format!("{target}\"\nkind = \"{kind}"),
            _ => sink.url(&format!("/dest{n}")),
        };
        let _ = write!(
            text,
            "[[destinations]]\nid = \"dest{n}\"\nurl = \"{url}\"\nsecret = \"{DEST_SECRET}\"\nretry_schedule = [\"0s\", \"1s\", \"1m\"]\n{limit}\
             [[routes]]\nsource = \"{source}\"\ndestination = \"dest{n}\"\n",
            limit = match scenario {
                Scenario::RateLimited => "rate_limit = \"5/s\"\nburst = 5\n",
                Scenario::Ordered => "ordering = { key = \"json:/data/object/customer\" }\n",
                _ => "",
            }
        );
    }
    text
}

/// A Stripe `invoice.paid` event of about 2 KiB, as Stripe sends it.
pub fn stripe_body(i: usize, with_id: bool) -> Vec<u8> {
    let id = if with_id {
        format!("\"id\": \"evt_1Q{i:022}\",\n  ")
    } else {
        String::new()
    };
    let mut lines = String::new();
    for n in 0..4 {
        let _ = write!(
            lines,
            "{}{{\"id\": \"il_1Q{i:08}{n:04}\", \"object\": \"line_item\", \"amount\": {}, \"currency\": \"usd\", \"description\": \"1 x Team plan (at $49.00 / month)\", \"period\": {{\"end\": 1767225600, \"start\": 1764547200}}, \"price\": {{\"id\": \"price_1PteamMonthly{n}\", \"unit_amount\": 4900, \"recurring\": {{\"interval\": \"month\"}}}}, \"quantity\": 1}}",
            if n == 0 { "" } else { ", " },
            4900 + n * 100
        );
    }
    format!(
        "{{\n  {id}\"object\": \"event\",\n  \"api_version\": \"2024-06-20\",\n  \"created\": 1764547200,\n  \"type\": \"invoice.paid\",\n  \"livemode\": false,\n  \"pending_webhooks\": 1,\n  \"request\": {{\"id\": null, \"idempotency_key\": null}},\n  \"data\": {{\"object\": {{\"id\": \"in_1Q{i:022}\", \"object\": \"invoice\", \"account_country\": \"US\", \"account_name\": \"Acme Corp\", \"amount_due\": 19600, \"amount_paid\": 19600, \"amount_remaining\": 0, \"billing_reason\": \"subscription_cycle\", \"collection_method\": \"charge_automatically\", \"currency\": \"usd\", \"customer\": \"cus_Q{i:012}\", \"customer_email\": \"billing{i}@example.com\", \"hosted_invoice_url\": \"https://invoice.stripe.com/i/acct_1Ab/test_{i:016}\", \"lines\": {{\"object\": \"list\", \"data\": [{lines}], \"has_more\": false, \"total_count\": 4}}, \"paid\": true, \"status\": \"paid\", \"subscription\": \"sub_1Q{i:012}\", \"total\": 19600}}}}\n}}\n"
    )
    .into_bytes()
}

/// Everything one scenario run came to.
#[derive(Debug, Clone)]
pub struct CostRun {
    pub scenario: Scenario,
    pub batch_size: usize,
    pub webhooks: usize,
    pub receiver: Usage,
    pub dispatcher: Usage,
    /// The dispatcher's invokes of a `lambda` destination's function.
    pub functions: Usage,
    pub receiver_invocations: u64,
    pub dispatcher_invocations: u64,
    pub event_source_sqs_requests: f64,
    /// Handler time not spent waiting on AWS (measured), per function.
    pub receiver_compute: Duration,
    pub dispatcher_compute: Duration,
    pub receiver_log: (u64, u64),
    pub dispatcher_log: (u64, u64),
    /// Deliveries the sink answered (attempts made).
    pub attempts: usize,
    pub memory_mb: u64,
    /// What each function's metric (EMF) documents added up to.
    pub receiver_metrics: MetricTotals,
    pub dispatcher_metrics: MetricTotals,
}

/// Metric (EMF) documents a function wrote during a run, added up.
#[derive(Debug, Clone, Default)]
pub struct MetricTotals {
    pub documents: usize,
    /// Per metric: counts summed; measurements, their number of values.
    pub values: std::collections::BTreeMap<String, u64>,
}

impl MetricTotals {
    fn of(documents: &[serde_json::Value]) -> MetricTotals {
        let mut totals = MetricTotals {
            documents: documents.len(),
            ..MetricTotals::default()
        };
        for doc in documents {
            for spec in doc["_aws"]["CloudWatchMetrics"]
                .as_array()
                .into_iter()
                .flatten()
            {
                for metric in spec["Metrics"].as_array().into_iter().flatten() {
                    let name = metric["Name"].as_str().unwrap_or_default();
                    let added = match &doc[name] {
                        serde_json::Value::Array(values) => values.len() as u64,
                        value => value.as_u64().unwrap_or(0),
                    };
                    *totals.values.entry(name.to_string()).or_default() += added;
                }
            }
        }
        totals
    }

    pub fn get(&self, name: &str) -> u64 {
        self.values.get(name).copied().unwrap_or(0)
    }
}

/// Per webhook.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PerWebhook {
    pub write_units: f64,
    pub read_units: f64,
    pub sqs_requests: f64,
    /// SNS publishes, EventBridge events (64 KB chunks).
    pub sns_requests: f64,
    pub eventbridge_events: f64,
    /// Invokes of a `lambda` destination's function.
    pub lambda_invokes: f64,
    pub dynamodb_calls: f64,
    pub receiver_rounds: f64,
    pub lambda_invocations: f64,
    pub lambda_gb_seconds: f64,
    pub log_bytes: f64,
}

/// $ per million webhooks, by service.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dollars {
    pub api_gateway: f64,
    pub lambda: f64,
    pub sqs: f64,
    /// SNS, EventBridge and Lambda invokes, for destinations of those
    /// kinds.
    pub targets: f64,
    pub dynamodb: f64,
    pub logs: f64,
}

impl Dollars {
    pub fn total(&self) -> f64 {
        self.api_gateway + self.lambda + self.sqs + self.targets + self.dynamodb + self.logs
    }
}

impl CostRun {
    pub fn per_webhook(&self) -> PerWebhook {
        let n = self.webhooks as f64;
        let (r, d) = (self.receiver.total(), self.dispatcher.total());
        let gb = self.memory_mb as f64 / 1024.0;
        // Billed per invocation in whole milliseconds: the measured compute
        // plus, for each round of calls, AWS's latency; the dispatcher also
        // waits for destinations (concurrently within a batch).
        let billed = |compute: Duration, rounds: u64, invocations: u64, waits: f64| -> f64 {
            let modeled = compute.as_secs_f64()
                + rounds as f64 * AWS_CALL_LATENCY.as_secs_f64()
                + waits * DESTINATION_LATENCY.as_secs_f64();
            // Round each invocation up to a millisecond.
            modeled + invocations as f64 * 0.0005
        };
        let dispatcher_waits = self.dispatcher_invocations as f64;
        let dispatcher_rounds =
            (self.dispatcher.sequential_rounds as f64 / self.batch_size as f64).ceil() as u64;
        let seconds = billed(
            self.receiver_compute,
            self.receiver.sequential_rounds,
            self.receiver_invocations,
            0.0,
        ) + billed(
            self.dispatcher_compute,
            dispatcher_rounds.max(self.dispatcher_invocations),
            self.dispatcher_invocations,
            dispatcher_waits,
        );
        let log_bytes = |(lines, bytes): (u64, u64), invocations: u64| -> f64 {
            let platform: u64 = PLATFORM_LINES
                .iter()
                .map(|l| l.len() as u64 + LOG_EVENT_OVERHEAD)
                .sum();
            (bytes + lines * LOG_EVENT_OVERHEAD + invocations * platform) as f64
        };
        PerWebhook {
            write_units: (r.write_units + d.write_units) / n,
            read_units: (r.read_units + d.read_units) / n,
            sqs_requests: (r.sqs_requests + d.sqs_requests + self.event_source_sqs_requests) / n,
            sns_requests: self.dispatcher.target_requests("sns") / n,
            eventbridge_events: self.dispatcher.target_requests("events") / n,
            lambda_invokes: self.functions.target_requests("lambda") / n,
            dynamodb_calls: (self.receiver.dynamodb_calls() + self.dispatcher.dynamodb_calls())
                as f64
                / n,
            receiver_rounds: self.receiver.sequential_rounds as f64
                / self.receiver_invocations.max(1) as f64,
            lambda_invocations: (self.receiver_invocations + self.dispatcher_invocations) as f64
                / n,
            lambda_gb_seconds: gb * seconds / n,
            log_bytes: (log_bytes(self.receiver_log, self.receiver_invocations)
                + log_bytes(self.dispatcher_log, self.dispatcher_invocations))
                / n,
        }
    }

    pub fn dollars_per_million(&self) -> Dollars {
        let p = self.per_webhook();
        let million = 1_000_000.0;
        Dollars {
            api_gateway: PRICES.api_gateway_per_million,
            lambda: p.lambda_invocations * PRICES.lambda_per_million
                + p.lambda_gb_seconds * million * PRICES.lambda_arm_gb_second,
            sqs: p.sqs_requests * PRICES.sqs_per_million,
            targets: p.sns_requests * PRICES.sns_per_million
                + p.eventbridge_events * PRICES.eventbridge_per_million
                + p.lambda_invokes * PRICES.lambda_invoke_per_million,
            dynamodb: p.write_units * PRICES.dynamodb_wru_per_million
                + p.read_units * PRICES.dynamodb_rru_per_million,
            logs: p.log_bytes * million / 1e9 * PRICES.logs_per_gb,
        }
    }

    /// The report: what each call came to per webhook, then the totals.
    pub fn report(&self) -> String {
        let n = self.webhooks as f64;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "scenario {} (batch size {}, {} webhooks, {} attempts)",
            self.scenario.name(),
            self.batch_size,
            self.webhooks,
            self.attempts
        );
        for (function, usage) in [
            ("receiver", &self.receiver),
            ("dispatcher", &self.dispatcher),
            ("dispatcher", &self.functions),
        ] {
            for (call, line) in &usage.lines {
                let _ = writeln!(
                    out,
                    "  {function:<10} {call:<42} {:>5.2} calls {:>6.2} WRU ({:.2} index) {:>5.2} RRU {:>5.2} SQS{}",
                    line.calls as f64 / n,
                    line.write_units / n,
                    line.index_write_units / n,
                    line.read_units / n,
                    line.sqs_requests / n,
                    if line.target_requests > 0.0 {
                        format!(" {:>5.2} billed", line.target_requests / n)
                    } else {
                        String::new()
                    }
                );
            }
        }
        let _ = writeln!(
            out,
            "  {:<10} {:<42} {:>5.2} calls {:>6.2} WRU        {:>11} {:>5.2} SQS",
            "event src",
            "sqs ReceiveMessage + DeleteMessageBatch",
            self.event_source_sqs_requests / n,
            0.0,
            "",
            self.event_source_sqs_requests / n
        );
        let p = self.per_webhook();
        let d = self.dollars_per_million();
        let _ = writeln!(
            out,
            "  per webhook: {:.2} WRU, {:.2} RRU, {:.2} SQS requests, {:.2} DynamoDB calls, {:.2} Lambda invocations, {:.3} GB-ms, {:.0} log bytes; receiver waits on {:.2} rounds of calls",
            p.write_units,
            p.read_units,
            p.sqs_requests,
            p.dynamodb_calls,
            p.lambda_invocations,
            p.lambda_gb_seconds * 1000.0,
            p.log_bytes,
            p.receiver_rounds
        );
        let _ = writeln!(
            out,
            "  $ per million: API Gateway {:.2} + Lambda {:.2} + SQS {:.2} + SNS, EventBridge and Lambda targets {:.2} + DynamoDB {:.2} + Logs {:.2} = {:.2}",
            d.api_gateway,
            d.lambda,
            d.sqs,
            d.targets,
            d.dynamodb,
            d.logs,
            d.total()
        );
        out
    }

    /// The one line scripts read.
    pub fn summary_line(&self) -> String {
        format!(
            "cost {} b={}: ${:.2} per million",
            self.scenario.name(),
            self.batch_size,
            self.dollars_per_million().total()
        )
    }
}

/// The functions on moto, each behind its own proxy.
pub struct CostBench {
    sdk_sqs: aws_sdk_sqs::Client,
    queue_url: String,
    sink: Sink,
    receiver_api: RuntimeApi,
    dispatcher_api: RuntimeApi,
    receiver_proxy: MeteringProxy,
    dispatcher_proxy: MeteringProxy,
    /// In front of `cargo lambda watch`, for a `lambda` destination.
    functions_proxy: Option<MeteringProxy>,
    receiver: (FunctionProcess, Arc<LogCount>),
    dispatcher: (FunctionProcess, Arc<LogCount>),
    scenario: Scenario,
    memory_mb: u64,
    /// Webhooks sent so far (each run's are new, not duplicates).
    sent: std::sync::atomic::AtomicUsize,
    /// An AWS destination's queue, or the queue its topic or bus sends
    /// to: where its deliveries are counted.
    landing: Option<String>,
    /// Messages taken from `landing` so far.
    landed: std::sync::atomic::AtomicUsize,
}

/// The functions' memory size, as the SAM template sets it.
pub fn template_memory_mb() -> u64 {
    let template = std::fs::read_to_string(crate::repo_root().join("infra/template.yaml"))
        .expect("read infra/template.yaml");
    template
        .lines()
        .find_map(|l| l.trim().strip_prefix("MemorySize:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("a MemorySize in infra/template.yaml")
}

impl CostBench {
    /// `latency`: added to every AWS call; `metering`: bill the calls.
    pub async fn start(scenario: Scenario, latency: Duration, metering: bool) -> CostBench {
        let receiver_bin = lambda_binary("hookrelay-receiver", "receiver");
        let dispatcher_bin = lambda_binary("hookrelay-dispatcher", "dispatcher");
        let moto = moto::shared();
        let (provisioned, dynamo, sqs) = moto::Provisioned::on_shared_with_clients().await;
        let moto::Provisioned {
            events_table,
            config_table,
            queue_url,
            ..
        } = provisioned.clone();
        let sink = Sink::start().await;
        let (landing, target) = match scenario.aws_kind() {
            Some("lambda") => (None, Some(lambda_watch::FUNCTION.to_string())),
            Some(kind) => {
                let landing = aws_targets::create_queue(&sqs, "landing", false).await;
                let arn = aws_targets::queue_arn(&sqs, &landing).await;
                let sdk = moto.sdk_config();
                let target = match kind {
                    "sqs" => landing.clone(),
                    "sns" => aws_targets::topic_into(&sdk, &arn).await,
                    _ => {
                        aws_targets::bus_into(
                            &sdk,
                            &arn,
                            r#"{"source": [{"prefix": "hookrelay."}]}"#,
                        )
                        .await
                    }
                };
                (Some(landing), Some(target))
            }
            None => (None, None),
        };
        DynamoConfigStore::new(dynamo.clone(), &config_table)
            .replace_config(&config_from(&config_text(
                &sink,
                scenario,
                target.as_deref(),
            )))
            .await
            .expect("store the configuration");
        let roles = HashMap::from([
            (events_table.clone(), "events".to_string()),
            (config_table.clone(), "config".to_string()),
        ]);
        let options = ProxyOptions {
            latency,
            metering,
            roles,
        };
        let receiver_proxy = MeteringProxy::start(&moto.endpoint, options.clone()).await;
        let dispatcher_proxy = MeteringProxy::start(&moto.endpoint, options.clone()).await;
        let functions_proxy = match scenario.aws_kind() {
            Some("lambda") => {
                Some(MeteringProxy::start(&lambda_watch::shared().endpoint, options).await)
            }
            _ => None,
        };
        let env = |endpoint: String| {
            let mut env = provisioned.environment(&endpoint);
            env.push(("HOOKRELAY_ALLOW_PRIVATE_DESTINATIONS".into(), "true".into()));
            // A warm function reads the configuration once per cache
            // period, not per webhook: keep the refresh out of a run.
            env.push(("HOOKRELAY_CONFIG_CACHE_SECS".into(), "600".into()));
            env
        };
        let receiver_api = RuntimeApi::start().await;
        let receiver = start_function_counting_logs(
            &receiver_bin,
            "hookrelay-receiver",
            &receiver_api,
            &env(receiver_proxy.endpoint()),
        );
        let dispatcher_api = RuntimeApi::start().await;
        let dispatcher = start_function_counting_logs(
            &dispatcher_bin,
            "hookrelay-dispatcher",
            &dispatcher_api,
            &[
                env(dispatcher_proxy.endpoint()),
                functions_proxy
                    .iter()
                    .map(|proxy| ("AWS_ENDPOINT_URL_LAMBDA".to_string(), proxy.endpoint()))
                    .collect(),
            ]
            .concat(),
        );
        CostBench {
            sdk_sqs: sqs,
            queue_url,
            sink,
            receiver_api,
            dispatcher_api,
            receiver_proxy,
            dispatcher_proxy,
            functions_proxy,
            receiver,
            dispatcher,
            scenario,
            memory_mb: template_memory_mb(),
            sent: std::sync::atomic::AtomicUsize::new(0),
            landing,
            landed: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    fn signed(&self, i: usize) -> (String, Vec<u8>, Vec<(String, String)>) {
        let now = Timestamp::now().unix_secs();
        match self.scenario {
            Scenario::NoDeliveryId => {
                let body = stripe_body(i, false);
                let config = config_from(&config_text(&self.sink, self.scenario, None));
                let source = config
                    .sources
                    .iter()
                    .find(|s| s.id.as_str() == "partner")
                    .expect("partner source");
                let scheme =
                    Scheme::from_parts(source.scheme, source.hmac.clone()).expect("hmac scheme");
                let message = ProviderMessage {
                    body: &body,
                    timestamp: now,
                    id: "",
                    url: None,
                };
                let mut headers =
                    sign_as_provider(&scheme, &Secret::new(HMAC_SECRET), &message).expect("sign");
                headers.push(("X-Timestamp".into(), now.to_string()));
                ("/hooks/partner".into(), body, headers)
            }
            _ => {
                let mut body = stripe_body(i, true);
                if self.scenario == Scenario::Ordered {
                    // One of a few customers (the same length as the
                    // customer it replaces).
                    let customer = |n: usize| format!("\"customer\": \"cus_Q{n:012}\"");
                    body = String::from_utf8(body)
                        .expect("a UTF-8 body")
                        .replace(&customer(i), &customer(i % ORDERED_KEYS))
                        .into_bytes();
                }
                let message = ProviderMessage {
                    body: &body,
                    timestamp: now,
                    id: "",
                    url: None,
                };
                let headers = sign_as_provider(
                    &Scheme::Named(SchemeKind::Stripe),
                    &Secret::new(STRIPE_SECRET),
                    &message,
                )
                .expect("sign");
                ("/hooks/stripe".into(), body, headers)
            }
        }
    }

    /// The receiver's calls so far.
    pub fn receiver_usage(&self) -> Usage {
        self.receiver_proxy.usage()
    }

    /// One webhook through both functions, not counted: caches filled and
    /// connections open, as in a warm function.
    pub async fn warm_up(&self) {
        let first = self.sent.fetch_add(1, Ordering::SeqCst);
        for n in 0..self.scenario.destinations() {
            self.sink
                .script(&format!("/dest{n}"), vec![Reply::Status(200)]);
        }
        self.send(first).await;
        let mut compute = Duration::ZERO;
        let made = self.attempts_made().await;
        self.dispatch(made + self.scenario.destinations(), 1, &mut compute)
            .await;
    }

    /// Sends `i` to the receiver; answers its wall time.
    pub async fn send(&self, i: usize) -> Duration {
        let (path, body, mut headers) = self.signed(i);
        // What API Gateway adds to every request.
        headers.extend([
            (
                "user-agent".to_string(),
                "Stripe/1.0 (+https://stripe.com/docs/webhooks)".to_string(),
            ),
            (
                "accept".to_string(),
                "*/*; q=0.5, application/xml".to_string(),
            ),
            ("accept-encoding".to_string(), "gzip".to_string()),
            ("content-length".to_string(), body.len().to_string()),
            (
                "x-amzn-trace-id".to_string(),
                "Root=1-6746f0a0-3c1e5f0b2a7d4e9f8a6b5c4d".to_string(),
            ),
            ("x-forwarded-for".to_string(), "54.187.174.169".to_string()),
            ("x-forwarded-port".to_string(), "443".to_string()),
            ("x-forwarded-proto".to_string(), "https".to_string()),
        ]);
        let started = Instant::now();
        let response = self
            .receiver_api
            .invoke(
                &http_api_event(&path, &body, &headers),
                Duration::from_secs(60),
            )
            .await
            .expect("receiver answered");
        let took = started.elapsed();
        assert_eq!(response["statusCode"], 202, "{response}");
        took
    }

    /// Hands the dispatcher what the queue has, in batches of up to
    /// `batch_size` (as the event source does, with no batching window),
    /// until the sink has had `attempts` requests in all and the queue is
    /// empty; answers the invocations.
    async fn dispatch(&self, attempts: usize, batch_size: usize, compute: &mut Duration) -> u64 {
        let mut invocations = 0;
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let made = self.attempts_made().await;
            assert!(
                Instant::now() < deadline,
                "only {made} of {attempts} attempts were made",
            );
            let mut messages = Vec::new();
            while messages.len() < batch_size {
                let received = self
                    .sdk_sqs
                    .receive_message()
                    .queue_url(&self.queue_url)
                    .max_number_of_messages((batch_size - messages.len()).min(10) as i32)
                    .visibility_timeout(120)
                    .wait_time_seconds(if messages.is_empty() { 1 } else { 0 })
                    .send()
                    .await
                    .expect("receive");
                if received.messages().is_empty() {
                    break;
                }
                messages.extend(received.messages().iter().cloned());
            }
            if messages.is_empty() {
                if self.attempts_made().await >= attempts {
                    return invocations;
                }
                continue;
            }
            let before = self.dispatcher_proxy.usage();
            let started = Instant::now();
            let response = self
                .dispatcher_api
                .invoke(
                    &serde_json::json!({ "Records": sqs_event_records(&messages) }),
                    Duration::from_secs(120),
                )
                .await
                .expect("dispatcher answered");
            let wall = started.elapsed();
            let waited = self.dispatcher_proxy.usage().since(&before).time_in_calls;
            *compute += wall.saturating_sub(waited);
            assert_eq!(
                response["batchItemFailures"],
                serde_json::json!([]),
                "{response}"
            );
            for message in &messages {
                self.sdk_sqs
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(message.receipt_handle().unwrap_or_default())
                    .send()
                    .await
                    .expect("delete");
            }
            invocations += 1;
        }
    }

    /// Requests the sink has had, to every destination; for an AWS
    /// destination, the messages that reached its queue (or its topic's or
    /// bus's).
    async fn attempts_made(&self) -> usize {
        if let Some(functions) = &self.functions_proxy {
            return functions
                .usage()
                .lines
                .get("lambda Invoke")
                .map_or(0, |line| line.calls as usize);
        }
        if let Some(landing) = &self.landing {
            let taken = aws_targets::take_all(&self.sdk_sqs, landing).await;
            return self.landed.fetch_add(taken, Ordering::SeqCst) + taken;
        }
        (0..self.scenario.destinations())
            .map(|n| self.sink.received(&format!("/dest{n}")).len())
            .sum()
    }

    /// Runs `webhooks` webhooks through, with the dispatcher taking batches
    /// of `batch_size`.
    pub async fn run(&self, webhooks: usize, batch_size: usize) -> CostRun {
        let destinations = self.scenario.destinations();
        for n in 0..destinations {
            let path = format!("/dest{n}");
            match self.scenario {
                Scenario::OneRetry => {
                    let mut script = vec![Reply::Status(500); webhooks];
                    script.push(Reply::Status(200));
                    self.sink.script(&path, script);
                }
                _ => self.sink.script(&path, vec![Reply::Status(200)]),
            }
        }
        let receiver_before = self.receiver_proxy.usage();
        let dispatcher_before = self.dispatcher_proxy.usage();
        let functions_usage = || {
            self.functions_proxy
                .as_ref()
                .map(MeteringProxy::usage)
                .unwrap_or_default()
        };
        let functions_before = functions_usage();
        let logs_before = |count: &LogCount| {
            (
                count.lines.load(Ordering::SeqCst),
                count.bytes.load(Ordering::SeqCst),
            )
        };
        let (receiver_logs, dispatcher_logs) = (
            logs_before(&self.receiver.1),
            logs_before(&self.dispatcher.1),
        );
        let documents = |count: &LogCount| count.metric_documents.lock().unwrap().len();
        let (receiver_documents, dispatcher_documents) =
            (documents(&self.receiver.1), documents(&self.dispatcher.1));
        let received_before = self.attempts_made().await;
        let first = self.sent.fetch_add(webhooks, Ordering::SeqCst);
        let mut receiver_compute = Duration::ZERO;
        for i in first..first + webhooks {
            let before = self.receiver_proxy.usage();
            let wall = self.send(i).await;
            let waited = self.receiver_proxy.usage().since(&before).time_in_calls;
            receiver_compute += wall.saturating_sub(waited);
        }
        // With one retry, each failed attempt queues its retry, due in a
        // second.
        let expected_attempts = webhooks
            * destinations
            * if self.scenario == Scenario::OneRetry {
                2
            } else {
                1
            };
        let mut dispatcher_compute = Duration::ZERO;
        let dispatcher_invocations = self
            .dispatch(
                received_before + expected_attempts,
                batch_size,
                &mut dispatcher_compute,
            )
            .await;
        let attempts = self.attempts_made().await - received_before;
        assert_eq!(attempts, expected_attempts, "attempts made");
        // Let the functions' last log lines arrive.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let logs_since = |count: &LogCount, (lines, bytes): (u64, u64)| {
            (
                count.lines.load(Ordering::SeqCst) - lines,
                count.bytes.load(Ordering::SeqCst) - bytes,
            )
        };
        CostRun {
            scenario: self.scenario,
            batch_size,
            webhooks,
            receiver: self.receiver_proxy.usage().since(&receiver_before),
            dispatcher: self.dispatcher_proxy.usage().since(&dispatcher_before),
            functions: functions_usage().since(&functions_before),
            receiver_invocations: webhooks as u64,
            dispatcher_invocations,
            event_source_sqs_requests: dispatcher_invocations as f64
                * EVENT_SOURCE_REQUESTS_PER_BATCH,
            receiver_compute,
            dispatcher_compute,
            receiver_log: logs_since(&self.receiver.1, receiver_logs),
            dispatcher_log: logs_since(&self.dispatcher.1, dispatcher_logs),
            attempts,
            memory_mb: self.memory_mb,
            receiver_metrics: MetricTotals::of(
                &self.receiver.1.metric_documents.lock().unwrap()[receiver_documents..],
            ),
            dispatcher_metrics: MetricTotals::of(
                &self.dispatcher.1.metric_documents.lock().unwrap()[dispatcher_documents..],
            ),
        }
    }

    /// The most memory each function has held so far, in KiB.
    pub fn peak_rss_kib(&self) -> (Option<u64>, Option<u64>) {
        (
            peak_rss_kib(&self.receiver.0),
            peak_rss_kib(&self.dispatcher.0),
        )
    }
}
