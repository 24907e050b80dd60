//! The index shard count is recorded in the config table, the highest any
//! writer used, and every reader lists that many shards: a stack written
//! with 64 shards is fully listed by an admin CLI or console run with the
//! default 32, and by dispatchers redeployed with fewer (issue 25,
//! defect 7). On moto.
use aws_sdk_dynamodb::types::AttributeValue;
use hookrelay_aws::{Adapters, IndexShards};
use hookrelay_core::admin::{Admin, AdminRequest, AdminResponse};
use hookrelay_core::{Clock, Stores, SystemClock};
use hookrelay_models::{AttemptOutcome, Config, DestinationId, EventId, SourceId};
use hookrelay_tests::relay::{test_dispatch_settings, Relay};
use hookrelay_tests::sink::{Reply, Sink};
use hookrelay_tests::{config_from, moto, settle_delivery, ManualClock};
use std::sync::Arc;
use std::time::Duration;

const SECRET: &str = "It's a Secret to Everybody";
const DEST_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn shards(count: u16) -> IndexShards {
    IndexShards::new(count).unwrap()
}

fn orders() -> DestinationId {
    DestinationId::parse("orders").unwrap()
}

fn config(sink: &Sink) -> Config {
    config_from(&format!(
        "allow_private_destinations = true\n[[sources]]\nid = \"shop\"\nscheme = \"github\"\nsecrets = [{SECRET:?}]\n\
         [[destinations]]\nid = \"orders\"\nurl = \"{}\"\nsecret = \"{DEST_SECRET}\"\n\
         [[routes]]\nsource = \"shop\"\ndestination = \"orders\"\n",
        sink.url("/hook")
    ))
}

/// A stack on fresh tables of the shared moto server, writing with
/// `count` shards. Its clock starts at the system's: a CLI reader judges
/// retention by the system clock.
async fn stack(config: Config, count: u16) -> Relay {
    let endpoint = &moto::shared().endpoint;
    Relay::aws_sharded(
        config,
        Arc::new(ManualClock::at_system_time()),
        test_dispatch_settings(),
        [endpoint, endpoint, endpoint],
        shards(count),
    )
    .await
}

