//! S3 lifecycle handovers (`--via-lifecycle`). Doomed deployments too big to delete by
//! requests are handed to S3 lifecycle expiration (one rule per folder), and the handovers of
//! earlier runs are checked: finished ones (folder empty) have their rule removed. A handover
//! never outlives its reason: every scan ([`reconcile`]) compares the pending rules with what is
//! kept now and withdraws the rule of a folder that is now kept (pinned, live, re-deployed, kept
//! by a changed policy), and removes the spent rule of a folder the scan no longer finds (S3
//! expired it, or something deleted it by requests): left, it would expire a new deployment
//! that reuses the name (a PR preview) the day it is uploaded. `pin` withdraws at once, and an
//! apply that deletes such a folder by requests removes its rule after ([`withdraw_deleted`]).
//! The apply's handover itself is in [`hand_over`]. Anything that cannot be read or written
//! is a failure in the record and the deployments it concerns are left alone.

use audit::{Expiry, ExpiryState};
use bucket::Bucket;
use retention::{Action, DeploymentId, Inventory, Plan};
use serde::{Deserialize, Serialize};

mod hand_over;
pub use hand_over::goes_to_lifecycle;
pub(crate) use hand_over::{hand_over, Handover};

/// s3-prune's lifecycle handovers as a scan found them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handovers {
    /// Rules still expiring folders that stay doomed, with the day each was written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<Expiry>,
    /// Rules removed by this scan: their folders are kept now (`withdrawn`), or gone
    /// (`finished`: nothing is left to expire, and the spent rule would expire a new deployment
    /// of the same name).
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

/// How a rule read from the bucket is on record.
pub(crate) fn expiry(e: bucket::Expiry, state: ExpiryState, reason: Option<String>) -> Expiry {
    Expiry {
        deployment: e.id.to_string(),
        rule: e.rule_id,
        state,
        since: e.since,
        reason,
    }
}

/// What a scan says of a pending rule's folder.
pub(crate) enum Verdict {
    /// Still doomed: the rule stays.
    Doomed,
    /// Kept now, for this reason: the rule is withdrawn before S3 expires the folder.
    Kept(String),
    /// Not found by the scan (no current object): S3 has finished, or something deleted it.
    /// The spent rule is removed, or it would expire a new deployment that reuses the name.
    Gone,
}

/// Why a gone folder's rule was removed (on the record as the expiry's reason).
const GONE: &str = "its folder is gone (expired by S3 or deleted): the spent rule is removed so \
                    it cannot expire a new deployment of the same name";

/// Compares s3-prune's pending expiration rules with what is kept now (`kept` gives the reason
/// a rule's deployment is kept, `None` when it stays doomed) and removes the rules of kept
/// folders. Reading the rules needs s3:GetLifecycleConfiguration, which every bucket with
/// handovers grants its pruners; without it nothing is checked and `error` says so.
pub async fn reconcile(
    bucket: &Bucket,
    kept: impl Fn(&bucket::Expiry) -> Option<String>,
) -> Handovers {
    reconcile_verdicts(bucket, |e| kept(e).map_or(Verdict::Doomed, Verdict::Kept)).await
}

/// [`reconcile`] with the spent rules of gone folders removed too (a scan that found every
/// folder can tell).
pub(crate) async fn reconcile_verdicts(
    bucket: &Bucket,
    verdict: impl Fn(&bucket::Expiry) -> Verdict,
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
    // Each rule to remove, with its state and reason once removed.
    let mut remove: Vec<(bucket::Expiry, ExpiryState, String)> = Vec::new();
    for e in rules {
        match verdict(&e) {
            Verdict::Kept(reason) => remove.push((e, ExpiryState::Withdrawn, reason)),
            Verdict::Gone => remove.push((e, ExpiryState::Finished, GONE.into())),
            Verdict::Doomed => out.pending.push(expiry(e, ExpiryState::Pending, None)),
        }
    }
    if remove.is_empty() {
        return out;
    }
    let ids: Vec<DeploymentId> = remove.iter().map(|(e, ..)| e.id.clone()).collect();
    match bucket.withdraw_expiries(&ids).await {
        Ok(gone) => {
            out.withdrawn = gone
                .into_iter()
                .filter_map(|g| {
                    let (_, state, reason) = remove.iter().find(|(e, ..)| e.id == g.id)?;
                    Some(expiry(g, *state, Some(reason.clone())))
                })
                .collect()
        }
        Err(e) => out.error = Some(not_removed(&remove, &e)),
    }
    out
}

