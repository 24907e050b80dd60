//! Why a document does not match a pattern: the first field that failed,
//! in the order the matcher checks them (at each level the fields by
//! name, as a JSON object keeps them, then its `$or`s), (issue 27: `hookrelay routes test` and the
//! console's per-route match say which part of a filter turned an event
//! away). Kept apart from [`EventPattern::matches`], which routes every
//! event and so stays a plain yes or no; explaining is for people and
//! may repeat work.
//!
//! The path names fields as the pattern does, dotted (`body.total`,
//! `body.items.sku` for a field of the objects in an array), without array
//! indexes. Where the document holds an array of objects and none of them
//! matches, the first element's failing field is given. Where no `$or`
//! alternative matches, the first alternative's failing field is given:
//! each alternative failed, and the first is where a reader of the pattern
//! starts.
use serde_json::Value;

use super::{leaf_matches, EventPattern, Node, Object};

impl EventPattern {
    /// The path of the first field (each level's fields by name, then its
    /// `$or`s) that keeps `document` from matching; `None` exactly when [`Self::matches`]
    /// is true.
    pub fn first_mismatch(&self, document: &Value) -> Option<String> {
        self.root.first_mismatch(Some(document), "")
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// A path for a mismatch no single field explains (an empty array where
/// fields were wanted): the place itself.
fn here(path: &str) -> String {
    if path.is_empty() {
        "(the whole event)".to_string()
    } else {
        path.to_string()
    }
}

impl Object {
    /// Mirrors [`Object::matches`] step for step, stopping at the first
    /// step that fails.
    fn first_mismatch(&self, document: Option<&Value>, path: &str) -> Option<String> {
        if let Some(Value::Array(items)) = document {
            if items.iter().any(|item| self.matches(Some(item))) {
                return None;
            }
            return match items.first() {
                Some(first) => self.first_mismatch(Some(first), path),
                // No element to match in: as if absent, unless that would
                // match (`exists: false`), when the empty array is to blame.
                None => self.first_mismatch(None, path),
            }
            .or_else(|| Some(here(path)));
        }
        let map = match document {
            Some(Value::Object(map)) => Some(map),
            _ => None,
        };
        let field = |key: &str| map.and_then(|m| m.get(key));
        for (key, node) in &self.fields {
            let failed = match node {
                Node::Object(inner) => inner.first_mismatch(field(key), &join(path, key)),
                Node::Leaf(matchers) => {
                    (!leaf_matches(matchers, field(key))).then(|| join(path, key))
                }
            };
            if failed.is_some() {
                return failed;
            }
        }
        for alternatives in &self.ors {
            if !alternatives.iter().any(|alt| alt.matches(document)) {
                return alternatives[0]
                    .first_mismatch(document, path)
                    .or_else(|| Some(here(path)));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn mismatch(pattern: Value, document: Value) -> Option<String> {
        EventPattern::from_value(&pattern)
            .unwrap()
            .first_mismatch(&document)
    }

    #[test]
    fn the_first_failing_field_by_name_is_named_by_its_dotted_path() {
        let pattern = json!({
            "type": [{"prefix": "order."}],
            "body": {"total": [{"numeric": [">", 100]}], "currency": ["EUR"]}
        });
        let event = |kind: &str, total: u32, currency: &str| json!({"type": kind, "body": {"total": total, "currency": currency}});
        assert_eq!(
            mismatch(pattern.clone(), event("order.paid", 250, "EUR")),
            None
        );
        assert_eq!(
            mismatch(pattern.clone(), event("order.paid", 50, "EUR")).as_deref(),
            Some("body.total")
        );
        assert_eq!(
            mismatch(pattern.clone(), event("refund", 250, "EUR")).as_deref(),
            Some("type")
        );
        // Both body fields fail: `currency` comes first by name, and `body`
        // before `type`.
        assert_eq!(
            mismatch(pattern.clone(), event("refund", 50, "USD")).as_deref(),
            Some("body.currency")
        );
        // A missing object fails on its first field.
        assert_eq!(
            mismatch(pattern, json!({"type": "order.paid"})).as_deref(),
            Some("body.currency")
        );
    }

    #[test]
    fn an_or_that_fails_names_its_first_alternatives_field() {
        let pattern = json!({"body": {"$or": [{"a": [1]}, {"b": {"c": [2]}}]}});
        assert_eq!(
            mismatch(pattern.clone(), json!({"body": {"b": {"c": 2}}})),
            None
        );
        assert_eq!(
            mismatch(pattern, json!({"body": {"a": 3, "b": {"c": 3}}})).as_deref(),
            Some("body.a")
        );
    }

    #[test]
    fn arrays_of_objects_name_the_field_without_an_index() {
        let pattern = json!({"body": {"items": {"sku": [{"prefix": "X-"}]}}});
        let items = json!({"body": {"items": [{"sku": "A-1"}, {"sku": "B-2"}]}});
        assert_eq!(
            mismatch(pattern.clone(), items).as_deref(),
            Some("body.items.sku")
        );
        // An empty array where a field may be absent: the array is to blame.
        let absent = json!({"body": {"items": {"sku": [{"exists": false}]}}});
        assert_eq!(
            mismatch(absent, json!({"body": {"items": []}})).as_deref(),
            Some("body.items")
        );
        assert_eq!(
            mismatch(pattern, json!({"body": {"items": []}})).as_deref(),
            Some("body.items.sku")
        );
    }
}
