//! Delivery state and attempts in the events table (layout in the crate
//! docs). A delivery's fields are top-level attributes so the claim can be
//! one conditional update.
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use aws_sdk_dynamodb::Client;
use hookrelay_core::{Claim, CoreError, DeliveryStore, ListOrder};
use hookrelay_models::{Attempt, Delivery, DeliveryState, DestinationId, EventId, Timestamp};
use std::collections::HashMap;
use std::time::Duration;

use crate::error::{call_error, is_condition_failed, AwsError};
use crate::index::{gsi1_count, gsi1_event_ids, merged_query, IndexShards};
use crate::shard_count::ShardCount;

type Item = HashMap<String, AttributeValue>;

#[derive(Clone)]
pub struct DynamoDeliveryStore {
    client: Client,
    table: String,
    /// Deliveries and attempts expire (TTL) with their event: this long
    /// after it was received.
    retention: Duration,
    shards: ShardCount,
}

/// As the receiver keeps events by default.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);

mod health;
mod items;
mod pace;

use items::{
    attempt_doc, attempt_from, attempt_index_key, attempt_sk, attempts_partition, delivery_from,
    delivery_sk, inline_attempt, n, pk, s, state_name, state_partition,
};

/// The sharded `gsi2` partition `attempt` is listed in.
fn attempt_partition(attempt: &Attempt, shards: IndexShards) -> String {
    shards.partition(&attempts_partition(&attempt.destination), &attempt.event_id)
}

impl DynamoDeliveryStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoDeliveryStore {
            client,
            table: table.into(),
            retention: DEFAULT_RETENTION,
            shards: ShardCount::fixed(IndexShards::DEFAULT),
        }
    }

    /// Spread each destination's index partitions over `shards`, and list
    /// that many, whatever other writers used (see
    /// [`Self::with_shard_count`]).
    pub fn with_index_shards(self, shards: IndexShards) -> Self {
        self.with_shard_count(ShardCount::fixed(shards))
    }

    /// Spread each destination's index partitions over `shards`' own
    /// count, and list as many as any writer recorded.
    pub fn with_shard_count(mut self, shards: ShardCount) -> Self {
        self.shards = shards;
        self
    }

    /// Keep deliveries and attempts this long after their event arrived
    /// (set it to the receiver's retention, so they go with the event).
    pub fn with_retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// Every partition a reader looks in for `destination`'s deliveries in
    /// `state`, as many shards as any writer recorded.
    async fn state_partitions(
        &self,
        destination: &DestinationId,
        state: DeliveryState,
    ) -> Result<Vec<String>, AwsError> {
        Ok(self
            .shards
            .for_reading()
            .await?
            .partitions(&state_partition(destination, state)))
    }

    fn attempt_item(&self, attempt: &Attempt, lease: Timestamp, shards: IndexShards) -> Item {
        HashMap::from([
            ("pk".into(), s(pk(&attempt.event_id))),
            ("sk".into(), s(attempt_sk(attempt, lease))),
            ("doc".into(), s(attempt_doc(attempt))),
            ("expires_at".into(), n(self.expires_at(&attempt.event_id))),
            ("gsi2pk".into(), s(attempt_partition(attempt, shards))),
            ("gsi2sk".into(), s(attempt_index_key(attempt))),
        ])
    }

    /// When the items of `event` expire, in Unix seconds (DynamoDB TTL).
    fn expires_at(&self, event: &EventId) -> i64 {
        event.timestamp().saturating_add(self.retention).unix_secs()
    }

    async fn get(
        &self,
        event: &EventId,
        destination: &DestinationId,
    ) -> Result<Option<Item>, AwsError> {
        let found = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk(event)))
            .key("sk", s(delivery_sk(destination)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| call_error("dynamodb", e))?;
        Ok(found.item)
    }

    async fn query_prefix(&self, event: &EventId, prefix: &str) -> Result<Vec<Item>, AwsError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", s(pk(event)))
                .expression_attribute_values(":prefix", s(prefix))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| call_error("dynamodb", e))?;
            items.extend(page.items().iter().cloned());
            match page.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => return Ok(items),
            }
        }
    }
}

