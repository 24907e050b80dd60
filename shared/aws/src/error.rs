//! Errors of the AWS adapters, and their mapping onto the core's.
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use hookrelay_core::CoreError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum AwsError {
    #[error("missing environment variable {0}")]
    MissingEnv(&'static str),
    #[error("environment variable {0} has an unusable value {1:?}")]
    BadEnv(&'static str, String),
    #[error("{service}: {detail}")]
    Call {
        service: &'static str,
        detail: String,
    },
    #[error("stored item is unreadable: {0}")]
    Corrupt(String),
}

impl From<AwsError> for CoreError {
    fn from(err: AwsError) -> Self {
        match err {
            AwsError::MissingEnv(_) | AwsError::BadEnv(..) => {
                CoreError::Misconfigured(err.to_string())
            }
            AwsError::Call { service, detail } => CoreError::unavailable(service, detail),
            AwsError::Corrupt(detail) => CoreError::Corrupt(detail),
        }
    }
}

/// An SDK error as text with its causes (the SDK's own Display is terse).
pub(crate) fn call_error<E: std::error::Error>(service: &'static str, err: E) -> AwsError {
    AwsError::Call {
        service,
        detail: DisplayErrorContext(err).to_string(),
    }
}

/// A conditional write or update refused because its condition was false.
pub(crate) fn is_condition_failed<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    err.as_service_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code == "ConditionalCheckFailedException")
}
