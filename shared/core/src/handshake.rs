//! Provider handshakes the receiver answers itself, after verification:
//! they prove the endpoint to the provider and are never queued.
use hookrelay_models::Source;
use hookrelay_signing::{HeaderLookup, SchemeKind, Verifier};
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::CoreError;
use crate::extract::LazyJson;
use hookrelay_signing::VerifyError;

/// An answer to a handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeReply {
    /// 200, or what the provider asks for (Discord's PING: 204).
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

/// Longest challenge echoed back: providers send short random tokens.
const MAX_CHALLENGE: usize = 256;

/// A challenge fit to echo: short, and only characters random tokens are
/// made of, so an answer can never carry markup or a header break.
fn echoable(challenge: &str) -> bool {
    (1..=MAX_CHALLENGE).contains(&challenge.len())
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.~=+/".contains(&b))
}

fn query_param(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// The `GET` a provider sends to check an endpoint before it posts to it;
/// `Ok(None)` when the source's scheme has none (the caller answers 405).
/// Never stored or queued.
/// - Meta: `?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`, the
///   token compared in constant time with the source's `verify_token`, the
///   challenge echoed (developers.facebook.com/docs/graph-api/webhooks/getting-started).
/// - Dropbox: `?challenge=…` echoed as text
///   (dropbox.com/developers/reference/webhooks).
/// - Okta event hooks: the `X-Okta-Verification-Challenge` header returned
///   as `{"verification": …}` (developer.okta.com/docs/concepts/event-hooks).
pub(crate) fn answer_get(
    source: &Source,
    query: &str,
    headers: &dyn HeaderLookup,
) -> Result<Option<HandshakeReply>, CoreError> {
    let refused = || {
        CoreError::Unauthenticated(VerifyError::MissingHeader(
            "a valid verification request".into(),
        ))
    };
    let text = |challenge: String| HandshakeReply {
        status: 200,
        content_type: "text/plain",
        body: challenge.into_bytes(),
    };
    match source.scheme {
        SchemeKind::Meta => {
            let expected = source.verify_token.as_ref().ok_or_else(refused)?;
            let token = query_param(query, "hub.verify_token").ok_or_else(refused)?;
            let matches: bool = Sha256::digest(token.as_bytes())
                .ct_eq(&Sha256::digest(expected.expose().as_bytes()))
                .into();
            let challenge = query_param(query, "hub.challenge").unwrap_or_default();
            if !matches
                || query_param(query, "hub.mode").as_deref() != Some("subscribe")
                || !echoable(&challenge)
            {
                return Err(refused());
            }
            Ok(Some(text(challenge)))
        }
        SchemeKind::Dropbox => {
            let challenge = query_param(query, "challenge").unwrap_or_default();
            if !echoable(&challenge) {
                return Err(CoreError::Malformed(
                    "challenge is missing or unusual".into(),
                ));
            }
            Ok(Some(text(challenge)))
        }
        SchemeKind::Okta => {
            let challenge = headers
                .header("X-Okta-Verification-Challenge")
                .map(str::trim)
                .unwrap_or_default();
            if !echoable(challenge) {
                return Err(CoreError::Malformed(
                    "X-Okta-Verification-Challenge is missing or unusual".into(),
                ));
            }
            Ok(Some(HandshakeReply {
                status: 200,
                content_type: "application/json",
                body: json!({ "verification": challenge })
                    .to_string()
                    .into_bytes(),
            }))
        }
        _ => Ok(None),
    }
}

/// Requests a provider sends unsigned while a webhook is being set up,
/// answered before verification (they carry no signature to check) and
/// never stored or queued: Microsoft Graph's validation, WooCommerce's creation ping, a POST whose whole
/// body is `webhook_id=<n>`, without WooCommerce's headers, which must get
/// exactly 200 or the webhook stays pending
/// (woocommerce/woocommerce `includes/class-wc-webhook.php`, `deliver_ping`).
/// Anyone may send one; it only ever gets this answer.
pub(crate) fn unsigned_ping(
    scheme: SchemeKind,
    headers: &dyn HeaderLookup,
    body: &[u8],
    query: &str,
) -> Option<HandshakeReply> {
    match scheme {
        // Microsoft Graph validates a subscription's URL with a POST of
        // `?validationToken=…`, answered with the decoded token as text
        // within 10 s (learn.microsoft.com/graph/change-notifications-delivery-webhooks).
        // The token is a sentence, so printable ASCII is echoed (as text,
        // with nosniff).
        SchemeKind::MicrosoftGraph => {
            let token = query_param(query, "validationToken")?;
            let printable = (1..=1024).contains(&token.len())
                && token.bytes().all(|b| (0x20..0x7f).contains(&b));
            printable.then(|| HandshakeReply {
                status: 200,
                content_type: "text/plain",
                body: token.into_bytes(),
            })
        }
        SchemeKind::Woocommerce if headers.header("X-WC-Webhook-Signature").is_none() => {
            let id = std::str::from_utf8(body)
                .ok()?
                .strip_prefix("webhook_id=")?;
            let is_id = (1..=20).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit());
            is_id.then(|| HandshakeReply {
                status: 200,
                content_type: "text/plain",
                body: b"ok".to_vec(),
            })
        }
        _ => None,
    }
}

