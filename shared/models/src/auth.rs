//! How an `http` destination's receiver authenticates the relay, on top
//! of the Standard Webhooks signature: a first-class `Authorization`
//! header (basic, bearer, an OAuth2 access token), a client certificate
//! (mTLS), or AWS SigV4 for IAM-authorised API Gateways and function URLs.
//!
//! Every credential is a [`Secret`]: never in `Debug` output, shown by
//! fingerprint only. A credential may instead name an AWS Secrets Manager
//! secret (`secretsmanager:<arn>[#json-key]`), which the dispatcher reads
//! and caches ([`CredentialSource`]).
use hookrelay_signing::Secret;
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::destination_kind::check_role_arn;
use crate::http_url::parse_http_url;

/// What a credential value starting with this names: a Secrets Manager
/// secret rather than the credential itself.
pub const SECRETS_MANAGER_PREFIX: &str = "secretsmanager:";

/// A destination's `auth = { kind = "…", … }`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DestinationAuth {
    /// `Authorization: Basic base64(username:password)`.
    Basic(BasicAuth),
    /// `Authorization: Bearer <token>`, a static token.
    Bearer(BearerAuth),
    /// An access token from the OAuth2 client credentials grant (RFC 6749
    /// §4.4), cached until shortly before it expires.
    Oauth2ClientCredentials(OAuth2ClientCredentials),
    /// A client certificate presented on every connection to this
    /// destination (and no other).
    Mtls(MtlsAuth),
    /// Requests signed with AWS Signature Version 4, with the dispatcher's
    /// credentials or a role it assumes.
    AwsSigv4(AwsSigv4Auth),
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    pub username: String,
    pub password: Secret,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BearerAuth {
    pub token: Secret,
}

impl BearerAuth {
    /// Whether `token` can follow `Bearer ` in a header: no space, which
    /// would split it, and no control character, which would make the
    /// header invalid (a stored secret's trailing newline, say). Checked
    /// for an inline token on write, and for a token read from a secret or
    /// an OAuth2 token endpoint when it is read.
    pub fn fits_header(token: &str) -> bool {
        !token.bytes().any(|b| b.is_ascii_control() || b == b' ')
    }
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuth2ClientCredentials {
    /// The authorisation server's token endpoint (http or https; the
    /// dispatcher's private-address rule applies to it as to deliveries).
    pub token_url: String,
    pub client_id: String,
    /// The client's secret; or, instead, `private_key_jwt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<Secret>,
    /// Authenticate with a signed JWT (RFC 7523) instead of a secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key_jwt: Option<PrivateKeyJwt>,
    /// Space-separated scopes asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The `audience` parameter some servers (Auth0, …) require.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// How a `client_secret` is sent: HTTP Basic (the default, RFC 6749's
    /// must-support) or in the form body.
    #[serde(default, skip_serializing_if = "ClientSecretStyle::is_basic")]
    pub style: ClientSecretStyle,
}

/// `style` of an OAuth2 client secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientSecretStyle {
    #[default]
    Basic,
    Body,
}

impl ClientSecretStyle {
    pub fn is_basic(&self) -> bool {
        *self == ClientSecretStyle::Basic
    }
}

/// A client assertion key (RFC 7523 `private_key_jwt`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivateKeyJwt {
    /// PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub private_key: Secret,
    /// The JWS algorithm the key signs with.
    #[serde(default)]
    pub algorithm: JwtAlgorithm,
    /// `kid` in the JWT header, when the server needs it to find the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum JwtAlgorithm {
    #[default]
    RS256,
    ES256,
    EdDSA,
}

impl JwtAlgorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            JwtAlgorithm::RS256 => "RS256",
            JwtAlgorithm::ES256 => "ES256",
            JwtAlgorithm::EdDSA => "EdDSA",
        }
    }
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MtlsAuth {
    /// The client certificate chain, PEM (public: shown by fingerprint
    /// only because it is long).
    pub certificate: Secret,
    /// Its private key, PEM (PKCS#8, PKCS#1 or SEC1).
    pub private_key: Secret,
    /// The CA (PEM) the receiver's own certificate must chain to, instead
    /// of the public roots: for a receiver with a private PKI. Public, not
    /// a credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_certificate: Option<String>,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsSigv4Auth {
    /// The signing name of the service: `execute-api` for API Gateway,
    /// `lambda` for a function URL, …
    pub service: String,
    /// The service's region (default: the URL's, else the dispatcher's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// A role to assume and sign as, instead of the dispatcher's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// The external id the role's trust policy asks for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
}

