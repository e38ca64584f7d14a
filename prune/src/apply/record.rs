//! The run's record before and after the deleting: what it will do (its plan, how it deletes,
//! where it runs) and what it did (deleted, failed, skipped, held, changed, markers, status).

use crate::Planned;
use audit::{Record, Status};
use bucket::{DeleteReport, Deletion, DeploymentOutcome};
use chrono::{DateTime, Utc};
use retention::{Doomed, Versioning};

/// This machine's name, for the journal and the lease.
pub(crate) fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".into())
}

/// How to delete: purge on request; on a versioning-enabled bucket, keep the delete markers'
/// version ids so `restore` can undo the run; plainly otherwise. (On a suspended bucket a
/// delete overwrites the "null" version, so there is nothing a marker's removal would bring back.)
pub(crate) fn deletion(planned: &Planned) -> Deletion {
    if planned.plan.policy.purge_versions {
        Deletion::Purge
    } else if planned.plan.versioning == Versioning::Enabled {
        Deletion::Marked
    } else {
        Deletion::Plain
    }
}

/// The record of a run about to delete: its plan, nothing deleted yet.
pub(super) fn started(
    planned: &Planned,
    who: &str,
    source: &str,
    started_at: DateTime<Utc>,
) -> Record {
    let b = &planned.bucket;
    Record {
        policy: serde_json::to_value(&planned.plan.policy).unwrap_or_default(),
        plan_fingerprint: planned.plan.fingerprint(),
        ..Record::begin(who, source, b.name(), b.prefix(), started_at)
    }
}

/// Fills in what the deletion did. A deployment counts as deleted only if nothing the plan saw
/// is left of it (every key answered, none failed, none skipped as newer); one that changed
/// since the plan was left whole and is listed as such.
pub(super) fn complete(record: &mut Record, report: &DeleteReport, doomed: &[Doomed]) {
    let doomed_as = |id: &retention::DeploymentId| doomed.iter().find(|d| &d.id == id);
    let bytes_of = |id| doomed_as(id).map_or(0, |d| d.bytes);
    record.deleted = report
        .deployments
        .iter()
        .filter(|d| d.is_gone())
        .map(|d| audit::DeletedDeployment {
            id: d.id.to_string(),
            objects: d.deleted,
            bytes: bytes_of(&d.id),
        })
        .collect();
    record.deleted_bytes = record.deleted.iter().map(|d| d.bytes).sum();
    record.deleted_objects = report.deleted_objects;
    record.duration_ms = report.duration_ms;
    record.failures = report
        .failed
        .iter()
        .map(|f| audit::Failure {
            key: f.key.clone(),
            error: f.error.clone(),
        })
        .collect();
    record.skipped = report
        .deployments
        .iter()
        .flat_map(|d| &d.skipped)
        .map(|s| audit::Skipped {
            key: s.key.clone(),
            version_id: s.version_id.clone(),
            last_modified: s.last_modified,
        })
        .collect();
    record.held = report
        .deployments
        .iter()
        .filter_map(|d| {
            Some(audit::Held {
                deployment: d.id.to_string(),
                reason: d.held.clone()?,
            })
        })
        .collect();
    record.changed = report
        .changed()
        .map(|(id, c)| audit::Changed {
            deployment: id.to_string(),
            reason: c.to_string(),
        })
        .collect();
    record.partly = report
        .deployments
        .iter()
        .filter_map(|d| {
            // Of what the plan saw of it (a big one is listed a page at a time: what was
            // listed when it stopped is less).
            let planned = doomed_as(&d.id).map_or(0, |x| x.objects);
            Some(audit::Partly {
                deployment: d.id.to_string(),
                deleted: d.deleted,
                listed: d.listed.max(planned),
                reason: partly_why(d, report)?,
            })
        })
        .collect();
    record.markers = report
        .deployments
        .iter()
        .flat_map(|d| {
            d.markers.iter().map(|m| audit::Marker {
                deployment: d.id.to_string(),
                key: m.key.clone(),
                version_id: m.version_id.clone(),
            })
        })
        .collect();
    record.status = if report.stopped {
        Status::Interrupted
    } else if report.is_complete() {
        Status::Finished
    } else {
        Status::Failed
    };
}

/// Why `d` is only partly deleted, if it is: some of what the plan saw of it was deleted, not
/// all (one held or changed had nothing of it sent).
fn partly_why(d: &DeploymentOutcome, report: &DeleteReport) -> Option<String> {
    if d.is_gone() || d.deleted == 0 || d.held.is_some() || d.changed.is_some() {
        return None;
    }
    // A big one's deleting pass cut short names its folder, and why (newer keys, more than
    // the plan counted, a listing that failed).
    let folder = d.failed.iter().find(|f| f.key.ends_with('/'));
    let objects = d.failed.iter().filter(|f| !f.key.ends_with('/')).count();
    Some(if let Some(f) = folder {
        f.error.clone()
    } else if objects > 0 {
        format!("{objects} of its objects failed or were not answered")
    } else if !d.skipped.is_empty() {
        format!(
            "{} of its objects newer than its listing were left",
            d.skipped.len()
        )
    } else if report.stopped || report.refused.is_some() {
        "the run stopped before the rest of it was sent".into()
    } else {
        "the rest of it was not answered".into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bucket::KeyFailure;

    fn cut(failed: &[(&str, &str)]) -> DeploymentOutcome {
        DeploymentOutcome {
            id: retention::DeploymentId::new("old").unwrap(),
            listed: 1000,
            deleted: 1000,
            failed: (failed.iter())
                .map(|(key, error)| KeyFailure {
                    key: key.to_string(),
                    version_id: None,
                    error: error.to_string(),
                })
                .collect(),
            skipped: Vec::new(),
            finished: false,
            markers: Vec::new(),
            held: None,
            changed: None,
        }
    }

    #[test]
    fn a_partly_deleted_deployment_says_why_in_its_own_words() {
        let report = DeleteReport::default();
        // A big one's deleting pass cut short: its folder's failure says why (before: "1 of
        // its objects failed", counting the folder as an object).
        let folder = cut(&[("old/", "partly deleted: 1000 keys had been sent when …")]);
        assert_eq!(
            partly_why(&folder, &report).as_deref(),
            Some("partly deleted: 1000 keys had been sent when …")
        );
        let keys = cut(&[("old/a", "AccessDenied"), ("old/b", "AccessDenied")]);
        assert_eq!(
            partly_why(&keys, &report).as_deref(),
            Some("2 of its objects failed or were not answered")
        );
        let stopped = DeleteReport {
            stopped: true,
            ..DeleteReport::default()
        };
        assert_eq!(
            partly_why(&cut(&[]), &stopped).as_deref(),
            Some("the run stopped before the rest of it was sent")
        );
        let none = DeploymentOutcome {
            deleted: 0,
            ..cut(&[("old/a", "AccessDenied")])
        };
        assert_eq!(partly_why(&none, &report), None, "nothing of it deleted");
    }
}
