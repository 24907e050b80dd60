//! The CLI's one error type, its exit codes, and reading the files it is
//! given.
use hookrelay_models::ConfigError;
use hookrelay_signing::SecretError;
use std::path::PathBuf;
use std::process::ExitCode;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum CliError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("{0}")]
    Usage(String),
    #[error("cannot listen on {0}: {1}")]
    Bind(String, String),
    #[error("{0}")]
    Unavailable(String),
    #[error("refused: {0}")]
    Rejected(String),
    /// The request would make the configuration invalid, or its flags are
    /// wrong; nothing was written.
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// The admin endpoint refused the request's token.
    #[error("{0}")]
    Unauthorized(String),
}

impl CliError {
    /// 1: try again (unreachable, refused); 2: fix the input (file,
    /// flags, an invalid change; nothing was written); 3: no such thing;
    /// 4: it exists already or is still in use. Scripts can rely on these.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Read { .. }
            | CliError::Bind(..)
            | CliError::Unavailable(_)
            | CliError::Rejected(_) => ExitCode::from(1),
            CliError::Config(_)
            | CliError::Secret(_)
            | CliError::Usage(_)
            | CliError::Invalid(_) => ExitCode::from(2),
            CliError::NotFound(_) => ExitCode::from(3),
            CliError::Conflict(_) => ExitCode::from(4),
            CliError::Unauthorized(_) => ExitCode::from(5),
        }
    }
}

pub fn read(path: &PathBuf) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|source| CliError::Read {
        path: path.display().to_string(),
        source,
    })
}
