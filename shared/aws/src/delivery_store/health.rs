//! When a destination started failing, and which delivery heads its
//! release of parked deliveries: one small item per destination, beside
//! its deliveries' table entries.
use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValue;
use hookrelay_core::{CoreError, DestinationHealth};
use hookrelay_models::{DestinationId, EventId, Timestamp};

use super::items::{get_n, health_pk, n, s, HEALTH_SK};
use super::DynamoDeliveryStore;
use crate::error::{call_error, is_condition_failed, AwsError};

#[async_trait]
impl DestinationHealth for DynamoDeliveryStore {
    async fn note_failing(
        &self,
        destination: &DestinationId,
        at: Timestamp,
    ) -> Result<Timestamp, CoreError> {
        let updated = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(health_pk(destination)))
            .key("sk", s(HEALTH_SK))
            .update_expression("SET failing_since = if_not_exists(failing_since, :at)")
            .expression_attribute_values(":at", n(at.unix_millis()))
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(|e| call_error("dynamodb", e))?;
        let since = updated
            .attributes
            .as_ref()
            .and_then(|item| get_n(item, "failing_since"))
            .ok_or_else(|| AwsError::Corrupt("health item without failing_since".into()))?;
        Ok(Timestamp::from_unix_millis(since))
    }

    async fn set_failing_since(
        &self,
        destination: &DestinationId,
        since: Option<Timestamp>,
    ) -> Result<(), CoreError> {
        let call = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(health_pk(destination)))
            .key("sk", s(HEALTH_SK));
        let call = match since {
            Some(since) => call
                .update_expression("SET failing_since = :since")
                .expression_attribute_values(":since", n(since.unix_millis())),
            None => call.update_expression("REMOVE failing_since"),
        };
        call.send().await.map_err(|e| call_error("dynamodb", e))?;
        Ok(())
    }

    async fn release_head(
        &self,
        destination: &DestinationId,
    ) -> Result<Option<EventId>, CoreError> {
        let found = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(health_pk(destination)))
            .key("sk", s(HEALTH_SK))
            .projection_expression("release_head")
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| call_error("dynamodb", e))?;
        found
            .item
            .as_ref()
            .and_then(|item| item.get("release_head"))
            .and_then(|v| v.as_s().ok())
            .map(|id| {
                EventId::parse(id)
                    .map_err(|_| AwsError::Corrupt("health item: bad release_head".into()).into())
            })
            .transpose()
    }

    async fn move_release_head(
        &self,
        destination: &DestinationId,
        from: Option<&EventId>,
        to: Option<&EventId>,
    ) -> Result<bool, CoreError> {
        let condition = |head: Option<&EventId>, name: &str| match head {
            Some(_) => format!("release_head = {name}"),
            None => "attribute_not_exists(release_head)".to_string(),
        };
        let mut call = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(health_pk(destination)))
            .key("sk", s(HEALTH_SK))
            .condition_expression(format!(
                "{} OR {}",
                condition(from, ":from"),
                condition(to, ":to")
            ));
        if let Some(from) = from {
            call = call.expression_attribute_values(":from", s(from.as_str()));
        }
        call = match to {
            Some(to) => call
                .update_expression("SET release_head = :to")
                .expression_attribute_values(":to", s(to.as_str())),
            None => call.update_expression("REMOVE release_head"),
        };
        match call.send().await {
            Ok(_) => Ok(true),
            Err(err) if is_condition_failed(&err) => Ok(false),
            Err(err) => Err(call_error("dynamodb", err).into()),
        }
    }
}
