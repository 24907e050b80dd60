//! AWS SNS HTTP/S subscriptions: the JSON envelope SNS posts, the string
//! it signs for each message type, and its RSA signature, checked with the
//! public key of the certificate the envelope names.
//!
//! Formats: docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html
//! and …/sns-verify-signature-of-message.html. Fetching the certificate,
//! only from SNS's own hosts, is the receiver's part: this module is given
//! its bytes.
use aws_lc_rs::signature::{self, UnparsedPublicKey};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use serde::Deserialize;

use crate::catalog::TimestampForm;
use crate::error::VerifyError;
use crate::parse::parse_timestamp;

/// The header SNS names the message type in (also the body's `Type`).
pub const MESSAGE_TYPE_HEADER: &str = "x-amz-sns-message-type";
/// Set to `true` when raw message delivery is on: the body is then the
/// bare message, with no envelope and no signature.
pub const RAW_DELIVERY_HEADER: &str = "x-amz-sns-rawdelivery";
/// Largest signing certificate read (AWS's are about 2 KB as PEM).
pub const MAX_CERTIFICATE_BYTES: usize = 16 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnsMessageType {
    Notification,
    SubscriptionConfirmation,
    UnsubscribeConfirmation,
}

impl SnsMessageType {
    pub fn as_str(self) -> &'static str {
        match self {
            SnsMessageType::Notification => "Notification",
            SnsMessageType::SubscriptionConfirmation => "SubscriptionConfirmation",
            SnsMessageType::UnsubscribeConfirmation => "UnsubscribeConfirmation",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        [
            SnsMessageType::Notification,
            SnsMessageType::SubscriptionConfirmation,
            SnsMessageType::UnsubscribeConfirmation,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == raw)
    }
}

/// `SignatureVersion` 1 is RSA PKCS#1 v1.5 with SHA-1 (the default of a
/// topic), 2 the same with SHA-256.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SignatureVersion {
    V1,
    V2,
}

/// The fields of the envelope hookrelay reads. Unknown fields
/// (`UnsubscribeURL`, `MessageAttributes`) are allowed; a field given twice
/// is not, so no two readers can disagree about what was signed.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Envelope {
    #[serde(rename = "Type")]
    message_type: String,
    message_id: String,
    topic_arn: String,
    message: String,
    #[serde(default)]
    subject: Option<String>,
    timestamp: String,
    #[serde(default)]
    token: Option<String>,
    #[serde(rename = "SubscribeURL", default)]
    subscribe_url: Option<String>,
    signature_version: String,
    signature: String,
    #[serde(rename = "SigningCertURL")]
    signing_cert_url: String,
}

/// An SNS message as posted, not yet verified.
#[derive(Debug, Clone)]
pub struct SnsMessage {
    pub message_type: SnsMessageType,
    pub message_id: String,
    pub topic_arn: String,
    /// When it was published (Unix seconds); retries keep it.
    pub timestamp: i64,
    /// Where the certificate that signed it is (not yet checked).
    pub signing_cert_url: String,
    /// The URL that confirms the subscription, on the two confirmation
    /// types.
    pub subscribe_url: Option<String>,
    version: SignatureVersion,
    signature: Vec<u8>,
    string_to_sign: Vec<u8>,
}

impl SnsMessage {
    /// Reads the envelope and builds the string SNS signed.
    pub fn parse(body: &[u8]) -> Result<Self, VerifyError> {
        let envelope: Envelope = serde_json::from_slice(body).map_err(|_| {
            VerifyError::MalformedBody("not an SNS message (a JSON object with Type, MessageId, TopicArn, Message, Timestamp, Signature, SignatureVersion, SigningCertURL)")
        })?;
        let message_type = SnsMessageType::parse(&envelope.message_type).ok_or(
            VerifyError::MalformedBody("Type is not an SNS message type"),
        )?;
        let version = match envelope.signature_version.as_str() {
            "1" => SignatureVersion::V1,
            "2" => SignatureVersion::V2,
            _ => return Err(VerifyError::MalformedBody("SignatureVersion is not 1 or 2")),
        };
        let signature = BASE64
            .decode(envelope.signature.trim())
            .map_err(|_| VerifyError::MalformedBody("Signature is not base64"))?;
        let timestamp = parse_timestamp(&envelope.timestamp, TimestampForm::Rfc3339)
            .map_err(|_| VerifyError::MalformedBody("Timestamp is not an ISO 8601 time"))?;
        let string_to_sign = string_to_sign(&envelope, message_type)?;
        Ok(SnsMessage {
            message_type,
            message_id: envelope.message_id,
            topic_arn: envelope.topic_arn,
            timestamp,
            signing_cert_url: envelope.signing_cert_url,
            subscribe_url: envelope.subscribe_url,
            version,
            signature,
            string_to_sign,
        })
    }

