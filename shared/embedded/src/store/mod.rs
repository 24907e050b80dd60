//! Config and event stores in memory.
use async_trait::async_trait;
use hookrelay_core::{
    ConfigItem, ConfigKey, ConfigStore, ConfigWriter, CoreError, DestinationHealth,
};
use hookrelay_models::{
    Config, Destination, DestinationId, Event, EventId, Source, SourceId, Timestamp,
};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

mod attempts;
mod dedupe;
mod deliveries;
mod events;
mod lanes;
mod pace;
mod rejections;
mod retention;

use attempts::Attempts;
use dedupe::Dedupe;
use deliveries::Deliveries;
use events::Events;
pub use retention::{Retention, DEFAULT_MAX_EVENTS};

/// Everything the store holds. Each collection keeps the indexes its reads
/// need (`hookrelay dev` holds up to 100 000 events, and every call waits
/// on this one lock), so a listing or lookup costs what it returns, not
/// what is stored. Ordered maps wherever order reaches a result: the
/// simulator needs the same answers from the same seed.
#[derive(Default)]
struct State {
    config: Config,
    events: Events,
    dedupe: Dedupe,
    deliveries: Deliveries,
    attempts: Attempts,
    failing_since: HashMap<DestinationId, Timestamp>,
    /// The head of each destination's release of parked deliveries.
    release_heads: HashMap<DestinationId, EventId>,
    /// Lanes of ordered delivery, and blocked keys.
    lanes: lanes::Lanes,
    /// Each destination's schedule (next free slot) and pause.
    paces: HashMap<DestinationId, pace::Paced>,
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
    /// Index entries the reads have walked: the unit tests hold each
    /// listing to what it returns, which no timing could show reliably.
    #[cfg(test)]
    visits: std::sync::atomic::AtomicUsize,
}

impl MemoryStore {
    pub fn new(config: Config) -> Self {
        MemoryStore {
            state: Mutex::new(State {
                config,
                ..State::default()
            }),
            ..MemoryStore::default()
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
        self.lock().events.get(id).is_some()
    }

    /// Forgets one event, as the retention does once it has run out:
    /// for tests of what comes of an expired event.
    pub fn forget_event(&self, id: &EventId) {
        self.lock().events.remove(id);
    }

    /// Every stored event, oldest first: for the simulator's checks.
    pub fn events_snapshot(&self) -> Vec<Event> {
        // The bodies are copied after the lock is let go.
        let shared: Vec<Arc<Event>> = self
            .lock()
            .events
            .iter()
            .map(|(_, stored)| stored.event.clone())
            .collect();
        shared.into_iter().map(Arc::unwrap_or_clone).collect()
    }

    /// Every dedupe record as (provider delivery id, event), in key order:
    /// for the simulator's checks.
    pub fn dedupe_snapshot(&self) -> Vec<(String, EventId)> {
        let mut records = self.lock().dedupe.snapshot();
        records.sort();
        records
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind; keep
        // serving rather than poisoning every later call.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Notes one index entry walked by a read (counted in unit tests only).
    fn visit(&self) {
        #[cfg(test)]
        self.visits.fetch_add(1, Ordering::Relaxed);
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

impl MemoryStore {
    /// Forgets every event and dedupe record (keeps the configuration), so
    /// long benchmarks do not measure a growing map.
    pub fn clear_events(&self) {
        let mut state = self.lock();
        state.events = Events::default();
        state.dedupe = Dedupe::default();
        state.deliveries = Deliveries::default();
        state.attempts = Attempts::default();
    }
}

#[cfg(test)]
mod tests;
