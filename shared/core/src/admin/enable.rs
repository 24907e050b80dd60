//! Enabling and disabling destinations; enabling releases what was parked.
use hookrelay_models::DestinationId;

use super::{Admin, AdminResponse};
use crate::dispatch::resume_destination;
use crate::error::CoreError;
use crate::operational::{Alert, ChangedBy};

impl Admin {
    pub(super) async fn set_enabled(
        &self,
        destination: DestinationId,
        enabled: bool,
    ) -> Result<AdminResponse, CoreError> {
        let current = self.destination(&destination).await?;
        if !enabled {
            let reason = format!("disabled by hand at {}", self.clock.now());
            self.stores
                .config
                .set_destination_enabled(&destination, false, Some(reason.clone()))
                .await?;
            if current.enabled {
                self.raise(&Alert::DestinationDisabled {
                    destination: destination.clone(),
                    by: ChangedBy::Operator,
                    reason: Some(reason),
                })
                .await;
            }
            return Ok(AdminResponse::Done(format!(
                "disabled {destination}; its deliveries are parked until it is enabled"
            )));
        }
        let queue = self.queue()?;
        self.stores
            .config
            .set_destination_enabled(&destination, true, None)
            .await?;
        let released = resume_destination(
            &*self.stores.health,
            &*self.stores.deliveries,
            queue,
            &destination,
            self.clock.now(),
        )
        .await?;
        if !current.enabled {
            self.raise(&Alert::DestinationEnabled {
                destination: destination.clone(),
                by: ChangedBy::Operator,
            })
            .await;
        }
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
