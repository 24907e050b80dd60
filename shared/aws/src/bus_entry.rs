//! An event as an EventBridge entry. `Source` is `hookrelay.{source id}`,
//! `DetailType` the event's type (`webhook` when it has none; at most 128
//! characters). `Detail` must be a JSON object: a body that is one is the
//! detail itself, with a `hookrelay` field added that says what it is
//! (`event_id`, `webhook_id`, `source`, `type`, `timestamp`), so rules
//! match on the body as the provider sent it (`detail.data.object.amount`).
//! Any other body — JSON that is not an object, text, binary, or an object
//! that has a `hookrelay` field of its own — is wrapped:
//! `{"body": …, "body_encoding": "json" | "text" | "base64", "hookrelay": {…}}`.
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use base64::Engine;
use hookrelay_core::OutboundRequest;
use serde_json::{json, Map, Value};

/// The most characters EventBridge takes in a `DetailType`.
const MAX_DETAIL_TYPE: usize = 128;

fn header<'a>(request: &'a OutboundRequest, name: &str) -> Option<&'a str> {
    request
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The detail (a JSON object) for `request`'s body.
pub(crate) fn detail(request: &OutboundRequest) -> Value {
    let meta = json!({
        "event_id": header(request, "hookrelay-event-id"),
        "webhook_id": header(request, "webhook-id"),
        "source": header(request, "hookrelay-source"),
        "type": header(request, "hookrelay-event-type"),
        "timestamp": header(request, "webhook-timestamp"),
    });
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
    let source = header(request, "hookrelay-source").unwrap_or("unknown");
    let detail_type: String = header(request, "hookrelay-event-type")
        .filter(|t| !t.is_empty())
        .unwrap_or("webhook")
        .chars()
        .take(MAX_DETAIL_TYPE)
        .collect();
    PutEventsRequestEntry::builder()
        .event_bus_name(bus)
        .source(format!("hookrelay.{source}"))
        .detail_type(detail_type)
        .detail(detail(request).to_string())
        .build()
}

/// The status an attempt records for an entry `PutEvents` refused: 429 for
/// throttling and 500 for an internal failure, which AWS says to retry;
/// 400 for the rest.
pub(crate) fn status_of_entry_error(code: &str) -> u16 {
    match code {
        "ThrottlingException" => 429,
        "InternalFailure" | "InternalException" => 500,
        _ => 400,
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
        assert_eq!(status_of_entry_error("ThrottlingException"), 429);
        assert_eq!(status_of_entry_error("MalformedDetail"), 400);
    }
}
