//! A whole relay for tests — ingest, queue, dispatch — on the embedded
//! adapters or on DynamoDB + SQS (moto), with the bridge that feeds queued
//! messages to the dispatcher's Lambda handler the way the SQS event source
//! does (batches of up to 10, partial batch failures put back).
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use hookrelay_aws::{
    s3_client, AwsSettings, AwsTargetSender, BodyBucket, BodyLinks, DynamoConfigStore,
    DynamoDeliveryStore, DynamoEventStore, IndexShards, ShardCount, SqsQueue,
    DEFAULT_INLINE_BODY_BYTES, DEFAULT_RETENTION,
};
use hookrelay_core::{
    Clock, ConfigStore, ConfigWriter, DeliveryStore, DestinationHealth, DestinationPace, Dispatch,
    DispatchSettings, EventStore, Ingest, IngestSettings, Queue, QueueMessage, Sender, Stores,
};
use hookrelay_dispatcher::handle_batch;
use hookrelay_embedded::{MemoryQueue, MemoryStore};
use hookrelay_http::HttpSender;
use hookrelay_models::Config;
use std::sync::Arc;
use std::time::Duration;

use crate::moto;
use crate::ManualClock;

enum Transport {
    Embedded(Arc<MemoryQueue>),
    Sqs {
        client: aws_sdk_sqs::Client,
        url: String,
    },
}

/// The event items behind a relay's event store.
enum EventItems {
    Memory(Arc<MemoryStore>),
    Dynamo {
        client: aws_sdk_dynamodb::Client,
        table: String,
    },
}

pub struct Relay {
    pub ingest: Ingest,
    pub dispatch: Arc<Dispatch>,
    pub config: Arc<dyn ConfigStore>,
    pub events: Arc<dyn EventStore>,
    pub deliveries: Arc<dyn DeliveryStore>,
    pub health: Arc<dyn DestinationHealth>,
    pub pace: Arc<dyn DestinationPace>,
    pub queue: Arc<dyn Queue>,
    /// Writes to the configuration, as the admin use case makes them.
    pub writer: Arc<dyn ConfigWriter>,
    /// The configuration as stored, past any cache (what the admin use
    /// case reads).
    pub stored_config: Arc<dyn ConfigStore>,
    pub clock: Arc<ManualClock>,
    transport: Transport,
    /// Where event items are, for [`Relay::expire_event`].
    event_items: EventItems,
    /// On moto: the events table, the config table and the queue URL.
    /// Events table, config table, queue URL, body bucket.
    aws_names: Option<(String, String, String, String)>,
}

/// Dispatch settings for tests: no jitter, so schedules are exact.
pub fn test_dispatch_settings() -> DispatchSettings {
    DispatchSettings {
        jitter: false,
        ..DispatchSettings::default()
    }
}

/// `links`: where bodies too large for an AWS target are kept for their
/// pointer (the relay's body bucket on moto).
fn sender(config: &Config, links: Option<Arc<dyn BodyLinks>>) -> Arc<dyn Sender> {
    let http = Arc::new(HttpSender::new(config.allow_private_destinations).expect("http client"));
    // AWS destinations are delivered to on the shared moto (and functions
    // on the shared watch), started only for a configuration with one.
    let sdk = || crate::lambda_watch::sdk_config_for(config);
    let aws = config
        .destinations
        .iter()
        .any(|d| !d.kind.is_http())
        .then(|| {
            let aws = AwsTargetSender::new(sdk());
            Arc::new(match links {
                Some(links) => aws.with_body_links(links),
                None => aws,
            }) as Arc<dyn Sender>
        });
    Arc::new(hookrelay_core::dispatch::SenderByTarget::new(http, aws))
}

impl Relay {
    pub fn embedded(config: Config, clock: Arc<ManualClock>) -> Relay {
        Self::embedded_with_metrics(config, clock, Arc::new(hookrelay_core::NoMetrics))
    }

