//! Secret rotation: a destination's signing secret (with a grace period
//! for the old one) and the secrets a source accepts.
use hookrelay_models::{DestinationId, RetiringSecret, SourceId};
use hookrelay_signing::{Secret, SigningKeyKind};
use std::time::Duration;

use super::{invalid, not_found, Admin, AdminResponse};
use crate::error::CoreError;
use crate::ports::ConfigItem;

impl Admin {
    pub(super) async fn rotate_destination_secret(
        &self,
        destination: DestinationId,
        secret: Secret,
        grace_secs: u64,
    ) -> Result<AdminResponse, CoreError> {
        let mut config = self.stores.config.config().await?;
        let now = self.clock.now();
        let current = config
            .destinations
            .iter_mut()
            .find(|d| d.id == destination)
            .ok_or_else(|| not_found(format!("no destination {destination}")))?;
        if current.secret == secret || current.second_secret.as_ref() == Some(&secret) {
            return Err(invalid("the new secret is the current one"));
        }
        // The key of the new one's kind is replaced: the second secret if
        // it is of that kind, else the first (which may so change kind,
        // HMAC to Ed25519 or back, with both signing for the grace).
        let kind = SigningKeyKind::of(secret.expose());
        let slot = match &mut current.second_secret {
            Some(second) if kind.is_some() && SigningKeyKind::of(second.expose()) == kind => second,
            _ => &mut current.secret,
        };
        let previous = std::mem::replace(slot, secret);
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
            format!(
                "rotated the secret of {destination}; the previous one also signs until {until}"
            )
        } else {
            format!("rotated the secret of {destination}; the previous one no longer signs")
        }))
    }

    pub(super) async fn add_source_secret(
        &self,
        source: SourceId,
        secret: Secret,
    ) -> Result<AdminResponse, CoreError> {
        self.change_source_secrets(&source, |secrets| {
            if secrets.contains(&secret) {
                return Err(CoreError::Conflict(format!(
                    "source {source} already has that secret"
                )));
            }
            secrets.push(secret);
            Ok(format!(
                "source {source} now accepts {} secrets",
                secrets.len()
            ))
        })
        .await
    }

    pub(super) async fn retire_source_secret(
        &self,
        source: SourceId,
        secret: Secret,
    ) -> Result<AdminResponse, CoreError> {
        self.change_source_secrets(&source, |secrets| {
            if !secrets.contains(&secret) {
                return Err(not_found(format!("source {source} has no such secret")));
            }
            if secrets.len() == 1 {
                return Err(invalid(format!(
                    "that is the only secret of {source}; add its successor first"
                )));
            }
            secrets.retain(|s| s != &secret);
            Ok(format!("source {source} no longer accepts that secret"))
        })
        .await
    }

    /// Changes a source's secrets with `change` (which says what it did,
    /// or refuses), and writes the source once the whole configuration
    /// still holds.
    async fn change_source_secrets(
        &self,
        source: &SourceId,
        change: impl FnOnce(&mut Vec<Secret>) -> Result<String, CoreError>,
    ) -> Result<AdminResponse, CoreError> {
        let mut config = self.stores.config.config().await?;
        let current = config
            .sources
            .iter_mut()
            .find(|s| &s.id == source)
            .ok_or_else(|| not_found(format!("no source {source}")))?;
        let said = change(&mut current.secrets)?;
        let updated = current.clone();
        self.write(&config, ConfigItem::Source(updated)).await?;
        Ok(AdminResponse::Done(said))
    }
}
