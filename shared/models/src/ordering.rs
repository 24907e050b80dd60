//! Ordered delivery per key: which events of a destination must go in
//! order, one after another (README, "Ordered delivery").
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::{Event, FieldSelector};

/// Key values longer than this are kept as their SHA-256 (hex) instead:
/// they name a DynamoDB partition, which holds at most 2 KB of key.
pub const MAX_KEY_BYTES: usize = 256;

/// A destination's `ordering`: deliveries that share a key value are made
/// in the order their events were accepted, each only once every earlier
/// one has succeeded or failed for good.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ordering {
    pub key: OrderingKey,
}

/// Where an event's ordering key is read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum OrderingKey {
    /// The event's source: one order per source.
    Source,
    /// A header, or a JSON pointer into the body (`json:/customer` or
    /// `/customer`).
    Field(FieldSelector),
}

impl FromStr for OrderingKey {
    type Err = String;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        if value == "source" {
            return Ok(OrderingKey::Source);
        }
        let selector = if value.starts_with('/') {
            format!("json:{value}")
        } else {
            value.to_string()
        };
        match selector.parse() {
            Ok(FieldSelector::JsonPointer(pointer)) if pointer.is_empty() => {
                Err("an ordering key's JSON pointer names a field (json:/customer)".into())
            }
            Ok(field) => Ok(OrderingKey::Field(field)),
            Err(_) => Err(format!(
                "{value:?} is not an ordering key: source, header:<Name> or json:/<pointer>"
            )),
        }
    }
}

impl TryFrom<String> for OrderingKey {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<OrderingKey> for String {
    fn from(key: OrderingKey) -> String {
        key.to_string()
    }
}

impl fmt::Display for OrderingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OrderingKey::Source => f.write_str("source"),
            OrderingKey::Field(field) => field.fmt(f),
        }
    }
}

impl OrderingKey {
    /// `event`'s key value, if it has one: a header's value, a body field
    /// (a string as it is, anything else as its JSON), or the source id.
    /// An event without one (the header or field missing, a body that is
    /// not JSON) is not ordered. Long values become their SHA-256.
    pub fn value_of(&self, event: &Event) -> Option<String> {
        let value = match self {
            OrderingKey::Source => event.source.to_string(),
            OrderingKey::Field(field) => field_value(field, event)?,
        };
        if value.is_empty() {
            return None;
        }
        if value.len() <= MAX_KEY_BYTES {
            return Some(value);
        }
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(value.as_bytes());
        Some(format!(
            "sha256:{}",
            digest
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        ))
    }
}

/// The value `field` names in `event`, as [`OrderingKey::value_of`] reads
/// it (a FIFO queue's message group is read the same way).
pub fn field_value(field: &FieldSelector, event: &Event) -> Option<String> {
    match field {
        FieldSelector::Header(name) => event
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone()),
        FieldSelector::JsonPointer(pointer) => {
            serde_json::from_slice::<serde_json::Value>(&event.body)
                .ok()
                .and_then(|body| body.pointer(pointer).cloned())
                .and_then(|value| match value {
                    serde_json::Value::String(text) => Some(text),
                    serde_json::Value::Null => None,
                    other => Some(other.to_string()),
                })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EventId, SourceId, Timestamp};

    fn event(body: &str, headers: &[(&str, &str)]) -> Event {
        let at = Timestamp::from_unix_millis(1_700_000_000_000);
        Event {
            id: EventId::new(at),
            source: SourceId::parse("stripe").unwrap(),
            received_at: at,
            event_type: None,
            provider_delivery_id: None,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: body.as_bytes().to_vec().into(),
        }
    }

    #[test]
    fn keys_parse_in_each_form_and_print_back() {
        for (text, printed) in [
            ("source", "source"),
            ("header:X-Shop", "header:X-Shop"),
            ("json:/data/object/customer", "json:/data/object/customer"),
            ("/data/object/customer", "json:/data/object/customer"),
        ] {
            let key: OrderingKey = text.parse().unwrap();
            assert_eq!(key.to_string(), printed);
        }
        for bad in ["", "json:", "customer", "header:", "header:a b"] {
            assert!(bad.parse::<OrderingKey>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn values_come_from_the_body_a_header_or_the_source() {
        let e = event(
            r#"{"data":{"customer":"cus_1","n":7,"none":null}}"#,
            &[("X-Shop", "shop.example")],
        );
        let value = |key: &str| key.parse::<OrderingKey>().unwrap().value_of(&e);
        assert_eq!(value("/data/customer").as_deref(), Some("cus_1"));
        assert_eq!(value("/data/n").as_deref(), Some("7"));
        assert_eq!(value("/data/none"), None);
        assert_eq!(value("/data/missing"), None);
        assert_eq!(value("header:x-shop").as_deref(), Some("shop.example"));
        assert_eq!(value("header:x-other"), None);
        assert_eq!(value("source").as_deref(), Some("stripe"));
        assert_eq!(
            "/a".parse::<OrderingKey>()
                .unwrap()
                .value_of(&event("not json", &[])),
            None
        );
    }

    #[test]
    fn long_values_become_their_digest() {
        let long = "k".repeat(MAX_KEY_BYTES + 1);
        let e = event(&format!(r#"{{"k":"{long}"}}"#), &[]);
        let value = "/k".parse::<OrderingKey>().unwrap().value_of(&e).unwrap();
        assert!(
            value.starts_with("sha256:") && value.len() == 7 + 64,
            "{value}"
        );
        let other = event(&format!(r#"{{"k":"{long}x"}}"#), &[]);
        assert_ne!(
            "/k".parse::<OrderingKey>().unwrap().value_of(&other),
            Some(value)
        );
    }
}
