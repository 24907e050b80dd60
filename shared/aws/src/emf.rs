//! Metrics as CloudWatch Embedded Metric Format: JSON lines on stdout,
//! which Lambda ships to CloudWatch Logs and CloudWatch turns into metrics
//! in the `hookrelay` namespace, dimensioned by function (and by reason for
//! rejections). No API calls, no extra latency.
//!
//! Metrics are gathered for an invocation and written when it ends
//! ([`EmfMetrics::flush`]), one document per set of dimensions: a webhook
//! costs one line, not one per metric, and a batch of deliveries one line
//! with their latencies as an array. Logs are billed by the byte.
use hookrelay_core::{Metric, Metrics};
use hookrelay_models::Timestamp;
use serde_json::{json, Map, Value};
use std::io::Write;
use std::sync::Mutex;

pub const NAMESPACE: &str = "hookrelay";

/// EMF takes at most 100 values for one metric in one document.
const MAX_VALUES: usize = 100;

pub struct EmfMetrics {
    function: &'static str,
    pending: Mutex<Vec<Metric>>,
}

impl EmfMetrics {
    /// `function` is `receiver` or `dispatcher`, the `Function` dimension.
    pub fn new(function: &'static str) -> Self {
        EmfMetrics {
            function,
            pending: Mutex::new(Vec::new()),
        }
    }

    /// Writes what was recorded since the last flush. Call it once per
    /// invocation, when the handler is done.
    pub fn flush(&self) {
        let metrics = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()));
        if metrics.is_empty() {
            return;
        }
        let mut out = std::io::stdout().lock();
        for line in emf_lines(self.function, &metrics, Timestamp::now()) {
            let _ = writeln!(out, "{line}");
        }
    }
}

/// A metric's name, unit and value.
fn measure(metric: Metric) -> (&'static str, &'static str, u64) {
    match metric {
        Metric::Delivered { latency_ms } => ("DeliveryLatency", "Milliseconds", latency_ms),
        other => (other.name(), "Count", 1),
    }
}

/// One document holding `metrics` (sharing one set of dimensions): counts
/// summed, other measurements as arrays of values.
fn document(function: &str, reason: Option<&str>, metrics: &[Metric], at: Timestamp) -> String {
    let mut names: Vec<(&str, &str)> = Vec::new();
    let mut values: Map<String, Value> = Map::new();
    let mut add = |name: &'static str, unit: &'static str, value: u64| {
        if !names.iter().any(|(n, _)| *n == name) {
            names.push((name, unit));
        }
        let slot = values.entry(name).or_insert_with(|| match unit {
            "Count" => json!(0),
            _ => json!([]),
        });
        match slot {
            Value::Array(list) => list.push(json!(value)),
            count => *count = json!(count.as_u64().unwrap_or(0) + value),
        }
    };
    for metric in metrics {
        let (name, unit, value) = measure(*metric);
        add(name, unit, value);
        if let Metric::Delivered { .. } = metric {
            // Count deliveries alongside their latency.
            add("Delivered", "Count", 1);
        }
    }
    let mut document = values;
    document.insert("Function".into(), json!(function));
    let mut dimensions = vec!["Function"];
    if let Some(reason) = reason {
        document.insert("Reason".into(), json!(reason));
        dimensions.push("Reason");
    }
    let declared: Vec<Value> = names
        .iter()
        .map(|(name, unit)| json!({ "Name": name, "Unit": unit }))
        .collect();
    document.insert(
        "_aws".into(),
        json!({
            "Timestamp": at.unix_millis(),
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [dimensions],
                "Metrics": declared,
            }],
        }),
    );
    Value::Object(document).to_string()
}

/// The EMF documents for what one invocation recorded: one for the
/// function's own metrics, one per rejection reason, and more only past
/// EMF's 100 values for a metric.
pub fn emf_lines(function: &str, metrics: &[Metric], at: Timestamp) -> Vec<String> {
    let mut groups: Vec<(Option<&'static str>, Vec<Metric>)> = Vec::new();
    for metric in metrics {
        let reason = match metric {
            Metric::Rejected(reason) => Some(*reason),
            _ => None,
        };
        match groups.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, group)) => group.push(*metric),
            None => groups.push((reason, vec![*metric])),
        }
    }
    let mut lines = Vec::new();
    for (reason, group) in groups {
        for chunk in group.chunks(MAX_VALUES) {
            lines.push(document(function, reason, chunk, at));
        }
    }
    lines
}

