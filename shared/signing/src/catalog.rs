//! The catalogue: every scheme hookrelay verifies, in one table.
//!
//! A scheme is data where it is data: the header its signature travels in,
//! the prefix and encoding, the signed string as a template, the timestamp
//! rule, and where the event type and the delivery id are found. Code is
//! kept for what differs in kind (Standard Webhooks' id/timestamp headers
//! and `whsec_` keys, Twilio's sorted form parameters, Linear's timestamp
//! inside the body, the generic `hmac` scheme's user template). README's
//! scheme table is generated from this table (`hookrelay schemes
//! --markdown`) and a test keeps the two equal.
use crate::scheme::{Encoding, HmacAlgorithm, SchemeKind};

/// Where a value is looked for in a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    Header(&'static str),
    /// A JSON pointer into the body (`/data/type`).
    Json(&'static str),
}

/// How the event type or delivery id of a scheme is read: the first pick
/// that is present, then, when `then` is given and present too, a dot and
/// that JSON pointer's value (GitHub's `pull_request.opened`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub first: &'static [Pick],
    pub then: Option<&'static str>,
}

impl Field {
    pub const NONE: Field = Field {
        first: &[],
        then: None,
    };
}

const fn any(first: &'static [Pick]) -> Field {
    Field { first, then: None }
}

const fn then(first: &'static [Pick], pointer: &'static str) -> Field {
    Field {
        first,
        then: Some(pointer),
    }
}

/// How a signed timestamp is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimestampForm {
    UnixSeconds,
    UnixMillis,
    /// RFC 3339 / ISO 8601 (`2021-03-25T05:09:27Z`).
    Rfc3339,
}

/// One piece of a preset's signed string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    Lit(&'static str),
    Body,
    /// The timestamp header, exactly as sent.
    Timestamp,
    /// The id header, exactly as sent.
    Id,
    /// The public URL the provider posted to (the source's `public_url`).
    Url,
}

/// An HMAC over a template of the request, written into one header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HmacPreset {
    pub header: &'static str,
    /// Before each signature, e.g. `sha256=`.
    pub prefix: &'static str,
    pub encoding: Encoding,
    pub algorithm: HmacAlgorithm,
    pub parts: &'static [Part],
    pub timestamp: Option<(&'static str, TimestampForm)>,
    pub id_header: Option<&'static str>,
    /// Several signatures in the header, separated by this (rotation).
    pub list: Option<char>,
}

/// How a scheme proves a request genuine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Hmac(HmacPreset),
    /// `t=<ts>,v1=<hex>` (Stripe and those who copied it): hex HMAC-SHA256
    /// over `{t}{joiner}{body}`.
    Timestamped {
        header: &'static str,
        separator: char,
        timestamp_key: &'static str,
        signature_key: &'static str,
        joiner: &'static str,
    },
    /// The header carries the secret itself (after `prefix`), compared in
    /// constant time.
    Token {
        header: &'static str,
        prefix: &'static str,
    },
    /// HTTP Basic credentials (`user:password`) as the secret, compared in
    /// constant time.
    Basic,
    /// Mailgun: a `signature` object inside the JSON body, hex HMAC-SHA256
    /// over its `timestamp` and `token`.
    Mailgun,
    /// Microsoft Graph change notifications: every `value[].clientState`
    /// in the JSON body equals the secret set on the subscription.
    ClientState,
    /// Discord: Ed25519 over `{timestamp}{body}`, hex, with the
    /// application's hex public key.
    Discord,
    /// SendGrid: ECDSA P-256 / SHA-256 over `{timestamp}{body}`, a base64
    /// DER signature, with the base64 DER public key from the console.
    Sendgrid,
    /// Standard Webhooks: `webhook-*` or `svix-*` headers; `v1,` HMAC with
    /// `whsec_` secrets, `v1a,` Ed25519 with `whpk_` public keys.
    Standard,
    Twilio,
    Linear,
    /// The generic scheme; its options come from the configuration.
    Configured,
}

/// Everything hookrelay knows about one scheme.
#[derive(Debug, Clone, Copy)]
pub struct SchemeSpec {
    pub kind: SchemeKind,
    /// Who sends it, as people call them.
    pub provider: &'static str,
    /// The provider's page that documents the format.
    pub docs: &'static str,
    /// README columns: where the signature is, what is signed, how.
    pub header: &'static str,
    pub signed: &'static str,
    pub encoding: &'static str,
    pub tolerance_secs: u64,
    pub event_type: Field,
    pub delivery_id: Field,
    pub(crate) method: Method,
}

