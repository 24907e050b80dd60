//! Signing as a provider would: the headers GitHub, Stripe, … would send
//! with a body. `hookrelay send` uses it to try a source out, and tests use
//! it to make valid requests for every scheme.
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use sha2::Digest;
use std::time::{Duration, UNIX_EPOCH};

use crate::catalog::{Method, Part, TimestampForm};
use crate::error::SecretError;
use crate::scheme::{Encoding, Scheme, TemplatePart};
use crate::secret::Secret;
use crate::verify::{twilio_signed_params, Verifier};

/// What to sign.
#[derive(Debug, Clone, Copy)]
pub struct ProviderMessage<'a> {
    pub body: &'a [u8],
    /// Unix seconds.
    pub timestamp: i64,
    /// Delivery id for schemes that sign one (Standard Webhooks, Twitch).
    pub id: &'a str,
    /// Public URL, for Twilio.
    pub url: Option<&'a str>,
}

/// The signature headers `scheme` puts on `message`, signed with `secret`.
/// For Linear the body must carry its own `webhookTimestamp`.
pub fn sign_as_provider(
    scheme: &Scheme,
    secret: &Secret,
    message: &ProviderMessage<'_>,
) -> Result<Vec<(String, String)>, SecretError> {
    let verifier = Verifier::new(scheme.clone(), std::slice::from_ref(secret))?;
    if scheme.kind().spec().only_provider_signs() || !verifier.can_sign() {
        return Err(SecretError::CannotSign);
    }
    let tag = |parts: &[&[u8]]| verifier.first_key_tag(parts);
    let body = message.body;
    let ts = message.timestamp.to_string();
    let header = |name: &str, value: String| (name.to_string(), value);
    Ok(match verifier.method() {
        Method::Hmac(preset) => {
            let stamp = match preset.timestamp {
                Some((_, form)) => timestamp_as(form, message.timestamp),
                None => String::new(),
            };
            let url = message.url.unwrap_or_default();
            let parts: Vec<&[u8]> = preset
                .parts
                .iter()
                .map(|part| match part {
                    Part::Lit(text) => text.as_bytes(),
                    Part::Body => body,
                    Part::Timestamp => stamp.as_bytes(),
                    Part::Id => message.id.as_bytes(),
                    Part::Url => url.as_bytes(),
                })
                .collect();
            let raw = tag(&parts);
            let encoded = match preset.encoding {
                Encoding::Hex => hex::encode(raw),
                Encoding::Base64 => BASE64.encode(raw),
            };
            let mut headers = Vec::new();
            if let Some((name, _)) = preset.timestamp {
                headers.push(header(name, stamp.clone()));
            }
            if let Some(name) = preset.id_header {
                headers.push(header(name, message.id.to_string()));
            }
            headers.push(header(preset.header, format!("{}{encoded}", preset.prefix)));
            headers
        }
        Method::Timestamped {
            header: name,
            separator,
            timestamp_key,
            signature_key,
            joiner,
        } => vec![header(
            name,
            format!(
                "{timestamp_key}={ts}{separator}{signature_key}={}",
                hex::encode(tag(&[ts.as_bytes(), joiner.as_bytes(), body]))
            ),
        )],
        Method::Token {
            header: name,
            prefix,
        } => {
            vec![header(name, format!("{prefix}{}", secret.expose()))]
        }
        // The signature goes into the body: see `sign_body_as_provider`.
        Method::Mailgun => Vec::new(),
        Method::Discord | Method::Sendgrid | Method::Sns => unreachable!("refused above"),
        // The secret goes into the body: see `sign_body_as_provider`.
        Method::ClientState => Vec::new(),
        Method::Basic => vec![header(
            "Authorization",
            format!("Basic {}", BASE64.encode(secret.expose())),
        )],
        Method::Standard => vec![
            header("webhook-id", message.id.to_string()),
            header("webhook-timestamp", ts.clone()),
            header(
                "webhook-signature",
                format!(
                    "v1,{}",
                    BASE64.encode(tag(&[
                        message.id.as_bytes(),
                        b".",
                        ts.as_bytes(),
                        b".",
                        body
                    ]))
                ),
            ),
        ],
        Method::Linear => vec![header("Linear-Signature", hex::encode(tag(&[body])))],
        Method::Twilio => {
            let url = message.url.unwrap_or_default();
            let (with_params, params) = twilio_signed_params(url, body);
            let mut parts: Vec<&[u8]> = vec![url.as_bytes()];
            if with_params {
                for (key, value) in &params {
                    parts.push(key.as_bytes());
                    parts.push(value.as_bytes());
                }
            }
            vec![header("X-Twilio-Signature", BASE64.encode(tag(&parts)))]
        }
        Method::Configured => {
            let Scheme::Hmac(options) = scheme else {
                unreachable!("only the hmac scheme is configured")
            };
            let mut headers = Vec::new();
            let mut parts: Vec<&[u8]> = Vec::new();
            match verifier.template() {
                None => parts.push(body),
                Some(template) => {
                    for part in template {
                        parts.push(match part {
                            TemplatePart::Literal(text) => text.as_bytes(),
                            TemplatePart::Body => body,
                            TemplatePart::Timestamp => ts.as_bytes(),
                            TemplatePart::Id => message.id.as_bytes(),
                        });
                    }
                }
            }
            let raw = tag(&parts);
            let encoded = match options.encoding {
                Encoding::Hex => hex::encode(raw),
                Encoding::Base64 => BASE64.encode(raw),
            };
            if let Some(name) = &options.timestamp_header {
                headers.push(header(name, ts.clone()));
            }
            if let Some(name) = &options.id_header {
                headers.push(header(name, message.id.to_string()));
            }
            headers.push(header(
                &options.header,
                format!("{}{encoded}", options.prefix),
            ));
            headers
        }
    })
}

