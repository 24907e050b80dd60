//! Admin: the operator's use case, behind `hookrelay`'s admin subcommands.
//! Configuration writes validated before anything is written, the event
//! and attempt logs, replay and bulk recovery, secret rotation,
//! enabling or disabling destinations, and trying a route filter on stored
//! events.
//!
//! Requests and answers are plain data ([`AdminRequest`], [`AdminResponse`])
//! so the CLI can run them in process against DynamoDB or send them to a
//! running `hookrelay dev`, which runs them against its in-memory store:
//! one implementation either way.
mod blocked;
pub use blocked::{BlockedKeyView, HeadAction, WAITING_COUNTED};
mod config_changes;
mod enable;
mod filter_test;
pub use filter_test::{FilterTestResult, DEFAULT_FILTER_TEST_EVENTS};
mod logs;
mod masking;
pub use masking::MASKED;
mod replay;
mod secrets;

use async_trait::async_trait;
use hookrelay_models::{
    Attempt, Config, Delivery, DeliveryState, Destination, DestinationId, Event, EventId, Route,
    RouteMatch, Source, SourceId, Timestamp,
};
use hookrelay_signing::Secret;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

use crate::error::CoreError;
use crate::operational::{Alert, AlertSettings, Alerts};
use crate::ports::{Clock, ConfigItem, ConfigWriter, Queue, Stores};
use crate::rejections::{RejectionCount, RejectionStore};

/// Most events one listing returns, and most deliveries one bulk recovery
/// re-queues.
pub const MAX_LIST: usize = 1000;
pub const MAX_RECOVER: usize = 100_000;

/// Whether a destination URL points at a private, loopback or link-local
/// address (literally or by DNS). Implemented next to the HTTP sender's
/// guard, so the write-time check and the send-time one agree.
#[async_trait]
pub trait AddressCheck: Send + Sync {
    /// `Some(reason)` if the URL's host is not a public address.
    async fn private_address(&self, url: &str) -> Option<String>;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum AdminRequest {
    ListSources,
    AddSource {
        source: Source,
    },
    UpdateSource {
        source: Source,
    },
    RemoveSource {
        id: SourceId,
    },
    ListDestinations,
    AddDestination {
        destination: Destination,
        allow_private: bool,
    },
    UpdateDestination {
        destination: Destination,
        allow_private: bool,
    },
    RemoveDestination {
        id: DestinationId,
    },
    ListRoutes,
    AddRoute {
        route: Route,
    },
    UpdateRoute {
        route: Route,
    },
    RemoveRoute {
        source: SourceId,
        destination: DestinationId,
    },
    PushConfig {
        config: Config,
        allow_private: bool,
    },
    PullConfig,
    ListEvents {
        source: Option<SourceId>,
        since: Option<Timestamp>,
        status: Option<DeliveryState>,
        limit: usize,
    },
    ShowEvent {
        id: EventId,
    },
    ListAttempts {
        destination: DestinationId,
        failed_only: bool,
        limit: usize,
    },
    Replay {
        event: EventId,
        destination: Option<DestinationId>,
    },
    Recover {
        destination: DestinationId,
        since: Option<Timestamp>,
    },
    RotateDestinationSecret {
        destination: DestinationId,
        secret: Secret,
        grace_secs: u64,
    },
    AddSourceSecret {
        source: SourceId,
        secret: Secret,
    },
    RetireSourceSecret {
        source: SourceId,
        secret: Secret,
    },
    SetDestinationEnabled {
        destination: DestinationId,
        enabled: bool,
    },
    /// Rejections per source, reason and hour since `since` (every source
    /// when none is named).
    ListRejections {
        source: Option<SourceId>,
        since: Timestamp,
    },
    /// How many of a destination's deliveries are in an indexed state
    /// (failed, parked): exact, and without reading a single event.
    CountDeliveries {
        destination: DestinationId,
        state: DeliveryState,
    },
    /// Tries a route content filter (an EventBridge pattern, as JSON) on
    /// the newest `limit` stored events of `source` (every source when
    /// none is named) received since `since`, without saving it.
    TestFilter {
        filter: serde_json::Value,
        source: Option<SourceId>,
        since: Option<Timestamp>,
        limit: usize,
    },
    /// An ordered destination's keys held back by a failing head.
    ListBlockedKeys {
        destination: DestinationId,
        limit: usize,
    },
    /// Lets a key go on past its head (see [`HeadAction`]).
    UnblockKey {
        destination: DestinationId,
        key: String,
        action: HeadAction,
    },
}

/// One event in a listing, with where each of its deliveries stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSummary {
    pub id: EventId,
    pub source: SourceId,
    pub event_type: Option<String>,
    pub received_at: Timestamp,
    pub body_bytes: usize,
    pub deliveries: Vec<Delivery>,
}

