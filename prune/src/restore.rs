//! Undo: bring back what an apply deleted on a versioned bucket by removing the delete markers
//! it recorded. Checked before anything is touched (the run, the bucket, the deployments asked
//! for), journalled like an apply, and reported per deployment.

use crate::Journal;
use audit::{DeletedDeployment, Failure, Record, Status};
use bucket::{Bucket, MarkerToRemove, RestoreReport};
use chrono::Utc;
use retention::DeploymentId;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Why a restore was refused; nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestoreRefusal {
    #[error("run {run} is not in the audit log: see `s3-prune history` for the runs on record")]
    NoSuchRun { run: i64 },
    #[error("run {run} is itself a restore; restore the apply it undid instead")]
    IsRestore { run: i64 },
    #[error("run {run} was on bucket '{bucket}' (prefix '{prefix}'), not this one")]
    OtherBucket {
        run: i64,
        bucket: String,
        prefix: String,
    },
    #[error("bucket '{bucket}' is not versioned: its deletes are permanent and cannot be undone (`s3-prune undo-window` enables versioning for future runs)")]
    Unversioned { bucket: String },
    #[error("run {run} purged versions (--purge-versions): what it deleted is gone for good")]
    Purged { run: i64 },
    #[error("run {run} recorded no delete markers (the bucket was not versioned then, or it deleted nothing): there is nothing to restore")]
    NoMarkers { run: i64 },
    #[error("run {run} did not delete {ids}: it deleted {deleted}")]
    NotInRun {
        run: i64,
        ids: String,
        deleted: String,
    },
    #[error(
        "the audit record could not be written before restoring, so nothing was restored: {0}"
    )]
    Journal(String),
    #[error("{0}")]
    S3(String),
}

/// Who restores, from where.
pub struct RestoreContext {
    pub who: String,
    pub source: &'static str,
    pub journal: Arc<dyn Journal>,
    pub notifier: crate::Notifier,
}

/// What a restore did: its own audit record and the per-deployment report.
#[derive(Debug, Clone)]
pub struct Restored {
    pub record: Record,
    pub report: RestoreReport,
    pub journal_error: Option<String>,
}

/// Checks that `run` can be restored on `bucket` (optionally only the deployments `only`)
/// and returns the markers to remove, per deployment.
pub async fn check_restore(
    bucket: &Bucket,
    run: i64,
    record: Option<&Record>,
    only: &[DeploymentId],
) -> Result<Vec<(DeploymentId, Vec<MarkerToRemove>)>, RestoreRefusal> {
    let rec = record.ok_or(RestoreRefusal::NoSuchRun { run })?;
    if rec.restore_of.is_some() {
        return Err(RestoreRefusal::IsRestore { run });
    }
    if rec.bucket != bucket.name() || rec.prefix != bucket.prefix() {
        return Err(RestoreRefusal::OtherBucket {
            run,
            bucket: rec.bucket.clone(),
            prefix: rec.prefix.clone(),
        });
    }
    let versioning = bucket
        .versioning()
        .await
        .map_err(|e| RestoreRefusal::S3(e.to_string()))?;
    if !versioning.keeps_versions() {
        return Err(RestoreRefusal::Unversioned {
            bucket: rec.bucket.clone(),
        });
    }
    if rec.policy.get("purge_versions") == Some(&serde_json::Value::Bool(true)) {
        return Err(RestoreRefusal::Purged { run });
    }
    if rec.markers.is_empty() {
        return Err(RestoreRefusal::NoMarkers { run });
    }
    let mut by_id: BTreeMap<&str, Vec<MarkerToRemove>> = BTreeMap::new();
    for m in &rec.markers {
        by_id
            .entry(m.deployment.as_str())
            .or_default()
            .push(MarkerToRemove {
                key: m.key.clone(),
                version_id: m.version_id.clone(),
            });
    }
    let missing: Vec<&str> = only
        .iter()
        .map(DeploymentId::as_str)
        .filter(|id| !by_id.contains_key(id))
        .collect();
    if !missing.is_empty() {
        return Err(RestoreRefusal::NotInRun {
            run,
            ids: missing.join(", "),
            deleted: by_id.keys().copied().collect::<Vec<_>>().join(", "),
        });
    }
    by_id
        .into_iter()
        .filter(|(id, _)| only.is_empty() || only.iter().any(|o| o.as_str() == *id))
        .map(|(id, markers)| {
            DeploymentId::new(id)
                .map(|id| (id, markers))
                .map_err(|e| RestoreRefusal::S3(e.to_string()))
        })
        .collect()
}

/// Removes the markers [`check_restore`] returned, journalling a record of the restore
/// (`restore_of: run`) before the first request and completing it after.
pub async fn restore(
    bucket: &Bucket,
    run: i64,
    todo: Vec<(DeploymentId, Vec<MarkerToRemove>)>,
    ctx: RestoreContext,
) -> Result<Restored, RestoreRefusal> {
    let mut record = Record {
        policy: serde_json::json!({ "restore_of": run }),
        restore_of: Some(run),
        ..Record::begin(
            &ctx.who,
            ctx.source,
            bucket.name(),
            bucket.prefix(),
            Utc::now(),
        )
    };
    record.id = ctx
        .journal
        .begin(&record)
        .map_err(RestoreRefusal::Journal)?;
    let report = bucket.restore(&todo).await;
    record.duration_ms = report.duration_ms;
    record.restored = report
        .deployments
        .iter()
        .map(|d| DeletedDeployment {
            id: d.id.to_string(),
            objects: d.restored,
            bytes: 0,
        })
        .collect();
    record.failures = report
        .deployments
        .iter()
        .flat_map(|d| {
            d.failed
                .iter()
                .map(|f| Failure {
                    key: f.key.clone(),
                    error: f.error.clone(),
                })
                .chain(d.left.iter().map(|l| Failure {
                    key: l.key.clone(),
                    error: format!("left: {}", l.why),
                }))
        })
        .collect();
    record.status = if report.is_complete() {
        Status::Finished
    } else {
        Status::Failed
    };
    let journal_error = ctx.journal.finish(&record).err();
    ctx.notifier.send(&record).await;
    Ok(Restored {
        record,
        report,
        journal_error,
    })
}
