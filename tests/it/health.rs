//! Destination health: a destination whose every attempt fails for the
//! configured period is disabled, its later deliveries are parked, a probe
//! brings it back, and the parked deliveries then go out in arrival order.
//! On the embedded adapters and on DynamoDB + SQS (moto).
use hookrelay_core::admin::{AdminRequest, AdminResponse};
use hookrelay_core::{ConfigItem, ConfigStore, DispatchSettings, NoMetrics};
use hookrelay_models::{DeliveryState, DestinationId, EventId};
use hookrelay_tests::relay::{test_dispatch_settings, Relay};
use hookrelay_tests::sink::{Reply, Sink};
use hookrelay_tests::{config_from, ManualClock};
use std::sync::Arc;
use std::time::Duration;

const NOW: i64 = 1_790_000_000;
const GITHUB_SECRET: &str = "It's a Secret to Everybody";
const DEST_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[derive(Clone, Copy)]
enum Kind {
    Embedded,
    Aws,
}

async fn relay(kind: Kind, sink: &Sink) -> Relay {
    let text = format!(
        "allow_private_destinations = true\n[[sources]]\nid = \"github\"\nscheme = \"github\"\nsecrets = [{GITHUB_SECRET:?}]\n\
         [[destinations]]\nid = \"app\"\nurl = \"{}\"\nsecret = \"{DEST_SECRET}\"\nretry_schedule = [\"0s\"]\n\
         [[routes]]\nsource = \"github\"\ndestination = \"app\"\n",
        sink.url("/app")
    );
    let settings = DispatchSettings {
        auto_disable_after: Some(Duration::from_secs(3600)),
        // Real seconds on moto's queue; the manual clock is moved past it
        // for the embedded one.
        probe_every: Some(Duration::from_secs(1)),
        ..test_dispatch_settings()
    };
    let clock = Arc::new(ManualClock::at_unix_secs(NOW));
    match kind {
        Kind::Embedded => {
            Relay::embedded_with(config_from(&text), clock, Arc::new(NoMetrics), settings)
        }
        Kind::Aws => Relay::aws_with(config_from(&text), clock, settings).await,
    }
}

async fn push(relay: &Relay, n: u32) -> EventId {
    relay
        .push_github(
            GITHUB_SECRET,
            &format!("d-{n}"),
            format!("{{\"n\":{n}}}").as_bytes(),
        )
        .await
}

fn app() -> DestinationId {
    DestinationId::parse("app").unwrap()
}

async fn state(relay: &Relay, event: &EventId) -> DeliveryState {
    relay
        .deliveries
        .delivery(event, &app())
        .await
        .unwrap()
        .expect("a delivery")
        .state
}

async fn app_enabled(relay: &Relay) -> (bool, Option<String>) {
    let config = relay.config.config().await.unwrap();
    let destination = config.destination(&app()).unwrap();
    (destination.enabled, destination.disabled_reason.clone())
}

/// Lets a delayed message come due: on the manual clock for the embedded
/// queue, in real time for SQS.
async fn wait_for_probe(relay: &Relay) {
    relay.clock.advance_millis(2_000);
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    relay.drain().await;
}

