//! The AWS credentials the dispatcher acts with beyond its SDK clients:
//! an assumed role's (shared by AWS destinations and SigV4 signing, one
//! way of assuming it), and credentials held between signatures.
use aws_config::SdkConfig;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_sdk_sqs::error::DisplayErrorContext;
use std::time::{Duration, SystemTime};

/// The session name an assumed role's CloudTrail entries carry.
const SESSION_NAME: &str = "hookrelay-dispatcher";

/// Credentials kept this long before they expire are fetched again.
const RENEW_BEFORE_EXPIRY: Duration = Duration::from_secs(5 * 60);

/// Credentials that do not expire (a process's own keys) are asked for
/// again after this long: cheap, and a rotated profile is picked up.
const KEEP_UNEXPIRING: Duration = Duration::from_secs(15 * 60);

/// A provider of `arn`'s credentials, assumed with `sdk`'s (and its STS
/// region and endpoint), with `external_id` when the role's trust policy
/// asks for one. It calls `AssumeRole` each time it is asked: a client's
/// identity cache, or [`HeldCredentials`], keeps the session.
pub(crate) async fn assumed_role(
    sdk: &SdkConfig,
    arn: &str,
    external_id: Option<&str>,
) -> SharedCredentialsProvider {
    let mut provider = aws_config::sts::AssumeRoleProvider::builder(arn)
        .session_name(SESSION_NAME)
        .configure(sdk);
    if let Some(id) = external_id {
        provider = provider.external_id(id);
    }
    SharedCredentialsProvider::new(provider.build().await)
}

/// A provider's credentials, held until shortly before they expire; one
/// fetch at a time (callers meanwhile wait for it and share it).
pub(crate) struct HeldCredentials {
    provider: SharedCredentialsProvider,
    held: tokio::sync::Mutex<Option<(Credentials, SystemTime)>>,
}

impl HeldCredentials {
    pub(crate) fn new(provider: SharedCredentialsProvider) -> Self {
        HeldCredentials {
            provider,
            held: tokio::sync::Mutex::new(None),
        }
    }

    /// Credentials valid for a while yet: the ones held, or fresh ones.
    /// An error says why there are none (never a key).
    pub(crate) async fn get(&self) -> Result<Credentials, String> {
        let mut held = self.held.lock().await;
        let now = SystemTime::now();
        if let Some((credentials, renew_at)) = held.as_ref() {
            if now < *renew_at {
                return Ok(credentials.clone());
            }
        }
        let credentials = self
            .provider
            .provide_credentials()
            .await
            .map_err(|err| DisplayErrorContext(&err).to_string())?;
        let renew_at = match credentials.expiry() {
            Some(expiry) => expiry.checked_sub(RENEW_BEFORE_EXPIRY).unwrap_or(now),
            None => now + KEEP_UNEXPIRING,
        };
        *held = Some((credentials.clone(), renew_at));
        Ok(credentials)
    }
}