    pub fn embedded_with_metrics(
        config: Config,
        clock: Arc<ManualClock>,
        metrics: Arc<dyn hookrelay_core::Metrics>,
    ) -> Relay {
        Self::embedded_with(config, clock, metrics, test_dispatch_settings())
    }

    pub fn embedded_with(
        config: Config,
        clock: Arc<ManualClock>,
        metrics: Arc<dyn hookrelay_core::Metrics>,
        settings: DispatchSettings,
    ) -> Relay {
        Self::embedded_on(config, clock, metrics, settings, None)
    }

    /// In memory, with bodies too large for an AWS target pointed to in
    /// `links` (a bucket on moto: the memory store keeps every body
    /// itself, so each goes to the bucket first).
    pub fn embedded_with_body_links(
        config: Config,
        clock: Arc<ManualClock>,
        links: Arc<dyn BodyLinks>,
    ) -> Relay {
        Self::embedded_on(
            config,
            clock,
            Arc::new(hookrelay_core::NoMetrics),
            test_dispatch_settings(),
            Some(links),
        )
    }

    fn embedded_on(
        config: Config,
        clock: Arc<ManualClock>,
        metrics: Arc<dyn hookrelay_core::Metrics>,
        settings: DispatchSettings,
        links: Option<Arc<dyn BodyLinks>>,
    ) -> Relay {
        let sender = sender(&config, links);
        Self::embedded_sending(config, clock, metrics, settings, sender)
    }

    /// In memory, delivering through `sender` (an HTTP sender with its own
    /// authenticator, say).
    pub fn embedded_with_sender(
        config: Config,
        clock: Arc<ManualClock>,
        sender: Arc<dyn Sender>,
    ) -> Relay {
        Self::embedded_sending(
            config,
            clock,
            Arc::new(hookrelay_core::NoMetrics),
            test_dispatch_settings(),
            sender,
        )
    }

    fn embedded_sending(
        config: Config,
        clock: Arc<ManualClock>,
        metrics: Arc<dyn hookrelay_core::Metrics>,
        settings: DispatchSettings,
        sender: Arc<dyn Sender>,
    ) -> Relay {
        let clock_port: Arc<dyn Clock> = clock.clone();
        let store = Arc::new(MemoryStore::new(config));
        let queue = Arc::new(MemoryQueue::new(clock_port.clone()));
        let ingest = Ingest::new(
            store.clone(),
            store.clone(),
            queue.clone(),
            clock_port.clone(),
            IngestSettings::default(),
        )
        .with_metrics(metrics.clone());
        let dispatch = Arc::new(
            Dispatch::new(
                Stores::all_in(store.clone()),
                queue.clone(),
                sender,
                clock_port,
                settings,
            )
            .with_metrics(metrics),
        );
        Relay {
            ingest,
            dispatch,
            config: store.clone(),
            events: store.clone(),
            writer: store.clone(),
            stored_config: store.clone(),
            health: store.clone(),
            pace: store.clone(),
            deliveries: store.clone(),
            queue: queue.clone(),
            clock,
            transport: Transport::Embedded(queue),
            event_items: EventItems::Memory(store),
            aws_names: None,
        }
    }

    pub async fn aws(config: Config, clock: Arc<ManualClock>) -> Relay {
        Self::aws_with(config, clock, test_dispatch_settings()).await
    }

    pub async fn aws_with(
        config: Config,
        clock: Arc<ManualClock>,
        settings: DispatchSettings,
    ) -> Relay {
        let endpoint = &moto::shared().endpoint;
        Self::aws_at(config, clock, settings, endpoint, endpoint, endpoint).await
    }

    /// On moto, reaching DynamoDB, SQS and S3 at the given endpoints (e.g.
    /// through a [`crate::proxy::CuttableProxy`] each).
    pub async fn aws_at(
        config: Config,
        clock: Arc<ManualClock>,
        settings: DispatchSettings,
        dynamodb_endpoint: &str,
        sqs_endpoint: &str,
        s3_endpoint: &str,
    ) -> Relay {
        Self::aws_sharded(
            config,
            clock,
            settings,
            [dynamodb_endpoint, sqs_endpoint, s3_endpoint],
            IndexShards::DEFAULT,
        )
        .await
    }