/// An event with everything known about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventDetail {
    pub event: Event,
    pub deliveries: Vec<Delivery>,
    pub attempts: Vec<Attempt>,
    /// Each route of the event's source under the configuration as it is
    /// now: matched, or what turned the event away.
    #[serde(default)]
    pub routes: Vec<RouteMatch>,
}

/// What a replay did to one delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replayed {
    pub event: EventId,
    /// `None`: the event is fanned out again (it had no deliveries).
    pub destination: Option<DestinationId>,
    /// The state it was in: a new series was started if it was settled or
    /// parked; a pending one is only queued again.
    pub previous_state: Option<DeliveryState>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum AdminResponse {
    Sources(Vec<Source>),
    Destinations(Vec<Destination>),
    Routes(Vec<Route>),
    Config(Config),
    Events(Vec<EventSummary>),
    Event(Box<EventDetail>),
    Attempts(Vec<Attempt>),
    Replayed(Vec<Replayed>),
    Rejections(Vec<RejectionCount>),
    Count(u64),
    FilterTest(Vec<FilterTestResult>),
    BlockedKeys(Vec<BlockedKeyView>),
    Done(String),
}

pub struct Admin {
    /// Its configuration store should not cache: an operator's change must
    /// be checked against what is stored.
    stores: Stores,
    writer: Arc<dyn ConfigWriter>,
    /// Replays and releases need it; without one they are refused.
    queue: Option<Arc<dyn Queue>>,
    clock: Arc<dyn Clock>,
    addresses: Arc<dyn AddressCheck>,
    /// How many failed deliveries a bulk recovery reads at a time.
    recover_page: usize,
    /// Where the receiver counts rejections; without, none are listed.
    rejections: Option<Arc<dyn RejectionStore>>,
    /// How operational events an operator's change raises are kept.
    alerts: AlertSettings,
}

/// Failed deliveries a bulk recovery reads per query: one DynamoDB page of
/// small index entries.
const RECOVER_PAGE: usize = 500;

pub(super) fn invalid(message: impl Into<String>) -> CoreError {
    CoreError::Invalid(message.into())
}

pub(super) fn not_found(message: impl Into<String>) -> CoreError {
    CoreError::NotFound(message.into())
}

impl Admin {
    pub fn new(
        stores: Stores,
        writer: Arc<dyn ConfigWriter>,
        queue: Option<Arc<dyn Queue>>,
        clock: Arc<dyn Clock>,
        addresses: Arc<dyn AddressCheck>,
    ) -> Self {
        Admin {
            stores,
            writer,
            queue,
            clock,
            addresses,
            recover_page: RECOVER_PAGE,
            rejections: None,
            alerts: AlertSettings::default(),
        }
    }

    /// Raises operational events (a destination enabled or disabled by
    /// hand) with `settings`, as the dispatcher does with its own.
    pub fn with_alert_settings(mut self, settings: AlertSettings) -> Self {
        self.alerts = settings;
        self
    }

    /// Raises `alert` when a route wants it; never fails the operator's
    /// change, which is made. Without a queue, nothing is raised.
    async fn raise(&self, alert: &Alert) {
        if let Some(queue) = &self.queue {
            Alerts::new(
                self.stores.config.clone(),
                self.stores.events.clone(),
                queue.clone(),
                self.clock.clone(),
                Arc::new(crate::metrics::NoMetrics),
                self.alerts,
            )
            .raise_or_log(alert)
            .await;
        }
    }

    /// Lists the rejection counts the receiver keeps in `store`.
    pub fn with_rejections(mut self, store: Arc<dyn RejectionStore>) -> Self {
        self.rejections = Some(store);
        self
    }

    /// Reads failed deliveries `page` at a time in a bulk recovery, so a
    /// test can cross page boundaries with a few dozen failures.
    pub fn with_recover_page(mut self, page: usize) -> Self {
        self.recover_page = page.max(1);
        self
    }