/// `timestamp` (Unix seconds) as a scheme writes it.
fn timestamp_as(form: TimestampForm, timestamp: i64) -> String {
    match form {
        TimestampForm::UnixSeconds => timestamp.to_string(),
        TimestampForm::UnixMillis => (timestamp * 1000).to_string(),
        TimestampForm::Rfc3339 => {
            let secs = u64::try_from(timestamp).unwrap_or(0);
            humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs)).to_string()
        }
    }
}

/// For a scheme that signs inside the body: `message.body` (a JSON object)
/// with its signature added — Mailgun's `signature` object, the token
/// being `message.id` (or, if that is empty, a digest of the body), or
/// Microsoft Graph's `clientState` in each notification. `None` for every
/// other scheme, whose signatures are headers (`sign_as_provider`).
pub fn sign_body_as_provider(
    scheme: &Scheme,
    secret: &Secret,
    message: &ProviderMessage<'_>,
) -> Result<Option<Vec<u8>>, SecretError> {
    let verifier = Verifier::new(scheme.clone(), std::slice::from_ref(secret))?;
    if verifier.method() == Method::ClientState {
        // Each notification carries the secret as its clientState.
        let mut body: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(message.body).map_err(|_| SecretError::BodyNotJsonObject)?;
        let mut notifications = match body.remove("value") {
            Some(serde_json::Value::Array(items)) if !items.is_empty() => items,
            _ => vec![serde_json::json!({})],
        };
        for notification in &mut notifications {
            if let Some(object) = notification.as_object_mut() {
                object.insert("clientState".into(), secret.expose().into());
            }
        }
        body.insert("value".into(), notifications.into());
        return Ok(Some(
            serde_json::to_vec(&body).expect("a JSON map serialises"),
        ));
    }
    if verifier.method() != Method::Mailgun {
        return Ok(None);
    }
    let mut body: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(message.body).map_err(|_| SecretError::BodyNotJsonObject)?;
    let timestamp = message.timestamp.to_string();
    let token = if message.id.is_empty() {
        hex::encode(sha2::Sha256::digest(message.body))
    } else {
        message.id.to_string()
    };
    let signature = hex::encode(verifier.first_key_tag(&[timestamp.as_bytes(), token.as_bytes()]));
    body.insert(
        "signature".into(),
        serde_json::json!({ "timestamp": timestamp, "token": token, "signature": signature }),
    );
    Ok(Some(
        serde_json::to_vec(&body).expect("a JSON map serialises"),
    ))
}
