//! Dispatch: the dispatcher's use case. Fan an event out to the
//! destinations whose routes match it, deliver to each independently and
//! concurrently, sign every request, record every attempt, schedule
//! retries.
//!
//! Each (event, destination) delivery is claimed with a lease before it is
//! attempted, so duplicate queue messages never cause two concurrent
//! attempts, and a settled delivery is never re-sent. A dispatcher that
//! dies after sending but before recording leaves its lease to run out;
//! the queue redelivers the message and the delivery is attempted again —
//! at least once, never lost.
//!
//! Retries ride the queue: each scheduled retry is a message for that one
//! delivery, delayed by up to SQS's 15 minutes. A message that arrives
//! before its delivery is due (longer delays) is re-enqueued for the
//! remaining time.
mod attempt;
mod budget;
mod health;
mod order;
mod pacer;
mod release;
mod request;
mod senders;

pub use budget::{BODY_BUDGET_REQUEUE_AFTER, BODY_BUDGET_WAIT, DEFAULT_BODY_BYTES_IN_FLIGHT};
pub use order::leave_lane;
pub use pacer::{MIN_TAKE, PAUSE_READ_EVERY};
pub use release::{release_next_parked, resume_destination, INDEX_LAG_ALLOWANCE};
pub use senders::SenderByTarget;

