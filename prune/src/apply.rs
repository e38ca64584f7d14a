//! Step 3: journal, delete, report. The record is written as `started` before the first delete
//! and completed after, so every run is on record even if the process dies mid-way.

use crate::{Checked, Planned};
use audit::{AuditLog, Record, Status};
use bucket::{DeleteReport, Deletion, Progress};
use chrono::{DateTime, Utc};
use retention::Doomed;
use retention::Versioning;
use std::sync::Arc;

/// Where runs are recorded: the SQLite audit log, or JSON log lines for the scheduled job.
pub trait Journal: Send + Sync {
    /// Records a run about to delete; returns the record's id when the journal gives one.
    fn begin(&self, record: &Record) -> Result<Option<i64>, String>;
    /// Completes the record `begin` wrote.
    fn finish(&self, record: &Record) -> Result<(), String>;
}

impl Journal for AuditLog {
    fn begin(&self, record: &Record) -> Result<Option<i64>, String> {
        self.append(record.clone())
            .map(|r| r.id)
            .map_err(|e| e.to_string())
    }
    fn finish(&self, record: &Record) -> Result<(), String> {
        self.update(record).map_err(|e| e.to_string())
    }
}

/// One JSON log line per step (CloudWatch keeps them for the scheduled job), under the
/// `s3_prune::journal` target so the binary's default filter shows them.
pub struct LogJournal;

impl Journal for LogJournal {
    fn begin(&self, record: &Record) -> Result<Option<i64>, String> {
        let json = serde_json::to_string(record).map_err(|e| e.to_string())?;
        tracing::info!(target: "s3_prune::journal", audit = %json, "apply started");
        Ok(None)
    }
    fn finish(&self, record: &Record) -> Result<(), String> {
        let json = serde_json::to_string(record).map_err(|e| e.to_string())?;
        tracing::info!(target: "s3_prune::journal", audit = %json, "apply finished");
        Ok(())
    }
}

/// No record, no deletion: the journal could not record the run, so nothing was deleted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the audit record could not be written before deleting, so nothing was deleted: {0}")]
pub struct JournalError(pub String);

/// Who applies, from where, and how.
pub struct ApplyContext {
    /// Session user, `user@host`, or the Lambda ARN.
    pub who: String,
    /// `cli`, `dashboard` or `lambda`.
    pub source: &'static str,
    pub concurrency: usize,
    /// Live counters, and the stop switch (SIGINT/SIGTERM, shutdown, the Lambda deadline).
    pub progress: Arc<Progress>,
    pub journal: Arc<dyn Journal>,
    /// Told the outcome once the record is complete (`--notify`); never fails the apply.
    pub notifier: crate::Notifier,
    /// `--via-lifecycle`: doomed deployments of more objects than this are handed to S3
    /// lifecycle expiration instead of deleted by requests, and earlier handovers are checked.
    pub lifecycle_over: Option<u64>,
}

/// What an apply did: the audit record (one shape for every front end), and whether writing
/// its completion failed (the deletion happened all the same; the report must still be shown).
#[derive(Debug, Clone)]
pub struct Report {
    /// The plan that was applied.
    pub planned: Planned,
    pub record: Record,
    pub journal_error: Option<String>,
}

impl Report {
    pub fn is_complete(&self) -> bool {
        self.record.is_complete()
    }
}

/// Deletes what `checked` dooms. Fails only before the first delete (the journal could not
/// be written); from then on everything — failures, skipped newer keys, a stop — is in the
/// report.
pub async fn apply(checked: Checked, ctx: ApplyContext) -> Result<Report, JournalError> {
    let Checked { planned, doomed } = checked;
    let mut record = started(&planned, &ctx.who, ctx.source, Utc::now());
    if doomed.is_empty() && ctx.lifecycle_over.is_none() {
        record.status = Status::Finished;
        return Ok(Report {
            planned,
            record,
            journal_error: None,
        });
    }
    record.id = ctx.journal.begin(&record).map_err(JournalError)?;
    tracing::debug!(bucket = %record.bucket, deployments = doomed.len(), source = ctx.source, "apply started");
    let handover = match ctx.lifecycle_over {
        Some(over) => crate::expire::hand_over(&planned.bucket, doomed, over).await,
        None => crate::expire::Handover {
            by_requests: doomed,
            expiries: Vec::new(),
            failures: Vec::new(),
        },
    };
    let doomed = handover.by_requests;
    let report = planned
        .bucket
        .delete_deployments(
            &doomed,
            deletion(&planned),
            ctx.concurrency,
            ctx.progress.clone(),
        )
        .await;
    complete(&mut record, &report, &doomed);
    record.expiries = handover.expiries;
    if !handover.failures.is_empty() {
        record.failures.extend(handover.failures);
        if record.status == Status::Finished {
            record.status = Status::Failed;
        }
    }
    let journal_error = ctx.journal.finish(&record).err();
    ctx.notifier.send(&record).await;
    if let Some(e) = &journal_error {
        tracing::error!(error = %e, "the apply ran but its audit record could not be completed");
    }
    tracing::debug!(bucket = %record.bucket, status = %record.status, deleted = record.deleted_objects, failed = record.failures.len(), skipped = record.skipped.len(), "apply ended");
    Ok(Report {
        planned,
        record,
        journal_error,
    })
}

/// How to delete: purge on request; on a versioning-enabled bucket, keep the delete markers'
/// version ids so `restore` can undo the run; plainly otherwise. (On a suspended bucket a
/// delete overwrites the "null" version, so there is nothing a marker's removal would bring back.)
fn deletion(planned: &Planned) -> Deletion {
    if planned.plan.policy.purge_versions {
        Deletion::Purge
    } else if planned.plan.versioning == Versioning::Enabled {
        Deletion::Marked
    } else {
        Deletion::Plain
    }
}

/// The record of a run about to delete: its plan, nothing deleted yet.
fn started(planned: &Planned, who: &str, source: &str, started_at: DateTime<Utc>) -> Record {
    let b = &planned.bucket;
    Record {
        policy: serde_json::to_value(&planned.plan.policy).unwrap_or_default(),
        plan_fingerprint: planned.plan.fingerprint(),
        ..Record::begin(who, source, b.name(), b.prefix(), started_at)
    }
}

/// Fills in what the deletion did. A deployment counts as deleted only if nothing the plan saw
/// is left of it (every key answered, none failed, none skipped as newer).
fn complete(record: &mut Record, report: &DeleteReport, doomed: &[Doomed]) {
    let bytes_of =
        |id: &retention::DeploymentId| doomed.iter().find(|d| &d.id == id).map_or(0, |d| d.bytes);
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
