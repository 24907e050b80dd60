//! The request a delivery makes: signed with the destination's keys,
//! parsed once per secret and kept until the secrets change.
use hookrelay_models::{
    field_value, BusTarget, DeliveryFormat, Destination, DestinationKind, Event, LambdaTarget,
    Oversize, SnsTarget, SqsTarget, Timestamp, RESERVED_HEADERS,
};
use hookrelay_signing::{signature_header, SigningKey};

use super::Dispatch;
use crate::error::CoreError;
use crate::ports::{AwsTarget, OutboundRequest, OversizeHandling, RequestAuth, Target};

/// A destination's signing secrets as last seen, and their parsed keys.
pub(super) struct SigningKeys {
    secret: hookrelay_signing::Secret,
    second: Option<hookrelay_signing::Secret>,
    retiring: Vec<hookrelay_models::RetiringSecret>,
    /// Every key (current ones, then each retiring one with its expiry),
    /// as `Destination::all_signing_keys` gives them.
    parsed: Vec<(SigningKey, Option<Timestamp>)>,
}

impl Dispatch {
    /// The keys that sign a delivery to `destination` at `now`: its
    /// secrets parsed once, and again only when they change (a rotation
    /// read with the configuration), not on every send.
    fn signing_keys(
        &self,
        destination: &Destination,
        now: Timestamp,
    ) -> Result<Vec<SigningKey>, CoreError> {
        let mut keys = self.signing_keys.lock().unwrap_or_else(|e| e.into_inner());
        let fresh = keys.get(&destination.id).is_some_and(|known| {
            known.secret == destination.secret
                && known.second == destination.second_secret
                && known.retiring == destination.retiring_secrets
        });
        if !fresh {
            // Every retiring secret, whatever its expiry: which still sign
            // is decided below, at each send.
            let all = destination
                .all_signing_keys()
                .map_err(|e| CoreError::Misconfigured(e.to_string()))?;
            keys.insert(
                destination.id.clone(),
                SigningKeys {
                    secret: destination.secret.clone(),
                    second: destination.second_secret.clone(),
                    retiring: destination.retiring_secrets.clone(),
                    parsed: all,
                },
            );
        }
        // The current keys first, then the retiring ones still in their
        // grace period, as `Destination::signing_secrets` orders them.
        Ok(keys[&destination.id]
            .parsed
            .iter()
            .filter(|(_, expires_at)| expires_at.is_none_or(|at| at > now))
            .map(|(key, _)| key.clone())
            .collect())
    }