    /// As [`Relay::aws_at`] (endpoints for DynamoDB, SQS and S3), with the
    /// indexes spread over `shards` (recorded in the config table, as the
    /// Lambdas record theirs).
    pub async fn aws_sharded(
        config: Config,
        clock: Arc<ManualClock>,
        settings: DispatchSettings,
        [dynamodb_endpoint, sqs_endpoint, s3_endpoint]: [&str; 3],
        shards: IndexShards,
    ) -> Relay {
        let dynamo = aws_sdk_dynamodb::Client::new(&moto::sdk_config_for(dynamodb_endpoint));
        let sqs = aws_sdk_sqs::Client::new(&moto::sdk_config_for(sqs_endpoint));
        let s3 = s3_client(&moto::sdk_config_for(s3_endpoint));
        let provisioned = moto::Provisioned::create(&dynamo, &sqs, &s3).await;
        DynamoConfigStore::new(dynamo.clone(), &provisioned.config_table)
            .replace_config(&config)
            .await
            .unwrap();
        Self::aws_on(
            config,
            clock,
            settings,
            (dynamo, sqs, s3),
            provisioned,
            shards,
        )
    }

    /// Another relay on this one's tables, queue and clock (on the shared
    /// server), writing with `shards`: the stack redeployed with another
    /// `IndexShards`. `config` only sets what its sender may reach; the
    /// stored configuration is left as it is.
    pub fn aws_beside(
        &self,
        config: &Config,
        settings: DispatchSettings,
        shards: IndexShards,
    ) -> Relay {
        let (events_table, config_table, queue_url, body_bucket) =
            self.aws_names.clone().expect("an AWS relay (Relay::aws)");
        let sdk = moto::shared().sdk_config();
        Self::aws_on(
            config.clone(),
            self.clock.clone(),
            settings,
            (
                aws_sdk_dynamodb::Client::new(&sdk),
                aws_sdk_sqs::Client::new(&sdk),
                s3_client(&sdk),
            ),
            moto::Provisioned {
                events_table,
                config_table,
                queue_url,
                body_bucket,
            },
            shards,
        )
    }

    /// The settings a Lambda, the admin CLI (`--aws`) or the console would
    /// run with on this relay's tables and queue, with `shards` as their
    /// own count (`HOOKRELAY_INDEX_SHARDS`).
    pub fn aws_settings(&self, shards: IndexShards) -> AwsSettings {
        let (events_table, config_table, queue_url, body_bucket) =
            self.aws_names.clone().expect("an AWS relay (Relay::aws)");
        AwsSettings {
            events_table,
            config_table,
            queue_url,
            retention: DEFAULT_RETENTION,
            index_shards: shards,
            body_bucket: Some(body_bucket),
            inline_body_bytes: DEFAULT_INLINE_BODY_BYTES,
        }
    }

