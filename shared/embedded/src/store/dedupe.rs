//! The dedupe records, and which events named by them the retention
//! dropped.
use hookrelay_models::{EventId, SourceId, Timestamp};
use std::collections::HashMap;

#[derive(Debug, Clone)]
pub(super) struct DedupeRecord {
    pub event_id: EventId,
    pub expires_at: Timestamp,
    /// Its event was dropped by the retention (after delivery): a later
    /// duplicate must not store it again.
    pub pruned: bool,
}

type Key = (SourceId, String);

/// The records by (source, provider delivery id). `progress` asks whether
/// a pruned record names an event on every duplicate receipt: `pruned`
/// counts those records per event so that is a lookup, not a scan of
/// every record. Kept in step by every write here, the only writes.
/// Only looked up (the snapshot sorts), so hash order reaches no result.
#[derive(Default)]
pub(super) struct Dedupe {
    records: HashMap<Key, DedupeRecord>,
    pruned: HashMap<EventId, usize>,
}

impl Dedupe {
    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn get(&self, key: &Key) -> Option<&DedupeRecord> {
        self.records.get(key)
    }

    /// Writes the key's record, replacing any.
    pub fn insert(&mut self, key: Key, record: DedupeRecord) {
        if record.pruned {
            *self.pruned.entry(record.event_id.clone()).or_default() += 1;
        }
        if let Some(old) = self.records.insert(key, record) {
            if old.pruned {
                uncount(&mut self.pruned, &old.event_id);
            }
        }
    }

    /// Forgets the records whose window ended at or before `now`.
    pub fn expire(&mut self, now: Timestamp) {
        let pruned = &mut self.pruned;
        self.records.retain(|_, record| {
            let live = record.expires_at > now;
            if !live && record.pruned {
                uncount(pruned, &record.event_id);
            }
            live
        });
    }

    /// Marks the records naming the `dropped` events (sorted) as pruned.
    /// A scan of every record, run by the retention only.
    pub fn mark_pruned(&mut self, dropped: &[EventId]) {
        for record in self.records.values_mut() {
            if !record.pruned && dropped.binary_search(&record.event_id).is_ok() {
                record.pruned = true;
                *self.pruned.entry(record.event_id.clone()).or_default() += 1;
            }
        }
    }

    /// Whether a record marked pruned names `id`.
    pub fn names_pruned(&self, id: &EventId) -> bool {
        self.pruned.contains_key(id)
    }

    /// Every record as (provider delivery id, event), unsorted.
    pub fn snapshot(&self) -> Vec<(String, EventId)> {
        self.records
            .iter()
            .map(|((_, key), record)| (key.clone(), record.event_id.clone()))
            .collect()
    }
}

fn uncount(pruned: &mut HashMap<EventId, usize>, id: &EventId) {
    if let Some(count) = pruned.get_mut(id) {
        *count -= 1;
        if *count == 0 {
            pruned.remove(id);
        }
    }
}

#[cfg(test)]
impl Dedupe {
    /// Panics unless the pruned counts are those of the records.
    pub fn assert_consistent(&self) {
        let mut expected: HashMap<EventId, usize> = HashMap::new();
        for record in self.records.values().filter(|r| r.pruned) {
            *expected.entry(record.event_id.clone()).or_default() += 1;
        }
        assert_eq!(self.pruned, expected, "the pruned counts are out of step");
    }
}
