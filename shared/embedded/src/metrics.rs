//! Metrics counted in memory, for the local stack and tests.
use hookrelay_core::{Metric, Metrics};
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Default)]
pub struct MemoryMetrics {
    counts: Mutex<HashMap<String, u64>>,
}

impl MemoryMetrics {
    /// How many times `name` was recorded (`Rejected:unauthenticated` for
    /// a rejection with its reason, `Rejected` for all of them).
    pub fn count(&self, name: &str) -> u64 {
        self.counts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .copied()
            .unwrap_or(0)
    }
}

impl Metrics for MemoryMetrics {
    fn record(&self, metric: Metric) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        *counts.entry(metric.name().to_string()).or_default() += 1;
        if let Metric::Rejected(reason) = metric {
            *counts.entry(format!("Rejected:{reason}")).or_default() += 1;
        }
    }
}