use Encoding::{Base64, Hex};
use HmacAlgorithm::{Sha1, Sha256, Sha512};
use Pick::{Header as H, Json as J};

/// An HMAC over the body alone, in one header: the most common shape.
const fn body_hmac(
    header: &'static str,
    prefix: &'static str,
    encoding: Encoding,
    algorithm: HmacAlgorithm,
) -> Method {
    Method::Hmac(HmacPreset {
        header,
        prefix,
        encoding,
        algorithm,
        parts: &[Part::Body],
        timestamp: None,
        id_header: None,
        list: None,
    })
}

/// `t=<unix>,v1=<hex>` over `{t}.{body}`.
const fn stripe_like(header: &'static str) -> Method {
    Method::Timestamped {
        header,
        separator: ',',
        timestamp_key: "t",
        signature_key: "v1",
        joiner: ".",
    }
}

const FIVE_MINUTES: u64 = crate::DEFAULT_TOLERANCE_SECS;

/// A Standard Webhooks sender under its own name, so users find it.
const fn standard_alias(
    kind: SchemeKind,
    provider: &'static str,
    docs: &'static str,
    event_type: Field,
) -> SchemeSpec {
    SchemeSpec {
        kind,
        provider,
        docs,
        header: "`webhook-id/-timestamp/-signature` or `svix-*`",
        signed: "`{id}.{ts}.{body}` (key: base64 after `whsec_`)",
        encoding: "base64, 300 s",
        tolerance_secs: FIVE_MINUTES,
        event_type,
        delivery_id: any(&[H("webhook-id"), H("svix-id")]),
        method: Method::Standard,
    }
}

