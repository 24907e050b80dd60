//! The cost budget: what each scenario of `bench/cost.sh` spends per
//! webhook, counted (not timed) through the metering proxy, must stay
//! within its budget. A change that adds a write, a read or a request per
//! webhook fails here; one that saves some lowers the budget with it.
use hookrelay_tests::cost::{github_push_body, CostBench, Scenario};
use std::time::Duration;

/// Per webhook at the dispatcher's batch size of 10: write units, read
/// units, SQS requests, and the rounds of AWS calls the receiver waits for
/// before it answers. Read units include each destination's pause read
/// (half a unit, at most once a second per dispatcher: 0.05 per webhook in
/// a batch of ten, added by issue 27 so that a `429`'s pause holds for
/// every dispatcher). Issue 17's target for one destination was 8 WRU,
/// 1 RRU, 2 SQS requests and 2 rounds.
struct Budget {
    write_units: f64,
    read_units: f64,
    sqs_requests: f64,
    receiver_rounds: f64,
}

fn budget(scenario: Scenario) -> Budget {
    match scenario {
        Scenario::OneDestination => Budget {
            write_units: 6.0,
            read_units: 1.05,
            sqs_requests: 1.2,
            receiver_rounds: 2.0,
        },
        Scenario::OneRetry => Budget {
            // A retry is claimed once or twice, as jitter spreads them.
            write_units: 12.5,
            read_units: 2.2,
            // Jitter spreads the retries, and the event source hands them
            // over as they come: at worst one batch each.
            sqs_requests: 4.2,
            receiver_rounds: 2.0,
        },
        Scenario::ThreeDestinations => Budget {
            write_units: 12.0,
            read_units: 1.15,
            sqs_requests: 1.2,
            receiver_rounds: 2.0,
        },
        Scenario::NoDeliveryId => Budget {
            write_units: 5.0,
            read_units: 1.05,
            sqs_requests: 1.2,
            receiver_rounds: 2.0,
        },
        // One destination's, plus the 0.2 write units for the
        // shared schedule; the batch takes about a second at 5/s, so its
        // pause is read twice.
        // A slot that runs out while a slow claim is made (a loaded
        // machine) is replaced by another take: 6.3 was measured once in a
        // full parallel run.
        Scenario::RateLimited => Budget {
            write_units: 6.3,
            read_units: 1.1,
            sqs_requests: 1.2,
            receiver_rounds: 2.0,
        },
        // One destination's; an SQS destination's SendMessage is one more
        // SQS request (SNS's publish and EventBridge's event are billed by
        // those services, and checked below).
        Scenario::SqsDestination => Budget {
            sqs_requests: 2.2,
            ..budget(Scenario::OneDestination)
        },
        Scenario::SnsDestination
        | Scenario::EventbridgeDestination
        | Scenario::LambdaDestination => budget(Scenario::OneDestination),
        // One destination's, plus each event's lane entry at receipt (a
        // third round before the 2xx) and its removal after settling (+2
        // write units), the head's consistent read before each attempt and
        // the next head's after, and for events that come behind an earlier
        // one of their customer in the same batch, a look at their own lane
        // entry and at the head again, and a message when their turn comes
        // (measured 8.00 write and 7.30 read units, 2.50 SQS requests here;
        // 8.00, 8.18 and 2.65 with 20 webhooks, 2026-12-06).
        Scenario::Ordered => Budget {
            write_units: 8.5,
            read_units: 8.6,
            sqs_requests: 3.0,
            receiver_rounds: 3.0,
        },
        // One destination's, but GitHub's ~2 KiB push (random commit ids,
        // GitHub's eight headers) packs to more than a kilobyte where
        // Stripe's fits one: its event costs 2 write units, not 1
        // (measured 7.00 WRU, 1.05 RRU, 1.20 SQS requests, 2026-12-06, 10
        // webhooks).
        Scenario::GithubPush => Budget {
            write_units: 7.0,
            ..budget(Scenario::OneDestination)
        },
        // One destination's: the item holds a reference, not the body
        // (measured 6.00 WRU, 1.05 RRU, 1.20 SQS requests, 2026-12-06,
        // 10 webhooks). The body's PutObject goes before the event's put,
        // beside the SendMessage: a third round when the message is
        // queued first (measured 2.40 rounds).
        Scenario::LargeBody => Budget {
            receiver_rounds: 3.0,
            ..budget(Scenario::OneDestination)
        },
    }
}

