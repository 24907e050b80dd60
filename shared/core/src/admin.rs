//! Admin: the operator's use case, behind `hookrelay`'s admin subcommands.
//! Configuration writes validated before anything is written, the event
//! and attempt logs, replay and bulk recovery, secret rotation, and
//! enabling or disabling destinations.
//!
//! Requests and answers are plain data ([`AdminRequest`], [`AdminResponse`])
//! so the CLI can run them in process against DynamoDB or send them to a
//! running `hookrelay dev`, which runs them against its in-memory store:
//! one implementation either way.
use async_trait::async_trait;
use hookrelay_models::{
    Attempt, Config, Delivery, DeliveryState, Destination, DestinationId, Event, EventId,
    RetiringSecret, Route, Source, SourceId, Timestamp,
};
use hookrelay_signing::Secret;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use crate::dispatch::resume_destination;
use crate::error::CoreError;
use crate::ports::{
    Clock, ConfigItem, ConfigKey, ConfigStore, ConfigWriter, DeliveryStore, EventStore, ListOrder,
    Queue, QueueMessage,
};

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
    Done(String),
}

pub struct Admin {
    config: Arc<dyn ConfigStore>,
    writer: Arc<dyn ConfigWriter>,
    events: Arc<dyn EventStore>,
    deliveries: Arc<dyn DeliveryStore>,
    /// Replays and releases need it; without one they are refused.
    queue: Option<Arc<dyn Queue>>,
    clock: Arc<dyn Clock>,
    addresses: Arc<dyn AddressCheck>,
}

fn invalid(message: impl Into<String>) -> CoreError {
    CoreError::Invalid(message.into())
}

fn not_found(message: impl Into<String>) -> CoreError {
    CoreError::NotFound(message.into())
}

impl Admin {
    pub fn new(
        config: Arc<dyn ConfigStore>,
        writer: Arc<dyn ConfigWriter>,
        events: Arc<dyn EventStore>,
        deliveries: Arc<dyn DeliveryStore>,
        queue: Option<Arc<dyn Queue>>,
        clock: Arc<dyn Clock>,
        addresses: Arc<dyn AddressCheck>,
    ) -> Self {
        Admin {
            config,
            writer,
            events,
            deliveries,
            queue,
            clock,
            addresses,
        }
    }

