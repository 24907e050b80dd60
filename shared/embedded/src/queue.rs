//! A work queue in memory, with delays like SQS's `DelaySeconds`.
use async_trait::async_trait;
use hookrelay_core::{Clock, CoreError, Queue, QueueMessage};
use hookrelay_models::Timestamp;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

pub struct MemoryQueue {
    clock: Arc<dyn Clock>,
    messages: Mutex<Vec<(Timestamp, QueueMessage)>>,
    arrived: Notify,
    unavailable: AtomicBool,
}

impl MemoryQueue {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        MemoryQueue {
            clock,
            messages: Mutex::new(Vec::new()),
            arrived: Notify::new(),
            unavailable: AtomicBool::new(false),
        }
    }

    /// Makes `enqueue` fail as if the queue could not be reached.
    pub fn set_unavailable(&self, unavailable: bool) {
        self.unavailable.store(unavailable, Ordering::SeqCst);
    }

    /// Messages waiting, ready or delayed.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removes and returns up to `max` messages whose delay has passed, in
    /// the order they became ready.
    pub fn take_ready(&self, max: usize) -> Vec<QueueMessage> {
        let now = self.clock.now();
        let mut messages = self.lock();
        messages.sort_by_key(|(ready_at, _)| *ready_at);
        let ready = messages
            .iter()
            .take_while(|(ready_at, _)| *ready_at <= now)
            .count()
            .min(max);
        messages.drain(..ready).map(|(_, m)| m).collect()
    }

    /// Waits until a message is enqueued (or `timeout` passes).
    pub async fn wait_for_arrival(&self, timeout: Duration) {
        let _ = tokio::time::timeout(timeout, self.arrived.notified()).await;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(Timestamp, QueueMessage)>> {
        self.messages.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl Queue for MemoryQueue {
    async fn enqueue(&self, message: &QueueMessage, delay: Duration) -> Result<(), CoreError> {
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(CoreError::unavailable(
                "queue",
                "embedded queue set unavailable",
            ));
        }
        let ready_at = self.clock.now().saturating_add(delay);
        self.lock().push((ready_at, message.clone()));
        self.arrived.notify_waiters();
        Ok(())
    }
}
