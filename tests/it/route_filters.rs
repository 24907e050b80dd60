//! Content filters on routes (issue 27, first part): a route with an
//! EventBridge event pattern sends only the events whose envelope
//! (`source`, `type`, `headers`, `body`) it matches; the event-type filter
//! works as before beside it; an event no route selects is still stored.
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

on_both_backends!(big_orders_go_to_one_destination_and_every_push_to_the_other);

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
