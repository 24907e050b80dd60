//! A destination's `auth`, applied to its deliveries: the headers each
//! request carries (basic, bearer, an OAuth2 access token, a SigV4
//! signature) and the client it goes out on (its own client certificate
//! for mTLS). Credentials named by a `secretsmanager:` reference are read
//! through a [`SecretReader`].
//!
//! Failures to get or make a credential are attempts that failed with
//! [`AttemptErrorKind::Auth`](hookrelay_models::AttemptErrorKind::Auth)
//! and a reason that names no secret.
use hookrelay_core::{OutboundRequest, RequestSigner, SecretReader};
use hookrelay_models::{BearerAuth, CredentialSource, DestinationAuth};
use hookrelay_signing::Secret;
use std::sync::Arc;

mod mtls;
mod oauth2;
mod secret_cache;
use secret_cache::SecretCache;

/// Why a request's credentials could not be had: shown as the attempt's
/// response, so it never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthFailure(pub String);

/// What a request needs on top of its own headers.
#[derive(Default)]
pub(crate) struct Prepared {
    pub headers: Vec<(String, String)>,
    /// The client to send on instead of the shared one (mTLS).
    pub client: Option<reqwest::Client>,
    /// The OAuth2 access token's generation, to name it if the receiver
    /// refuses it.
    pub token: Option<u64>,
}

/// Applies destinations' `auth`; one per sender, shared by its deliveries.
#[derive(Default)]
pub struct Authenticator {
    secrets: Option<Arc<dyn SecretReader>>,
    signer: Option<Arc<dyn RequestSigner>>,
    /// The sender's shared client and private-address rule, which token
    /// requests and mTLS clients follow too.
    outbound: Option<(reqwest::Client, bool)>,
    tokens: oauth2::TokenCache,
    clients: mtls::ClientCache,
    secret_cache: SecretCache,
}

impl Authenticator {
    pub fn new(
        secrets: Option<Arc<dyn SecretReader>>,
        signer: Option<Arc<dyn RequestSigner>>,
    ) -> Self {
        Authenticator {
            secrets,
            signer,
            ..Authenticator::default()
        }
    }

    /// Keeps a Secrets Manager value for `ttl` instead of five minutes
    /// (tests).
    pub fn with_secret_ttl(mut self, ttl: std::time::Duration) -> Self {
        self.secret_cache = SecretCache::with_ttl(ttl);
        self
    }

    /// Set by the sender that uses it: its client and whether private
    /// addresses are allowed.
    pub(crate) fn attach(mut self, client: reqwest::Client, allow_private: bool) -> Self {
        self.outbound = Some((client, allow_private));
        self
    }

    fn outbound(&self) -> Result<(&reqwest::Client, bool), AuthFailure> {
        self.outbound
            .as_ref()
            .map(|(client, allow_private)| (client, *allow_private))
            .ok_or_else(|| AuthFailure("this authenticator is not attached to a sender".into()))
    }

    /// A credential's value: itself, or the Secrets Manager secret it
    /// names.
    pub(crate) async fn credential(&self, credential: &Secret) -> Result<Secret, AuthFailure> {
        match CredentialSource::of(credential).map_err(AuthFailure)? {
            CredentialSource::Inline(value) => Ok(Secret::new(value)),
            CredentialSource::SecretsManager { arn, json_key } => {
                let Some(reader) = &self.secrets else {
                    return Err(AuthFailure(format!(
                        "{arn} is in Secrets Manager, and this dispatcher has no AWS client to read it"
                    )));
                };
                let value = self
                    .secret_cache
                    .get(reader.as_ref(), arn)
                    .await
                    .map_err(AuthFailure)?;
                let value = match json_key {
                    None => value,
                    Some(key) => field_of(&value, key)
                        .map(Secret::new)
                        .map_err(|why| AuthFailure(format!("{arn}: {why}")))?,
                };
                if value.expose().is_empty() {
                    return Err(AuthFailure(format!("{arn}: the credential is empty")));
                }
                Ok(value)
            }
        }
    }

    /// The headers and client for `request`. `refresh`: the receiver
    /// answered 401 to the last try, made with the OAuth2 token of this
    /// generation, which is not used again.
    pub(crate) async fn prepare(
        &self,
        request: &OutboundRequest,
        refresh: Option<u64>,
    ) -> Result<Prepared, AuthFailure> {
        let Some(auth) = &request.auth else {
            return Ok(Prepared::default());
        };
        match &auth.auth {
            DestinationAuth::Basic(basic) => {
                use base64::Engine;
                let password = self.credential(&basic.password).await?;
                let pair = format!("{}:{}", basic.username, password.expose());
                Ok(Prepared {
                    headers: vec![(
                        "authorization".into(),
                        format!(
                            "Basic {}",
                            base64::engine::general_purpose::STANDARD.encode(pair)
                        ),
                    )],
                    ..Prepared::default()
                })
            }
            DestinationAuth::Bearer(bearer) => {
                let token = self.credential(&bearer.token).await?;
                // Checked when configured inline; a secret's value only now
                // (a stored trailing newline would make the header invalid).
                if !BearerAuth::fits_header(token.expose()) {
                    return Err(AuthFailure(
                        "the bearer token has a space or control character".into(),
                    ));
                }
                Ok(Prepared {
                    headers: vec![("authorization".into(), format!("Bearer {}", token.expose()))],
                    ..Prepared::default()
                })
            }
            DestinationAuth::Oauth2ClientCredentials(oauth) => {
                let token = self
                    .oauth2_token(&auth.destination, oauth, refresh, request.timeout)
                    .await?;
                Ok(Prepared {
                    headers: vec![(
                        "authorization".into(),
                        format!("Bearer {}", token.value.expose()),
                    )],
                    token: Some(token.generation),
                    ..Prepared::default()
                })
            }
            DestinationAuth::Mtls(mtls) => Ok(Prepared {
                client: Some(self.mtls_client(&auth.destination, mtls).await?),
                ..Prepared::default()
            }),
            DestinationAuth::AwsSigv4(sigv4) => {
                let Some(signer) = &self.signer else {
                    return Err(AuthFailure(
                        "aws_sigv4 needs AWS credentials, and this dispatcher has no AWS client"
                            .into(),
                    ));
                };
                let headers = signer
                    .sign(sigv4, &request.url, &request.headers, &request.body)
                    .await
                    .map_err(|why| AuthFailure(format!("aws_sigv4: {why}")))?;
                Ok(Prepared {
                    headers,
                    ..Prepared::default()
                })
            }
        }
    }
}

/// A string field of a secret that is a JSON object (`#json-key`). What
/// goes wrong is said without the secret's content.
fn field_of(secret: &Secret, key: &str) -> Result<String, String> {
    let Ok(serde_json::Value::Object(fields)) = serde_json::from_str(secret.expose()) else {
        return Err(format!(
            "#{key} names a field, and the secret is not a JSON object"
        ));
    };
    match fields.get(key) {
        Some(serde_json::Value::String(value)) => Ok(value.clone()),
        Some(_) => Err(format!("the secret's field {key} is not a string")),
        None => Err(format!("the secret has no field {key}")),
    }
}
