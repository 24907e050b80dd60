//! The sparse indexes, spread over shards so no busy source or destination
//! meets one partition's write ceiling (about 1 000 write units a second).
//!
//! An index partition per source (`SRC#{source}`), per destination and
//! state (`DLV#{destination}#{state}`) and per destination's attempts
//! (`DST#{destination}`) is split into [`IndexShards`] partitions, the
//! shard picked from the event id (`SRC#{source}#07`), so one source's or
//! destination's writes spread evenly. Readers query every shard (and the
//! unsharded partition that entries written before sharding are in) at
//! once and merge them in the order they promise. Every shard means every
//! shard any writer has used: the highest count, recorded in the config
//! table (see the `shard_count` module).
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use hookrelay_models::{EventId, Timestamp};
use std::collections::HashMap;

use crate::error::{call_error, AwsError};

type Item = HashMap<String, AttributeValue>;

/// How many shards each index partition is spread over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct IndexShards(u16);

impl Default for IndexShards {
    fn default() -> Self {
        IndexShards::DEFAULT
    }
}

impl IndexShards {
    /// One source at 10 000 webhooks a second puts about 310 write units a
    /// second on each of 32 shards: under a third of a partition's limit.
    pub const DEFAULT: IndexShards = IndexShards(32);
    pub const MAX: u16 = 256;

    pub fn new(count: u16) -> Result<IndexShards, AwsError> {
        if (1..=Self::MAX).contains(&count) {
            Ok(IndexShards(count))
        } else {
            Err(AwsError::BadEnv(
                "HOOKRELAY_INDEX_SHARDS",
                format!("{count} (1 to {})", Self::MAX),
            ))
        }
    }

    /// `HOOKRELAY_INDEX_SHARDS`, or the default.
    pub fn from_env() -> Result<IndexShards, AwsError> {
        match std::env::var("HOOKRELAY_INDEX_SHARDS") {
            Ok(value) if !value.is_empty() => {
                let count = value
                    .parse::<u16>()
                    .map_err(|_| AwsError::BadEnv("HOOKRELAY_INDEX_SHARDS", value.clone()))?;
                IndexShards::new(count)
            }
            _ => Ok(IndexShards::DEFAULT),
        }
    }

    pub fn count(self) -> u16 {
        self.0
    }

    /// Which shard `event`'s entries go to: FNV-1a of its id, so the same
    /// event lands in the same shard in every index and every process.
    pub fn shard_of(self, event: &EventId) -> u16 {
        let mut hash: u32 = 0x811c_9dc5;
        for byte in event.as_str().bytes() {
            hash ^= u32::from(byte);
            hash = hash.wrapping_mul(0x0100_0193);
        }
        (hash % u32::from(self.0)) as u16
    }

    /// The partition of `base` that `event`'s entry goes to.
    pub(crate) fn partition(self, base: &str, event: &EventId) -> String {
        format!("{base}#{:02}", self.shard_of(event))
    }

    /// Every partition of `base` a reader looks in: each shard's, and the
    /// unsharded one entries written before sharding are in.
    pub(crate) fn partitions(self, base: &str) -> Vec<String> {
        std::iter::once(base.to_string())
            .chain((0..self.0).map(|shard| format!("{base}#{shard:02}")))
            .collect()
    }
}

/// Every item of `partitions` in `index` whose sort key is at least
/// `from`, at most `limit` from each partition's chosen end, merged in
/// sort key order (ascending or not) and cut to `limit`: the first `limit`
/// of them all, since each partition's first `limit` are among them.
pub(crate) async fn merged_query(
    client: &Client,
    table: &str,
    index: &str,
    partitions: &[String],
    from: Option<&str>,
    ascending: bool,
    limit: usize,
) -> Result<Vec<Item>, AwsError> {
    let (pk, sk) = (format!("{index}pk"), format!("{index}sk"));
    let queries = partitions.iter().map(|partition| {
        query_partition(
            client, table, index, &pk, &sk, partition, from, ascending, limit,
        )
    });
    let mut items: Vec<Item> = futures::future::try_join_all(queries)
        .await?
        .into_iter()
        .flatten()
        .collect();
    let sort_key = |item: &Item| {
        item.get(&sk)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_default()
    };
    items.sort_by_cached_key(sort_key);
    if !ascending {
        items.reverse();
    }
    items.truncate(limit);
    Ok(items)
}

