//! DynamoDB and SQS adapters for hookrelay's ports.
//!
//! # Tables
//!
//! **Events table** (`HOOKRELAY_EVENTS_TABLE`), keys `pk` (S) and `sk` (S),
//! TTL on `expires_at` (Unix seconds):
//!
//! | item | pk | sk | attributes |
//! | --- | --- | --- | --- |
//! | event | `EVT#{event_id}` | `EVENT` | `z` (B): the event's fields as JSON, a newline and the body, deflated (events written before that have `event`, JSON, and `body`, B, and still read), `gsi1pk` = `SRC#{source}#{shard}`, `gsi1sk` = event id |
//! | dedupe record | `DEDUPE#{source}#{provider delivery id}` | `DEDUPE` | `event_id`, `window_ends_at` (N, ms) |
//! | delivery | `EVT#{event_id}` | `DLV#{destination}` | `event_id`, `destination`, `state`, `attempts`, `series`, `deferrals`, `next_attempt_at` (N, ms), `lease_until` (N, ms), `last_outcome` (S, JSON), `updated_at`; failed and parked ones also `gsi1pk` = `DLV#{destination}#{state}#{shard}`, `gsi1sk` = event id; once its first series succeeded, that attempt as `done` (S, JSON) with `gsi2pk`/`gsi2sk` as an attempt's |
//! | destination health | `HEALTH#{destination}` | `HEALTH` | `failing_since` (N, ms): first failure since its last success, for auto-disable; `release_head` (S): the event whose delivery heads the release of parked deliveries, while one is under way |
//! | rejections | `REJECT#{source}` | the hour's start (ms, 15 digits) | `r_{reason}` (N): requests refused for that reason that hour, written at most once a minute per receiver instance |
//! | lane entry | `LANE#{destination}#{key}` | event id | `expires_at`: the event is in that key's lane of ordered delivery (written by the receiver before its 2xx, deleted once the delivery settles) |
//! | blocked key | `BLOCKED#{destination}` | the key | `head` (S): the event whose failed delivery holds the key back, `since` (N, ms); written at its first failure, deleted once it settles |
//! | attempt | `EVT#{event_id}` | `ATT#{destination}#{series}#{number}#{lease ms}` | `doc` (S, JSON), `gsi2pk` = `DST#{destination}#{shard}`, `gsi2sk` = `{started_at ms}#{event_id}#…` |
//!
//! `{shard}` is two digits, a hash of the event id modulo the writer's
//! `HOOKRELAY_INDEX_SHARDS` (see the `index` module): no source or
//! destination meets one partition's write limit. Entries written before
//! sharding (without it) are still read. Readers query the highest count
//! any writer has used, recorded in the config table ([`ShardCount`]), or
//! their own if that is higher: a stack redeployed with more shards or
//! fewer, or an admin CLI or console run without the variable, still
//! lists every entry.
//!
//! Index `gsi1` (`gsi1pk`, `gsi1sk`, keys only) lists a source's events in
//! arrival order (event ids sort by time), and a destination's failed or
//! parked deliveries in arrival order (for bulk recovery and in-order
//! release). Pending and succeeded deliveries have no entry: every entry
//! costs a write when a delivery enters its state and another when it
//! leaves. Index `gsi2` (`gsi2pk`, `gsi2sk`, all attributes) lists a
//! destination's attempts by time, whether an attempt has its own item or
//! is the `done` of a delivery.
//!
//! A delivery is claimed by one conditional update: it must be pending,
//! due (`next_attempt_at <= now`) and not leased (`lease_until <= now`).
//! The usual outcome, a success in the delivery's first series, is then
//! written into the delivery's item with its new state, conditional on the
//! lease still being the claimer's: one write records and settles it. Any
//! other attempt (a failure, a replay's, one that outlived its lease) is
//! an item of its own, written first, then the delivery's new state under
//! the same condition (two plain writes: a transaction would bill both at
//! double). An attempt that outlived its lease stays on record; the
//! delivery's state is the new holder's.
//!
//! The event and its dedupe record are written by the protocol in
//! `hookrelay_core::dedupe`, each step one call: the record first, a put
//! conditional on no live record naming another event
//! (`attribute_not_exists(pk) OR window_ends_at <= :now OR event_id =
//! :candidate`; TTL deletion lags by up to days, so the window is enforced
//! by the condition, not by TTL), which on a refusal returns the record it
//! met (`ReturnValuesOnConditionCheckFailure`), so a duplicate learns the
//! event without a read; then the event, a put conditional on
//! `attribute_not_exists(pk)` (an event is never overwritten), sent
//! together with the fan-out message. Nothing is ever deleted to undo a
//! receipt: a receipt that failed half-way is carried forward by the
//! provider's retry under the record's id.
//!
//! **Config table** (`HOOKRELAY_CONFIG_TABLE`), keys `pk` (S) and `sk` (S):
//! `pk` is `SOURCE`, `DESTINATION` or `ROUTE`; `sk` the id (routes:
//! `{source}#{destination}`); `doc` holds the model as JSON. One more item,
//! `pk` = `INDEX`, `sk` = `SHARDS`, holds `shards` (N): the highest index
//! shard count any writer has used. Each process that writes index
//! entries (the receiver and dispatcher at their cold start, `hookrelay
//! dev --aws` before its first write) records its count there with one
//! conditional UpdateItem (`attribute_not_exists(shards) OR shards < :n`;
//! refused means an equal or higher count is there, which is success),
//! never per webhook; readers read it (one GetItem) about once a minute
//! per process. Configuration pushes (`replace`) and loads touch only
//! the three configuration `pk`s, so they neither see nor remove it.
//!
//! # Queue
//!
//! SQS (`HOOKRELAY_QUEUE_URL`) carries [`hookrelay_core::QueueMessage`] as
//! JSON: event ids, never bodies, so a message is tiny whatever the body.
//!
//! # Body size
//!
//! A packed event (fields, headers, deflated body) of up to 8 KiB
//! (`HOOKRELAY_INLINE_BODY_BYTES`) is kept whole in its item. A larger one
//! keeps its body in the S3 bucket `HOOKRELAY_BODY_BUCKET` under
//! `bodies/sha256/{hex digest}` (SSE-S3, expiring with the retention),
//! written before the item that names it (`b`: key, size, SHA-256, checked
//! on every read). An item past its `expires_at`, or whose object the
//! lifecycle already deleted, reads as gone (`None`), not as an error. Without a bucket, an event that cannot fit its 400 KB item is
//! refused (413) before anything is written. Sources accept at most
//! [`hookrelay_models::BODY_LIMIT_CEILING`] (5 MiB).
#![forbid(unsafe_code)]

mod body_bucket;
mod body_link;
mod bus_entry;
mod config_store;
mod credentials;
mod delivery_store;
pub mod emf;
mod error;
mod event_store;
mod index;
mod lambda_invoke;
mod lanes;
mod oversize;
pub mod provision;
mod queue;
mod rejection_store;
mod request_signer;
mod secrets;
mod settings;
mod shard_count;
mod target_limits;
mod targets;

pub use body_bucket::{s3_client, BodyBucket, DEFAULT_INLINE_BODY_BYTES};
pub use body_link::{BodyLink, BodyLinks, POINTER_VERSION};
pub use config_store::DynamoConfigStore;
pub use delivery_store::{DynamoDeliveryStore, DEFAULT_RETENTION};
pub use emf::EmfMetrics;
pub use error::AwsError;
pub use event_store::DynamoEventStore;
pub use index::IndexShards;
pub use queue::SqsQueue;
pub use rejection_store::DynamoRejectionStore;
pub use request_signer::{region_of_host, AwsRequestSigner};
pub use secrets::SecretsManagerReader;
pub use settings::{init_lambda_logging, sdk_config, Adapters, AwsSettings};
pub use shard_count::ShardCount;
pub use targets::AwsTargetSender;
