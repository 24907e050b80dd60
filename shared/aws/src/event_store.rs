//! Events and dedupe records in DynamoDB (layout in the crate docs).
use async_trait::async_trait;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use hookrelay_core::{
    Clock, CoreError, DedupeClaim, DedupeKey, EventInfo, EventProgress, EventStore, PutOutcome,
    SystemClock,
};
use hookrelay_models::{Event, EventId, SourceId, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;

use crate::body_bucket::{BodyBucket, BodyRef, DEFAULT_INLINE_BODY_BYTES};
use crate::error::{call_error, AwsError};
use crate::index::{gsi1_event_ids, IndexShards};
use crate::shard_count::ShardCount;

type Item = HashMap<String, AttributeValue>;

const EVENT_SK: &str = "EVENT";
const DEDUPE_SK: &str = "DEDUPE";

#[derive(Clone)]
pub struct DynamoEventStore {
    pub(crate) client: Client,
    pub(crate) table: String,
    shards: ShardCount,
    /// Where bodies too large to keep inline go, if anywhere.
    bodies: Option<BodyBucket>,
    /// Packed events larger than this keep their body in `bodies`.
    inline_limit: usize,
    /// Tells when an event's retention has run out.
    clock: Arc<dyn Clock>,
}

/// The event's fields as stored (the body is kept apart). What the item's
/// keys already say is left out of new items: the id (`pk`), the source
/// (`gsi1pk`) and the time of receipt when the id carries it. Items
/// written before have them, and they win.
#[derive(Serialize, Deserialize)]
struct StoredEvent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<EventId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    source: Option<SourceId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    event_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    provider_delivery_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    received_at: Option<Timestamp>,
    headers: Vec<(String, String)>,
}

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
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
/// Unpacking stops past this many bytes: the largest body, its headers
/// and fields.
const MAX_UNPACKED: usize = hookrelay_models::BODY_LIMIT_CEILING + 64 * 1024;
/// Without a bucket, the most a packed event may take: an item holds
/// 400 KB, and its keys and other attributes need the rest.
const MAX_INLINE_PACKED: usize = 380 * 1024;
/// The attribute naming a body kept in the bucket (JSON of a `BodyRef`);
/// the packed frame then holds the fields and an empty body.
const BODY_REF: &str = "b";

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
            id: None,
            source: None,
            event_type: event.event_type.clone(),
            provider_delivery_id: event.provider_delivery_id.clone(),
            received_at: (event.received_at != event.id.timestamp()).then_some(event.received_at),
            headers: event.headers.clone(),
        }
    }
}

/// The text of a key attribute after its prefix.
fn key_after<'a>(item: &'a Item, name: &str, prefix: &str) -> Result<&'a str, AwsError> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .and_then(|v| v.strip_prefix(prefix))
        .ok_or_else(|| AwsError::Corrupt(format!("event item without {name}")))
}

/// A source's `gsi1` partition, before sharding.
fn source_partition(source: &SourceId) -> String {
    format!("SRC#{source}")
}

fn event_item(event: &Event, expires_at: Timestamp, shards: IndexShards) -> Item {
    let stored = StoredEvent::from(event);
    HashMap::from([
        ("pk".into(), s(event_pk(&event.id))),
        ("sk".into(), s(EVENT_SK)),
        (
            PACKED.into(),
            AttributeValue::B(Blob::new(pack(&stored, &event.body))),
        ),
        (
            "gsi1pk".into(),
            s(shards.partition(&source_partition(&event.source), &event.id)),
        ),
        ("gsi1sk".into(), s(event.id.as_str())),
        ("expires_at".into(), n(expires_at.unix_secs())),
    ])
}

/// Whether an item's retention (`expires_at`, Unix seconds) ran out by
/// `now`.
fn item_expired(item: &Item, now: Timestamp) -> bool {
    item.get("expires_at")
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse::<i64>().ok())
        .is_some_and(|expires_at| expires_at <= now.unix_secs())
}

