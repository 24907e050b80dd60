//! DynamoDB's and SQS's billing rules, applied to requests and items as
//! they cross the wire (DynamoDB JSON, `{"S": "…"}` and so on).
//!
//! Sources: DynamoDB developer guide, "Item sizes and formats", "Read and
//! write capacity units (on-demand)", "Managing settings on global
//! secondary indexes: provisioned throughput considerations" (index
//! writes), "Transactions: capacity management"; SQS pricing ("each 64 KB
//! chunk of a payload is billed as 1 request"); S3 pricing, "Requests &
//! data retrievals" (PUT, COPY, POST, LIST at one price; GET, SELECT and
//! all other requests at another; DELETE free).
use base64::Engine;
use serde_json::{Map, Value};

/// A DynamoDB item in wire form: attribute name → typed value.
pub type WireItem = Map<String, Value>;

/// Bytes of one typed value (`{"S": "…"}`, `{"N": "…"}`, …).
pub fn value_size(value: &Value) -> usize {
    let Some((kind, inner)) = value.as_object().and_then(|m| m.iter().next()) else {
        return 0;
    };
    match kind.as_str() {
        "S" => inner.as_str().map_or(0, str::len),
        "N" => inner.as_str().map_or(0, number_size),
        "B" => inner.as_str().map_or(0, binary_size),
        "BOOL" | "NULL" => 1,
        "SS" => strings(inner).map(str::len).sum(),
        "NS" => strings(inner).map(number_size).sum(),
        "BS" => strings(inner).map(binary_size).sum(),
        // 3 bytes for the list or map, 1 more per element.
        "L" => {
            3 + inner
                .as_array()
                .map_or(0, |items| items.iter().map(|v| 1 + value_size(v)).sum())
        }
        "M" => {
            3 + inner.as_object().map_or(0, |m| {
                m.iter().map(|(k, v)| 1 + k.len() + value_size(v)).sum()
            })
        }
        _ => 0,
    }
}

fn strings(value: &Value) -> impl Iterator<Item = &str> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

fn binary_size(base64_text: &str) -> usize {
    base64::engine::general_purpose::STANDARD
        .decode(base64_text)
        .map_or(base64_text.len() * 3 / 4, |bytes| bytes.len())
}

/// A number takes one byte per two significant digits, plus one (and one
/// more if negative).
fn number_size(text: &str) -> usize {
    let negative = text.starts_with('-');
    let mantissa = text.split(['e', 'E']).next().unwrap_or(text);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0');
    let count = significant.len().max(1);
    count.div_ceil(2) + 1 + usize::from(negative)
}

/// An item's size: every attribute's name plus its value.
pub fn item_size(item: &WireItem) -> usize {
    item.iter()
        .map(|(name, v)| name.len() + value_size(v))
        .sum()
}

/// Write units of a standard write touching `bytes` (1 per KB, at least 1).
pub fn write_units(bytes: usize) -> f64 {
    bytes.div_ceil(1024).max(1) as f64
}

/// Read units of a read returning `bytes` (1 per 4 KB, at least 1; half
/// for an eventually consistent read).
pub fn read_units(bytes: usize, consistent: bool) -> f64 {
    let units = bytes.div_ceil(4096).max(1) as f64;
    if consistent {
        units
    } else {
        units / 2.0
    }
}

/// SQS bills each 64 KB chunk of a request's payload as a request.
pub fn sqs_requests(payload_bytes: usize) -> f64 {
    payload_bytes.div_ceil(64 * 1024).max(1) as f64
}

/// The price an S3 request is billed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum S3Tier {
    /// PUT, COPY, POST, LIST.
    Put,
    /// GET, SELECT, HEAD and every other request.
    Get,
    /// DELETE (and CANCEL).
    Free,
}

/// The tier of an S3 operation (`PutObject`, `GetObject`, …).
pub fn s3_tier(operation: &str) -> S3Tier {
    if operation.starts_with("Delete") {
        S3Tier::Free
    } else if operation.starts_with("Put")
        || operation.starts_with("Copy")
        || operation.starts_with("List")
        || operation.starts_with("Post")
        || operation.starts_with("CreateMultipartUpload")
        || operation.starts_with("UploadPart")
        || operation.starts_with("CompleteMultipartUpload")
    {
        S3Tier::Put
    } else {
        S3Tier::Get
    }
}

