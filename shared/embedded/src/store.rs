//! Config and event stores in memory.
use async_trait::async_trait;
use hookrelay_core::{ConfigStore, CoreError, DedupeKey, EventStore, InsertOutcome};
use hookrelay_models::{Config, Event, EventId, Source, SourceId, Timestamp};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

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
}

/// Configuration and events behind one lock, so every multi-record write
/// is atomic, like a DynamoDB transaction.
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
    unavailable: AtomicBool,
}

impl MemoryStore {
    pub fn new(config: Config) -> Self {
        MemoryStore {
            state: Mutex::new(State {
                config,
                ..State::default()
            }),
            unavailable: AtomicBool::new(false),
        }
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
}

impl MemoryStore {
    /// Forgets every event and dedupe record (keeps the configuration), so
    /// long benchmarks do not measure a growing map.
    pub fn clear_events(&self) {
        let mut state = self.lock();
        state.events.clear();
        state.dedupe.clear();
    }
}
