//! Public-key schemes: the provider signs with its private key and the
//! source holds the public key (Discord's Ed25519, SendGrid's ECDSA P-256,
//! Standard Webhooks' `whpk_` keys).
use aws_lc_rs::signature;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;

use super::{malformed, required, InboundRequest, Verified, Verifier};
use crate::catalog::Method;
use crate::error::{SecretError, VerifyError};
use crate::headers::HeaderLookup;
use crate::parse;
use crate::scheme::Encoding;
use crate::sns::{SnsMessage, MESSAGE_TYPE_HEADER, RAW_DELIVERY_HEADER};

impl Verifier {
    /// An SNS message of one of the source's topics, published within the
    /// tolerance: what the receiver checks before it fetches the
    /// certificate that signed it (it is not verified yet).
    pub fn sns_message(
        &self,
        headers: &dyn HeaderLookup,
        body: &[u8],
        now: i64,
    ) -> Result<(usize, SnsMessage), VerifyError> {
        if headers
            .header(RAW_DELIVERY_HEADER)
            .is_some_and(|raw| raw.trim().eq_ignore_ascii_case("true"))
        {
            return Err(VerifyError::MalformedBody(
                "raw message delivery is on, and SNS signs no raw message: turn it off for this subscription",
            ));
        }
        let message = SnsMessage::parse(body)?;
        let header = required(headers, MESSAGE_TYPE_HEADER)?;
        if header.trim() != message.message_type.as_str() {
            return Err(malformed(
                MESSAGE_TYPE_HEADER,
                "differs from the body's Type",
            ));
        }
        let topic = self
            .topics
            .iter()
            .position(|topic| *topic == message.topic_arn)
            .ok_or_else(|| VerifyError::TopicNotAllowed(message.topic_arn.clone()))?;
        self.check_timestamp(message.timestamp, now)?;
        Ok((topic, message))
    }

    /// SNS: RSA over the message's string to sign, by the certificate the
    /// receiver fetched from the URL the message names.
    pub(super) fn verify_sns(
        &self,
        request: &InboundRequest<'_>,
        now: i64,
    ) -> Result<Verified, VerifyError> {
        let (topic, message) = self.sns_message(request.headers, request.body, now)?;
        let certificate = request.certificate.ok_or(VerifyError::MissingCertificate)?;
        Self::sns_signed(topic, &message, certificate)
    }

    /// The last step of SNS verification, for a message
    /// [`Verifier::sns_message`] accepted as of topic `topic`: its signature
    /// by `certificate`. A receiver that has the message already (to learn
    /// which certificate to fetch) calls this rather than parsing it again.
    pub fn sns_signed(
        topic: usize,
        message: &SnsMessage,
        certificate: &[u8],
    ) -> Result<Verified, VerifyError> {
        message.verify_signature(certificate)?;
        Ok(Verified {
            secret_index: topic,
            timestamp: Some(message.timestamp),
            replay_key: None,
        })
    }

    /// A signature by the provider's private key over `{timestamp}{body}`,
    /// checked against each configured public key. Exact replays are known
    /// by a digest of what is signed, as no delivery id is signed (and a
    /// signature is not one per message: see `replay_key`).
    pub(super) fn verify_public_key(
        &self,
        request: &InboundRequest<'_>,
        now: i64,
        scheme: PublicKeyScheme,
    ) -> Result<Verified, VerifyError> {
        let headers = request.headers;
        let value = required(headers, scheme.signature_header)?.trim();
        let timestamp_raw = required(headers, scheme.timestamp_header)?.trim();
        let timestamp = parse::parse_unix_seconds(timestamp_raw)
            .map_err(|reason| malformed(scheme.timestamp_header, reason))?;
        let signature = match scheme.encoding {
            Encoding::Hex => parse::decode_hex(value),
            Encoding::Base64 => parse::decode_base64(value),
        }
        .map_err(|reason| malformed(scheme.signature_header, reason))?;
        if scheme.timed {
            self.check_timestamp(timestamp, now)?;
        }
        let mut message = Vec::with_capacity(timestamp_raw.len() + request.body.len());
        message.extend_from_slice(timestamp_raw.as_bytes());
        message.extend_from_slice(request.body);
        let secret_index =
            self.find_public_key(scheme.algorithm, &message, std::slice::from_ref(&signature))?;
        Ok(Verified {
            timestamp: scheme.timed.then_some(timestamp),
            ..Verified::by_content(secret_index, &[timestamp_raw.as_bytes(), request.body])
        })
    }

