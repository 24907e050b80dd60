//! Inbound verification: one [`Verifier`] per source, built once from its
//! scheme and secrets, used for every request the source receives.
use aws_lc_rs::signature;
use sha2::{Digest, Sha256};
use std::fmt;

use crate::catalog::{HmacPreset, Method, Part};
use crate::error::{SecretError, VerifyError};
use crate::headers::HeaderLookup;
use crate::mac::{MacKey, Tag};
use crate::parse;
use crate::scheme::{parse_template, Encoding, HmacAlgorithm, Scheme, SchemeKind, TemplatePart};
use crate::secret::Secret;
use crate::standard::decode_whsec;

mod code_schemes;
mod public_key;
mod replay_key;
mod secret_in_request;

pub(crate) use code_schemes::twilio_signed_params;
use public_key::{public_key, PublicKeyScheme};

/// What a provider sent, as the receiver got it.
#[derive(Clone, Copy)]
pub struct InboundRequest<'a> {
    pub headers: &'a dyn HeaderLookup,
    /// The exact bytes the provider sent (after undoing any base64 that API
    /// Gateway added), which is what every scheme signs.
    pub body: &'a [u8],
    /// The full public URL the provider posted to, query included. Only
    /// Twilio signs it.
    pub url: Option<&'a str>,
    /// The certificate (PEM or DER) an SNS message names as its signer,
    /// fetched by the receiver from SNS's own host.
    pub certificate: Option<&'a [u8]>,
}

impl<'a> InboundRequest<'a> {
    pub fn new(headers: &'a dyn HeaderLookup, body: &'a [u8]) -> Self {
        InboundRequest {
            headers,
            body,
            url: None,
            certificate: None,
        }
    }

    pub fn with_url(mut self, url: &'a str) -> Self {
        self.url = Some(url);
        self
    }

    pub fn with_certificate(mut self, certificate: &'a [u8]) -> Self {
        self.certificate = Some(certificate);
        self
    }
}

/// A request shown genuine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// Which configured secret matched (0 = first), so rotation can tell
    /// when an old secret is no longer in use.
    pub secret_index: usize,
    /// The signed timestamp, for schemes that carry one (Unix seconds).
    pub timestamp: Option<i64>,
    /// For a request whose signature covers no timestamp: a SHA-256 that
    /// is one per signed content (of the verified HMAC tag, itself a keyed
    /// digest of everything the signature covers; or, for a public-key
    /// signature or a shared token, of what is signed or the body). Such
    /// a request stays genuine for ever, and its delivery id (an unsigned
    /// header) can be changed at will, so an exact replay is recognised by
    /// this instead.
    pub replay_key: Option<[u8; 32]>,
}

/// Verifies requests for one source.
#[derive(Clone)]
pub struct Verifier {
    scheme: Scheme,
    method: Method,
    /// HMAC keys, each with the index of the secret it came from.
    keys: Vec<(usize, MacKey)>,
    /// Public keys, each with its secret's index, in the form aws-lc-rs
    /// verifies with (Ed25519: 32 bytes; P-256: the uncompressed point).
    public_keys: Vec<(usize, Vec<u8>)>,
    /// For schemes whose header carries the secret itself: the SHA-256 of
    /// each secret, so the comparison's time does not depend on lengths.
    tokens: Vec<[u8; 32]>,
    /// SNS: the topic ARNs whose messages are accepted.
    topics: Vec<String>,
    tolerance_secs: u64,
    template: Option<Vec<TemplatePart>>,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("scheme", &self.scheme)
            .field("secrets", &(self.keys.len() + self.public_keys.len()))
            .field("tolerance_secs", &self.tolerance_secs)
            .finish()
    }
}

