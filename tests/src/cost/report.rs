//! What a cost run came to, and what it is billed: the price table
//! (us-east-1 list prices, in one place), the model's stated latencies and
//! log overheads, the figures per webhook, $ per million by service, and
//! the report `bench/cost.sh` prints.
use super::Scenario;
use crate::meter::Usage;
use std::fmt::Write as _;
use std::time::Duration;

/// us-east-1 list prices, in one place, with the day they were read.
pub struct Prices {
    pub as_of: &'static str,
    /// API Gateway HTTP API, per million requests (first 300 million):
    /// the default front door.
    pub api_gateway_per_million: f64,
    /// A Lambda function URL, per million requests: nothing beyond the
    /// receiver's own invocation and duration (the other front door).
    pub function_url_per_million: f64,
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
    /// S3 Standard, per thousand requests: PUT (COPY, POST, LIST) and
    /// GET (HEAD and the rest).
    pub s3_put_per_thousand: f64,
    pub s3_get_per_thousand: f64,
}

pub const PRICES: Prices = Prices {
    as_of: "2026-11-27, us-east-1 list prices",
    api_gateway_per_million: 1.00,
    function_url_per_million: 0.00,
    lambda_arm_gb_second: 0.000_013_333_4,
    lambda_per_million: 0.20,
    sqs_per_million: 0.40,
    lambda_invoke_per_million: 0.20,
    sns_per_million: 0.50,
    eventbridge_per_million: 1.00,
    dynamodb_wru_per_million: 0.625,
    dynamodb_rru_per_million: 0.125,
    logs_per_gb: 0.50,
    s3_put_per_thousand: 0.005,
    s3_get_per_thousand: 0.000_4,
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
pub(super) const EVENT_SOURCE_REQUESTS_PER_BATCH: f64 = 2.0;

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
    pub(super) fn of(documents: &[serde_json::Value]) -> MetricTotals {
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
    /// S3 requests at the PUT and at the GET price (large bodies).
    pub s3_put_requests: f64,
    pub s3_get_requests: f64,
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
    pub s3: f64,
    pub logs: f64,
}

impl Dollars {
    /// With the default front door, API Gateway's HTTP API.
    pub fn total(&self) -> f64 {
        self.api_gateway
            + self.lambda
            + self.sqs
            + self.targets
            + self.dynamodb
            + self.s3
            + self.logs
    }

    /// With a function URL in front of the receiver instead: the same but
    /// for API Gateway (the receiver's invocations are billed either way).
    pub fn total_with_function_url(&self) -> f64 {
        self.total() - self.api_gateway + PRICES.function_url_per_million
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
            s3_put_requests: (r.s3_put_requests + d.s3_put_requests) / n,
            s3_get_requests: (r.s3_get_requests + d.s3_get_requests) / n,
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
            s3: (p.s3_put_requests * PRICES.s3_put_per_thousand
                + p.s3_get_requests * PRICES.s3_get_per_thousand)
                * 1000.0,
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
                    "  {function:<10} {call:<42} {:>5.2} calls {:>6.2} WRU ({:.2} index) {:>5.2} RRU {:>5.2} SQS{}{}",
                    line.calls as f64 / n,
                    line.write_units / n,
                    line.index_write_units / n,
                    line.read_units / n,
                    line.sqs_requests / n,
                    if line.target_requests > 0.0 {
                        format!(" {:>5.2} billed", line.target_requests / n)
                    } else {
                        String::new()
                    },
                    match (line.s3_put_requests > 0.0, line.s3_get_requests > 0.0) {
                        (true, _) => format!(" {:>5.2} S3 PUT-priced", line.s3_put_requests / n),
                        (_, true) => format!(" {:>5.2} S3 GET-priced", line.s3_get_requests / n),
                        _ => String::new(),
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
            "  per webhook: {:.2} WRU, {:.2} RRU, {:.2} SQS requests, {:.2} S3 PUT and {:.2} S3 GET requests, {:.2} DynamoDB calls, {:.2} Lambda invocations, {:.3} GB-ms, {:.0} log bytes; receiver waits on {:.2} rounds of calls",
            p.write_units,
            p.read_units,
            p.sqs_requests,
            p.s3_put_requests,
            p.s3_get_requests,
            p.dynamodb_calls,
            p.lambda_invocations,
            p.lambda_gb_seconds * 1000.0,
            p.log_bytes,
            p.receiver_rounds
        );
        let _ = writeln!(
            out,
            "  $ per million: API Gateway {:.2} + Lambda {:.2} + SQS {:.2} + SNS, EventBridge and Lambda targets {:.2} + DynamoDB {:.2} + S3 {:.2} + Logs {:.2} = {:.2}",
            d.api_gateway,
            d.lambda,
            d.sqs,
            d.targets,
            d.dynamodb,
            d.s3,
            d.logs,
            d.total()
        );
        let _ = writeln!(
            out,
            "  front door: API Gateway HTTP API {:.2} per million (above); a function URL {:.2} (only the receiver's Lambda, counted above) = {:.2}",
            d.api_gateway,
            PRICES.function_url_per_million,
            d.total_with_function_url()
        );
        out
    }

    /// The one line scripts read.
    pub fn summary_line(&self) -> String {
        format!(
            "cost {} b={}: ${:.2} per million (${:.2} with a function URL)",
            self.scenario.name(),
            self.batch_size,
            self.dollars_per_million().total(),
            self.dollars_per_million().total_with_function_url()
        )
    }
}
