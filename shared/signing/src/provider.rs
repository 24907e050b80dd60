//! Signing as a provider would: the headers GitHub, Stripe, … would send
//! with a body. `hookrelay send` uses it to try a source out, and tests use
//! it to make valid requests for every scheme.
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use std::time::{Duration, UNIX_EPOCH};

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
    let tag = |parts: &[&[u8]]| verifier.first_key_tag(parts);
    let body = message.body;
    let ts = message.timestamp.to_string();
    let header = |name: &str, value: String| (name.to_string(), value);
    Ok(match scheme {
        Scheme::Github => vec![header(
            "X-Hub-Signature-256",
            format!("sha256={}", hex::encode(tag(&[body]))),
        )],
        Scheme::Stripe => vec![header(
            "Stripe-Signature",
            format!(
                "t={ts},v1={}",
                hex::encode(tag(&[ts.as_bytes(), b".", body]))
            ),
        )],
        Scheme::Shopify => vec![header("X-Shopify-Hmac-Sha256", BASE64.encode(tag(&[body])))],
        Scheme::Slack => vec![
            header("X-Slack-Request-Timestamp", ts.clone()),
            header(
                "X-Slack-Signature",
                format!(
                    "v0={}",
                    hex::encode(tag(&[b"v0:", ts.as_bytes(), b":", body]))
                ),
            ),
        ],
        Scheme::Zoom => vec![
            header("x-zm-request-timestamp", ts.clone()),
            header(
                "x-zm-signature",
                format!(
                    "v0={}",
                    hex::encode(tag(&[b"v0:", ts.as_bytes(), b":", body]))
                ),
            ),
        ],
        Scheme::Standard => vec![
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
        Scheme::Twitch => {
            let secs = u64::try_from(message.timestamp).unwrap_or(0);
            let rfc3339 = humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs))
                .to_string();
            vec![
                header("Twitch-Eventsub-Message-Id", message.id.to_string()),
                header("Twitch-Eventsub-Message-Timestamp", rfc3339.clone()),
                header(
                    "Twitch-Eventsub-Message-Signature",
                    format!(
                        "sha256={}",
                        hex::encode(tag(&[message.id.as_bytes(), rfc3339.as_bytes(), body]))
                    ),
                ),
            ]
        }
        Scheme::Paddle => vec![header(
            "Paddle-Signature",
            format!(
                "ts={ts};h1={}",
                hex::encode(tag(&[ts.as_bytes(), b":", body]))
            ),
        )],
        Scheme::Linear => vec![header("Linear-Signature", hex::encode(tag(&[body])))],
        Scheme::Twilio => {
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
        Scheme::Hmac(options) => {
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
