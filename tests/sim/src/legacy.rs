//! The event store as the DynamoDB adapter wrote it before issue 25,
//! call for call, over a simulated table: the dedupe record and the event
//! as two plain writes made at once, copies and records taken back by
//! deletes. Kept so the simulator can show what it finds in that protocol.
use async_trait::async_trait;
use hookrelay_core::{CoreError, DedupeKey, DeliveryStore, EventStore, InsertOutcome};
use hookrelay_embedded::MemoryStore;
use hookrelay_models::{Event, EventId, SourceId, Timestamp};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::faults::Sim;

#[derive(Default)]
pub struct Table {
    pub events: BTreeMap<EventId, Event>,
    /// Dedupe records: (source, key) → (event id, window end in ms).
    pub dedupe: BTreeMap<(String, String), (EventId, i64)>,
}

pub struct LegacyEvents {
    pub sim: Arc<Sim>,
    pub table: Arc<Mutex<Table>>,
    /// Where deliveries are: the old `progress` read found them in the
    /// event's partition.
    pub deliveries: Arc<MemoryStore>,
}

fn dedupe_key(key: &DedupeKey) -> (String, String) {
    (key.source.to_string(), key.provider_delivery_id.clone())
}

enum Progress {
    Dispatched,
    Stored,
    Missing,
}

impl LegacyEvents {
    async fn put_dedupe(&self, event: &Event, key: &DedupeKey) -> Result<bool, CoreError> {
        self.sim
            .call(
                &format!(
                    "dynamodb.put_dedupe {} -> {}",
                    key.provider_delivery_id, event.id
                ),
                async {
                    let mut table = self.table.lock().unwrap();
                    let now = event.received_at.unix_millis();
                    let live = table
                        .dedupe
                        .get(&dedupe_key(key))
                        .is_some_and(|(_, ends)| *ends > now);
                    if live {
                        return Ok(false);
                    }
                    table.dedupe.insert(
                        dedupe_key(key),
                        (event.id.clone(), key.expires_at.unix_millis()),
                    );
                    Ok(true)
                },
            )
            .await
    }

    async fn put_item(&self, event: &Event) -> Result<(), CoreError> {
        self.sim
            .call(&format!("dynamodb.put_event {}", event.id), async {
                let mut table = self.table.lock().unwrap();
                table.events.insert(event.id.clone(), event.clone());
                Ok(())
            })
            .await
    }

    async fn delete_dedupe(&self, key: &DedupeKey, owner: &EventId) -> Result<(), CoreError> {
        self.sim
            .call(
                &format!(
                    "dynamodb.delete_dedupe {} if {owner}",
                    key.provider_delivery_id
                ),
                async {
                    let mut table = self.table.lock().unwrap();
                    if table
                        .dedupe
                        .get(&dedupe_key(key))
                        .is_some_and(|(id, _)| id == owner)
                    {
                        table.dedupe.remove(&dedupe_key(key));
                    }
                    Ok(())
                },
            )
            .await
    }

    async fn delete_event(&self, id: &EventId) -> Result<(), CoreError> {
        self.sim
            .call(&format!("dynamodb.delete_event {id}"), async {
                self.table.lock().unwrap().events.remove(id);
                Ok(())
            })
            .await
    }

    async fn live_dedupe(
        &self,
        key: &DedupeKey,
        now: Timestamp,
    ) -> Result<Option<EventId>, CoreError> {
        self.sim
            .call(
                &format!("dynamodb.get_dedupe {}", key.provider_delivery_id),
                async {
                    let table = self.table.lock().unwrap();
                    Ok(table
                        .dedupe
                        .get(&dedupe_key(key))
                        .filter(|(_, ends)| *ends > now.unix_millis())
                        .map(|(id, _)| id.clone()))
                },
            )
            .await
    }

    async fn progress(&self, id: &EventId) -> Result<Progress, CoreError> {
        self.sim
            .call(&format!("dynamodb.query_progress {id}"), async {
                if !self.deliveries.deliveries_for_event(id).await?.is_empty() {
                    return Ok(Progress::Dispatched);
                }
                Ok(if self.table.lock().unwrap().events.contains_key(id) {
                    Progress::Stored
                } else {
                    Progress::Missing
                })
            })
            .await
    }

    async fn remove_copy(&self, id: &EventId) {
        let _ = self.delete_event(id).await;
    }

    /// `DynamoEventStore::insert_deduplicated` as it was.
    async fn insert_deduplicated(
        &self,
        event: &Event,
        key: &DedupeKey,
    ) -> Result<InsertOutcome, CoreError> {
        for round in 0..3 {
            let (dedupe, stored) = if round == 0 {
                tokio::join!(self.put_dedupe(event, key), self.put_item(event))
            } else {
                (self.put_dedupe(event, key).await, Ok(()))
            };
            match (dedupe, stored) {
                (Ok(true), Ok(())) => {
                    if round > 0 {
                        self.sim.note(|| {
                            format!(
                                "{}: inserted in round {round}, its event write not checked",
                                event.id
                            )
                        });
                    }
                    return Ok(InsertOutcome::Inserted);
                }
                (Ok(true), Err(err)) => {
                    let _ = self.delete_dedupe(key, &event.id).await;
                    return Err(err);
                }
                (Err(err), stored) => {
                    if stored.is_ok() {
                        self.remove_copy(&event.id).await;
                    }
                    return Err(err);
                }
                (Ok(false), _) => {}
            }
            let Some(existing) = self.live_dedupe(key, event.received_at).await? else {
                continue;
            };
            self.remove_copy(&event.id).await;
            let dispatched = match self.progress(&existing).await? {
                Progress::Dispatched => true,
                Progress::Stored => false,
                Progress::Missing => {
                    let copy = Event {
                        id: existing.clone(),
                        ..event.clone()
                    };
                    self.put_item(&copy).await?;
                    false
                }
            };
            return Ok(InsertOutcome::Duplicate {
                existing,
                dispatched,
            });
        }
        Err(CoreError::unavailable(
            "dynamodb",
            "dedupe record kept changing under a write",
        ))
    }
}

#[async_trait]
impl EventStore for LegacyEvents {
    async fn insert_event(
        &self,
        event: &Event,
        dedupe: Option<&DedupeKey>,
        _expires_at: Timestamp,
    ) -> Result<InsertOutcome, CoreError> {
        match dedupe {
            Some(key) => self.insert_deduplicated(event, key).await,
            None => {
                self.put_item(event).await?;
                Ok(InsertOutcome::Inserted)
            }
        }
    }

    async fn remove_event(
        &self,
        id: &EventId,
        dedupe: Option<&DedupeKey>,
    ) -> Result<(), CoreError> {
        if let Some(key) = dedupe {
            self.delete_dedupe(key, id).await?;
        }
        self.delete_event(id).await
    }

    async fn event(&self, id: &EventId) -> Result<Option<Event>, CoreError> {
        self.sim
            .call("dynamodb.get_event", async {
                Ok(self.table.lock().unwrap().events.get(id).cloned())
            })
            .await
    }

    async fn events_by_source(
        &self,
        _source: &SourceId,
        _since: Option<Timestamp>,
        _limit: usize,
    ) -> Result<Vec<Event>, CoreError> {
        Ok(Vec::new())
    }
}