/// The bucket object an item names as its body, if any.
fn body_ref(item: &Item) -> Result<Option<BodyRef>, AwsError> {
    item.get(BODY_REF)
        .and_then(|v| v.as_s().ok())
        .map(|json| {
            serde_json::from_str(json)
                .map_err(|e| AwsError::Corrupt(format!("event item: body reference: {e}")))
        })
        .transpose()
}

/// The event an item holds; a body kept in the bucket is left empty
/// (see [`body_ref`]).
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
    let id = match stored.id {
        Some(id) => id,
        None => EventId::parse(key_after(item, "pk", "EVT#")?)
            .map_err(|_| AwsError::Corrupt("event item: bad pk".into()))?,
    };
    let source = match stored.source {
        Some(source) => source,
        // `SRC#{source}`, then the shard's `#nn` if sharded.
        None => SourceId::parse(
            key_after(item, "gsi1pk", "SRC#")?
                .split('#')
                .next()
                .unwrap_or(""),
        )
        .map_err(|_| AwsError::Corrupt("event item: bad gsi1pk".into()))?,
    };
    Ok(Event {
        received_at: stored.received_at.unwrap_or_else(|| id.timestamp()),
        id,
        source,
        event_type: stored.event_type,
        provider_delivery_id: stored.provider_delivery_id,
        headers: stored.headers,
        body: body.into(),
    })
}

