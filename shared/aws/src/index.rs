//! Reading the sparse index `gsi1`: a partition of sort keys, walked in
//! order from a lower bound. Events of a source (`SRC#…`) and deliveries
//! of a destination in one state (`DLV#…#state`) are listed this way; both
//! sort keys are event ids, so "since" is a lower bound on the id.
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use hookrelay_models::{EventId, Timestamp};
use std::collections::HashMap;

use crate::error::{call_error, AwsError};

/// Up to `limit` event ids of `partition` in `gsi1` received at or after
/// `since`; oldest first when `ascending`, newest first otherwise.
pub(crate) async fn gsi1_event_ids(
    client: &Client,
    table: &str,
    partition: &str,
    since: Option<Timestamp>,
    ascending: bool,
    limit: usize,
) -> Result<Vec<EventId>, AwsError> {
    let from = since.map(EventId::lower_bound);
    let from = from.as_ref().map(EventId::as_str);
    let mut keys = Vec::new();
    let mut start = None;
    let condition = if from.is_some() {
        "gsi1pk = :pk AND gsi1sk >= :from"
    } else {
        "gsi1pk = :pk"
    };
    let mut values = HashMap::from([(":pk".to_string(), AttributeValue::S(partition.into()))]);
    if let Some(from) = from {
        values.insert(":from".to_string(), AttributeValue::S(from.into()));
    }
    while keys.len() < limit {
        let page = client
            .query()
            .table_name(table)
            .index_name("gsi1")
            .key_condition_expression(condition)
            .set_expression_attribute_values(Some(values.clone()))
            .scan_index_forward(ascending)
            .limit((limit - keys.len()).min(1000) as i32)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(|e| call_error("dynamodb", e))?;
        for item in page.items() {
            if let Some(key) = item.get("gsi1sk").and_then(|v| v.as_s().ok()) {
                keys.push(EventId::parse(key).map_err(|_| {
                    AwsError::Corrupt(format!("index entry {key:?} is not an event id"))
                })?);
            }
        }
        match page.last_evaluated_key() {
            Some(key) if !key.is_empty() => start = Some(key.clone()),
            _ => break,
        }
    }
    keys.truncate(limit);
    Ok(keys)
}
