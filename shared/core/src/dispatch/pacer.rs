//! Pacing: a destination's rate limit, and the pause its `429`s ask for,
//! held across every dispatcher through the shared schedule in
//! [`crate::pace`].
//!
//! A limit of `r` per second with burst `b` is a schedule of slots
//! `1/r` apart; a delivery is sent in a slot of its own. A dispatcher
//! takes several slots with one write — as many as it has deliveries
//! waiting for the destination, at least [`MIN_TAKE`] — and keeps them in
//! memory; a slot may be used from its time until `b` intervals after
//! (its life), then it is dropped unused. After a quiet spell the schedule
//! starts `b - 1` intervals in the past, so `b` deliveries go at once.
//!
//! The bound: every slot is used within its life, and slots are at least
//! `1/r` apart, so any window of `w` seconds sees at most `r·w + b + 1`
//! deliveries begin, give or take the dispatchers' clock skew times `r`.
//! Slots are never given back: unused ones only make the rate lower.
//!
//! Waiting is not an attempt: it happens before the delivery is claimed.
//! A delivery waits in process up to the horizon
//! ([`DispatchSettings::pace_wait`](super::DispatchSettings)); a longer
//! wait puts it back on the queue for that long.
use hookrelay_models::{Destination, DestinationId, Pace, Timestamp};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::CoreError;
use crate::pace::{DestinationPace, SlotGrant, SlotRequest};
use crate::ports::Clock;

/// Fewest slots taken with one write, where they come due soon enough:
/// at most 0.2 writes per delivery while the destination is busy enough
/// to use them.
pub const MIN_TAKE: u32 = 5;
/// Most slots taken with one write.
const MAX_TAKE: u32 = 100;
/// How long a dispatcher trusts what it read of a destination's pause: a
/// pause reaches every dispatcher within this.
pub const PAUSE_READ_EVERY: Duration = Duration::from_secs(1);

/// How far ahead a dispatcher reserves slots: a delivery whose slot is
/// further than its in-process wait goes back on the queue carrying the
/// slot, and is sent in it when it comes back. Past this, nothing is
/// reserved: the delivery is queued again to ask later.
pub const RESERVE_AHEAD: Duration = Duration::from_secs(3600);

/// Whether a delivery may go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Turn {
    /// Claim it, then send it at `slot` (its rate limit's; `None`: at
    /// once).
    Go { slot: Option<Timestamp> },
    /// Queue it again for `queue_for`, carrying its reserved `slot` if it
    /// has one.
    Later {
        queue_for: Duration,
        slot: Option<Timestamp>,
    },
}

pub(super) struct Pacer {
    store: Arc<dyn DestinationPace>,
    clock: Arc<dyn Clock>,
    horizon: Duration,
    destinations: Mutex<HashMap<DestinationId, Arc<Local>>>,
}

/// One destination as this process paces it.
#[derive(Default)]
struct Local {
    /// Deliveries of this process waiting for a slot: how many to take.
    waiting: AtomicU32,
    /// Held while a slot is taken, so one write serves every waiter.
    slots: tokio::sync::Mutex<Slots>,
    pause: Mutex<PauseSeen>,
    /// Held while the pause is read, so deliveries that find what was read
    /// stale at once make one read between them, not one each.
    pause_read: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct Slots {
    held: VecDeque<Timestamp>,
    /// The schedule's next free slot is at least this (it only moves on).
    next_at_least: Option<Timestamp>,
}

#[derive(Default, Clone, Copy)]
struct PauseSeen {
    until: Option<Timestamp>,
    read_at: Option<Timestamp>,
}

fn before(at: Timestamp, by: Duration) -> Timestamp {
    Timestamp::from_unix_millis(at.unix_millis().saturating_sub(by.as_millis() as i64))
}

impl Pacer {
    pub(super) fn new(
        store: Arc<dyn DestinationPace>,
        clock: Arc<dyn Clock>,
        horizon: Duration,
    ) -> Self {
        Pacer {
            store,
            clock,
            horizon,
            destinations: Mutex::new(HashMap::new()),
        }
    }

    fn local(&self, id: &DestinationId) -> Arc<Local> {
        let mut all = self.destinations.lock().unwrap_or_else(|e| e.into_inner());
        all.entry(id.clone()).or_default().clone()
    }

    /// `destination`'s next turn: the end of any pause, then a slot of its
    /// limit if it has one (`reserved`, if the delivery brought one back
    /// from the queue and it is still usable) within the in-process wait;
    /// or how long to queue the delivery again for. The caller claims the
    /// delivery, waits for the slot, checks [`Self::paused_for`] again and
    /// sends: nothing slow between the slot and the request, so the rate
    /// the destination sees is the schedule's.
    pub(super) async fn turn(
        &self,
        destination: &Destination,
        reserved: Option<Timestamp>,
    ) -> Result<Turn, CoreError> {
        let local = self.local(&destination.id);
        let mut reserved = reserved;
        loop {
            let now = self.clock.now();
            if let Some(until) = self.paused_until(&local, &destination.id, now).await? {
                let wait = until.since(now);
                if wait > self.horizon {
                    return Ok(Turn::Later {
                        queue_for: wait,
                        slot: None,
                    });
                }
                tokio::time::sleep(wait).await;
                // A slot from before the pause is stale.
                reserved = None;
                continue;
            }
            let Some(pace) = destination.pace() else {
                return Ok(Turn::Go { slot: None });
            };
            let life = pace.slot_life();
            let slot = match reserved.take().filter(|s| s.saturating_add(life) > now) {
                Some(slot) => slot,
                None => match self.slot(&local, &destination.id, pace).await? {
                    Ok(slot) => slot,
                    Err(queue_for) => {
                        return Ok(Turn::Later {
                            queue_for,
                            slot: None,
                        })
                    }
                },
            };
            let wait = slot.since(now);
            if wait > self.horizon {
                // Back a little before its slot, to wait in process for
                // the exact time (queues delay in whole seconds, and hand
                // messages back late).
                let queue_for = wait.saturating_sub(self.horizon / 2);
                return Ok(Turn::Later {
                    queue_for,
                    slot: Some(slot),
                });
            }
            return Ok(Turn::Go { slot: Some(slot) });
        }
    }