/// Every scheme, in the order README lists them.
pub static CATALOG: &[SchemeSpec] = &[
    SchemeSpec {
        kind: SchemeKind::Github,
        provider: "GitHub",
        docs: "https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries",
        header: "`X-Hub-Signature-256: sha256=<hex>`",
        signed: "body",
        encoding: "hex",
        tolerance_secs: FIVE_MINUTES,
        event_type: then(&[H("X-GitHub-Event")], "/action"),
        delivery_id: any(&[H("X-GitHub-Delivery")]),
        method: body_hmac("X-Hub-Signature-256", "sha256=", Hex, Sha256),
    },
    SchemeSpec {
        kind: SchemeKind::Stripe,
        provider: "Stripe",
        docs: "https://docs.stripe.com/webhooks#verify-manually",
        header: "`Stripe-Signature: t=…,v1=…[,v1=…]`",
        signed: "`{t}.{body}` (key: the whole `whsec_…`)",
        encoding: "hex, 300 s",
        tolerance_secs: FIVE_MINUTES,
        event_type: any(&[J("/type")]),
        delivery_id: any(&[J("/id")]),
        method: stripe_like("Stripe-Signature"),
    },
    SchemeSpec {
        kind: SchemeKind::Shopify,
        provider: "Shopify",
        docs: "https://shopify.dev/docs/apps/build/webhooks/subscribe/https#step-2-validate-the-origin-of-your-webhook-to-ensure-its-coming-from-shopify",
        header: "`X-Shopify-Hmac-Sha256`",
        signed: "body",
        encoding: "base64",
        tolerance_secs: FIVE_MINUTES,
        event_type: any(&[H("X-Shopify-Topic")]),
        delivery_id: any(&[H("X-Shopify-Webhook-Id"), H("X-Shopify-Event-Id")]),
        method: body_hmac("X-Shopify-Hmac-Sha256", "", Base64, Sha256),
    },
    SchemeSpec {
        kind: SchemeKind::Slack,
        provider: "Slack",
        docs: "https://api.slack.com/authentication/verifying-requests-from-slack",
        header: "`X-Slack-Signature: v0=…`, `X-Slack-Request-Timestamp`",
        signed: "`v0:{ts}:{body}`",
        encoding: "hex, 300 s",
        tolerance_secs: FIVE_MINUTES,
        event_type: any(&[J("/event/type"), J("/type")]),
        delivery_id: any(&[J("/event_id")]),
        method: Method::Hmac(HmacPreset {
            header: "X-Slack-Signature",
            prefix: "v0=",
            encoding: Hex,
            algorithm: Sha256,
            parts: &[Part::Lit("v0:"), Part::Timestamp, Part::Lit(":"), Part::Body],
            timestamp: Some(("X-Slack-Request-Timestamp", TimestampForm::UnixSeconds)),
            id_header: None,
            list: None,
        }),
    },
    SchemeSpec {
        kind: SchemeKind::Standard,
        provider: "Standard Webhooks, Svix",
        docs: "https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md",
        header: "`webhook-id/-timestamp/-signature` or `svix-*`",
        signed: "`{id}.{ts}.{body}` (`v1,` HMAC, key: base64 after `whsec_`; `v1a,` Ed25519, key: a `whpk_` public key)",
        encoding: "base64, 300 s",
        tolerance_secs: FIVE_MINUTES,
        event_type: any(&[J("/type")]),
        delivery_id: any(&[H("webhook-id"), H("svix-id")]),
        method: Method::Standard,
    },
    SchemeSpec {
        kind: SchemeKind::Zoom,
        provider: "Zoom",
        docs: "https://developers.zoom.us/docs/api/webhooks/#verify-webhook-events",
        header: "`x-zm-signature: v0=…`, `x-zm-request-timestamp`",
        signed: "`v0:{ts}:{body}`",
        encoding: "hex, 300 s",
        tolerance_secs: FIVE_MINUTES,
        event_type: any(&[J("/event")]),
        delivery_id: Field::NONE,
        method: Method::Hmac(HmacPreset {
            header: "x-zm-signature",
            prefix: "v0=",
            encoding: Hex,
            algorithm: Sha256,
            parts: &[Part::Lit("v0:"), Part::Timestamp, Part::Lit(":"), Part::Body],
            timestamp: Some(("x-zm-request-timestamp", TimestampForm::UnixSeconds)),
            id_header: None,
            list: None,
        }),
    },
    SchemeSpec {
        kind: SchemeKind::Twitch,
        provider: "Twitch EventSub",
        docs: "https://dev.twitch.tv/docs/eventsub/handling-webhook-events/#verifying-the-event-message",
        header: "`Twitch-Eventsub-Message-Signature/-Id/-Timestamp`",
        signed: "`{id}{timestamp}{body}`",
        encoding: "hex, 600 s",
        tolerance_secs: 600,
        event_type: any(&[H("Twitch-Eventsub-Subscription-Type")]),
        delivery_id: any(&[H("Twitch-Eventsub-Message-Id")]),
        method: Method::Hmac(HmacPreset {
            header: "Twitch-Eventsub-Message-Signature",
            prefix: "sha256=",
            encoding: Hex,
            algorithm: Sha256,
            parts: &[Part::Id, Part::Timestamp, Part::Body],
            timestamp: Some(("Twitch-Eventsub-Message-Timestamp", TimestampForm::Rfc3339)),
            id_header: Some("Twitch-Eventsub-Message-Id"),
            list: None,
        }),
    },
    SchemeSpec {
        kind: SchemeKind::Paddle,
        provider: "Paddle Billing",
        docs: "https://developer.paddle.com/webhooks/signature-verification",
        header: "`Paddle-Signature: ts=…;h1=…`",
        signed: "`{ts}:{body}`",
        encoding: "hex, 300 s",
        tolerance_secs: FIVE_MINUTES,
        event_type: any(&[J("/event_type")]),
        delivery_id: any(&[J("/event_id")]),
        method: Method::Timestamped {
            header: "Paddle-Signature",
            separator: ';',
            timestamp_key: "ts",
            signature_key: "h1",
            joiner: ":",
        },
    },
    SchemeSpec {
        kind: SchemeKind::Linear,
        provider: "Linear",
        docs: "https://linear.app/developers/webhooks#securing-webhooks",
        header: "`Linear-Signature`",
        signed: "body; `webhookTimestamp` in the body",
        encoding: "hex, 60 s",
        tolerance_secs: 60,
        event_type: then(&[J("/type")], "/action"),
        delivery_id: any(&[H("Linear-Delivery")]),
        method: Method::Linear,
    },
    SchemeSpec {
        kind: SchemeKind::Twilio,
        provider: "Twilio",
        docs: "https://www.twilio.com/docs/usage/webhooks/webhooks-security",
        header: "`X-Twilio-Signature`",
        signed: "public URL + sorted form params (JSON: `bodySHA256` in the URL)",
        encoding: "base64 HMAC-SHA1",
        tolerance_secs: FIVE_MINUTES,
        event_type: Field::NONE,
        delivery_id: any(&[H("I-Twilio-Idempotency-Token")]),
        method: Method::Twilio,
    },
    SchemeSpec {
        kind: SchemeKind::Gitlab,
        provider: "GitLab",
        docs: "https://docs.gitlab.com/user/project/integrations/webhooks/#validate-requests-with-a-secret-token",
        header: "`X-Gitlab-Token`",
        signed: "none: the header is the secret token",
        encoding: "compared in constant time",
        tolerance_secs: FIVE_MINUTES,
        event_type: any(&[H("X-Gitlab-Event"), J("/object_kind")]),
        delivery_id: any(&[H("Idempotency-Key"), H("X-Gitlab-Event-UUID")]),
        method: Method::Token {
            header: "X-Gitlab-Token",
            prefix: "",
        },
    },
    SchemeSpec {
        kind: SchemeKind::Bitbucket,
        provider: "Bitbucket Cloud",
        docs: "https://support.atlassian.com/bitbucket-cloud/docs/manage-webhooks/",
        header: "`X-Hub-Signature: sha256=<hex>`",
        signed: "body",
        encoding: "hex",
        tolerance_secs: FIVE_MINUTES,
        event_type: any(&[H("X-Event-Key")]),
        delivery_id: any(&[H("X-Request-UUID")]),
        method: body_hmac("X-Hub-Signature", "sha256=", Hex, Sha256),
    },
    SchemeSpec {
        kind: SchemeKind::Meta,
        provider: "Meta (Facebook, Instagram, WhatsApp)",
        docs: "https://developers.facebook.com/docs/graph-api/webhooks/getting-started/",
        header: "`X-Hub-Signature-256: sha256=<hex>`; `GET ?hub.challenge=` answered (`verify_token`)",
        signed: "body (key: the app secret)",
        encoding: "hex",
        tolerance_secs: FIVE_MINUTES,
        event_type: then(&[J("/object")], "/entry/0/changes/0/field"),
        delivery_id: Field::NONE,
        method: body_hmac("X-Hub-Signature-256", "sha256=", Hex, Sha256),
    },
    SchemeSpec {
        kind: SchemeKind::Mailgun,
        provider: "Mailgun",
        docs: "https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/securing-webhooks",
        header: "none: a `signature` object in the JSON body",
        signed: "`{timestamp}{token}` from that object (key: the webhook signing key; the rest of the body is not signed)",
        encoding: "hex, 300 s",
        tolerance_secs: FIVE_MINUTES,
        event_type: any(&[J("/event-data/event")]),
        delivery_id: any(&[J("/event-data/id")]),
        method: Method::Mailgun,
    },
    SchemeSpec {
        kind: SchemeKind::Discord,
        provider: "Discord (interactions, webhook events)",
        docs: "https://discord.com/developers/docs/interactions/overview#setting-up-an-endpoint-validating-security-request-headers",
        header: "`X-Signature-Ed25519`, `X-Signature-Timestamp`",
        signed: "`{timestamp}{body}` (key: the application's hex public key)",
        encoding: "hex Ed25519, 600 s",
        // Webhook events are retried for up to ten minutes.
        tolerance_secs: 600,
        event_type: any(&[J("/event/type"), J("/data/name"), J("/type")]),
        delivery_id: any(&[J("/id")]),
        method: Method::Discord,
    },
    SchemeSpec {
        kind: SchemeKind::Sendgrid,
        provider: "SendGrid (signed event webhook)",
        docs: "https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features",
        header: "`X-Twilio-Email-Event-Webhook-Signature`, `…-Timestamp`",
        signed: "`{timestamp}{body}` (key: the base64 public key from the console)",
        encoding: "base64 DER ECDSA P-256/SHA-256 (retries keep their timestamp for 24 h: not timed)",
        tolerance_secs: FIVE_MINUTES,
        event_type: any(&[J("/0/event")]),
        delivery_id: any(&[J("/0/sg_event_id")]),
        method: Method::Sendgrid,
    },
    SchemeSpec {
        kind: SchemeKind::Square,
        provider: "Square",
        docs: "https://developer.squareup.com/docs/webhooks/step3validate",
        header: "`x-square-hmacsha256-signature`",
        signed: "notification URL + body (`public_url`)",
        encoding: "base64",
        tolerance_secs: FIVE_MINUTES,
        event_type: any(&[J("/type")]),
        delivery_id: any(&[J("/event_id")]),
        method: Method::Hmac(HmacPreset {
            header: "x-square-hmacsha256-signature",
            prefix: "",
            encoding: Base64,
            algorithm: Sha256,
            parts: &[Part::Url, Part::Body],
            timestamp: None,
            id_header: None,
            list: None,
        }),
    },
    SchemeSpec {
        kind: SchemeKind::Hubspot,
        provider: "HubSpot (v3)",
        docs: "https://developers.hubspot.com/docs/apps/developer-platform/build-apps/authentication/request-validation",
        header: "`X-HubSpot-Signature-v3`, `X-HubSpot-Request-Timestamp` (ms)",
        signed: "`POST{url}{body}{timestamp}` (`public_url`)",
        encoding: "base64, 300 s",
        tolerance_secs: FIVE_MINUTES,
        event_type: any(&[J("/0/subscriptionType")]),
        delivery_id: any(&[J("/0/eventId")]),
        method: Method::Hmac(HmacPreset {
            header: "X-HubSpot-Signature-v3",
            prefix: "",
            encoding: Base64,
            algorithm: Sha256,
            parts: &[Part::Lit("POST"), Part::Url, Part::Body, Part::Timestamp],
            timestamp: Some(("X-HubSpot-Request-Timestamp", TimestampForm::UnixMillis)),
            id_header: None,
            list: None,
        }),
    },
    SchemeSpec {
        kind: SchemeKind::Intercom,
        provider: "Intercom",
        docs: "https://developers.intercom.com/docs/webhooks/webhook-notifications",
        header: "`X-Hub-Signature: sha1=<hex>`",
        signed: "body (key: the app's client secret)",
        encoding: "hex HMAC-SHA1",
        tolerance_secs: FIVE_MINUTES,
        event_type: any(&[J("/topic")]),
        delivery_id: any(&[J("/id")]),
        method: body_hmac("X-Hub-Signature", "sha1=", Hex, Sha1),
    },
    SchemeSpec {
        kind: SchemeKind::Pagerduty,
        provider: "PagerDuty (v3)",
        docs: "https://developer.pagerduty.com/docs/webhooks/webhook-signatures/",
        header: "`X-PagerDuty-Signature: v1=<hex>[,v1=<hex>]`",
        signed: "body",
        encoding: "hex",
        tolerance_secs: FIVE_MINUTES,
        event_type: any(&[J("/event/event_type")]),
        delivery_id: any(&[H("X-Webhook-Id"), J("/event/id")]),
        method: Method::Hmac(HmacPreset {
            header: "X-PagerDuty-Signature",
            prefix: "v1=",
            encoding: Hex,
            algorithm: Sha256,
            parts: &[Part::Body],
            timestamp: None,
            id_header: None,
            list: Some(','),
        }),
    },
    SchemeSpec {
        kind: SchemeKind::Typeform,
        provider: "Typeform",
        docs: "https://www.typeform.com/developers/webhooks/secure-your-webhooks/",
        header: "`Typeform-Signature: sha256=<base64>`",
        signed: "body",
        encoding: "base64",
        tolerance_secs: FIVE_MINUTES,
        event_type: any(&[J("/event_type")]),
        delivery_id: any(&[J("/event_id")]),
        method: body_hmac("Typeform-Signature", "sha256=", Base64, Sha256),
    },
    SchemeSpec {
        kind: SchemeKind::Calendly,
        provider: "Calendly",
        docs: "https://developer.calendly.com/api-docs/overview/webhooks/webhook-signatures",
        header: "`Calendly-Webhook-Signature: t=…,v1=…`",
        signed: "`{t}.{body}`",
        encoding: "hex, 180 s",
        tolerance_secs: 180,
        event_type: any(&[J("/event")]),
        delivery_id: Field::NONE,
        method: stripe_like("Calendly-Webhook-Signature"),
    },
    SchemeSpec {
        kind: SchemeKind::Sentry,
        provider: "Sentry",
        docs: "https://docs.sentry.io/organization/integrations/integration-platform/webhooks/",
        header: "`Sentry-Hook-Signature`",
        signed: "body (key: the integration's client secret)",
        encoding: "hex",
        tolerance_secs: FIVE_MINUTES,
        event_type: then(&[H("Sentry-Hook-Resource")], "/action"),
        delivery_id: any(&[H("Request-ID")]),
        method: body_hmac("Sentry-Hook-Signature", "", Hex, Sha256),
    },
    SchemeSpec {
        kind: SchemeKind::Vercel,
        provider: "Vercel",
        docs: "https://vercel.com/docs/webhooks/webhooks-api#securing-webhooks",
        header: "`x-vercel-signature`",
        signed: "body",
        encoding: "hex HMAC-SHA1",
        tolerance_secs: FIVE_MINUTES,
        event_type: any(&[J("/type")]),
        delivery_id: any(&[J("/id")]),
        method: body_hmac("x-vercel-signature", "", Hex, Sha1),
    },
    SchemeSpec {
        kind: SchemeKind::Woocommerce,
        provider: "WooCommerce",
        docs: "https://woocommerce.github.io/woocommerce-rest-api-docs/#webhooks",
        header: "`X-WC-Webhook-Signature`",
        signed: "body",
        encoding: "base64",
        tolerance_secs: FIVE_MINUTES,
        event_type: any(&[H("X-WC-Webhook-Topic")]),
        delivery_id: any(&[H("X-WC-Webhook-Delivery-ID")]),
        method: body_hmac("X-WC-Webhook-Signature", "", Base64, Sha256),
    },
    SchemeSpec {
        kind: SchemeKind::Zendesk,
        provider: "Zendesk",
        docs: "https://developer.zendesk.com/documentation/webhooks/verifying/",
        header: "`X-Zendesk-Webhook-Signature`, `…-Signature-Timestamp` (RFC 3339)",
        signed: "`{timestamp}{body}`",
        encoding: "base64, 300 s",
        tolerance_secs: FIVE_MINUTES,
        event_type: any(&[J("/type")]),
        delivery_id: any(&[H("X-Zendesk-Webhook-Invocation-Id")]),
        method: Method::Hmac(HmacPreset {
            header: "X-Zendesk-Webhook-Signature",
            prefix: "",
            encoding: Base64,
            algorithm: Sha256,
            parts: &[Part::Timestamp, Part::Body],
            timestamp: Some((
                "X-Zendesk-Webhook-Signature-Timestamp",
                TimestampForm::Rfc3339,
            )),
            id_header: None,
            list: None,
        }),
    },
    SchemeSpec {
        kind: SchemeKind::Coinbase,
        provider: "Coinbase Commerce",
        docs: "https://docs.cdp.coinbase.com/commerce/api-arcitecture/webhooks-security",
        header: "`X-CC-Webhook-Signature`",
        signed: "body",
        encoding: "hex",
        tolerance_secs: FIVE_MINUTES,
        event_type: any(&[J("/event/type")]),
        delivery_id: any(&[J("/id")]),
        method: body_hmac("X-CC-Webhook-Signature", "", Hex, Sha256),
    },
    SchemeSpec {
        kind: SchemeKind::Mux,
        provider: "Mux",
        docs: "https://docs.mux.com/core/verify-webhook-signatures",
        header: "`Mux-Signature: t=…,v1=…`",
        signed: "`{t}.{body}`",
        encoding: "hex, 300 s",
        tolerance_secs: FIVE_MINUTES,
        event_type: any(&[J("/type")]),
        delivery_id: any(&[J("/id")]),
        method: stripe_like("Mux-Signature"),
    },
    SchemeSpec {
        kind: SchemeKind::Dropbox,
        provider: "Dropbox",
        docs: "https://www.dropbox.com/developers/reference/webhooks",
        header: "`X-Dropbox-Signature`; `GET ?challenge=` answered",
        signed: "body (key: the app secret)",
        encoding: "hex",
        tolerance_secs: FIVE_MINUTES,
        event_type: Field::NONE,
        delivery_id: Field::NONE,
        method: body_hmac("X-Dropbox-Signature", "", Hex, Sha256),
    },
    SchemeSpec {
        kind: SchemeKind::Okta,
        provider: "Okta event hooks",
        docs: "https://developer.okta.com/docs/concepts/event-hooks/",
        header: "`Authorization`; the verification `GET` answered",
        signed: "none: the header is the secret you gave Okta",
        encoding: "compared in constant time",
        tolerance_secs: FIVE_MINUTES,
        event_type: any(&[J("/data/events/0/eventType"), J("/eventType")]),
        delivery_id: any(&[J("/eventId")]),
        method: Method::Token {
            header: "Authorization",
            prefix: "",
        },
    },
    SchemeSpec {
        kind: SchemeKind::MicrosoftGraph,
        provider: "Microsoft Graph change notifications",
        docs: "https://learn.microsoft.com/en-us/graph/change-notifications-delivery-webhooks",
        header: "none: `clientState` in each of the body's `value[]`; `?validationToken=` answered",
        signed: "none: each `clientState` is the secret set on the subscription",
        encoding: "compared in constant time",
        tolerance_secs: FIVE_MINUTES,
        event_type: any(&[J("/value/0/changeType"), J("/value/0/lifecycleEvent")]),
        delivery_id: any(&[J("/value/0/id")]),
        method: Method::ClientState,
    },
    SchemeSpec {
        kind: SchemeKind::Lemonsqueezy,
        provider: "Lemon Squeezy",
        docs: "https://docs.lemonsqueezy.com/help/webhooks/signing-requests",
        header: "`X-Signature`",
        signed: "body",
        encoding: "hex",
        tolerance_secs: FIVE_MINUTES,
        event_type: any(&[H("X-Event-Name"), J("/meta/event_name")]),
        delivery_id: Field::NONE,
        method: body_hmac("X-Signature", "", Hex, Sha256),
    },
    SchemeSpec {
        kind: SchemeKind::Razorpay,
        provider: "Razorpay",
        docs: "https://razorpay.com/docs/webhooks/validate-test/",
        header: "`X-Razorpay-Signature`",
        signed: "body",
        encoding: "hex",
        tolerance_secs: FIVE_MINUTES,
        event_type: any(&[J("/event")]),
        delivery_id: any(&[H("x-razorpay-event-id")]),
        method: body_hmac("X-Razorpay-Signature", "", Hex, Sha256),
    },
    SchemeSpec {
        kind: SchemeKind::Paystack,
        provider: "Paystack",
        docs: "https://paystack.com/docs/payments/webhooks/#verify-event-origin",
        header: "`x-paystack-signature`",
        signed: "body (key: the secret API key)",
        encoding: "hex HMAC-SHA512",
        tolerance_secs: FIVE_MINUTES,
        event_type: any(&[J("/event")]),
        delivery_id: Field::NONE,
        method: body_hmac("x-paystack-signature", "", Hex, Sha512),
    },
    SchemeSpec {
        kind: SchemeKind::Checkout,
        provider: "Checkout.com",
        docs: "https://www.checkout.com/docs/developer-resources/webhooks/manage-webhooks",
        header: "`Cko-Signature`",
        signed: "body",
        encoding: "hex",
        tolerance_secs: FIVE_MINUTES,
        event_type: any(&[J("/type")]),
        delivery_id: any(&[J("/id")]),
        method: body_hmac("Cko-Signature", "", Hex, Sha256),
    },
    SchemeSpec {
        kind: SchemeKind::Clickup,
        provider: "ClickUp",
        docs: "https://developer.clickup.com/docs/webhooksignature",
        header: "`X-Signature`",
        signed: "body",
        encoding: "hex",
        tolerance_secs: FIVE_MINUTES,
        event_type: any(&[J("/event")]),
        delivery_id: Field::NONE,
        method: body_hmac("X-Signature", "", Hex, Sha256),
    },
    SchemeSpec {
        kind: SchemeKind::Circleci,
        provider: "CircleCI",
        docs: "https://circleci.com/docs/webhooks/#validate-webhooks",
        header: "`circleci-signature: v1=<hex>[,v1=<hex>]`",
        signed: "body",
        encoding: "hex",
        tolerance_secs: FIVE_MINUTES,
        event_type: any(&[H("Circleci-Event-Type"), J("/type")]),
        delivery_id: any(&[J("/id")]),
        method: Method::Hmac(HmacPreset {
            header: "circleci-signature",
            prefix: "v1=",
            encoding: Hex,
            algorithm: Sha256,
            parts: &[Part::Body],
            timestamp: None,
            id_header: None,
            list: Some(','),
        }),
    },
    SchemeSpec {
        kind: SchemeKind::Coinify,
        provider: "Coinify",
        docs: "https://coinify.readme.io/docs/webhook-signature",
        header: "`X-Coinify-Webhook-Signature`",
        signed: "body",
        encoding: "hex",
        tolerance_secs: FIVE_MINUTES,
        event_type: any(&[J("/event")]),
        delivery_id: any(&[J("/id")]),
        method: body_hmac("X-Coinify-Webhook-Signature", "", Hex, Sha256),
    },
    SchemeSpec {
        kind: SchemeKind::Basic,
        provider: "HTTP Basic senders (Postmark, …)",
        docs: "https://postmarkapp.com/developer/webhooks/webhooks-overview",
        header: "`Authorization: Basic <base64>`",
        signed: "none: the credentials are the secret (`user:password`)",
        encoding: "compared in constant time",
        tolerance_secs: FIVE_MINUTES,
        // Postmark's record type; its MessageID is shared by a message's
        // events (an open and a click), so it cannot identify a delivery.
        event_type: any(&[J("/RecordType")]),
        delivery_id: Field::NONE,
        method: Method::Basic,
    },
    standard_alias(
        SchemeKind::Clerk,
        "Clerk (Svix)",
        "https://clerk.com/docs/webhooks/sync-data",
        any(&[J("/type")]),
    ),
    standard_alias(
        SchemeKind::Resend,
        "Resend (Svix)",
        "https://resend.com/docs/webhooks/verify-webhooks-requests",
        any(&[J("/type")]),
    ),
    standard_alias(
        SchemeKind::Openai,
        "OpenAI",
        "https://platform.openai.com/docs/guides/webhooks",
        any(&[J("/type")]),
    ),
    standard_alias(
        SchemeKind::Replicate,
        "Replicate",
        "https://replicate.com/docs/topics/webhooks/verify-webhook",
        any(&[J("/status")]),
    ),
    standard_alias(
        SchemeKind::Polar,
        "Polar",
        "https://docs.polar.sh/integrate/webhooks/delivery",
        any(&[J("/type")]),
    ),
    standard_alias(
        SchemeKind::Liveblocks,
        "Liveblocks",
        "https://liveblocks.io/docs/platform/webhooks",
        any(&[J("/type")]),
    ),
    SchemeSpec {
        kind: SchemeKind::Hmac,
        provider: "any other HMAC sender",
        docs: "",
        header: "configurable header and prefix",
        signed: "body or a template",
        encoding: "hex or base64; sha1/sha256/sha512",
        tolerance_secs: FIVE_MINUTES,
        event_type: Field::NONE,
        delivery_id: Field::NONE,
        method: Method::Configured,
    },
];

