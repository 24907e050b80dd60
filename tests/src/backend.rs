//! The receiver's adapters, embedded or on moto, behind one interface so
//! the same contract tests run on both.
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use hookrelay_aws::{DynamoConfigStore, DynamoDeliveryStore, DynamoEventStore, SqsQueue};
use hookrelay_core::{
    Claim, Clock, ConfigStore, CoreError, DeliveryStore, EventStore, Ingest, IngestSettings, Queue,
    QueueMessage, RejectionStore, RejectionTally, Sns,
};
use hookrelay_embedded::{MemoryQueue, MemoryStore};
use hookrelay_models::{Config, DestinationId, Event, EventId};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::moto::{self, sdk_config_for};

/// What a contract test needs from a backend besides the use case: a look
/// inside, and a way to make the queue unreachable.
#[async_trait]
pub trait Backend: Send + Sync {
    fn ingest(&self) -> &Ingest;
    fn event_store(&self) -> &dyn EventStore;
    async fn event_count(&self) -> usize;
    async fn dedupe_count(&self) -> usize;
    async fn event(&self, id: &EventId) -> Option<Event>;
    /// Every message queued so far (each call returns all, not only new).
    async fn messages(&self) -> Vec<QueueMessage>;
    fn set_queue_reachable(&self, reachable: bool);
    /// Does what the dispatcher does first with an event: claims a
    /// delivery of it.
    async fn begin_dispatch(&self, id: &EventId);
}

/// What `begin_dispatch` does, on either store.
async fn claim_first_delivery(store: &dyn DeliveryStore, id: &EventId) {
    let now = id.timestamp();
    let claim = store
        .claim(
            id,
            &DestinationId::parse("first").unwrap(),
            now,
            now.saturating_add(Duration::from_secs(30)),
        )
        .await
        .expect("claim a delivery");
    assert!(matches!(claim, Claim::Claimed(_)), "{claim:?}");
}

pub struct EmbeddedBackend {
    pub store: Arc<MemoryStore>,
    pub queue: Arc<MemoryQueue>,
    seen: std::sync::Mutex<Vec<QueueMessage>>,
    ingest: Ingest,
}

impl EmbeddedBackend {
    pub fn new(config: Config, clock: Arc<dyn Clock>, settings: IngestSettings) -> Self {
        let store = Arc::new(MemoryStore::new(config));
        let queue = Arc::new(MemoryQueue::new(clock.clone()));
        let ingest = Ingest::new(store.clone(), store.clone(), queue.clone(), clock, settings);
        EmbeddedBackend {
            store,
            queue,
            seen: std::sync::Mutex::new(Vec::new()),
            ingest,
        }
    }

    /// SNS sources verified through `sns` (see `crate::sns_stand_in`).
    pub fn with_sns(self, sns: Sns) -> Self {
        let ingest = self.ingest.with_sns(sns);
        EmbeddedBackend { ingest, ..self }
    }

    /// Rejections counted in the store, as `hookrelay dev` counts them.
    pub fn with_rejections(self) -> Self {
        let tally = Arc::new(RejectionTally::new(self.store.clone()));
        let ingest = self.ingest.with_rejections(tally);
        EmbeddedBackend { ingest, ..self }
    }

    pub fn rejection_store(&self) -> Arc<dyn RejectionStore> {
        self.store.clone()
    }
}

#[async_trait]
impl Backend for EmbeddedBackend {
    fn ingest(&self) -> &Ingest {
        &self.ingest
    }
    fn event_store(&self) -> &dyn EventStore {
        self.store.as_ref()
    }
    async fn event_count(&self) -> usize {
        self.store.event_count()
    }
    async fn dedupe_count(&self) -> usize {
        self.store.dedupe_count()
    }
    async fn event(&self, id: &EventId) -> Option<Event> {
        self.store.event(id).await.unwrap()
    }
    async fn messages(&self) -> Vec<QueueMessage> {
        let mut seen = self.seen.lock().unwrap();
        seen.extend(self.queue.take_ready(usize::MAX));
        seen.clone()
    }
    fn set_queue_reachable(&self, reachable: bool) {
        self.queue.set_unavailable(!reachable);
    }
    async fn begin_dispatch(&self, id: &EventId) {
        claim_first_delivery(self.store.as_ref(), id).await;
    }
}

/// An SQS queue that can be switched to an endpoint where nothing listens:
/// both sides are real SDK clients, so "unreachable" is a real connection
/// failure, not a stubbed error.
pub struct SwitchableQueue {
    live: SqsQueue,
    dead: SqsQueue,
    broken: AtomicBool,
}

#[async_trait]
impl Queue for SwitchableQueue {
    async fn enqueue(&self, message: &QueueMessage, delay: Duration) -> Result<(), CoreError> {
        if self.broken.load(Ordering::SeqCst) {
            self.dead.enqueue(message, delay).await
        } else {
            self.live.enqueue(message, delay).await
        }
    }
}

pub struct AwsBackend {
    pub dynamo: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub events_table: String,
    pub config_table: String,
    pub queue_url: String,
    pub config: DynamoConfigStore,
    pub events: DynamoEventStore,
    queue: Arc<SwitchableQueue>,
    ingest: Ingest,
}

