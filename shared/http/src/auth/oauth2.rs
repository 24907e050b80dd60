//! OAuth2 client credentials (RFC 6749 §4.4): an access token per
//! destination, fetched from its token endpoint on the sender's guarded
//! client, cached until shortly before it expires, and shared by the
//! destination's deliveries in flight with one fetch at a time.
//!
//! The client authenticates with its secret (HTTP Basic, §2.3.1, or in the
//! form body) or with a signed JWT (RFC 7523 `private_key_jwt`).
use base64::Engine;
use hookrelay_models::{
    BearerAuth, ClientSecretStyle, DestinationId, JwtAlgorithm, OAuth2ClientCredentials,
    PrivateKeyJwt,
};
use hookrelay_signing::Secret;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::{AuthFailure, Authenticator};

/// A token whose answer gave no `expires_in` is used this long.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(300);
/// A token is replaced this long before it expires, or a tenth of its
/// lifetime when that is shorter.
pub const REFRESH_EARLY: Duration = Duration::from_secs(60);
/// The longest a token request may take (less when the destination's
/// timeout is shorter: it covers the whole attempt).
pub const TOKEN_TIMEOUT: Duration = Duration::from_secs(10);
/// How much of a refusing token endpoint's answer an attempt shows.
const SHOWN_ANSWER_CHARS: usize = 200;
/// How long a signed client assertion is valid.
const ASSERTION_LIFETIME: Duration = Duration::from_secs(60);
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// An access token handed to a request, with the generation that names it
/// (so a `401` discards that token and no newer one).
pub(crate) struct Issued {
    pub value: Secret,
    pub generation: u64,
}

struct Token {
    value: Secret,
    generation: u64,
    refresh_at: Instant,
}

#[derive(Default)]
struct SlotState {
    token: Option<Token>,
    /// The last fetch's failure, and when: tasks that waited on that fetch
    /// get its answer rather than asking again, one after another.
    failure: Option<(Instant, AuthFailure)>,
}

/// One destination's token, for one configuration of its `auth`.
struct Slot {
    config: OAuth2ClientCredentials,
    state: tokio::sync::Mutex<SlotState>,
}

/// Tokens per destination. A changed `auth` gets a new slot, so a token
/// fetched for the old settings is never used for the new.
#[derive(Default)]
pub(crate) struct TokenCache {
    slots: std::sync::Mutex<HashMap<DestinationId, Arc<Slot>>>,
    generations: AtomicU64,
}

impl TokenCache {
    fn slot(&self, destination: &DestinationId, config: &OAuth2ClientCredentials) -> Arc<Slot> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        match slots.get(destination) {
            Some(slot) if slot.config == *config => slot.clone(),
            _ => {
                let slot = Arc::new(Slot {
                    config: config.clone(),
                    state: tokio::sync::Mutex::new(SlotState::default()),
                });
                slots.insert(destination.clone(), slot.clone());
                slot
            }
        }
    }
}

/// When a token that lives `lifetime` from `issued` is replaced.
pub(crate) fn refresh_at(issued: Instant, lifetime: Duration) -> Instant {
    issued + lifetime - REFRESH_EARLY.min(lifetime / 10)
}

impl Authenticator {
    /// `destination`'s access token: the cached one, or a new one when it
    /// is due for refresh, or is the `stale` one its receiver refused.
    pub(super) async fn oauth2_token(
        &self,
        destination: &DestinationId,
        config: &OAuth2ClientCredentials,
        stale: Option<u64>,
        timeout: Duration,
    ) -> Result<Issued, AuthFailure> {
        let asked = Instant::now();
        let slot = self.tokens.slot(destination, config);
        // One fetch at a time: the others wait here, then use its token.
        let mut state = slot.state.lock().await;
        if let Some(token) = &state.token {
            if Some(token.generation) != stale && Instant::now() < token.refresh_at {
                return Ok(Issued {
                    value: token.value.clone(),
                    generation: token.generation,
                });
            }
        }
        if let Some((failed_at, failure)) = &state.failure {
            if *failed_at >= asked {
                return Err(failure.clone());
            }
        }
        state.token = None;
        match self.fetch_token(config, timeout.min(TOKEN_TIMEOUT)).await {
            Ok((value, lifetime)) => {
                let generation = self.tokens.generations.fetch_add(1, Ordering::Relaxed) + 1;
                state.failure = None;
                state.token = Some(Token {
                    value: value.clone(),
                    generation,
                    refresh_at: refresh_at(Instant::now(), lifetime),
                });
                Ok(Issued { value, generation })
            }
            Err(failure) => {
                state.failure = Some((Instant::now(), failure.clone()));
                Err(failure)
            }
        }
    }