impl SchemeSpec {
    /// Whether the header carries the secret itself rather than a
    /// signature (nothing is signed).
    pub fn is_token(&self) -> bool {
        matches!(
            self.method,
            Method::Token { .. } | Method::Basic | Method::ClientState
        )
    }

    /// Whether the signature covers the public URL the provider posted to.
    pub fn signs_url(&self) -> bool {
        match self.method {
            Method::Twilio => true,
            Method::Hmac(preset) => preset.parts.contains(&Part::Url),
            _ => false,
        }
    }

    /// Whether the "secret" is a public key: only the provider can sign,
    /// and hookrelay cannot sign as it (`hookrelay send` cannot be used).
    pub fn takes_public_key(&self) -> bool {
        matches!(self.method, Method::Discord | Method::Sendgrid)
    }

    /// Whether secrets are Standard Webhooks keys (`whsec_<base64>`).
    pub fn takes_whsec(&self) -> bool {
        matches!(self.method, Method::Standard)
    }
}

impl SchemeKind {
    /// The catalogue entry of this scheme.
    pub fn spec(self) -> &'static SchemeSpec {
        CATALOG
            .iter()
            .find(|spec| spec.kind == self)
            .expect("every scheme kind has a catalogue entry (tested)")
    }
}

/// README's scheme table, as `hookrelay schemes --markdown` prints it.
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| scheme | provider | headers | signed string | encoding |\n| --- | --- | --- | --- | --- |\n",
    );
    for spec in CATALOG {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            spec.kind.as_str(),
            spec.provider,
            spec.header,
            spec.signed,
            spec.encoding
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_exactly_one_entry() {
        for kind in SchemeKind::ALL {
            let entries = CATALOG.iter().filter(|spec| spec.kind == *kind).count();
            assert_eq!(entries, 1, "{kind}");
        }
        assert_eq!(CATALOG.len(), SchemeKind::ALL.len());
    }

    #[test]
    fn every_provider_scheme_cites_its_documentation() {
        for spec in CATALOG.iter().filter(|s| s.kind != SchemeKind::Hmac) {
            assert!(spec.docs.starts_with("https://"), "{}", spec.kind);
        }
    }

    #[test]
    fn presets_that_sign_a_timestamp_or_id_name_their_headers() {
        for spec in CATALOG {
            if let Method::Hmac(preset) = spec.method {
                assert!(
                    preset.parts.contains(&Part::Body),
                    "{} signs no body",
                    spec.kind
                );
                assert_eq!(
                    preset.parts.contains(&Part::Timestamp),
                    preset.timestamp.is_some(),
                    "{}",
                    spec.kind
                );
                assert_eq!(
                    preset.parts.contains(&Part::Id),
                    preset.id_header.is_some(),
                    "{}",
                    spec.kind
                );
            }
        }
    }
}
