//! Inbound verification: one [`Verifier`] per source, built once from its
//! scheme and secrets, used for every request the source receives.
use aws_lc_rs::signature;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::fmt;
use std::time::UNIX_EPOCH;
use subtle::ConstantTimeEq;

use crate::catalog::{HmacPreset, Method, Part, TimestampForm};
use crate::error::{SecretError, VerifyError};
use crate::headers::HeaderLookup;
use crate::mac::MacKey;
use crate::parse;
use crate::scheme::{parse_template, Encoding, HmacAlgorithm, Scheme, SchemeKind, TemplatePart};
use crate::secret::Secret;
use crate::standard::decode_whsec;

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
}

impl<'a> InboundRequest<'a> {
    pub fn new(headers: &'a dyn HeaderLookup, body: &'a [u8]) -> Self {
        InboundRequest {
            headers,
            body,
            url: None,
        }
    }

    pub fn with_url(mut self, url: &'a str) -> Self {
        self.url = Some(url);
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
    /// For a request whose signature covers no timestamp: a SHA-256 of
    /// everything the signature covers. Such a request stays genuine for
    /// ever, and its delivery id (an unsigned header) can be changed at
    /// will, so an exact replay is recognised by this instead.
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
            if let Some(key) = public_key(method, raw.trim(), index)? {
                public_keys.push((index, key));
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
                    // Retries keep their first timestamp for up to 24 h.
                    timed: false,
                },
            ),
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
                parse_timestamp(timestamp_raw, form).map_err(|reason| malformed(name, reason))?,
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

    /// A header that carries the secret itself. Every secret is compared
    /// (as SHA-256 digests, in constant time) so rotation works as for the
    /// signing schemes.
    fn verify_token(
        &self,
        headers: &dyn HeaderLookup,
        body: &[u8],
        header: &'static str,
        prefix: &'static str,
    ) -> Result<Verified, VerifyError> {
        let value = required(headers, header)?;
        let token = value
            .strip_prefix(prefix)
            .ok_or_else(|| malformed(header, "expected prefix is missing"))?;
        if token.is_empty() {
            return Err(malformed(header, "token is empty"));
        }
        self.match_token(token.as_bytes(), body)
    }