    fn aws_on(
        config: Config,
        clock: Arc<ManualClock>,
        settings: DispatchSettings,
        (dynamo, sqs, s3): (
            aws_sdk_dynamodb::Client,
            aws_sdk_sqs::Client,
            aws_sdk_s3::Client,
        ),
        provisioned: moto::Provisioned,
        shards: IndexShards,
    ) -> Relay {
        let clock_port: Arc<dyn Clock> = clock.clone();
        let moto::Provisioned {
            events_table,
            config_table,
            queue_url: url,
            body_bucket,
        } = provisioned;
        let bucket = BodyBucket::new(s3, &body_bucket);
        let sender = sender(&config, Some(Arc::new(bucket.clone())));
        let dynamo_config = DynamoConfigStore::new(dynamo.clone(), &config_table);
        let shards = ShardCount::recorded_in(shards, dynamo.clone(), &config_table);
        let writer = Arc::new(dynamo_config.clone());
        let stored_config: Arc<dyn ConfigStore> = writer.clone();
        // As in the Lambdas: a warm function caches its configuration.
        let config_store = Arc::new(hookrelay_core::CachedConfigStore::new(
            Arc::new(dynamo_config),
            clock_port.clone(),
            Duration::from_secs(30),
        ));
        let events = Arc::new(
            DynamoEventStore::new(dynamo.clone(), &events_table)
                .with_clock(clock_port.clone())
                .with_body_bucket(bucket, DEFAULT_INLINE_BODY_BYTES)
                .with_shard_count(shards.clone()),
        );
        let deliveries = Arc::new(
            DynamoDeliveryStore::new(dynamo.clone(), &events_table).with_shard_count(shards),
        );
        let queue = Arc::new(SqsQueue::new(sqs.clone(), &url));
        let ingest = Ingest::new(
            config_store.clone(),
            events.clone(),
            queue.clone(),
            clock_port.clone(),
            IngestSettings::default(),
        );
        let dispatch = Arc::new(Dispatch::new(
            Stores {
                config: config_store.clone(),
                events: events.clone(),
                deliveries: deliveries.clone(),
                health: deliveries.clone(),
                pace: deliveries.clone(),
            },
            queue.clone(),
            sender,
            clock_port,
            settings,
        ));
        Relay {
            ingest,
            dispatch,
            config: config_store,
            events,
            health: deliveries.clone(),
            pace: deliveries.clone(),
            deliveries,
            queue,
            clock,
            writer,
            stored_config,
            event_items: EventItems::Dynamo {
                client: dynamo,
                table: events_table.clone(),
            },
            aws_names: Some((events_table, config_table, url.clone(), body_bucket)),
            transport: Transport::Sqs { client: sqs, url },
        }
    }

    /// The events table of an AWS relay.
    pub fn events_table(&self) -> String {
        self.aws_names.clone().expect("an AWS relay (Relay::aws)").0
    }

    /// The body bucket of an AWS relay.
    pub fn body_bucket(&self) -> String {
        self.aws_names.clone().expect("an AWS relay (Relay::aws)").3
    }

