//! hookrelay's deterministic simulator: the real receiver and dispatcher
//! use cases (`hookrelay-core`) over simulated services with every fault
//! the real ones have, on one thread with a paused clock, so a seed names
//! one run and reruns it exactly. See README's "Proving it".
mod bucket;
mod check;
mod destinations;
mod faults;
mod queue;
pub mod rng;
mod stores;
mod world;

pub use check::{focus, Violation, INVARIANTS};
pub use stores::Mutation;
pub use world::{run_seed, run_seed_with, Options, Report};

use hookrelay_embedded::MemoryStore;
use hookrelay_models::{Event, EventId};
use std::sync::Arc;

use check::Stored;
use faults::Sim;
use world::Backend;

impl Stored for Arc<MemoryStore> {
    fn events(&self) -> Vec<Event> {
        self.events_snapshot()
    }

    fn dedupe_records(&self) -> Vec<(String, EventId)> {
        self.dedupe_snapshot()
    }
}

/// The event store under test: the in-memory store, which implements the
/// same primitives as the DynamoDB adapter with the same conditions (both
/// pass the receiver's contract tests), under the fault model; with
/// `bodies_in_s3`, its bodies kept in a simulated bucket as the adapter
/// keeps large ones.
fn backend(
    sim: &Arc<Sim>,
    memory: &Arc<MemoryStore>,
    mutation: Mutation,
    bodies_in_s3: bool,
) -> Backend {
    let events = Arc::new(stores::Faulty::new(sim.clone(), memory.clone(), mutation));
    if !bodies_in_s3 {
        return Backend {
            events,
            stored: Box::new(memory.clone()),
        };
    }
    let objects = bucket::Objects::default();
    Backend {
        events: Arc::new(bucket::ClaimCheck {
            sim: sim.clone(),
            inner: events,
            objects: objects.clone(),
        }),
        stored: Box::new(bucket::StoredWithBucket {
            memory: memory.clone(),
            objects,
        }),
    }
}
