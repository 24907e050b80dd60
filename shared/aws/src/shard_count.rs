//! How many index shards a process writes with, and how many it reads:
//! every shard any writer has used, as recorded in the config table.
//!
//! An index entry goes to the shard its event id hashes to under the
//! writer's count, and a listing finds it only if it queries that shard.
//! Processes need not agree on the count: a stack redeployed with a
//! higher `IndexShards` or a lower one, or an admin CLI, console or
//! `hookrelay dev --aws` run without `HOOKRELAY_INDEX_SHARDS` (default
//! 32). So every writer records the count it writes with, before its
//! first entry, in one item of the config table, `pk` = `INDEX`, `sk` =
//! `SHARDS`, `shards` (N): a conditional update that only ever raises it,
//! so it holds the highest count ever used. Every reader queries
//! max(recorded, its own) shards, and entries written under a count since
//! lowered are listed until they expire. No record (a table only ever
//! written before it existed) means the reader's own count.
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

use crate::error::{call_error, is_condition_failed, AwsError};
use crate::index::IndexShards;

/// The record's key. The config store reads, writes and deletes only
/// items under `SOURCE`, `DESTINATION` and `ROUTE`, so a pushed
/// configuration (`replace`) neither lists this item nor removes it.
const RECORD_PK: &str = "INDEX";
const RECORD_SK: &str = "SHARDS";

/// How long a reader keeps the count it read (per process, not per
/// listing): a dispatcher releasing parked deliveries lists once per
/// delivery, and a GetItem each time would be waste. Within a Lambda the
/// count only changes across a redeployment, which starts new instances;
/// a long-running console or `hookrelay dev --aws` sees a raise within a
/// minute.
const READ_FOR: Duration = Duration::from_secs(60);

/// The shard count a store writes index entries with, and the one it
/// lists them with.
#[derive(Clone)]
pub struct ShardCount {
    own: IndexShards,
    record: Option<Arc<Record>>,
}

struct Record {
    client: Client,
    table: String,
    /// Set once this process's count is recorded: every write after the
    /// first costs nothing more.
    written: OnceCell<()>,
    /// The count last read for listing, and when.
    read: Mutex<Option<(IndexShards, Instant)>>,
}

impl std::fmt::Debug for ShardCount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShardCount")
            .field("own", &self.own)
            .field("table", &self.record.as_ref().map(|r| &r.table))
            .finish()
    }
}

impl ShardCount {
    /// `own` for writing and reading, neither recorded nor read: for a
    /// table that no process with another count writes to.
    pub fn fixed(own: IndexShards) -> Self {
        ShardCount { own, record: None }
    }

    /// Writes with `own`, recorded in `config_table` first (once per
    /// process); reads max(recorded, `own`).
    pub fn recorded_in(own: IndexShards, client: Client, config_table: impl Into<String>) -> Self {
        ShardCount {
            own,
            record: Some(Arc::new(Record {
                client,
                table: config_table.into(),
                written: OnceCell::new(),
                read: Mutex::new(None),
            })),
        }
    }

    /// The count this process writes with.
    pub fn own(&self) -> IndexShards {
        self.own
    }

    /// Records this process's count unless an equal or higher one is
    /// recorded: one conditional UpdateItem, the first time it is called
    /// (a Lambda calls it at its cold start); after that, nothing. A
    /// failure is tried again on the next call.
    pub async fn record(&self) -> Result<(), AwsError> {
        let Some(record) = &self.record else {
            return Ok(());
        };
        record
            .written
            .get_or_try_init(|| async {
                let updated = record
                    .client
                    .update_item()
                    .table_name(&record.table)
                    .key("pk", AttributeValue::S(RECORD_PK.into()))
                    .key("sk", AttributeValue::S(RECORD_SK.into()))
                    .update_expression("SET #shards = :n")
                    .condition_expression("attribute_not_exists(#shards) OR #shards < :n")
                    .expression_attribute_names("#shards", "shards")
                    .expression_attribute_values(
                        ":n",
                        AttributeValue::N(self.own.count().to_string()),
                    )
                    .send()
                    .await;
                match updated {
                    Ok(_) => Ok(()),
                    // An equal or higher count is recorded: readers already
                    // query every shard this process writes to.
                    Err(err) if is_condition_failed(&err) => Ok(()),
                    Err(err) => Err(call_error("dynamodb", err)),
                }
            })
            .await?;
        Ok(())
    }

    /// The recorded count, read now: `None` if nothing is recorded, or
    /// for a fixed count.
    pub async fn recorded(&self) -> Result<Option<IndexShards>, AwsError> {
        let Some(record) = &self.record else {
            return Ok(None);
        };
        let found = record
            .client
            .get_item()
            .table_name(&record.table)
            .key("pk", AttributeValue::S(RECORD_PK.into()))
            .key("sk", AttributeValue::S(RECORD_SK.into()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| call_error("dynamodb", e))?;
        let Some(value) = found.item().and_then(|item| item.get("shards")) else {
            return Ok(None);
        };
        let count = value
            .as_n()
            .ok()
            .and_then(|n| n.parse::<u16>().ok())
            .and_then(|n| IndexShards::new(n).ok())
            .ok_or_else(|| AwsError::Corrupt(format!("recorded index shard count {value:?}")))?;
        Ok(Some(count))
    }

    /// The count to write an entry with, recorded before the first entry:
    /// no entry is ever in a shard a reader does not query.
    pub(crate) async fn for_writing(&self) -> Result<IndexShards, AwsError> {
        self.record().await?;
        Ok(self.own)
    }

    /// The count to list with: the recorded one or this process's own,
    /// whichever is higher, read at most once a [`READ_FOR`].
    pub(crate) async fn for_reading(&self) -> Result<IndexShards, AwsError> {
        let Some(record) = &self.record else {
            return Ok(self.own);
        };
        let cached = *record.read.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((count, at)) = cached {
            if at.elapsed() < READ_FOR {
                return Ok(count);
            }
        }
        let count = self.recorded().await?.map_or(self.own, |c| c.max(self.own));
        *record.read.lock().unwrap_or_else(|e| e.into_inner()) = Some((count, Instant::now()));
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_fixed_count_is_neither_recorded_nor_read() {
        let fixed = ShardCount::fixed(IndexShards::new(7).unwrap());
        fixed.record().await.unwrap();
        assert_eq!(fixed.recorded().await.unwrap(), None);
        assert_eq!(fixed.for_writing().await.unwrap().count(), 7);
        assert_eq!(fixed.for_reading().await.unwrap().count(), 7);
    }
}
