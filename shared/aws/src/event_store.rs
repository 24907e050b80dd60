//! Events and dedupe records in DynamoDB (layout in the crate docs).
use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use aws_sdk_dynamodb::Client;
use hookrelay_core::{CoreError, DedupeKey, EventStore, InsertOutcome};
use hookrelay_models::{Event, EventId, SourceId, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use crate::error::{call_error, AwsError};
use crate::index::gsi1_event_ids;

type Item = HashMap<String, AttributeValue>;

const EVENT_SK: &str = "EVENT";
const DEDUPE_SK: &str = "DEDUPE";

#[derive(Clone)]
pub struct DynamoEventStore {
    client: Client,
    table: String,
}

/// The event as stored: everything but the body, which is a binary
/// attribute of its own (JSON would inflate it by a third).
#[derive(Serialize, Deserialize)]
struct StoredEvent {
    id: EventId,
    source: hookrelay_models::SourceId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    event_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    provider_delivery_id: Option<String>,
    received_at: Timestamp,
    headers: Vec<(String, String)>,
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn event_pk(id: &EventId) -> String {
    format!("EVT#{id}")
}

fn dedupe_pk(key: &DedupeKey) -> String {
    format!("DEDUPE#{}#{}", key.source, key.provider_delivery_id)
}

fn event_item(event: &Event, expires_at: Timestamp) -> Item {
    let stored = StoredEvent {
        id: event.id.clone(),
        source: event.source.clone(),
        event_type: event.event_type.clone(),
        provider_delivery_id: event.provider_delivery_id.clone(),
        received_at: event.received_at,
        headers: event.headers.clone(),
    };
    HashMap::from([
        ("pk".into(), s(event_pk(&event.id))),
        ("sk".into(), s(EVENT_SK)),
        (
            "event".into(),
            s(serde_json::to_string(&stored).expect("events serialize")),
        ),
        (
            "body".into(),
            AttributeValue::B(Blob::new(event.body.clone())),
        ),
        ("source".into(), s(event.source.as_str())),
        ("received_at".into(), n(event.received_at.unix_millis())),
        ("gsi1pk".into(), s(format!("SRC#{}", event.source))),
        ("gsi1sk".into(), s(event.id.as_str())),
        ("expires_at".into(), n(expires_at.unix_secs())),
    ])
}

fn event_from(item: &Item) -> Result<Event, AwsError> {
    let json = item
        .get("event")
        .and_then(|v| v.as_s().ok())
        .ok_or_else(|| AwsError::Corrupt("event item without event".into()))?;
    let stored: StoredEvent =
        serde_json::from_str(json).map_err(|e| AwsError::Corrupt(format!("event item: {e}")))?;
    let body = item
        .get("body")
        .and_then(|v| v.as_b().ok())
        .map(|b| b.as_ref().to_vec())
        .unwrap_or_default();
    Ok(Event {
        id: stored.id,
        source: stored.source,
        event_type: stored.event_type,
        provider_delivery_id: stored.provider_delivery_id,
        received_at: stored.received_at,
        headers: stored.headers,
        body,
    })
}

fn is_condition_failure(err: &SdkError<TransactWriteItemsError>) -> bool {
    match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancel)) => {
            let reasons = cancel.cancellation_reasons();
            // Some servers omit the reasons; a cancelled transaction whose
            // only condition is the dedupe one is that condition failing.
            reasons.is_empty()
                || reasons
                    .iter()
                    .any(|r| r.code() == Some("ConditionalCheckFailed"))
        }
        _ => false,
    }
}

