//! When a destination started failing: one small item per destination,
//! beside its deliveries' table entries.
use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValue;
use hookrelay_core::{CoreError, DestinationHealth};
use hookrelay_models::{DestinationId, Timestamp};

use super::items::{get_n, health_pk, n, s, HEALTH_SK};
use super::DynamoDeliveryStore;
use crate::error::{call_error, AwsError};

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
}