async fn failing_all_along_disables_parks_probes_and_releases_in_order(kind: Kind) {
    let sink = Sink::start().await;
    sink.script("/app", vec![Reply::Status(500)]);
    let relay = relay(kind, &sink).await;

    let first = push(&relay, 1).await;
    relay.drain().await;
    assert_eq!(state(&relay, &first).await, DeliveryState::Failed);
    relay.clock.advance_millis(30 * 60 * 1000);
    push(&relay, 2).await;
    relay.drain().await;
    assert!(
        app_enabled(&relay).await.0,
        "disabled after only 30 minutes"
    );

    relay.clock.advance_millis(31 * 60 * 1000);
    push(&relay, 3).await;
    relay.drain().await;
    let (enabled, reason) = app_enabled(&relay).await;
    assert!(!enabled, "still enabled after failing for over an hour");
    assert!(
        reason
            .as_deref()
            .unwrap()
            .starts_with("every attempt failed"),
        "{reason:?}"
    );
    assert_eq!(sink.received("/app").len(), 3);

    // While disabled: parked, not attempted (the queued probe is due only
    // later and is the one request the sink may see).
    // A millisecond apart: arrival order is the order of event ids, which
    // is undefined within one millisecond.
    let mut parked = Vec::new();
    for n in 4..=6 {
        relay.clock.advance_millis(1);
        parked.push(push(&relay, n).await);
    }
    relay.drain().await;
    for event in &parked {
        assert_eq!(state(&relay, event).await, DeliveryState::Parked);
    }
    assert_eq!(
        sink.received("/app").len(),
        3,
        "a disabled destination was attempted"
    );

    // A failed probe leaves it disabled; a successful one enables it.
    wait_for_probe(&relay).await;
    let probes = sink.received("/app");
    assert_eq!(probes.len(), 4);
    assert!(String::from_utf8_lossy(&probes[3].body).contains("hookrelay.probe"));
    assert!(!app_enabled(&relay).await.0);

    sink.script("/app", vec![Reply::Status(200)]);
    wait_for_probe(&relay).await;
    for _ in 0..20 {
        if sink.received("/app").len() >= 8 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        relay.drain().await;
    }
    assert!(
        app_enabled(&relay).await.0,
        "a successful probe did not enable it"
    );
    let bodies = sink.bodies("/app")[5..].to_vec();
    assert_eq!(bodies, ["{\"n\":4}", "{\"n\":5}", "{\"n\":6}"]);
    for event in &parked {
        assert_eq!(state(&relay, event).await, DeliveryState::Succeeded);
    }
}

async fn a_success_in_between_keeps_it_enabled(kind: Kind) {
    let sink = Sink::start().await;
    sink.script(
        "/app",
        vec![Reply::Status(500), Reply::Status(200), Reply::Status(500)],
    );
    let relay = relay(kind, &sink).await;
    push(&relay, 1).await;
    relay.drain().await;
    relay.clock.advance_millis(50 * 60 * 1000);
    push(&relay, 2).await;
    relay.drain().await;
    relay.clock.advance_millis(20 * 60 * 1000);
    push(&relay, 3).await;
    relay.drain().await;
    // 70 minutes after the first failure, but only 20 after a success.
    assert_eq!(sink.received("/app").len(), 3);
    assert!(app_enabled(&relay).await.0);
    relay.clock.advance_millis(61 * 60 * 1000);
    push(&relay, 4).await;
    relay.drain().await;
    assert!(
        !app_enabled(&relay).await.0,
        "every attempt failed for 61 minutes since the one after the success"
    );
}

