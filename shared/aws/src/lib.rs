//! DynamoDB and SQS adapters for hookrelay's ports.
//!
//! # Tables
//!
//! **Events table** (`HOOKRELAY_EVENTS_TABLE`), keys `pk` (S) and `sk` (S),
//! TTL on `expires_at` (Unix seconds):
//!
//! | item | pk | sk | attributes |
//! | --- | --- | --- | --- |
//! | event | `EVT#{event_id}` | `EVENT` | `event` (S, JSON without body), `body` (B), `source`, `received_at` (N, ms), `gsi1pk` = `SRC#{source}`, `gsi1sk` = event id |
//! | dedupe record | `DEDUPE#{source}#{provider delivery id}` | `DEDUPE` | `event_id`, `window_ends_at` (N, ms), `enqueued` (BOOL) |
//!
//! Index `gsi1` (`gsi1pk`, `gsi1sk`) lists a source's events in arrival
//! order (event ids sort by time).
//!
//! An event and its dedupe record are written in one transaction whose
//! condition is that no dedupe record exists or its window has ended
//! (`window_ends_at <= received_at`: TTL deletion lags by up to days, so
//! the window is enforced by the condition, not by TTL). Two concurrent
//! receipts of one delivery therefore store one event.
//!
//! **Config table** (`HOOKRELAY_CONFIG_TABLE`), keys `pk` (S) and `sk` (S):
//! `pk` is `SOURCE`, `DESTINATION` or `ROUTE`; `sk` the id (routes:
//! `{source}#{destination}`); `doc` holds the model as JSON.
//!
//! # Queue
//!
//! SQS (`HOOKRELAY_QUEUE_URL`) carries [`hookrelay_core::QueueMessage`] as
//! JSON: event ids, never bodies, so a message is tiny whatever the body.
//!
//! # Body size
//!
//! Bodies are stored as a binary attribute of the event item. DynamoDB
//! items hold 400 KB, so sources accept at most 320 KiB
//! ([`hookrelay_models::BODY_LIMIT_CEILING`]), leaving room for headers
//! (capped at 16 KiB) and metadata; a larger body is answered 413 before
//! anything is written.
#![forbid(unsafe_code)]

mod config_store;
mod error;
mod event_store;
pub mod provision;
mod queue;
mod settings;

pub use config_store::DynamoConfigStore;
pub use error::AwsError;
pub use event_store::DynamoEventStore;
pub use queue::SqsQueue;
pub use settings::{sdk_config, Adapters, AwsSettings};
