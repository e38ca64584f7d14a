//! The two-person rule on the dashboard (`serve --approval-over N`): an apply deleting more
//! than N deployments is filed as a request (`prune::approval`) instead of run; another deployer
//! approves it — the server re-plans with the requester's policy, and only the very set they
//! confirmed is deleted — or refuses it. Nobody decides their own request.

use super::{AppError, AppState, Busy};
use crate::wire::{ApplyOutcome, ApplyRequest, ApprovalView};
use bucket::Bucket;
use chrono::Utc;
use prune::approval::{self, Approval, ApprovalRequest, Asked, Decision};
use std::sync::Arc;

/// Requests shown on a bucket's page at most (the newest).
const SHOWN: usize = 20;

impl From<approval::ApprovalError> for AppError {
    fn from(e: approval::ApprovalError) -> Self {
        AppError::new(e)
    }
}

impl AppState {
    /// Files `req` (already re-checked: `checked`) for approval instead of applying it.
    pub(super) async fn ask_approval(
        &self,
        b: &Bucket,
        req: ApplyRequest,
        checked: &prune::Checked,
        user: &super::Actor,
        n: u64,
    ) -> Result<ApplyOutcome, AppError> {
        let asked = Asked {
            retain: req.retain,
            min_days: req.min_days,
            policy: req.policy,
        };
        let fingerprint = checked.planned().plan.fingerprint();
        let mut request = ApprovalRequest::new(b, &user.name, asked, req.confirmed, fingerprint);
        request.requested_by_account = user.account.clone();
        let request =
            approval::file_request(b, request, &self.config.approval_key, &self.config.notifier)
                .await?;
        Ok(ApplyOutcome::AwaitingApproval {
            id: request.id.clone(),
            message: format!(
                "This apply deletes {} deployments, more than {n} — it needs a second deployer: \
                 request {} waits on this page for their approval (for {} h). Nothing was deleted.",
                request.confirmed.len(),
                request.id,
                approval::APPROVAL_TTL_HOURS
            ),
        })
    }

    /// The two-person threshold of bucket `key`: its own, else the default, else none.
    pub fn approval_over(&self, key: &str) -> Option<u64> {
        let c = &self.config;
        c.approval_over_for.get(key).copied().or(c.approval_over)
    }

    /// Records each bucket's `--approval-over` in it, so the CLI knows to send people here
    /// (`dashboard`: this dashboard's address) — unless the bucket's rule asks for more (a lower
    /// N, another dashboard's): a rule is never weakened this way (remove `approval.json` to).
    pub async fn publish_approval_rule(&self, dashboard: &str) -> Result<(), AppError> {
        if self.config.read_only {
            // A read-only mirror approves nothing: naming it would send the CLI's users to a
            // dashboard that refuses every apply (`--read-only` changes nothing of the bucket's
            // deployments or rules of its own; its scans still keep their dates and withdraw a
            // kept folder's expiration rule, as README says).
            return Ok(());
        }
        for c in self.config.buckets.clone() {
            let Some(over) = self.approval_over(&c.key) else {
                continue;
            };
            let b = self.bucket(&c).await?;
            if let Some(stricter) = approval::read_rule(&b).await?.filter(|r| r.over < over) {
                tracing::warn!(bucket = %c.key, over, kept = stricter.over, dashboard = %stricter.dashboard, "the bucket's two-person rule asks for more than --approval-over: kept");
                continue;
            }
            let rule = approval::ApprovalRule {
                over,
                dashboard: dashboard.to_string(),
                set_at: Utc::now(),
            };
            approval::write_rule(&b, &rule).await?;
        }
        Ok(())
    }

    /// The newest approval requests of bucket `key`, as `user` sees them.
    pub async fn approvals(&self, key: &str, user: &str) -> Result<Vec<ApprovalView>, AppError> {
        let c = self.choice(Some(key))?.clone();
        let b = self.bucket(&c).await?;
        let now = Utc::now();
        Ok(approval::list(&b, SHOWN)
            .await?
            .into_iter()
            .map(|a| {
                let sealed = approval::check_sealed(&a.request, &self.config.approval_key).is_ok();
                view_of(a, user, now, sealed)
            })
            .collect())
    }

