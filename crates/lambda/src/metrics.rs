//! CloudWatch metrics in the Embedded Metric Format: one JSON line on stdout per invocation,
//! which CloudWatch Logs turns into metrics with no API call and no extra latency. Written by
//! hand: the format is one small JSON object, not worth a dependency.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

/// The CloudWatch namespace of every ichigen metric.
pub const NAMESPACE: &str = "ichigen";

/// Counts of one invocation, emitted together.
#[derive(Debug, Clone)]
pub struct Metrics {
    function: &'static str,
    counts: BTreeMap<String, f64>,
}

impl Metrics {
    /// Metrics of `function` (the `Function` dimension).
    pub fn new(function: &'static str) -> Metrics {
        Metrics { function, counts: BTreeMap::new() }
    }

    /// Adds `n` to the count `name`. A zero is not recorded: a metric is billed for every hour in
    /// which it has data, so a count that stays zero should cost nothing (an absent datapoint
    /// reads as zero with `treat_missing_data = notBreaching`).
    pub fn count(&mut self, name: impl Into<String>, n: usize) {
        if n == 0 {
            return;
        }
        *self.counts.entry(name.into()).or_default() += n as f64;
    }

    /// The EMF document, or `None` when nothing was counted.
    pub fn document(&self) -> Option<Value> {
        if self.counts.is_empty() {
            return None;
        }
        let ts = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
        let names: Vec<Value> = self.counts.keys().map(|k| json!({"Name": k, "Unit": "Count"})).collect();
        let mut doc = json!({
            "_aws": {
                "Timestamp": ts,
                "CloudWatchMetrics": [{"Namespace": NAMESPACE, "Dimensions": [["Function"]], "Metrics": names}],
            },
            "Function": self.function,
        });
        if let Some(obj) = doc.as_object_mut() {
            for (k, v) in &self.counts {
                obj.insert(k.clone(), json!(v));
            }
        }
        Some(doc)
    }

    /// Prints the EMF line on stdout (where the Lambda log agent reads it).
    pub fn emit(&self) {
        if let Some(doc) = self.document() {
            println!("{doc}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_declares_every_counted_metric() {
        let mut m = Metrics::new("processor");
        m.count("Held", 2);
        m.count("Processed", 10);
        m.count("Held", 1);
        let doc = m.document().expect("doc");
        assert_eq!(doc["Function"], "processor");
        assert_eq!(doc["Held"], 3.0);
        assert_eq!(doc["Processed"], 10.0);
        let declared = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(declared["Namespace"], "ichigen");
        assert_eq!(declared["Metrics"].as_array().map(Vec::len), Some(2));
        assert!(Metrics::new("x").document().is_none());
        // Zero counts are not metrics.
        let mut zero = Metrics::new("puller");
        zero.count("PullsCut", 0);
        assert!(zero.document().is_none());
        m.count("Failed", 0);
        assert!(m.document().expect("doc").get("Failed").is_none());
    }
}
