//! Undo: bring back what an apply deleted on a versioned bucket by removing the delete markers
//! it recorded. Checked before anything is touched ([`check`]: the run, the bucket, the
//! deployments asked for), journalled like an apply, under the bucket's lease, and reported per
//! deployment ([`restore`]); the bringing back itself — markers removed, lifecycle handovers
//! withdrawn, what came back pinned — is [`bring_back`]. A run in the bucket's journal is
//! checked from its parts read one after the other (only its deployments and counts kept), and
//! restored as its answer parts are read again: memory does not grow with the run.

mod bring_back;
mod check;

pub use check::{check_restore, check_restore_named, check_restore_run};

use crate::journal::RunMarkers;
use crate::Journal;
use audit::{DeletedDeployment, Failure, Record, Status};
use bring_back::{pin_restored, remove_markers, unpin_gone, withdraw_handovers, Withdrawn};
use bucket::{Bucket, MarkerToRemove, RestoreReport};
use chrono::Utc;
use retention::DeploymentId;
use std::collections::BTreeSet;
use std::sync::Arc;

/// Why a restore was refused; nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestoreRefusal {
    #[error("run {run} is not in the audit log: see `s3-prune history` for the runs on record")]
    NoSuchRun { run: String },
    #[error("run {run} is not in {place}: `s3-prune history` with the same bucket lists the runs there; a run of another prefix, or journalled elsewhere, is found with the --prefix and --journal it ran with")]
    NotInJournal { run: String, place: String },
    #[error("run {run} is itself a restore; restore the apply it undid instead")]
    IsRestore { run: String },
    #[error("run {run} was on bucket '{bucket}' (prefix '{prefix}'), not this one")]
    OtherBucket {
        run: String,
        bucket: String,
        prefix: String,
    },
    #[error("bucket '{bucket}' is not versioned: its deletes are permanent and cannot be undone (`s3-prune undo-window` enables versioning for future runs)")]
    Unversioned { bucket: String },
    #[error("run {run} purged versions (--purge-versions): what it deleted is gone for good")]
    Purged { run: String },
    #[error("run {run} recorded no delete markers (the bucket was not versioned then, or it deleted nothing): there is nothing to restore")]
    NoMarkers { run: String },
    #[error("run {run} is still running (it holds the bucket's lease): restore it once it has ended (its row in History says when)")]
    StillRunning { run: String },
    #[error("run {run} went on after it was checked (it was still running then and has ended since): nothing was restored; check it again and restore what it deleted in all")]
    WentOn { run: String },
    #[error("run {run} did not delete {ids}: it deleted {deleted}")]
    NotInRun {
        run: String,
        ids: String,
        deleted: String,
    },
    #[error(
        "the audit record could not be written before restoring, so nothing was restored: {0}"
    )]
    Journal(String),
    #[error("{0}")]
    Lease(String),
    #[error("{0}")]
    S3(String),
}

/// Who restores, from where.
pub struct RestoreContext {
    pub who: String,
    /// How the dashboard's user signed in.
    pub via: Option<String>,
    pub source: &'static str,
    pub journal: Arc<dyn Journal>,
    pub notifier: crate::Notifier,
}

/// What a restore did: its own audit record and the per-deployment report.
#[derive(Debug, Clone)]
pub struct Restored {
    pub record: Record,
    pub report: RestoreReport,
    /// The run's lifecycle handovers that could not be undone (also among the record's
    /// failures); those withdrawn are the record's `expiries`.
    pub handovers_failed: Vec<Failure>,
    /// The deployments brought back, pinned so that the next run of the policy — which
    /// deleted them once — does not delete them again (`unpin` hands them back to it).
    pub pinned: Vec<DeploymentId>,
    /// Why the run's deletes were not undone, when only its lifecycle handovers were (also in
    /// the record's policy, `not_restored`).
    pub not_restored: Option<RestoreRefusal>,
    pub journal_error: Option<String>,
}

