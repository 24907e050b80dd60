//! The verification schemes hookrelay knows, and the options of the generic
//! HMAC scheme.
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::error::SecretError;

/// Declares [`SchemeKind`] with its configuration names, in one list.
macro_rules! scheme_kinds {
    ($($variant:ident = $name:literal,)*) => {
        /// The name of a scheme, as written in configuration
        /// (`scheme = "github"`). What each one checks is in
        /// [`crate::catalog::CATALOG`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum SchemeKind {
            $($variant,)*
        }

        impl SchemeKind {
            pub const ALL: &'static [SchemeKind] = &[$(SchemeKind::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(SchemeKind::$variant => $name,)*
                }
            }
        }
    };
}

scheme_kinds! {
    Github = "github",
    Stripe = "stripe",
    Shopify = "shopify",
    Slack = "slack",
    Standard = "standard",
    Zoom = "zoom",
    Twitch = "twitch",
    Paddle = "paddle",
    Linear = "linear",
    Twilio = "twilio",
    Gitlab = "gitlab",
    Bitbucket = "bitbucket",
    Meta = "meta",
    Mailgun = "mailgun",
    Discord = "discord",
    Sendgrid = "sendgrid",
    Sns = "sns",
    Square = "square",
    Hubspot = "hubspot",
    Intercom = "intercom",
    Pagerduty = "pagerduty",
    Typeform = "typeform",
    Calendly = "calendly",
    Sentry = "sentry",
    Vercel = "vercel",
    Woocommerce = "woocommerce",
    Zendesk = "zendesk",
    Coinbase = "coinbase",
    Mux = "mux",
    Dropbox = "dropbox",
    Okta = "okta",
    MicrosoftGraph = "microsoft_graph",
    Lemonsqueezy = "lemonsqueezy",
    Razorpay = "razorpay",
    Paystack = "paystack",
    Checkout = "checkout",
    Clickup = "clickup",
    Circleci = "circleci",
    Coinify = "coinify",
    Clerk = "clerk",
    Resend = "resend",
    Openai = "openai",
    Replicate = "replicate",
    Polar = "polar",
    Liveblocks = "liveblocks",
    Basic = "basic",
    Hmac = "hmac",
}

impl SchemeKind {
    /// The tolerance a scheme uses unless configured otherwise, from its
    /// provider's documentation (most say five minutes).
    pub fn default_tolerance_secs(self) -> u64 {
        self.spec().tolerance_secs
    }
}

impl fmt::Display for SchemeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SchemeKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SchemeKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<_> = SchemeKind::ALL.iter().map(|k| k.as_str()).collect();
                format!("unknown scheme {s:?}; expected one of {}", names.join("|"))
            })
    }
}

impl Serialize for SchemeKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SchemeKind {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// How a generic HMAC signature is written in its header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    #[default]
    Hex,
    Base64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HmacAlgorithm {
    Sha1,
    #[default]
    Sha256,
    Sha512,
}

/// Options of the generic `hmac` scheme, for senders that sign the body (or
/// a template of it) with a shared secret and put the tag in a header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HmacOptions {
    /// Header holding the signature, e.g. `X-Signature`.
    pub header: String,
    /// Text before the signature in that header, e.g. `sha256=`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub prefix: String,
    #[serde(default)]
    pub encoding: Encoding,
    #[serde(default)]
    pub algorithm: HmacAlgorithm,
    /// What is signed, if not the bare body: placeholders `{body}`,
    /// `{timestamp}` (from `timestamp_header`, checked against the
    /// tolerance) and `{id}` (from `id_header`), e.g. `{timestamp}.{body}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_header: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_header: Option<String>,
}

impl HmacOptions {
    pub fn new(header: impl Into<String>) -> Self {
        HmacOptions {
            header: header.into(),
            prefix: String::new(),
            encoding: Encoding::Hex,
            algorithm: HmacAlgorithm::Sha256,
            template: None,
            timestamp_header: None,
            id_header: None,
        }
    }
}

