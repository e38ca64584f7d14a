//! The scheduled job's run as a CloudWatch Embedded Metric Format line: one JSON object on
//! stdout that CloudWatch Logs turns into metrics (namespace `s3-prune`, by `Bucket` and by
//! `Bucket` and `Prefix`), with no extra API call. The Terraform module alarms when `Success`
//! goes missing for its bucket and prefix: two jobs on two prefixes of one bucket each have
//! their own, so one's success does not hide the other having stopped.

use prune::Report;
use serde_json::{json, Value};

/// What a run left behind: overdue at the default threshold, counted after the deletion.
const OVERDUE_AFTER: &str = "2d";

/// The EMF document for an apply. `Success` is 1 only when it ended complete **and** its plan
/// keeps the policy ([`prune::health::shortfalls`]): a job that finds no deployment (a wrong
/// bucket or prefix) or cannot date some has stopped cleaning up, and the missing-success
/// alarm must say so.
pub fn run_metrics(report: &Report, at_ms: i64) -> Value {
    let r = &report.record;
    let plan = &report.planned.plan;
    let shortfalls = prune::health::shortfalls(plan);
    // A kept folder S3 will still expire (its lifecycle rule could not be withdrawn).
    let danger = report.planned.handovers.danger();
    let deleted: std::collections::HashSet<&str> =
        r.deleted.iter().map(|d| d.id.as_str()).collect();
    let after = OVERDUE_AFTER.parse().expect("a valid span");
    let overdue = plan
        .overdue(after)
        .into_iter()
        .filter(|e| !deleted.contains(e.id.as_str()))
        .count();
    let names = [
        "Runs",
        "Success",
        "DeletedDeployments",
        "DeletedObjects",
        "FailedObjects",
        "OverdueDeployments",
        "Deployments",
        "UnrankedDeployments",
    ];
    json!({
        "_aws": {
            "Timestamp": at_ms,
            "CloudWatchMetrics": [{
                "Namespace": "s3-prune",
                "Dimensions": [["Bucket"], ["Bucket", "Prefix"]],
                "Metrics": names.iter().map(|n| json!({"Name": n, "Unit": "Count"})).collect::<Vec<_>>(),
            }],
        },
        "Bucket": r.bucket,
        // A dimension's value may not be empty: the bucket root is "/".
        "Prefix": if r.prefix.is_empty() { "/" } else { r.prefix.as_str() },
        "Runs": 1,
        "Success": u8::from(report.is_complete() && shortfalls.is_empty() && danger.is_none()),
        "DeletedDeployments": r.deleted.len(),
        "DeletedObjects": r.deleted_objects,
        "FailedObjects": r.failures.len(),
        "OverdueDeployments": overdue,
        "Deployments": plan.entries.len(),
        "UnrankedDeployments": plan.unranked().len(),
        "status": r.status.to_string(),
        "shortfall": shortfalls.first().map(String::as_str).or(danger),
        "run": r.run,
    })
}
