//! The stores under faults: the in-memory store (`hookrelay-embedded`),
//! which passes the same contract tests as the DynamoDB adapter, with
//! every call put through [`Sim::call`].
use async_trait::async_trait;
use hookrelay_core::{
    BlockedKey, Claim, ConfigStore, CoreError, DedupeClaim, DedupeKey, DeliveryStore,
    DestinationHealth, EventInfo, EventProgress, EventStore, LaneId, ListOrder, OrderLanes,
    PutOutcome,
};
use hookrelay_embedded::MemoryStore;
use hookrelay_models::{
    Attempt, Config, Delivery, DeliveryState, Destination, DestinationId, Event, EventId, Source,
    SourceId, Timestamp,
};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::faults::Sim;

/// The in-memory store, each call made under the simulation's faults.
pub struct Faulty {
    pub sim: Arc<Sim>,
    pub inner: Arc<MemoryStore>,
    pub mutation: Mutation,
    /// How far behind the table a read of deliveries by state may be, at
    /// most: on DynamoDB that is a query of a global secondary index,
    /// which is only eventually consistent (every other read the
    /// dispatcher makes is a consistent read of the table). Zero: never.
    index_lag: Duration,
    /// Each delivery's state after each write to it, with the simulated
    /// time of the write: what an index read that lags sees.
    index_log: Mutex<Vec<IndexEntry>>,
}

/// A delivery's state (`None`: none stored) after a write at a simulated
/// time.
type IndexEntry = (Duration, EventId, DestinationId, Option<DeliveryState>);

impl Faulty {
    pub fn new(sim: Arc<Sim>, inner: Arc<MemoryStore>, mutation: Mutation) -> Self {
        Faulty {
            sim,
            inner,
            mutation,
            index_lag: Duration::ZERO,
            index_log: Mutex::new(Vec::new()),
        }
    }

    /// Reads of deliveries by state lag the table by up to `lag`.
    pub fn with_index_lag(mut self, lag: Duration) -> Self {
        self.index_lag = lag;
        self
    }

    /// `write` to the delivery of `event` to `destination`, then its state
    /// noted for the lagging index, in the same step (no await point
    /// between the two: a crash cannot separate them).
    async fn logged<T>(
        &self,
        event: &EventId,
        destination: &DestinationId,
        write: impl Future<Output = Result<T, CoreError>>,
    ) -> Result<T, CoreError> {
        let written = write.await;
        if !self.index_lag.is_zero() {
            let state = self
                .inner
                .delivery(event, destination)
                .await
                .ok()
                .flatten()
                .map(|d| d.state);
            self.index_log.lock().unwrap().push((
                self.sim.elapsed(),
                event.clone(),
                destination.clone(),
                state,
            ));
        }
        written
    }

    /// When the delivery of `event` to `destination` was last written, in
    /// simulated time (`None` if the index does not lag, or it never was).
    pub fn last_written(&self, event: &EventId, destination: &DestinationId) -> Option<Duration> {
        self.index_log
            .lock()
            .unwrap()
            .iter()
            .rev()
            .find(|(_, e, d, _)| e == event && d == destination)
            .map(|(at, ..)| *at)
    }

    /// The deliveries in `state` as the index showed them a moment ago
    /// (up to `index_lag`, drawn per read): a change newer than that is
    /// not seen yet, and a delivery that left the state since still is.
    fn lagging_in_state(
        &self,
        destination: &DestinationId,
        state: DeliveryState,
        since: Option<Timestamp>,
        order: ListOrder,
        limit: usize,
    ) -> Vec<EventId> {
        let lag = self.sim.upto(self.index_lag);
        let seen_until = self.sim.elapsed().saturating_sub(lag);
        let mut latest = BTreeMap::new();
        for (at, event, of, state) in self.index_log.lock().unwrap().iter() {
            if *at > seen_until {
                break;
            }
            if of == destination {
                latest.insert(event.clone(), *state);
            }
        }
        let lower = since.map(EventId::lower_bound);
        let ids = latest
            .into_iter()
            .filter(|(id, s)| *s == Some(state) && lower.as_ref().is_none_or(|l| id >= l))
            .map(|(id, _)| id);
        match order {
            ListOrder::OldestFirst => ids.take(limit).collect(),
            ListOrder::NewestFirst => ids.rev().take(limit).collect(),
        }
    }
}

/// A defect planted in the event store on purpose, to show that the
/// invariants catch what it breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutation {
    None,
    /// `progress` says a missing event is dispatched: a retry acknowledges
    /// an event that was never stored.
    MissingLooksDispatched,
    /// `claim_dedupe` always wins: every receipt becomes an event.
    NoDedupe,
    /// `lane_head` finds every lane empty: each delivery takes itself for
    /// its lane's only event, so a key's events go in any order.
    EmptyLanes,
}

#[async_trait]
impl ConfigStore for Faulty {
    async fn source(&self, id: &SourceId) -> Result<Option<Source>, CoreError> {
        self.sim.call("config.source", self.inner.source(id)).await
    }

    async fn config(&self) -> Result<Config, CoreError> {
        self.sim.call("config.read", self.inner.config()).await
    }

