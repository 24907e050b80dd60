//! A delivery too large for its AWS target (issue 28): measured as the
//! target counts it (`target_limits`), then sent as it is, or as a pointer
//! to the body (`body_link`) when the destination says `oversize =
//! "pointer"` (the default), or failed for good at once with the reason
//! when it says `oversize = "fail"`.
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use hookrelay_core::{AwsTarget, OutboundRequest, OversizeHandling, SendResult};
use hookrelay_models::{AttemptErrorKind, AttemptOutcome};
use std::time::Instant;

use crate::body_link::{pointer, BodyLink, BodyLinks};
use crate::target_limits::{entry_bytes, limit_of, message_bytes, Limit};

/// The attribute that says how a message's body is encoded.
const BODY_ENCODING: &str = "hookrelay-body-encoding";

/// An SQS or SNS message, fitted to its target.
pub(crate) struct Message {
    pub body: String,
    pub attributes: Vec<(String, String)>,
    /// Where the body is when the message points to it (for the attempt
    /// log: no URL).
    pub pointed_to: Option<String>,
}

/// `body` and `attributes` as they are if they fit `request`'s target;
/// else the pointer in their place (the same attributes, and
/// `hookrelay-body-encoding = pointer`), or the attempt's failure.
pub(crate) async fn fit_message(
    links: Option<&dyn BodyLinks>,
    request: &OutboundRequest,
    target: &AwsTarget,
    body: String,
    mut attributes: Vec<(String, String)>,
    started: Instant,
) -> Result<Message, SendResult> {
    let Some(limit) = limit_of(&request.target) else {
        return Ok(Message {
            body,
            attributes,
            pointed_to: None,
        });
    };
    let size = message_bytes(&body, &attributes);
    if size <= limit.bytes {
        return Ok(Message {
            body,
            attributes,
            pointed_to: None,
        });
    }
    let link = link(links, request, target, limit, size, started).await?;
    attributes.retain(|(name, _)| name != BODY_ENCODING);
    attributes.push((BODY_ENCODING.into(), "pointer".into()));
    let body = pointer(&link, request).to_string();
    let pointed = message_bytes(&body, &attributes);
    if pointed > limit.bytes {
        return Err(undeliverable(
            format!(
                "even the pointer to the body is {pointed} bytes, over {}'s {}",
                limit.service, limit.bytes
            ),
            started,
        ));
    }
    Ok(Message {
        body,
        attributes,
        pointed_to: Some(note(&link, size)),
    })
}

/// `request`'s entry to `bus` if it fits; else an entry whose detail is the
/// pointer, or the attempt's failure. The entry's `Source` and
/// `DetailType` stay, so rules on them match a pointer too.
pub(crate) async fn fit_entry(
    links: Option<&dyn BodyLinks>,
    request: &OutboundRequest,
    target: &AwsTarget,
    bus: &str,
    started: Instant,
) -> Result<(PutEventsRequestEntry, Option<String>), SendResult> {
    let entry = crate::bus_entry::entry(request, bus);
    let Some(limit) = limit_of(&request.target) else {
        return Ok((entry, None));
    };
    let size = entry_bytes(&entry);
    if size <= limit.bytes {
        return Ok((entry, None));
    }
    drop(entry);
    let link = link(links, request, target, limit, size, started).await?;
    let entry = crate::bus_entry::entry_with_detail(request, bus, &pointer(&link, request));
    let pointed = entry_bytes(&entry);
    if pointed > limit.bytes {
        return Err(undeliverable(
            format!(
                "even the pointer to the body is {pointed} bytes, over {}'s {}",
                limit.service, limit.bytes
            ),
            started,
        ));
    }
    Ok((entry, Some(note(&link, size))))
}

/// The `Invoke` payload for `request` (its HTTP API event) if it fits the
/// invocation's limit; else the event of a request whose body is the
/// pointer (with `hookrelay-body-encoding: pointer`, the signature headers
/// still those of the body it points to), or the attempt's failure.
pub(crate) async fn fit_lambda_event(
    links: Option<&dyn BodyLinks>,
    request: &OutboundRequest,
    target: &AwsTarget,
    started: Instant,
) -> Result<(String, Option<String>), SendResult> {
    let payload = crate::lambda_invoke::event(request).to_string();
    let Some(limit) = limit_of(&request.target) else {
        return Ok((payload, None));
    };
    let size = payload.len();
    if size <= limit.bytes {
        return Ok((payload, None));
    }
    drop(payload);
    let link = link(links, request, target, limit, size, started).await?;
    let mut headers = request.headers.clone();
    headers.retain(|(name, _)| !name.eq_ignore_ascii_case(BODY_ENCODING));
    headers.push((BODY_ENCODING.into(), "pointer".into()));
    let pointing = OutboundRequest {
        headers,
        body: pointer(&link, request).to_string().into(),
        ..request.clone()
    };
    let payload = crate::lambda_invoke::event(&pointing).to_string();
    if payload.len() > limit.bytes {
        return Err(undeliverable(
            format!(
                "even the pointer to the body is {} bytes, over {}'s {}",
                payload.len(),
                limit.service,
                limit.bytes
            ),
            started,
        ));
    }
    Ok((payload, Some(note(&link, size))))
}

/// The body kept where its pointer leads, as the destination's `oversize`
/// says; or why not.
async fn link(
    links: Option<&dyn BodyLinks>,
    request: &OutboundRequest,
    target: &AwsTarget,
    limit: Limit,
    size: usize,
    started: Instant,
) -> Result<BodyLink, SendResult> {
    let over = format!(
        "{size} bytes ({}), over {}'s limit of {}",
        limit.counts, limit.service, limit.bytes
    );
    let ttl = match target.oversize {
        OversizeHandling::Fail => {
            return Err(undeliverable(
                format!("{over}; the destination says oversize = \"fail\""),
                started,
            ))
        }
        OversizeHandling::Pointer { url_ttl } => url_ttl,
    };
    let Some(links) = links else {
        return Err(undeliverable(
            format!("{over}, and this dispatcher has no body bucket to point to the body in (HOOKRELAY_BODY_BUCKET); set one, or oversize = \"fail\""),
            started,
        ));
    };
    links
        .link(&request.body, ttl)
        .await
        .map_err(|err| SendResult {
            // The bucket may be back by the next attempt.
            outcome: AttemptOutcome::Error {
                error: AttemptErrorKind::Io,
            },
            response_body: format!("{over}; keeping the body for its pointer failed: {err}"),
            response_truncated: false,
            retry_after: None,
            duration: started.elapsed(),
        })
}

/// What the attempt log says of a pointer: where the body is, never the
/// URL.
fn note(link: &BodyLink, size: usize) -> String {
    format!(
        "; the body ({size} bytes with what counts) by pointer: {}",
        link.location()
    )
}

fn undeliverable(reason: String, started: Instant) -> SendResult {
    SendResult {
        outcome: AttemptOutcome::Error {
            error: AttemptErrorKind::Undeliverable,
        },
        response_body: reason,
        response_truncated: false,
        retry_after: None,
        duration: started.elapsed(),
    }
}
