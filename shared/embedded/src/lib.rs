//! In-process adapters for hookrelay's ports.
//!
//! `hookrelay dev` runs on these when no AWS endpoint is given, and the use
//! cases are tested on them without any server. They keep the behaviour
//! that matters of their DynamoDB and SQS counterparts: conditional dedupe
//! writes, delayed messages, and failure on demand (to exercise the
//! unavailable paths). Nothing here is persistent.
#![forbid(unsafe_code)]

mod metrics;
mod queue;
mod store;

pub use metrics::MemoryMetrics;
pub use queue::MemoryQueue;
pub use store::{MemoryStore, Retention, DEFAULT_MAX_EVENTS};
