//! A whole relay for tests — ingest, queue, dispatch — on the embedded
//! adapters or on DynamoDB + SQS (moto), with the bridge that feeds queued
//! messages to the dispatcher's Lambda handler the way the SQS event source
//! does (batches of up to 10, partial batch failures put back).
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use hookrelay_aws::{
    provision, DynamoConfigStore, DynamoDeliveryStore, DynamoEventStore, SqsQueue,
};
use hookrelay_core::{
    Clock, ConfigStore, DeliveryStore, Dispatch, DispatchSettings, EventStore, Ingest,
    IngestSettings, Queue, QueueMessage, Sender,
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

pub struct Relay {
    pub ingest: Ingest,
    pub dispatch: Arc<Dispatch>,
    pub config: Arc<dyn ConfigStore>,
    pub events: Arc<dyn EventStore>,
    pub deliveries: Arc<dyn DeliveryStore>,
    pub queue: Arc<dyn Queue>,
    pub clock: Arc<ManualClock>,
    transport: Transport,
}

/// Dispatch settings for tests: no jitter, so schedules are exact.
pub fn test_dispatch_settings() -> DispatchSettings {
    DispatchSettings {
        jitter: false,
        ..DispatchSettings::default()
    }
}

fn sender(config: &Config) -> Arc<dyn Sender> {
    Arc::new(HttpSender::new(config.allow_private_destinations).expect("http client"))
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
        let clock_port: Arc<dyn Clock> = clock.clone();
        let sender = sender(&config);
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
                store.clone(),
                store.clone(),
                store.clone(),
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
            deliveries: store,
            queue: queue.clone(),
            clock,
            transport: Transport::Embedded(queue),
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
        let clock_port: Arc<dyn Clock> = clock.clone();
        let sender = sender(&config);
        let sdk = moto::shared().sdk_config();
        let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
        let sqs = aws_sdk_sqs::Client::new(&sdk);
        let events_table = moto::unique_name("events");
        let config_table = moto::unique_name("config");
        provision::create_events_table(&dynamo, &events_table)
            .await
            .unwrap();
        provision::create_config_table(&dynamo, &config_table)
            .await
            .unwrap();
        let url = provision::create_queue(&sqs, &moto::unique_name("queue"))
            .await
            .unwrap();
        let dynamo_config = DynamoConfigStore::new(dynamo.clone(), &config_table);
        dynamo_config.replace_config(&config).await.unwrap();
        // As in the Lambdas: a warm function caches its configuration.
        let config_store = Arc::new(hookrelay_core::CachedConfigStore::new(
            Arc::new(dynamo_config),
            clock_port.clone(),
            Duration::from_secs(30),
        ));
        let events = Arc::new(DynamoEventStore::new(dynamo.clone(), &events_table));
        let deliveries = Arc::new(DynamoDeliveryStore::new(dynamo, &events_table));
        let queue = Arc::new(SqsQueue::new(sqs.clone(), &url));
        let ingest = Ingest::new(
            config_store.clone(),
            events.clone(),
            queue.clone(),
            clock_port.clone(),
            IngestSettings::default(),
        );
        let dispatch = Arc::new(Dispatch::new(
            config_store.clone(),
            events.clone(),
            deliveries.clone(),
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
            deliveries,
            queue,
            clock,
            transport: Transport::Sqs { client: sqs, url },
        }
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
        use hookrelay_core::{InboundHook, IngestOutcome};
        use hookrelay_signing::{sign_as_provider, HeaderPairs, ProviderMessage, Scheme, Secret};
        let message = ProviderMessage {
            body,
            timestamp: 0,
            id: "",
            url: None,
        };
        let mut headers = sign_as_provider(&Scheme::Github, &Secret::new(secret), &message)
            .expect("sign as GitHub");
        headers.extend(extra.iter().map(|(n, v)| (n.to_string(), v.to_string())));
        let pairs = HeaderPairs(&headers);
        let hook = InboundHook {
            source_id: source,
            headers: &pairs,
            header_pairs: headers.clone(),
            body,
            public_url: None,
        };
        match self.ingest.ingest(hook).await.expect("ingest") {
            IngestOutcome::Accepted { id } => id,
            other => panic!("not accepted: {other:?}"),
        }
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
        let count = records.len();
        let mut event = SqsEvent::default();
        event.records = records.clone();
        let response = handle_batch(&self.dispatch, event).await;
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
    pub async fn drain(&self) -> usize {
        let mut handled = 0;
        for _ in 0..200 {
            let batch = self.receive_batch().await;
            if batch.is_empty() {
                return handled;
            }
            handled += self.run_batch(batch).await;
        }
        panic!("queue did not drain after 200 batches");
    }
}
