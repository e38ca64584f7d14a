//! Restore from the History page: the engine's undo (`prune::check_restore`, `prune::restore`)
//! for a run on one of the configured buckets — a record of this server's audit log (by number)
//! or any run in a bucket's journal (by run id) — confirmed by typing the bucket's name, never
//! while an apply runs on that bucket.

use super::{AppError, AppState, Busy};
use crate::wire::BucketChoice as BucketConfig;
use std::sync::Arc;

impl AppState {
    /// Restores what run `run` deleted. `confirm` must be the bucket's name.
    pub async fn restore(
        &self,
        run: &str,
        confirm: &str,
        user: impl Into<super::Actor>,
    ) -> Result<audit::Record, AppError> {
        let actor = user.into();
        let user = actor.name.as_str();
        self.refuse_if_read_only()?;
        let (journal, c) = self.target(run).await?;
        super::typed_name(confirm, &c, "restored")?;
        let busy = Busy::take(&self.busy, &c.key, super::busy::Work::Restore)?;
        let b = self.bucket(&c).await?;
        let todo = prune::check_restore_named(&b, run, &journal, &[])
            .await
            .map_err(AppError::new)?;
        let ctx = prune::RestoreContext {
            who: user.to_string(),
            via: actor.via.clone(),
            source: "dashboard",
            journal: journal as Arc<dyn prune::Journal>,
            notifier: self.config.notifier.clone(),
        };
        // Runs to its end even if the request goes away (a closed tab, a proxy's idle timeout):
        // dropped mid-way, it left markers half removed and its record `started`. The bucket
        // stays marked busy until then.
        let (scans, notes, key, run) = (
            self.scans.clone(),
            self.notes.clone(),
            c.key,
            run.to_string(),
        );
        let restoring = tokio::spawn(async move {
            let _busy = busy;
            let done = prune::restore(&b, &run, todo, ctx).await;
            // The deployments are back: the cached scan no longer shows the bucket.
            scans.forget(&key);
            notes.forget(&key);
            if let Ok(done) = &done {
                tracing::info!(bucket = %key, run, restored = done.report.restored_objects(), who = %done.record.who, "restore from the dashboard");
            }
            done
        });
        let done = restoring
            .await
            .map_err(|e| AppError(format!("the restore stopped: {e}")))?
            .map_err(AppError::new)?;
        Ok(done.record)
    }

    /// The `--bucket` key run `run` (a record number or a journal run id) was on.
    pub async fn restore_target(&self, run: &str) -> Result<String, AppError> {
        Ok(self.target(run).await?.1.key)
    }

    /// The audit log restores are recorded in, and the configured bucket run `run` was on.
    async fn target(&self, run: &str) -> Result<(Arc<audit::AuditLog>, BucketConfig), AppError> {
        let Some(journal) = self.config.audit.clone() else {
            return Err(AppError::new(
                "no audit log is configured: restores are refused",
            ));
        };
        let c = match run.parse::<i64>() {
            Ok(n) => self.local_run(&journal, n)?.1,
            Err(_) => self.journalled_run(run).await?.1,
        };
        Ok((journal, c))
    }

    /// Record `n` of this server's audit log, and the configured bucket it ran on.
    pub(super) fn local_run(
        &self,
        journal: &audit::AuditLog,
        n: i64,
    ) -> Result<(audit::Record, BucketConfig), AppError> {
        let rec = journal
            .get(n)
            .map_err(AppError::new)?
            .ok_or_else(|| AppError(format!("run {n} is not in the audit log")))?;
        let c = self.offered(&rec.bucket, &rec.prefix).ok_or_else(|| {
            AppError(format!(
                "run {n} was on '{}/{}', which this server does not offer",
                rec.bucket, rec.prefix
            ))
        })?;
        Ok((rec, c))
    }

    /// Run `run`'s id, and the configured bucket whose journal holds it.
    pub(super) async fn journalled_run(
        &self,
        run: &str,
    ) -> Result<(bucket::RunId, BucketConfig), AppError> {
        let id = bucket::RunId::parse(run).ok_or_else(|| {
            AppError(format!(
                "'{run}' is not a run id (History lists the runs on record)"
            ))
        })?;
        // A bucket whose journal cannot be read (gone, no grant) is passed over, as History
        // passes over it: before, the first such bucket failed every other bucket's run.
        let mut unread = Vec::new();
        for c in self.config.buckets.clone() {
            let parts = match self.bucket(&c).await {
                Ok(b) => bucket::JournalPlace::of(&b)
                    .parts(&id)
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.0),
            };
            match parts {
                Ok(parts) if !parts.is_empty() => return Ok((id, c)),
                Ok(_) => {}
                Err(e) => unread.push(format!("{}: {e}", c.key)),
            }
        }
        Err(AppError(match unread.is_empty() {
            true => format!("run {run} is in none of the buckets this server offers"),
            false => format!(
                "run {run} is in none of the buckets whose journal could be read; not read: {}",
                unread.join("; ")
            ),
        }))
    }

    /// The configured bucket `name` with `prefix` (normalised), if this server offers it.
    pub(super) fn offered(&self, name: &str, prefix: &str) -> Option<BucketConfig> {
        self.config
            .buckets
            .iter()
            .find(|c| c.name == name && bucket::normalize_prefix(&c.prefix) == prefix)
            .cloned()
    }
}
