//! The one JSON shape of a plan and its report: `--json`, the Lambda response and (its
//! `audit` member) the audit record. And the escaping every human output applies to names
//! that come from the bucket.

use crate::{Planned, Report};
use audit::Record;
use serde::Serialize;
use std::borrow::Cow;

#[derive(Serialize)]
pub struct DeploymentDoc<'a> {
    id: &'a str,
    date: String,
    date_origin: retention::DateOrigin,
    age_secs: i64,
    objects: u64,
    bytes: u64,
    action: retention::Action,
    reason: String,
    reason_detail: &'a retention::Reason,
    /// Under rules: the deciding rule and the group (null where none).
    rule: Option<&'a str>,
    group: Option<&'a str>,
}

#[derive(Serialize)]
pub struct FailedDoc<'a> {
    key: &'a str,
    error: &'a str,
}

#[derive(Serialize)]
pub struct PlanDoc<'a> {
    bucket: &'a str,
    prefix: &'a str,
    endpoint: &'a str,
    versioning: retention::Versioning,
    now: String,
    policy: &'a retention::Policy,
    deployments: Vec<DeploymentDoc<'a>>,
    loose_objects: retention::LooseObjects,
    warnings: Vec<String>,
    blocked: Vec<String>,
    summary: &'a retention::Summary,
    /// Under rules: each rule's share, in rule order.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    rules: &'a [retention::RuleSummary],
    plan_fingerprint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    versions_to_purge: Option<u64>,
    /// Set when the deployments come from an S3 Inventory report: its date (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    inventory_date: Option<String>,
    /// Set for a scheduled job that only planned.
    #[serde(skip_serializing_if = "Option::is_none")]
    dry_run: Option<bool>,
    /// How long what this deletes stays restorable (the bucket's versioning and lifecycle).
    #[serde(skip_serializing_if = "Option::is_none")]
    undo_window: Option<String>,
    /// s3-prune's S3 lifecycle handovers: pending, and withdrawn by this scan.
    #[serde(skip_serializing_if = "is_quiet")]
    handovers: &'a crate::Handovers,
    // After an apply: the headline figures, then the full record.
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<audit::Status>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deleted_objects: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failed: Option<Vec<FailedDoc<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    audit: Option<&'a Record>,
    #[serde(skip_serializing_if = "Option::is_none")]
    audit_error: Option<&'a str>,
}

fn is_quiet(h: &&crate::Handovers) -> bool {
    **h == crate::Handovers::default()
}

impl<'a> PlanDoc<'a> {
    /// The plan alone.
    pub fn new(planned: &'a Planned) -> Self {
        Self::build(planned, None)
    }

    /// An applied plan with its report.
    pub fn applied(report: &'a Report) -> Self {
        Self::build(&report.planned, Some(report))
    }

    fn build(planned: &'a Planned, report: Option<&'a Report>) -> Self {
        let p = &planned.plan;
        let record = report.map(|r| &r.record);
        PlanDoc {
            bucket: planned.bucket.name(),
            prefix: planned.bucket.prefix(),
            endpoint: planned.bucket.endpoint(),
            versioning: p.versioning,
            now: p.now.to_rfc3339(),
            policy: &p.policy,
            deployments: p
                .entries
                .iter()
                .map(|e| DeploymentDoc {
                    id: e.id.as_str(),
                    date: e.date.to_rfc3339(),
                    date_origin: e.date_origin,
                    age_secs: e.age_secs,
                    objects: e.objects,
                    bytes: e.bytes,
                    action: e.action,
                    reason: e.reason_text(),
                    reason_detail: &e.reason,
                    rule: e.rule.as_ref().map(|r| r.as_str()),
                    group: e.group.as_deref(),
                })
                .collect(),
            loose_objects: p.summary.loose,
            warnings: p.warnings.iter().map(|w| w.to_string()).collect(),
            blocked: p.blocked.iter().map(|b| b.to_string()).collect(),
            summary: &p.summary,
            rules: &p.rules,
            plan_fingerprint: p.fingerprint(),
            versions_to_purge: planned.versions_to_purge,
            inventory_date: planned.report_date.map(|d| d.to_rfc3339()),
            dry_run: None,
            undo_window: None,
            handovers: &planned.handovers,
            status: record.map(|r| r.status),
            deleted_objects: record.map(|r| r.deleted_objects),
            failed: record.map(|r| {
                r.failures
                    .iter()
                    .map(|f| FailedDoc {
                        key: &f.key,
                        error: &f.error,
                    })
                    .collect()
            }),
            duration_ms: record.map(|r| r.duration_ms),
            audit: record,
            audit_error: report.and_then(|r| r.journal_error.as_deref()),
        }
    }

    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = Some(dry_run);
        self
    }

    pub fn undo_window(mut self, text: String) -> Self {
        self.undo_window = Some(text);
        self
    }
}

/// Control characters in a name from the bucket, written as `\u{1b}` etc., so a key cannot
/// forge rows or colour a terminal. Everything else is left as it is.
pub fn escape_controls(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_unicode().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::escape_controls;

    #[test]
    fn control_characters_are_escaped_and_nothing_else() {
        assert_eq!(escape_controls("release-7 ünï"), "release-7 ünï");
        assert_eq!(
            escape_controls("a\nb\x1b[31m\r"),
            "a\\u{a}b\\u{1b}[31m\\u{d}"
        );
    }
}
