//! Destinations' pace in memory: the same rule as every store
//! ([`SlotRequest::apply`]), under the store's lock.
use async_trait::async_trait;
use hookrelay_core::pace::{DestinationPace, SlotGrant, SlotRequest};
use hookrelay_core::CoreError;
use hookrelay_models::{DestinationId, Timestamp};

use super::MemoryStore;

#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Paced {
    next: Option<Timestamp>,
    paused_until: Option<Timestamp>,
}

#[async_trait]
impl DestinationPace for MemoryStore {
    async fn take_slots(
        &self,
        destination: &DestinationId,
        request: SlotRequest,
    ) -> Result<SlotGrant, CoreError> {
        self.check()?;
        let mut state = self.lock();
        let paced = state.paces.entry(destination.clone()).or_default();
        let (grant, next) = request.apply(paced.next);
        paced.next = next;
        Ok(grant)
    }

    async fn pause(&self, destination: &DestinationId, until: Timestamp) -> Result<(), CoreError> {
        self.check()?;
        let mut state = self.lock();
        let paced = state.paces.entry(destination.clone()).or_default();
        paced.paused_until = paced.paused_until.max(Some(until));
        paced.next = paced.next.max(Some(until));
        Ok(())
    }

    async fn paused_until(
        &self,
        destination: &DestinationId,
    ) -> Result<Option<Timestamp>, CoreError> {
        self.check()?;
        Ok(self
            .lock()
            .paces
            .get(destination)
            .and_then(|paced| paced.paused_until))
    }
}
