//! What can be wrong with ids and configuration, said so a user can fix it.
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IdError {
    #[error("{kind} id must be 1 to 64 characters of a-z, A-Z, 0-9, '-' and '_', starting with a letter or digit; got {value:?}")]
    BadSlug { kind: &'static str, value: String },
    #[error(
        "{kind} id must be {prefix} followed by 26 Crockford base32 characters; got {value:?}"
    )]
    BadPrefixed {
        kind: &'static str,
        prefix: &'static str,
        value: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    #[error("{file}: line {line}, column {column}: {reason}")]
    Syntax {
        file: String,
        line: usize,
        column: usize,
        reason: String,
    },
    #[error(transparent)]
    Id(#[from] IdError),
    #[error("source {source_id}: {reason}")]
    Source { source_id: String, reason: String },
    #[error("destination {destination_id}: {reason}")]
    Destination {
        destination_id: String,
        reason: String,
    },
    #[error("route {source_id} -> {destination_id}: {reason}")]
    Route {
        source_id: String,
        destination_id: String,
        reason: String,
    },
    #[error("{kind} {id} is defined twice")]
    Duplicate { kind: &'static str, id: String },
    #[error("invalid event filter {filter:?}: {reason}")]
    Filter {
        filter: String,
        reason: &'static str,
    },
    #[error("invalid duration {value:?}: {reason}")]
    Duration { value: String, reason: String },
}
