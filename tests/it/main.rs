//! Cross-crate integration tests, compiled into one binary.
mod signing_with_config;
