//! Rate limits and pauses per destination (issue 27, second part): a
//! limit holds across every dispatcher at once, deliveries beyond it wait
//! (none dropped, failed or counted as an attempt), and a `429` with
//! `Retry-After` pauses its destination for every dispatcher and no other.
use futures::stream::{self, StreamExt};
use hookrelay_core::Dispatch;
use hookrelay_tests::relay::{test_dispatch_settings, Relay};
use hookrelay_tests::sink::{Reply, Sink};
use hookrelay_tests::{config_from, ManualClock};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SECRET: &str = "It's a Secret to Everybody";
const DEST_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[derive(Clone, Copy)]
enum Kind {
    Embedded,
    Aws,
}

async fn relay(kind: Kind, destinations: &[(&str, String, &str)]) -> Relay {
    let mut text = format!(
        "allow_private_destinations = true\n\
         [[sources]]\nid = \"github\"\nscheme = \"github\"\nsecrets = [{SECRET:?}]\n"
    );
    for (id, url, extra) in destinations {
        text.push_str(&format!(
            "[[destinations]]\nid = \"{id}\"\nurl = \"{url}\"\nsecret = \"{DEST_SECRET}\"\n{extra}\n\
             [[routes]]\nsource = \"github\"\ndestination = \"{id}\"\n"
        ));
    }
    let config = config_from(&text);
    let clock = Arc::new(ManualClock::following_system_time());
    match kind {
        Kind::Embedded => Relay::embedded_with(
            config,
            clock,
            Arc::new(hookrelay_core::NoMetrics),
            test_dispatch_settings(),
        ),
        Kind::Aws => Relay::aws_with(config, clock, test_dispatch_settings()).await,
    }
}

