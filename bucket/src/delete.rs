//! Deleting deployments: list each one's keys afresh, then DeleteObjects in batches of ≤ 1000,
//! several in flight, reading every per-key error.

use crate::{Bucket, S3Error};
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use futures::stream::{self, StreamExt};
use retention::DeploymentId;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// S3's hard limit per DeleteObjects request.
pub const MAX_BATCH: usize = 1000;
/// Batches of one deployment in flight at once.
const BATCHES_IN_FLIGHT: usize = 4;
/// Rounds for keys a DeleteObjects response reports as throttled or failed internally.
const KEY_RETRIES: u32 = 4;

/// One object (or object version) that could not be deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyFailure {
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    pub error: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentOutcome {
    pub id: DeploymentId,
    /// Objects (or versions and delete markers, with purge) listed for deletion.
    pub listed: u64,
    pub deleted: u64,
    pub failed: Vec<KeyFailure>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteReport {
    pub deployments: Vec<DeploymentOutcome>,
    pub deleted_objects: u64,
    pub failed: Vec<KeyFailure>,
    pub duration_ms: u64,
}

impl DeleteReport {
    pub fn is_complete(&self) -> bool {
        self.failed.is_empty()
    }

    /// The audit record of this run: `who` is the session user, OS user or Lambda ARN.
    pub fn audit_record(
        &self,
        plan: &retention::Plan,
        bucket: &Bucket,
        who: &str,
        source: &str,
        started_at: chrono::DateTime<chrono::Utc>,
    ) -> audit::Record {
        let bytes_of = |id: &DeploymentId| {
            plan.entries
                .iter()
                .find(|e| &e.id == id)
                .map_or(0, |e| e.bytes)
        };
        let deleted: Vec<audit::DeletedDeployment> = self
            .deployments
            .iter()
            .filter(|d| d.failed.is_empty())
            .map(|d| audit::DeletedDeployment {
                id: d.id.to_string(),
                objects: d.deleted,
                bytes: bytes_of(&d.id),
            })
            .collect();
        audit::Record {
            id: None,
            who: who.to_string(),
            source: source.to_string(),
            started_at,
            duration_ms: self.duration_ms,
            bucket: bucket.name().to_string(),
            prefix: bucket.prefix().to_string(),
            policy: serde_json::to_value(&plan.policy).unwrap_or_default(),
            plan_fingerprint: plan.fingerprint(),
            deleted_bytes: deleted.iter().map(|d| d.bytes).sum(),
            deleted,
            deleted_objects: self.deleted_objects,
            failures: self
                .failed
                .iter()
                .map(|f| audit::Failure {
                    key: f.key.clone(),
                    error: f.error.clone(),
                })
                .collect(),
        }
    }
}

/// Live counters for a progress bar or a web page; cheap to read from another task.
#[derive(Debug, Default)]
pub struct Progress {
    pub deployments_done: AtomicU64,
    pub objects_done: AtomicU64,
    pub objects_failed: AtomicU64,
}

fn is_retryable(code: &str) -> bool {
    matches!(
        code,
        "SlowDown" | "InternalError" | "ServiceUnavailable" | "RequestTimeout" | "503" | "500"
    )
}

impl Bucket {
    /// Deletes every object of each deployment. With `purge_versions`, every version and delete
    /// marker too. Failures are collected per key, never hidden; a deployment whose listing
    /// fails is left untouched.
    pub async fn delete_deployments(
        &self,
        ids: &[DeploymentId],
        purge_versions: bool,
        concurrency: usize,
        progress: Arc<Progress>,
    ) -> DeleteReport {
        let start = Instant::now();
        // Futures are collected first: a closure inside the stream type trips the compiler's
        // Send inference for callers that spawn this.
        let jobs: Vec<_> = ids
            .iter()
            .map(|id| {
                let progress = progress.clone();
                async move {
                    let out = self.delete_one(id, purge_versions, &progress).await;
                    progress.deployments_done.fetch_add(1, Ordering::Relaxed);
                    out
                }
            })
            .collect();
        let outcomes: Vec<DeploymentOutcome> = stream::iter(jobs)
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
        let mut report = DeleteReport::default();
        for o in outcomes {
            report.deleted_objects += o.deleted;
            report.failed.extend(o.failed.iter().cloned());
            report.deployments.push(o);
        }
        report.deployments.sort_by(|a, b| a.id.cmp(&b.id));
        report.duration_ms = start.elapsed().as_millis() as u64;
        report
    }

    async fn delete_one(
        &self,
        id: &DeploymentId,
        purge: bool,
        progress: &Progress,
    ) -> DeploymentOutcome {
        let prefix = self.deployment_prefix(id);
        let listed = if purge {
            self.list_versions(&prefix).await
        } else {
            self.list_keys(&prefix).await
        };
        let objects = match listed {
            Ok(o) => o,
            Err(e) => {
                tracing::warn!(deployment = %id, error = %e, "listing failed; deleting nothing of it");
                return DeploymentOutcome {
                    id: id.clone(),
                    listed: 0,
                    deleted: 0,
                    failed: vec![KeyFailure {
                        key: prefix,
                        version_id: None,
                        error: format!("not deleted: {e}"),
                    }],
                };
            }
        };
        // Defence in depth: a key outside the deployment's folder is never sent.
        debug_assert!(objects.iter().all(|(k, _)| k.starts_with(&prefix)));
        let objects: Vec<_> = objects
            .into_iter()
            .filter(|(k, _)| k.starts_with(&prefix))
            .collect();
        let listed = objects.len() as u64;
        let deleted = AtomicU64::new(0);
        let batches: Vec<_> = objects
            .chunks(MAX_BATCH)
            .map(|batch| self.delete_counted(batch.to_vec(), &deleted, progress))
            .collect();
        let failures: Vec<Vec<KeyFailure>> = stream::iter(batches)
            .buffer_unordered(BATCHES_IN_FLIGHT)
            .collect()
            .await;
        DeploymentOutcome {
            id: id.clone(),
            listed,
            deleted: deleted.into_inner(),
            failed: failures.into_iter().flatten().collect(),
        }
    }

    async fn delete_counted(
        &self,
        batch: Vec<(String, Option<String>)>,
        deleted: &AtomicU64,
        progress: &Progress,
    ) -> Vec<KeyFailure> {
        let (ok, failed) = self.delete_batch(&batch).await;
        deleted.fetch_add(ok, Ordering::Relaxed);
        progress.objects_done.fetch_add(ok, Ordering::Relaxed);
        progress
            .objects_failed
            .fetch_add(failed.len() as u64, Ordering::Relaxed);
        failed
    }

    /// One DeleteObjects batch, with per-key retries for throttling. Returns (deleted, failed).
    async fn delete_batch(&self, batch: &[(String, Option<String>)]) -> (u64, Vec<KeyFailure>) {
        let mut pending: Vec<(String, Option<String>)> = batch.to_vec();
        let mut deleted = 0u64;
        let mut attempt = 0;
        loop {
            let ids: Vec<ObjectIdentifier> = pending
                .iter()
                .filter_map(|(k, v)| {
                    ObjectIdentifier::builder()
                        .key(k)
                        .set_version_id(v.clone())
                        .build()
                        .ok()
                })
                .collect();
            let delete = match Delete::builder().set_objects(Some(ids)).quiet(true).build() {
                Ok(d) => d,
                Err(e) => return (deleted, fail_all(&pending, &e.to_string())),
            };
            let res = self
                .client
                .delete_objects()
                .bucket(&self.name)
                .delete(delete)
                .send()
                .await;
            let out = match res {
                Ok(out) => out,
                // The SDK already retried throttling and 5xx with backoff; what is left is reported.
                Err(e) => {
                    let action = if pending.iter().any(|(_, v)| v.is_some()) {
                        "s3:DeleteObjectVersion"
                    } else {
                        "s3:DeleteObject"
                    };
                    return (
                        deleted,
                        fail_all(&pending, &self.err(e, action).to_string()),
                    );
                }
            };
            let errors = out.errors();
            let mut retry = Vec::new();
            let mut failed = Vec::new();
            for e in errors {
                let key = e.key().unwrap_or_default().to_string();
                let version_id = e.version_id().map(str::to_string);
                let code = e.code().unwrap_or("Unknown");
                if is_retryable(code) && attempt < KEY_RETRIES {
                    retry.push((key, version_id));
                } else {
                    let msg = e.message().unwrap_or("");
                    failed.push(KeyFailure {
                        key,
                        version_id,
                        error: format!("{code}: {msg}").trim_end_matches(": ").to_string(),
                    });
                }
            }
            // Quiet mode lists only errors: everything else in the batch is gone.
            deleted += (pending.len() - errors.len()) as u64;
            if retry.is_empty() {
                return (deleted, failed);
            }
            if !failed.is_empty() {
                // Keep the hard failures; retry only the throttled keys.
                let (ok, mut more) = Box::pin(self.retry_keys(retry, attempt + 1)).await;
                more.extend(failed);
                return (deleted + ok, more);
            }
            attempt += 1;
            tokio::time::sleep(backoff(attempt)).await;
            pending = retry;
        }
    }

    async fn retry_keys(
        &self,
        keys: Vec<(String, Option<String>)>,
        attempt: u32,
    ) -> (u64, Vec<KeyFailure>) {
        tokio::time::sleep(backoff(attempt)).await;
        self.delete_batch(&keys).await
    }

    /// Every current key under `prefix`, listed now (never from an earlier scan).
    async fn list_keys(&self, prefix: &str) -> Result<Vec<(String, Option<String>)>, S3Error> {
        let mut keys = Vec::new();
        self.each_page(prefix, None, None, |out| {
            keys.extend(
                out.contents()
                    .iter()
                    .filter_map(|o| o.key().map(|k| (k.to_string(), None))),
            );
            std::ops::ControlFlow::Continue(())
        })
        .await?;
        Ok(keys)
    }

    /// Every version and delete marker under `prefix`.
    async fn list_versions(&self, prefix: &str) -> Result<Vec<(String, Option<String>)>, S3Error> {
        let mut out_keys = Vec::new();
        let (mut key_marker, mut version_marker): (Option<String>, Option<String>) = (None, None);
        loop {
            let out = self
                .client
                .list_object_versions()
                .bucket(&self.name)
                .prefix(prefix)
                .set_key_marker(key_marker.take())
                .set_version_id_marker(version_marker.take())
                .send()
                .await
                .map_err(|e| self.err(e, "s3:ListBucketVersions"))?;
            for v in out.versions() {
                if let Some(k) = v.key() {
                    out_keys.push((
                        k.to_string(),
                        Some(v.version_id().unwrap_or("null").to_string()),
                    ));
                }
            }
            for m in out.delete_markers() {
                if let Some(k) = m.key() {
                    out_keys.push((
                        k.to_string(),
                        Some(m.version_id().unwrap_or("null").to_string()),
                    ));
                }
            }
            if !out.is_truncated().unwrap_or(false) {
                return Ok(out_keys);
            }
            match out.next_key_marker() {
                Some(k) if !k.is_empty() => {
                    key_marker = Some(k.to_string());
                    version_marker = out.next_version_id_marker().map(str::to_string);
                }
                _ => {
                    return Err(S3Error::ListingCut {
                        prefix: prefix.to_string(),
                    })
                }
            }
        }
    }

    /// How many versions and delete markers live under each deployment: what
    /// `--purge-versions` would remove.
    pub async fn count_versions(
        &self,
        ids: &[DeploymentId],
        concurrency: usize,
    ) -> Result<u64, S3Error> {
        let jobs: Vec<_> = ids
            .iter()
            .map(|id| async move {
                Ok(self.list_versions(&self.deployment_prefix(id)).await?.len() as u64)
            })
            .collect();
        let counts: Vec<Result<u64, S3Error>> = stream::iter(jobs)
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
        counts.into_iter().sum()
    }
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(100u64.saturating_mul(1 << attempt.min(6)))
}

fn fail_all(keys: &[(String, Option<String>)], error: &str) -> Vec<KeyFailure> {
    keys.iter()
        .map(|(k, v)| KeyFailure {
            key: k.clone(),
            version_id: v.clone(),
            error: error.to_string(),
        })
        .collect()
}