    /// The environment a Lambda binary needs to work on this relay's
    /// tables and queue (on moto), and the queue's URL.
    pub fn aws_environment(&self) -> (Vec<(&'static str, String)>, String) {
        let (events, config, queue, bucket) =
            self.aws_names.clone().expect("an AWS relay (Relay::aws)");
        let env = vec![
            ("AWS_ENDPOINT_URL", moto::shared().endpoint.clone()),
            ("AWS_REGION", "us-east-1".to_string()),
            ("AWS_ACCESS_KEY_ID", "test".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "test".to_string()),
            ("HOOKRELAY_EVENTS_TABLE", events),
            ("HOOKRELAY_CONFIG_TABLE", config),
            ("HOOKRELAY_QUEUE_URL", queue.clone()),
            ("HOOKRELAY_BODY_BUCKET", bucket),
        ];
        (env, queue)
    }

    /// Ingests `body` as a GitHub delivery to `source` signed with
    /// `secret` (plus `extra` headers) and returns the accepted event's id.
    pub async fn accept_github(
        &self,
        source: &str,
        secret: &str,
        body: &[u8],
        extra: &[(&str, &str)],
    ) -> hookrelay_models::EventId {
        match self
            .try_accept_github(source, secret, body, extra)
            .await
            .expect("ingest")
        {
            hookrelay_core::IngestOutcome::Accepted { id } => id,
            other => panic!("not accepted: {other:?}"),
        }
    }

    /// Ingests `body` as a GitHub `push` to the source `github`, signed with
    /// `secret`, with `delivery` as its `X-GitHub-Delivery` and a JSON
    /// content type: the event most tests need one of.
    pub async fn push_github(
        &self,
        secret: &str,
        delivery: &str,
        body: &[u8],
    ) -> hookrelay_models::EventId {
        self.accept_github(
            "github",
            secret,
            body,
            &[
                ("X-GitHub-Event", "push"),
                ("X-GitHub-Delivery", delivery),
                ("Content-Type", "application/json"),
            ],
        )
        .await
    }

    /// Ingests as [`Self::accept_github`] does, and returns what came of it:
    /// what the provider's request would be answered.
    pub async fn try_accept_github(
        &self,
        source: &str,
        secret: &str,
        body: &[u8],
        extra: &[(&str, &str)],
    ) -> Result<hookrelay_core::IngestOutcome, hookrelay_core::CoreError> {
        let mut headers = crate::github_signature(secret, body);
        headers.extend(extra.iter().map(|(n, v)| (n.to_string(), v.to_string())));
        self.try_accept(source, headers, body).await
    }

    /// Ingests `body` with `headers` (signed however the source's scheme
    /// wants) and returns what came of it.
    pub async fn try_accept(
        &self,
        source: &str,
        headers: Vec<(String, String)>,
        body: &[u8],
    ) -> Result<hookrelay_core::IngestOutcome, hookrelay_core::CoreError> {
        use hookrelay_core::InboundHook;
        use hookrelay_signing::HeaderPairs;
        let pairs = HeaderPairs(&headers);
        let hook = InboundHook {
            source_id: source,
            headers: &pairs,
            header_pairs: headers.clone(),
            body,
            public_url: None,
            query: "",
        };
        self.ingest.ingest(hook).await
    }

    /// Takes up to 10 ready messages off the queue, as the event source
    /// would hand them to one invocation. They stay owed until [`Self::ack`]
    /// or [`Self::put_back`].
    pub async fn receive_batch(&self) -> Vec<SqsMessage> {
        match &self.transport {
            Transport::Embedded(queue) => queue
                .take_ready(10)
                .into_iter()
                .enumerate()
                .map(|(i, message)| {
                    let mut record = SqsMessage::default();
                    record.message_id = Some(format!("m{i}"));
                    record.body = Some(serde_json::to_string(&message).unwrap());
                    record
                })
                .collect(),
            Transport::Sqs { client, url } => {
                let received = client
                    .receive_message()
                    .queue_url(url)
                    .max_number_of_messages(10)
                    .visibility_timeout(30)
                    .wait_time_seconds(0)
                    .send()
                    .await
                    .expect("receive");
                received
                    .messages()
                    .iter()
                    .map(|m| {
                        let mut record = SqsMessage::default();
                        record.message_id = m.message_id().map(str::to_string);
                        record.receipt_handle = m.receipt_handle().map(str::to_string);
                        record.body = m.body().map(str::to_string);
                        record
                    })
                    .collect()
            }
        }
    }

    /// Makes the embedded queue refuse (or accept again) every enqueue.
    pub fn set_queue_unavailable(&self, unavailable: bool) {
        match &self.transport {
            Transport::Embedded(queue) => queue.set_unavailable(unavailable),
            Transport::Sqs { .. } => panic!("only the embedded queue can be switched off"),
        }
    }

    /// Deletes handled messages (SQS); nothing to do in memory.
    pub async fn ack(&self, records: &[SqsMessage]) {
        if let Transport::Sqs { client, url } = &self.transport {
            for record in records {
                client
                    .delete_message()
                    .queue_url(url)
                    .receipt_handle(record.receipt_handle.clone().unwrap_or_default())
                    .send()
                    .await
                    .expect("delete");
            }
        }
    }

    /// Makes messages visible again at once, as if their visibility timeout
    /// had run out (an invocation failed or died).
    pub async fn put_back(&self, records: &[SqsMessage]) {
        match &self.transport {
            Transport::Embedded(queue) => {
                for record in records {
                    let message: QueueMessage =
                        serde_json::from_str(record.body.as_deref().unwrap()).unwrap();
                    queue.enqueue(&message, Duration::ZERO).await.unwrap();
                }
            }
            Transport::Sqs { client, url } => {
                for record in records {
                    client
                        .change_message_visibility()
                        .queue_url(url)
                        .receipt_handle(record.receipt_handle.clone().unwrap_or_default())
                        .visibility_timeout(0)
                        .send()
                        .await
                        .expect("change visibility");
                }
            }
        }
    }

    /// Runs the dispatcher's Lambda handler on one batch; acks what it
    /// handled and puts back what it reported failed. Returns how many
    /// records the batch had.
    pub async fn run_batch(&self, records: Vec<SqsMessage>) -> usize {
        self.run_batch_with(&self.dispatch, records).await
    }

    /// As [`Self::run_batch`], on another dispatcher (a second warm
    /// Lambda on the same stores and queue).
    pub async fn run_batch_with(&self, dispatch: &Dispatch, records: Vec<SqsMessage>) -> usize {
        let count = records.len();
        let mut event = SqsEvent::default();
        event.records = records.clone();
        let response = handle_batch(dispatch, event).await;
        let failed: Vec<String> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone())
            .collect();
        let (retry, done): (Vec<_>, Vec<_>) = records
            .into_iter()
            .partition(|r| failed.contains(&r.message_id.clone().unwrap_or_default()));
        self.ack(&done).await;
        self.put_back(&retry).await;
        count
    }

