//! Cross-crate integration tests, compiled into one binary.
mod receiver_contract;
mod shipped_files;
mod signing_with_config;
