//! The work queue on SQS.
use async_trait::async_trait;
use aws_sdk_sqs::types::QueueAttributeName;
use aws_sdk_sqs::Client;
use hookrelay_core::{CoreError, DeadLetters, Queue, QueueConsumer, QueueMessage, Received};
use std::time::Duration;

use crate::error::call_error;

/// SQS refuses `DelaySeconds` above 15 minutes; longer waits are the
/// dispatcher's business (it re-enqueues).
const MAX_DELAY: Duration = Duration::from_secs(900);
/// How long a message received by `hookrelay dev --aws` stays hidden while
/// it is handled: past it, SQS hands it out again. (On Lambda the queue's
/// own visibility timeout applies.)
const RECEIVE_VISIBILITY: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct SqsQueue {
    client: Client,
    queue_url: String,
}

impl SqsQueue {
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        SqsQueue {
            client,
            queue_url: queue_url.into(),
        }
    }

    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    /// Another queue reached with the same client (the dead-letter
    /// queue).
    pub fn sibling(&self, queue_url: impl Into<String>) -> SqsQueue {
        SqsQueue::new(self.client.clone(), queue_url)
    }
}

/// The queue as a dead-letter queue: one `GetQueueAttributes` per check.
#[async_trait]
impl DeadLetters for SqsQueue {
    fn name(&self) -> String {
        self.queue_url
            .rsplit('/')
            .next()
            .unwrap_or(&self.queue_url)
            .to_string()
    }

    async fn waiting(&self) -> Result<u64, CoreError> {
        let attributes = self
            .client
            .get_queue_attributes()
            .queue_url(&self.queue_url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .map_err(|e| call_error("sqs", e))?;
        let count = attributes
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::ApproximateNumberOfMessages))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        Ok(count)
    }
}

/// SQS delays in whole seconds: round up, so a message never surfaces
/// before it is due. Rounding down made a retry due at +1.4 s surface at
/// +1 s, be refused as not due and come back again and again with no delay
/// (each time an invocation, a send, a receive and a read) until due.
fn delay_seconds(delay: Duration) -> i32 {
    let delay = delay.min(MAX_DELAY);
    let whole = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
    whole.min(MAX_DELAY.as_secs()) as i32
}

#[async_trait]
impl Queue for SqsQueue {
    async fn enqueue(&self, message: &QueueMessage, delay: Duration) -> Result<(), CoreError> {
        let body = serde_json::to_string(message)
            .map_err(|e| CoreError::Corrupt(format!("queue message: {e}")))?;
        let delay_secs = delay_seconds(delay);
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .delay_seconds(delay_secs)
            .send()
            .await
            .map_err(|e| call_error("sqs", e))?;
        Ok(())
    }
}

/// The consumer side, for `hookrelay dev --aws` (on Lambda the event
/// source consumes the queue).
#[async_trait]
impl QueueConsumer for SqsQueue {
    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<Received>, CoreError> {
        let received = self
            .client
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(max.clamp(1, 10) as i32)
            .visibility_timeout(RECEIVE_VISIBILITY.as_secs() as i32)
            .wait_time_seconds(delay_seconds(wait).min(20))
            .send()
            .await
            .map_err(|e| call_error("sqs", e))?;
        Ok(received
            .messages()
            .iter()
            .map(|m| Received {
                receipt: m.receipt_handle().unwrap_or_default().to_string(),
                body: m.body().unwrap_or_default().to_string(),
            })
            .collect())
    }

    async fn ack(&self, message: &Received) -> Result<(), CoreError> {
        self.client
            .delete_message()
            .queue_url(&self.queue_url)
            .receipt_handle(&message.receipt)
            .send()
            .await
            .map_err(|e| call_error("sqs", e))?;
        Ok(())
    }

    async fn retry_later(&self, message: &Received, after: Duration) -> Result<(), CoreError> {
        self.client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(&message.receipt)
            .visibility_timeout(delay_seconds(after))
            .send()
            .await
            .map_err(|e| call_error("sqs", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_round_up_to_whole_seconds_within_the_sqs_limit() {
        assert_eq!(delay_seconds(Duration::ZERO), 0);
        assert_eq!(delay_seconds(Duration::from_millis(1)), 1);
        assert_eq!(delay_seconds(Duration::from_millis(1400)), 2);
        assert_eq!(delay_seconds(Duration::from_secs(5)), 5);
        assert_eq!(delay_seconds(Duration::from_millis(899_001)), 900);
        assert_eq!(delay_seconds(Duration::from_secs(3600)), 900);
    }
}