    /// The exact bytes SNS signed.
    pub fn string_to_sign(&self) -> &[u8] {
        &self.string_to_sign
    }

    /// Whether the certificate (PEM or DER) signed this message.
    pub fn verify_signature(&self, certificate: &[u8]) -> Result<(), VerifyError> {
        let public_key = certificate_public_key(certificate)?;
        let algorithm: &dyn signature::VerificationAlgorithm = match self.version {
            SignatureVersion::V1 => &signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
            SignatureVersion::V2 => &signature::RSA_PKCS1_2048_8192_SHA256,
        };
        UnparsedPublicKey::new(algorithm, public_key)
            .verify(&self.string_to_sign, &self.signature)
            .map_err(|_| VerifyError::NoMatchingSignature)
    }
}

/// For each field the message type signs, present, in byte order of the
/// names: `Name\nValue\n`. The values are the decoded JSON strings.
/// A Notification signs its `Subject` only when it has one; the two
/// confirmation types sign `SubscribeURL` and `Token`, which they must have.
fn string_to_sign(envelope: &Envelope, kind: SnsMessageType) -> Result<Vec<u8>, VerifyError> {
    let mut fields: Vec<(&str, &str)> = vec![
        ("Message", &envelope.message),
        ("MessageId", &envelope.message_id),
    ];
    if kind == SnsMessageType::Notification {
        if let Some(subject) = &envelope.subject {
            fields.push(("Subject", subject));
        }
        fields.push(("Timestamp", &envelope.timestamp));
    } else {
        let subscribe_url = envelope
            .subscribe_url
            .as_deref()
            .ok_or(VerifyError::MissingBodyField("SubscribeURL"))?;
        let token = envelope
            .token
            .as_deref()
            .ok_or(VerifyError::MissingBodyField("Token"))?;
        fields.push(("SubscribeURL", subscribe_url));
        fields.push(("Timestamp", &envelope.timestamp));
        fields.push(("Token", token));
    }
    fields.push(("TopicArn", &envelope.topic_arn));
    fields.push(("Type", &envelope.message_type));
    let mut out = Vec::with_capacity(fields.iter().map(|(k, v)| k.len() + v.len() + 2).sum());
    for (name, value) in fields {
        out.extend_from_slice(name.as_bytes());
        out.push(b'\n');
        out.extend_from_slice(value.as_bytes());
        out.push(b'\n');
    }
    Ok(out)
}

/// The DER SubjectPublicKeyInfo of a certificate given as PEM or DER.
fn certificate_public_key(certificate: &[u8]) -> Result<Vec<u8>, VerifyError> {
    if certificate.len() > MAX_CERTIFICATE_BYTES {
        return Err(VerifyError::BadCertificate(
            "larger than any signing certificate",
        ));
    }
    let der = if certificate.starts_with(b"-----BEGIN") {
        CertificateDer::from_pem_slice(certificate)
            .map_err(|_| VerifyError::BadCertificate("not a PEM certificate"))?
    } else {
        CertificateDer::from(certificate.to_vec())
    };
    let parsed = webpki::EndEntityCert::try_from(&der)
        .map_err(|_| VerifyError::BadCertificate("not an X.509 v3 certificate"))?;
    Ok(parsed.subject_public_key_info().as_ref().to_vec())
}

