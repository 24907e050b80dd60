//! Cross-crate integration tests, compiled into one binary.
mod dispatch;
mod dispatch_queue;
mod faults;
mod health;
mod hostile_input;
mod lambda_e2e;
mod metrics;
mod receiver_contract;
mod receiver_logs;
mod recovery;
mod sample_events;
mod shipped_files;
mod signing_with_config;
mod soak;
mod ssrf;