    /// Whether `slot` may still be used now (no slot: no limit).
    pub(super) fn usable(&self, destination: &Destination, slot: Option<Timestamp>) -> bool {
        match (slot, destination.pace()) {
            (Some(slot), Some(pace)) => slot.saturating_add(pace.slot_life()) > self.clock.now(),
            _ => true,
        }
    }

    /// How much longer the destination is paused, as last read (at most
    /// [`PAUSE_READ_EVERY`] ago); `None`: it is not.
    pub(super) async fn paused_for(
        &self,
        destination: &DestinationId,
    ) -> Result<Option<Duration>, CoreError> {
        let local = self.local(destination);
        let now = self.clock.now();
        Ok(self
            .paused_until(&local, destination, now)
            .await?
            .map(|until| until.since(now)))
    }

    /// The destination answered with a pause: every dispatcher holds off
    /// until `until` (this one at once, others within
    /// [`PAUSE_READ_EVERY`] or their held slots' life).
    pub(super) async fn pause(
        &self,
        destination: &DestinationId,
        until: Timestamp,
    ) -> Result<(), CoreError> {
        let local = self.local(destination);
        {
            let mut seen = local.pause.lock().unwrap_or_else(|e| e.into_inner());
            if seen.until.is_some_and(|known| known >= until) {
                return Ok(());
            }
            seen.until = Some(until);
        }
        self.store.pause(destination, until).await
    }

    /// A slot of `pace` for one delivery (`Err`: how long to queue it
    /// again for).
    async fn slot(
        &self,
        local: &Local,
        id: &DestinationId,
        pace: Pace,
    ) -> Result<Result<Timestamp, Duration>, CoreError> {
        local.waiting.fetch_add(1, Ordering::SeqCst);
        let mut slots = local.slots.lock().await;
        let taken = self.take(local, &mut slots, id, pace).await;
        local.waiting.fetch_sub(1, Ordering::SeqCst);
        taken
    }

    async fn take(
        &self,
        local: &Local,
        slots: &mut Slots,
        id: &DestinationId,
        pace: Pace,
    ) -> Result<Result<Timestamp, Duration>, CoreError> {
        let now = self.clock.now();
        let life = pace.slot_life();
        slots.held.retain(|slot| slot.saturating_add(life) > now);
        if let Some(slot) = slots.held.pop_front() {
            return Ok(Ok(slot));
        }
        let horizon = now.saturating_add(RESERVE_AHEAD);
        if let Some(next) = slots.next_at_least.filter(|next| *next > horizon) {
            // Known to be past the horizon without asking again.
            return Ok(Err(next.since(now)));
        }
        let floor = before(now, life - pace.interval);
        // As many as wait here; at least MIN_TAKE to keep writes to a
        // fifth per delivery, but only as many spare ones as come due
        // within half an in-process wait: a slow limit's spare slots would
        // hold up other dispatchers for minutes if this one had no use
        // for them.
        let soon = (self.horizon / 2).as_millis() / pace.interval.as_millis().max(1);
        let least = MIN_TAKE.min(soon.clamp(1, u128::from(MIN_TAKE)) as u32);
        let cells = local.waiting.load(Ordering::SeqCst).clamp(least, MAX_TAKE);
        let request = SlotRequest {
            cells,
            interval: pace.interval,
            floor,
            horizon,
            expect_busy: slots.next_at_least.is_some_and(|next| next >= floor),
        };
        match self.store.take_slots(id, request).await? {
            SlotGrant::Taken { first } => {
                slots
                    .held
                    .extend((0..cells).map(|i| first.saturating_add(pace.interval * i)));
                slots.next_at_least = Some(first.saturating_add(pace.interval * cells));
                Ok(Ok(slots.held.pop_front().unwrap_or(first)))
            }
            SlotGrant::TooFar { next } => {
                slots.next_at_least = Some(next);
                Ok(Err(next.since(now)))
            }
        }
    }

    /// When the destination's pause ends, if it has not, as last read (at
    /// most [`PAUSE_READ_EVERY`] ago).
    async fn paused_until(
        &self,
        local: &Local,
        id: &DestinationId,
        now: Timestamp,
    ) -> Result<Option<Timestamp>, CoreError> {
        let known = |local: &Local| {
            let seen = *local.pause.lock().unwrap_or_else(|e| e.into_inner());
            let fresh = seen
                .read_at
                .is_some_and(|at| at <= now && now.since(at) < PAUSE_READ_EVERY);
            fresh.then(|| seen.until.filter(|until| *until > now))
        };
        if let Some(known) = known(local) {
            return Ok(known);
        }
        let _reading = local.pause_read.lock().await;
        if let Some(known) = known(local) {
            return Ok(known);
        }
        let stored = self.store.paused_until(id).await?;
        let mut seen = local.pause.lock().unwrap_or_else(|e| e.into_inner());
        seen.until = seen.until.max(stored);
        seen.read_at = Some(now);
        let until = seen.until.filter(|until| *until > now);
        if let Some(until) = until {
            // Slots held from before the pause must not be used in it.
            if let Ok(mut slots) = local.slots.try_lock() {
                slots.held.retain(|slot| *slot >= until);
            }
        }
        Ok(until)
    }
}
