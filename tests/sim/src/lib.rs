//! hookrelay's deterministic simulator: the real receiver and dispatcher
//! use cases (`hookrelay-core`) over simulated services with every fault
//! the real ones have, on one thread with a paused clock, so a seed names
//! one run and reruns it exactly. See README's "Proving it".
mod check;
mod destinations;
mod faults;
mod legacy;
mod queue;
pub mod rng;
mod stores;
mod world;

pub use check::{Violation, INVARIANTS};
pub use world::{run_seed, Report};

use hookrelay_embedded::MemoryStore;
use hookrelay_models::{Event, EventId};
use std::sync::{Arc, Mutex};

use check::Stored;
use faults::Sim;
use world::Backend;

impl Stored for Arc<Mutex<legacy::Table>> {
    fn events(&self) -> Vec<Event> {
        self.lock().unwrap().events.values().cloned().collect()
    }

    fn dedupe_records(&self) -> Vec<(String, EventId)> {
        let table = self.lock().unwrap();
        table
            .dedupe
            .iter()
            .map(|((_, key), (id, _))| (key.clone(), id.clone()))
            .collect()
    }
}

/// The event store under test.
fn backend(sim: &Arc<Sim>, memory: &Arc<MemoryStore>) -> Backend {
    let table = Arc::new(Mutex::new(legacy::Table::default()));
    Backend {
        events: Arc::new(legacy::LegacyEvents {
            sim: sim.clone(),
            table: table.clone(),
            deliveries: memory.clone(),
        }),
        stored: Box::new(table),
    }
}
