//! What a webhook costs on AWS, measured: real webhooks through the real
//! receiver and dispatcher binaries (under the Lambda Runtime API
//! emulator), on DynamoDB and SQS (moto) behind a [`MeteringProxy`] per
//! function. `bench/cost.sh` prints the figures; the budget test in
//! `tests/it/cost.rs` holds them down.
mod report;
mod scenario;

pub use report::{
    CostRun, Dollars, MetricTotals, PerWebhook, Prices, AWS_CALL_LATENCY, DESTINATION_LATENCY,
    PRICES,
};
pub use scenario::{github_push_body, stripe_body, Scenario, ORDERED_KEYS};

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
use report::EVENT_SOURCE_REQUESTS_PER_BATCH;
use scenario::{config_text, github_headers, HMAC_SECRET, STRIPE_SECRET};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

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
            Scenario::GithubPush | Scenario::LargeBody => {
                let body = match self.scenario {
                    Scenario::LargeBody => github_push_body(i, 20, 35),
                    _ => github_push_body(i, 1, 0),
                };
                let headers = github_headers(i, &body);
                ("/hooks/github".into(), body, headers)
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
        // Stripe's own (GitHub's come with its signature).
        if self.scenario.source() != "github" {
            headers.extend([
                (
                    "user-agent".to_string(),
                    "Stripe/1.0 (+https://stripe.com/docs/webhooks)".to_string(),
                ),
                (
                    "accept".to_string(),
                    "*/*; q=0.5, application/xml".to_string(),
                ),
            ]);
        }
        // What API Gateway adds to every request.
        headers.extend([
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