impl DynamoEventStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoEventStore {
            client,
            table: table.into(),
            shards: ShardCount::fixed(IndexShards::DEFAULT),
            bodies: None,
            inline_limit: DEFAULT_INLINE_BODY_BYTES,
            clock: Arc::new(SystemClock),
        }
    }

    /// Judges retention by `clock` instead of the system's.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Keep bodies whose packed event is larger than `inline_limit` bytes
    /// in `bucket` (without a bucket, an event must fit its item).
    pub fn with_body_bucket(mut self, bucket: BodyBucket, inline_limit: usize) -> Self {
        self.bodies = Some(bucket);
        self.inline_limit = inline_limit;
        self
    }

    /// Spread each source's index partition over `shards`, and list
    /// that many, whatever other writers used (see [`Self::with_shard_count`]).
    pub fn with_index_shards(self, shards: IndexShards) -> Self {
        self.with_shard_count(ShardCount::fixed(shards))
    }

    /// Spread each source's index partition over `shards`' own count, and
    /// list as many as any writer recorded.
    pub fn with_shard_count(mut self, shards: ShardCount) -> Self {
        self.shards = shards;
        self
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

    /// The item for `event`. A body too large to keep inline goes to the
    /// bucket first, so no item ever names a body that is not stored; with
    /// no bucket, an event that cannot fit its item is refused before
    /// anything is written.
    async fn item_for(&self, event: &Event, expires_at: Timestamp) -> Result<Item, CoreError> {
        // A body this much larger than the inline limit does not deflate
        // under it (JSON shrinks four- to tenfold): not worth compressing
        // megabytes to find out.
        if let Some(bucket) = &self.bodies {
            if event.body.len() > self.inline_limit.saturating_mul(32) {
                return self.item_with_body_in(bucket, event, expires_at).await;
            }
        }
        let shards = self.shards.for_writing().await?;
        let item = event_item(event, expires_at, shards);
        let packed_len = item
            .get(PACKED)
            .and_then(|v| v.as_b().ok())
            .map_or(0, |b| b.as_ref().len());
        match &self.bodies {
            Some(bucket) if packed_len > self.inline_limit => {
                return self.item_with_body_in(bucket, event, expires_at).await;
            }
            None if packed_len > MAX_INLINE_PACKED => {
                return Err(CoreError::TooLarge {
                    size: event.body.len(),
                    limit: MAX_INLINE_PACKED,
                })
            }
            _ => {}
        }
        Ok(item)
    }

    /// The item for `event` with its body put in `bucket` first.
    async fn item_with_body_in(
        &self,
        bucket: &BodyBucket,
        event: &Event,
        expires_at: Timestamp,
    ) -> Result<Item, CoreError> {
        let reference = bucket.put(&event.body).await?;
        let fields = Event {
            id: event.id.clone(),
            source: event.source.clone(),
            event_type: event.event_type.clone(),
            provider_delivery_id: event.provider_delivery_id.clone(),
            received_at: event.received_at,
            headers: event.headers.clone(),
            body: bytes::Bytes::new(),
        };
        let shards = self.shards.for_writing().await?;
        let mut item = event_item(&fields, expires_at, shards);
        item.insert(
            BODY_REF.into(),
            s(serde_json::to_string(&reference).expect("references serialize")),
        );
        Ok(item)
    }

    /// The item of event `id`, unless it is past its retention: then it is
    /// gone, whether or not DynamoDB's TTL (which lags by up to days) has
    /// deleted it yet.
    async fn live_event_item(&self, id: &EventId) -> Result<Option<Item>, AwsError> {
        let now = self.clock.now();
        Ok(self
            .get(event_pk(id), EVENT_SK)
            .await?
            .filter(|item| !item_expired(item, now)))
    }

    /// Writes `item` unless an event with its key is stored.
    async fn put_item_if_absent(&self, item: Item) -> Result<PutOutcome, AwsError> {
        let written = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match written {
            Ok(_) => Ok(PutOutcome::Written),
            Err(err) if crate::error::is_condition_failed(&err) => Ok(PutOutcome::AlreadyStored),
            Err(err) => Err(call_error("dynamodb", err)),
        }
    }

    /// Writes the dedupe record naming `candidate` unless a live one names
    /// another event. On a refusal DynamoDB returns the record in the
    /// error, so a duplicate learns the event in the same round trip;
    /// `None` then is a store that does not (a read follows).
    async fn put_dedupe(
        &self,
        key: &DedupeKey,
        candidate: &EventId,
        now: Timestamp,
    ) -> Result<Result<(), Option<Item>>, AwsError> {
        let written = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(dedupe_pk(key)))
            .item("sk", s(DEDUPE_SK))
            .item("event_id", s(candidate.as_str()))
            .item("window_ends_at", n(key.expires_at.unix_millis()))
            .item("expires_at", n(key.expires_at.unix_secs()))
            .condition_expression(
                "attribute_not_exists(pk) OR window_ends_at <= :now OR event_id = :id",
            )
            .expression_attribute_values(":now", n(now.unix_millis()))
            .expression_attribute_values(":id", s(candidate.as_str()))
            .return_values_on_condition_check_failure(
                aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld,
            )
            .send()
            .await;
        match written {
            Ok(_) => Ok(Ok(())),
            Err(err) if crate::error::is_condition_failed(&err) => {
                let old = match err.as_service_error() {
                    Some(
                        aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(
                            refused,
                        ),
                    ) => refused.item().cloned(),
                    _ => None,
                };
                Ok(Err(old))
            }
            Err(err) => Err(call_error("dynamodb", err)),
        }
    }

    /// The event a live dedupe record names, if there is one.
    async fn live_dedupe(
        &self,
        key: &DedupeKey,
        now: Timestamp,
    ) -> Result<Option<EventId>, AwsError> {
        match self.get(dedupe_pk(key), DEDUPE_SK).await? {
            Some(record) => live_event_of(&record, now),
            None => Ok(None),
        }
    }
}

/// The event a dedupe record names, if its window is still open at `now`.
fn live_event_of(record: &Item, now: Timestamp) -> Result<Option<EventId>, AwsError> {
    let window_ends_at = record
        .get("window_ends_at")
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(i64::MAX);
    if window_ends_at <= now.unix_millis() {
        return Ok(None);
    }
    record
        .get("event_id")
        .and_then(|v| v.as_s().ok())
        .and_then(|v| EventId::parse(v).ok())
        .map(Some)
        .ok_or_else(|| AwsError::Corrupt("dedupe item without event_id".into()))
}