async fn a_release_skips_parked_events_that_have_expired(kind: Kind) {
    let sink = Sink::start().await;
    let relay = relay(kind, &sink).await;
    relay
        .config
        .set_destination_enabled(&app(), false, Some("by hand".into()))
        .await
        .unwrap();
    let mut parked = Vec::new();
    for n in 1..=3 {
        relay.clock.advance_millis(1);
        parked.push(push(&relay, n).await);
    }
    relay.drain().await;
    // The oldest one's event is gone (retention ran out) before the enable,
    // long after it was received.
    relay.expire_event(&parked[0]).await;
    relay
        .clock
        .advance_millis(hookrelay_core::dispatch::NOT_YET_STORED_GRACE.as_millis() as i64);
    relay
        .config
        .set_destination_enabled(&app(), true, None)
        .await
        .unwrap();
    begin_release(&relay).await;
    for _ in 0..20 {
        relay.drain().await;
        if sink.received_count() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let bodies = sink.bodies("/app");
    assert_eq!(bodies, ["{\"n\":2}", "{\"n\":3}"]);
}

/// Two warm dispatchers: one disables the destination, an operator enables
/// it again, and the other — which still remembers a failure from over the
/// period ago — sees one more failure. The store's record was cleared by
/// the enable, so that one failure must not disable it again.
async fn a_dispatcher_remembering_an_old_failure_does_not_disable_a_re_enabled_destination(
    kind: Kind,
) {
    let sink = Sink::start().await;
    sink.script("/app", vec![Reply::Status(500)]);
    let relay = relay(kind, &sink).await;
    let other = relay.second_dispatcher(DispatchSettings {
        auto_disable_after: Some(Duration::from_secs(3600)),
        ..test_dispatch_settings()
    });

    // Given: the first dispatcher sees the first failure and remembers it.
    let first = push(&relay, 1).await;
    relay.drain().await;
    assert_eq!(state(&relay, &first).await, DeliveryState::Failed);
    // The other sees a failure over an hour later and disables it.
    relay.clock.advance_millis(61 * 60 * 1000);
    push(&relay, 2).await;
    relay.drain_with(&other).await;
    assert!(!app_enabled(&relay).await.0, "not disabled after an hour");

    // When: an operator enables it again, and the first dispatcher sees one
    // more failure a minute later.
    relay
        .config
        .set_destination_enabled(&app(), true, None)
        .await
        .unwrap();
    hookrelay_core::dispatch::resume_destination(
        &*relay.health,
        &*relay.deliveries,
        &*relay.queue,
        &app(),
        hookrelay_core::Clock::now(&*relay.clock),
    )
    .await
    .unwrap();
    relay.clock.advance_millis(60 * 1000);
    let third = push(&relay, 3).await;
    relay.drain().await;

    // Then: that failure is the first of a new period, not the end of one.
    assert_eq!(state(&relay, &third).await, DeliveryState::Failed);
    assert_eq!(sink.received("/app").len(), 3);
    let (enabled, reason) = app_enabled(&relay).await;
    assert!(
        enabled,
        "disabled again after one failure on a stale memory: {reason:?}"
    );
}

/// The destination as stored now, past any cache.
async fn stored_app(relay: &Relay) -> hookrelay_models::Destination {
    relay
        .config
        .fresh_destination(&app())
        .await
        .unwrap()
        .expect("app is configured")
}

/// Writes a destination's settings as the admin use case does.
async fn write_settings(relay: &Relay, destination: hookrelay_models::Destination) {
    relay
        .writer
        .put(&ConfigItem::Destination(destination))
        .await
        .unwrap();
}

/// A rotation reads the destination, changes its secret and writes it
/// back; a 410 or an automatic disable may land in between. Neither may
/// undo the other, whichever order the writes take.
async fn a_rotation_and_a_disable_at_once_both_survive(kind: Kind) {
    let sink = Sink::start().await;
    let relay = relay(kind, &sink).await;
    let rotated = "whsec_bmV3IHNpZ25pbmcga2V5IGFmdGVyIHJvdGF0aW9u";

    // The rotation's read, then the disable, then the rotation's write.
    let mut read_before = stored_app(&relay).await;
    relay
        .config
        .set_destination_enabled(&app(), false, Some("410 Gone".into()))
        .await
        .unwrap();
    read_before.secret = hookrelay_signing::Secret::new(rotated);
    write_settings(&relay, read_before).await;
    let after = stored_app(&relay).await;
    assert_eq!(after.secret.expose(), rotated, "the rotation was lost");
    assert!(!after.enabled, "the disable was undone by the rotation");
    assert_eq!(after.disabled_reason.as_deref(), Some("410 Gone"));

    // And the other way round: an enable between a read and a write.
    let mut read_before = after;
    relay
        .config
        .set_destination_enabled(&app(), true, None)
        .await
        .unwrap();
    read_before.timeout = Some(Duration::from_secs(7));
    write_settings(&relay, read_before).await;
    let after = stored_app(&relay).await;
    assert!(after.enabled, "the enable was undone by the update");
    assert_eq!(after.timeout(), Duration::from_secs(7));
    assert_eq!(after.secret.expose(), rotated);

    // A pushed configuration says what it wants, state included.
    let mut pushed = relay.config.config().await.unwrap();
    pushed.destinations[0].enabled = false;
    pushed.destinations[0].disabled_reason = Some("pushed".into());
    relay.writer.replace(&pushed).await.unwrap();
    let after = stored_app(&relay).await;
    assert!(!after.enabled);
    assert_eq!(after.disabled_reason.as_deref(), Some("pushed"));
}

/// The parked count is exact and reads no event: counted in the index
/// (on DynamoDB, `Select=COUNT` over every shard), where a listing stops
/// at 1 000.
async fn the_parked_count_is_exact_past_a_listings_limit(kind: Kind) {
    let sink = Sink::start().await;
    let relay = relay(kind, &sink).await;
    relay
        .config
        .set_destination_enabled(&app(), false, Some("by hand".into()))
        .await
        .unwrap();
    // moto is slow for volume: past the limit in memory, a few on DynamoDB.
    let parked = match kind {
        Kind::Embedded => 1_005,
        Kind::Aws => 3,
    };
    for n in 0..parked {
        push(&relay, n).await;
        relay.drain().await;
    }
    let admin = relay.admin();
    let count = admin
        .execute(AdminRequest::CountDeliveries {
            destination: app(),
            state: DeliveryState::Parked,
        })
        .await
        .unwrap();
    assert_eq!(count, AdminResponse::Count(u64::from(parked)));
    let failed = admin
        .execute(AdminRequest::CountDeliveries {
            destination: app(),
            state: DeliveryState::Failed,
        })
        .await
        .unwrap();
    assert_eq!(failed, AdminResponse::Count(0));
}

on_both_backends!(
    the_parked_count_is_exact_past_a_listings_limit,
    a_rotation_and_a_disable_at_once_both_survive,
    a_dispatcher_remembering_an_old_failure_does_not_disable_a_re_enabled_destination,
    a_release_skips_parked_events_that_have_expired,
    failing_all_along_disables_parks_probes_and_releases_in_order,
    a_success_in_between_keeps_it_enabled,
);

/// The dispatcher caches its configuration; an operator enables the
/// destination from another process (`hookrelay destinations enable
/// --aws`). The release, and events arriving right after, must not be
/// parked again on the strength of the stale cache.
#[tokio::test]
async fn an_enable_from_another_process_is_seen_past_the_dispatchers_cache() {
    let sink = Sink::start().await;
    let relay = relay(Kind::Aws, &sink).await;
    relay
        .config
        .set_destination_enabled(&app(), false, Some("by hand".into()))
        .await
        .unwrap();
    relay.clock.advance_millis(1);
    let parked = push(&relay, 1).await;
    relay.drain().await;
    assert_eq!(state(&relay, &parked).await, DeliveryState::Parked);
    // The relay's cache now holds "disabled" for 30 s of its clock.

    let (env, _) = relay.aws_environment();
    let table = env
        .iter()
        .find(|(name, _)| *name == "HOOKRELAY_CONFIG_TABLE")
        .map(|(_, value)| value.clone())
        .unwrap();
    let operator = hookrelay_aws::DynamoConfigStore::new(
        aws_sdk_dynamodb::Client::new(&hookrelay_tests::moto::shared().sdk_config()),
        table,
    );
    operator
        .set_destination_enabled(&app(), true, None)
        .await
        .unwrap();
    begin_release(&relay).await;
    relay.clock.advance_millis(1);
    let after = push(&relay, 2).await;
    relay.drain().await;
    assert_eq!(state(&relay, &parked).await, DeliveryState::Succeeded);
    assert_eq!(state(&relay, &after).await, DeliveryState::Succeeded);
    assert_eq!(sink.received("/app").len(), 2);
}

/// Begins a release of `app`'s parked deliveries, as an enable does.
async fn begin_release(relay: &Relay) {
    hookrelay_core::dispatch::release_next_parked(
        &*relay.deliveries,
        &*relay.health,
        &*relay.queue,
        &app(),
        None,
    )
    .await
    .unwrap();
}
