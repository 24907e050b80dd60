//! A short-lived cache in front of a config store, so a warm Lambda does
//! not read its configuration from DynamoDB on every request. Changes (a rotated
//! secret, a new source) take effect within the cache's lifetime.
use async_trait::async_trait;
use hookrelay_models::{Config, Event, Source, SourceId, Timestamp};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::CoreError;
use crate::lanes::LaneId;
use crate::ports::{Clock, ConfigStore};

type Entry = (Timestamp, Option<Source>);

pub struct CachedConfigStore {
    inner: Arc<dyn ConfigStore>,
    clock: Arc<dyn Clock>,
    ttl: Duration,
    sources: Mutex<HashMap<SourceId, Entry>>,
    config: Mutex<Option<(Timestamp, Config)>>,
}

/// Unknown source ids are cached too (as absent), but only this many
/// entries are kept, so a flood of made-up ids cannot grow memory.
const MAX_ENTRIES: usize = 1024;

impl CachedConfigStore {
    pub fn new(inner: Arc<dyn ConfigStore>, clock: Arc<dyn Clock>, ttl: Duration) -> Self {
        CachedConfigStore {
            inner,
            clock,
            ttl,
            sources: Mutex::new(HashMap::new()),
            config: Mutex::new(None),
        }
    }
}

#[async_trait]
impl ConfigStore for CachedConfigStore {
    async fn source(&self, id: &SourceId) -> Result<Option<Source>, CoreError> {
        let now = self.clock.now();
        if let Some((fetched_at, source)) = self
            .sources
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
        {
            if now.since(*fetched_at) < self.ttl {
                return Ok(source.clone());
            }
        }
        let source = self.inner.source(id).await?;
        let mut cache = self.sources.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= MAX_ENTRIES {
            cache.clear();
        }
        cache.insert(id.clone(), (now, source.clone()));
        Ok(source)
    }

    async fn config(&self) -> Result<Config, CoreError> {
        let now = self.clock.now();
        if let Some((fetched_at, config)) = self
            .config
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            if now.since(*fetched_at) < self.ttl {
                return Ok(config.clone());
            }
        }
        let config = self.inner.config().await?;
        *self.config.lock().unwrap_or_else(|e| e.into_inner()) = Some((now, config.clone()));
        Ok(config)
    }

    /// Worked out on the cached configuration, without copying it: the
    /// receiver asks for every event.
    async fn lanes_for(&self, event: &Event) -> Result<Vec<LaneId>, CoreError> {
        {
            let cached = self.config.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((fetched_at, config)) = cached.as_ref() {
                if self.clock.now().since(*fetched_at) < self.ttl {
                    return Ok(crate::lanes::lanes_for(config, event));
                }
            }
        }
        Ok(crate::lanes::lanes_for(&self.config().await?, event))
    }

    async fn fresh_destination(
        &self,
        id: &hookrelay_models::DestinationId,
    ) -> Result<Option<hookrelay_models::Destination>, CoreError> {
        let fresh = self.inner.fresh_destination(id).await?;
        let mut cached = self.config.lock().unwrap_or_else(|e| e.into_inner());
        let stale = cached
            .as_ref()
            .is_some_and(|(_, config)| config.destination(id) != fresh.as_ref());
        if stale {
            // Someone changed it: read everything afresh next time.
            *cached = None;
        }
        Ok(fresh)
    }

    async fn set_destination_enabled(
        &self,
        id: &hookrelay_models::DestinationId,
        enabled: bool,
        reason: Option<String>,
    ) -> Result<(), CoreError> {
        self.inner
            .set_destination_enabled(id, enabled, reason)
            .await?;
        // The next read must see the change.
        *self.config.lock().unwrap_or_else(|e| e.into_inner()) = None;
        Ok(())
    }
}
