//! Trying a route filter on stored events without deploying it (issue 27,
//! `hookrelay routes test`): each event the listing finds is read whole,
//! its envelope built once, and the filter's verdict reported with the
//! first field that failed.
//!
//! Events are matched as stored, as the dispatcher matches them, not as
//! `show_event` masks them for display: a filter on a masked field must be
//! tried on its value. Its answer names only fields of the pattern, never
//! a value.
use hookrelay_models::{route_envelope, EventId, RouteFilter, SourceId, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{invalid, not_found, Admin, AdminResponse, MAX_LIST};
use crate::error::CoreError;

/// How many events a filter test reads when not told: each is one body
/// read (an S3 GET for a large one), so a try stays quick and cheap.
pub const DEFAULT_FILTER_TEST_EVENTS: usize = 100;

/// One stored event, and whether the filter admits it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterTestResult {
    pub id: EventId,
    pub source: SourceId,
    pub event_type: Option<String>,
    pub received_at: Timestamp,
    pub matched: bool,
    /// When not matched: the dotted path of the first field, in the
    /// pattern's order, that failed (`body.total`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_field: Option<String>,
}

impl Admin {
    /// The newest `limit` events (of `source`, or of every source) received
    /// since `since`, newest first, each with the filter's verdict.
    pub(super) async fn test_filter(
        &self,
        filter: Value,
        source: Option<SourceId>,
        since: Option<Timestamp>,
        limit: usize,
    ) -> Result<AdminResponse, CoreError> {
        let filter = RouteFilter::from_value(filter).map_err(invalid)?;
        let limit = limit.clamp(1, MAX_LIST);
        let config = self.stores.config.config().await?;
        let sources = match source {
            Some(source) if config.source(&source).is_none() => {
                return Err(not_found(format!("no source {source}")))
            }
            Some(source) => vec![source],
            None => config.sources.into_iter().map(|s| s.id).collect(),
        };
        // The newest `limit` of each source hold the newest `limit` overall.
        let mut listed = Vec::new();
        for source in &sources {
            listed.extend(
                self.stores
                    .events
                    .events_by_source(source, since, limit)
                    .await?,
            );
        }
        listed.sort_by(|a, b| b.id.cmp(&a.id));
        listed.truncate(limit);
        let mut results = Vec::with_capacity(listed.len());
        for info in listed {
            // Expired since the listing: nothing left to try.
            let Some(event) = self.stores.events.event(&info.id).await? else {
                continue;
            };
            let failed_field = filter.first_mismatch(&route_envelope(&event));
            results.push(FilterTestResult {
                id: event.id,
                source: event.source,
                event_type: event.event_type,
                received_at: event.received_at,
                matched: failed_field.is_none(),
                failed_field,
            });
        }
        Ok(AdminResponse::FilterTest(results))
    }
}
