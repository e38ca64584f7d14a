//! What the dashboard is sent about a run that ended: an apply's report (with the deployments
//! handed to S3 lifecycle expiration) and a restore's outcome, made from the run's record on the
//! server. Figures and the first lines of each list only —
//! the whole record (every failure, every key left in place) stays on the server and in History.

use serde::{Deserialize, Serialize};

/// Lines of each list a report carries.
pub const REPORT_LINES: usize = 100;

/// An apply's report, as the dashboard shows it when the run ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApplyReport {
    /// This server's audit record number.
    pub id: Option<i64>,
    /// Everything planned was deleted, and the run's end is on record.
    pub complete: bool,
    /// The deletion ran, but its end could not be recorded (History may show it as running):
    /// why.
    #[serde(default)]
    pub unrecorded: Option<String>,
    /// Stopped by the server's shutdown.
    pub stopped: bool,
    pub deployments: u64,
    pub objects: u64,
    pub duration_ms: u64,
    /// Deployments the run did not delete whole by requests: handed to S3 lifecycle expiration
    /// (`serve --via-lifecycle`: S3 deletes them within a day or two), changed since the plan
    /// (left whole), pinned or gone live mid-run (left untouched), or partly deleted.
    pub left_alone: Vec<LeftAlone>,
    /// Keys newer than the preview left in place: the first [`REPORT_LINES`], and how many.
    pub skipped: Vec<String>,
    pub skipped_total: u64,
    /// Keys that failed, with S3's error: the first [`REPORT_LINES`], and how many.
    pub failures: Vec<audit::Failure>,
    pub failures_total: u64,
}

/// A deployment a run did not delete by requests, and what the report says of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeftAlone {
    pub deployment: String,
    /// `left whole, <why>`, `left untouched, <why>` or `handed to S3 lifecycle expiration, …`.
    pub what: String,
}

/// What a restore from History brought back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestoreDone {
    /// This server's audit record of the restore.
    pub id: Option<i64>,
    pub objects: u64,
    pub deployments: u64,
    /// Keys left as they were (written again since, or their marker gone), and anything else
    /// that failed.
    pub left: u64,
    /// Deployments pinned so the next run keeps them (none when the pins could not be written).
    #[serde(default)]
    pub pinned: u64,
}

impl ApplyReport {
    /// The report of the run `r`; `unrecorded`: why its end could not be recorded, if it could
    /// not (then it is not complete, whatever it deleted).
    pub fn of(r: &audit::Record, unrecorded: Option<&str>) -> ApplyReport {
        let left_alone = r
            .changed
            .iter()
            .map(|c| LeftAlone {
                deployment: c.deployment.clone(),
                what: format!("left whole, {}", c.reason),
            })
            .chain(r.held.iter().map(|h| LeftAlone {
                deployment: h.deployment.clone(),
                what: format!("left untouched, {}", h.reason),
            }))
            .chain(r.partly.iter().map(|p| LeftAlone {
                deployment: p.deployment.clone(),
                what: format!("{}: apply again to delete the rest", p.what()),
            }))
            .chain(
                r.expiries
                    .iter()
                    .filter(|e| e.state == audit::ExpiryState::Handed)
                    .map(|e| LeftAlone {
                        deployment: e.deployment.clone(),
                        what: "handed to S3 lifecycle expiration, gone within a day or two".into(),
                    }),
            )
            .collect();
        ApplyReport {
            id: r.id,
            complete: r.is_complete() && unrecorded.is_none(),
            unrecorded: unrecorded.map(str::to_string),
            stopped: r.status == audit::Status::Interrupted,
            deployments: r.deleted.len() as u64,
            objects: r.deleted_objects,
            duration_ms: r.duration_ms,
            left_alone,
            skipped: r
                .skipped
                .iter()
                .take(REPORT_LINES)
                .map(|k| k.key.clone())
                .collect(),
            skipped_total: r.skipped.len() as u64,
            failures: r.failures.iter().take(REPORT_LINES).cloned().collect(),
            failures_total: r.failures.len() as u64,
        }
    }
}

impl From<&audit::Record> for RestoreDone {
    fn from(r: &audit::Record) -> RestoreDone {
        RestoreDone {
            id: r.id,
            objects: r.restored.iter().map(|d| d.objects).sum(),
            deployments: r.restored.len() as u64,
            left: r.failures.len() as u64,
            pinned: r.policy["pinned"].as_array().map_or(0, |p| p.len() as u64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_carries_figures_and_the_first_lines_of_each_list() {
        let mut r = audit::Record::begin("a", "dashboard", "b", "", chrono::Utc::now());
        r.status = audit::Status::Failed;
        r.failures = (0..250)
            .map(|i| audit::Failure {
                key: format!("d1/{i}"),
                error: "AccessDenied".into(),
            })
            .collect();
        r.held = vec![audit::Held {
            deployment: "d2".into(),
            reason: "pinned mid-run".into(),
        }];
        let report = ApplyReport::of(&r, None);
        assert!(!report.complete && !report.stopped);
        assert_eq!(report.failures.len(), REPORT_LINES);
        assert_eq!(report.failures_total, 250);
        assert_eq!(report.left_alone[0].what, "left untouched, pinned mid-run");
    }

    #[test]
    fn a_run_whose_end_could_not_be_recorded_is_not_reported_complete() {
        let mut r = audit::Record::begin("a", "dashboard", "b", "", chrono::Utc::now());
        r.status = audit::Status::Finished;
        r.deleted_objects = 4;
        assert!(ApplyReport::of(&r, None).complete);
        let report = ApplyReport::of(&r, Some("AccessDenied on end.json"));
        assert!(!report.complete, "everything deleted, but not on record");
        assert_eq!(
            report.unrecorded.as_deref(),
            Some("AccessDenied on end.json")
        );
        assert_eq!(report.objects, 4, "what it deleted is still shown");
    }
}