#[allow(clippy::too_many_arguments)]
async fn query_partition(
    client: &Client,
    table: &str,
    index: &str,
    pk: &str,
    sk: &str,
    partition: &str,
    from: Option<&str>,
    ascending: bool,
    limit: usize,
) -> Result<Vec<Item>, AwsError> {
    let mut values = HashMap::from([(":pk".to_string(), AttributeValue::S(partition.into()))]);
    let condition = match from {
        Some(from) => {
            values.insert(":from".to_string(), AttributeValue::S(from.into()));
            format!("{pk} = :pk AND {sk} >= :from")
        }
        None => format!("{pk} = :pk"),
    };
    let mut items = Vec::new();
    let mut start = None;
    while items.len() < limit {
        let page = client
            .query()
            .table_name(table)
            .index_name(index)
            .key_condition_expression(&condition)
            .set_expression_attribute_values(Some(values.clone()))
            .scan_index_forward(ascending)
            .limit((limit - items.len()).min(1000) as i32)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(|e| call_error("dynamodb", e))?;
        items.extend(page.items().iter().cloned());
        match page.last_evaluated_key() {
            Some(key) if !key.is_empty() => start = Some(key.clone()),
            _ => break,
        }
    }
    items.truncate(limit);
    Ok(items)
}

/// Up to `limit` event ids in `partitions` of `gsi1` received at or after
/// `since`; oldest first when `ascending`, newest first otherwise.
pub(crate) async fn gsi1_event_ids(
    client: &Client,
    table: &str,
    partitions: &[String],
    since: Option<Timestamp>,
    ascending: bool,
    limit: usize,
) -> Result<Vec<EventId>, AwsError> {
    let from = since.map(EventId::lower_bound);
    let items = merged_query(
        client,
        table,
        "gsi1",
        partitions,
        from.as_ref().map(EventId::as_str),
        ascending,
        limit,
    )
    .await?;
    items
        .iter()
        .filter_map(|item| item.get("gsi1sk").and_then(|v| v.as_s().ok()))
        .map(|key| {
            EventId::parse(key)
                .map_err(|_| AwsError::Corrupt(format!("index entry {key:?} is not an event id")))
        })
        .collect()
}

/// How many entries `partitions` of `gsi1` hold: `Select=COUNT` queries,
/// one per partition at once, each paged through (DynamoDB counts up to
/// 1 MB of entries per page); no entry is returned.
pub(crate) async fn gsi1_count(
    client: &Client,
    table: &str,
    partitions: &[String],
) -> Result<u64, AwsError> {
    let counts = partitions.iter().map(|partition| async move {
        let mut total = 0u64;
        let mut start = None;
        loop {
            let page = client
                .query()
                .table_name(table)
                .index_name("gsi1")
                .key_condition_expression("gsi1pk = :pk")
                .expression_attribute_values(":pk", AttributeValue::S(partition.clone()))
                .select(aws_sdk_dynamodb::types::Select::Count)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| call_error("dynamodb", e))?;
            total += u64::try_from(page.count()).unwrap_or(0);
            match page.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => return Ok::<u64, AwsError>(total),
            }
        }
    });
    Ok(futures::future::try_join_all(counts)
        .await?
        .into_iter()
        .sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_spread_events_evenly_and_stay_put() {
        let shards = IndexShards::DEFAULT;
        let mut counts = vec![0u32; shards.count() as usize];
        let at = Timestamp::from_unix_millis(1_790_000_000_000);
        for _ in 0..32_000 {
            let id = EventId::new(at);
            let shard = shards.shard_of(&id);
            assert_eq!(
                shard,
                shards.shard_of(&EventId::parse(id.as_str()).unwrap())
            );
            counts[shard as usize] += 1;
        }
        // 1 000 each on average.
        let (min, max) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
        assert!(*min > 850 && *max < 1150, "{counts:?}");
    }

    #[test]
    fn partitions_are_the_unsharded_one_and_every_shard() {
        let shards = IndexShards::new(3).unwrap();
        assert_eq!(
            shards.partitions("SRC#stripe"),
            [
                "SRC#stripe",
                "SRC#stripe#00",
                "SRC#stripe#01",
                "SRC#stripe#02"
            ]
        );
        let id = EventId::new(Timestamp::from_unix_millis(1));
        assert!(shards.partitions("SRC#stripe")[1..].contains(&shards.partition("SRC#stripe", &id)));
    }

    #[test]
    fn a_shard_count_out_of_range_is_refused() {
        assert!(IndexShards::new(0).is_err());
        assert!(IndexShards::new(257).is_err());
        assert_eq!(IndexShards::new(256).unwrap().count(), 256);
    }
}
