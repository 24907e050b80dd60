//! `bench/cost.sh`: what a webhook costs on AWS, per scenario and
//! dispatcher batch size, measured through the real functions on moto.
//!
//!   cost [--webhooks N] [--batch 1,10] [--scenario NAME]...
use hookrelay_tests::cost::{CostBench, Scenario, AWS_CALL_LATENCY, DESTINATION_LATENCY, PRICES};
use std::time::Duration;

fn main() {
    let mut webhooks = 20;
    let mut batches = vec![1, 10];
    let mut scenarios = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--webhooks" => webhooks = value.parse().expect("--webhooks N"),
            "--batch" => {
                batches = value
                    .split(',')
                    .map(|b| b.parse().expect("--batch 1,10"))
                    .collect()
            }
            "--scenario" => scenarios.push(
                Scenario::ALL
                    .into_iter()
                    .find(|s| s.name() == value)
                    .unwrap_or_else(|| panic!("no scenario {value}")),
            ),
            other => panic!("unknown argument {other}"),
        }
    }
    if scenarios.is_empty() {
        scenarios = Scenario::ALL.to_vec();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        println!(
            "prices: {} (API Gateway HTTP API ${:.2}/M; Lambda arm64 ${}/GB-s + ${:.2}/M; SQS ${:.2}/M; DynamoDB ${}/M WRU, ${}/M RRU; S3 ${}/1,000 PUT, ${}/1,000 GET; CloudWatch Logs ${:.2}/GB)",
            PRICES.as_of,
            PRICES.api_gateway_per_million,
            PRICES.lambda_arm_gb_second,
            PRICES.lambda_per_million,
            PRICES.sqs_per_million,
            PRICES.dynamodb_wru_per_million,
            PRICES.dynamodb_rru_per_million,
            PRICES.s3_put_per_thousand,
            PRICES.s3_get_per_thousand,
            PRICES.logs_per_gb
        );
        println!(
            "front door: API Gateway HTTP API ${:.2}/M (the default, FrontDoor=api-gateway) or a Lambda function URL ${:.2}/M (FrontDoor=function-url: only the receiver's own invocation and duration, billed either way)",
            PRICES.api_gateway_per_million,
            PRICES.function_url_per_million
        );
        println!(
            "model: Lambda time = measured handler time against moto without the calls' own time, plus {} ms per round of AWS calls and {} ms per batch for destinations to answer",
            AWS_CALL_LATENCY.as_millis(),
            DESTINATION_LATENCY.as_millis()
        );
        let mut summary = Vec::new();
        for scenario in &scenarios {
            let bench = CostBench::start(*scenario, Duration::ZERO, true).await;
            bench.warm_up().await;
            for batch in &batches {
                let run = bench.run(webhooks, *batch).await;
                print!("\n{}", run.report());
                summary.push(run.summary_line());
            }
            let (receiver, dispatcher) = bench.peak_rss_kib();
            println!(
                "  peak RSS: receiver {} KiB, dispatcher {} KiB (memory size {} MB)",
                receiver.unwrap_or(0),
                dispatcher.unwrap_or(0),
                hookrelay_tests::cost::template_memory_mb()
            );
        }

        // The receiver's acknowledgement with every AWS call 10 ms slower:
        // the rounds it waits for in sequence show in its answer time.
        let plain = CostBench::start(Scenario::OneDestination, Duration::ZERO, false).await;
        let slowed = CostBench::start(Scenario::OneDestination, Duration::from_millis(10), false).await;
        plain.warm_up().await;
        slowed.warm_up().await;
        let calls_before = slowed.receiver_usage();
        let mut base = Vec::new();
        let mut slow = Vec::new();
        for i in 0..webhooks.max(20) {
            base.push(plain.send(10_000 + i).await);
            slow.push(slowed.send(20_000 + i).await);
        }
        let calls = slowed.receiver_usage().since(&calls_before);
        let sent = webhooks.max(20) as f64;
        println!(
            "\nreceiver: {:.1} AWS calls per webhook, {:.1} of them one after another",
            calls.requests as f64 / sent,
            calls.sequential_rounds as f64 / sent
        );
        base.sort();
        slow.sort();
        let median = |times: &[Duration]| times[times.len() / 2];
        println!(
            "receiver acknowledgement, median of {}: {:.1} ms against moto; {:.1} ms with +10 ms per AWS call (+{:.1} ms: {:.1} calls in sequence)",
            base.len(),
            median(&base).as_secs_f64() * 1000.0,
            median(&slow).as_secs_f64() * 1000.0,
            (median(&slow).as_secs_f64() - median(&base).as_secs_f64()) * 1000.0,
            (median(&slow).as_secs_f64() - median(&base).as_secs_f64()) / 0.010
        );
        println!();
        for line in summary {
            println!("{line}");
        }
    });
}
