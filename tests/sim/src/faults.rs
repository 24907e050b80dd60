//! The fault model: every port call the use cases make goes through
//! [`Sim::call`], which, as the seed decides, lets it succeed, fails it
//! before it takes effect, lets it take effect and still returns an error
//! (the ambiguous failure a network gives), and delays it before and after,
//! so that other calls overtake it. Time is tokio's paused clock.
use hookrelay_core::{Clock, CoreError};
use hookrelay_models::Timestamp;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

use crate::rng::Rng;

/// How often each fault happens, per call.
#[derive(Debug, Clone, Copy)]
pub struct FaultRates {
    /// The call fails before it takes effect.
    pub fail_before: f64,
    /// The call takes effect, then its answer is lost: an error.
    pub fail_after: f64,
    /// The call is delayed (before it takes effect, and again after).
    pub delay: f64,
    /// The longest such delay. Kept under the dispatcher's lease margin
    /// (30 s): a longer pause would be a stalled process, which the lease
    /// cannot and does not promise to cover.
    pub max_delay: Duration,
}

impl FaultRates {
    /// Drawn from the seed, so some runs are calm and some are storms.
    pub fn draw(rng: &mut Rng) -> Self {
        let level = [0.0, 0.05, 0.15, 0.3][rng.below(4) as usize];
        FaultRates {
            fail_before: level,
            fail_after: level,
            delay: [0.1, 0.3, 0.6][rng.below(3) as usize],
            max_delay: Duration::from_millis([20, 500, 5_000][rng.below(3) as usize]),
        }
    }
}

/// The simulation's shared state: its choices, its clock, its trace.
pub struct Sim {
    rng: Mutex<Rng>,
    pub rates: FaultRates,
    /// Faults end at this instant (failures in real services pass): from
    /// then on calls succeed, so that every run settles.
    calm_at: Instant,
    start: Instant,
    base: Timestamp,
    tracing: AtomicBool,
    trace: Mutex<Vec<String>>,
    /// Calls made to the simulated services so far.
    calls: AtomicU64,
}

impl Sim {
    pub fn new(seed: u64, base: Timestamp, calm_after: Duration) -> Self {
        let mut rng = Rng::new(seed);
        let rates = FaultRates::draw(&mut rng);
        let start = Instant::now();
        Sim {
            rng: Mutex::new(rng),
            rates,
            calm_at: start + calm_after,
            start,
            base,
            tracing: AtomicBool::new(false),
            trace: Mutex::new(Vec::new()),
            calls: AtomicU64::new(0),
        }
    }

    pub fn set_tracing(&self, on: bool) {
        self.tracing.store(on, Ordering::Relaxed);
    }

    pub fn is_tracing(&self) -> bool {
        self.tracing.load(Ordering::Relaxed)
    }

    /// Adds a line to the trace, if one is kept (the line is only made
    /// then: most runs keep none).
    pub fn note(&self, line: impl FnOnce() -> String) {
        if self.is_tracing() {
            let at = self.elapsed();
            let line = format!("{:>9.3}s {}", at.as_secs_f64(), line());
            self.trace.lock().unwrap().push(line);
        }
    }

    pub fn take_trace(&self) -> Vec<String> {
        std::mem::take(&mut self.trace.lock().unwrap())
    }

    /// Calls made to the simulated services so far.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    pub fn elapsed(&self) -> Duration {
        Instant::now() - self.start
    }

    pub fn calm(&self) -> bool {
        Instant::now() >= self.calm_at
    }

    pub fn with_rng<T>(&self, f: impl FnOnce(&mut Rng) -> T) -> T {
        f(&mut self.rng.lock().unwrap())
    }

    pub fn chance(&self, p: f64) -> bool {
        self.with_rng(|r| r.chance(p))
    }

    /// A duration in `0..max`.
    pub fn upto(&self, max: Duration) -> Duration {
        let ms = max.as_millis() as u64;
        Duration::from_millis(self.with_rng(|r| r.below(ms + 1)))
    }

    fn delay(&self) -> Duration {
        if self.calm() || !self.chance(self.rates.delay) {
            Duration::ZERO
        } else {
            self.upto(self.rates.max_delay)
        }
    }

    /// Runs `effect` as one call to a service named `op`, with the faults
    /// the seed picks. `effect` is not polled at all when the call fails
    /// before taking effect.
    pub async fn call<T, F>(&self, op: &str, effect: F) -> Result<T, CoreError>
    where
        F: Future<Output = Result<T, CoreError>>,
    {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let before = self.delay();
        if !before.is_zero() {
            tokio::time::sleep(before).await;
        }
        let calm = self.calm();
        if !calm && self.chance(self.rates.fail_before) {
            self.note(|| format!("{op}: failed before taking effect"));
            return Err(CoreError::unavailable("sim", format!("{op} failed")));
        }
        let result = effect.await;
        if self.is_tracing() {
            self.note(|| format!("{op}: done"));
        }
        let lost = !calm && self.chance(self.rates.fail_after);
        let after = self.delay();
        if !after.is_zero() {
            tokio::time::sleep(after).await;
        }
        if lost {
            self.note(|| format!("{op}: took effect, answer lost"));
            return Err(CoreError::unavailable(
                "sim",
                format!("{op} took effect but its answer was lost"),
            ));
        }
        result
    }
}

/// The use cases' clock: the simulation's paused tokio clock, from `base`.
pub struct SimClock(pub std::sync::Arc<Sim>);

impl Clock for SimClock {
    fn now(&self) -> Timestamp {
        self.0.base.saturating_add(self.0.elapsed())
    }
}
