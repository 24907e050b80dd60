//! The request a delivery makes: signed with the destination's keys,
//! parsed once per secret and kept until the secrets change.
use hookrelay_models::{Destination, Event, Timestamp, RESERVED_HEADERS};
use hookrelay_signing::{signature_header, WebhookSecret};

use super::Dispatch;
use crate::error::CoreError;
use crate::ports::OutboundRequest;

/// A destination's signing secrets as last seen, and their parsed keys.
pub(super) struct SigningKeys {
    secret: hookrelay_signing::Secret,
    retiring: Vec<hookrelay_models::RetiringSecret>,
    /// The current secret's key, then each retiring one's, in order.
    parsed: Vec<WebhookSecret>,
}

impl Dispatch {
    /// The keys that sign a delivery to `destination` at `now`: its
    /// secrets parsed once, and again only when they change (a rotation
    /// read with the configuration), not on every send.
    fn signing_keys(
        &self,
        destination: &Destination,
        now: Timestamp,
    ) -> Result<Vec<WebhookSecret>, CoreError> {
        let mut keys = self.signing_keys.lock().unwrap_or_else(|e| e.into_inner());
        let fresh = keys.get(&destination.id).is_some_and(|known| {
            known.secret == destination.secret && known.retiring == destination.retiring_secrets
        });
        if !fresh {
            // Every retiring secret, whatever its expiry: which still sign
            // is decided below, at each send.
            let all = destination
                .signing_secrets(Timestamp::from_unix_millis(i64::MIN))
                .map_err(|e| CoreError::Misconfigured(e.to_string()))?;
            keys.insert(
                destination.id.clone(),
                SigningKeys {
                    secret: destination.secret.clone(),
                    retiring: destination.retiring_secrets.clone(),
                    parsed: all,
                },
            );
        }
        let known = &keys[&destination.id];
        // The current secret first, then the retiring ones still in their
        // grace period, as `Destination::signing_secrets` orders them.
        Ok(known
            .parsed
            .iter()
            .enumerate()
            .filter(|(i, _)| *i == 0 || known.retiring[i - 1].expires_at > now)
            .map(|(_, key)| key.clone())
            .collect())
    }

    pub(super) fn outbound_request(
        &self,
        event: &Event,
        destination: &Destination,
        now: Timestamp,
    ) -> Result<OutboundRequest, CoreError> {
        let secrets = self.signing_keys(destination, now)?;
        let msg_id = event.message_id();
        let timestamp = now.unix_secs();
        let mut headers = vec![
            ("webhook-id".to_string(), msg_id.to_string()),
            ("webhook-timestamp".to_string(), timestamp.to_string()),
            (
                "webhook-signature".to_string(),
                signature_header(&secrets, msg_id.as_str(), timestamp, &event.body),
            ),
            ("content-type".to_string(), event.content_type().to_string()),
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
        Ok(OutboundRequest {
            url: destination.url.clone(),
            headers,
            body: event.body.clone(),
            timeout: destination.timeout(),
        })
    }
}
