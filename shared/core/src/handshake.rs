//! Provider handshakes the receiver answers itself, after verification:
//! they prove the endpoint to the provider and are never queued.
use hookrelay_signing::{HeaderLookup, SchemeKind, Verifier};
use serde_json::json;

use crate::extract::LazyJson;

/// An answer to a handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeReply {
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

/// Slack's `url_verification`, Zoom's `endpoint.url_validation` and
/// Twitch's `webhook_callback_verification`; `None` for ordinary events.
pub(crate) fn reply(
    scheme: SchemeKind,
    verifier: &Verifier,
    headers: &dyn HeaderLookup,
    json: &mut LazyJson<'_>,
) -> Option<HandshakeReply> {
    match scheme {
        SchemeKind::Slack if json.string_at("/type").as_deref() == Some("url_verification") => {
            let challenge = json.string_at("/challenge").unwrap_or_default();
            Some(HandshakeReply {
                content_type: "application/json",
                body: json!({ "challenge": challenge }).to_string().into_bytes(),
            })
        }
        SchemeKind::Zoom
            if json.string_at("/event").as_deref() == Some("endpoint.url_validation") =>
        {
            let plain = json.string_at("/payload/plainToken").unwrap_or_default();
            let encrypted = verifier.challenge_response_hex(plain.as_bytes());
            Some(HandshakeReply {
                content_type: "application/json",
                body: json!({ "plainToken": plain, "encryptedToken": encrypted })
                    .to_string()
                    .into_bytes(),
            })
        }
        SchemeKind::Twitch
            if headers
                .header("Twitch-Eventsub-Message-Type")
                .is_some_and(|t| t.eq_ignore_ascii_case("webhook_callback_verification")) =>
        {
            Some(HandshakeReply {
                content_type: "text/plain",
                body: json
                    .string_at("/challenge")
                    .unwrap_or_default()
                    .into_bytes(),
            })
        }
        _ => None,
    }
}
