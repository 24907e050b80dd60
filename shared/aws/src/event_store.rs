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

/// Bodies are compressed (deflate) together with the event's other fields
/// into one binary attribute, `z`: a 2 KiB JSON body with its headers
/// comes to about a kilobyte, which is what DynamoDB bills per write unit.
/// The frame is the fields as JSON, a newline (JSON keeps its own escaped),
/// then the body.
const PACKED: &str = "z";
/// Unpacking stops past this many bytes: the most an item holds.
const MAX_UNPACKED: usize = 400 * 1024;

fn pack(stored: &StoredEvent, body: &[u8]) -> Vec<u8> {
    let mut frame = serde_json::to_vec(stored).expect("events serialize");
    frame.push(b'\n');
    frame.extend_from_slice(body);
    miniz_oxide::deflate::compress_to_vec(&frame, 6)
}

fn unpack(packed: &[u8]) -> Result<(StoredEvent, Vec<u8>), AwsError> {
    let frame = miniz_oxide::inflate::decompress_to_vec_with_limit(packed, MAX_UNPACKED)
        .map_err(|e| AwsError::Corrupt(format!("event item: packed event: {e:?}")))?;
    let split = frame
        .iter()
        .position(|b| *b == b'\n')
        .ok_or_else(|| AwsError::Corrupt("event item: packed event without fields".into()))?;
    let stored = serde_json::from_slice(&frame[..split])
        .map_err(|e| AwsError::Corrupt(format!("event item: {e}")))?;
    Ok((stored, frame[split + 1..].to_vec()))
}

impl From<&Event> for StoredEvent {
    fn from(event: &Event) -> Self {
        StoredEvent {
            id: event.id.clone(),
            source: event.source.clone(),
            event_type: event.event_type.clone(),
            provider_delivery_id: event.provider_delivery_id.clone(),
            received_at: event.received_at,
            headers: event.headers.clone(),
        }
    }
}

fn event_item(event: &Event, expires_at: Timestamp) -> Item {
    let stored = StoredEvent::from(event);
    HashMap::from([
        ("pk".into(), s(event_pk(&event.id))),
        ("sk".into(), s(EVENT_SK)),
        (
            PACKED.into(),
            AttributeValue::B(Blob::new(pack(&stored, &event.body))),
        ),
        ("gsi1pk".into(), s(format!("SRC#{}", event.source))),
        ("gsi1sk".into(), s(event.id.as_str())),
        ("expires_at".into(), n(expires_at.unix_secs())),
    ])
}

fn event_from(item: &Item) -> Result<Event, AwsError> {
    let (stored, body) = match item.get(PACKED).and_then(|v| v.as_b().ok()) {
        Some(packed) => unpack(packed.as_ref())?,
        // Written before events were packed: fields as JSON, body apart.
        None => {
            let json = item
                .get("event")
                .and_then(|v| v.as_s().ok())
                .ok_or_else(|| AwsError::Corrupt("event item without event".into()))?;
            let stored: StoredEvent = serde_json::from_str(json)
                .map_err(|e| AwsError::Corrupt(format!("event item: {e}")))?;
            let body = item
                .get("body")
                .and_then(|v| v.as_b().ok())
                .map(|b| b.as_ref().to_vec())
                .unwrap_or_default();
            (stored, body)
        }
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    fn event(body: &[u8]) -> Event {
        Event {
            id: EventId::new(Timestamp::from_unix_millis(1_764_547_200_000)),
            source: SourceId::parse("stripe").unwrap(),
            event_type: Some("invoice.paid".into()),
            provider_delivery_id: Some("evt_1".into()),
            received_at: Timestamp::from_unix_millis(1_764_547_200_000),
            headers: vec![("stripe-signature".into(), "t=1,v1=ab\ncd".into())],
            body: body.to_vec(),
        }
    }

    #[test]
    fn a_packed_event_reads_back_whole_and_smaller() {
        let body = br#"{"id":"evt_1","object":"event","data":{"object":{"lines":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]}},"padding":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}"#;
        for body in [&body[..], b"", b"\n\n raw \x00\xff bytes\n"] {
            let original = event(body);
            let item = event_item(&original, Timestamp::from_unix_millis(0));
            assert!(!item.contains_key("body") && !item.contains_key("event"));
            let back = event_from(&item).unwrap();
            assert_eq!(back.body, original.body);
            assert_eq!(back.headers, original.headers);
            assert_eq!(back.id, original.id);
            assert_eq!(back.event_type, original.event_type);
        }
        // JSON shrinks: a body of 2 KiB or so, with its fields, packs into
        // well under half.
        let large = body.repeat(12);
        let packed = event_item(&event(&large), Timestamp::from_unix_millis(0));
        let size = packed[PACKED].as_b().unwrap().as_ref().len();
        assert!(
            size < large.len() / 2,
            "{size} bytes packed, {} raw",
            large.len()
        );
    }

    #[test]
    fn an_event_stored_before_packing_still_reads() {
        let original = event(b"{\"a\":1}");
        let stored = StoredEvent::from(&original);
        let item: Item = HashMap::from([
            ("pk".into(), s(event_pk(&original.id))),
            ("sk".into(), s(EVENT_SK)),
            ("event".into(), s(serde_json::to_string(&stored).unwrap())),
            (
                "body".into(),
                AttributeValue::B(Blob::new(original.body.clone())),
            ),
        ]);
        let back = event_from(&item).unwrap();
        assert_eq!(back.body, original.body);
        assert_eq!(back.headers, original.headers);
    }

    #[test]
    fn a_damaged_packed_event_is_corrupt_not_a_panic() {
        let item: Item =
            HashMap::from([(PACKED.into(), AttributeValue::B(Blob::new(vec![1, 2, 3])))]);
        assert!(matches!(event_from(&item), Err(AwsError::Corrupt(_))));
    }
}