/// Whether `arn` is a topic ARN: `arn:<partition>:sns:<region>:<account>:<name>`.
pub fn is_topic_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.split(':').collect();
    let name_ok = |name: &str| {
        (1..=256).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    };
    parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "sns"
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && name_ok(parts[5])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's own example of a Notification's string to sign (every line
    /// ends in a newline, the last one too), from
    /// sns-verify-signature-of-message.html.
    #[test]
    fn a_notification_signs_the_documented_string() {
        let body = br#"{
            "Type" : "Notification",
            "MessageId" : "4d4dc071-ddbf-465d-bba8-08f81c89da64",
            "TopicArn" : "arn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P",
            "Subject" : "My subject",
            "Message" : "My Test Message",
            "Timestamp" : "2019-01-31T04:37:04.321Z",
            "SignatureVersion" : "1",
            "Signature" : "AAAA",
            "SigningCertURL" : "https://sns.us-east-2.amazonaws.com/SimpleNotificationService-ac565b8b1a6c5d002d285f9598aa1d9b.pem",
            "UnsubscribeURL" : "https://sns.us-east-2.amazonaws.com/?Action=Unsubscribe"
        }"#;
        let message = SnsMessage::parse(body).unwrap();
        assert_eq!(
            std::str::from_utf8(message.string_to_sign()).unwrap(),
            "Message\nMy Test Message\nMessageId\n4d4dc071-ddbf-465d-bba8-08f81c89da64\nSubject\nMy subject\nTimestamp\n2019-01-31T04:37:04.321Z\nTopicArn\narn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P\nType\nNotification\n"
        );
        assert_eq!(message.message_type, SnsMessageType::Notification);
        assert_eq!(message.timestamp, 1_548_909_424);
    }

    #[test]
    fn confirmations_sign_their_url_and_token_and_decoded_values() {
        let body = br#"{"Type":"UnsubscribeConfirmation","MessageId":"m","Token":"t0k","TopicArn":"arn:aws:sns:us-west-2:123456789012:T","Message":"line\nnext \u00e9","SubscribeURL":"https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription","Timestamp":"2012-05-02T00:54:06.655Z","SignatureVersion":"2","Signature":"AAAA","SigningCertURL":"https://sns.us-west-2.amazonaws.com/x.pem"}"#;
        let message = SnsMessage::parse(body).unwrap();
        assert_eq!(
            std::str::from_utf8(message.string_to_sign()).unwrap(),
            "Message\nline\nnext \u{e9}\nMessageId\nm\nSubscribeURL\nhttps://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription\nTimestamp\n2012-05-02T00:54:06.655Z\nToken\nt0k\nTopicArn\narn:aws:sns:us-west-2:123456789012:T\nType\nUnsubscribeConfirmation\n"
        );
    }

    #[test]
    fn envelopes_that_cannot_be_checked_are_malformed() {
        let good = r#"{"Type":"Notification","MessageId":"m","TopicArn":"arn:aws:sns:us-west-2:123456789012:T","Message":"x","Timestamp":"2012-05-02T00:54:06.655Z","SignatureVersion":"1","Signature":"AAAA","SigningCertURL":"https://sns.us-west-2.amazonaws.com/x.pem"}"#;
        assert!(SnsMessage::parse(good.as_bytes()).is_ok());
        for (from, to) in [
            (r#""SignatureVersion":"1""#, r#""SignatureVersion":"3""#),
            (r#""Type":"Notification""#, r#""Type":"Other""#),
            (r#""Signature":"AAAA""#, r#""Signature":"***""#),
            (
                r#""Timestamp":"2012-05-02T00:54:06.655Z""#,
                r#""Timestamp":"yesterday""#,
            ),
            (r#""Message":"x","#, ""),
            (r#""Message":"x""#, r#""Message":"x","Message":"y""#),
            (
                r#""Type":"Notification""#,
                r#""Type":"SubscriptionConfirmation""#,
            ),
        ] {
            let bad = good.replace(from, to);
            assert!(SnsMessage::parse(bad.as_bytes()).is_err(), "{to}");
        }
        assert!(SnsMessage::parse(b"hello").is_err());
    }

    #[test]
    fn topic_arns_are_recognised() {
        assert!(is_topic_arn("arn:aws:sns:us-east-1:123456789012:orders"));
        assert!(is_topic_arn(
            "arn:aws-cn:sns:cn-north-1:123456789012:orders.fifo"
        ));
        for arn in [
            "",
            "orders",
            "arn:aws:sqs:us-east-1:123456789012:orders",
            "arn:aws:sns:us-east-1:1234:orders",
            "arn:aws:sns:us-east-1:123456789012:",
            "arn:aws:sns:us-east-1:123456789012:orders:sub-id",
            "arn:aws:sns:us-east-1:123456789012:*",
        ] {
            assert!(!is_topic_arn(arn), "{arn}");
        }
    }
}
