//! Restore from the History page: the engine's undo (`prune::check_restore`, `prune::restore`)
//! for a run on one of the configured buckets, confirmed by typing the bucket's name, never
//! while an apply runs on that bucket.

use super::{AppError, AppState, Busy};
use std::sync::Arc;

impl AppState {
    /// Restores what run `run` deleted. `confirm` must be the bucket's name.
    pub async fn restore(
        &self,
        run: i64,
        confirm: &str,
        user: &str,
    ) -> Result<audit::Record, AppError> {
        self.refuse_if_read_only()?;
        let Some(journal) = self.config.audit.clone() else {
            return Err(AppError::new(
                "no audit log is configured: restores are refused",
            ));
        };
        let record = journal.get(run).map_err(AppError::new)?;
        let rec = record
            .as_ref()
            .ok_or_else(|| AppError(format!("run {run} is not in the audit log")))?;
        let c = self
            .config
            .buckets
            .iter()
            .find(|c| c.name == rec.bucket && bucket::normalize_prefix(&c.prefix) == rec.prefix)
            .cloned()
            .ok_or_else(|| {
                AppError(format!(
                    "run {run} was on '{}/{}', which this server does not offer",
                    rec.bucket, rec.prefix
                ))
            })?;
        if confirm.trim() != c.name {
            return Err(AppError(format!(
                "type the bucket name '{}' to confirm; nothing was restored",
                c.name
            )));
        }
        let _busy = Busy::take(&self.busy, &c.key)?;
        let b = self.bucket(&c).await?;
        let todo = prune::check_restore(&b, run, record.as_ref(), &[])
            .await
            .map_err(AppError::new)?;
        let ctx = prune::RestoreContext {
            who: user.to_string(),
            source: "dashboard",
            journal: journal as Arc<dyn prune::Journal>,
            notifier: self.config.notifier.clone(),
        };
        let done = prune::restore(&b, &run.to_string(), todo, ctx)
            .await
            .map_err(AppError::new)?;
        // The deployments are back: the cached scan no longer shows the bucket.
        self.scans.forget(&c.key);
        tracing::info!(bucket = %c.key, run, restored = done.report.restored_objects(), user, "restore from the dashboard");
        Ok(done.record)
    }
}