    /// The index of the first public key under which any candidate is a
    /// valid signature of `message`.
    pub(super) fn find_public_key(
        &self,
        algorithm: &'static dyn signature::VerificationAlgorithm,
        message: &[u8],
        candidates: &[Vec<u8>],
    ) -> Result<usize, VerifyError> {
        self.public_keys
            .iter()
            .find(|(_, key)| {
                let key = signature::UnparsedPublicKey::new(algorithm, key);
                candidates
                    .iter()
                    .any(|candidate| key.verify(message, candidate).is_ok())
            })
            .map(|(index, _)| *index)
            .ok_or(VerifyError::NoMatchingSignature)
    }
}

/// How one public-key scheme carries its signature.
pub(super) struct PublicKeyScheme {
    pub(super) signature_header: &'static str,
    pub(super) timestamp_header: &'static str,
    pub(super) encoding: Encoding,
    pub(super) algorithm: &'static dyn signature::VerificationAlgorithm,
    /// Whether the timestamp must be within the tolerance.
    pub(super) timed: bool,
}

/// The DER SubjectPublicKeyInfo header of every P-256 public key
/// (id-ecPublicKey, prime256v1, then a 66-byte BIT STRING).
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// The DER SubjectPublicKeyInfo header of every Ed25519 public key.
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// For a public-key scheme, the configured key in the form aws-lc-rs
/// verifies with; `None` for the others. Discord gives a hex Ed25519 key,
/// SendGrid the base64 of a DER P-256 SubjectPublicKeyInfo.
pub(super) fn public_key(
    method: Method,
    raw: &str,
    index: usize,
) -> Result<Option<Vec<u8>>, SecretError> {
    match method {
        Method::Discord => match hex::decode(raw) {
            Ok(key) if key.len() == 32 => Ok(Some(key)),
            _ => Err(SecretError::BadPublicKey {
                index,
                expected: "64 hex digits, the application's public key",
            }),
        },
        Method::Standard if raw.starts_with("whsk_") => Err(SecretError::BadPublicKey {
            index,
            expected: "whpk_<base64>, the sender's public key; whsk_ is its private key",
        }),
        Method::Standard => {
            let Some(encoded) = raw.strip_prefix("whpk_") else {
                return Ok(None);
            };
            let der = BASE64.decode(encoded).unwrap_or_default();
            // The raw 32-byte key (Svix), or it as a DER SubjectPublicKeyInfo.
            let key = match der.len() {
                32 => Some(der),
                44 => der
                    .strip_prefix(&ED25519_SPKI_PREFIX[..])
                    .map(<[u8]>::to_vec),
                _ => None,
            };
            key.map(Some).ok_or(SecretError::BadPublicKey {
                index,
                expected: "whpk_ followed by the base64 of a 32-byte Ed25519 public key",
            })
        }
        Method::Sendgrid => {
            let der = BASE64.decode(raw).unwrap_or_default();
            match der.strip_prefix(&P256_SPKI_PREFIX[..]) {
                Some(point) if point.len() == 65 && point[0] == 0x04 => Ok(Some(point.to_vec())),
                _ => Err(SecretError::BadPublicKey {
                    index,
                    expected: "the base64 P-256 verification key from the SendGrid console",
                }),
            }
        }
        _ => Ok(None),
    }
}
