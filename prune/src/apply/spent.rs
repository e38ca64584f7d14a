//! The spent lifecycle rules of an apply's deletes by requests: a folder with a pending
//! s3-prune expiration rule (handed over by an earlier run) that this run deleted by requests
//! has nothing left for S3 to expire, and the rule, left, would expire a new deployment of the
//! same name (a PR preview) the day it is uploaded; one it left whole because it is kept now
//! must not be expired. Their rules are removed once the deletes are answered.

use crate::expire::expiry;
use crate::Planned;
use audit::{Expiry, ExpiryState, Failure};
use bucket::{Bucket, DeleteReport};
use retention::DeploymentId;

/// Removes the pending lifecycle rules (known from the plan's scan, or checked by the
/// handover) of the folders this run deleted by requests, or left whole because they are kept
/// now ([`withdraw_after_requests`]): left, a spent rule expires a new deployment
/// of the same name the day it is uploaded. On the record in place of their "pending" lines.
pub(super) async fn withdraw_spent(
    planned: &Planned,
    report: &DeleteReport,
    handover: &mut crate::expire::Handover,
) {
    let pending: Vec<audit::Expiry> = planned
        .handovers
        .pending
        .iter()
        .chain(&handover.expiries)
        .filter(|e| e.state == audit::ExpiryState::Pending)
        .cloned()
        .collect();
    if pending.is_empty() {
        return;
    }
    let (removed, failed) = withdraw_after_requests(&planned.bucket, &pending, report).await;
    handover
        .expiries
        .retain(|e| !removed.iter().any(|r| r.deployment == e.deployment));
    handover.expiries.extend(removed);
    handover.failures.extend(failed);
}

/// After an apply's deletes by requests: removes the rules among the pending ones it knew of
/// (`pending`) whose folders it deleted (S3 has nothing left to expire there, and the spent
/// rule would expire a new deployment of the same name the day it is uploaded), or left whole
/// because they are kept now (held: pinned or live since the plan; changed since it;
/// re-published while it was deleted, its new keys left). A folder only partly deleted
/// (failures, a stop) keeps its rule: it is still doomed. Returns the rules
/// removed, as the record shows them, and why they could not be removed, if they could not.
async fn withdraw_after_requests(
    bucket: &Bucket,
    pending: &[Expiry],
    report: &DeleteReport,
) -> (Vec<Expiry>, Option<Failure>) {
    let remove: Vec<(DeploymentId, ExpiryState, String)> = report
        .deployments
        .iter()
        .filter(|d| pending.iter().any(|e| e.deployment == d.id.as_str()))
        .filter_map(|d| {
            let (state, why) = if d.is_gone() {
                let why = "deleted by requests by this run: its spent rule is removed";
                (ExpiryState::Finished, why.to_string())
            } else if let Some(held) = &d.held {
                (ExpiryState::Withdrawn, held.clone())
            } else if let Some(newer) = d.skipped.first() {
                // Re-published while it was deleted: S3 would expire the new upload.
                let why = format!(
                    "re-published during the run ({} newer than its listing, e.g. {}): kept",
                    d.skipped.len(),
                    newer.key
                );
                (ExpiryState::Withdrawn, why)
            } else {
                let changed = d.changed.as_ref()?;
                (
                    ExpiryState::Withdrawn,
                    format!("changed since the plan: {changed}"),
                )
            };
            Some((d.id.clone(), state, why))
        })
        .collect();
    if remove.is_empty() {
        return (Vec::new(), None);
    }
    let ids: Vec<DeploymentId> = remove.iter().map(|(id, ..)| id.clone()).collect();
    match bucket.withdraw_expiries(&ids).await {
        Ok(gone) => {
            let done = gone.into_iter().filter_map(|g| {
                let (_, state, why) = remove.iter().find(|(id, ..)| *id == g.id)?;
                Some(expiry(g, *state, Some(why.clone())))
            });
            (done.collect(), None)
        }
        Err(e) => {
            let names: Vec<&str> = ids.iter().map(DeploymentId::as_str).collect();
            tracing::error!(error = %e, deployments = ?names, "an expiration rule of a folder this run deleted or left could not be removed");
            let failure = Failure {
                key: format!("{}{}", bucket.prefix(), bucket::EXPIRE_RULE),
                error: format!(
                    "the S3 lifecycle rules of {} (deleted by requests, or kept now) were NOT \
                     removed: {e}. S3 would expire a new deployment of that name, or a kept \
                     one. Remove the rules '{}…' by hand or grant s3:PutLifecycleConfiguration",
                    names.join(", "),
                    bucket::EXPIRE_RULE
                ),
            };
            (Vec::new(), Some(failure))
        }
    }
}
