//! The destinations page and what it changes about ordered destinations'
//! keys.
use hookrelay_core::admin::{AdminRequest, AdminResponse, BlockedKeyView, HeadAction};
use hookrelay_core::CoreError;
use hookrelay_models::{DeliveryState, Destination, Timestamp};
use http::StatusCode;

use super::pages::{self, DestinationView};
use super::{html, Console, Page, CHART_ATTEMPTS};

/// A destination's `auth`: its kind and settings, credentials as
/// fingerprints (or the Secrets Manager secret they name).
pub(super) fn auth_rows(destination: &Destination) -> maud::Markup {
    maud::html! {
        dt { "Authentication" } dd class="auth" {
            @match &destination.auth {
                None => { "none" }
                Some(auth) => {
                    (auth.kind())
                    @for (name, value) in auth.shown_settings() {
                        " · " (name) " " code { (value) }
                    }
                }
            }
        }
    }
}

/// Blocked keys shown per ordered destination.
const BLOCKED_SHOWN: usize = 50;

impl Console {
    pub(super) async fn destinations(&self, csrf: &str) -> Result<Page, CoreError> {
        let AdminResponse::Destinations(destinations) =
            self.execute(AdminRequest::ListDestinations).await?
        else {
            return Err(CoreError::Corrupt(
                "unexpected answer to list destinations".into(),
            ));
        };
        // Counted in the parked index, exactly, without reading events.
        let mut parked = Vec::with_capacity(destinations.len());
        for destination in &destinations {
            match self
                .execute(AdminRequest::CountDeliveries {
                    destination: destination.id.clone(),
                    state: DeliveryState::Parked,
                })
                .await?
            {
                AdminResponse::Count(count) => parked.push(count),
                _ => {
                    return Err(CoreError::Corrupt(
                        "unexpected answer to count deliveries".into(),
                    ))
                }
            }
        }
        let mut attempts = Vec::with_capacity(destinations.len());
        for destination in &destinations {
            match self
                .execute(AdminRequest::ListAttempts {
                    destination: destination.id.clone(),
                    failed_only: false,
                    limit: CHART_ATTEMPTS,
                })
                .await?
            {
                AdminResponse::Attempts(list) => attempts.push(list),
                _ => {
                    return Err(CoreError::Corrupt(
                        "unexpected answer to list attempts".into(),
                    ))
                }
            }
        }
        let mut blocked = Vec::with_capacity(destinations.len());
        for destination in &destinations {
            blocked.push(self.blocked_keys(destination).await?);
        }
        let views: Vec<DestinationView<'_>> = destinations
            .iter()
            .zip(&attempts)
            .zip(parked)
            .zip(blocked)
            .map(
                |(((destination, attempts), parked), blocked)| DestinationView {
                    destination,
                    parked,
                    attempts,
                    blocked,
                },
            )
            .collect();
        Ok(html(
            StatusCode::OK,
            pages::destinations_page(&views, Timestamp::now(), csrf),
        ))
    }

    /// An ordered destination's blocked keys (none for any other).
    async fn blocked_keys(
        &self,
        destination: &Destination,
    ) -> Result<Vec<BlockedKeyView>, CoreError> {
        if destination.ordering.is_none() {
            return Ok(Vec::new());
        }
        match self
            .execute(AdminRequest::ListBlockedKeys {
                destination: destination.id.clone(),
                limit: BLOCKED_SHOWN,
            })
            .await?
        {
            AdminResponse::BlockedKeys(keys) => Ok(keys),
            _ => Err(CoreError::Corrupt(
                "unexpected answer to list blocked keys".into(),
            )),
        }
    }

    /// Skips or releases the head of a blocked key.
    pub(super) async fn unblock(
        &self,
        id: &str,
        key: &str,
        action: &str,
    ) -> Result<String, CoreError> {
        let destination = Self::destination_id(id)?;
        let action = if action == "skip" {
            HeadAction::Skip
        } else {
            HeadAction::Release
        };
        self.execute(AdminRequest::UnblockKey {
            destination,
            key: key.to_string(),
            action,
        })
        .await?;
        Ok("/destinations".into())
    }
}
