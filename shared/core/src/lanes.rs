//! The store's side of ordered delivery: each (destination, key value) has
//! a lane, the events whose deliveries there have not settled, in event id
//! order. The receiver puts an event in its lanes before it acknowledges
//! it; the dispatcher attempts only a lane's head and takes it out once
//! it has settled (see `dispatch::order`).
use async_trait::async_trait;
use hookrelay_models::{Config, Destination, DestinationId, Event, EventId, Timestamp};

use crate::error::CoreError;

/// One key's lane of one destination.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LaneId {
    pub destination: DestinationId,
    /// The key's value ([`hookrelay_models::OrderingKey::value_of`]).
    pub key: String,
}

/// A key whose head failed and waits for its retry, holding back the
/// key's later events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockedKey {
    pub key: String,
    /// The event whose delivery heads the lane.
    pub head: EventId,
    /// When its first attempt failed.
    pub since: Timestamp,
}

/// Where lanes are kept: each call one read or one write (per lane), so
/// every backend runs the same protocol and the simulator proves it once.
#[async_trait]
pub trait OrderLanes: Send + Sync {
    /// Puts `event` in each of `lanes` until `expires_at` (when its event
    /// expires); a no-op where it is. One write per lane.
    async fn enter_lanes(
        &self,
        event: &EventId,
        lanes: &[LaneId],
        expires_at: Timestamp,
    ) -> Result<(), CoreError>;

    /// The oldest event in `lane`, read consistently: a write that
    /// finished before this read began is seen. One read.
    async fn lane_head(&self, lane: &LaneId) -> Result<Option<EventId>, CoreError>;

    /// Whether `event` is in `lane`, read consistently. One read.
    async fn in_lane(&self, lane: &LaneId, event: &EventId) -> Result<bool, CoreError>;

    /// Takes `event` out of `lane`; a no-op if it is not there. One write.
    async fn leave_lane(&self, lane: &LaneId, event: &EventId) -> Result<(), CoreError>;

    /// The events in `lane`, oldest first, at most `limit` (for
    /// operators).
    async fn lane_entries(&self, lane: &LaneId, limit: usize) -> Result<Vec<EventId>, CoreError>;

    /// Records that `head`'s delivery, heading `lane`, failed at `since`
    /// and waits for a retry (`Some`), or, with `None`, that it no longer
    /// does (only if the record names `head`). One write.
    async fn set_blocked(
        &self,
        lane: &LaneId,
        head: &EventId,
        since: Option<Timestamp>,
    ) -> Result<(), CoreError>;

    /// `destination`'s blocked keys, at most `limit`.
    async fn blocked_keys(
        &self,
        destination: &DestinationId,
        limit: usize,
    ) -> Result<Vec<BlockedKey>, CoreError>;
}

/// The lanes `event` goes in under `config`: one for each destination
/// with an ordering that a route sends it to, where the event has a key
/// value. Nothing to do (and no routing) when no destination is ordered.
pub fn lanes_for(config: &Config, event: &Event) -> Vec<LaneId> {
    if config.destinations.iter().all(|d| d.ordering.is_none()) {
        return Vec::new();
    }
    // As `Config::routed_destinations` routes, without copying a
    // destination: the receiver asks for every event.
    let envelope = std::cell::OnceCell::new();
    let mut lanes: Vec<LaneId> = Vec::new();
    for route in config.routes_for(&event.source, event.event_type.as_deref()) {
        let Some(destination) = config
            .destination(&route.destination)
            .filter(|d| d.ordering.is_some())
        else {
            continue;
        };
        if lanes.iter().any(|lane| lane.destination == destination.id) {
            continue;
        }
        let admitted = route.filter.is_none()
            || route.admits(envelope.get_or_init(|| hookrelay_models::route_envelope(event)));
        if let Some(lane) = admitted.then(|| lane_of(destination, event)).flatten() {
            lanes.push(lane);
        }
    }
    lanes
}

/// `event`'s lane at `destination`, if the destination is ordered and the
/// event has a key value there.
pub fn lane_of(destination: &Destination, event: &Event) -> Option<LaneId> {
    let key = destination.ordering.as_ref()?.key.value_of(event)?;
    Some(LaneId {
        destination: destination.id.clone(),
        key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hookrelay_models::{SourceId, Timestamp};

    const DESTINATION: &str =
        "url = \"https://example.com/hook\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n";

    fn config(extra_routes: &str) -> Config {
        Config::from_toml(
            &format!(
                "[[sources]]\nid = \"shop\"\nscheme = \"github\"\nsecrets = [\"s\"]\n\
                 [[destinations]]\nid = \"ordered\"\n{DESTINATION}ordering = {{ key = \"json:/customer\" }}\n\
                 [[destinations]]\nid = \"plain\"\n{DESTINATION}\
                 [[routes]]\nsource = \"shop\"\ndestination = \"plain\"\n{extra_routes}"
            ),
            "test.toml",
        )
        .unwrap()
    }

    fn event(body: &str) -> Event {
        let at = Timestamp::from_unix_millis(1_800_000_000_000);
        Event {
            id: EventId::new(at),
            source: SourceId::parse("shop").unwrap(),
            event_type: Some("order.created".into()),
            provider_delivery_id: None,
            received_at: at,
            headers: Vec::new(),
            body: body.as_bytes().to_vec().into(),
        }
    }

    fn lane(key: &str) -> LaneId {
        LaneId {
            destination: DestinationId::parse("ordered").unwrap(),
            key: key.into(),
        }
    }

    #[test]
    fn an_event_goes_in_the_lanes_of_the_ordered_destinations_it_is_routed_to() {
        let routed = config("[[routes]]\nsource = \"shop\"\ndestination = \"ordered\"\n");
        assert_eq!(
            lanes_for(&routed, &event(r#"{"customer":"c1"}"#)),
            vec![lane("c1")]
        );
        // No key value: unordered, in no lane.
        assert_eq!(lanes_for(&routed, &event(r#"{"other":1}"#)), Vec::new());
        // Not routed there: no lane, although the destination is ordered.
        assert_eq!(
            lanes_for(&config(""), &event(r#"{"customer":"c1"}"#)),
            Vec::new()
        );
    }

    #[test]
    fn a_route_filter_decides_which_lanes() {
        let filtered = config(
            "[[routes]]\nsource = \"shop\"\ndestination = \"ordered\"\nfilter = '{\"body\": {\"customer\": [\"c1\"]}}'\n",
        );
        assert_eq!(
            lanes_for(&filtered, &event(r#"{"customer":"c1"}"#)),
            vec![lane("c1")]
        );
        assert_eq!(
            lanes_for(&filtered, &event(r#"{"customer":"c2"}"#)),
            Vec::new()
        );
    }
}
