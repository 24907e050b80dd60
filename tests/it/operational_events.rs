//! Operational events (issue 28): the relay's own events, from the
//! built-in source `hookrelay`, delivered through routes like any other
//! event, signed with the destination's secret (Standard Webhooks). Each
//! trigger (a delivery failed for good, a destination failing attempt
//! after attempt, disabled automatically or by hand, enabled again, the
//! dead-letter queue not empty) is raised once per destination and type
//! per window; a `format = "slack"` destination gets `{"text": …}`.
use hookrelay_core::admin::AdminRequest;
use hookrelay_core::{AlertSettings, DispatchSettings, NoMetrics};
use hookrelay_models::{Config, DestinationId, EventId};
use hookrelay_tests::relay::{test_dispatch_settings, Relay};
use hookrelay_tests::sink::{Reply, Sink};
use hookrelay_tests::{config_from, moto, ManualClock};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// 46 minutes and 40 seconds before an hour boundary of the Unix epoch
/// (1_790_002_800 is one), so an hour's window is known to end in between.
const NOW: i64 = 1_790_000_000;
const NEXT_HOUR: i64 = 1_790_002_800;
const GITHUB_SECRET: &str = "It's a Secret to Everybody";
const APP_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const OPS_SECRET: &str = "whsec_c2FtcGxlIGRlc3RpbmF0aW9uIGtleSAxMjM0";

#[derive(Clone, Copy)]
enum Kind {
    Embedded,
    Aws,
}

/// `app` takes GitHub's pushes with one attempt each (so each failure is
/// for good); `ops` takes every operational event, `chat` (Slack format)
/// only failed deliveries.
fn config(sink: &Sink) -> Config {
    config_from(&format!(
        "allow_private_destinations = true\n\
         [[sources]]\nid = \"github\"\nscheme = \"github\"\nsecrets = [{GITHUB_SECRET:?}]\n\
         [[destinations]]\nid = \"app\"\nurl = \"{}\"\nsecret = \"{APP_SECRET}\"\nretry_schedule = [\"0s\"]\n\
         [[destinations]]\nid = \"ops\"\nurl = \"{}\"\nsecret = \"{OPS_SECRET}\"\n\
         [[destinations]]\nid = \"chat\"\nurl = \"{}\"\nsecret = \"{OPS_SECRET}\"\nformat = \"slack\"\n\
         [[routes]]\nsource = \"github\"\ndestination = \"app\"\n\
         [[routes]]\nsource = \"hookrelay\"\ndestination = \"ops\"\n\
         [[routes]]\nsource = \"hookrelay\"\ndestination = \"chat\"\nevents = [\"delivery.failed\"]\n",
        sink.url("/app"),
        sink.url("/ops"),
        sink.url("/chat"),
    ))
}

fn settings() -> DispatchSettings {
    DispatchSettings {
        auto_disable_after: Some(Duration::from_secs(3600)),
        alerts: AlertSettings {
            window: Duration::from_secs(3600),
            failing_after: 3,
            ..AlertSettings::default()
        },
        ..test_dispatch_settings()
    }
}