    /// One token request: the token and how long it lives.
    async fn fetch_token(
        &self,
        config: &OAuth2ClientCredentials,
        timeout: Duration,
    ) -> Result<(Secret, Duration), AuthFailure> {
        let (client, allow_private) = self.outbound()?;
        let shown_url = hookrelay_models::redact_url(&config.token_url);
        let url = reqwest::Url::parse(&config.token_url)
            .map_err(|e| AuthFailure(format!("token_url {shown_url}: {e}")))?;
        if !allow_private && crate::client::host_is_forbidden_literal(&url) {
            return Err(AuthFailure("token endpoint address is not allowed".into()));
        }
        let mut form: Vec<(&str, String)> = vec![("grant_type", "client_credentials".into())];
        if let Some(scope) = &config.scope {
            form.push(("scope", scope.clone()));
        }
        if let Some(audience) = &config.audience {
            form.push(("audience", audience.clone()));
        }
        // What the answer must not echo back.
        let mut hidden = Vec::new();
        let mut basic = None;
        match (&config.client_secret, &config.private_key_jwt) {
            (Some(secret), _) => {
                let secret = self.credential(secret).await?;
                match config.style {
                    ClientSecretStyle::Basic => {
                        let pair = format!(
                            "{}:{}",
                            form_encode(&config.client_id),
                            form_encode(secret.expose())
                        );
                        basic = Some(base64::engine::general_purpose::STANDARD.encode(pair));
                    }
                    ClientSecretStyle::Body => {
                        form.push(("client_id", config.client_id.clone()));
                        form.push(("client_secret", secret.expose().to_string()));
                    }
                }
                hidden.push(secret);
            }
            (None, Some(jwt)) => {
                let key = self.credential(&jwt.private_key).await?;
                let assertion = client_assertion(config, jwt, &key)?;
                form.push(("client_id", config.client_id.clone()));
                form.push(("client_assertion_type", JWT_BEARER.into()));
                form.push(("client_assertion", assertion.clone()));
                hidden.push(Secret::new(assertion));
            }
            (None, None) => {
                return Err(AuthFailure(
                    "oauth2_client_credentials has neither client_secret nor private_key_jwt"
                        .into(),
                ))
            }
        }
        let mut request = client
            .post(url)
            .timeout(timeout)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(
                form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(&form)
                    .finish(),
            );
        if let Some(basic) = basic {
            request = request.header("authorization", format!("Basic {basic}"));
        }
        let response = request.send().await.map_err(|e| {
            AuthFailure(format!("token request to {shown_url} failed: {}", why(&e)))
        })?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| {
            AuthFailure(format!(
                "token endpoint's answer could not be read: {}",
                why(&e)
            ))
        })?;
        if !status.is_success() {
            let text = scrub(&String::from_utf8_lossy(&body), &hidden);
            return Err(AuthFailure(format!(
                "token endpoint answered {}: {text}",
                status.as_u16()
            )));
        }
        parse_token_answer(&body)
    }
}

/// RFC 6749 §2.3.1: client id and secret form-urlencoded before Basic.
fn form_encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Why a token request failed, in words that name no secret.
fn why(err: &reqwest::Error) -> &'static str {
    match crate::client::classify(err) {
        hookrelay_models::AttemptErrorKind::RefusedAddress => "address not allowed",
        hookrelay_models::AttemptErrorKind::Dns => "name did not resolve",
        hookrelay_models::AttemptErrorKind::Timeout => "timed out",
        hookrelay_models::AttemptErrorKind::Connect => "could not connect",
        _ => "connection failed",
    }
}

