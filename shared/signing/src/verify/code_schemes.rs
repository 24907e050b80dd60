//! Schemes whose signed string needs code rather than a catalogue
//! template: Standard Webhooks (two header families, HMAC and Ed25519),
//! Linear (a timestamp inside the body), Twilio (the URL and sorted form
//! parameters) and the generic `hmac` scheme (the user's template).
use aws_lc_rs::signature;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{malformed, required, Verified, Verifier};
use crate::error::VerifyError;
use crate::headers::HeaderLookup;
use crate::parse;
use crate::scheme::{Encoding, TemplatePart};

impl Verifier {
    /// Standard Webhooks, under its `webhook-*` names or Svix's `svix-*`.
    pub(super) fn verify_standard(
        &self,
        headers: &dyn HeaderLookup,
        body: &[u8],
        now: i64,
    ) -> Result<Verified, VerifyError> {
        let (id_name, ts_name, sig_name) = if headers.header("webhook-signature").is_some() {
            ("webhook-id", "webhook-timestamp", "webhook-signature")
        } else if headers.header("svix-signature").is_some() {
            ("svix-id", "svix-timestamp", "svix-signature")
        } else {
            return Err(VerifyError::MissingHeader("webhook-signature".into()));
        };
        let id = required(headers, id_name)?;
        let timestamp_raw = required(headers, ts_name)?.trim();
        let timestamp = parse::parse_unix_seconds(timestamp_raw)
            .map_err(|reason| malformed(ts_name, reason))?;
        let signatures = parse::parse_standard_signatures(required(headers, sig_name)?)
            .map_err(|reason| malformed(sig_name, reason))?;
        self.check_timestamp(timestamp, now)?;
        let parts: [&[u8]; 5] = [id.as_bytes(), b".", timestamp_raw.as_bytes(), b".", body];
        // `v1,` HMAC signatures against the `whsec_` secrets, `v1a,`
        // Ed25519 ones against the `whpk_` keys; either may match.
        let by_secret = self.find_secret(&parts, &signatures.v1);
        let secret_index = match by_secret {
            Ok(index) => index,
            Err(_) if !signatures.v1a.is_empty() && !self.public_keys.is_empty() => {
                self.find_public_key(&signature::ED25519, &parts.concat(), &signatures.v1a)?
            }
            Err(err) => return Err(err),
        };
        Ok(Verified {
            secret_index,
            timestamp: Some(timestamp),
            replay_key: None,
        })
    }

    /// Linear: hex over the body; the body's `webhookTimestamp` (ms) must be
    /// recent. The body is parsed only once the signature holds.
    pub(super) fn verify_linear(
        &self,
        headers: &dyn HeaderLookup,
        body: &[u8],
        now: i64,
    ) -> Result<Verified, VerifyError> {
        #[derive(Deserialize)]
        struct LinearBody {
            #[serde(rename = "webhookTimestamp")]
            webhook_timestamp: Option<i64>,
        }
        let value = required(headers, "Linear-Signature")?;
        let signature = parse::decode_hex(value.trim())
            .map_err(|reason| malformed("Linear-Signature", reason))?;
        let verified = self.untimed(&[body], &[signature])?;
        let parsed: LinearBody = serde_json::from_slice(body)
            .map_err(|_| VerifyError::MalformedBody("body is not a JSON object"))?;
        let timestamp_ms = parsed
            .webhook_timestamp
            .ok_or(VerifyError::MalformedBody("body has no webhookTimestamp"))?;
        let timestamp = timestamp_ms.div_euclid(1000);
        self.check_timestamp(timestamp, now)?;
        Ok(Verified {
            timestamp: Some(timestamp),
            replay_key: None,
            ..verified
        })
    }

