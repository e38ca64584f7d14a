//! The answer to an invocation that applied: bounded in size, or the error that says what
//! could not be deleted.

use anyhow::{bail, Result};
use prune::{PlanDoc, Report};
use serde_json::Value;

/// The answer to a finished apply: its document, [`bounded`]; an error when something could
/// not be deleted or was left as newer than the plan.
pub(super) fn of(report: &Report) -> Result<Value> {
    let doc = bounded(serde_json::to_value(
        PlanDoc::applied(report).dry_run(false),
    )?);
    if !report.is_complete() {
        let r = &report.record;
        bail!(
            "apply {}: {} objects could not be deleted, {} were left as newer than the plan \
             (first failure: {}); audit: {}",
            r.status,
            r.failures.len(),
            r.skipped.len(),
            r.failures
                .first()
                .map(|f| format!("{}: {}", f.key, f.error))
                .unwrap_or_else(|| "none".into()),
            doc["audit"]
        );
    }
    Ok(doc)
}

/// Entries of a list the Lambda's answer carries at most (the rest is counted, and whole in
/// the run's journal in the bucket): an answer far below Lambda's 6 MB limit at any run size.
const ANSWER_LIST_MAX: usize = 100;

/// The answer to an apply: the kept deployments left out (the plan's summary counts them),
/// long lists cut to [`ANSWER_LIST_MAX`] with `<name>_omitted` counts, and the journal's
/// address for the whole record.
fn bounded(mut doc: Value) -> Value {
    if let Some(all) = doc.get_mut("deployments").and_then(Value::as_array_mut) {
        all.retain(|d| d["action"] == "delete");
    }
    cut(&mut doc, "deployments");
    if let Some(audit) = doc.get_mut("audit") {
        for list in [
            "deleted", "failures", "skipped", "markers", "held", "changed", "expiries",
        ] {
            cut(audit, list);
        }
        let journal = match (audit["bucket"].as_str(), audit["run"].as_str()) {
            (Some(b), Some(run)) => Some(format!(
                "s3://{b}/{}.s3-prune/runs/{run}/",
                audit["prefix"].as_str().unwrap_or("")
            )),
            _ => None,
        };
        if let Some(j) = journal {
            audit["journal"] = Value::String(j);
        }
    }
    doc
}

/// Cuts `doc[list]` to [`ANSWER_LIST_MAX`] entries, counting the rest in `<list>_omitted`.
fn cut(doc: &mut Value, list: &str) {
    let Some(items) = doc.get_mut(list).and_then(Value::as_array_mut) else {
        return;
    };
    if items.len() > ANSWER_LIST_MAX {
        let omitted = items.len() - ANSWER_LIST_MAX;
        items.truncate(ANSWER_LIST_MAX);
        doc[format!("{list}_omitted")] = Value::from(omitted);
    }
}

#[cfg(test)]
mod tests {
    use super::{bounded, ANSWER_LIST_MAX};
    use serde_json::{json, Value};

    /// A run of 1,000 deployments of 100 objects each on a versioned bucket, every list as long
    /// as such a run makes it: the answer stays far below Lambda's 6 MB, and under 64 KB.
    #[test]
    fn the_answer_of_a_huge_run_is_bounded_and_says_where_the_rest_is() {
        let deployments: Vec<Value> = (0..1000)
            .map(|i| json!({ "id": format!("release-{i:04}"), "action": if i < 500 { "delete" } else { "keep" }, "reason": "x".repeat(120) }))
            .collect();
        let deleted: Vec<Value> = (0..500)
            .map(|i| json!({ "id": format!("release-{i:04}"), "objects": 100, "bytes": 123_456 }))
            .collect();
        let markers: Vec<Value> = (0..50_000)
            .map(|i| json!({ "deployment": "release-0001", "key": format!("release-0001/chunk-{i}.js"), "version_id": "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY" }))
            .collect();
        let failures: Vec<Value> = (0..3_000)
            .map(|i| json!({ "key": format!("release-0002/f{i}"), "error": "AccessDenied: no" }))
            .collect();
        let doc = json!({
            "bucket": "b",
            "deployments": deployments,
            "audit": { "bucket": "b", "prefix": "sites/", "run": "20261204T013000123Z-9f3a61c2",
                       "deleted": deleted, "markers": markers, "failures": failures },
        });
        let before = serde_json::to_vec(&doc).unwrap().len();
        let answer = bounded(doc);
        let size = serde_json::to_vec(&answer).unwrap().len();
        assert!(
            before > 6 * 1024 * 1024 / 2,
            "the unbounded answer was {before} bytes"
        );
        assert!(size < 64 * 1024, "the answer is {size} bytes");
        assert_eq!(
            answer["deployments"].as_array().unwrap().len(),
            ANSWER_LIST_MAX
        );
        assert_eq!(
            answer["deployments_omitted"], 400,
            "only doomed ones, cut to 100"
        );
        assert_eq!(answer["audit"]["markers_omitted"], 50_000 - ANSWER_LIST_MAX);
        assert_eq!(answer["audit"]["failures_omitted"], 3_000 - ANSWER_LIST_MAX);
        assert_eq!(
            answer["audit"]["journal"],
            "s3://b/sites/.s3-prune/runs/20261204T013000123Z-9f3a61c2/"
        );
    }
}
