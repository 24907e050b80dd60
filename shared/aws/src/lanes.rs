//! Lanes of ordered delivery on DynamoDB, in the events table beside the
//! events (layout in the crate docs): a lane is one partition,
//! `LANE#{destination}#{key}`, with an item per event in it sorted by
//! event id, so its head is a one-item consistent query; a destination's
//! blocked keys are one partition, `BLOCKED#{destination}`, written only
//! when a key's head fails. No item is shared by a destination's keys.
use async_trait::async_trait;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use hookrelay_core::{BlockedKey, CoreError, LaneId, OrderLanes};
use hookrelay_models::{DestinationId, EventId, Timestamp};

use crate::error::{call_error, AwsError};
use crate::event_store::{s, DynamoEventStore};

fn lane_pk(lane: &LaneId) -> String {
    format!("LANE#{}#{}", lane.destination, lane.key)
}

fn blocked_pk(destination: &DestinationId) -> String {
    format!("BLOCKED#{destination}")
}

fn event_id(
    item: &std::collections::HashMap<String, AttributeValue>,
    name: &str,
) -> Result<EventId, CoreError> {
    let text = item
        .get(name)
        .and_then(|v| v.as_s().ok())
        .ok_or_else(|| AwsError::Corrupt(format!("lane item without {name}")))?;
    EventId::parse(text).map_err(|e| AwsError::Corrupt(e.to_string()).into())
}

impl DynamoEventStore {
    /// The first `limit` event ids in `lane`, read consistently.
    async fn query_lane(&self, lane: &LaneId, limit: usize) -> Result<Vec<EventId>, CoreError> {
        let answer = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(lane_pk(lane)))
            .projection_expression("sk")
            .consistent_read(true)
            .limit(limit.clamp(1, 1000) as i32)
            .send()
            .await
            .map_err(|e| call_error("dynamodb", e))?;
        answer
            .items()
            .iter()
            .map(|item| event_id(item, "sk"))
            .collect()
    }
}

#[async_trait]
impl OrderLanes for DynamoEventStore {
    async fn enter_lanes(
        &self,
        event: &EventId,
        lanes: &[LaneId],
        expires_at: Timestamp,
    ) -> Result<(), CoreError> {
        // One put per lane, at once; an event routed to several ordered
        // destinations is rare, and a put of an item that is there
        // already changes nothing.
        let puts = lanes.iter().map(|lane| {
            self.client
                .put_item()
                .table_name(&self.table)
                .item("pk", s(lane_pk(lane)))
                .item("sk", s(event.as_str()))
                .item(
                    "expires_at",
                    AttributeValue::N(expires_at.unix_secs().to_string()),
                )
                .send()
        });
        for put in futures::future::join_all(puts).await {
            put.map_err(|e| call_error("dynamodb", e))?;
        }
        Ok(())
    }

    async fn lane_head(&self, lane: &LaneId) -> Result<Option<EventId>, CoreError> {
        Ok(self.query_lane(lane, 1).await?.into_iter().next())
    }

    async fn in_lane(&self, lane: &LaneId, event: &EventId) -> Result<bool, CoreError> {
        let answer = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(lane_pk(lane)))
            .key("sk", s(event.as_str()))
            .projection_expression("sk")
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| call_error("dynamodb", e))?;
        Ok(answer.item().is_some())
    }

    async fn leave_lane(&self, lane: &LaneId, event: &EventId) -> Result<(), CoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(lane_pk(lane)))
            .key("sk", s(event.as_str()))
            .send()
            .await
            .map_err(|e| call_error("dynamodb", e))?;
        Ok(())
    }

    async fn lane_entries(&self, lane: &LaneId, limit: usize) -> Result<Vec<EventId>, CoreError> {
        self.query_lane(lane, limit).await
    }

    async fn set_blocked(
        &self,
        lane: &LaneId,
        head: &EventId,
        since: Option<Timestamp>,
    ) -> Result<(), CoreError> {
        let pk = s(blocked_pk(&lane.destination));
        let Some(since) = since else {
            let deleted = self
                .client
                .delete_item()
                .table_name(&self.table)
                .key("pk", pk)
                .key("sk", s(&lane.key))
                .condition_expression("head = :head")
                .expression_attribute_values(":head", s(head.as_str()))
                .send()
                .await;
            return match deleted {
                Ok(_) => Ok(()),
                // Names another head, or is gone: not this one's to clear.
                Err(err)
                    if matches!(
                        err.as_service_error(),
                        Some(DeleteItemError::ConditionalCheckFailedException(_))
                    ) =>
                {
                    Ok(())
                }
                Err(err) => Err(call_error("dynamodb", err).into()),
            };
        };
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", pk)
            .item("sk", s(&lane.key))
            .item("head", s(head.as_str()))
            .item("since", AttributeValue::N(since.unix_millis().to_string()))
            .send()
            .await
            .map_err(|e| call_error("dynamodb", e))?;
        Ok(())
    }

    async fn blocked_keys(
        &self,
        destination: &DestinationId,
        limit: usize,
    ) -> Result<Vec<BlockedKey>, CoreError> {
        let answer = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(blocked_pk(destination)))
            .limit(limit.clamp(1, 1000) as i32)
            .send()
            .await
            .map_err(|e| call_error("dynamodb", e))?;
        answer
            .items()
            .iter()
            .map(|item| {
                let key = item
                    .get("sk")
                    .and_then(|v| v.as_s().ok())
                    .ok_or_else(|| AwsError::Corrupt("blocked key without sk".into()))?;
                let since = item
                    .get("since")
                    .and_then(|v| v.as_n().ok())
                    .and_then(|n| n.parse::<i64>().ok())
                    .ok_or_else(|| AwsError::Corrupt("blocked key without since".into()))?;
                Ok(BlockedKey {
                    key: key.clone(),
                    head: event_id(item, "head")?,
                    since: Timestamp::from_unix_millis(since),
                })
            })
            .collect()
    }
}
