//! The event and attempt logs: listings and one event in full.
use hookrelay_models::{Delivery, DeliveryState, DestinationId, EventId, SourceId, Timestamp};
use std::collections::{BTreeSet, HashMap};

use super::{not_found, Admin, AdminResponse, EventDetail, EventSummary, MAX_LIST};
use crate::error::CoreError;
use crate::ports::{EventInfo, ListOrder};
use crate::rejections::hour_of;

impl Admin {
    /// Rejection counts from the hour `since` is in on, per source.
    pub(super) async fn list_rejections(
        &self,
        source: Option<SourceId>,
        since: Timestamp,
    ) -> Result<AdminResponse, CoreError> {
        let Some(store) = &self.rejections else {
            return Ok(AdminResponse::Rejections(Vec::new()));
        };
        let sources = match source {
            Some(source) => vec![source],
            None => self
                .stores
                .config
                .config()
                .await?
                .sources
                .into_iter()
                .map(|s| s.id)
                .collect(),
        };
        let mut counts = Vec::new();
        for source in sources {
            counts.extend(store.rejections(&source, hour_of(since)).await?);
        }
        Ok(AdminResponse::Rejections(counts))
    }

    pub(super) async fn list_events(
        &self,
        source: Option<SourceId>,
        since: Option<Timestamp>,
        status: Option<DeliveryState>,
        limit: usize,
    ) -> Result<AdminResponse, CoreError> {
        let limit = limit.clamp(1, MAX_LIST);
        let config = self.stores.config.config().await?;
        if let Some(source) = &source {
            if config.source(source).is_none() {
                return Err(not_found(format!("no source {source}")));
            }
        }
        let mut events: Vec<EventInfo> = Vec::new();
        // With a status, each event's deliveries are read below anyway.
        let mut deliveries_of: HashMap<EventId, Vec<Delivery>> = HashMap::new();
        match status {
            Some(state) if state.is_indexed() => {
                // The newest of each destination, merged: the newest
                // `limit` overall are among them. With a source filter,
                // others' events are skipped below, so read a wider window.
                let window = if source.is_some() { MAX_LIST } else { limit };
                let mut ids = BTreeSet::new();
                for destination in &config.destinations {
                    ids.extend(
                        self.stores
                            .deliveries
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
                    if let Some(event) = self.stores.events.event_info(id).await? {
                        if source.as_ref().is_none_or(|s| s == &event.source) {
                            events.push(event);
                        }
                    }
                }
            }
            _ => {
                // Pending and succeeded deliveries are not indexed: look
                // through the newest events of each source (at most
                // MAX_LIST of each) for those with a delivery in `state`.
                let sources: Vec<SourceId> = match &source {
                    Some(source) => vec![source.clone()],
                    None => config.sources.iter().map(|s| s.id.clone()).collect(),
                };
                let window = if status.is_some() { MAX_LIST } else { limit };
                for source in &sources {
                    let mut kept = 0;
                    for event in self
                        .stores
                        .events
                        .events_by_source(source, since, window)
                        .await?
                    {
                        if kept >= limit {
                            break;
                        }
                        if let Some(state) = status {
                            let deliveries = self
                                .stores
                                .deliveries
                                .deliveries_for_event(&event.id)
                                .await?;
                            if !deliveries.iter().any(|d| d.state == state) {
                                continue;
                            }
                            deliveries_of.insert(event.id.clone(), deliveries);
                        }
                        kept += 1;
                        events.push(event);
                    }
                }
            }
        }
        events.sort_by(|a, b| b.id.cmp(&a.id));
        events.truncate(limit);
        let mut summaries = Vec::with_capacity(events.len());
        for event in events {
            let deliveries = match deliveries_of.remove(&event.id) {
                Some(deliveries) => deliveries,
                None => {
                    self.stores
                        .deliveries
                        .deliveries_for_event(&event.id)
                        .await?
                }
            };
            summaries.push(EventSummary {
                deliveries,
                id: event.id,
                source: event.source,
                event_type: event.event_type,
                received_at: event.received_at,
                body_bytes: event.body_bytes as usize,
            });
        }
        Ok(AdminResponse::Events(summaries))
    }

    pub(super) async fn show_event(&self, id: EventId) -> Result<AdminResponse, CoreError> {
        let event = self
            .stores
            .events
            .event(&id)
            .await?
            .ok_or_else(|| not_found(format!("no event {id} (or it has expired)")))?;
        let config = self.stores.config.config().await?;
        // Judged on the event as stored, as the dispatcher judges it,
        // before secrets are masked for display.
        let routes = config.explain_routes(&event);
        let source = config.source(&event.source);
        let event = super::masking::mask_secrets(event, source);
        Ok(AdminResponse::Event(Box::new(EventDetail {
            deliveries: self.stores.deliveries.deliveries_for_event(&id).await?,
            attempts: self.stores.deliveries.attempts_for_event(&id).await?,
            event,
            routes,
        })))
    }

    pub(super) async fn list_attempts(
        &self,
        destination: DestinationId,
        failed_only: bool,
        limit: usize,
    ) -> Result<AdminResponse, CoreError> {
        self.destination(&destination).await?;
        let limit = limit.clamp(1, MAX_LIST);
        // Failed ones are picked from a wider window so a mostly
        // healthy destination still shows its failures.
        let window = if failed_only { MAX_LIST * 10 } else { limit };
        let mut attempts = self
            .stores
            .deliveries
            .attempts_for_destination(&destination, window)
            .await?;
        if failed_only {
            attempts.retain(|a| !a.outcome.is_success());
        }
        attempts.truncate(limit);
        Ok(AdminResponse::Attempts(attempts))
    }
}