#[async_trait]
impl EventStore for DynamoEventStore {
    async fn claim_dedupe(
        &self,
        key: &DedupeKey,
        candidate: &EventId,
        now: Timestamp,
    ) -> Result<DedupeClaim, CoreError> {
        // A record whose window ends between a refused write and the read
        // after it is gone by the read: write again, a bounded number of
        // times.
        for _ in 0..3 {
            let refused_by = match self.put_dedupe(key, candidate, now).await? {
                Ok(()) => return Ok(DedupeClaim::Won),
                Err(Some(record)) => live_event_of(&record, now)?,
                Err(None) => self.live_dedupe(key, now).await?,
            };
            match refused_by {
                Some(existing) if &existing != candidate => return Ok(DedupeClaim::Held(existing)),
                _ => {}
            }
        }
        Err(AwsError::Call {
            service: "dynamodb",
            detail: "dedupe record kept changing under a write".into(),
        }
        .into())
    }

    async fn put_event(
        &self,
        event: &Event,
        expires_at: Timestamp,
    ) -> Result<PutOutcome, CoreError> {
        // A large body goes to the bucket first, so no item names an
        // object that is not there; an event that cannot be stored is
        // refused before anything is written.
        let item = self.item_for(event, expires_at).await?;
        Ok(self.put_item_if_absent(item).await?)
    }

    /// One read: the partition's items from `DLV#` on sort deliveries
    /// (`DLV#…`) before the event (`EVENT`), so the first says which.
    async fn progress(&self, id: &EventId) -> Result<EventProgress, CoreError> {
        let found = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk >= :dlv")
            .expression_attribute_values(":pk", s(event_pk(id)))
            .expression_attribute_values(":dlv", s("DLV#"))
            .projection_expression("sk")
            .consistent_read(true)
            .limit(1)
            .send()
            .await
            .map_err(|e| call_error("dynamodb", e))?;
        let first = found
            .items()
            .first()
            .and_then(|item| item.get("sk"))
            .and_then(|v| v.as_s().ok());
        Ok(match first {
            Some(sk) if sk.starts_with("DLV#") => EventProgress::Dispatched,
            Some(sk) if sk == EVENT_SK => EventProgress::Stored,
            _ => EventProgress::Missing,
        })
    }

    async fn event(&self, id: &EventId) -> Result<Option<Event>, CoreError> {
        match self.live_event_item(id).await? {
            Some(item) => {
                let mut event = event_from(&item)?;
                if let Some(reference) = body_ref(&item)? {
                    let bucket = self.bodies.as_ref().ok_or_else(|| {
                        CoreError::Misconfigured(format!(
                            "event {id} keeps its body in S3 ({}), but no body bucket is configured (HOOKRELAY_BODY_BUCKET)",
                            reference.key
                        ))
                    })?;
                    match bucket.get(&reference).await? {
                        Some(body) => event.body = body,
                        // The bucket's lifecycle came first: expired too.
                        None => {
                            tracing::info!(event_id = %id, key = %reference.key, "event body expired from the bucket");
                            return Ok(None);
                        }
                    }
                }
                Ok(Some(event))
            }
            None => Ok(None),
        }
    }

    async fn event_info(&self, id: &EventId) -> Result<Option<EventInfo>, CoreError> {
        self.live_event_item(id)
            .await?
            .map(|item| Ok(info_from(&item)?))
            .transpose()
    }

    async fn events_by_source(
        &self,
        source: &SourceId,
        since: Option<Timestamp>,
        limit: usize,
    ) -> Result<Vec<EventInfo>, CoreError> {
        let ids = gsi1_event_ids(
            &self.client,
            &self.table,
            &self
                .shards
                .for_reading()
                .await?
                .partitions(&source_partition(source)),
            since,
            false,
            limit,
        )
        .await?;
        let mut events = Vec::with_capacity(ids.len());
        for id in ids {
            // An event can expire (TTL) between the index read and this.
            if let Some(event) = self.event_info(&id).await? {
                events.push(event);
            }
        }
        Ok(events)
    }
}

