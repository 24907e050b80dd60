//! hookrelay's use cases, independent of where they run.
//!
//! The Lambda functions, the local stack and the admin CLI all call these;
//! they reach the world only through the ports in [`ports`] (config and
//! event stores, queue, clock), which the `embedded` and `aws` crates
//! implement.
#![forbid(unsafe_code)]

mod cache;
mod error;
mod extract;
mod handshake;
pub mod http_api;
pub mod ingest;
pub mod ports;

pub use cache::CachedConfigStore;
pub use error::CoreError;
pub use ingest::{InboundHook, Ingest, IngestOutcome, IngestSettings};
pub use ports::{
    Clock, ConfigStore, DedupeKey, EventStore, InsertOutcome, Queue, QueueMessage, SystemClock,
};
