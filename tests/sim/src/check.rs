//! The invariants, checked once a run has settled. Each violation names
//! the invariant it breaks.
use hookrelay_models::{Event, EventId};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::destinations::{Log, Moment};
use crate::world::DESTINATIONS;

/// What the checks read of the event store once the run is over, past
/// the fault model.
pub trait Stored {
    /// Every stored event.
    fn events(&self) -> Vec<Event>;
    /// Every dedupe record: the provider's delivery id and the event it
    /// names.
    fn dedupe_records(&self) -> Vec<(String, EventId)>;
    /// Body objects no stored event names (where bodies are kept apart).
    fn orphan_objects(&self) -> Vec<String> {
        Vec::new()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// 1–6 as in README's "Proving it"; 0: the run never settled.
    pub invariant: u8,
    pub detail: String,
}

pub const INVARIANTS: [&str; 7] = [
    "the run settles, in a bounded number of calls",
    "every acknowledged webhook is delivered to every routed destination under one webhook-id",
    "one provider delivery never becomes two events",
    "an acknowledged event stays readable",
    "no delivery is in flight twice at once, and parked deliveries are released in arrival order",
    "nothing is left orphaned",
    "deliveries of one key to an ordered destination go in the order their events were acknowledged",
];

impl Violation {
    fn new(invariant: u8, detail: String) -> Self {
        Violation { invariant, detail }
    }

    pub fn storm(calls: u64) -> Self {
        Violation::new(0, format!("{calls} calls to the services: a storm"))
    }

    pub fn unsettled(held: Vec<String>) -> Self {
        Violation::new(0, format!("messages still queued: {held:?}"))
    }

    pub fn name(&self) -> &'static str {
        INVARIANTS[usize::from(self.invariant)]
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invariant {} ({}): {}",
            self.invariant,
            self.name(),
            self.detail
        )
    }
}

/// The webhook a body or a delivery id belongs to.
pub(crate) fn webhook_of_body(body: &[u8]) -> Option<usize> {
    let json: serde_json::Value = serde_json::from_slice(body).ok()?;
    json.get("n")?.as_u64().map(|n| n as usize)
}

fn webhook_of_key(key: &str) -> Option<usize> {
    key.strip_prefix("msg_wh")?.parse().ok()
}

pub fn check(
    webhooks: usize,
    acks: &[(usize, EventId)],
    log: &Log,
    stored: &dyn Stored,
) -> Vec<Violation> {
    let mut violations = Vec::new();
    let events = stored.events();
    let stored_ids: BTreeSet<&EventId> = events.iter().map(|e| &e.id).collect();
    let records = stored.dedupe_records();
    for n in 0..webhooks {
        let acked: BTreeSet<&EventId> = acks
            .iter()
            .filter(|(m, _)| *m == n)
            .map(|(_, id)| id)
            .collect();
        // 2: one event per provider delivery.
        if acked.len() > 1 {
            violations.push(Violation::new(
                2,
                format!(
                    "wh{n} was acknowledged as {} events: {acked:?}",
                    acked.len()
                ),
            ));
        }
        let copies: Vec<&EventId> = events
            .iter()
            .filter(|e| webhook_of_body(&e.body) == Some(n))
            .map(|e| &e.id)
            .collect();
        for destination in DESTINATIONS {
            let arrivals: Vec<_> = log
                .arrivals
                .iter()
                .filter(|a| a.destination == destination && webhook_of_body(&a.body) == Some(n))
                .collect();
            let ids: BTreeSet<&str> = arrivals.iter().map(|a| a.webhook_id.as_str()).collect();
            if ids.len() > 1 {
                violations.push(Violation::new(
                    2,
                    format!(
                        "wh{n} reached {destination} under {} webhook-ids: {ids:?}",
                        ids.len()
                    ),
                ));
            }
            // 1: delivered, once the destinations recovered.
            for id in &acked {
                let webhook_id = id.message_id().to_string();
                let delivered = arrivals
                    .iter()
                    .any(|a| a.accepted && a.webhook_id == webhook_id);
                if !delivered {
                    violations.push(Violation::new(
                        1,
                        format!(
                            "wh{n} was acknowledged as {id} and never delivered to {destination}"
                        ),
                    ));
                }
            }
        }
        // 3: readable.
        for id in &acked {
            if !stored_ids.contains(id) {
                violations.push(Violation::new(
                    3,
                    format!("wh{n} was acknowledged as {id}, which is not stored"),
                ));
            }
        }
        // 5: a record names what is stored, and what is stored is named.
        let record = records
            .iter()
            .find(|(key, _)| webhook_of_key(key) == Some(n))
            .map(|(_, id)| id);
        if let Some(named) = record {
            if !stored_ids.contains(named) && !acked.is_empty() {
                violations.push(Violation::new(
                    5,
                    format!("wh{n}'s dedupe record names {named}, which is not stored"),
                ));
            }
            for copy in copies.iter().filter(|id| **id != named) {
                violations.push(Violation::new(
                    5,
                    format!(
                        "wh{n} has a copy {copy} that its dedupe record ({named}) does not name"
                    ),
                ));
            }
        }
    }
    // 5: no body object without an event that names it.
    for key in stored.orphan_objects() {
        violations.push(Violation::new(
            5,
            format!("body object {key} is named by no stored event"),
        ));
    }
    // 4: leases keep a delivery to one attempt at a time.
    let mut overlaps: BTreeMap<&(String, String), usize> = BTreeMap::new();
    for key in &log.overlaps {
        *overlaps.entry(key).or_default() += 1;
    }
    for ((destination, webhook_id), times) in overlaps {
        violations.push(Violation::new(
            4,
            format!("{webhook_id} was in flight to {destination} twice at once ({times} time(s))"),
        ));
    }
    violations
}

