//! A work queue in memory, with delays like SQS's `DelaySeconds`.
use async_trait::async_trait;
use hookrelay_core::{Clock, CoreError, Queue, QueueConsumer, QueueMessage, Received};
use hookrelay_models::Timestamp;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

pub struct MemoryQueue {
    clock: Arc<dyn Clock>,
    messages: Mutex<Vec<(Timestamp, QueueMessage)>>,
    arrived: Notify,
    unavailable: AtomicBool,
    /// Numbers the messages handed out, for their receipts.
    receipts: AtomicU64,
}

impl MemoryQueue {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        MemoryQueue {
            clock,
            messages: Mutex::new(Vec::new()),
            arrived: Notify::new(),
            unavailable: AtomicBool::new(false),
            receipts: AtomicU64::new(0),
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

/// The consumer side, for `hookrelay dev`'s dispatcher loop. Messages are
/// handed out as their JSON, as SQS hands them; nothing is held while a
/// message is handled (a crash loses it: the whole queue is in memory).
#[async_trait]
impl QueueConsumer for MemoryQueue {
    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<Received>, CoreError> {
        let mut ready = self.take_ready(max);
        if ready.is_empty() {
            self.wait_for_arrival(wait).await;
            ready = self.take_ready(max);
        }
        Ok(ready
            .into_iter()
            .map(|message| Received {
                receipt: format!(
                    "{}-{}",
                    message.event_id,
                    self.receipts.fetch_add(1, Ordering::Relaxed)
                ),
                body: serde_json::to_string(&message).expect("queue messages serialize"),
            })
            .collect())
    }

    async fn ack(&self, _message: &Received) -> Result<(), CoreError> {
        Ok(())
    }

    async fn retry_later(&self, message: &Received, after: Duration) -> Result<(), CoreError> {
        let parsed: QueueMessage = serde_json::from_str(&message.body)
            .map_err(|e| CoreError::Corrupt(format!("queue message: {e}")))?;
        self.enqueue(&parsed, after).await
    }
}
