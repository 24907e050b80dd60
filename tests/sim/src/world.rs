//! One run: providers sending webhooks (retrying on anything but 2xx, at
//! times twice at once), receivers that may crash at any await, dispatcher
//! instances consuming the queue in batches and crashing too, and
//! destinations that fail until they recover. All on one thread with a
//! paused clock; every choice comes from the seed.
use hookrelay_core::{
    handle_batch, ConfigStore, DeliveryStore, DestinationHealth, DestinationPace, Dispatch,
    DispatchSettings, EventStore, InboundHook, Ingest, IngestOutcome, IngestSettings, Stores,
};
use hookrelay_embedded::MemoryStore;
use hookrelay_models::{Config, EventId, Timestamp};
use hookrelay_signing::{
    sign_as_provider, HeaderPairs, ProviderMessage, Scheme, SchemeKind, Secret,
};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::{sleep, timeout, Instant};

use crate::check::{check, Stored, Violation};
use crate::destinations::{Destinations, Moment};
use crate::faults::{Sim, SimClock};
use crate::queue::SimQueue;
use crate::stores::{Faulty, Mutation};

const SOURCE_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// Two destinations, both routed: a fan-out must reach each.
pub const DESTINATIONS: [&str; 2] = ["d1", "d2"];
/// How many times a provider sends one webhook before giving up (Stripe
/// tries for three days; this is enough to outlast every storm here).
const PROVIDER_TRIES: u32 = 40;
/// A run that has not settled after this much simulated time is a
/// violation (it would be a delivery stuck for ever).
const SETTLE_LIMIT: Duration = Duration::from_secs(7 * 24 * 3600);
/// A run that makes more calls than this has a storm in it (a loop of
/// messages and writes that only time ends), even if it settles: runs
/// make a few hundred to a few thousand.
const CALL_LIMIT: u64 = 100_000;
/// The SQS visibility timeout the template gives the dispatcher's queue.
const VISIBILITY: Duration = Duration::from_secs(60);

/// The configuration; `ordered`: the destination that delivers in order
/// per key, the key read from the body's `k`.
fn config(ordered: Option<&str>) -> Config {
    let mut toml = format!(
        "[[sources]]\nid = \"shop\"\nscheme = \"standard\"\nsecrets = [\"{SOURCE_SECRET}\"]\n"
    );
    for d in DESTINATIONS {
        let ordering = if ordered == Some(d) {
            "ordering = { key = \"json:/k\" }\n"
        } else {
            ""
        };
        toml.push_str(&format!(
            "[[destinations]]\nid = \"{d}\"\nurl = \"http://{d}.sim/hook\"\n\
             secret = \"whsec_c2FtcGxlIGRlc3RpbmF0aW9uIGtleSAxMjM0\"\ntimeout = \"5s\"\n\
             retry_schedule = [\"0s\", \"5s\", \"30s\", \"2m\", \"10m\", \"30m\", \"1h\", \"2h\", \"4h\"]\n\
             {ordering}[[routes]]\nsource = \"shop\"\ndestination = \"{d}\"\n"
        ));
    }
    Config::from_toml(&toml, "sim").expect("the simulation's configuration")
}

/// Webhook `n`'s key at the ordered destination.
fn key_of(n: usize, keys: usize) -> String {
    format!("k{}", n % keys)
}

/// What a run came to.
#[derive(Debug)]
pub struct Report {
    pub seed: u64,
    pub webhooks: usize,
    /// Webhooks answered 2xx at least once.
    pub acknowledged: usize,
    pub violations: Vec<Violation>,
    /// Kept only when asked for (a second run of a failing seed).
    pub trace: Vec<String>,
    /// Simulated time the run took to settle.
    pub simulated: Duration,
}