impl Verifier {
    /// Prepares a key per secret. Standard Webhooks secrets must be
    /// `whsec_<base64>`; every other scheme uses the secret's bytes as given
    /// (Stripe's `whsec_…` included, as Stripe does).
    pub fn new(scheme: Scheme, secrets: &[Secret]) -> Result<Self, SecretError> {
        if secrets.is_empty() {
            return Err(SecretError::NoSecrets);
        }
        let method = match &scheme {
            Scheme::Named(SchemeKind::Hmac) => return Err(SecretError::MissingHmacOptions),
            Scheme::Named(kind) => kind.spec().method,
            Scheme::Hmac(_) => Method::Configured,
        };
        let algorithm = match (&method, &scheme) {
            (Method::Hmac(preset), _) => preset.algorithm,
            (Method::Twilio, _) => HmacAlgorithm::Sha1,
            (Method::Configured, Scheme::Hmac(options)) => options.algorithm,
            _ => HmacAlgorithm::Sha256,
        };
        let mut keys = Vec::with_capacity(secrets.len());
        let mut public_keys = Vec::new();
        for (index, secret) in secrets.iter().enumerate() {
            let raw = secret.expose();
            if raw.is_empty() {
                return Err(SecretError::Empty { index });
            }
            if method == Method::Sns {
                if !crate::sns::is_topic_arn(raw.trim()) {
                    return Err(SecretError::NotTopicArn { index });
                }
                continue;
            }
            if let Some(key) = public_key(method, raw.trim(), index)? {
                public_keys.push((index, key));
                continue;
            }
            if scheme == Scheme::Named(SchemeKind::Polar) {
                // Polar keys its HMAC with the UTF-8 bytes of the whole
                // secret as shown (its SDKs base64-encode the string before
                // the Standard Webhooks library decodes it again), so any
                // secret is valid; one in the specification's own form
                // (`whsec_` + base64 of the key), as Polar plans to issue,
                // is tried decoded as well.
                keys.push((index, MacKey::new(algorithm, raw.as_bytes())));
                if let Ok(decoded) = decode_whsec(raw, index) {
                    keys.push((index, MacKey::new(algorithm, &decoded)));
                }
                continue;
            }
            let key = match method {
                Method::Standard => decode_whsec(raw, index)?,
                _ => raw.as_bytes().to_vec(),
            };
            keys.push((index, MacKey::new(algorithm, &key)));
        }
        if method == Method::Basic {
            if let Some(index) = secrets.iter().position(|s| !s.expose().contains(':')) {
                return Err(SecretError::NotUserPassword { index });
            }
        }
        let tokens = match method {
            Method::Token { .. } | Method::Basic | Method::ClientState => secrets
                .iter()
                .map(|secret| Sha256::digest(secret.expose().as_bytes()).into())
                .collect(),
            _ => Vec::new(),
        };
        let template = match &scheme {
            Scheme::Hmac(options) => match &options.template {
                Some(template) => {
                    let parts = parse_template(template)?;
                    if parts.contains(&TemplatePart::Timestamp)
                        && options.timestamp_header.is_none()
                    {
                        return Err(SecretError::BadTemplate(
                            "{timestamp} needs timestamp_header".into(),
                        ));
                    }
                    if parts.contains(&TemplatePart::Id) && options.id_header.is_none() {
                        return Err(SecretError::BadTemplate("{id} needs id_header".into()));
                    }
                    if options.timestamp_header.is_some()
                        && !parts.contains(&TemplatePart::Timestamp)
                    {
                        return Err(SecretError::BadTemplate(
                            "timestamp_header is set but the template has no {timestamp}: the timestamp would not be signed or checked".into(),
                        ));
                    }
                    Some(parts)
                }
                None if options.timestamp_header.is_some() => {
                    return Err(SecretError::BadTemplate(
                        "timestamp_header needs a template with {timestamp} (e.g. \"{timestamp}.{body}\"): without one the timestamp would not be signed or checked".into(),
                    ));
                }
                None => None,
            },
            _ => None,
        };
        Ok(Verifier {
            tolerance_secs: scheme.kind().default_tolerance_secs(),
            scheme,
            method,
            keys,
            public_keys,
            tokens,
            topics: match method {
                Method::Sns => secrets
                    .iter()
                    .map(|s| s.expose().trim().to_string())
                    .collect(),
                _ => Vec::new(),
            },
            template,
        })
    }