#[async_trait]
impl DeliveryStore for DynamoDeliveryStore {
    async fn claim(
        &self,
        event: &EventId,
        destination: &DestinationId,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Claim, CoreError> {
        let updated = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk(event)))
            .key("sk", s(delivery_sk(destination)))
            .update_expression(
                "SET event_id = if_not_exists(event_id, :event), \
                 destination = if_not_exists(destination, :destination), \
                 #state = if_not_exists(#state, :pending), \
                 attempts = if_not_exists(attempts, :zero), \
                 series = if_not_exists(series, :zero), \
                 deferrals = if_not_exists(deferrals, :zero), \
                 expires_at = if_not_exists(expires_at, :expires), \
                 lease_until = :lease, updated_at = :now",
            )
            .condition_expression(
                "attribute_not_exists(pk) OR (#state = :pending \
                 AND (attribute_not_exists(lease_until) OR lease_until <= :now) \
                 AND (attribute_not_exists(next_attempt_at) OR next_attempt_at <= :now))",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":event", s(event.as_str()))
            .expression_attribute_values(":destination", s(destination.as_str()))
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":lease", n(lease_until.unix_millis()))
            .expression_attribute_values(":now", n(now.unix_millis()))
            .expression_attribute_values(":expires", n(self.expires_at(event)))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match updated {
            Ok(output) => {
                let item = output
                    .attributes
                    .ok_or_else(|| AwsError::Corrupt("claim returned no item".into()))?;
                Ok(Claim::Claimed(delivery_from(&item)?))
            }
            Err(err) if is_condition_failed(&err) => {
                let Some(item) = self.get(event, destination).await? else {
                    // Vanished between the write and the read: look again
                    // once a lease could have run out.
                    return Ok(Claim::Busy(lease_until));
                };
                // Claimable again by now (a lease just ran out): due at once.
                let current = delivery_from(&item)?;
                Ok(Claim::blocking(&current, now).unwrap_or(Claim::NotDue(now)))
            }
            Err(err) => Err(call_error("dynamodb", err).into()),
        }
    }

    async fn record_attempt(
        &self,
        attempt: &Attempt,
        delivery: &Delivery,
        lease: Timestamp,
    ) -> Result<bool, CoreError> {
        let inline = inline_attempt(attempt);
        // Recorded in the config table before this process's first index
        // entry; free after it.
        let shards = self.shards.for_writing().await?;
        let mut set = vec![
            "#state = :state",
            "attempts = :attempts",
            "series = :series",
            "deferrals = :deferrals",
            "updated_at = :updated",
        ];
        let mut remove = vec!["lease_until"];
        let mut values: HashMap<String, AttributeValue> = HashMap::from([
            (":state".into(), s(state_name(delivery.state))),
            (":attempts".into(), n(delivery.attempts)),
            (":series".into(), n(delivery.series)),
            (":deferrals".into(), n(delivery.deferrals)),
            (":updated".into(), n(delivery.updated_at.unix_millis())),
            (":lease".into(), n(lease.unix_millis())),
        ]);
        if delivery.state.is_indexed() {
            set.extend(["gsi1pk = :index", "gsi1sk = :event"]);
            values.insert(
                ":index".into(),
                s(shards.partition(
                    &state_partition(&delivery.destination, delivery.state),
                    &delivery.event_id,
                )),
            );
            values.insert(":event".into(), s(delivery.event_id.as_str()));
        } else {
            // Entries from before only failed and parked ones were indexed.
            remove.extend(["gsi1pk", "gsi1sk"]);
        }
        match delivery.next_attempt_at {
            Some(at) => {
                set.push("next_attempt_at = :next");
                values.insert(":next".into(), n(at.unix_millis()));
            }
            None => remove.push("next_attempt_at"),
        }
        if let Some(outcome) = delivery.last_outcome {
            set.push("last_outcome = :outcome");
            values.insert(
                ":outcome".into(),
                s(serde_json::to_string(&outcome).expect("outcomes serialize")),
            );
        }
        let update = |set: &[&str], values: &HashMap<String, AttributeValue>, condition: &str| {
            self.client
                .update_item()
                .table_name(&self.table)
                .key("pk", s(pk(&delivery.event_id)))
                .key("sk", s(delivery_sk(&delivery.destination)))
                .update_expression(format!(
                    "SET {} REMOVE {}",
                    set.join(", "),
                    remove.join(", ")
                ))
                .condition_expression(condition.to_string())
                .expression_attribute_names("#state", "state")
                .set_expression_attribute_values(Some(values.clone()))
                .send()
        };
        if inline {
            // The common case, a first series' success: the attempt goes
            // into the delivery's own item, which joins `gsi2` with it, so
            // recording it costs the one write that settles the delivery.
            let mut inline_set = set.clone();
            inline_set.extend(["done = :done", "gsi2pk = :gsi2pk", "gsi2sk = :gsi2sk"]);
            let mut inline_values = values.clone();
            inline_values.insert(":done".into(), s(attempt_doc(attempt)));
            inline_values.insert(":gsi2pk".into(), s(attempt_partition(attempt, shards)));
            inline_values.insert(":gsi2sk".into(), s(attempt_index_key(attempt)));
            match update(
                &inline_set,
                &inline_values,
                "lease_until = :lease AND attribute_not_exists(done)",
            )
            .await
            {
                Ok(_) => return Ok(true),
                // Lease lost (or, unexpectedly, a success already inline):
                // record the attempt as an item of its own, below.
                Err(err) if is_condition_failed(&err) => {}
                Err(err) => return Err(call_error("dynamodb", err).into()),
            }
        }
        // Two plain writes, not a transaction (which bills both at double):
        // the attempt first, since it was made whoever holds the lease now;
        // then the delivery's state, if the lease is still ours. A crash
        // between them leaves the delivery leased and pending, so it is
        // attempted again once the lease runs out, and both attempts stay
        // on record.
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(self.attempt_item(attempt, lease, shards)))
            .send()
            .await
            .map_err(|e| call_error("dynamodb", e))?;
        match update(&set, &values, "lease_until = :lease").await {
            Ok(_) => Ok(true),
            Err(err) if is_condition_failed(&err) => Ok(false),
            Err(err) => Err(call_error("dynamodb", err).into()),
        }
    }

    async fn park(
        &self,
        event: &EventId,
        destination: &DestinationId,
        now: Timestamp,
    ) -> Result<(), CoreError> {
        let shards = self.shards.for_writing().await?;
        let parked = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk(event)))
            .key("sk", s(delivery_sk(destination)))
            .update_expression(
                "SET event_id = :event, destination = :destination, #state = :parked, \
                 attempts = if_not_exists(attempts, :zero), series = if_not_exists(series, :zero), \
                 deferrals = if_not_exists(deferrals, :zero), updated_at = :now, \
                 gsi1pk = :index, gsi1sk = :event, \
                 expires_at = if_not_exists(expires_at, :expires)",
            )
            .expression_attribute_values(":expires", n(self.expires_at(event)))
            .condition_expression("attribute_not_exists(pk) OR #state = :pending")
            .expression_attribute_values(
                ":index",
                s(shards.partition(&state_partition(destination, DeliveryState::Parked), event)),
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":event", s(event.as_str()))
            .expression_attribute_values(":destination", s(destination.as_str()))
            .expression_attribute_values(":parked", s("parked"))
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":now", n(now.unix_millis()))
            .send()
            .await;
        match parked {
            Ok(_) => Ok(()),
            Err(err) if is_condition_failed(&err) => Ok(()),
            Err(err) => Err(call_error("dynamodb", err).into()),
        }
    }

    async fn delivery(
        &self,
        event: &EventId,
        destination: &DestinationId,
    ) -> Result<Option<Delivery>, CoreError> {
        match self.get(event, destination).await? {
            Some(item) => Ok(Some(delivery_from(&item)?)),
            None => Ok(None),
        }
    }

    async fn deliveries_for_event(&self, event: &EventId) -> Result<Vec<Delivery>, CoreError> {
        let items = self.query_prefix(event, "DLV#").await?;
        Ok(items
            .iter()
            .map(delivery_from)
            .collect::<Result<Vec<_>, _>>()?)
    }

    async fn attempts_for_event(&self, event: &EventId) -> Result<Vec<Attempt>, CoreError> {
        let mut attempts = self
            .query_prefix(event, "ATT#")
            .await?
            .iter()
            .map(attempt_from)
            .collect::<Result<Vec<_>, _>>()?;
        for delivery in self.query_prefix(event, "DLV#").await? {
            if delivery.contains_key("done") {
                attempts.push(attempt_from(&delivery)?);
            }
        }
        attempts.sort_by_key(|a| (a.started_at, a.series, a.number));
        Ok(attempts)
    }

    async fn deliveries_in_state(
        &self,
        destination: &DestinationId,
        state: DeliveryState,
        since: Option<Timestamp>,
        order: ListOrder,
        limit: usize,
    ) -> Result<Vec<EventId>, CoreError> {
        hookrelay_core::listable_by_destination(state)?;
        Ok(gsi1_event_ids(
            &self.client,
            &self.table,
            &self.state_partitions(destination, state).await?,
            since,
            order == ListOrder::OldestFirst,
            limit,
        )
        .await?)
    }

    async fn count_in_state(
        &self,
        destination: &DestinationId,
        state: DeliveryState,
    ) -> Result<u64, CoreError> {
        hookrelay_core::listable_by_destination(state)?;
        Ok(gsi1_count(
            &self.client,
            &self.table,
            &self.state_partitions(destination, state).await?,
        )
        .await?)
    }

    async fn reopen(
        &self,
        event: &EventId,
        destination: &DestinationId,
        now: Timestamp,
        new_series: bool,
    ) -> Result<bool, CoreError> {
        let restart = if new_series {
            "series = series + :one, attempts = :zero, deferrals = :zero, "
        } else {
            ""
        };
        let mut values: Item = HashMap::from([
            (":pending".into(), s("pending")),
            (":now".into(), n(now.unix_millis())),
        ]);
        if new_series {
            values.insert(":one".into(), n(1));
            values.insert(":zero".into(), n(0));
        }
        let reopened = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk(event)))
            .key("sk", s(delivery_sk(destination)))
            .update_expression(format!(
                "SET {restart}#state = :pending, next_attempt_at = :now, updated_at = :now \
                 REMOVE lease_until, gsi1pk, gsi1sk"
            ))
            .condition_expression("attribute_exists(pk) AND #state <> :pending")
            .expression_attribute_names("#state", "state")
            .set_expression_attribute_values(Some(values))
            .send()
            .await;
        match reopened {
            Ok(_) => Ok(true),
            Err(err) if is_condition_failed(&err) => Ok(false),
            Err(err) => Err(call_error("dynamodb", err).into()),
        }
    }

    async fn attempts_for_destination(
        &self,
        destination: &DestinationId,
        limit: usize,
    ) -> Result<Vec<Attempt>, CoreError> {
        merged_query(
            &self.client,
            &self.table,
            "gsi2",
            &self
                .shards
                .for_reading()
                .await?
                .partitions(&attempts_partition(destination)),
            None,
            false,
            limit,
        )
        .await?
        .iter()
        .map(|item| Ok(attempt_from(item)?))
        .collect()
    }
}