/// What a global secondary index holds of each item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Projection {
    KeysOnly,
    All,
    Include(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexSchema {
    pub name: String,
    /// The index's own key attributes (hash, then range if any).
    pub keys: Vec<String>,
    pub projection: Projection,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSchema {
    /// The table's key attributes (hash, then range if any).
    pub keys: Vec<String>,
    pub indexes: Vec<IndexSchema>,
}

/// Index entries have 100 bytes of overhead.
const INDEX_ENTRY_OVERHEAD: usize = 100;

impl TableSchema {
    /// The entry `item` has in `index`, if it is in it: its size.
    fn entry_size(&self, index: &IndexSchema, item: &WireItem) -> Option<usize> {
        if !index.keys.iter().all(|k| item.contains_key(k)) {
            return None;
        }
        let attribute = |name: &String| item.get(name).map_or(0, |v| name.len() + value_size(v));
        let keys: usize = self
            .keys
            .iter()
            .chain(index.keys.iter().filter(|k| !self.keys.contains(k)))
            .map(attribute)
            .sum();
        let projected = match &index.projection {
            Projection::KeysOnly => keys,
            Projection::All => item_size(item),
            Projection::Include(extra) => {
                keys + extra
                    .iter()
                    .filter(|k| !self.keys.contains(k) && !index.keys.contains(k))
                    .map(attribute)
                    .sum::<usize>()
            }
        };
        Some(projected + INDEX_ENTRY_OVERHEAD)
    }

    fn projected_changed(&self, index: &IndexSchema, before: &WireItem, after: &WireItem) -> bool {
        match &index.projection {
            Projection::KeysOnly => false,
            Projection::All => before != after,
            Projection::Include(extra) => extra.iter().any(|k| before.get(k) != after.get(k)),
        }
    }

    /// Write units spent on indexes when an item goes from `before` to
    /// `after` (`None`: absent): a new entry is one write, a removed entry
    /// one, a changed index key two (delete and put), a changed projected
    /// attribute one.
    pub fn index_write_units(
        &self,
        before: Option<&WireItem>,
        after: Option<&WireItem>,
    ) -> Vec<(String, f64)> {
        let mut spent: Vec<(String, f64)> = Vec::new();
        for (index, _, units) in self.index_partition_writes(before, after) {
            match spent.iter_mut().find(|(name, _)| *name == index) {
                Some((_, total)) => *total += units,
                None => spent.push((index, units)),
            }
        }
        spent
    }

    /// The same writes, each with the index partition (hash key value)
    /// it lands on: a moved entry's delete on the old partition, its put
    /// on the new one.
    pub fn index_partition_writes(
        &self,
        before: Option<&WireItem>,
        after: Option<&WireItem>,
    ) -> Vec<(String, String, f64)> {
        let partition = |index: &IndexSchema, item: &WireItem| {
            item.get(&index.keys[0])
                .map(|v| v.to_string())
                .unwrap_or_default()
        };
        let mut spent = Vec::new();
        for index in &self.indexes {
            let old = before.and_then(|item| self.entry_size(index, item));
            let new = after.and_then(|item| self.entry_size(index, item));
            let mut write = |item: &WireItem, size: usize| {
                spent.push((
                    index.name.clone(),
                    partition(index, item),
                    write_units(size),
                ));
            };
            match (old, new) {
                (None, None) => {}
                (None, Some(size)) => write(after.expect("new entry"), size),
                (Some(size), None) => write(before.expect("old entry"), size),
                (Some(old_size), Some(new_size)) => {
                    let (before, after) = (before.expect("old entry"), after.expect("new entry"));
                    let key_changed = index.keys.iter().any(|k| before.get(k) != after.get(k));
                    if key_changed {
                        write(before, old_size);
                        write(after, new_size);
                    } else if self.projected_changed(index, before, after) {
                        write(after, new_size);
                    }
                }
            }
        }
        spent
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(value: Value) -> WireItem {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn sizes_follow_the_documented_rules() {
        // Strings and names count their UTF-8 bytes.
        assert_eq!(item_size(&item(json!({"pk": {"S": "EVT#1"}}))), 2 + 5);
        assert_eq!(item_size(&item(json!({"name": {"S": "é"}}))), 4 + 2);
        // Numbers: a byte per two significant digits, plus one.
        assert_eq!(value_size(&json!({"N": "1"})), 2);
        // Leading and trailing zeros are not significant.
        assert_eq!(value_size(&json!({"N": "1700000000000"})), 2);
        assert_eq!(value_size(&json!({"N": "1764547200123"})), 8);
        assert_eq!(value_size(&json!({"N": "123"})), 3);
        assert_eq!(value_size(&json!({"N": "-123"})), 4);
        // Binary counts decoded bytes.
        assert_eq!(value_size(&json!({"B": "AAECAw=="})), 4);
        assert_eq!(value_size(&json!({"BOOL": true})), 1);
        // Lists and maps: 3 bytes, plus 1 per element.
        assert_eq!(
            value_size(&json!({"L": [{"S": "ab"}, {"N": "1"}]})),
            3 + 3 + 3
        );
        assert_eq!(value_size(&json!({"M": {"k": {"S": "v"}}})), 3 + 1 + 1 + 1);
    }

    #[test]
    fn units_round_up_per_kilobyte_and_per_four_kilobytes() {
        assert_eq!(write_units(0), 1.0);
        assert_eq!(write_units(1024), 1.0);
        assert_eq!(write_units(1025), 2.0);
        assert_eq!(read_units(4096, true), 1.0);
        assert_eq!(read_units(4097, true), 2.0);
        assert_eq!(read_units(100, false), 0.5);
        assert_eq!(sqs_requests(100), 1.0);
        assert_eq!(sqs_requests(64 * 1024 + 1), 2.0);
    }

    #[test]
    fn s3_requests_are_billed_at_their_tier() {
        assert_eq!(s3_tier("PutObject"), S3Tier::Put);
        assert_eq!(s3_tier("ListObjectsV2"), S3Tier::Put);
        assert_eq!(s3_tier("CopyObject"), S3Tier::Put);
        assert_eq!(s3_tier("GetObject"), S3Tier::Get);
        assert_eq!(s3_tier("HeadObject"), S3Tier::Get);
        assert_eq!(s3_tier("DeleteObject"), S3Tier::Free);
    }

    fn schema() -> TableSchema {
        TableSchema {
            keys: vec!["pk".into(), "sk".into()],
            indexes: vec![
                IndexSchema {
                    name: "gsi1".into(),
                    keys: vec!["gsi1pk".into(), "gsi1sk".into()],
                    projection: Projection::KeysOnly,
                },
                IndexSchema {
                    name: "gsi2".into(),
                    keys: vec!["gsi2pk".into(), "gsi2sk".into()],
                    projection: Projection::All,
                },
            ],
        }
    }

    #[test]
    fn index_writes_count_entries_added_moved_removed_and_changed() {
        let schema = schema();
        let pending = item(
            json!({"pk": {"S": "a"}, "sk": {"S": "b"}, "gsi1pk": {"S": "P"}, "gsi1sk": {"S": "x"}, "n": {"N": "1"}}),
        );
        let mut failed = pending.clone();
        failed.insert("gsi1pk".into(), json!({"S": "F"}));
        let mut touched = pending.clone();
        touched.insert("n".into(), json!({"N": "2"}));
        let plain = item(json!({"pk": {"S": "a"}, "sk": {"S": "b"}}));
        // Added: one write; moved to another key: delete plus put.
        assert_eq!(
            schema.index_write_units(None, Some(&pending)),
            vec![("gsi1".to_string(), 1.0)]
        );
        assert_eq!(
            schema.index_write_units(Some(&pending), Some(&failed)),
            vec![("gsi1".to_string(), 2.0)]
        );
        // A keys-only entry is not rewritten when other attributes change.
        assert!(schema
            .index_write_units(Some(&pending), Some(&touched))
            .is_empty());
        // Removed: one write. Never in the index: none.
        assert_eq!(
            schema.index_write_units(Some(&pending), Some(&plain)),
            vec![("gsi1".to_string(), 1.0)]
        );
        assert!(schema.index_write_units(None, Some(&plain)).is_empty());
        // An all-attributes entry is rewritten when anything changes, and
        // sized with the whole item.
        let mut attempt = item(
            json!({"pk": {"S": "a"}, "sk": {"S": "c"}, "gsi2pk": {"S": "D"}, "gsi2sk": {"S": "1"}}),
        );
        attempt.insert("doc".into(), json!({"S": "x".repeat(1500)}));
        assert_eq!(
            schema.index_write_units(None, Some(&attempt)),
            vec![("gsi2".to_string(), 2.0)]
        );
    }

    #[test]
    fn index_writes_name_the_partitions_they_land_on() {
        let schema = schema();
        let pending = item(
            json!({"pk": {"S": "a"}, "sk": {"S": "b"}, "gsi1pk": {"S": "P"}, "gsi1sk": {"S": "x"}}),
        );
        let mut failed = pending.clone();
        failed.insert("gsi1pk".into(), json!({"S": "F"}));
        let writes = schema.index_partition_writes(Some(&pending), Some(&failed));
        let partitions: Vec<(&str, &str)> = writes
            .iter()
            .map(|(index, partition, _)| (index.as_str(), partition.as_str()))
            .collect();
        assert_eq!(
            partitions,
            [("gsi1", "{\"S\":\"P\"}"), ("gsi1", "{\"S\":\"F\"}")]
        );
    }
}