    /// Overrides the scheme's default timestamp tolerance.
    pub fn with_tolerance_secs(mut self, tolerance_secs: u64) -> Self {
        self.tolerance_secs = tolerance_secs;
        self
    }

    /// Whether a secret (not only public keys) is configured, so requests
    /// can be signed as the provider.
    pub(crate) fn can_sign(&self) -> bool {
        !self.keys.is_empty()
    }

    pub(crate) fn method(&self) -> Method {
        self.method
    }

    pub fn scheme(&self) -> &Scheme {
        &self.scheme
    }

    pub fn tolerance_secs(&self) -> u64 {
        self.tolerance_secs
    }

    /// Hex HMAC-SHA256 of `message` with the first secret: the
    /// `encryptedToken` of Zoom's `endpoint.url_validation` handshake.
    pub fn challenge_response_hex(&self, message: &[u8]) -> String {
        hex::encode(self.keys[0].1.tag(&[message]).as_bytes())
    }

    /// Checks `request` against every active secret at time `now` (Unix
    /// seconds).
    pub fn verify(&self, request: &InboundRequest<'_>, now: i64) -> Result<Verified, VerifyError> {
        let headers = request.headers;
        let body = request.body;
        match self.method {
            Method::Hmac(preset) => self.verify_preset(&preset, request, now),
            Method::Timestamped {
                header,
                separator,
                timestamp_key,
                signature_key,
                joiner,
            } => {
                let value = required(headers, header)?;
                let parsed =
                    parse::parse_timestamped(value, separator, timestamp_key, signature_key)
                        .map_err(|reason| malformed(header, reason))?;
                self.check_timestamp(parsed.timestamp, now)?;
                let parts: [&[u8]; 3] = [parsed.timestamp_raw.as_bytes(), joiner.as_bytes(), body];
                self.timed(&parts, &parsed.signatures, parsed.timestamp)
            }
            Method::Token { header, prefix } => self.verify_token(headers, body, header, prefix),
            Method::Basic => self.verify_basic(headers, body),
            Method::Mailgun => self.verify_mailgun(body, now),
            Method::ClientState => self.verify_client_state(body),
            Method::Discord => self.verify_public_key(
                request,
                now,
                PublicKeyScheme {
                    signature_header: "X-Signature-Ed25519",
                    timestamp_header: "X-Signature-Timestamp",
                    encoding: Encoding::Hex,
                    algorithm: &signature::ED25519,
                    timed: true,
                },
            ),
            Method::Sendgrid => self.verify_public_key(
                request,
                now,
                PublicKeyScheme {
                    signature_header: "X-Twilio-Email-Event-Webhook-Signature",
                    timestamp_header: "X-Twilio-Email-Event-Webhook-Timestamp",
                    encoding: Encoding::Base64,
                    algorithm: &signature::ECDSA_P256_SHA256_ASN1,
                    // Within the scheme's 25 h: retries keep their first
                    // timestamp for up to 24 h.
                    timed: true,
                },
            ),
            Method::Sns => self.verify_sns(request, now),
            Method::Standard => self.verify_standard(headers, body, now),
            Method::Twilio => self.verify_twilio(headers, body, request.url),
            Method::Linear => self.verify_linear(headers, body, now),
            Method::Configured => match &self.scheme {
                Scheme::Hmac(options) => self.verify_hmac(options, headers, body, now),
                Scheme::Named(_) => unreachable!("only the hmac scheme is configured"),
            },
        }
    }