/// Slack's `url_verification`, Zoom's `endpoint.url_validation`,
/// Twitch's `webhook_callback_verification` and Discord's PING
/// interaction; `None` for ordinary events.
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
                status: 200,
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
                status: 200,
                content_type: "application/json",
                body: json!({ "plainToken": plain, "encryptedToken": encrypted })
                    .to_string()
                    .into_bytes(),
            })
        }
        // Discord's webhook-event PING (`type: 0`): 204 with an empty body
        // and a content type, never stored (discord.com/developers/docs/
        // events/webhook-events: "acknowledge the request by returning a
        // 204 response with an empty body").
        SchemeKind::Discord
            if json
                .get()
                .is_some_and(|v| v.get("type") == Some(&json!(0)) && v.get("event").is_none()) =>
        {
            Some(HandshakeReply {
                status: 204,
                content_type: "application/json",
                body: Vec::new(),
            })
        }
        // Discord's PING interaction: answered PONG, the same type 1
        // (discord.com/developers/docs/interactions/overview).
        SchemeKind::Discord
            if json.get().is_some_and(|v| v.get("type") == Some(&json!(1)))
                && json.get().is_some_and(|v| v.get("event").is_none()) =>
        {
            Some(HandshakeReply {
                status: 200,
                content_type: "application/json",
                body: br#"{"type":1}"#.to_vec(),
            })
        }
        SchemeKind::Twitch
            if headers
                .header("Twitch-Eventsub-Message-Type")
                .is_some_and(|t| t.eq_ignore_ascii_case("webhook_callback_verification")) =>
        {
            Some(HandshakeReply {
                status: 200,
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

#[cfg(test)]
mod tests {
    use super::*;
    use hookrelay_signing::HeaderPairs;

    #[test]
    fn only_woocommerces_bare_ping_is_answered_unsigned() {
        let none: [(&str, &str); 0] = [];
        let signed = [("X-WC-Webhook-Signature", "abc=")];
        let ping = |scheme, headers: &dyn HeaderLookup, body: &[u8]| {
            unsigned_ping(scheme, headers, body, "").is_some()
        };
        assert!(ping(
            SchemeKind::Woocommerce,
            &HeaderPairs(&none),
            b"webhook_id=12"
        ));
        for body in [
            &b"webhook_id="[..],
            b"webhook_id=12&x=1",
            b"webhook_id=-1",
            b"{\"id\":12}",
            b"webhook_id=123456789012345678901",
        ] {
            assert!(!ping(SchemeKind::Woocommerce, &HeaderPairs(&none), body));
        }
        assert!(!ping(
            SchemeKind::Woocommerce,
            &HeaderPairs(&signed),
            b"webhook_id=12"
        ));
        assert!(!ping(
            SchemeKind::Github,
            &HeaderPairs(&none),
            b"webhook_id=12"
        ));
    }
}

#[cfg(test)]
mod graph_tests {
    use super::*;
    use hookrelay_signing::HeaderPairs;

    #[test]
    fn microsoft_graphs_validation_token_comes_back_decoded() {
        let none: [(&str, &str); 0] = [];
        let reply = unsigned_ping(
            SchemeKind::MicrosoftGraph,
            &HeaderPairs(&none),
            b"",
            "validationToken=Validation%3a+Testing+client+application+reachability",
        )
        .unwrap();
        assert_eq!(reply.content_type, "text/plain");
        assert_eq!(
            reply.body,
            b"Validation: Testing client application reachability"
        );
        for query in ["", "other=1", "validationToken=", "validationToken=%0d%0aX"] {
            assert!(
                unsigned_ping(SchemeKind::MicrosoftGraph, &HeaderPairs(&none), b"", query)
                    .is_none(),
                "{query}"
            );
        }
    }
}