struct World {
    sim: Arc<Sim>,
    ingest: Ingest,
    queue: Arc<SimQueue>,
    destinations: Arc<Destinations>,
    stores: Stores,
    /// (webhook, event id) for every 2xx a receiver gave.
    acks: Mutex<Vec<(usize, EventId)>>,
    busy: AtomicUsize,
    /// How often a receiver or a dispatcher instance crashes.
    crash_rate: f64,
    /// The in-memory store itself, for the operator's writes.
    memory: Arc<MemoryStore>,
    /// The deliveries to the operator's destination that were parked when
    /// it was enabled again, oldest first, and how many requests the
    /// destinations had taken in by then.
    parked_at_enable: Mutex<(Vec<EventId>, usize)>,
    /// A dispatcher's budget of body bytes, when the run makes it tight.
    budget: Option<Budget>,
    /// How far the index of deliveries by state may lag.
    index_lag: Duration,
    /// The deliveries' store under faults, for when each was written.
    faulty: Arc<Faulty>,
    /// With an ordered destination, how many keys the webhooks share
    /// (webhook `n` has key `k{n % keys}`).
    keys: Option<usize>,
}

#[derive(Debug, Clone, Copy)]
struct Budget {
    bytes: usize,
    wait: Duration,
}

/// When an operator disables the second destination by hand, and when
/// they enable it again (its parked deliveries are then released, one at
/// a time, in the order their events arrived).
#[derive(Debug, Clone, Copy)]
struct Outage {
    disable_after: Duration,
    enable_after: Duration,
}

impl World {
    fn dispatch(&self) -> Dispatch {
        let settings = DispatchSettings {
            jitter: false,
            auto_disable_after: None,
            ..DispatchSettings::default()
        };
        Dispatch::new(
            self.stores.clone(),
            self.queue.clone(),
            self.destinations.clone(),
            Arc::new(SimClock(self.sim.clone())),
            match self.budget {
                Some(budget) => DispatchSettings {
                    body_bytes_in_flight: budget.bytes,
                    body_budget_wait: budget.wait,
                    ..settings
                },
                None => settings,
            },
        )
    }

    fn now(&self) -> Timestamp {
        hookrelay_core::Clock::now(&SimClock(self.sim.clone()))
    }

    /// One receipt of webhook `n`, as API Gateway hands it to a receiver;
    /// true if it was answered 2xx.
    async fn receive(self: Arc<Self>, n: usize, body: String) -> bool {
        let ms = self.sim.elapsed().as_millis();
        self.destinations.note(Moment::Received { webhook: n, ms });
        let delivery_id = format!("msg_wh{n}");
        let message = ProviderMessage {
            body: body.as_bytes(),
            timestamp: self.now().unix_secs(),
            id: &delivery_id,
            url: None,
        };
        let mut headers = sign_as_provider(
            &Scheme::Named(SchemeKind::Standard),
            &Secret::new(SOURCE_SECRET),
            &message,
        )
        .expect("sign as a Standard Webhooks sender");
        headers.push(("content-type".into(), "application/json".into()));
        let lookup = HeaderPairs(&headers);
        let hook = InboundHook {
            source_id: "shop",
            headers: &lookup,
            header_pairs: headers.clone(),
            body: body.as_bytes(),
            public_url: None,
            query: "",
        };
        let crash = self
            .sim
            .chance(self.crash_rate)
            .then(|| self.sim.upto(Duration::from_secs(3)));
        let answered = match crash {
            Some(after) => timeout(after, self.ingest.ingest(hook)).await.ok(),
            None => Some(self.ingest.ingest(hook).await),
        };
        let acked = match answered {
            Some(Ok(IngestOutcome::Accepted { id } | IngestOutcome::Duplicate { id })) => {
                self.sim
                    .note(|| format!("receiver: wh{n} answered 2xx as {id}"));
                self.acks.lock().unwrap().push((n, id));
                let ms = self.sim.elapsed().as_millis();
                self.destinations.note(Moment::Acked { webhook: n, ms });
                true
            }
            Some(other) => {
                self.sim
                    .note(|| format!("receiver: wh{n} not acknowledged: {other:?}"));
                false
            }
            None => {
                self.sim.note(|| format!("receiver: wh{n} crashed"));
                false
            }
        };
        acked
    }

