//! The checks before a restore touches anything: the run is on record, is an apply, was on this
//! bucket and prefix, left delete markers (the bucket versioned, not purged), and deleted the
//! deployments asked for. Returns what to undo ([`ToRestore`]). A run whose deletes cannot be
//! undone but that handed deployments to S3 lifecycle is not refused: its rules are withdrawn
//! (S3 has deleted nothing of them yet), and the refusal of the rest is said.

use super::{Markers, RestoreRefusal, ToRestore};
use audit::Record;
use bucket::{Bucket, MarkerToRemove};
use retention::DeploymentId;
use std::collections::{BTreeMap, BTreeSet};

/// How long before the run's start a delete marker in a handed folder may be dated and still be
/// taken as S3's expiration of it (as for a killed run's markers: S3's clock against the
/// host's, S3's dates to the second). S3 expires a folder a day after its rule at the earliest.
const CLOCK_SKEW: chrono::Duration = chrono::Duration::minutes(5);

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
            // On this machine's record, but not in the journal opened (it ran with another
            // --journal): said so, not "not in the audit log".
            if found.is_none() {
                return Err(RestoreRefusal::NotInJournal {
                    run: format!("{label} ({id})"),
                    place: place.url(),
                });
            }
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
    if found.is_none() {
        return Err(RestoreRefusal::NotInJournal {
            run: run.into(),
            place: place.url(),
        });
    }
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
    // No end on record: the run died, or it is still running — then what it deleted so far is
    // not all it will delete, and a restore now would bring back part of it and say done.
    let unfinished = match found.record.status {
        audit::Status::Started => found
            .record
            .run
            .as_deref()
            .and_then(bucket::RunId::parse)
            .or_else(|| bucket::RunId::parse(run)),
        _ => None,
    };
    if let Some(id) = &unfinished {
        let lease = bucket.read_lease().await.ok().flatten().map(|(l, _)| l);
        if crate::journal::holds_lease(lease.as_ref(), id.as_str(), chrono::Utc::now()) {
            return Err(RestoreRefusal::StillRunning { run: run.into() });
        }
    }
    let markers = Markers::Journal {
        run: Box::new(found.markers),
        only: BTreeSet::new(),
    };
    let mut todo = check_markers(bucket, run, &found.record, markers, only).await?;
    todo.unfinished = unfinished;
    Ok(todo)
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
    let handed = handed_by(rec);
    // Its deployments with markers to remove, and whether its answers recorded any (a run
    // read from the journal holds none on its record).
    let (with_markers, recorded): (Vec<&DeploymentId>, bool) = match &markers {
        Markers::Listed(list) => (list.iter().map(|(id, _)| id).collect(), false),
        Markers::Journal { run, .. } => (run.deployments().collect(), run.recorded_any()),
    };
    // A run that deleted without leaving markers to undo (versioning suspended or off then):
    // markers found by time for its unanswered batches are "null" ones, whose removal brings
    // back nothing it deleted.
    let restorable = rec.restorable() || (!rec.is_restore() && recorded);
    let refused = if !versioning.keeps_versions() {
        Some(RestoreRefusal::Unversioned {
            bucket: rec.bucket.clone(),
        })
    } else if rec.policy.get("purge_versions") == Some(&serde_json::Value::Bool(true)) {
        Some(RestoreRefusal::Purged { run: run.clone() })
    } else if (with_markers.is_empty() && handed.is_empty()) || !restorable {
        Some(RestoreRefusal::NoMarkers { run: run.clone() })
    } else {
        None
    };
    // What S3 expired of a handed folder is brought back by removing its markers made since
    // the run began (by S3's clock, which dates them to the second: the host's start less the
    // skew a killed run's markers are allowed).
    let handed_at = versioning
        .keeps_versions()
        .then(|| rec.started_at - CLOCK_SKEW);
    if let Some(refused) = refused {
        return handovers_only(refused, handed, handed_at, only);
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
        unfinished: None,
        not_restored: None,
        handed_at,
    })
}

/// What is left to undo of a run whose deletes cannot be undone (`refused`: the bucket is not
/// versioned, the run purged, or it left no markers): its lifecycle handovers (`handed`), of
/// which S3 has deleted nothing yet — withdrawing their rules saves those deployments. The
/// restore does that and says the rest is not restored. Refused whole when the run handed
/// nothing over, or a deployment asked for (`only`) is not one of its handovers.
fn handovers_only(
    refused: RestoreRefusal,
    handed: Vec<DeploymentId>,
    handed_at: Option<chrono::DateTime<chrono::Utc>>,
    only: &[DeploymentId],
) -> Result<ToRestore, RestoreRefusal> {
    if handed.is_empty() || only.iter().any(|id| !handed.contains(id)) {
        return Err(refused);
    }
    let asked = |id: &DeploymentId| only.is_empty() || only.contains(id);
    Ok(ToRestore {
        markers: Markers::default(),
        handed: handed.into_iter().filter(asked).collect(),
        unfinished: None,
        not_restored: Some(refused),
        handed_at,
    })
}
