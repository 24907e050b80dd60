//! The attempt log, indexed by event and by destination.
use hookrelay_models::{Attempt, DestinationId, EventId, Timestamp};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Every attempt under the sequence number it was recorded with, and two
/// indexes of those numbers: by event in recording order, and by
/// destination newest start first (ties in recording order, as a stable
/// sort of the log gave), so neither listing filters the whole log.
/// The indexes are only looked up, so hash order reaches no result.
#[derive(Default)]
pub(super) struct Attempts {
    all: BTreeMap<u64, Attempt>,
    next: u64,
    by_event: HashMap<EventId, Vec<u64>>,
    by_destination: HashMap<DestinationId, BTreeSet<(Reverse<Timestamp>, u64)>>,
}

impl Attempts {
    pub fn len(&self) -> usize {
        self.all.len()
    }

    pub fn record(&mut self, attempt: Attempt) {
        let seq = self.next;
        self.next += 1;
        self.by_event
            .entry(attempt.event_id.clone())
            .or_default()
            .push(seq);
        self.by_destination
            .entry(attempt.destination.clone())
            .or_default()
            .insert((Reverse(attempt.started_at), seq));
        self.all.insert(seq, attempt);
    }

    /// An event's attempts in the order they were recorded.
    pub fn of_event<'a>(&'a self, event: &EventId) -> impl Iterator<Item = &'a Attempt> + 'a {
        self.by_event
            .get(event)
            .into_iter()
            .flatten()
            .filter_map(|seq| self.all.get(seq))
    }

    /// A destination's attempts, newest start first.
    pub fn newest_to<'a>(
        &'a self,
        destination: &DestinationId,
    ) -> impl Iterator<Item = &'a Attempt> + 'a {
        self.by_destination
            .get(destination)
            .into_iter()
            .flatten()
            .filter_map(|(_, seq)| self.all.get(seq))
    }

    /// Forgets an event's attempts (the retention dropped it).
    pub fn remove_event(&mut self, event: &EventId) {
        for seq in self.by_event.remove(event).unwrap_or_default() {
            let Some(attempt) = self.all.remove(&seq) else {
                continue;
            };
            if let Some(index) = self.by_destination.get_mut(&attempt.destination) {
                index.remove(&(Reverse(attempt.started_at), seq));
                if index.is_empty() {
                    self.by_destination.remove(&attempt.destination);
                }
            }
        }
    }
}

#[cfg(test)]
impl Attempts {
    /// Panics unless both indexes hold exactly the recorded attempts.
    pub fn assert_consistent(&self) {
        let mut by_event: HashMap<EventId, Vec<u64>> = HashMap::new();
        let mut by_destination: HashMap<DestinationId, BTreeSet<(Reverse<Timestamp>, u64)>> =
            HashMap::new();
        for (seq, attempt) in &self.all {
            assert!(*seq < self.next);
            by_event
                .entry(attempt.event_id.clone())
                .or_default()
                .push(*seq);
            by_destination
                .entry(attempt.destination.clone())
                .or_default()
                .insert((Reverse(attempt.started_at), *seq));
        }
        assert_eq!(self.by_event, by_event, "the event index is out of step");
        assert_eq!(
            self.by_destination, by_destination,
            "the destination index is out of step"
        );
    }
}
