//! Consuming the queue: the one batch function every runtime runs. The
//! dispatcher Lambda gets its batch from SQS's event source and answers
//! with the messages to redeliver; `hookrelay dev` takes batches from its
//! queue (in memory or SQS) through [`QueueConsumer`] and settles each
//! message itself. Both parse, dispatch and judge a batch the same way, in
//! [`handle_batch`].
use async_trait::async_trait;
use futures::future::join_all;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

use crate::dispatch::Dispatch;
use crate::error::CoreError;
use crate::ports::QueueMessage;

/// A message taken off the queue: its body, and what the queue needs to
/// settle it (an SQS receipt handle or message id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub receipt: String,
    pub body: String,
}

/// The consumer side of the work queue, for a runtime that pulls its own
/// batches (`hookrelay dev`); on Lambda the event source does this.
#[async_trait]
pub trait QueueConsumer: Send + Sync {
    /// Up to `max` ready messages, waiting up to `wait` for the first.
    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<Received>, CoreError>;
    /// Handled: the queue forgets it.
    async fn ack(&self, message: &Received) -> Result<(), CoreError>;
    /// Not handled: the queue hands it out again after `after`.
    async fn retry_later(&self, message: &Received, after: Duration) -> Result<(), CoreError>;
}

/// How long a message that could not be handled waits before it is tried
/// again, where the runtime chooses (`hookrelay dev`).
pub const RETRY_FAILED_MESSAGE_AFTER: Duration = Duration::from_secs(5);

/// Handles every message of a batch concurrently. Returns the receipts of
/// the ones the queue must deliver again: those whose handling failed
/// (some delivery could not be claimed, recorded or scheduled), and those
/// that cannot be read (so they end in the dead-letter queue, for a person
/// to look at, rather than vanish).
pub async fn handle_batch(dispatch: &Dispatch, batch: &[Received]) -> Vec<String> {
    let outcomes = join_all(batch.iter().map(|received| async move {
        let handled = match serde_json::from_str::<QueueMessage>(&received.body) {
            Ok(message) => match dispatch.handle_message(&message).await {
                Ok(_) => true,
                Err(err) => {
                    tracing::warn!(event_id = %message.event_id, error = %err, retryable = err.is_retryable(), "message will be retried by the queue");
                    false
                }
            },
            Err(err) => {
                tracing::error!(receipt = %received.receipt, error = %err, "unreadable queue message");
                false
            }
        };
        (received, handled)
    }))
    .await;
    outcomes
        .into_iter()
        .filter(|(_, handled)| !handled)
        .map(|(received, _)| received.receipt.clone())
        .collect()
}

/// How a pulling runtime cuts what it receives into batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsumeLimits {
    /// Messages per [`handle_batch`] call: a batch is settled when its
    /// slowest message is done, so a small batch keeps one stalled
    /// destination from holding up the others' acknowledgements.
    pub batch_size: usize,
    /// Batches handled at once (as the event source runs several
    /// invocations).
    pub concurrent_batches: usize,
}

/// Pulls messages from `consumer` until `shutdown`, cuts them into batches
/// of `limits.batch_size`, handles up to `limits.concurrent_batches` at
/// once, then waits for those in hand. Each batch goes through
/// [`handle_batch`]; what it handled is acked, the rest handed back.
pub async fn consume(
    dispatch: Arc<Dispatch>,
    consumer: Arc<dyn QueueConsumer>,
    limits: ConsumeLimits,
    mut shutdown: watch::Receiver<bool>,
) {
    let batch_size = limits.batch_size.max(1);
    let slots = Arc::new(Semaphore::new(limits.concurrent_batches.max(1)));
    let mut batches = JoinSet::new();
    while !*shutdown.borrow() {
        // Receive only with room for at least one more batch.
        let room = tokio::select! {
            room = slots.clone().acquire_owned() => room.expect("never closed"),
            _ = shutdown.changed() => break,
        };
        drop(room);
        let received = tokio::select! {
            received = consumer.receive(10, Duration::from_millis(200)) => received,
            _ = shutdown.changed() => break,
        };
        let received = match received {
            Ok(received) => received,
            Err(err) => {
                tracing::warn!(error = %err, "could not receive from the queue");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        for chunk in received.chunks(batch_size) {
            let slot = slots.clone().acquire_owned().await.expect("never closed");
            let batch = chunk.to_vec();
            let (dispatch, consumer) = (dispatch.clone(), consumer.clone());
            batches.spawn(async move {
                let failed = handle_batch(&dispatch, &batch).await;
                for received in &batch {
                    let settled = if failed.contains(&received.receipt) {
                        consumer
                            .retry_later(received, RETRY_FAILED_MESSAGE_AFTER)
                            .await
                    } else {
                        consumer.ack(received).await
                    };
                    if let Err(err) = settled {
                        // The queue hands it out again after its visibility
                        // timeout; the dispatcher's claims keep that harmless.
                        tracing::warn!(error = %err, "could not settle a queue message");
                    }
                }
                drop(slot);
            });
        }
        while batches.try_join_next().is_some() {}
    }
    while batches.join_next().await.is_some() {}
}
