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

/// What kind of failure an error is: the one classification that the
/// receiver's HTTP status, the admin endpoint's answer, the CLI's exit code
/// and the metrics' and logs' labels are all derived from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request (or the change it asks for) is wrong; nothing was
    /// written.
    Invalid,
    /// The source, destination, route or event named does not exist.
    NotFound,
    /// It exists already, or is still in use.
    Conflict,
    /// The signature did not verify.
    Unauthorized,
    /// The body is over the source's limit.
    TooLarge,
    /// The store or queue could not be reached: try again later.
    Unavailable,
    /// Our own configuration is wrong; an operator must fix it.
    Misconfigured,
    /// Stored data could not be read.
    Corrupt,
}

impl ErrorKind {
    /// A short label for metrics, logs and the admin endpoint's answers.
    pub fn label(self) -> &'static str {
        match self {
            ErrorKind::Invalid => "invalid",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Misconfigured => "misconfigured",
            ErrorKind::Corrupt => "corrupt",
        }
    }
}

impl CoreError {
    /// The error's kind. No catch-all: a new variant does not compile until
    /// it is classified here.
    pub fn kind(&self) -> ErrorKind {
        match self {
            CoreError::UnknownSource | CoreError::NotFound(_) => ErrorKind::NotFound,
            CoreError::Unauthenticated(_) => ErrorKind::Unauthorized,
            CoreError::Malformed(_) | CoreError::Invalid(_) => ErrorKind::Invalid,
            CoreError::TooLarge { .. } => ErrorKind::TooLarge,
            CoreError::Unavailable { .. } => ErrorKind::Unavailable,
            CoreError::Misconfigured(_) => ErrorKind::Misconfigured,
            CoreError::Corrupt(_) => ErrorKind::Corrupt,
            CoreError::Conflict(_) => ErrorKind::Conflict,
        }
    }

    /// Whether the same call may succeed later without anything changing.
    pub fn is_retryable(&self) -> bool {
        self.kind() == ErrorKind::Unavailable
    }

    pub fn unavailable(what: &'static str, detail: impl std::fmt::Display) -> Self {
        CoreError::Unavailable {
            what,
            detail: detail.to_string(),
        }
    }
}
