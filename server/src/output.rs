//! What the CLI prints: a restic-style table, or one JSON document.

use crate::run::Planned;
use bucket::{Bucket, DeleteReport, KeyFailure};
use retention::{Action, Entry};
use serde::Serialize;
use std::fmt::Write;

/// Sizes read the same in every front end.
pub fn size(bytes: u64) -> String {
    retention::human_size(bytes)
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub fn human_plan(bucket: &Bucket, planned: &Planned) -> String {
    let p = &planned.plan;
    let mut s = String::new();
    let prefix = if bucket.prefix().is_empty() {
        "(bucket root)".to_string()
    } else {
        bucket.prefix().to_string()
    };
    let _ = writeln!(
        s,
        "Bucket {}  prefix {}  versioning {}  at {}",
        bucket.name(),
        prefix,
        p.versioning,
        bucket.endpoint()
    );
    let _ = writeln!(s, "Policy: {}", p.policy);
    if p.entries.is_empty() {
        let _ = writeln!(s, "\nNo deployments found.");
    } else {
        let rows: Vec<[String; 7]> = p
            .entries
            .iter()
            .map(|e: &Entry| {
                [
                    e.id.to_string(),
                    e.date.format("%Y-%m-%d %H:%M:%S").to_string(),
                    retention::human_age(e.age_secs),
                    e.objects.to_string(),
                    size(e.bytes),
                    e.action.to_string(),
                    e.reason_text.clone(),
                ]
            })
            .collect();
        let head = [
            "ID",
            "DATE (UTC)",
            "AGE",
            "OBJECTS",
            "SIZE",
            "ACTION",
            "REASON",
        ];
        let mut w = head.map(|h| h.chars().count());
        for r in &rows {
            for (i, c) in r.iter().enumerate() {
                w[i] = w[i].max(c.chars().count());
            }
        }
        let line = |cells: &[String; 7]| {
            let mut l = String::new();
            for (i, c) in cells.iter().enumerate() {
                let pad = w[i] - c.chars().count();
                if i == 3 || i == 4 {
                    l.push_str(&" ".repeat(pad));
                    l.push_str(c);
                } else {
                    l.push_str(c);
                    if i < 6 {
                        l.push_str(&" ".repeat(pad));
                    }
                }
                if i < 6 {
                    l.push_str("  ");
                }
            }
            l.trim_end().to_string()
        };
        let _ = writeln!(s);
        let _ = writeln!(s, "{}", line(&head.map(String::from)));
        let _ = writeln!(s, "{}", "-".repeat(w.iter().sum::<usize>() + 12));
        for r in &rows {
            let _ = writeln!(s, "{}", line(r));
        }
    }
    let sm = &p.summary;
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "keep   {} ({}, {})",
        plural(sm.keep.deployments, "deployment", "deployments"),
        plural(sm.keep.objects, "object", "objects"),
        size(sm.keep.bytes)
    );
    let _ = writeln!(
        s,
        "delete {} ({}, {})",
        plural(sm.delete.deployments, "deployment", "deployments"),
        plural(sm.delete.objects, "object", "objects"),
        size(sm.delete.bytes)
    );
    if sm.loose.objects > 0 {
        let _ = writeln!(
            s,
            "loose  {} directly under the prefix ({}): never deleted",
            plural(sm.loose.objects, "object", "objects"),
            size(sm.loose.bytes)
        );
    }
    if let Some(v) = planned.versions_to_purge {
        let _ = writeln!(
            s,
            "purge  {} (versions and delete markers of the deleted deployments)",
            plural(v, "version", "versions")
        );
    }
    for w in &p.warnings {
        let _ = writeln!(s, "warning: {w}");
    }
    for b in &p.blocked {
        let _ = writeln!(s, "blocked: {b}");
    }
    s
}

pub fn human_report(r: &DeleteReport) -> String {
    let mut s = String::new();
    let ok = r.deployments.iter().filter(|d| d.failed.is_empty()).count();
    let _ = writeln!(
        s,
        "\nDeleted {} from {} of {} deployments in {:.1} s.",
        plural(r.deleted_objects, "object", "objects"),
        ok,
        r.deployments.len(),
        r.duration_ms as f64 / 1000.0
    );
    if !r.failed.is_empty() {
        let _ = writeln!(
            s,
            "{} could not be deleted:",
            plural(r.failed.len() as u64, "object", "objects")
        );
        for f in r.failed.iter().take(50) {
            let _ = writeln!(s, "  {}: {}", f.key, f.error);
        }
        if r.failed.len() > 50 {
            let _ = writeln!(
                s,
                "  … and {} more (use --json for all)",
                r.failed.len() - 50
            );
        }
        let _ = writeln!(s, "Run apply again to retry; what was kept stays kept.");
    }
    s
}

#[derive(Serialize)]
pub struct JsonDeployment<'a> {
    id: &'a str,
    date: String,
    date_origin: retention::DateOrigin,
    age_secs: i64,
    objects: u64,
    bytes: u64,
    action: Action,
    reason: &'a str,
    reason_detail: &'a retention::Reason,
}

#[derive(Serialize)]
pub struct JsonPlan<'a> {
    bucket: &'a str,
    prefix: &'a str,
    endpoint: &'a str,
    versioning: retention::Versioning,
    now: String,
    policy: &'a retention::Policy,
    deployments: Vec<JsonDeployment<'a>>,
    loose_objects: retention::LooseObjects,
    warnings: Vec<String>,
    blocked: Vec<String>,
    summary: &'a retention::Summary,
    #[serde(skip_serializing_if = "Option::is_none")]
    versions_to_purge: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deleted_objects: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failed: Option<&'a [KeyFailure]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_ms: Option<u64>,
}

pub fn json_plan<'a>(
    bucket: &'a Bucket,
    planned: &'a Planned,
    report: Option<&'a DeleteReport>,
) -> JsonPlan<'a> {
    let p = &planned.plan;
    JsonPlan {
        bucket: bucket.name(),
        prefix: bucket.prefix(),
        endpoint: bucket.endpoint(),
        versioning: p.versioning,
        now: p.now.to_rfc3339(),
        policy: &p.policy,
        deployments: p
            .entries
            .iter()
            .map(|e| JsonDeployment {
                id: e.id.as_str(),
                date: e.date.to_rfc3339(),
                date_origin: e.date_origin,
                age_secs: e.age_secs,
                objects: e.objects,
                bytes: e.bytes,
                action: e.action,
                reason: &e.reason_text,
                reason_detail: &e.reason,
            })
            .collect(),
        loose_objects: p.summary.loose,
        warnings: p.warnings.iter().map(|w| w.to_string()).collect(),
        blocked: p.blocked.iter().map(|b| b.to_string()).collect(),
        summary: &p.summary,
        versions_to_purge: planned.versions_to_purge,
        deleted_objects: report.map(|r| r.deleted_objects),
        failed: report.map(|r| r.failed.as_slice()),
        duration_ms: report.map(|r| r.duration_ms),
    }
}
