//! Deliveries, indexed by event and by (destination, state), and the
//! delivery store's calls (the attempt log's among them).
use async_trait::async_trait;
use hookrelay_core::{Claim, CoreError, DeliveryStore, ListOrder};
use hookrelay_models::{Attempt, Delivery, DeliveryState, DestinationId, EventId, Timestamp};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;

use super::MemoryStore;

/// The deliveries of each listed state by (destination, state), as
/// DynamoDB's sparse index keeps them: failed and parked ones only
/// ([`DeliveryState::is_indexed`]), event ids in arrival order.
type StateIndex = HashMap<(DestinationId, DeliveryState), BTreeSet<EventId>>;

/// Every delivery by event, then destination: an event's deliveries are
/// one lookup, in destination order, and whether it has any is another.
/// A delivery changes only through [`Deliveries::upsert`] and
/// [`Deliveries::update`], which keep the state index in step with
/// whatever state the change leaves.
#[derive(Default)]
pub(super) struct Deliveries {
    by_event: BTreeMap<EventId, BTreeMap<DestinationId, Delivery>>,
    in_state: StateIndex,
    len: usize,
}

impl Deliveries {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn get(&self, event: &EventId, destination: &DestinationId) -> Option<&Delivery> {
        self.by_event.get(event)?.get(destination)
    }

    /// An event's deliveries, by destination.
    pub fn of_event<'a>(&'a self, event: &EventId) -> impl Iterator<Item = &'a Delivery> + 'a {
        self.by_event
            .get(event)
            .into_iter()
            .flat_map(|d| d.values())
    }

    /// Whether the event has a delivery (no event keeps an empty map).
    pub fn any_for(&self, event: &EventId) -> bool {
        self.by_event.contains_key(event)
    }

    /// The events of a destination's deliveries in an indexed state.
    pub fn in_state(
        &self,
        destination: &DestinationId,
        state: DeliveryState,
    ) -> Option<&BTreeSet<EventId>> {
        self.in_state.get(&(destination.clone(), state))
    }

    /// Applies `change` to the delivery, created pending at `now` first
    /// if there is none.
    pub fn upsert<R>(
        &mut self,
        event: &EventId,
        destination: &DestinationId,
        now: Timestamp,
        change: impl FnOnce(&mut Delivery) -> R,
    ) -> R {
        let len = &mut self.len;
        let delivery = self
            .by_event
            .entry(event.clone())
            .or_default()
            .entry(destination.clone())
            .or_insert_with(|| {
                *len += 1;
                Delivery::new(event.clone(), destination.clone(), now)
            });
        apply(&mut self.in_state, delivery, event, destination, change)
    }

    /// Applies `change` to the delivery if there is one.
    pub fn update<R>(
        &mut self,
        event: &EventId,
        destination: &DestinationId,
        change: impl FnOnce(&mut Delivery) -> R,
    ) -> Option<R> {
        let delivery = self.by_event.get_mut(event)?.get_mut(destination)?;
        Some(apply(
            &mut self.in_state,
            delivery,
            event,
            destination,
            change,
        ))
    }

    /// Forgets an event's deliveries (the retention dropped it).
    pub fn remove_event(&mut self, event: &EventId) {
        for (destination, delivery) in self.by_event.remove(event).unwrap_or_default() {
            self.len -= 1;
            unindex(&mut self.in_state, event, &destination, delivery.state);
        }
    }
}

/// Applies `change` to one delivery, then moves its index entry if its
/// state changed. A delivery is created pending, which is not indexed.
fn apply<R>(
    in_state: &mut StateIndex,
    delivery: &mut Delivery,
    event: &EventId,
    destination: &DestinationId,
    change: impl FnOnce(&mut Delivery) -> R,
) -> R {
    let before = delivery.state;
    let result = change(delivery);
    let after = delivery.state;
    if after != before {
        unindex(in_state, event, destination, before);
        if after.is_indexed() {
            in_state
                .entry((destination.clone(), after))
                .or_default()
                .insert(event.clone());
        }
    }
    result
}

