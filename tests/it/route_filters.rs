//! Content filters on routes (issue 27, first part): a route with an
//! EventBridge event pattern sends only the events whose envelope
//! (`source`, `type`, `headers`, `body`) it matches; the event-type filter
//! works as before beside it; an event no route selects is still stored.
//! A filter can be tried on stored events before it is saved (the admin
//! `TestFilter` request behind `hookrelay routes test`), and an event's
//! detail says, per route, whether it matched and what failed.
use hookrelay_core::admin::FilterTestResult;
use hookrelay_core::{AdminRequest, AdminResponse, CoreError};
use hookrelay_models::{RouteVerdict, SourceId, Timestamp};
use hookrelay_tests::relay::Relay;
use hookrelay_tests::sink::{Reply, Sink};
use hookrelay_tests::{config_from, ManualClock};
use std::sync::Arc;

const SECRET: &str = "It's a Secret to Everybody";

#[derive(Clone, Copy)]
enum Kind {
    Embedded,
    Aws,
}

async fn big_orders_go_to_one_destination_and_every_push_to_the_other(kind: Kind) {
    let sink = Sink::start().await;
    sink.script("/big", vec![Reply::Status(200)]);
    sink.script("/all", vec![Reply::Status(200)]);
    let config = config_from(&format!(
        "allow_private_destinations = true\n\
         [[sources]]\nid = \"github\"\nscheme = \"github\"\nsecrets = [{SECRET:?}]\n\
         [[destinations]]\nid = \"big\"\nurl = \"{}\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n\
         [[destinations]]\nid = \"all\"\nurl = \"{}\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n\
         [[routes]]\nsource = \"github\"\ndestination = \"big\"\nevents = [\"push\"]\n\
         filter = '{{\"headers\": {{\"x-github-event\": [\"push\"]}}, \"body\": {{\"total\": [{{\"numeric\": [\">\", 100]}}], \"ref\": [{{\"prefix\": \"refs/heads/\"}}]}}}}'\n\
         [[routes]]\nsource = \"github\"\ndestination = \"all\"\nevents = [\"push\"]\n",
        sink.url("/big"),
        sink.url("/all")
    ));
    let clock = Arc::new(ManualClock::at_system_time());
    let relay = match kind {
        Kind::Embedded => Relay::embedded(config, clock),
        Kind::Aws => Relay::aws(config, clock).await,
    };
    let mut accepted = Vec::new();
    for (n, (total, reference)) in [
        (250, "refs/heads/main"),
        (50, "refs/heads/main"),
        (900, "refs/tags/v1"),
    ]
    .into_iter()
    .enumerate()
    {
        let body = format!(r#"{{"total":{total},"ref":"{reference}"}}"#);
        accepted.push(
            relay
                .accept_github(
                    "github",
                    SECRET,
                    body.as_bytes(),
                    &[
                        ("X-GitHub-Event", "push"),
                        ("X-GitHub-Delivery", &format!("d-{n}")),
                        ("Content-Type", "application/json"),
                    ],
                )
                .await,
        );
    }
    while relay.drain().await > 0 {}
    let big = sink.received("/big");
    assert_eq!(big.len(), 1, "only the branch push over 100");
    assert_eq!(
        big[0].header("webhook-id"),
        Some(accepted[0].message_id().as_str())
    );
    assert_eq!(
        sink.received("/all").len(),
        3,
        "the unfiltered route takes every push"
    );
}

/// Three pushes to `github` and one to `mirror`, a millisecond apart, so
/// newest first is a known order; no delivery is needed to try a filter.
async fn relay_with_stored_pushes(kind: Kind) -> (Relay, Vec<hookrelay_models::EventId>) {
    let config = config_from(&format!(
        "[[sources]]\nid = \"github\"\nscheme = \"github\"\nsecrets = [{SECRET:?}]\n\
         [[sources]]\nid = \"mirror\"\nscheme = \"github\"\nsecrets = [{SECRET:?}]\n\
         [[destinations]]\nid = \"big\"\nurl = \"https://big.example.com/hook\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n\
         [[destinations]]\nid = \"tags\"\nurl = \"https://tags.example.com/hook\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n\
         [[routes]]\nsource = \"github\"\ndestination = \"big\"\n\
         filter = '{{\"body\": {{\"total\": [{{\"numeric\": [\">\", 100]}}]}}}}'\n\
         [[routes]]\nsource = \"github\"\ndestination = \"tags\"\nevents = [\"create\"]\n"
    ));
    let clock = Arc::new(ManualClock::at_system_time());
    let relay = match kind {
        Kind::Embedded => Relay::embedded(config, clock.clone()),
        Kind::Aws => Relay::aws(config, clock.clone()).await,
    };
    let mut ids = Vec::new();
    for (n, (source, total, reference)) in [
        ("github", 250, "refs/heads/main"),
        ("github", 50, "refs/heads/main"),
        ("github", 900, "refs/tags/v1"),
        ("mirror", 500, "refs/heads/main"),
    ]
    .into_iter()
    .enumerate()
    {
        clock.advance_millis(5);
        let body = format!(r#"{{"total":{total},"ref":"{reference}"}}"#);
        ids.push(
            relay
                .accept_github(
                    source,
                    SECRET,
                    body.as_bytes(),
                    &[
                        ("X-GitHub-Event", "push"),
                        ("X-GitHub-Delivery", &format!("t-{n}")),
                        ("Content-Type", "application/json"),
                    ],
                )
                .await,
        );
    }
    (relay, ids)
}

async fn test_filter(
    relay: &Relay,
    filter: serde_json::Value,
    source: Option<&str>,
    since: Option<Timestamp>,
    limit: usize,
) -> Result<Vec<FilterTestResult>, CoreError> {
    let request = AdminRequest::TestFilter {
        filter,
        source: source.map(|s| SourceId::parse(s).unwrap()),
        since,
        limit,
    };
    match relay.admin().execute(request).await? {
        AdminResponse::FilterTest(results) => Ok(results),
        other => panic!("unexpected answer {other:?}"),
    }
}

/// (event, matched, first failing field) of each result.
fn verdicts(results: &[FilterTestResult]) -> Vec<(String, bool, Option<String>)> {
    results
        .iter()
        .map(|r| (r.id.to_string(), r.matched, r.failed_field.clone()))
        .collect()
}

async fn a_filter_is_tried_on_stored_events_naming_the_field_that_failed(kind: Kind) {
    // Given four stored pushes, two sources
    let (relay, ids) = relay_with_stored_pushes(kind).await;
    let id = |n: usize| ids[n].to_string();
    let branch_over_100 = serde_json::json!({
        "body": {"total": [{"numeric": [">", 100]}], "ref": [{"prefix": "refs/heads/"}]}
    });

    // When the filter is tried on every source: newest first, each event
    // matched or named by the first field (by name) that failed
    let every = test_filter(&relay, branch_over_100.clone(), None, None, 100)
        .await
        .unwrap();
    assert_eq!(
        verdicts(&every),
        [
            (id(3), true, None),
            (id(2), false, Some("body.ref".into())),
            (id(1), false, Some("body.total".into())),
            (id(0), true, None),
        ]
    );
    assert_eq!(every[0].source.as_str(), "mirror");
    assert_eq!(every[1].event_type.as_deref(), Some("push"));

    // One source, since a time, and a limit narrow what is read
    let github = test_filter(&relay, branch_over_100.clone(), Some("github"), None, 100)
        .await
        .unwrap();
    assert_eq!(github.len(), 3);
    assert!(github.iter().all(|r| r.source.as_str() == "github"));
    let newest_two = test_filter(&relay, branch_over_100.clone(), None, None, 2)
        .await
        .unwrap();
    assert_eq!(verdicts(&newest_two), verdicts(&every[..2]));
    let since_second = test_filter(
        &relay,
        branch_over_100.clone(),
        Some("github"),
        Some(every[2].received_at),
        100,
    )
    .await
    .unwrap();
    assert_eq!(verdicts(&since_second), verdicts(&every[1..3]));

    // A wrong pattern is refused with where it is wrong; an unknown source
    // is not found
    let wrong = serde_json::json!({"body": {"total": [{"numeric": [">"]}]}});
    match test_filter(&relay, wrong, None, None, 100).await {
        Err(CoreError::Invalid(reason)) => {
            assert!(reason.contains("/body/total/0/numeric"), "{reason}")
        }
        other => panic!("a wrong pattern was not refused: {other:?}"),
    }
    assert!(matches!(
        test_filter(&relay, branch_over_100, Some("nope"), None, 100).await,
        Err(CoreError::NotFound(_))
    ));

    // And an event's detail says, per route of its source, what came of it
    let AdminResponse::Event(detail) = relay
        .admin()
        .execute(AdminRequest::ShowEvent { id: ids[1].clone() })
        .await
        .unwrap()
    else {
        panic!("an event's detail")
    };
    let routes: Vec<(String, RouteVerdict)> = detail
        .routes
        .iter()
        .map(|r| (r.destination.to_string(), r.verdict.clone()))
        .collect();
    assert_eq!(
        routes,
        [
            (
                "big".to_string(),
                RouteVerdict::FilterFailed {
                    field: "body.total".into()
                }
            ),
            ("tags".to_string(), RouteVerdict::EventTypeNotSelected),
        ]
    );
}

on_both_backends!(
    big_orders_go_to_one_destination_and_every_push_to_the_other,
    a_filter_is_tried_on_stored_events_naming_the_field_that_failed
);

#[test]
fn a_bad_filter_is_refused_with_where_it_is_wrong() {
    let refused = hookrelay_models::Config::from_toml(
        "[[sources]]\nid = \"github\"\nscheme = \"github\"\nsecrets = [\"s\"]\n\
         [[destinations]]\nid = \"app\"\nurl = \"https://example.com/hook\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n\
         [[routes]]\nsource = \"github\"\ndestination = \"app\"\nfilter = '{\"body\": {\"total\": [{\"wildcard\": \"a**\"}]}}'\n",
        "test.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(refused.contains("/body/total/0/wildcard"), "{refused}");
    assert!(refused.contains("consecutive"), "{refused}");
}