impl DynamoEventStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoEventStore {
            client,
            table: table.into(),
        }
    }

    async fn get(&self, pk: String, sk: &str) -> Result<Option<Item>, AwsError> {
        let found = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| call_error("dynamodb", e))?;
        Ok(found.item)
    }

    async fn delete(&self, pk: String, sk: &str, owner: Option<&EventId>) -> Result<(), AwsError> {
        let mut call = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk));
        if let Some(owner) = owner {
            call = call
                .condition_expression("event_id = :id")
                .expression_attribute_values(":id", s(owner.as_str()));
        }
        match call.send().await {
            Ok(_) => Ok(()),
            Err(err) if crate::error::is_condition_failed(&err) => Ok(()),
            Err(err) => Err(call_error("dynamodb", err)),
        }
    }

    async fn insert_deduplicated(
        &self,
        event: &Event,
        key: &DedupeKey,
        expires_at: Timestamp,
    ) -> Result<InsertOutcome, AwsError> {
        let dedupe_item: Item = HashMap::from([
            ("pk".into(), s(dedupe_pk(key))),
            ("sk".into(), s(DEDUPE_SK)),
            ("event_id".into(), s(event.id.as_str())),
            ("window_ends_at".into(), n(key.expires_at.unix_millis())),
            ("expires_at".into(), n(key.expires_at.unix_secs())),
            ("enqueued".into(), AttributeValue::Bool(false)),
        ]);
        let build = |put: aws_sdk_dynamodb::types::builders::PutBuilder| {
            put.build()
                .map(|put| TransactWriteItem::builder().put(put).build())
                .map_err(|e| call_error("dynamodb", e))
        };
        let dedupe_put = build(
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(dedupe_item))
                .condition_expression("attribute_not_exists(pk) OR window_ends_at <= :now")
                .expression_attribute_values(":now", n(event.received_at.unix_millis())),
        )?;
        let event_put = build(
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(event_item(event, expires_at))),
        )?;
        // A record whose window ends between our failed write and our read
        // is gone by the read: try the write again, a bounded number of
        // times.
        for _ in 0..3 {
            let written = self
                .client
                .transact_write_items()
                .transact_items(dedupe_put.clone())
                .transact_items(event_put.clone())
                .send()
                .await;
            match written {
                Ok(_) => return Ok(InsertOutcome::Inserted),
                Err(err) if is_condition_failure(&err) => {
                    let Some(existing) = self.get(dedupe_pk(key), DEDUPE_SK).await? else {
                        continue;
                    };
                    let window_ends_at = existing
                        .get("window_ends_at")
                        .and_then(|v| v.as_n().ok())
                        .and_then(|v| v.parse::<i64>().ok())
                        .unwrap_or(i64::MAX);
                    if window_ends_at <= event.received_at.unix_millis() {
                        continue;
                    }
                    let existing_id = existing
                        .get("event_id")
                        .and_then(|v| v.as_s().ok())
                        .and_then(|v| EventId::parse(v).ok())
                        .ok_or_else(|| AwsError::Corrupt("dedupe item without event_id".into()))?;
                    let enqueued = existing
                        .get("enqueued")
                        .and_then(|v| v.as_bool().ok())
                        .copied()
                        .unwrap_or(false);
                    return Ok(InsertOutcome::Duplicate {
                        existing: existing_id,
                        enqueued,
                    });
                }
                Err(err) => return Err(call_error("dynamodb", err)),
            }
        }
        Err(AwsError::Call {
            service: "dynamodb",
            detail: "dedupe record kept changing under a write".into(),
        })
    }
}

#[async_trait]
impl EventStore for DynamoEventStore {
    async fn insert_event(
        &self,
        event: &Event,
        dedupe: Option<&DedupeKey>,
        expires_at: Timestamp,
    ) -> Result<InsertOutcome, CoreError> {
        match dedupe {
            Some(key) => Ok(self.insert_deduplicated(event, key, expires_at).await?),
            None => {
                self.client
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(event_item(event, expires_at)))
                    .send()
                    .await
                    .map_err(|e| call_error("dynamodb", e))?;
                Ok(InsertOutcome::Inserted)
            }
        }
    }

    async fn mark_enqueued(&self, dedupe: &DedupeKey) -> Result<(), CoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(dedupe_pk(dedupe)))
            .key("sk", s(DEDUPE_SK))
            .update_expression("SET enqueued = :yes")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .send()
            .await
            .map_err(|e| call_error("dynamodb", e))?;
        Ok(())
    }

    async fn remove_event(
        &self,
        id: &EventId,
        dedupe: Option<&DedupeKey>,
    ) -> Result<(), CoreError> {
        if let Some(key) = dedupe {
            self.delete(dedupe_pk(key), DEDUPE_SK, Some(id)).await?;
        }
        self.delete(event_pk(id), EVENT_SK, None).await?;
        Ok(())
    }

    async fn event(&self, id: &EventId) -> Result<Option<Event>, CoreError> {
        match self.get(event_pk(id), EVENT_SK).await? {
            Some(item) => Ok(Some(event_from(&item)?)),
            None => Ok(None),
        }
    }

    async fn events_by_source(
        &self,
        source: &SourceId,
        since: Option<Timestamp>,
        limit: usize,
    ) -> Result<Vec<Event>, CoreError> {
        let ids = gsi1_event_ids(
            &self.client,
            &self.table,
            &format!("SRC#{source}"),
            since,
            false,
            limit,
        )
        .await?;
        let mut events = Vec::with_capacity(ids.len());
        for id in ids {
            // An event can expire (TTL) between the index read and this.
            if let Some(event) = self.event(&id).await? {
                events.push(event);
            }
        }
        Ok(events)
    }
}