/// 4, second half: deliveries parked while `destination` was disabled
/// reach it, once it is enabled (arrivals from `since` on), in the order
/// their events arrived: each one's first accepted arrival before the
/// next one's.
pub fn released_in_order(
    destination: &str,
    parked: &[EventId],
    since: usize,
    log: &Log,
) -> Vec<Violation> {
    let first_accepted = |id: &EventId| {
        let webhook_id = id.message_id().to_string();
        log.arrivals
            .iter()
            .skip(since)
            .position(|a| a.destination == destination && a.accepted && a.webhook_id == webhook_id)
    };
    let mut violations = Vec::new();
    for pair in parked.windows(2) {
        if let (Some(earlier), Some(later)) = (first_accepted(&pair[0]), first_accepted(&pair[1])) {
            if later < earlier {
                violations.push(Violation::new(
                    4,
                    format!(
                        "parked {} reached {destination} before {}, which arrived first",
                        pair[1], pair[0]
                    ),
                ));
            }
        }
    }
    violations
}

/// 6: at the ordered `destination`, for webhooks A and B of one key
/// (`key_of`) where a receipt of A was answered 2xx before B's first
/// receipt began: no request for B began before A's first accepted
/// request was answered, and none for A began after B's first. (A
/// request for A after its first success is allowed while B has none:
/// the success may not have been recorded, and A is tried again.) A that
/// never succeeded is invariant 1's business.
pub fn in_key_order(
    destination: &str,
    key_of: impl Fn(usize) -> String,
    acks: &[(usize, EventId)],
    moments: &[Moment],
) -> Vec<Violation> {
    #[derive(Default, Clone)]
    struct Webhook {
        /// Index and millisecond of its first receipt, of its first 2xx.
        received: Option<(usize, u128)>,
        acked: Option<(usize, u128)>,
        /// Where its requests to `destination` began.
        sent: Vec<usize>,
        /// Where its first accepted request was answered.
        succeeded: Option<usize>,
    }
    let mut webhooks: BTreeMap<usize, Webhook> = BTreeMap::new();
    for (i, moment) in moments.iter().enumerate() {
        match moment {
            Moment::Received { webhook, ms } => {
                let w = webhooks.entry(*webhook).or_default();
                w.received.get_or_insert((i, *ms));
            }
            Moment::Acked { webhook, ms } => {
                let w = webhooks.entry(*webhook).or_default();
                w.acked.get_or_insert((i, *ms));
            }
            Moment::Sent {
                destination: d,
                webhook,
            } if d == destination => webhooks.entry(*webhook).or_default().sent.push(i),
            Moment::Answered {
                destination: d,
                webhook,
                accepted: true,
            } if d == destination => {
                webhooks
                    .entry(*webhook)
                    .or_default()
                    .succeeded
                    .get_or_insert(i);
            }
            _ => {}
        }
    }
    let name = |n: usize| match acks.iter().find(|(m, _)| *m == n) {
        Some((_, id)) => format!("wh{n} ({id})"),
        None => format!("wh{n}"),
    };
    let mut violations = Vec::new();
    for (&a, first) in &webhooks {
        for (&b, second) in &webhooks {
            let (Some((acked, acked_ms)), Some((received, received_ms))) =
                (first.acked, second.received)
            else {
                continue;
            };
            if a == b || key_of(a) != key_of(b) || acked > received {
                continue;
            }
            let Some(&b_first) = second.sent.first() else {
                continue;
            };
            let id_of = |n: usize| acks.iter().find(|(m, _)| *m == n).map(|(_, id)| id);
            if acked_ms == received_ms && id_of(b) < id_of(a) {
                // Within one millisecond the order is the event ids' (README,
                // "What is guaranteed"), and B's sorts first.
                continue;
            }
            let tie = if acked_ms == received_ms {
                " (in the same millisecond)"
            } else {
                ""
            };
            if let Some(succeeded) = first.succeeded.filter(|s| b_first < *s) {
                violations.push(Violation::new(
                    6,
                    format!(
                        "{} was sent to {destination} (moment {b_first}) before {}'s delivery succeeded (moment {succeeded}), though {} was acknowledged before {} was received{tie}",
                        name(b), name(a), name(a), name(b)
                    ),
                ));
            }
            if let Some(again) = first.sent.iter().find(|s| **s > b_first) {
                violations.push(Violation::new(
                    6,
                    format!(
                        "{} was sent to {destination} (moment {again}) after {}'s first request (moment {b_first}), though {} was acknowledged before {} was received{tie}",
                        name(a), name(b), name(a), name(b)
                    ),
                ));
            }
        }
    }
    violations
}

