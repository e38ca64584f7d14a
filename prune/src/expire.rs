//! S3 lifecycle handovers (`--via-lifecycle`). Doomed deployments too big to delete by
//! requests are handed to S3 lifecycle expiration (one rule per folder), and the handovers of
//! earlier runs are checked: finished ones (folder empty) have their rule removed. A handover
//! never outlives its reason: every scan ([`reconcile`]) compares the pending rules with what is
//! kept now and withdraws the rule of a folder that is now kept (pinned, live, re-deployed, kept
//! by a changed policy); `pin` withdraws at once. Anything that cannot be read or written is a
//! failure in the record and the deployments it concerns are left alone.

use audit::{Expiry, ExpiryState, Failure};
use bucket::Bucket;
use retention::{Action, DeploymentId, Doomed, Inventory, Plan};
use serde::{Deserialize, Serialize};

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

/// s3-prune's lifecycle handovers as a scan found them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handovers {
    /// Rules still expiring folders that stay doomed, with the day each was written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<Expiry>,
    /// Rules removed by this scan: their folders are kept now.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub withdrawn: Vec<Expiry>,
    /// The rules could not be read, or a kept folder's rule could not be removed (then S3 may
    /// still expire it: said loudly by every front end).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Handovers {
    /// A kept folder whose rule stands: S3 would expire what is meant to stay.
    pub fn is_dangerous(&self) -> bool {
        self.danger().is_some()
    }

    /// The error, when it is that S3 would expire what is meant to stay: every front end fails
    /// on it (the plan's and the run's exit status, the scheduled job's answer and metrics).
    pub fn danger(&self) -> Option<&str> {
        self.error.as_deref().filter(|e| e.contains("NOT removed"))
    }
}

fn expiry(e: bucket::Expiry, state: ExpiryState, reason: Option<String>) -> Expiry {
    Expiry {
        deployment: e.id.to_string(),
        rule: e.rule_id,
        state,
        since: e.since,
        reason,
    }
}

/// Compares s3-prune's pending expiration rules with what is kept now (`kept` gives the reason
/// a rule's deployment is kept, `None` when it stays doomed or is gone) and removes the rules
/// of kept folders. Reading the rules needs s3:GetLifecycleConfiguration, which every bucket with
/// handovers grants its pruners; without it nothing is checked and `error` says so.
pub async fn reconcile(
    bucket: &Bucket,
    kept: impl Fn(&bucket::Expiry) -> Option<String>,
) -> Handovers {
    let mut out = Handovers::default();
    let rules = match bucket.expiries().await {
        Ok(rules) => rules,
        Err(e) => {
            tracing::warn!(error = %e, "lifecycle handovers not checked: grant s3:GetLifecycleConfiguration so a kept folder's expiration rule is withdrawn");
            out.error = Some(format!("lifecycle handovers not checked: {e}"));
            return out;
        }
    };
    let mut withdraw = Vec::new();
    for e in rules {
        match kept(&e) {
            Some(reason) => withdraw.push((e, reason)),
            None => out.pending.push(expiry(e, ExpiryState::Pending, None)),
        }
    }
    if withdraw.is_empty() {
        return out;
    }
    let ids: Vec<DeploymentId> = withdraw.iter().map(|(e, _)| e.id.clone()).collect();
    match bucket.withdraw_expiries(&ids).await {
        Ok(gone) => {
            out.withdrawn = gone
                .into_iter()
                .map(|g| {
                    let reason = withdraw
                        .iter()
                        .find(|(e, _)| e.id == g.id)
                        .map(|(_, r)| r.clone());
                    expiry(g, ExpiryState::Withdrawn, reason)
                })
                .collect()
        }
        Err(e) => {
            let names: Vec<String> = ids.iter().map(ToString::to_string).collect();
            tracing::error!(error = %e, deployments = ?names, "a kept folder's expiration rule could not be removed");
            out.error = Some(format!(
                "S3 lifecycle may still expire {} (kept now): the rule was NOT removed: {e}. \
                 Remove the rule '{}…' by hand or grant s3:PutLifecycleConfiguration",
                names.join(", "),
                bucket::EXPIRE_RULE
            ));
        }
    }
    out
}

