//! Lanes of ordered delivery in memory: each lane an ordered set of event
//! ids, so its head is its first; blocked keys by destination.
use async_trait::async_trait;
use hookrelay_core::{BlockedKey, CoreError, LaneId, OrderLanes};
use hookrelay_models::{DestinationId, EventId, Timestamp};
use std::collections::{BTreeMap, BTreeSet};

use super::MemoryStore;

#[derive(Default)]
pub(super) struct Lanes {
    entries: BTreeMap<LaneId, BTreeSet<EventId>>,
    /// By destination, then key: the head and when it was blocked.
    blocked: BTreeMap<DestinationId, BTreeMap<String, (EventId, Timestamp)>>,
}

#[async_trait]
impl OrderLanes for MemoryStore {
    async fn enter_lanes(
        &self,
        event: &EventId,
        lanes: &[LaneId],
        _expires_at: Timestamp,
    ) -> Result<(), CoreError> {
        self.check()?;
        let mut state = self.lock();
        for lane in lanes {
            state
                .lanes
                .entries
                .entry(lane.clone())
                .or_default()
                .insert(event.clone());
        }
        Ok(())
    }

    async fn lane_head(&self, lane: &LaneId) -> Result<Option<EventId>, CoreError> {
        self.check()?;
        Ok(self
            .lock()
            .lanes
            .entries
            .get(lane)
            .and_then(|events| events.first().cloned()))
    }

    async fn in_lane(&self, lane: &LaneId, event: &EventId) -> Result<bool, CoreError> {
        self.check()?;
        Ok(self
            .lock()
            .lanes
            .entries
            .get(lane)
            .is_some_and(|events| events.contains(event)))
    }

    async fn leave_lane(&self, lane: &LaneId, event: &EventId) -> Result<(), CoreError> {
        self.check()?;
        let mut state = self.lock();
        if let Some(events) = state.lanes.entries.get_mut(lane) {
            events.remove(event);
            if events.is_empty() {
                state.lanes.entries.remove(lane);
            }
        }
        Ok(())
    }

    async fn lane_entries(&self, lane: &LaneId, limit: usize) -> Result<Vec<EventId>, CoreError> {
        self.check()?;
        Ok(self
            .lock()
            .lanes
            .entries
            .get(lane)
            .map(|events| events.iter().take(limit).cloned().collect())
            .unwrap_or_default())
    }

    async fn set_blocked(
        &self,
        lane: &LaneId,
        head: &EventId,
        since: Option<Timestamp>,
    ) -> Result<(), CoreError> {
        self.check()?;
        let mut state = self.lock();
        let keys = state
            .lanes
            .blocked
            .entry(lane.destination.clone())
            .or_default();
        match since {
            Some(since) => {
                keys.insert(lane.key.clone(), (head.clone(), since));
            }
            None => {
                if keys.get(&lane.key).is_some_and(|(named, _)| named == head) {
                    keys.remove(&lane.key);
                }
            }
        }
        Ok(())
    }

    async fn blocked_keys(
        &self,
        destination: &DestinationId,
        limit: usize,
    ) -> Result<Vec<BlockedKey>, CoreError> {
        self.check()?;
        Ok(self
            .lock()
            .lanes
            .blocked
            .get(destination)
            .map(|keys| {
                keys.iter()
                    .take(limit)
                    .map(|(key, (head, since))| BlockedKey {
                        key: key.clone(),
                        head: head.clone(),
                        since: *since,
                    })
                    .collect()
            })
            .unwrap_or_default())
    }
}