/// A scheme with everything needed to verify it: a catalogue scheme by
/// name, or the generic one with its options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scheme {
    Named(SchemeKind),
    Hmac(HmacOptions),
}

impl Scheme {
    /// Joins a scheme name with its options: `hmac` needs them, the others
    /// refuse them.
    pub fn from_parts(kind: SchemeKind, hmac: Option<HmacOptions>) -> Result<Self, SecretError> {
        match (kind, hmac) {
            (SchemeKind::Hmac, Some(options)) => Ok(Scheme::Hmac(options)),
            (SchemeKind::Hmac, None) => Err(SecretError::MissingHmacOptions),
            (_, Some(_)) => Err(SecretError::UnexpectedHmacOptions),
            (kind, None) => Ok(Scheme::Named(kind)),
        }
    }

    pub fn kind(&self) -> SchemeKind {
        match self {
            Scheme::Named(kind) => *kind,
            Scheme::Hmac(_) => SchemeKind::Hmac,
        }
    }
}

/// One piece of a generic HMAC template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TemplatePart {
    Literal(String),
    Body,
    Timestamp,
    Id,
}

/// Splits `{timestamp}.{body}` into parts; unknown placeholders and
/// unbalanced braces are configuration errors.
pub(crate) fn parse_template(template: &str) -> Result<Vec<TemplatePart>, SecretError> {
    let mut parts = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            parts.push(TemplatePart::Literal(rest[..open].to_string()));
        }
        let close = rest[open..]
            .find('}')
            .ok_or_else(|| SecretError::BadTemplate("'{' without '}'".into()))?;
        let name = &rest[open + 1..open + close];
        parts.push(match name {
            "body" => TemplatePart::Body,
            "timestamp" => TemplatePart::Timestamp,
            "id" => TemplatePart::Id,
            other => {
                return Err(SecretError::BadTemplate(format!(
                    "unknown placeholder {{{other}}}; use {{body}}, {{timestamp}} or {{id}}"
                )))
            }
        });
        rest = &rest[open + close + 1..];
    }
    if rest.contains('}') {
        return Err(SecretError::BadTemplate("'}' without '{'".into()));
    }
    if !rest.is_empty() {
        parts.push(TemplatePart::Literal(rest.to_string()));
    }
    if !parts.contains(&TemplatePart::Body) {
        return Err(SecretError::BadTemplate(
            "template must contain {body}".into(),
        ));
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_names_round_trip() {
        for &kind in SchemeKind::ALL {
            assert_eq!(kind.as_str().parse::<SchemeKind>(), Ok(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
        let err = "gitlob".parse::<SchemeKind>().unwrap_err();
        assert!(err.contains("github|stripe"), "{err}");
    }

    #[test]
    fn hmac_needs_options_and_others_refuse_them() {
        assert_eq!(
            Scheme::from_parts(SchemeKind::Hmac, None),
            Err(SecretError::MissingHmacOptions)
        );
        assert_eq!(
            Scheme::from_parts(SchemeKind::Github, Some(HmacOptions::new("x"))),
            Err(SecretError::UnexpectedHmacOptions)
        );
        assert_eq!(
            Scheme::from_parts(SchemeKind::Stripe, None).unwrap().kind(),
            SchemeKind::Stripe
        );
    }

    #[test]
    fn templates_parse_into_parts() {
        assert_eq!(
            parse_template("v0:{timestamp}:{body}").unwrap(),
            vec![
                TemplatePart::Literal("v0:".into()),
                TemplatePart::Timestamp,
                TemplatePart::Literal(":".into()),
                TemplatePart::Body
            ]
        );
        assert!(parse_template("{timestamp}").is_err());
        assert!(parse_template("{body").is_err());
        assert!(parse_template("{body}}").is_err());
        assert!(parse_template("{secret}.{body}").is_err());
    }
}
