//! Settings read once per cold start from the environment.
use aws_config::timeout::TimeoutConfig;
use aws_config::BehaviorVersion;
use std::time::Duration;

use crate::error::AwsError;
use crate::index::IndexShards;
use crate::shard_count::ShardCount;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsSettings {
    pub events_table: String,
    pub config_table: String,
    pub queue_url: String,
    /// How long events, their deliveries and attempts are kept.
    pub retention: Duration,
    /// How many shards each source's and destination's index partitions
    /// are spread over (`HOOKRELAY_INDEX_SHARDS`). Listings query at least
    /// as many as the config table records (the highest any writer used).
    pub index_shards: IndexShards,
    /// The S3 bucket large bodies are kept in (`HOOKRELAY_BODY_BUCKET`);
    /// without one, an event must fit its DynamoDB item.
    pub body_bucket: Option<String>,
    /// Packed events larger than this keep their body in the bucket
    /// (`HOOKRELAY_INLINE_BODY_BYTES`).
    pub inline_body_bytes: usize,
}

impl AwsSettings {
    /// `HOOKRELAY_EVENTS_TABLE`, `HOOKRELAY_CONFIG_TABLE`,
    /// `HOOKRELAY_QUEUE_URL`, `HOOKRELAY_RETENTION_DAYS` (default 30),
    /// `HOOKRELAY_INDEX_SHARDS` (default 32), `HOOKRELAY_BODY_BUCKET`
    /// (optional), `HOOKRELAY_INLINE_BODY_BYTES` (default 8192).
    pub fn from_env() -> Result<Self, AwsError> {
        let var = |name: &'static str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty())
                .ok_or(AwsError::MissingEnv(name))
        };
        Ok(AwsSettings {
            events_table: var("HOOKRELAY_EVENTS_TABLE")?,
            config_table: var("HOOKRELAY_CONFIG_TABLE")?,
            queue_url: var("HOOKRELAY_QUEUE_URL")?,
            retention: match std::env::var("HOOKRELAY_RETENTION_DAYS") {
                Ok(days) if !days.is_empty() => Duration::from_secs(
                    days.parse::<u64>()
                        .map_err(|_| AwsError::BadEnv("HOOKRELAY_RETENTION_DAYS", days))?
                        .saturating_mul(86_400),
                ),
                _ => crate::delivery_store::DEFAULT_RETENTION,
            },
            index_shards: IndexShards::from_env()?,
            body_bucket: std::env::var("HOOKRELAY_BODY_BUCKET")
                .ok()
                .filter(|v| !v.is_empty()),
            inline_body_bytes: match std::env::var("HOOKRELAY_INLINE_BODY_BYTES") {
                Ok(bytes) if !bytes.is_empty() => bytes
                    .parse()
                    .map_err(|_| AwsError::BadEnv("HOOKRELAY_INLINE_BODY_BYTES", bytes))?,
                _ => crate::DEFAULT_INLINE_BODY_BYTES,
            },
        })
    }
}

/// The SDK configuration from the environment (region, credentials,
/// `AWS_ENDPOINT_URL` for moto or LocalStack), with timeouts short enough
/// that an unreachable store turns into a 503 well inside API Gateway's
/// 30 s limit.
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(2))
                .operation_attempt_timeout(Duration::from_secs(5))
                .operation_timeout(Duration::from_secs(12))
                .build(),
        )
        .load()
        .await
}

/// The adapters a Lambda needs, built once per cold start.
pub struct Adapters {
    pub config: crate::DynamoConfigStore,
    pub events: crate::DynamoEventStore,
    pub deliveries: crate::DynamoDeliveryStore,
    pub queue: crate::SqsQueue,
    pub rejections: crate::DynamoRejectionStore,
    /// The index shard count both stores write with (recorded in the
    /// config table before their first index entry) and list with (the
    /// highest recorded).
    pub shards: ShardCount,
    /// The body bucket, if there is one (`HOOKRELAY_BODY_BUCKET`): where
    /// the dispatcher points to bodies too large for an AWS target.
    pub body_bucket: Option<crate::BodyBucket>,
}

impl Adapters {
    pub fn new(sdk: &aws_config::SdkConfig, settings: &AwsSettings) -> Self {
        let dynamo = aws_sdk_dynamodb::Client::new(sdk);
        let sqs = aws_sdk_sqs::Client::new(sdk);
        // One for both stores: the count is recorded once per process.
        let shards = ShardCount::recorded_in(
            settings.index_shards,
            dynamo.clone(),
            &settings.config_table,
        );
        let body_bucket = settings
            .body_bucket
            .as_ref()
            .map(|bucket| crate::BodyBucket::new(crate::s3_client(sdk), bucket));
        Adapters {
            config: crate::DynamoConfigStore::new(dynamo.clone(), &settings.config_table),
            rejections: crate::DynamoRejectionStore::new(dynamo.clone(), &settings.events_table),
            events: {
                let events = crate::DynamoEventStore::new(dynamo.clone(), &settings.events_table)
                    .with_shard_count(shards.clone());
                match &body_bucket {
                    Some(bucket) => {
                        events.with_body_bucket(bucket.clone(), settings.inline_body_bytes)
                    }
                    None => events,
                }
            },
            deliveries: crate::DynamoDeliveryStore::new(dynamo, &settings.events_table)
                .with_retention(settings.retention)
                .with_shard_count(shards.clone()),
            queue: crate::SqsQueue::new(sqs, &settings.queue_url),
            shards,
            body_bucket,
        }
    }

    /// Reads [`AwsSettings`] and the SDK configuration from the
    /// environment, and records the index shard count in the config table
    /// (a Lambda's cold start: one UpdateItem per instance, none per
    /// request).
    pub async fn from_env() -> Result<Self, AwsError> {
        let settings = AwsSettings::from_env()?;
        let adapters = Self::new(&sdk_config().await, &settings);
        if let Err(err) = adapters.shards.record().await {
            // Not fatal here: the first index write records it, or fails
            // (and is retried) if it still cannot.
            tracing::warn!(error = %err, "could not record the index shard count yet");
        }
        Ok(adapters)
    }
}

/// JSON logs for a Lambda: one line per event, no timestamps (CloudWatch
/// adds them), filtered by `HOOKRELAY_LOG` (default `info`). No span list:
/// it repeated the runtime's request and trace ids on every line (about
/// 170 bytes, billed per GB ingested), and an invocation's lines already
/// sit between its START and END lines in its log stream.
pub fn init_lambda_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("HOOKRELAY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_target(false)
        .without_time()
        .with_current_span(false)
        .with_span_list(false)
        .try_init();
}
