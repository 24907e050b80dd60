//! Config and event stores in memory.
use async_trait::async_trait;
use hookrelay_core::{
    Claim, ConfigItem, ConfigKey, ConfigStore, ConfigWriter, CoreError, DedupeClaim, DedupeKey,
    DeliveryStore, DestinationHealth, EventInfo, EventProgress, EventStore, ListOrder, PutOutcome,
};
use hookrelay_models::{
    Attempt, Config, Delivery, DeliveryState, Destination, DestinationId, Event, EventId, Source,
    SourceId, Timestamp,
};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

mod rejections;
mod retention;

use retention::prune;
pub use retention::{Retention, DEFAULT_MAX_EVENTS};

#[derive(Debug, Clone)]
struct DedupeRecord {
    event_id: EventId,
    expires_at: Timestamp,
    /// Its event was dropped by the retention (after delivery): a later
    /// duplicate must not store it again.
    pruned: bool,
}

#[derive(Default)]
struct State {
    config: Config,
    events: HashMap<EventId, (Event, Timestamp)>,
    dedupe: HashMap<(SourceId, String), DedupeRecord>,
    deliveries: HashMap<(EventId, DestinationId), Delivery>,
    attempts: Vec<Attempt>,
    failing_since: HashMap<DestinationId, Timestamp>,
    /// The head of each destination's release of parked deliveries.
    release_heads: HashMap<DestinationId, EventId>,
    /// Rejection counts by source, hour (ms) and reason.
    rejections: std::collections::BTreeMap<(SourceId, i64, String), u64>,
    /// When the store was last pruned by age.
    pruned_at: Option<Timestamp>,
    /// How many events a prune left: if it could not get under the count
    /// (everything undelivered), the next waits for as many more again.
    pruned_to: usize,
}

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

    pub fn delivery_count(&self) -> usize {
        self.lock().deliveries.len()
    }

    pub fn attempt_count(&self) -> usize {
        self.lock().attempts.len()
    }

    /// Whether the event is still kept.
    pub fn has_event(&self, id: &EventId) -> bool {
        self.lock().events.contains_key(id)
    }

    /// Forgets one event, as the retention does once it has run out:
    /// for tests of what comes of an expired event.
    pub fn forget_event(&self, id: &EventId) {
        self.lock().events.remove(id);
    }

    /// Every stored event, oldest first: for the simulator's checks.
    pub fn events_snapshot(&self) -> Vec<Event> {
        let state = self.lock();
        let mut events: Vec<Event> = state.events.values().map(|(e, _)| e.clone()).collect();
        events.sort_by(|a, b| a.id.cmp(&b.id));
        events
    }

    /// Every dedupe record as (provider delivery id, event), in key order:
    /// for the simulator's checks.
    pub fn dedupe_snapshot(&self) -> Vec<(String, EventId)> {
        let state = self.lock();
        let mut records: Vec<(String, EventId)> = state
            .dedupe
            .iter()
            .map(|((_, key), record)| (key.clone(), record.event_id.clone()))
            .collect();
        records.sort();
        records
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
        // The attempt was made, whoever holds the lease now (as in
        // DynamoDB); the delivery's state only if the lease is still ours.
        state.attempts.push(attempt.clone());
        let key = (delivery.event_id.clone(), delivery.destination.clone());
        match state.deliveries.get_mut(&key) {
            Some(current) if current.lease_until == Some(lease) => {
                *current = delivery.clone();
                Ok(true)
            }
            _ => Ok(false),
        }
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
        hookrelay_core::listable_by_destination(state)?;
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

    async fn count_in_state(
        &self,
        destination: &DestinationId,
        state: DeliveryState,
    ) -> Result<u64, CoreError> {
        self.check()?;
        hookrelay_core::listable_by_destination(state)?;
        Ok(self
            .lock()
            .deliveries
            .values()
            .filter(|d| &d.destination == destination && d.state == state)
            .count() as u64)
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
impl DestinationHealth for MemoryStore {
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

    async fn release_head(
        &self,
        destination: &DestinationId,
    ) -> Result<Option<EventId>, CoreError> {
        self.check()?;
        Ok(self.lock().release_heads.get(destination).cloned())
    }

    async fn move_release_head(
        &self,
        destination: &DestinationId,
        from: Option<&EventId>,
        to: Option<&EventId>,
    ) -> Result<bool, CoreError> {
        self.check()?;
        let mut state = self.lock();
        let current = state.release_heads.get(destination);
        if current != from && current != to {
            return Ok(false);
        }
        match to {
            Some(to) => state.release_heads.insert(destination.clone(), to.clone()),
            None => state.release_heads.remove(destination),
        };
        Ok(true)
    }
}

#[async_trait]
impl EventStore for MemoryStore {
    async fn claim_dedupe(
        &self,
        key: &DedupeKey,
        candidate: &EventId,
        now: Timestamp,
    ) -> Result<DedupeClaim, CoreError> {
        self.check()?;
        let mut state = self.lock();
        let map_key = (key.source.clone(), key.provider_delivery_id.clone());
        if let Some(existing) = state.dedupe.get(&map_key) {
            if existing.expires_at > now && &existing.event_id != candidate {
                return Ok(DedupeClaim::Held(existing.event_id.clone()));
            }
        }
        state.dedupe.insert(
            map_key,
            DedupeRecord {
                event_id: candidate.clone(),
                expires_at: key.expires_at,
                pruned: false,
            },
        );
        Ok(DedupeClaim::Won)
    }

    async fn put_event(
        &self,
        event: &Event,
        expires_at: Timestamp,
    ) -> Result<PutOutcome, CoreError> {
        self.check()?;
        let mut state = self.lock();
        if state.events.contains_key(&event.id) {
            return Ok(PutOutcome::AlreadyStored);
        }
        state
            .events
            .insert(event.id.clone(), (event.clone(), expires_at));
        prune(&mut state, event.received_at, &self.retention);
        Ok(PutOutcome::Written)
    }

    async fn progress(&self, id: &EventId) -> Result<EventProgress, CoreError> {
        self.check()?;
        let state = self.lock();
        if state.deliveries.keys().any(|(event, _)| event == id) {
            return Ok(EventProgress::Dispatched);
        }
        if state.events.contains_key(id) {
            return Ok(EventProgress::Stored);
        }
        // Dropped by the retention after it was delivered: as good as
        // dispatched (its record says so), never to be stored again.
        let pruned = state
            .dedupe
            .values()
            .any(|record| record.pruned && &record.event_id == id);
        Ok(if pruned {
            EventProgress::Dispatched
        } else {
            EventProgress::Missing
        })
    }

    async fn event(&self, id: &EventId) -> Result<Option<Event>, CoreError> {
        self.check()?;
        Ok(self.lock().events.get(id).map(|(event, _)| event.clone()))
    }

    async fn event_info(&self, id: &EventId) -> Result<Option<EventInfo>, CoreError> {
        self.check()?;
        Ok(self.lock().events.get(id).map(|(event, _)| event.into()))
    }

    async fn events_by_source(
        &self,
        source: &SourceId,
        since: Option<Timestamp>,
        limit: usize,
    ) -> Result<Vec<EventInfo>, CoreError> {
        self.check()?;
        let from = since.map(EventId::lower_bound);
        let mut found: Vec<EventInfo> = self
            .lock()
            .events
            .values()
            .map(|(event, _)| event)
            .filter(|e| &e.source == source)
            .filter(|e| from.as_ref().is_none_or(|from| &e.id >= from))
            .map(EventInfo::from)
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