    async fn fresh_destination(
        &self,
        id: &DestinationId,
    ) -> Result<Option<Destination>, CoreError> {
        self.sim
            .call("config.fresh_destination", self.inner.fresh_destination(id))
            .await
    }

    async fn set_destination_enabled(
        &self,
        id: &DestinationId,
        enabled: bool,
        reason: Option<String>,
    ) -> Result<(), CoreError> {
        self.sim
            .call(
                "config.set_enabled",
                self.inner.set_destination_enabled(id, enabled, reason),
            )
            .await
    }
}

#[async_trait]
impl DeliveryStore for Faulty {
    async fn claim(
        &self,
        event: &EventId,
        destination: &DestinationId,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Claim, CoreError> {
        let claimed = self
            .sim
            .call(
                "delivery.claim",
                self.logged(
                    event,
                    destination,
                    self.inner.claim(event, destination, now, lease_until),
                ),
            )
            .await;
        self.sim
            .note(|| format!("claim {event} {destination} -> {claimed:?}"));
        claimed
    }

    async fn record_attempt(
        &self,
        attempt: &Attempt,
        delivery: &Delivery,
        lease: Timestamp,
    ) -> Result<bool, CoreError> {
        self.sim
            .call(
                "delivery.record_attempt",
                self.logged(
                    &delivery.event_id,
                    &delivery.destination,
                    self.inner.record_attempt(attempt, delivery, lease),
                ),
            )
            .await
    }

    async fn park(
        &self,
        event: &EventId,
        destination: &DestinationId,
        now: Timestamp,
    ) -> Result<(), CoreError> {
        let parked = self
            .sim
            .call(
                "delivery.park",
                self.logged(event, destination, self.inner.park(event, destination, now)),
            )
            .await;
        self.sim
            .note(|| format!("park {event} {destination} -> {parked:?}"));
        parked
    }

    async fn delivery(
        &self,
        event: &EventId,
        destination: &DestinationId,
    ) -> Result<Option<Delivery>, CoreError> {
        self.sim
            .call("delivery.get", self.inner.delivery(event, destination))
            .await
    }

    async fn deliveries_for_event(&self, event: &EventId) -> Result<Vec<Delivery>, CoreError> {
        self.sim
            .call("delivery.for_event", self.inner.deliveries_for_event(event))
            .await
    }

    async fn attempts_for_event(&self, event: &EventId) -> Result<Vec<Attempt>, CoreError> {
        self.sim
            .call("attempts.for_event", self.inner.attempts_for_event(event))
            .await
    }

    async fn deliveries_in_state(
        &self,
        destination: &DestinationId,
        state: DeliveryState,
        since: Option<Timestamp>,
        order: ListOrder,
        limit: usize,
    ) -> Result<Vec<EventId>, CoreError> {
        if self.index_lag.is_zero() {
            return self
                .sim
                .call(
                    "delivery.in_state",
                    self.inner
                        .deliveries_in_state(destination, state, since, order, limit),
                )
                .await;
        }
        let found = self
            .sim
            .call("delivery.in_state (index)", async {
                Ok(self.lagging_in_state(destination, state, since, order, limit))
            })
            .await;
        self.sim
            .note(|| format!("in_state {destination} {state:?} (index) -> {found:?}"));
        found
    }

    async fn count_in_state(
        &self,
        destination: &DestinationId,
        state: DeliveryState,
    ) -> Result<u64, CoreError> {
        self.sim
            .call(
                "delivery.count_in_state",
                self.inner.count_in_state(destination, state),
            )
            .await
    }

    async fn reopen(
        &self,
        event: &EventId,
        destination: &DestinationId,
        now: Timestamp,
        new_series: bool,
    ) -> Result<bool, CoreError> {
        self.sim
            .call(
                "delivery.reopen",
                self.logged(
                    event,
                    destination,
                    self.inner.reopen(event, destination, now, new_series),
                ),
            )
            .await
    }

    async fn attempts_for_destination(
        &self,
        destination: &DestinationId,
        limit: usize,
    ) -> Result<Vec<Attempt>, CoreError> {
        self.sim
            .call(
                "attempts.for_destination",
                self.inner.attempts_for_destination(destination, limit),
            )
            .await
    }
}

#[async_trait]
impl DestinationHealth for Faulty {
    async fn note_failing(
        &self,
        destination: &DestinationId,
        at: Timestamp,
    ) -> Result<Timestamp, CoreError> {
        self.sim
            .call(
                "health.note_failing",
                self.inner.note_failing(destination, at),
            )
            .await
    }

    async fn set_failing_since(
        &self,
        destination: &DestinationId,
        since: Option<Timestamp>,
    ) -> Result<(), CoreError> {
        self.sim
            .call(
                "health.set_failing_since",
                self.inner.set_failing_since(destination, since),
            )
            .await
    }

    async fn release_head(
        &self,
        destination: &DestinationId,
    ) -> Result<Option<EventId>, CoreError> {
        self.sim
            .call("health.release_head", self.inner.release_head(destination))
            .await
    }

