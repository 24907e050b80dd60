//! AWS SNS: envelopes signed by Python's `cryptography` (events/providers.py)
//! with the key of a self-signed stand-in for SNS's certificate, at
//! signature versions 1 (SHA-1) and 2 (SHA-256), and what must be refused.
use hookrelay_signing::sns::{SnsMessage, SnsMessageType};
use hookrelay_signing::{
    sign_as_provider, HeaderPairs, InboundRequest, ProviderMessage, Scheme, SchemeKind, Secret,
    SecretError, Verifier, VerifyError, VerifyErrorKind,
};
use serde_json::Value;

const CERT_PEM: &[u8] = include_bytes!("../../../events/providers/sns-signing-cert.pem");
const MESSAGES: &str = include_str!("data/sns-messages.json");
const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:orders";
/// When providers.py signed them (its SIGNED_AT).
const SIGNED_AT: i64 = 1_795_000_000;

fn message(name: &str) -> String {
    let all: Value = serde_json::from_str(MESSAGES).unwrap();
    all[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name}"))
        .to_string()
}

fn verifier() -> Verifier {
    Verifier::new(Scheme::Named(SchemeKind::Sns), &[Secret::new(TOPIC)]).unwrap()
}

fn type_of(body: &str) -> String {
    let parsed: Value = serde_json::from_str(body).unwrap();
    parsed["Type"].as_str().unwrap().to_string()
}

fn verify_as(
    verifier: &Verifier,
    body: &str,
    headers: &[(&str, &str)],
    certificate: Option<&[u8]>,
    now: i64,
) -> Result<hookrelay_signing::Verified, VerifyError> {
    let pairs = HeaderPairs(headers);
    let mut request = InboundRequest::new(&pairs, body.as_bytes());
    if let Some(certificate) = certificate {
        request = request.with_certificate(certificate);
    }
    verifier.verify(&request, now)
}

fn verify(body: &str, certificate: Option<&[u8]>, now: i64) -> Result<i64, VerifyError> {
    let kind = type_of(body);
    verify_as(
        &verifier(),
        body,
        &[("x-amz-sns-message-type", &kind)],
        certificate,
        now,
    )
    .map(|verified| verified.timestamp.unwrap())
}

/// The certificate as DER, as some servers would serve it.
fn cert_der() -> Vec<u8> {
    use base64::Engine;
    let text = std::str::from_utf8(CERT_PEM).unwrap();
    let b64: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap()
}

#[test]
fn both_signature_versions_and_every_message_type_verify() {
    for name in [
        "notification_v1",
        "notification_v2",
        "subscription_confirmation_v1",
        "unsubscribe_confirmation_v2",
    ] {
        let body = message(name);
        assert_eq!(
            verify(&body, Some(CERT_PEM), SIGNED_AT),
            Ok(SIGNED_AT),
            "{name}"
        );
        assert_eq!(
            verify(&body, Some(&cert_der()), SIGNED_AT + 60),
            Ok(SIGNED_AT),
            "{name} with a DER certificate"
        );
    }
    let confirmation =
        SnsMessage::parse(message("subscription_confirmation_v1").as_bytes()).unwrap();
    assert_eq!(
        confirmation.message_type,
        SnsMessageType::SubscriptionConfirmation
    );
    assert!(confirmation
        .subscribe_url
        .unwrap()
        .starts_with("https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription"));
}

