//! A destination's shared pace: the schedule its rate limit hands out
//! send slots from, and the pause a `429`/`503` with `Retry-After` puts on
//! it. One number per destination, `next`: the time of the schedule's
//! next free slot. Every dispatcher takes slots from it, several at a
//! time, so the limit holds across all of them at a fraction of a write
//! per delivery (the design and its error bound: `dispatch::pacer` and
//! README › Dispatcher).
use async_trait::async_trait;
use hookrelay_models::{DestinationId, Timestamp};
use std::time::Duration;

use crate::error::CoreError;

/// A request for consecutive slots from a destination's schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotRequest {
    /// How many slots.
    pub cells: u32,
    /// Time between two slots.
    pub interval: Duration,
    /// The earliest time the first slot may have: `now` less what a slot
    /// may lag (its life less one interval), so an idle schedule gives a
    /// burst at once, but never slots older than that.
    pub floor: Timestamp,
    /// The latest first slot worth taking: a taker waits for its slots in
    /// process up to here, and queues the delivery again past it.
    pub horizon: Timestamp,
    /// The caller's guess that the schedule is busy (`next` at or after
    /// `floor`): a store that must try one case before the other tries
    /// that one first.
    pub expect_busy: bool,
}

/// The answer to a [`SlotRequest`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotGrant {
    /// The slots `first`, `first + interval`, … are the caller's.
    Taken { first: Timestamp },
    /// The first free slot is past the horizon: nothing taken.
    TooFar { next: Timestamp },
}

impl SlotRequest {
    /// The one rule every store applies to a schedule whose next free slot
    /// is `next` (`None`: never used): the answer, and `next` after it.
    pub fn apply(&self, next: Option<Timestamp>) -> (SlotGrant, Option<Timestamp>) {
        let first = next.map_or(self.floor, |next| next.max(self.floor));
        if first > self.horizon {
            return (SlotGrant::TooFar { next: first }, next);
        }
        let taken = self.interval * self.cells;
        (
            SlotGrant::Taken { first },
            Some(first.saturating_add(taken)),
        )
    }
}

/// Where destinations' schedules are kept, shared by every dispatcher.
#[async_trait]
pub trait DestinationPace: Send + Sync {
    /// Takes `request.cells` slots as [`SlotRequest::apply`] says, atomically.
    /// On DynamoDB one conditional write, two when the guess in
    /// `expect_busy` is wrong.
    async fn take_slots(
        &self,
        destination: &DestinationId,
        request: SlotRequest,
    ) -> Result<SlotGrant, CoreError>;

    /// The destination asked for a pause (a `429` or `503` with
    /// `Retry-After`): records that it is paused until `until`, and moves
    /// the schedule's next free slot there, each only if it is earlier.
    async fn pause(&self, destination: &DestinationId, until: Timestamp) -> Result<(), CoreError>;

    /// When the destination's last pause ends (ended), if it ever had one.
    /// One eventually consistent read.
    async fn paused_until(
        &self,
        destination: &DestinationId,
    ) -> Result<Option<Timestamp>, CoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_unix_millis(ms)
    }

    fn request(cells: u32) -> SlotRequest {
        SlotRequest {
            cells,
            interval: Duration::from_millis(100),
            floor: at(1_000),
            horizon: at(3_000),
            expect_busy: false,
        }
    }

    #[test]
    fn an_idle_schedule_starts_at_the_floor_and_a_busy_one_where_it_was() {
        assert_eq!(
            request(5).apply(None),
            (SlotGrant::Taken { first: at(1_000) }, Some(at(1_500)))
        );
        assert_eq!(
            request(5).apply(Some(at(400))),
            (SlotGrant::Taken { first: at(1_000) }, Some(at(1_500))),
            "slots older than the floor are gone"
        );
        assert_eq!(
            request(3).apply(Some(at(2_000))),
            (SlotGrant::Taken { first: at(2_000) }, Some(at(2_300)))
        );
    }

    #[test]
    fn a_schedule_past_the_horizon_gives_nothing() {
        assert_eq!(
            request(3).apply(Some(at(3_001))),
            (SlotGrant::TooFar { next: at(3_001) }, Some(at(3_001)))
        );
        assert_eq!(
            request(3).apply(Some(at(3_000))),
            (SlotGrant::Taken { first: at(3_000) }, Some(at(3_300))),
            "the horizon itself is close enough"
        );
    }
}
