//! An accepted webhook, kept exactly as the provider sent it.
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use bytes::Bytes;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ids::{EventId, MessageId, SourceId};
use crate::time::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub id: EventId,
    pub source: SourceId,
    /// `push`, `pull_request.opened`, `invoice.paid`, … when it could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    /// The provider's own id for this delivery, used for dedupe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_delivery_id: Option<String>,
    pub received_at: Timestamp,
    /// Request headers as received (names lower-cased), minus hop-by-hop
    /// ones. Kept for `events show` and for re-verification.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// The exact bytes received; base64 in JSON. Shared, not copied: the
    /// dispatcher sends one body to every destination (and may hold ten
    /// 5 MiB events at once), so each request refers to the same bytes.
    #[serde(serialize_with = "as_base64", deserialize_with = "from_base64")]
    pub body: Bytes,
}

impl Event {
    /// The `webhook-id` every delivery of this event carries.
    pub fn message_id(&self) -> MessageId {
        self.id.message_id()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The content type to deliver with: the provider's, or JSON.
    pub fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or("application/json")
    }
}

fn as_base64<S: Serializer>(body: &Bytes, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&BASE64.encode(body))
}

fn from_base64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Bytes, D::Error> {
    let text = String::deserialize(deserializer)?;
    BASE64
        .decode(text)
        .map(Bytes::from)
        .map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_through_json_with_binary_bodies() {
        let event = Event {
            id: EventId::new(Timestamp::from_unix_secs(1)),
            source: SourceId::parse("github").unwrap(),
            event_type: Some("push".into()),
            provider_delivery_id: Some("d-1".into()),
            received_at: Timestamp::from_unix_secs(1),
            headers: vec![(
                "content-type".into(),
                "application/x-www-form-urlencoded".into(),
            )],
            body: Bytes::from_static(&[0, 159, 146, 150, b'{']),
        };
        let json = serde_json::to_string(&event).unwrap();
        assert!(
            json.contains("\"body\":\"AJ+Slnv7\"") || json.contains("\"body\":\"AJ+Slns=\""),
            "{json}"
        );
        let back: Event = serde_json::from_str(&json).unwrap();
        assert_eq!(back, event);
        assert_eq!(back.content_type(), "application/x-www-form-urlencoded");
        assert_eq!(back.message_id(), event.id.message_id());
    }
}
