//! Delivery state per (event, destination), and the log of attempts.
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::ids::{DestinationId, EventId};
use crate::time::Timestamp;

/// Where one event stands with one destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for its next attempt.
    Pending,
    /// A 2xx was received.
    Succeeded,
    /// Every attempt of the schedule failed (or the destination refused it
    /// for good); kept for replay.
    Failed,
    /// Held while the destination is disabled; delivered in arrival order
    /// when it is enabled again.
    Parked,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Succeeded => "succeeded",
            DeliveryState::Failed => "failed",
            DeliveryState::Parked => "parked",
        }
    }

    /// Whether deliveries in this state are listed from an index, by
    /// destination: failed ones (for bulk recovery) and parked ones (for
    /// in-order release). Pending and succeeded ones are not (an index
    /// entry costs a write each time a delivery enters or leaves a state);
    /// they are found from their events.
    pub fn is_indexed(self) -> bool {
        matches!(self, DeliveryState::Failed | DeliveryState::Parked)
    }

    /// Whether nothing more will happen without a replay.
    pub fn is_final(self) -> bool {
        matches!(self, DeliveryState::Succeeded | DeliveryState::Failed)
    }
}

impl fmt::Display for DeliveryState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub event_id: EventId,
    pub destination: DestinationId,
    pub state: DeliveryState,
    /// Attempts made in the current series (a replay starts a new series).
    pub attempts: u32,
    /// Replays so far; 0 for the original series.
    #[serde(default)]
    pub series: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_outcome: Option<AttemptOutcome>,
    /// Waits on a destination's `Retry-After` that did not use up an
    /// attempt in this series (bounded, so no destination stalls a
    /// delivery forever).
    #[serde(default)]
    pub deferrals: u32,
    /// While set and in the future, one dispatcher holds this delivery; no
    /// other may attempt it. A crashed holder's lease simply runs out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_until: Option<Timestamp>,
    pub updated_at: Timestamp,
}

impl Delivery {
    pub fn new(event_id: EventId, destination: DestinationId, now: Timestamp) -> Self {
        Delivery {
            event_id,
            destination,
            state: DeliveryState::Pending,
            attempts: 0,
            series: 0,
            next_attempt_at: Some(now),
            last_outcome: None,
            deferrals: 0,
            lease_until: None,
            updated_at: now,
        }
    }

    /// Pending again and due at `now`: a replay (`new_series`: attempts
    /// start over, same `webhook-id`) or a parked delivery released.
    pub fn reopen(&mut self, now: Timestamp, new_series: bool) {
        if new_series {
            self.series += 1;
            self.attempts = 0;
            self.deferrals = 0;
        }
        self.state = DeliveryState::Pending;
        self.next_attempt_at = Some(now);
        self.lease_until = None;
        self.updated_at = now;
    }
}

/// Why an attempt got no HTTP response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptErrorKind {
    /// No response within the destination's timeout.
    Timeout,
    /// The connection could not be made or was closed early.
    Connect,
    /// The destination's address is private, loopback, link-local, … and
    /// the configuration does not allow it. Not retried.
    RefusedAddress,
    /// The host name did not resolve.
    Dns,
    /// TLS handshake or certificate failure.
    Tls,
    /// Anything else on the wire.
    Io,
    /// The target can never take this delivery as it is: a body over an
    /// AWS target's limit with `oversize = "fail"`, or an EventBridge entry
    /// refused for what it holds (`MalformedDetail`, `InvalidArgument`).
    /// Not retried; the response says why.
    Undeliverable,
    /// No request was made: the relay could not get or make the
    /// credentials of the destination's `auth` (its token endpoint failed
    /// or refused, a Secrets Manager secret could not be read, a key did
    /// not parse). Retried like any failure; the response says why.
    Auth,
    /// No request was made: an operator skipped this delivery, which
    /// headed its key at an ordered destination, so the key's later events
    /// could go. Failed for good; replayable.
    Skipped,
}

impl AttemptErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptErrorKind::Timeout => "timeout",
            AttemptErrorKind::Connect => "connect",
            AttemptErrorKind::RefusedAddress => "refused_address",
            AttemptErrorKind::Dns => "dns",
            AttemptErrorKind::Tls => "tls",
            AttemptErrorKind::Io => "io",
            AttemptErrorKind::Undeliverable => "undeliverable",
            AttemptErrorKind::Auth => "auth",
            AttemptErrorKind::Skipped => "skipped",
        }
    }
}

/// What one attempt came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AttemptOutcome {
    Response { status: u16 },
    Error { error: AttemptErrorKind },
}

impl AttemptOutcome {
    /// Success is any 2xx; redirects are not followed and count as failure.
    pub fn is_success(self) -> bool {
        matches!(self, AttemptOutcome::Response { status } if (200..300).contains(&status))
    }
}

impl fmt::Display for AttemptOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttemptOutcome::Response { status } => write!(f, "HTTP {status}"),
            AttemptOutcome::Error { error } => f.write_str(error.as_str()),
        }
    }
}

/// One HTTP attempt to deliver an event to a destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    pub event_id: EventId,
    pub destination: DestinationId,
    /// 1-based within its series.
    pub number: u32,
    #[serde(default)]
    pub series: u32,
    pub started_at: Timestamp,
    pub duration_ms: u64,
    pub outcome: AttemptOutcome,
    /// The start of the response body, lossily decoded, capped in size.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub response_body: String,
    #[serde(default)]
    pub response_truncated: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_2xx_is_success() {
        for (status, ok) in [
            (200, true),
            (204, true),
            (299, true),
            (301, false),
            (410, false),
            (500, false),
        ] {
            assert_eq!(
                AttemptOutcome::Response { status }.is_success(),
                ok,
                "{status}"
            );
        }
        assert!(!AttemptOutcome::Error {
            error: AttemptErrorKind::Timeout
        }
        .is_success());
    }

    #[test]
    fn outcomes_serialize_with_a_kind_tag() {
        let json = serde_json::to_string(&AttemptOutcome::Error {
            error: AttemptErrorKind::RefusedAddress,
        })
        .unwrap();
        assert_eq!(json, r#"{"kind":"error","error":"refused_address"}"#);
        let back: AttemptOutcome =
            serde_json::from_str(r#"{"kind":"response","status":503}"#).unwrap();
        assert_eq!(back, AttemptOutcome::Response { status: 503 });
    }

    #[test]
    fn final_states_are_succeeded_and_failed() {
        assert!(DeliveryState::Succeeded.is_final());
        assert!(DeliveryState::Failed.is_final());
        assert!(!DeliveryState::Pending.is_final());
        assert!(!DeliveryState::Parked.is_final());
    }
}