    /// `series`: the delivery's series of attempts (a replay starts a new
    /// one), which a FIFO queue's deduplication id names, so that retries
    /// within a series are dropped by the queue and a replay is not.
    pub(super) fn outbound_request(
        &self,
        event: &Event,
        destination: &Destination,
        now: Timestamp,
        series: u32,
    ) -> Result<OutboundRequest, CoreError> {
        let secrets = self.signing_keys(destination, now)?;
        let body = match destination.format {
            DeliveryFormat::Raw => event.body.clone(),
            DeliveryFormat::Slack => slack_message(event).into(),
        };
        let msg_id = event.message_id();
        let timestamp = now.unix_secs();
        let mut headers = vec![
            ("webhook-id".to_string(), msg_id.to_string()),
            ("webhook-timestamp".to_string(), timestamp.to_string()),
            (
                "webhook-signature".to_string(),
                signature_header(&secrets, msg_id.as_str(), timestamp, &body),
            ),
            (
                "content-type".to_string(),
                match destination.format {
                    DeliveryFormat::Raw => event.content_type().to_string(),
                    DeliveryFormat::Slack => "application/json".to_string(),
                },
            ),
            ("user-agent".to_string(), self.settings.user_agent.clone()),
        ];
        if let Some(event_type) = &event.event_type {
            headers.push(("hookrelay-event-type".to_string(), event_type.clone()));
        }
        headers.push(("hookrelay-source".to_string(), event.source.to_string()));
        for (name, value) in &destination.headers {
            // Validated at write time; checked again so a hand-edited table
            // cannot override the signature.
            if !RESERVED_HEADERS
                .iter()
                .any(|r| r.eq_ignore_ascii_case(name))
            {
                headers.push((name.clone(), value.clone()));
            }
        }
        let (url, target) = match destination.kind {
            DestinationKind::Http => (destination.url.clone(), Target::Http),
            kind => {
                // A consumer of a queue, topic, bus or function sees no
                // URL or request line: the event's own id travels too.
                headers.push(("hookrelay-event-id".to_string(), event.id.to_string()));
                let (url, region, fifo) = match kind {
                    DestinationKind::Eventbridge => {
                        let bus =
                            BusTarget::parse(&destination.url).map_err(CoreError::Misconfigured)?;
                        (bus.bus, bus.region, false)
                    }
                    DestinationKind::Lambda => {
                        let function = LambdaTarget::parse(&destination.url)
                            .map_err(CoreError::Misconfigured)?;
                        (function.function, function.region, false)
                    }
                    DestinationKind::Sns => {
                        let topic =
                            SnsTarget::parse(&destination.url).map_err(CoreError::Misconfigured)?;
                        (topic.arn, Some(topic.region), topic.fifo)
                    }
                    _ => {
                        let queue =
                            SqsTarget::parse(&destination.url).map_err(CoreError::Misconfigured)?;
                        (queue.url, queue.region, queue.fifo)
                    }
                };
                let target = AwsTarget {
                    region,
                    role: destination
                        .role_arn
                        .clone()
                        .map(|arn| (arn, destination.external_id.clone())),
                    fifo: fifo.then(|| {
                        (
                            group_id(event, destination),
                            format!("{msg_id}.{}.{series}", destination.id),
                        )
                    }),
                    oversize: match destination.oversize {
                        Oversize::Pointer => OversizeHandling::Pointer {
                            url_ttl: destination.pointer_url_ttl(),
                        },
                        Oversize::Fail => OversizeHandling::Fail,
                    },
                };
                match kind {
                    DestinationKind::Sns => (url, Target::Sns(target)),
                    DestinationKind::Eventbridge => (url, Target::Eventbridge(target)),
                    DestinationKind::Lambda => {
                        (url, Target::Lambda(target, destination.invocation()))
                    }
                    _ => (url, Target::Sqs(target)),
                }
            }
        };
        Ok(OutboundRequest {
            url,
            headers,
            body,
            timeout: destination.timeout(),
            target,
            auth: destination.auth.clone().map(|auth| RequestAuth {
                destination: destination.id.clone(),
                auth,
            }),
        })
    }
}

/// A chat message about `event` (`format = "slack"`): an operational
/// event's summary, or a line naming any other event (the body itself may
/// be large, and is not the channel's business).
fn slack_message(event: &Event) -> Vec<u8> {
    let text = crate::operational::summary_of(event).unwrap_or_else(|| {
        format!(
            "{} event {} from {} ({})",
            event.event_type.as_deref().unwrap_or("an"),
            event.id,
            event.source,
            event.received_at
        )
    });
    serde_json::to_vec(&serde_json::json!({ "text": text })).expect("JSON values always serialize")
}

/// A FIFO queue's message group for `event`: read where the destination's
/// `group_key` says (a header, or a JSON pointer into the body: a string as
/// it is, anything else as its JSON), else its ordering key's value (so a
/// key's events are one group, in order), else the source's id; cut to
/// what a group id may hold (128 printable ASCII characters).
fn group_id(event: &Event, destination: &Destination) -> String {
    let read = match (&destination.group_key, &destination.ordering) {
        (Some(field), _) => field_value(field, event),
        (None, Some(ordering)) => ordering.key.value_of(event),
        (None, None) => None,
    };
    let id: String = read
        .unwrap_or_else(|| event.source.to_string())
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(128)
        .collect();
    if id.is_empty() {
        event.source.to_string()
    } else {
        id
    }
}
