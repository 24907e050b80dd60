//! Where an admin request runs: sent to a running `hookrelay dev`'s admin
//! endpoint, or run in this process against DynamoDB and SQS (`--aws`).
use hookrelay_core::{
    Admin, AdminRequest, AdminResponse, Clock, CoreError, ErrorKind, Queue, Stores, SystemClock,
};
use hookrelay_http::PrivateAddressCheck;

use super::TargetArgs;
use std::sync::Arc;
use std::time::Duration;

use crate::error::CliError;

/// Runs admin requests somewhere.
pub enum Backend {
    Remote {
        url: String,
        client: reqwest::Client,
        /// The endpoint's token (see [`crate::admin_token`]), if found.
        token: Option<String>,
    },
    Local(Box<Admin>),
}

impl Backend {
    pub async fn connect(target: &TargetArgs) -> Result<Backend, CliError> {
        if !target.aws {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .no_proxy()
                .build()
                .map_err(|e| CliError::Unavailable(e.to_string()))?;
            return Ok(Backend::Remote {
                url: format!("{}/admin", target.admin_url.trim_end_matches('/')),
                client,
                token: crate::admin_token::for_url(&target.admin_url),
            });
        }
        Ok(Backend::Local(Box::new(aws_admin(target).await?)))
    }

    pub async fn run(&self, request: AdminRequest) -> Result<AdminResponse, CliError> {
        match self {
            Backend::Local(admin) => admin.execute(request).await.map_err(CliError::from),
            Backend::Remote { url, client, token } => {
                let body = serde_json::to_vec(&request).expect("admin requests serialize");
                let mut call = client
                    .post(url)
                    .header("content-type", "application/json")
                    .body(body);
                if let Some(token) = token {
                    call = call.bearer_auth(token);
                }
                let response = call
                    .send()
                    .await
                    .map_err(|e| {
                        CliError::Unavailable(format!(
                            "cannot reach hookrelay dev's admin endpoint at {url} ({e}); is `hookrelay dev` running? For a deployed stack, add --aws"
                        ))
                    })?;
                let status = response.status();
                let bytes = response
                    .bytes()
                    .await
                    .map_err(|e| CliError::Unavailable(e.to_string()))?;
                if status.is_success() {
                    return serde_json::from_slice(&bytes).map_err(|e| {
                        CliError::Unavailable(format!("unreadable answer from {url}: {e}"))
                    });
                }
                let error: serde_json::Value =
                    serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
                let message = error["message"].as_str().unwrap_or("no detail").to_string();
                Err(match error["error"].as_str() {
                    Some("invalid") => CliError::Invalid(message),
                    Some("not_found") => CliError::NotFound(message),
                    Some("conflict") => CliError::Conflict(message),
                    Some("unauthorized") => CliError::Unauthorized(format!(
                        "{message}: run the command as the user who started `hookrelay dev` (it wrote its token under {}), or set HOOKRELAY_ADMIN_TOKEN",
                        crate::admin_token::token_path(0).parent().map(|d| d.display().to_string()).unwrap_or_default()
                    )),
                    _ => CliError::Unavailable(format!("{url} answered {status}: {message}")),
                })
            }
        }
    }
}

/// The admin endpoint's answer to a failed request: a kind the CLI turns
/// back into the same error (and exit code) as when run in process.
pub fn error_kind(err: &CoreError) -> (u16, &'static str) {
    let kind = err.kind();
    let status = match kind {
        ErrorKind::Invalid => 400,
        ErrorKind::Unauthorized => 401,
        ErrorKind::NotFound => 404,
        ErrorKind::Conflict => 409,
        ErrorKind::TooLarge => 413,
        ErrorKind::Unavailable => 503,
        ErrorKind::Misconfigured | ErrorKind::Corrupt => 500,
    };
    (status, kind.label())
}

impl From<CoreError> for CliError {
    fn from(err: CoreError) -> Self {
        let message = err.to_string();
        match err.kind() {
            ErrorKind::Invalid | ErrorKind::TooLarge => CliError::Invalid(message),
            ErrorKind::NotFound => CliError::NotFound(message),
            ErrorKind::Conflict => CliError::Conflict(message),
            ErrorKind::Unauthorized => CliError::Unauthorized(message),
            ErrorKind::Unavailable | ErrorKind::Misconfigured | ErrorKind::Corrupt => {
                CliError::Unavailable(message)
            }
        }
    }
}

/// The admin use case on a deployed stack's tables and queue (`--aws`),
/// with the operator's AWS credentials.
pub async fn aws_admin(target: &TargetArgs) -> Result<Admin, CliError> {
    let sdk = hookrelay_aws::sdk_config().await;

    let adapters = hookrelay_aws::Adapters::new(
        &sdk,
        &hookrelay_aws::AwsSettings {
            events_table: target.events_table.clone(),
            config_table: target.config_table.clone(),
            queue_url: target.queue_url.clone().unwrap_or_default(),
            retention: hookrelay_aws::DEFAULT_RETENTION,
            // Its own count, from HOOKRELAY_INDEX_SHARDS or the default:
            // listings query as many as the stack's config table records
            // if that is more (the highest any function wrote with), so
            // the operator need not know it. The admin path writes no
            // index entries, so it records nothing.
            index_shards: hookrelay_aws::IndexShards::from_env()
                .map_err(|e| CliError::Usage(e.to_string()))?,
            // Read only to show bodies kept in S3; nothing is stored
            // through the admin path.
            body_bucket: std::env::var("HOOKRELAY_BODY_BUCKET")
                .ok()
                .filter(|v| !v.is_empty()),
            inline_body_bytes: hookrelay_aws::DEFAULT_INLINE_BODY_BYTES,
        },
    );
    let config = Arc::new(adapters.config);
    let queue: Option<Arc<dyn Queue>> = target
        .queue_url
        .as_ref()
        .map(|_| Arc::new(adapters.queue) as Arc<dyn Queue>);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let deliveries = Arc::new(adapters.deliveries);
    let stores = Stores {
        config: config.clone(),
        events: Arc::new(adapters.events),
        deliveries: deliveries.clone(),
        health: deliveries.clone(),
        pace: deliveries,
    };
    Ok(
        Admin::new(stores, config, queue, clock, Arc::new(PrivateAddressCheck))
            .with_rejections(Arc::new(adapters.rejections)),
    )
}