/// Order `n` from the `shop` source, a millisecond after the one before
/// (arrival order is the order of event ids, undefined within one).
async fn send_order(relay: &Relay, n: usize) -> EventId {
    relay.clock.advance_millis(1);
    let body = format!(r#"{{"order":{n}}}"#);
    relay
        .accept_github(
            "shop",
            SECRET,
            body.as_bytes(),
            &[
                ("X-GitHub-Event", "order"),
                ("X-GitHub-Delivery", &format!("d-{n}")),
            ],
        )
        .await
}

/// Sends orders until at least `high` of them are in shards a reader
/// with `reader` shards of its own would not query under `written`, and
/// at least `low` in shards it would.
async fn send_orders_across(
    relay: &Relay,
    written: u16,
    reader: u16,
    high: usize,
    low: usize,
) -> Vec<EventId> {
    let mut sent = Vec::new();
    for n in 0..200 {
        sent.push(send_order(relay, n).await);
        let beyond = sent
            .iter()
            .filter(|id| shards(written).shard_of(id) >= reader)
            .count();
        if beyond >= high && sent.len() - beyond >= low {
            return sent;
        }
    }
    panic!("200 orders and still not {high} beyond shard {reader}");
}

/// The count recorded in `relay`'s config table, read as any process
/// would read it.
async fn recorded(relay: &Relay) -> Option<u16> {
    let table = relay.aws_settings(IndexShards::DEFAULT).config_table;
    let found = aws_sdk_dynamodb::Client::new(&moto::shared().sdk_config())
        .get_item()
        .table_name(table)
        .key("pk", AttributeValue::S("INDEX".into()))
        .key("sk", AttributeValue::S("SHARDS".into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    found
        .item()
        .and_then(|item| item.get("shards"))
        .map(|value| value.as_n().unwrap().parse().unwrap())
}

/// The admin use case as `hookrelay … --aws` and `hookrelay console
/// --aws` build it: the stack's tables through [`Adapters`], with their
/// own shard count.
fn cli_admin(relay: &Relay, own: IndexShards) -> (Admin, Stores) {
    let adapters = Adapters::new(&moto::shared().sdk_config(), &relay.aws_settings(own));
    let config = Arc::new(adapters.config);
    let deliveries = Arc::new(adapters.deliveries);
    let stores = Stores {
        config: config.clone(),
        events: Arc::new(adapters.events),
        deliveries: deliveries.clone(),
        health: deliveries.clone(),
        pace: deliveries,
    };
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let admin = Admin::new(
        stores.clone(),
        config,
        Some(Arc::new(adapters.queue)),
        clock,
        Arc::new(hookrelay_http::PrivateAddressCheck),
    );
    (admin, stores)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_with_the_default_count_lists_and_recovers_what_64_shards_hold() {
    let sink = Sink::start().await;
    let stack = stack(config(&sink), 64).await;
    let sent = send_orders_across(&stack, 64, 32, 3, 2).await;
    let now = stack.clock.now();
    for id in &sent {
        settle_delivery(
            &*stack.deliveries,
            id,
            &orders(),
            now,
            Some(AttemptOutcome::Response { status: 500 }),
        )
        .await;
    }

    // An operator's CLI without HOOKRELAY_INDEX_SHARDS: the default 32.
    let (admin, stores) = cli_admin(&stack, IndexShards::DEFAULT);
    let mut oldest_first = sent.clone();
    oldest_first.sort();
    let listed: Vec<EventId> = stores
        .events
        .events_by_source(&SourceId::parse("shop").unwrap(), None, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|event| event.id)
        .rev()
        .collect();
    assert_eq!(listed, oldest_first, "events list missed the high shards");
    let attempts = stores
        .deliveries
        .attempts_for_destination(&orders(), 1000)
        .await
        .unwrap();
    assert_eq!(
        attempts.len(),
        sent.len(),
        "attempts list missed the high shards"
    );

    let AdminResponse::Replayed(replayed) = admin
        .execute(AdminRequest::Recover {
            destination: orders(),
            since: None,
        })
        .await
        .unwrap()
    else {
        panic!("not a replay");
    };
    let recovered: Vec<EventId> = replayed.into_iter().map(|r| r.event).collect();
    assert_eq!(recovered, oldest_first, "recover skipped the high shards");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stack_lowered_to_8_shards_releases_what_was_parked_under_64() {
    let sink = Sink::start().await;
    sink.script("/hook", vec![Reply::Status(200)]);
    let config = config(&sink);
    let stack = stack(config.clone(), 64).await;
    stack
        .config
        .set_destination_enabled(&orders(), false, Some("by hand".into()))
        .await
        .unwrap();
    let parked = send_orders_across(&stack, 64, 8, 3, 1).await;
    while stack.drain().await > 0 {}
    assert!(
        sink.received("/hook").is_empty(),
        "a disabled destination was attempted"
    );

    // Redeployed with IndexShards 8: its dispatcher, and an operator
    // enabling the destination, see only the new count in their
    // environment.
    let lowered = stack.aws_beside(&config, test_dispatch_settings(), shards(8));
    let AdminResponse::Done(said) = lowered
        .admin()
        .execute(AdminRequest::SetDestinationEnabled {
            destination: orders(),
            enabled: true,
        })
        .await
        .unwrap()
    else {
        panic!("not done");
    };
    assert!(said.contains("releasing"), "{said}");
    for _ in 0..20 {
        lowered.drain().await;
        if sink.received("/hook").len() >= parked.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let expected: Vec<String> = (0..parked.len())
        .map(|n| format!(r#"{{"order":{n}}}"#))
        .collect();
    assert_eq!(
        sink.bodies("/hook"),
        expected,
        "parked deliveries in the high shards were not released, in order"
    );
    assert_eq!(recorded(&stack).await, Some(64));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_write_records_the_count_and_it_only_ever_rises() {
    let sink = Sink::start().await;
    sink.script("/hook", vec![Reply::Status(200)]);
    let config = config(&sink);
    let stack = stack(config.clone(), 48).await;
    assert_eq!(recorded(&stack).await, None, "recorded before any write");
    send_order(&stack, 0).await;
    assert_eq!(recorded(&stack).await, Some(48), "the first write");

    // A Lambda with a lower count starting (what Adapters::from_env does
    // at a cold start): an equal or higher count recorded is success.
    let cold = Adapters::new(
        &moto::shared().sdk_config(),
        &stack.aws_settings(shards(16)),
    );
    cold.shards.record().await.unwrap();
    assert_eq!(recorded(&stack).await, Some(48), "lowered by a cold start");
    // ... and writing with it.
    let lower = stack.aws_beside(&config, test_dispatch_settings(), shards(16));
    send_order(&lower, 1).await;
    while lower.drain().await > 0 {}
    assert_eq!(sink.received("/hook").len(), 2);
    assert_eq!(recorded(&stack).await, Some(48), "lowered by a write");

    // A higher count raises it.
    let higher = Adapters::new(
        &moto::shared().sdk_config(),
        &stack.aws_settings(shards(100)),
    );
    higher.shards.record().await.unwrap();
    assert_eq!(recorded(&stack).await, Some(100));

    // Pushing a configuration neither reads the record as configuration
    // nor removes it.
    stack.writer.replace(&config).await.unwrap();
    assert_eq!(recorded(&stack).await, Some(100), "removed by a push");
    let stored = stack.stored_config.config().await.unwrap();
    assert_eq!(
        (
            stored.sources.len(),
            stored.destinations.len(),
            stored.routes.len()
        ),
        (1, 1, 1)
    );
}
