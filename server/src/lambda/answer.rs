//! The answer to an invocation: an apply's bounded in size, or the error that says what could
//! not be deleted; a dry run's plan whole while it is small, else cut the same way.

use anyhow::{bail, Result};
use prune::{PlanDoc, Report};
use serde_json::Value;

/// The answer to a finished apply: its document, [`bounded`]; an error when something could
/// not be deleted or was left as newer than the plan, or when the run's end could not be
/// recorded (the deletion ran, but History would not show how it ended: alarms must see it).
pub(super) fn of(report: &Report) -> Result<Value> {
    // The metrics line first: an incomplete run below is an error, and its line says so too.
    println!(
        "{}",
        crate::emf::run_metrics(report, chrono::Utc::now().timestamp_millis())
    );
    let mut doc = serde_json::to_value(PlanDoc::applied(report).dry_run(false))?;
    // The whole record is in the run's journal: its address, wherever the journal is kept
    // (beside the deployments, or `S3_PRUNE_JOURNAL`'s audit bucket).
    let run = report.record.run.as_deref().and_then(bucket::RunId::parse);
    if let (Some(run), Some(audit)) = (run, doc.get_mut("audit")) {
        let place = bucket::JournalPlace::of(&report.planned.bucket);
        audit["journal"] = Value::String(place.run_url(&run));
    }
    let doc = bounded(doc);
    if let Some(e) = &report.journal_error {
        bail!(
            "apply {}: the deletion ran ({} objects deleted), but its end could not be recorded \
             in the run's journal: {e}; audit: {}",
            report.record.status,
            report.record.deleted_objects,
            doc["audit"]
        );
    }
    let done = format!(
        "apply {} ({} objects deleted)",
        report.record.status, report.record.deleted_objects
    );
    refuse_danger(&report.planned, &done, &format!("audit: {}", doc["audit"]))?;
    if report.record.status == audit::Status::Interrupted {
        let r = &report.record;
        bail!(
            "apply interrupted: stopped before the invocation's deadline (20 s ahead of it) or \
             Lambda's shutdown, after the requests in flight; {} objects deleted, {} failed. \
             What is left is deleted by the next run; if every run is cut short, raise the \
             function's timeout (Terraform: timeout) or memory; audit: {}",
            r.deleted_objects,
            r.failures.len(),
            doc["audit"]
        );
    }
    if !report.is_complete() {
        let r = &report.record;
        bail!(
            "apply {}: {} objects failed (refused, or not known whether S3 deleted them: the \
             next run deletes what is left), {} were left as newer than the plan (first \
             failure: {}); audit: {}",
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

/// An error when the plan keeps a folder whose S3 lifecycle expiration could not be withdrawn
/// (S3 would expire what the policy keeps): `done` says what the run did first, `tail` last.
pub(super) fn refuse_danger(planned: &prune::Planned, done: &str, tail: &str) -> Result<()> {
    if let Some(e) = planned.handovers.danger() {
        bail!(
            "{done}: {e}. The function needs s3:PutLifecycleConfiguration on the bucket to \
             withdraw it (Terraform: via_lifecycle = true), or remove the rule by hand; {tail}"
        );
    }
    Ok(())
}

/// A dry run's plan as its answer: whole up to [`PLAN_MAX_BYTES`], else [`bounded`] (the
/// deployments it would delete, every list cut, with counts of what was left out), so a bucket
/// of tens of thousands of deployments still gets an answer under Lambda's 6 MB.
pub(super) fn planned(doc: Value) -> Value {
    if serde_json::to_vec(&doc).map_or(usize::MAX, |v| v.len()) <= PLAN_MAX_BYTES {
        return doc;
    }
    bounded(doc)
}

/// A dry run's plan is answered whole up to this size.
const PLAN_MAX_BYTES: usize = 1024 * 1024;

/// Entries of a list the Lambda's answer carries at most (the rest is counted, and whole in
/// the run's journal in the bucket): an answer far below Lambda's 6 MB limit at any run size.
const ANSWER_LIST_MAX: usize = 100;

/// What an answer may weigh: Lambda's limit is 6 MB; a summary stays far below it, whatever
/// the run's size or its warnings.
const ANSWER_MAX_BYTES: usize = 48 * 1024;

/// The answer to an apply: the kept deployments left out (the plan's summary counts them),
/// every list — deployments, warnings, the audit's — cut to [`ANSWER_LIST_MAX`] with
/// `<name>_omitted` counts (fewer if the answer would still pass [`ANSWER_MAX_BYTES`]).
pub(super) fn bounded(mut doc: Value) -> Value {
    if let Some(all) = doc.get_mut("deployments").and_then(Value::as_array_mut) {
        all.retain(|d| d["action"] == "delete");
    }
    for max in [ANSWER_LIST_MAX, 10, 0] {
        let mut cut = doc.clone();
        cut_lists(&mut cut, max);
        if serde_json::to_vec(&cut).map_or(0, |v| v.len()) <= ANSWER_MAX_BYTES || max == 0 {
            return cut;
        }
    }
    unreachable!("the last round returns")
}

/// Every array under `doc`, at any depth, cut to `max` items with a `<name>_omitted` count.
fn cut_lists(doc: &mut Value, max: usize) {
    let Some(fields) = doc.as_object_mut() else {
        return;
    };
    let mut omitted = Vec::new();
    for (name, v) in fields.iter_mut() {
        if let Some(items) = v.as_array_mut() {
            if items.len() > max {
                omitted.push((format!("{name}_omitted"), items.len() - max));
                items.truncate(max);
            }
            items.iter_mut().for_each(|i| cut_lists(i, max));
        } else {
            cut_lists(v, max);
        }
    }
    for (name, n) in omitted {
        let before = fields.get(&name).and_then(Value::as_u64).unwrap_or(0);
        fields.insert(name, Value::from(before + n as u64));
    }
}

#[cfg(test)]
mod tests {
    use super::{bounded, planned, ANSWER_LIST_MAX};
    use serde_json::{json, Value};

    /// A run of 1,000 deployments of 100 objects each on a versioned bucket, every list as long
    /// as such a run makes it: the answer stays far below Lambda's 6 MB, and under 64 KB.
    #[test]
    fn the_answer_of_a_huge_run_is_bounded_and_counts_what_it_left_out() {
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
    }

    /// A dry run of a bucket of 30,000 deployments: its whole plan would pass Lambda's 6 MB, so
    /// it is cut as an apply's answer is; a small plan is answered whole, kept ones and all.
    #[test]
    fn a_dry_runs_plan_is_whole_while_small_and_bounded_when_huge() {
        let plan = |n: usize| {
            let deployments: Vec<Value> = (0..n)
                .map(|i| json!({ "id": format!("release-{i:05}"), "action": if i % 2 == 0 { "delete" } else { "keep" }, "reason": "x".repeat(160) }))
                .collect();
            json!({ "bucket": "b", "dry_run": true, "deployments": deployments })
        };
        let small = plan(10);
        assert_eq!(planned(small.clone()), small);
        let huge = plan(30_000);
        assert!(serde_json::to_vec(&huge).unwrap().len() > 6 * 1024 * 1024);
        let answer = planned(huge);
        let size = serde_json::to_vec(&answer).unwrap().len();
        assert!(size < 64 * 1024, "the answer is {size} bytes");
        assert_eq!(answer["dry_run"], true);
        assert_eq!(answer["deployments_omitted"], 15_000 - ANSWER_LIST_MAX);
    }

    #[test]
    fn warnings_and_every_other_list_are_cut_too_and_the_answer_stays_small() {
        // 600 "same date" warnings passed 64 KB before: only named lists were cut.
        let warnings: Vec<Value> = (0..600)
            .map(|i| {
                json!(format!(
                    "same date for release-{i:04}-a, release-{i:04}-b: ordered by id"
                ))
            })
            .collect();
        let held: Vec<Value> = (0..400)
            .map(|i| json!({ "deployment": format!("d{i}"), "reason": "y".repeat(400) }))
            .collect();
        let doc = json!({
            "warnings": warnings,
            "audit": { "bucket": "b", "run": "20261204T013000123Z-9f3a61c2", "held": held },
        });
        let answer = bounded(doc);
        let size = serde_json::to_vec(&answer).unwrap().len();
        assert!(
            size <= super::ANSWER_MAX_BYTES,
            "the answer is {size} bytes"
        );
        assert!(answer["warnings_omitted"].as_u64().unwrap() >= 500);
        // 100 held reasons of 400 bytes would pass the cap: cut further, and counted.
        let held = answer["audit"]["held"].as_array().unwrap().len() as u64;
        assert_eq!(
            held + answer["audit"]["held_omitted"].as_u64().unwrap(),
            400
        );
    }
}
