//! An event as an EventBridge entry. `Source` is `hookrelay.{source id}`,
//! `DetailType` the event's type (`webhook` when it has none; at most 128
//! characters). `Detail` must be a JSON object: a body that is one is the
//! detail itself, with a `hookrelay` field added that says what it is
//! (`event_id`, `webhook_id`, `source`, `type`, `timestamp`), so rules
//! match on the body as the provider sent it (`detail.data.object.amount`).
//! Any other body — JSON that is not an object, text, binary, or an object
//! that has a `hookrelay` field of its own — is wrapped:
//! `{"body": …, "body_encoding": "json" | "text" | "base64", "hookrelay": {…}}`.
//!
//! `PutEvents` answers 200 even when it refuses an entry; the entry's
//! `ErrorCode` decides what the attempt was ([`entry_outcome`]).
use aws_sdk_eventbridge::operation::put_events::PutEventsOutput;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use base64::Engine;
use hookrelay_core::{OutboundRequest, SendResult};
use hookrelay_models::{AttemptErrorKind, AttemptOutcome};
use serde_json::{json, Map, Value};
use std::time::Instant;

/// The most characters EventBridge takes in a `DetailType`.
const MAX_DETAIL_TYPE: usize = 128;

/// What the delivery is (`event_id`, `webhook_id`, `source`, `type`,
/// `timestamp`): the `hookrelay` field of a detail or a pointer.
pub(crate) fn metadata(request: &OutboundRequest) -> Value {
    json!({
        "event_id": request.header("hookrelay-event-id"),
        "webhook_id": request.header("webhook-id"),
        "source": request.header("hookrelay-source"),
        "type": request.header("hookrelay-event-type"),
        "timestamp": request.header("webhook-timestamp"),
    })
}

/// The detail (a JSON object) for `request`'s body.
pub(crate) fn detail(request: &OutboundRequest) -> Value {
    let meta = metadata(request);
    let (body, encoding) = match serde_json::from_slice::<Value>(&request.body) {
        Ok(Value::Object(mut object)) if !object.contains_key("hookrelay") => {
            object.insert("hookrelay".into(), meta);
            return Value::Object(object);
        }
        Ok(value) => (value, "json"),
        Err(_) => match std::str::from_utf8(&request.body) {
            Ok(text) => (Value::String(text.to_string()), "text"),
            Err(_) => (
                Value::String(base64::engine::general_purpose::STANDARD.encode(&request.body)),
                "base64",
            ),
        },
    };
    let mut wrapped = Map::new();
    wrapped.insert("body".into(), body);
    wrapped.insert("body_encoding".into(), Value::String(encoding.into()));
    wrapped.insert("hookrelay".into(), meta);
    Value::Object(wrapped)
}

/// The `PutEvents` entry for `request`, to the bus `bus`.
pub(crate) fn entry(request: &OutboundRequest, bus: &str) -> PutEventsRequestEntry {
    entry_with_detail(request, bus, &detail(request))
}

/// As [`entry`], with `detail` (a pointer to the body, say) as the detail.
pub(crate) fn entry_with_detail(
    request: &OutboundRequest,
    bus: &str,
    detail: &Value,
) -> PutEventsRequestEntry {
    let source = request.header("hookrelay-source").unwrap_or("unknown");
    let detail_type: String = request
        .header("hookrelay-event-type")
        .filter(|t| !t.is_empty())
        .unwrap_or("webhook")
        .chars()
        .take(MAX_DETAIL_TYPE)
        .collect();
    PutEventsRequestEntry::builder()
        .event_bus_name(bus)
        .source(format!("hookrelay.{source}"))
        .detail_type(detail_type)
        .detail(detail.to_string())
        .build()
}

/// What an attempt was, for an entry `PutEvents` refused with `code`:
///
/// - `ThrottlingException` (429) and `InternalFailure` (500), which AWS
///   says to retry: retried on the destination's schedule.
/// - `MalformedDetail` and `InvalidArgument`, about what the entry holds:
///   the same entry is refused every time, so the delivery fails for good
///   at once ([`AttemptErrorKind::Undeliverable`]).
/// - The rest — `AccessDeniedException`, `NotAuthorizedForSourceException`,
///   `NotAuthorizedForDetailTypeException`, `InvalidAccountIdException`,
///   `RedactionFailure`, codes not known yet — 400, retried on the
///   schedule like an HTTP 403: a bus policy or role fixed within it lets
///   the delivery through without a replay, and a destination refused this
///   way for a day is disabled.
pub(crate) fn entry_outcome(code: &str) -> AttemptOutcome {
    match code {
        "ThrottlingException" => AttemptOutcome::Response { status: 429 },
        "InternalFailure" | "InternalException" => AttemptOutcome::Response { status: 500 },
        "MalformedDetail" | "InvalidArgument" => AttemptOutcome::Error {
            error: AttemptErrorKind::Undeliverable,
        },
        _ => AttemptOutcome::Response { status: 400 },
    }
}

