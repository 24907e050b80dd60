//! SQS as the dispatcher sees it: at-least-once, unordered, a message
//! hidden for the visibility timeout once received and handed out again
//! unless deleted with its latest receipt. Sends and deletes go through
//! the fault model, so a send can land and still report an error.
use async_trait::async_trait;
use hookrelay_core::{CoreError, Queue, QueueMessage, Received};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::faults::Sim;

struct Message {
    body: String,
    visible_at: Instant,
    receives: u32,
}

#[derive(Default)]
struct Messages {
    next_id: u64,
    held: BTreeMap<u64, Message>,
}

pub struct SimQueue {
    sim: Arc<Sim>,
    messages: Mutex<Messages>,
    /// Wakes receivers when a message is sent.
    pub sent: Notify,
    pub visibility: Duration,
}

impl SimQueue {
    pub fn new(sim: Arc<Sim>, visibility: Duration) -> Self {
        SimQueue {
            sim,
            messages: Mutex::new(Messages::default()),
            sent: Notify::new(),
            visibility,
        }
    }

    /// Up to `max` visible messages, in an order the seed picks; each is
    /// hidden for the visibility timeout and gets a new receipt.
    pub fn receive(&self, max: usize) -> Vec<Received> {
        let now = Instant::now();
        let mut messages = self.messages.lock().unwrap();
        let mut visible: Vec<u64> = messages
            .held
            .iter()
            .filter(|(_, m)| m.visible_at <= now)
            .map(|(id, _)| *id)
            .collect();
        let mut batch = Vec::new();
        while !visible.is_empty() && batch.len() < max {
            let pick = self.sim.with_rng(|r| r.below(visible.len() as u64)) as usize;
            let id = visible.swap_remove(pick);
            let message = messages.held.get_mut(&id).expect("listed");
            message.visible_at = now + self.visibility;
            message.receives += 1;
            batch.push(Received {
                receipt: format!("{id}:{}", message.receives),
                body: message.body.clone(),
            });
        }
        batch
    }

    /// Deletes a message if `receipt` is its latest (an older receipt
    /// deletes nothing, as SQS may do).
    pub async fn delete(&self, receipt: &str) -> Result<(), CoreError> {
        self.sim
            .call("sqs.delete", async {
                let (id, receives) = receipt.split_once(':').expect("our receipts");
                let (id, receives): (u64, u32) =
                    (id.parse().expect("id"), receives.parse().expect("count"));
                let mut messages = self.messages.lock().unwrap();
                if messages
                    .held
                    .get(&id)
                    .is_some_and(|m| m.receives == receives)
                {
                    messages.held.remove(&id);
                }
                Ok(())
            })
            .await
    }

    /// When the next hidden or delayed message becomes visible.
    pub fn next_visible_at(&self) -> Option<Instant> {
        self.messages
            .lock()
            .unwrap()
            .held
            .values()
            .map(|m| m.visible_at)
            .min()
    }

    pub fn is_empty(&self) -> bool {
        self.messages.lock().unwrap().held.is_empty()
    }

    /// Every message still held, for the report of a run that did not
    /// settle.
    pub fn bodies(&self) -> Vec<String> {
        let messages = self.messages.lock().unwrap();
        messages.held.values().map(|m| m.body.clone()).collect()
    }
}

#[async_trait]
impl Queue for SimQueue {
    async fn enqueue(&self, message: &QueueMessage, delay: Duration) -> Result<(), CoreError> {
        let body = serde_json::to_string(message).expect("messages serialize");
        self.sim
            .call("sqs.send", async {
                let mut messages = self.messages.lock().unwrap();
                let id = messages.next_id;
                messages.next_id += 1;
                messages.held.insert(
                    id,
                    Message {
                        body: body.clone(),
                        visible_at: Instant::now() + delay,
                        receives: 0,
                    },
                );
                drop(messages);
                self.sim.note(|| format!("sqs.send {body} delay {delay:?}"));
                self.sent.notify_waiters();
                Ok(())
            })
            .await
    }
}
