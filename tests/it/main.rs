//! Cross-crate integration tests, compiled into one binary.

/// One test per backend for each scenario of a module: `scenario(kind)`
/// runs as `embedded::scenario` and `dynamodb_and_sqs::scenario`, with the
/// module's own `Kind::Embedded` and `Kind::Aws`.
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario(super::Kind::Embedded).await
                }
            )*
        }
        mod dynamodb_and_sqs {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario(super::Kind::Aws).await
                }
            )*
        }
    };
}

mod admin_rules;
mod attempt_log;
mod auth_aws;
mod aws_destinations;
mod aws_oversize;
mod cost;
mod destination_auth;
mod dispatch;
mod dispatch_queue;
mod faults;
mod health;
mod hostile_input;
mod lambda_destinations;
mod lambda_e2e;
mod large_bodies;
mod metrics;
mod operational_events;
mod ordering;
mod ordering_volume;
mod partitions;
mod provider_edges;
mod put_events_entries;
mod rate_limits;
mod receiver_contract;
mod recovery;
mod rejections;
mod retention;
mod route_filters;
mod sample_events;
mod shard_count;
mod shipped_files;
mod signing_with_config;
mod sns;
mod soak;
mod ssrf;
mod v1a_signatures;
