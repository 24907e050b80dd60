//! The destinations: until they recover they answer 500, stall past the
//! timeout (sometimes after taking the request in), or succeed, as the
//! seed picks; from then on they succeed. Every request is recorded, and
//! a delivery found in flight twice at once is a violation.
use async_trait::async_trait;
use hookrelay_core::{OutboundRequest, SendResult, Sender};
use hookrelay_models::{AttemptErrorKind, AttemptOutcome};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

use crate::faults::Sim;

/// One request a destination took in.
#[derive(Debug, Clone)]
pub struct Arrival {
    pub destination: String,
    pub webhook_id: String,
    pub body: bytes::Bytes,
    /// Whether it was answered 2xx.
    pub accepted: bool,
}

/// One moment of the run that ordered delivery is checked against, in the
/// order they happened (one thread: no two at once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Moment {
    /// A receipt of webhook `webhook` began, at `ms` simulated.
    Received { webhook: usize, ms: u128 },
    /// A receipt of it was answered 2xx.
    Acked { webhook: usize, ms: u128 },
    /// A request for it began (whether or not it reaches the destination).
    Sent { destination: String, webhook: usize },
    /// A request for it was answered, `accepted` if 2xx. A request whose
    /// dispatcher crashed has no answer.
    Answered {
        destination: String,
        webhook: usize,
        accepted: bool,
    },
}

#[derive(Default)]
pub struct Log {
    pub arrivals: Vec<Arrival>,
    /// Receipts and requests, in order.
    pub moments: Vec<Moment>,
    /// Requests in flight per (destination, webhook-id).
    in_flight: BTreeMap<(String, String), u32>,
    /// (destination, webhook-id) seen in flight twice at once.
    pub overlaps: Vec<(String, String)>,
}

pub struct Destinations {
    sim: Arc<Sim>,
    recover_at: Instant,
    pub log: Mutex<Log>,
}

/// Takes a request off the in-flight count however its send ends, even
/// when the dispatcher's task is dropped mid-request (a crash).
struct InFlight<'a> {
    log: &'a Mutex<Log>,
    key: (String, String),
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut log = self.log.lock().unwrap();
        if let Some(count) = log.in_flight.get_mut(&self.key) {
            *count -= 1;
        }
    }
}

impl Destinations {
    pub fn new(sim: Arc<Sim>, recover_after: Duration) -> Self {
        Destinations {
            sim,
            recover_at: Instant::now() + recover_after,
            log: Mutex::new(Log::default()),
        }
    }

    /// Notes `moment` as the latest.
    pub fn note(&self, moment: Moment) {
        self.log.lock().unwrap().moments.push(moment);
    }

    fn begin(&self, key: (String, String)) -> InFlight<'_> {
        let mut log = self.log.lock().unwrap();
        let count = log.in_flight.entry(key.clone()).or_default();
        *count += 1;
        if *count > 1 {
            log.overlaps.push(key.clone());
        }
        InFlight {
            log: &self.log,
            key,
        }
    }
}

enum Behaviour {
    Succeed,
    Fail,
    /// No answer within the timeout; `took_in`: the destination had the
    /// request (it acts on it, the dispatcher never hears).
    Stall {
        took_in: bool,
    },
}

#[async_trait]
impl Sender for Destinations {
    async fn send(&self, request: &OutboundRequest) -> SendResult {
        let destination = request
            .url
            .trim_start_matches("http://")
            .split('.')
            .next()
            .unwrap_or_default()
            .to_string();
        let webhook_id = request
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("webhook-id"))
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let _in_flight = self.begin((destination.clone(), webhook_id.clone()));
        let webhook = crate::check::webhook_of_body(&request.body);
        if let Some(webhook) = webhook {
            self.note(Moment::Sent {
                destination: destination.clone(),
                webhook,
            });
        }
        let started = Instant::now();
        let behaviour = if started >= self.recover_at {
            Behaviour::Succeed
        } else {
            match self.sim.with_rng(|r| r.below(10)) {
                0..=3 => Behaviour::Fail,
                4 => Behaviour::Stall { took_in: false },
                5 => Behaviour::Stall { took_in: true },
                _ => Behaviour::Succeed,
            }
        };
        let latency = self.sim.upto(Duration::from_millis(300));
        let outcome = match behaviour {
            Behaviour::Succeed | Behaviour::Fail => {
                tokio::time::sleep(latency).await;
                let status = if matches!(behaviour, Behaviour::Succeed) {
                    200
                } else {
                    500
                };
                AttemptOutcome::Response { status }
            }
            Behaviour::Stall { .. } => {
                tokio::time::sleep(request.timeout).await;
                AttemptOutcome::Error {
                    error: AttemptErrorKind::Timeout,
                }
            }
        };
        if let Some(webhook) = webhook {
            self.note(Moment::Answered {
                destination: destination.clone(),
                webhook,
                accepted: outcome.is_success(),
            });
        }
        let arrived = !matches!(behaviour, Behaviour::Stall { took_in: false });
        if arrived {
            self.log.lock().unwrap().arrivals.push(Arrival {
                destination,
                webhook_id,
                body: request.body.clone(),
                accepted: outcome.is_success(),
            });
        }
        self.sim
            .note(|| format!("send {} -> {outcome}", request.url));
        SendResult {
            outcome,
            response_body: String::new(),
            response_truncated: false,
            retry_after: None,
            duration: Instant::now() - started,
        }
    }
}
