//! Errors that say what is wrong with a request or a secret, and never
//! which secret was tried or what it is.
use thiserror::Error;

/// Why an inbound request failed verification.
///
/// The messages are for logs and operators. A receiver answering a provider
/// should map [`VerifyError::kind`] to a status code and keep the detail to
/// itself.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VerifyError {
    #[error("missing header {0}")]
    MissingHeader(String),
    #[error("malformed header {header}: {reason}")]
    MalformedHeader {
        header: String,
        reason: &'static str,
    },
    #[error("malformed body: {0}")]
    MalformedBody(&'static str),
    /// The scheme carries its signature in the body, and this one has none.
    #[error("body has no {0}")]
    MissingBodyField(&'static str),
    #[error("timestamp is {age_secs} s old, beyond the tolerance")]
    TimestampTooOld { age_secs: u64 },
    #[error("timestamp is {ahead_secs} s in the future, beyond the tolerance")]
    TimestampInFuture { ahead_secs: u64 },
    #[error("no signature matches any active secret")]
    NoMatchingSignature,
    #[error("the scheme needs the request's public URL, and none was given")]
    MissingUrl,
    /// SNS: the message's topic is not one the source accepts.
    #[error("topic {0} is not one of the source's topics")]
    TopicNotAllowed(String),
    /// SNS: a URL in the message is not on SNS's own hosts.
    #[error("{0} is not an https URL on an SNS host (sns.<region>.amazonaws.com)")]
    UntrustedUrl(&'static str),
    #[error("the signing certificate is unusable: {0}")]
    BadCertificate(&'static str),
    /// SNS: the receiver did not fetch the signing certificate.
    #[error("no signing certificate was fetched for this message")]
    MissingCertificate,
}

/// How a caller should treat a [`VerifyError`]: the receiver contract maps
/// `Unauthenticated` to 401 and `Malformed` to 400.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyErrorKind {
    /// The request could not be shown genuine: no or wrong signature,
    /// timestamp outside tolerance.
    Unauthenticated,
    /// A header or body is not of the shape the scheme requires.
    Malformed,
    /// Our own configuration is incomplete (e.g. no public URL for Twilio).
    Misconfigured,
}

impl VerifyError {
    pub fn kind(&self) -> VerifyErrorKind {
        match self {
            VerifyError::MissingHeader(_)
            | VerifyError::MissingBodyField(_)
            | VerifyError::TimestampTooOld { .. }
            | VerifyError::TimestampInFuture { .. }
            | VerifyError::NoMatchingSignature
            | VerifyError::TopicNotAllowed(_)
            | VerifyError::UntrustedUrl(_)
            | VerifyError::BadCertificate(_) => VerifyErrorKind::Unauthenticated,
            VerifyError::MalformedHeader { .. } | VerifyError::MalformedBody(_) => {
                VerifyErrorKind::Malformed
            }
            VerifyError::MissingUrl | VerifyError::MissingCertificate => {
                VerifyErrorKind::Misconfigured
            }
        }
    }
}

/// Why a secret or scheme configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SecretError {
    #[error("no secrets configured")]
    NoSecrets,
    #[error("secret #{index} is empty")]
    Empty { index: usize },
    #[error("secret #{index} must start with whsec_ followed by base64")]
    NotWhsec { index: usize },
    #[error("secret #{index}: the part after its prefix is not valid base64")]
    BadBase64 { index: usize },
    #[error("secret #{index} must start with whsec_ (HMAC, v1) or whsk_ (Ed25519, v1a) followed by base64")]
    NotSigningKey { index: usize },
    #[error("key #{index}: the part after {prefix} is {len} bytes, not {expected}")]
    BadKeyLength {
        index: usize,
        prefix: &'static str,
        expected: usize,
        len: usize,
    },
    #[error("secret #{index}: the public half of the whsk_ key is not its seed's (cut or pasted wrong?)")]
    KeyPairMismatch { index: usize },
    #[error("key #{index} is not a public key of the form this scheme uses ({expected})")]
    BadPublicKey {
        index: usize,
        expected: &'static str,
    },
    #[error("this scheme verifies with the provider's public key; hookrelay cannot sign as the provider")]
    CannotSign,
    #[error("secret #{index} must be a topic ARN (arn:aws:sns:<region>:<account>:<topic>): SNS sources list the topics they accept")]
    NotTopicArn { index: usize },
    #[error("secret #{index} must be the credentials as user:password")]
    NotUserPassword { index: usize },
    #[error("this scheme signs inside the body, which must be a JSON object")]
    BodyNotJsonObject,
    #[error("scheme hmac needs an [hmac] section with at least a header name")]
    MissingHmacOptions,
    #[error("hmac options are only allowed with scheme hmac")]
    UnexpectedHmacOptions,
    #[error("invalid hmac template: {0}")]
    BadTemplate(String),
}
