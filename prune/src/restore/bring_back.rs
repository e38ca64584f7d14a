//! Bringing back what [`super::check`] found: the run's delete markers removed a window at a
//! time, its lifecycle handovers withdrawn (and what S3 expired of them brought back), and what
//! came back pinned so the policy that deleted
//! it does not delete it again on its next run.

use super::Markers;
use audit::Failure;
use bucket::{Bucket, RestoreReport};
use chrono::{DateTime, Utc};
use retention::DeploymentId;

/// Removes the markers of `todo`, a window at a time ([`bucket::Restoring`]); those of a run in
/// the journal as its answer parts are read again, then, for a run killed before its end, the
/// rest found in its folders (one that cannot be listed is a failure of its deployment). Also
/// returns the parts that could not be read again (their markers are not restored).
pub(super) async fn remove_markers(
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
            // A run killed before its end: the rest of what it deleted, found in its folders.
            let folders = run.folders(&only);
            for id in &folders.ids {
                let found =
                    bucket.bring_back_made(&mut restoring, id, folders.span, folders.theirs, stop);
                if let Some(e) = found.await {
                    tracing::error!(deployment = %id, error = %e, "the run's folder could not be listed: what it deleted there that its answers did not record is not restored");
                    let why = format!(
                        "not all restored: the folder could not be listed for what the run deleted there ({e}); restore the run again to finish"
                    );
                    restoring.unlisted(id, bucket.deployment_prefix(id), why);
                }
            }
            (restoring.finish(bucket, stop).await, unread)
        }
    }
}

/// What undoing a run's lifecycle handovers did: the rules withdrawn, what S3 had expired of
/// the folders and was brought back (per deployment, like the run's markers), and what could
/// not be undone.
#[derive(Default)]
pub(super) struct Withdrawn {
    pub(super) expiries: Vec<audit::Expiry>,
    pub(super) unexpired: Vec<bucket::RestoreOutcome>,
    pub(super) failures: Vec<Failure>,
}

/// Withdraws the lifecycle rules of the deployments the run handed to S3 (`handed`), then
/// brings back what S3 expired of them already: on a bucket that keeps versions (`since`, the
/// run's start), the delete markers its expiration made since ([`Bucket::unexpire`]; a key
/// without an earlier version is reported left). A handed folder that stays empty (S3 expired
/// it on a bucket without versions), or whose rule cannot be withdrawn, is a failure.
pub(super) async fn withdraw_handovers(
    bucket: &Bucket,
    run: &str,
    handed: &[DeploymentId],
    since: Option<DateTime<Utc>>,
    stop: &bucket::Progress,
) -> Withdrawn {
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
        // S3 may have expired some or all of the folder already, its rule not yet removed as
        // spent: its delete markers hide those keys.
        if let Some(since) = since {
            let (report, unlisted) = bucket.unexpire(id, since, stop).await;
            out.unexpired.extend(report.deployments);
            if let Some(e) = unlisted {
                let what = format!("what S3 expired of it could not be listed, so not all of it may be back: {e}; restore the run again");
                out.failures.push(failed(id.to_string(), what));
            }
        }
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

/// Pins every deployment the restore is to bring back, by its markers or by withdrawing its
/// lifecycle rule (one write of the pins file), before it brings any back: the policy that
/// deleted them would delete them again on its next run, undoing the restore within a day.
/// A deployment pinned already keeps its pin; one that stays gone (deleted again since) is
/// only named in a plan's warning. Not pinned (the write failed): the failure for the record,
/// saying what the next run will do; the restore goes on.
pub(super) async fn pin_restored(
    bucket: &Bucket,
    run: &str,
    back: Vec<DeploymentId>,
    who: &str,
    at: DateTime<Utc>,
) -> Result<Vec<DeploymentId>, Failure> {
    if back.is_empty() {
        return Ok(back);
    }
    let written = bucket
        .update_pins(|pins| {
            for id in &back {
                if !pins.iter().any(|p| &p.id == id) {
                    pins.push(retention::Pin {
                        id: id.clone(),
                        reason: format!("restored from run {run}"),
                        by: who.to_string(),
                        at: Some(at),
                    });
                }
            }
        })
        .await;
    match written {
        Ok(_) => Ok(back),
        Err(e) => Err(Failure {
            key: bucket.pins_key(),
            error: format!(
                "restored, but not pinned: the next run of the policy may delete it again \
                 (pin it with `s3-prune pin`): {e}"
            ),
        }),
    }
}

/// Removes the pins [`pin_restored`] gave (`at`, by `who`, for run `run`) to deployments that
/// stayed gone; a pin given otherwise stays. Best effort: a pin left names a deployment a plan
/// then warns is not there.
pub(super) async fn unpin_gone(
    bucket: &Bucket,
    run: &str,
    gone: &[DeploymentId],
    who: &str,
    at: DateTime<Utc>,
) {
    if gone.is_empty() {
        return;
    }
    let reason = format!("restored from run {run}");
    let ours = |p: &retention::Pin| {
        gone.contains(&p.id) && p.reason == reason && p.by == who && p.at == Some(at)
    };
    if let Err(e) = bucket.update_pins(|pins| pins.retain(|p| !ours(p))).await {
        tracing::info!(error = %e, "pins of deployments that stayed gone not removed");
    }
}