#[test]
fn a_changed_field_or_version_or_another_key_fails() {
    let body = message("notification_v2");
    for (from, to) in [
        (r#""Message": "line one"#, r#""Message": "line 1"#),
        (r#""SignatureVersion": "2""#, r#""SignatureVersion": "1""#),
        (r#""MessageId": "m-v2""#, r#""MessageId": "m-v3""#),
        (
            r#""Timestamp": "2026-11-18T11:06:40.000Z""#,
            r#""Timestamp": "2026-11-18T11:06:41.000Z""#,
        ),
    ] {
        assert!(body.contains(from), "{from}");
        let changed = body.replace(from, to);
        assert_eq!(
            verify(&changed, Some(CERT_PEM), SIGNED_AT),
            Err(VerifyError::NoMatchingSignature),
            "{to}"
        );
    }
    // A Notification without its Subject signs a different string.
    let with_subject = message("notification_v1");
    let without = with_subject.replace(r#""Subject": "greeting","#, "");
    assert_ne!(with_subject, without);
    assert_eq!(
        verify(&without, Some(CERT_PEM), SIGNED_AT),
        Err(VerifyError::NoMatchingSignature)
    );
    assert_eq!(
        verify(&message("other_key_v2"), Some(CERT_PEM), SIGNED_AT),
        Err(VerifyError::NoMatchingSignature)
    );
}

#[test]
fn only_the_sources_topics_within_the_hour_pass() {
    let other = message("other_topic_v2");
    let refused = verify(&other, Some(CERT_PEM), SIGNED_AT).unwrap_err();
    assert!(
        matches!(refused, VerifyError::TopicNotAllowed(ref t) if t.ends_with(":someone-elses"))
    );
    assert_eq!(refused.kind(), VerifyErrorKind::Unauthenticated);
    let two_topics = Verifier::new(
        Scheme::Named(SchemeKind::Sns),
        &[
            Secret::new(TOPIC),
            Secret::new("arn:aws:sns:us-east-1:123456789012:someone-elses"),
        ],
    )
    .unwrap();
    let verified = verify_as(
        &two_topics,
        &other,
        &[("x-amz-sns-message-type", "Notification")],
        Some(CERT_PEM),
        SIGNED_AT,
    )
    .unwrap();
    assert_eq!(verified.secret_index, 1);

    let body = message("notification_v1");
    assert!(verify(&body, Some(CERT_PEM), SIGNED_AT + 3600).is_ok());
    assert!(matches!(
        verify(&body, Some(CERT_PEM), SIGNED_AT + 3601),
        Err(VerifyError::TimestampTooOld { .. })
    ));
    assert!(matches!(
        verify(&body, Some(CERT_PEM), SIGNED_AT - 3601),
        Err(VerifyError::TimestampInFuture { .. })
    ));
}

#[test]
fn headers_and_certificates_that_do_not_fit_are_refused() {
    let body = message("notification_v1");
    let v = verifier();
    let check = |headers: &[(&str, &str)], cert: Option<&[u8]>| {
        verify_as(&v, &body, headers, cert, SIGNED_AT)
    };
    let notification = [("x-amz-sns-message-type", "Notification")];
    assert!(check(&notification, Some(CERT_PEM)).is_ok());
    assert_eq!(
        check(&[], Some(CERT_PEM)),
        Err(VerifyError::MissingHeader("x-amz-sns-message-type".into()))
    );
    let other_type = check(
        &[("x-amz-sns-message-type", "SubscriptionConfirmation")],
        Some(CERT_PEM),
    )
    .unwrap_err();
    assert_eq!(other_type.kind(), VerifyErrorKind::Malformed);
    let raw = check(
        &[
            ("x-amz-sns-message-type", "Notification"),
            ("x-amz-sns-rawdelivery", "true"),
        ],
        Some(CERT_PEM),
    )
    .unwrap_err();
    assert_eq!(raw.kind(), VerifyErrorKind::Malformed);
    assert!(raw.to_string().contains("raw message delivery"), "{raw}");

    let missing = check(&notification, None).unwrap_err();
    assert_eq!(missing, VerifyError::MissingCertificate);
    assert_eq!(missing.kind(), VerifyErrorKind::Misconfigured);
    for garbage in [
        &b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"[..],
        b"\x30\x03\x02\x01\x01",
        b"",
    ] {
        assert!(matches!(
            check(&notification, Some(garbage)),
            Err(VerifyError::BadCertificate(_))
        ));
    }
}

#[test]
fn sources_list_topic_arns_and_cannot_sign_as_sns() {
    let refused = Verifier::new(
        Scheme::Named(SchemeKind::Sns),
        &[Secret::new(TOPIC), Secret::new("my-secret")],
    )
    .unwrap_err();
    assert_eq!(refused, SecretError::NotTopicArn { index: 1 });
    assert_eq!(
        Verifier::new(Scheme::Named(SchemeKind::Sns), &[]).unwrap_err(),
        SecretError::NoSecrets
    );
    let message = ProviderMessage {
        body: b"{}",
        timestamp: SIGNED_AT,
        id: "x",
        url: None,
    };
    assert_eq!(
        sign_as_provider(
            &Scheme::Named(SchemeKind::Sns),
            &Secret::new(TOPIC),
            &message
        ),
        Err(SecretError::CannotSign)
    );
}
