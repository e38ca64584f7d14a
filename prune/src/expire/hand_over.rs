//! The apply's side of `--via-lifecycle`: which doomed deployments go to S3 lifecycle
//! expiration, the earlier handovers checked first, the rules written while S3's limit leaves
//! room, and what is left to delete by requests.

use super::expiry;
use audit::{Expiry, ExpiryState, Failure};
use bucket::Bucket;
use retention::{DeploymentId, Doomed};

/// What the handover decided: the deployments still to delete by requests, the expiries to
/// record, and failures (their deployments are neither deleted nor handed over).
pub(crate) struct Handover {
    pub(crate) by_requests: Vec<Doomed>,
    pub(crate) expiries: Vec<Expiry>,
    pub(crate) failures: Vec<Failure>,
}

/// Whether a doomed deployment is handed to S3 lifecycle expiration rather than deleted by
/// requests, with `--via-lifecycle`'s threshold `over` (none: never): it holds more objects.
/// (A pinned or newly live one is held instead, at the handover.)
pub fn goes_to_lifecycle(d: &Doomed, over: Option<u64>) -> bool {
    over.is_some_and(|over| d.objects > over)
}

/// Hands each doomed deployment of more than `over` objects to S3 lifecycle expiration (those
/// `guard` holds now go with the rest, to be deleted by requests, which report them held), after
/// checking the earlier handovers.
///
/// From a plan made of an S3 Inventory report (`report_date`) nothing is handed over: a rule
/// expires its folder without listing it again, and the report may predate a re-sync of it
/// (requests list each folder again first). Those deployments are failures, left whole.
pub(crate) async fn hand_over(
    bucket: &Bucket,
    doomed: Vec<Doomed>,
    over: u64,
    report_date: Option<chrono::DateTime<chrono::Utc>>,
    guard: &crate::watch::Guard,
    journal: &crate::journal::RunJournal,
) -> Handover {
    let mut out = Handover {
        by_requests: Vec::new(),
        expiries: Vec::new(),
        failures: Vec::new(),
    };
    match bucket.expiry_followup().await {
        Ok(checked) => out.expiries.extend(checked.into_iter().map(|e| {
            let state = if e.finished {
                ExpiryState::Finished
            } else {
                ExpiryState::Pending
            };
            expiry(e, state, None)
        })),
        Err(e) => out.failures.push(Failure {
            key: format!("{}{}", bucket.prefix(), bucket::EXPIRE_RULE),
            error: format!("earlier lifecycle handovers not checked: {e}"),
        }),
    }
    let (over_threshold, small): (Vec<Doomed>, Vec<Doomed>) = doomed
        .into_iter()
        .partition(|d| goes_to_lifecycle(d, Some(over)));
    out.by_requests = small;
    // Pinned or made live since the plan, or the guard unreadable: not handed over. It goes
    // with those deleted by requests, whose pipeline asks again and reports it held (one held
    // for want of a reading stays held for the run, `Guard::hold`).
    let mut big = Vec::with_capacity(over_threshold.len());
    for d in over_threshold {
        match guard.hold(&d.id).await {
            Some(_) => out.by_requests.push(d),
            None => big.push(d),
        }
    }
    if let Some(date) = report_date {
        let date = date.format("%Y-%m-%d %H:%M UTC");
        out.failures.extend(big.iter().map(|d| Failure {
            key: bucket.deployment_prefix(&d.id),
            error: format!(
                "not handed to S3 lifecycle, nothing of it deleted: the plan is from the S3 \
                 Inventory report of {date} (--inventory), and an expiration rule would delete \
                 the folder without listing it again, re-synced since the report or not. Use \
                 --via-lifecycle with a plan from a listing (without --inventory), or delete it \
                 by requests, each folder listed again first (without --via-lifecycle)"
            ),
        }));
        return out;
    }
    // Oldest first: where S3's limit on rules leaves no room for all, the oldest go.
    big.sort_by(|a, b| (a.newest, &a.id).cmp(&(b.newest, &b.id)));
    let ids: Vec<_> = big.iter().map(|d| d.id.clone()).collect();
    // Dated by S3's day: a dashboard's scan compares it with the folder's upload dates and the
    // live pointer's moves, both S3's (a host days ahead would hide a re-deploy from it).
    let today = guard.now().date_naive();
    if !ids.is_empty() {
        // On record before the rules are written: a run killed while they are on their way, or
        // while S3 settles, is restored rule and all.
        let handing: Vec<Expiry> = (ids.iter())
            .map(|id| Expiry {
                deployment: id.to_string(),
                rule: bucket.expire_rule_id(id, today).unwrap_or_default(),
                state: ExpiryState::Handed,
                since: Some(today),
                reason: Some(HANDING.into()),
            })
            .collect();
        if let Err(e) = journal.handing(&handing).await {
            out.failures.extend(big.iter().map(|d| Failure {
                key: bucket.deployment_prefix(&d.id),
                error: format!("not handed to S3 lifecycle, nothing of it deleted: {e}"),
            }));
            return out;
        }
    }
    match bucket.expire_by_lifecycle(&ids, today).await {
        Ok(handed) => {
            let written = std::time::Instant::now();
            // A handover replaces the "pending" line of the same deployment.
            out.expiries
                .retain(|e| !handed.rules.iter().any(|w| w.id.as_str() == e.deployment));
            out.expiries.extend(handed.rules.iter().map(|w| Expiry {
                deployment: w.id.to_string(),
                rule: w.rule_id.clone(),
                state: ExpiryState::Handed,
                since: Some(today),
                reason: None,
            }));
            out.failures.extend(handed.no_room.iter().map(|id| Failure {
                key: bucket.deployment_prefix(id),
                error: no_room(handed.rules_now),
            }));
            withdraw_held_since(bucket, guard, written, &mut out).await;
        }
        Err(e) => out.failures.extend(big.iter().map(|d| Failure {
            key: bucket.deployment_prefix(&d.id),
            error: format!("not handed to S3 lifecycle, nothing of it deleted: {e}"),
        })),
    }
    out
}