    /// A provider sending webhook `n` until it is acknowledged.
    async fn provider(self: Arc<Self>, n: usize) {
        // The key before `n`: a trace is focused on a webhook by its body's
        // end.
        let body = match self.keys {
            Some(keys) => format!(
                r#"{{"type":"order.created","k":"{}","n":{n}}}"#,
                key_of(n, keys)
            ),
            None => format!(r#"{{"type":"order.created","n":{n}}}"#),
        };
        sleep(self.sim.upto(Duration::from_secs(2))).await;
        for attempt in 0..PROVIDER_TRIES {
            let copies = if self.sim.chance(0.2) { 2 } else { 1 };
            let receipts: Vec<_> = (0..copies)
                .map(|_| tokio::spawn(self.clone().receive(n, body.clone())))
                .collect();
            let mut acked = false;
            for receipt in receipts {
                acked |= receipt.await.expect("receiver task");
            }
            // Sometimes the 2xx is lost on the way back: sent again.
            if acked && !self.sim.chance(0.1) {
                return;
            }
            let backoff = Duration::from_secs(1u64 << attempt.min(9));
            sleep(backoff + self.sim.upto(Duration::from_secs(1))).await;
        }
    }

    /// An operator disabling `d2` by hand, then enabling it: the admin
    /// use case's enable is a configuration write and a resume.
    async fn operator(self: Arc<Self>, outage: Outage) {
        let destination = hookrelay_models::DestinationId::parse(DESTINATIONS[1]).unwrap();
        sleep(outage.disable_after).await;
        self.memory
            .set_destination_enabled(&destination, false, Some("by hand".into()))
            .await
            .expect("in memory");
        self.sim
            .note(|| format!("operator: disabled {destination}"));
        sleep(outage.enable_after).await;
        self.memory
            .set_destination_enabled(&destination, true, None)
            .await
            .expect("in memory");
        let parked = self
            .memory
            .deliveries_in_state(
                &destination,
                hookrelay_models::DeliveryState::Parked,
                None,
                hookrelay_core::ListOrder::OldestFirst,
                usize::MAX,
            )
            .await
            .expect("in memory");
        self.sim
            .note(|| format!("operator: enabled {destination}; parked {parked:?}"));
        // In arrival order are those the index listed at the enable: parked
        // longer ago than it lags. One parked within that may be listed
        // only by the enable's second look, after younger ones went.
        // (When its park took effect, not the time the dispatcher wrote in
        // it: a call can take seconds to land.)
        let listed_before = self.sim.elapsed().saturating_sub(self.index_lag);
        let parked: Vec<EventId> = parked
            .into_iter()
            .filter(|id| {
                self.faulty
                    .last_written(id, &destination)
                    .is_none_or(|at| at < listed_before)
            })
            .collect();
        let arrived = self.destinations.log.lock().unwrap().arrivals.len();
        *self.parked_at_enable.lock().unwrap() = (parked, arrived);
        // An enable that fails is tried again: a resume whose send took
        // effect but answered an error must not start a second release.
        while hookrelay_core::dispatch::resume_destination(
            &*self.stores.health,
            &*self.stores.deliveries,
            &*self.queue,
            &destination,
            self.now(),
        )
        .await
        .is_err()
        {
            sleep(Duration::from_secs(1)).await;
        }
    }

    /// A dispatcher: batches off the queue, as Lambda's event source hands
    /// them out; an instance may crash mid-batch and a new one takes over.
    async fn dispatcher(self: Arc<Self>) {
        let mut dispatch = self.dispatch();
        loop {
            let sent = self.queue.sent.notified();
            let batch = self.queue.receive(10);
            if batch.is_empty() {
                let wake = self
                    .queue
                    .next_visible_at()
                    .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
                tokio::select! {
                    biased;
                    _ = sent => {}
                    _ = tokio::time::sleep_until(wake) => {}
                }
                continue;
            }
            self.busy.fetch_add(1, Ordering::SeqCst);
            let crash = self
                .sim
                .chance(self.crash_rate)
                .then(|| self.sim.upto(Duration::from_secs(10)));
            let handled = match crash {
                Some(after) => timeout(after, handle_batch(&dispatch, &batch)).await.ok(),
                None => Some(handle_batch(&dispatch, &batch).await),
            };
            match handled {
                Some(retry) => {
                    for received in batch.iter().filter(|r| !retry.contains(&r.receipt)) {
                        let _ = self.queue.delete(&received.receipt).await;
                    }
                }
                None => {
                    self.sim
                        .note(|| "dispatcher: instance crashed mid-batch".into());
                    dispatch = self.dispatch();
                }
            }
            self.busy.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// The stores of one run, and how the checks read them afterwards.
pub struct Backend {
    pub events: Arc<dyn EventStore>,
    pub stored: Box<dyn Stored>,
}

/// What a run includes beyond the default.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// A defect planted in the event store.
    pub mutation: Mutation,
    /// In some runs (three in ten) an operator disables the second
    /// destination by hand and enables it again.
    pub outages: bool,
    /// The parts of the model added after the first defects were found: a
    /// tight budget of body bytes, a lagging index, bodies in S3. Off, a
    /// seed found before runs as it did then.
    pub later_models: bool,
    /// In half the runs one destination delivers in order per key
    /// (invariant 6). Off, those runs are as they were before it.
    pub ordered: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            mutation: Mutation::None,
            outages: true,
            later_models: true,
            ordered: true,
        }
    }
}

/// Runs `seed`, keeping a trace if `trace`.
pub fn run_seed(seed: u64, trace: bool) -> Report {
    run_seed_with(seed, trace, Options::default())
}

/// As [`run_seed`], with `options`.
pub fn run_seed_with(seed: u64, trace: bool, options: Options) -> Report {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a runtime");
    runtime.block_on(run(seed, trace, options))
}

async fn run(seed: u64, trace: bool, options: Options) -> Report {
    let base = Timestamp::from_unix_millis(1_790_000_000_000);
    // The first draws shape the run; the rest are its moments.
    let mut shape = crate::rng::Rng::new(seed ^ 0x5EED);
    let calm_after = Duration::from_secs(shape.below(1800));
    let recover_after = Duration::from_secs(shape.below(1800));
    let webhooks = 1 + shape.below(4) as usize;
    let crash_rate = [0.0, 0.05, 0.2][shape.below(3) as usize];
    let outage = Outage {
        disable_after: Duration::from_secs(shape.below(600)),
        enable_after: Duration::from_secs(1 + shape.below(1800)),
    };
    let outage = (shape.chance(0.3) && options.outages).then_some(outage);
    // In one run in four each dispatcher instance has room for one body at
    // a time (bodies are about 30 bytes) and waits 0, 2 or 20 s for it:
    // the rest are queued again. Drawn last, so the other runs are as
    // they were.
    let later = options.later_models;
    let budget = (shape.chance(0.25) && later).then(|| Budget {
        bytes: 40,
        wait: Duration::from_secs([0, 2, 20][shape.below(3) as usize]),
    });
    // Reads of deliveries by state (a DynamoDB index) lag the table by up
    // to this in half the runs.
    let index_lag = Duration::from_millis([0, 0, 0, 200, 2_000, 20_000][shape.below(6) as usize])
        .min(if later { Duration::MAX } else { Duration::ZERO });
    // Bodies in a simulated S3 bucket, as the DynamoDB adapter keeps large
    // ones, in half the runs.
    let bodies_in_s3 = shape.chance(0.5) && later;
    // In half the runs one destination delivers in order per key, over
    // one or two keys.
    let ordered = (shape.chance(0.5) && later && options.ordered).then(|| {
        let destination = DESTINATIONS[shape.below(2) as usize];
        (destination, 1 + shape.below(2) as usize)
    });
    let sim = Arc::new(Sim::new(seed, base, calm_after));
    sim.set_tracing(trace);
    sim.note(|| {
        format!(
            "seed {seed}: {webhooks} webhook(s), faults {:?}, crash rate {crash_rate}, calm after {calm_after:?}, destinations recover after {recover_after:?}, outage {outage:?}, body budget {budget:?}, index lag {index_lag:?}, bodies in S3 {bodies_in_s3}, ordered (destination, keys) {ordered:?}",
            sim.rates
        )
    });

    let memory = Arc::new(MemoryStore::new(config(ordered.map(|(d, _)| d))));
    let faulty = Arc::new(
        Faulty::new(sim.clone(), memory.clone(), Mutation::None).with_index_lag(index_lag),
    );
    let backend = crate::backend(&sim, &memory, options.mutation, bodies_in_s3);
    let queue = Arc::new(SimQueue::new(sim.clone(), VISIBILITY));
    let ids = sim.clone();
    let ingest = Ingest::new(
        faulty.clone() as Arc<dyn ConfigStore>,
        backend.events.clone(),
        queue.clone(),
        Arc::new(SimClock(sim.clone())),
        IngestSettings::default(),
    )
    .with_event_ids(Arc::new(move |at| {
        EventId::from_parts(at, u128::from(ids.with_rng(|r| r.next_u64())))
    }));
    let world = Arc::new(World {
        sim: sim.clone(),
        ingest,
        queue: queue.clone(),
        destinations: Arc::new(Destinations::new(sim.clone(), recover_after)),
        stores: Stores {
            config: faulty.clone(),
            events: backend.events.clone(),
            deliveries: faulty.clone() as Arc<dyn DeliveryStore>,
            health: faulty.clone() as Arc<dyn DestinationHealth>,
            pace: memory.clone() as Arc<dyn DestinationPace>,
        },
        acks: Mutex::new(Vec::new()),
        busy: AtomicUsize::new(0),
        crash_rate,
        memory: memory.clone(),
        parked_at_enable: Mutex::new((Vec::new(), 0)),
        budget,
        index_lag,
        faulty: faulty.clone(),
        keys: ordered.map(|(_, keys)| keys),
    });

    let providers: Vec<_> = (0..webhooks)
        .map(|n| tokio::spawn(world.clone().provider(n)))
        .collect();
    let operator = outage.map(|outage| tokio::spawn(world.clone().operator(outage)));
    for _ in 0..2 {
        tokio::spawn(world.clone().dispatcher());
    }
    for provider in providers {
        provider.await.expect("provider task");
    }
    if let Some(operator) = operator {
        operator.await.expect("operator task");
    }
    let mut settled = false;
    while sim.elapsed() < SETTLE_LIMIT {
        sleep(Duration::from_secs(10)).await;
        if queue.is_empty() && world.busy.load(Ordering::SeqCst) == 0 {
            settled = true;
            break;
        }
    }
    let acks = world.acks.lock().unwrap().clone();
    let log = world.destinations.log.lock().unwrap();
    let (parked, enabled_at) = world.parked_at_enable.lock().unwrap().clone();
    let mut violations = check(webhooks, &acks, &log, &*backend.stored);
    // At an ordered destination a released delivery behind its key's head
    // (an earlier event of its key, perhaps received later and still on
    // its way) passes its turn in the release on and goes after that head:
    // its order is its key's, which invariant 6 checks.
    if ordered.is_none_or(|(destination, _)| destination != DESTINATIONS[1]) {
        violations.extend(crate::check::released_in_order(
            DESTINATIONS[1],
            &parked,
            enabled_at,
            &log,
        ));
    }
    if let Some((destination, keys)) = ordered {
        violations.extend(crate::check::in_key_order(
            destination,
            |n| key_of(n, keys),
            &acks,
            &log.moments,
        ));
    }
    if !settled {
        violations.push(Violation::unsettled(queue.bodies()));
    }
    if sim.calls() > CALL_LIMIT {
        violations.push(Violation::storm(sim.calls()));
    }
    let acknowledged = (0..webhooks)
        .filter(|n| acks.iter().any(|(m, _)| m == n))
        .count();
    Report {
        seed,
        webhooks,
        acknowledged,
        violations,
        trace: sim.take_trace(),
        simulated: sim.elapsed(),
    }
}
