//! The admin use case's rules, in process, on the embedded adapters and on
//! DynamoDB + SQS (moto): every change is checked as the whole
//! configuration it would produce, and a refused one writes nothing. (The
//! CLI's end-to-end tests, `cli/tests/admin.rs`, run one command of each
//! family through the binary.)
use hookrelay_core::{AdminRequest, AdminResponse, CoreError, ErrorKind};
use hookrelay_models::{Config, Destination, DestinationId, EventId, Route, Source, SourceId};
use hookrelay_signing::{SchemeKind, Secret};
use hookrelay_tests::relay::Relay;
use hookrelay_tests::{config_from, ManualClock};
use std::sync::Arc;
use std::time::Duration;

const APP_SECRET: &str = "whsec_YWRtaW4gdGVzdCBkZXN0aW5hdGlvbiBrZXkgMTIzNA==";

#[derive(Clone, Copy)]
enum Kind {
    Embedded,
    Aws,
}

async fn relay(kind: Kind) -> Relay {
    let config = config_from(&format!(
        "[[sources]]\nid = \"github\"\nscheme = \"github\"\nsecrets = [\"s\"]\n\
         [[destinations]]\nid = \"app\"\nurl = \"https://example.com/app\"\nsecret = \"{APP_SECRET}\"\n\
         [[routes]]\nsource = \"github\"\ndestination = \"app\"\n"
    ));
    let clock = Arc::new(ManualClock::at_unix_secs(1_790_000_000));
    match kind {
        Kind::Embedded => Relay::embedded(config, clock),
        Kind::Aws => Relay::aws(config, clock).await,
    }
}

fn sid(id: &str) -> SourceId {
    SourceId::parse(id).unwrap()
}

fn did(id: &str) -> DestinationId {
    DestinationId::parse(id).unwrap()
}

fn destination(id: &str, url: &str, secret: &str) -> Destination {
    Destination::new(did(id), url, Secret::new(secret))
}

fn add_destination(d: Destination) -> AdminRequest {
    AdminRequest::AddDestination {
        destination: d,
        allow_private: false,
    }
}

/// Runs a request that must be refused as `kind`, saying `says`.
async fn refused(relay: &Relay, request: AdminRequest, kind: ErrorKind, says: &str) {
    let what = format!("{request:?}");
    let err: CoreError = relay
        .admin()
        .execute(request)
        .await
        .expect_err(&format!("accepted: {what}"));
    assert_eq!(err.kind(), kind, "{what}: {err}");
    assert!(
        err.to_string().contains(says),
        "{what}: {err} lacks {says:?}"
    );
}

async fn stored(relay: &Relay) -> Config {
    match relay
        .admin()
        .execute(AdminRequest::PullConfig)
        .await
        .unwrap()
    {
        AdminResponse::Config(config) => config,
        other => panic!("not a configuration: {other:?}"),
    }
}

async fn refused_changes_write_nothing(kind: Kind) {
    let relay = relay(kind).await;
    let before = stored(&relay).await;
    let cases = [
        (
            add_destination(destination("bad", "https://example.com/", "whsec_%%%")),
            ErrorKind::Invalid,
            "destination bad: secret",
        ),
        (
            add_destination(destination("ftp", "ftp://example.com/x", APP_SECRET)),
            ErrorKind::Invalid,
            "only http and https",
        ),
        (
            add_destination(destination("internal", "http://10.0.0.8/hook", APP_SECRET)),
            ErrorKind::Invalid,
            "private, loopback or link-local",
        ),
        (
            add_destination(destination(
                "local",
                "http://localhost:8080/hook",
                APP_SECRET,
            )),
            ErrorKind::Invalid,
            "--allow-private",
        ),
        (
            add_destination(destination("app", "https://example.com/again", APP_SECRET)),
            ErrorKind::Conflict,
            "exists",
        ),
        (
            AdminRequest::AddRoute {
                route: Route::new(sid("nope"), did("app")),
            },
            ErrorKind::Invalid,
            "no such source",
        ),
        (
            AdminRequest::AddRoute {
                route: Route::new(sid("github"), did("nope")),
            },
            ErrorKind::Invalid,
            "no such destination",
        ),
        (
            AdminRequest::AddSource {
                source: Source::new(sid("github"), SchemeKind::Github, vec![Secret::new("x")]),
            },
            ErrorKind::Conflict,
            "exists",
        ),
        (
            AdminRequest::AddSource {
                source: Source {
                    tolerance_secs: Some(7200),
                    ..Source::new(sid("slow"), SchemeKind::Stripe, vec![Secret::new("x")])
                },
            },
            ErrorKind::Invalid,
            "above the maximum of 3600",
        ),
        (
            AdminRequest::RemoveDestination { id: did("app") },
            ErrorKind::Conflict,
            "still routed to from github",
        ),
        (
            AdminRequest::RemoveSource { id: sid("github") },
            ErrorKind::Conflict,
            "remove those routes first",
        ),
        (
            AdminRequest::RemoveSource { id: sid("nope") },
            ErrorKind::NotFound,
            "no source nope",
        ),
        (
            AdminRequest::ShowEvent {
                id: EventId::parse("evt_01jd0000000000000000000000").unwrap(),
            },
            ErrorKind::NotFound,
            "no event",
        ),
    ];
    for (request, kind, says) in cases {
        refused(&relay, request, kind, says).await;
    }
    assert_eq!(
        stored(&relay).await,
        before,
        "a refused change wrote something"
    );
}

