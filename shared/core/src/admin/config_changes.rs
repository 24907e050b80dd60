//! Changes to sources, destinations and routes, one item at a time or a
//! whole pushed file: each checked as the whole configuration it would
//! produce before anything is written.
use hookrelay_models::{Config, Destination, DestinationId, Route, Source, SourceId};

use super::{invalid, not_found, Admin, AdminResponse};
use crate::dispatch::resume_destination;
use crate::error::CoreError;
use crate::operational::{Alert, ChangedBy};
use crate::ports::{ConfigItem, ConfigKey};

impl Admin {
    pub(super) async fn add_source(&self, source: Source) -> Result<AdminResponse, CoreError> {
        let mut config = self.stores.config.config().await?;
        if config.source(&source.id).is_some() {
            return Err(CoreError::Conflict(format!(
                "source {} exists; use `sources update`",
                source.id
            )));
        }
        config.sources.push(source.clone());
        self.write(&config, ConfigItem::Source(source)).await
    }

    pub(super) async fn update_source(&self, source: Source) -> Result<AdminResponse, CoreError> {
        let mut config = self.stores.config.config().await?;
        let current = config
            .sources
            .iter_mut()
            .find(|s| s.id == source.id)
            .ok_or_else(|| not_found(format!("no source {}", source.id)))?;
        *current = source.clone();
        self.write(&config, ConfigItem::Source(source)).await
    }

    pub(super) async fn remove_source(&self, id: SourceId) -> Result<AdminResponse, CoreError> {
        let config = self.stores.config.config().await?;
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

    pub(super) async fn add_destination(
        &self,
        destination: Destination,
        allow_private: bool,
    ) -> Result<AdminResponse, CoreError> {
        let mut config = self.stores.config.config().await?;
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

    pub(super) async fn update_destination(
        &self,
        destination: Destination,
        allow_private: bool,
    ) -> Result<AdminResponse, CoreError> {
        let mut config = self.stores.config.config().await?;
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

    pub(super) async fn remove_destination(
        &self,
        id: DestinationId,
    ) -> Result<AdminResponse, CoreError> {
        let config = self.stores.config.config().await?;
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

    pub(super) async fn add_route(&self, route: Route) -> Result<AdminResponse, CoreError> {
        let mut config = self.stores.config.config().await?;
        if find_route(&config, &route.source, &route.destination).is_some() {
            return Err(CoreError::Conflict(format!(
                "route {} -> {} exists; use `routes update`",
                route.source, route.destination
            )));
        }
        config.routes.push(route.clone());
        self.write(&config, ConfigItem::Route(route)).await
    }

    pub(super) async fn update_route(&self, route: Route) -> Result<AdminResponse, CoreError> {
        let mut config = self.stores.config.config().await?;
        let index = find_route(&config, &route.source, &route.destination).ok_or_else(|| {
            not_found(format!(
                "no route {} -> {}",
                route.source, route.destination
            ))
        })?;
        config.routes[index] = route.clone();
        self.write(&config, ConfigItem::Route(route)).await
    }

    pub(super) async fn remove_route(
        &self,
        source: SourceId,
        destination: DestinationId,
    ) -> Result<AdminResponse, CoreError> {
        let config = self.stores.config.config().await?;
        find_route(&config, &source, &destination)
            .ok_or_else(|| not_found(format!("no route {source} -> {destination}")))?;
        self.writer
            .remove(&ConfigKey::Route(source.clone(), destination.clone()))
            .await?;
        Ok(AdminResponse::Done(format!(
            "removed route {source} -> {destination}"
        )))
    }

    pub(super) async fn push_config(
        &self,
        config: Config,
        allow_private: bool,
    ) -> Result<AdminResponse, CoreError> {
        config.validate().map_err(|e| invalid(e.to_string()))?;
        let allow = allow_private || config.allow_private_destinations;
        for destination in &config.destinations {
            self.check_address(destination, allow).await?;
        }
        let before = self.stores.config.config().await?;
        self.writer.replace(&config).await?;
        let mut said = format!(
            "pushed {} sources, {} destinations, {} routes",
            config.sources.len(),
            config.destinations.len(),
            config.routes.len()
        );
        // A destination the file disables that was enabled: told as
        // `destinations disable` tells it.
        for destination in config.destinations.iter().filter(|d| !d.enabled) {
            if before
                .destination(&destination.id)
                .is_some_and(|d| d.enabled)
            {
                self.raise(&Alert::DestinationDisabled {
                    destination: destination.id.clone(),
                    by: ChangedBy::Operator,
                    reason: destination.disabled_reason.clone(),
                })
                .await;
            }
        }
        // A destination the file enables that was disabled: its
        // parked deliveries go out, as on `destinations enable`.
        for destination in config.destinations.iter().filter(|d| d.enabled) {
            let was_disabled = before
                .destination(&destination.id)
                .is_some_and(|d| !d.enabled);
            if !was_disabled {
                continue;
            }
            self.raise(&Alert::DestinationEnabled {
                destination: destination.id.clone(),
                by: ChangedBy::Operator,
            })
            .await;
            match &self.queue {
                Some(queue) => {
                    if resume_destination(
                        &*self.stores.health,
                        &*self.stores.deliveries,
                        &**queue,
                        &destination.id,
                        self.clock.now(),
                    )
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
                    self.stores
                        .health
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