/// Where a credential's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource<'a> {
    /// The value itself, as configured.
    Inline(&'a str),
    /// A Secrets Manager secret's `SecretString`, or one string field of
    /// it when it is a JSON object and `json_key` is given.
    SecretsManager {
        arn: &'a str,
        json_key: Option<&'a str>,
    },
}

impl<'a> CredentialSource<'a> {
    pub fn of(credential: &'a Secret) -> Result<Self, String> {
        let value = credential.expose();
        let Some(reference) = value.strip_prefix(SECRETS_MANAGER_PREFIX) else {
            return Ok(CredentialSource::Inline(value));
        };
        let (arn, json_key) = match reference.split_once('#') {
            Some((arn, key)) if !key.is_empty() => (arn, Some(key)),
            Some(_) => return Err("secretsmanager reference has an empty #json-key".into()),
            None => (reference, None),
        };
        let parts: Vec<&str> = arn.splitn(7, ':').collect();
        match parts.as_slice() {
            ["arn", partition, "secretsmanager", region, account, "secret", name]
                if partition.starts_with("aws")
                    && !region.is_empty()
                    && account.len() == 12
                    && account.bytes().all(|b| b.is_ascii_digit())
                    && !name.is_empty() =>
            {
                Ok(CredentialSource::SecretsManager { arn, json_key })
            }
            _ => Err(format!(
                "{arn:?} is not a Secrets Manager secret ARN \
                 (secretsmanager:arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME[#json-key])"
            )),
        }
    }
}