/// The error of rules that could not be removed: dangerous (S3 may expire a kept folder) when
/// one of them is kept; else a warning that a new deployment of a gone folder's name would be
/// expired.
fn not_removed(remove: &[(bucket::Expiry, ExpiryState, String)], e: &bucket::S3Error) -> String {
    let names = |state: ExpiryState| {
        let n: Vec<&str> = remove
            .iter()
            .filter(|(_, s, _)| *s == state)
            .map(|(r, ..)| r.id.as_str())
            .collect();
        n.join(", ")
    };
    let (kept, gone) = (names(ExpiryState::Withdrawn), names(ExpiryState::Finished));
    let fix = format!(
        "Remove the rule '{}…' by hand or grant s3:PutLifecycleConfiguration",
        bucket::EXPIRE_RULE
    );
    if kept.is_empty() {
        tracing::warn!(error = %e, deployments = %gone, "a gone folder's spent expiration rule could not be removed");
        return format!(
            "the spent S3 lifecycle rules of {gone} (folders gone) were not removed: {e}. A new \
             deployment of that name would be expired by S3. {fix}"
        );
    }
    tracing::error!(error = %e, deployments = %kept, "a kept folder's expiration rule could not be removed");
    format!("S3 lifecycle may still expire {kept} (kept now): the rule was NOT removed: {e}. {fix}")
}

/// [`reconcile`] against a plan: a folder the plan keeps is kept, for the plan's reason; one it
/// does not know (gone) has its spent rule removed. A plan
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
    reconcile_verdicts(bucket, |rule| {
        let Some(e) = plan.entries.iter().find(|e| e.id == rule.id) else {
            return Verdict::Gone;
        };
        if e.action == Action::Keep {
            return Verdict::Kept(e.reason.to_string());
        }
        changed
            .iter()
            .find(|(id, _)| *id == rule.id)
            .map_or(Verdict::Doomed, |(_, why)| Verdict::Kept(why.clone()))
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
/// keeps a folder whatever the policy — a pin, the live pointer or page, being live or
/// re-deployed after its rule was written. A folder the scan does not find has its spent rule
/// removed. `now` is S3's.
pub async fn reconcile_with_scan(
    bucket: &Bucket,
    inventory: &Inventory,
    now: chrono::DateTime<chrono::Utc>,
) -> Handovers {
    let today = now.date_naive();
    reconcile_verdicts(bucket, |rule| {
        let id = &rule.id;
        // The rule's day, never after S3's today (one written by a host days ahead, before
        // rules were dated by S3's day, would hide a re-deploy or a rollback until then).
        let since = rule.since.map(|s| s.min(today));
        let kept = |why: &str| Verdict::Kept(why.into());
        if inventory.pins.iter().any(|p| &p.id == id) {
            return kept("pinned");
        }
        if inventory.live.as_ref() == Some(id) {
            return kept("live");
        }
        if inventory
            .live_from
            .as_ref()
            .is_some_and(|l| l.ids.contains(id))
        {
            return kept("referenced by the live page");
        }
        let Some(d) = inventory.deployments.iter().find(|d| &d.id == id) else {
            return Verdict::Gone;
        };
        // Live on or after the day of its handover (a rollback and roll-forward between two
        // scans): the handover's judgement may be out of date, and the policy's live grace is
        // not known here. Withdrawn; the next plan judges the grace and hands it over again if
        // it is spent (a folder that stopped being live earlier on its handover's day, with a
        // grace under a day, waits a day more: the rule knows its day, not its time). A rule
        // without its day (an older version's): live within the last day.
        let live_since = |w: &retention::WasLive| match since {
            Some(since) => w.until.date_naive() >= since,
            None => now - w.until < chrono::Duration::days(1),
        };
        if inventory
            .was_live
            .iter()
            .any(|w| &w.id == id && live_since(w))
        {
            return kept("live on or after the day it was handed over");
        }
        // (days only: a re-deploy on the handover's own day is left to the next plan, since
        // objects uploaded that day, dated by metadata, would look re-deployed too)
        match since {
            Some(since) if d.newest.date_naive() > since => {
                kept("re-deployed after it was handed over")
            }
            _ => Verdict::Doomed,
        }
    })
    .await
}
