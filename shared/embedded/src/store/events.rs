//! The stored events, indexed by source, and the event store's calls.
use async_trait::async_trait;
use hookrelay_core::{
    CoreError, DedupeClaim, DedupeKey, EventInfo, EventProgress, EventStore, PutOutcome,
};
use hookrelay_models::{Event, EventId, SourceId, Timestamp};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::sync::Arc;

use super::dedupe::DedupeRecord;
use super::retention::prune;
use super::MemoryStore;

/// One stored event. The event is shared, so a read copies its body
/// after the lock is let go rather than under it.
pub(super) struct Stored {
    pub event: Arc<Event>,
    pub expires_at: Timestamp,
}

/// The events by id (ids sort by arrival, so this is arrival order), and
/// each source's ids: a source's newest events are the end of its set,
/// reached without looking at any other source's or any older event.
#[derive(Default)]
pub(super) struct Events {
    by_id: BTreeMap<EventId, Stored>,
    by_source: BTreeMap<SourceId, BTreeSet<EventId>>,
}

impl Events {
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn get(&self, id: &EventId) -> Option<&Stored> {
        self.by_id.get(id)
    }

    /// Every event, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = (&EventId, &Stored)> {
        self.by_id.iter()
    }

    /// Stores `event` unless one with its id is stored; false if one was.
    pub fn insert(&mut self, event: Arc<Event>, expires_at: Timestamp) -> bool {
        if self.by_id.contains_key(&event.id) {
            return false;
        }
        self.by_source
            .entry(event.source.clone())
            .or_default()
            .insert(event.id.clone());
        self.by_id
            .insert(event.id.clone(), Stored { event, expires_at });
        true
    }

    pub fn remove(&mut self, id: &EventId) -> Option<Stored> {
        let stored = self.by_id.remove(id)?;
        let source = &stored.event.source;
        if let Some(ids) = self.by_source.get_mut(source) {
            ids.remove(id);
            if ids.is_empty() {
                self.by_source.remove(source);
            }
        }
        Some(stored)
    }

    /// A source's event ids from `from` on, oldest first; walk it from the
    /// back for the newest.
    pub fn of_source<'a>(
        &'a self,
        source: &SourceId,
        from: Option<&'a EventId>,
    ) -> impl DoubleEndedIterator<Item = &'a EventId> + 'a {
        let lower = from.map_or(Bound::Unbounded, Bound::Included);
        self.by_source
            .get(source)
            .into_iter()
            .flat_map(move |ids| ids.range::<EventId, _>((lower, Bound::Unbounded)))
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
        // Copied before the lock is taken: a duplicate (rare) wastes it.
        let event = Arc::new(event.clone());
        let received_at = event.received_at;
        let mut state = self.lock();
        if !state.events.insert(event, expires_at) {
            return Ok(PutOutcome::AlreadyStored);
        }
        prune(&mut state, received_at, &self.retention);
        Ok(PutOutcome::Written)
    }

    async fn progress(&self, id: &EventId) -> Result<EventProgress, CoreError> {
        self.check()?;
        let state = self.lock();
        if state.deliveries.any_for(id) {
            return Ok(EventProgress::Dispatched);
        }
        if state.events.get(id).is_some() {
            return Ok(EventProgress::Stored);
        }
        // Dropped by the retention after it was delivered: as good as
        // dispatched (its record says so), never to be stored again.
        Ok(if state.dedupe.names_pruned(id) {
            EventProgress::Dispatched
        } else {
            EventProgress::Missing
        })
    }

    async fn event(&self, id: &EventId) -> Result<Option<Event>, CoreError> {
        self.check()?;
        let shared = self
            .lock()
            .events
            .get(id)
            .map(|stored| stored.event.clone());
        // The body is copied with the lock let go (the statement above
        // dropped the guard).
        Ok(shared.map(Arc::unwrap_or_clone))
    }

    async fn event_info(&self, id: &EventId) -> Result<Option<EventInfo>, CoreError> {
        self.check()?;
        Ok(self
            .lock()
            .events
            .get(id)
            .map(|stored| EventInfo::from(stored.event.as_ref())))
    }

    async fn events_by_source(
        &self,
        source: &SourceId,
        since: Option<Timestamp>,
        limit: usize,
    ) -> Result<Vec<EventInfo>, CoreError> {
        self.check()?;
        let from = since.map(EventId::lower_bound);
        let state = self.lock();
        Ok(state
            .events
            .of_source(source, from.as_ref())
            .rev()
            .inspect(|_| self.visit())
            .take(limit)
            .filter_map(|id| state.events.get(id))
            .map(|stored| EventInfo::from(stored.event.as_ref()))
            .collect())
    }
}

#[cfg(test)]
impl Events {
    /// Panics unless the source index holds exactly the stored events.
    pub fn assert_consistent(&self) {
        let mut expected: BTreeMap<SourceId, BTreeSet<EventId>> = BTreeMap::new();
        for (id, stored) in &self.by_id {
            assert_eq!(id, &stored.event.id);
            expected
                .entry(stored.event.source.clone())
                .or_default()
                .insert(id.clone());
        }
        assert_eq!(self.by_source, expected, "the source index is out of step");
    }
}