/// What a restore will do, as [`check_restore`] found it: the delete markers to remove, per
/// deployment, and the deployments the run handed to S3 lifecycle expiration
/// (`--via-lifecycle`), whose rules are withdrawn so S3 does not expire them after all.
#[derive(Debug, Clone, Default)]
pub struct ToRestore {
    markers: Markers,
    pub handed: Vec<DeploymentId>,
    /// The run, when its journal had no end as it was checked: read again once the lease is
    /// held, and refused if it has ended since (what was checked is then not all it deleted).
    unfinished: Option<bucket::RunId>,
    /// Why the run's deletes are not undone, when only its lifecycle handovers are (the bucket
    /// is not versioned, the run purged or left no markers).
    pub not_restored: Option<RestoreRefusal>,
    /// The run's start, when the bucket keeps versions: delete markers S3's expiration made
    /// since in the handed folders are removed, bringing back what it expired already.
    handed_at: Option<chrono::DateTime<Utc>>,
}

impl ToRestore {
    /// The deployments whose delete markers are removed.
    pub fn deployments(&self) -> Vec<DeploymentId> {
        match &self.markers {
            Markers::Listed(list) => list.iter().map(|(id, _)| id.clone()).collect(),
            Markers::Journal { only, .. } => only.iter().cloned().collect(),
        }
    }
}

/// The markers a restore removes: listed by the local audit record, or read from the run's
/// journal as they are removed (those of the deployments `only`).
#[derive(Debug, Clone)]
enum Markers {
    Listed(Vec<(DeploymentId, Vec<MarkerToRemove>)>),
    Journal {
        run: Box<RunMarkers>,
        only: BTreeSet<DeploymentId>,
    },
}

impl Default for Markers {
    fn default() -> Self {
        Markers::Listed(Vec::new())
    }
}

/// What the restore brought back and what it could not, on its record.
fn record_restore(record: &mut Record, report: &bucket::RestoreReport) {
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
}

