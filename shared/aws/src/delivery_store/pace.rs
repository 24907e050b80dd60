//! A destination's pace on DynamoDB: one small item beside its health
//! item, `pace_next` (the schedule's next free slot, in Unix
//! milliseconds) and `paused_until`. Slots are taken with one conditional
//! update that moves `pace_next` on; the update cannot take a maximum, so
//! there are two, one for a busy schedule (`pace_next` at or past the
//! floor: add to it) and one for an idle one (set it from the floor). The
//! caller's guess picks which goes first; a wrong guess costs a second
//! write, and the failed one's answer (`ALL_OLD`) says what the schedule
//! holds, so no read is needed.
use async_trait::async_trait;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
use hookrelay_core::pace::{DestinationPace, SlotGrant, SlotRequest};
use hookrelay_core::CoreError;
use hookrelay_models::{DestinationId, Timestamp};

use super::items::{get_n, health_pk, n, s};
use super::{DynamoDeliveryStore, Item};
use crate::error::{call_error, AwsError};

const PACE_SK: &str = "PACE";

/// What one of the two updates came to.
enum Tried {
    Taken(Timestamp),
    /// Its condition was false; the schedule's next free slot as it was.
    Refused(Option<Timestamp>),
}

impl DynamoDeliveryStore {
    fn pace_update(
        &self,
        destination: &DestinationId,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(health_pk(destination)))
            .key("sk", s(PACE_SK))
    }

    async fn try_take(
        &self,
        destination: &DestinationId,
        request: &SlotRequest,
        busy: bool,
    ) -> Result<Tried, CoreError> {
        let taken = (request.interval * request.cells).as_millis() as i64;
        let call = self
            .pace_update(destination)
            .expression_attribute_values(":floor", n(request.floor.unix_millis()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let call = if busy {
            call.update_expression("SET pace_next = pace_next + :taken")
                .condition_expression("pace_next >= :floor AND pace_next <= :horizon")
                .expression_attribute_values(":taken", n(taken))
                .expression_attribute_values(":horizon", n(request.horizon.unix_millis()))
                .return_values(ReturnValue::UpdatedNew)
        } else {
            call.update_expression("SET pace_next = :next")
                .condition_expression("attribute_not_exists(pace_next) OR pace_next < :floor")
                .expression_attribute_values(":next", n(request.floor.unix_millis() + taken))
        };
        match call.send().await {
            Ok(answer) if busy => {
                let next = answer
                    .attributes
                    .as_ref()
                    .and_then(|item| get_n(item, "pace_next"))
                    .ok_or_else(|| AwsError::Corrupt("pace item without pace_next".into()))?;
                Ok(Tried::Taken(Timestamp::from_unix_millis(next - taken)))
            }
            Ok(_) => Ok(Tried::Taken(request.floor)),
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(refused)) => {
                    Ok(Tried::Refused(pace_next(refused.item())))
                }
                _ => Err(call_error("dynamodb", err).into()),
            },
        }
    }
}

fn pace_next(item: Option<&Item>) -> Option<Timestamp> {
    item.and_then(|item| get_n(item, "pace_next"))
        .map(Timestamp::from_unix_millis)
}

#[async_trait]
impl DestinationPace for DynamoDeliveryStore {
    async fn take_slots(
        &self,
        destination: &DestinationId,
        request: SlotRequest,
    ) -> Result<SlotGrant, CoreError> {
        let mut busy = request.expect_busy;
        // Each refusal says which update fits the schedule as it was; it
        // can only have moved on since (slots are never given back), so
        // the second try fits unless the schedule went from idle to busy
        // in between, and the third then does.
        for _ in 0..3 {
            match self.try_take(destination, &request, busy).await? {
                Tried::Taken(first) => return Ok(SlotGrant::Taken { first }),
                Tried::Refused(next) => match next {
                    Some(next) if next > request.horizon => return Ok(SlotGrant::TooFar { next }),
                    Some(next) if next >= request.floor => busy = true,
                    _ => busy = false,
                },
            }
        }
        Err(CoreError::unavailable(
            "dynamodb",
            "the destination's schedule changed under three tries in a row",
        ))
    }

    async fn pause(&self, destination: &DestinationId, until: Timestamp) -> Result<(), CoreError> {
        // Rare (a 429 or 503 asked for it): the pause itself, and the
        // schedule pushed past it so slots taken after it begin there.
        // Each update changes only what is earlier than `until`.
        for (attribute, name) in [("paused_until", ":until"), ("pace_next", ":until")] {
            let call = self
                .pace_update(destination)
                .update_expression(format!("SET {attribute} = {name}"))
                .condition_expression(format!(
                    "attribute_not_exists({attribute}) OR {attribute} < {name}"
                ))
                .expression_attribute_values(name, n(until.unix_millis()));
            match call.send().await {
                Ok(_) => {}
                Err(err) if crate::error::is_condition_failed(&err) => {}
                Err(err) => return Err(call_error("dynamodb", err).into()),
            }
        }
        Ok(())
    }

    async fn paused_until(
        &self,
        destination: &DestinationId,
    ) -> Result<Option<Timestamp>, CoreError> {
        let found = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(health_pk(destination)))
            .key("sk", s(PACE_SK))
            .projection_expression("paused_until")
            .send()
            .await
            .map_err(|e| call_error("dynamodb", e))?;
        Ok(found
            .item
            .as_ref()
            .and_then(|item| get_n(item, "paused_until"))
            .map(Timestamp::from_unix_millis))
    }
}