/// [`reconcile`] against a plan: a folder the plan keeps is kept, for the plan's reason. A plan
/// from an S3 Inventory report (`report_date`) only knows each folder as it was then: the
/// folders of pending rules that it dooms are listed now, and a rule whose folder is newer than
/// the report says (re-synced or re-deployed since), or could not be listed, is withdrawn.
pub async fn reconcile_with_plan(
    bucket: &Bucket,
    plan: &Plan,
    report_date: Option<chrono::DateTime<chrono::Utc>>,
) -> Handovers {
    let changed = match report_date {
        Some(date) => changed_since_report(bucket, plan, date).await,
        None => Vec::new(),
    };
    reconcile(bucket, |rule| {
        let e = plan.entries.iter().find(|e| e.id == rule.id)?;
        if e.action == Action::Keep {
            return Some(e.reason.to_string());
        }
        changed
            .iter()
            .find(|(id, _)| *id == rule.id)
            .map(|(_, why)| why.clone())
    })
    .await
}

/// The doomed folders with a pending rule that a listing finds newer than the report of `date`
/// says (or cannot list), each with why its rule is withdrawn.
async fn changed_since_report(
    bucket: &Bucket,
    plan: &Plan,
    date: chrono::DateTime<chrono::Utc>,
) -> Vec<(DeploymentId, String)> {
    // Unreadable rules: reconcile reads them again and says so.
    let Ok(rules) = bucket.expiries().await else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for rule in rules {
        let Some(e) = plan.entries.iter().find(|e| e.id == rule.id) else {
            continue;
        };
        if e.action == Action::Keep {
            continue;
        }
        let report = date.format("%Y-%m-%d %H:%M UTC");
        match bucket.newest_now(&rule.id).await {
            Ok(Some(now)) if now > e.newest => out.push((
                rule.id,
                format!(
                    "changed since the inventory report of {report} (re-synced or re-deployed)"
                ),
            )),
            Ok(_) => {}
            Err(err) => out.push((
                rule.id,
                format!(
                    "could not be listed to check it against the inventory report of {report} \
                     ({err}): withdrawn to be safe; the next run hands it over again"
                ),
            )),
        }
    }
    out
}

/// [`reconcile`] where no policy is known (the dashboard's scan: the browser plans): what
/// keeps a folder whatever the policy — a pin, the live pointer or page, or a re-deploy after
/// its rule was written.
pub async fn reconcile_with_scan(bucket: &Bucket, inventory: &Inventory) -> Handovers {
    reconcile(bucket, |rule| {
        let id = &rule.id;
        if inventory.pins.iter().any(|p| &p.id == id) {
            return Some("pinned".into());
        }
        if inventory.live.as_ref() == Some(id) {
            return Some("live".into());
        }
        if inventory
            .live_from
            .as_ref()
            .is_some_and(|l| l.ids.contains(id))
        {
            return Some("referenced by the live page".into());
        }
        let newest = inventory.deployments.iter().find(|d| &d.id == id)?.newest;
        // (days only: a re-deploy on the handover's own day is left to the next plan, since
        // objects uploaded that day, dated by metadata, would look re-deployed too)
        (newest.date_naive() > rule.since?).then(|| "re-deployed after it was handed over".into())
    })
    .await
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
    // Pinned or made live since the plan: not handed over. It goes with those deleted by
    // requests, whose pipeline asks again and reports it held.
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
    let ids: Vec<_> = big.iter().map(|d| d.id.clone()).collect();
    match bucket.expire_by_lifecycle(&ids).await {
        Ok(rules) => {
            // A handover replaces the "pending" line of the same deployment.
            out.expiries
                .retain(|e| !ids.iter().any(|i| i.as_str() == e.deployment));
            out.expiries
                .extend(ids.iter().zip(rules).map(|(id, rule)| Expiry {
                    deployment: id.to_string(),
                    rule,
                    state: ExpiryState::Handed,
                    since: Some(chrono::Utc::now().date_naive()),
                    reason: None,
                }))
        }
        Err(e) => out.failures.extend(big.iter().map(|d| Failure {
            key: bucket.deployment_prefix(&d.id),
            error: format!("not handed to S3 lifecycle, nothing of it deleted: {e}"),
        })),
    }
    out
}
