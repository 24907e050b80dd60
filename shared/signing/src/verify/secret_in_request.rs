//! Schemes whose request carries the secret itself (a token header, Basic
//! credentials, Microsoft Graph's clientState) or signs inside the body
//! (Mailgun).
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{malformed, required, Verified, Verifier};
use crate::error::VerifyError;
use crate::headers::HeaderLookup;
use crate::parse;

impl Verifier {
    /// A header that carries the secret itself. Every secret is compared
    /// (as SHA-256 digests, in constant time) so rotation works as for the
    /// signing schemes.
    pub(super) fn verify_token(
        &self,
        headers: &dyn HeaderLookup,
        body: &[u8],
        header: &'static str,
        prefix: &'static str,
    ) -> Result<Verified, VerifyError> {
        let value = required(headers, header)?;
        let token = value
            .strip_prefix(prefix)
            .ok_or_else(|| malformed(header, "expected prefix is missing"))?;
        if token.is_empty() {
            return Err(malformed(header, "token is empty"));
        }
        let secret_index = self.match_token(token.as_bytes())?;
        Ok(Self::by_token(secret_index, body))
    }

    /// Mailgun: `{"signature": {"timestamp", "token", "signature"}, …}`;
    /// hex HMAC-SHA256 of timestamp and token, which the timestamp's
    /// tolerance keeps from being replayed for long.
    pub(super) fn verify_mailgun(&self, body: &[u8], now: i64) -> Result<Verified, VerifyError> {
        #[derive(Deserialize)]
        struct MailgunBody {
            signature: Option<MailgunSignature>,
        }
        #[derive(Deserialize)]
        struct MailgunSignature {
            timestamp: Option<serde_json::Value>,
            token: Option<String>,
            signature: Option<String>,
        }
        let parsed: MailgunBody = serde_json::from_slice(body)
            .map_err(|_| VerifyError::MalformedBody("body is not a JSON object"))?;
        let object = parsed
            .signature
            .ok_or(VerifyError::MissingBodyField("signature object"))?;
        let timestamp_raw = match object.timestamp {
            Some(serde_json::Value::String(text)) => text,
            Some(serde_json::Value::Number(number)) => number.to_string(),
            Some(_) => {
                return Err(VerifyError::MalformedBody(
                    "signature.timestamp is not a number",
                ))
            }
            None => return Err(VerifyError::MissingBodyField("signature.timestamp")),
        };
        let timestamp =
            parse::parse_unix_seconds(&timestamp_raw).map_err(VerifyError::MalformedBody)?;
        let token = object
            .token
            .ok_or(VerifyError::MissingBodyField("signature.token"))?;
        let signature = object
            .signature
            .ok_or(VerifyError::MissingBodyField("signature.signature"))?;
        let signature = parse::decode_hex(&signature).map_err(VerifyError::MalformedBody)?;
        self.check_timestamp(timestamp, now)?;
        let parts: [&[u8]; 2] = [timestamp_raw.as_bytes(), token.as_bytes()];
        self.timed(&parts, &[signature], timestamp)
    }

    /// Microsoft Graph: `{"value": [{…, "clientState": "…"}, …]}`, where
    /// every notification must carry a configured secret (a batch may mix
    /// subscriptions, each with its own).
    pub(super) fn verify_client_state(&self, body: &[u8]) -> Result<Verified, VerifyError> {
        #[derive(Deserialize)]
        struct Notifications {
            value: Option<Vec<Notification>>,
        }
        #[derive(Deserialize)]
        struct Notification {
            #[serde(rename = "clientState")]
            client_state: Option<String>,
        }
        let parsed: Notifications = serde_json::from_slice(body)
            .map_err(|_| VerifyError::MalformedBody("body is not a JSON object"))?;
        let notifications = parsed
            .value
            .filter(|value| !value.is_empty())
            .ok_or(VerifyError::MissingBodyField("value"))?;
        let mut first = None;
        for notification in notifications {
            let state = notification
                .client_state
                .ok_or(VerifyError::MissingBodyField("value[].clientState"))?;
            let secret_index = self.match_token(state.as_bytes())?;
            first.get_or_insert(secret_index);
        }
        let secret_index = first.ok_or(VerifyError::MissingBodyField("value"))?;
        Ok(Self::by_token(secret_index, body))
    }

    /// `Authorization: Basic <base64 of user:password>`.
    pub(super) fn verify_basic(
        &self,
        headers: &dyn HeaderLookup,
        body: &[u8],
    ) -> Result<Verified, VerifyError> {
        const AUTHORIZATION: &str = "Authorization";
        let value = required(headers, AUTHORIZATION)?.trim();
        let (kind, encoded) = value
            .split_once(' ')
            .ok_or_else(|| malformed(AUTHORIZATION, "expected Basic credentials"))?;
        if !kind.eq_ignore_ascii_case("basic") {
            return Err(malformed(AUTHORIZATION, "expected Basic credentials"));
        }
        let credentials = parse::decode_base64(encoded.trim())
            .map_err(|_| malformed(AUTHORIZATION, "credentials are not base64"))?;
        let secret_index = self.match_token(&credentials)?;
        Ok(Self::by_token(secret_index, body))
    }

    /// The index of the secret equal to `token`, comparing SHA-256 digests
    /// in constant time.
    fn match_token(&self, token: &[u8]) -> Result<usize, VerifyError> {
        let candidate: [u8; 32] = Sha256::digest(token).into();
        self.tokens
            .iter()
            .position(|digest| bool::from(digest.ct_eq(&candidate)))
            .ok_or(VerifyError::NoMatchingSignature)
    }

    /// Verified by the token of secret `secret_index`. The token covers
    /// nothing, so an exact replay is recognised by its body, hashed once
    /// per request (the token itself is kept out of the key).
    fn by_token(secret_index: usize, body: &[u8]) -> Verified {
        Verified::by_content(secret_index, &[body])
    }
}