    pub async fn execute(&self, request: AdminRequest) -> Result<AdminResponse, CoreError> {
        use AdminRequest as R;
        match request {
            R::ListSources => Ok(AdminResponse::Sources(self.config.config().await?.sources)),
            R::ListDestinations => Ok(AdminResponse::Destinations(
                self.config.config().await?.destinations,
            )),
            R::ListRoutes => Ok(AdminResponse::Routes(self.config.config().await?.routes)),
            R::PullConfig => Ok(AdminResponse::Config(self.config.config().await?)),
            R::AddSource { source } => {
                let mut config = self.config.config().await?;
                if config.source(&source.id).is_some() {
                    return Err(CoreError::Conflict(format!(
                        "source {} exists; use `sources update`",
                        source.id
                    )));
                }
                config.sources.push(source.clone());
                self.write(&config, ConfigItem::Source(source)).await
            }
            R::UpdateSource { source } => {
                let mut config = self.config.config().await?;
                let current = config
                    .sources
                    .iter_mut()
                    .find(|s| s.id == source.id)
                    .ok_or_else(|| not_found(format!("no source {}", source.id)))?;
                *current = source.clone();
                self.write(&config, ConfigItem::Source(source)).await
            }
            R::RemoveSource { id } => {
                let config = self.config.config().await?;
                config
                    .source(&id)
                    .ok_or_else(|| not_found(format!("no source {id}")))?;
                unless_routed(
                    format!("source {id} still routes to"),
                    config
                        .routes
                        .iter()
                        .filter(|r| r.source == id)
                        .map(|r| r.destination.to_string()),
                )?;
                self.writer.remove(&ConfigKey::Source(id.clone())).await?;
                Ok(AdminResponse::Done(format!("removed source {id}")))
            }
            R::AddDestination {
                destination,
                allow_private,
            } => {
                let mut config = self.config.config().await?;
                if config.destination(&destination.id).is_some() {
                    return Err(CoreError::Conflict(format!(
                        "destination {} exists; use `destinations update`",
                        destination.id
                    )));
                }
                self.check_address(&destination, allow_private).await?;
                config.destinations.push(destination.clone());
                self.write(&config, ConfigItem::Destination(destination))
                    .await
            }
            R::UpdateDestination {
                destination,
                allow_private,
            } => {
                let mut config = self.config.config().await?;
                let current = config
                    .destinations
                    .iter_mut()
                    .find(|d| d.id == destination.id)
                    .ok_or_else(|| not_found(format!("no destination {}", destination.id)))?;
                // A URL accepted once (with the allow flag) is not judged
                // again when something else changes.
                if current.url != destination.url {
                    self.check_address(&destination, allow_private).await?;
                }
                *current = destination.clone();
                self.write(&config, ConfigItem::Destination(destination))
                    .await
            }
            R::RemoveDestination { id } => {
                let config = self.config.config().await?;
                config
                    .destination(&id)
                    .ok_or_else(|| not_found(format!("no destination {id}")))?;
                unless_routed(
                    format!("destination {id} is still routed to from"),
                    config
                        .routes
                        .iter()
                        .filter(|r| r.destination == id)
                        .map(|r| r.source.to_string()),
                )?;
                self.writer
                    .remove(&ConfigKey::Destination(id.clone()))
                    .await?;
                Ok(AdminResponse::Done(format!("removed destination {id}")))
            }
            R::AddRoute { route } => {
                let mut config = self.config.config().await?;
                if find_route(&config, &route.source, &route.destination).is_some() {
                    return Err(CoreError::Conflict(format!(
                        "route {} -> {} exists; use `routes update`",
                        route.source, route.destination
                    )));
                }
                config.routes.push(route.clone());
                self.write(&config, ConfigItem::Route(route)).await
            }
            R::UpdateRoute { route } => {
                let mut config = self.config.config().await?;
                let index =
                    find_route(&config, &route.source, &route.destination).ok_or_else(|| {
                        not_found(format!(
                            "no route {} -> {}",
                            route.source, route.destination
                        ))
                    })?;
                config.routes[index] = route.clone();
                self.write(&config, ConfigItem::Route(route)).await
            }
            R::RemoveRoute {
                source,
                destination,
            } => {
                let config = self.config.config().await?;
                find_route(&config, &source, &destination)
                    .ok_or_else(|| not_found(format!("no route {source} -> {destination}")))?;
                self.writer
                    .remove(&ConfigKey::Route(source.clone(), destination.clone()))
                    .await?;
                Ok(AdminResponse::Done(format!(
                    "removed route {source} -> {destination}"
                )))
            }
            R::PushConfig {
                config,
                allow_private,
            } => {
                config.validate().map_err(|e| invalid(e.to_string()))?;
                let allow = allow_private || config.allow_private_destinations;
                for destination in &config.destinations {
                    self.check_address(destination, allow).await?;
                }
                let before = self.config.config().await?;
                self.writer.replace(&config).await?;
                let mut said = format!(
                    "pushed {} sources, {} destinations, {} routes",
                    config.sources.len(),
                    config.destinations.len(),
                    config.routes.len()
                );
                // A destination the file enables that was disabled: its
                // parked deliveries go out, as on `destinations enable`.
                for destination in config.destinations.iter().filter(|d| d.enabled) {
                    let was_disabled = before
                        .destination(&destination.id)
                        .is_some_and(|d| !d.enabled);
                    if !was_disabled {
                        continue;
                    }
                    match &self.queue {
                        Some(queue) => {
                            if resume_destination(&*self.deliveries, &**queue, &destination.id)
                                .await?
                                .is_some()
                            {
                                said.push_str(&format!(
                                    "; {} enabled again, releasing its parked deliveries",
                                    destination.id
                                ));
                            }
                        }
                        None => {
                            self.deliveries
                                .set_failing_since(&destination.id, None)
                                .await?;
                            said.push_str(&format!(
                                "; {} enabled again: run `destinations enable {}` with the queue to release its parked deliveries",
                                destination.id, destination.id
                            ))
                        }
                    }
                }
                Ok(AdminResponse::Done(said))
            }
            R::ListEvents {
                source,
                since,
                status,
                limit,
            } => self.list_events(source, since, status, limit).await,
            R::ShowEvent { id } => {
                let event = self
                    .events
                    .event(&id)
                    .await?
                    .ok_or_else(|| not_found(format!("no event {id} (or it has expired)")))?;
                Ok(AdminResponse::Event(Box::new(EventDetail {
                    deliveries: self.deliveries.deliveries_for_event(&id).await?,
                    attempts: self.deliveries.attempts_for_event(&id).await?,
                    event,
                })))
            }
            R::ListAttempts {
                destination,
                failed_only,
                limit,
            } => {
                self.destination(&destination).await?;
                let limit = limit.clamp(1, MAX_LIST);
                // Failed ones are picked from a wider window so a mostly
                // healthy destination still shows its failures.
                let window = if failed_only { MAX_LIST * 10 } else { limit };
                let mut attempts = self
                    .deliveries
                    .attempts_for_destination(&destination, window)
                    .await?;
                if failed_only {
                    attempts.retain(|a| !a.outcome.is_success());
                }
                attempts.truncate(limit);
                Ok(AdminResponse::Attempts(attempts))
            }
            R::Replay { event, destination } => self.replay(event, destination).await,
            R::Recover { destination, since } => self.recover(destination, since).await,
            R::RotateDestinationSecret {
                destination,
                secret,
                grace_secs,
            } => {
                let mut config = self.config.config().await?;
                let now = self.clock.now();
                let current = config
                    .destinations
                    .iter_mut()
                    .find(|d| d.id == destination)
                    .ok_or_else(|| not_found(format!("no destination {destination}")))?;
                if current.secret == secret {
                    return Err(invalid("the new secret is the current one"));
                }
                let previous = std::mem::replace(&mut current.secret, secret);
                current.retiring_secrets.retain(|r| r.expires_at > now);
                let until = now.saturating_add(Duration::from_secs(grace_secs));
                if grace_secs > 0 {
                    current.retiring_secrets.push(RetiringSecret {
                        secret: previous,
                        expires_at: until,
                    });
                }
                let updated = current.clone();
                self.write(&config, ConfigItem::Destination(updated))
                    .await?;
                Ok(AdminResponse::Done(if grace_secs > 0 {
                    format!("rotated the secret of {destination}; the previous one also signs until {until}")
                } else {
                    format!("rotated the secret of {destination}; the previous one no longer signs")
                }))
            }
            R::AddSourceSecret { source, secret } => {
                let mut config = self.config.config().await?;
                let current = config
                    .sources
                    .iter_mut()
                    .find(|s| s.id == source)
                    .ok_or_else(|| not_found(format!("no source {source}")))?;
                if current.secrets.contains(&secret) {
                    return Err(CoreError::Conflict(format!(
                        "source {source} already has that secret"
                    )));
                }
                current.secrets.push(secret);
                let count = current.secrets.len();
                let updated = current.clone();
                self.write(&config, ConfigItem::Source(updated)).await?;
                Ok(AdminResponse::Done(format!(
                    "source {source} now accepts {count} secrets"
                )))
            }
            R::RetireSourceSecret { source, secret } => {
                let mut config = self.config.config().await?;
                let current = config
                    .sources
                    .iter_mut()
                    .find(|s| s.id == source)
                    .ok_or_else(|| not_found(format!("no source {source}")))?;
                if !current.secrets.contains(&secret) {
                    return Err(not_found(format!("source {source} has no such secret")));
                }
                if current.secrets.len() == 1 {
                    return Err(invalid(format!(
                        "that is the only secret of {source}; add its successor first"
                    )));
                }
                current.secrets.retain(|s| s != &secret);
                let updated = current.clone();
                self.write(&config, ConfigItem::Source(updated)).await?;
                Ok(AdminResponse::Done(format!(
                    "source {source} no longer accepts that secret"
                )))
            }
            R::SetDestinationEnabled {
                destination,
                enabled,
            } => self.set_enabled(destination, enabled).await,
        }
    }

