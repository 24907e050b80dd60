//! Rejection counts in memory, for `hookrelay dev`'s console.
use async_trait::async_trait;
use hookrelay_core::{CoreError, RejectionCount, RejectionStore};
use hookrelay_models::{SourceId, Timestamp};

use super::MemoryStore;

#[async_trait]
impl RejectionStore for MemoryStore {
    async fn add_rejections(
        &self,
        source: &SourceId,
        hour: Timestamp,
        counts: &[(&'static str, u64)],
    ) -> Result<(), CoreError> {
        self.check()?;
        let mut state = self.lock();
        for (reason, count) in counts {
            *state
                .rejections
                .entry((source.clone(), hour.unix_millis(), reason.to_string()))
                .or_default() += count;
        }
        Ok(())
    }

    async fn rejections(
        &self,
        source: &SourceId,
        since: Timestamp,
    ) -> Result<Vec<RejectionCount>, CoreError> {
        self.check()?;
        let state = self.lock();
        Ok(state
            .rejections
            .range((source.clone(), since.unix_millis(), String::new())..)
            .take_while(|((s, _, _), _)| s == source)
            .map(|((source, hour, reason), count)| RejectionCount {
                source: source.clone(),
                hour: Timestamp::from_unix_millis(*hour),
                reason: reason.clone(),
                count: *count,
            })
            .collect())
    }
}
