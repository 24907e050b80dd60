//! The one error type of the use cases. Each variant maps to one answer of
//! the receiver contract, and says whether trying again can help.
use hookrelay_signing::VerifyError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum CoreError {
    #[error("unknown source")]
    UnknownSource,
    #[error("signature verification failed: {0}")]
    Unauthenticated(VerifyError),
    #[error("malformed request: {0}")]
    Malformed(String),
    #[error("body of {size} bytes is over the source's limit of {limit}")]
    TooLarge { size: usize, limit: usize },
    /// The store or queue could not be reached or refused the call; the
    /// caller should try again later.
    #[error("{what} unavailable: {detail}")]
    Unavailable { what: &'static str, detail: String },
    /// Our own configuration is wrong (bad secret, missing URL); an
    /// operator must fix it.
    #[error("misconfigured: {0}")]
    Misconfigured(String),
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    /// An admin request that would make the configuration invalid, or
    /// cannot be carried out as asked; nothing was written.
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    /// The thing exists already (add), or is still in use (remove).
    #[error("{0}")]
    Conflict(String),
}

impl CoreError {
    /// Whether the same call may succeed later without anything changing.
    pub fn is_retryable(&self) -> bool {
        matches!(self, CoreError::Unavailable { .. })
    }

    pub fn unavailable(what: &'static str, detail: impl std::fmt::Display) -> Self {
        CoreError::Unavailable {
            what,
            detail: detail.to_string(),
        }
    }
}
