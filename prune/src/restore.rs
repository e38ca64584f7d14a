//! Undo: bring back what an apply deleted on a versioned bucket by removing the delete markers
//! it recorded. Checked before anything is touched (the run, the bucket, the deployments asked
//! for), journalled like an apply, and reported per deployment. A run in the bucket's journal
//! is checked from its parts read one after the other (only its deployments and counts kept),
//! and restored as its answer parts are read again: memory does not grow with the run.

use crate::journal::{RunJournal, RunMarkers};
use crate::Journal;
use audit::{DeletedDeployment, Failure, Record, Status};
use bucket::{Bucket, MarkerToRemove, RestoreReport};
use chrono::Utc;
use retention::DeploymentId;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Why a restore was refused; nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestoreRefusal {
    #[error("run {run} is not in the audit log: see `s3-prune history` for the runs on record")]
    NoSuchRun { run: String },
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
    pub journal_error: Option<String>,
}

/// What a restore will do, as [`check_restore`] found it: the delete markers to remove, per
/// deployment, and the deployments the run handed to S3 lifecycle expiration
/// (`--via-lifecycle`), whose rules are withdrawn so S3 does not expire them after all.
#[derive(Debug, Clone, Default)]
pub struct ToRestore {
    markers: Markers,
    pub handed: Vec<DeploymentId>,
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

/// The deployments `rec` handed to S3 lifecycle expiration itself (not earlier runs' rules it
/// saw).
fn handed_by(rec: &Record) -> Vec<DeploymentId> {
    rec.expiries
        .iter()
        .filter(|e| e.state == audit::ExpiryState::Handed)
        .filter_map(|e| DeploymentId::new(&e.deployment).ok())
        .collect()
}

/// Checks that `run` (from the local audit log) can be restored on `bucket` (optionally only
/// the deployments `only`) and returns what to undo: the markers to remove, per deployment,
/// and its lifecycle handovers.
pub async fn check_restore(
    bucket: &Bucket,
    run: i64,
    record: Option<&Record>,
    only: &[DeploymentId],
) -> Result<ToRestore, RestoreRefusal> {
    let label = run.to_string();
    let rec = record.ok_or(RestoreRefusal::NoSuchRun { run: label.clone() })?;
    // A run journalled in the bucket: its markers are there (this record is a local copy).
    let here = rec.bucket == bucket.name() && rec.prefix == bucket.prefix();
    if let Some(id) = rec.run.as_deref().and_then(bucket::RunId::parse) {
        if rec.markers.is_empty() && here {
            let place = bucket::JournalPlace::of(bucket);
            let found = crate::journal::read_run(&place, &id)
                .await
                .map_err(|e| RestoreRefusal::S3(format!("run {id} in {}: {e}", place.url())))?;
            return check_restore_run(bucket, &label, found, only).await;
        }
    }
    let mut by_id: BTreeMap<DeploymentId, Vec<MarkerToRemove>> = BTreeMap::new();
    for m in &rec.markers {
        let id = DeploymentId::new(&m.deployment).map_err(|e| RestoreRefusal::S3(e.to_string()))?;
        by_id.entry(id).or_default().push(MarkerToRemove {
            key: m.key.clone(),
            version_id: Some(m.version_id.clone()),
            not_before: None,
            later: Vec::new(),
        });
    }
    check_markers(
        bucket,
        &label,
        rec,
        Markers::Listed(by_id.into_iter().collect()),
        only,
    )
    .await
}

/// [`check_restore`] for a run as a person names it: a record number of this machine's audit
/// log `local`, or a run id of the bucket's journal. What every front end's restore calls.
pub async fn check_restore_named(
    bucket: &Bucket,
    run: &str,
    local: &audit::AuditLog,
    only: &[DeploymentId],
) -> Result<ToRestore, RestoreRefusal> {
    if let Ok(n) = run.parse::<i64>() {
        let record = local
            .get(n)
            .map_err(|e| RestoreRefusal::S3(e.to_string()))?;
        return check_restore(bucket, n, record.as_ref(), only).await;
    }
    let id = bucket::RunId::parse(run).ok_or(RestoreRefusal::NoSuchRun { run: run.into() })?;
    let place = bucket::JournalPlace::of(bucket);
    let found = crate::journal::read_run(&place, &id)
        .await
        .map_err(|e| RestoreRefusal::S3(format!("run {id} in {}: {e}", place.url())))?;
    check_restore_run(bucket, run, found, only).await
}

/// [`check_restore`] for a run of the bucket's journal: its markers are those its answers
/// recorded, and for batches it sent whose answer is not on record (it was killed), the keys'
/// current delete markers made since it began.
pub async fn check_restore_run(
    bucket: &Bucket,
    run: &str,
    found: Option<crate::journal::RunToRestore>,
    only: &[DeploymentId],
) -> Result<ToRestore, RestoreRefusal> {
    let found = found.ok_or(RestoreRefusal::NoSuchRun { run: run.into() })?;
    let markers = Markers::Journal {
        run: Box::new(found.markers),
        only: BTreeSet::new(),
    };
    check_markers(bucket, run, &found.record, markers, only).await
}

/// The checks before anything is touched, on what the run deleted (`markers`, all of them):
/// what to undo of it, narrowed to the deployments `only` asked for.
async fn check_markers(
    bucket: &Bucket,
    run: &str,
    rec: &Record,
    markers: Markers,
    only: &[DeploymentId],
) -> Result<ToRestore, RestoreRefusal> {
    let run = run.to_string();
    if rec.is_restore() {
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
    // A run that deleted without leaving markers to undo (versioning suspended or off then):
    // markers found by time for its unanswered batches are "null" ones, whose removal brings
    // back nothing it deleted.
    let handed = handed_by(rec);
    // Its deployments with markers to remove, and whether its answers recorded any (a run
    // read from the journal holds none on its record).
    let (with_markers, recorded): (Vec<&DeploymentId>, bool) = match &markers {
        Markers::Listed(list) => (list.iter().map(|(id, _)| id).collect(), false),
        Markers::Journal { run, .. } => (run.deployments().collect(), run.recorded_any()),
    };
    let restorable = rec.restorable() || (!rec.is_restore() && recorded);
    if (with_markers.is_empty() && handed.is_empty()) || !restorable {
        return Err(RestoreRefusal::NoMarkers { run });
    }
    let missing: Vec<&str> = only
        .iter()
        .filter(|id| !with_markers.contains(id) && !handed.contains(id))
        .map(DeploymentId::as_str)
        .collect();
    if !missing.is_empty() {
        return Err(RestoreRefusal::NotInRun {
            run,
            ids: missing.join(", "),
            deleted: with_markers
                .into_iter()
                .chain(&handed)
                .map(DeploymentId::as_str)
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let asked = |id: &DeploymentId| only.is_empty() || only.contains(id);
    let markers = match markers {
        Markers::Listed(list) => {
            Markers::Listed(list.into_iter().filter(|(id, _)| asked(id)).collect())
        }
        Markers::Journal { run, .. } => {
            let only = run.deployments().filter(|id| asked(id)).cloned().collect();
            Markers::Journal { run, only }
        }
    };
    Ok(ToRestore {
        markers,
        handed: handed.into_iter().filter(asked).collect(),
    })
}

/// Removes the markers of `todo`, a window at a time ([`bucket::Restoring`]); those of a run in
/// the journal as its answer parts are read again. Also returns the parts that could not be
/// read again (their markers are not restored).
async fn remove_markers(
    bucket: &Bucket,
    markers: Markers,
    stop: &bucket::Progress,
) -> (RestoreReport, Vec<Failure>) {
    let mut unread = Vec::new();
    match markers {
        Markers::Listed(list) => (bucket.restore(&list, stop).await, unread),
        Markers::Journal { run, only } => {
            let mut restoring = bucket::Restoring::new(only.len());
            let mut read = run.read(&only);
            while let Some(part) = read.next().await {
                match part {
                    Ok(markers) => {
                        for (id, m) in markers {
                            restoring.push(bucket, id, m, stop).await;
                        }
                    }
                    Err(u) => {
                        tracing::error!(part = %u.part, error = %u.error, "a part of the run's journal could not be read again: its markers are not restored");
                        unread.push(Failure {
                            key: u.part,
                            error: format!(
                                "not restored: this part of the run's journal could not be read again ({}); restore the run again to finish",
                                u.error
                            ),
                        });
                    }
                }
            }
            drop(read);
            (restoring.finish(bucket, stop).await, unread)
        }
    }
}

/// What undoing a run's lifecycle handovers did: the rules withdrawn, and what could not be
/// undone.
#[derive(Default)]
struct Withdrawn {
    expiries: Vec<audit::Expiry>,
    failures: Vec<Failure>,
}

/// Withdraws the lifecycle rules of the deployments the run handed to S3 (`handed`): S3 has
/// not expired what is still there. A handed folder S3 already expired (nothing of it is
/// current), or whose rule cannot be withdrawn, is a failure.
async fn withdraw_handovers(bucket: &Bucket, run: &str, handed: &[DeploymentId]) -> Withdrawn {
    let mut out = Withdrawn::default();
    if handed.is_empty() {
        return out;
    }
    let failed = |key: String, what: String| Failure {
        key,
        error: format!("handed to S3 lifecycle expiration by run {run}: {what}"),
    };
    let withdrawn = match bucket.withdraw_expiries(handed).await {
        Ok(gone) => gone,
        Err(e) => {
            let ids: Vec<&str> = handed.iter().map(DeploymentId::as_str).collect();
            let what = format!("the rules could not be withdrawn, S3 may still expire them: {e}");
            out.failures.push(failed(ids.join(", "), what));
            return out;
        }
    };
    for id in handed {
        // S3 may have expired the folder already, its rule not yet removed as spent: nothing
        // of it is current (S3's delete markers, which restore does not remove, hide it).
        match bucket.folder_is_empty(id).await {
            Err(e) => {
                let what = format!("whether S3 expired it could not be read: {e}");
                out.failures.push(failed(id.to_string(), what));
            }
            Ok(true) => {
                let what = "S3 expired the folder already: restore cannot bring it back (its \
                            rule is withdrawn)";
                out.failures.push(failed(id.to_string(), what.into()));
            }
            // No rule and objects still there: nothing will expire them (the rule was removed
            // by hand, or by a scan that found the folder kept).
            Ok(false) => out
                .expiries
                .extend(
                    withdrawn
                        .iter()
                        .filter(|e| &e.id == id)
                        .map(|e| audit::Expiry {
                            deployment: id.to_string(),
                            rule: e.rule_id.clone(),
                            state: audit::ExpiryState::Withdrawn,
                            since: e.since,
                            reason: Some(format!("restored: run {run}'s handover undone")),
                        }),
                ),
        }
    }
    out
}

/// Removes the markers [`check_restore`] returned, journalling a record of the restore
/// (`restore_of: run`) before the first request and completing it after.
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

pub async fn restore(
    bucket: &Bucket,
    run: &str,
    todo: ToRestore,
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
    let lease = crate::lease::take_lease(bucket, crate::lease::holder_of(&record), false)
        .await
        .map_err(|e| RestoreRefusal::Lease(e.to_string()))?;
    let journal = RunJournal::new(bucket::JournalPlace::of(bucket), run_id);
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
    let (report, unread) = remove_markers(bucket, todo.markers, &stop).await;
    record_restore(&mut record, &report);
    if !unread.is_empty() {
        record.failures.extend(unread);
        record.status = Status::Failed;
    }
    let handovers = match stop.stop_requested() {
        false => withdraw_handovers(bucket, run, &todo.handed).await,
        true => Withdrawn::default(),
    };
    let pinned = match stop.stop_requested() {
        false => {
            // What came back by lifecycle rules withdrawn too: handed over again next run.
            let withdrawn = handovers.expiries.iter();
            let handed = withdrawn.filter_map(|e| DeploymentId::new(&e.deployment).ok());
            pin_restored(bucket, run, &report, handed, &mut record).await
        }
        true => Vec::new(),
    };
    if !pinned.is_empty() {
        // On record with the restore (History shows it; the dashboard's answer reads it).
        let ids: Vec<&str> = pinned.iter().map(DeploymentId::as_str).collect();
        record.policy["pinned"] = serde_json::json!(ids);
    }
    let lost = keeper.stop().await;
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
        journal_error,
    })
}

/// Pins every deployment the restore brought back, by its markers or by withdrawing its
/// lifecycle rule (one write of the pins file): the policy
/// that deleted them would delete them again on its next run, undoing the restore within a
/// day. A deployment pinned already keeps its pin. Not pinned (the write failed): a failure on
/// the record, saying what the next run will do.
async fn pin_restored(
    bucket: &Bucket,
    run: &str,
    report: &RestoreReport,
    handed: impl Iterator<Item = DeploymentId>,
    record: &mut Record,
) -> Vec<DeploymentId> {
    let mut back: Vec<DeploymentId> = report
        .deployments
        .iter()
        .filter(|d| d.restored > 0)
        .map(|d| d.id.clone())
        .collect();
    for id in handed {
        if !back.contains(&id) {
            back.push(id);
        }
    }
    if back.is_empty() {
        return back;
    }
    let at = Utc::now();
    let written = bucket
        .update_pins(|pins| {
            for id in &back {
                if !pins.iter().any(|p| &p.id == id) {
                    pins.push(retention::Pin {
                        id: id.clone(),
                        reason: format!("restored from run {run}"),
                        by: record.who.clone(),
                        at: Some(at),
                    });
                }
            }
        })
        .await;
    match written {
        Ok(_) => back,
        Err(e) => {
            record.failures.push(Failure {
                key: bucket.pins_key(),
                error: format!(
                    "restored, but not pinned: the next run of the policy may delete it again \
                     (pin it with `s3-prune pin`): {e}"
                ),
            });
            record.status = Status::Failed;
            Vec::new()
        }
    }
}