/// `text` without any of `hidden` (as given or form-encoded), cut short.
fn scrub(text: &str, hidden: &[Secret]) -> String {
    let mut text = text.to_string();
    for secret in hidden {
        for form in [secret.expose().to_string(), form_encode(secret.expose())] {
            if !form.is_empty() {
                text = text.replace(&form, "***");
            }
        }
    }
    match text.char_indices().nth(SHOWN_ANSWER_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// A successful answer's access token and lifetime.
pub(crate) fn parse_token_answer(body: &[u8]) -> Result<(Secret, Duration), AuthFailure> {
    let answer: serde_json::Value = serde_json::from_slice(body)
        .map_err(|_| AuthFailure("token endpoint's answer is not JSON".into()))?;
    let token = match answer.get("access_token") {
        Some(serde_json::Value::String(token)) if !token.is_empty() => token,
        _ => {
            return Err(AuthFailure(
                "token endpoint's answer has no access_token".into(),
            ))
        }
    };
    if !BearerAuth::fits_header(token) {
        return Err(AuthFailure(
            "token endpoint's access_token has a space or control character".into(),
        ));
    }
    match answer.get("token_type") {
        None => {}
        Some(serde_json::Value::String(kind)) if kind.eq_ignore_ascii_case("bearer") => {}
        Some(other) => {
            let shown = other
                .as_str()
                .map(str::to_string)
                .unwrap_or(other.to_string());
            return Err(AuthFailure(format!(
                "token endpoint issued a {:?} token, not a bearer token",
                shown.chars().take(32).collect::<String>()
            )));
        }
    }
    let lifetime = match answer.get("expires_in") {
        Some(serde_json::Value::Number(n)) => n.as_u64().map(Duration::from_secs),
        // Some servers send it as a string.
        Some(serde_json::Value::String(s)) => s.trim().parse().ok().map(Duration::from_secs),
        _ => None,
    }
    .filter(|d| !d.is_zero())
    .unwrap_or(DEFAULT_TOKEN_LIFETIME);
    Ok((Secret::new(token.as_str()), lifetime))
}

/// The RFC 7523 client assertion: a JWT by the client about itself, for
/// the token endpoint, signed with its key.
pub(crate) fn client_assertion(
    config: &OAuth2ClientCredentials,
    jwt: &PrivateKeyJwt,
    key: &Secret,
) -> Result<String, AuthFailure> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let mut jti = [0u8; 16];
    aws_lc_rs::rand::fill(&mut jti)
        .map_err(|_| AuthFailure("no random bytes for the assertion's jti".into()))?;
    let mut header = serde_json::json!({ "alg": jwt.algorithm.as_str(), "typ": "JWT" });
    if let Some(kid) = &jwt.key_id {
        header["kid"] = serde_json::Value::String(kid.clone());
    }
    let claims = serde_json::json!({
        "iss": config.client_id,
        "sub": config.client_id,
        "aud": config.token_url,
        "jti": hex_encode(&jti),
        "iat": now,
        "exp": now + ASSERTION_LIFETIME.as_secs(),
    });
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let signing_input = format!(
        "{}.{}",
        b64.encode(header.to_string()),
        b64.encode(claims.to_string())
    );
    let signature = sign(jwt.algorithm, &pkcs8_der(key)?, signing_input.as_bytes())?;
    Ok(format!("{signing_input}.{}", b64.encode(signature)))
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The DER inside a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
fn pkcs8_der(key: &Secret) -> Result<Vec<u8>, AuthFailure> {
    const BEGIN: &str = "-----BEGIN PRIVATE KEY-----";
    const END: &str = "-----END PRIVATE KEY-----";
    let text = key.expose();
    let Some(start) = text.find(BEGIN) else {
        return Err(AuthFailure(
            "private_key_jwt needs an unencrypted PKCS#8 PEM key (-----BEGIN PRIVATE KEY-----; \
             `openssl pkcs8 -topk8 -nocrypt` converts one)"
                .into(),
        ));
    };
    let body = &text[start + BEGIN.len()..];
    let Some(end) = body.find(END) else {
        return Err(AuthFailure(
            "private_key_jwt key has no -----END PRIVATE KEY-----".into(),
        ));
    };
    let base64_text: String = body[..end].chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(base64_text)
        .map_err(|_| AuthFailure("private_key_jwt key is not valid PEM (base64)".into()))
}

fn sign(algorithm: JwtAlgorithm, der: &[u8], message: &[u8]) -> Result<Vec<u8>, AuthFailure> {
    use aws_lc_rs::signature;
    let rejected = |e: aws_lc_rs::error::KeyRejected| {
        AuthFailure(format!(
            "private_key_jwt key is not a PKCS#8 {} key: {e}",
            algorithm.as_str()
        ))
    };
    let failed = |_| AuthFailure("private_key_jwt signing failed".into());
    let rng = aws_lc_rs::rand::SystemRandom::new();
    match algorithm {
        JwtAlgorithm::RS256 => {
            let pair = signature::RsaKeyPair::from_pkcs8(der).map_err(rejected)?;
            let mut out = vec![0u8; pair.public_modulus_len()];
            pair.sign(&signature::RSA_PKCS1_SHA256, &rng, message, &mut out)
                .map_err(failed)?;
            Ok(out)
        }
        JwtAlgorithm::ES256 => {
            let pair = signature::EcdsaKeyPair::from_pkcs8(
                &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                der,
            )
            .map_err(rejected)?;
            Ok(pair.sign(&rng, message).map_err(failed)?.as_ref().to_vec())
        }
        JwtAlgorithm::EdDSA => {
            let pair = signature::Ed25519KeyPair::from_pkcs8(der).map_err(rejected)?;
            Ok(pair.sign(message).as_ref().to_vec())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_refreshed_a_tenth_early_or_a_minute_early_at_most() {
        let t0 = Instant::now();
        assert_eq!(
            refresh_at(t0, Duration::from_secs(3600)),
            t0 + Duration::from_secs(3540)
        );
        assert_eq!(
            refresh_at(t0, Duration::from_secs(100)),
            t0 + Duration::from_secs(90)
        );
        assert_eq!(
            refresh_at(t0, Duration::from_secs(1)),
            t0 + Duration::from_millis(900)
        );
    }

    #[test]
    fn answers_are_read_for_a_bearer_token_and_its_lifetime() {
        let (token, lifetime) =
            parse_token_answer(br#"{"access_token":"abc","token_type":"Bearer","expires_in":120}"#)
                .unwrap();
        assert_eq!(token.expose(), "abc");
        assert_eq!(lifetime, Duration::from_secs(120));
        let (_, lifetime) =
            parse_token_answer(br#"{"access_token":"abc","expires_in":"90"}"#).unwrap();
        assert_eq!(lifetime, Duration::from_secs(90));
        let (_, lifetime) = parse_token_answer(br#"{"access_token":"abc"}"#).unwrap();
        assert_eq!(lifetime, DEFAULT_TOKEN_LIFETIME);
        for (answer, reason) in [
            (&b"<html>"[..], "not JSON"),
            (br#"{"token_type":"bearer"}"#, "no access_token"),
            (
                br#"{"access_token":"a","token_type":"mac"}"#,
                "not a bearer",
            ),
            (br#"{"access_token":"a b"}"#, "space"),
        ] {
            let failure = parse_token_answer(answer).unwrap_err();
            assert!(failure.0.contains(reason), "{}", failure.0);
        }
    }

    #[test]
    fn refusals_are_shown_short_and_without_the_secret() {
        let secret = Secret::new("s3cr&t value");
        let echoed = format!(
            "{{\"error\":\"invalid_client\",\"got\":\"{}\",\"form\":\"{}\"}}{}",
            secret.expose(),
            form_encode(secret.expose()),
            "x".repeat(500)
        );
        let shown = scrub(&echoed, &[secret]);
        assert!(
            shown.starts_with("{\"error\":\"invalid_client\""),
            "{shown}"
        );
        assert!(!shown.contains("s3cr"), "{shown}");
        assert_eq!(shown.chars().count(), SHOWN_ANSWER_CHARS + 1);
    }

    #[test]
    fn basic_credentials_are_form_encoded_first() {
        assert_eq!(form_encode("a b:c/é"), "a+b%3Ac%2F%C3%A9");
    }

    #[test]
    fn keys_that_are_not_pkcs8_are_refused_with_a_reason() {
        let rsa1 =
            Secret::new("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----");
        assert!(pkcs8_der(&rsa1).unwrap_err().0.contains("PKCS#8"));
        let garbage = Secret::new("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----");
        let der = pkcs8_der(&garbage).unwrap();
        let failure = sign(JwtAlgorithm::ES256, &der, b"x").unwrap_err();
        assert!(failure.0.contains("ES256"), "{}", failure.0);
        assert!(!failure.0.contains("AAAA"));
    }

    #[test]
    fn an_assertion_is_a_jwt_about_the_client_for_the_token_endpoint_verifiable_with_its_key() {
        use aws_lc_rs::signature::{self, KeyPair};
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let pkcs8 = signature::EcdsaKeyPair::generate_pkcs8(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &rng,
        )
        .unwrap();
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            base64::engine::general_purpose::STANDARD.encode(pkcs8.as_ref())
        );
        let public = signature::EcdsaKeyPair::from_pkcs8(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            pkcs8.as_ref(),
        )
        .unwrap()
        .public_key()
        .as_ref()
        .to_vec();
        let config: OAuth2ClientCredentials = serde_json::from_value(serde_json::json!({
            "token_url": "https://id.example/token",
            "client_id": "relay",
            "private_key_jwt": { "private_key": pem, "algorithm": "ES256", "key_id": "k1" }
        }))
        .unwrap();
        let jwt = config.private_key_jwt.as_ref().unwrap();
        let assertion = client_assertion(&config, jwt, &jwt.private_key).unwrap();
        let parts: Vec<&str> = assertion.split('.').collect();
        assert_eq!(parts.len(), 3);
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header: serde_json::Value =
            serde_json::from_slice(&b64.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["kid"], "k1");
        let claims: serde_json::Value =
            serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["iss"], "relay");
        assert_eq!(claims["sub"], "relay");
        assert_eq!(claims["aud"], "https://id.example/token");
        assert_eq!(claims["jti"].as_str().unwrap().len(), 32);
        assert_eq!(
            claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
            60
        );
        signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, &public)
            .verify(
                format!("{}.{}", parts[0], parts[1]).as_bytes(),
                &b64.decode(parts[2]).unwrap(),
            )
            .expect("the assertion verifies with the client's public key");
        let again = client_assertion(&config, jwt, &jwt.private_key).unwrap();
        assert_ne!(again, assertion, "each assertion has its own jti");
    }
}