/// The attempt `PutEvents`' answer makes: delivered with the entry's
/// event id, or failed with its `ErrorCode` and message (`FailedEntryCount`
/// counts it; the entry says which).
pub(crate) fn put_result(answer: &PutEventsOutput, started: Instant) -> SendResult {
    let (outcome, response_body) = match answer.entries().first() {
        Some(put) if put.error_code().is_none() && answer.failed_entry_count() == 0 => (
            AttemptOutcome::Response { status: 200 },
            format!("EventId {}", put.event_id().unwrap_or_default()),
        ),
        Some(put) => {
            let code = put.error_code().unwrap_or("error");
            (
                entry_outcome(code),
                format!("{code}: {}", put.error_message().unwrap_or("no message")),
            )
        }
        None => (
            AttemptOutcome::Error {
                error: AttemptErrorKind::Io,
            },
            "PutEvents answered no entry".to_string(),
        ),
    };
    SendResult {
        outcome,
        response_body,
        response_truncated: false,
        retry_after: None,
        duration: started.elapsed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body: &[u8]) -> OutboundRequest {
        OutboundRequest {
            url: "default".into(),
            headers: vec![
                ("webhook-id".into(), "msg_1".into()),
                ("hookrelay-source".into(), "stripe".into()),
                ("hookrelay-event-type".into(), "invoice.paid".into()),
                ("hookrelay-event-id".into(), "evt_1".into()),
            ],
            body: body.to_vec().into(),
            timeout: std::time::Duration::from_secs(5),
            target: Default::default(),
            auth: None,
        }
    }

    #[test]
    fn an_object_body_is_the_detail_with_what_it_is_added() {
        let detail = detail(&request(br#"{"data":{"amount":5}}"#));
        assert_eq!(detail["data"]["amount"], 5);
        assert_eq!(detail["hookrelay"]["event_id"], "evt_1");
        assert_eq!(detail["hookrelay"]["webhook_id"], "msg_1");
        assert_eq!(detail["hookrelay"]["source"], "stripe");
    }

    #[test]
    fn other_bodies_are_wrapped_and_say_how() {
        for (body, expected, encoding) in [
            (&b"[1,2]"[..], json!([1, 2]), "json"),
            (&b"a=1&b=2"[..], json!("a=1&b=2"), "text"),
            (&[0xff, 0x00][..], json!("/wA="), "base64"),
            (&br#"{"hookrelay":1}"#[..], json!({"hookrelay": 1}), "json"),
        ] {
            let detail = detail(&request(body));
            assert_eq!(detail["body"], expected);
            assert_eq!(detail["body_encoding"], encoding);
            assert_eq!(detail["hookrelay"]["webhook_id"], "msg_1");
        }
    }

    #[test]
    fn the_entry_names_its_source_and_type() {
        let entry = entry(&request(b"{}"), "orders");
        assert_eq!(entry.source(), Some("hookrelay.stripe"));
        assert_eq!(entry.detail_type(), Some("invoice.paid"));
        assert_eq!(entry.event_bus_name(), Some("orders"));
    }

    fn answer(entry: aws_sdk_eventbridge::types::PutEventsResultEntry) -> PutEventsOutput {
        let failed = i32::from(entry.error_code().is_some());
        PutEventsOutput::builder()
            .failed_entry_count(failed)
            .entries(entry)
            .build()
    }

    fn refused(code: &str) -> PutEventsOutput {
        answer(
            aws_sdk_eventbridge::types::PutEventsResultEntry::builder()
                .error_code(code)
                .error_message("it says why")
                .build(),
        )
    }

    /// `PutEvents` answered 200 with `FailedEntryCount` 1: the attempt is
    /// failed with the entry's code, and whether it is retried depends on
    /// the code. Built with the SDK's own builders: moto refuses an entry
    /// only for what hookrelay never sends (an empty `DetailType`,
    /// `Source` or `Detail`, a `Detail` that is not JSON), so the
    /// retryable codes cannot be had from it.
    #[test]
    fn a_refused_entry_is_a_failed_attempt_with_its_code() {
        let started = Instant::now();
        let ok = put_result(
            &answer(
                aws_sdk_eventbridge::types::PutEventsResultEntry::builder()
                    .event_id("e-1")
                    .build(),
            ),
            started,
        );
        assert_eq!(ok.outcome, AttemptOutcome::Response { status: 200 });
        assert_eq!(ok.response_body, "EventId e-1");
        let undeliverable = AttemptOutcome::Error {
            error: AttemptErrorKind::Undeliverable,
        };
        for (code, outcome) in [
            (
                "ThrottlingException",
                AttemptOutcome::Response { status: 429 },
            ),
            ("InternalFailure", AttemptOutcome::Response { status: 500 }),
            ("MalformedDetail", undeliverable),
            ("InvalidArgument", undeliverable),
            (
                "AccessDeniedException",
                AttemptOutcome::Response { status: 400 },
            ),
            (
                "NotAuthorizedForSourceException",
                AttemptOutcome::Response { status: 400 },
            ),
            ("SomethingNew", AttemptOutcome::Response { status: 400 }),
        ] {
            let result = put_result(&refused(code), started);
            assert_eq!(result.outcome, outcome, "{code}");
            assert_eq!(result.response_body, format!("{code}: it says why"));
        }
        let none = put_result(&PutEventsOutput::builder().build(), started);
        assert!(!none.outcome.is_success());
    }

    /// What follows each: the retryable codes are retried on the schedule,
    /// the entry's own faults fail for good at once.
    #[test]
    fn retryable_codes_are_retried_and_the_entrys_own_faults_are_not() {
        use hookrelay_core::{next_step, NextStep, RetryPolicy};
        let schedule =
            hookrelay_models::RetrySchedule::new(vec![std::time::Duration::ZERO; 3]).unwrap();
        let step = |code: &str| {
            let result = put_result(&refused(code), Instant::now());
            next_step(
                &schedule,
                1,
                0,
                result.outcome,
                None,
                0.0,
                &RetryPolicy::default(),
            )
        };
        for code in [
            "ThrottlingException",
            "InternalFailure",
            "AccessDeniedException",
        ] {
            assert!(matches!(step(code), NextStep::Retry { .. }), "{code}");
        }
        for code in ["MalformedDetail", "InvalidArgument"] {
            assert_eq!(step(code), NextStep::Failed, "{code}");
        }
    }
}