    async fn move_release_head(
        &self,
        destination: &DestinationId,
        from: Option<&EventId>,
        to: Option<&EventId>,
    ) -> Result<bool, CoreError> {
        let moved = self
            .sim
            .call(
                "health.move_release_head",
                self.inner.move_release_head(destination, from, to),
            )
            .await;
        self.sim
            .note(|| format!("move_release_head {destination} {from:?} -> {to:?}: {moved:?}"));
        moved
    }
}

#[async_trait]
impl EventStore for Faulty {
    async fn claim_dedupe(
        &self,
        key: &DedupeKey,
        candidate: &EventId,
        now: Timestamp,
    ) -> Result<DedupeClaim, CoreError> {
        let claimed = self
            .sim
            .call("events.claim_dedupe", async {
                let claimed = self.inner.claim_dedupe(key, candidate, now).await;
                match self.mutation {
                    Mutation::NoDedupe => claimed.map(|_| DedupeClaim::Won),
                    _ => claimed,
                }
            })
            .await;
        self.sim.note(|| {
            format!(
                "claim_dedupe {} for {candidate} -> {claimed:?}",
                key.provider_delivery_id
            )
        });
        claimed
    }

    async fn put_event(
        &self,
        event: &Event,
        expires_at: Timestamp,
    ) -> Result<PutOutcome, CoreError> {
        let put = self
            .sim
            .call("events.put_event", self.inner.put_event(event, expires_at))
            .await;
        self.sim
            .note(|| format!("put_event {} -> {put:?}", event.id));
        put
    }

    async fn progress(&self, id: &EventId) -> Result<EventProgress, CoreError> {
        let progress = self
            .sim
            .call("events.progress", async {
                let progress = self.inner.progress(id).await;
                match (self.mutation, progress) {
                    (Mutation::MissingLooksDispatched, Ok(EventProgress::Missing)) => {
                        Ok(EventProgress::Dispatched)
                    }
                    (_, progress) => progress,
                }
            })
            .await;
        self.sim.note(|| format!("progress {id} -> {progress:?}"));
        progress
    }

    async fn event(&self, id: &EventId) -> Result<Option<Event>, CoreError> {
        self.sim.call("events.get", self.inner.event(id)).await
    }

    async fn event_info(&self, id: &EventId) -> Result<Option<EventInfo>, CoreError> {
        self.sim
            .call("events.info", self.inner.event_info(id))
            .await
    }

    async fn events_by_source(
        &self,
        source: &SourceId,
        since: Option<Timestamp>,
        limit: usize,
    ) -> Result<Vec<EventInfo>, CoreError> {
        self.sim
            .call(
                "events.by_source",
                self.inner.events_by_source(source, since, limit),
            )
            .await
    }
}

#[async_trait]
impl OrderLanes for Faulty {
    async fn enter_lanes(
        &self,
        event: &EventId,
        lanes: &[LaneId],
        expires_at: Timestamp,
    ) -> Result<(), CoreError> {
        let entered = self
            .sim
            .call(
                "lanes.enter",
                self.inner.enter_lanes(event, lanes, expires_at),
            )
            .await;
        self.sim
            .note(|| format!("enter_lanes {event} {lanes:?} -> {entered:?}"));
        entered
    }

    async fn lane_head(&self, lane: &LaneId) -> Result<Option<EventId>, CoreError> {
        let head = self
            .sim
            .call("lanes.head", async {
                match self.mutation {
                    Mutation::EmptyLanes => Ok(None),
                    _ => self.inner.lane_head(lane).await,
                }
            })
            .await;
        self.sim.note(|| format!("lane_head {lane:?} -> {head:?}"));
        head
    }

    async fn in_lane(&self, lane: &LaneId, event: &EventId) -> Result<bool, CoreError> {
        let found = self
            .sim
            .call("lanes.contains", self.inner.in_lane(lane, event))
            .await;
        self.sim
            .note(|| format!("in_lane {lane:?} {event} -> {found:?}"));
        found
    }

    async fn leave_lane(&self, lane: &LaneId, event: &EventId) -> Result<(), CoreError> {
        let left = self
            .sim
            .call("lanes.leave", self.inner.leave_lane(lane, event))
            .await;
        self.sim
            .note(|| format!("leave_lane {lane:?} {event} -> {left:?}"));
        left
    }

    async fn lane_entries(&self, lane: &LaneId, limit: usize) -> Result<Vec<EventId>, CoreError> {
        self.sim
            .call("lanes.entries", self.inner.lane_entries(lane, limit))
            .await
    }

    async fn set_blocked(
        &self,
        lane: &LaneId,
        head: &EventId,
        since: Option<Timestamp>,
    ) -> Result<(), CoreError> {
        self.sim
            .call(
                "lanes.set_blocked",
                self.inner.set_blocked(lane, head, since),
            )
            .await
    }

    async fn blocked_keys(
        &self,
        destination: &DestinationId,
        limit: usize,
    ) -> Result<Vec<BlockedKey>, CoreError> {
        self.sim
            .call("lanes.blocked", self.inner.blocked_keys(destination, limit))
            .await
    }
}