impl Metrics for EmfMetrics {
    fn record(&self, metric: Metric) {
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(metric);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn rejections_carry_a_reason_dimension() {
        let line = emf_lines(
            "receiver",
            &[Metric::Rejected("unauthenticated")],
            Timestamp::from_unix_millis(5),
        )
        .remove(0);
        let doc: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(doc["Rejected"], 1);
        assert_eq!(doc["Reason"], "unauthenticated");
        assert_eq!(doc["_aws"]["Timestamp"], 5);
        let spec = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(spec["Namespace"], "hookrelay");
        assert_eq!(
            spec["Dimensions"][0],
            serde_json::json!(["Function", "Reason"])
        );
        assert_eq!(spec["Metrics"][0]["Name"], "Rejected");
    }

    #[test]
    fn deliveries_record_latency_and_a_count() {
        let line = emf_lines(
            "dispatcher",
            &[Metric::Delivered { latency_ms: 42 }],
            Timestamp::from_unix_millis(5),
        )
        .remove(0);
        let doc: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(doc["DeliveryLatency"], json!([42]));
        assert_eq!(doc["Delivered"], 1);
        let names: Vec<&str> = doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Name"].as_str().unwrap())
            .collect();
        assert_eq!(names, vec!["DeliveryLatency", "Delivered"]);
        // Every declared metric has a value in the document.
        for name in names {
            assert!(doc.get(name).is_some(), "{name}");
        }
    }

    #[test]
    fn an_invocation_writes_one_document_per_set_of_dimensions() {
        let metrics = [
            Metric::Received,
            Metric::Enqueued,
            Metric::Delivered { latency_ms: 10 },
            Metric::Rejected("unauthenticated"),
            Metric::Delivered { latency_ms: 30 },
            Metric::Enqueued,
            Metric::Rejected("malformed"),
            Metric::Rejected("unauthenticated"),
        ];
        let lines = emf_lines("dispatcher", &metrics, Timestamp::from_unix_millis(5));
        let docs: Vec<Value> = lines
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(docs.len(), 3, "{lines:?}");
        assert_eq!(docs[0]["Received"], 1);
        assert_eq!(docs[0]["Enqueued"], 2);
        assert_eq!(docs[0]["Delivered"], 2);
        assert_eq!(docs[0]["DeliveryLatency"], json!([10, 30]));
        assert!(docs[0].get("Reason").is_none());
        assert_eq!(
            (docs[1]["Reason"].as_str(), docs[1]["Rejected"].as_u64()),
            (Some("unauthenticated"), Some(2))
        );
        assert_eq!(
            (docs[2]["Reason"].as_str(), docs[2]["Rejected"].as_u64()),
            (Some("malformed"), Some(1))
        );
        for doc in &docs {
            for declared in doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]
                .as_array()
                .unwrap()
            {
                let name = declared["Name"].as_str().unwrap();
                assert!(doc.get(name).is_some(), "{name} declared without a value");
            }
        }
    }

    #[test]
    fn more_than_a_hundred_values_go_in_more_documents() {
        let metrics = vec![Metric::Delivered { latency_ms: 1 }; 250];
        let lines = emf_lines("dispatcher", &metrics, Timestamp::from_unix_millis(5));
        let lengths: Vec<usize> = lines
            .iter()
            .map(|l| {
                let doc: Value = serde_json::from_str(l).unwrap();
                doc["DeliveryLatency"].as_array().unwrap().len()
            })
            .collect();
        assert_eq!(lengths, [100, 100, 50]);
    }

    #[test]
    fn nothing_recorded_writes_nothing() {
        assert!(emf_lines("receiver", &[], Timestamp::from_unix_millis(5)).is_empty());
    }
}