#[test]
fn the_github_push_bodies_are_the_sizes_their_scenarios_say() {
    let push = github_push_body(7, 1, 0).len();
    assert!(
        (1800..=2400).contains(&push),
        "a one-commit push is {push} bytes"
    );
    let large = github_push_body(7, 20, 35).len();
    eprintln!("GitHub push bodies: {push} bytes, and {large} for the deploy");
    assert!(
        (60 * 1024..=68 * 1024).contains(&large),
        "a deploy push is {large} bytes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_stays_within_its_budget_per_webhook() {
    let _turn = hookrelay_tests::heavy_test_turn().await;
    let mut over = Vec::new();
    let mut write_units = std::collections::HashMap::new();
    for scenario in Scenario::ALL {
        let bench = CostBench::start(scenario, Duration::ZERO, true).await;
        bench.warm_up().await;
        let run = bench.run(10, 10).await;
        let spent = run.per_webhook();
        let limit = budget(scenario);
        write_units.insert(scenario.name(), spent.write_units);
        eprintln!("{}", run.report());
        // Something was measured: a broken meter must not pass.
        assert!(
            spent.write_units >= 1.0 && spent.sqs_requests >= 1.0,
            "{}",
            run.report()
        );
        // The functions' metrics add up, one document per invocation.
        let (receiver, dispatcher) = (&run.receiver_metrics, &run.dispatcher_metrics);
        assert_eq!(
            receiver.documents as u64, run.receiver_invocations,
            "{receiver:?}"
        );
        assert_eq!(
            receiver.get("Received"),
            run.webhooks as u64,
            "{receiver:?}"
        );
        assert_eq!(
            receiver.get("Enqueued"),
            run.webhooks as u64,
            "{receiver:?}"
        );
        assert!(
            dispatcher.documents as u64 <= run.dispatcher_invocations,
            "{dispatcher:?}"
        );
        let deliveries = (run.webhooks * scenario.destinations()) as u64;
        assert_eq!(dispatcher.get("Delivered"), deliveries, "{dispatcher:?}");
        assert_eq!(
            dispatcher.get("DeliveryLatency"),
            deliveries,
            "{dispatcher:?}"
        );
        // An AWS destination's own service bills one request or event per
        // delivery (the body is well under 64 KB), and nothing else does.
        let (sns, events, invokes) = match scenario {
            Scenario::SnsDestination => (1.0, 0.0, 0.0),
            Scenario::EventbridgeDestination => (0.0, 1.0, 0.0),
            Scenario::LambdaDestination => (0.0, 0.0, 1.0),
            _ => (0.0, 0.0, 0.0),
        };
        assert_eq!(
            (
                spent.sns_requests,
                spent.eventbridge_events,
                spent.lambda_invokes
            ),
            (sns, events, invokes),
            "{}",
            run.report()
        );
        // S3 is billed for a body kept there only: its PutObject at the
        // receiver, a GetObject per delivery (the scenario has one).
        let s3 = match scenario {
            Scenario::LargeBody => (1.0, 1.0),
            _ => (0.0, 0.0),
        };
        assert_eq!(
            (spent.s3_put_requests, spent.s3_get_requests),
            s3,
            "{}",
            run.report()
        );
        let checks = [
            ("write units", spent.write_units, limit.write_units),
            ("read units", spent.read_units, limit.read_units),
            ("SQS requests", spent.sqs_requests, limit.sqs_requests),
            (
                "receiver rounds",
                spent.receiver_rounds,
                limit.receiver_rounds,
            ),
        ];
        for (what, value, allowed) in checks {
            if value > allowed + 1e-9 {
                over.push(format!(
                    "{}: {value:.2} {what} per webhook, budget {allowed:.2}",
                    scenario.name()
                ));
            }
        }
    }
    assert!(over.is_empty(), "over budget:\n{}", over.join("\n"));
    // The bound, measured in the same run: a rate limit adds at
    // most 0.2 write units per delivery.
    let added = write_units["rate-limited"] - write_units["one-destination"];
    assert!(
        added <= 0.2 + 1e-9,
        "a rate limit added {added:.2} write units per delivery"
    );
    eprintln!("a rate limit adds {added:.2} write units per delivery");
}
