//! Destination credentials kept in AWS Secrets Manager
//! (`secretsmanager:<arn>[#json-key]`): one `GetSecretValue` of the secret
//! named, in the region its ARN names. The caller (the HTTP sender's
//! authenticator) caches what it reads; this reads every time it is asked.
use async_trait::async_trait;
use aws_config::{Region, SdkConfig};
use aws_sdk_secretsmanager::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use hookrelay_core::SecretReader;
use hookrelay_signing::Secret;
use std::collections::HashMap;
use tokio::sync::{Mutex, OnceCell};

pub struct SecretsManagerReader {
    sdk: OnceCell<SdkConfig>,
    /// A client per region secrets are read in.
    clients: Mutex<HashMap<String, aws_sdk_secretsmanager::Client>>,
}

impl SecretsManagerReader {
    /// Reads with `sdk`'s credentials (and its endpoint, if one is set).
    pub fn new(sdk: SdkConfig) -> Self {
        SecretsManagerReader {
            sdk: OnceCell::new_with(Some(sdk)),
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// Reads the AWS configuration from the environment only when a first
    /// secret is read.
    pub fn from_env_when_needed() -> Self {
        SecretsManagerReader {
            sdk: OnceCell::new(),
            clients: Mutex::new(HashMap::new()),
        }
    }

    async fn client(&self, region: &str) -> aws_sdk_secretsmanager::Client {
        let sdk = self.sdk.get_or_init(crate::sdk_config).await;
        let mut clients = self.clients.lock().await;
        clients
            .entry(region.to_string())
            .or_insert_with(|| {
                aws_sdk_secretsmanager::Client::from_conf(
                    aws_sdk_secretsmanager::config::Builder::from(sdk)
                        .region(Region::new(region.to_string()))
                        .build(),
                )
            })
            .clone()
    }
}

#[async_trait]
impl SecretReader for SecretsManagerReader {
    async fn secret_string(&self, arn: &str) -> Result<Secret, String> {
        // arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME
        let region = arn
            .split(':')
            .nth(3)
            .filter(|region| !region.is_empty())
            .ok_or_else(|| format!("{arn} is not a secret's ARN"))?;
        let client = self.client(region).await;
        match client.get_secret_value().secret_id(arn).send().await {
            Ok(answer) => match answer.secret_string() {
                Some(value) => Ok(Secret::new(value)),
                None => Err(format!(
                    "{arn} holds a binary secret; a credential must be a SecretString"
                )),
            },
            Err(err) => Err(format!("GetSecretValue {arn}: {}", why(&err))),
        }
    }
}

/// What went wrong, from AWS's answer (its error code and message) or
/// the call's fate: never anything of the secret's.
fn why<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    err: &SdkError<E, R>,
) -> String {
    match err {
        SdkError::ServiceError(_) => format!(
            "{} ({})",
            err.code().unwrap_or("error"),
            err.message().unwrap_or("no message")
        ),
        SdkError::TimeoutError(_) => "timed out".into(),
        _ => DisplayErrorContext(err).to_string(),
    }
}

impl std::fmt::Debug for SecretsManagerReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretsManagerReader")
            .finish_non_exhaustive()
    }
}
