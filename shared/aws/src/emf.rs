//! Metrics as CloudWatch Embedded Metric Format: one JSON line on stdout per
//! metric, which Lambda ships to CloudWatch Logs and CloudWatch turns into
//! metrics in the `hookrelay` namespace, dimensioned by function (and by
//! reason for rejections). No API calls, no extra latency.
use hookrelay_core::{Metric, Metrics};
use hookrelay_models::Timestamp;
use serde_json::json;
use std::io::Write;

pub const NAMESPACE: &str = "hookrelay";

pub struct EmfMetrics {
    function: &'static str,
}

impl EmfMetrics {
    /// `function` is `receiver` or `dispatcher`, the `Function` dimension.
    pub fn new(function: &'static str) -> Self {
        EmfMetrics { function }
    }
}

/// The EMF document for one metric.
pub fn emf_line(function: &str, metric: Metric, at: Timestamp) -> String {
    let (value, unit) = match metric {
        Metric::Delivered { latency_ms } => (latency_ms, "Milliseconds"),
        _ => (1, "Count"),
    };
    let name = match metric {
        Metric::Delivered { .. } => "DeliveryLatency",
        other => other.name(),
    };
    let mut metrics = vec![json!({ "Name": name, "Unit": unit })];
    let mut document = json!({
        "Function": function,
        name: value,
    });
    let mut dimensions = vec!["Function"];
    if let Metric::Rejected(reason) = metric {
        document["Reason"] = json!(reason);
        dimensions.push("Reason");
    }
    if let Metric::Delivered { .. } = metric {
        // Count deliveries alongside their latency.
        metrics.push(json!({ "Name": "Delivered", "Unit": "Count" }));
        document["Delivered"] = json!(1);
    }
    document["_aws"] = json!({
        "Timestamp": at.unix_millis(),
        "CloudWatchMetrics": [{
            "Namespace": NAMESPACE,
            "Dimensions": [dimensions],
            "Metrics": metrics,
        }],
    });
    document.to_string()
}

impl Metrics for EmfMetrics {
    fn record(&self, metric: Metric) {
        let line = emf_line(self.function, metric, Timestamp::now());
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn rejections_carry_a_reason_dimension() {
        let line = emf_line(
            "receiver",
            Metric::Rejected("unauthenticated"),
            Timestamp::from_unix_millis(5),
        );
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
        let line = emf_line(
            "dispatcher",
            Metric::Delivered { latency_ms: 42 },
            Timestamp::from_unix_millis(5),
        );
        let doc: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(doc["DeliveryLatency"], 42);
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
}
