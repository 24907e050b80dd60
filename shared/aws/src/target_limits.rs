//! The most each kind of AWS target takes in one message, and how it
//! counts it: one table, so a new kind adds one line. The figures are the services'
//! documented maxima (docs/research/aws-destinations.md); a queue or topic
//! configured lower refuses with its own error, which is a failed attempt
//! like any other.
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use hookrelay_core::Target;

/// An SQS message: 1 MiB, body and attributes.
pub(crate) const SQS_MESSAGE_BYTES: usize = 1_048_576;
/// An SNS message: 256 KiB, body and attributes (a topic's
/// `MaximumMessageSize` may be raised to 1 MiB; hookrelay cannot assume it).
pub(crate) const SNS_MESSAGE_BYTES: usize = 262_144;
/// An EventBridge entry: "less than 1 MB", read as 10^6 bytes (the lower
/// reading: a pointer where 1 MiB would have fitted costs little).
pub(crate) const EVENTBRIDGE_ENTRY_BYTES: usize = 999_999;

/// What a target takes, and what it counts toward it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limit {
    pub bytes: usize,
    /// The service, as the attempt log names it.
    pub service: &'static str,
    /// What is counted, for the attempt log.
    pub counts: &'static str,
}

/// `target`'s limit; none for HTTP (the relay's own body limit holds).
pub(crate) fn limit_of(target: &Target) -> Option<Limit> {
    let (bytes, service, counts) = match target {
        Target::Http => return None,
        Target::Sqs(_) => (SQS_MESSAGE_BYTES, "SQS", "body and attributes"),
        Target::Sns(_) => (SNS_MESSAGE_BYTES, "SNS", "body and attributes"),
        Target::Eventbridge(_) => (
            EVENTBRIDGE_ENTRY_BYTES,
            "EventBridge",
            "Source, DetailType and Detail",
        ),
        Target::Lambda(_, invocation) => (
            invocation.max_payload_bytes(),
            "Lambda",
            "the invocation's event",
        ),
    };
    Some(Limit {
        bytes,
        service,
        counts,
    })
}

/// An SQS or SNS message's size as the service counts it: the body, and
/// each attribute's name, data type (`String`) and value, in bytes.
pub(crate) fn message_bytes(body: &str, attributes: &[(String, String)]) -> usize {
    body.len()
        + attributes
            .iter()
            .map(|(name, value)| name.len() + "String".len() + value.len())
            .sum::<usize>()
}

/// A `PutEvents` entry's size as EventBridge counts it: `Source`,
/// `DetailType`, `Detail` and each of `Resources` in bytes, and 14 for a
/// `Time` (`EventBusName` and `TraceHeader` do not count).
pub(crate) fn entry_bytes(entry: &PutEventsRequestEntry) -> usize {
    entry.source().map_or(0, str::len)
        + entry.detail_type().map_or(0, str::len)
        + entry.detail().map_or(0, str::len)
        + entry.resources().iter().map(String::len).sum::<usize>()
        + if entry.time().is_some() { 14 } else { 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_its_limit() {
        let aws = hookrelay_core::AwsTarget::default();
        assert_eq!(limit_of(&Target::Http), None);
        assert_eq!(
            limit_of(&Target::Sqs(aws.clone())).unwrap().bytes,
            1_048_576
        );
        assert_eq!(limit_of(&Target::Sns(aws.clone())).unwrap().bytes, 262_144);
        assert_eq!(
            limit_of(&Target::Eventbridge(aws.clone())).unwrap().bytes,
            999_999
        );
        let event = hookrelay_models::LambdaInvocation::Event;
        assert_eq!(
            limit_of(&Target::Lambda(aws, event)).unwrap().bytes,
            1 << 20
        );
    }

    #[test]
    fn attributes_count_toward_a_message() {
        let attributes = vec![("webhook-id".to_string(), "msg_1".to_string())];
        assert_eq!(message_bytes("body", &attributes), 4 + 10 + 6 + 5);
        // Bytes, not characters.
        assert_eq!(message_bytes("é", &[]), 2);
    }

    #[test]
    fn an_entry_counts_source_detail_type_and_detail() {
        let entry = PutEventsRequestEntry::builder()
            .event_bus_name("a-long-bus-name-that-does-not-count")
            .source("hookrelay.github")
            .detail_type("push")
            .detail("{}")
            .build();
        assert_eq!(entry_bytes(&entry), 16 + 4 + 2);
    }
}
