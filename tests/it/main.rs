//! Cross-crate integration tests, compiled into one binary.
mod shipped_files;
mod signing_with_config;