async fn push(relay: &Relay, n: usize) -> hookrelay_models::EventId {
    relay
        .push_github(
            SECRET,
            &format!("delivery-{n}"),
            format!(r#"{{"ref":"refs/heads/main","n":{n}}}"#).as_bytes(),
        )
        .await
}

/// Takes batches off the queue and runs them on `dispatch` until `done`
/// says so, as one warm Lambda would.
async fn consume(relay: &Relay, dispatch: &Dispatch, done: impl Fn() -> bool, deadline: Instant) {
    while !done() {
        assert!(Instant::now() < deadline, "not delivered in time");
        let batch = relay.receive_batch().await;
        if batch.is_empty() {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        relay.run_batch_with(dispatch, batch).await;
    }
}

/// The issue's test: 10/s with a burst of 20, 1,000 events at once, five
/// dispatchers taking batches concurrently, each with its own memory (as
/// five Lambdas), sharing only the stores and the queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_a_second_with_a_burst_of_twenty_holds_across_five_dispatchers() {
    const EVENTS: usize = 1_000;
    let sink = Sink::start().await;
    sink.script("/paced", vec![Reply::Status(200)]);
    let relay = relay(
        Kind::Aws,
        &[(
            "paced",
            sink.url("/paced"),
            "rate_limit = \"10/s\"\nburst = 20",
        )],
    )
    .await;
    let ids: Vec<_> = stream::iter(0..EVENTS)
        .map(|n| push(&relay, n))
        .buffer_unordered(16)
        .collect()
        .await;
    let others: Vec<Dispatch> = (0..4)
        .map(|_| relay.second_dispatcher(test_dispatch_settings()))
        .collect();
    let dispatchers: Vec<&Dispatch> = std::iter::once(&*relay.dispatch).chain(&others).collect();
    let deadline = Instant::now() + Duration::from_secs(400);
    let done = || sink.received("/paced").len() >= EVENTS;
    futures::future::join_all(
        dispatchers
            .iter()
            .map(|dispatch| consume(&relay, dispatch, done, deadline)),
    )
    .await;

    hookrelay_tests::assert_ten_a_second_with_a_burst_of_twenty(
        &sink.received("/paced"),
        EVENTS,
        "moto, five dispatchers",
    );
    // Waiting was not an attempt.
    for id in ids.iter().step_by(50) {
        let delivery = relay
            .deliveries
            .delivery(
                id,
                &hookrelay_models::DestinationId::parse("paced").unwrap(),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(delivery.attempts, 1, "{id}: waiting counted as an attempt");
    }
}

/// A `429` with `Retry-After: 5` from one destination: no dispatcher
/// sends to it for five seconds, while the other destination of the same
/// events gets them at once; once the pause is over everything arrives,
/// and the deliveries that waited made one attempt each.
async fn a_429_with_retry_after_pauses_only_its_destination(kind: Kind) {
    let sink = Sink::start().await;
    sink.script(
        "/busy",
        vec![
            Reply::StatusWith(429, vec![("Retry-After".into(), "5".into())]),
            Reply::Status(200),
        ],
    );
    sink.script("/calm", vec![Reply::Status(200)]);
    let relay = relay(
        kind,
        &[
            ("busy", sink.url("/busy"), ""),
            ("calm", sink.url("/calm"), ""),
        ],
    )
    .await;
    let other = relay.second_dispatcher(test_dispatch_settings());
    let first = push(&relay, 0).await;
    relay.drain().await;
    let refused = sink.received("/busy");
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].status, Some(429));
    let paused_at = refused[0].arrived_at;

    // More events, handled by the other dispatcher: it learns of the pause
    // from the store, not from its own 429.
    let later: Vec<_> = stream::iter(1..4).then(|n| push(&relay, n)).collect().await;
    let deadline = Instant::now() + Duration::from_secs(60);
    consume(
        &relay,
        &other,
        || sink.received("/busy").len() >= 5,
        deadline,
    )
    .await;

    let calm = sink.received("/calm");
    assert_eq!(calm.len(), 4);
    for delivery in &calm[1..] {
        assert!(
            delivery.arrived_at.duration_since(paused_at) < Duration::from_secs(4),
            "the other destination waited for the pause"
        );
    }
    let busy = sink.received("/busy");
    for delivery in &busy[1..] {
        assert!(
            delivery.arrived_at.duration_since(paused_at) >= Duration::from_millis(4_900),
            "sent {:?} into a 5 s pause",
            delivery.arrived_at.duration_since(paused_at)
        );
    }
    let busy_id = hookrelay_models::DestinationId::parse("busy").unwrap();
    for id in &later {
        let delivery = relay
            .deliveries
            .delivery(id, &busy_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            delivery.attempts, 1,
            "waiting for the pause was not an attempt"
        );
    }
    let deferred = relay
        .deliveries
        .delivery(&first, &busy_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(deferred.state, hookrelay_models::DeliveryState::Succeeded);
}

on_both_backends!(a_429_with_retry_after_pauses_only_its_destination);

#[test]
fn limits_are_checked_when_the_configuration_is_loaded() {
    let with = |extra: &str| {
        hookrelay_models::Config::from_toml(
            &format!(
                "[[destinations]]\nid = \"app\"\nurl = \"https://example.com/hook\"\nsecret = \"{DEST_SECRET}\"\n{extra}\n"
            ),
            "test.toml",
        )
    };
    let config = with("rate_limit = \"600/minute\"\nburst = 20").unwrap();
    let app = &config.destinations[0];
    assert_eq!(app.rate_limit.unwrap().to_string(), "600/m");
    assert_eq!(
        app.pace().unwrap().interval,
        Duration::from_millis(100),
        "600 a minute is one every 100 ms"
    );
    for (bad, says) in [
        ("rate_limit = \"50/day\"", "count per period"),
        ("rate_limit = \"5000/s\"", "at most 1000 per second"),
        ("burst = 5", "burst needs a rate_limit"),
        ("rate_limit = \"5/s\"\nburst = 0", "burst must be between"),
    ] {
        let refused = with(bad).unwrap_err().to_string();
        assert!(refused.contains(says), "{bad}: {refused}");
    }
}