use futures::stream::{self, StreamExt};
use hookrelay_models::{
    AttemptOutcome, DeliveryState, Destination, DestinationId, Event, Timestamp,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

use crate::error::CoreError;
use crate::metrics::{Metrics, NoMetrics};
use crate::operational::{AlertSettings, Alerts};
use crate::ports::{
    Claim, Clock, ConfigStore, DeliveryStore, DestinationHealth, EventStore, MessageKind, Queue,
    QueueMessage, Sender, Stores,
};
use crate::retry::RetryPolicy;

/// The longest a queue message can be delayed (SQS `DelaySeconds`).
pub const MAX_QUEUE_DELAY: Duration = Duration::from_secs(900);
/// The shortest wait for a message that arrived before its delivery was
/// due.
pub const MIN_NOT_DUE_WAIT: Duration = Duration::from_secs(1);
/// How long after its id was made an event a message names may still be
/// on its way into the store (see [`Dispatch::handle_message`]). An
/// acknowledged event is stored before its acknowledgement, so past this a
/// missing event is expired or was never acknowledged.
pub const NOT_YET_STORED_GRACE: Duration = Duration::from_secs(15 * 60);
/// Stored response bodies are cut to this many bytes.
pub const MAX_STORED_RESPONSE: usize = 4 * 1024;

#[derive(Debug, Clone)]
pub struct DispatchSettings {
    pub policy: RetryPolicy,
    /// Apply random jitter to retry delays (tests turn it off).
    pub jitter: bool,
    /// Deliveries of one message attempted at once.
    pub concurrency: usize,
    /// Added to a destination's timeout to make the lease.
    pub lease_margin: Duration,
    pub user_agent: String,
    /// Disable a destination automatically once every attempt to it has
    /// failed for this long (`None`: never).
    pub auto_disable_after: Option<Duration>,
    /// While a destination is disabled automatically, probe it this often
    /// and enable it again on a 2xx (`None`, the default: no probes). At
    /// most 15 minutes (the queue's longest delay).
    pub probe_every: Option<Duration>,
    /// Body bytes this process reads and sends at once (see
    /// [`budget`](self::budget)); a message past it waits, then is queued
    /// again.
    pub body_bytes_in_flight: usize,
    /// How long a message waits for room in that budget before it is
    /// queued again ([`BODY_BUDGET_WAIT`]).
    pub body_budget_wait: Duration,
    /// How long a delivery waits in process for its turn under the
    /// destination's rate limit or pause ([`PACE_WAIT`]); a longer wait
    /// queues it again for that long (see [`pacer`](self::pacer)).
    pub pace_wait: Duration,
    /// Operational events: how often each may be raised, and when a
    /// destination counts as failing.
    pub alerts: AlertSettings,
}

/// See [`DispatchSettings::pace_wait`]: long enough to carry a batch
/// through a burst, short against the function's timeout.
pub const PACE_WAIT: Duration = Duration::from_secs(10);

/// How an automatic disable's reason starts; probes only re-enable what
/// was disabled this way, never a destination disabled by hand or by 410.
pub const AUTO_DISABLED: &str = "every attempt failed";

impl Default for DispatchSettings {
    fn default() -> Self {
        DispatchSettings {
            policy: RetryPolicy::default(),
            jitter: true,
            concurrency: 16,
            lease_margin: Duration::from_secs(30),
            user_agent: format!("hookrelay/{}", env!("CARGO_PKG_VERSION")),
            auto_disable_after: Some(Duration::from_secs(24 * 3600)),
            probe_every: None,
            body_bytes_in_flight: DEFAULT_BODY_BYTES_IN_FLIGHT,
            body_budget_wait: BODY_BUDGET_WAIT,
            pace_wait: PACE_WAIT,
            alerts: AlertSettings::default(),
        }
    }
}

/// What one delivery came to in this call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryReport {
    Succeeded {
        attempt: u32,
    },
    RetryScheduled {
        attempt: u32,
        after: Duration,
    },
    Failed {
        attempt: u32,
        outcome: AttemptOutcome,
    },
    /// 410 Gone: failed and the destination disabled.
    DestinationGone {
        attempt: u32,
    },
    Parked,
    /// Past the destination's rate limit, or in a pause it asked for, for
    /// longer than a delivery waits in process: queued again for then.
    /// Not an attempt.
    Paced,
    /// Behind an earlier event of its key at an ordered destination: not
    /// attempted; its turn comes when the earlier one settles.
    Waiting,
    /// Not due yet; re-enqueued for later.
    NotDue,
    /// Held by another dispatcher; looked at again after its lease.
    Busy,
    /// Already settled.
    Skipped,
    /// The attempt was made but its lease had run out; the other holder's
    /// record stands.
    LeaseLost,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryResult {
    pub destination: DestinationId,
    pub report: DeliveryReport,
}

pub struct Dispatch {
    config: Arc<dyn ConfigStore>,
    events: Arc<dyn EventStore>,
    deliveries: Arc<dyn DeliveryStore>,
    health: Arc<dyn DestinationHealth>,
    queue: Arc<dyn Queue>,
    sender: Arc<dyn Sender>,
    clock: Arc<dyn Clock>,
    settings: DispatchSettings,
    /// Each destination's slots for deliveries at once, with their number.
    in_flight: Mutex<HashMap<DestinationId, (usize, Arc<Semaphore>)>>,
    /// When each destination started failing, as far as this process
    /// knows: saves a write per failure. The store has the truth.
    failing_since: Mutex<HashMap<DestinationId, Timestamp>>,
    /// Failed attempts in a row to each destination this process has
    /// seen, for `destination.failing`.
    failures_in_a_row: Mutex<HashMap<DestinationId, u32>>,
    alerts: Alerts,
    metrics: Arc<dyn Metrics>,
    signing_keys: Mutex<HashMap<DestinationId, request::SigningKeys>>,
    body_budget: budget::BodyBudget,
    pacer: pacer::Pacer,
}

impl Dispatch {
    pub fn new(
        stores: Stores,
        queue: Arc<dyn Queue>,
        sender: Arc<dyn Sender>,
        clock: Arc<dyn Clock>,
        settings: DispatchSettings,
    ) -> Self {
        let metrics: Arc<dyn Metrics> = Arc::new(NoMetrics);
        Dispatch {
            alerts: Alerts::new(
                stores.config.clone(),
                stores.events.clone(),
                queue.clone(),
                clock.clone(),
                metrics.clone(),
                settings.alerts,
            ),
            config: stores.config,
            events: stores.events,
            deliveries: stores.deliveries,
            health: stores.health,
            queue,
            sender,
            clock: clock.clone(),
            in_flight: Mutex::new(HashMap::new()),
            failing_since: Mutex::new(HashMap::new()),
            failures_in_a_row: Mutex::new(HashMap::new()),
            metrics,
            signing_keys: Mutex::new(HashMap::new()),
            body_budget: budget::BodyBudget::new(settings.body_bytes_in_flight),
            pacer: pacer::Pacer::new(stores.pace, clock.clone(), settings.pace_wait),
            settings,
        }
    }

    pub fn with_metrics(mut self, metrics: Arc<dyn Metrics>) -> Self {
        self.alerts = self.alerts.with_metrics(metrics.clone());
        self.metrics = metrics;
        self
    }

    /// Raises this dispatcher's operational events (and checks the
    /// dead-letter queue on a schedule).
    pub fn alerts(&self) -> &Alerts {
        &self.alerts
    }

    /// Handles one queue message. `Err` means the message should be
    /// retried by the queue (some delivery could not be claimed, recorded
    /// or scheduled); deliveries that were settled stay settled.
    pub async fn handle_message(
        &self,
        message: &QueueMessage,
    ) -> Result<Vec<DeliveryResult>, CoreError> {
        match &message.kind {
            MessageKind::Probe(destination) => return self.probe(message, destination).await,
            // An enable's second look at what is parked (see
            // `release::INDEX_LAG_ALLOWANCE`).
            MessageKind::Resume(destination) => {
                self.release_if_enabled(destination).await?;
                return Ok(Vec::new());
            }
            _ => {}
        }
        // Room for the body in the budget, before it is read when the
        // message says how large it is, else as soon as it is read.
        let mut reserved = match message.body_bytes {
            Some(bytes) => match self
                .body_budget
                .reserve(bytes, self.settings.body_budget_wait)
                .await
            {
                Some(reserved) => Some(reserved),
                None => return self.queue_again_for_room(message.clone()).await,
            },
            None => None,
        };
        let Some(event) = self.events.event(&message.event_id).await? else {
            let age = self.clock.now().since(message.event_id.timestamp());
            if age < NOT_YET_STORED_GRACE {
                // A receipt writes its event and sends the fan-out at the
                // same time (crate::dedupe), so the message can overtake
                // the write; or the write failed, the receipt was not
                // acknowledged, and the provider's retry stores the event
                // under this id. Look again shortly, less often as it ages.
                let wait = age.clamp(MIN_NOT_DUE_WAIT, Duration::from_secs(60));
                self.queue.enqueue(message, wait).await?;
                tracing::info!(event_id = %message.event_id, wait_ms = wait.as_millis() as u64, "queued event not stored yet; looking again");
                return Ok(Vec::new());
            }
            // Expired (retention), or its receipt was never acknowledged
            // and never retried: nothing can be sent.
            tracing::warn!(event_id = %message.event_id, "queued event not found; dropping message");
            if let MessageKind::Release(destination) = &message.kind {
                // Its turn in a release: take it off the parked list and
                // carry the release on, or the rest would wait for ever.
                let now = self.clock.now();
                self.deliveries
                    .reopen(&message.event_id, destination, now, false)
                    .await?;
                self.release_after(&message.event_id, destination).await?;
            }
            return Ok(Vec::new());
        };
        if reserved.is_none() {
            let bytes = event.body.len();
            let wait = self.settings.body_budget_wait;
            match self.body_budget.reserve(bytes as u64, wait).await {
                Some(share) => reserved = Some(share),
                None => {
                    drop(event);
                    let message = message.clone().with_body_bytes(bytes);
                    return self.queue_again_for_room(message).await;
                }
            }
        }
        let _reserved = reserved;
        let config = self.config.config().await?;
        let destinations: Vec<Destination> = match message.destination() {
            Some(id) => config.destination(id).cloned().into_iter().collect(),
            None => config.routed_destinations(&event),
        };
        let results: Vec<Result<DeliveryResult, CoreError>> = stream::iter(destinations)
            .map(|destination| {
                let event = &event;
                async move {
                    let permit = self.destination_slot(&destination).acquire_owned().await;
                    let report = self
                        .deliver(event, &destination, message.is_release(), message.slot)
                        .await;
                    drop(permit);
                    report.map(|report| DeliveryResult {
                        destination: destination.id.clone(),
                        report,
                    })
                }
            })
            .buffer_unordered(self.settings.concurrency.max(1))
            .collect()
            .await;
        let mut delivered = Vec::with_capacity(results.len());
        let mut first_error = None;
        for result in results {
            match result {
                Ok(result) => delivered.push(result),
                Err(err) => {
                    tracing::error!(event_id = %event.id, error = %err, "delivery could not be processed");
                    first_error.get_or_insert(err);
                }
            }
        }
        match first_error {
            Some(err) => Err(err),
            None => Ok(delivered),
        }
    }

    /// No room in the body budget in time: the message goes back to the
    /// queue for a moment (for this instance or another) rather than keep
    /// the batch waiting past the function's timeout.
    async fn queue_again_for_room(
        &self,
        message: QueueMessage,
    ) -> Result<Vec<DeliveryResult>, CoreError> {
        self.queue
            .enqueue(&message, BODY_BUDGET_REQUEUE_AFTER)
            .await?;
        tracing::info!(event_id = %message.event_id, body_bytes = message.body_bytes, "no room for the body now; queued again");
        Ok(Vec::new())
    }

    /// Not this delivery's turn yet (rate limit or pause): back on the
    /// queue, carrying its reserved slot if it has one. Not an attempt.
    async fn queue_for_turn(
        &self,
        follow_up: &QueueMessage,
        wait: Duration,
        slot: Option<Timestamp>,
    ) -> Result<DeliveryReport, CoreError> {
        let wait = wait.clamp(MIN_NOT_DUE_WAIT, MAX_QUEUE_DELAY);
        let message = QueueMessage {
            slot,
            ..follow_up.clone()
        };
        self.queue.enqueue(&message, wait).await?;
        tracing::info!(event_id = %message.event_id, destination = ?message.destination(), wait_ms = wait.as_millis() as u64, "destination's rate limit or pause: queued again");
        Ok(DeliveryReport::Paced)
    }

    fn destination_slot(&self, destination: &Destination) -> Arc<Semaphore> {
        let limit = destination
            .max_in_flight
            .map(|n| n as usize)
            .unwrap_or(self.settings.concurrency)
            .max(1);
        let mut slots = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        match slots.get(&destination.id) {
            Some((size, slot)) if *size == limit => slot.clone(),
            // New, or its limit changed since (the configuration is read
            // through the cache, so a change is seen when the cache is
            // refreshed). Requests in flight on the old slot finish there.
            _ => {
                let slot = Arc::new(Semaphore::new(limit));
                slots.insert(destination.id.clone(), (limit, slot.clone()));
                slot
            }
        }
    }

    /// `release`: this delivery is a link in the in-order release of the
    /// destination's parked deliveries (see [`release_next_parked`]).
    /// `reserved_slot`: a slot of its rate limit it came back with.
    async fn deliver(
        &self,
        event: &Event,
        destination: &Destination,
        release: bool,
        reserved_slot: Option<Timestamp>,
    ) -> Result<DeliveryReport, CoreError> {
        let follow_up = QueueMessage {
            event_id: event.id.clone(),
            kind: if release {
                MessageKind::Release(destination.id.clone())
            } else {
                MessageKind::Delivery(destination.id.clone())
            },
            body_bytes: Some(event.body.len() as u64),
            slot: None,
        };
        let now = self.clock.now();
        let enabled_since_cached;
        let destination = if destination.enabled {
            destination
        } else {
            // The configuration may be cached for a while: before parking,
            // check whether the destination was just enabled again (by an
            // operator, in another process), or an enable's release and
            // the events right after it would be parked for good.
            match self.config.fresh_destination(&destination.id).await? {
                Some(fresh) if fresh.enabled => {
                    enabled_since_cached = fresh;
                    &enabled_since_cached
                }
                _ => destination,
            }
        };
        // Its key's order first, even while the destination is disabled:
        // only a lane's head is parked (the rest wait in their lane, and
        // the head's release queues them in turn), and a settled head
        // whose message comes back carries its lane on, disabled or not.
        let lane = match self.order_turn(event, destination).await? {
            order::OrderTurn::Unordered => None,
            order::OrderTurn::Head(lane) => Some(lane),
            waiting => {
                self.wait_in_lane(waiting, &destination.id, &follow_up)
                    .await?;
                return Ok(DeliveryReport::Waiting);
            }
        };
        if !destination.enabled {
            if let Some(lane) = &lane {
                if self.left_lane_if_settled(lane, &event.id).await? {
                    return Ok(DeliveryReport::Skipped);
                }
            }
            self.deliveries
                .park(&event.id, &destination.id, now)
                .await?;
            // An enable that landed while this was parking released what
            // was parked before it, not this: look once more. (One more
            // read per delivery parked, only while a destination is
            // disabled.)
            self.release_if_enabled(&destination.id).await?;
            tracing::info!(event_id = %event.id, destination = %destination.id, "destination disabled; delivery parked");
            return Ok(DeliveryReport::Parked);
        }
        let slot = match self.pacer.turn(destination, reserved_slot).await? {
            pacer::Turn::Go { slot } => slot,
            pacer::Turn::Later { queue_for, slot } => {
                return self.queue_for_turn(&follow_up, queue_for, slot).await;
            }
        };
        // Claimed before its slot, with a lease that covers the wait, so
        // nothing slow stands between the slot and the request.
        let now = self.clock.now();
        let until_slot = slot.map_or(Duration::ZERO, |slot| slot.since(now));
        let lease =
            now.saturating_add(until_slot + destination.timeout() + self.settings.lease_margin);
        let mut claim = self
            .deliveries
            .claim(&event.id, &destination.id, now, lease)
            .await?;
        if release && claim == Claim::Settled(DeliveryState::Parked) {
            // Its turn in the release: pending again, same series.
            self.deliveries
                .reopen(&event.id, &destination.id, now, false)
                .await?;
            claim = self
                .deliveries
                .claim(&event.id, &destination.id, now, lease)
                .await?;
        }
        let delivery = match claim {
            Claim::Claimed(delivery) => delivery,
            Claim::NotDue(at) => {
                // At least a second: a queue that delays in whole seconds
                // could otherwise hand a message back before it is due,
                // over and over, each time an invocation and a read.
                let wait = at.since(now).clamp(MIN_NOT_DUE_WAIT, MAX_QUEUE_DELAY);
                self.queue.enqueue(&follow_up, wait).await?;
                return Ok(DeliveryReport::NotDue);
            }
            Claim::Busy(lease) => {
                // The holder may finish — or may have died. Look again just
                // after its lease runs out; by then the delivery is settled
                // (and this message is dropped) or free to attempt. Without
                // this, a message redelivered early after a failure could be
                // dropped while the delivery stays pending for ever.
                let wait = (lease.since(now) + Duration::from_secs(1)).min(MAX_QUEUE_DELAY);
                self.queue.enqueue(&follow_up, wait).await?;
                return Ok(DeliveryReport::Busy);
            }
            Claim::Settled(state) => {
                if let Some(lane) = lane.as_ref().filter(|_| state.is_final()) {
                    // Settled, and still heading its lane: its handler
                    // stopped before taking it out (this message is that
                    // handler's, back again). Carry on for it.
                    self.leave_lane(lane, &event.id, true).await?;
                }
                if release {
                    self.release_after(&event.id, &destination.id).await?;
                } else if state == DeliveryState::Parked {
                    // Parked, and the destination enabled as cached: released
                    // by a release under way, or parked as its enable landed
                    // (the check after parking failed): begin one if it is
                    // enabled as stored and none runs, or it would wait for
                    // the next enable.
                    self.release_if_enabled(&destination.id).await?;
                }
                return Ok(DeliveryReport::Skipped);
            }
        };
        let mut slot = slot;
        loop {
            if let Some(at) = slot {
                tokio::time::sleep(at.since(self.clock.now())).await;
            }
            if self.pacer.usable(destination, slot) {
                break;
            }
            // The claim took longer than the slot lives (a slow store):
            // another slot, so the request still goes within one's life.
            match self.pacer.turn(destination, None).await? {
                pacer::Turn::Go { slot: next } => slot = next,
                pacer::Turn::Later { queue_for, .. } => {
                    let lease_left = lease.since(self.clock.now()) + Duration::from_secs(1);
                    return self
                        .queue_for_turn(&follow_up, queue_for.max(lease_left), None)
                        .await;
                }
            }
        }
        // A delivery that waited for a slot looks at the pause again: it may
        // have begun during the wait. One that did not (no limit) looked
        // just before its claim, and a second look would only cost a read
        // each time the claim outlasts the last read's second.
        let paused = match slot {
            Some(_) => self.pacer.paused_for(&destination.id).await?,
            None => None,
        };
        if let Some(paused) = paused {
            // Paused since its turn was given: the claim is left to run
            // out (no attempt was made) and the delivery comes back after
            // both.
            let lease_left = lease.since(self.clock.now()) + Duration::from_secs(1);
            return self
                .queue_for_turn(&follow_up, paused.max(lease_left), None)
                .await;
        }
        let report = self
            .attempt(event, destination, delivery, lease, &follow_up)
            .await?;
        if let Some(lane) = &lane {
            self.after_attempt_in_lane(lane, &event.id, &report).await?;
        }
        if release {
            match report {
                DeliveryReport::Succeeded { .. } | DeliveryReport::Failed { .. } => {
                    self.release_after(&event.id, &destination.id).await?;
                }
                DeliveryReport::LeaseLost => {
                    // Whoever took over may not carry the release on: look
                    // again once it is done.
                    self.queue
                        .enqueue(&follow_up, Duration::from_secs(1))
                        .await?;
                }
                // A retry carries the release on; a 410 ends it (the
                // destination is disabled again and the rest stay parked).
                _ => {}
            }
        }
        Ok(report)
    }
}