    /// A signature by the provider's private key over `{timestamp}{body}`,
    /// checked against each configured public key. Exact replays are known
    /// by a digest of what is signed, as no delivery id is signed.
    fn verify_public_key(
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
            ..Self::untimed_at(secret_index, &[timestamp_raw.as_bytes(), request.body])
        })
    }

    /// Mailgun: `{"signature": {"timestamp", "token", "signature"}, …}`;
    /// hex HMAC-SHA256 of timestamp and token, which the timestamp's
    /// tolerance keeps from being replayed for long.
    fn verify_mailgun(&self, body: &[u8], now: i64) -> Result<Verified, VerifyError> {
        #[derive(Deserialize)]
        struct MailgunBody {
            signature: Option<MailgunSignature>,
        }
        #[derive(Deserialize)]
        struct MailgunSignature {
            timestamp: Option<serde_json::Value>,
            token: Option<String>,
            signature: Option<String>,
        }
        let parsed: MailgunBody = serde_json::from_slice(body)
            .map_err(|_| VerifyError::MalformedBody("body is not a JSON object"))?;
        let object = parsed
            .signature
            .ok_or(VerifyError::MissingBodyField("signature object"))?;
        let timestamp_raw = match object.timestamp {
            Some(serde_json::Value::String(text)) => text,
            Some(serde_json::Value::Number(number)) => number.to_string(),
            Some(_) => {
                return Err(VerifyError::MalformedBody(
                    "signature.timestamp is not a number",
                ))
            }
            None => return Err(VerifyError::MissingBodyField("signature.timestamp")),
        };
        let timestamp =
            parse::parse_unix_seconds(&timestamp_raw).map_err(VerifyError::MalformedBody)?;
        let token = object
            .token
            .ok_or(VerifyError::MissingBodyField("signature.token"))?;
        let signature = object
            .signature
            .ok_or(VerifyError::MissingBodyField("signature.signature"))?;
        let signature = parse::decode_hex(&signature).map_err(VerifyError::MalformedBody)?;
        self.check_timestamp(timestamp, now)?;
        let parts: [&[u8]; 2] = [timestamp_raw.as_bytes(), token.as_bytes()];
        self.timed(&parts, &[signature], timestamp)
    }

    /// Microsoft Graph: `{"value": [{…, "clientState": "…"}, …]}`, where
    /// every notification must carry a configured secret (a batch may mix
    /// subscriptions, each with its own).
    fn verify_client_state(&self, body: &[u8]) -> Result<Verified, VerifyError> {
        #[derive(Deserialize)]
        struct Notifications {
            value: Option<Vec<Notification>>,
        }
        #[derive(Deserialize)]
        struct Notification {
            #[serde(rename = "clientState")]
            client_state: Option<String>,
        }
        let parsed: Notifications = serde_json::from_slice(body)
            .map_err(|_| VerifyError::MalformedBody("body is not a JSON object"))?;
        let notifications = parsed
            .value
            .filter(|value| !value.is_empty())
            .ok_or(VerifyError::MissingBodyField("value"))?;
        let mut first = None;
        for notification in notifications {
            let state = notification
                .client_state
                .ok_or(VerifyError::MissingBodyField("value[].clientState"))?;
            let verified = self.match_token(state.as_bytes(), body)?;
            first.get_or_insert(verified);
        }
        first.ok_or(VerifyError::MissingBodyField("value"))
    }

    /// `Authorization: Basic <base64 of user:password>`.
    fn verify_basic(
        &self,
        headers: &dyn HeaderLookup,
        body: &[u8],
    ) -> Result<Verified, VerifyError> {
        const AUTHORIZATION: &str = "Authorization";
        let value = required(headers, AUTHORIZATION)?.trim();
        let (kind, encoded) = value
            .split_once(' ')
            .ok_or_else(|| malformed(AUTHORIZATION, "expected Basic credentials"))?;
        if !kind.eq_ignore_ascii_case("basic") {
            return Err(malformed(AUTHORIZATION, "expected Basic credentials"));
        }
        let credentials = parse::decode_base64(encoded.trim())
            .map_err(|_| malformed(AUTHORIZATION, "credentials are not base64"))?;
        self.match_token(&credentials, body)
    }

    /// The index of the secret equal to `token`, comparing SHA-256 digests
    /// in constant time.
    fn match_token(&self, token: &[u8], body: &[u8]) -> Result<Verified, VerifyError> {
        let candidate: [u8; 32] = Sha256::digest(token).into();
        let found = self
            .tokens
            .iter()
            .position(|digest| bool::from(digest.ct_eq(&candidate)))
            .ok_or(VerifyError::NoMatchingSignature)?;
        // The token covers nothing, so an exact replay is recognised by
        // its body (the token itself is kept out of the key).
        Ok(Self::untimed_at(found, &[body]))
    }

    /// Standard Webhooks, under its `webhook-*` names or Svix's `svix-*`.
    fn verify_standard(
        &self,
        headers: &dyn HeaderLookup,
        body: &[u8],
        now: i64,
    ) -> Result<Verified, VerifyError> {
        let (id_name, ts_name, sig_name) = if headers.header("webhook-signature").is_some() {
            ("webhook-id", "webhook-timestamp", "webhook-signature")
        } else if headers.header("svix-signature").is_some() {
            ("svix-id", "svix-timestamp", "svix-signature")
        } else {
            return Err(VerifyError::MissingHeader("webhook-signature".into()));
        };
        let id = required(headers, id_name)?;
        let timestamp_raw = required(headers, ts_name)?.trim();
        let timestamp = parse::parse_unix_seconds(timestamp_raw)
            .map_err(|reason| malformed(ts_name, reason))?;
        let signatures = parse::parse_standard_signatures(required(headers, sig_name)?)
            .map_err(|reason| malformed(sig_name, reason))?;
        self.check_timestamp(timestamp, now)?;
        let parts: [&[u8]; 5] = [id.as_bytes(), b".", timestamp_raw.as_bytes(), b".", body];
        // `v1,` HMAC signatures against the `whsec_` secrets, `v1a,`
        // Ed25519 ones against the `whpk_` keys; either may match.
        let by_secret = self.find_secret(&parts, &signatures.v1);
        let secret_index = match by_secret {
            Ok(index) => index,
            Err(_) if !signatures.v1a.is_empty() && !self.public_keys.is_empty() => {
                self.find_public_key(&signature::ED25519, &parts.concat(), &signatures.v1a)?
            }
            Err(err) => return Err(err),
        };
        Ok(Verified {
            secret_index,
            timestamp: Some(timestamp),
            replay_key: None,
        })
    }

    /// Linear: hex over the body; the body's `webhookTimestamp` (ms) must be
    /// recent. The body is parsed only once the signature holds.
    fn verify_linear(
        &self,
        headers: &dyn HeaderLookup,
        body: &[u8],
        now: i64,
    ) -> Result<Verified, VerifyError> {
        #[derive(Deserialize)]
        struct LinearBody {
            #[serde(rename = "webhookTimestamp")]
            webhook_timestamp: Option<i64>,
        }
        let value = required(headers, "Linear-Signature")?;
        let signature = parse::decode_hex(value.trim())
            .map_err(|reason| malformed("Linear-Signature", reason))?;
        let verified = self.untimed(&[body], &[signature])?;
        let parsed: LinearBody = serde_json::from_slice(body)
            .map_err(|_| VerifyError::MalformedBody("body is not a JSON object"))?;
        let timestamp_ms = parsed
            .webhook_timestamp
            .ok_or(VerifyError::MalformedBody("body has no webhookTimestamp"))?;
        let timestamp = timestamp_ms.div_euclid(1000);
        self.check_timestamp(timestamp, now)?;
        Ok(Verified {
            timestamp: Some(timestamp),
            replay_key: None,
            ..verified
        })
    }

    /// Twilio: base64 HMAC-SHA1 over the public URL followed by the sorted
    /// form parameters; JSON bodies are instead bound by the `bodySHA256`
    /// query parameter, which the URL signature covers.
    fn verify_twilio(
        &self,
        headers: &dyn HeaderLookup,
        body: &[u8],
        url: Option<&str>,
    ) -> Result<Verified, VerifyError> {
        const SIG: &str = "X-Twilio-Signature";
        let url = url.ok_or(VerifyError::MissingUrl)?;
        let signature =
            parse::decode_base64(required(headers, SIG)?.trim()).map_err(|r| malformed(SIG, r))?;
        let (with_params, params) = twilio_signed_params(url, body);
        let mut parts: Vec<&[u8]> = Vec::with_capacity(1 + params.len() * 2);
        parts.push(url.as_bytes());
        if !with_params {
            let verified = self.untimed(&parts, &[signature])?;
            let expected = body_sha256_param(url).unwrap_or_default();
            let actual = hex::encode(Sha256::digest(body));
            return if actual.eq_ignore_ascii_case(&expected) {
                Ok(verified)
            } else {
                Err(VerifyError::NoMatchingSignature)
            };
        }
        for (key, value) in &params {
            parts.push(key.as_bytes());
            parts.push(value.as_bytes());
        }
        self.untimed(&parts, &[signature])
    }

    fn verify_hmac(
        &self,
        options: &crate::scheme::HmacOptions,
        headers: &dyn HeaderLookup,
        body: &[u8],
        now: i64,
    ) -> Result<Verified, VerifyError> {
        let value = headers
            .header(&options.header)
            .ok_or_else(|| VerifyError::MissingHeader(options.header.clone()))?;
        let signature = match options.encoding {
            Encoding::Hex => parse::parse_prefixed_hex(value, &options.prefix),
            Encoding::Base64 => parse::parse_prefixed_base64(value, &options.prefix),
        }
        .map_err(|reason| VerifyError::MalformedHeader {
            header: options.header.clone(),
            reason,
        })?;
        let Some(template) = &self.template else {
            return self.untimed(&[body], &[signature]);
        };
        let mut timestamp = None;
        let mut parts: Vec<&[u8]> = Vec::with_capacity(template.len());
        for part in template {
            parts.push(match part {
                TemplatePart::Literal(text) => text.as_bytes(),
                TemplatePart::Body => body,
                TemplatePart::Timestamp => {
                    let name = options.timestamp_header.as_deref().unwrap_or_default();
                    let raw = headers
                        .header(name)
                        .ok_or_else(|| VerifyError::MissingHeader(name.to_string()))?
                        .trim();
                    let parsed = parse::parse_unix_seconds(raw).map_err(|reason| {
                        VerifyError::MalformedHeader {
                            header: name.to_string(),
                            reason,
                        }
                    })?;
                    self.check_timestamp(parsed, now)?;
                    timestamp = Some(parsed);
                    raw.as_bytes()
                }
                TemplatePart::Id => {
                    let name = options.id_header.as_deref().unwrap_or_default();
                    headers
                        .header(name)
                        .ok_or_else(|| VerifyError::MissingHeader(name.to_string()))?
                        .as_bytes()
                }
            });
        }
        match timestamp {
            Some(timestamp) => self.timed(&parts, &[signature], timestamp),
            None => self.untimed(&parts, &[signature]),
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
        let secret_index = self.find_secret(parts, candidates)?;
        Ok(Self::untimed_at(secret_index, parts))
    }

    /// Verified by secret `secret_index`, with a replay key over `parts`.
    fn untimed_at(secret_index: usize, parts: &[&[u8]]) -> Verified {
        // Each part with its length, so no two different lists of parts
        // hash alike.
        let mut digest = Sha256::new();
        for part in parts {
            digest.update((part.len() as u64).to_be_bytes());
            digest.update(part);
        }
        Verified {
            secret_index,
            timestamp: None,
            replay_key: Some(digest.finalize().into()),
        }
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

    /// The index of the first public key under which any candidate is a
    /// valid signature of `message`.
    fn find_public_key(
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

    /// The index of the first secret whose tag equals any candidate. Every
    /// candidate is compared in constant time against each tag.
    fn find_secret(&self, parts: &[&[u8]], candidates: &[Vec<u8>]) -> Result<usize, VerifyError> {
        for (index, key) in &self.keys {
            let tag = key.tag(parts);
            let matched = candidates
                .iter()
                .fold(false, |found, candidate| found | tag.matches(candidate));
            if matched {
                return Ok(*index);
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

fn body_sha256_param(url: &str) -> Option<String> {
    let (_, query) = url.split_once('?')?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == "bodySHA256")
        .map(|(_, value)| value.into_owned())
}

/// What Twilio signs after the URL: nothing when the URL carries
/// `bodySHA256` (JSON bodies), else the form parameters sorted by name.
/// Returns whether parameters are signed, and the sorted parameters.
pub(crate) fn twilio_signed_params(url: &str, body: &[u8]) -> (bool, Vec<(String, String)>) {
    if body_sha256_param(url).is_some() {
        return (false, Vec::new());
    }
    let mut params: Vec<(String, String)> = form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    params.sort();
    (true, params)
}

/// A signed timestamp as Unix seconds (milliseconds are floored).
fn parse_timestamp(raw: &str, form: TimestampForm) -> Result<i64, &'static str> {
    match form {
        TimestampForm::UnixSeconds => parse::parse_unix_seconds(raw),
        TimestampForm::UnixMillis => parse::parse_unix_seconds(raw).map(|ms| ms.div_euclid(1000)),
        TimestampForm::Rfc3339 => humantime::parse_rfc3339_weak(raw)
            .ok()
            .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
            .and_then(|since| i64::try_from(since.as_secs()).ok())
            .ok_or("timestamp is not RFC 3339"),
    }
}

/// How one public-key scheme carries its signature.
struct PublicKeyScheme {
    signature_header: &'static str,
    timestamp_header: &'static str,
    encoding: Encoding,
    algorithm: &'static dyn signature::VerificationAlgorithm,
    /// Whether the timestamp must be within the tolerance.
    timed: bool,
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
fn public_key(method: Method, raw: &str, index: usize) -> Result<Option<Vec<u8>>, SecretError> {
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
