//! The dashboard's applies: the confirmed policy, a fresh scan and plan checked against what
//! was confirmed, then the engine's one apply path in the background, one per bucket, with its
//! progress and outcome kept for the page.

use super::busy::{Busy, Work};
use super::jobs::{Ended, Job};
use super::{Actor, AppError, AppState};
use crate::wire::{ApplyOutcome, ApplyRequest, BucketChoice, JobStatus};
use bucket::Bucket;
use prune::Refusal;
use retention::Policy;
use std::sync::Arc;

impl AppState {
    /// The policy the user confirmed: rules (a policy file's text) or RETAIN and a minimum age.
    pub(super) fn policy(&self, req: &ApplyRequest) -> Result<Policy, AppError> {
        // As the page spelled it (`dashboard::policy::chosen`).
        let mut spec = self.imposed().spec();
        match &req.policy {
            Some(text) => {
                spec.rules = Some(
                    retention::parse_policy(text)
                        .map_err(|e| AppError::new(format!("the rules: {e}")))?,
                );
            }
            None => {
                spec.retain = Some(req.retain);
                spec.min_retain_days = req.min_days;
            }
        }
        spec.build().map_err(AppError::new)
    }

    /// Plan binding: a fresh scan and plan with the confirmed policy; deletes (in the
    /// background) only when the result is exactly the confirmed set.
    pub async fn start_apply(
        &self,
        req: ApplyRequest,
        user: impl Into<Actor>,
    ) -> Result<ApplyOutcome, AppError> {
        let user = user.into();
        self.refuse_if_read_only()?;
        let journal = self.audit_log()?;
        let c = self.choice(Some(&req.bucket))?.clone();
        super::typed_name(&req.confirm, &c, "deleted")?;
        let policy = self.policy(&req)?;
        let busy = Busy::take(&self.busy, &c.key, Work::Apply)?;
        let b = self.bucket(&c).await?;
        // The bucket's own two-person rule (another dashboard's) does not depend on the scan.
        let (checked, rule) = futures::join!(
            self.recheck(&c, &b, &policy, req.confirmed.clone()),
            prune::approval::read_rule(&b)
        );
        let checked = match checked? {
            Ok(checked) => checked,
            Err(changed) => return Ok(changed),
        };
        // The same set, but no longer what the dialog promised (versioning suspended since the
        // page's scan): before, it ran and was recorded as not undoable.
        if req.undoable && !checked.planned().undoable() {
            return Ok(ApplyOutcome::Changed {
                message: "The page said History could undo this run, but the bucket's versioning \
                          is no longer enabled: its deletes could not be undone. Nothing was \
                          deleted; preview again."
                    .into(),
            });
        }
        let doomed = checked.doomed().len() as u64;
        let own = self.approval_over(&c.key);
        if let Some(over) = super::approvals::approval_needed(own, rule?, doomed)? {
            return self.ask_approval(&b, req, &checked, &user, over).await;
        }
        Ok(self.launch(&c, checked, busy, journal, &user))
    }

    /// The audit log every apply is recorded in; none refuses applies.
    pub(super) fn audit_log(&self) -> Result<Arc<audit::AuditLog>, AppError> {
        self.config
            .audit
            .clone()
            .ok_or_else(|| AppError::new("no audit log is configured: applies are refused"))
    }

    /// Scans and plans afresh and checks the plan deletes exactly `confirmed`; `Err` is what
    /// the page is told instead (nothing deleted).
    pub(super) async fn recheck(
        &self,
        c: &BucketChoice,
        b: &Bucket,
        policy: &Policy,
        mut confirmed: Vec<retention::Doomed>,
    ) -> Result<Result<prune::Checked, ApplyOutcome>, AppError> {
        let planned = prune::scan_and_plan(b, policy, &self.settings()).await?;
        // What the preview was made of is stale now, whatever happens next.
        self.forget(&c.key);
        confirmed.sort();
        let checked = match prune::check(planned, Some(&confirmed)) {
            Ok(c) => c,
            Err(r @ Refusal::Changed(_)) => {
                return Ok(Err(ApplyOutcome::Changed {
                    message: r.to_string(),
                }))
            }
            // In the dashboard's words (what its user can do), not the CLI's flags.
            Err(Refusal::Blocked(blocks)) => {
                let why: Vec<String> = blocks.iter().map(|b| b.for_dashboard()).collect();
                return Err(AppError(format!("refusing to apply: {}", why.join("; "))));
            }
        };
        if checked.doomed().is_empty() {
            return Ok(Err(ApplyOutcome::Changed {
                message: "Nothing to delete: the plan keeps every deployment.".into(),
            }));
        }
        Ok(Ok(checked))
    }

    /// Starts deleting in the background as `who`; the page follows the job.
    pub(super) fn launch(
        &self,
        c: &BucketChoice,
        checked: prune::Checked,
        busy: Busy,
        journal: Arc<audit::AuditLog>,
        who: &Actor,
    ) -> ApplyOutcome {
        // The progress counts what is deleted by requests: deployments of more objects than
        // `--via-lifecycle`'s threshold are handed to S3 instead (the engine's rule).
        let over = self.config.lifecycle_over;
        let (deployments_total, objects_total) = checked
            .doomed()
            .iter()
            .filter(|d| !prune::expire::goes_to_lifecycle(d, over))
            .fold((0, 0), |(n, o), d| (n + 1, o + d.objects));
        let job = Arc::new(Job::new(deployments_total, objects_total));
        let id = self.jobs.add(job.clone());
        let ctx = prune::ApplyContext {
            who: who.name.clone(),
            via: who.via.clone(),
            source: "dashboard",
            concurrency: self.config.concurrency,
            progress: job.progress.clone(),
            journal,
            notifier: self.config.notifier.clone(),
            lifecycle_over: self.config.lifecycle_over,
            require_lease: false,
        };
        tracing::info!(bucket = %c.key, deployments = job.deployments_total, objects = job.objects_total, who = %who.name, "apply started from the dashboard");
        let (notes, scans, key) = (self.notes.clone(), self.scans.clone(), c.key.clone());
        // Runs to the end even if the browser goes away; the mark goes with it.
        tokio::spawn(async move {
            let _busy = busy;
            let outcome = match prune::apply(checked, ctx).await {
                Ok(report) => {
                    let r = &report.record;
                    tracing::info!(bucket = %r.bucket, status = %r.status, deleted = r.deleted_objects, failed = r.failures.len(), "apply finished");
                    Ok(Ended {
                        record: report.record,
                        unrecorded: report.journal_error,
                    })
                }
                Err(e) => {
                    tracing::error!(error = %e, "apply did not start");
                    Err(e.to_string())
                }
            };
            // The run noted its success: the next page reads the notes again. And a scan made
            // while it deleted (another visitor's page) shows what it has since deleted: the
            // next page scans again, whatever the run's end.
            notes.forget(&key);
            scans.forget(&key);
            job.end(outcome);
        });
        ApplyOutcome::Started { job: id }
    }

    /// For shutdown: asks every running apply to stop after its requests in flight, and every
    /// one launched from now on (an approval whose request had gone away, still writing its
    /// decision) to stop before it starts; waits until each has written its record.
    pub async fn stop_applies(&self) {
        self.jobs.stop_all();
        while !(self.busy.lock().unwrap_or_else(|e| e.into_inner())).is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Buckets with an apply running now.
    pub fn applies_running(&self) -> usize {
        self.busy.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn job_status(&self, job: u64) -> Result<JobStatus, AppError> {
        self.jobs.status(job)
    }
}