async fn valid_changes_are_written_and_routes_guard_removal(kind: Kind) {
    let relay = relay(kind).await;
    let admin = relay.admin();
    let shop = Source::new(
        sid("shop"),
        SchemeKind::Shopify,
        vec![Secret::new("shop-secret")],
    );
    admin
        .execute(AdminRequest::AddSource {
            source: shop.clone(),
        })
        .await
        .unwrap();
    admin
        .execute(AdminRequest::UpdateSource {
            source: Source {
                tolerance_secs: Some(60),
                ..shop
            },
        })
        .await
        .unwrap();
    let crm = destination("crm", "http://127.0.0.1:9/crm", APP_SECRET);
    admin
        .execute(AdminRequest::AddDestination {
            destination: crm.clone(),
            allow_private: true,
        })
        .await
        .unwrap();
    // A URL accepted with the flag is not judged again when something else
    // changes; a new private URL is.
    admin
        .execute(AdminRequest::UpdateDestination {
            destination: Destination {
                timeout: Some(Duration::from_secs(4)),
                ..crm.clone()
            },
            allow_private: false,
        })
        .await
        .unwrap();
    refused(
        &relay,
        AdminRequest::UpdateDestination {
            destination: Destination {
                url: "http://192.168.1.1/".into(),
                ..crm
            },
            allow_private: false,
        },
        ErrorKind::Invalid,
        "private",
    )
    .await;
    let mut route = Route::new(sid("shop"), did("crm"));
    route.events = vec![hookrelay_models::EventFilter::parse("orders/*").unwrap()];
    admin
        .execute(AdminRequest::AddRoute { route })
        .await
        .unwrap();

    let config = stored(&relay).await;
    assert_eq!(
        config.source(&sid("shop")).unwrap().tolerance_secs,
        Some(60)
    );
    let crm = config.destination(&did("crm")).unwrap();
    assert_eq!(crm.timeout(), Duration::from_secs(4));
    assert_eq!(crm.url, "http://127.0.0.1:9/crm");

    refused(
        &relay,
        AdminRequest::RemoveDestination { id: did("crm") },
        ErrorKind::Conflict,
        "still routed to from shop",
    )
    .await;
    for request in [
        AdminRequest::RemoveRoute {
            source: sid("shop"),
            destination: did("crm"),
        },
        AdminRequest::RemoveDestination { id: did("crm") },
        AdminRequest::RemoveSource { id: sid("shop") },
    ] {
        admin.execute(request).await.unwrap();
    }
    let after = stored(&relay).await;
    assert!(after.source(&sid("shop")).is_none() && after.destination(&did("crm")).is_none());
}

async fn a_pulled_configuration_pushes_back_idempotently(kind: Kind) {
    let relay = relay(kind).await;
    let mut config = stored(&relay).await;
    config.destinations[0].id = did("app2");
    config.routes[0].destination = did("app2");
    for _ in 0..2 {
        let answer = relay
            .admin()
            .execute(AdminRequest::PushConfig {
                config: config.clone(),
                allow_private: false,
            })
            .await
            .unwrap();
        let AdminResponse::Done(said) = answer else {
            panic!("not a message: {answer:?}");
        };
        assert!(
            said.contains("pushed 1 sources, 1 destinations, 1 routes"),
            "{said}"
        );
    }
    let after = stored(&relay).await;
    let ids: Vec<&str> = after.destinations.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["app2"]);
    assert_eq!(after.routes[0].destination, did("app2"));
}

on_both_backends!(
    refused_changes_write_nothing,
    valid_changes_are_written_and_routes_guard_removal,
    a_pulled_configuration_pushes_back_idempotently,
);