impl DestinationAuth {
    pub fn kind(&self) -> &'static str {
        match self {
            DestinationAuth::Basic(_) => "basic",
            DestinationAuth::Bearer(_) => "bearer",
            DestinationAuth::Oauth2ClientCredentials(_) => "oauth2_client_credentials",
            DestinationAuth::Mtls(_) => "mtls",
            DestinationAuth::AwsSigv4(_) => "aws_sigv4",
        }
    }

    /// Whether it sets `Authorization` (which `headers` may then not).
    pub fn sets_authorization(&self) -> bool {
        !matches!(self, DestinationAuth::Mtls(_))
    }

    /// Every credential it holds, with its field's name.
    pub fn credentials(&self) -> Vec<(&'static str, &Secret)> {
        match self {
            DestinationAuth::Basic(basic) => vec![("password", &basic.password)],
            DestinationAuth::Bearer(bearer) => vec![("token", &bearer.token)],
            DestinationAuth::Oauth2ClientCredentials(oauth) => {
                let mut out = Vec::new();
                if let Some(secret) = &oauth.client_secret {
                    out.push(("client_secret", secret));
                }
                if let Some(jwt) = &oauth.private_key_jwt {
                    out.push(("private_key", &jwt.private_key));
                }
                out
            }
            DestinationAuth::Mtls(mtls) => vec![
                ("certificate", &mtls.certificate),
                ("private_key", &mtls.private_key),
            ],
            DestinationAuth::AwsSigv4(_) => Vec::new(),
        }
    }

    /// What may be shown of it: its non-secret settings, then each
    /// credential as the fingerprint of its value (or the Secrets Manager
    /// secret it names). For listings and the console.
    pub fn shown_settings(&self) -> Vec<(&'static str, String)> {
        let mut out: Vec<(&'static str, String)> = Vec::new();
        match self {
            DestinationAuth::Basic(basic) => out.push(("username", basic.username.clone())),
            DestinationAuth::Bearer(_) => {}
            DestinationAuth::Oauth2ClientCredentials(oauth) => {
                out.push(("token_url", crate::redact_url(&oauth.token_url)));
                out.push(("client_id", oauth.client_id.clone()));
                out.extend(oauth.scope.clone().map(|s| ("scope", s)));
                out.extend(oauth.audience.clone().map(|a| ("audience", a)));
                match &oauth.private_key_jwt {
                    Some(jwt) => {
                        out.push(("algorithm", jwt.algorithm.as_str().to_string()));
                        out.extend(jwt.key_id.clone().map(|k| ("key_id", k)));
                    }
                    None => out.push((
                        "style",
                        if oauth.style.is_basic() {
                            "basic"
                        } else {
                            "body"
                        }
                        .to_string(),
                    )),
                }
            }
            DestinationAuth::Mtls(mtls) => {
                if let Some(ca) = &mtls.ca_certificate {
                    out.push((
                        "ca_certificate",
                        format!("sha256:{}", Secret::new(ca.as_str()).fingerprint()),
                    ));
                }
            }
            DestinationAuth::AwsSigv4(sigv4) => {
                out.push(("service", sigv4.service.clone()));
                out.extend(sigv4.region.clone().map(|r| ("region", r)));
                out.extend(sigv4.role_arn.clone().map(|r| ("role_arn", r)));
            }
        }
        for (name, credential) in self.credentials() {
            let shown = match CredentialSource::of(credential) {
                Ok(CredentialSource::SecretsManager { arn, json_key }) => match json_key {
                    Some(key) => format!("{SECRETS_MANAGER_PREFIX}{arn}#{key}"),
                    None => format!("{SECRETS_MANAGER_PREFIX}{arn}"),
                },
                _ => format!("sha256:{}", credential.fingerprint()),
            };
            out.push((name, shown));
        }
        out
    }

    /// The Secrets Manager secrets its credentials name (the dispatcher's
    /// role must be allowed `GetSecretValue` on each).
    pub fn secret_arns(&self) -> Vec<&str> {
        self.credentials()
            .into_iter()
            .filter_map(|(_, credential)| match CredentialSource::of(credential) {
                Ok(CredentialSource::SecretsManager { arn, .. }) => Some(arn),
                _ => None,
            })
            .collect()
    }

    pub fn validate(&self) -> Result<(), String> {
        for (field, credential) in self.credentials() {
            let source =
                CredentialSource::of(credential).map_err(|e| format!("auth {field}: {e}"))?;
            if source == CredentialSource::Inline("") {
                return Err(format!("auth {field} is empty"));
            }
        }
        let pem = |field: &str, credential: &Secret| match CredentialSource::of(credential) {
            Ok(CredentialSource::Inline(value))
                if !value.trim_start().starts_with("-----BEGIN ") =>
            {
                Err(format!(
                    "auth {field} must be PEM (-----BEGIN …) or a secretsmanager: reference"
                ))
            }
            _ => Ok(()),
        };
        match self {
            DestinationAuth::Basic(basic) => {
                if basic.username.is_empty() || basic.username.contains(':') {
                    return Err("auth username must be non-empty and hold no ':'".into());
                }
                if basic.username.chars().any(char::is_control) {
                    return Err("auth username has a control character".into());
                }
            }
            DestinationAuth::Bearer(bearer) => {
                if let CredentialSource::Inline(token) = CredentialSource::of(&bearer.token)? {
                    if !BearerAuth::fits_header(token) {
                        return Err("auth token has a space or control character".into());
                    }
                }
            }
            DestinationAuth::Oauth2ClientCredentials(oauth) => {
                parse_http_url(&oauth.token_url).map_err(|e| format!("auth token_url: {e}"))?;
                if oauth.client_id.is_empty() {
                    return Err("auth client_id is empty".into());
                }
                match (&oauth.client_secret, &oauth.private_key_jwt) {
                    (Some(_), None) => {}
                    (None, Some(jwt)) => {
                        pem("private_key", &jwt.private_key)?;
                        if !oauth.style.is_basic() {
                            return Err("auth style is for a client_secret, not private_key_jwt".into());
                        }
                    }
                    _ => {
                        return Err(
                            "oauth2_client_credentials needs exactly one of client_secret and private_key_jwt".into(),
                        )
                    }
                }
            }
            DestinationAuth::Mtls(mtls) => {
                pem("certificate", &mtls.certificate)?;
                pem("private_key", &mtls.private_key)?;
                if let Some(ca) = &mtls.ca_certificate {
                    if !ca.trim_start().starts_with("-----BEGIN CERTIFICATE-----") {
                        return Err("auth ca_certificate must be a PEM certificate".into());
                    }
                }
            }
            DestinationAuth::AwsSigv4(sigv4) => {
                let name_ok = |s: &str| {
                    !s.is_empty()
                        && s.len() <= 64
                        && s.bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                };
                if !name_ok(&sigv4.service) {
                    return Err(format!(
                        "auth service {:?} is not an AWS signing name (execute-api, lambda, …)",
                        sigv4.service
                    ));
                }
                if let Some(region) = &sigv4.region {
                    if !name_ok(region) {
                        return Err(format!("auth region {region:?} is not a region name"));
                    }
                }
                if let Some(arn) = &sigv4.role_arn {
                    check_role_arn(arn)?;
                }
                match &sigv4.external_id {
                    Some(_) if sigv4.role_arn.is_none() => {
                        return Err("auth external_id needs a role_arn to assume".into())
                    }
                    Some(id) if !(2..=1224).contains(&id.len()) => {
                        return Err("auth external_id must be 2 to 1224 characters".into())
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }
}

/// Kind and non-secret settings only; credentials as `Secret`s (redacted).
impl fmt::Debug for DestinationAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("DestinationAuth");
        out.field("kind", &self.kind());
        match self {
            DestinationAuth::Basic(basic) => {
                out.field("username", &basic.username);
            }
            DestinationAuth::Oauth2ClientCredentials(oauth) => {
                out.field("token_url", &crate::redact_url(&oauth.token_url))
                    .field("client_id", &oauth.client_id)
                    .field("scope", &oauth.scope)
                    .field("audience", &oauth.audience)
                    .field("style", &oauth.style);
                if let Some(jwt) = &oauth.private_key_jwt {
                    out.field("algorithm", &jwt.algorithm)
                        .field("key_id", &jwt.key_id);
                }
            }
            DestinationAuth::AwsSigv4(sigv4) => {
                out.field("service", &sigv4.service)
                    .field("region", &sigv4.region)
                    .field("role_arn", &sigv4.role_arn);
            }
            DestinationAuth::Mtls(mtls) => {
                if let Some(ca) = &mtls.ca_certificate {
                    // Public, but long: told apart by fingerprint.
                    out.field(
                        "ca_certificate",
                        &format_args!("sha256:{}", Secret::new(ca.as_str()).fingerprint()),
                    );
                }
            }
            DestinationAuth::Bearer(_) => {}
        }
        for (name, credential) in self.credentials() {
            out.field(name, credential);
        }
        out.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml_text: &str) -> Result<DestinationAuth, String> {
        #[derive(Deserialize)]
        struct Holder {
            auth: DestinationAuth,
        }
        toml::from_str::<Holder>(toml_text)
            .map(|h| h.auth)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn each_kind_reads_from_toml_and_round_trips() {
        let cases = [
            r#"auth = { kind = "basic", username = "relay", password = "pw" }"#,
            r#"auth = { kind = "bearer", token = "tok" }"#,
            r#"auth = { kind = "oauth2_client_credentials", token_url = "https://id.example/token", client_id = "c", client_secret = "s", scope = "a b", style = "body" }"#,
            r#"auth = { kind = "oauth2_client_credentials", token_url = "https://id.example/token", client_id = "c", private_key_jwt = { private_key = "-----BEGIN PRIVATE KEY-----\nx", algorithm = "ES256", key_id = "k1" } }"#,
            r#"auth = { kind = "mtls", certificate = "-----BEGIN CERTIFICATE-----", private_key = "-----BEGIN PRIVATE KEY-----" }"#,
            r#"auth = { kind = "aws_sigv4", service = "execute-api", region = "eu-west-1" }"#,
        ];
        for case in cases {
            let auth = parse(case).unwrap_or_else(|e| panic!("{case}: {e}"));
            auth.validate().unwrap_or_else(|e| panic!("{case}: {e}"));
            let json = serde_json::to_string(&auth).unwrap();
            let back: DestinationAuth = serde_json::from_str(&json).unwrap();
            assert_eq!(back, auth, "{case}");
        }
    }

    #[test]
    fn unknown_fields_and_kinds_are_refused() {
        assert!(parse(r#"auth = { kind = "bearer", token = "t", extra = 1 }"#).is_err());
        assert!(parse(r#"auth = { kind = "digest", token = "t" }"#).is_err());
    }

    #[test]
    fn oauth2_needs_exactly_one_client_credential() {
        let both = parse(
            r#"auth = { kind = "oauth2_client_credentials", token_url = "https://id.example/t", client_id = "c", client_secret = "s", private_key_jwt = { private_key = "-----BEGIN PRIVATE KEY-----" } }"#,
        )
        .unwrap();
        assert!(both.validate().unwrap_err().contains("exactly one"));
        let neither = parse(
            r#"auth = { kind = "oauth2_client_credentials", token_url = "https://id.example/t", client_id = "c" }"#,
        )
        .unwrap();
        assert!(neither.validate().is_err());
        let bad_url = parse(
            r#"auth = { kind = "oauth2_client_credentials", token_url = "ftp://id.example/t", client_id = "c", client_secret = "s" }"#,
        )
        .unwrap();
        assert!(bad_url.validate().unwrap_err().contains("token_url"));
    }

    #[test]
    fn pem_fields_must_look_like_pem_or_be_references() {
        let bad = parse(r#"auth = { kind = "mtls", certificate = "not pem", private_key = "-----BEGIN PRIVATE KEY-----" }"#).unwrap();
        assert!(bad.validate().unwrap_err().contains("certificate"));
        let referenced = parse(r#"auth = { kind = "mtls", certificate = "-----BEGIN CERTIFICATE-----", private_key = "secretsmanager:arn:aws:secretsmanager:eu-west-1:123456789012:secret:relay-key-AbCdEf" }"#).unwrap();
        referenced.validate().unwrap();
        assert_eq!(
            referenced.secret_arns(),
            vec!["arn:aws:secretsmanager:eu-west-1:123456789012:secret:relay-key-AbCdEf"]
        );
    }

    #[test]
    fn mtls_is_for_https_urls_and_its_ca_must_be_a_certificate() {
        let mtls = r#"auth = { kind = "mtls", certificate = "-----BEGIN CERTIFICATE-----", private_key = "-----BEGIN PRIVATE KEY-----", ca_certificate = "-----BEGIN CERTIFICATE-----" }"#;
        let mut destination = crate::Destination::new(
            crate::DestinationId::parse("app").unwrap(),
            "http://app.example/hook",
            Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        );
        destination.auth = Some(parse(mtls).unwrap());
        let refused = destination.validate().unwrap_err().to_string();
        assert!(refused.contains("https"), "{refused}");
        destination.url = "https://app.example/hook".into();
        destination.validate().unwrap();
        let bad_ca = parse(&mtls.replace(
            r#"ca_certificate = "-----BEGIN CERTIFICATE-----""#,
            r#"ca_certificate = "-----BEGIN PRIVATE KEY-----""#,
        ))
        .unwrap();
        assert!(bad_ca.validate().unwrap_err().contains("ca_certificate"));
    }

    #[test]
    fn secrets_manager_references_are_parsed_with_an_optional_json_key() {
        let with_key = Secret::new(
            "secretsmanager:arn:aws:secretsmanager:us-east-1:123456789012:secret:api#password",
        );
        assert_eq!(
            CredentialSource::of(&with_key).unwrap(),
            CredentialSource::SecretsManager {
                arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:api",
                json_key: Some("password")
            }
        );
        for bad in [
            "secretsmanager:arn:aws:s3:::bucket",
            "secretsmanager:arn:aws:secretsmanager:us-east-1:1234:secret:api",
            "secretsmanager:arn:aws:secretsmanager:us-east-1:123456789012:secret:api#",
        ] {
            assert!(CredentialSource::of(&Secret::new(bad)).is_err(), "{bad}");
        }
        assert_eq!(
            CredentialSource::of(&Secret::new("plain")).unwrap(),
            CredentialSource::Inline("plain")
        );
    }

    #[test]
    fn sigv4_names_and_roles_are_checked() {
        let bad_service =
            parse(r#"auth = { kind = "aws_sigv4", service = "Execute API" }"#).unwrap();
        assert!(bad_service.validate().is_err());
        let lone_external =
            parse(r#"auth = { kind = "aws_sigv4", service = "lambda", external_id = "xyz" }"#)
                .unwrap();
        assert!(lone_external.validate().unwrap_err().contains("role_arn"));
        let role = parse(r#"auth = { kind = "aws_sigv4", service = "lambda", role_arn = "arn:aws:iam::123456789012:role/invoker" }"#).unwrap();
        role.validate().unwrap();
    }

    #[test]
    fn debug_output_holds_no_credential() {
        let all = [
            r#"auth = { kind = "basic", username = "relay", password = "hunter2-password" }"#,
            r#"auth = { kind = "bearer", token = "hunter2-token" }"#,
            r#"auth = { kind = "oauth2_client_credentials", token_url = "https://id.example/token", client_id = "c", client_secret = "hunter2-client" }"#,
            r#"auth = { kind = "mtls", certificate = "-----BEGIN CERTIFICATE-----hunter2", private_key = "-----BEGIN PRIVATE KEY-----hunter2" }"#,
        ];
        for case in all {
            let shown = format!("{:?}", parse(case).unwrap());
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(shown.contains("redacted"), "{shown}");
            let listed = format!("{:?}", parse(case).unwrap().shown_settings());
            assert!(!listed.contains("hunter2"), "{listed}");
            assert!(listed.contains("sha256:"), "{listed}");
        }
    }
}