/// The rules just written (and those of earlier handovers, written back with them) asked
/// about once more, from a reading begun after the write: a pin set while the write was on its
/// way had its own withdrawal read the rules before S3 showed the new one, and withdrew
/// nothing; left, the rule would expire a folder meant to stay. The rule of each deployment
/// that must stay now is withdrawn at once, and its expiry says why; one that cannot be is a
/// failure (S3 may expire it: said as loudly as a scan says it).
async fn withdraw_held_since(
    bucket: &Bucket,
    guard: &crate::watch::Guard,
    written: std::time::Instant,
    out: &mut Handover,
) {
    let mut held: Vec<(DeploymentId, String)> = Vec::new();
    for e in &out.expiries {
        if !matches!(e.state, ExpiryState::Handed | ExpiryState::Pending) {
            continue;
        }
        let Ok(id) = DeploymentId::new(&e.deployment) else {
            continue;
        };
        if let Some(why) = guard.hold_read_after(&id, Some(written)).await {
            held.push((id, why));
        }
    }
    if held.is_empty() {
        return;
    }
    let why_held = |rule: &bucket::Expiry| {
        held.iter()
            .find(|(id, _)| *id == rule.id)
            .map(|(_, why)| why.clone())
    };
    let checked = crate::expire::reconcile(bucket, why_held).await;
    for w in checked.withdrawn {
        if let Some(e) = out
            .expiries
            .iter_mut()
            .find(|e| e.deployment == w.deployment)
        {
            *e = w;
        }
    }
    if let Some(error) = checked.error {
        out.failures.extend(held.iter().map(|(id, _)| Failure {
            key: bucket.deployment_prefix(id),
            error: error.clone(),
        }));
    }
}

/// Why a handover read from `handing.json` (a run killed before its end) is on record.
const HANDING: &str = "on its way to S3 lifecycle when the run stopped (its rule may or may not \
                       have been written)";

/// Why a deployment was not handed over though it was doomed: the bucket's lifecycle rules
/// (`rules` of every owner) left no room under S3's limit.
fn no_room(rules: usize) -> String {
    format!(
        "not handed to S3 lifecycle, nothing of it deleted: the bucket's lifecycle configuration \
         holds {rules} rules and S3 takes at most {max}. Later runs hand over more as S3 \
         finishes earlier handovers and their spent rules are removed, or once rules the bucket \
         no longer needs are removed; to delete it now, apply without --via-lifecycle (by \
         requests)",
        max = bucket::LIFECYCLE_RULES_MAX,
    )
}