/// What a listing shows of the event an item holds: the packed fields are
/// unpacked (a few KiB at most: larger bodies are in the bucket), and a
/// body in the bucket is known by its reference's size, never fetched.
fn info_from(item: &Item) -> Result<EventInfo, AwsError> {
    let event = event_from(item)?;
    let body_bytes = match body_ref(item)? {
        Some(reference) => reference.size,
        None => event.body.len() as u64,
    };
    Ok(EventInfo {
        body_bytes,
        ..EventInfo::from(&event)
    })
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
            body: body.to_vec().into(),
        }
    }

    #[test]
    fn a_packed_event_reads_back_whole_and_smaller() {
        let body = br#"{"id":"evt_1","object":"event","data":{"object":{"lines":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]}},"padding":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}"#;
        for body in [&body[..], b"", b"\n\n raw \x00\xff bytes\n"] {
            let original = event(body);
            let item = event_item(
                &original,
                Timestamp::from_unix_millis(0),
                IndexShards::DEFAULT,
            );
            assert!(!item.contains_key("body") && !item.contains_key("event"));
            let back = event_from(&item).unwrap();
            assert_eq!(back.body, original.body);
            assert_eq!(back.headers, original.headers);
            assert_eq!(back.id, original.id);
            assert_eq!(back.event_type, original.event_type);
            assert_eq!(back.source, original.source);
            assert_eq!(back.received_at, original.received_at);
        }
        // JSON shrinks: a body of 2 KiB or so, with its fields, packs into
        // well under half.
        let large = body.repeat(12);
        let packed = event_item(
            &event(&large),
            Timestamp::from_unix_millis(0),
            IndexShards::DEFAULT,
        );
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
        // As written then: every field, whatever the keys said.
        let fields = serde_json::json!({
            "id": original.id,
            "source": "other-source",
            "event_type": original.event_type,
            "provider_delivery_id": original.provider_delivery_id,
            "received_at": Timestamp::from_unix_millis(7),
            "headers": original.headers,
        });
        let item: Item = HashMap::from([
            ("pk".into(), s(event_pk(&original.id))),
            ("sk".into(), s(EVENT_SK)),
            ("event".into(), s(fields.to_string())),
            (
                "body".into(),
                AttributeValue::B(Blob::new(original.body.to_vec())),
            ),
        ]);
        let back = event_from(&item).unwrap();
        assert_eq!(back.body, original.body);
        assert_eq!(back.headers, original.headers);
        assert_eq!(back.source.as_str(), "other-source");
        assert_eq!(back.received_at, Timestamp::from_unix_millis(7));

        // Packed with every field, as the first packed items were.
        let packed = pack(&serde_json::from_value(fields).unwrap(), &original.body);
        let item: Item = HashMap::from([
            ("pk".into(), s(event_pk(&original.id))),
            (PACKED.into(), AttributeValue::B(Blob::new(packed))),
        ]);
        let back = event_from(&item).unwrap();
        assert_eq!(back.id, original.id);
        assert_eq!(back.source.as_str(), "other-source");
        assert_eq!(back.received_at, Timestamp::from_unix_millis(7));
        assert_eq!(back.body, original.body);
    }

    #[test]
    fn fields_the_keys_carry_are_not_packed_again() {
        let original = event(b"{}");
        let (stored, _) = unpack(&pack(&StoredEvent::from(&original), b"{}")).unwrap();
        assert!(stored.id.is_none() && stored.source.is_none());
        // Received when its id was made: the id says when.
        assert!(stored.received_at.is_none());
        let mut later = original.clone();
        later.received_at = Timestamp::from_unix_millis(later.received_at.unix_millis() + 5);
        let item = event_item(&later, Timestamp::from_unix_millis(0), IndexShards::DEFAULT);
        assert_eq!(event_from(&item).unwrap().received_at, later.received_at);
    }

    #[test]
    fn a_damaged_packed_event_is_corrupt_not_a_panic() {
        let item: Item =
            HashMap::from([(PACKED.into(), AttributeValue::B(Blob::new(vec![1, 2, 3])))]);
        assert!(matches!(event_from(&item), Err(AwsError::Corrupt(_))));
    }
}