    /// Validates the whole configuration as it would be after the change,
    /// then writes the one item: nothing is written if anything is wrong.
    async fn write(&self, after: &Config, item: ConfigItem) -> Result<AdminResponse, CoreError> {
        after.validate().map_err(|e| invalid(e.to_string()))?;
        let what = match &item {
            ConfigItem::Source(s) => format!("source {}", s.id),
            ConfigItem::Destination(d) => format!("destination {}", d.id),
            ConfigItem::Route(r) => format!("route {} -> {}", r.source, r.destination),
        };
        self.writer.put(&item).await?;
        Ok(AdminResponse::Done(format!("saved {what}")))
    }

    async fn check_address(
        &self,
        destination: &Destination,
        allow_private: bool,
    ) -> Result<(), CoreError> {
        if allow_private {
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

    async fn destination(&self, id: &DestinationId) -> Result<Destination, CoreError> {
        self.config
            .config()
            .await?
            .destination(id)
            .cloned()
            .ok_or_else(|| not_found(format!("no destination {id}")))
    }

    fn queue(&self) -> Result<&dyn Queue, CoreError> {
        self.queue.as_deref().ok_or_else(|| {
            invalid("this needs the delivery queue: give --queue-url (or HOOKRELAY_QUEUE_URL)")
        })
    }

    async fn list_events(
        &self,
        source: Option<SourceId>,
        since: Option<Timestamp>,
        status: Option<DeliveryState>,
        limit: usize,
    ) -> Result<AdminResponse, CoreError> {
        let limit = limit.clamp(1, MAX_LIST);
        let config = self.config.config().await?;
        if let Some(source) = &source {
            if config.source(source).is_none() {
                return Err(not_found(format!("no source {source}")));
            }
        }
        let mut events: Vec<Event> = Vec::new();
        match status {
            None => {
                let sources: Vec<SourceId> = match &source {
                    Some(source) => vec![source.clone()],
                    None => config.sources.iter().map(|s| s.id.clone()).collect(),
                };
                for source in &sources {
                    events.extend(self.events.events_by_source(source, since, limit).await?);
                }
            }
            Some(state) => {
                // The newest of each destination, merged: the newest
                // `limit` overall are among them. With a source filter,
                // others' events are skipped below, so read a wider window.
                let window = if source.is_some() { MAX_LIST } else { limit };
                let mut ids = BTreeSet::new();
                for destination in &config.destinations {
                    ids.extend(
                        self.deliveries
                            .deliveries_in_state(
                                &destination.id,
                                state,
                                since,
                                ListOrder::NewestFirst,
                                window,
                            )
                            .await?,
                    );
                }
                // Newest first, like the unfiltered listing.
                for id in ids.iter().rev() {
                    if events.len() >= limit {
                        break;
                    }
                    if let Some(event) = self.events.event(id).await? {
                        if source.as_ref().is_none_or(|s| s == &event.source) {
                            events.push(event);
                        }
                    }
                }
            }
        }
        events.sort_by(|a, b| b.id.cmp(&a.id));
        events.truncate(limit);
        let mut summaries = Vec::with_capacity(events.len());
        for event in events {
            summaries.push(EventSummary {
                deliveries: self.deliveries.deliveries_for_event(&event.id).await?,
                id: event.id,
                source: event.source,
                event_type: event.event_type,
                received_at: event.received_at,
                body_bytes: event.body.len(),
            });
        }
        Ok(AdminResponse::Events(summaries))
    }

    /// Sends an event again, to one destination or to all it was delivered
    /// to: each delivery starts a new attempt series with the same
    /// `webhook-id`, so receivers that deduplicate see one event.
    async fn replay(
        &self,
        event: EventId,
        destination: Option<DestinationId>,
    ) -> Result<AdminResponse, CoreError> {
        let queue = self.queue()?;
        if self.events.event(&event).await?.is_none() {
            return Err(not_found(format!("no event {event} (or it has expired)")));
        }
        let targets: Vec<DestinationId> = match &destination {
            Some(id) => {
                self.destination(id).await?;
                vec![id.clone()]
            }
            None => self
                .deliveries
                .deliveries_for_event(&event)
                .await?
                .into_iter()
                .map(|d| d.destination)
                .collect(),
        };
        if targets.is_empty() {
            queue
                .enqueue(&QueueMessage::fan_out(event.clone()), Duration::ZERO)
                .await?;
            return Ok(AdminResponse::Replayed(vec![Replayed {
                event,
                destination: None,
                previous_state: None,
            }]));
        }
        let mut replayed = Vec::new();
        for target in targets {
            replayed.push(self.replay_one(queue, &event, &target).await?);
        }
        Ok(AdminResponse::Replayed(replayed))
    }

    async fn replay_one(
        &self,
        queue: &dyn Queue,
        event: &EventId,
        destination: &DestinationId,
    ) -> Result<Replayed, CoreError> {
        let previous = self.deliveries.delivery(event, destination).await?;
        self.deliveries
            .reopen(event, destination, self.clock.now(), true)
            .await?;
        // Queued whatever reopen said: a pending delivery whose message was
        // lost is picked up again; the claim keeps a duplicate harmless.
        queue
            .enqueue(
                &QueueMessage::delivery(event.clone(), destination.clone()),
                Duration::ZERO,
            )
            .await?;
        Ok(Replayed {
            event: event.clone(),
            destination: Some(destination.clone()),
            previous_state: previous.map(|d| d.state),
        })
    }

    /// Replays every failed delivery to `destination` of events received
    /// since `since`, oldest first.
    async fn recover(
        &self,
        destination: DestinationId,
        since: Option<Timestamp>,
    ) -> Result<AdminResponse, CoreError> {
        let queue = self.queue()?;
        self.destination(&destination).await?;
        const PAGE: usize = 500;
        let mut replayed = Vec::new();
        let mut seen = BTreeSet::new();
        let mut from = since;
        loop {
            let page = self
                .deliveries
                .deliveries_in_state(
                    &destination,
                    DeliveryState::Failed,
                    from,
                    ListOrder::OldestFirst,
                    PAGE,
                )
                .await?;
            let full = page.len() == PAGE;
            let last = page.last().map(EventId::timestamp);
            // Replayed deliveries leave the failed list, but an index that
            // lags may still show them: skip what was seen.
            let fresh: Vec<EventId> = page
                .into_iter()
                .filter(|id| seen.insert(id.clone()))
                .collect();
            let progressed = !fresh.is_empty();
            for event in fresh {
                let now = self.clock.now();
                if self
                    .deliveries
                    .reopen(&event, &destination, now, true)
                    .await?
                {
                    queue
                        .enqueue(
                            &QueueMessage::delivery(event.clone(), destination.clone()),
                            Duration::ZERO,
                        )
                        .await?;
                    replayed.push(Replayed {
                        event,
                        destination: Some(destination.clone()),
                        previous_state: Some(DeliveryState::Failed),
                    });
                }
            }
            if !full || !progressed || replayed.len() >= MAX_RECOVER {
                break;
            }
            // The next page starts at the last one's millisecond (ids of
            // that millisecond seen already are skipped above).
            from = last;
        }
        Ok(AdminResponse::Replayed(replayed))
    }

    async fn set_enabled(
        &self,
        destination: DestinationId,
        enabled: bool,
    ) -> Result<AdminResponse, CoreError> {
        let current = self.destination(&destination).await?;
        if !enabled {
            let reason = format!("disabled by hand at {}", self.clock.now());
            self.config
                .set_destination_enabled(&destination, false, Some(reason))
                .await?;
            return Ok(AdminResponse::Done(format!(
                "disabled {destination}; its deliveries are parked until it is enabled"
            )));
        }
        let queue = self.queue()?;
        self.config
            .set_destination_enabled(&destination, true, None)
            .await?;
        let released = resume_destination(&*self.deliveries, queue, &destination).await?;
        let was = if current.enabled {
            "was already enabled"
        } else {
            "enabled"
        };
        Ok(AdminResponse::Done(match released {
            Some(_) => {
                format!("{destination} {was}; releasing its parked deliveries in arrival order")
            }
            None => format!("{destination} {was}; nothing was parked"),
        }))
    }
}

/// A removal refused while routes still use the thing: `partners` names
/// the other ends of those routes.
fn unless_routed(what: String, partners: impl Iterator<Item = String>) -> Result<(), CoreError> {
    let partners: Vec<String> = partners.collect();
    if partners.is_empty() {
        return Ok(());
    }
    Err(CoreError::Conflict(format!(
        "{what} {}; remove those routes first",
        partners.join(", ")
    )))
}

fn find_route(config: &Config, source: &SourceId, destination: &DestinationId) -> Option<usize> {
    config
        .routes
        .iter()
        .position(|r| &r.source == source && &r.destination == destination)
}
