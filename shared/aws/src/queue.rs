//! The work queue on SQS.
use async_trait::async_trait;
use aws_sdk_sqs::Client;
use hookrelay_core::{CoreError, Queue, QueueMessage};
use std::time::Duration;

use crate::error::call_error;

/// SQS refuses `DelaySeconds` above 15 minutes; longer waits are the
/// dispatcher's business (it re-enqueues).
const MAX_DELAY: Duration = Duration::from_secs(900);

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
}

#[async_trait]
impl Queue for SqsQueue {
    async fn enqueue(&self, message: &QueueMessage, delay: Duration) -> Result<(), CoreError> {
        let body = serde_json::to_string(message)
            .map_err(|e| CoreError::Corrupt(format!("queue message: {e}")))?;
        let delay_secs = delay.min(MAX_DELAY).as_secs() as i32;
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
