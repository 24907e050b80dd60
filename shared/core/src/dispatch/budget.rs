//! The dispatcher's budget of body bytes in flight. A Lambda batch is ten
//! messages handled at once, and a body can be several MiB: ten of them,
//! each read and sent concurrently, would not fit a 128 MB function. Each
//! message reserves its body's size before the body is read (the queue
//! message says how large it is), and gives it back when it is done; one
//! that cannot get its share soon goes back to the queue for a moment
//! rather than hold the batch past the function's timeout.
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The default budget: a quarter of a 128 MB function, room for six 5 MiB
/// bodies at once.
pub const DEFAULT_BODY_BYTES_IN_FLIGHT: usize = 32 << 20;

/// How long a message waits for its share before it is re-queued: with
/// the longest destination timeout (120 s) it stays inside the
/// dispatcher's 150 s.
pub const BODY_BUDGET_WAIT: Duration = Duration::from_secs(20);

/// How long a message that could not get its share stays in the queue
/// before it is tried again (by this instance or another).
pub const BODY_BUDGET_REQUEUE_AFTER: Duration = Duration::from_secs(5);

pub(super) struct BodyBudget {
    bytes: Arc<Semaphore>,
    total: u32,
}

/// A share of the budget, given back when dropped.
pub(super) struct Reserved {
    _permit: Option<OwnedSemaphorePermit>,
}

impl BodyBudget {
    /// A budget of `bytes` (at least one byte, at most 4 GiB).
    pub(super) fn new(bytes: usize) -> Self {
        let total = u32::try_from(bytes).unwrap_or(u32::MAX).max(1);
        BodyBudget {
            bytes: Arc::new(Semaphore::new(total as usize)),
            total,
        }
    }

    /// Reserves `bytes`, waiting up to `wait` for them; `None` if they did
    /// not come free in time. A body larger than the whole budget takes
    /// all of it, so it goes alone rather than never.
    pub(super) async fn reserve(&self, bytes: u64, wait: Duration) -> Option<Reserved> {
        let share = u32::try_from(bytes).unwrap_or(u32::MAX).min(self.total);
        if share == 0 {
            return Some(Reserved { _permit: None });
        }
        let permit = tokio::time::timeout(wait, self.bytes.clone().acquire_many_owned(share))
            .await
            .ok()?
            .expect("the budget's semaphore is never closed");
        Some(Reserved {
            _permit: Some(permit),
        })
    }

    /// Bytes not reserved now.
    #[cfg(test)]
    fn free(&self) -> usize {
        self.bytes.available_permits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn shares_wait_for_room_and_give_it_back_when_dropped() {
        let budget = BodyBudget::new(10);
        let six = budget.reserve(6, Duration::ZERO).await.unwrap();
        assert_eq!(budget.free(), 4);
        // Five more do not fit: refused after the wait.
        assert!(budget.reserve(5, Duration::from_millis(10)).await.is_none());
        assert_eq!(budget.free(), 4, "a refused share holds nothing");
        drop(six);
        assert_eq!(budget.free(), 10);
        // Larger than the whole budget: all of it, alone.
        let all = budget.reserve(1 << 40, Duration::ZERO).await.unwrap();
        assert_eq!(budget.free(), 0);
        assert!(budget.reserve(1, Duration::ZERO).await.is_none());
        // An empty body needs no room.
        assert!(budget.reserve(0, Duration::ZERO).await.is_some());
        drop(all);
        assert_eq!(budget.free(), 10);
    }

    #[tokio::test]
    async fn a_waiting_share_gets_the_room_freed_meanwhile() {
        let budget = Arc::new(BodyBudget::new(10));
        let held = budget.reserve(8, Duration::ZERO).await.unwrap();
        let waiter = {
            let budget = budget.clone();
            tokio::spawn(async move { budget.reserve(5, Duration::from_secs(20)).await.is_some() })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(held);
        assert!(waiter.await.unwrap());
    }
}