    /// Feeds ready messages to the dispatcher until none are left (bounded).
    /// Takes an event's item away, as the retention (DynamoDB's TTL, the
    /// in-memory store's pruning) does once it has run out.
    pub async fn expire_event(&self, id: &hookrelay_models::EventId) {
        match &self.event_items {
            EventItems::Memory(store) => store.forget_event(id),
            EventItems::Dynamo { client, table } => {
                client
                    .delete_item()
                    .table_name(table)
                    .key(
                        "pk",
                        aws_sdk_dynamodb::types::AttributeValue::S(format!("EVT#{id}")),
                    )
                    .key(
                        "sk",
                        aws_sdk_dynamodb::types::AttributeValue::S("EVENT".into()),
                    )
                    .send()
                    .await
                    .expect("delete an event item");
            }
        }
    }

    pub async fn drain(&self) -> usize {
        self.drain_with(&self.dispatch).await
    }

    /// As [`Self::drain`], on another dispatcher.
    pub async fn drain_with(&self, dispatch: &Dispatch) -> usize {
        let mut handled = 0;
        for _ in 0..200 {
            let batch = self.receive_batch().await;
            if batch.is_empty() {
                return handled;
            }
            handled += self.run_batch_with(dispatch, batch).await;
        }
        panic!("queue did not drain after 200 batches");
    }

    /// The relay's stores, the configuration read through the dispatcher's
    /// cache.
    pub fn stores(&self) -> Stores {
        Stores {
            config: self.config.clone(),
            events: self.events.clone(),
            deliveries: self.deliveries.clone(),
            health: self.health.clone(),
            pace: self.pace.clone(),
        }
    }

    /// The admin use case on this relay's stores and queue, as the CLI
    /// runs it (`--aws`) or `hookrelay dev` serves it: destinations are
    /// checked for private addresses as they are in production.
    pub fn admin(&self) -> hookrelay_core::Admin {
        hookrelay_core::Admin::new(
            Stores {
                config: self.stored_config.clone(),
                ..self.stores()
            },
            self.writer.clone(),
            Some(self.queue.clone()),
            self.clock.clone(),
            Arc::new(hookrelay_http::PrivateAddressCheck),
        )
    }

    /// A second dispatcher on this relay's stores, queue and clock, as
    /// another warm Lambda would be: its own memory, the same truth.
    pub fn second_dispatcher(&self, settings: DispatchSettings) -> Dispatch {
        let clock: Arc<dyn Clock> = self.clock.clone();
        Dispatch::new(
            self.stores(),
            self.queue.clone(),
            Arc::new(HttpSender::new(true).expect("http client")),
            clock,
            settings,
        )
    }
}
