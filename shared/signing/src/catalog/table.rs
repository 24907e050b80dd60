//! The table itself: one entry per scheme, each citing the provider's
//! documentation. It is kept in two files only to keep each readable;
//! [`super::CATALOG`] is this file's entries, then `table_more`'s.
use super::{any, then, Field, HmacPreset, Method, Part, Pick, SchemeSpec, TimestampForm};
use crate::scheme::{Encoding, HmacAlgorithm, SchemeKind};

use Encoding::{Base64, Hex};
use HmacAlgorithm::Sha256;
use Pick::{Header as H, Json as J};

/// An HMAC over the body alone, in one header: the most common shape.
pub(super) const fn body_hmac(
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
pub(super) const fn stripe_like(header: &'static str) -> Method {
    Method::Timestamped {
        header,
        separator: ',',
        timestamp_key: "t",
        signature_key: "v1",
        joiner: ".",
    }
}

pub(super) const FIVE_MINUTES: u64 = crate::DEFAULT_TOLERANCE_SECS;

/// A Standard Webhooks sender under its own name, so users find it.
pub(super) const fn standard_alias(
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

/// The ten schemes of version one, then those added with handshakes or
/// public keys.
pub(super) const FIRST: &[SchemeSpec] = &[
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
        // From the signed body, not the unsigned `Linear-Delivery` header:
        // the webhook's id and the millisecond it was sent
        // (`webhookId`, `webhookTimestamp` in @linear/sdk's schema).
        delivery_id: then(&[J("/webhookId")], "/webhookTimestamp"),
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
        // The signed timestamp and token, not the unsigned `event-data.id`:
        // one captured signature object must not carry other bodies in as
        // new events. Each token is so used once within the dedupe window,
        // as Mailgun advises (documentation.mailgun.com, "Securing
        // webhooks": "cache the token value locally and not honor any
        // subsequent request with the same token").
        delivery_id: then(&[J("/signature/timestamp")], "/signature/token"),
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
        encoding: "base64 DER ECDSA P-256/SHA-256, 25 h (retries keep their timestamp for up to 24 h)",
        // SendGrid retries for up to 24 h after the event, and its
        // timestamp may be the first attempt's: a window a little longer,
        // so a replay is refused once its dedupe record has expired.
        tolerance_secs: 25 * 3600,
        event_type: any(&[J("/0/event")]),
        delivery_id: any(&[J("/0/sg_event_id")]),
        method: Method::Sendgrid,
    },
    SchemeSpec {
        kind: SchemeKind::Sns,
        provider: "AWS SNS (HTTP/S subscriptions)",
        docs: "https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html",
        header: "none: `Signature`, `SignatureVersion`, `SigningCertURL` in the JSON body; `x-amz-sns-message-type`",
        signed: "`Name\\nvalue\\n` per signed field of the message type (key: the topic ARNs accepted; the certificate is fetched from `https://sns.<region>.amazonaws.com/…pem`)",
        encoding: "base64 RSA, SHA-1 (v1) or SHA-256 (v2), 3600 s",
        // SNS retries a delivery for up to an hour, keeping its Timestamp
        // (docs: sns-message-delivery-retries).
        tolerance_secs: 3600,
        event_type: any(&[J("/Type"), H("x-amz-sns-message-type")]),
        delivery_id: any(&[J("/MessageId")]),
        method: Method::Sns,
    },
];
