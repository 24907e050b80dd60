//! Rejection counts in the events table: one item per source and hour
//! (`REJECT#{source}`, sk = the hour's start in ms, zero-padded), a number
//! attribute per reason, added to with one `UpdateItem` (see
//! `hookrelay_core::rejections` for how rarely), expiring after a week.
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use hookrelay_core::{CoreError, RejectionCount, RejectionStore};
use hookrelay_models::{SourceId, Timestamp};
use std::collections::HashMap;

use crate::error::{call_error, AwsError};

/// How long an hour's counts are kept.
const KEPT_SECS: i64 = 7 * 24 * 3600;
/// Reason attributes are `r_{reason}`.
const PREFIX: &str = "r_";

#[derive(Clone)]
pub struct DynamoRejectionStore {
    client: Client,
    table: String,
}

impl DynamoRejectionStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoRejectionStore {
            client,
            table: table.into(),
        }
    }
}

fn pk(source: &SourceId) -> String {
    format!("REJECT#{source}")
}

fn sk(hour: Timestamp) -> String {
    format!("{:015}", hour.unix_millis().max(0))
}

#[async_trait]
impl RejectionStore for DynamoRejectionStore {
    async fn add_rejections(
        &self,
        source: &SourceId,
        hour: Timestamp,
        counts: &[(&'static str, u64)],
    ) -> Result<(), CoreError> {
        if counts.is_empty() {
            return Ok(());
        }
        let mut additions = Vec::with_capacity(counts.len());
        let mut call = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(pk(source)))
            .key("sk", AttributeValue::S(sk(hour)))
            .expression_attribute_values(
                ":expires",
                AttributeValue::N((hour.unix_secs() + KEPT_SECS).to_string()),
            );
        for (i, (reason, count)) in counts.iter().enumerate() {
            additions.push(format!("#r{i} :r{i}"));
            call = call
                .expression_attribute_names(format!("#r{i}"), format!("{PREFIX}{reason}"))
                .expression_attribute_values(
                    format!(":r{i}"),
                    AttributeValue::N(count.to_string()),
                );
        }
        call.update_expression(format!(
            "SET expires_at = :expires ADD {}",
            additions.join(", ")
        ))
        .send()
        .await
        .map_err(|e| call_error("dynamodb", e))?;
        Ok(())
    }

    async fn rejections(
        &self,
        source: &SourceId,
        since: Timestamp,
    ) -> Result<Vec<RejectionCount>, CoreError> {
        let mut found = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND sk >= :since")
                .expression_attribute_values(":pk", AttributeValue::S(pk(source)))
                .expression_attribute_values(":since", AttributeValue::S(sk(since)))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| call_error("dynamodb", e))?;
            for item in page.items() {
                let hour = item
                    .get("sk")
                    .and_then(|v| v.as_s().ok())
                    .and_then(|s| s.parse::<i64>().ok())
                    .ok_or_else(|| AwsError::Corrupt("rejection item without an hour".into()))?;
                for (name, value) in item {
                    let Some(reason) = name.strip_prefix(PREFIX) else {
                        continue;
                    };
                    let count = value
                        .as_n()
                        .ok()
                        .and_then(|n| n.parse::<u64>().ok())
                        .ok_or_else(|| AwsError::Corrupt(format!("rejection count {name}")))?;
                    found.push(RejectionCount {
                        source: source.clone(),
                        hour: Timestamp::from_unix_millis(hour),
                        reason: reason.to_string(),
                        count,
                    });
                }
            }
            match page.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => break,
            }
        }
        found.sort_by(|a, b| (a.hour, &a.reason).cmp(&(b.hour, &b.reason)));
        Ok(found)
    }
}