/// An address where nothing listens: port 9 (discard) on loopback.
const DEAD_ENDPOINT: &str = "http://127.0.0.1:9";

impl AwsBackend {
    /// Fresh tables and queue on the shared moto server, seeded with
    /// `config`.
    pub async fn new(config: Config, clock: Arc<dyn Clock>, settings: IngestSettings) -> Self {
        let (provisioned, dynamo, sqs) = moto::Provisioned::on_shared_with_clients().await;
        let moto::Provisioned {
            events_table,
            config_table,
            queue_url,
            body_bucket,
        } = provisioned;
        let config_store = DynamoConfigStore::new(dynamo.clone(), &config_table);
        config_store
            .replace_config(&config)
            .await
            .expect("seed config");
        let events = DynamoEventStore::new(dynamo.clone(), &events_table)
            .with_clock(clock.clone())
            .with_body_bucket(
                hookrelay_aws::BodyBucket::new(
                    hookrelay_aws::s3_client(&moto::shared().sdk_config()),
                    &body_bucket,
                ),
                hookrelay_aws::DEFAULT_INLINE_BODY_BYTES,
            );
        let dead_sqs = aws_sdk_sqs::Client::new(&sdk_config_for(DEAD_ENDPOINT));
        let queue = Arc::new(SwitchableQueue {
            live: SqsQueue::new(sqs.clone(), &queue_url),
            dead: SqsQueue::new(dead_sqs, &queue_url),
            broken: AtomicBool::new(false),
        });
        let config_port: Arc<dyn ConfigStore> = Arc::new(config_store.clone());
        let ingest = Ingest::new(
            config_port,
            Arc::new(events.clone()),
            queue.clone(),
            clock,
            settings,
        );
        AwsBackend {
            dynamo,
            sqs,
            events_table,
            config_table,
            queue_url,
            config: config_store,
            events,
            queue,
            ingest,
        }
    }

    /// SNS sources verified through `sns` (see `crate::sns_stand_in`).
    pub fn with_sns(self, sns: Sns) -> Self {
        let ingest = self.ingest.with_sns(sns);
        AwsBackend { ingest, ..self }
    }

    /// Rejections counted in the events table, as the receiver Lambda
    /// counts them.
    pub fn with_rejections(self) -> Self {
        let tally = Arc::new(RejectionTally::new(self.rejection_store()));
        let ingest = self.ingest.with_rejections(tally);
        AwsBackend { ingest, ..self }
    }

    pub fn rejection_store(&self) -> Arc<dyn RejectionStore> {
        Arc::new(hookrelay_aws::DynamoRejectionStore::new(
            self.dynamo.clone(),
            &self.events_table,
        ))
    }

    async fn count_with_sk(&self, sk: &str) -> usize {
        let mut total = 0;
        let mut start = None;
        loop {
            let page = self
                .dynamo
                .scan()
                .table_name(&self.events_table)
                .filter_expression("sk = :sk")
                .expression_attribute_values(":sk", AttributeValue::S(sk.into()))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .expect("scan events table");
            total += page.items().len();
            match page.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => return total,
            }
        }
    }
}

#[async_trait]
impl Backend for AwsBackend {
    fn ingest(&self) -> &Ingest {
        &self.ingest
    }
    fn event_store(&self) -> &dyn EventStore {
        &self.events
    }
    async fn event_count(&self) -> usize {
        self.count_with_sk("EVENT").await
    }
    async fn dedupe_count(&self) -> usize {
        self.count_with_sk("DEDUPE").await
    }
    async fn event(&self, id: &EventId) -> Option<Event> {
        self.events.event(id).await.unwrap()
    }
    /// Receives everything with a long visibility timeout (so repeated
    /// calls see nothing twice from SQS) and remembers it.
    async fn messages(&self) -> Vec<QueueMessage> {
        static SEEN: std::sync::Mutex<Vec<(String, QueueMessage)>> =
            std::sync::Mutex::new(Vec::new());
        loop {
            let received = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .visibility_timeout(600)
                .wait_time_seconds(0)
                .send()
                .await
                .expect("receive from queue");
            let batch = received.messages();
            if batch.is_empty() {
                break;
            }
            let mut seen = SEEN.lock().unwrap();
            for message in batch {
                let parsed: QueueMessage = serde_json::from_str(message.body().unwrap_or_default())
                    .expect("queue message JSON");
                seen.push((self.queue_url.clone(), parsed));
            }
        }
        SEEN.lock()
            .unwrap()
            .iter()
            .filter(|(url, _)| url == &self.queue_url)
            .map(|(_, m)| m.clone())
            .collect()
    }
    fn set_queue_reachable(&self, reachable: bool) {
        self.queue.broken.store(!reachable, Ordering::SeqCst);
    }
    async fn begin_dispatch(&self, id: &EventId) {
        let store = DynamoDeliveryStore::new(self.dynamo.clone(), &self.events_table);
        claim_first_delivery(&store, id).await;
    }
}