/// The lines of `trace` about what `violation` names: its events (by event
/// id, as `webhook-id`, and by the webhook's dedupe key and body), and the
/// run's first line (how the seed shaped it). Most of a run is other
/// webhooks' business; this is the part to read first.
pub fn focus(trace: &[String], violation: &Violation) -> Vec<String> {
    let mut needles = Vec::new();
    for word in violation
        .detail
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
    {
        if let Some(id) = word.strip_prefix("evt_").or(word.strip_prefix("msg_")) {
            if id.starts_with("wh") {
                continue;
            }
            needles.push(format!("evt_{id}"));
            needles.push(format!("msg_{id}"));
        } else if let Some(n) = word.strip_prefix("wh").filter(|n| n.parse::<u32>().is_ok()) {
            needles.push(format!("msg_wh{n} "));
            needles.push(format!("\"n\":{n}}}"));
        }
    }
    trace
        .iter()
        .enumerate()
        .filter(|(i, line)| *i == 0 || needles.iter().any(|n| line.contains(n.as_str())))
        .map(|(_, line)| line.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_focused_trace_keeps_the_lines_about_the_violation() {
        let trace: Vec<String> = [
            "seed 7: 2 webhook(s)",
            "  1.0s claim_dedupe msg_wh0 for evt_aaa -> Ok(Won)",
            "  1.1s claim_dedupe msg_wh1 for evt_bbb -> Ok(Won)",
            "  2.0s sqs.send {\"event_id\":\"evt_aaa\"} delay 0ns",
            "  3.0s send http://d1.sim/hook msg_bbb -> HTTP 200",
        ]
        .map(String::from)
        .to_vec();
        let violation = Violation::new(
            1,
            "wh0 was acknowledged as evt_aaa and never delivered".into(),
        );
        assert_eq!(
            focus(&trace, &violation),
            [&trace[0], &trace[1], &trace[3]]
                .map(String::clone)
                .to_vec()
        );
    }
}
