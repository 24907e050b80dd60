//! A route's content filter: an EventBridge event pattern (see
//! [`crate::pattern`]) over an envelope of the event,
//! `{"source", "type", "headers", "body"}`: headers by lower-case name, the
//! body parsed as JSON, or as form fields for a form-encoded body
//! (a field given more than once is an array).
//!
//! Written in the configuration as the pattern's JSON text, or as a table
//! (TOML); kept and written back as the JSON text (TOML has no `null`, which
//! a pattern may match on).
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::event::Event;
use crate::pattern::EventPattern;

#[derive(Debug, Clone)]
pub struct RouteFilter {
    /// As written: what is stored and shown.
    source: Value,
    pattern: EventPattern,
}

impl PartialEq for RouteFilter {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for RouteFilter {}

impl RouteFilter {
    /// Parses a pattern given as JSON text; refused with the path of the
    /// offending part.
    pub fn parse(text: &str) -> Result<Self, String> {
        let source: Value =
            serde_json::from_str(text).map_err(|e| format!("filter is not JSON: {e}"))?;
        Self::from_value(source)
    }

    pub fn from_value(source: Value) -> Result<Self, String> {
        let pattern = EventPattern::from_value(&source).map_err(|e| format!("filter {e}"))?;
        Ok(RouteFilter { source, pattern })
    }

    pub fn matches(&self, envelope: &Value) -> bool {
        self.pattern.matches(envelope)
    }

    /// Why the filter turns `envelope` away: the dotted path of the first
    /// field, in the pattern's order, that failed (`body.total`); `None`
    /// when it matches. See [`EventPattern::first_mismatch`].
    pub fn first_mismatch(&self, envelope: &Value) -> Option<String> {
        self.pattern.first_mismatch(envelope)
    }

    /// The pattern as written.
    pub fn pattern(&self) -> &Value {
        &self.source
    }
}

impl Serialize for RouteFilter {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.source.to_string())
    }
}

impl<'de> Deserialize<'de> for RouteFilter {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        let filter = match value {
            Value::String(text) => RouteFilter::parse(&text),
            other => RouteFilter::from_value(other),
        };
        filter.map_err(serde::de::Error::custom)
    }
}

/// What a route's filter is matched against. Built once per event,
/// whatever the number of routes.
pub fn envelope(event: &Event) -> Value {
    let headers: Map<String, Value> = event
        .headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), Value::String(value.clone())))
        .collect();
    let form = event
        .content_type()
        .to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded");
    let body = if form {
        form_fields(&event.body)
    } else {
        serde_json::from_slice(&event.body).unwrap_or(Value::Null)
    };
    let mut envelope = Map::new();
    envelope.insert("source".into(), Value::String(event.source.to_string()));
    if let Some(event_type) = &event.event_type {
        envelope.insert("type".into(), Value::String(event_type.clone()));
    }
    envelope.insert("headers".into(), Value::Object(headers));
    if !body.is_null() {
        envelope.insert("body".into(), body);
    }
    Value::Object(envelope)
}

fn form_fields(body: &[u8]) -> Value {
    let mut fields = Map::new();
    for (name, value) in form_urlencoded::parse(body) {
        let value = Value::String(value.into_owned());
        match fields.get_mut(name.as_ref()) {
            Some(Value::Array(values)) => values.push(value),
            Some(first) => *first = Value::Array(vec![first.take(), value]),
            None => {
                fields.insert(name.into_owned(), value);
            }
        }
    }
    Value::Object(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{EventId, SourceId};
    use crate::time::Timestamp;

    fn event(content_type: &str, body: &str) -> Event {
        Event {
            id: EventId::new(Timestamp::from_unix_secs(1)),
            source: SourceId::parse("shop").unwrap(),
            event_type: Some("order.created".into()),
            provider_delivery_id: None,
            received_at: Timestamp::from_unix_secs(1),
            headers: vec![
                ("content-type".into(), content_type.into()),
                ("x-shop-domain".into(), "eu.example.com".into()),
            ],
            body: body.as_bytes().to_vec().into(),
        }
    }

    #[test]
    fn json_and_form_bodies_and_headers_can_be_filtered_on() {
        let big_eu = RouteFilter::parse(
            r#"{"type":[{"prefix":"order."}],"headers":{"x-shop-domain":[{"suffix":".example.com"}]},"body":{"total":[{"numeric":[">",100]}]}}"#,
        )
        .unwrap();
        let json = |total: u32| event("application/json", &format!(r#"{{"total":{total}}}"#));
        assert!(big_eu.matches(&envelope(&json(250))));
        assert!(!big_eu.matches(&envelope(&json(50))));
        let form = RouteFilter::parse(r#"{"body":{"Status":["paid"],"tag":["b"]}}"#).unwrap();
        let posted = event(
            "application/x-www-form-urlencoded",
            "Status=paid&tag=a&tag=b",
        );
        assert!(form.matches(&envelope(&posted)));
        // A body that is neither: no body to match.
        let text = event("text/plain", "total=250");
        assert!(!form.matches(&envelope(&text)));
    }

    #[test]
    fn a_filter_reads_from_json_text_or_a_table_and_stores_the_value() {
        #[derive(Deserialize, Serialize)]
        struct Holder {
            filter: RouteFilter,
        }
        let from_text: Holder =
            toml::from_str(r#"filter = '{"body": {"total": [{"numeric": [">", 100]}]}}'"#).unwrap();
        let from_table: Holder =
            toml::from_str(r#"filter = { body = { total = [{ numeric = [">", 100] }] } }"#)
                .unwrap();
        assert!(from_text.filter == from_table.filter);
        let stored = serde_json::to_string(&from_text).unwrap();
        assert_eq!(
            stored,
            r#"{"filter":"{\"body\":{\"total\":[{\"numeric\":[\">\",100]}]}}"}"#
        );
        let back: Holder = serde_json::from_str(&stored).unwrap();
        assert!(back.filter == from_text.filter);
        // A pattern matching on null still writes back as TOML.
        let null: Holder = toml::from_str(r#"filter = '{"body": {"ref": [null]}}'"#).unwrap();
        let written = toml::to_string(&null).unwrap();
        let again: Holder = toml::from_str(&written).unwrap();
        assert!(again.filter == null.filter, "{written}");
        let refused =
            toml::from_str::<Holder>(r#"filter = '{"body": {"total": [{"numeric": [">"]}]}}'"#)
                .err()
                .unwrap()
                .to_string();
        assert!(refused.contains("/body/total/0/numeric"), "{refused}");
    }
}
