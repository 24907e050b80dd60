//! hookrelay's use cases, independent of where they run.
//!
//! The Lambda functions, the local stack and the admin CLI all call these;
//! they reach the world only through the ports in [`ports`] (config and
//! event stores, queue, clock), which the `embedded` and `aws` crates
//! implement.
#![forbid(unsafe_code)]

pub mod admin;
mod cache;
pub mod consume;
pub mod dedupe;
pub mod dispatch;
mod error;
mod extract;
mod handshake;
pub mod http_api;
pub mod ingest;
pub mod lanes;
pub mod metrics;
pub mod operational;
pub mod pace;
pub mod ports;
pub mod published_keys;
pub mod rejections;
pub mod retry;
pub mod sns;

pub use admin::{AddressCheck, Admin, AdminRequest, AdminResponse};
pub use cache::CachedConfigStore;
pub use consume::{handle_batch, QueueConsumer, Received};
pub use dispatch::{
    DeliveryReport, DeliveryResult, Dispatch, DispatchSettings, BODY_BUDGET_REQUEUE_AFTER,
    BODY_BUDGET_WAIT, DEFAULT_BODY_BYTES_IN_FLIGHT,
};
pub use error::{CoreError, ErrorKind};
pub use ingest::{InboundHook, Ingest, IngestOutcome, IngestSettings, DEFAULT_DEDUPE_WINDOW};
pub use lanes::{BlockedKey, LaneId, OrderLanes};
pub use metrics::{Metric, Metrics, NoMetrics};
pub use operational::{
    Alert, AlertSettings, Alerts, ChangedBy, DeadLetters, OPERATIONAL_EVENT_TYPES,
};
pub use pace::DestinationPace;
pub use ports::{
    listable_by_destination, AwsTarget, Claim, Clock, ConfigItem, ConfigKey, ConfigStore,
    ConfigWriter, DedupeClaim, DedupeKey, DeliveryStore, DestinationHealth, EventInfo,
    EventProgress, EventStore, Fetcher, ListOrder, MessageKind, OutboundRequest, OversizeHandling,
    PutOutcome, Queue, QueueMessage, RequestAuth, RequestSigner, SecretReader, SendResult, Sender,
    Stores, SystemClock, Target,
};
pub use rejections::{RejectionCount, RejectionStore, RejectionTally};
pub use retry::{next_retry_delay, next_step, NextStep, RetryPolicy};
pub use sns::{Sns, SnsHosts};
