//! Creates the tables, queue and bucket hookrelay needs, as `infra/template.yaml`
//! declares them. For the local stack on moto and for tests; deployments
//! use the SAM template.
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};

use crate::error::{call_error, AwsError};

fn key(name: &str, key_type: KeyType) -> Result<KeySchemaElement, AwsError> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .map_err(|e| call_error("dynamodb", e))
}

fn string_attribute(name: &str) -> Result<AttributeDefinition, AwsError> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(|e| call_error("dynamodb", e))
}

/// The events table: `pk`/`sk`, indexes `gsi1` and `gsi2`, on-demand
/// billing.
pub async fn create_events_table(
    client: &aws_sdk_dynamodb::Client,
    name: &str,
) -> Result<(), AwsError> {
    let gsi1 = GlobalSecondaryIndex::builder()
        .index_name("gsi1")
        .key_schema(key("gsi1pk", KeyType::Hash)?)
        .key_schema(key("gsi1sk", KeyType::Range)?)
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::KeysOnly)
                .build(),
        )
        .build()
        .map_err(|e| call_error("dynamodb", e))?;
    let gsi2 = GlobalSecondaryIndex::builder()
        .index_name("gsi2")
        .key_schema(key("gsi2pk", KeyType::Hash)?)
        .key_schema(key("gsi2sk", KeyType::Range)?)
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .build()
        .map_err(|e| call_error("dynamodb", e))?;
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("pk", KeyType::Hash)?)
        .key_schema(key("sk", KeyType::Range)?)
        .attribute_definitions(string_attribute("pk")?)
        .attribute_definitions(string_attribute("sk")?)
        .attribute_definitions(string_attribute("gsi1pk")?)
        .attribute_definitions(string_attribute("gsi1sk")?)
        .attribute_definitions(string_attribute("gsi2pk")?)
        .attribute_definitions(string_attribute("gsi2sk")?)
        .global_secondary_indexes(gsi1)
        .global_secondary_indexes(gsi2)
        .send()
        .await
        .map_err(|e| call_error("dynamodb", e))?;
    Ok(())
}

/// The config table: `pk`/`sk`, on-demand billing.
pub async fn create_config_table(
    client: &aws_sdk_dynamodb::Client,
    name: &str,
) -> Result<(), AwsError> {
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("pk", KeyType::Hash)?)
        .key_schema(key("sk", KeyType::Range)?)
        .attribute_definitions(string_attribute("pk")?)
        .attribute_definitions(string_attribute("sk")?)
        .send()
        .await
        .map_err(|e| call_error("dynamodb", e))?;
    Ok(())
}

/// A standard queue; returns its URL.
pub async fn create_queue(client: &aws_sdk_sqs::Client, name: &str) -> Result<String, AwsError> {
    let created = client
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .map_err(|e| call_error("sqs", e))?;
    created.queue_url.ok_or_else(|| AwsError::Call {
        service: "sqs",
        detail: "create_queue returned no URL".into(),
    })
}

/// The bucket large bodies are kept in: encrypted by default (SSE-S3),
/// and its `bodies/` objects expire after `retention_days`, with their
/// events. In us-east-1 (the local stack's region) or the SDK's region.
pub async fn create_body_bucket(
    client: &aws_sdk_s3::Client,
    name: &str,
    retention_days: i32,
) -> Result<(), AwsError> {
    use aws_sdk_s3::types::{
        BucketLifecycleConfiguration, BucketLocationConstraint, CreateBucketConfiguration,
        ExpirationStatus, LifecycleExpiration, LifecycleRule, LifecycleRuleFilter,
        ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
        ServerSideEncryptionRule,
    };
    let s3 = |e: aws_sdk_s3::error::BuildError| call_error("s3", e);
    let mut create = client.create_bucket().bucket(name);
    if let Some(region) = client.config().region().map(|r| r.as_ref().to_string()) {
        if region != "us-east-1" {
            create = create.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(region.as_str()))
                    .build(),
            );
        }
    }
    create.send().await.map_err(|e| call_error("s3", e))?;
    client
        .put_bucket_encryption()
        .bucket(name)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(
                    ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(
                            ServerSideEncryptionByDefault::builder()
                                .sse_algorithm(ServerSideEncryption::Aes256)
                                .build()
                                .map_err(s3)?,
                        )
                        .build(),
                )
                .build()
                .map_err(s3)?,
        )
        .send()
        .await
        .map_err(|e| call_error("s3", e))?;
    let rule = LifecycleRule::builder()
        .id("bodies-expire-with-their-events")
        .filter(LifecycleRuleFilter::builder().prefix("bodies/").build())
        .expiration(LifecycleExpiration::builder().days(retention_days).build())
        .status(ExpirationStatus::Enabled)
        .build()
        .map_err(s3)?;
    client
        .put_bucket_lifecycle_configuration()
        .bucket(name)
        .lifecycle_configuration(
            BucketLifecycleConfiguration::builder()
                .rules(rule)
                .build()
                .map_err(s3)?,
        )
        .send()
        .await
        .map_err(|e| call_error("s3", e))?;
    Ok(())
}
