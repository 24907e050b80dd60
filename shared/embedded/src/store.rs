//! Config and event stores in memory.
use async_trait::async_trait;
use hookrelay_core::{
    Claim, ConfigItem, ConfigKey, ConfigStore, ConfigWriter, CoreError, DedupeKey, DeliveryStore,
    EventStore, InsertOutcome, ListOrder,
};
use hookrelay_models::{
    Attempt, Config, Delivery, DeliveryState, Destination, DestinationId, Event, EventId, Source,
    SourceId, Timestamp,
};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

#[derive(Debug, Clone)]
struct DedupeRecord {
    event_id: EventId,
    expires_at: Timestamp,
    enqueued: bool,
}

#[derive(Default)]
struct State {
    config: Config,
    events: HashMap<EventId, (Event, Timestamp)>,
    dedupe: HashMap<(SourceId, String), DedupeRecord>,
    deliveries: HashMap<(EventId, DestinationId), Delivery>,
    attempts: Vec<Attempt>,
    failing_since: HashMap<DestinationId, Timestamp>,
    /// When the store was last pruned by age.
    pruned_at: Option<Timestamp>,
    /// How many events a prune left: if it could not get under the count
    /// (everything undelivered), the next waits for as many more again.
    pruned_to: usize,
}

/// How much the in-memory store keeps. `hookrelay dev` may run for days:
/// without a bound its memory would grow with every event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Events past their expiry (the retention period the ingest gives
    /// them) are dropped, as DynamoDB's TTL drops them.
    pub by_age: bool,
    /// At most this many events are kept: past it the oldest settled ones
    /// go first.
    pub max_events: usize,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            by_age: true,
            max_events: DEFAULT_MAX_EVENTS,
        }
    }
}

/// `hookrelay dev --max-events`' default: about 300 MB at 3 KB an event.
pub const DEFAULT_MAX_EVENTS: usize = 100_000;
/// An event with no delivery yet may still be waiting for its fan-out:
/// only after this long is it taken to have had none (no route matched).
const FAN_OUT_GRACE: Duration = Duration::from_secs(600);
/// How often events are looked at for expiry.
const AGE_PRUNE_EVERY: Duration = Duration::from_secs(60);

/// Configuration and events behind one lock, so every multi-record write
/// is atomic, like a DynamoDB transaction.
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
    unavailable: AtomicBool,
    retention: Retention,
}

impl MemoryStore {
    pub fn new(config: Config) -> Self {
        MemoryStore {
            state: Mutex::new(State {
                config,
                ..State::default()
            }),
            unavailable: AtomicBool::new(false),
            retention: Retention::default(),
        }
    }

    pub fn with_retention(mut self, retention: Retention) -> Self {
        self.retention = retention;
        self
    }

    pub fn set_config(&self, config: Config) {
        self.lock().config = config;
    }

    /// Makes every call fail as if the store could not be reached, until
    /// set back to `false`.
    pub fn set_unavailable(&self, unavailable: bool) {
        self.unavailable.store(unavailable, Ordering::SeqCst);
    }

    pub fn event_count(&self) -> usize {
        self.lock().events.len()
    }