    /// Twilio: base64 HMAC-SHA1 over the public URL followed by the sorted
    /// form parameters; JSON bodies are instead bound by the `bodySHA256`
    /// query parameter, which the URL signature covers.
    pub(super) fn verify_twilio(
        &self,
        headers: &dyn HeaderLookup,
        body: &[u8],
        url: Option<&str>,
    ) -> Result<Verified, VerifyError> {
        const SIG: &str = "X-Twilio-Signature";
        let url = url.ok_or(VerifyError::MissingUrl)?;
        let signature =
            parse::decode_base64(required(headers, SIG)?.trim()).map_err(|r| malformed(SIG, r))?;
        let (with_params, params) = twilio_signed_params(url, body);
        let mut parts: Vec<&[u8]> = Vec::with_capacity(1 + params.len() * 2);
        parts.push(url.as_bytes());
        if !with_params {
            let verified = self.untimed(&parts, &[signature])?;
            let expected = body_sha256_param(url).unwrap_or_default();
            let actual = hex::encode(Sha256::digest(body));
            return if actual.eq_ignore_ascii_case(&expected) {
                Ok(verified)
            } else {
                Err(VerifyError::NoMatchingSignature)
            };
        }
        for (key, value) in &params {
            parts.push(key.as_bytes());
            parts.push(value.as_bytes());
        }
        self.untimed(&parts, &[signature])
    }

    pub(super) fn verify_hmac(
        &self,
        options: &crate::scheme::HmacOptions,
        headers: &dyn HeaderLookup,
        body: &[u8],
        now: i64,
    ) -> Result<Verified, VerifyError> {
        let value = headers
            .header(&options.header)
            .ok_or_else(|| VerifyError::MissingHeader(options.header.clone()))?;
        let signature = match options.encoding {
            Encoding::Hex => parse::parse_prefixed_hex(value, &options.prefix),
            Encoding::Base64 => parse::parse_prefixed_base64(value, &options.prefix),
        }
        .map_err(|reason| VerifyError::MalformedHeader {
            header: options.header.clone(),
            reason,
        })?;
        let Some(template) = &self.template else {
            return self.untimed(&[body], &[signature]);
        };
        let mut timestamp = None;
        let mut parts: Vec<&[u8]> = Vec::with_capacity(template.len());
        for part in template {
            parts.push(match part {
                TemplatePart::Literal(text) => text.as_bytes(),
                TemplatePart::Body => body,
                TemplatePart::Timestamp => {
                    let name = options.timestamp_header.as_deref().unwrap_or_default();
                    let raw = headers
                        .header(name)
                        .ok_or_else(|| VerifyError::MissingHeader(name.to_string()))?
                        .trim();
                    let parsed = parse::parse_unix_seconds(raw).map_err(|reason| {
                        VerifyError::MalformedHeader {
                            header: name.to_string(),
                            reason,
                        }
                    })?;
                    self.check_timestamp(parsed, now)?;
                    timestamp = Some(parsed);
                    raw.as_bytes()
                }
                TemplatePart::Id => {
                    let name = options.id_header.as_deref().unwrap_or_default();
                    headers
                        .header(name)
                        .ok_or_else(|| VerifyError::MissingHeader(name.to_string()))?
                        .as_bytes()
                }
            });
        }
        match timestamp {
            Some(timestamp) => self.timed(&parts, &[signature], timestamp),
            None => self.untimed(&parts, &[signature]),
        }
    }
}

fn body_sha256_param(url: &str) -> Option<String> {
    let (_, query) = url.split_once('?')?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == "bodySHA256")
        .map(|(_, value)| value.into_owned())
}

/// What Twilio signs after the URL: nothing when the URL carries
/// `bodySHA256` (JSON bodies), else the form parameters sorted by name.
/// Returns whether parameters are signed, and the sorted parameters.
pub(crate) fn twilio_signed_params(url: &str, body: &[u8]) -> (bool, Vec<(String, String)>) {
    if body_sha256_param(url).is_some() {
        return (false, Vec::new());
    }
    let mut params: Vec<(String, String)> = form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    params.sort();
    (true, params)
}
