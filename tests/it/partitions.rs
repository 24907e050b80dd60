//! No hot partition: a burst from one source to one destination, on moto
//! behind the metering proxy, spreads its writes over the index shards,
//! and every listing still returns everything, in order, across them.
use aws_sdk_dynamodb::types::AttributeValue;
use hookrelay_aws::IndexShards;
use hookrelay_models::{DestinationId, EventId, SourceId};
use hookrelay_tests::meter::{MeteringProxy, ProxyOptions};
use hookrelay_tests::relay::{test_dispatch_settings, Relay};
use hookrelay_tests::sink::{Reply, Sink};
use hookrelay_tests::{config_from, moto, ManualClock};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

const SECRET: &str = "It's a Secret to Everybody";
const DEST_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// Shards of the indexes in this test: fewer than the default 32, so 48
/// webhooks put about as many writes on each shard as 160 would on 32.
const SHARDS: u16 = 8;
/// Six webhooks per shard on average.
const WEBHOOKS: usize = 48;
/// Failures in a row in the health phase.
const FAILING: usize = 12;

/// Order `n` from the `shop` source, signed as GitHub signs.
async fn send_order(relay: &Relay, n: usize) -> EventId {
    let body = format!(r#"{{"order":{n}}}"#);
    let delivery = format!("d-{n}");
    relay
        .accept_github(
            "shop",
            SECRET,
            body.as_bytes(),
            &[
                ("X-GitHub-Event", "order"),
                ("X-GitHub-Delivery", &delivery),
            ],
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_from_one_source_to_one_destination_spreads_over_the_shards() {
    let sink = Sink::start().await;
    sink.script("/hook", vec![Reply::Status(200)]);
    let config = config_from(&format!(
        "allow_private_destinations = true\n[[sources]]\nid = \"shop\"\nscheme = \"github\"\nsecrets = [{SECRET:?}]\n\
         [[destinations]]\nid = \"orders\"\nurl = \"{}\"\nsecret = \"{DEST_SECRET}\"\n\
         [[routes]]\nsource = \"shop\"\ndestination = \"orders\"\n",
        sink.url("/hook")
    ));
    let moto = moto::shared();
    let proxy = MeteringProxy::start(
        &moto.endpoint,
        ProxyOptions {
            latency: Duration::ZERO,
            metering: true,
            roles: HashMap::new(),
        },
    )
    .await;
    let clock = Arc::new(ManualClock::at_unix_secs(1_790_000_000));
    let relay = Relay::aws_sharded(
        config,
        clock.clone(),
        test_dispatch_settings(),
        [&proxy.endpoint(), &moto.endpoint, &moto.endpoint],
        IndexShards::new(SHARDS).unwrap(),
    )
    .await;
    let before = proxy.usage();

    // The burst, eight at a time.
    let mut accepted = Vec::new();
    for chunk in (0..WEBHOOKS).collect::<Vec<_>>().chunks(8) {
        clock.advance_millis(1);
        let sends = chunk.iter().map(|n| send_order(&relay, *n));
        accepted.extend(futures::future::join_all(sends).await);
    }
    while relay.drain().await > 0 {}
    assert_eq!(sink.received("/hook").len(), WEBHOOKS, "all delivered");

    // No key takes more than its shard's share, give or take chance: the
    // shard is a hash of the event id, so a shard's count varies around
    // the mean by about its square root.
    let usage = proxy.usage().since(&before);
    let shards = f64::from(SHARDS);
    let mean = WEBHOOKS as f64 / shards;
    let allowed = mean + 5.0 * mean.sqrt();
    let mut hottest = ("", 0.0);
    for (key, units) in &usage.partition_writes {
        if *units > hottest.1 {
            hottest = (key.as_str(), *units);
        }
    }
    assert!(
        hottest.1 <= allowed,
        "{} took {} write units of a {WEBHOOKS}-webhook burst (mean per shard {mean}, allowed {allowed:.1}): {:#?}",
        hottest.0,
        hottest.1,
        usage.partition_writes
    );
    // Each index family used (nearly) every shard: a shard is missed with
    // chance (7/8)^48, about 0.2 %.
    for family in [r#"/gsi1 {"S":"SRC#shop#"#, r#"/gsi2 {"S":"DST#orders#"#] {
        let used = usage
            .partition_writes
            .keys()
            .filter(|key| key.contains(family))
            .count() as f64;
        assert!(
            used >= shards - 1.0,
            "{family}: {used} of {shards} shards written"
        );
    }
    // No write to a destination's health record while it succeeds.
    assert!(
        !usage.partition_writes.keys().any(|k| k.contains("HEALTH#")),
        "{:#?}",
        usage.partition_writes
    );

    // Every listing merges the shards in the order it promises.
    let source = SourceId::parse("shop").unwrap();
    // Event ids sort by arrival time first.
    let mut newest_first = accepted.clone();
    newest_first.sort();
    newest_first.reverse();
    let listed: Vec<EventId> = relay
        .events
        .events_by_source(&source, None, WEBHOOKS + 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(listed, newest_first);
    let page = relay
        .events
        .events_by_source(&source, None, 7)
        .await
        .unwrap();
    let page: Vec<EventId> = page.into_iter().map(|e| e.id).collect();
    assert_eq!(page, newest_first[..7]);
    let since = newest_first[29].timestamp();
    let recent = relay
        .events
        .events_by_source(&source, Some(since), WEBHOOKS)
        .await
        .unwrap();
    let expected = newest_first
        .iter()
        .filter(|id| id.timestamp() >= since)
        .count();
    assert!(expected >= 30);
    assert_eq!(recent.len(), expected);

    let destination = DestinationId::parse("orders").unwrap();
    let attempts = relay
        .deliveries
        .attempts_for_destination(&destination, WEBHOOKS + 10)
        .await
        .unwrap();
    assert_eq!(attempts.len(), WEBHOOKS);
    assert!(
        attempts
            .windows(2)
            .all(|w| (w[0].started_at, &w[0].event_id) >= (w[1].started_at, &w[1].event_id)),
        "attempts newest first"
    );

    // A destination's health record is written when its state changes,
    // not per attempt: attempts failing in a row are one write (the first
    // failure), the next success one more (the recovery).
    sink.script("/hook", vec![Reply::Status(500); FAILING]);
    let health_before = proxy.usage();
    for n in WEBHOOKS..WEBHOOKS + FAILING {
        send_order(&relay, n).await;
    }
    while relay.drain().await > 0 {}
    sink.script("/hook", vec![Reply::Status(200)]);
    for n in WEBHOOKS + FAILING..WEBHOOKS + FAILING + 5 {
        send_order(&relay, n).await;
    }
    while relay.drain().await > 0 {}
    assert_eq!(sink.received("/hook").len(), WEBHOOKS + FAILING + 5);
    let usage = proxy.usage().since(&health_before);
    let health: Vec<(&String, &f64)> = usage
        .partition_writes
        .iter()
        .filter(|(key, _)| key.contains("HEALTH#"))
        .collect();
    let units: f64 = health.iter().map(|(_, units)| **units).sum();
    assert_eq!(units, 2.0, "{health:?}");

    // An entry written before sharding (in the unsharded partition) is
    // still listed.
    let table = relay.events_table();
    aws_sdk_dynamodb::Client::new(&moto.sdk_config())
        .update_item()
        .table_name(&table)
        .key(
            "pk",
            AttributeValue::S(format!("EVT#{}", newest_first[WEBHOOKS - 1])),
        )
        .key("sk", AttributeValue::S("EVENT".into()))
        .update_expression("SET gsi1pk = :legacy")
        .expression_attribute_values(":legacy", AttributeValue::S("SRC#shop".into()))
        .send()
        .await
        .unwrap();
    let listed = relay
        .events
        .events_by_source(&source, None, WEBHOOKS + 100)
        .await
        .unwrap();
    assert_eq!(listed.len(), WEBHOOKS + FAILING + 5);
    assert_eq!(listed.last().unwrap().id, newest_first[WEBHOOKS - 1]);
    assert_eq!(listed.last().unwrap().source, source);
}
