//! The delivery store's keys and items: how deliveries, attempts and
//! destination health are laid out in the events table, and read back.
use aws_sdk_dynamodb::types::AttributeValue;
use hookrelay_models::{
    Attempt, AttemptOutcome, Delivery, DeliveryState, DestinationId, EventId, Timestamp,
};

use super::Item;
use crate::error::AwsError;

pub(super) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(super) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(super) fn pk(event: &EventId) -> String {
    format!("EVT#{event}")
}

/// A destination's health record: when its attempts started failing.
pub(super) fn health_pk(destination: &DestinationId) -> String {
    format!("HEALTH#{destination}")
}

pub(super) const HEALTH_SK: &str = "HEALTH";

pub(super) fn delivery_sk(destination: &DestinationId) -> String {
    format!("DLV#{destination}")
}

/// Unique per claim (its lease): an attempt that outlived its lease and
/// the one made after it under the same number are both kept.
pub(super) fn attempt_sk(attempt: &Attempt, lease: Timestamp) -> String {
    format!(
        "ATT#{}#{:05}#{:05}#{}",
        attempt.destination,
        attempt.series,
        attempt.number,
        lease.unix_millis()
    )
}

/// A success in a delivery's first series is kept in the delivery's item
/// (`done`); every other attempt is an item of its own.
pub(super) fn inline_attempt(attempt: &Attempt) -> bool {
    attempt.series == 0 && attempt.outcome.is_success()
}

pub(super) fn attempt_doc(attempt: &Attempt) -> String {
    serde_json::to_string(attempt).expect("attempts serialize")
}

/// The `gsi2` partition of a destination's attempts, before sharding.
pub(super) fn attempts_partition(destination: &DestinationId) -> String {
    format!("DST#{destination}")
}

/// An attempt's `gsi2` sort key: by time, then event, series and number.
pub(super) fn attempt_index_key(attempt: &Attempt) -> String {
    format!(
        "{:015}#{}#{:05}#{:05}",
        attempt.started_at.unix_millis(),
        attempt.event_id,
        attempt.series,
        attempt.number
    )
}

pub(super) fn state_name(state: DeliveryState) -> &'static str {
    state.as_str()
}

/// The `gsi1` partition of a destination's deliveries in one state,
/// before sharding.
pub(super) fn state_partition(destination: &DestinationId, state: DeliveryState) -> String {
    format!("DLV#{destination}#{}", state.as_str())
}

pub(super) fn parse_state(value: &str) -> Result<DeliveryState, AwsError> {
    Ok(match value {
        "pending" => DeliveryState::Pending,
        "succeeded" => DeliveryState::Succeeded,
        "failed" => DeliveryState::Failed,
        "parked" => DeliveryState::Parked,
        other => return Err(AwsError::Corrupt(format!("delivery state {other:?}"))),
    })
}

pub(super) fn get_s<'a>(item: &'a Item, name: &str) -> Result<&'a str, AwsError> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
        .ok_or_else(|| AwsError::Corrupt(format!("delivery item without {name}")))
}

pub(super) fn get_n(item: &Item, name: &str) -> Option<i64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}

pub(super) fn delivery_from(item: &Item) -> Result<Delivery, AwsError> {
    let corrupt = |what: &str| AwsError::Corrupt(format!("delivery item: bad {what}"));
    Ok(Delivery {
        event_id: EventId::parse(get_s(item, "event_id")?).map_err(|_| corrupt("event_id"))?,
        destination: DestinationId::parse(get_s(item, "destination")?)
            .map_err(|_| corrupt("destination"))?,
        state: parse_state(get_s(item, "state")?)?,
        attempts: get_n(item, "attempts").unwrap_or(0) as u32,
        series: get_n(item, "series").unwrap_or(0) as u32,
        next_attempt_at: get_n(item, "next_attempt_at").map(Timestamp::from_unix_millis),
        last_outcome: match item.get("last_outcome").and_then(|v| v.as_s().ok()) {
            Some(json) => Some(
                serde_json::from_str::<AttemptOutcome>(json)
                    .map_err(|_| corrupt("last_outcome"))?,
            ),
            None => None,
        },
        deferrals: get_n(item, "deferrals").unwrap_or(0) as u32,
        lease_until: get_n(item, "lease_until").map(Timestamp::from_unix_millis),
        updated_at: Timestamp::from_unix_millis(get_n(item, "updated_at").unwrap_or(0)),
    })
}

/// An attempt from its own item (`doc`) or from the delivery item that
/// holds it (`done`).
pub(super) fn attempt_from(item: &Item) -> Result<Attempt, AwsError> {
    let doc = match item.get("done").and_then(|v| v.as_s().ok()) {
        Some(doc) => doc,
        None => get_s(item, "doc")?,
    };
    serde_json::from_str(doc).map_err(|e| AwsError::Corrupt(format!("attempt item: {e}")))
}
