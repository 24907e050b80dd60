//! Creates the tables and queue hookrelay needs, as `infra/template.yaml`
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