/// Removes the markers [`check_restore`] returned, journalling a record of the restore
/// (`restore_of: run`) before the first request and completing it after, under the bucket's
/// lease; what it brought back is pinned.
pub async fn restore(
    bucket: &Bucket,
    run: &str,
    mut todo: ToRestore,
    ctx: RestoreContext,
) -> Result<Restored, RestoreRefusal> {
    // A run named by its record number is recorded by its run id too, which names it for
    // every reader (the number means something only in this machine's audit log).
    let policy = match run.parse::<i64>().ok().and_then(|n| ctx.journal.run_id(n)) {
        Some(id) => serde_json::json!({ "restore_of": run, "restore_of_run": id }),
        None => serde_json::json!({ "restore_of": run }),
    };
    let mut record = Record {
        policy,
        restore_of: run.parse().ok(),
        via: ctx.via.clone(),
        ..Record::begin(
            &ctx.who,
            ctx.source,
            bucket.name(),
            bucket.prefix(),
            Utc::now(),
        )
    };
    let run_id = bucket::RunId::new(record.started_at);
    record.run = Some(run_id.to_string());
    record.host = Some(crate::apply::host());
    // One writer per bucket: a restore waits for no apply, it is refused while one runs.
    let lease = crate::lease::take_lease(
        bucket,
        crate::lease::holder_of(&record, bucket::LeaseTask::Restore),
        false,
    )
    .await
    .map_err(|e| RestoreRefusal::Lease(e.to_string()))?;
    if let Some(id) = &todo.unfinished {
        let place = bucket::JournalPlace::of(bucket);
        let now = crate::journal::read_run(&place, id).await;
        let ended = match &now {
            Ok(Some(found)) => found.record.status != Status::Started,
            // Not read again: not known whether it went on.
            _ => true,
        };
        if ended {
            crate::lease::release(bucket, &lease, None).await;
            return Err(RestoreRefusal::WentOn { run: run.into() });
        }
        // Its folders are searched up to the next run: one may have begun since the check.
        if let (Ok(Some(fresh)), Markers::Journal { run, .. }) = (&now, &mut todo.markers) {
            run.search_as(&fresh.markers);
        }
    }
    let journal = crate::journal::RunJournal::new(bucket::JournalPlace::of(bucket), run_id);
    let begun = match journal.start(&record, &[]).await {
        Ok(()) => ctx.journal.begin(&record),
        Err(e) => Err(e),
    };
    record.id = match begun {
        Ok(id) => id,
        Err(e) => {
            crate::lease::release(bucket, &lease, None).await;
            return Err(RestoreRefusal::Journal(e));
        }
    };
    // Renewed while the restore lasts (minutes, for a big run); lost, it sends no further
    // request and the record says why.
    let lease = Arc::new(lease);
    let stop = Arc::new(bucket::Progress::default());
    let held = std::future::ready(Some(lease.clone()));
    let keeper = crate::lease::Keeper::start(bucket.clone(), held, stop.clone());
    // Pinned before the first marker is removed or rule withdrawn: a restore killed part-way
    // (a signal, a dropped request, a crash) leaves nothing it brought back for the policy's
    // next run to delete again, and one run again pins what the first brought back.
    let mut to_pin = todo.deployments();
    for id in &todo.handed {
        if !to_pin.contains(id) {
            to_pin.push(id.clone());
        }
    }
    let pinned_at = Utc::now();
    let pinned = pin_restored(bucket, run, to_pin, &record.who, pinned_at).await;
    let (mut report, unread) = remove_markers(bucket, todo.markers, &stop).await;
    let mut handovers = match stop.stop_requested() {
        false => withdraw_handovers(bucket, run, &todo.handed, todo.handed_at, &stop).await,
        true => Withdrawn::default(),
    };
    // What S3 expired of the handed folders and came back: reported like the run's markers.
    report.deployments.append(&mut handovers.unexpired);
    record_restore(&mut record, &report);
    if !unread.is_empty() {
        record.failures.extend(unread);
        record.status = Status::Failed;
    }
    let pinned = match pinned {
        Ok(pinned) => {
            // What stayed gone (deleted again since, or nothing of it to bring back) loses the
            // pin it was given: a later deployment reusing the name would be kept for good, and
            // the answer would name it among what came back. Kept pinned: all that came back,
            // is there, or is not known (a failure) — and everything, when the restore stopped.
            let back = |id: &DeploymentId| {
                report.deployments.iter().any(|d| {
                    &d.id == id
                        && (d.restored + d.already_back + d.never_deleted > 0
                            || !d.failed.is_empty())
                }) || handovers
                    .expiries
                    .iter()
                    .any(|e| e.deployment == id.as_str())
            };
            let stopped = stop.stop_requested() || report.not_begun > 0;
            let (kept, gone): (Vec<_>, Vec<_>) =
                pinned.into_iter().partition(|id| stopped || back(id));
            unpin_gone(bucket, run, &gone, &record.who, pinned_at).await;
            kept
        }
        Err(failure) => {
            record.failures.push(failure);
            record.status = Status::Failed;
            Vec::new()
        }
    };
    if !pinned.is_empty() {
        // On record with the restore (History shows it; the dashboard's answer reads it).
        let ids: Vec<&str> = pinned.iter().map(DeploymentId::as_str).collect();
        record.policy["pinned"] = serde_json::json!(ids);
    }
    let lost = keeper.stop().await;
    if let Some(why) = &todo.not_restored {
        tracing::warn!(run, "only the run's lifecycle handovers are undone: {why}");
        record.policy["not_restored"] = serde_json::json!(why.to_string());
    }
    record.expiries = handovers.expiries;
    if !handovers.failures.is_empty() {
        record.failures.extend(handovers.failures.iter().cloned());
        record.status = Status::Failed;
    }
    if let Some(why) = lost {
        record.status = Status::Failed;
        record.failures.push(Failure {
            key: journal.place().url(),
            error: format!(
                "the restore stopped ({} deployments not begun, the rest listed): {why}; restore the run again to finish",
                report.not_begun
            ),
        });
    }
    let journal_error = match journal.end(&record, Vec::new()).await {
        Ok(()) => ctx.journal.finish(&record).err(),
        Err(e) => Some(e),
    };
    crate::lease::release(bucket, &lease, None).await;
    ctx.notifier.send(&record).await;
    Ok(Restored {
        record,
        report,
        handovers_failed: handovers.failures,
        pinned,
        not_restored: todo.not_restored,
        journal_error,
    })
}