    /// Carries out one request: each group of operations lives in a module
    /// of its own (`config_changes`, `logs`, `replay`, `secrets`,
    /// `enable`, `filter_test`); this only dispatches.
    pub async fn execute(&self, request: AdminRequest) -> Result<AdminResponse, CoreError> {
        use AdminRequest as R;
        match request {
            R::ListSources => Ok(AdminResponse::Sources(
                self.stores.config.config().await?.sources,
            )),
            R::ListDestinations => Ok(AdminResponse::Destinations(
                self.stores.config.config().await?.destinations,
            )),
            R::ListRoutes => Ok(AdminResponse::Routes(
                self.stores.config.config().await?.routes,
            )),
            R::PullConfig => Ok(AdminResponse::Config(self.stores.config.config().await?)),
            R::AddSource { source } => self.add_source(source).await,
            R::UpdateSource { source } => self.update_source(source).await,
            R::RemoveSource { id } => self.remove_source(id).await,
            R::AddDestination {
                destination,
                allow_private,
            } => self.add_destination(destination, allow_private).await,
            R::UpdateDestination {
                destination,
                allow_private,
            } => self.update_destination(destination, allow_private).await,
            R::RemoveDestination { id } => self.remove_destination(id).await,
            R::AddRoute { route } => self.add_route(route).await,
            R::UpdateRoute { route } => self.update_route(route).await,
            R::RemoveRoute {
                source,
                destination,
            } => self.remove_route(source, destination).await,
            R::PushConfig {
                config,
                allow_private,
            } => self.push_config(config, allow_private).await,
            R::ListEvents {
                source,
                since,
                status,
                limit,
            } => self.list_events(source, since, status, limit).await,
            R::ShowEvent { id } => self.show_event(id).await,
            R::ListAttempts {
                destination,
                failed_only,
                limit,
            } => self.list_attempts(destination, failed_only, limit).await,
            R::Replay { event, destination } => self.replay(event, destination).await,
            R::Recover { destination, since } => self.recover(destination, since).await,
            R::RotateDestinationSecret {
                destination,
                secret,
                grace_secs,
            } => {
                self.rotate_destination_secret(destination, secret, grace_secs)
                    .await
            }
            R::AddSourceSecret { source, secret } => self.add_source_secret(source, secret).await,
            R::RetireSourceSecret { source, secret } => {
                self.retire_source_secret(source, secret).await
            }
            R::SetDestinationEnabled {
                destination,
                enabled,
            } => self.set_enabled(destination, enabled).await,
            R::ListRejections { source, since } => self.list_rejections(source, since).await,
            R::CountDeliveries { destination, state } => {
                self.destination(&destination).await?;
                Ok(AdminResponse::Count(
                    self.stores
                        .deliveries
                        .count_in_state(&destination, state)
                        .await?,
                ))
            }
            R::TestFilter {
                filter,
                source,
                since,
                limit,
            } => self.test_filter(filter, source, since, limit).await,
            R::ListBlockedKeys { destination, limit } => {
                self.blocked_keys(destination, limit).await
            }
            R::UnblockKey {
                destination,
                key,
                action,
            } => self.unblock_key(destination, key, action).await,
        }
    }

    /// Validates the whole configuration as it would be after the change,
    /// then writes the one item: nothing is written if anything is wrong.
    pub(super) async fn write(
        &self,
        after: &Config,
        item: ConfigItem,
    ) -> Result<AdminResponse, CoreError> {
        after.validate().map_err(|e| invalid(e.to_string()))?;
        let what = match &item {
            ConfigItem::Source(s) => format!("source {}", s.id),
            ConfigItem::Destination(d) => format!("destination {}", d.id),
            ConfigItem::Route(r) => format!("route {} -> {}", r.source, r.destination),
        };
        self.writer.put(&item).await?;
        Ok(AdminResponse::Done(format!("saved {what}")))
    }

    pub(super) async fn check_address(
        &self,
        destination: &Destination,
        allow_private: bool,
    ) -> Result<(), CoreError> {
        // An AWS target is reached through the SDK's endpoint for its
        // region, never at an address of the user's choosing.
        if allow_private || !destination.kind.is_http() {
            return Ok(());
        }
        match self.addresses.private_address(&destination.url).await {
            Some(reason) => Err(invalid(format!(
                "destination {}: {reason}; deliveries there are refused unless allowed (--allow-private, for local development)",
                destination.id
            ))),
            None => Ok(()),
        }
    }

    pub(super) async fn destination(&self, id: &DestinationId) -> Result<Destination, CoreError> {
        self.stores
            .config
            .config()
            .await?
            .destination(id)
            .cloned()
            .ok_or_else(|| not_found(format!("no destination {id}")))
    }

    pub(super) fn queue(&self) -> Result<&dyn Queue, CoreError> {
        self.queue.as_deref().ok_or_else(|| {
            invalid("this needs the delivery queue: give --queue-url (or HOOKRELAY_QUEUE_URL)")
        })
    }
}