    pub fn dedupe_count(&self) -> usize {
        self.lock().dedupe.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind; keep
        // serving rather than poisoning every later call.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn check(&self) -> Result<(), CoreError> {
        if self.unavailable.load(Ordering::SeqCst) {
            Err(CoreError::unavailable(
                "store",
                "embedded store set unavailable",
            ))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl ConfigStore for MemoryStore {
    async fn source(&self, id: &SourceId) -> Result<Option<Source>, CoreError> {
        self.check()?;
        Ok(self.lock().config.source(id).cloned())
    }

    async fn config(&self) -> Result<Config, CoreError> {
        self.check()?;
        Ok(self.lock().config.clone())
    }

    async fn set_destination_enabled(
        &self,
        id: &DestinationId,
        enabled: bool,
        reason: Option<String>,
    ) -> Result<(), CoreError> {
        self.check()?;
        let mut state = self.lock();
        if let Some(destination) = state.config.destinations.iter_mut().find(|d| &d.id == id) {
            destination.enabled = enabled;
            destination.disabled_reason = if enabled { None } else { reason };
        }
        Ok(())
    }
}

#[async_trait]
impl ConfigWriter for MemoryStore {
    async fn put(&self, item: &ConfigItem) -> Result<(), CoreError> {
        self.check()?;
        let config = &mut self.lock().config;
        match item {
            ConfigItem::Source(source) => {
                match config.sources.iter_mut().find(|s| s.id == source.id) {
                    Some(current) => *current = source.clone(),
                    None => config.sources.push(source.clone()),
                }
            }
            ConfigItem::Destination(destination) => {
                match config
                    .destinations
                    .iter_mut()
                    .find(|d| d.id == destination.id)
                {
                    // The operational state is set_destination_enabled's:
                    // a settings write made from an older read keeps it.
                    Some(current) => {
                        *current = Destination {
                            enabled: current.enabled,
                            disabled_reason: current.disabled_reason.take(),
                            ..destination.clone()
                        }
                    }
                    None => config.destinations.push(destination.clone()),
                }
            }
            ConfigItem::Route(route) => {
                match config
                    .routes
                    .iter_mut()
                    .find(|r| r.source == route.source && r.destination == route.destination)
                {
                    Some(current) => *current = route.clone(),
                    None => config.routes.push(route.clone()),
                }
            }
        }
        Ok(())
    }

    async fn remove(&self, key: &ConfigKey) -> Result<(), CoreError> {
        self.check()?;
        let config = &mut self.lock().config;
        match key {
            ConfigKey::Source(id) => config.sources.retain(|s| &s.id != id),
            ConfigKey::Destination(id) => config.destinations.retain(|d| &d.id != id),
            ConfigKey::Route(source, destination) => config
                .routes
                .retain(|r| !(&r.source == source && &r.destination == destination)),
        }
        Ok(())
    }

    async fn replace(&self, config: &Config) -> Result<(), CoreError> {
        self.check()?;
        let current = &mut self.lock().config;
        // The deployment setting stays as the stack was started.
        let allow_private = current.allow_private_destinations;
        *current = config.clone();
        current.allow_private_destinations = allow_private;
        Ok(())
    }
}

#[async_trait]
impl DeliveryStore for MemoryStore {
    async fn claim(
        &self,
        event: &EventId,
        destination: &DestinationId,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Claim, CoreError> {
        self.check()?;
        let mut state = self.lock();
        let delivery = state
            .deliveries
            .entry((event.clone(), destination.clone()))
            .or_insert_with(|| Delivery::new(event.clone(), destination.clone(), now));
        if let Some(blocked) = Claim::blocking(delivery, now) {
            return Ok(blocked);
        }
        delivery.lease_until = Some(lease_until);
        delivery.updated_at = now;
        Ok(Claim::Claimed(delivery.clone()))
    }

    async fn record_attempt(
        &self,
        attempt: &Attempt,
        delivery: &Delivery,
        lease: Timestamp,
    ) -> Result<bool, CoreError> {
        self.check()?;
        let mut state = self.lock();
        let key = (delivery.event_id.clone(), delivery.destination.clone());
        match state.deliveries.get_mut(&key) {
            Some(current) if current.lease_until == Some(lease) => {
                *current = delivery.clone();
            }
            _ => return Ok(false),
        }
        state.attempts.push(attempt.clone());
        Ok(true)
    }

    async fn park(
        &self,
        event: &EventId,
        destination: &DestinationId,
        now: Timestamp,
    ) -> Result<(), CoreError> {
        self.check()?;
        let mut state = self.lock();
        let delivery = state
            .deliveries
            .entry((event.clone(), destination.clone()))
            .or_insert_with(|| Delivery::new(event.clone(), destination.clone(), now));
        if delivery.state == DeliveryState::Pending {
            delivery.state = DeliveryState::Parked;
            delivery.updated_at = now;
        }
        Ok(())
    }

    async fn delivery(
        &self,
        event: &EventId,
        destination: &DestinationId,
    ) -> Result<Option<Delivery>, CoreError> {
        self.check()?;
        Ok(self
            .lock()
            .deliveries
            .get(&(event.clone(), destination.clone()))
            .cloned())
    }

    async fn deliveries_for_event(&self, event: &EventId) -> Result<Vec<Delivery>, CoreError> {
        self.check()?;
        let mut found: Vec<Delivery> = self
            .lock()
            .deliveries
            .values()
            .filter(|d| &d.event_id == event)
            .cloned()
            .collect();
        found.sort_by(|a, b| a.destination.cmp(&b.destination));
        Ok(found)
    }

    async fn attempts_for_event(&self, event: &EventId) -> Result<Vec<Attempt>, CoreError> {
        self.check()?;
        Ok(self
            .lock()
            .attempts
            .iter()
            .filter(|a| &a.event_id == event)
            .cloned()
            .collect())
    }

    async fn deliveries_in_state(
        &self,
        destination: &DestinationId,
        state: DeliveryState,
        since: Option<Timestamp>,
        order: ListOrder,
        limit: usize,
    ) -> Result<Vec<EventId>, CoreError> {
        self.check()?;
        let from = since.map(EventId::lower_bound);
        let mut found: Vec<EventId> = self
            .lock()
            .deliveries
            .values()
            .filter(|d| &d.destination == destination && d.state == state)
            .filter(|d| from.as_ref().is_none_or(|from| &d.event_id >= from))
            .map(|d| d.event_id.clone())
            .collect();
        found.sort();
        if order == ListOrder::NewestFirst {
            found.reverse();
        }
        found.truncate(limit);
        Ok(found)
    }

    async fn reopen(
        &self,
        event: &EventId,
        destination: &DestinationId,
        now: Timestamp,
        new_series: bool,
    ) -> Result<bool, CoreError> {
        self.check()?;
        let mut state = self.lock();
        let Some(delivery) = state
            .deliveries
            .get_mut(&(event.clone(), destination.clone()))
        else {
            return Ok(false);
        };
        if delivery.state == DeliveryState::Pending {
            return Ok(false);
        }
        delivery.reopen(now, new_series);
        Ok(true)
    }

    async fn note_failing(
        &self,
        destination: &DestinationId,
        at: Timestamp,
    ) -> Result<Timestamp, CoreError> {
        self.check()?;
        Ok(*self
            .lock()
            .failing_since
            .entry(destination.clone())
            .or_insert(at))
    }

    async fn set_failing_since(
        &self,
        destination: &DestinationId,
        since: Option<Timestamp>,
    ) -> Result<(), CoreError> {
        self.check()?;
        let mut state = self.lock();
        match since {
            Some(since) => state.failing_since.insert(destination.clone(), since),
            None => state.failing_since.remove(destination),
        };
        Ok(())
    }

    async fn attempts_for_destination(
        &self,
        destination: &DestinationId,
        limit: usize,
    ) -> Result<Vec<Attempt>, CoreError> {
        self.check()?;
        let mut found: Vec<Attempt> = self
            .lock()
            .attempts
            .iter()
            .filter(|a| &a.destination == destination)
            .cloned()
            .collect();
        // Newest first by start, as the DynamoDB index sorts them.
        found.sort_by_key(|a| std::cmp::Reverse(a.started_at));
        found.truncate(limit);
        Ok(found)
    }
}

#[async_trait]
impl EventStore for MemoryStore {
    async fn insert_event(
        &self,
        event: &Event,
        dedupe: Option<&DedupeKey>,
        expires_at: Timestamp,
    ) -> Result<InsertOutcome, CoreError> {
        self.check()?;
        let mut state = self.lock();
        if let Some(key) = dedupe {
            let map_key = (key.source.clone(), key.provider_delivery_id.clone());
            if let Some(existing) = state.dedupe.get(&map_key) {
                if existing.expires_at > event.received_at {
                    return Ok(InsertOutcome::Duplicate {
                        existing: existing.event_id.clone(),
                        enqueued: existing.enqueued,
                    });
                }
            }
            state.dedupe.insert(
                map_key,
                DedupeRecord {
                    event_id: event.id.clone(),
                    expires_at: key.expires_at,
                    enqueued: false,
                },
            );
        }
        state
            .events
            .insert(event.id.clone(), (event.clone(), expires_at));
        prune(&mut state, event.received_at, &self.retention);
        Ok(InsertOutcome::Inserted)
    }

    async fn mark_enqueued(&self, dedupe: &DedupeKey) -> Result<(), CoreError> {
        self.check()?;
        let key = (dedupe.source.clone(), dedupe.provider_delivery_id.clone());
        if let Some(record) = self.lock().dedupe.get_mut(&key) {
            record.enqueued = true;
        }
        Ok(())
    }

    async fn remove_event(
        &self,
        id: &EventId,
        dedupe: Option<&DedupeKey>,
    ) -> Result<(), CoreError> {
        self.check()?;
        let mut state = self.lock();
        if let Some(key) = dedupe {
            let key = (key.source.clone(), key.provider_delivery_id.clone());
            if state.dedupe.get(&key).is_some_and(|r| &r.event_id == id) {
                state.dedupe.remove(&key);
            }
        }
        state.events.remove(id);
        Ok(())
    }

    async fn event(&self, id: &EventId) -> Result<Option<Event>, CoreError> {
        self.check()?;
        Ok(self.lock().events.get(id).map(|(event, _)| event.clone()))
    }

    async fn events_by_source(
        &self,
        source: &SourceId,
        since: Option<Timestamp>,
        limit: usize,
    ) -> Result<Vec<Event>, CoreError> {
        self.check()?;
        let from = since.map(EventId::lower_bound);
        let mut found: Vec<Event> = self
            .lock()
            .events
            .values()
            .map(|(event, _)| event)
            .filter(|e| &e.source == source)
            .filter(|e| from.as_ref().is_none_or(|from| &e.id >= from))
            .cloned()
            .collect();
        found.sort_by(|a, b| b.id.cmp(&a.id));
        found.truncate(limit);
        Ok(found)
    }
}

impl MemoryStore {
    /// Forgets every event and dedupe record (keeps the configuration), so
    /// long benchmarks do not measure a growing map.
    pub fn clear_events(&self) {
        let mut state = self.lock();
        state.events.clear();
        state.dedupe.clear();
        state.deliveries.clear();
        state.attempts.clear();
    }
}

/// Drops what the retention no longer covers: expired dedupe records, and
/// events past their expiry or over the count, oldest first, with their
/// deliveries and attempts. An event that may still be delivered (a
/// delivery pending or parked, or not fanned out yet) is never dropped.
/// Runs when the count is 5 % over (so its cost is spread over many
/// inserts) or a minute after the last look at ages.
fn prune(state: &mut State, now: Timestamp, retention: &Retention) {
    let slack = (retention.max_events / 20).max(1);
    let over = state.events.len()
        > retention
            .max_events
            .max(state.pruned_to)
            .saturating_add(slack);
    let age_due = retention.by_age
        && state
            .pruned_at
            .is_none_or(|at| now.since(at) >= AGE_PRUNE_EVERY);
    if !over && !age_due {
        return;
    }
    if age_due {
        state.pruned_at = Some(now);
        state.dedupe.retain(|_, record| record.expires_at > now);
    }
    let mut unsettled: HashSet<&EventId> = HashSet::new();
    let mut delivered: HashSet<&EventId> = HashSet::new();
    for delivery in state.deliveries.values() {
        delivered.insert(&delivery.event_id);
        if matches!(
            delivery.state,
            DeliveryState::Pending | DeliveryState::Parked
        ) {
            unsettled.insert(&delivery.event_id);
        }
    }
    let mut droppable: Vec<(&EventId, bool)> = state
        .events
        .iter()
        .filter(|(id, (event, _))| {
            !unsettled.contains(id)
                && (delivered.contains(id) || now.since(event.received_at) >= FAN_OUT_GRACE)
        })
        .map(|(id, (_, expires_at))| (id, retention.by_age && *expires_at <= now))
        .collect();
    droppable.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut excess = state.events.len().saturating_sub(retention.max_events);
    let mut dropped: HashSet<EventId> = HashSet::new();
    for (id, expired) in droppable {
        if expired || excess > 0 {
            excess = excess.saturating_sub(1);
            dropped.insert(id.clone());
        }
    }
    state.pruned_to = state.events.len() - dropped.len();
    if dropped.is_empty() {
        return;
    }
    state.events.retain(|id, _| !dropped.contains(id));
    state
        .deliveries
        .retain(|(event, _), _| !dropped.contains(event));
    state.attempts.retain(|a| !dropped.contains(&a.event_id));
}

#[cfg(test)]
mod tests {
    use super::*;
    use hookrelay_models::{AttemptOutcome, Event};

    const T0: i64 = 1_790_000_000_000;

    fn event_at(millis: i64) -> Event {
        let at = Timestamp::from_unix_millis(millis);
        Event {
            id: EventId::new(at),
            source: SourceId::parse("gh").unwrap(),
            event_type: None,
            provider_delivery_id: None,
            received_at: at,
            headers: Vec::new(),
            body: vec![b'x'; 100],
        }
    }

    async fn insert(store: &MemoryStore, event: &Event, keep_for: Duration) {
        let expires = event.received_at.saturating_add(keep_for);
        store.insert_event(event, None, expires).await.unwrap();
    }

    /// Claims the event's delivery to `app`; with `outcome`, records it
    /// settled that way.
    async fn deliver(store: &MemoryStore, event: &Event, outcome: Option<AttemptOutcome>) {
        let app = DestinationId::parse("app").unwrap();
        let now = event.received_at;
        let lease = now.saturating_add(Duration::from_secs(60));
        let Claim::Claimed(mut delivery) = store.claim(&event.id, &app, now, lease).await.unwrap()
        else {
            panic!("not claimed");
        };
        let Some(outcome) = outcome else { return };
        delivery.state = if outcome.is_success() {
            DeliveryState::Succeeded
        } else {
            DeliveryState::Failed
        };
        delivery.attempts = 1;
        delivery.lease_until = None;
        let attempt = Attempt {
            event_id: event.id.clone(),
            destination: app,
            number: 1,
            series: 0,
            started_at: now,
            duration_ms: 1,
            outcome,
            response_body: String::new(),
            response_truncated: false,
        };
        assert!(store
            .record_attempt(&attempt, &delivery, lease)
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn over_the_count_the_oldest_settled_events_go_and_undelivered_ones_stay() {
        let store = MemoryStore::new(Config::default()).with_retention(Retention {
            by_age: false,
            max_events: 10,
        });
        let day = Duration::from_secs(86_400);
        let events: Vec<Event> = (0..30).map(|i| event_at(T0 + i)).collect();
        for event in &events {
            insert(&store, event, day).await;
        }
        // Not fanned out yet, so nothing could be dropped.
        assert_eq!(store.event_count(), 30);
        for event in &events[..5] {
            deliver(&store, event, None).await; // pending
        }
        for event in &events[5..] {
            deliver(
                &store,
                event,
                Some(AttemptOutcome::Response { status: 200 }),
            )
            .await;
        }

        // Two more: the last prune left 30, so the next waits for 32.
        let late = [event_at(T0 + 1_000), event_at(T0 + 1_001)];
        for event in &late {
            insert(&store, event, day).await;
        }

        assert_eq!(store.event_count(), 10);
        let state = store.lock();
        for event in &events[..5] {
            assert!(
                state.events.contains_key(&event.id),
                "an undelivered event was dropped"
            );
        }
        for event in &events[5..27] {
            assert!(
                !state.events.contains_key(&event.id),
                "an old settled event stayed"
            );
        }
        for event in events[27..].iter().chain(&late) {
            assert!(
                state.events.contains_key(&event.id),
                "a newer event was dropped"
            );
        }
        assert_eq!(
            state.deliveries.len(),
            8,
            "deliveries of dropped events stayed"
        );
        assert_eq!(state.attempts.len(), 3, "attempts of dropped events stayed");
    }

    #[tokio::test]
    async fn expired_events_go_unless_they_may_still_be_delivered() {
        let store = MemoryStore::new(Config::default());
        let minute = Duration::from_secs(60);
        let settled = event_at(T0);
        let pending = event_at(T0 + 1);
        let kept = event_at(T0 + 2);
        insert(&store, &settled, minute).await;
        insert(&store, &pending, minute).await;
        insert(&store, &kept, Duration::from_secs(86_400)).await;
        deliver(
            &store,
            &settled,
            Some(AttemptOutcome::Response { status: 500 }),
        )
        .await;
        deliver(&store, &pending, None).await;
        deliver(
            &store,
            &kept,
            Some(AttemptOutcome::Response { status: 200 }),
        )
        .await;

        insert(&store, &event_at(T0 + 2 * 60_000), minute).await;

        let state = store.lock();
        assert!(
            !state.events.contains_key(&settled.id),
            "an expired event stayed"
        );
        assert!(
            state.events.contains_key(&pending.id),
            "an undelivered event was dropped"
        );
        assert!(
            state.events.contains_key(&kept.id),
            "an unexpired event was dropped"
        );
    }
}