    /// A catalogue HMAC: the signature header (one signature, or a list),
    /// the timestamp and id headers it names, then the tag over its parts.
    fn verify_preset(
        &self,
        preset: &HmacPreset,
        request: &InboundRequest<'_>,
        now: i64,
    ) -> Result<Verified, VerifyError> {
        let headers = request.headers;
        let value = required(headers, preset.header)?;
        let mut timestamp = None;
        let mut timestamp_raw = "";
        if let Some((name, form)) = preset.timestamp {
            timestamp_raw = required(headers, name)?.trim();
            timestamp = Some(
                parse::parse_timestamp(timestamp_raw, form)
                    .map_err(|reason| malformed(name, reason))?,
            );
        }
        let id = match preset.id_header {
            Some(name) => required(headers, name)?,
            None => "",
        };
        let signatures =
            parse::parse_signature_list(value, preset.prefix, preset.encoding, preset.list)
                .map_err(|reason| malformed(preset.header, reason))?;
        let url = if preset.parts.contains(&Part::Url) {
            request.url.ok_or(VerifyError::MissingUrl)?
        } else {
            ""
        };
        if let Some(timestamp) = timestamp {
            self.check_timestamp(timestamp, now)?;
        }
        let parts: Vec<&[u8]> = preset
            .parts
            .iter()
            .map(|part| match part {
                Part::Lit(text) => text.as_bytes(),
                Part::Body => request.body,
                Part::Timestamp => timestamp_raw.as_bytes(),
                Part::Id => id.as_bytes(),
                Part::Url => url.as_bytes(),
            })
            .collect();
        match timestamp {
            Some(timestamp) => self.timed(&parts, &signatures, timestamp),
            None => self.untimed(&parts, &signatures),
        }
    }

    pub(crate) fn first_key_tag(&self, parts: &[&[u8]]) -> Vec<u8> {
        self.keys[0].1.tag(parts).as_bytes().to_vec()
    }

    pub(crate) fn template(&self) -> Option<&[TemplatePart]> {
        self.template.as_deref()
    }

    fn check_timestamp(&self, timestamp: i64, now: i64) -> Result<(), VerifyError> {
        // i128 so that timestamps at the i64 limits cannot overflow.
        let delta = i128::from(now) - i128::from(timestamp);
        let tolerance = i128::from(self.tolerance_secs);
        if delta > tolerance {
            Err(VerifyError::TimestampTooOld {
                age_secs: u64::try_from(delta).unwrap_or(u64::MAX),
            })
        } else if -delta > tolerance {
            Err(VerifyError::TimestampInFuture {
                ahead_secs: u64::try_from(-delta).unwrap_or(u64::MAX),
            })
        } else {
            Ok(())
        }
    }

    fn untimed(&self, parts: &[&[u8]], candidates: &[Vec<u8>]) -> Result<Verified, VerifyError> {
        let (secret_index, tag) = self.find_tag(parts, candidates)?;
        Ok(Verified::by_mac(secret_index, &tag))
    }

    fn timed(
        &self,
        parts: &[&[u8]],
        candidates: &[Vec<u8>],
        timestamp: i64,
    ) -> Result<Verified, VerifyError> {
        Ok(Verified {
            secret_index: self.find_secret(parts, candidates)?,
            timestamp: Some(timestamp),
            replay_key: None,
        })
    }

    /// The index of the first secret whose tag equals any candidate. Every
    /// candidate is compared in constant time against each tag.
    fn find_secret(&self, parts: &[&[u8]], candidates: &[Vec<u8>]) -> Result<usize, VerifyError> {
        self.find_tag(parts, candidates).map(|(index, _)| index)
    }

    /// [`Verifier::find_secret`], with the tag that matched.
    fn find_tag(
        &self,
        parts: &[&[u8]],
        candidates: &[Vec<u8>],
    ) -> Result<(usize, Tag), VerifyError> {
        for (index, key) in &self.keys {
            let tag = key.tag(parts);
            let matched = candidates
                .iter()
                .fold(false, |found, candidate| found | tag.matches(candidate));
            if matched {
                return Ok((*index, tag));
            }
        }
        Err(VerifyError::NoMatchingSignature)
    }
}

fn required<'h>(headers: &'h dyn HeaderLookup, name: &'static str) -> Result<&'h str, VerifyError> {
    headers
        .header(name)
        .ok_or_else(|| VerifyError::MissingHeader(name.to_string()))
}

fn malformed(header: &'static str, reason: &'static str) -> VerifyError {
    VerifyError::MalformedHeader {
        header: header.to_string(),
        reason,
    }
}