fn unindex(
    in_state: &mut StateIndex,
    event: &EventId,
    destination: &DestinationId,
    state: DeliveryState,
) {
    if !state.is_indexed() {
        return;
    }
    let key = (destination.clone(), state);
    if let Some(events) = in_state.get_mut(&key) {
        events.remove(event);
        if events.is_empty() {
            in_state.remove(&key);
        }
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
        Ok(state
            .deliveries
            .upsert(event, destination, now, |delivery| {
                if let Some(blocked) = Claim::blocking(delivery, now) {
                    return blocked;
                }
                delivery.lease_until = Some(lease_until);
                delivery.updated_at = now;
                Claim::Claimed(delivery.clone())
            }))
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
        state.attempts.record(attempt.clone());
        Ok(state
            .deliveries
            .update(&delivery.event_id, &delivery.destination, |current| {
                let ours = current.lease_until == Some(lease);
                if ours {
                    *current = delivery.clone();
                }
                ours
            })
            .unwrap_or(false))
    }

    async fn park(
        &self,
        event: &EventId,
        destination: &DestinationId,
        now: Timestamp,
    ) -> Result<(), CoreError> {
        self.check()?;
        let mut state = self.lock();
        state
            .deliveries
            .upsert(event, destination, now, |delivery| {
                if delivery.state == DeliveryState::Pending {
                    delivery.state = DeliveryState::Parked;
                    delivery.updated_at = now;
                }
            });
        Ok(())
    }

    async fn delivery(
        &self,
        event: &EventId,
        destination: &DestinationId,
    ) -> Result<Option<Delivery>, CoreError> {
        self.check()?;
        Ok(self.lock().deliveries.get(event, destination).cloned())
    }

    async fn deliveries_for_event(&self, event: &EventId) -> Result<Vec<Delivery>, CoreError> {
        self.check()?;
        Ok(self
            .lock()
            .deliveries
            .of_event(event)
            .inspect(|_| self.visit())
            .cloned()
            .collect())
    }

    async fn attempts_for_event(&self, event: &EventId) -> Result<Vec<Attempt>, CoreError> {
        self.check()?;
        Ok(self
            .lock()
            .attempts
            .of_event(event)
            .inspect(|_| self.visit())
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
        let lower = from.as_ref().map_or(Bound::Unbounded, Bound::Included);
        let store = self.lock();
        let Some(events) = store.deliveries.in_state(destination, state) else {
            return Ok(Vec::new());
        };
        let range = events.range::<EventId, _>((lower, Bound::Unbounded));
        Ok(match order {
            ListOrder::OldestFirst => range
                .inspect(|_| self.visit())
                .take(limit)
                .cloned()
                .collect(),
            ListOrder::NewestFirst => range
                .rev()
                .inspect(|_| self.visit())
                .take(limit)
                .cloned()
                .collect(),
        })
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
            .in_state(destination, state)
            .map_or(0, |events| events.len() as u64))
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
        Ok(state
            .deliveries
            .update(event, destination, |delivery| {
                if delivery.state == DeliveryState::Pending {
                    return false;
                }
                delivery.reopen(now, new_series);
                true
            })
            .unwrap_or(false))
    }

    async fn attempts_for_destination(
        &self,
        destination: &DestinationId,
        limit: usize,
    ) -> Result<Vec<Attempt>, CoreError> {
        self.check()?;
        Ok(self
            .lock()
            .attempts
            .newest_to(destination)
            .inspect(|_| self.visit())
            .take(limit)
            .cloned()
            .collect())
    }
}

#[cfg(test)]
impl Deliveries {
    /// Panics unless the state index and the count are the deliveries'.
    pub fn assert_consistent(&self) {
        let mut expected = StateIndex::new();
        let mut len = 0;
        for (event, deliveries) in &self.by_event {
            assert!(!deliveries.is_empty(), "an empty entry for {event}");
            for (destination, delivery) in deliveries {
                len += 1;
                assert_eq!(
                    (event, destination),
                    (&delivery.event_id, &delivery.destination)
                );
                if delivery.state.is_indexed() {
                    expected
                        .entry((destination.clone(), delivery.state))
                        .or_default()
                        .insert(event.clone());
                }
            }
        }
        assert_eq!(self.in_state, expected, "the state index is out of step");
        assert_eq!(self.len, len, "the delivery count is out of step");
    }
}
