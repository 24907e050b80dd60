//! Large bodies in S3, as the DynamoDB adapter keeps them
//! (`shared/aws/src/body_bucket.rs`, `event_store.rs`): in the runs that
//! draw it, every event's body goes to a simulated bucket, named by its
//! SHA-256, before the item that names it; the item holds a reference
//! (key and size), and a read fetches the object and checks it. Each S3
//! call is made under the simulation's faults, like every other call.
//!
//! The invariants then cover the bucket too: an acknowledged event whose
//! object is gone is not readable (invariant 3), and an object no stored
//! event names is an orphan (invariant 5).
use async_trait::async_trait;
use bytes::Bytes;
use hookrelay_core::{
    BlockedKey, CoreError, DedupeClaim, DedupeKey, EventInfo, EventProgress, EventStore, LaneId,
    OrderLanes, PutOutcome,
};
use hookrelay_embedded::MemoryStore;
use hookrelay_models::{Event, EventId, SourceId, Timestamp};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use crate::check::Stored;
use crate::faults::Sim;

/// What an item holds in place of its body: `s3:{key}:{size}`.
const REFERENCE: &str = "s3:";

pub type Objects = Arc<Mutex<BTreeMap<String, Bytes>>>;

/// The event store (under faults) with its bodies in a bucket.
pub struct ClaimCheck {
    pub sim: Arc<Sim>,
    pub inner: Arc<dyn EventStore>,
    pub objects: Objects,
}

fn key_for(body: &[u8]) -> String {
    format!("bodies/sha256/{}", hex::encode(Sha256::digest(body)))
}

fn reference(body: &[u8]) -> Bytes {
    Bytes::from(format!("{REFERENCE}{}:{}", key_for(body), body.len()))
}

/// The key and size an item's body names, if it is a reference.
fn referenced(body: &[u8]) -> Option<(String, usize)> {
    let text = std::str::from_utf8(body).ok()?.strip_prefix(REFERENCE)?;
    let (key, size) = text.rsplit_once(':')?;
    Some((key.to_string(), size.parse().ok()?))
}

#[async_trait]
impl EventStore for ClaimCheck {
    async fn claim_dedupe(
        &self,
        key: &DedupeKey,
        candidate: &EventId,
        now: Timestamp,
    ) -> Result<DedupeClaim, CoreError> {
        self.inner.claim_dedupe(key, candidate, now).await
    }

    /// The object first, so no item ever names a body not stored; named
    /// by its bytes, so a retry or a copy writes the same object again.
    async fn put_event(
        &self,
        event: &Event,
        expires_at: Timestamp,
    ) -> Result<PutOutcome, CoreError> {
        let key = key_for(&event.body);
        self.sim
            .call(&format!("s3.put {}", &key[..24]), async {
                self.objects
                    .lock()
                    .unwrap()
                    .insert(key.clone(), event.body.clone());
                Ok(())
            })
            .await?;
        let item = Event {
            body: reference(&event.body),
            ..event.clone()
        };
        self.inner.put_event(&item, expires_at).await
    }

    async fn progress(&self, id: &EventId) -> Result<EventProgress, CoreError> {
        self.inner.progress(id).await
    }

    /// The item, then its object: gone if the object is (as the adapter
    /// reads S3's `NoSuchKey`), an error if it has other bytes.
    async fn event(&self, id: &EventId) -> Result<Option<Event>, CoreError> {
        let Some(item) = self.inner.event(id).await? else {
            return Ok(None);
        };
        let Some((key, size)) = referenced(&item.body) else {
            return Ok(Some(item));
        };
        let object = self
            .sim
            .call(&format!("s3.get {}", &key[..24]), async {
                Ok(self.objects.lock().unwrap().get(&key).cloned())
            })
            .await?;
        match object {
            None => Ok(None),
            Some(body) if body.len() == size && key_for(&body) == key => {
                Ok(Some(Event { body, ..item }))
            }
            Some(_) => Err(CoreError::Corrupt(format!(
                "body object {key} does not match its event"
            ))),
        }
    }

    async fn event_info(&self, id: &EventId) -> Result<Option<EventInfo>, CoreError> {
        self.inner.event_info(id).await
    }

    async fn events_by_source(
        &self,
        source: &SourceId,
        since: Option<Timestamp>,
        limit: usize,
    ) -> Result<Vec<EventInfo>, CoreError> {
        self.inner.events_by_source(source, since, limit).await
    }
}

/// What the checker sees: the events whose bodies can be read, whole, and
/// the objects no event names.
pub struct StoredWithBucket {
    pub memory: Arc<MemoryStore>,
    pub objects: Objects,
}

impl Stored for StoredWithBucket {
    fn events(&self) -> Vec<Event> {
        let objects = self.objects.lock().unwrap();
        self.memory
            .events_snapshot()
            .into_iter()
            .filter_map(|item| match referenced(&item.body) {
                None => Some(item),
                Some((key, _)) => objects.get(&key).map(|body| Event {
                    body: body.clone(),
                    ..item
                }),
            })
            .collect()
    }

    fn dedupe_records(&self) -> Vec<(String, EventId)> {
        self.memory.dedupe_snapshot()
    }

    fn orphan_objects(&self) -> Vec<String> {
        let named: BTreeSet<String> = self
            .memory
            .events_snapshot()
            .iter()
            .filter_map(|item| referenced(&item.body).map(|(key, _)| key))
            .collect();
        self.objects
            .lock()
            .unwrap()
            .keys()
            .filter(|key| !named.contains(*key))
            .cloned()
            .collect()
    }
}

/// Lanes hold event ids only: nothing of them goes to the bucket.
#[async_trait]
impl OrderLanes for ClaimCheck {
    async fn enter_lanes(
        &self,
        event: &EventId,
        lanes: &[LaneId],
        expires_at: Timestamp,
    ) -> Result<(), CoreError> {
        self.inner.enter_lanes(event, lanes, expires_at).await
    }

    async fn lane_head(&self, lane: &LaneId) -> Result<Option<EventId>, CoreError> {
        self.inner.lane_head(lane).await
    }

    async fn in_lane(&self, lane: &LaneId, event: &EventId) -> Result<bool, CoreError> {
        self.inner.in_lane(lane, event).await
    }

    async fn leave_lane(&self, lane: &LaneId, event: &EventId) -> Result<(), CoreError> {
        self.inner.leave_lane(lane, event).await
    }

    async fn lane_entries(&self, lane: &LaneId, limit: usize) -> Result<Vec<EventId>, CoreError> {
        self.inner.lane_entries(lane, limit).await
    }

    async fn set_blocked(
        &self,
        lane: &LaneId,
        head: &EventId,
        since: Option<Timestamp>,
    ) -> Result<(), CoreError> {
        self.inner.set_blocked(lane, head, since).await
    }

    async fn blocked_keys(
        &self,
        destination: &hookrelay_models::DestinationId,
        limit: usize,
    ) -> Result<Vec<BlockedKey>, CoreError> {
        self.inner.blocked_keys(destination, limit).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_names_the_object_and_its_size() {
        let body = br#"{"type":"order.created","n":3}"#;
        let (key, size) = referenced(&reference(body)).unwrap();
        assert_eq!(key, key_for(body));
        assert!(key.starts_with("bodies/sha256/"));
        assert_eq!(size, body.len());
        assert_eq!(referenced(body), None, "a body is not a reference");
    }
}
