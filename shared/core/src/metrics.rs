//! What the use cases count. The Lambdas write these as CloudWatch
//! Embedded Metric Format lines (see `hookrelay-aws`), which the SAM
//! template's alarms watch; the local stack and tests count in memory.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Accepted, stored and queued for the first time.
    Received,
    /// A provider handshake (Slack's url_verification, Zoom's
    /// url_validation, Twitch's challenge) answered; nothing stored.
    Handshake,
    /// Refused; the reason is `unknown_source`, `unauthenticated`,
    /// `malformed` or `too_large`.
    Rejected(&'static str),
    /// A repeat of a provider delivery within the dedupe window.
    Duplicate,
    /// Put on the queue for the dispatcher.
    Enqueued,
    /// A 2xx from a destination, `latency_ms` after the event arrived.
    Delivered {
        latency_ms: u64,
    },
    /// A delivery that used up its attempts (or was refused for good).
    DeliveryFailed,
    RetryScheduled,
    /// The store or queue could not be reached.
    Unavailable,
    /// A destination was disabled automatically after failing throughout
    /// the configured period.
    DestinationDisabled,
}

impl Metric {
    pub fn name(self) -> &'static str {
        match self {
            Metric::Received => "Received",
            Metric::Handshake => "Handshake",
            Metric::DestinationDisabled => "DestinationDisabled",
            Metric::Rejected(_) => "Rejected",
            Metric::Duplicate => "Duplicate",
            Metric::Enqueued => "Enqueued",
            Metric::Delivered { .. } => "Delivered",
            Metric::DeliveryFailed => "DeliveryFailed",
            Metric::RetryScheduled => "RetryScheduled",
            Metric::Unavailable => "Unavailable",
        }
    }
}

pub trait Metrics: Send + Sync {
    fn record(&self, metric: Metric);
}

/// Counts nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoMetrics;

impl Metrics for NoMetrics {
    fn record(&self, _metric: Metric) {}
}