async fn relay(kind: Kind, config: Config) -> Relay {
    let clock = Arc::new(ManualClock::at_unix_secs(NOW));
    match kind {
        Kind::Embedded => Relay::embedded_with(config, clock, Arc::new(NoMetrics), settings()),
        Kind::Aws => Relay::aws_with(config, clock, settings()).await,
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

/// Handles what is queued (operational events are queued as they are
/// raised) until nothing is left.
async fn settle(relay: &Relay) {
    while relay.drain().await > 0 {}
}

/// The operational events `ops` received, as parsed bodies, each checked
/// to be signed with `ops`'s secret (by Python's hmac) and to name its
/// type in the header the relay adds.
fn ops_events(sink: &Sink) -> Vec<Value> {
    sink.received("/ops")
        .iter()
        .map(|received| {
            assert!(received.python_verifies(OPS_SECRET), "not signed for ops");
            assert_eq!(received.header("hookrelay-source"), Some("hookrelay"));
            let body: Value = serde_json::from_slice(&received.body).unwrap();
            assert_eq!(
                received.header("hookrelay-event-type"),
                body["type"].as_str()
            );
            body
        })
        .collect()
}

async fn set_app_enabled(admin: &hookrelay_core::Admin, enabled: bool) {
    admin
        .execute(AdminRequest::SetDestinationEnabled {
            destination: DestinationId::parse("app").unwrap(),
            enabled,
        })
        .await
        .unwrap();
}

fn types(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect()
}

async fn each_trigger_is_one_signed_event_per_destination_type_and_window(kind: Kind) {
    let sink = Sink::start().await;
    sink.script("/app", vec![Reply::Status(500)]);
    let relay = relay(kind, config(&sink)).await;

    // A delivery fails for good: one delivery.failed, to ops and to chat.
    let first = push(&relay, 1).await;
    settle(&relay).await;
    let ops = ops_events(&sink);
    assert_eq!(types(&ops), ["delivery.failed"]);
    assert_eq!(ops[0]["data"]["destination"], "app");
    assert_eq!(ops[0]["data"]["event_id"], first.as_str());
    assert_eq!(ops[0]["data"]["source"], "github");
    assert_eq!(ops[0]["data"]["event_type"], "push");
    assert_eq!(ops[0]["data"]["attempts"], 1);
    assert_eq!(ops[0]["data"]["last_outcome"], "HTTP 500");

    // Two more: the window holds delivery.failed back, and the third
    // failure in a row is destination.failing.
    relay.clock.advance_millis(60_000);
    push(&relay, 2).await;
    settle(&relay).await;
    assert_eq!(types(&ops_events(&sink)), ["delivery.failed"]);
    relay.clock.advance_millis(60_000);
    push(&relay, 3).await;
    settle(&relay).await;
    let ops = ops_events(&sink);
    assert_eq!(types(&ops), ["delivery.failed", "destination.failing"]);
    assert_eq!(ops[1]["data"]["destination"], "app");
    assert_eq!(ops[1]["data"]["failed_attempts"], 3);

    // Slack's shape for the chat destination: one message, the summary.
    let chat = sink.received("/chat");
    assert_eq!(chat.len(), 1);
    assert!(chat[0].python_verifies(OPS_SECRET));
    assert_eq!(chat[0].header("content-type"), Some("application/json"));
    let message: Value = serde_json::from_slice(&chat[0].body).unwrap();
    let text = message["text"].as_str().expect("a text field");
    assert_eq!(message.as_object().unwrap().len(), 1, "{message}");
    assert!(
        text.contains(&format!(
            "delivery of {first} from github to app failed for good"
        )),
        "{text}"
    );
    assert_eq!(text, ops[0]["data"]["summary"]);

    // Past the next hour boundary (a new window) and the auto-disable
    // period: the failure is news again, and the destination is disabled.
    relay
        .clock
        .advance_millis((NEXT_HOUR - NOW) * 1000 + 20 * 60 * 1000);
    push(&relay, 4).await;
    settle(&relay).await;
    let ops = ops_events(&sink);
    assert_eq!(
        types(&ops[2..])
            .iter()
            .filter(|t| *t == "delivery.failed")
            .count(),
        1,
        "{:?}",
        types(&ops)
    );
    let disabled: Vec<&Value> = ops
        .iter()
        .filter(|e| e["type"] == "destination.disabled")
        .collect();
    assert_eq!(disabled.len(), 1, "{:?}", types(&ops));
    assert_eq!(disabled[0]["data"]["by"], "automatic");
    assert!(disabled[0]["data"]["reason"]
        .as_str()
        .unwrap()
        .starts_with("every attempt failed"));

    // Enabled by hand: destination.enabled, by an operator. Disabled by
    // hand in the same window: held back, one per window.
    sink.script("/app", vec![Reply::Status(200)]);
    let admin = relay.admin();
    set_app_enabled(&admin, true).await;
    settle(&relay).await;
    set_app_enabled(&admin, false).await;
    settle(&relay).await;
    let ops = ops_events(&sink);
    let enabled: Vec<&Value> = ops
        .iter()
        .filter(|e| e["type"] == "destination.enabled")
        .collect();
    assert_eq!(enabled.len(), 1, "{:?}", types(&ops));
    assert_eq!(enabled[0]["data"]["by"], "operator");
    assert_eq!(
        ops.iter()
            .filter(|e| e["type"] == "destination.disabled")
            .count(),
        1,
        "a second disable in the window was sent: {:?}",
        types(&ops)
    );

    // The next window: enabled and disabled by hand are both news.
    relay.clock.advance_millis(3600 * 1000);
    set_app_enabled(&admin, true).await;
    set_app_enabled(&admin, false).await;
    settle(&relay).await;
    let ops = ops_events(&sink);
    let by_hand: Vec<&Value> = ops
        .iter()
        .filter(|e| e["type"] == "destination.disabled" && e["data"]["by"] == "operator")
        .collect();
    assert_eq!(by_hand.len(), 1, "{:?}", types(&ops));
    assert!(by_hand[0]["data"]["summary"]
        .as_str()
        .unwrap()
        .contains("destination app was disabled by an operator"));
    assert_eq!(
        ops.iter()
            .filter(|e| e["type"] == "destination.enabled")
            .count(),
        2
    );
    // Every event is a Standard Webhooks payload with a timestamp.
    for event in &ops {
        assert!(event["timestamp"].as_str().unwrap().ends_with('Z'));
    }
}

/// Nothing is stored or sent for an operational event no route selects,
/// and the failure of an alerts destination does not raise alerts about
/// its own alerts.
async fn unrouted_alerts_cost_nothing_and_alerts_do_not_feed_on_themselves(kind: Kind) {
    let sink = Sink::start().await;
    sink.script("/app", vec![Reply::Status(500)]);
    sink.script("/ops", vec![Reply::Status(500)]);
    let text = format!(
        "allow_private_destinations = true\n\
         [[sources]]\nid = \"github\"\nscheme = \"github\"\nsecrets = [{GITHUB_SECRET:?}]\n\
         [[destinations]]\nid = \"app\"\nurl = \"{}\"\nsecret = \"{APP_SECRET}\"\nretry_schedule = [\"0s\"]\n\
         [[destinations]]\nid = \"ops\"\nurl = \"{}\"\nsecret = \"{OPS_SECRET}\"\nretry_schedule = [\"0s\"]\n\
         [[routes]]\nsource = \"github\"\ndestination = \"app\"\n\
         [[routes]]\nsource = \"hookrelay\"\ndestination = \"ops\"\nevents = [\"delivery.failed\"]\n",
        sink.url("/app"),
        sink.url("/ops"),
    );
    let relay = relay(kind, config_from(&text)).await;
    for n in 1..=3 {
        relay.clock.advance_millis(1000);
        push(&relay, n).await;
        settle(&relay).await;
    }
    // app failed three times in a row, but no route wants
    // destination.failing; ops failed its one delivery.failed for good,
    // which raised nothing more.
    let ops = sink.received("/ops");
    assert_eq!(ops.len(), 1, "{:?}", sink.bodies("/ops"));
    assert!(ops[0].body_text().contains("\"delivery.failed\""));
    let stored = relay
        .events
        .events_by_source(&hookrelay_models::SourceId::operational(), None, 10)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1, "only the routed alert is stored");
}

/// The dispatcher's own changes: a `410 Gone` disables a destination (by
/// `gone`), a successful probe enables an automatically disabled one (by
/// `automatic`).
async fn a_410_and_a_probe_are_told_as_they_happen(kind: Kind) {
    let sink = Sink::start().await;
    sink.script("/app", vec![Reply::Status(500)]);
    sink.script("/gone", vec![Reply::Status(410)]);
    let text = format!(
        "allow_private_destinations = true\n\
         [[sources]]\nid = \"github\"\nscheme = \"github\"\nsecrets = [{GITHUB_SECRET:?}]\n\
         [[destinations]]\nid = \"app\"\nurl = \"{}\"\nsecret = \"{APP_SECRET}\"\nretry_schedule = [\"0s\"]\n\
         [[destinations]]\nid = \"gone\"\nurl = \"{}\"\nsecret = \"{APP_SECRET}\"\n\
         [[destinations]]\nid = \"ops\"\nurl = \"{}\"\nsecret = \"{OPS_SECRET}\"\n\
         [[routes]]\nsource = \"github\"\ndestination = \"app\"\n\
         [[routes]]\nsource = \"github\"\ndestination = \"gone\"\n\
         [[routes]]\nsource = \"hookrelay\"\ndestination = \"ops\"\nevents = [\"destination.*\"]\n",
        sink.url("/app"),
        sink.url("/gone"),
        sink.url("/ops"),
    );
    let settings = DispatchSettings {
        // Real seconds on moto's queue; the manual clock is moved past it
        // for the embedded one.
        probe_every: Some(Duration::from_secs(1)),
        ..settings()
    };
    let clock = Arc::new(ManualClock::at_unix_secs(NOW));
    let relay = match kind {
        Kind::Embedded => {
            Relay::embedded_with(config_from(&text), clock, Arc::new(NoMetrics), settings)
        }
        Kind::Aws => Relay::aws_with(config_from(&text), clock, settings).await,
    };
    push(&relay, 1).await;
    settle(&relay).await;
    let ops = ops_events(&sink);
    assert_eq!(types(&ops), ["destination.disabled"]);
    assert_eq!(ops[0]["data"]["destination"], "gone");
    assert_eq!(ops[0]["data"]["by"], "gone");

    // app has failed for over the hour: disabled automatically, then a
    // probe that succeeds brings it back.
    relay.clock.advance_millis(61 * 60 * 1000);
    push(&relay, 2).await;
    settle(&relay).await;
    sink.script("/app", vec![Reply::Status(200)]);
    for _ in 0..20 {
        relay.clock.advance_millis(2_000);
        tokio::time::sleep(Duration::from_millis(500)).await;
        settle(&relay).await;
        if ops_events(&sink)
            .iter()
            .any(|e| e["type"] == "destination.enabled")
        {
            break;
        }
    }
    let ops = ops_events(&sink);
    let about_app: Vec<(&str, &str)> = ops
        .iter()
        .filter(|e| e["data"]["destination"] == "app")
        .map(|e| {
            (
                e["type"].as_str().unwrap(),
                e["data"]["by"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        about_app,
        [
            ("destination.disabled", "automatic"),
            ("destination.enabled", "automatic")
        ],
        "{:?}",
        types(&ops)
    );
}

/// `config push` of a file that disables a destination, then of one that
/// enables it again: each change is told, by an operator.
async fn a_pushed_file_that_disables_or_enables_is_told(kind: Kind) {
    let sink = Sink::start().await;
    let relay = relay(kind, config(&sink)).await;
    let admin = relay.admin();
    let push_with_app = |enabled: bool| {
        let mut pushed = config(&sink);
        let app = pushed
            .destinations
            .iter_mut()
            .find(|d| d.id.as_str() == "app")
            .unwrap();
        app.enabled = enabled;
        app.disabled_reason = (!enabled).then(|| "maintenance".to_string());
        AdminRequest::PushConfig {
            config: pushed,
            allow_private: true,
        }
    };
    admin.execute(push_with_app(false)).await.unwrap();
    settle(&relay).await;
    admin.execute(push_with_app(true)).await.unwrap();
    settle(&relay).await;
    let ops = ops_events(&sink);
    assert_eq!(types(&ops), ["destination.disabled", "destination.enabled"]);
    assert_eq!(ops[0]["data"]["by"], "operator");
    assert_eq!(ops[0]["data"]["reason"], "maintenance");
    assert_eq!(ops[1]["data"]["by"], "operator");
}

on_both_backends!(
    a_pushed_file_that_disables_or_enables_is_told,
    each_trigger_is_one_signed_event_per_destination_type_and_window,
    unrouted_alerts_cost_nothing_and_alerts_do_not_feed_on_themselves,
    a_410_and_a_probe_are_told_as_they_happen,
);

/// The dead-letter queue, on SQS (moto): the dispatcher Lambda's schedule
/// tick counts what waits there and raises `dead_letters.waiting`; without
/// messages, or without a route for it, nothing is raised.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_tick_reports_messages_in_the_dead_letter_queue() {
    let sink = Sink::start().await;
    let relay = relay(Kind::Aws, config(&sink)).await;
    let sqs = aws_sdk_sqs::Client::new(&moto::shared().sdk_config());
    let url = sqs
        .create_queue()
        .queue_name(moto::unique_name("dead-letters"))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let dead_letters = hookrelay_aws::SqsQueue::new(sqs.clone(), &url);
    let tick: Value =
        serde_json::from_str(include_str!("../../events/dispatcher-schedule.json")).unwrap();

    let answer =
        hookrelay_dispatcher::handle_invocation(&relay.dispatch, Some(&dead_letters), tick.clone())
            .await
            .unwrap();
    assert_eq!(answer["dead_letters"], 0);
    settle(&relay).await;
    assert!(sink.received("/ops").is_empty());

    for n in 0..2 {
        sqs.send_message()
            .queue_url(&url)
            .message_body(format!("{{\"unreadable\": {n}}}"))
            .send()
            .await
            .unwrap();
    }
    let answer =
        hookrelay_dispatcher::handle_invocation(&relay.dispatch, Some(&dead_letters), tick.clone())
            .await
            .unwrap();
    assert_eq!(answer["dead_letters"], 2);
    // A second tick in the window: counted, not sent again.
    hookrelay_dispatcher::handle_invocation(&relay.dispatch, Some(&dead_letters), tick.clone())
        .await
        .unwrap();
    settle(&relay).await;
    let ops = ops_events(&sink);
    assert_eq!(types(&ops), ["dead_letters.waiting"]);
    assert_eq!(ops[0]["data"]["waiting"], 2);
    assert_eq!(ops[0]["data"]["queue"], url.rsplit('/').next().unwrap());

    // Not an SQS batch nor a tick: refused, not taken for an empty batch.
    let refused =
        hookrelay_dispatcher::handle_invocation(&relay.dispatch, Some(&dead_letters), Value::Null)
            .await;
    assert!(refused.is_err());
}

#[test]
fn the_operational_source_is_reserved_and_routable() {
    let routed = Config::from_toml(
        "[[destinations]]\nid = \"ops\"\nurl = \"https://ops.example.com/hook\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n\
         [[routes]]\nsource = \"hookrelay\"\ndestination = \"ops\"\nevents = [\"destination.*\"]\n",
        "routed.toml",
    );
    assert!(routed.is_ok(), "{routed:?}");
    let taken = Config::from_toml(
        "[[sources]]\nid = \"hookrelay\"\nscheme = \"github\"\nsecrets = [\"x\"]\n",
        "taken.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(taken.contains("the relay's own"), "{taken}");
}
