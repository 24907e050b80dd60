//! The dispatcher Lambda's handler: an SQS batch in, a partial batch
//! response out. Only the messages that must be retried are reported as
//! failed (the event source enables `ReportBatchItemFailures`), so one bad
//! destination never makes SQS redeliver the whole batch.
#![forbid(unsafe_code)]

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use hookrelay_core::{AlertSettings, DeadLetters, Dispatch, DispatchSettings, Received};
use serde_json::Value;
use std::time::Duration;

/// Settings of the dispatcher, read from the environment once.
#[derive(Debug, Clone)]
pub struct DispatcherSettings {
    pub dispatch: DispatchSettings,
    /// Let deliveries reach private and loopback addresses (local
    /// development and tests only).
    pub allow_private_destinations: bool,
    pub config_cache: Duration,
    /// The queue's dead-letter queue, looked at on a schedule for
    /// `dead_letters.waiting`.
    pub dead_letter_queue_url: Option<String>,
}

impl DispatcherSettings {
    /// `HOOKRELAY_ALLOW_PRIVATE_DESTINATIONS` (`true`/`false`, default
    /// false), `HOOKRELAY_DISPATCH_CONCURRENCY` (default 16),
    /// `HOOKRELAY_CONFIG_CACHE_SECS` (default 30),
    /// `HOOKRELAY_AUTO_DISABLE_AFTER` (default `24h`; `off`),
    /// `HOOKRELAY_PROBE_EVERY` (default `off`; e.g. `15m`),
    /// `HOOKRELAY_LEASE_MARGIN_SECS` (default 30: how long past a
    /// destination's timeout a delivery held by a dispatcher that died is
    /// taken over), `HOOKRELAY_BODY_BYTES_IN_FLIGHT` (default a quarter
    /// of the function's memory, `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, or
    /// 32 MiB: how many bytes of event bodies a batch reads and sends at
    /// once), `HOOKRELAY_ALERT_WINDOW` (default `1h`; `off`: every
    /// operational event is sent), `HOOKRELAY_FAILING_ALERT_AFTER`
    /// (default 5 failed attempts in a row), `HOOKRELAY_RETENTION_DAYS`
    /// (default 30, for operational events as for received ones),
    /// `HOOKRELAY_DEAD_LETTER_QUEUE_URL` (none: not checked).
    pub fn from_env() -> Result<Self, String> {
        Self::from_variables(|name| std::env::var(name).ok())
    }

    /// As [`from_env`](Self::from_env), reading each variable through
    /// `variable`.
    pub fn from_variables(variable: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let get = |name: &str| variable(name).filter(|v| !v.is_empty());
        let allow_private_destinations =
            match get("HOOKRELAY_ALLOW_PRIVATE_DESTINATIONS").as_deref() {
                None | Some("false") | Some("0") => false,
                Some("true") | Some("1") => true,
                Some(other) => {
                    return Err(format!(
                        "HOOKRELAY_ALLOW_PRIVATE_DESTINATIONS must be true or false, got {other:?}"
                    ))
                }
            };
        let number = |name: &str, default: u64| -> Result<u64, String> {
            match get(name) {
                Some(value) => value
                    .parse()
                    .map_err(|_| format!("{name} must be a whole number, got {value:?}")),
                None => Ok(default),
            }
        };
        let period = |name: &str, default: Option<Duration>| -> Result<Option<Duration>, String> {
            match get(name) {
                Some(value) => hookrelay_models::parse_optional_period(&value)
                    .map_err(|e| format!("{name}: {e}")),
                None => Ok(default),
            }
        };
        let defaults = DispatchSettings::default();
        let quarter_of_memory = match get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE") {
            Some(_) => number("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", 0)? << 18,
            None => defaults.body_bytes_in_flight as u64,
        };
        Ok(DispatcherSettings {
            dispatch: DispatchSettings {
                concurrency: number("HOOKRELAY_DISPATCH_CONCURRENCY", 16)? as usize,
                auto_disable_after: period(
                    "HOOKRELAY_AUTO_DISABLE_AFTER",
                    defaults.auto_disable_after,
                )?,
                probe_every: period("HOOKRELAY_PROBE_EVERY", defaults.probe_every)?,
                lease_margin: Duration::from_secs(number(
                    "HOOKRELAY_LEASE_MARGIN_SECS",
                    defaults.lease_margin.as_secs(),
                )?),
                body_bytes_in_flight: number("HOOKRELAY_BODY_BYTES_IN_FLIGHT", quarter_of_memory)?
                    as usize,
                alerts: AlertSettings {
                    window: period("HOOKRELAY_ALERT_WINDOW", Some(defaults.alerts.window))?
                        .unwrap_or(Duration::ZERO),
                    failing_after: u32::try_from(number(
                        "HOOKRELAY_FAILING_ALERT_AFTER",
                        defaults.alerts.failing_after.into(),
                    )?)
                    .map_err(|_| "HOOKRELAY_FAILING_ALERT_AFTER is too large".to_string())?,
                    retention: Duration::from_secs(
                        number("HOOKRELAY_RETENTION_DAYS", 30)?.saturating_mul(86_400),
                    ),
                },
                ..defaults
            },
            allow_private_destinations,
            config_cache: Duration::from_secs(number("HOOKRELAY_CONFIG_CACHE_SECS", 30)?),
            dead_letter_queue_url: get("HOOKRELAY_DEAD_LETTER_QUEUE_URL"),
        })
    }
}

