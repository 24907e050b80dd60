//! Why an event went, or did not go, to each route of its source (issue
//! 27): the console's event page shows it per route, and it reads the
//! same rules as [`Config::routed_destinations`], which routes events.
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::cell::OnceCell;

use crate::config::{Config, Route};
use crate::event::Event;
use crate::ids::DestinationId;

/// How one route judged one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RouteVerdict {
    /// The event goes to the route's destination.
    Matched,
    /// The route's `events` list does not select the event's type; its
    /// content filter, if any, was not consulted.
    EventTypeNotSelected,
    /// The route's content filter turned the event away, first on `field`:
    /// a dotted path into the envelope (`body.total`).
    FilterFailed { field: String },
}

impl RouteVerdict {
    pub fn is_matched(&self) -> bool {
        matches!(self, RouteVerdict::Matched)
    }
}

/// One route of an event's source, by its destination, and its verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteMatch {
    pub destination: DestinationId,
    pub verdict: RouteVerdict,
}

impl Route {
    /// How this route judges an event of `event_type` from its source;
    /// `envelope` (`crate::route_envelope`) is asked for only when the
    /// route has a filter and the event type is selected.
    pub fn explain<'a>(
        &self,
        event_type: Option<&str>,
        envelope: impl FnOnce() -> &'a Value,
    ) -> RouteVerdict {
        if !self.events.iter().any(|f| f.matches(event_type)) {
            return RouteVerdict::EventTypeNotSelected;
        }
        match self
            .filter
            .as_ref()
            .and_then(|f| f.first_mismatch(envelope()))
        {
            Some(field) => RouteVerdict::FilterFailed { field },
            None => RouteVerdict::Matched,
        }
    }
}

impl Config {
    /// Each route of `event`'s source, in configuration order, and how it
    /// judges the event. The envelope is built once, and only if a filter
    /// needs it.
    pub fn explain_routes(&self, event: &Event) -> Vec<RouteMatch> {
        let envelope = OnceCell::new();
        self.routes
            .iter()
            .filter(|route| route.source == event.source)
            .map(|route| RouteMatch {
                destination: route.destination.clone(),
                verdict: route.explain(event.event_type.as_deref(), || {
                    envelope.get_or_init(|| crate::route_envelope(event))
                }),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{EventId, SourceId};
    use crate::time::Timestamp;
    use crate::RouteFilter;

    fn order(event_type: &str, total: u32) -> Event {
        let at = Timestamp::from_unix_secs(1_800_000_000);
        Event {
            id: EventId::new(at),
            source: SourceId::parse("shop").unwrap(),
            event_type: Some(event_type.into()),
            provider_delivery_id: None,
            received_at: at,
            headers: vec![("content-type".into(), "application/json".into())],
            body: format!(r#"{{"total":{total}}}"#).into_bytes().into(),
        }
    }

    fn route(destination: &str, events: &str, filter: Option<&str>) -> Route {
        let mut route = Route::new(
            SourceId::parse("shop").unwrap(),
            DestinationId::parse(destination).unwrap(),
        );
        route.events = vec![crate::EventFilter::parse(events).unwrap()];
        route.filter = filter.map(|f| RouteFilter::parse(f).unwrap());
        route
    }

    fn config() -> Config {
        let mut other_source = route("audit", "*", None);
        other_source.source = SourceId::parse("github").unwrap();
        let destination = |id: &str| {
            crate::Destination::new(
                DestinationId::parse(id).unwrap(),
                format!("https://{id}.example.com/hook"),
                hookrelay_signing::Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
            )
        };
        Config {
            destinations: ["big", "refunds", "all", "audit"].map(destination).to_vec(),
            routes: vec![
                route(
                    "big",
                    "order.*",
                    Some(r#"{"body":{"total":[{"numeric":[">",100]}]}}"#),
                ),
                route("refunds", "refund.*", None),
                route("all", "*", None),
                other_source,
            ],
            ..Config::default()
        }
    }

    #[test]
    fn each_route_of_the_source_says_matched_or_what_failed() {
        let verdicts = |event: &Event| -> Vec<(String, RouteVerdict)> {
            config()
                .explain_routes(event)
                .into_iter()
                .map(|m| (m.destination.to_string(), m.verdict))
                .collect()
        };
        assert_eq!(
            verdicts(&order("order.paid", 50)),
            [
                (
                    "big".to_string(),
                    RouteVerdict::FilterFailed {
                        field: "body.total".into()
                    }
                ),
                ("refunds".to_string(), RouteVerdict::EventTypeNotSelected),
                ("all".to_string(), RouteVerdict::Matched),
            ]
        );
        assert_eq!(
            verdicts(&order("order.paid", 500))[0],
            ("big".to_string(), RouteVerdict::Matched)
        );
    }

    #[test]
    fn the_matched_routes_are_exactly_where_the_event_is_routed() {
        let config = config();
        for event in [
            order("order.paid", 50),
            order("order.paid", 500),
            order("refund.issued", 5),
        ] {
            let matched: Vec<DestinationId> = config
                .explain_routes(&event)
                .into_iter()
                .filter(|m| m.verdict.is_matched())
                .map(|m| m.destination)
                .collect();
            let routed: Vec<DestinationId> = config
                .routed_destinations(&event)
                .into_iter()
                .map(|d| d.id)
                .collect();
            assert_eq!(matched, routed);
        }
    }

    #[test]
    fn verdicts_serialize_with_their_outcome_named() {
        let failed = RouteVerdict::FilterFailed {
            field: "body.total".into(),
        };
        assert_eq!(
            serde_json::to_value(&failed).unwrap(),
            serde_json::json!({"outcome": "filter_failed", "field": "body.total"})
        );
    }
}