    /// `user` approves request `id` of bucket `key`, having typed the bucket's name (`confirm`)
    /// as every apply asks: re-planned with the requester's policy, it runs if it deletes
    /// exactly what they confirmed; otherwise it is void. A wrong name decides nothing.
    pub async fn approve(
        self: &Arc<Self>,
        key: &str,
        id: &str,
        confirm: &str,
        user: impl Into<super::Actor>,
    ) -> Result<ApplyOutcome, AppError> {
        let approver = user.into();
        let user = approver.name.as_str();
        self.refuse_if_read_only()?;
        let journal = self.audit_log()?;
        let c = self.choice(Some(key))?.clone();
        super::typed_name(confirm, &c, "deleted or decided")?;
        let b = self.bucket(&c).await?;
        let a = approval::read(&b, id).await?;
        approval::check_decidable(&b, &a, &approver.decider(), &self.config.notifier).await?;
        approval::check_sealed(&a.request, &self.config.approval_key)?;
        let r = a.request;
        let req = ApplyRequest {
            bucket: c.key.clone(),
            retain: r.asked.retain,
            min_days: r.asked.min_days,
            policy: r.asked.policy.clone(),
            confirmed: r.confirmed.clone(),
            confirm: confirm.to_string(),
            // The request's plan fingerprint holds the versioning it was made with.
            undoable: false,
        };
        let policy = self.policy(&req)?;
        let busy = Busy::take(&self.busy, &c.key, super::busy::Work::Approved)?;
        let checked = match self.recheck(&c, &b, &policy, req.confirmed).await? {
            Ok(checked) if checked.planned().plan.fingerprint() == r.plan_fingerprint => checked,
            changed => {
                // What changed, on record and on the page (before: "changed", nothing more).
                let what = match changed {
                    Err(ApplyOutcome::Changed { message }) => message,
                    _ => "the plan differs from the one confirmed (its policy — pins, excludes, \
                          rules — or what it keeps changed), though it deletes the same set"
                        .into(),
                };
                let reason = format!("what would be deleted changed since the request: {what}");
                let void = Decision::Voided {
                    by: user.into(),
                    at: Utc::now(),
                    reason,
                };
                (approval::decide(&b, id, void, &self.config.notifier).await?)
                    .notify()
                    .await;
                return Ok(ApplyOutcome::Changed {
                    message: format!(
                        "Request {id} is void: what it would delete changed since {} asked \
                         ({what}). Nothing was deleted; preview again and send a new request.",
                        r.requested_by
                    ),
                });
            }
        };
        let decision = Decision::Approved {
            by: user.into(),
            at: Utc::now(),
            run: None,
        };
        let who = super::Actor {
            name: format!("{} (approved by {user})", r.requested_by),
            via: approver.via.clone(),
            account: approver.account.clone(),
        };
        // Written and launched in a task of its own: a request dropped meanwhile (the page
        // closed) still launches what is on record as approved (before, a drop while the
        // decision was being written left it approved and nothing launched). Launched before
        // the webhooks are told, who are told in the background: the decision on record runs
        // whatever befalls them.
        let state = Arc::clone(self);
        let (id, notifier) = (id.to_string(), self.config.notifier.clone());
        let task = tokio::spawn(async move {
            let decided = approval::decide(&b, &id, decision, &notifier).await?;
            let started = state.launch(&c, checked, busy, journal, &who);
            tokio::spawn(decided.notify());
            Ok::<_, AppError>(started)
        });
        task.await
            .map_err(|e| AppError(format!("the approval stopped: {e}")))?
    }

    /// `user` refuses request `id` of bucket `key`.
    pub async fn refuse_request(
        &self,
        key: &str,
        id: &str,
        user: impl Into<super::Actor>,
    ) -> Result<(), AppError> {
        let refuser = user.into();
        let user = refuser.name.as_str();
        self.refuse_if_read_only()?;
        let c = self.choice(Some(key))?.clone();
        let b = self.bucket(&c).await?;
        let a = approval::read(&b, id).await?;
        approval::check_decidable(&b, &a, &refuser.decider(), &self.config.notifier).await?;
        let decision = Decision::Refused {
            by: user.into(),
            at: Utc::now(),
        };
        (approval::decide(&b, id, decision, &self.config.notifier).await?)
            .notify()
            .await;
        Ok(())
    }
}

/// Whether an apply of `doomed` deployments needs a second deployer: `Some(N)` (file a request
/// here: more than N) under the stricter of this dashboard's `--approval-over` (`own`) and the
/// bucket's recorded rule (`approval.json`, which the CLI obeys too); `None` to run it. A
/// dashboard that takes no requests still obeys the bucket's rule: a larger apply is refused,
/// saying where to ask (requests are sealed by the dashboard that takes them).
pub(super) fn approval_needed(
    own: Option<u64>,
    rule: Option<approval::ApprovalRule>,
    doomed: u64,
) -> Result<Option<u64>, AppError> {
    match (own, rule) {
        (Some(own), rule) => {
            let over = rule.map_or(own, |r| own.min(r.over));
            Ok((doomed > over).then_some(over))
        }
        (None, Some(rule)) if doomed > rule.over => {
            Err(AppError(format!(
                "This bucket asks a second deployer to approve applies of more than {} deployments, and this one deletes {doomed}. Nothing was deleted. Preview the same policy on the dashboard that takes its requests ({}) and press Delete there; the request waits until another deployer approves it.",
                rule.over, rule.dashboard
            )))
        }
        (None, _) => Ok(None),
    }
}

/// A request as the page lists it. One not `sealed` with this dashboard's approval key (written
/// into the bucket by hand, or by a dashboard with another key) is never run, so it is not
/// listed as waiting: before, a forged request naming anyone showed as "waiting for a second
/// deployer".
fn view_of(a: Approval, user: &str, now: chrono::DateTime<Utc>, sealed: bool) -> ApprovalView {
    let pending = a.is_pending(now) && sealed;
    let r = a.request;
    let status = match (&a.decision, pending) {
        (Some(d), _) => d.to_string(),
        (None, true) => "waiting for a second deployer".into(),
        (None, false) if !sealed => {
            "not filed by this dashboard (not sealed with its approval key): it cannot run".into()
        }
        (None, false) => "expired".into(),
    };
    ApprovalView {
        // The server's rule (another case or spacing is still the requester).
        mine: prune::approval::same_person(&r.requested_by, user),
        pending,
        status,
        deployments: r.confirmed.len() as u64,
        objects: r.confirmed.iter().map(|d| d.objects).sum(),
        ids: r.confirmed.iter().map(|d| d.id.to_string()).collect(),
        id: r.id,
        requested_by: r.requested_by,
        requested_at: r.requested_at,
        expires_at: r.expires_at,
    }
}