/// One invocation: an SQS batch from the event source, or the schedule's
/// tick (an EventBridge `Scheduled Event`) that looks at the dead-letter
/// queue. Anything else is refused, so a misrouted trigger shows in the
/// function's errors rather than pass as an empty batch.
pub async fn handle_invocation(
    dispatch: &Dispatch,
    dead_letters: Option<&dyn DeadLetters>,
    payload: Value,
) -> Result<Value, String> {
    if payload.get("Records").is_some() {
        let event: SqsEvent =
            serde_json::from_value(payload).map_err(|e| format!("unreadable SQS event: {e}"))?;
        let response = handle_batch(dispatch, event).await;
        return serde_json::to_value(response).map_err(|e| e.to_string());
    }
    if payload.get("detail-type").and_then(Value::as_str) == Some("Scheduled Event") {
        let Some(queue) = dead_letters else {
            return Ok(serde_json::json!({"dead_letters": null}));
        };
        let waiting = dispatch
            .alerts()
            .check_dead_letters(queue)
            .await
            .map_err(|e| format!("could not check the dead-letter queue: {e}"))?;
        return Ok(serde_json::json!({ "dead_letters": waiting }));
    }
    Err("not an SQS batch or a scheduled event".to_string())
}

/// Hands the batch to the one batch function (`hookrelay_core::consume`)
/// and lists the records SQS should deliver again.
pub async fn handle_batch(dispatch: &Dispatch, event: SqsEvent) -> SqsBatchResponse {
    // Records are known by their message id: that is what a partial batch
    // response names.
    let batch: Vec<Received> = event
        .records
        .into_iter()
        .map(|record| Received {
            receipt: record.message_id.unwrap_or_default(),
            body: record.body.unwrap_or_default(),
        })
        .collect();
    let mut response = SqsBatchResponse::default();
    for receipt in hookrelay_core::handle_batch(dispatch, &batch).await {
        let mut failure = BatchItemFailure::default();
        failure.item_identifier = receipt;
        response.batch_item_failures.push(failure);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(variables: &[(&str, &str)]) -> Result<DispatcherSettings, String> {
        DispatcherSettings::from_variables(|name| {
            variables
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn the_body_budget_is_a_quarter_of_the_function_unless_set() {
        let mib = 1 << 20;
        assert_eq!(
            settings(&[]).unwrap().dispatch.body_bytes_in_flight,
            32 * mib
        );
        let on_lambda = [("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")];
        assert_eq!(
            settings(&on_lambda).unwrap().dispatch.body_bytes_in_flight,
            128 * mib
        );
        let set = [
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512"),
            ("HOOKRELAY_BODY_BYTES_IN_FLIGHT", "1000"),
        ];
        assert_eq!(settings(&set).unwrap().dispatch.body_bytes_in_flight, 1000);
        let bad = [("HOOKRELAY_BODY_BYTES_IN_FLIGHT", "lots")];
        assert!(settings(&bad)
            .unwrap_err()
            .contains("HOOKRELAY_BODY_BYTES_IN_FLIGHT"));
    }
}
